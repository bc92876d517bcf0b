//! The network simulator: reproducible from a seed, loss models with the configured
//! statistics, queueing at a rate cap, outages, duplication and reordering counted, trace
//! record/replay round trips, clear trace errors, and the shipped traces matching their
//! generator.

use std::time::{Duration, Instant};

use media_core::net::sim::{Link, LinkConfig, Loss, Trace, TraceError, make_trace, presets};

const STEP: Duration = Duration::from_millis(20);

/// Sends `n` packets of `len` bytes every 20 ms and drains everything; returns the arrival
/// offsets (ms) of each packet index in arrival order.
fn drive(link: &mut Link, start: Instant, n: usize, len: usize) -> Vec<(usize, f64)> {
    let mut out = Vec::new();
    for i in 0..n {
        let mut packet = vec![0u8; len.max(4)];
        packet[..4].copy_from_slice(&(i as u32).to_be_bytes());
        link.send(start + STEP * i as u32, &packet);
    }
    let end = start + Duration::from_secs(3600);
    while let Some(d) = link.poll_arrival(end) {
        let i = u32::from_be_bytes([d.data[0], d.data[1], d.data[2], d.data[3]]) as usize;
        out.push((i, (d.arrival - start).as_secs_f64() * 1000.0));
    }
    out
}

fn jittery() -> LinkConfig {
    LinkConfig {
        jitter: Duration::from_millis(30),
        loss: Loss::bursty(0.05, 2.0),
        duplicate_probability: 0.01,
        reorder_probability: 0.01,
        ..LinkConfig::default()
    }
}

