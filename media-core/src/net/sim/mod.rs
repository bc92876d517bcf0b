//! A deterministic network simulator on a virtual clock.
//!
//! A [`Link`] is one direction of a path. Packets go in with [`Link::send`] and come out
//! with [`Link::poll_arrival`] once the caller's clock reaches their arrival time. What
//! happens between is set by a [`LinkConfig`] — Gilbert–Elliott or random loss, base delay
//! with half-normal jitter, delay spikes, reordering, duplication, a rate-limited queue
//! with tail drop, outages — driven by a seeded ChaCha8 generator, so a seed always gives
//! the same run. A link can also replay a [`Trace`] (see [`trace`] for the text format),
//! and record one: the traces shipped in `media-core/traces/` were made this way from the
//! [`presets`].

mod config;
mod link;
pub mod presets;
pub mod trace;

pub use config::{LinkConfig, Loss, Spikes};
pub use link::{Delivery, Link, LinkStats};
pub use trace::{Record, Trace, TraceError};

use std::time::{Duration, Instant};

/// Packet interval of the shipped traces: one 20 ms audio frame each.
pub const TRACE_INTERVAL_MS: u64 = 20;
/// Packets in each shipped trace: 60 s.
pub const TRACE_PACKETS: usize = 3000;
/// Payload size the shipped traces were made with (a 32 kbit/s Opus frame plus headers).
pub const TRACE_PACKET_BYTES: usize = 120;

/// Makes a preset's trace: [`TRACE_PACKETS`] packets of [`TRACE_PACKET_BYTES`] bytes sent
/// every [`TRACE_INTERVAL_MS`] through a link with the preset's configuration and seed.
pub fn make_trace(preset: &presets::Preset) -> Trace {
    let start = Instant::now();
    let mut link = Link::new(preset.config.clone(), preset.seed, start);
    link.record();
    let packet = [0u8; TRACE_PACKET_BYTES];
    for i in 0..TRACE_PACKETS as u64 {
        link.send(
            start + Duration::from_millis(i * TRACE_INTERVAL_MS),
            &packet,
        );
    }
    let comment = format!(
        "{}\nmade by media_core::net::sim::make_trace: {} packets of {} bytes every {} ms, seed {:#x}",
        preset.description, TRACE_PACKETS, TRACE_PACKET_BYTES, TRACE_INTERVAL_MS, preset.seed
    );
    link.take_trace(preset.name, &comment)
}
