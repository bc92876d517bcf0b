//! An audio call between two engines: capture → Opus → RTP → SRTP out, SRTP → RTP →
//! jitter buffer → Opus → playout in, with RTCP reports, statistics and an E-model MOS.
//!
//! A call is split in two halves joined by lock-free single-producer single-consumer rings
//! ([`ringbuf`]): the [`AudioSide`] runs on the real-time audio thread (it never locks,
//! allocates or blocks), the [`NetworkSide`] on a network thread or task. Both are sans-IO:
//! they take the time as an argument, so a call runs as well on a virtual clock and the
//! network simulator as on real sockets.

mod audio_side;
mod capture_clock;
mod config;
pub mod emodel;
mod network_side;
mod packet;
mod reception;
pub mod sdp;
pub mod session;
pub mod simulated;
mod stats;
pub mod udp;

use std::sync::Arc;
use std::time::{Duration, Instant};

use ringbuf::HeapRb;
use ringbuf::traits::Split;
use thiserror::Error;

pub use audio_side::AudioSide;
pub use config::{AudioCallConfig, SrtpKeys};
pub use network_side::{NetworkSide, Received};
pub use stats::CallStats;

use crate::codec::CodecError;
use crate::jitter::JitterError;
use crate::rtp::RtpError;
use crate::rtp::rtcp::{CompoundError, RtcpError};
use crate::srtp::SrtpError;
use packet::ReceivedPacket;

/// Why a call operation failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CallError {
    /// The codec refused a setting or a frame.
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// The jitter buffer refused a setting or a buffer.
    #[error(transparent)]
    Jitter(#[from] JitterError),
    /// SRTP refused keys or a packet.
    #[error(transparent)]
    Srtp(#[from] SrtpError),
    /// An RTP packet could not be parsed or written.
    #[error(transparent)]
    Rtp(#[from] RtpError),
    /// An RTCP packet could not be parsed or written.
    #[error(transparent)]
    Rtcp(#[from] RtcpError),
    /// An RTCP compound broke RFC 3550's rules.
    #[error(transparent)]
    RtcpCompound(#[from] CompoundError),
    /// An RTP packet carried a payload type this call did not negotiate.
    #[error("RTP payload type {0} is not the call's audio payload type")]
    UnexpectedPayloadType(u8),
    /// SRTP has no keys yet (DTLS has not finished).
    #[error("SRTP is not keyed yet (DTLS has not finished)")]
    NotKeyed,
    /// The ring to the audio side was full: the audio thread is not running.
    #[error("the audio side is not draining received packets (ring full)")]
    RingFull,
    /// A capture block was not 10 ms long.
    #[error("capture block holds {got} samples; 10 ms is {expected} (all channels)")]
    BadCapture {
        /// Samples 10 ms takes, all channels interleaved.
        expected: usize,
        /// Samples given.
        got: usize,
    },
    /// A configuration value is out of range.
    #[error("call setting {name} is out of range ({allowed})")]
    BadConfig {
        /// The setting.
        name: &'static str,
        /// What is allowed.
        allowed: &'static str,
    },
}

/// Creates both halves of a call at `now`; `unix_time` (time since 1970) anchors the NTP
/// timestamps of RTCP sender reports.
pub fn audio_call(
    config: AudioCallConfig,
    now: Instant,
    unix_time: Duration,
) -> Result<(AudioSide, NetworkSide), CallError> {
    if config.cname.is_empty() || config.cname.len() > 255 {
        return Err(CallError::BadConfig {
            name: "cname",
            allowed: "1 to 255 bytes",
        });
    }
    if !(40..=2000).contains(&config.ring_ms) {
        return Err(CallError::BadConfig {
            name: "ring_ms",
            allowed: "40..=2000",
        });
    }
    let capture_channels = usize::from(config.encoder.channels);
    let capture_len = 480 * capture_channels;
    let ring_samples = config.ring_ms as usize * 48 * capture_channels;
    let (capture_tx, capture_rx) = HeapRb::<i16>::new(ring_samples).split();
    // Room for the packets of the ring's duration at 10 ms each, twice over for bursts.
    let packet_slots = (config.ring_ms as usize / 10) * 2;
    let (packets_tx, packets_rx) = HeapRb::<ReceivedPacket>::new(packet_slots).split();
    let (stats_tx, stats_rx) = HeapRb::new(4).split();
    let jitter = crate::jitter::JitterBuffer::new(config.jitter)?;
    let capture_clock = Arc::new(capture_clock::CaptureClock::new(now));
    let network = NetworkSide::new(
        config,
        network_side::Rings {
            capture: capture_rx,
            capture_clock: Arc::clone(&capture_clock),
            packets: packets_tx,
            stats: stats_rx,
        },
        now,
        unix_time,
    )?;
    let audio = AudioSide {
        capture: capture_tx,
        capture_clock,
        capture_waker: None,
        packets: packets_rx,
        stats: stats_tx,
        jitter,
        capture_len,
        capture_overruns: 0,
        pulls: 0,
    };
    Ok((audio, network))
}
