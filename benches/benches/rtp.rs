//! RTP and RTCP packet handling, MediaCore beside webrtc-rs (`rtp` / `rtcp` 0.17) in the
//! same run: parse alone, and parse + serialize into a reused buffer.
//!
//! - RTP: a 172-byte packet (12-byte header, one-byte extensions audio level (id 1) and
//!   transport-wide sequence (id 3), 160-byte payload). Each side parses it, reads the
//!   sequence number, timestamp, SSRC, both extensions and the payload length, and for
//!   "parse+serialize" writes the packet back. webrtc-rs is fed a `Bytes` (its zero-copy
//!   best case); its API allocates an extension list per packet.
//! - RTCP: a compound SR (one report block) + SDES (CNAME) + generic NACK. Each side walks
//!   every packet; for "parse+serialize" it writes the compound back (webrtc-rs through
//!   `rtcp::packet::marshal`, which returns a new buffer: that is its API).
//!
//! `cargo bench -p mediacore-benches --bench rtp` ends with `ratio <id>: <ours/peer>` lines.

use std::hint::black_box;
use std::time::SystemTime;

use bytes::Bytes;
use criterion::{Criterion, criterion_group};
use media_core::rtp::rtcp::{
    List, Nack, NackPair, ReportBlock, RtcpPacket, SDES_CNAME, Sdes, SdesChunk, SdesChunks,
    SdesItem, SdesItems, SenderReport, parse_compound, write_compound,
};
use media_core::rtp::{HeaderExtension, RtpHeader, RtpPacket, write_packet};
use mediacore_benches::ratio::{self, Comparison};
use webrtc_util::{Marshal, Unmarshal};

const AUDIO_LEVEL_ID: u8 = 1;
const TWCC_ID: u8 = 3;

fn rtp_packet() -> Vec<u8> {
    let level = [0x80 | 42];
    let twcc = 0x1234u16.to_be_bytes();
    let ext = [
        HeaderExtension {
            id: AUDIO_LEVEL_ID,
            data: &level,
        },
        HeaderExtension {
            id: TWCC_ID,
            data: &twcc,
        },
    ];
    let header = RtpHeader {
        marker: true,
        payload_type: 111,
        sequence_number: 4321,
        timestamp: 960_000,
        ssrc: 0xDEAD_BEEF,
        extensions: &ext,
        ..RtpHeader::default()
    };
    let mut buf = vec![0u8; 1500];
    let n = write_packet(&header, &[0x5A; 160], 0, &mut buf).expect("sample RTP packet fits");
    buf.truncate(n);
    buf
}

fn rtcp_compound() -> Vec<u8> {
    let blocks = [ReportBlock {
        ssrc: 0x1111_2222,
        fraction_lost: 5,
        cumulative_lost: 17,
        extended_highest_seq: 70_000,
        jitter: 40,
        last_sr: 0xABCD_0000,
        delay_since_last_sr: 3000,
    }];
    let items = [SdesItem {
        kind: SDES_CNAME,
        text: b"{7f3c9a2e-mediacore}",
    }];
    let chunks = [SdesChunk {
        ssrc: 0xDEAD_BEEF,
        items: SdesItems::Items(&items),
    }];
    let pairs = [NackPair {
        pid: 4300,
        blp: 0x0105,
    }];
    let packets = [
        RtcpPacket::SenderReport(SenderReport {
            ssrc: 0xDEAD_BEEF,
            ntp_time: 0xE900_0001_8000_0000,
            rtp_time: 960_000,
            packet_count: 5000,
            octet_count: 800_000,
            reports: List::Items(&blocks),
            extension: &[],
        }),
        RtcpPacket::Sdes(Sdes {
            chunks: SdesChunks::Items(&chunks),
        }),
        RtcpPacket::Nack(Nack {
            sender_ssrc: 0xDEAD_BEEF,
            media_ssrc: 0x1111_2222,
            pairs: List::Items(&pairs),
        }),
    ];
    let mut buf = vec![0u8; 1500];
    let n = write_compound(&packets, &mut buf).expect("sample compound fits");
    buf.truncate(n);
    buf
}

/// What each side reads from an RTP packet, summed so nothing is optimised away.
fn ours_rtp_read(p: &RtpPacket<'_>) -> u64 {
    let level = p.extension(AUDIO_LEVEL_ID).map_or(0, |d| u64::from(d[0]));
    let twcc = p.extension(TWCC_ID).map_or(0, |d| u64::from(d[0]));
    u64::from(p.sequence_number())
        + u64::from(p.timestamp())
        + u64::from(p.ssrc())
        + level
        + twcc
        + p.payload().len() as u64
}

