//! libspeexdsp's adaptive jitter buffer (1.2.1, Debian `libspeexdsp-dev`) as a peer.
//!
//! Two layers:
//! - [`SpeexJitterBuffer`]: the bare buffer behind a safe API (`put` / `get` / `tick`), for the
//!   CPU-per-packet comparison and for callers that decode themselves.
//! - [`SpeexPeer`]: that buffer plus MediaCore's [`OpusDecoder`] as a [`PeerJitterBuffer`]:
//!   packets the buffer returns are decoded, and `JITTER_BUFFER_MISSING` /
//!   `JITTER_BUFFER_INSERTION` are filled with the decoder's packet-loss concealment (no FEC:
//!   the buffer does not offer the next packet).
//!
//! The functions are declared here: crates.io `speexdsp-sys` 0.1.2 does bind the jitter
//! buffer, but generates its bindings at build time with bindgen 0.37 (libclang, 2018-era
//! dependencies) for a handful of functions. The struct layout is that of
//! `/usr/include/speex/speex_jitter.h`; a test checks it against the C compiler's offsets.
//!
//! **Units and time.** Timestamps, spans, step and margin are all in one unit chosen by the
//! caller; here it is the RTP clock of Opus, 48 kHz samples (a 20 ms packet spans 960). The
//! buffer reads no clock: time is the sequence of calls. Each `get` takes the next
//! `desired_span` of audio and `tick` marks the end of that playout period; a `put` between
//! two gets counts as arriving during that period, so the replay must interleave puts and
//! gets in virtual-time order (the [`PeerJitterBuffer`] contract does). The delay adapts in
//! multiples of the step size given at creation (960 = 20 ms or 480 = 10 ms).
//!
//! **What speex does** (from libspeexdsp's jitter.c): on the first `get` after packets arrive
//! it starts playing at the oldest one, with no initial buffering; it then learns how late
//! packets arrive relative to their playout (the last ~100 packets over 3 sub-windows) and
//! moves its delay, in steps, to the value that minimises delay plus a cost per late packet
//! (up to 4 % late by default). Growing the delay is an "insertion" of concealment; shrinking
//! it skips audio. Packets older than the playout point are dropped on the next `put`.

use std::collections::VecDeque;
use std::ffi::{c_char, c_int, c_void};
use std::ptr::NonNull;

use media_core::codec::OpusDecoder;

use super::{Mean, PULL_SAMPLES, PeerError, PeerJitterBuffer, PeerStats, SAMPLES_PER_MS};

/// `JitterBuffer` (opaque).
#[repr(C)]
struct JitterBuffer {
    _opaque: [u8; 0],
}

/// `JitterBufferPacket`, field for field as in speex_jitter.h.
#[repr(C)]
struct JitterBufferPacket {
    data: *mut c_char,
    len: u32,
    timestamp: u32,
    span: u32,
    sequence: u16,
    user_data: u32,
}

const JITTER_BUFFER_OK: c_int = 0;
const JITTER_BUFFER_MISSING: c_int = 1;
const JITTER_BUFFER_INSERTION: c_int = 2;

const JITTER_BUFFER_SET_MARGIN: c_int = 0;
const JITTER_BUFFER_GET_AVAILABLE_COUNT: c_int = 3;
const JITTER_BUFFER_SET_MAX_LATE_RATE: c_int = 10;
const JITTER_BUFFER_SET_LATE_COST: c_int = 12;

// Linked by build.rs (pkg-config speexdsp).
unsafe extern "C" {
    fn jitter_buffer_init(step_size: c_int) -> *mut JitterBuffer;
    fn jitter_buffer_reset(jitter: *mut JitterBuffer);
    fn jitter_buffer_destroy(jitter: *mut JitterBuffer);
    fn jitter_buffer_put(jitter: *mut JitterBuffer, packet: *const JitterBufferPacket);
    fn jitter_buffer_get(
        jitter: *mut JitterBuffer,
        packet: *mut JitterBufferPacket,
        desired_span: i32,
        start_offset: *mut i32,
    ) -> c_int;
    fn jitter_buffer_get_pointer_timestamp(jitter: *mut JitterBuffer) -> c_int;
    fn jitter_buffer_tick(jitter: *mut JitterBuffer);
    fn jitter_buffer_update_delay(
        jitter: *mut JitterBuffer,
        packet: *mut JitterBufferPacket,
        start_offset: *mut i32,
    ) -> c_int;
    fn jitter_buffer_ctl(jitter: *mut JitterBuffer, request: c_int, ptr: *mut c_void) -> c_int;
}

