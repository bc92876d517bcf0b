//! The target delay, estimated from packet arrival statistics.
//!
//! Each packet's *relative delay* is how much later it arrived than the fastest packet of
//! the last two seconds would predict from its timestamp: `transit − min(transit)`, where
//! `transit = arrival − timestamp`. Taking the minimum over a sliding window (not over the
//! whole call) makes the reference follow clock drift and route changes.
//!
//! The relative delays go into a histogram with exponential forgetting; the target is the
//! delay that covers the configured quantile of them. A second, cost-based term looks only
//! at packets that arrived out of order: it weighs the delay needed to wait for them against
//! the share of packets that would otherwise be late, so occasional reordering adds delay
//! only when it pays.

/// Histogram bucket width, ms: fine enough to go below the 20 ms granularity of a
/// packet-count estimator.
pub(crate) const BUCKET_MS: f64 = 5.0;
/// How far back the minimum transit looks, ms.
const WINDOW_MS: f64 = 2000.0;
/// Transit samples the window can hold: two seconds of 10 ms packets with room to spare
/// (it holds fewer: only those that can still become the minimum).
const WINDOW_CAP: usize = 256;

/// A histogram of delays with exponential forgetting, computed lazily: instead of scaling
/// every bucket down on each update, each new sample gets a weight `1/f` larger than the
/// previous one, and the buckets are renormalised when the weights grow large.
#[derive(Debug, Clone)]
struct Histogram {
    buckets: Vec<f64>,
    total: f64,
    weight: f64,
}

impl Histogram {
    fn new(buckets: usize) -> Self {
        Self {
            buckets: vec![0.0; buckets],
            total: 0.0,
            weight: 1.0,
        }
    }

    fn add(&mut self, delay_ms: f64, forget: f64) {
        let last = self.buckets.len() - 1;
        let index = ((delay_ms.max(0.0) / BUCKET_MS) as usize).min(last);
        self.weight /= forget;
        self.buckets[index] += self.weight;
        self.total += self.weight;
        if self.weight > 1e100 {
            let scale = 1.0 / self.weight;
            self.buckets.iter_mut().for_each(|b| *b *= scale);
            self.total *= scale;
            self.weight = 1.0;
        }
    }

    /// The upper edge (ms) of the bucket where the cumulative share reaches `q`.
    fn quantile_ms(&self, q: f64) -> Option<f64> {
        if self.total <= 0.0 {
            return None;
        }
        let wanted = q * self.total;
        let mut sum = 0.0;
        for (i, b) in self.buckets.iter().enumerate() {
            sum += b;
            if sum >= wanted {
                return Some((i + 1) as f64 * BUCKET_MS);
            }
        }
        Some(self.buckets.len() as f64 * BUCKET_MS)
    }
}

/// Estimates the playout delay a stream needs from its packets' arrival times.
#[derive(Debug, Clone)]
pub(crate) struct DelayEstimator {
    all: Histogram,
    reordered: Histogram,
    /// Share of packets arriving out of order, forgotten at the same rate as the histograms.
    reorder_share: f64,
    /// (arrival, transit) of the window's packets that can still be its minimum: a
    /// monotonic queue, transit increasing from head to tail, so the minimum is the head
    /// and each update costs O(1) amortised instead of a scan of two seconds of packets.
    window: [(f64, f64); WINDOW_CAP],
    window_head: usize,
    window_len: usize,
    updates: u64,
    quantile: f64,
    forget: f64,
    reorder_cost: f64,
    start_ms: f64,
    target_ms: f64,
}

impl DelayEstimator {
    pub(crate) fn new(
        start_ms: f64,
        max_ms: f64,
        quantile: f64,
        forget: f64,
        reorder_cost: f64,
    ) -> Self {
        let buckets = (max_ms / BUCKET_MS).ceil() as usize + 1;
        Self {
            all: Histogram::new(buckets),
            reordered: Histogram::new(buckets),
            reorder_share: 0.0,
            window: [(0.0, 0.0); WINDOW_CAP],
            window_head: 0,
            window_len: 0,
            updates: 0,
            quantile,
            forget,
            reorder_cost,
            start_ms,
            target_ms: start_ms,
        }
    }

