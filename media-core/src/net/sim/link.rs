//! One direction of a simulated network path.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::config::{LinkConfig, Loss};
use super::trace::{Record, Trace};

/// A packet coming out of a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// When it arrives.
    pub arrival: Instant,
    /// When it was sent.
    pub sent: Instant,
    /// Its bytes.
    pub data: Vec<u8>,
}

/// What happened on a link so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Packets sent into the link.
    pub sent: u64,
    /// Packets (copies included) handed out by [`Link::poll_arrival`].
    pub delivered: u64,
    /// Lost by the random loss model.
    pub lost_random: u64,
    /// Lost in an outage.
    pub lost_outage: u64,
    /// Dropped because the rate-limited queue was full.
    pub dropped_queue: u64,
    /// Extra copies made.
    pub duplicated: u64,
    /// Packets held back to be reordered.
    pub reordered: u64,
}

/// How a link decides each packet's fate. Random links carry their generator state inline
/// (a link is made once per test, so the size difference is of no consequence).
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
enum Model {
    Random {
        config: LinkConfig,
        rng: ChaCha8Rng,
        bad: bool,
        spike_start: Option<f64>,
        next_spike_check: f64,
        /// When the rate-limited link finishes sending what is queued, ms.
        busy_until: f64,
        last_arrival: f64,
    },
    Replay {
        trace: Trace,
        next: usize,
    },
}

/// One direction of a path, on a virtual clock: sans-IO and deterministic.
///
/// Times are `Instant`s given by the caller; only their offsets from `start` matter, so the
/// same seed gives the same arrivals in every run.
#[derive(Debug)]
pub struct Link {
    start: Instant,
    model: Model,
    /// Pending deliveries by (arrival ms, insertion order).
    pending: BinaryHeap<Reverse<(u64, u64, usize)>>,
    slots: Vec<Option<Delivery>>,
    free: Vec<usize>,
    order: u64,
    stats: LinkStats,
    recording: Option<Vec<Record>>,
}

impl Link {
    /// A link with random behaviour from `config`, seeded with `seed`.
    pub fn new(config: LinkConfig, seed: u64, start: Instant) -> Self {
        Self::with_model(
            Model::Random {
                config,
                rng: ChaCha8Rng::seed_from_u64(seed),
                bad: false,
                spike_start: None,
                next_spike_check: 0.0,
                busy_until: 0.0,
                last_arrival: 0.0,
            },
            start,
        )
    }

    /// A link that replays `trace`: the i-th packet sent gets the i-th record's delay (or
    /// loss, or copies). Past the end of the trace it starts over from the first record.
    pub fn replay(trace: Trace, start: Instant) -> Self {
        Self::with_model(Model::Replay { trace, next: 0 }, start)
    }

    fn with_model(model: Model, start: Instant) -> Self {
        Self {
            start,
            model,
            pending: BinaryHeap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            order: 0,
            stats: LinkStats::default(),
            recording: None,
        }
    }

    /// Starts recording each sent packet's fate, for [`Self::take_trace`].
    pub fn record(&mut self) {
        self.recording = Some(Vec::new());
    }