/// Largest payload [`SpeexJitterBuffer::put`] accepts, bytes (an Ethernet MTU). `get` copies
/// into a buffer of exactly this size, so no stored packet can be truncated.
pub const MAX_PAYLOAD: usize = 1_500;

/// What [`SpeexJitterBuffer::get`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpeexGet {
    /// `JITTER_BUFFER_OK`: a packet, its payload in the first `len` bytes of the caller's
    /// buffer. `start_offset` is where it starts relative to the playout point (negative:
    /// its first `-start_offset` units were already due and should be skipped).
    Packet {
        /// Payload length in bytes.
        len: usize,
        /// Its timestamp.
        timestamp: u32,
        /// Its span.
        span: u32,
        /// Its sequence number.
        sequence: u16,
        /// The value given to `put`.
        user_data: u32,
        /// Its start relative to the playout point.
        start_offset: i32,
    },
    /// `JITTER_BUFFER_MISSING`: nothing to play for `span` units; conceal them. A span of 0
    /// means the buffer has not started (no packet yet).
    Missing {
        /// Units to conceal.
        span: u32,
    },
    /// `JITTER_BUFFER_INSERTION`: play `span` units of concealment to grow the delay; the
    /// playout point did not move.
    Insertion {
        /// Units to insert.
        span: u32,
    },
    /// Any other return code (libspeexdsp 1.2.1 returns none other).
    Error(i32),
}

/// libspeexdsp's jitter buffer, owned; destroyed on drop.
#[derive(Debug)]
pub struct SpeexJitterBuffer {
    jb: NonNull<JitterBuffer>,
}

impl SpeexJitterBuffer {
    /// A buffer whose delay moves and whose concealment comes in multiples of `step`
    /// timestamp units (960 or 480 at 48 kHz).
    pub fn new(step: u32) -> Result<Self, PeerError> {
        let step = c_int::try_from(step)
            .ok()
            .filter(|&s| s > 0)
            .ok_or_else(|| PeerError::Buffer(format!("step {step} out of range")))?;
        // SAFETY: plain call; the result is checked for NULL (allocation failure).
        let jb = unsafe { jitter_buffer_init(step) };
        let jb = NonNull::new(jb)
            .ok_or_else(|| PeerError::Buffer("jitter_buffer_init returned NULL".into()))?;
        Ok(Self { jb })
    }

    /// Stores a copy of `payload` (the buffer copies it: no destroy callback is set).
    /// Returns false, storing nothing, for an empty payload (speex would lose it: it marks
    /// free slots by a NULL copy) or one over [`MAX_PAYLOAD`].
    pub fn put(
        &mut self,
        payload: &[u8],
        timestamp: u32,
        span: u32,
        sequence: u16,
        user_data: u32,
    ) -> bool {
        if payload.is_empty() || payload.len() > MAX_PAYLOAD {
            return false;
        }
        let packet = JitterBufferPacket {
            // speex only reads through `data` in put; the mut cast is what the C struct wants.
            data: payload.as_ptr().cast::<c_char>().cast_mut(),
            len: payload.len() as u32,
            timestamp,
            span,
            sequence,
            user_data,
        };
        // SAFETY: `self.jb` is live (owned, freed only in Drop); `packet` points to
        // `payload.len()` readable bytes that outlive the call, and speex copies them before
        // returning (copy mode, as no destroy callback was set).
        unsafe { jitter_buffer_put(self.jb.as_ptr(), &packet) };
        true
    }

    /// Takes the next `desired_span` units: a packet copied into `out`, or the span to
    /// conceal. Follow every get with [`Self::tick`].
    pub fn get(&mut self, desired_span: u32, out: &mut [u8; MAX_PAYLOAD]) -> SpeexGet {
        let mut packet = JitterBufferPacket {
            data: out.as_mut_ptr().cast::<c_char>(),
            len: MAX_PAYLOAD as u32,
            timestamp: 0,
            span: 0,
            sequence: 0,
            user_data: 0,
        };
        let mut start_offset: i32 = 0;
        let desired = i32::try_from(desired_span).unwrap_or(i32::MAX);
        // SAFETY: `self.jb` is live; `packet.data` points to `out`, MAX_PAYLOAD writable
        // bytes, and `packet.len` says so: speex copies at most `len` bytes, and put() never
        // stores more than MAX_PAYLOAD. `start_offset` is a live out-parameter.
        let code =
            unsafe { jitter_buffer_get(self.jb.as_ptr(), &mut packet, desired, &mut start_offset) };
        match code {
            JITTER_BUFFER_OK => SpeexGet::Packet {
                len: (packet.len as usize).min(MAX_PAYLOAD),
                timestamp: packet.timestamp,
                span: packet.span,
                sequence: packet.sequence,
                user_data: packet.user_data,
                start_offset,
            },
            JITTER_BUFFER_MISSING => SpeexGet::Missing { span: packet.span },
            JITTER_BUFFER_INSERTION => SpeexGet::Insertion { span: packet.span },
            other => SpeexGet::Error(other),
        }
    }

