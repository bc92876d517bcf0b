//! Writes the seed corpora under `fuzz/corpus/<target>/`: valid packets, and SRTP/SRTCP
//! packets protected with the fuzz keys so the fuzzer starts past authentication.
//! Run from `fuzz/`: `cargo run --example make_seeds`.

use std::fs;
use std::path::Path;

use media_core::rtp::rtcp::*;
use media_core::rtp::{ExtensionForm, HeaderExtension, RtpHeader, write_packet};
use media_core::srtp::SrtpProfile;
use mediacore_fuzz::fuzz_context;

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = Path::new("corpus").join(target);
    if let Err(e) = fs::create_dir_all(&dir).and_then(|()| fs::write(dir.join(name), bytes)) {
        panic!("cannot write seed {target}/{name}: {e}");
    }
}

fn rtp_seeds() -> Vec<(String, Vec<u8>)> {
    let level = [0x80 | 30];
    let twcc = [0x01, 0x02];
    let mid = *b"audio";
    let long = [0xEE; 20];
    let one = [
        HeaderExtension {
            id: 1,
            data: &level,
        },
        HeaderExtension { id: 3, data: &twcc },
    ];
    let two = [
        HeaderExtension {
            id: 20,
            data: &long,
        },
        HeaderExtension { id: 4, data: &mid },
        HeaderExtension { id: 5, data: &[] },
    ];
    let cases: [(
        &str,
        &[u32],
        &[HeaderExtension<'_>],
        Option<ExtensionForm>,
        usize,
        u8,
    ); 5] = [
        ("plain", &[], &[], None, 160, 0),
        ("one_byte_ext", &[], &one, None, 80, 0),
        (
            "two_byte_ext_csrcs",
            &[1, 2, 3],
            &two,
            Some(ExtensionForm::TwoByte),
            40,
            0,
        ),
        ("padded", &[7], &one, None, 13, 3),
        ("empty_payload", &[], &[], None, 0, 0),
    ];
    cases
        .iter()
        .enumerate()
        .map(|(i, (name, csrcs, ext, form, payload, padding))| {
            let header = RtpHeader {
                marker: i % 2 == 0,
                payload_type: 96 + i as u8,
                sequence_number: 65_534u16.wrapping_add(i as u16),
                timestamp: 960 * i as u32,
                ssrc: 0x1122_3344,
                csrcs,
                extensions: ext,
                extension_form: *form,
            };
            let mut buf = vec![0u8; 1500];
            let body: Vec<u8> = (0..*payload).map(|b| b as u8).collect();
            let n = match write_packet(&header, &body, *padding, &mut buf) {
                Ok(n) => n,
                Err(e) => panic!("seed {name}: {e}"),
            };
            buf.truncate(n);
            (name.to_string(), buf)
        })
        .collect()
}

fn rtcp_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let blocks = [ReportBlock {
        ssrc: 2,
        fraction_lost: 3,
        cumulative_lost: -1,
        extended_highest_seq: 70_000,
        jitter: 12,
        last_sr: 0x1234_5678,
        delay_since_last_sr: 655,
    }];
    let sr = RtcpPacket::SenderReport(SenderReport {
        ssrc: 1,
        ntp_time: 0xE900_0000_8000_0000,
        rtp_time: 48_000,
        packet_count: 50,
        octet_count: 8000,
        reports: List::Items(&blocks),
        extension: &[],
    });
    let rr = RtcpPacket::ReceiverReport(ReceiverReport {
        ssrc: 1,
        reports: List::Items(&blocks),
        extension: &[],
    });
    let items = [
        SdesItem {
            kind: SDES_CNAME,
            text: b"seed@mediacore",
        },
        SdesItem {
            kind: 6,
            text: b"MediaCore",
        },
    ];
    let chunks = [SdesChunk {
        ssrc: 1,
        items: SdesItems::Items(&items),
    }];
    let sdes = RtcpPacket::Sdes(Sdes {
        chunks: SdesChunks::Items(&chunks),
    });
    let pairs = [NackPair {
        pid: 100,
        blp: 0x8001,
    }];
    let nack = RtcpPacket::Nack(Nack {
        sender_ssrc: 1,
        media_ssrc: 2,
        pairs: List::Items(&pairs),
    });
    let ssrcs = [2u32, 3];
    let bye = RtcpPacket::Bye(Bye {
        ssrcs: List::Items(&ssrcs),
        reason: Some(b"done"),
    });
    let app = RtcpPacket::App(App {
        subtype: 1,
        ssrc: 1,
        name: *b"SEED",
        data: &[0, 1, 2, 3],
    });
    let pli = RtcpPacket::Pli(Pli {
        sender_ssrc: 1,
        media_ssrc: 2,
    });
    let fir_entries = [FirEntry { ssrc: 2, seq: 7 }];
    let fir = RtcpPacket::Fir(Fir {
        sender_ssrc: 1,
        entries: List::Items(&fir_entries),
    });
    let remb = RtcpPacket::Remb(Remb {
        sender_ssrc: 1,
        bitrate_bps: 1_500_000,
        ssrcs: List::Items(&ssrcs),
    });
    let deltas: Vec<Option<i16>> = (0..40)
        .map(|i| match i % 9 {
            0 => None,
            4 => Some(-20),
            8 => Some(1000),
            _ => Some(i * 2),
        })
        .collect();
    let twcc = RtcpPacket::TransportFeedback(TransportFeedback {
        sender_ssrc: 1,
        media_ssrc: 2,
        base_seq: 65_530,
        reference_time: -3,
        fb_count: 4,
        packets: TwccPackets::Items(&deltas),
    });
    let compounds: [(&'static str, Vec<RtcpPacket<'_>>); 7] = [
        ("sr_sdes_nack", vec![sr, sdes, nack]),
        ("rr_sdes_bye", vec![rr, sdes, bye]),
        ("rr_app", vec![rr, app]),
        ("pli", vec![pli]),
        ("fir_remb", vec![fir, remb]),
        ("twcc", vec![twcc]),
        ("rr_twcc_pli", vec![rr, twcc, pli]),
    ];
    compounds
        .into_iter()
        .map(|(name, packets)| {
            let mut buf = vec![0u8; 1500];
            let n = match write_compound(&packets, &mut buf) {
                Ok(n) => n,
                Err(e) => panic!("seed {name}: {e}"),
            };
            buf.truncate(n);
            (name, buf)
        })
        .collect()
}

