//! `mc_call_stats`: a plain struct snapshot of a call's statistics (names as in W3C
//! RTCInboundRtpStreamStats where there is one).

use std::ffi::c_char;

use media_core::call::session::SessionStats;

use crate::call::c_state;
use crate::events::mc_call_state;

/// A call's statistics at one moment. Unknown values are -1 (`rtt_ms`, `setup_time_ms`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct mc_call_stats {
    /// `MC_CALL_STATE_…`.
    pub state: mc_call_state,
    /// RTP packets sent.
    pub packets_sent: u64,
    /// Payload bytes sent.
    pub bytes_sent: u64,
    /// RTP packets received.
    pub packets_received: u64,
    /// Packets lost (RFC 3550's cumulative count; negative with duplicates).
    pub packets_lost: i64,
    /// Interarrival jitter, ms.
    pub jitter_ms: f64,
    /// Round-trip time from RTCP, ms; -1 before the first report.
    pub rtt_ms: f64,
    /// Estimated mean opinion score (E-model, 1–4.5).
    pub mos: f64,
    /// Samples played, concealment included.
    pub total_samples_received: u64,
    /// Samples made up by concealment.
    pub concealed_samples: u64,
    /// Concealment events.
    pub concealment_events: u64,
    /// Samples inserted to slow playout down.
    pub inserted_samples_for_deceleration: u64,
    /// Samples removed to speed playout up.
    pub removed_samples_for_acceleration: u64,
    /// Packets that arrived too late or duplicated and were dropped.
    pub packets_discarded: u64,
    /// Mean time samples spent in the jitter buffer (jitterBufferDelay / jitterBufferEmittedCount), ms.
    pub jitter_buffer_delay_ms: f64,
    /// Packets dropped as malformed or unauthenticated (SRTP), together.
    pub packets_rejected: u64,
    /// From the offer or answer to connected, ms; -1 until connected.
    pub setup_time_ms: f64,
    /// The selected pair's local candidate type ("host", "srflx", "relay"), "" before one.
    pub local_candidate_type: [c_char; 8],
    /// The selected pair's remote candidate type.
    pub remote_candidate_type: [c_char; 8],
}

fn fixed(text: &str) -> [c_char; 8] {
    let mut out = [0 as c_char; 8];
    for (o, b) in out.iter_mut().zip(text.bytes().take(7)) {
        *o = b as c_char;
    }
    out
}

/// The C snapshot of `s`.
pub fn to_c(s: &SessionStats) -> mc_call_stats {
    let c = &s.call;
    let jb = &c.jitter_buffer;
    let (local, remote) = s.selected_pair.as_ref().map_or(("", ""), |p| {
        (p.local_type.as_str(), p.remote_type.as_str())
    });
    mc_call_stats {
        state: c_state(s.state),
        packets_sent: c.packets_sent,
        bytes_sent: c.octets_sent,
        packets_received: c.packets_received,
        packets_lost: c.packets_lost,
        jitter_ms: c.jitter_ms,
        rtt_ms: c.rtt_ms.unwrap_or(-1.0),
        mos: c.mos,
        total_samples_received: jb.total_samples_received,
        concealed_samples: jb.concealed_samples,
        concealment_events: jb.concealment_events,
        inserted_samples_for_deceleration: jb.inserted_samples_for_deceleration,
        removed_samples_for_acceleration: jb.removed_samples_for_acceleration,
        packets_discarded: jb.packets_discarded,
        jitter_buffer_delay_ms: jb.mean_delay_ms(),
        packets_rejected: c.malformed + c.unauthenticated,
        setup_time_ms: s.setup_time.map_or(-1.0, |d| d.as_secs_f64() * 1000.0),
        local_candidate_type: fixed(local),
        remote_candidate_type: fixed(remote),
    }
}
