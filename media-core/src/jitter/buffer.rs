//! The jitter buffer: packets in, 10 ms of audio out, and the playout decisions between.

use std::time::Instant;

use super::JitterError;
use super::config::JitterBufferConfig;
use super::delay::DelayEstimator;
use super::packet_buffer::{PacketBuffer, Stored};
use super::stats::JitterStats;
use super::stretch::{CORRELATION_THRESHOLD, TimeStretcher};
use super::sync_buffer::{Origin, SyncBuffer};
use crate::codec::OpusDecoder;
use crate::codec::opus::{MAX_PACKET, packet_has_fec};
use crate::rtp::RtpPacket;
use crate::rtp::sequence::{SequenceUnwrapper, TimestampUnwrapper};

/// Samples per channel per ms at the Opus clock rate.
const PER_MS: u64 = 48;
/// One pull: 10 ms.
const PULL: usize = 480;
/// The longest Opus packet: 120 ms.
const MAX_FRAME: usize = 5760;
/// Time-stretching works on this much decoded audio (30 ms), like NetEq.
const STRETCH_WINDOW: usize = 1440;
/// Concealment and comfort noise come in blocks of this many samples (one pull).
const CONCEAL_BLOCK: usize = PULL;
/// A sequence number this far from the highest seen starts a new stream.
const MAX_SEQ_JUMP: u64 = 1000;
/// A timestamp jump backwards of more than 1 s, or forwards of more than a minute, with
/// sequence numbers going forwards, means the sender reset its clock.
const MAX_TS_BACK: u64 = 48_000;
const MAX_TS_FORWARD: u64 = 60 * 48_000;
/// The last 10 ms played below this RMS (about −60 dBFS) makes a concealment comfort noise.
const SILENCE_RMS: f64 = 32.0;
/// Late packets up to this far behind their playout time (ms) still count in the arrival
/// statistics; later ones are spikes the target should not chase.
const LATE_COUNTED_MS: f64 = 60.0;
/// Duplicate detection looks back this many sequence numbers.
const SEEN_WINDOW: u64 = 128;

/// The weakest periodicity accepted for accelerate when the delay is far above target.
const URGENT_CORRELATION: f32 = 0.5;

/// What happened to an inserted packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insertion {
    /// Stored for playout.
    Stored,
    /// Already received: dropped.
    Duplicate,
    /// Arrived after its playout time: dropped (`packetsDiscarded`).
    Late,
    /// Stored, but the buffer was full, so its oldest packet was dropped.
    Overflow,
    /// Started a new stream: SSRC change or a sequence/timestamp jump. Stored.
    Resync,
}

/// What a pull produced, by the last operation that filled it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Playout {
    /// No packet has arrived yet, or playout has not started: silence, not counted.
    Idle,
    /// Decoded audio.
    Normal,
    /// Decoded audio following concealment.
    Merge,
    /// Concealment of missing audio.
    Expand,
    /// Comfort noise during silence.
    ComfortNoise,
    /// Audio rebuilt from forward error correction.
    Fec,
    /// Decoded audio, shortened to reduce delay.
    Accelerate,
    /// Decoded audio, lengthened to build up delay.
    PreemptiveExpand,
}

/// An adaptive jitter buffer for one Opus stream at 48 kHz.
///
/// Sans-IO: [`insert`](Self::insert) takes each packet with its arrival time, and
/// [`pull`](Self::pull) is called every 10 ms with the current time and returns 10 ms of
/// audio. It decides how to fill each pull — decode, conceal, rebuild with FEC, time-stretch
/// — from the playout delay it measures against a target estimated from arrival statistics
/// (see the `delay` module). Memory is allocated once, in [`new`](Self::new); inserting and
/// pulling allocate nothing.
pub struct JitterBuffer {
    config: JitterBufferConfig,
    channels: usize,
    decoder: OpusDecoder,
    stretcher: TimeStretcher,
    packets: PacketBuffer,
    sync: SyncBuffer,
    estimator: DelayEstimator,
    decoded: Vec<i16>,
    stretched: Vec<i16>,
    epoch: Option<Instant>,
    last_ms: f64,
    stream: StreamState,
    /// Extended timestamp of the next audio to decode; `None` until the first packet.
    next_ts: Option<u64>,
    playing: bool,
    /// Concealed samples added since the last decode without moving `next_ts`.
    waited: usize,
    last_op: Playout,
    silent_run: bool,
    last_rms: f64,
    last_packet_samples: usize,
    stats: JitterStats,
}

