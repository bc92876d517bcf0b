//! Retry delays: exponential from a base, capped, with jitter so that many events failing
//! together do not all come back at the same instant (Event Grid also randomises its steps).

/// The retry timing of failed deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Delay after the first failure, ms.
    pub base_ms: u64,
    /// Longest delay, ms.
    pub cap_ms: u64,
}

impl Backoff {
    /// The delay after the `attempts`-th failed attempt (1 = the first), ms: `base · 2^(n-1)`
    /// capped, then drawn uniformly from its upper half (`unit` in `[0, 1)`).
    pub fn delay_ms(&self, attempts: u32, unit: f64) -> i64 {
        let doublings = attempts.saturating_sub(1).min(40);
        let full = self
            .base_ms
            .saturating_mul(1u64 << doublings)
            .min(self.cap_ms.max(1));
        let half = full / 2;
        let jitter = (half as f64 * unit.clamp(0.0, 1.0)) as u64;
        i64::try_from(full - half + jitter).unwrap_or(i64::MAX)
    }
}

/// A uniform value in `[0, 1)` from the system's random source (0.5 if it fails).
pub fn random_unit() -> f64 {
    let mut b = [0u8; 8];
    match getrandom::fill(&mut b) {
        Ok(()) => (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64,
        Err(_) => 0.5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_then_caps_within_jitter() {
        let b = Backoff {
            base_ms: 100,
            cap_ms: 1000,
        };
        assert_eq!(b.delay_ms(1, 0.0), 50);
        assert_eq!(b.delay_ms(1, 0.999_999), 99);
        assert_eq!(b.delay_ms(3, 0.0), 200);
        assert_eq!(b.delay_ms(30, 0.0), 500);
        assert!(b.delay_ms(30, 0.999) <= 1000);
        let u = random_unit();
        assert!((0.0..1.0).contains(&u));
    }
}
