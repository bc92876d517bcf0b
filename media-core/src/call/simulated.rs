//! Two engines in a call over the network simulator, on a virtual clock: what the demo,
//! the call tests and the session benchmark run.

use std::time::{Duration, Instant};

use super::{AudioCallConfig, AudioSide, CallError, CallStats, NetworkSide, SrtpKeys, audio_call};
use crate::net::sim::{Link, LinkConfig, LinkStats, Trace};
use crate::srtp::SrtpProfile;

/// One direction's network.
#[derive(Debug, Clone)]
pub enum Path {
    /// A simulated link with this configuration and seed.
    Simulated(LinkConfig, u64),
    /// A recorded trace, replayed.
    Replay(Trace),
}

impl Path {
    fn link(&self, start: Instant) -> Link {
        match self {
            Self::Simulated(config, seed) => Link::new(config.clone(), *seed, start),
            Self::Replay(trace) => Link::replay(trace.clone(), start),
        }
    }
}

/// A simulated call's setup.
#[derive(Debug, Clone)]
pub struct SimulatedCall {
    /// The network from A to B.
    pub a_to_b: Path,
    /// The network from B to A.
    pub b_to_a: Path,
    /// A's configuration (B's mirrors its keys).
    pub a: AudioCallConfig,
    /// B's configuration.
    pub b: AudioCallConfig,
    /// How much faster A's audio clock runs than B's, in parts per million (A's sound card
    /// delivers 10 ms of capture every `10 ms × (1 − ppm/10⁶)`).
    pub a_clock_ppm: f64,
    /// Time after both speech signals end, to let the last packets play out.
    pub tail: Duration,
}

impl SimulatedCall {
    /// A call over the given paths with default settings and fixed test keys.
    pub fn new(a_to_b: Path, b_to_a: Path) -> Self {
        // Fixed keys: a simulated call has no DTLS handshake to export them from.
        let keys = SrtpKeys {
            profile: SrtpProfile::AeadAes128Gcm,
            send_key: (1..=16).collect(),
            send_salt: (100..112).collect(),
            receive_key: (17..=32).collect(),
            receive_salt: (200..212).collect(),
        };
        // 48 kbit/s: the project's espeak samples through Opus alone score WB-PESQ 4.40 at
        // 48 kbit/s (wideband cap) and 3.88 at 32 kbit/s fullband.
        let mut a = AudioCallConfig::new(0x0A0A_0001, "a@mediacore", keys.clone());
        let mut b = AudioCallConfig::new(0x0B0B_0002, "b@mediacore", keys.mirrored());
        a.encoder.bitrate_bps = 48_000;
        b.encoder.bitrate_bps = 48_000;
        Self {
            a_to_b,
            b_to_a,
            a,
            b,
            a_clock_ppm: 0.0,
            tail: Duration::from_millis(1500),
        }
    }
}

/// One statistics sample of a running call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Seconds since the call started.
    pub t: f64,
    /// A's view (what A receives from B).
    pub a: CallStats,
    /// B's view (what B receives from A).
    pub b: CallStats,
}

/// What a simulated call produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// What B played: A's speech after the network (48 kHz, B's channels).
    pub heard_by_b: Vec<i16>,
    /// What A played: B's speech after the network.
    pub heard_by_a: Vec<i16>,
    /// Statistics sampled every 100 ms.
    pub samples: Vec<Sample>,
    /// Final statistics of A and B.
    pub final_stats: Sample,
    /// The two links' counters.
    pub links: (LinkStats, LinkStats),
}

struct End {
    audio: AudioSide,
    net: NetworkSide,
    period: Duration,
    next_tick: Instant,
    speech_pos: usize,
    capture: Vec<i16>,
    playout: Vec<i16>,
    heard: Vec<i16>,
}

impl End {
    fn tick(
        &mut self,
        now: Instant,
        speech: &[i16],
        link: &mut Link,
        buf: &mut [u8],
        sending: bool,
    ) -> Result<(), CallError> {
        let n = self.capture.len();
        self.capture.fill(0);
        if self.speech_pos < speech.len() {
            let take = n.min(speech.len() - self.speech_pos);
            self.capture[..take].copy_from_slice(&speech[self.speech_pos..self.speech_pos + take]);
            self.speech_pos += take;
        }
        self.audio.process(now, &self.capture, &mut self.playout)?;
        self.heard.extend_from_slice(&self.playout);
        // Near the end the senders stop, so nothing is still in flight when the call ends.
        while let Some(len) = sending
            .then(|| self.net.poll_transmit(now, buf))
            .transpose()?
            .flatten()
        {
            link.send(now, &buf[..len]);
        }
        self.next_tick += self.period;
        Ok(())
    }
}

