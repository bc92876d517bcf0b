//! MediaCore's engine as a Rust library.
//!
//! The protocol cores here are sans-IO: they take bytes (and, where time matters, an
//! `Instant`) in and hand bytes and events out. They open no socket and read no clock,
//! which is what lets them be tested to the millisecond and fuzzed.
//!
//! - [`rtp`]: RTP and RTCP packets as zero-copy views and writers (RFC 3550, 8285, 4585,
//!   5104, 5506, transport-wide congestion control).
//! - [`codec`]: Opus encoding and decoding into caller buffers.
//! - [`jitter`]: the adaptive audio jitter buffer with concealment and time-stretching.
//! - [`net`]: the network simulator (virtual clock, loss, delay, traces).
//! - [`call`]: the audio call pipeline, its statistics and E-model MOS.
//! - [`audio`]: WAV files.
//! - [`srtp`]: SRTP and SRTCP protection (RFC 3711, RFC 7714), in place, with no
//!   allocation per packet.

pub mod audio;
pub mod call;
pub mod codec;
pub mod jitter;
pub mod net;
pub mod rest;
pub mod rtp;
pub mod srtp;

/// The version of this crate, as `major.minor.patch`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
