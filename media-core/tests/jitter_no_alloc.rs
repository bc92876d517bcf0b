//! The jitter buffer allocates nothing per packet or per pull once created, whatever
//! arrives: jitter, loss, duplicates, garbage.

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
#[path = "support/stream.rs"]
mod stream;

use std::time::{Duration, Instant};

use counting_alloc::{CountingAllocator, allocations};
use media_core::jitter::{JitterBuffer, JitterBufferConfig};
use rand::Rng;

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

#[test]
fn steady_state_allocates_nothing() {
    let mut packets = stream::stream(20.0, false);
    for p in packets.iter_mut().skip(7).step_by(50) {
        p.payload.truncate(3);
        p.payload[0] = 0xff;
    }
    let mut g = stream::rng(5);
    let mut arrivals: Vec<(f64, usize)> = Vec::new();
    for (i, p) in packets.iter().enumerate() {
        if g.random::<f64>() < 0.05 {
            continue;
        }
        let t = p.sent_ms + 30.0 + g.random_range(0.0..50.0);
        arrivals.push((t, i));
        if g.random::<f64>() < 0.05 {
            arrivals.push((t + 3.0, i));
        }
    }
    arrivals.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut jb = JitterBuffer::new(JitterBufferConfig::default()).expect("jb");
    let mut frame = [0i16; 480];
    let start = Instant::now();
    let mut next = 0;
    let mut counted_from = None;
    for pull in 0..2000 {
        let now_ms = f64::from(pull) * 10.0;
        if pull == 200 {
            // Two seconds in: everything is warmed up.
            counted_from = Some(allocations());
        }
        while next < arrivals.len() && arrivals[next].0 <= now_ms {
            let p = &packets[arrivals[next].1];
            let at = start + Duration::from_secs_f64(arrivals[next].0 / 1000.0);
            jb.insert(at, p.ssrc, p.seq, p.ts, &p.payload);
            next += 1;
        }
        jb.pull(start + Duration::from_secs_f64(now_ms / 1000.0), &mut frame)
            .expect("pull");
        let _ = jb.stats();
    }
    let allocated = allocations() - counted_from.unwrap_or(0);
    let stats = jb.stats();
    assert!(
        stats.decode_errors > 0 && stats.packets_duplicated > 0,
        "{stats:?}"
    );
    assert_eq!(allocated, 0, "allocations in 18 s of steady state");
}
