//! The `neteq` crate (0.9.1, videocall-rs's NetEQ-inspired jitter buffer) as a peer.
//!
//! **Decoder**: neteq takes decoders through its `AudioDecoder` trait (one packet in, `f32`
//! PCM out), so this adapter plugs in MediaCore's own [`OpusDecoder`] (libopus 1.6.1 via the
//! `opus` crate): both sides of the comparison decode with the same code. The crate is built
//! without default features, so its own pure-Rust decoder (`ropus`) is not compiled. neteq
//! never asks the decoder for FEC or packet-loss concealment: it conceals with its own
//! "expand" (below).
//!
//! **Clock**: neteq reads `web_time::Instant::now()` itself and has no API taking a time: on
//! every inserted packet (the inter-arrival jitter behind its target delay, and the packet's
//! arrival stamp for its 2 s age limit) and for per-second statistics. The workspace patches
//! `web-time` with `benches/web-time-virtual`, whose `Instant::now()` returns the calling
//! thread's virtual clock while one is set; every call of this adapter into neteq (creation,
//! [`insert`](PeerJitterBuffer::insert), [`pull_10ms`](PeerJitterBuffer::pull_10ms)) first
//! sets that clock to the call's virtual time and restores the thread's previous clock after.
//! So a 60 s trace replays in a fraction of a second and neteq sees the trace's own timing.
//! Virtual time starts at 0 ms when the peer is created.
//!
//! **What neteq 0.9.1 does, as read in its source** (limits a reader of the figures should
//! know):
//! - Packets are kept in timestamp order and played one after the other. It does not look for
//!   gaps in sequence numbers or timestamps: a lost packet is not concealed in place, the next
//!   packet simply plays earlier (the timeline shortens by the lost 20 ms). Concealment only
//!   happens when the buffer runs short ("expand", counted in
//!   [`PeerStats::concealed_samples`]), and preemptive expand refills it.
//! - Its expand is not a pitch-repeating PLC: it outputs very quiet random noise (peaks at
//!   -86 dBFS), cross-faded over 3 ms at its start and end. Concealed audio is near-silence.
//! - A packet arriving after its turn is still inserted and played (in timestamp order among
//!   what is buffered), not dropped as late.
//! - Before the first packet, and whenever the buffer is empty, every pull is an expand.
//! - Its target delay follows the 97th percentile of a histogram of positive inter-arrival
//!   jitter (20 ms buckets; the worst jitter of each 500 ms goes in). Jitter there is the
//!   arrival gap minus the timestamp gap to the previous *arrival*, clamped at 0 for a
//!   reordered packet, so a packet delayed past its successors reads as a small jitter, not
//!   its real lateness. The target has a 20 ms floor. Until the first 500 ms
//!   have passed since the first packet the histogram is empty and the target is its
//!   maximum, 2 s: playout only starts about 500 ms after the first packet, with some 500 ms
//!   buffered, which it then accelerates away. This happens in real time too; the virtual
//!   clock does not cause it.
//! - Its lifetime `jitter_buffer_delay_ms` adds 10 ms per pull whatever the buffer holds, so
//!   this adapter reports the buffer level instead.
//! - Packet durations are whole milliseconds (20 ms Opus is exact).
//! - It orders packets by the raw `u32` timestamp, so across a timestamp wrap new packets
//!   sort before old ones, and its buffer-span arithmetic overflows (a panic in debug
//!   builds). The adapter therefore rebases timestamps: the first packet's becomes
//!   [`TIMESTAMP_BASE`] and the others keep their distance to it, so neteq sees no wrap for
//!   about 24 hours of 48 kHz stream. (Speex compares timestamps modulo 2^32.)

use std::time::Duration;

use media_core::codec::OpusDecoder;
use neteq::codec::AudioDecoder;
use neteq::{AudioPacket, NetEq, NetEqConfig, NetEqError, RtpHeader};
use web_time::virtual_clock;

use super::{
    Mean, PULL_SAMPLES, PeerError, PeerJitterBuffer, PeerStats, SAMPLE_RATE, SAMPLES_PER_MS,
};