    /// Records a packet that arrived at `arrival_ms` carrying media time `media_ms`
    /// (its timestamp in ms); `reordered` when a later packet had already arrived.
    pub(crate) fn update(&mut self, arrival_ms: f64, media_ms: f64, reordered: bool) {
        let transit = arrival_ms - media_ms;
        self.push_window(arrival_ms, transit);
        let relative = transit - self.min_transit().unwrap_or(transit);
        self.updates += 1;
        // Equal weights while the history is short, so the first second already counts;
        // then steady exponential forgetting.
        let n = self.updates as f64;
        let forget = self.forget.min(1.0 - 1.0 / (n + 1.0));
        self.all.add(relative, forget);
        self.reorder_share = forget * self.reorder_share + (1.0 - forget) * f64::from(reordered);
        if reordered {
            self.reordered.add(relative, forget);
        }
        self.target_ms = self.compute_target();
    }

    fn push_window(&mut self, arrival_ms: f64, transit: f64) {
        // Drop what fell out of the window at the head; at the tail, drop what this packet
        // beats: a later packet with no larger transit outlives them in the window.
        while self.window_len > 0 && arrival_ms - self.window[self.window_head].0 > WINDOW_MS {
            self.window_head = (self.window_head + 1) % WINDOW_CAP;
            self.window_len -= 1;
        }
        while self.window_len > 0 {
            let tail = (self.window_head + self.window_len - 1) % WINDOW_CAP;
            if self.window[tail].1 < transit {
                break;
            }
            self.window_len -= 1;
        }
        if self.window_len == WINDOW_CAP {
            // Transit rising for more packets than the queue holds: the oldest goes.
            self.window_head = (self.window_head + 1) % WINDOW_CAP;
            self.window_len -= 1;
        }
        let tail = (self.window_head + self.window_len) % WINDOW_CAP;
        self.window[tail] = (arrival_ms, transit);
        self.window_len += 1;
    }

    /// The smallest `arrival − media time` of the last two seconds: the fastest path.
    pub(crate) fn min_transit(&self) -> Option<f64> {
        (self.window_len > 0).then(|| self.window[self.window_head].1)
    }

    fn compute_target(&self) -> f64 {
        let Some(quantile) = self.all.quantile_ms(self.quantile) else {
            return self.start_ms;
        };
        quantile.max(self.reorder_target())
    }

    /// The delay minimising `delay + cost × (percent of packets late because reordered)`.
    fn reorder_target(&self) -> f64 {
        if self.reordered.total <= 0.0 || self.reorder_share <= 0.0 {
            return 0.0;
        }
        let percent_per_weight = 100.0 * self.reorder_share / self.reordered.total;
        let mut late = self.reordered.total;
        let mut best = (f64::INFINITY, 0.0);
        for (i, b) in self.reordered.buckets.iter().enumerate() {
            late -= b;
            let delay = (i + 1) as f64 * BUCKET_MS;
            let cost = delay + self.reorder_cost * late.max(0.0) * percent_per_weight;
            if cost < best.0 {
                best = (cost, delay);
            }
            // Rounding can leave a sliver of weight after the last filled bucket: stop there
            // rather than walk every empty bucket up to the maximum delay.
            if late <= 1e-9 * self.reordered.total {
                break;
            }
        }
        best.1
    }

    /// The delay (ms of playout offset behind the fastest path) the buffer should hold.
    pub(crate) fn target_ms(&self) -> f64 {
        self.target_ms
    }

