//! Transport-wide congestion-control feedback (RTPFB FMT 15,
//! draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1).

use std::fmt;

use super::error::RtcpError;
use super::feedback::{FB_HEADER_LEN, FMT_TWCC, PT_RTPFB, write_fb_header};
use super::header::{self, HEADER_LEN};

/// Bytes of the fixed TWCC fields: base sequence, status count, reference time, fb count.
const FIXED_LEN: usize = 8;
/// Longest run a run-length chunk can carry (13 bits).
const MAX_RUN: usize = 0x1FFF;

/// Status symbols.
const NOT_RECEIVED: u8 = 0;
const SMALL_DELTA: u8 = 1;
const LARGE_DELTA: u8 = 2;

/// Receive deltas are in units of 250 µs.
pub const DELTA_TICK_US: i64 = 250;
/// The reference time is in units of 64 ms.
pub const REFERENCE_TICK_MS: i64 = 64;

fn status_of(delta: Option<i16>) -> u8 {
    match delta {
        None => NOT_RECEIVED,
        Some(0..=255) => SMALL_DELTA,
        Some(_) => LARGE_DELTA,
    }
}

/// The symbol at `i` of a chunk, and how many statuses the chunk covers.
fn chunk_symbol(chunk: u16, i: usize) -> u8 {
    if chunk & 0x8000 == 0 {
        ((chunk >> 13) & 0x3) as u8
    } else if chunk & 0x4000 == 0 {
        ((chunk >> (13 - i)) & 0x1) as u8
    } else {
        ((chunk >> (12 - 2 * i)) & 0x3) as u8
    }
}

fn chunk_len(chunk: u16) -> usize {
    if chunk & 0x8000 == 0 {
        usize::from(chunk & 0x1FFF)
    } else if chunk & 0x4000 == 0 {
        14
    } else {
        7
    }
}

/// The per-packet results of a feedback, in sequence order from the base sequence number:
/// `None` for a packet not received, `Some(delta)` in 250 µs ticks for one received.
#[derive(Clone, Copy)]
pub enum TwccPackets<'a> {
    /// Encoded chunks and deltas (validated at parse).
    Wire {
        /// Packet status count.
        count: u16,
        /// The packet chunks.
        chunks: &'a [u8],
        /// The receive deltas.
        deltas: &'a [u8],
    },
    /// Results to write (at most 65535).
    Items(&'a [Option<i16>]),
}

impl<'a> TwccPackets<'a> {
    /// Number of packets reported.
    pub fn len(&self) -> usize {
        match self {
            Self::Wire { count, .. } => usize::from(*count),
            Self::Items(i) => i.len(),
        }
    }

    /// Whether no packet is reported.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Each packet's receive delta, in sequence order.
    pub fn iter(&self) -> TwccIter<'a> {
        TwccIter {
            packets: *self,
            emitted: 0,
            chunk: 0,
            in_chunk: 0,
            delta_at: 0,
        }
    }
}

/// Iterator over the packets of a [`TwccPackets`].
#[derive(Debug, Clone)]
pub struct TwccIter<'a> {
    packets: TwccPackets<'a>,
    emitted: usize,
    chunk: usize,
    in_chunk: usize,
    delta_at: usize,
}

impl Iterator for TwccIter<'_> {
    type Item = Option<i16>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.emitted >= self.packets.len() {
            return None;
        }
        let (chunks, deltas) = match self.packets {
            TwccPackets::Items(items) => {
                let item = items[self.emitted];
                self.emitted += 1;
                return Some(item);
            }
            TwccPackets::Wire { chunks, deltas, .. } => (chunks, deltas),
        };
        loop {
            let b = chunks.get(2 * self.chunk..2 * self.chunk + 2)?;
            let chunk = u16::from_be_bytes([b[0], b[1]]);
            if self.in_chunk >= chunk_len(chunk) {
                self.chunk += 1;
                self.in_chunk = 0;
                continue;
            }
            let symbol = chunk_symbol(chunk, self.in_chunk);
            self.in_chunk += 1;
            self.emitted += 1;
            let delta = match symbol {
                SMALL_DELTA => {
                    let d = *deltas.get(self.delta_at)?;
                    self.delta_at += 1;
                    Some(i16::from(d))
                }
                LARGE_DELTA => {
                    let d = deltas.get(self.delta_at..self.delta_at + 2)?;
                    self.delta_at += 2;
                    Some(i16::from_be_bytes([d[0], d[1]]))
                }
                _ => None,
            };
            return Some(delta);
        }
    }
}