/// RTP payload type the adapter files its packets and decoder under (any dynamic type).
const PAYLOAD_TYPE: u8 = 111;
/// SSRC of the one stream (neteq compares it when spotting duplicates).
const SSRC: u32 = 0x4D43_0001;
/// Largest Opus frame: 120 ms at 48 kHz.
const MAX_FRAME: usize = 5_760;
/// Where the adapter puts the first packet's timestamp: 2^20 samples (22 s at 48 kHz) of
/// room below it for packets that arrive reordered before the first one.
pub const TIMESTAMP_BASE: u32 = 1 << 20;
/// Latest virtual time accepted, ms (about 31 years): keeps the clock arithmetic finite.
const MAX_VIRTUAL_MS: f64 = 1e12;

/// MediaCore's Opus decoder behind neteq's decoder trait.
struct MediaCoreOpus {
    decoder: OpusDecoder,
    pcm: Vec<i16>,
}

impl AudioDecoder for MediaCoreOpus {
    fn sample_rate(&self) -> u32 {
        SAMPLE_RATE
    }

    fn channels(&self) -> u8 {
        1
    }

    fn decode(&mut self, encoded: &[u8]) -> neteq::Result<Vec<f32>> {
        let n = self
            .decoder
            .decode(encoded, &mut self.pcm)
            .map_err(|e| NetEqError::DecoderError(e.to_string()))?;
        // neteq's trait hands back a fresh Vec of f32 per packet: its API, not ours.
        Ok(self.pcm[..n]
            .iter()
            .map(|&s| f32::from(s) / 32_768.0)
            .collect())
    }
}

/// Sets this thread's virtual clock for the duration of one call into neteq, then puts back
/// whatever clock the thread had (so nothing else on the thread is left in virtual time).
struct AtVirtualTime(Option<Duration>);

impl AtVirtualTime {
    fn enter(ms: f64) -> Self {
        let previous = virtual_clock::get();
        // NaN and negative times count as 0; the clamp keeps from_secs_f64 from panicking.
        let ms = if ms.is_nan() {
            0.0
        } else {
            ms.clamp(0.0, MAX_VIRTUAL_MS)
        };
        virtual_clock::set(Duration::from_secs_f64(ms / 1_000.0));
        Self(previous)
    }
}

impl Drop for AtVirtualTime {
    fn drop(&mut self) {
        match self.0 {
            Some(t) => virtual_clock::set(t),
            None => virtual_clock::clear(),
        }
    }
}

/// neteq 0.9.1 with MediaCore's Opus decoder, driven in virtual time (see the module doc).
pub struct NetEqPeer {
    neteq: NetEq,
    /// Reads packet durations (neteq wants one per packet); never decodes.
    probe: OpusDecoder,
    /// The first packet's RTP timestamp: neteq sees `timestamp - first + TIMESTAMP_BASE`.
    first_timestamp: Option<u32>,
    packets_inserted: u64,
    refused: u64,
    emitted: u64,
    pull_errors: u64,
    accelerate_count: u64,
    decelerate_count: u64,
    last_removed: i64,
    last_inserted: i64,
    level: Mean,
}

impl std::fmt::Debug for NetEqPeer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetEqPeer")
            .field("packets_inserted", &self.packets_inserted)
            .field("emitted", &self.emitted)
            .finish_non_exhaustive()
    }
}

impl NetEqPeer {
    /// neteq with its default configuration (start delay 80 ms, at most 200 packets), mono
    /// 48 kHz.
    pub fn new() -> Result<Self, PeerError> {
        Self::with_config(NetEqConfig::default())
    }

    /// neteq with `config`; its sample rate and channel count are forced to mono 48 kHz.
    pub fn with_config(mut config: NetEqConfig) -> Result<Self, PeerError> {
        config.sample_rate = SAMPLE_RATE;
        config.channels = 1;
        let _t = AtVirtualTime::enter(0.0);
        let mut neteq = NetEq::new(config).map_err(|e| PeerError::Buffer(e.to_string()))?;
        let decoder = OpusDecoder::new(1).map_err(|e| PeerError::Decoder(e.to_string()))?;
        neteq.register_decoder(
            PAYLOAD_TYPE,
            Box::new(MediaCoreOpus {
                decoder,
                pcm: vec![0; MAX_FRAME],
            }),
        );
        Ok(Self {
            neteq,
            probe: OpusDecoder::new(1).map_err(|e| PeerError::Decoder(e.to_string()))?,
            first_timestamp: None,
            packets_inserted: 0,
            refused: 0,
            emitted: 0,
            pull_errors: 0,
            accelerate_count: 0,
            decelerate_count: 0,
            last_removed: 0,
            last_inserted: 0,
            level: Mean::default(),
        })
    }

    /// The wrapped neteq, for its full statistics (`get_statistics()`).
    pub fn neteq(&self) -> &NetEq {
        &self.neteq
    }

