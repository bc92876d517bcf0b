//! Replays an Opus stream through a network trace into a jitter buffer, in virtual time, and
//! measures what came out: the jitter bench's harness.
//!
//! Time 0 is the send time of the stream's first packet; packet `i` carries source samples
//! `i·960 .. (i+1)·960` and is sent at the trace's `sent_ms[i]` (every 20 ms). The buffer is
//! pulled every 10 ms from time 0, so output sample `k` plays at `k / 48` ms and the lag
//! between a source sample and its copy in the output is its mouth-to-ear time minus capture
//! and encoding (which the replay does not model): network delay plus the buffer's delay.
//!
//! The added delay is measured from the audio, the same way for every buffer: the output is
//! aligned to the source in 1 s windows by normalized cross-correlation, and each window's
//! lag less the mean network delay of the packets that carried it is what the buffer added.
//! No buffer's own accounting is trusted for the comparison.

use std::ops::Range;

use media_core::codec::{CodecError, OpusEncoder, OpusEncoderConfig};
use media_core::net::sim::Trace;

use crate::peers::{PULL_SAMPLES, PeerJitterBuffer, PeerStats};

/// Samples per 20 ms packet.
pub const FRAME: usize = 960;

/// Source audio cut into 20 ms Opus packets.
#[derive(Debug, Clone)]
pub struct Stream {
    /// The source, 48 kHz mono, a whole number of packets long.
    pub pcm: Vec<i16>,
    /// One Opus payload per 20 ms of `pcm`.
    pub packets: Vec<Vec<u8>>,
}

impl Stream {
    /// Encodes `pcm` (padded with silence to whole packets) with `config`, which must use
    /// 20 ms frames, mono.
    pub fn encode(mut pcm: Vec<i16>, config: OpusEncoderConfig) -> Result<Self, CodecError> {
        pcm.resize(pcm.len().div_ceil(FRAME) * FRAME, 0);
        let mut encoder = OpusEncoder::new(config)?;
        let mut buf = [0u8; 1275];
        let packets = pcm
            .chunks_exact(FRAME)
            .map(|frame| encoder.encode(frame, &mut buf).map(|n| buf[..n].to_vec()))
            .collect::<Result<_, _>>()?;
        Ok(Self { pcm, packets })
    }

    /// The stream's length, ms.
    pub fn duration_ms(&self) -> f64 {
        self.pcm.len() as f64 / 48.0
    }
}

/// One packet arrival of a replay.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Arrival {
    /// Arrival time, ms from the first send.
    pub at_ms: f64,
    /// Which packet.
    pub index: usize,
    /// Its network delay, ms.
    pub delay_ms: f64,
}

/// The arrivals of the first `packets` packets of `trace`, in arrival order (duplicates are
/// separate arrivals). Lost packets do not arrive. `None` when the trace is too short.
pub fn arrivals(trace: &Trace, packets: usize) -> Option<Vec<Arrival>> {
    let records = trace.records.get(..packets)?;
    let t0 = records.first().map_or(0.0, |r| r.sent_ms);
    let mut out: Vec<Arrival> = records
        .iter()
        .enumerate()
        .flat_map(|(index, r)| {
            r.arrivals.iter().map(move |&a| Arrival {
                at_ms: a - t0,
                index,
                delay_ms: a - r.sent_ms,
            })
        })
        .collect();
    out.sort_by(|a, b| a.at_ms.total_cmp(&b.at_ms));
    Some(out)
}

/// What one replay produced.
#[derive(Debug, Clone)]
pub struct Replay {
    /// Everything pulled, 48 kHz mono, from time 0.
    pub out: Vec<i16>,
    /// The peer's statistics at each time asked for, in order.
    pub stats_at: Vec<PeerStats>,
    /// Its statistics at the end.
    pub stats: PeerStats,
}

