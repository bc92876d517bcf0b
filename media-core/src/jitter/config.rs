//! How a jitter buffer is set up.

use super::JitterError;

/// Settings of a [`JitterBuffer`](super::JitterBuffer). `Default` suits a WebRTC Opus
/// stream: mono, 20 ms packets, 200-packet store.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JitterBufferConfig {
    /// Output channels, 1 or 2 (what the decoder produces; the stream may be either).
    pub channels: u8,
    /// The target delay before any arrival statistics exist, in ms. Low, so a call starts
    /// with little delay; the estimator takes over within about a second.
    pub start_delay_ms: u32,
    /// The target delay never goes below this (ms). It also is the floor an application
    /// sets for A/V sync.
    pub min_delay_ms: u32,
    /// The target delay never goes above this (ms).
    pub max_delay_ms: u32,
    /// Packets held at most. On overflow the oldest are discarded, so memory is bounded
    /// whatever arrives.
    pub max_packets: usize,
    /// The quantile of relative arrival delay the target covers (0.5–0.999).
    pub delay_quantile: f64,
    /// Per-packet forgetting of the arrival statistics (0.9–0.9999): 0.983 forgets half of
    /// the history in about 40 packets, 0.8 s at 20 ms.
    pub forget_factor: f64,
    /// Cost, in ms of delay, that the reorder term puts on each percent of packets that
    /// would arrive too late because they were reordered.
    pub reorder_ms_per_loss_percent: f64,
}

impl Default for JitterBufferConfig {
    fn default() -> Self {
        Self {
            channels: 1,
            start_delay_ms: 40,
            min_delay_ms: 0,
            max_delay_ms: 2000,
            max_packets: 200,
            delay_quantile: 0.95,
            forget_factor: 0.983,
            reorder_ms_per_loss_percent: 20.0,
        }
    }
}

impl JitterBufferConfig {
    /// Checks every field, naming the first one out of range.
    pub fn validate(&self) -> Result<(), JitterError> {
        let bad = |name: &'static str, allowed: &'static str| {
            Err(JitterError::BadConfig { name, allowed })
        };
        if !matches!(self.channels, 1 | 2) {
            return bad("channels", "1 or 2");
        }
        if self.max_delay_ms == 0 || self.max_delay_ms > 10_000 {
            return bad("max_delay_ms", "1..=10000");
        }
        if self.min_delay_ms > self.max_delay_ms {
            return bad("min_delay_ms", "<= max_delay_ms");
        }
        if self.start_delay_ms > self.max_delay_ms {
            return bad("start_delay_ms", "<= max_delay_ms");
        }
        if !(2..=4096).contains(&self.max_packets) {
            return bad("max_packets", "2..=4096");
        }
        if !(0.5..=0.999).contains(&self.delay_quantile) {
            return bad("delay_quantile", "0.5..=0.999");
        }
        if !(0.9..=0.9999).contains(&self.forget_factor) {
            return bad("forget_factor", "0.9..=0.9999");
        }
        if !(0.0..=1000.0).contains(&self.reorder_ms_per_loss_percent) {
            return bad("reorder_ms_per_loss_percent", "0..=1000");
        }
        Ok(())
    }
}
