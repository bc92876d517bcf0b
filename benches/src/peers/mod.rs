//! Peer jitter buffers for the jitter bench, behind one small trait.
//!
//! The bench replays a network trace of a 20 ms Opus stream (per packet: send time, arrival
//! time or lost) in virtual time: it calls [`PeerJitterBuffer::insert`] for every packet in
//! arrival order and [`PeerJitterBuffer::pull_10ms`] every 10 ms of virtual time, inserting
//! first every packet that has arrived by the pull's time. Times are milliseconds of virtual
//! time from the start of the replay (0), never decreasing. Audio is mono 48 kHz `i16`.
//!
//! Peers (and MediaCore itself, [`mediacore::MediaCorePeer`], so all replay alike):
//! - [`neteq::NetEqPeer`]: crates.io `neteq` 0.9.1 (videocall-rs's NetEQ port), decoding with
//!   MediaCore's [`OpusDecoder`](media_core::codec::OpusDecoder) plugged in as its decoder.
//! - [`speex_jitter::SpeexPeer`]: libspeexdsp's jitter buffer, whose packets are decoded and
//!   concealed with MediaCore's `OpusDecoder`; [`speex_jitter::SpeexJitterBuffer`] is the bare
//!   buffer (put / get / tick) for CPU comparisons.
//!
//! Each peer's statistics are its own accounting, gathered in [`PeerStats`]: a field is `None`
//! where the peer has no such figure. Their definitions differ in places; each field says how.

pub mod mediacore;
pub mod neteq;
pub mod speex_jitter;

use std::fmt;

/// Sample rate of every peer's input timestamps and output audio (Opus's RTP clock).
pub const SAMPLE_RATE: u32 = 48_000;
/// Samples in one 10 ms pull (mono, 48 kHz).
pub const PULL_SAMPLES: usize = 480;
/// Samples per millisecond at [`SAMPLE_RATE`].
pub const SAMPLES_PER_MS: f64 = 48.0;

/// A jitter buffer (with its decoder) that the jitter bench can replay a trace into.
pub trait PeerJitterBuffer {
    /// Short name for reports, e.g. `"neteq-rs"`.
    fn name(&self) -> &'static str;

    /// Gives the buffer one received packet: RTP sequence number, RTP timestamp (48 kHz),
    /// the Opus payload, and its arrival time in virtual ms. A packet the peer cannot take
    /// (empty, oversized, unparsable) is dropped and counted in
    /// [`PeerStats::discarded_packets`].
    fn insert(&mut self, arrival_ms: f64, seq: u16, timestamp: u32, payload: &[u8]);

    /// Takes the next 10 ms of mono 48 kHz audio at virtual time `now_ms`. Always fills
    /// `out` (with concealment or silence when the peer has nothing better).
    fn pull_10ms(&mut self, now_ms: f64, out: &mut [i16; PULL_SAMPLES]);

    /// The peer's statistics so far.
    fn stats(&self) -> PeerStats;
}

/// What a peer reports; `None` where it has no such figure.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PeerStats {
    /// Packets given to [`PeerJitterBuffer::insert`].
    pub packets_inserted: u64,
    /// Samples handed out by [`PeerJitterBuffer::pull_10ms`] (480 per call).
    pub emitted_samples: u64,
    /// Output samples that are loss concealment (or silence) rather than decoded packets,
    /// including those pulled before the first packet could play.
    pub concealed_samples: Option<u64>,
    /// Samples added to grow the buffer: time-stretching (neteq "preemptive expand") or
    /// inserted concealment (speex `JITTER_BUFFER_INSERTION`). Net of any negative stretch.
    pub inserted_samples: Option<i64>,
    /// Samples removed to shrink the buffer: time-compression (neteq "accelerate") or audio
    /// skipped by a delay decrease (speex). Net of any negative stretch.
    pub removed_samples: Option<i64>,
    /// Pulls in which the buffer shrank ([`Self::removed_samples`] moved).
    pub accelerate_count: Option<u64>,
    /// Pulls in which the buffer grew ([`Self::inserted_samples`] moved).
    pub decelerate_count: Option<u64>,
    /// Audio held at the last pull, ms (see each peer for what it counts).
    pub buffer_level_ms: Option<f64>,
    /// Mean of the buffer level sampled after every pull, ms: the peer's added delay.
    pub mean_buffer_level_ms: Option<f64>,
    /// The peer's own target delay at the last pull, ms.
    pub target_delay_ms: Option<f64>,
    /// Mean time from a packet's arrival to its first sample leaving `pull_10ms`, over the
    /// packets played, ms.
    pub mean_packet_wait_ms: Option<f64>,
    /// Packets dropped: refused by the adapter, or discarded by the peer as late, stale or
    /// overflowing where the peer counts that.
    pub discarded_packets: Option<u64>,
}

/// Why a peer could not be created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerError {
    /// The decoder could not be created.
    Decoder(String),
    /// The jitter buffer itself could not be created.
    Buffer(String),
}

impl fmt::Display for PeerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Decoder(e) => write!(f, "peer decoder: {e}"),
            Self::Buffer(e) => write!(f, "peer jitter buffer: {e}"),
        }
    }
}

impl std::error::Error for PeerError {}

/// A running mean, for statistics sampled once per pull or per packet.
#[derive(Debug, Clone, Copy, Default)]
struct Mean {
    sum: f64,
    count: u64,
}

impl Mean {
    fn add(&mut self, x: f64) {
        self.sum += x;
        self.count += 1;
    }

    fn get(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum / self.count as f64)
    }
}