fn peer_rtp_read(p: &rtp::packet::Packet) -> u64 {
    let h = &p.header;
    let level = h
        .get_extension(AUDIO_LEVEL_ID)
        .map_or(0, |d| u64::from(d[0]));
    let twcc = h.get_extension(TWCC_ID).map_or(0, |d| u64::from(d[0]));
    u64::from(h.sequence_number)
        + u64::from(h.timestamp)
        + u64::from(h.ssrc)
        + level
        + twcc
        + p.payload.len() as u64
}

fn bench_rtp(c: &mut Criterion) {
    let wire = rtp_packet();
    let wire_bytes = Bytes::from(wire.clone());
    let mut out = vec![0u8; 1500];

    let mut g = c.benchmark_group("rtp/parse");
    g.bench_function("mediacore", |b| {
        b.iter(|| {
            let p = RtpPacket::parse(black_box(&wire)).expect("valid");
            black_box(ours_rtp_read(&p))
        })
    });
    g.bench_function("webrtc-rs", |b| {
        b.iter(|| {
            let mut buf = black_box(&wire_bytes).clone();
            let p = rtp::packet::Packet::unmarshal(&mut buf).expect("valid");
            black_box(peer_rtp_read(&p))
        })
    });
    g.finish();

    let mut g = c.benchmark_group("rtp/parse+serialize");
    g.bench_function("mediacore", |b| {
        b.iter(|| {
            let p = RtpPacket::parse(black_box(&wire)).expect("valid");
            black_box(ours_rtp_read(&p));
            // Re-serialize from the parsed fields (extensions collected on the stack).
            let mut ext = [HeaderExtension { id: 0, data: &[] }; 4];
            let mut n_ext = 0;
            for e in p.extensions().take(ext.len()) {
                ext[n_ext] = e;
                n_ext += 1;
            }
            let header = RtpHeader {
                marker: p.marker(),
                payload_type: p.payload_type(),
                sequence_number: p.sequence_number(),
                timestamp: p.timestamp(),
                ssrc: p.ssrc(),
                csrcs: &[],
                extensions: &ext[..n_ext],
                extension_form: None,
            };
            black_box(write_packet(&header, p.payload(), 0, &mut out).expect("fits"))
        })
    });
    g.bench_function("webrtc-rs", |b| {
        b.iter(|| {
            let mut buf = black_box(&wire_bytes).clone();
            let p = rtp::packet::Packet::unmarshal(&mut buf).expect("valid");
            black_box(peer_rtp_read(&p));
            black_box(p.marshal_to(&mut out).expect("fits"))
        })
    });
    g.finish();
}

fn ours_rtcp_walk(p: &RtcpPacket<'_>) -> u64 {
    match p {
        RtcpPacket::SenderReport(sr) => {
            u64::from(sr.ssrc)
                + sr.reports
                    .iter()
                    .map(|r| u64::from(r.extended_highest_seq))
                    .sum::<u64>()
        }
        RtcpPacket::Sdes(s) => s
            .chunks
            .iter()
            .filter_map(|c| c.cname().map(|n| n.len() as u64))
            .sum(),
        RtcpPacket::Nack(n) => n.lost().map(u64::from).sum(),
        _ => 0,
    }
}

fn peer_rtcp_walk(p: &(dyn rtcp::packet::Packet + Send + Sync)) -> u64 {
    let any = p.as_any();
    if let Some(sr) = any.downcast_ref::<rtcp::sender_report::SenderReport>() {
        u64::from(sr.ssrc)
            + sr.reports
                .iter()
                .map(|r| u64::from(r.last_sequence_number))
                .sum::<u64>()
    } else if let Some(s) = any.downcast_ref::<rtcp::source_description::SourceDescription>() {
        s.chunks
            .iter()
            .flat_map(|c| c.items.iter())
            .filter(|i| i.sdes_type == rtcp::source_description::SdesType::SdesCname)
            .map(|i| i.text.len() as u64)
            .sum()
    } else if let Some(n) =
        any.downcast_ref::<rtcp::transport_feedbacks::transport_layer_nack::TransportLayerNack>()
    {
        n.nacks
            .iter()
            .flat_map(|p| p.packet_list())
            .map(u64::from)
            .sum()
    } else {
        0
    }
}

