//! Rough CPU cost per 20 ms packet of the jitter bench's peers, measured once by hand:
//! `cargo run --release -p mediacore-benches --example peer_cost`.
//!
//! A steady stream (constant 40 ms delay, no loss) of Opus packets cycled from one second of
//! a voiced signal (no pauses: neteq's plain accelerate, which only cuts quiet stretches,
//! keeps searching), replayed in virtual time; wall-clock time per packet for:
//! - speex bare: `put` + `get` + `tick` (no decoding);
//! - speex peer / neteq peer: `insert` + two `pull_10ms`, Opus decoding included;
//! - the Opus decode alone (MediaCore's decoder), the floor both peers share.
//!
//! The criterion bench of the jitter buffers is separate; this is a one-off estimate.

use std::hint::black_box;
use std::time::Instant;

use media_core::codec::{OpusDecoder, OpusEncoder, OpusEncoderConfig};
use mediacore_benches::peers::neteq::NetEqPeer;
use mediacore_benches::peers::speex_jitter::{MAX_PAYLOAD, SpeexJitterBuffer, SpeexPeer};
use mediacore_benches::peers::{PULL_SAMPLES, PeerJitterBuffer};
use mediacore_benches::speech;

const FRAME: usize = 960;
/// Packets per measurement: 10 minutes of stream.
const PACKETS: usize = 30_000;

fn payloads() -> Vec<Vec<u8>> {
    let Ok(mut encoder) = OpusEncoder::new(OpusEncoderConfig::default()) else {
        panic!("opus encoder");
    };
    let mut buf = [0u8; 1275];
    (0..50)
        .map(|i| {
            let frame = speech::voiced(i * FRAME, FRAME);
            match encoder.encode(&frame, &mut buf) {
                Ok(n) => buf[..n].to_vec(),
                Err(e) => panic!("encode: {e}"),
            }
        })
        .collect()
}

fn per_packet_ns(start: Instant) -> f64 {
    start.elapsed().as_nanos() as f64 / PACKETS as f64
}

fn replay(peer: &mut dyn PeerJitterBuffer, payloads: &[Vec<u8>]) -> f64 {
    let name = peer.name();
    let mut out = [0i16; PULL_SAMPLES];
    let start = Instant::now();
    for i in 0..PACKETS {
        let sent = i as f64 * 20.0;
        let p = &payloads[i % payloads.len()];
        peer.insert(sent + 40.0, i as u16, (i * FRAME) as u32, p);
        peer.pull_10ms(sent + 40.0, &mut out);
        peer.pull_10ms(sent + 50.0, &mut out);
        black_box(&out);
    }
    let ns = per_packet_ns(start);
    println!("{name}: {:?}", peer.stats());
    ns
}

fn main() {
    let payloads = payloads();

    let Ok(mut jb) = SpeexJitterBuffer::new(960) else {
        panic!("speex jitter buffer");
    };
    let mut buf = Box::new([0u8; MAX_PAYLOAD]);
    let start = Instant::now();
    for i in 0..PACKETS {
        let p = &payloads[i % payloads.len()];
        jb.put(p, (i * FRAME) as u32, FRAME as u32, i as u16, 0);
        black_box(jb.get(FRAME as u32, &mut buf));
        jb.tick();
    }
    let speex_bare = per_packet_ns(start);

    let Ok(mut decoder) = OpusDecoder::new(1) else {
        panic!("opus decoder");
    };
    let mut pcm = vec![0i16; 5_760];
    let start = Instant::now();
    for i in 0..PACKETS {
        black_box(decoder.decode(&payloads[i % payloads.len()], &mut pcm).ok());
    }
    let decode = per_packet_ns(start);

    let speex_peer = match SpeexPeer::new(960) {
        Ok(mut p) => replay(&mut p, &payloads),
        Err(e) => panic!("{e}"),
    };
    let neteq_peer = match NetEqPeer::new() {
        Ok(mut p) => replay(&mut p, &payloads),
        Err(e) => panic!("{e}"),
    };

    println!("per 20 ms packet, {PACKETS} packets, mean wall time:");
    println!("  speex bare put+get+tick      {speex_bare:>9.0} ns");
    println!("  opus decode alone            {decode:>9.0} ns");
    println!("  speex peer insert+2 pulls    {speex_peer:>9.0} ns (decode included)");
    println!("  neteq peer insert+2 pulls    {neteq_peer:>9.0} ns (decode included)");
    println!(
        "  less the decode: speex peer {:.0} ns, neteq peer {:.0} ns",
        speex_peer - decode,
        neteq_peer - decode
    );
}
