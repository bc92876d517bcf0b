//! A call's statistics snapshot.

use super::emodel::{CodecImpairment, EModelInput, burst_ratio, estimate};
use crate::jitter::JitterStats;

/// What a call reports once a second: network figures from RTP and RTCP, the jitter
/// buffer's counters, and an E-model estimate of the listening quality.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CallStats {
    /// RTP packets sent (DTX frames are not).
    pub packets_sent: u64,
    /// Payload bytes sent.
    pub octets_sent: u64,
    /// Encoded frames that were DTX and so not sent.
    pub dtx_frames_not_sent: u64,
    /// RTP packets received and authenticated (duplicates included).
    pub packets_received: u64,
    /// Packets lost on the way in (RFC 3550 cumulative loss).
    pub packets_lost: i64,
    /// Interarrival jitter of the received stream (RFC 3550), ms.
    pub jitter_ms: f64,
    /// Round-trip time from the last RTCP report block about our stream, ms.
    pub rtt_ms: Option<f64>,
    /// Fraction of our packets the other side lost in its last interval (0–1).
    pub remote_fraction_lost: Option<f64>,
    /// Jitter the other side measured on our stream, ms.
    pub remote_jitter_ms: Option<f64>,
    /// RTCP compounds sent.
    pub rtcp_sent: u64,
    /// RTCP compounds received and authenticated.
    pub rtcp_received: u64,
    /// Datagrams dropped as malformed (after authentication).
    pub malformed: u64,
    /// Datagrams dropped because SRTP refused them (forged, replayed, corrupt).
    pub unauthenticated: u64,
    /// Received packets dropped because the audio side was not draining its ring.
    pub ring_overflows: u64,
    /// Estimated mouth-to-ear delay, ms: half the RTT, the jitter buffer's mean delay, one
    /// frame and the encoder's lookahead.
    pub one_way_delay_ms: f64,
    /// Packets lost or discarded as late, percent of those expected.
    pub loss_percent: f64,
    /// E-model (ITU-T G.107) MOS estimate of the received audio.
    pub mos: f64,
    /// The jitter buffer's counters, as last handed over by the audio side.
    pub jitter_buffer: JitterStats,
}

/// The E-model MOS of a call with this mouth-to-ear delay, loss and burstiness, for Opus
/// at `bitrate_bps`.
pub(crate) fn mos_estimate(
    one_way_ms: f64,
    loss_percent: f64,
    mean_burst: f64,
    bitrate_bps: u32,
) -> f64 {
    let input = EModelInput {
        one_way_delay_ms: one_way_ms,
        packet_loss_percent: loss_percent,
        burst_ratio: burst_ratio(loss_percent / 100.0, mean_burst),
        codec: CodecImpairment::opus(bitrate_bps),
    };
    estimate(&input).mos
}
