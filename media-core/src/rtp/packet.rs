//! A parsed RTP packet (RFC 3550 §5.1) as a borrowed view: no copy, no allocation.

use super::error::RtpError;
use super::extension::{self, ExtensionForm, Extensions};

/// Size of the fixed RTP header.
pub const FIXED_HEADER_LEN: usize = 12;

/// A validated RTP packet borrowed from a buffer.
///
/// Parsing checks every length once, so the accessors cannot fail or panic afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    buf: &'a [u8],
    /// Offset of the extension block (after its 4-byte header), if present.
    ext_start: usize,
    ext_len: usize,
    header_len: usize,
    padding_len: usize,
}

impl<'a> RtpPacket<'a> {
    /// Parses and validates `buf` as one RTP packet.
    #[inline]
    pub fn parse(buf: &'a [u8]) -> Result<Self, RtpError> {
        if buf.len() < FIXED_HEADER_LEN {
            return Err(RtpError::Truncated {
                needed: FIXED_HEADER_LEN,
                len: buf.len(),
            });
        }
        let version = buf[0] >> 6;
        if version != 2 {
            return Err(RtpError::BadVersion(version));
        }
        let csrc_count = usize::from(buf[0] & 0x0F);
        let mut header_len = FIXED_HEADER_LEN + 4 * csrc_count;
        if buf.len() < header_len {
            return Err(RtpError::Truncated {
                needed: header_len,
                len: buf.len(),
            });
        }
        let (mut ext_start, mut ext_len) = (header_len, 0);
        if buf[0] & 0x10 != 0 {
            let needed = header_len + 4;
            if buf.len() < needed {
                return Err(RtpError::Truncated {
                    needed,
                    len: buf.len(),
                });
            }
            let profile = u16::from_be_bytes([buf[header_len], buf[header_len + 1]]);
            let words = usize::from(u16::from_be_bytes([
                buf[header_len + 2],
                buf[header_len + 3],
            ]));
            ext_start = needed;
            ext_len = 4 * words;
            header_len = ext_start + ext_len;
            if buf.len() < header_len {
                return Err(RtpError::Truncated {
                    needed: header_len,
                    len: buf.len(),
                });
            }
            if let Some(form) = ExtensionForm::from_profile(profile) {
                extension::validate(form, &buf[ext_start..header_len])?;
            }
        }
        let mut padding_len = 0;
        if buf[0] & 0x20 != 0 {
            let available = buf.len() - header_len;
            let count = buf[buf.len() - 1];
            if count == 0 || usize::from(count) > available {
                return Err(RtpError::BadPadding { count, available });
            }
            padding_len = usize::from(count);
        }
        Ok(Self {
            buf,
            ext_start,
            ext_len,
            header_len,
            padding_len,
        })
    }

    /// The whole packet as parsed.
    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// Whether the padding bit is set.
    #[inline]
    pub fn has_padding(&self) -> bool {
        self.buf[0] & 0x20 != 0
    }

    /// Whether the extension bit is set.
    #[inline]
    pub fn has_extension(&self) -> bool {
        self.buf[0] & 0x10 != 0
    }

    /// The marker bit.
    #[inline]
    pub fn marker(&self) -> bool {
        self.buf[1] & 0x80 != 0
    }

    /// The 7-bit payload type.
    #[inline]
    pub fn payload_type(&self) -> u8 {
        self.buf[1] & 0x7F
    }

    /// The 16-bit sequence number.
    #[inline]
    pub fn sequence_number(&self) -> u16 {
        u16::from_be_bytes([self.buf[2], self.buf[3]])
    }

