//! Errors of SRTP and SRTCP protection.

use thiserror::Error;

/// Why a packet could not be protected or unprotected.
///
/// Each cause has its own variant so that a receiver can count drops by cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum SrtpError {
    /// The master key or salt has the wrong length for the profile.
    #[error("{what} must be {expected} bytes for {profile}, got {got}")]
    BadKeyLength {
        /// Which input was wrong.
        what: &'static str,
        /// The profile's name.
        profile: &'static str,
        /// The expected length.
        expected: usize,
        /// The given length.
        got: usize,
    },
    /// The packet is too short for its headers (and trailer, on unprotect).
    #[error("packet of {len} bytes is too short: at least {needed} needed")]
    Truncated {
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        len: usize,
    },
    /// The RTP or RTCP version field is not 2.
    #[error("packet version {0} is not 2")]
    BadVersion(u8),
    /// `len` is larger than the buffer it describes.
    #[error("length {len} exceeds the buffer of {capacity} bytes")]
    LengthExceedsBuffer {
        /// The given length.
        len: usize,
        /// The buffer's size.
        capacity: usize,
    },
    /// The buffer has no room for the authentication tag (and SRTCP index).
    #[error("buffer of {capacity} bytes has no room for the {needed}-byte protected packet")]
    BufferTooSmall {
        /// Bytes the protected packet needs.
        needed: usize,
        /// The buffer's size.
        capacity: usize,
    },
    /// The authentication tag does not match: the packet was altered or the key is wrong.
    #[error("authentication failed")]
    AuthenticationFailed,
    /// The packet index was already received (or, when protecting, already sent).
    #[error("packet index {index} was already seen (replay)")]
    Replayed {
        /// The 48-bit SRTP or 31-bit SRTCP index.
        index: u64,
    },
    /// The packet index is older than the replay window.
    #[error("packet index {index} is older than the replay window")]
    TooOld {
        /// The 48-bit SRTP or 31-bit SRTCP index.
        index: u64,
    },
    /// The key has protected all the packets it may (2^48 SRTP or 2^31 SRTCP): re-key.
    #[error("the key is exhausted for this stream: a new key is required")]
    KeyExhausted,
}