impl std::fmt::Debug for JitterBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JitterBuffer")
            .field("config", &self.config)
            .field("next_ts", &self.next_ts)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// Sequence and loss accounting of the current stream.
#[derive(Debug, Clone)]
struct StreamState {
    ssrc: Option<u32>,
    seq: SequenceUnwrapper,
    ts: TimestampUnwrapper,
    first_seq: u64,
    highest_seq: u64,
    /// Bit i set: sequence number `highest_seq − i` was received.
    seen: u128,
    received: u64,
    /// `packetsLost` of the streams before the last resync.
    lost_before: i64,
}

impl StreamState {
    fn new(lost_before: i64) -> Self {
        Self {
            ssrc: None,
            seq: SequenceUnwrapper::new(),
            ts: TimestampUnwrapper::new(),
            first_seq: 0,
            highest_seq: 0,
            seen: 0,
            received: 0,
            lost_before,
        }
    }

    fn lost(&self) -> i64 {
        if self.received == 0 {
            return self.lost_before;
        }
        let expected = self.highest_seq - self.first_seq + 1;
        self.lost_before + expected as i64 - self.received as i64
    }

    /// Marks `seq` received; false when it already was (or is too old to tell, which is
    /// treated as a duplicate: it could not be played anyway).
    fn mark(&mut self, seq: u64) -> bool {
        if self.received == 0 {
            self.first_seq = seq;
            self.highest_seq = seq;
            self.seen = 1;
            self.received = 1;
            return true;
        }
        if seq > self.highest_seq {
            let shift = seq - self.highest_seq;
            self.seen = if shift >= SEEN_WINDOW {
                0
            } else {
                self.seen << shift
            };
            self.seen |= 1;
            self.highest_seq = seq;
            self.received += 1;
            return true;
        }
        let back = self.highest_seq - seq;
        if back >= SEEN_WINDOW {
            return false;
        }
        let bit = 1u128 << back;
        if self.seen & bit != 0 {
            return false;
        }
        self.seen |= bit;
        self.received += 1;
        if seq < self.first_seq {
            self.first_seq = seq;
        }
        true
    }
}