impl PartialEq for TwccPackets<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for TwccPackets<'_> {}

impl fmt::Debug for TwccPackets<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// A transport-wide congestion-control feedback packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransportFeedback<'a> {
    /// The sender of the feedback.
    pub sender_ssrc: u32,
    /// The media source (unused by the draft; usually the first media SSRC).
    pub media_ssrc: u32,
    /// Transport-wide sequence number of the first packet reported.
    pub base_seq: u16,
    /// Reference time, 24-bit signed, in 64 ms units.
    pub reference_time: i32,
    /// Feedback packet count, to detect lost feedback.
    pub fb_count: u8,
    /// The packets from `base_seq` on.
    pub packets: TwccPackets<'a>,
}

impl<'a> TransportFeedback<'a> {
    pub(crate) fn parse(
        sender_ssrc: u32,
        media_ssrc: u32,
        fci: &'a [u8],
    ) -> Result<Self, RtcpError> {
        if fci.len() < FIXED_LEN {
            return Err(RtcpError::BadFciLength {
                pt: PT_RTPFB,
                fmt: FMT_TWCC,
                len: fci.len(),
            });
        }
        let base_seq = u16::from_be_bytes([fci[0], fci[1]]);
        let count = u16::from_be_bytes([fci[2], fci[3]]);
        let reference_time = i32::from_be_bytes([fci[4], fci[5], fci[6], 0]) >> 8;
        let fb_count = fci[7];
        // Walk the chunks until they cover `count` statuses, adding up the delta bytes.
        let body = &fci[FIXED_LEN..];
        let (mut covered, mut at, mut delta_bytes) = (0usize, 0usize, 0usize);
        while covered < usize::from(count) {
            let Some(b) = body.get(at..at + 2) else {
                return Err(RtcpError::TwccStatusOverflow { count, covered });
            };
            let chunk = u16::from_be_bytes([b[0], b[1]]);
            let n = chunk_len(chunk).min(usize::from(count) - covered);
            for i in 0..n {
                match chunk_symbol(chunk, i) {
                    SMALL_DELTA => delta_bytes += 1,
                    LARGE_DELTA => delta_bytes += 2,
                    NOT_RECEIVED => {}
                    _ => return Err(RtcpError::TwccReservedSymbol),
                }
            }
            covered += n;
            at += 2;
        }
        let deltas = &body[at..];
        if deltas.len() < delta_bytes {
            return Err(RtcpError::TwccDeltasMissing {
                needed: delta_bytes,
                available: deltas.len(),
            });
        }
        Ok(Self {
            sender_ssrc,
            media_ssrc,
            base_seq,
            reference_time,
            fb_count,
            packets: TwccPackets::Wire {
                count,
                chunks: &body[..at],
                deltas: &deltas[..delta_bytes],
            },
        })
    }

