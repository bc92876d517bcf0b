//! The jitter bench's peers (mediacore_benches::peers) on a short synthetic call: 3 s of a
//! voiced signal in 20 ms Opus packets (VOIP, 32 kbit/s), replayed in virtual time with a
//! constant 40 ms network delay, then with 20 % random loss on top.

use media_core::codec::{FrameDuration, OpusApplication, OpusEncoder, OpusEncoderConfig};
use mediacore_benches::peers::neteq::NetEqPeer;
use mediacore_benches::peers::speex_jitter::SpeexPeer;
use mediacore_benches::peers::{PULL_SAMPLES, PeerJitterBuffer, PeerStats};
use mediacore_benches::speech;

const FRAME: usize = 960;
const PACKETS: usize = 150;
const DELAY_MS: f64 = 40.0;
/// Replay length: the 3 s stream plus time to drain the buffers.
const REPLAY_MS: usize = 3_600;

/// The bench's voiced, speech-like signal (140 Hz pitch, vibrato, 4 Hz envelope).
fn voiced(samples: usize) -> Vec<i16> {
    speech::voiced(0, samples)
}

/// One packet of the stream.
struct Packet {
    seq: u16,
    timestamp: u32,
    arrival_ms: f64,
    payload: Vec<u8>,
}

fn encode_stream() -> Vec<Packet> {
    let config = OpusEncoderConfig {
        application: OpusApplication::Voip,
        frame: FrameDuration::Ms20,
        bitrate_bps: 32_000,
        ..OpusEncoderConfig::default()
    };
    let mut encoder = OpusEncoder::new(config).expect("encoder");
    let pcm = voiced(FRAME * PACKETS);
    let mut buf = [0u8; 1275];
    pcm.chunks_exact(FRAME)
        .enumerate()
        .map(|(i, frame)| {
            let n = encoder.encode(frame, &mut buf).expect("encode");
            Packet {
                // Sequence numbers and timestamps start near the wrap to exercise it.
                seq: (65_500 + i as u32) as u16,
                timestamp: 0xFFFF_0000u32.wrapping_add((i * FRAME) as u32),
                arrival_ms: i as f64 * 20.0 + DELAY_MS,
                payload: buf[..n].to_vec(),
            }
        })
        .collect()
}

/// Every fifth packet on average is lost (xorshift, fixed seed).
fn lose_20_percent(packets: Vec<Packet>) -> Vec<Packet> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    packets
        .into_iter()
        .filter(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % 5 != 0
        })
        .collect()
}

/// Both peers are playing the stream between these times (neteq starts near 550 ms).
const MID_FROM_MS: usize = 1_000;
const MID_TO_MS: usize = 2_500;

/// Replays `packets` (in arrival order) into `peer`, pulling 10 ms every 10 ms of virtual
/// time; returns the output and the samples concealed between [`MID_FROM_MS`] and
/// [`MID_TO_MS`] (so neither start-up nor the end of the stream counts).
fn replay(peer: &mut dyn PeerJitterBuffer, packets: &[Packet]) -> (Vec<i16>, u64) {
    let concealed = |p: &dyn PeerJitterBuffer| p.stats().concealed_samples.expect("counted");
    let mut mid_from = 0;
    let mut mid_concealed = 0;
    let mut out = Vec::with_capacity(REPLAY_MS * 48);
    let mut next = 0;
    let mut frame = [0i16; PULL_SAMPLES];
    for now in (0..REPLAY_MS).step_by(10) {
        if now == MID_FROM_MS {
            mid_from = concealed(peer);
        }
        if now == MID_TO_MS {
            mid_concealed = concealed(peer) - mid_from;
        }
        let now = now as f64;
        while next < packets.len() && packets[next].arrival_ms <= now {
            let p = &packets[next];
            peer.insert(p.arrival_ms, p.seq, p.timestamp, &p.payload);
            next += 1;
        }
        peer.pull_10ms(now, &mut frame);
        out.extend_from_slice(&frame);
    }
    (out, mid_concealed)
}

fn rms(x: &[i16]) -> f64 {
    (x.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / x.len().max(1) as f64).sqrt()
}

/// The quietest 20 ms window of `x`, by RMS.
fn quietest_20ms(x: &[i16]) -> f64 {
    x.chunks_exact(FRAME).map(rms).fold(f64::INFINITY, f64::min)
}

fn peers() -> Vec<Box<dyn PeerJitterBuffer>> {
    vec![
        Box::new(NetEqPeer::new().expect("neteq peer")),
        Box::new(SpeexPeer::new(960).expect("speex peer")),
    ]
}

fn check_length(name: &str, out: &[i16], stats: &PeerStats) {
    assert_eq!(out.len(), REPLAY_MS * 48, "{name}: output length");
    assert_eq!(stats.emitted_samples, out.len() as u64, "{name}: emitted");
}

