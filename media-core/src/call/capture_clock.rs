//! How the audio side tells the network side that capture is there, without a lock and,
//! while audio flows, without a system call.
//!
//! The audio side stamps each 10 ms block it pushes; the network side predicts from the
//! last stamp when the next whole frame will be in the ring and sleeps until then — one
//! wake-up per frame instead of polling the ring on a short period. When the audio side
//! stops pushing, the network side *parks*: it raises a flag and sleeps long, and the first
//! block pushed after that sends one byte down a socket pair the network task waits on, so
//! capture that resumes is sent at once. The flag is a Dekker handshake (sequentially
//! consistent store then load on both sides): either the network side sees the push, or the
//! audio side sees the flag.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Shared by the two halves of a call.
#[derive(Debug)]
pub(crate) struct CaptureClock {
    epoch: Instant,
    /// Last push: nanoseconds after `epoch`, plus one (0 = none yet).
    stamp: AtomicU64,
    /// The network side sleeps until the next push wakes it.
    parked: AtomicBool,
}

impl CaptureClock {
    pub(crate) fn new(epoch: Instant) -> Self {
        Self {
            epoch,
            stamp: AtomicU64::new(0),
            parked: AtomicBool::new(false),
        }
    }

    /// Audio side: a block was pushed at `now`. True when the network side was parked and
    /// must be woken (the flag is cleared: one wake per park).
    pub(crate) fn pushed(&self, now: Instant) -> bool {
        let since = now.saturating_duration_since(self.epoch).as_nanos();
        let stamp = u64::try_from(since).unwrap_or(u64::MAX - 1) + 1;
        self.stamp.store(stamp, Ordering::SeqCst);
        self.parked.load(Ordering::SeqCst) && self.parked.swap(false, Ordering::SeqCst)
    }

    /// Network side: when the last block was pushed, if any was.
    pub(crate) fn last_push(&self) -> Option<Instant> {
        match self.stamp.load(Ordering::SeqCst) {
            0 => None,
            stamp => Some(self.epoch + Duration::from_nanos(stamp - 1)),
        }
    }

    /// Network side: about to sleep until woken. Returns false if a block was pushed since
    /// `seen` (the last push it knew of), in which case it must not sleep.
    pub(crate) fn park(&self, seen: Option<Instant>) -> bool {
        self.parked.store(true, Ordering::SeqCst);
        if self.last_push() != seen {
            self.parked.store(false, Ordering::SeqCst);
            return false;
        }
        true
    }
}
