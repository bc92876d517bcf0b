//! RTCP (RFC 3550 §6) and its feedback extensions: parse into borrowed views that allocate
//! nothing, and write into a caller's buffer.
//!
//! Each packet type is one struct used both ways: [`RtcpPacket::parse`] fills its lists with
//! the wire bytes (decoded lazily), a sender fills them with borrowed slices, and equality
//! compares the decoded items — so `parse(write(x)) == x`.
//!
//! Compound handling: [`parse_compound`] is lenient (it accepts reduced-size RTCP, RFC 5506,
//! and unknown packet types); [`validate_compound`] applies the RFC 3550 §6.1 rules when a
//! caller wants them.

mod bye;
mod error;
mod feedback;
mod header;
mod list;
mod report;
mod sdes;
mod twcc;

pub use bye::{App, Bye, PT_APP, PT_BYE};
pub use error::RtcpError;
pub use feedback::{
    FMT_AFB, FMT_FIR, FMT_NACK, FMT_PLI, FMT_TWCC, Fir, FirEntry, MAX_REMB_BPS, Nack, NackPair,
    PT_PSFB, PT_RTPFB, Pli, Remb,
};
pub use list::{List, WireItem};
pub use report::{PT_RR, PT_SR, ReceiverReport, ReportBlock, SenderReport};
pub use sdes::{PT_SDES, SDES_CNAME, Sdes, SdesChunk, SdesChunks, SdesItem, SdesItems};
pub use twcc::{DELTA_TICK_US, REFERENCE_TICK_MS, TransportFeedback, TwccIter, TwccPackets};

use feedback::FB_HEADER_LEN;
use header::{HEADER_LEN, u32_at};

/// A packet of a type MediaCore does not interpret, kept whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unknown<'a> {
    /// Packet type.
    pub pt: u8,
    /// The 5-bit count / FMT field.
    pub count: u8,
    /// The body after the common header, without padding (a multiple of 4 to write).
    pub body: &'a [u8],
}

impl Unknown<'_> {
    /// Bytes this packet takes on the wire.
    pub fn encoded_len(&self) -> usize {
        HEADER_LEN + self.body.len()
    }

    /// Writes the packet into `out`; returns its length.
    pub fn write_to(&self, out: &mut [u8]) -> Result<usize, RtcpError> {
        if self.body.len() % 4 != 0 {
            return Err(RtcpError::FieldOutOfRange("body length"));
        }
        let total = self.encoded_len();
        header::write(out, self.count, self.pt, total)?;
        out[HEADER_LEN..total].copy_from_slice(self.body);
        Ok(total)
    }
}