#[test]
fn constant_delay_plays_the_whole_stream_without_loss() {
    let packets = encode_stream();
    let source_rms = rms(&voiced(FRAME * PACKETS));
    for mut peer in peers() {
        let name = peer.name();
        let (out, mid_concealed) = replay(peer.as_mut(), &packets);
        let stats = peer.stats();
        println!("{name}: {stats:?}");
        check_length(name, &out, &stats);
        assert_eq!(stats.packets_inserted, PACKETS as u64);
        assert_eq!(stats.discarded_packets, Some(0), "{name}");

        // Audio starts once the peer has buffered enough (neteq waits out its first 500 ms
        // of jitter statistics), and what follows is the stream, never silent (the source's
        // quietest 20 ms is 500 RMS; Opus at 32 kbit/s renders the troughs down to about
        // 270). Time-compression may shorten it, so only its first 2.4 s are checked.
        let first = out.iter().position(|&s| s.abs() > 100).expect("some audio");
        assert!(
            first < 700 * 48,
            "{name}: audio starts at {} ms",
            first / 48
        );
        let body = &out[first + 20 * 48..first + 2_400 * 48];
        assert!(
            quietest_20ms(body) > 150.0,
            "{name}: a silent 20 ms inside the stream ({:.0} RMS)",
            quietest_20ms(body)
        );
        let level = rms(body) / source_rms;
        assert!(
            (0.7..1.3).contains(&level),
            "{name}: output level {level:.2} of the source's"
        );

        // With no loss and no jitter, nothing is concealed once the stream plays.
        assert_eq!(mid_concealed, 0, "{name}: samples concealed without loss");
        let delay = stats.mean_buffer_level_ms.expect("delay estimate");
        assert!(
            (0.0..400.0).contains(&delay),
            "{name}: mean buffer level {delay} ms"
        );
    }
}

#[test]
fn loss_is_concealed_and_counted() {
    let packets = lose_20_percent(encode_stream());
    let lost = PACKETS - packets.len();
    assert!(
        (20..=45).contains(&lost),
        "{lost} packets lost of {PACKETS}"
    );
    for mut peer in peers() {
        let name = peer.name();
        let (out, mid_concealed) = replay(peer.as_mut(), &packets);
        let stats = peer.stats();
        println!("{name} with {lost} lost: {stats:?}, {mid_concealed} concealed mid-stream");
        check_length(name, &out, &stats);
        assert_eq!(stats.packets_inserted, packets.len() as u64);

        let first = out.iter().position(|&s| s.abs() > 100).expect("some audio");
        let body = &out[first..first + 2_000 * 48];
        assert!(rms(body) > 1_000.0, "{name}: output RMS {:.0}", rms(body));

        // Each lost packet takes 20 ms out of the stream: the peer must fill some of it,
        // and count it, while the stream plays.
        assert!(
            mid_concealed >= FRAME as u64 * 3,
            "{name}: only {mid_concealed} samples concealed mid-stream with {lost} lost"
        );
    }
}

/// Delays of a jittery path: 40 ms, and every fifth packet 80 ms more (so it arrives after
/// the next ones). Returned in arrival order.
fn jittered(packets: Vec<Packet>) -> Vec<Packet> {
    let mut packets: Vec<Packet> = packets
        .into_iter()
        .enumerate()
        .map(|(i, mut p)| {
            if i % 5 == 2 {
                p.arrival_ms += 80.0;
            }
            p
        })
        .collect();
    packets.sort_by(|a, b| a.arrival_ms.total_cmp(&b.arrival_ms));
    packets
}

#[test]
fn peers_see_the_virtual_arrival_times() {
    // neteq reads its own clock for arrival times; if the virtual clock did not reach it,
    // a replay (all of it within a few wall-clock milliseconds) would show it no jitter and
    // its target would sit at its 20 ms floor.
    let packets = jittered(encode_stream());
    let mut neteq = NetEqPeer::new().expect("neteq peer");
    replay(&mut neteq, &packets);
    let stats = neteq.stats();
    println!("neteq-rs with spikes: {stats:?}");
    // neteq measures jitter as inter-arrival time minus timestamp difference (clamped at 0
    // for reordered packets), so these spikes read as 20-40 ms, not 80.
    let target = stats.target_delay_ms.expect("target");
    assert!(
        target >= 40.0,
        "neteq target {target} ms under 80 ms spikes"
    );

    let mut steady = NetEqPeer::new().expect("neteq peer");
    replay(&mut steady, &encode_stream());
    assert_eq!(steady.stats().target_delay_ms, Some(20.0));

    // Speex learns from the order of puts and gets: it waits for late packets.
    let mut speex = SpeexPeer::new(960).expect("speex peer");
    replay(&mut speex, &packets);
    let stats = speex.stats();
    println!("speexdsp with spikes: {stats:?}");
    let wait = stats.mean_packet_wait_ms.expect("wait");
    assert!(
        wait > 10.0,
        "speex mean packet wait {wait} ms under 80 ms spikes"
    );
}
