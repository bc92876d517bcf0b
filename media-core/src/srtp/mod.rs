//! SRTP and SRTCP (RFC 3711, RFC 7714): AES_CM_128_HMAC_SHA1_80/_32 and
//! AEAD_AES_128_GCM/AEAD_AES_256_GCM, in place, with no allocation per packet.
//!
//! Ciphers and MACs come from vetted crates with hardware acceleration: aws-lc-rs for
//! AES-GCM and constant-time comparison, RustCrypto `aes`/`ctr`/`hmac`/`sha1` (AES-NI,
//! SHA-NI detected at run time) for the counter-mode profiles, whose SHA-1 cost dominates.

mod cm;
pub mod context;
pub mod error;
mod gcm;
mod header;
mod kdf;
pub mod profile;
pub mod replay;
#[cfg(test)]
mod vectors;

pub use context::SrtpContext;
pub use error::SrtpError;
pub use profile::SrtpProfile;
pub use replay::{REPLAY_WINDOW_SIZE, ReplayWindow};
