//! Goodbye (RFC 3550 §6.6) and application-defined (§6.7) packets.

use super::error::RtcpError;
use super::header::{self, HEADER_LEN, Raw, u32_at};
use super::list::List;

/// Packet type of BYE.
pub const PT_BYE: u8 = 203;
/// Packet type of APP.
pub const PT_APP: u8 = 204;

/// A goodbye packet (PT 203).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bye<'a> {
    /// The sources leaving (at most 31).
    pub ssrcs: List<'a, u32>,
    /// Why they leave, if said (1 to 255 bytes; an empty reason is written as none, since
    /// the wire cannot tell it from padding).
    pub reason: Option<&'a [u8]>,
}

impl<'a> Bye<'a> {
    pub(crate) fn parse(raw: &Raw<'a>) -> Result<Self, RtcpError> {
        let end = usize::from(raw.count) * 4;
        let ssrcs = raw.body.get(..end).ok_or(RtcpError::CountOverflow {
            pt: raw.pt,
            count: raw.count,
            body: raw.body.len(),
        })?;
        let rest = &raw.body[end..];
        // A zero length byte after the SSRCs is padding (or an empty reason: the same).
        let reason = match rest.split_first() {
            Some((&len, text)) if len > 0 => Some(
                text.get(..usize::from(len))
                    .ok_or(RtcpError::ByeReasonOverflow)?,
            ),
            _ => None,
        };
        Ok(Self {
            ssrcs: List::Wire(ssrcs),
            reason,
        })
    }

    fn reason(&self) -> Option<&'a [u8]> {
        self.reason.filter(|r| !r.is_empty())
    }

    /// Bytes this packet takes on the wire.
    pub fn encoded_len(&self) -> usize {
        let reason = self.reason().map_or(0, |r| header::padded_len(1 + r.len()));
        HEADER_LEN + 4 * self.ssrcs.len() + reason
    }

    /// Writes the packet into `out`; returns its length.
    pub fn write_to(&self, out: &mut [u8]) -> Result<usize, RtcpError> {
        let total = self.encoded_len();
        let count =
            u8::try_from(self.ssrcs.len()).map_err(|_| RtcpError::FieldOutOfRange("count"))?;
        header::write(out, count, PT_BYE, total)?;
        let end = HEADER_LEN + 4 * self.ssrcs.len();
        self.ssrcs.write(&mut out[HEADER_LEN..end]);
        if let Some(reason) = self.reason() {
            let len = u8::try_from(reason.len())
                .map_err(|_| RtcpError::FieldOutOfRange("BYE reason length"))?;
            out[end] = len;
            out[end + 1..end + 1 + reason.len()].copy_from_slice(reason);
            out[end + 1 + reason.len()..total].fill(0);
        }
        Ok(total)
    }
}

/// An application-defined packet (PT 204).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct App<'a> {
    /// 5-bit subtype.
    pub subtype: u8,
    /// The sender.
    pub ssrc: u32,
    /// Four ASCII characters naming the application.
    pub name: [u8; 4],
    /// Application data (a multiple of 4 bytes).
    pub data: &'a [u8],
}

impl<'a> App<'a> {
    pub(crate) fn parse(raw: &Raw<'a>) -> Result<Self, RtcpError> {
        let b = raw.body;
        if b.len() < 8 {
            return Err(RtcpError::Truncated {
                needed: HEADER_LEN + 8,
                len: HEADER_LEN + b.len(),
            });
        }
        Ok(Self {
            subtype: raw.count,
            ssrc: u32_at(b, 0),
            name: [b[4], b[5], b[6], b[7]],
            data: &b[8..],
        })
    }

    /// Bytes this packet takes on the wire.
    pub fn encoded_len(&self) -> usize {
        HEADER_LEN + 8 + self.data.len()
    }

    /// Writes the packet into `out`; returns its length.
    pub fn write_to(&self, out: &mut [u8]) -> Result<usize, RtcpError> {
        if self.data.len() % 4 != 0 {
            return Err(RtcpError::FieldOutOfRange("APP data length"));
        }
        let total = self.encoded_len();
        header::write(out, self.subtype, PT_APP, total)?;
        out[4..8].copy_from_slice(&self.ssrc.to_be_bytes());
        out[8..12].copy_from_slice(&self.name);
        out[12..total].copy_from_slice(self.data);
        Ok(total)
    }
}
