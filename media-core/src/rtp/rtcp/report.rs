//! Sender and receiver reports (RFC 3550 §6.4).

use super::error::RtcpError;
use super::header::{self, HEADER_LEN, Raw, u32_at};
use super::list::{List, WireItem};

/// Packet type of a sender report.
pub const PT_SR: u8 = 200;
/// Packet type of a receiver report.
pub const PT_RR: u8 = 201;

/// A reception report block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReportBlock {
    /// The source this block reports on.
    pub ssrc: u32,
    /// Fraction lost since the last report, in 1/256.
    pub fraction_lost: u8,
    /// Cumulative packets lost (24-bit signed; duplicates can make it negative).
    pub cumulative_lost: i32,
    /// Extended highest sequence number received.
    pub extended_highest_seq: u32,
    /// Interarrival jitter in timestamp units.
    pub jitter: u32,
    /// Middle 32 bits of the last SR's NTP timestamp.
    pub last_sr: u32,
    /// Delay since the last SR, in 1/65536 s.
    pub delay_since_last_sr: u32,
}

impl WireItem for ReportBlock {
    const SIZE: usize = 24;

    fn read(b: &[u8]) -> Self {
        // Sign-extend the 24-bit cumulative loss.
        let cumulative_lost = i32::from_be_bytes([b[5], b[6], b[7], 0]) >> 8;
        Self {
            ssrc: u32_at(b, 0),
            fraction_lost: b[4],
            cumulative_lost,
            extended_highest_seq: u32_at(b, 8),
            jitter: u32_at(b, 12),
            last_sr: u32_at(b, 16),
            delay_since_last_sr: u32_at(b, 20),
        }
    }

    fn write(&self, out: &mut [u8]) {
        out[..4].copy_from_slice(&self.ssrc.to_be_bytes());
        out[4] = self.fraction_lost;
        // Clamp to the 24-bit signed range.
        let lost = self.cumulative_lost.clamp(-(1 << 23), (1 << 23) - 1);
        out[5..8].copy_from_slice(&lost.to_be_bytes()[1..]);
        out[8..12].copy_from_slice(&self.extended_highest_seq.to_be_bytes());
        out[12..16].copy_from_slice(&self.jitter.to_be_bytes());
        out[16..20].copy_from_slice(&self.last_sr.to_be_bytes());
        out[20..24].copy_from_slice(&self.delay_since_last_sr.to_be_bytes());
    }
}

/// A sender report (PT 200).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SenderReport<'a> {
    /// The sender.
    pub ssrc: u32,
    /// NTP timestamp of this report (64-bit fixed point).
    pub ntp_time: u64,
    /// The RTP timestamp matching `ntp_time`.
    pub rtp_time: u32,
    /// Packets sent.
    pub packet_count: u32,
    /// Payload octets sent.
    pub octet_count: u32,
    /// Reception report blocks (at most 31).
    pub reports: List<'a, ReportBlock>,
    /// Profile-specific extension bytes (a multiple of 4), usually empty.
    pub extension: &'a [u8],
}

/// A receiver report (PT 201).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReceiverReport<'a> {
    /// The reporter.
    pub ssrc: u32,
    /// Reception report blocks (at most 31).
    pub reports: List<'a, ReportBlock>,
    /// Profile-specific extension bytes (a multiple of 4), usually empty.
    pub extension: &'a [u8],
}

fn blocks<'a>(raw: &Raw<'a>, at: usize) -> Result<(List<'a, ReportBlock>, &'a [u8]), RtcpError> {
    let end = at + usize::from(raw.count) * ReportBlock::SIZE;
    if raw.body.len() < end {
        return Err(RtcpError::CountOverflow {
            pt: raw.pt,
            count: raw.count,
            body: raw.body.len(),
        });
    }
    Ok((List::Wire(&raw.body[at..end]), &raw.body[end..]))
}

fn check_extension(extension: &[u8]) -> Result<(), RtcpError> {
    if extension.len() % 4 != 0 {
        return Err(RtcpError::FieldOutOfRange("report extension length"));
    }
    Ok(())
}

impl<'a> SenderReport<'a> {
    pub(crate) fn parse(raw: &Raw<'a>) -> Result<Self, RtcpError> {
        let b = raw.body;
        if b.len() < 24 {
            return Err(RtcpError::Truncated {
                needed: HEADER_LEN + 24,
                len: HEADER_LEN + b.len(),
            });
        }
        let (reports, extension) = blocks(raw, 24)?;
        Ok(Self {
            ssrc: u32_at(b, 0),
            ntp_time: (u64::from(u32_at(b, 4)) << 32) | u64::from(u32_at(b, 8)),
            rtp_time: u32_at(b, 12),
            packet_count: u32_at(b, 16),
            octet_count: u32_at(b, 20),
            reports,
            extension,
        })
    }

    /// Bytes this packet takes on the wire.
    pub fn encoded_len(&self) -> usize {
        HEADER_LEN + 24 + self.reports.encoded_len() + self.extension.len()
    }

    /// Writes the packet into `out`; returns its length.
    pub fn write_to(&self, out: &mut [u8]) -> Result<usize, RtcpError> {
        check_extension(self.extension)?;
        let total = self.encoded_len();
        let count =
            u8::try_from(self.reports.len()).map_err(|_| RtcpError::FieldOutOfRange("count"))?;
        header::write(out, count, PT_SR, total)?;
        out[4..8].copy_from_slice(&self.ssrc.to_be_bytes());
        out[8..16].copy_from_slice(&self.ntp_time.to_be_bytes());
        out[16..20].copy_from_slice(&self.rtp_time.to_be_bytes());
        out[20..24].copy_from_slice(&self.packet_count.to_be_bytes());
        out[24..28].copy_from_slice(&self.octet_count.to_be_bytes());
        let end = 28 + self.reports.encoded_len();
        self.reports.write(&mut out[28..end]);
        out[end..total].copy_from_slice(self.extension);
        Ok(total)
    }
}

impl<'a> ReceiverReport<'a> {
    pub(crate) fn parse(raw: &Raw<'a>) -> Result<Self, RtcpError> {
        let b = raw.body;
        if b.len() < 4 {
            return Err(RtcpError::Truncated {
                needed: HEADER_LEN + 4,
                len: HEADER_LEN + b.len(),
            });
        }
        let (reports, extension) = blocks(raw, 4)?;
        Ok(Self {
            ssrc: u32_at(b, 0),
            reports,
            extension,
        })
    }

    /// Bytes this packet takes on the wire.
    pub fn encoded_len(&self) -> usize {
        HEADER_LEN + 4 + self.reports.encoded_len() + self.extension.len()
    }

    /// Writes the packet into `out`; returns its length.
    pub fn write_to(&self, out: &mut [u8]) -> Result<usize, RtcpError> {
        check_extension(self.extension)?;
        let total = self.encoded_len();
        let count =
            u8::try_from(self.reports.len()).map_err(|_| RtcpError::FieldOutOfRange("count"))?;
        header::write(out, count, PT_RR, total)?;
        out[4..8].copy_from_slice(&self.ssrc.to_be_bytes());
        let end = 8 + self.reports.encoded_len();
        self.reports.write(&mut out[8..end]);
        out[end..total].copy_from_slice(self.extension);
        Ok(total)
    }
}