fn main() {
    let rtcp = rtcp_seeds();
    for (name, bytes) in &rtcp {
        write("rtcp_parse", name, bytes);
    }
    let rtp = rtp_seeds();
    for (name, bytes) in &rtp {
        write("rtp_parse", name, bytes);
    }
    let rtcp_sr: Vec<u8> = vec![
        0x80, 200, 0, 6, 0x11, 0x22, 0x33, 0x44, // SR header, sender SSRC
        0xE0, 0, 0, 0, 0, 0, 0, 0, // NTP
        0, 0, 0x03, 0xC0, // RTP timestamp
        0, 0, 0, 50, 0, 0, 0x1F, 0x40, // packet and octet counts
    ];
    for (p, profile) in SrtpProfile::ALL.into_iter().enumerate() {
        let mut ctx = fuzz_context(profile);
        for (name, plain) in rtp.iter().take(3) {
            let mut buf = plain.clone();
            buf.resize(plain.len() + 16, 0);
            let n = match ctx.protect_rtp(&mut buf, plain.len()) {
                Ok(n) => n,
                Err(e) => panic!("seed {name}: {e}"),
            };
            let mut seed = vec![p as u8];
            seed.extend_from_slice(&buf[..n]);
            write(
                "srtp_unprotect",
                &format!("{}_{name}", profile.name()),
                &seed,
            );
        }
        for (name, plain) in [("sr", &rtcp_sr), ("sr_sdes_nack", &rtcp[0].1)] {
            let mut buf = plain.clone();
            buf.resize(plain.len() + 20, 0);
            let n = match ctx.protect_rtcp(&mut buf, plain.len()) {
                Ok(n) => n,
                Err(e) => panic!("srtcp seed: {e}"),
            };
            let mut seed = vec![p as u8];
            seed.extend_from_slice(&buf[..n]);
            write(
                "srtcp_unprotect",
                &format!("{}_{name}", profile.name()),
                &seed,
            );
        }
    }
}