/// Runs a call: A sends `speech_a`, B sends `speech_b` (48 kHz, each side's capture
/// channels), until both are sent plus the tail. `each_second` sees live statistics.
pub fn run(
    call: &SimulatedCall,
    speech_a: &[i16],
    speech_b: &[i16],
    mut each_second: impl FnMut(&Sample),
) -> Result<Outcome, CallError> {
    let start = Instant::now();
    let unix = Duration::from_secs(1_767_225_600); // a fixed wall clock: runs repeat exactly
    let mut ends = Vec::with_capacity(2);
    for (config, ppm) in [(&call.a, call.a_clock_ppm), (&call.b, 0.0)] {
        let (audio, net) = audio_call(config.clone(), start, unix)?;
        let period = Duration::from_secs_f64(0.010 * (1.0 - ppm / 1e6));
        ends.push(End {
            audio,
            net,
            period,
            next_tick: start + period,
            speech_pos: 0,
            capture: vec![0; 480 * usize::from(config.encoder.channels)],
            playout: vec![0; 480 * usize::from(config.jitter.channels)],
            heard: Vec::new(),
        });
    }
    let mut links = [call.a_to_b.link(start), call.b_to_a.link(start)];
    let longest = (speech_a.len() / usize::from(call.a.encoder.channels))
        .max(speech_b.len() / usize::from(call.b.encoder.channels));
    let end = start + Duration::from_secs_f64(longest as f64 / 48_000.0) + call.tail;
    let mut buf = vec![0u8; 1500];
    let mut samples = Vec::new();
    let mut next_sample = start + Duration::from_millis(100);
    let mut now = start;
    while now < end {
        // Deliver everything due, then run each side whose tick is due.
        for (i, link) in links.iter_mut().enumerate() {
            let receiver = &mut ends[1 - i];
            while let Some(mut d) = link.poll_arrival(now) {
                // Malformed or forged datagrams are counted by the receiver and dropped.
                let _ = receiver.net.receive(d.arrival, &mut d.data);
            }
        }
        for (i, e) in ends.iter_mut().enumerate() {
            if e.next_tick <= now {
                let speech = if i == 0 { speech_a } else { speech_b };
                e.tick(
                    now,
                    speech,
                    &mut links[i],
                    &mut buf,
                    now + call.tail / 2 < end,
                )?;
            }
        }
        if next_sample <= now {
            let sample = Sample {
                t: (now - start).as_secs_f64(),
                a: ends[0].net.stats(),
                b: ends[1].net.stats(),
            };
            if samples.len() % 10 == 9 {
                each_second(&sample);
            }
            samples.push(sample);
            next_sample += Duration::from_millis(100);
        }
        let mut next = ends[0].next_tick.min(ends[1].next_tick).min(next_sample);
        for link in &links {
            if let Some(t) = link.next_arrival() {
                next = next.min(t);
            }
        }
        now = next
            .max(now + Duration::from_micros(1))
            .min(end.max(now + Duration::from_micros(1)));
    }
    let final_stats = Sample {
        t: (now - start).as_secs_f64(),
        a: ends[0].net.stats(),
        b: ends[1].net.stats(),
    };
    let link_stats = (links[0].stats(), links[1].stats());
    let mut ends = ends.into_iter();
    let (Some(a), Some(b)) = (ends.next(), ends.next()) else {
        return Err(CallError::BadConfig {
            name: "ends",
            allowed: "two",
        });
    };
    // The jitter buffer's final counters, not the 100 ms old copy the network side has.
    let mut final_stats = final_stats;
    final_stats.a.jitter_buffer = a.audio.jitter_stats();
    final_stats.b.jitter_buffer = b.audio.jitter_stats();
    Ok(Outcome {
        heard_by_b: b.heard,
        heard_by_a: a.heard,
        samples,
        final_stats,
        links: link_stats,
    })
}
