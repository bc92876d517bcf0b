//! Serialization of RTP packets into a caller's buffer.

use super::error::RtpError;
use super::extension::{self, ExtensionForm, HeaderExtension, ONE_BYTE_PROFILE, TWO_BYTE_PROFILE};
use super::packet::FIXED_HEADER_LEN;

/// The header fields of an RTP packet to write. Borrowed lists keep writing allocation-free.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RtpHeader<'h> {
    /// The marker bit.
    pub marker: bool,
    /// 7-bit payload type.
    pub payload_type: u8,
    /// Sequence number.
    pub sequence_number: u16,
    /// Media timestamp.
    pub timestamp: u32,
    /// Synchronization source.
    pub ssrc: u32,
    /// Contributing sources (at most 15).
    pub csrcs: &'h [u32],
    /// RFC 8285 header extension elements, in the order to write them.
    pub extensions: &'h [HeaderExtension<'h>],
    /// The element form; `None` picks the smallest form that fits the elements.
    pub extension_form: Option<ExtensionForm>,
}

/// Where the parts of a header go, computed once per write.
#[derive(Debug, Clone, Copy)]
struct Layout {
    form: ExtensionForm,
    /// Extension block length without its 4-byte header (0 without extensions).
    block_len: usize,
    /// Total header length.
    header_len: usize,
}

impl RtpHeader<'_> {
    #[inline]
    fn layout(&self) -> Layout {
        if self.extensions.is_empty() {
            return Layout {
                form: ExtensionForm::OneByte,
                block_len: 0,
                header_len: FIXED_HEADER_LEN + 4 * self.csrcs.len(),
            };
        }
        // One pass: whether the one-byte form fits, and the data bytes.
        let (mut fits_one_byte, mut data) = (true, 0);
        for e in self.extensions {
            fits_one_byte &= (1..=14).contains(&e.id) && (1..=16).contains(&e.data.len());
            data += e.data.len();
        }
        let form = self.extension_form.unwrap_or(if fits_one_byte {
            ExtensionForm::OneByte
        } else {
            ExtensionForm::TwoByte
        });
        let per_element = match form {
            ExtensionForm::OneByte => 1,
            ExtensionForm::TwoByte => 2,
        };
        let block_len = (per_element * self.extensions.len() + data).div_ceil(4) * 4;
        Layout {
            form,
            block_len,
            header_len: FIXED_HEADER_LEN + 4 * self.csrcs.len() + 4 + block_len,
        }
    }

    /// Bytes this header takes on the wire, extension block included.
    #[inline]
    pub fn len(&self) -> usize {
        self.layout().header_len
    }

    /// Always false: a header has at least its 12 fixed bytes.
    #[inline]
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Writes the header into the start of `out`; returns the bytes written.
    ///
    /// `padded` sets the padding bit: use [`write_packet`] to also write the padding.
    #[inline]
    pub fn write(&self, padded: bool, out: &mut [u8]) -> Result<usize, RtpError> {
        self.write_with(self.layout(), padded, out)
    }

    #[inline]
    fn write_with(&self, layout: Layout, padded: bool, out: &mut [u8]) -> Result<usize, RtpError> {
        if self.csrcs.len() > 15 {
            return Err(RtpError::TooManyCsrcs(self.csrcs.len()));
        }
        if self.payload_type > 0x7F {
            return Err(RtpError::BadPayloadType(self.payload_type));
        }
        let Some(out) = out.get_mut(..layout.header_len) else {
            return Err(RtpError::BufferTooSmall {
                needed: layout.header_len,
                len: out.len(),
            });
        };
        let has_ext = !self.extensions.is_empty();
        out[0] = 0x80 | (u8::from(padded) << 5) | (u8::from(has_ext) << 4) | self.csrcs.len() as u8;
        out[1] = (u8::from(self.marker) << 7) | self.payload_type;
        out[2..4].copy_from_slice(&self.sequence_number.to_be_bytes());
        out[4..8].copy_from_slice(&self.timestamp.to_be_bytes());
        out[8..12].copy_from_slice(&self.ssrc.to_be_bytes());
        let mut pos = FIXED_HEADER_LEN;
        for csrc in self.csrcs {
            out[pos..pos + 4].copy_from_slice(&csrc.to_be_bytes());
            pos += 4;
        }
        if has_ext {
            let profile = match layout.form {
                ExtensionForm::OneByte => ONE_BYTE_PROFILE,
                ExtensionForm::TwoByte => TWO_BYTE_PROFILE,
            };
            let words = u16::try_from(layout.block_len / 4)
                .map_err(|_| RtpError::ExtensionTooLong(layout.block_len))?;
            out[pos..pos + 2].copy_from_slice(&profile.to_be_bytes());
            out[pos + 2..pos + 4].copy_from_slice(&words.to_be_bytes());
            pos += 4;
            extension::write_block(layout.form, self.extensions, &mut out[pos..])?;
            pos += layout.block_len;
        }
        Ok(pos)
    }
}

