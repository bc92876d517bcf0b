//! Proves that SRTP and SRTCP protect/unprotect allocate nothing per packet in steady
//! state, for every profile, with a counting global allocator.

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{CountingAllocator, allocations};
use media_core::srtp::{SrtpContext, SrtpProfile};

/// Counts allocations made by the current thread, so the test harness's own threads
/// cannot disturb the count.
#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn rtp_packet(buf: &mut [u8], seq: u16, payload: usize) -> usize {
    buf[0] = 0x80;
    buf[1] = 111;
    buf[2..4].copy_from_slice(&seq.to_be_bytes());
    buf[4..8].copy_from_slice(&(u32::from(seq) * 960).to_be_bytes());
    buf[8..12].copy_from_slice(&0x1234_5678u32.to_be_bytes());
    buf[12..12 + payload].fill(0xA5);
    12 + payload
}

fn rtcp_packet(buf: &mut [u8]) -> usize {
    // An RR with no report blocks: opaque to SRTCP beyond its first 8 bytes.
    buf[..8].copy_from_slice(&[0x80, 201, 0, 1, 0x12, 0x34, 0x56, 0x78]);
    buf[8..40].fill(0x5A);
    40
}

#[test]
fn steady_state_protect_and_unprotect_do_not_allocate() {
    for profile in SrtpProfile::ALL {
        let key = vec![7u8; profile.key_len()];
        let salt = vec![9u8; profile.salt_len()];
        let mut tx = SrtpContext::new(profile, &key, &salt).expect("tx context");
        let mut rx = SrtpContext::new(profile, &key, &salt).expect("rx context");
        let mut buf = [0u8; 1500];

        // Warm-up: the first packet of an SSRC creates its stream state.
        let n = rtp_packet(&mut buf, 0, 160);
        let n = tx.protect_rtp(&mut buf, n).expect("protect");
        rx.unprotect_rtp(&mut buf[..n]).expect("unprotect");
        let n = rtcp_packet(&mut buf);
        let n = tx.protect_rtcp(&mut buf, n).expect("protect rtcp");
        rx.unprotect_rtcp(&mut buf[..n]).expect("unprotect rtcp");

        let before = allocations();
        for seq in 1..=2000u16 {
            let n = rtp_packet(&mut buf, seq, if seq % 2 == 0 { 160 } else { 1200 });
            let n = tx.protect_rtp(&mut buf, n).expect("protect");
            rx.unprotect_rtp(&mut buf[..n]).expect("unprotect");
            if seq % 50 == 0 {
                let n = rtcp_packet(&mut buf);
                let n = tx.protect_rtcp(&mut buf, n).expect("protect rtcp");
                rx.unprotect_rtcp(&mut buf[..n]).expect("unprotect rtcp");
            }
        }
        let during = allocations() - before;
        assert_eq!(during, 0, "{profile}: {during} allocations in 2000 packets");
    }
}

#[test]
fn the_counter_sees_allocations() {
    // Guards the test above against a counter that never counts.
    let before = allocations();
    let v = std::hint::black_box(vec![1u8; 64]);
    assert!(allocations() > before);
    drop(v);
}
