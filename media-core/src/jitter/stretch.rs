//! Time-stretching of decoded speech: accelerate (remove one pitch period) and preemptive
//! expand (repeat one), the way a jitter buffer changes its delay without a gap or a click.
//!
//! Both work pitch-synchronously (a WSOLA-style overlap-add): find the lag `L` between
//! 2.5 and 15 ms at which the signal best matches itself shifted by `L` (normalised
//! cross-correlation, searched coarsely on a mono mix decimated to 4 kHz, then refined at full
//! rate), and, if the match is good — voiced speech — or the signal is near silence,
//! cross-fade across one period. Because the fade runs between two segments one period
//! apart, a periodic signal comes out unchanged in shape, only shorter or longer; the first
//! and last samples of the block are untouched, so blocks join without a step.

use thiserror::Error;

/// Shortest lag searched: 2.5 ms at 48 kHz (a 400 Hz pitch).
pub const MIN_LAG: usize = 120;
/// Longest lag searched: 15 ms at 48 kHz (a 67 Hz pitch).
pub const MAX_LAG: usize = 720;
/// Samples per channel a block must hold: the correlation window plus the longest lag.
pub const MIN_INPUT: usize = 2 * MAX_LAG;
/// Normalised correlation above which a segment counts as periodic enough to stretch
/// without audible artefacts, judged on the 4 kHz band over one period.
pub const CORRELATION_THRESHOLD: f32 = 0.8;
/// Below this RMS (about −50 dBFS) any lag will do: the splice is inaudible.
pub const SILENCE_RMS: f32 = 100.0;

/// The search runs on a 4 kHz mix (48 kHz / 12): the band where pitch lives, and where
/// the codec keeps the waveform (higher harmonics come out of a speech codec with their
/// phases changed, which would hide the periodicity).
const DECIMATION: usize = 12;
/// The longest correlation window: one longest period.
const WINDOW: usize = MAX_LAG;
/// The shortest correlation window (5 ms), so short lags are not judged on a few samples.
const MIN_WINDOW: usize = 240;

/// Why a stretch call was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum StretchError {
    /// Only mono and stereo are supported.
    #[error("time-stretching supports 1 or 2 channels, not {0}")]
    Channels(u8),
    /// The input is shorter than [`MIN_INPUT`] samples per channel, or not a whole number
    /// of frames.
    #[error(
        "time-stretch input of {got} samples is not a whole block of at least {min} samples per channel"
    )]
    Input {
        /// Samples given (all channels).
        got: usize,
        /// Samples per channel required.
        min: usize,
    },
    /// The output buffer cannot hold the result.
    #[error("time-stretch output holds {got} samples; {needed} are needed")]
    Output {
        /// Samples needed (all channels).
        needed: usize,
        /// Samples given.
        got: usize,
    },
}

/// The result of one stretch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StretchOutcome {
    /// Samples per channel written to the output.
    pub written: usize,
    /// The lag used, samples per channel: what was removed or inserted (0 when the block
    /// was not periodic enough and was copied unchanged).
    pub lag: usize,
    /// The normalised correlation at that lag.
    pub correlation: f32,
}

/// A time-stretcher for one stream; all scratch memory is allocated in [`new`](Self::new).
#[derive(Debug, Clone)]
pub struct TimeStretcher {
    channels: usize,
    min_correlation: f32,
    mono: Vec<f32>,
    coarse: Vec<f32>,
}

impl TimeStretcher {
    /// A stretcher for interleaved audio of `channels` (1 or 2) at 48 kHz.
    pub fn new(channels: u8) -> Result<Self, StretchError> {
        if !matches!(channels, 1 | 2) {
            return Err(StretchError::Channels(channels));
        }
        Ok(Self {
            channels: usize::from(channels),
            min_correlation: CORRELATION_THRESHOLD,
            mono: vec![0.0; WINDOW + MAX_LAG],
            coarse: vec![0.0; (WINDOW + MAX_LAG) / DECIMATION],
        })
    }

    /// Sets the periodicity a block needs to be stretched (clamped to 0–1; default
    /// [`CORRELATION_THRESHOLD`]). A jitter buffer far from its target accepts less.
    pub fn set_min_correlation(&mut self, correlation: f32) {
        self.min_correlation = correlation.clamp(0.0, 1.0);
    }

    /// Shortens `input` by one pitch period into `output` (at least `input.len()` long).
    pub fn accelerate(
        &mut self,
        input: &[i16],
        output: &mut [i16],
    ) -> Result<StretchOutcome, StretchError> {
        let frames = self.check(input, output, 0)?;
        let (lag, correlation) = self.best_lag(input);
        if lag == 0 {
            return Ok(self.copy(input, output, frames, correlation));
        }
        let ch = self.channels;
        for i in 0..lag {
            let w = fade(i, lag);
            for c in 0..ch {
                let a = f32::from(input[i * ch + c]);
                let b = f32::from(input[(i + lag) * ch + c]);
                output[i * ch + c] = mix(a, b, w);
            }
        }
        output[lag * ch..(frames - lag) * ch].copy_from_slice(&input[2 * lag * ch..frames * ch]);
        Ok(StretchOutcome {
            written: frames - lag,
            lag,
            correlation,
        })
    }

