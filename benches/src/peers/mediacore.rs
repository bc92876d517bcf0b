//! MediaCore's own jitter buffer behind the peers' trait, so the jitter bench replays every
//! buffer through the same code.
//!
//! The buffer is [`JitterBuffer`] with the configuration a call uses
//! ([`AudioCallConfig`](media_core::call::AudioCallConfig)'s default `jitter`, mono), decoding
//! with its own [`OpusDecoder`](media_core::codec::OpusDecoder): FEC from the successor,
//! libopus concealment, time-stretching. Virtual milliseconds map to `Instant`s by adding them
//! to one fixed base instant taken at creation.

use std::time::{Duration, Instant};

use media_core::jitter::{JitterBuffer, JitterBufferConfig, JitterStats, Playout};

use super::{Mean, PULL_SAMPLES, PeerError, PeerJitterBuffer, PeerStats};

/// SSRC of the one stream.
const SSRC: u32 = 0x4D43_0002;
/// Latest virtual time accepted, ms (about 31 years): keeps the `Duration` finite.
const MAX_VIRTUAL_MS: f64 = 1e12;

/// MediaCore's [`JitterBuffer`] as a [`PeerJitterBuffer`].
#[derive(Debug)]
pub struct MediaCorePeer {
    buffer: JitterBuffer,
    base: Instant,
    packets_inserted: u64,
    emitted: u64,
    pull_errors: u64,
    accelerate_count: u64,
    decelerate_count: u64,
    level: Mean,
}

impl MediaCorePeer {
    /// The buffer with a call's default settings.
    pub fn new() -> Result<Self, PeerError> {
        Self::with_config(JitterBufferConfig::default())
    }

    /// The buffer with `config`, forced to mono.
    pub fn with_config(mut config: JitterBufferConfig) -> Result<Self, PeerError> {
        config.channels = 1;
        let buffer = JitterBuffer::new(config).map_err(|e| PeerError::Buffer(e.to_string()))?;
        Ok(Self {
            buffer,
            base: Instant::now(),
            packets_inserted: 0,
            emitted: 0,
            pull_errors: 0,
            accelerate_count: 0,
            decelerate_count: 0,
            level: Mean::default(),
        })
    }

    /// The buffer's full statistics (W3C names).
    pub fn jitter_stats(&self) -> JitterStats {
        self.buffer.stats()
    }

    /// Pulls the buffer refused (the output was silence); always 0 unless it has a bug.
    pub fn pull_errors(&self) -> u64 {
        self.pull_errors
    }

    fn at(&self, ms: f64) -> Instant {
        let ms = if ms.is_nan() {
            0.0
        } else {
            ms.clamp(0.0, MAX_VIRTUAL_MS)
        };
        self.base + Duration::from_secs_f64(ms / 1_000.0)
    }
}

impl PeerJitterBuffer for MediaCorePeer {
    fn name(&self) -> &'static str {
        "mediacore"
    }

    fn insert(&mut self, arrival_ms: f64, seq: u16, timestamp: u32, payload: &[u8]) {
        self.packets_inserted += 1;
        // Late, duplicate and unplayable packets are counted by the buffer itself.
        self.buffer
            .insert(self.at(arrival_ms), SSRC, seq, timestamp, payload);
    }

    fn pull_10ms(&mut self, now_ms: f64, out: &mut [i16; PULL_SAMPLES]) {
        match self.buffer.pull(self.at(now_ms), out) {
            Ok(Playout::Accelerate) => self.accelerate_count += 1,
            Ok(Playout::PreemptiveExpand) => self.decelerate_count += 1,
            Ok(_) => {}
            Err(_) => {
                self.pull_errors += 1;
                out.fill(0);
            }
        }
        self.emitted += PULL_SAMPLES as u64;
        self.level.add(self.buffer.playout_delay_ms());
    }

    /// The buffer's W3C counters: concealed samples include comfort noise and the silence
    /// before playout starts (`concealedSamples`); the buffer level is its playout offset
    /// behind the fastest arrival path; the packet wait is `jitterBufferDelay /
    /// jitterBufferEmittedCount`, a mean over samples (so half a packet more than the wait of
    /// each packet's first sample); discarded packets are `packetsDiscarded` (late) plus
    /// duplicates and undecodable payloads.
    fn stats(&self) -> PeerStats {
        let s = self.buffer.stats();
        PeerStats {
            packets_inserted: self.packets_inserted,
            emitted_samples: self.emitted,
            concealed_samples: Some(s.concealed_samples),
            inserted_samples: Some(s.inserted_samples_for_deceleration as i64),
            removed_samples: Some(s.removed_samples_for_acceleration as i64),
            accelerate_count: Some(self.accelerate_count),
            decelerate_count: Some(self.decelerate_count),
            buffer_level_ms: Some(s.playout_delay_ms),
            mean_buffer_level_ms: self.level.get(),
            target_delay_ms: Some(s.target_delay_ms),
            mean_packet_wait_ms: (s.jitter_buffer_emitted_count > 0).then(|| s.mean_delay_ms()),
            discarded_packets: Some(s.packets_discarded + s.packets_duplicated + s.decode_errors),
        }
    }
}