    /// Forgets the timing reference (a new stream or a timestamp jump) but keeps the
    /// histograms: the network did not change, only the stream's clock did.
    pub(crate) fn reset_reference(&mut self) {
        self.window_head = 0;
        self.window_len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn estimator() -> DelayEstimator {
        DelayEstimator::new(40.0, 2000.0, 0.95, 0.983, 20.0)
    }

    #[test]
    fn clean_network_gives_one_bucket() {
        let mut e = estimator();
        for i in 0..100 {
            let t = f64::from(i) * 20.0;
            e.update(t + 30.0, t, false);
        }
        assert_eq!(e.target_ms(), BUCKET_MS);
    }

    #[test]
    fn follows_jitter_quantile() {
        let mut e = estimator();
        // Every tenth packet 60 ms late, the rest on time: 10 % > 95 % quantile share.
        for i in 0..500 {
            let t = f64::from(i) * 20.0;
            let extra = if i % 10 == 0 { 60.0 } else { 0.0 };
            e.update(t + 30.0 + extra, t, false);
        }
        assert_eq!(e.target_ms(), 65.0);
    }

    #[test]
    fn forgets_old_spikes() {
        let mut e = estimator();
        for i in 0..200 {
            let t = f64::from(i) * 20.0;
            e.update(t + 30.0 + if i % 2 == 0 { 100.0 } else { 0.0 }, t, false);
        }
        assert!(e.target_ms() > 100.0);
        for i in 200..600 {
            let t = f64::from(i) * 20.0;
            e.update(t + 30.0, t, false);
        }
        assert_eq!(e.target_ms(), BUCKET_MS);
    }

    #[test]
    fn rare_reordering_is_not_worth_waiting_for() {
        let mut e = estimator();
        for i in 0..1000 {
            let t = f64::from(i) * 20.0;
            let reordered = i % 200 == 0; // 0.5 %: 100 ms wait would cost more than 0.5 % late
            e.update(t + 30.0 + if reordered { 100.0 } else { 0.0 }, t, reordered);
        }
        assert_eq!(e.target_ms(), BUCKET_MS);
    }

    #[test]
    fn frequent_reordering_is_waited_for() {
        let mut e = estimator();
        for i in 0..1000 {
            let t = f64::from(i) * 20.0;
            let reordered = i % 25 == 0; // 4 %, 25 ms late: waiting costs less than 80 ms
            e.update(t + 30.0 + if reordered { 25.0 } else { 0.0 }, t, reordered);
        }
        assert_eq!(e.target_ms(), 30.0);
    }

    /// The monotonic queue's minimum is the plain minimum over the window's packets,
    /// under jitter, reordering, bursts and gaps longer than the window.
    #[test]
    fn minimum_is_the_window_minimum() {
        let mut e = estimator();
        let mut seen: Vec<(f64, f64)> = Vec::new();
        let mut state = 0x2545_f491_u32;
        let mut arrival = 0.0;
        for i in 0..5000 {
            // xorshift: deterministic pseudo-random jitter and gaps.
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let jitter = f64::from(state % 80);
            let gap = if i % 700 == 0 {
                2500.0
            } else {
                f64::from(state % 25)
            };
            arrival += gap;
            let media = arrival - 30.0 - jitter;
            e.update(arrival, media, state % 7 == 0);
            seen.push((arrival, arrival - media));
            let expected = seen
                .iter()
                .filter(|(a, _)| arrival - a <= WINDOW_MS)
                .map(|(_, t)| *t)
                .reduce(f64::min);
            assert_eq!(e.min_transit(), expected, "packet {i}");
        }
    }

    #[test]
    fn minimum_follows_drift() {
        let mut e = estimator();
        // The sender's clock runs 0.1 % fast: transit shrinks by 1 ms per second.
        for i in 0..3000 {
            let t = f64::from(i) * 20.0;
            e.update(t * 0.999 + 30.0, t, false);
        }
        let last = 2999.0 * 20.0;
        let min = e.min_transit().unwrap_or(f64::NAN);
        assert!((min - (last * 0.999 + 30.0 - last)).abs() < 0.01, "{min}");
        assert!(e.target_ms() <= 2.0 * BUCKET_MS);
    }
}