    /// Lengthens `input` by one pitch period into `output` (at least `input.len()` plus
    /// [`MAX_LAG`] samples per channel long).
    pub fn preemptive_expand(
        &mut self,
        input: &[i16],
        output: &mut [i16],
    ) -> Result<StretchOutcome, StretchError> {
        let frames = self.check(input, output, MAX_LAG)?;
        let (lag, correlation) = self.best_lag(input);
        if lag == 0 {
            return Ok(self.copy(input, output, frames, correlation));
        }
        let ch = self.channels;
        output[..lag * ch].copy_from_slice(&input[..lag * ch]);
        // The inserted period fades from the signal's continuation into a repeat of the
        // period before it, which then continues exactly where the input did.
        for i in 0..lag {
            let w = fade(i, lag);
            for c in 0..ch {
                let a = f32::from(input[(lag + i) * ch + c]);
                let b = f32::from(input[i * ch + c]);
                output[(lag + i) * ch + c] = mix(a, b, w);
            }
        }
        output[2 * lag * ch..(frames + lag) * ch].copy_from_slice(&input[lag * ch..frames * ch]);
        Ok(StretchOutcome {
            written: frames + lag,
            lag,
            correlation,
        })
    }

    fn check(&self, input: &[i16], output: &[i16], extra: usize) -> Result<usize, StretchError> {
        let ch = self.channels;
        if input.len() % ch != 0 || input.len() / ch < MIN_INPUT {
            return Err(StretchError::Input {
                got: input.len(),
                min: MIN_INPUT,
            });
        }
        let needed = input.len() + extra * ch;
        if output.len() < needed {
            return Err(StretchError::Output {
                needed,
                got: output.len(),
            });
        }
        Ok(input.len() / ch)
    }

    fn copy(
        &self,
        input: &[i16],
        output: &mut [i16],
        frames: usize,
        correlation: f32,
    ) -> StretchOutcome {
        output[..input.len()].copy_from_slice(input);
        StretchOutcome {
            written: frames,
            lag: 0,
            correlation,
        }
    }

    /// The lag to stretch by and its correlation; lag 0 when the block should be left alone.
    fn best_lag(&mut self, input: &[i16]) -> (usize, f32) {
        let ch = self.channels;
        let n = self.mono.len();
        let mut energy = 0.0f32;
        for (i, m) in self.mono.iter_mut().enumerate() {
            let s: f32 = input[i * ch..i * ch + ch]
                .iter()
                .map(|&v| f32::from(v))
                .sum();
            *m = s / ch as f32;
            energy += *m * *m;
        }
        let silent = (energy / n as f32).sqrt() < SILENCE_RMS;
        for (i, c) in self.coarse.iter_mut().enumerate() {
            *c = self.mono[i * DECIMATION..(i + 1) * DECIMATION]
                .iter()
                .sum::<f32>()
                / DECIMATION as f32;
        }
        // Coarse search on the decimated mix.
        let mut best = (0usize, f32::MIN);
        for lag in MIN_LAG / DECIMATION..=MAX_LAG / DECIMATION {
            // Compare one period with the next: the segments a splice actually joins.
            let c = correlation(&self.coarse, lag.max(MIN_WINDOW / DECIMATION), lag);
            if c > best.1 {
                best = (lag * DECIMATION, c);
            }
        }
        // Refine at full rate around the coarse peak.
        let lo = best.0.saturating_sub(DECIMATION).max(MIN_LAG);
        let hi = (best.0 + DECIMATION).min(MAX_LAG);
        let mut fine = (best.0, f32::MIN);
        for lag in lo..=hi {
            let c = correlation(&self.mono, lag.max(MIN_WINDOW), lag);
            if c > fine.1 {
                fine = (lag, c);
            }
        }
        // Decide on the low band's correlation; the full-rate search only places the splice.
        if best.1 >= self.min_correlation || silent {
            (fine.0, best.1)
        } else {
            (0, best.1)
        }
    }
}

/// Normalised cross-correlation of `x[..window]` with `x[lag..lag + window]`.
fn correlation(x: &[f32], window: usize, lag: usize) -> f32 {
    let (a, b) = (&x[..window], &x[lag..lag + window]);
    let mut ab = 0.0f32;
    let mut aa = 0.0f32;
    let mut bb = 0.0f32;
    for (p, q) in a.iter().zip(b) {
        ab += p * q;
        aa += p * p;
        bb += q * q;
    }
    if aa <= f32::EPSILON || bb <= f32::EPSILON {
        return 0.0;
    }
    ab / (aa * bb).sqrt()
}

/// A raised-cosine fade weight, 0 at `i = 0` rising to almost 1 at `i = len − 1`.
fn fade(i: usize, len: usize) -> f32 {
    let x = (i as f32 + 0.5) / len as f32;
    0.5 - 0.5 * (std::f32::consts::PI * x).cos()
}

fn mix(a: f32, b: f32, w: f32) -> i16 {
    (a * (1.0 - w) + b * w).round().clamp(-32768.0, 32767.0) as i16
}
