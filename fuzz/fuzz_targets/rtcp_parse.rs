#![no_main]
//! Parses arbitrary bytes as a compound RTCP buffer; walks every packet and every inner
//! list; writes each packet back and checks it parses to an equal packet.

use libfuzzer_sys::fuzz_target;
use media_core::rtp::rtcp::{CompoundMode, RtcpPacket, parse_compound, validate_compound};
use std::hint::black_box;

fn walk(p: &RtcpPacket<'_>) {
    match p {
        RtcpPacket::SenderReport(sr) => black_box(sr.reports.iter().count()),
        RtcpPacket::ReceiverReport(rr) => black_box(rr.reports.iter().count()),
        RtcpPacket::Sdes(s) => black_box(s.chunks.iter().map(|c| c.items.iter().count()).sum()),
        RtcpPacket::Bye(b) => black_box(b.ssrcs.iter().count()),
        RtcpPacket::Nack(n) => black_box(n.lost().count()),
        RtcpPacket::TransportFeedback(t) => black_box(t.iter_with_seq().count()),
        RtcpPacket::Fir(f) => black_box(f.entries.iter().count()),
        RtcpPacket::Remb(r) => black_box(r.ssrcs.iter().count()),
        RtcpPacket::App(_) | RtcpPacket::Pli(_) | RtcpPacket::Unknown(_) => 0,
    };
}

fuzz_target!(|data: &[u8]| {
    let _ = black_box(validate_compound(data, CompoundMode::Compound));
    for packet in parse_compound(data).flatten() {
        walk(&packet);
        let mut out = vec![0u8; packet.encoded_len()];
        // Writing may refuse what the wire allowed (e.g. an APP body not a multiple of 4
        // after padding was stripped); what it writes must parse back equal.
        if let Ok(n) = packet.write_to(&mut out) {
            match RtcpPacket::parse(&out[..n]) {
                Ok((again, len)) => {
                    assert_eq!(len, n);
                    assert_eq!(again, packet);
                }
                Err(e) => panic!("written packet does not parse: {e}"),
            }
        }
    }
});
