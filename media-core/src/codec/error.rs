//! Errors of the codecs.

use thiserror::Error;

/// Why a codec call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum CodecError {
    /// A configuration value is out of range.
    #[error("codec setting {name} = {value} is out of range ({allowed})")]
    BadSetting {
        /// The setting.
        name: &'static str,
        /// The value given.
        value: i64,
        /// What is allowed.
        allowed: &'static str,
    },
    /// The PCM buffer does not hold exactly one frame.
    #[error("PCM buffer holds {got} samples; one frame is {expected} (all channels)")]
    BadFrameSize {
        /// Samples one frame takes, all channels interleaved.
        expected: usize,
        /// Samples given.
        got: usize,
    },
    /// libopus refused the call (for a decoder, usually a corrupt packet).
    #[error("libopus {function} failed: {reason}")]
    Opus {
        /// The libopus function.
        function: &'static str,
        /// libopus's description of the error code.
        reason: &'static str,
    },
}

impl From<::opus::Error> for CodecError {
    fn from(e: ::opus::Error) -> Self {
        Self::Opus {
            function: e.function(),
            reason: e.code().description(),
        }
    }
}
