//! Opus through MediaCore's codec wrapper: round trips in every mode, FEC recovery beating
//! plain concealment, DTX, bad input, and no allocation per frame.

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{CountingAllocator, allocations};

use media_core::codec::opus::MAX_PACKET;
use media_core::codec::{
    CodecError, FrameDuration, OpusApplication, OpusDecoder, OpusEncoder, OpusEncoderConfig,
};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// A voiced, speech-like signal: a 140 Hz harmonic series with slow vibrato and a syllable
/// envelope, so SILK (and therefore FEC) is exercised.
fn speech_like(frames: usize, frame: usize, channels: usize) -> Vec<i16> {
    let mut out = Vec::with_capacity(frames * frame * channels);
    for n in 0..frames * frame {
        let t = n as f64 / 48_000.0;
        let f0 = 140.0 + 15.0 * (2.0 * std::f64::consts::PI * 3.0 * t).sin();
        let env = 0.55 + 0.45 * (2.0 * std::f64::consts::PI * 4.0 * t).sin();
        let mut v = 0.0;
        for h in 1..=8 {
            v += (2.0 * std::f64::consts::PI * f0 * h as f64 * t).sin() / h as f64;
        }
        let s = (v * env * 6000.0) as i16;
        for c in 0..channels {
            out.push(if c == 0 { s } else { s / 2 });
        }
    }
    out
}

/// Normalised correlation of two equal-length signals.
fn correlation(a: &[i16], b: &[i16]) -> f64 {
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (f64::from(x), f64::from(y));
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    ab / (aa.sqrt() * bb.sqrt()).max(1.0)
}

fn rms(x: &[i16]) -> f64 {
    (x.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / x.len().max(1) as f64).sqrt()
}

#[test]
fn round_trips_in_every_mode() {
    for channels in [1u8, 2] {
        for frame in [FrameDuration::Ms10, FrameDuration::Ms20] {
            for application in [
                OpusApplication::Voip,
                OpusApplication::Audio,
                OpusApplication::RestrictedLowDelay,
            ] {
                let config = OpusEncoderConfig {
                    channels,
                    frame,
                    application,
                    bitrate_bps: 64_000,
                    ..OpusEncoderConfig::default()
                };
                let mut enc = OpusEncoder::new(config).expect("encoder");
                let mut dec = OpusDecoder::new(channels).expect("decoder");
                let len = enc.frame_len();
                let input = speech_like(50, frame.samples_per_channel(), usize::from(channels));
                let mut decoded = Vec::new();
                let (mut packet, mut pcm) = ([0u8; MAX_PACKET], vec![0i16; len]);
                for chunk in input.chunks(len) {
                    let n = enc.encode(chunk, &mut packet).expect("encode");
                    assert!(n > 2, "{config:?}: {n}-byte packet");
                    let m = dec.decode(&packet[..n], &mut pcm).expect("decode");
                    assert_eq!(m, frame.samples_per_channel());
                    decoded.extend_from_slice(&pcm);
                }
                // Align by the encoder's lookahead and compare the second half.
                let delay = enc.lookahead().expect("lookahead") * usize::from(channels);
                let half = input.len() / 2;
                let c = correlation(&input[half..input.len() - delay], &decoded[half + delay..]);
                // CELT keeps the waveform (measured 0.97-0.997); SILK (VOIP) keeps the
                // spectrum, not the phase (0.38-0.85), so check its level instead.
                if application == OpusApplication::Voip {
                    let level =
                        rms(&decoded[half + delay..]) / rms(&input[half..input.len() - delay]);
                    assert!(
                        (0.7..1.4).contains(&level),
                        "{config:?}: level ratio {level:.2}"
                    );
                    assert!(c > 0.3, "{config:?}: correlation {c:.3}");
                } else {
                    assert!(c > 0.95, "{config:?}: correlation {c:.3}");
                }
            }
        }
    }
}

#[test]
fn fec_recovers_a_lost_frame_better_than_concealment() {
    let config = OpusEncoderConfig {
        bitrate_bps: 24_000,
        fec: true,
        expected_loss_percent: 20,
        ..OpusEncoderConfig::default()
    };
    let mut enc = OpusEncoder::new(config).expect("encoder");
    let frame = enc.frame_len();
    let input = speech_like(60, frame, 1);
    let mut packets = Vec::new();
    for chunk in input.chunks(frame) {
        let mut p = [0u8; MAX_PACKET];
        let n = enc.encode(chunk, &mut p).expect("encode");
        packets.push(p[..n].to_vec());
    }
    let lost = 40;
    // Decodes every packet, handling the one at `lost` as `loss` says.
    let decode_with = |loss: Option<bool>| {
        let mut dec = OpusDecoder::new(1).expect("decoder");
        let mut out = Vec::new();
        let mut pcm = vec![0i16; frame];
        for (i, p) in packets.iter().enumerate() {
            match (i == lost, loss) {
                (true, Some(true)) => dec.decode_fec(&packets[i + 1], &mut pcm).map(|_| ()),
                (true, Some(false)) => dec.conceal(&mut pcm).map(|_| ()),
                _ => dec.decode(p, &mut pcm).map(|_| ()),
            }
            .expect("decode");
            out.extend_from_slice(&pcm);
        }
        out
    };
    let (clean, with_fec, with_plc) = (
        decode_with(None),
        decode_with(Some(true)),
        decode_with(Some(false)),
    );
    // Compare with what the decoder gives when nothing is lost (the same codec phase), over
    // the lost frame and the one after it, where a poor guess still shows.
    let range = lost * frame..(lost + 2) * frame;
    let c_fec = correlation(&clean[range.clone()], &with_fec[range.clone()]);
    let c_plc = correlation(&clean[range.clone()], &with_plc[range]);
    assert_ne!(with_fec, with_plc, "FEC data was not used");
    // Measured: FEC 0.998, PLC 0.667.
    assert!(
        c_fec > 0.9 && c_fec > c_plc + 0.1,
        "FEC {c_fec:.3}, PLC {c_plc:.3}"
    );
}