    /// Ends one playout period: adapts the delay (unless [`Self::update_delay`] was ever
    /// called) and marks where the next get will be.
    pub fn tick(&mut self) {
        // SAFETY: `self.jb` is live.
        unsafe { jitter_buffer_tick(self.jb.as_ptr()) };
    }

    /// Adapts the delay now and returns the change in units (negative: it will insert;
    /// positive: it skipped). Speex then stops adapting by itself in `tick`.
    pub fn update_delay(&mut self) -> i32 {
        // SAFETY: `self.jb` is live; speex accepts NULL for both (unused) out-parameters.
        unsafe {
            jitter_buffer_update_delay(self.jb.as_ptr(), std::ptr::null_mut(), std::ptr::null_mut())
        }
    }

    /// The timestamp the next get will play from.
    pub fn pointer_timestamp(&self) -> u32 {
        // SAFETY: `self.jb` is live; the call only reads the state.
        unsafe { jitter_buffer_get_pointer_timestamp(self.jb.as_ptr()) as u32 }
    }

    /// Packets buffered at or after the playout point.
    pub fn available_count(&self) -> u32 {
        let mut count: i32 = 0;
        // SAFETY: `self.jb` is live; this request writes one spx_int32_t through the pointer.
        unsafe {
            jitter_buffer_ctl(
                self.jb.as_ptr(),
                JITTER_BUFFER_GET_AVAILABLE_COUNT,
                (&mut count as *mut i32).cast(),
            )
        };
        u32::try_from(count).unwrap_or(0)
    }

    /// Minimum extra buffering, in units (default 0).
    pub fn set_margin(&mut self, units: i32) {
        self.set(JITTER_BUFFER_SET_MARGIN, units);
    }

    /// Late-packet rate the delay choice tolerates at most, percent (default 4).
    pub fn set_max_late_rate(&mut self, percent: i32) {
        // speex divides by it.
        self.set(JITTER_BUFFER_SET_MAX_LATE_RATE, percent.max(1));
    }

    /// Delay, in units, worth one percent of late packets (default 0: automatic).
    pub fn set_late_cost(&mut self, units: i32) {
        self.set(JITTER_BUFFER_SET_LATE_COST, units);
    }

    /// Forgets every packet and restarts as new.
    pub fn reset(&mut self) {
        // SAFETY: `self.jb` is live.
        unsafe { jitter_buffer_reset(self.jb.as_ptr()) };
    }

    fn set(&mut self, request: c_int, mut value: i32) {
        // SAFETY: `self.jb` is live; the SET requests used here read one spx_int32_t.
        unsafe { jitter_buffer_ctl(self.jb.as_ptr(), request, (&mut value as *mut i32).cast()) };
    }
}

impl Drop for SpeexJitterBuffer {
    fn drop(&mut self) {
        // SAFETY: `self.jb` came from jitter_buffer_init and is destroyed only here, once;
        // destroy frees the stored packet copies too.
        unsafe { jitter_buffer_destroy(self.jb.as_ptr()) };
    }
}

/// Largest Opus frame: 120 ms at 48 kHz.
const MAX_FRAME: usize = 5_760;
/// Samples of concealment asked of the decoder at once (20 ms; a multiple of 2.5 ms).
const CONCEAL_CHUNK: usize = 960;
/// What each get asks for: one 20 ms packet.
const DESIRED_SPAN: u32 = 960;

