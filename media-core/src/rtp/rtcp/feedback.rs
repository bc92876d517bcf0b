//! Feedback messages (RFC 4585): generic NACK, PLI, FIR (RFC 5104) and REMB
//! (draft-alvestrand-rmcat-remb).

use super::error::RtcpError;
use super::header::{self, HEADER_LEN, u32_at};
use super::list::{List, WireItem};

/// Packet type of transport-layer feedback.
pub const PT_RTPFB: u8 = 205;
/// Packet type of payload-specific feedback.
pub const PT_PSFB: u8 = 206;
/// RTPFB FMT of a generic NACK.
pub const FMT_NACK: u8 = 1;
/// RTPFB FMT of transport-wide congestion-control feedback.
pub const FMT_TWCC: u8 = 15;
/// PSFB FMT of a picture loss indication.
pub const FMT_PLI: u8 = 1;
/// PSFB FMT of a full intra request.
pub const FMT_FIR: u8 = 4;
/// PSFB FMT of application-layer feedback (REMB).
pub const FMT_AFB: u8 = 15;

/// Bytes of the feedback header after the common header: sender and media SSRC.
pub(crate) const FB_HEADER_LEN: usize = 8;

/// Writes the common and feedback headers of a feedback packet of `total` bytes.
pub(crate) fn write_fb_header(
    out: &mut [u8],
    fmt: u8,
    pt: u8,
    total: usize,
    sender_ssrc: u32,
    media_ssrc: u32,
) -> Result<(), RtcpError> {
    header::write(out, fmt, pt, total)?;
    out[4..8].copy_from_slice(&sender_ssrc.to_be_bytes());
    out[8..12].copy_from_slice(&media_ssrc.to_be_bytes());
    Ok(())
}

/// One NACK FCI entry: a lost packet id and a bitmask of the 16 following ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NackPair {
    /// Packet id (sequence number) of a lost packet.
    pub pid: u16,
    /// Bit i set: packet `pid + i + 1` is lost too.
    pub blp: u16,
}

impl WireItem for NackPair {
    const SIZE: usize = 4;
    fn read(b: &[u8]) -> Self {
        Self {
            pid: u16::from_be_bytes([b[0], b[1]]),
            blp: u16::from_be_bytes([b[2], b[3]]),
        }
    }
    fn write(&self, out: &mut [u8]) {
        out[..2].copy_from_slice(&self.pid.to_be_bytes());
        out[2..4].copy_from_slice(&self.blp.to_be_bytes());
    }
}

impl NackPair {
    /// The sequence numbers this entry reports lost.
    pub fn lost(&self) -> impl Iterator<Item = u16> + use<> {
        let (pid, blp) = (self.pid, self.blp);
        std::iter::once(pid).chain(
            (0..16u16)
                .filter(move |i| blp & (1 << i) != 0)
                .map(move |i| pid.wrapping_add(i + 1)),
        )
    }
}

/// A generic NACK (RTPFB FMT 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Nack<'a> {
    /// The sender of the feedback.
    pub sender_ssrc: u32,
    /// The media source the losses are on.
    pub media_ssrc: u32,
    /// The NACK entries.
    pub pairs: List<'a, NackPair>,
}

impl<'a> Nack<'a> {
    pub(crate) fn parse(
        sender_ssrc: u32,
        media_ssrc: u32,
        fci: &'a [u8],
    ) -> Result<Self, RtcpError> {
        if fci.is_empty() || fci.len() % NackPair::SIZE != 0 {
            return Err(RtcpError::BadFciLength {
                pt: PT_RTPFB,
                fmt: FMT_NACK,
                len: fci.len(),
            });
        }
        Ok(Self {
            sender_ssrc,
            media_ssrc,
            pairs: List::Wire(fci),
        })
    }

    /// Every sequence number reported lost, in entry order.
    pub fn lost(&self) -> impl Iterator<Item = u16> + 'a {
        self.pairs.iter().flat_map(|p| p.lost())
    }

    /// Bytes this packet takes on the wire.
    pub fn encoded_len(&self) -> usize {
        HEADER_LEN + FB_HEADER_LEN + self.pairs.encoded_len()
    }

    /// Writes the packet into `out`; returns its length.
    pub fn write_to(&self, out: &mut [u8]) -> Result<usize, RtcpError> {
        let total = self.encoded_len();
        write_fb_header(
            out,
            FMT_NACK,
            PT_RTPFB,
            total,
            self.sender_ssrc,
            self.media_ssrc,
        )?;
        self.pairs.write(&mut out[12..total]);
        Ok(total)
    }
}

/// A picture loss indication (PSFB FMT 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pli {
    /// The sender of the feedback.
    pub sender_ssrc: u32,
    /// The media source whose picture was lost.
    pub media_ssrc: u32,
}

impl Pli {
    pub(crate) fn parse(sender_ssrc: u32, media_ssrc: u32, fci: &[u8]) -> Result<Self, RtcpError> {
        if !fci.is_empty() {
            return Err(RtcpError::BadFciLength {
                pt: PT_PSFB,
                fmt: FMT_PLI,
                len: fci.len(),
            });
        }
        Ok(Self {
            sender_ssrc,
            media_ssrc,
        })
    }

    /// Bytes this packet takes on the wire.
    pub fn encoded_len(&self) -> usize {
        HEADER_LEN + FB_HEADER_LEN
    }

    /// Writes the packet into `out`; returns its length.
    pub fn write_to(&self, out: &mut [u8]) -> Result<usize, RtcpError> {
        let total = self.encoded_len();
        write_fb_header(
            out,
            FMT_PLI,
            PT_PSFB,
            total,
            self.sender_ssrc,
            self.media_ssrc,
        )?;
        Ok(total)
    }
}