    /// The 32-bit media timestamp.
    #[inline]
    pub fn timestamp(&self) -> u32 {
        u32::from_be_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]])
    }

    /// The synchronization source.
    #[inline]
    pub fn ssrc(&self) -> u32 {
        u32::from_be_bytes([self.buf[8], self.buf[9], self.buf[10], self.buf[11]])
    }

    /// Number of contributing sources.
    #[inline]
    pub fn csrc_count(&self) -> usize {
        usize::from(self.buf[0] & 0x0F)
    }

    /// The contributing sources.
    #[inline]
    pub fn csrcs(&self) -> impl ExactSizeIterator<Item = u32> + 'a {
        let end = FIXED_HEADER_LEN + 4 * self.csrc_count();
        self.buf[FIXED_HEADER_LEN..end]
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
    }

    /// The extension profile value (`0xBEDE` for one-byte, `0x100x` for two-byte), if the
    /// packet has an extension block.
    #[inline]
    pub fn extension_profile(&self) -> Option<u16> {
        self.has_extension().then(|| {
            let at = self.ext_start - 4;
            u16::from_be_bytes([self.buf[at], self.buf[at + 1]])
        })
    }

    /// The raw extension block (without its 4-byte header).
    #[inline]
    pub fn extension_data(&self) -> &'a [u8] {
        &self.buf[self.ext_start..self.ext_start + self.ext_len]
    }

    /// The RFC 8285 extension elements; empty when there is no block or its profile is not
    /// RFC 8285.
    #[inline]
    pub fn extensions(&self) -> Extensions<'a> {
        match self
            .extension_profile()
            .and_then(ExtensionForm::from_profile)
        {
            Some(form) => Extensions::new(Some(form), self.extension_data()),
            None => Extensions::empty(),
        }
    }

    /// The data of the extension element with `id`, if present.
    #[inline]
    pub fn extension(&self, id: u8) -> Option<&'a [u8]> {
        self.extensions().find(|e| e.id == id).map(|e| e.data)
    }

    /// Length of the header, CSRCs and extension block: where the payload starts.
    #[inline]
    pub fn header_len(&self) -> usize {
        self.header_len
    }

    /// Number of padding bytes at the end (including the count byte).
    #[inline]
    pub fn padding_len(&self) -> usize {
        self.padding_len
    }

    /// The payload, without padding.
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[self.header_len..self.buf.len() - self.padding_len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A packet with 2 CSRCs, a one-byte extension block and 4 bytes of padding.
    fn sample() -> Vec<u8> {
        let mut p = vec![
            0xB2, 0xE0, 0x12, 0x34, // V=2 P X CC=2, M PT=96, seq
            0xDE, 0xAD, 0xBE, 0xEF, // timestamp
            0x01, 0x02, 0x03, 0x04, // ssrc
            0x00, 0x00, 0x00, 0x0A, 0x00, 0x00, 0x00, 0x0B, // csrcs
            0xBE, 0xDE, 0x00, 0x01, // one-byte extension, 1 word
            0x31, 0x00, 0x07, 0x00, // id 3 = 0x0007
        ];
        p.extend_from_slice(b"payload");
        p.extend_from_slice(&[0, 0, 0, 4]);
        p
    }

    #[test]
    fn parses_every_field() {
        let buf = sample();
        let p = RtpPacket::parse(&buf).expect("valid");
        assert!(p.marker());
        assert_eq!(p.payload_type(), 96);
        assert_eq!(p.sequence_number(), 0x1234);
        assert_eq!(p.timestamp(), 0xDEAD_BEEF);
        assert_eq!(p.ssrc(), 0x0102_0304);
        assert_eq!(p.csrcs().collect::<Vec<_>>(), [10, 11]);
        assert_eq!(p.extension_profile(), Some(0xBEDE));
        assert_eq!(p.extension(3), Some(&[0x00, 0x07][..]));
        assert_eq!(p.extension(4), None);
        assert_eq!(p.payload(), b"payload");
        assert_eq!(p.padding_len(), 4);
        assert_eq!(p.header_len(), 28);
    }

    #[test]
    fn rejects_each_malformation() {
        let buf = sample();
        assert_eq!(
            RtpPacket::parse(&buf[..11]),
            Err(RtpError::Truncated {
                needed: 12,
                len: 11
            })
        );
        let mut v1 = buf.clone();
        v1[0] = (v1[0] & 0x3F) | 0x40;
        assert_eq!(RtpPacket::parse(&v1), Err(RtpError::BadVersion(1)));
        assert_eq!(
            RtpPacket::parse(&buf[..16]),
            Err(RtpError::Truncated {
                needed: 20,
                len: 16
            })
        );
        assert_eq!(
            RtpPacket::parse(&buf[..26]),
            Err(RtpError::Truncated {
                needed: 28,
                len: 26
            })
        );
        let mut pad0 = buf.clone();
        *pad0.last_mut().expect("non-empty") = 0;
        assert!(matches!(
            RtpPacket::parse(&pad0),
            Err(RtpError::BadPadding { count: 0, .. })
        ));
        let mut pad_long = buf.clone();
        *pad_long.last_mut().expect("non-empty") = 12;
        assert_eq!(
            RtpPacket::parse(&pad_long),
            Err(RtpError::BadPadding {
                count: 12,
                available: 11
            })
        );
        let mut ext_over = buf.clone();
        ext_over[24] = 0x35; // id 3 claims 6 bytes in a 4-byte block
        assert_eq!(
            RtpPacket::parse(&ext_over),
            Err(RtpError::ExtensionOverflow { id: 3 })
        );
    }

    #[test]
    fn non_rfc8285_profile_is_kept_raw() {
        let mut buf = sample();
        buf[20] = 0x12;
        buf[21] = 0x34;
        let p = RtpPacket::parse(&buf).expect("valid");
        assert_eq!(p.extension_profile(), Some(0x1234));
        assert_eq!(p.extension_data(), &[0x31, 0x00, 0x07, 0x00]);
        assert_eq!(p.extensions().count(), 0);
    }
}
