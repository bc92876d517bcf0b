//! Opus encode and decode of 20 ms mono speech-like frames through MediaCore's codec
//! wrapper, beside raw libopus calls (`opus_encode` / `opus_decode` through opusic-sys, the
//! same libopus 1.6.1 build) on the same PCM and settings: VOIP, 32 kbit/s, complexity 10,
//! FEC on for 5 % loss. The ratio is the wrapper's overhead.
//!
//! `cargo bench -p mediacore-benches --bench opus` ends with `ratio opus/encode/raw: x.xx`
//! and `ratio opus/decode/raw: x.xx`.

use std::hint::black_box;
use std::time::SystemTime;

use criterion::{Criterion, criterion_group};
use media_core::codec::opus::MAX_PACKET;
use media_core::codec::{OpusDecoder, OpusEncoder, OpusEncoderConfig};
use mediacore_benches::ratio::{self, Comparison};
use mediacore_benches::speech;
use opusic_sys as sys;

const FRAME: usize = 960;
const FRAMES: usize = 50;

/// One second of a voiced, speech-like signal (harmonics of a 140 Hz pitch with vibrato).
fn speech_like() -> Vec<i16> {
    speech::voiced(0, FRAME * FRAMES)
}

/// A libopus encoder and decoder driven by direct FFI calls.
struct Raw {
    enc: *mut sys::OpusEncoder,
    dec: *mut sys::OpusDecoder,
}

impl Raw {
    fn new() -> Self {
        let mut err = 0;
        // SAFETY: valid arguments; `err` is a live out-parameter; the results are checked.
        let enc =
            unsafe { sys::opus_encoder_create(48_000, 1, sys::OPUS_APPLICATION_VOIP, &mut err) };
        assert!(!enc.is_null() && err == 0, "opus_encoder_create: {err}");
        // SAFETY: `enc` is a live encoder; each request takes one int argument.
        unsafe {
            assert_eq!(
                sys::opus_encoder_ctl(enc, sys::OPUS_SET_BITRATE_REQUEST, 32_000),
                0
            );
            assert_eq!(
                sys::opus_encoder_ctl(enc, sys::OPUS_SET_COMPLEXITY_REQUEST, 10),
                0
            );
            assert_eq!(
                sys::opus_encoder_ctl(enc, sys::OPUS_SET_INBAND_FEC_REQUEST, 1),
                0
            );
            assert_eq!(
                sys::opus_encoder_ctl(enc, sys::OPUS_SET_PACKET_LOSS_PERC_REQUEST, 5),
                0
            );
        }
        // SAFETY: as above.
        let dec = unsafe { sys::opus_decoder_create(48_000, 1, &mut err) };
        assert!(!dec.is_null() && err == 0, "opus_decoder_create: {err}");
        Self { enc, dec }
    }

    fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> usize {
        // SAFETY: `pcm` holds one 960-sample mono frame and `out` `out.len()` bytes.
        let n = unsafe {
            sys::opus_encode(
                self.enc,
                pcm.as_ptr(),
                FRAME as i32,
                out.as_mut_ptr(),
                out.len() as i32,
            )
        };
        assert!(n > 0, "opus_encode: {n}");
        n as usize
    }

    fn decode(&mut self, packet: &[u8], pcm: &mut [i16]) -> usize {
        // SAFETY: `packet` is `packet.len()` bytes; `pcm` has room for 960 samples.
        let n = unsafe {
            sys::opus_decode(
                self.dec,
                packet.as_ptr(),
                packet.len() as i32,
                pcm.as_mut_ptr(),
                FRAME as i32,
                0,
            )
        };
        assert!(n > 0, "opus_decode: {n}");
        n as usize
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        // SAFETY: both were created by libopus and are destroyed once.
        unsafe {
            sys::opus_encoder_destroy(self.enc);
            sys::opus_decoder_destroy(self.dec);
        }
    }
}

fn bench_opus(c: &mut Criterion) {
    let pcm = speech_like();
    let frames: Vec<&[i16]> = pcm.chunks(FRAME).collect();
    let mut ours = OpusEncoder::new(OpusEncoderConfig::default()).expect("encoder");
    let mut ours_dec = OpusDecoder::new(1).expect("decoder");
    let mut raw = Raw::new();
    let mut packet = [0u8; MAX_PACKET];
    let mut out = [0i16; FRAME];

    // Packets to decode, made once by the raw encoder and decoded by both sides.
    let packets: Vec<Vec<u8>> = frames
        .iter()
        .map(|f| {
            let n = raw.encode(f, &mut packet);
            packet[..n].to_vec()
        })
        .collect();

    let mut g = c.benchmark_group("opus/encode");
    let mut i = 0;
    g.bench_function("mediacore", |b| {
        b.iter(|| {
            i = (i + 1) % FRAMES;
            black_box(
                ours.encode(black_box(frames[i]), &mut packet)
                    .expect("encode"),
            )
        })
    });
    g.bench_function("raw", |b| {
        b.iter(|| {
            i = (i + 1) % FRAMES;
            black_box(raw.encode(black_box(frames[i]), &mut packet))
        })
    });
    g.finish();

    let mut g = c.benchmark_group("opus/decode");
    g.bench_function("mediacore", |b| {
        b.iter(|| {
            i = (i + 1) % FRAMES;
            black_box(
                ours_dec
                    .decode(black_box(&packets[i]), &mut out)
                    .expect("decode"),
            )
        })
    });
    g.bench_function("raw", |b| {
        b.iter(|| {
            i = (i + 1) % FRAMES;
            black_box(raw.decode(black_box(&packets[i]), &mut out))
        })
    });
    g.finish();
}

criterion_group! {
    name = opus_benches;
    config = mediacore_benches::criterion_config();
    targets = bench_opus
}

fn main() {
    let started = SystemTime::now();
    opus_benches();
    Criterion::default().configure_from_args().final_summary();
    let comparisons = ["opus/encode", "opus/decode"].map(|g| {
        Comparison::new(
            format!("{g}/mediacore"),
            format!("{g}/raw"),
            format!("{g}/raw"),
        )
    });
    ratio::print_report(&ratio::criterion_home(), &comparisons, started);
}