fn bench_rtcp(c: &mut Criterion) {
    let wire = rtcp_compound();
    let wire_bytes = Bytes::from(wire.clone());
    let mut out = vec![0u8; 1500];

    let mut g = c.benchmark_group("rtcp/parse");
    g.bench_function("mediacore", |b| {
        b.iter(|| {
            let mut sum = 0;
            for p in parse_compound(black_box(&wire)) {
                sum += ours_rtcp_walk(&p.expect("valid"));
            }
            black_box(sum)
        })
    });
    g.bench_function("webrtc-rs", |b| {
        b.iter(|| {
            let mut buf = black_box(&wire_bytes).clone();
            let packets = rtcp::packet::unmarshal(&mut buf).expect("valid");
            black_box(
                packets
                    .iter()
                    .map(|p| peer_rtcp_walk(p.as_ref()))
                    .sum::<u64>(),
            )
        })
    });
    g.finish();

    let mut g = c.benchmark_group("rtcp/parse+serialize");
    g.bench_function("mediacore", |b| {
        b.iter(|| {
            let (mut sum, mut n) = (0, 0);
            for p in parse_compound(black_box(&wire)) {
                let p = p.expect("valid");
                sum += ours_rtcp_walk(&p);
                n += p.write_to(&mut out[n..]).expect("fits");
            }
            black_box((sum, n))
        })
    });
    g.bench_function("webrtc-rs", |b| {
        b.iter(|| {
            let mut buf = black_box(&wire_bytes).clone();
            let packets = rtcp::packet::unmarshal(&mut buf).expect("valid");
            let sum = packets
                .iter()
                .map(|p| peer_rtcp_walk(p.as_ref()))
                .sum::<u64>();
            black_box((sum, rtcp::packet::marshal(&packets).expect("marshals")))
        })
    });
    g.finish();
}

/// Both sides must read the same values and write the same bytes, or the race is unfair.
fn check_equivalence() {
    let wire = rtp_packet();
    let ours = RtpPacket::parse(&wire).expect("ours parses");
    let peer = rtp::packet::Packet::unmarshal(&mut Bytes::from(wire.clone())).expect("peer parses");
    assert_eq!(
        ours_rtp_read(&ours),
        peer_rtp_read(&peer),
        "RTP fields differ"
    );
    assert_eq!(
        peer.marshal().expect("peer writes").as_ref(),
        &wire[..],
        "RTP bytes differ"
    );

    let wire = rtcp_compound();
    let ours: u64 = parse_compound(&wire)
        .map(|p| ours_rtcp_walk(&p.expect("ours parses")))
        .sum();
    let packets = rtcp::packet::unmarshal(&mut Bytes::from(wire.clone())).expect("peer parses");
    assert_eq!(packets.len(), 3);
    let peer: u64 = packets.iter().map(|p| peer_rtcp_walk(p.as_ref())).sum();
    assert_eq!(ours, peer, "RTCP fields differ");
    // webrtc-rs fills SDES chunk padding with a non-zero byte, so compare what it writes
    // by meaning: parsed by MediaCore, it must be the same compound.
    let theirs = rtcp::packet::marshal(&packets).expect("peer writes");
    let ours: Vec<_> = parse_compound(&wire)
        .collect::<Result<_, _>>()
        .expect("ours parses");
    let back: Vec<_> = parse_compound(&theirs)
        .collect::<Result<_, _>>()
        .expect("peer output parses");
    assert_eq!(ours, back, "RTCP written by webrtc-rs differs");
}

criterion_group! {
    name = rtp_benches;
    config = mediacore_benches::criterion_config();
    targets = bench_rtp, bench_rtcp
}

fn comparisons() -> Vec<Comparison> {
    [
        "rtp/parse",
        "rtp/parse+serialize",
        "rtcp/parse",
        "rtcp/parse+serialize",
    ]
    .iter()
    .map(|g| {
        Comparison::new(
            format!("{g}/mediacore"),
            format!("{g}/webrtc-rs"),
            format!("{g}/webrtc-rs"),
        )
    })
    .collect()
}

fn main() {
    let started = SystemTime::now();
    check_equivalence();
    rtp_benches();
    Criterion::default().configure_from_args().final_summary();
    ratio::print_report(&ratio::criterion_home(), &comparisons(), started);
}