/// The speex jitter buffer with MediaCore's Opus decoder, as a [`PeerJitterBuffer`].
///
/// Every 20 ms of output it does one get (asking for 960 units) and one tick: a packet is
/// decoded, `MISSING` and `INSERTION` are concealed by the decoder for their span, and the
/// audio queues until pulled. Its statistics:
/// - concealed samples: every sample not decoded from a packet (MISSING, INSERTION, silence
///   before the first packet);
/// - inserted samples: INSERTION spans (also counted as concealed); removed samples: audio
///   the buffer skipped when it lowered its delay;
/// - buffer level: from the playout point to the end of the newest packet received, plus
///   decoded audio not yet pulled (losses inside that range count: it is the wait a packet
///   arriving now would see);
/// - packet wait: from a packet's arrival (kept to 0.1 ms in `user_data`) to the moment its
///   first sample leaves `pull_10ms`;
/// - discarded packets: refused by `put` (empty or oversized) or unparsable; speex drops late
///   packets silently, so they are not counted.
pub struct SpeexPeer {
    jb: SpeexJitterBuffer,
    decoder: OpusDecoder,
    payload: Box<[u8; MAX_PAYLOAD]>,
    pcm: Vec<i16>,
    queue: VecDeque<i16>,
    /// End (timestamp + span) of the newest packet put.
    newest_end: Option<u32>,
    /// Whether speex has started playing (its playout point means something).
    started: bool,
    packets_inserted: u64,
    refused: u64,
    emitted: u64,
    concealed: u64,
    inserted: i64,
    removed: i64,
    accelerate_count: u64,
    decelerate_count: u64,
    level: Mean,
    last_level_ms: f64,
    wait: Mean,
}

impl std::fmt::Debug for SpeexPeer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpeexPeer")
            .field("packets_inserted", &self.packets_inserted)
            .field("emitted", &self.emitted)
            .finish_non_exhaustive()
    }
}

impl SpeexPeer {
    /// A speex buffer adapting in steps of `step` samples (960 = 20 ms, or 480 = 10 ms) with
    /// its default settings, and a mono MediaCore Opus decoder.
    pub fn new(step: u32) -> Result<Self, PeerError> {
        Ok(Self {
            jb: SpeexJitterBuffer::new(step)?,
            decoder: OpusDecoder::new(1).map_err(|e| PeerError::Decoder(e.to_string()))?,
            payload: Box::new([0; MAX_PAYLOAD]),
            pcm: vec![0; MAX_FRAME],
            queue: VecDeque::with_capacity(4 * MAX_FRAME),
            newest_end: None,
            started: false,
            packets_inserted: 0,
            refused: 0,
            emitted: 0,
            concealed: 0,
            inserted: 0,
            removed: 0,
            accelerate_count: 0,
            decelerate_count: 0,
            level: Mean::default(),
            last_level_ms: 0.0,
            wait: Mean::default(),
        })
    }

    /// The buffer itself, to change its settings.
    pub fn buffer_mut(&mut self) -> &mut SpeexJitterBuffer {
        &mut self.jb
    }

    /// Queues `n` samples of the decoder's packet-loss concealment.
    fn conceal(&mut self, n: usize) {
        self.concealed += n as u64;
        let mut rest = n;
        while rest > 0 {
            // libopus conceals whole 2.5 ms (120-sample) units.
            let take = rest.min(CONCEAL_CHUNK);
            let ask = take.div_ceil(120) * 120;
            match self.decoder.conceal(&mut self.pcm[..ask]) {
                Ok(_) => self.queue.extend(&self.pcm[..take]),
                Err(_) => self.queue.extend(std::iter::repeat_n(0, take)),
            }
            rest -= take;
        }
    }

    /// One playout period: get, decode or conceal, tick. `start_ms` is when the audio it
    /// queues will start leaving `pull_10ms`.
    fn period(&mut self, start_ms: f64) {
        let queued = self.queue.len();
        match self.jb.get(DESIRED_SPAN, &mut self.payload) {
            SpeexGet::Packet {
                len,
                span,
                user_data,
                start_offset,
                ..
            } => {
                self.started = true;
                self.wait.add(start_ms - f64::from(user_data) / 10.0);
                match self.decoder.decode(&self.payload[..len], &mut self.pcm) {
                    Ok(n) => {
                        // A packet overlapping the playout point loses its past part; one
                        // starting after it leaves a gap to conceal first.
                        let skip = usize::try_from(-i64::from(start_offset))
                            .unwrap_or(0)
                            .min(n);
                        if let Ok(gap) = usize::try_from(start_offset) {
                            if gap > 0 {
                                self.conceal(gap);
                            }
                        }
                        self.queue.extend(&self.pcm[skip..n]);
                    }
                    Err(_) => self.conceal(span as usize),
                }
            }
            SpeexGet::Missing { span } => self.conceal(span as usize),
            SpeexGet::Insertion { span } => {
                self.conceal(span as usize);
                self.inserted += i64::from(span);
                self.decelerate_count += 1;
            }
            SpeexGet::Error(_) => {}
        }
        if self.queue.len() == queued {
            // Nothing playable (not started yet, or an error): 20 ms of concealment keeps
            // the output going and the loop in pull_10ms finite.
            self.conceal(DESIRED_SPAN as usize);
        }
        let before = self.jb.pointer_timestamp();
        self.jb.tick();
        // A forward jump of the playout point in tick is audio skipped to cut the delay
        // (a backward one is an insertion, counted when get returns it).
        let jump = self.jb.pointer_timestamp().wrapping_sub(before) as i32;
        if self.started && jump > 0 {
            self.removed += i64::from(jump);
            self.accelerate_count += 1;
        }
    }

