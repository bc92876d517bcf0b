//! A synthetic Opus stream and a driver that replays it through a jitter buffer on a
//! virtual clock, for the jitter-buffer tests.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use media_core::codec::opus::MAX_PACKET;
use media_core::codec::{OpusEncoder, OpusEncoderConfig};
use media_core::jitter::{JitterBuffer, JitterBufferConfig, JitterStats};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// One RTP packet of the stream.
#[derive(Clone)]
pub struct Packet {
    pub seq: u16,
    pub ts: u32,
    pub ssrc: u32,
    pub payload: Vec<u8>,
    /// When the sender sent it, ms from the start.
    pub sent_ms: f64,
}

/// Speech-like audio: a harmonic series with vibrato and syllables; with `pauses`, every
/// third second is silent (so DTX engages).
pub fn speech_like(samples: usize, pauses: bool) -> Vec<i16> {
    (0..samples)
        .map(|n| {
            let t = n as f64 / 48_000.0;
            if pauses && (t as u64) % 3 == 2 {
                return 0;
            }
            let f0 = 140.0 + 15.0 * (2.0 * std::f64::consts::PI * 3.0 * t).sin();
            let env = 0.55 + 0.45 * (2.0 * std::f64::consts::PI * 4.0 * t).sin();
            let v: f64 = (1..=8)
                .map(|h| (2.0 * std::f64::consts::PI * f0 * f64::from(h) * t).sin() / f64::from(h))
                .sum();
            (v * env * 6000.0) as i16
        })
        .collect()
}

/// Encodes `seconds` of speech-like audio in 20 ms packets (FEC on for 10 % loss; DTX
/// when `dtx`, whose 1–2 byte frames are not sent, as WebRTC senders do).
pub fn stream(seconds: f64, dtx: bool) -> Vec<Packet> {
    let config = OpusEncoderConfig {
        dtx,
        fec: true,
        expected_loss_percent: 10,
        complexity: 5,
        ..OpusEncoderConfig::default()
    };
    let mut enc = OpusEncoder::new(config).expect("encoder");
    let pcm = speech_like((seconds * 48_000.0) as usize, dtx);
    let mut out = [0u8; MAX_PACKET];
    let mut packets = Vec::new();
    let mut seq = 1000u16;
    for (i, frame) in pcm.chunks_exact(960).enumerate() {
        let n = enc.encode(frame, &mut out).expect("encode");
        let ts = 7_000u32.wrapping_add((i * 960) as u32);
        if n <= 2 {
            continue;
        }
        packets.push(Packet {
            seq,
            ts,
            ssrc: 0x1234,
            payload: out[..n].to_vec(),
            sent_ms: i as f64 * 20.0,
        });
        seq = seq.wrapping_add(1);
    }
    packets
}

/// What a replay produced.
pub struct Replay {
    pub audio: Vec<i16>,
    pub stats: JitterStats,
    /// Pulls made after the first audible one.
    pub pulls_playing: u64,
    /// Playout delay (ms) sampled each second.
    pub delays: Vec<f64>,
    pub max_buffered: usize,
}

/// Replays `packets` (each with its arrival times, ms: empty = lost, several = duplicated)
/// into a fresh buffer, pulling 10 ms every 10 ms until `end_ms`.
pub fn replay(config: JitterBufferConfig, arrivals: &[(Packet, Vec<f64>)], end_ms: f64) -> Replay {
    let mut jb = JitterBuffer::new(config).expect("jitter buffer");
    let start = Instant::now();
    let at = |ms: f64| start + Duration::from_secs_f64(ms / 1000.0);
    let mut events: Vec<(f64, usize)> = arrivals
        .iter()
        .enumerate()
        .flat_map(|(i, (_, times))| times.iter().map(move |&t| (t, i)))
        .collect();
    events.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut next_event = 0;
    let mut audio = Vec::new();
    let mut frame = vec![0i16; 480 * usize::from(config.channels)];
    let mut pulls_playing = 0;
    let mut delays = Vec::new();
    let mut max_buffered = 0;
    let mut pull_ms = 0.0;
    while pull_ms < end_ms {
        while next_event < events.len() && events[next_event].0 <= pull_ms {
            let (t, i) = events[next_event];
            let p = &arrivals[i].0;
            jb.insert(at(t), p.ssrc, p.seq, p.ts, &p.payload);
            next_event += 1;
        }
        max_buffered = max_buffered.max(jb.stats().buffered_packets);
        let before = jb.stats().total_samples_received;
        jb.pull(at(pull_ms), &mut frame).expect("pull");
        if jb.stats().total_samples_received > before {
            pulls_playing += 1;
            audio.extend_from_slice(&frame);
        }
        if (pull_ms as u64) % 1000 == 0 {
            delays.push(jb.stats().playout_delay_ms);
        }
        pull_ms += 10.0;
    }
    Replay {
        audio,
        stats: jb.stats(),
        pulls_playing,
        delays,
        max_buffered,
    }
}

/// The seeded generator of the tests' network conditions.
pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}
