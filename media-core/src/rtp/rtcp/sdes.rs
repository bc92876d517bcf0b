//! Source description (RFC 3550 §6.5).

use std::fmt;

use super::error::RtcpError;
use super::header::{self, HEADER_LEN, Raw, u32_at};

/// Packet type of SDES.
pub const PT_SDES: u8 = 202;

/// SDES item type CNAME.
pub const SDES_CNAME: u8 = 1;

/// One SDES item: its type (1 CNAME … 8 PRIV) and text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdesItem<'a> {
    /// Item type, 1..=255 (0 is the END marker and cannot be an item).
    pub kind: u8,
    /// Item text (UTF-8 by the RFC, kept as bytes); at most 255 bytes.
    pub text: &'a [u8],
}

/// The items of one chunk: on the wire (validated at parse) or borrowed to write.
#[derive(Clone, Copy)]
pub enum SdesItems<'a> {
    /// Encoded items, up to (not including) the END byte.
    Wire(&'a [u8]),
    /// Items to write.
    Items(&'a [SdesItem<'a>]),
}

impl<'a> SdesItems<'a> {
    /// The items.
    pub fn iter(&self) -> impl Iterator<Item = SdesItem<'a>> + 'a {
        let (mut wire, items): (&'a [u8], &'a [SdesItem<'a>]) = match *self {
            Self::Wire(b) => (b, &[]),
            Self::Items(i) => (&[], i),
        };
        let from_wire = std::iter::from_fn(move || {
            let (&kind, rest) = wire.split_first()?;
            let (&len, rest) = rest.split_first()?;
            let text = rest.get(..usize::from(len))?;
            wire = &rest[usize::from(len)..];
            Some(SdesItem { kind, text })
        });
        from_wire.chain(items.iter().copied())
    }

    fn encoded_len(&self) -> usize {
        self.iter().map(|i| 2 + i.text.len()).sum()
    }
}

impl PartialEq for SdesItems<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for SdesItems<'_> {}

impl fmt::Debug for SdesItems<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// One SDES chunk: a source and its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdesChunk<'a> {
    /// The source described.
    pub ssrc: u32,
    /// Its items.
    pub items: SdesItems<'a>,
}

impl SdesChunk<'_> {
    /// Bytes of the chunk: SSRC, items, END and padding to 32 bits.
    fn encoded_len(&self) -> usize {
        header::padded_len(4 + self.items.encoded_len() + 1)
    }

    /// The CNAME item's text, if the chunk has one.
    pub fn cname(&self) -> Option<&[u8]> {
        self.items
            .iter()
            .find(|i| i.kind == SDES_CNAME)
            .map(|i| i.text)
    }
}

/// The chunks of an SDES packet.
#[derive(Clone, Copy)]
pub enum SdesChunks<'a> {
    /// Encoded chunks (validated at parse).
    Wire(&'a [u8]),
    /// Chunks to write.
    Items(&'a [SdesChunk<'a>]),
}

impl<'a> SdesChunks<'a> {
    /// The chunks.
    pub fn iter(&self) -> impl Iterator<Item = SdesChunk<'a>> + 'a {
        let (mut wire, items): (&'a [u8], &'a [SdesChunk<'a>]) = match *self {
            Self::Wire(b) => (b, &[]),
            Self::Items(i) => (&[], i),
        };
        let from_wire = std::iter::from_fn(move || {
            let (chunk, len) = read_chunk(wire).ok()?;
            wire = &wire[len..];
            Some(chunk)
        });
        from_wire.chain(items.iter().copied())
    }

    /// Number of chunks.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether there are no chunks.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }
}

impl PartialEq for SdesChunks<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for SdesChunks<'_> {}

impl fmt::Debug for SdesChunks<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Reads one chunk at the start of `b`; returns it and the bytes it takes.
fn read_chunk(b: &[u8]) -> Result<(SdesChunk<'_>, usize), RtcpError> {
    if b.len() < 4 {
        return Err(RtcpError::SdesOverflow);
    }
    let mut at = 4;
    loop {
        let &kind = b.get(at).ok_or(RtcpError::SdesOverflow)?;
        if kind == 0 {
            break;
        }
        let &len = b.get(at + 1).ok_or(RtcpError::SdesOverflow)?;
        at += 2 + usize::from(len);
        if at > b.len() {
            return Err(RtcpError::SdesOverflow);
        }
    }
    let items = &b[4..at];
    // The END byte, then null padding to the next 32-bit boundary.
    let len = header::padded_len(at + 1).min(b.len());
    Ok((
        SdesChunk {
            ssrc: u32_at(b, 0),
            items: SdesItems::Wire(items),
        },
        len,
    ))
}

/// A source description packet (PT 202).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sdes<'a> {
    /// The chunks (at most 31).
    pub chunks: SdesChunks<'a>,
}

impl<'a> Sdes<'a> {
    pub(crate) fn parse(raw: &Raw<'a>) -> Result<Self, RtcpError> {
        let mut rest = raw.body;
        for _ in 0..raw.count {
            let (_, len) = read_chunk(rest)?;
            rest = &rest[len..];
        }
        let used = raw.body.len() - rest.len();
        Ok(Self {
            chunks: SdesChunks::Wire(&raw.body[..used]),
        })
    }

    /// Bytes this packet takes on the wire.
    pub fn encoded_len(&self) -> usize {
        HEADER_LEN + self.chunks.iter().map(|c| c.encoded_len()).sum::<usize>()
    }

    /// Writes the packet into `out`; returns its length.
    pub fn write_to(&self, out: &mut [u8]) -> Result<usize, RtcpError> {
        let total = self.encoded_len();
        let count =
            u8::try_from(self.chunks.len()).map_err(|_| RtcpError::FieldOutOfRange("count"))?;
        header::write(out, count, PT_SDES, total)?;
        let mut at = HEADER_LEN;
        for chunk in self.chunks.iter() {
            let end = at + chunk.encoded_len();
            out[at..at + 4].copy_from_slice(&chunk.ssrc.to_be_bytes());
            let mut pos = at + 4;
            for item in chunk.items.iter() {
                if item.kind == 0 {
                    return Err(RtcpError::FieldOutOfRange("SDES item type 0"));
                }
                let len = u8::try_from(item.text.len())
                    .map_err(|_| RtcpError::FieldOutOfRange("SDES item length"))?;
                out[pos] = item.kind;
                out[pos + 1] = len;
                out[pos + 2..pos + 2 + item.text.len()].copy_from_slice(item.text);
                pos += 2 + item.text.len();
            }
            out[pos..end].fill(0);
            at = end;
        }
        Ok(total)
    }
}