    fn buffer_level_ms(&self) -> f64 {
        let buffered = match (self.started, self.newest_end) {
            (true, Some(end)) => {
                f64::from((end.wrapping_sub(self.jb.pointer_timestamp()) as i32).max(0))
            }
            _ => 0.0,
        };
        (buffered + self.queue.len() as f64) / SAMPLES_PER_MS
    }
}

impl PeerJitterBuffer for SpeexPeer {
    fn name(&self) -> &'static str {
        "speexdsp"
    }

    fn insert(&mut self, arrival_ms: f64, seq: u16, timestamp: u32, payload: &[u8]) {
        self.packets_inserted += 1;
        let span = match self.decoder.packet_samples(payload) {
            Ok(n) if n > 0 => n as u32,
            _ => {
                self.refused += 1;
                return;
            }
        };
        // Arrival in 0.1 ms units rides in user_data (enough for 119 hours).
        let arrival = (arrival_ms * 10.0).round().clamp(0.0, f64::from(u32::MAX)) as u32;
        if !self.jb.put(payload, timestamp, span, seq, arrival) {
            self.refused += 1;
            return;
        }
        let end = timestamp.wrapping_add(span);
        match self.newest_end {
            Some(newest) if (end.wrapping_sub(newest) as i32) <= 0 => {}
            _ => self.newest_end = Some(end),
        }
    }

    fn pull_10ms(&mut self, now_ms: f64, out: &mut [i16; PULL_SAMPLES]) {
        while self.queue.len() < PULL_SAMPLES {
            let start_ms = now_ms + self.queue.len() as f64 / SAMPLES_PER_MS;
            self.period(start_ms);
        }
        for (o, s) in out.iter_mut().zip(self.queue.drain(..PULL_SAMPLES)) {
            *o = s;
        }
        self.emitted += PULL_SAMPLES as u64;
        self.last_level_ms = self.buffer_level_ms();
        self.level.add(self.last_level_ms);
    }

    fn stats(&self) -> PeerStats {
        PeerStats {
            packets_inserted: self.packets_inserted,
            emitted_samples: self.emitted,
            concealed_samples: Some(self.concealed),
            inserted_samples: Some(self.inserted),
            removed_samples: Some(self.removed),
            accelerate_count: Some(self.accelerate_count),
            decelerate_count: Some(self.decelerate_count),
            buffer_level_ms: Some(self.last_level_ms),
            mean_buffer_level_ms: self.level.get(),
            target_delay_ms: None,
            mean_packet_wait_ms: self.wait.get(),
            discarded_packets: Some(self.refused),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_struct_matches_the_c_layout() {
        // Offsets printed by gcc for speex_jitter.h on x86_64 / aarch64 Linux (LP64).
        assert_eq!(std::mem::size_of::<JitterBufferPacket>(), 32);
        assert_eq!(std::mem::offset_of!(JitterBufferPacket, len), 8);
        assert_eq!(std::mem::offset_of!(JitterBufferPacket, timestamp), 12);
        assert_eq!(std::mem::offset_of!(JitterBufferPacket, span), 16);
        assert_eq!(std::mem::offset_of!(JitterBufferPacket, sequence), 20);
        assert_eq!(std::mem::offset_of!(JitterBufferPacket, user_data), 24);
    }

    #[test]
    fn put_get_round_trips_a_payload() {
        let Ok(mut jb) = SpeexJitterBuffer::new(960) else {
            panic!("jitter_buffer_init failed");
        };
        assert!(jb.put(&[1, 2, 3], 960, 960, 7, 42));
        assert!(!jb.put(&[], 1920, 960, 8, 0));
        assert_eq!(jb.available_count(), 1);
        let mut out = [0u8; MAX_PAYLOAD];
        let got = jb.get(960, &mut out);
        jb.tick();
        assert_eq!(
            got,
            SpeexGet::Packet {
                len: 3,
                timestamp: 960,
                span: 960,
                sequence: 7,
                user_data: 42,
                start_offset: 0
            }
        );
        assert_eq!(&out[..3], &[1, 2, 3]);
        assert_eq!(jb.pointer_timestamp(), 1920);
        assert_eq!(jb.get(960, &mut out), SpeexGet::Missing { span: 960 });
        jb.tick();
    }
}