/// Writes a whole RTP packet — header, payload and `padding` bytes of padding (0 for none;
/// the last padding byte holds the count) — into `out`; returns its length.
#[inline]
pub fn write_packet(
    header: &RtpHeader<'_>,
    payload: &[u8],
    padding: u8,
    out: &mut [u8],
) -> Result<usize, RtpError> {
    let layout = header.layout();
    let needed = layout.header_len + payload.len() + usize::from(padding);
    if out.len() < needed {
        return Err(RtpError::BufferTooSmall {
            needed,
            len: out.len(),
        });
    }
    let mut pos = header.write_with(layout, padding > 0, out)?;
    out[pos..pos + payload.len()].copy_from_slice(payload);
    pos += payload.len();
    if padding > 0 {
        let end = pos + usize::from(padding);
        out[pos..end - 1].fill(0);
        out[end - 1] = padding;
        pos = end;
    }
    Ok(pos)
}

#[cfg(test)]
mod tests {
    use super::super::packet::RtpPacket;
    use super::*;

    #[test]
    fn writes_what_parse_reads() {
        let ext = [
            HeaderExtension {
                id: 1,
                data: &[0x80 | 30],
            },
            HeaderExtension {
                id: 5,
                data: &[0x01, 0x02],
            },
        ];
        let header = RtpHeader {
            marker: true,
            payload_type: 111,
            sequence_number: 65535,
            timestamp: 960,
            ssrc: 0xCAFE_BABE,
            csrcs: &[7],
            extensions: &ext,
            extension_form: None,
        };
        let mut buf = [0u8; 64];
        let n = write_packet(&header, b"opus", 3, &mut buf).expect("fits");
        let p = RtpPacket::parse(&buf[..n]).expect("parses");
        assert_eq!(p.extension_profile(), Some(ONE_BYTE_PROFILE));
        assert_eq!(p.extensions().collect::<Vec<_>>(), ext);
        assert_eq!(p.payload(), b"opus");
        assert_eq!(p.padding_len(), 3);
        assert_eq!(p.csrcs().collect::<Vec<_>>(), [7]);
        assert_eq!(p.sequence_number(), 65535);
    }

    #[test]
    fn picks_two_byte_form_when_needed() {
        let big = [0u8; 20];
        let ext = [HeaderExtension { id: 20, data: &big }];
        let header = RtpHeader {
            extensions: &ext,
            ..RtpHeader::default()
        };
        let mut buf = [0u8; 64];
        let n = write_packet(&header, &[], 0, &mut buf).expect("fits");
        let p = RtpPacket::parse(&buf[..n]).expect("parses");
        assert_eq!(p.extension_profile(), Some(TWO_BYTE_PROFILE));
        assert_eq!(p.extension(20), Some(&big[..]));
    }

    #[test]
    fn refuses_bad_arguments() {
        let mut buf = [0u8; 16];
        let csrcs = [0u32; 16];
        let h = RtpHeader {
            csrcs: &csrcs,
            ..RtpHeader::default()
        };
        assert_eq!(
            h.write(false, &mut [0u8; 128]),
            Err(RtpError::TooManyCsrcs(16))
        );
        let h = RtpHeader {
            payload_type: 128,
            ..RtpHeader::default()
        };
        assert_eq!(h.write(false, &mut buf), Err(RtpError::BadPayloadType(128)));
        let h = RtpHeader::default();
        assert_eq!(
            write_packet(&h, &[0; 8], 0, &mut buf),
            Err(RtpError::BufferTooSmall {
                needed: 20,
                len: 16
            })
        );
        let ext = [HeaderExtension { id: 15, data: &[1] }];
        let h = RtpHeader {
            extensions: &ext,
            extension_form: Some(ExtensionForm::OneByte),
            ..RtpHeader::default()
        };
        assert_eq!(
            h.write(false, &mut [0u8; 64]),
            Err(RtpError::BadExtensionId(15))
        );
    }
}