impl JitterBuffer {
    /// A buffer with its decoder; allocates everything it will use.
    pub fn new(config: JitterBufferConfig) -> Result<Self, JitterError> {
        config.validate()?;
        let channels = usize::from(config.channels);
        let estimator = DelayEstimator::new(
            f64::from(config.start_delay_ms),
            f64::from(config.max_delay_ms),
            config.delay_quantile,
            config.forget_factor,
            config.reorder_ms_per_loss_percent,
        );
        Ok(Self {
            decoder: OpusDecoder::new(config.channels)?,
            stretcher: TimeStretcher::new(config.channels)?,
            packets: PacketBuffer::new(config.max_packets),
            // Room for a pull's leftover, two 120 ms frames, and a stretch that grows.
            sync: SyncBuffer::new(channels, 4 * MAX_FRAME),
            estimator,
            decoded: vec![0; MAX_FRAME * channels],
            stretched: vec![0; 2 * STRETCH_WINDOW * channels],
            epoch: None,
            last_ms: 0.0,
            stream: StreamState::new(0),
            next_ts: None,
            playing: false,
            waited: 0,
            last_op: Playout::Idle,
            silent_run: false,
            last_rms: 0.0,
            last_packet_samples: 960,
            stats: JitterStats::default(),
            channels,
            config,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &JitterBufferConfig {
        &self.config
    }

    /// Counters and the current delays.
    pub fn stats(&self) -> JitterStats {
        let mut s = self.stats;
        s.packets_lost = self.stream.lost();
        s.target_delay_ms = self.target_ms();
        s.playout_delay_ms = self.playout_delay_ms();
        s.buffered_packets = self.packets.len();
        s
    }

    /// The current playout offset behind the fastest arrival path, ms (0 before playout
    /// starts): what [`stats`](Self::stats) reports as `playout_delay_ms`, without the copy.
    pub fn playout_delay_ms(&self) -> f64 {
        self.playout_delay_ms_at(self.last_ms).unwrap_or(0.0)
    }

    fn ms(&mut self, now: Instant) -> f64 {
        let epoch = *self.epoch.get_or_insert(now);
        // A clock that steps back (a caller bug) must not run time backwards inside.
        let ms = now.saturating_duration_since(epoch).as_secs_f64() * 1000.0;
        self.last_ms = self.last_ms.max(ms);
        self.last_ms
    }

    fn target_ms(&self) -> f64 {
        self.estimator.target_ms().clamp(
            f64::from(self.config.min_delay_ms),
            f64::from(self.config.max_delay_ms),
        )
    }

    /// Inserts a parsed (and already unprotected) RTP packet that arrived at `now`.
    pub fn insert_rtp(&mut self, now: Instant, packet: &RtpPacket<'_>) -> Insertion {
        self.insert(
            now,
            packet.ssrc(),
            packet.sequence_number(),
            packet.timestamp(),
            packet.payload(),
        )
    }

    /// Inserts one Opus packet, given by its RTP fields, that arrived at `now`.
    pub fn insert(
        &mut self,
        now: Instant,
        ssrc: u32,
        sequence: u16,
        timestamp: u32,
        payload: &[u8],
    ) -> Insertion {
        let now_ms = self.ms(now);
        let mut resynced = false;
        if self.stream.ssrc.is_some_and(|s| s != ssrc) {
            self.resync(true);
            resynced = true;
        }
        self.stream.ssrc = Some(ssrc);
        let (seq, ts) = match self.unwrap(sequence, timestamp) {
            Some(v) => v,
            None => {
                // Too far from the stream to place: a new stream.
                self.resync(false);
                resynced = true;
                self.stream.ssrc = Some(ssrc);
                match self.unwrap(sequence, timestamp) {
                    Some(v) => v,
                    None => return Insertion::Late,
                }
            }
        };
        if !self.stream.mark(seq) {
            self.stats.packets_duplicated += 1;
            return Insertion::Duplicate;
        }
        self.stats.packets_received += 1;
        let reordered = seq < self.stream.highest_seq;
        let late_ms = self
            .next_ts
            .map_or(0.0, |next| next.saturating_sub(ts) as f64 / PER_MS as f64);
        // A packet a little late is the clearest sign the target is too low: it counts in
        // the arrival statistics even though it cannot be played. One far behind is a delay
        // spike, which no sensible target covers: counting it would only inflate the delay
        // long after the spike.
        if late_ms <= LATE_COUNTED_MS {
            self.estimator
                .update(now_ms, ts as f64 / PER_MS as f64, reordered);
        }
        if late_ms > 0.0 {
            self.stats.packets_discarded += 1;
            return Insertion::Late;
        }
        let samples = self
            .decoder
            .packet_samples(payload)
            .ok()
            .filter(|&n| n > 0 && n <= MAX_FRAME)
            .unwrap_or(0) as u32;
        let payload = &payload[..payload.len().min(MAX_PACKET)];
        let (stored, dropped) = self.packets.insert(seq, ts, now_ms, samples, payload);
        if self.next_ts.is_none() {
            self.next_ts = Some(ts);
        }
        match stored {
            Stored::Duplicate => {
                self.stats.packets_duplicated += 1;
                Insertion::Duplicate
            }
            Stored::Refused => {
                self.stats.packets_discarded += 1;
                Insertion::Late
            }
            Stored::Overflowed => {
                self.stats.packets_discarded += u64::from(dropped.is_some());
                Insertion::Overflow
            }
            Stored::Kept if resynced => Insertion::Resync,
            Stored::Kept => Insertion::Stored,
        }
    }

    /// Extends sequence number and timestamp, or `None` when they jump too far to belong
    /// to the current stream.
    fn unwrap(&mut self, sequence: u16, timestamp: u32) -> Option<(u64, u64)> {
        let fresh = self.stream.received == 0;
        let mut seq_unwrap = self.stream.seq;
        let mut ts_unwrap = self.stream.ts;
        let seq = seq_unwrap.unwrap(sequence)?;
        let ts = ts_unwrap.unwrap(timestamp)?;
        if !fresh {
            let highest = self.stream.highest_seq;
            if seq.abs_diff(highest) > MAX_SEQ_JUMP {
                return None;
            }
            if seq > highest {
                if let Some(next) = self.next_ts {
                    if ts + MAX_TS_BACK < next || ts > next + MAX_TS_FORWARD {
                        return None;
                    }
                }
            }
        }
        self.stream.seq = seq_unwrap;
        self.stream.ts = ts_unwrap;
        Some((seq, ts))
    }

    /// Starts over for a new stream: packets dropped, timing reference forgotten, the
    /// network statistics kept.
    fn resync(&mut self, new_source: bool) {
        self.stats.resyncs += 1;
        let dropped = self.packets.clear();
        self.stats.packets_discarded += dropped as u64;
        let lost = self.stream.lost();
        self.stream = StreamState::new(lost);
        self.estimator.reset_reference();
        self.next_ts = None;
        self.playing = false;
        self.waited = 0;
        self.sync.clear();
        if new_source {
            // A different source's audio must not be blended with the old one's.
            let _ = self.decoder.reset();
        }
    }

    /// The playout offset behind the fastest arrival path, ms, at `now_ms`: how late the
    /// next sample to be played is, compared with when a packet on the fastest path
    /// arrives.
    fn playout_delay_ms_at(&self, now_ms: f64) -> Option<f64> {
        let next = self.next_ts?;
        let min_transit = self.estimator.min_transit()?;
        let media = self.sync.media_len() as f64;
        let play_ms = (next as f64 - media) / PER_MS as f64;
        Some(now_ms - min_transit - play_ms)
    }

    /// Fills `out` with the next 10 ms of audio (480 samples per channel, interleaved).
    pub fn pull(&mut self, now: Instant, out: &mut [i16]) -> Result<Playout, JitterError> {
        if out.len() != PULL * self.channels {
            return Err(JitterError::BadOutput {
                expected: PULL * self.channels,
                got: out.len(),
            });
        }
        let now_ms = self.ms(now);
        if !self.playing {
            let ready = self
                .playout_delay_ms_at(now_ms)
                .is_some_and(|p| p >= self.target_ms());
            if !ready {
                out.fill(0);
                if self.stats.total_samples_received > 0 {
                    // A restarted stream: the gap is silence the listener hears.
                    self.stats.total_samples_received += PULL as u64;
                    self.stats.concealed_samples += PULL as u64;
                    self.stats.silent_concealed_samples += PULL as u64;
                }
                return Ok(Playout::Idle);
            }
            self.playing = true;
        }
        // Each step adds at least one block; the bound only guards against a logic error
        // looping forever on hostile input.
        for _ in 0..16 {
            if self.sync.len() >= PULL {
                break;
            }
            self.produce(now_ms)?;
        }
        let target_s = (self.target_ms() + 0.5 * self.last_packet_samples as f64 / 48.0) / 1000.0;
        let stats = &mut self.stats;
        let n = self.sync.read(out, |count, origin| {
            let count64 = count as u64;
            match origin {
                Origin::Packet { arrival_ms } => {
                    stats.jitter_buffer_delay +=
                        count as f64 * (now_ms - arrival_ms).max(0.0) / 1000.0;
                    stats.jitter_buffer_target_delay += count as f64 * target_s;
                    stats.jitter_buffer_emitted_count += count64;
                }
                Origin::Concealed { silent, .. } => {
                    stats.concealed_samples += count64;
                    if silent {
                        stats.silent_concealed_samples += count64;
                    }
                }
            }
        });
        if n < PULL {
            out[n * self.channels..].fill(0);
            self.stats.concealed_samples += (PULL - n) as u64;
        }
        self.stats.total_samples_received += PULL as u64;
        self.last_rms = rms(out);
        Ok(self.last_op)
    }

    /// Adds at least one block of audio to the sync buffer.
    fn produce(&mut self, now_ms: f64) -> Result<(), JitterError> {
        let Some(next) = self.next_ts else {
            return self.conceal(false);
        };
        let target = self.target_ms();
        let delay = self.playout_delay_ms_at(now_ms).unwrap_or(target);
        let front = self.packets.front().map(|s| (s.ts, s.samples));
        match front {
            Some((ts, _)) if ts < next => {
                // Overlaps audio already played (a sender bug or a skip): drop it.
                self.packets.pop_front();
                self.stats.packets_discarded += 1;
                Ok(())
            }
            Some((ts, _)) if ts == next => {
                let concealing = matches!(self.last_op, Playout::Expand | Playout::ComfortNoise);
                if concealing && delay < 0.5 * target {
                    // Just recovered from concealment with little buffered: keep concealing
                    // a little longer so the next packets are not late again (postponed
                    // decoding), rather than decoding now and underrunning.
                    return self.conceal(false);
                }
                self.decode_front(concealing)?;
                if !concealing {
                    self.maybe_stretch(now_ms, target)?;
                }
                Ok(())
            }
            Some((ts, samples)) => {
                let gap = (ts - next) as usize;
                let late = delay >= target || gap > self.max_delay_samples();
                if !late {
                    // Wait for the missing packet: conceal without consuming its time.
                    return self.conceal(false);
                }
                if samples as usize == gap && self.front_has_fec() {
                    return self.recover_with_fec(gap);
                }
                if self.waited >= gap || gap > self.max_delay_samples() {
                    // The concealment already played stands in for the lost audio.
                    self.next_ts = Some(ts);
                    self.waited = 0;
                    self.stats.operations.skip += 1;
                    return Ok(());
                }
                self.conceal(true)
            }
            None => self.conceal(false),
        }
    }

    fn max_delay_samples(&self) -> usize {
        self.config.max_delay_ms as usize * PER_MS as usize
    }

    fn front_has_fec(&self) -> bool {
        self.packets
            .front()
            .is_some_and(|s| packet_has_fec(s.payload()))
    }

    /// Decodes the front packet into the sync buffer.
    fn decode_front(&mut self, after_concealment: bool) -> Result<(), JitterError> {
        let Some(index) = self.packets.pop_front() else {
            return Ok(());
        };
        let slot = self.packets.slot(index);
        let (ts, arrival_ms, declared) = (slot.ts, slot.arrival_ms, slot.samples as usize);
        let frame = &mut self.decoded;
        let decoded = self.decoder.decode(slot.payload(), frame);
        let samples = match decoded {
            Ok(n) if n > 0 && n <= MAX_FRAME => n,
            _ => {
                // Not decodable: conceal its duration (as declared, else as the next
                // packet's timestamp says, else as long as the last one).
                self.stats.decode_errors += 1;
                let span = if declared > 0 {
                    declared
                } else {
                    self.packets
                        .front()
                        .map(|s| (s.ts - ts) as usize)
                        .filter(|&d| d > 0 && d <= MAX_FRAME)
                        .unwrap_or(self.last_packet_samples)
                };
                self.next_ts = Some(ts + span as u64);
                return self.conceal_span(span, true);
            }
        };
        self.last_packet_samples = samples;
        self.append_decoded(samples, Origin::Packet { arrival_ms });
        self.next_ts = Some(ts + samples as u64);
        self.waited = 0;
        if after_concealment {
            self.stats.operations.merge += 1;
            self.last_op = Playout::Merge;
        } else {
            self.stats.operations.normal += 1;
            self.last_op = Playout::Normal;
        }
        Ok(())
    }

    fn append_decoded(&mut self, samples: usize, origin: Origin) {
        let len = samples * self.channels;
        let tail = self.sync.tail(samples);
        let n = tail.len().min(len);
        tail[..n].copy_from_slice(&self.decoded[..n]);
        self.sync.commit(n / self.channels, origin);
    }

    /// Rebuilds the lost packet before the front one from the front one's FEC data.
    fn recover_with_fec(&mut self, gap: usize) -> Result<(), JitterError> {
        let Some(slot) = self.packets.front() else {
            return Ok(());
        };
        let arrival_ms = slot.arrival_ms;
        let frame = &mut self.decoded[..gap * self.channels];
        match self.decoder.decode_fec(slot.payload(), frame) {
            Ok(n) if n == gap => {
                self.append_decoded(gap, Origin::Packet { arrival_ms });
                if let Some(next) = self.next_ts.as_mut() {
                    *next += gap as u64;
                }
                self.stats.packets_recovered_by_fec += 1;
                self.stats.operations.fec += 1;
                self.last_op = Playout::Fec;
                Ok(())
            }
            _ => self.conceal(true),
        }
    }

    /// Conceals one block. `consumes` when it stands for audio known to be lost (the
    /// decode position moves on); otherwise it buys time while waiting for a packet.
    fn conceal(&mut self, consumes: bool) -> Result<(), JitterError> {
        let block = match (consumes, self.next_ts, self.packets.front()) {
            (true, Some(next), Some(front)) if front.ts > next => {
                // Conceal up to the next packet, in whole 2.5 ms steps (what libopus takes).
                let gap = ((front.ts - next) as usize).min(CONCEAL_BLOCK);
                gap - gap % 120
            }
            _ => CONCEAL_BLOCK,
        };
        if block == 0 {
            // Less than 2.5 ms to the next packet: skip it rather than conceal.
            if let (Some(front), Some(next)) = (self.packets.front(), self.next_ts.as_mut()) {
                *next = front.ts;
            }
            return Ok(());
        }
        if consumes {
            if let Some(next) = self.next_ts.as_mut() {
                *next += block as u64;
            }
        } else {
            self.waited += block;
        }
        self.conceal_span(block, consumes)
    }

    /// Appends `samples` of codec concealment (comfort noise in silence).
    fn conceal_span(&mut self, samples: usize, consumes: bool) -> Result<(), JitterError> {
        let starting = !matches!(self.last_op, Playout::Expand | Playout::ComfortNoise);
        if starting {
            self.silent_run = self.last_rms < SILENCE_RMS;
            self.stats.concealment_events += 1;
        }
        let mut left = samples;
        while left > 0 {
            // libopus conceals at most 120 ms per call, in multiples of 2.5 ms.
            let step = left.min(MAX_FRAME);
            let step = if step % 120 == 0 {
                step
            } else {
                step - step % 120
            };
            let step = step.max(120);
            let frame = &mut self.decoded[..step * self.channels];
            if self.decoder.conceal(frame).is_err() {
                frame.fill(0);
            }
            self.append_decoded(
                step,
                Origin::Concealed {
                    silent: self.silent_run,
                    consumes,
                },
            );
            left = left.saturating_sub(step);
        }
        if self.silent_run {
            self.stats.operations.comfort_noise += 1;
            self.last_op = Playout::ComfortNoise;
        } else {
            self.stats.operations.expand += 1;
            self.last_op = Playout::Expand;
        }
        Ok(())
    }

    /// After a normal decode: shortens or lengthens the decoded audio by a pitch period
    /// when the playout delay has drifted from the target.
    fn maybe_stretch(&mut self, now_ms: f64, target: f64) -> Result<(), JitterError> {
        let Some(delay) = self.playout_delay_ms_at(now_ms) else {
            return Ok(());
        };
        let high = target + (0.25 * target).max(10.0);
        let low = target - (0.25 * target).max(5.0);
        let accelerate = delay > high;
        let expand = delay < low;
        if !accelerate && !expand {
            return Ok(());
        }
        if self.sync.len() < STRETCH_WINDOW {
            // Time-stretching needs 30 ms; decode the next packet too if it is here.
            let next_ready = self
                .packets
                .front()
                .is_some_and(|s| Some(s.ts) == self.next_ts && s.samples > 0);
            if next_ready {
                self.decode_front(false)?;
            }
        }
        if self.sync.len() < STRETCH_WINDOW || self.sync.concealed_len() > 0 {
            return Ok(());
        }
        // Far above target (drift, or the end of a delay spike): accept a weaker match
        // rather than keep the extra delay.
        let urgent = delay > high + 30.0;
        self.stretcher.set_min_correlation(if urgent {
            URGENT_CORRELATION
        } else {
            CORRELATION_THRESHOLD
        });
        let input = &self.sync.pending()[..STRETCH_WINDOW * self.channels];
        let outcome = if accelerate {
            self.stretcher.accelerate(input, &mut self.stretched)
        } else {
            self.stretcher.preemptive_expand(input, &mut self.stretched)
        };
        let Ok(outcome) = outcome else {
            return Ok(());
        };
        if outcome.lag == 0 {
            return Ok(());
        }
        let written = outcome.written * self.channels;
        self.sync
            .replace_front(STRETCH_WINDOW, &self.stretched[..written]);
        if accelerate {
            let removed = (STRETCH_WINDOW - outcome.written) as u64;
            self.stats.removed_samples_for_acceleration += removed;
            self.stats.operations.accelerate += 1;
            self.last_op = Playout::Accelerate;
        } else {
            let inserted = (outcome.written - STRETCH_WINDOW) as u64;
            self.stats.inserted_samples_for_deceleration += inserted;
            self.stats.operations.preemptive_expand += 1;
            self.last_op = Playout::PreemptiveExpand;
        }
        Ok(())
    }
}

/// RMS of interleaved samples.
fn rms(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    // Integer squares add exactly and in any order, so the loop vectorizes (a chain of f64
    // adds cannot be reordered and cost about a microsecond per packet).
    let sum: u64 = samples
        .iter()
        .map(|&s| u64::from(i32::from(s).unsigned_abs().pow(2)))
        .sum();
    (sum as f64 / samples.len() as f64).sqrt()
}