    /// The fates recorded since [`Self::record`], as a trace.
    pub fn take_trace(&mut self, name: &str, comment: &str) -> Trace {
        Trace {
            name: name.to_owned(),
            comment: comment.to_owned(),
            records: self.recording.take().unwrap_or_default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> LinkStats {
        self.stats
    }

    fn ms(&self, t: Instant) -> f64 {
        t.saturating_duration_since(self.start).as_secs_f64() * 1000.0
    }

    fn at(&self, ms: f64) -> Instant {
        self.start + Duration::from_secs_f64(ms.max(0.0) / 1000.0)
    }

    /// Sends `packet` at `now`.
    pub fn send(&mut self, now: Instant, packet: &[u8]) {
        let sent_ms = self.ms(now);
        self.stats.sent += 1;
        let arrivals = self.fate(sent_ms, packet.len());
        if let Some(recording) = self.recording.as_mut() {
            recording.push(Record {
                sent_ms,
                arrivals: arrivals.clone(),
            });
        }
        for (i, &arrival_ms) in arrivals.iter().enumerate() {
            if i > 0 {
                self.stats.duplicated += 1;
            }
            let delivery = Delivery {
                arrival: self.at(arrival_ms),
                sent: now,
                data: packet.to_vec(),
            };
            let slot = match self.free.pop() {
                Some(i) => {
                    self.slots[i] = Some(delivery);
                    i
                }
                None => {
                    self.slots.push(Some(delivery));
                    self.slots.len() - 1
                }
            };
            // Microsecond keys keep the heap on integers; ties go in send order.
            let key = (arrival_ms * 1000.0).round() as u64;
            self.order += 1;
            self.pending.push(Reverse((key, self.order, slot)));
        }
    }

    /// Arrival times (ms) of a packet sent at `sent_ms`: empty when lost.
    fn fate(&mut self, sent_ms: f64, len: usize) -> Vec<f64> {
        match &mut self.model {
            Model::Replay { trace, next } => {
                if trace.records.is_empty() {
                    return vec![sent_ms];
                }
                let record = &trace.records[*next % trace.records.len()];
                *next += 1;
                let out: Vec<f64> = record
                    .arrivals
                    .iter()
                    .map(|a| sent_ms + (a - record.sent_ms))
                    .collect();
                if out.is_empty() {
                    self.stats.lost_random += 1;
                }
                out
            }
            Model::Random {
                config,
                rng,
                bad,
                spike_start,
                next_spike_check,
                busy_until,
                last_arrival,
            } => {
                let t = Duration::from_secs_f64(sent_ms / 1000.0);
                if config
                    .outages
                    .iter()
                    .any(|(from, to)| t >= *from && t < *to)
                {
                    self.stats.lost_outage += 1;
                    return Vec::new();
                }
                let lost = match config.loss {
                    Loss::None => false,
                    Loss::Bernoulli { p } => rng.random::<f64>() < p,
                    Loss::GilbertElliott {
                        good_to_bad,
                        bad_to_good,
                        loss_good,
                        loss_bad,
                    } => {
                        let flip = rng.random::<f64>();
                        *bad = if *bad {
                            flip >= bad_to_good
                        } else {
                            flip < good_to_bad
                        };
                        rng.random::<f64>() < if *bad { loss_bad } else { loss_good }
                    }
                };
                if lost {
                    self.stats.lost_random += 1;
                    return Vec::new();
                }
                // The bottleneck queue: serialisation at the link rate, tail drop.
                let mut queue_ms = 0.0;
                if let Some(rate) = config.rate_bps.filter(|&r| r > 0) {
                    let backlog_ms = (*busy_until - sent_ms).max(0.0);
                    let backlog_bytes = backlog_ms / 1000.0 * rate as f64 / 8.0;
                    if backlog_bytes + len as f64 > config.queue_bytes as f64 {
                        self.stats.dropped_queue += 1;
                        return Vec::new();
                    }
                    let tx_ms = len as f64 * 8.0 / rate as f64 * 1000.0;
                    *busy_until = busy_until.max(sent_ms) + tx_ms;
                    queue_ms = *busy_until - sent_ms;
                }
                // Spikes: checked once per 10 ms of send time.
                let mut spike_ms = 0.0;
                if let Some(spikes) = config.spikes {
                    while *next_spike_check <= sent_ms {
                        if spike_start.is_none() && rng.random::<f64>() < spikes.per_second / 100.0
                        {
                            *spike_start = Some(*next_spike_check);
                        }
                        *next_spike_check += 10.0;
                    }
                    if let Some(s) = *spike_start {
                        let len_ms = spikes.duration.as_secs_f64() * 1000.0;
                        let into = sent_ms - s;
                        if into >= len_ms {
                            *spike_start = None;
                        } else {
                            spike_ms = spikes.extra.as_secs_f64() * 1000.0 * (1.0 - into / len_ms);
                        }
                    }
                }
                let jitter_ms = config.jitter.as_secs_f64() * 1000.0 * half_normal(rng);
                let mut arrival = sent_ms
                    + config.base_delay.as_secs_f64() * 1000.0
                    + queue_ms
                    + spike_ms
                    + jitter_ms;
                if config.reorder_probability > 0.0
                    && rng.random::<f64>() < config.reorder_probability
                {
                    self.stats.reordered += 1;
                    arrival += config.reorder_delay.as_secs_f64() * 1000.0;
                } else if config.preserve_order {
                    arrival = arrival.max(*last_arrival);
                }
                *last_arrival = last_arrival.max(arrival);
                let mut out = vec![arrival];
                if config.duplicate_probability > 0.0
                    && rng.random::<f64>() < config.duplicate_probability
                {
                    out.push(arrival + 1.0 + 4.0 * rng.random::<f64>());
                }
                out
            }
        }
    }

    /// When the next packet arrives, if one is on its way.
    pub fn next_arrival(&self) -> Option<Instant> {
        self.pending
            .peek()
            .map(|Reverse((key, _, _))| self.start + Duration::from_micros(*key))
    }

    /// The next packet that has arrived by `now`, in arrival order.
    pub fn poll_arrival(&mut self, now: Instant) -> Option<Delivery> {
        let Reverse((key, _, slot)) = *self.pending.peek()?;
        if self.start + Duration::from_micros(key) > now {
            return None;
        }
        self.pending.pop();
        let delivery = self.slots.get_mut(slot)?.take()?;
        self.free.push(slot);
        self.stats.delivered += 1;
        Some(delivery)
    }
}

/// |N(0, 1)| by Box–Muller.
fn half_normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.random();
    ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()).abs()
}