/// One FIR entry: the source to refresh and the request's sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FirEntry {
    /// The media source asked for a key frame.
    pub ssrc: u32,
    /// Command sequence number, incremented per new request.
    pub seq: u8,
}

impl WireItem for FirEntry {
    const SIZE: usize = 8;
    fn read(b: &[u8]) -> Self {
        Self {
            ssrc: u32_at(b, 0),
            seq: b[4],
        }
    }
    fn write(&self, out: &mut [u8]) {
        out[..4].copy_from_slice(&self.ssrc.to_be_bytes());
        out[4] = self.seq;
        out[5..8].fill(0);
    }
}

/// A full intra request (PSFB FMT 4, RFC 5104 §4.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Fir<'a> {
    /// The sender of the request.
    pub sender_ssrc: u32,
    /// The requests.
    pub entries: List<'a, FirEntry>,
}

impl<'a> Fir<'a> {
    pub(crate) fn parse(sender_ssrc: u32, fci: &'a [u8]) -> Result<Self, RtcpError> {
        if fci.is_empty() || fci.len() % FirEntry::SIZE != 0 {
            return Err(RtcpError::BadFciLength {
                pt: PT_PSFB,
                fmt: FMT_FIR,
                len: fci.len(),
            });
        }
        Ok(Self {
            sender_ssrc,
            entries: List::Wire(fci),
        })
    }

    /// Bytes this packet takes on the wire.
    pub fn encoded_len(&self) -> usize {
        HEADER_LEN + FB_HEADER_LEN + self.entries.encoded_len()
    }

    /// Writes the packet into `out`; returns its length. The media SSRC field is 0 (RFC 5104).
    pub fn write_to(&self, out: &mut [u8]) -> Result<usize, RtcpError> {
        let total = self.encoded_len();
        write_fb_header(out, FMT_FIR, PT_PSFB, total, self.sender_ssrc, 0)?;
        self.entries.write(&mut out[12..total]);
        Ok(total)
    }
}

/// The largest bitrate a REMB carries in a u64: an 18-bit mantissa shifted by 46. Wire
/// values above it (exponents up to 63) are clamped to it.
pub const MAX_REMB_BPS: u64 = 0x3_FFFF << 46;

/// The unique identifier that makes an application-layer feedback a REMB.
const REMB_ID: &[u8; 4] = b"REMB";

/// A receiver estimated maximum bitrate (PSFB FMT 15, "REMB").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Remb<'a> {
    /// The sender of the estimate.
    pub sender_ssrc: u32,
    /// The estimate in bits per second. On the wire it is an 18-bit mantissa with a 6-bit
    /// exponent, so values above 2^18 lose their low bits when written.
    pub bitrate_bps: u64,
    /// The media sources the estimate applies to.
    pub ssrcs: List<'a, u32>,
}

impl<'a> Remb<'a> {
    /// Parses an application-layer feedback FCI; `None` when it is not a REMB.
    pub(crate) fn parse(sender_ssrc: u32, fci: &'a [u8]) -> Option<Result<Self, RtcpError>> {
        if fci.get(..4)? != REMB_ID {
            return None;
        }
        let bad = RtcpError::BadFciLength {
            pt: PT_PSFB,
            fmt: FMT_AFB,
            len: fci.len(),
        };
        if fci.len() < 8 {
            return Some(Err(bad));
        }
        let count = usize::from(fci[4]);
        let exp = u32::from(fci[5] >> 2);
        let mantissa =
            (u64::from(fci[5] & 0x03) << 16) | (u64::from(fci[6]) << 8) | u64::from(fci[7]);
        let bitrate = (u128::from(mantissa) << exp).min(u128::from(MAX_REMB_BPS));
        let Some(ssrcs) = fci.get(8..8 + 4 * count) else {
            return Some(Err(bad));
        };
        Some(Ok(Self {
            sender_ssrc,
            bitrate_bps: u64::try_from(bitrate).unwrap_or(u64::MAX),
            ssrcs: List::Wire(ssrcs),
        }))
    }

    /// The exponent and 18-bit mantissa that encode `bitrate_bps` (rounded down; clamped
    /// to [`MAX_REMB_BPS`]).
    pub fn exponent_mantissa(&self) -> (u8, u32) {
        let mut mantissa = self.bitrate_bps.min(MAX_REMB_BPS);
        let mut exp = 0u8;
        while mantissa > 0x3_FFFF {
            mantissa >>= 1;
            exp += 1;
        }
        (exp, mantissa as u32)
    }

    /// Bytes this packet takes on the wire.
    pub fn encoded_len(&self) -> usize {
        HEADER_LEN + FB_HEADER_LEN + 8 + 4 * self.ssrcs.len()
    }

    /// Writes the packet into `out`; returns its length.
    pub fn write_to(&self, out: &mut [u8]) -> Result<usize, RtcpError> {
        let total = self.encoded_len();
        let count = u8::try_from(self.ssrcs.len())
            .map_err(|_| RtcpError::FieldOutOfRange("REMB SSRC count"))?;
        write_fb_header(out, FMT_AFB, PT_PSFB, total, self.sender_ssrc, 0)?;
        let (exp, mantissa) = self.exponent_mantissa();
        out[12..16].copy_from_slice(REMB_ID);
        out[16] = count;
        out[17] = (exp << 2) | (mantissa >> 16) as u8;
        out[18..20].copy_from_slice(&(mantissa as u16).to_be_bytes());
        self.ssrcs.write(&mut out[20..total]);
        Ok(total)
    }
}
