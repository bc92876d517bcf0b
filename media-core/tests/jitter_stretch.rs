//! Time-stretching: a pitch period removed or inserted on voiced audio, no step at the
//! splice, noise left alone, silence stretched, bad buffers refused.

use media_core::jitter::stretch::{MAX_LAG, MIN_INPUT, StretchError, TimeStretcher};
use proptest::prelude::*;

/// A steady vowel-like tone: harmonics of `f0` Hz, `channels` interleaved.
fn vowel(f0: f64, frames: usize, channels: usize) -> Vec<i16> {
    let mut out = Vec::with_capacity(frames * channels);
    for n in 0..frames {
        let t = n as f64 / 48_000.0;
        let v: f64 = (1..=5)
            .map(|h| (2.0 * std::f64::consts::PI * f0 * f64::from(h) * t).sin() / f64::from(h))
            .sum();
        for c in 0..channels {
            out.push((v * if c == 0 { 8000.0 } else { 5000.0 }) as i16);
        }
    }
    out
}

fn max_step(x: &[i16], channels: usize) -> i32 {
    x.chunks_exact(channels)
        .zip(x.chunks_exact(channels).skip(1))
        .flat_map(|(a, b)| {
            a.iter()
                .zip(b)
                .map(|(p, q)| (i32::from(*q) - i32::from(*p)).abs())
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn accelerate_removes_whole_periods_without_a_click() {
    for (f0, channels) in [(120.0, 1), (210.0, 1), (160.0, 2)] {
        let input = vowel(f0, MIN_INPUT, channels);
        let mut out = vec![0; input.len() + MAX_LAG * channels];
        let mut s = TimeStretcher::new(channels as u8).expect("stretcher");
        let r = s.accelerate(&input, &mut out).expect("accelerate");
        let period = 48_000.0 / f0;
        let periods = r.lag as f64 / period;
        assert!(r.lag > 0, "{f0} Hz: nothing removed ({r:?})");
        assert!(
            (periods - periods.round()).abs() * period <= 2.0,
            "{f0} Hz: lag {} vs period {period}",
            r.lag
        );
        assert_eq!(r.written, MIN_INPUT - r.lag);
        let written = &out[..r.written * channels];
        assert!(max_step(written, channels) as f64 <= 1.5 * max_step(&input, channels) as f64);
        // First and last samples untouched: blocks join without a step.
        assert_eq!(written[..channels], input[..channels]);
        assert_eq!(
            written[written.len() - channels..],
            input[input.len() - channels..]
        );
    }
}

#[test]
fn preemptive_expand_inserts_a_period_without_a_click() {
    for (f0, channels) in [(120.0, 1), (210.0, 2)] {
        let input = vowel(f0, MIN_INPUT, channels);
        let mut out = vec![0; input.len() + MAX_LAG * channels];
        let mut s = TimeStretcher::new(channels as u8).expect("stretcher");
        let r = s.preemptive_expand(&input, &mut out).expect("expand");
        assert!(r.lag > 0);
        assert_eq!(r.written, MIN_INPUT + r.lag);
        let written = &out[..r.written * channels];
        assert!(max_step(written, channels) as f64 <= 1.5 * max_step(&input, channels) as f64);
        let rms = |x: &[i16]| {
            (x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
        };
        assert!((rms(written) / rms(&input) - 1.0).abs() < 0.05);
    }
}

#[test]
fn noise_is_left_alone_and_silence_is_stretched() {
    let mut state = 0x1234_5678u32;
    let noise: Vec<i16> = (0..MIN_INPUT)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state as i16) / 4
        })
        .collect();
    let mut out = vec![0; MIN_INPUT + MAX_LAG];
    let mut s = TimeStretcher::new(1).expect("stretcher");
    let r = s.accelerate(&noise, &mut out).expect("accelerate");
    assert_eq!(r.lag, 0, "{r:?}");
    assert_eq!(out[..MIN_INPUT], noise[..]);
    let quiet = vec![3i16; MIN_INPUT];
    assert!(s.accelerate(&quiet, &mut out).expect("silence").lag > 0);
}

#[test]
fn bad_buffers_are_errors() {
    assert_eq!(TimeStretcher::new(3).err(), Some(StretchError::Channels(3)));
    let mut s = TimeStretcher::new(2).expect("stretcher");
    let mut out = vec![0; 8000];
    assert!(matches!(
        s.accelerate(&[0; 100], &mut out),
        Err(StretchError::Input { .. })
    ));
    assert!(matches!(
        s.accelerate(&vec![0; 2 * MIN_INPUT + 1], &mut out),
        Err(StretchError::Input { .. })
    ));
    let input = vec![0; 2 * MIN_INPUT];
    assert!(matches!(
        s.preemptive_expand(&input, &mut out[..2 * MIN_INPUT]),
        Err(StretchError::Output { .. })
    ));
}

proptest! {
    #[test]
    fn arbitrary_audio_never_panics(samples in proptest::collection::vec(any::<i16>(), MIN_INPUT..MIN_INPUT + 200)) {
        let mut s = TimeStretcher::new(1).expect("stretcher");
        let mut out = vec![0; samples.len() + MAX_LAG];
        let a = s.accelerate(&samples, &mut out).expect("accelerate");
        prop_assert_eq!(a.written + a.lag, samples.len());
        let e = s.preemptive_expand(&samples, &mut out).expect("expand");
        prop_assert_eq!(e.written, samples.len() + e.lag);
    }
}
