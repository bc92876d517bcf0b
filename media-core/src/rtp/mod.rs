//! RTP (RFC 3550) and RTCP packets: zero-copy views for reading, writers into caller
//! buffers for sending, header extensions (RFC 8285) and counter unwrapping.

pub mod error;
pub mod extension;
pub mod packet;
pub mod rtcp;
pub mod sequence;
pub mod writer;

pub use error::RtpError;
pub use extension::{ExtensionForm, ExtensionKind, ExtensionMap, Extensions, HeaderExtension};
pub use packet::RtpPacket;
pub use sequence::{SequenceUnwrapper, TimestampUnwrapper, Unwrapper};
pub use writer::{RtpHeader, write_packet};
