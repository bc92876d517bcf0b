//! The adaptive audio jitter buffer.
//!
//! Packets go in as they arrive, in any order; 10 ms of audio comes out on each pull. In
//! between, the buffer measures how late packets arrive relative to the fastest path
//! ([`delay`](self) estimator: a forgetting quantile of relative delay plus a cost-based
//! reorder term), holds the playout delay near that target by time-stretching decoded
//! speech ([`stretch`]), and fills what is missing with codec concealment, FEC from the
//! next packet, or comfort noise in silence. Counters are named after W3C
//! `RTCInboundRtpStreamStats` ([`JitterStats`]).

mod buffer;
mod config;
mod delay;
mod packet_buffer;
mod stats;
pub mod stretch;
mod sync_buffer;

pub use buffer::{Insertion, JitterBuffer, Playout};
pub use config::JitterBufferConfig;
pub use stats::{JitterStats, OperationCounts};

use thiserror::Error;

use crate::codec::CodecError;

/// Why a jitter-buffer call failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum JitterError {
    /// A configuration field is out of range.
    #[error("jitter buffer setting {name} is out of range ({allowed})")]
    BadConfig {
        /// The field.
        name: &'static str,
        /// What is allowed.
        allowed: &'static str,
    },
    /// The output buffer of a pull is not 10 ms long.
    #[error("pull buffer holds {got} samples; 10 ms is {expected} (all channels)")]
    BadOutput {
        /// Samples 10 ms takes, all channels interleaved.
        expected: usize,
        /// Samples given.
        got: usize,
    },
    /// The decoder could not be created.
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// The time-stretcher could not be created.
    #[error(transparent)]
    Stretch(#[from] stretch::StretchError),
}
