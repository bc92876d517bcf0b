//! The common RTCP header (RFC 3550 §6.4.1) and helpers shared by the packet types.

use super::error::RtcpError;

/// Size of the common header.
pub const HEADER_LEN: usize = 4;

/// One packet of a compound buffer, header checked and padding stripped.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Raw<'a> {
    /// The 5-bit count / FMT field.
    pub(crate) count: u8,
    /// Packet type.
    pub(crate) pt: u8,
    /// Whether the padding bit was set.
    pub(crate) padded: bool,
    /// The body after the 4-byte header, without padding.
    pub(crate) body: &'a [u8],
    /// Bytes the packet takes in the buffer (header, body, padding).
    pub(crate) len: usize,
}

/// Splits the first packet off `buf`.
pub(crate) fn split(buf: &[u8]) -> Result<Raw<'_>, RtcpError> {
    if buf.len() < HEADER_LEN {
        return Err(RtcpError::Truncated {
            needed: HEADER_LEN,
            len: buf.len(),
        });
    }
    let version = buf[0] >> 6;
    if version != 2 {
        return Err(RtcpError::BadVersion(version));
    }
    let len = (usize::from(u16::from_be_bytes([buf[2], buf[3]])) + 1) * 4;
    if len > buf.len() {
        return Err(RtcpError::LengthOverflow {
            claimed: len,
            available: buf.len(),
        });
    }
    let padded = buf[0] & 0x20 != 0;
    let mut body = &buf[HEADER_LEN..len];
    if padded {
        let count = body.last().copied().unwrap_or(0);
        if count == 0 || usize::from(count) > body.len() {
            return Err(RtcpError::BadPadding {
                count,
                body: body.len(),
            });
        }
        body = &body[..body.len() - usize::from(count)];
    }
    Ok(Raw {
        count: buf[0] & 0x1F,
        pt: buf[1],
        padded,
        body,
        len,
    })
}

/// Reads a big-endian u32 at `at` of a slice already checked to be long enough.
pub(crate) fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Checks `out` can take `needed` bytes.
pub(crate) fn room(out: &[u8], needed: usize) -> Result<(), RtcpError> {
    if out.len() < needed {
        Err(RtcpError::BufferTooSmall {
            needed,
            len: out.len(),
        })
    } else {
        Ok(())
    }
}

/// Writes a common header for a packet of `total` bytes (a multiple of 4), after checking
/// `out` has room; the caller writes the body.
pub(crate) fn write(out: &mut [u8], count: u8, pt: u8, total: usize) -> Result<(), RtcpError> {
    room(out, total)?;
    if count > 31 {
        return Err(RtcpError::FieldOutOfRange("count"));
    }
    let words = u16::try_from(total / 4 - 1).map_err(|_| RtcpError::FieldOutOfRange("length"))?;
    out[0] = 0x80 | count;
    out[1] = pt;
    out[2..4].copy_from_slice(&words.to_be_bytes());
    Ok(())
}

/// Pads `len` up to a multiple of 4.
pub(crate) fn padded_len(len: usize) -> usize {
    len.div_ceil(4) * 4
}

/// Turns a packet of `total` bytes whose body ends at `end` into a padded one: zero fill,
/// count in the last byte, P bit set. Used where a format needs 32-bit alignment.
pub(crate) fn pad(out: &mut [u8], end: usize, total: usize) {
    if total > end {
        out[end..total].fill(0);
        out[total - 1] = (total - end) as u8;
        out[0] |= 0x20;
    }
}
