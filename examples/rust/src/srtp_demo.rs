//! `make run` (for now): one second of a 50-packet/s RTP stream, written with header
//! extensions, protected and unprotected with every SRTP profile, plus an SR + SDES compound
//! through SRTCP, a tampered packet and a replayed packet — printing what happened to each.

use std::process::ExitCode;
use std::time::Instant;

use media_core::rtp::rtcp::{
    List, RtcpPacket, SDES_CNAME, Sdes, SdesChunk, SdesChunks, SdesItem, SdesItems, SenderReport,
    parse_compound, write_compound,
};
use media_core::rtp::{HeaderExtension, RtpHeader, RtpPacket, write_packet};
use media_core::srtp::{SrtpContext, SrtpError, SrtpProfile};

const SSRC: u32 = 0x4D43_0001;
const PACKETS: u16 = 50;

fn main() -> ExitCode {
    println!(
        "MediaCore {} — RTP → SRTP → RTP, every profile",
        media_core::VERSION
    );
    println!(
        "{:<28} {:>7} {:>9} {:>9} {:>10} {:>10}  srtcp   tamper / replay",
        "profile", "packets", "rtp B", "srtp B", "protect", "unprotect"
    );
    let mut ok = true;
    for profile in SrtpProfile::ALL {
        match run_profile(profile) {
            Ok(line) => println!("{line}"),
            Err(e) => {
                ok = false;
                println!("{:<28} FAILED: {e}", profile.name());
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Sends one second of packets through a sender and a receiver context.
fn run_profile(profile: SrtpProfile) -> Result<String, String> {
    // A fixed demo key; a real call gets its keys from the DTLS-SRTP exporter.
    let key: Vec<u8> = (1..=profile.key_len() as u8).collect();
    let salt: Vec<u8> = (0xA0..0xA0 + profile.salt_len() as u8).collect();
    let mut sender = SrtpContext::new(profile, &key, &salt).map_err(|e| e.to_string())?;
    let mut receiver = SrtpContext::new(profile, &key, &salt).map_err(|e| e.to_string())?;

    let mut buf = [0u8; 1500];
    let (mut rtp_bytes, mut srtp_bytes) = (0usize, 0usize);
    let (mut protect_ns, mut unprotect_ns) = (0u128, 0u128);
    let mut last = Vec::new();
    let mut tamper = Ok(0);
    for i in 0..PACKETS {
        let payload = [i as u8; 80]; // an Opus frame's worth of bytes
        let level = [0x80 | 40]; // voice activity, −40 dBov
        let twcc = i.to_be_bytes();
        let ext = [
            HeaderExtension {
                id: 1,
                data: &level,
            },
            HeaderExtension { id: 3, data: &twcc },
        ];
        let header = RtpHeader {
            marker: i == 0,
            payload_type: 111,
            sequence_number: 65_530u16.wrapping_add(i), // crosses the ROC rollover
            timestamp: u32::from(i) * 960,
            ssrc: SSRC,
            extensions: &ext,
            ..RtpHeader::default()
        };
        let len = write_packet(&header, &payload, 0, &mut buf).map_err(|e| e.to_string())?;
        let plain = buf[..len].to_vec();
        rtp_bytes += len;

        let t = Instant::now();
        let n = sender
            .protect_rtp(&mut buf, len)
            .map_err(|e| e.to_string())?;
        protect_ns += t.elapsed().as_nanos();
        srtp_bytes += n;
        last = buf[..n].to_vec();
        if i == PACKETS - 1 {
            // A flipped bit in a packet not yet received must be refused.
            let mut tampered = last.clone();
            tampered[20] ^= 1;
            tamper = receiver.unprotect_rtp(&mut tampered);
        }

        let t = Instant::now();
        let m = receiver
            .unprotect_rtp(&mut buf[..n])
            .map_err(|e| e.to_string())?;
        unprotect_ns += t.elapsed().as_nanos();
        if buf[..m] != plain[..] {
            return Err(format!("packet {i} did not round-trip"));
        }
        let parsed = RtpPacket::parse(&buf[..m]).map_err(|e| e.to_string())?;
        if parsed.extension(3) != Some(&twcc[..]) {
            return Err(format!("packet {i} lost its header extension"));
        }
    }

    // An SRTCP sender report with the stream's CNAME, checked after the round trip.
    let items = [SdesItem {
        kind: SDES_CNAME,
        text: b"demo@mediacore",
    }];
    let chunks = [SdesChunk {
        ssrc: SSRC,
        items: SdesItems::Items(&items),
    }];
    let report = [
        RtcpPacket::SenderReport(SenderReport {
            ssrc: SSRC,
            ntp_time: 0xE900_0000_0000_0000,
            rtp_time: u32::from(PACKETS) * 960,
            packet_count: u32::from(PACKETS),
            octet_count: (rtp_bytes - 12 * usize::from(PACKETS)) as u32,
            reports: List::default(),
            extension: &[],
        }),
        RtcpPacket::Sdes(Sdes {
            chunks: SdesChunks::Items(&chunks),
        }),
    ];
    let mut rtcp = [0u8; 128];
    let len = write_compound(&report, &mut rtcp).map_err(|e| e.to_string())?;
    let n = sender
        .protect_rtcp(&mut rtcp, len)
        .map_err(|e| e.to_string())?;
    let m = receiver
        .unprotect_rtcp(&mut rtcp[..n])
        .map_err(|e| e.to_string())?;
    let received: Vec<_> = parse_compound(&rtcp[..m])
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    if received[..] != report[..] {
        return Err("the SRTCP report did not round-trip".into());
    }

    // So must a packet received a second time.
    let replay = receiver.unprotect_rtp(&mut last.clone());
    let verdict = match (tamper, replay) {
        (Err(SrtpError::AuthenticationFailed), Err(SrtpError::Replayed { .. })) => {
            "refused / refused"
        }
        _ => return Err("a tampered or replayed packet was accepted".into()),
    };
    Ok(format!(
        "{:<28} {:>7} {:>9} {:>9} {:>8}ns {:>8}ns  SR+SDES {verdict}",
        profile.name(),
        PACKETS,
        rtp_bytes,
        srtp_bytes,
        protect_ns / u128::from(PACKETS),
        unprotect_ns / u128::from(PACKETS),
    ))
}