/// Replays `stream` arriving as `arrivals` into `peer` for `length_ms`, pulling 10 ms every
/// 10 ms (after inserting every packet that has arrived by then) and sampling the peer's
/// statistics at each of `stats_times_ms`.
pub fn replay(
    peer: &mut dyn PeerJitterBuffer,
    stream: &Stream,
    arrivals: &[Arrival],
    length_ms: f64,
    stats_times_ms: &[f64],
) -> Replay {
    let pulls = (length_ms / 10.0).ceil() as usize;
    let mut out = Vec::with_capacity(pulls * PULL_SAMPLES);
    let mut stats_at = Vec::with_capacity(stats_times_ms.len());
    let mut frame = [0i16; PULL_SAMPLES];
    let mut next = 0;
    for pull in 0..pulls {
        let now = pull as f64 * 10.0;
        while let Some(a) = arrivals.get(next).filter(|a| a.at_ms <= now) {
            let i = a.index;
            peer.insert(a.at_ms, i as u16, (i * FRAME) as u32, &stream.packets[i]);
            next += 1;
        }
        while stats_times_ms
            .get(stats_at.len())
            .is_some_and(|&t| t <= now)
        {
            stats_at.push(peer.stats());
        }
        peer.pull_10ms(now, &mut frame);
        out.extend_from_slice(&frame);
    }
    Replay {
        out,
        stats_at,
        stats: peer.stats(),
    }
}

/// Decimation of the delay measurement: 48 kHz to 2 kHz (speech's strong low band is
/// enough to find a lag, and it keeps the search cheap).
const DECIMATE: usize = 24;
/// Samples per ms after decimation.
const DEC_PER_MS: f64 = 48.0 / DECIMATE as f64;

/// The lag of one window of the output behind the source.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowLag {
    /// The source window, in source samples.
    pub source: Range<usize>,
    /// How far the output lags it, ms.
    pub lag_ms: f64,
    /// The normalized cross-correlation at that lag (1 = identical waveform).
    pub correlation: f64,
}

fn decimate(x: &[i16]) -> Vec<f32> {
    x.chunks(DECIMATE)
        .map(|c| c.iter().map(|&s| f32::from(s)).sum::<f32>() / c.len() as f32)
        .collect()
}

/// Aligns `out` to `source` in windows of `window_ms`, searching lags `0..=max_lag_ms`.
/// Windows whose source energy is under a tenth of the mean (pauses) are left out.
pub fn window_lags(source: &[i16], out: &[i16], window_ms: f64, max_lag_ms: f64) -> Vec<WindowLag> {
    let src = decimate(source);
    let dst = decimate(out);
    let win = (window_ms * DEC_PER_MS) as usize;
    let max_lag = (max_lag_ms * DEC_PER_MS) as usize;
    if win == 0 || src.len() < win {
        return Vec::new();
    }
    // Prefix sums of the output's energy: the energy under any lagged window in O(1).
    let mut energy = Vec::with_capacity(dst.len() + 1);
    energy.push(0.0f64);
    for &d in &dst {
        let last = energy.last().copied().unwrap_or(0.0);
        energy.push(last + f64::from(d) * f64::from(d));
    }
    let windows: Vec<(usize, f64)> = (0..src.len() / win)
        .map(|w| {
            let s = &src[w * win..(w + 1) * win];
            (
                w * win,
                s.iter().map(|&v| f64::from(v) * f64::from(v)).sum(),
            )
        })
        .collect();
    let mean_energy = windows.iter().map(|w| w.1).sum::<f64>() / windows.len() as f64;
    windows
        .into_iter()
        .filter(|&(_, e)| e >= 0.1 * mean_energy && e > 0.0)
        .filter_map(|(start, e_src)| {
            let s = &src[start..start + win];
            let mut best = (0usize, f64::NEG_INFINITY);
            for lag in 0..=max_lag {
                let Some(d) = dst.get(start + lag..start + lag + win) else {
                    break;
                };
                let dot: f32 = s.iter().zip(d).map(|(a, b)| a * b).sum();
                let e_dst = energy[start + lag + win] - energy[start + lag];
                if e_dst <= 0.0 {
                    continue;
                }
                let c = f64::from(dot) / (e_src * e_dst).sqrt();
                if c > best.1 {
                    best = (lag, c);
                }
            }
            (best.1.is_finite()).then(|| WindowLag {
                source: start * DECIMATE..(start + win) * DECIMATE,
                lag_ms: best.0 as f64 / DEC_PER_MS,
                correlation: best.1,
            })
        })
        .collect()
}

