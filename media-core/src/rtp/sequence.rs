//! Extension of wrapping RTP counters to 64 bits: sequence numbers (16 bits) and
//! timestamps (32 bits).

/// Extends a wrapping counter of `BITS` bits to `u64`, picking for each new value the
/// candidate closest to the last extended value (so reordering within half the counter
/// range is handled both ways).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unwrapper<const BITS: u32> {
    last: Option<u64>,
}

/// Unwraps 16-bit RTP sequence numbers.
pub type SequenceUnwrapper = Unwrapper<16>;
/// Unwraps 32-bit RTP timestamps.
pub type TimestampUnwrapper = Unwrapper<32>;

impl<const BITS: u32> Unwrapper<BITS> {
    const RANGE: u64 = 1 << BITS;
    const HALF: u64 = 1 << (BITS - 1);

    /// A fresh unwrapper: the first value seen starts cycle 0.
    pub const fn new() -> Self {
        Self { last: None }
    }

    /// The extended value of `value`, or `None` for a value that would fall before cycle 0
    /// (a packet reordered from before the stream's first wrap-around).
    #[inline]
    pub fn unwrap(&mut self, value: impl Into<u64>) -> Option<u64> {
        let value = value.into() & (Self::RANGE - 1);
        let Some(last) = self.last else {
            self.last = Some(value);
            return Some(value);
        };
        let mask = Self::RANGE - 1;
        let forward = value.wrapping_sub(last) & mask;
        let extended = if forward < Self::HALF {
            last + forward
        } else {
            last.checked_sub(Self::RANGE - forward)?
        };
        if extended > last {
            self.last = Some(extended);
        }
        Some(extended)
    }

    /// The highest extended value seen.
    #[inline]
    pub fn highest(&self) -> Option<u64> {
        self.last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_wraps_forward_and_back() {
        let mut u = SequenceUnwrapper::new();
        assert_eq!(u.unwrap(65534u16), Some(65534));
        assert_eq!(u.unwrap(65535u16), Some(65535));
        assert_eq!(u.unwrap(1u16), Some(65537));
        assert_eq!(u.unwrap(0u16), Some(65536)); // reordered across the wrap
        assert_eq!(u.unwrap(65533u16), Some(65533)); // late, from before the wrap
        assert_eq!(u.highest(), Some(65537));
        assert_eq!(u.unwrap(32768u16), Some(65536 + 32768));
    }

    #[test]
    fn values_before_the_first_cycle_are_refused() {
        let mut u = SequenceUnwrapper::new();
        assert_eq!(u.unwrap(2u16), Some(2));
        assert_eq!(u.unwrap(65535u16), None);
        assert_eq!(u.unwrap(3u16), Some(3));
    }

    #[test]
    fn timestamps_extend_to_64_bits() {
        let mut u = TimestampUnwrapper::new();
        assert_eq!(u.unwrap(0xFFFF_FF00u32), Some(0xFFFF_FF00));
        assert_eq!(u.unwrap(0x0000_0100u32), Some(0x1_0000_0100));
        assert_eq!(u.unwrap(0xFFFF_FFF0u32), Some(0xFFFF_FFF0));
    }
}
