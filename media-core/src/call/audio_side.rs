//! The real-time half of a call: runs on the audio thread every 10 ms.

use std::sync::Arc;
use std::time::Instant;

use ringbuf::traits::{Consumer, Observer, Producer};
use ringbuf::{HeapCons, HeapProd};

use super::CallError;
use super::capture_clock::CaptureClock;
use super::packet::ReceivedPacket;
use crate::jitter::{JitterBuffer, JitterStats, Playout};

/// Pulls between two statistics snapshots handed to the network side (one per 100 ms).
const STATS_EVERY: u32 = 10;

/// The audio thread's half of a call. [`process`](Self::process) takes 10 ms of captured
/// audio and returns 10 ms to play; it never locks, allocates or blocks: it talks to the
/// network side through single-producer single-consumer rings only.
pub struct AudioSide {
    pub(crate) capture: HeapProd<i16>,
    /// Stamped at each push: the network side wakes when a frame is whole.
    pub(crate) capture_clock: Arc<CaptureClock>,
    /// Wakes a parked network task (set by a driver that parks it, e.g. the UDP call).
    pub(crate) capture_waker: Option<CaptureWaker>,
    pub(crate) packets: HeapCons<ReceivedPacket>,
    pub(crate) stats: HeapProd<JitterStats>,
    pub(crate) jitter: JitterBuffer,
    pub(crate) capture_len: usize,
    pub(crate) capture_overruns: u64,
    pub(crate) pulls: u32,
}

/// The audio side's end of the socket pair that wakes a parked network task.
#[cfg(unix)]
pub(crate) type CaptureWaker = std::os::unix::net::UnixDatagram;
/// Without Unix sockets the network task is never woken: it polls while parked.
#[cfg(not(unix))]
pub(crate) type CaptureWaker = NoWaker;

/// Stands in for the waker where there is none.
#[cfg(not(unix))]
#[derive(Debug)]
pub(crate) struct NoWaker;

#[cfg(not(unix))]
impl NoWaker {
    fn send(&self, _: &[u8]) -> std::io::Result<usize> {
        Ok(0)
    }
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
            if self.capture_clock.pushed(now)
                && let Some(waker) = &self.capture_waker
            {
                // Only after the network task parked (audio had stopped): one byte, never
                // blocking; a full socket means a wake-up is pending already.
                let _ = waker.send(&[1]);
            }
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

    /// Sets the socket that wakes a parked network task when capture resumes.
    pub(crate) fn set_capture_waker(&mut self, waker: CaptureWaker) {
        self.capture_waker = Some(waker);
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