#[test]
fn same_seed_same_run_other_seed_other_run() {
    let start = Instant::now();
    let a = drive(&mut Link::new(jittery(), 1, start), start, 2000, 100);
    let b = drive(&mut Link::new(jittery(), 1, start), start, 2000, 100);
    let c = drive(&mut Link::new(jittery(), 2, start), start, 2000, 100);
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn gilbert_elliott_gives_the_rate_and_burst_length_asked_for() {
    let start = Instant::now();
    let config = LinkConfig {
        loss: Loss::bursty(0.10, 3.0),
        ..LinkConfig::default()
    };
    let n = 100_000;
    let arrived = drive(&mut Link::new(config, 9, start), start, n, 20);
    let mut got = vec![false; n];
    for (i, _) in &arrived {
        got[*i] = true;
    }
    let lost = got.iter().filter(|g| !**g).count();
    let bursts = got.windows(2).filter(|w| w[0] && !w[1]).count();
    let rate = lost as f64 / n as f64;
    let mean_burst = lost as f64 / bursts as f64;
    assert!((rate - 0.10).abs() < 0.01, "rate {rate}");
    assert!((mean_burst - 3.0).abs() < 0.2, "burst {mean_burst}");
}

#[test]
fn rate_cap_queues_and_tail_drops() {
    let start = Instant::now();
    // 1000-byte packets every 20 ms = 400 kbit/s into a 200 kbit/s link: each packet waits
    // 20 ms longer than the one before until the 5 kB queue is full, then half are dropped.
    let config = LinkConfig {
        rate_bps: Some(200_000),
        queue_bytes: 5_000,
        ..LinkConfig::default()
    };
    let mut link = Link::new(config, 3, start);
    let arrived = drive(&mut link, start, 200, 1000);
    let delay = |k: usize| {
        arrived
            .iter()
            .find(|(i, _)| *i == k)
            .map(|(i, a)| a - 20.0 * *i as f64)
    };
    assert_eq!(delay(0), Some(20.0 + 40.0));
    assert_eq!(delay(1), Some(20.0 + 60.0));
    let s = link.stats();
    assert!((90..=110).contains(&s.dropped_queue), "{s:?}");
    let worst = arrived
        .iter()
        .map(|(i, a)| a - 20.0 * *i as f64)
        .fold(0.0, f64::max);
    assert!(
        worst <= 20.0 + 5_000.0 * 8.0 / 200.0 + 40.0 + 1e-6,
        "{worst}"
    );
}

#[test]
fn outage_loses_exactly_its_window_and_counters_add_up() {
    let start = Instant::now();
    let config = LinkConfig {
        outages: vec![(Duration::from_millis(1000), Duration::from_millis(1500))],
        duplicate_probability: 0.05,
        reorder_probability: 0.05,
        jitter: Duration::from_millis(10),
        ..LinkConfig::default()
    };
    let mut link = Link::new(config, 5, start);
    let arrived = drive(&mut link, start, 500, 50);
    assert!(arrived.iter().all(|(i, _)| !(50..75).contains(i)));
    assert!(
        (0..50)
            .chain(75..500)
            .all(|k| arrived.iter().any(|(i, _)| *i == k))
    );
    let s = link.stats();
    assert_eq!(s.lost_outage, 25);
    assert!(s.duplicated > 10 && s.reordered > 10, "{s:?}");
    assert_eq!(
        s.sent + s.duplicated,
        s.delivered + s.lost_outage + s.lost_random + s.dropped_queue
    );
    // In arrival order, as promised.
    assert!(arrived.windows(2).all(|w| w[0].1 <= w[1].1));
}

#[test]
fn recorded_trace_replays_identically_through_text() {
    let start = Instant::now();
    let mut link = Link::new(jittery(), 77, start);
    link.record();
    let original = drive(&mut link, start, 1000, 80);
    let trace = link.take_trace("test", "made by a test\nsecond line");
    let parsed = Trace::parse(&trace.to_text()).expect("parse");
    assert_eq!(parsed.name, "test");
    assert_eq!(parsed.comment, "made by a test\nsecond line");
    assert_eq!(parsed.records.len(), 1000);
    let replayed = drive(&mut Link::replay(parsed, start), start, 1000, 80);
    assert_eq!(original.len(), replayed.len());
    for (a, b) in original.iter().zip(&replayed) {
        assert_eq!(a.0, b.0);
        assert!((a.1 - b.1).abs() < 0.002, "{a:?} {b:?}");
    }
}

#[test]
fn malformed_traces_name_the_line() {
    assert_eq!(Trace::parse("0 0 1\n"), Err(TraceError::Version));
    let bad = [
        ("# mediacore-trace v1\n0 0.0 5.0\n2 20.0 25.0\n", 3),
        ("# mediacore-trace v1\n0 x 5.0\n", 2),
        ("# mediacore-trace v1\n# c\n0 10.0\n", 3),
        ("# mediacore-trace v1\n0 10.0 5.0\n", 2),
        ("# mediacore-trace v1\n0 10.0 nan\n", 2),
        ("# mediacore-trace v1\n\n0 10.0 11 lost\n", 3),
    ];
    for (text, line) in bad {
        match Trace::parse(text) {
            Err(TraceError::Line { line: l, reason }) => assert_eq!(l, line, "{reason}"),
            other => panic!("{text:?}: {other:?}"),
        }
    }
}

#[test]
fn shipped_traces_match_their_generator() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("traces");
    for preset in presets::all() {
        let path = dir.join(format!("{}.trace", preset.name));
        let shipped =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let made = make_trace(&preset).to_text();
        assert!(
            shipped == made,
            "{} differs from the generator: run `cargo run -p mediacore-examples --bin make-traces`",
            path.display()
        );
        let trace = Trace::parse(&shipped).expect("parse");
        let loss = trace.loss_rate();
        let d = trace.delays_ms();
        let mean = d.iter().sum::<f64>() / d.len() as f64;
        let p95 = d[(d.len() - 1) * 95 / 100];
        println!(
            "{}: loss {:.2} %, delay mean {mean:.1} ms, p95 {p95:.1} ms",
            preset.name,
            100.0 * loss
        );
        let (lo, hi) = match preset.name {
            "wifi" => (0.01, 0.04),
            "cellular" => (0.03, 0.08),
            _ => (0.07, 0.14),
        };
        assert!((lo..hi).contains(&loss), "{}: loss {loss}", preset.name);
    }
}
