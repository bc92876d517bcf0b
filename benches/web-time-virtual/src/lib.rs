//! `std::time` with a per-thread virtual clock behind [`Instant::now`].
//!
//! The benches' neteq peer (crates.io `neteq`) reads `web_time::Instant::now()` itself: on
//! every inserted packet (its inter-arrival jitter, hence its target delay), for its 2 s
//! packet-age limit and for per-second statistics. It has no API that takes an arrival time.
//! A trace replay runs 60 s of network time in well under a second of wall time, so with the
//! real clock every packet would look as if it arrived at once and neteq would never see the
//! trace's jitter. The workspace therefore patches `web-time` (which on native targets is just
//! `pub use std::time::*`) with this crate: the same items, except that [`Instant::now`]
//! returns the calling thread's virtual time while a [`virtual_clock`] is set on that thread.
//!
//! On a thread with no virtual clock set, [`Instant::now`] is the real monotonic clock, so
//! any other user of `web-time` behaves exactly as with the crates.io crate.

use std::cell::Cell;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::sync::OnceLock;

pub use std::time::{Duration, SystemTime, SystemTimeError, TryFromFloatSecsError, UNIX_EPOCH};

thread_local! {
    /// This thread's virtual time since [`epoch`], or `None` for the real clock.
    static VIRTUAL_NOW: Cell<Option<Duration>> = const { Cell::new(None) };
}

/// The origin of virtual time: a real instant taken once per process, so virtual instants
/// are ordinary `std::time::Instant`s and compare with each other on every thread.
fn epoch() -> std::time::Instant {
    static EPOCH: OnceLock<std::time::Instant> = OnceLock::new();
    *EPOCH.get_or_init(std::time::Instant::now)
}

/// Control of the calling thread's virtual clock.
pub mod virtual_clock {
    use super::{Duration, VIRTUAL_NOW};

    /// From now on, [`crate::Instant::now`] on this thread returns the virtual time `now`
    /// (measured from a fixed per-process origin). Call it before every call into code that
    /// reads the clock; time may only move forward for that code to make sense.
    pub fn set(now: Duration) {
        VIRTUAL_NOW.with(|v| v.set(Some(now)));
    }

    /// Back to the real monotonic clock on this thread.
    pub fn clear() {
        VIRTUAL_NOW.with(|v| v.set(None));
    }

    /// This thread's virtual time, if one is set.
    pub fn get() -> Option<Duration> {
        VIRTUAL_NOW.with(|v| v.get())
    }
}

/// A monotonic instant, as [`std::time::Instant`], whose [`Instant::now`] follows the
/// thread's virtual clock when one is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(std::time::Instant);

impl Instant {
    /// The current instant: the thread's virtual time if set, else the real clock.
    pub fn now() -> Self {
        match virtual_clock::get() {
            Some(offset) => Self(epoch() + offset),
            None => Self(std::time::Instant::now()),
        }
    }

    /// Time from `earlier` to `self`, zero if `earlier` is later.
    pub fn duration_since(&self, earlier: Self) -> Duration {
        self.0.saturating_duration_since(earlier.0)
    }

    /// Time from `earlier` to `self`, `None` if `earlier` is later.
    pub fn checked_duration_since(&self, earlier: Self) -> Option<Duration> {
        self.0.checked_duration_since(earlier.0)
    }

    /// Time from `earlier` to `self`, zero if `earlier` is later.
    pub fn saturating_duration_since(&self, earlier: Self) -> Duration {
        self.0.saturating_duration_since(earlier.0)
    }

    /// Time since `self`, by [`Instant::now`].
    pub fn elapsed(&self) -> Duration {
        Self::now().duration_since(*self)
    }

    /// `self + duration`, `None` on overflow.
    pub fn checked_add(&self, duration: Duration) -> Option<Self> {
        self.0.checked_add(duration).map(Self)
    }

    /// `self - duration`, `None` on overflow.
    pub fn checked_sub(&self, duration: Duration) -> Option<Self> {
        self.0.checked_sub(duration).map(Self)
    }
}

impl From<std::time::Instant> for Instant {
    fn from(i: std::time::Instant) -> Self {
        Self(i)
    }
}

impl From<Instant> for std::time::Instant {
    fn from(i: Instant) -> Self {
        i.0
    }
}

impl Add<Duration> for Instant {
    type Output = Self;
    fn add(self, rhs: Duration) -> Self {
        Self(self.0 + rhs)
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, rhs: Duration) {
        self.0 += rhs;
    }
}

impl Sub<Duration> for Instant {
    type Output = Self;
    fn sub(self, rhs: Duration) -> Self {
        Self(self.0 - rhs)
    }
}

impl SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, rhs: Duration) {
        self.0 -= rhs;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, rhs: Self) -> Duration {
        self.duration_since(rhs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_time_is_what_was_set_and_real_time_returns_after_clear() {
        virtual_clock::set(Duration::from_millis(1_000));
        let a = Instant::now();
        virtual_clock::set(Duration::from_millis(61_000));
        let b = Instant::now();
        assert_eq!(b - a, Duration::from_secs(60));
        assert_eq!(a.elapsed(), Duration::from_secs(60));
        virtual_clock::clear();
        assert_eq!(virtual_clock::get(), None);
        let r1 = Instant::now();
        let r2 = Instant::now();
        assert!(r2 >= r1);
    }

    #[test]
    fn each_thread_has_its_own_clock() {
        virtual_clock::set(Duration::from_secs(5));
        let other = std::thread::spawn(virtual_clock::get).join().ok().flatten();
        assert_eq!(other, None);
        assert_eq!(virtual_clock::get(), Some(Duration::from_secs(5)));
        virtual_clock::clear();
    }
}
