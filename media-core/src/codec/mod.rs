//! Codecs: Opus audio over libopus (the `opus` crate, libopus 1.6 bundled).
//!
//! Encoders and decoders work on caller buffers: after construction they allocate nothing
//! per frame.

pub mod error;
pub mod opus;

pub use error::CodecError;
pub use opus::{
    FrameDuration, OpusApplication, OpusBandwidth, OpusDecoder, OpusEncoder, OpusEncoderConfig,
};
