//! The real-time half of a call: runs on the audio thread every 10 ms.

use std::time::Instant;

use ringbuf::traits::{Consumer, Observer, Producer};
use ringbuf::{HeapCons, HeapProd};

use super::CallError;
use super::packet::ReceivedPacket;
use crate::jitter::{JitterBuffer, JitterStats, Playout};

/// Pulls between two statistics snapshots handed to the network side (one per 100 ms).
const STATS_EVERY: u32 = 10;

/// The audio thread's half of a call. [`process`](Self::process) takes 10 ms of captured
/// audio and returns 10 ms to play; it never locks, allocates or blocks: it talks to the
/// network side through single-producer single-consumer rings only.
pub struct AudioSide {
    pub(crate) capture: HeapProd<i16>,
    pub(crate) packets: HeapCons<ReceivedPacket>,
    pub(crate) stats: HeapProd<JitterStats>,
    pub(crate) jitter: JitterBuffer,
    pub(crate) capture_len: usize,
    pub(crate) capture_overruns: u64,
    pub(crate) pulls: u32,
}

impl std::fmt::Debug for AudioSide {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioSide")
            .field("jitter", &self.jitter)
            .field("capture_overruns", &self.capture_overruns)
            .finish_non_exhaustive()
    }
}

impl AudioSide {
    /// One 10 ms tick at `now`: `capture` (10 ms, the encoder's channels, interleaved) goes
    /// to the network side; `playout` (10 ms, the jitter buffer's channels) is filled.
    pub fn process(
        &mut self,
        now: Instant,
        capture: &[i16],
        playout: &mut [i16],
    ) -> Result<Playout, CallError> {
        if capture.len() != self.capture_len {
            return Err(CallError::BadCapture {
                expected: self.capture_len,
                got: capture.len(),
            });
        }
        if self.capture.vacant_len() < capture.len() {
            // The network side fell behind: drop this block whole rather than a part of it.
            self.capture_overruns += 1;
        } else {
            self.capture.push_slice(capture);
        }
        while let Some(packet) = self.packets.try_pop() {
            self.jitter.insert(
                packet.arrival,
                packet.ssrc,
                packet.sequence,
                packet.timestamp,
                packet.payload(),
            );
        }
        let playout_kind = self.jitter.pull(now, playout)?;
        self.pulls += 1;
        if self.pulls % STATS_EVERY == 0 {
            // Full ring: the network side has not read the last ones; skipping is fine.
            let _ = self.stats.try_push(self.jitter.stats());
        }
        Ok(playout_kind)
    }

    /// The jitter buffer's counters right now (the network side sees them 100 ms late).
    pub fn jitter_stats(&self) -> JitterStats {
        self.jitter.stats()
    }

    /// 10 ms capture blocks dropped because the network side fell behind.
    pub fn capture_overruns(&self) -> u64 {
        self.capture_overruns
    }
}
