//! The network conditions MediaCore's traces and tests are made with, each with its seed.

use std::time::Duration;

use super::config::{LinkConfig, Loss, Spikes};

/// A named condition: its configuration and the seed its shipped trace was made with.
#[derive(Debug, Clone, PartialEq)]
pub struct Preset {
    /// Name, also the trace's file stem.
    pub name: &'static str,
    /// What it models.
    pub description: &'static str,
    /// The link.
    pub config: LinkConfig,
    /// The seed of the shipped trace.
    pub seed: u64,
}

/// Home Wi-Fi: 2 % loss in short bursts, 30 ms of jitter, a little reordering.
pub fn wifi() -> Preset {
    Preset {
        name: "wifi",
        description: "2 % bursty loss (mean burst 2), 30 ms jitter (half-normal sd), 0.5 % reordered",
        config: LinkConfig {
            base_delay: Duration::from_millis(15),
            jitter: Duration::from_millis(30),
            loss: Loss::bursty(0.02, 2.0),
            reorder_probability: 0.005,
            reorder_delay: Duration::from_millis(25),
            ..LinkConfig::default()
        },
        seed: 0x3f1f1,
    }
}

/// Cellular: 5 % loss, 80 ms of jitter, handover spikes.
pub fn cellular() -> Preset {
    Preset {
        name: "cellular",
        description: "5 % bursty loss (mean burst 1.5), 80 ms jitter, in-order delivery, a 300 ms spike every ~10 s",
        config: LinkConfig {
            base_delay: Duration::from_millis(40),
            jitter: Duration::from_millis(80),
            preserve_order: true,
            loss: Loss::bursty(0.05, 1.5),
            spikes: Some(Spikes {
                per_second: 0.1,
                extra: Duration::from_millis(300),
                duration: Duration::from_millis(400),
            }),
            ..LinkConfig::default()
        },
        seed: 0xce11,
    }
}

/// A congested uplink: 10 % loss and a queue that builds up behind a slow link.
pub fn congested() -> Preset {
    Preset {
        name: "congested",
        description: "10 % bursty loss (mean burst 3), a 48 kbit/s bottleneck with a 3 kB queue, 10 ms jitter",
        config: LinkConfig {
            base_delay: Duration::from_millis(30),
            jitter: Duration::from_millis(10),
            preserve_order: true,
            loss: Loss::bursty(0.10, 3.0),
            rate_bps: Some(48_000),
            queue_bytes: 3_000,
            ..LinkConfig::default()
        },
        seed: 0xc0de,
    }
}

/// The three presets with shipped traces.
pub fn all() -> [Preset; 3] {
    [wifi(), cellular(), congested()]
}
