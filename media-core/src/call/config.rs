//! How an audio call is set up.

use std::time::Duration;

use crate::codec::{OpusBandwidth, OpusEncoderConfig};
use crate::jitter::JitterBufferConfig;
use crate::srtp::SrtpProfile;

/// SRTP keying of both directions (from DTLS-SRTP in a WebRTC call, or given).
#[derive(Clone, PartialEq, Eq)]
pub struct SrtpKeys {
    /// The protection profile of both directions.
    pub profile: SrtpProfile,
    /// Master key of what this side sends.
    pub send_key: Vec<u8>,
    /// Master salt of what this side sends.
    pub send_salt: Vec<u8>,
    /// Master key of what this side receives.
    pub receive_key: Vec<u8>,
    /// Master salt of what this side receives.
    pub receive_salt: Vec<u8>,
}

impl std::fmt::Debug for SrtpKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("SrtpKeys")
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

impl SrtpKeys {
    /// The keys the other side of a call uses: this side's send keys are its receive keys.
    pub fn mirrored(&self) -> Self {
        Self {
            profile: self.profile,
            send_key: self.receive_key.clone(),
            send_salt: self.receive_salt.clone(),
            receive_key: self.send_key.clone(),
            receive_salt: self.send_salt.clone(),
        }
    }
}

/// Everything an audio call is configured with.
#[derive(Debug, Clone)]
pub struct AudioCallConfig {
    /// SSRC of the stream this side sends.
    pub ssrc: u32,
    /// RTP payload type of Opus (dynamic; 111 in most WebRTC offers).
    pub payload_type: u8,
    /// RTCP CNAME (at most 255 bytes).
    pub cname: String,
    /// The encoder. The call runs at 48 kHz; `encoder.channels` is what is captured.
    pub encoder: OpusEncoderConfig,
    /// The receive side's jitter buffer; `jitter.channels` is what is played.
    pub jitter: JitterBufferConfig,
    /// SRTP keys; `None` when they come later from DTLS
    /// ([`NetworkSide::set_srtp_keys`](super::NetworkSide::set_srtp_keys)).
    pub srtp: Option<SrtpKeys>,
    /// Time between RTCP reports.
    pub rtcp_interval: Duration,
    /// Capture audio the rings between the audio side and the network side hold, ms.
    pub ring_ms: u32,
}

impl AudioCallConfig {
    /// A configuration with WebRTC's usual values and the given SSRC, CNAME and keys.
    pub fn new(ssrc: u32, cname: &str, srtp: SrtpKeys) -> Self {
        Self {
            srtp: Some(srtp),
            ..Self::keyed_later(ssrc, cname)
        }
    }

    /// The same, with SRTP keys to come from DTLS once the transport connects.
    pub fn keyed_later(ssrc: u32, cname: &str) -> Self {
        Self {
            ssrc,
            payload_type: 111,
            cname: cname.to_owned(),
            // Speech up to 8 kHz, coded by SILK alone: every bit goes to the band speech
            // lives in, and a lost packet is rebuilt by SILK's in-band FEC and its LPC-based
            // concealment, which hybrid mode's CELT layer lacks. Measured (WB-PESQ, 48 kbit/s,
            // docs/benchmarks.md): 4.40 clean and 3.61 on the wifi trace, against 4.26 and
            // 3.37 with fullband allowed.
            encoder: OpusEncoderConfig {
                max_bandwidth: OpusBandwidth::Wideband,
                ..OpusEncoderConfig::default()
            },
            jitter: JitterBufferConfig::default(),
            srtp: None,
            rtcp_interval: Duration::from_secs(1),
            ring_ms: 200,
        }
    }
}