/// The delay a buffer added, measured from its output.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AddedDelay {
    /// Mean over the aligned windows of lag less the network delay, ms.
    pub mean_ms: f64,
    /// Windows aligned (correlation at least [`MIN_CORRELATION`]).
    pub windows: usize,
    /// Windows with speech.
    pub speech_windows: usize,
}

/// Windows that correlate less than this with the source (mostly concealment) do not count.
pub const MIN_CORRELATION: f64 = 0.6;

/// Measures the delay a buffer added: 1 s windows of its output aligned to the source, each
/// window's lag less the mean network delay of the packets in it.
pub fn added_delay(stream: &Stream, arrivals: &[Arrival], out: &[i16]) -> AddedDelay {
    let lags = window_lags(&stream.pcm, out, 1_000.0, 1_500.0);
    // Mean network delay per packet, over each packet's first arrival.
    let mut delay = vec![None; stream.packets.len()];
    for a in arrivals {
        delay[a.index].get_or_insert(a.delay_ms);
    }
    let mut sum = 0.0;
    let mut windows = 0;
    for w in lags.iter().filter(|w| w.correlation >= MIN_CORRELATION) {
        let packets = w.source.start / FRAME..w.source.end.div_ceil(FRAME);
        let (total, n) = delay[packets.start.min(delay.len())..packets.end.min(delay.len())]
            .iter()
            .flatten()
            .fold((0.0, 0usize), |(t, n), d| (t + d, n + 1));
        if n == 0 {
            continue;
        }
        sum += w.lag_ms - total / n as f64;
        windows += 1;
    }
    AddedDelay {
        mean_ms: if windows > 0 {
            sum / windows as f64
        } else {
            f64::NAN
        },
        windows,
        speech_windows: lags.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::speech::voiced;

    #[test]
    fn a_delayed_copy_is_found_at_its_lag() {
        let source = voiced(0, 48_000 * 4);
        let mut out = vec![0i16; 48 * 137];
        out.extend_from_slice(&source);
        let lags = window_lags(&source, &out, 1_000.0, 500.0);
        assert_eq!(lags.len(), 4);
        for w in lags {
            assert!((w.lag_ms - 137.0).abs() <= 0.5, "{w:?}");
            assert!(w.correlation > 0.99, "{w:?}");
        }
    }

    #[test]
    fn pauses_are_not_windows() {
        let mut source = voiced(0, 48_000 * 2);
        source.extend(std::iter::repeat_n(0, 48_000));
        let lags = window_lags(&source, &source, 1_000.0, 100.0);
        assert_eq!(lags.len(), 2);
    }

    #[test]
    fn added_delay_is_lag_less_network_delay() {
        let pcm = voiced(0, 48_000 * 3);
        let stream = Stream {
            packets: vec![vec![0]; pcm.len() / FRAME],
            pcm,
        };
        // Every packet 30 ms late on the network; the output lags by 90 ms: 60 ms added.
        let arrivals: Vec<Arrival> = (0..stream.packets.len())
            .map(|index| Arrival {
                at_ms: index as f64 * 20.0 + 30.0,
                index,
                delay_ms: 30.0,
            })
            .collect();
        let mut out = vec![0i16; 48 * 90];
        out.extend_from_slice(&stream.pcm);
        let d = added_delay(&stream, &arrivals, &out);
        assert_eq!(d.windows, 3);
        assert!((d.mean_ms - 60.0).abs() <= 0.5, "{d:?}");
    }
}