/// One RTCP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RtcpPacket<'a> {
    /// Sender report (PT 200).
    SenderReport(SenderReport<'a>),
    /// Receiver report (PT 201).
    ReceiverReport(ReceiverReport<'a>),
    /// Source description (PT 202).
    Sdes(Sdes<'a>),
    /// Goodbye (PT 203).
    Bye(Bye<'a>),
    /// Application-defined (PT 204).
    App(App<'a>),
    /// Generic NACK (PT 205, FMT 1).
    Nack(Nack<'a>),
    /// Transport-wide congestion-control feedback (PT 205, FMT 15).
    TransportFeedback(TransportFeedback<'a>),
    /// Picture loss indication (PT 206, FMT 1).
    Pli(Pli),
    /// Full intra request (PT 206, FMT 4).
    Fir(Fir<'a>),
    /// Receiver estimated maximum bitrate (PT 206, FMT 15, "REMB").
    Remb(Remb<'a>),
    /// Any other packet type or feedback FMT.
    Unknown(Unknown<'a>),
}

impl<'a> RtcpPacket<'a> {
    /// Parses the first packet of `buf`; returns it and the bytes it took (header, body
    /// and padding), so the caller can continue with the next.
    pub fn parse(buf: &'a [u8]) -> Result<(Self, usize), RtcpError> {
        let raw = header::split(buf)?;
        let packet = match raw.pt {
            PT_SR => Self::SenderReport(SenderReport::parse(&raw)?),
            PT_RR => Self::ReceiverReport(ReceiverReport::parse(&raw)?),
            PT_SDES => Self::Sdes(Sdes::parse(&raw)?),
            PT_BYE => Self::Bye(Bye::parse(&raw)?),
            PT_APP => Self::App(App::parse(&raw)?),
            PT_RTPFB | PT_PSFB => Self::parse_feedback(&raw)?,
            _ => Self::Unknown(Unknown {
                pt: raw.pt,
                count: raw.count,
                body: raw.body,
            }),
        };
        Ok((packet, raw.len))
    }

    fn parse_feedback(raw: &header::Raw<'a>) -> Result<Self, RtcpError> {
        let b = raw.body;
        if b.len() < FB_HEADER_LEN {
            return Err(RtcpError::Truncated {
                needed: HEADER_LEN + FB_HEADER_LEN,
                len: HEADER_LEN + b.len(),
            });
        }
        let (sender, media, fci) = (u32_at(b, 0), u32_at(b, 4), &b[FB_HEADER_LEN..]);
        Ok(match (raw.pt, raw.count) {
            (PT_RTPFB, FMT_NACK) => Self::Nack(Nack::parse(sender, media, fci)?),
            (PT_RTPFB, FMT_TWCC) => {
                Self::TransportFeedback(TransportFeedback::parse(sender, media, fci)?)
            }
            (PT_PSFB, FMT_PLI) => Self::Pli(Pli::parse(sender, media, fci)?),
            (PT_PSFB, FMT_FIR) => Self::Fir(Fir::parse(sender, fci)?),
            (PT_PSFB, FMT_AFB) => match Remb::parse(sender, fci) {
                Some(remb) => Self::Remb(remb?),
                None => Self::unknown(raw),
            },
            _ => Self::unknown(raw),
        })
    }

    fn unknown(raw: &header::Raw<'a>) -> Self {
        Self::Unknown(Unknown {
            pt: raw.pt,
            count: raw.count,
            body: raw.body,
        })
    }

    /// The packet type.
    pub fn packet_type(&self) -> u8 {
        match self {
            Self::SenderReport(_) => PT_SR,
            Self::ReceiverReport(_) => PT_RR,
            Self::Sdes(_) => PT_SDES,
            Self::Bye(_) => PT_BYE,
            Self::App(_) => PT_APP,
            Self::Nack(_) | Self::TransportFeedback(_) => PT_RTPFB,
            Self::Pli(_) | Self::Fir(_) | Self::Remb(_) => PT_PSFB,
            Self::Unknown(u) => u.pt,
        }
    }

    /// Bytes this packet takes on the wire.
    pub fn encoded_len(&self) -> usize {
        match self {
            Self::SenderReport(p) => p.encoded_len(),
            Self::ReceiverReport(p) => p.encoded_len(),
            Self::Sdes(p) => p.encoded_len(),
            Self::Bye(p) => p.encoded_len(),
            Self::App(p) => p.encoded_len(),
            Self::Nack(p) => p.encoded_len(),
            Self::TransportFeedback(p) => p.encoded_len(),
            Self::Pli(p) => p.encoded_len(),
            Self::Fir(p) => p.encoded_len(),
            Self::Remb(p) => p.encoded_len(),
            Self::Unknown(p) => p.encoded_len(),
        }
    }

    /// Writes the packet into `out`; returns its length.
    pub fn write_to(&self, out: &mut [u8]) -> Result<usize, RtcpError> {
        match self {
            Self::SenderReport(p) => p.write_to(out),
            Self::ReceiverReport(p) => p.write_to(out),
            Self::Sdes(p) => p.write_to(out),
            Self::Bye(p) => p.write_to(out),
            Self::App(p) => p.write_to(out),
            Self::Nack(p) => p.write_to(out),
            Self::TransportFeedback(p) => p.write_to(out),
            Self::Pli(p) => p.write_to(out),
            Self::Fir(p) => p.write_to(out),
            Self::Remb(p) => p.write_to(out),
            Self::Unknown(p) => p.write_to(out),
        }
    }
}

/// Iterator over the packets of a compound buffer. After an error it ends: the rest of the
/// buffer cannot be framed.
#[derive(Debug, Clone)]
pub struct CompoundIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for CompoundIter<'a> {
    type Item = Result<RtcpPacket<'a>, RtcpError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match RtcpPacket::parse(self.rest) {
            Ok((packet, len)) => {
                self.rest = &self.rest[len..];
                Some(Ok(packet))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

/// The packets of a compound (or reduced-size) RTCP buffer.
pub fn parse_compound(buf: &[u8]) -> CompoundIter<'_> {
    CompoundIter { rest: buf }
}

/// Which framing rules [`validate_compound`] applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompoundMode {
    /// RFC 3550 §6.1: the first packet is an SR or RR; only the last packet is padded.
    Compound,
    /// RFC 5506: any packet may come first, alone or not.
    ReducedSize,
}

/// Why a buffer breaks the compound rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CompoundError {
    /// A packet is malformed.
    #[error(transparent)]
    Packet(#[from] RtcpError),
    /// The buffer holds no packet.
    #[error("empty RTCP compound")]
    Empty,
    /// A compound packet must start with an SR or RR.
    #[error("RTCP compound starts with packet type {0}, not SR or RR")]
    FirstNotReport(u8),
    /// Only the last packet of a compound may carry padding.
    #[error("RTCP packet {0} of the compound is padded but is not the last")]
    PaddingNotLast(usize),
}

/// Checks every packet of `buf` and the framing rules of `mode`.
pub fn validate_compound(buf: &[u8], mode: CompoundMode) -> Result<usize, CompoundError> {
    let mut rest = buf;
    let mut count = 0;
    while !rest.is_empty() {
        let raw = header::split(rest)?;
        let (packet, len) = RtcpPacket::parse(rest)?;
        if count == 0
            && mode == CompoundMode::Compound
            && !matches!(
                packet,
                RtcpPacket::SenderReport(_) | RtcpPacket::ReceiverReport(_)
            )
        {
            return Err(CompoundError::FirstNotReport(raw.pt));
        }
        if raw.padded && len < rest.len() {
            return Err(CompoundError::PaddingNotLast(count));
        }
        rest = &rest[len..];
        count += 1;
    }
    if count == 0 {
        return Err(CompoundError::Empty);
    }
    Ok(count)
}

/// Writes `packets` back to back into `out`; returns the compound's length.
pub fn write_compound(packets: &[RtcpPacket<'_>], out: &mut [u8]) -> Result<usize, RtcpError> {
    let mut at = 0;
    for p in packets {
        at += p.write_to(&mut out[at..])?;
    }
    Ok(at)
}

#[cfg(test)]
mod tests;
