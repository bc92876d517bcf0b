//! Errors of RTCP parsing and writing.

use thiserror::Error;

/// Why an RTCP packet could not be parsed or written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RtcpError {
    /// The buffer ends before the structure it must hold.
    #[error("RTCP packet truncated: needs {needed} bytes, has {len}")]
    Truncated {
        /// Bytes the structure needs.
        needed: usize,
        /// Bytes available.
        len: usize,
    },
    /// The version field is not 2.
    #[error("RTCP version {0} is not 2")]
    BadVersion(u8),
    /// The length field runs past the end of the buffer.
    #[error("RTCP length field says {claimed} bytes, only {available} remain")]
    LengthOverflow {
        /// Bytes the length field claims.
        claimed: usize,
        /// Bytes left in the buffer.
        available: usize,
    },
    /// The padding count is zero or larger than the packet body.
    #[error("RTCP padding count {count} is invalid for a {body}-byte body")]
    BadPadding {
        /// The padding count from the last byte.
        count: u8,
        /// Bytes of body it applies to.
        body: usize,
    },
    /// The body is shorter than the count field says (report blocks, SSRCs, chunks).
    #[error("RTCP packet type {pt}: body of {body} bytes cannot hold {count} entries")]
    CountOverflow {
        /// Packet type.
        pt: u8,
        /// The count field.
        count: u8,
        /// Body length.
        body: usize,
    },
    /// An SDES chunk or item runs past the packet.
    #[error("RTCP SDES chunk or item overflows the packet")]
    SdesOverflow,
    /// A BYE reason runs past the packet.
    #[error("RTCP BYE reason overflows the packet")]
    ByeReasonOverflow,
    /// The feedback control information has the wrong length for its FMT.
    #[error("RTCP feedback PT {pt} FMT {fmt}: FCI of {len} bytes is malformed")]
    BadFciLength {
        /// Packet type (205 or 206).
        pt: u8,
        /// Feedback message type.
        fmt: u8,
        /// FCI length in bytes.
        len: usize,
    },
    /// The transport-wide feedback's chunks do not cover its packet status count.
    #[error("transport-wide feedback: chunks cover {covered} of {count} packets")]
    TwccStatusOverflow {
        /// The packet status count.
        count: u16,
        /// Statuses the chunks cover.
        covered: usize,
    },
    /// The transport-wide feedback lacks receive-delta bytes its statuses announce.
    #[error("transport-wide feedback: {needed} delta bytes announced, {available} present")]
    TwccDeltasMissing {
        /// Delta bytes the statuses need.
        needed: usize,
        /// Delta bytes present.
        available: usize,
    },
    /// A status symbol reserved by the draft (2-bit value 3).
    #[error("transport-wide feedback: reserved status symbol")]
    TwccReservedSymbol,
    /// The output buffer is too small.
    #[error("output buffer of {len} bytes is too small; {needed} needed")]
    BufferTooSmall {
        /// Bytes the packet needs.
        needed: usize,
        /// Bytes the buffer has.
        len: usize,
    },
    /// A value does not fit its field when writing (count > 31, text > 255 bytes, ...).
    #[error("RTCP field {0} is out of range")]
    FieldOutOfRange(&'static str),
}