    /// Pulls for which neteq returned an error (the output was silence).
    pub fn pull_errors(&self) -> u64 {
        self.pull_errors
    }
}

impl PeerJitterBuffer for NetEqPeer {
    fn name(&self) -> &'static str {
        "neteq-rs"
    }

    fn insert(&mut self, arrival_ms: f64, seq: u16, timestamp: u32, payload: &[u8]) {
        self.packets_inserted += 1;
        // neteq sizes its buffer from each packet's duration, so a packet whose duration
        // cannot be read (empty or malformed) is refused rather than guessed.
        let samples = match self.probe.packet_samples(payload) {
            Ok(n) if n > 0 && !payload.is_empty() => n,
            _ => {
                self.refused += 1;
                return;
            }
        };
        // An Opus packet lasts 2.5..=120 ms; neteq counts whole milliseconds.
        let duration_ms = (samples * 1_000 / SAMPLE_RATE as usize).clamp(1, 120) as u32;
        let first = *self.first_timestamp.get_or_insert(timestamp);
        let timestamp = timestamp.wrapping_sub(first).wrapping_add(TIMESTAMP_BASE);
        let _t = AtVirtualTime::enter(arrival_ms);
        // AudioPacket::new stamps the arrival with Instant::now(): the virtual arrival time.
        let packet = AudioPacket::new(
            RtpHeader::new(seq, timestamp, SSRC, PAYLOAD_TYPE, false),
            payload.to_vec(),
            SAMPLE_RATE,
            1,
            duration_ms,
        );
        if self.neteq.insert_packet(packet).is_err() {
            self.refused += 1;
        }
    }

    fn pull_10ms(&mut self, now_ms: f64, out: &mut [i16; PULL_SAMPLES]) {
        let frame = {
            let _t = AtVirtualTime::enter(now_ms);
            self.neteq.get_audio()
        };
        match frame {
            Ok(frame) => {
                let n = frame.samples.len().min(PULL_SAMPLES);
                for (o, &s) in out.iter_mut().zip(&frame.samples[..n]) {
                    *o = (s * 32_768.0).round().clamp(-32_768.0, 32_767.0) as i16;
                }
                out[n..].fill(0);
            }
            Err(_) => {
                self.pull_errors += 1;
                out.fill(0);
            }
        }
        self.emitted += PULL_SAMPLES as u64;

        // Count stretch operations from the movement of neteq's cumulative counters: each
        // pull performs at most one. The counters are u64 sums of i32 amounts cast to u64,
        // so reading them back as i64 gives the true signed totals.
        let lifetime = self.neteq.get_statistics().lifetime;
        let removed = lifetime.removed_samples_for_acceleration as i64;
        let inserted = lifetime.inserted_samples_for_deceleration as i64;
        if removed != self.last_removed {
            self.accelerate_count += 1;
            self.last_removed = removed;
        }
        if inserted != self.last_inserted {
            self.decelerate_count += 1;
            self.last_inserted = inserted;
        }
        self.level
            .add(self.neteq.current_buffer_size_samples() as f64 / SAMPLES_PER_MS);
    }

    /// neteq's own counters: concealed samples are its expands (including pulls before the
    /// first packet); the buffer level is the audio neteq holds (packets not yet decoded plus
    /// decoded samples not yet played, losses not counted); the target is its delay manager's.
    /// Discarded packets are the adapter's refusals plus neteq's late discards (packets older
    /// than 2 s); neteq's overflow flushes are not in that count.
    fn stats(&self) -> PeerStats {
        let s = self.neteq.get_statistics();
        PeerStats {
            packets_inserted: self.packets_inserted,
            emitted_samples: self.emitted,
            concealed_samples: Some(s.lifetime.concealed_samples),
            inserted_samples: Some(s.lifetime.inserted_samples_for_deceleration as i64),
            removed_samples: Some(s.lifetime.removed_samples_for_acceleration as i64),
            accelerate_count: Some(self.accelerate_count),
            decelerate_count: Some(self.decelerate_count),
            buffer_level_ms: Some(self.neteq.current_buffer_size_samples() as f64 / SAMPLES_PER_MS),
            mean_buffer_level_ms: self.level.get(),
            target_delay_ms: Some(f64::from(s.target_delay_ms)),
            mean_packet_wait_ms: None,
            discarded_packets: Some(self.refused + s.lifetime.late_packets_discarded),
        }
    }
}
