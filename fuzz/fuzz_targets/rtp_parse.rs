#![no_main]
//! Parses arbitrary bytes as RTP; walks every accessor; writes what parsed back out and
//! checks that it parses to the same fields.

use libfuzzer_sys::fuzz_target;
use media_core::rtp::{HeaderExtension, RtpHeader, RtpPacket, write_packet};
use std::hint::black_box;

fuzz_target!(|data: &[u8]| {
    let Ok(p) = RtpPacket::parse(data) else {
        return;
    };
    let csrcs: Vec<u32> = p.csrcs().collect();
    let ext: Vec<HeaderExtension<'_>> = p.extensions().collect();
    black_box((
        p.payload(),
        p.extension_data(),
        p.extension_profile(),
        p.padding_len(),
    ));
    for e in &ext {
        black_box(p.extension(e.id));
    }
    assert!(p.header_len() + p.padding_len() <= data.len());

    // Re-serialize what an RFC 8285 reader sees; padding length is kept (its bytes are not).
    if p.extension_profile().is_some() && ext.is_empty() {
        return; // non-RFC 8285 or empty extension blocks are not reproduced by the writer
    }
    let header = RtpHeader {
        marker: p.marker(),
        payload_type: p.payload_type(),
        sequence_number: p.sequence_number(),
        timestamp: p.timestamp(),
        ssrc: p.ssrc(),
        csrcs: &csrcs,
        extensions: &ext,
        extension_form: None,
    };
    let mut out = vec![0u8; data.len() + 1024];
    let padding = u8::try_from(p.padding_len()).unwrap_or(0);
    let n = match write_packet(&header, p.payload(), padding, &mut out) {
        Ok(n) => n,
        // Two-byte elements with empty data cannot be written in one-byte form, etc.:
        // the writer refuses with a typed error, which is fine.
        Err(_) => return,
    };
    let q = match RtpPacket::parse(&out[..n]) {
        Ok(q) => q,
        Err(e) => panic!("written packet does not parse: {e}"),
    };
    assert_eq!(q.payload(), p.payload());
    assert_eq!(q.ssrc(), p.ssrc());
    assert_eq!(q.sequence_number(), p.sequence_number());
    assert_eq!(q.timestamp(), p.timestamp());
    assert_eq!(q.marker(), p.marker());
    assert_eq!(q.payload_type(), p.payload_type());
    assert_eq!(q.csrcs().collect::<Vec<_>>(), csrcs);
    assert_eq!(q.extensions().collect::<Vec<_>>(), ext);
});
