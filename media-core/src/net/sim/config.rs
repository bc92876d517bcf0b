//! What a simulated link does to packets.

use std::time::Duration;

/// Random packet loss.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Loss {
    /// Nothing is lost.
    #[default]
    None,
    /// Each packet is lost with probability `p`, independently.
    Bernoulli {
        /// Loss probability, 0–1.
        p: f64,
    },
    /// Gilbert–Elliott: a two-state Markov chain, good and bad, each with its own loss
    /// probability; the state changes before each packet.
    GilbertElliott {
        /// Probability of moving from good to bad.
        good_to_bad: f64,
        /// Probability of moving from bad to good.
        bad_to_good: f64,
        /// Loss probability in the good state.
        loss_good: f64,
        /// Loss probability in the bad state.
        loss_bad: f64,
    },
}

impl Loss {
    /// Bursty loss with a mean rate `rate` (0–1) in bursts of `mean_burst` packets on
    /// average (≥ 1): the bad state loses everything, the good state nothing.
    pub fn bursty(rate: f64, mean_burst: f64) -> Self {
        let rate = rate.clamp(0.0, 0.99);
        let bad_to_good = 1.0 / mean_burst.max(1.0);
        // Stationary share of the bad state = rate: p / (p + r) = rate.
        let good_to_bad = rate * bad_to_good / (1.0 - rate);
        Self::GilbertElliott {
            good_to_bad: good_to_bad.min(1.0),
            bad_to_good,
            loss_good: 0.0,
            loss_bad: 1.0,
        }
    }
}

/// Sudden extra delay, as on a Wi-Fi or cellular handover.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spikes {
    /// Spikes per second on average.
    pub per_second: f64,
    /// Extra delay at the start of a spike; it decays linearly to 0.
    pub extra: Duration,
    /// How long a spike lasts.
    pub duration: Duration,
}

/// A link's behaviour. `Default` is a clean 20 ms link.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkConfig {
    /// Propagation delay every packet has.
    pub base_delay: Duration,
    /// Standard deviation of the random extra delay (a half-normal distribution: never
    /// negative).
    pub jitter: Duration,
    /// Keep packets in order even when jitter would let one overtake another.
    pub preserve_order: bool,
    /// Random loss.
    pub loss: Loss,
    /// Delay spikes.
    pub spikes: Option<Spikes>,
    /// Probability that a packet is held back by `reorder_delay` (and so reordered).
    pub reorder_probability: f64,
    /// How long a reordered packet is held back.
    pub reorder_delay: Duration,
    /// Probability that a packet arrives twice.
    pub duplicate_probability: f64,
    /// Link rate in bits/s (`None`: unlimited); packets queue behind each other.
    pub rate_bps: Option<u64>,
    /// Bytes the queue in front of a rate-limited link holds; more are dropped (tail drop).
    pub queue_bytes: usize,
    /// Intervals, from the link's start, in which every packet is lost.
    pub outages: Vec<(Duration, Duration)>,
}

impl Default for LinkConfig {
    fn default() -> Self {
        Self {
            base_delay: Duration::from_millis(20),
            jitter: Duration::ZERO,
            preserve_order: false,
            loss: Loss::None,
            spikes: None,
            reorder_probability: 0.0,
            reorder_delay: Duration::from_millis(30),
            duplicate_probability: 0.0,
            rate_bps: None,
            queue_bytes: 64 * 1024,
            outages: Vec::new(),
        }
    }
}
