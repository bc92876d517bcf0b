//! Errors of RTP parsing and writing.

use thiserror::Error;

/// Why an RTP packet could not be parsed or written.
///
/// Every malformation has its own variant so that callers can count drops by cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RtpError {
    /// The buffer ends before the structure it must hold.
    #[error("RTP packet truncated: needs {needed} bytes, has {len}")]
    Truncated {
        /// Bytes the structure needs.
        needed: usize,
        /// Bytes available.
        len: usize,
    },
    /// The version field is not 2.
    #[error("RTP version {0} is not 2")]
    BadVersion(u8),
    /// The padding count is zero or runs past the payload start.
    #[error("RTP padding count {count} is invalid for {available} bytes after the header")]
    BadPadding {
        /// The padding count from the last byte.
        count: u8,
        /// Bytes between the end of the header and the end of the packet.
        available: usize,
    },
    /// An RFC 8285 header extension element runs past the extension block.
    #[error("RTP header extension element id {id} overflows the extension block")]
    ExtensionOverflow {
        /// The element's id.
        id: u8,
    },
    /// A header extension id is out of range for its form (one-byte: 1..=14; two-byte: 1..=255).
    #[error("RTP header extension id {0} is out of range for this form")]
    BadExtensionId(u8),
    /// A header extension element's data is too long (one-byte: 1..=16; two-byte: 0..=255).
    #[error("RTP header extension data of {0} bytes is too long for this form")]
    ExtensionTooLong(usize),
    /// More than 15 CSRCs were given to the writer.
    #[error("RTP packet cannot carry {0} CSRCs (at most 15)")]
    TooManyCsrcs(usize),
    /// The output buffer is too small.
    #[error("output buffer of {len} bytes is too small; {needed} needed")]
    BufferTooSmall {
        /// Bytes the packet needs.
        needed: usize,
        /// Bytes the buffer has.
        len: usize,
    },
    /// The payload type does not fit in 7 bits.
    #[error("RTP payload type {0} does not fit in 7 bits")]
    BadPayloadType(u8),
}