#[test]
fn dtx_sends_near_empty_packets_in_silence() {
    let config = OpusEncoderConfig {
        dtx: true,
        ..OpusEncoderConfig::default()
    };
    let mut enc = OpusEncoder::new(config).expect("encoder");
    let silence = vec![0i16; enc.frame_len()];
    let mut packet = [0u8; MAX_PACKET];
    let (mut small, mut flagged) = (0, 0);
    for _ in 0..50 {
        if enc.encode(&silence, &mut packet).expect("encode") <= 2 {
            small += 1;
        }
        flagged += usize::from(enc.in_dtx().expect("in_dtx"));
    }
    // DTX starts after a hangover of about 200 ms (10 frames); measured 39 of 50.
    assert!(
        small >= 35,
        "only {small} of 50 silent frames were DTX frames"
    );
    assert!(
        flagged >= 30,
        "the encoder flagged only {flagged} frames as DTX"
    );
}

#[test]
fn concealment_fills_the_requested_duration() {
    let mut dec = OpusDecoder::new(2).expect("decoder");
    let mut pcm = vec![0i16; 960 * 2];
    assert_eq!(dec.conceal(&mut pcm), Ok(960));
    let mut short = vec![0i16; 480 * 2];
    assert_eq!(dec.conceal(&mut short), Ok(480));
}

#[test]
fn bad_input_gets_typed_errors() {
    let mut enc = OpusEncoder::new(OpusEncoderConfig::default()).expect("encoder");
    let mut packet = [0u8; MAX_PACKET];
    assert_eq!(
        enc.encode(&[0; 100], &mut packet),
        Err(CodecError::BadFrameSize {
            expected: 960,
            got: 100
        })
    );
    assert!(matches!(
        OpusEncoder::new(OpusEncoderConfig {
            channels: 3,
            ..OpusEncoderConfig::default()
        }),
        Err(CodecError::BadSetting {
            name: "channels",
            ..
        })
    ));
    assert!(matches!(
        enc.set_complexity(11),
        Err(CodecError::BadSetting {
            name: "complexity",
            ..
        })
    ));
    assert!(matches!(
        enc.set_bitrate(1000),
        Err(CodecError::BadSetting {
            name: "bitrate_bps",
            ..
        })
    ));
    assert!(matches!(
        enc.set_fec(true, 101),
        Err(CodecError::BadSetting { .. })
    ));
    let mut dec = OpusDecoder::new(1).expect("decoder");
    let mut pcm = vec![0i16; 960];
    // Code 3 (arbitrary frame count) announcing zero frames is invalid (RFC 6716 §3.2.5).
    assert!(matches!(
        dec.decode(&[0x03, 0x00], &mut pcm),
        Err(CodecError::Opus { .. })
    ));
    assert!(matches!(
        dec.decode(&[], &mut pcm),
        Err(CodecError::Opus { .. })
    ));
    // Garbage never panics: it decodes to something or errors.
    let mut state = 0x1234_5678u32;
    for len in 1..200 {
        let junk: Vec<u8> = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                state as u8
            })
            .collect();
        let _ = dec.decode(&junk, &mut pcm);
    }
}

#[test]
fn no_allocation_per_frame() {
    for channels in [1u8, 2] {
        let config = OpusEncoderConfig {
            channels,
            ..OpusEncoderConfig::default()
        };
        let mut enc = OpusEncoder::new(config).expect("encoder");
        let mut dec = OpusDecoder::new(channels).expect("decoder");
        let input = speech_like(100, 960, usize::from(channels));
        let (mut packet, mut pcm) = ([0u8; MAX_PACKET], vec![0i16; enc.frame_len()]);
        let before = allocations();
        for (i, chunk) in input.chunks(enc.frame_len()).enumerate() {
            let n = enc.encode(chunk, &mut packet).expect("encode");
            if i % 10 == 5 {
                dec.conceal(&mut pcm).expect("plc");
                dec.decode_fec(&packet[..n], &mut pcm).expect("fec");
            } else {
                dec.decode(&packet[..n], &mut pcm).expect("decode");
            }
        }
        let during = allocations() - before;
        assert_eq!(
            during, 0,
            "{channels} channels: {during} allocations in 100 frames"
        );
    }
}