    /// Each packet with its transport-wide sequence number.
    pub fn iter_with_seq(&self) -> impl Iterator<Item = (u16, Option<i16>)> + 'a {
        let base = self.base_seq;
        self.packets
            .iter()
            .enumerate()
            .map(move |(i, d)| (base.wrapping_add(i as u16), d))
    }

    fn body_len(&self) -> (usize, usize) {
        let chunks = Chunker::new(self.packets).count();
        let deltas = self
            .packets
            .iter()
            .map(|d| match status_of(d) {
                SMALL_DELTA => 1,
                LARGE_DELTA => 2,
                _ => 0,
            })
            .sum::<usize>();
        (chunks, deltas)
    }

    /// Bytes this packet takes on the wire (padded to 32 bits).
    pub fn encoded_len(&self) -> usize {
        let (chunks, deltas) = self.body_len();
        header::padded_len(HEADER_LEN + FB_HEADER_LEN + FIXED_LEN + 2 * chunks + deltas)
    }

    /// Writes the packet into `out`; returns its length.
    pub fn write_to(&self, out: &mut [u8]) -> Result<usize, RtcpError> {
        let count = u16::try_from(self.packets.len())
            .map_err(|_| RtcpError::FieldOutOfRange("packet status count"))?;
        if !(-(1 << 23)..(1 << 23)).contains(&self.reference_time) {
            return Err(RtcpError::FieldOutOfRange("reference time"));
        }
        let total = self.encoded_len();
        write_fb_header(
            out,
            FMT_TWCC,
            PT_RTPFB,
            total,
            self.sender_ssrc,
            self.media_ssrc,
        )?;
        let mut at = HEADER_LEN + FB_HEADER_LEN;
        out[at..at + 2].copy_from_slice(&self.base_seq.to_be_bytes());
        out[at + 2..at + 4].copy_from_slice(&count.to_be_bytes());
        out[at + 4..at + 7].copy_from_slice(&self.reference_time.to_be_bytes()[1..]);
        out[at + 7] = self.fb_count;
        at += FIXED_LEN;
        for chunk in Chunker::new(self.packets) {
            out[at..at + 2].copy_from_slice(&chunk.to_be_bytes());
            at += 2;
        }
        for delta in self.packets.iter().flatten() {
            if let Ok(small) = u8::try_from(delta) {
                out[at] = small;
                at += 1;
            } else {
                out[at..at + 2].copy_from_slice(&delta.to_be_bytes());
                at += 2;
            }
        }
        header::pad(out, at, total);
        Ok(total)
    }
}

/// The status symbols of a packet list, with one symbol of look-ahead.
type Statuses<'a> = std::iter::Peekable<std::iter::Map<TwccIter<'a>, fn(Option<i16>) -> u8>>;

/// Encodes statuses into chunks: a run-length chunk for runs of 7 or more, else a 1-bit
/// vector of 14 when no large delta is among them, else a 2-bit vector of 7. Allocation-free:
/// it looks ahead at most 14 statuses.
struct Chunker<'a> {
    statuses: Statuses<'a>,
    pending: [u8; 14],
    len: usize,
}

impl<'a> Chunker<'a> {
    fn new(packets: TwccPackets<'a>) -> Self {
        Self {
            statuses: packets
                .iter()
                .map(status_of as fn(Option<i16>) -> u8)
                .peekable(),
            pending: [0; 14],
            len: 0,
        }
    }

    /// Drops the first `n` pending statuses.
    fn consume(&mut self, n: usize) {
        self.pending.copy_within(n..self.len, 0);
        self.len -= n;
    }
}

impl Iterator for Chunker<'_> {
    type Item = u16;

    fn next(&mut self) -> Option<u16> {
        while self.len < self.pending.len() {
            match self.statuses.next() {
                Some(s) => {
                    self.pending[self.len] = s;
                    self.len += 1;
                }
                None => break,
            }
        }
        let pending = &self.pending[..self.len];
        let &first = pending.first()?;
        let run = pending.iter().take_while(|&&s| s == first).count();
        if run >= 7 {
            let mut len = run;
            let covers_all = run == self.len;
            self.consume(run);
            if covers_all {
                // Extend the run past the look-ahead window.
                while len < MAX_RUN && self.statuses.peek() == Some(&first) {
                    self.statuses.next();
                    len += 1;
                }
            }
            return Some((u16::from(first) << 13) | len as u16);
        }
        let one_bit = pending.iter().all(|&s| s != LARGE_DELTA);
        let (per_chunk, bits, kind) = if one_bit {
            (14, 1, 0x8000)
        } else {
            (7, 2, 0xC000)
        };
        let n = per_chunk.min(self.len);
        let mut chunk: u16 = kind;
        for (i, &s) in pending[..n].iter().enumerate() {
            chunk |= u16::from(s) << (14 - bits * (i + 1));
        }
        self.consume(n);
        Some(chunk)
    }
}
