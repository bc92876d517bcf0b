//! RTP header extensions (RFC 8285): one-byte and two-byte element forms, and the
//! extmap that names what each id carries.

use super::error::RtpError;

/// Profile value of the one-byte header form (RFC 8285 §4.2).
pub const ONE_BYTE_PROFILE: u16 = 0xBEDE;
/// Profile value of the two-byte header form with zero app bits (RFC 8285 §4.3).
pub const TWO_BYTE_PROFILE: u16 = 0x1000;
/// Mask of the two-byte form's profile value; the low 4 bits are application bits.
const TWO_BYTE_PROFILE_MASK: u16 = 0xFFF0;

/// The element form of an RFC 8285 extension block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtensionForm {
    /// One-byte headers: ids 1..=14, 1..=16 bytes of data.
    OneByte,
    /// Two-byte headers: ids 1..=255, 0..=255 bytes of data.
    TwoByte,
}

impl ExtensionForm {
    /// The form a profile value announces, or `None` for a non-RFC 8285 profile.
    #[inline]
    pub fn from_profile(profile: u16) -> Option<Self> {
        if profile == ONE_BYTE_PROFILE {
            Some(Self::OneByte)
        } else if profile & TWO_BYTE_PROFILE_MASK == TWO_BYTE_PROFILE {
            Some(Self::TwoByte)
        } else {
            None
        }
    }

    /// The smallest form that can carry all of `elements`.
    #[inline]
    pub fn for_elements(elements: &[HeaderExtension<'_>]) -> Self {
        let fits_one_byte = elements
            .iter()
            .all(|e| (1..=14).contains(&e.id) && (1..=16).contains(&e.data.len()));
        if fits_one_byte {
            Self::OneByte
        } else {
            Self::TwoByte
        }
    }
}

/// One header extension element: an id and its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderExtension<'a> {
    /// Extension id, as negotiated by an SDP `a=extmap` line.
    pub id: u8,
    /// The element's data.
    pub data: &'a [u8],
}

/// Checks every element of an RFC 8285 extension block, so that iteration cannot fail.
#[inline]
pub(crate) fn validate(form: ExtensionForm, block: &[u8]) -> Result<(), RtpError> {
    for element in ElementWalker::new(form, block) {
        element?;
    }
    Ok(())
}

/// Walks the elements of a block, reporting malformed elements.
struct ElementWalker<'a> {
    form: ExtensionForm,
    block: &'a [u8],
    pos: usize,
}

impl<'a> ElementWalker<'a> {
    fn new(form: ExtensionForm, block: &'a [u8]) -> Self {
        Self {
            form,
            block,
            pos: 0,
        }
    }
}

impl<'a> Iterator for ElementWalker<'a> {
    type Item = Result<HeaderExtension<'a>, RtpError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let &first = self.block.get(self.pos)?;
            let (id, len, header) = match self.form {
                ExtensionForm::OneByte => {
                    let id = first >> 4;
                    if id == 0 {
                        // Padding byte between elements.
                        self.pos += 1;
                        continue;
                    }
                    if id == 15 {
                        // Reserved id: RFC 8285 says stop processing the block here.
                        self.pos = self.block.len();
                        return None;
                    }
                    (id, usize::from(first & 0x0F) + 1, 1)
                }
                ExtensionForm::TwoByte => {
                    if first == 0 {
                        self.pos += 1;
                        continue;
                    }
                    let Some(&len) = self.block.get(self.pos + 1) else {
                        self.pos = self.block.len();
                        return Some(Err(RtpError::ExtensionOverflow { id: first }));
                    };
                    (first, usize::from(len), 2)
                }
            };
            let start = self.pos + header;
            let end = start + len;
            if end > self.block.len() {
                self.pos = self.block.len();
                return Some(Err(RtpError::ExtensionOverflow { id }));
            }
            self.pos = end;
            return Some(Ok(HeaderExtension {
                id,
                data: &self.block[start..end],
            }));
        }
    }
}

/// Iterator over the elements of an already-validated extension block.
#[derive(Debug, Clone)]
pub struct Extensions<'a> {
    form: Option<ExtensionForm>,
    block: &'a [u8],
    pos: usize,
}

impl<'a> Extensions<'a> {
    pub(crate) fn new(form: Option<ExtensionForm>, block: &'a [u8]) -> Self {
        Self {
            form,
            block,
            pos: 0,
        }
    }

    #[inline]
    pub(crate) fn empty() -> Self {
        Self::new(None, &[])
    }
}

impl<'a> Iterator for Extensions<'a> {
    type Item = HeaderExtension<'a>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        // The block was validated at parse, so a plain walk suffices; `get` keeps it
        // panic-free regardless.
        let block = self.block;
        loop {
            let &first = block.get(self.pos)?;
            let (id, len, start) = match self.form? {
                ExtensionForm::OneByte => match first >> 4 {
                    0 => {
                        self.pos += 1;
                        continue;
                    }
                    15 => return None,
                    id => (id, usize::from(first & 0x0F) + 1, self.pos + 1),
                },
                ExtensionForm::TwoByte => {
                    if first == 0 {
                        self.pos += 1;
                        continue;
                    }
                    (first, usize::from(*block.get(self.pos + 1)?), self.pos + 2)
                }
            };
            let data = block.get(start..start + len)?;
            self.pos = start + len;
            return Some(HeaderExtension { id, data });
        }
    }
}

/// Writes `elements` in `form` into `out` (the block's exact length), zero padded.
#[inline]
pub(crate) fn write_block(
    form: ExtensionForm,
    elements: &[HeaderExtension<'_>],
    out: &mut [u8],
) -> Result<(), RtpError> {
    let mut pos = 0;
    for e in elements {
        match form {
            ExtensionForm::OneByte => {
                if !(1..=14).contains(&e.id) {
                    return Err(RtpError::BadExtensionId(e.id));
                }
                if !(1..=16).contains(&e.data.len()) {
                    return Err(RtpError::ExtensionTooLong(e.data.len()));
                }
                out[pos] = (e.id << 4) | (e.data.len() as u8 - 1);
                pos += 1;
            }
            ExtensionForm::TwoByte => {
                if e.id == 0 {
                    return Err(RtpError::BadExtensionId(e.id));
                }
                let len = u8::try_from(e.data.len())
                    .map_err(|_| RtpError::ExtensionTooLong(e.data.len()))?;
                out[pos] = e.id;
                out[pos + 1] = len;
                pos += 2;
            }
        }
        out[pos..pos + e.data.len()].copy_from_slice(e.data);
        pos += e.data.len();
    }
    out[pos..].fill(0);
    Ok(())
}

/// What a negotiated extension id carries: the URIs MediaCore reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtensionKind {
    /// `urn:ietf:params:rtp-hdrext:ssrc-audio-level` (RFC 6464).
    AudioLevel,
    /// `http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time`.
    AbsSendTime,
    /// `http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01`.
    TransportWideSequence,
    /// `urn:ietf:params:rtp-hdrext:sdes:mid` (RFC 8843).
    Mid,
    /// `urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id` (RFC 8852).
    RtpStreamId,
    /// `urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id` (RFC 8852).
    RepairedRtpStreamId,
}

impl ExtensionKind {
    const ALL: [Self; 6] = [
        Self::AudioLevel,
        Self::AbsSendTime,
        Self::TransportWideSequence,
        Self::Mid,
        Self::RtpStreamId,
        Self::RepairedRtpStreamId,
    ];

    /// The URI that names this extension in an SDP `a=extmap` line.
    #[inline]
    pub fn uri(self) -> &'static str {
        match self {
            Self::AudioLevel => "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
            Self::AbsSendTime => "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
            Self::TransportWideSequence => {
                "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
            }
            Self::Mid => "urn:ietf:params:rtp-hdrext:sdes:mid",
            Self::RtpStreamId => "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
            Self::RepairedRtpStreamId => "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
        }
    }

    /// The kind an extmap URI names, if MediaCore knows it.
    #[inline]
    pub fn from_uri(uri: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.uri() == uri)
    }
}

/// The negotiated mapping from extension ids to what they carry (SDP `a=extmap`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionMap {
    ids: [Option<ExtensionKind>; 256],
}

impl Default for ExtensionMap {
    #[inline]
    fn default() -> Self {
        Self::new()
    }
}

impl ExtensionMap {
    /// An empty map.
    pub fn new() -> Self {
        Self { ids: [None; 256] }
    }

    /// Maps `id` (1..=255) to `kind`, replacing any earlier mapping of `id` or of `kind`.
    #[inline]
    pub fn insert(&mut self, id: u8, kind: ExtensionKind) -> Result<(), RtpError> {
        if id == 0 {
            return Err(RtpError::BadExtensionId(id));
        }
        self.remove_kind(kind);
        self.ids[usize::from(id)] = Some(kind);
        Ok(())
    }

    /// Removes the mapping of `kind`, if any.
    #[inline]
    pub fn remove_kind(&mut self, kind: ExtensionKind) {
        for slot in self.ids.iter_mut().filter(|s| **s == Some(kind)) {
            *slot = None;
        }
    }

    /// What `id` carries, if it is mapped.
    #[inline]
    pub fn kind(&self, id: u8) -> Option<ExtensionKind> {
        self.ids[usize::from(id)]
    }

    /// The id `kind` is mapped to, if any.
    #[inline]
    pub fn id(&self, kind: ExtensionKind) -> Option<u8> {
        (1..=255u8).find(|&id| self.ids[usize::from(id)] == Some(kind))
    }
}

/// Reads a transport-wide sequence number element (2 bytes, big endian).
#[inline]
pub fn read_transport_sequence(data: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes(data.get(..2)?.try_into().ok()?))
}

/// Reads an audio level element (RFC 6464): the voice-activity flag and the level in -dBov.
#[inline]
pub fn read_audio_level(data: &[u8]) -> Option<(bool, u8)> {
    let &b = data.first()?;
    Some((b & 0x80 != 0, b & 0x7F))
}

/// Reads an abs-send-time element: 24-bit 6.18 fixed-point seconds.
#[inline]
pub fn read_abs_send_time(data: &[u8]) -> Option<u32> {
    let b = data.get(..3)?;
    Some(u32::from_be_bytes([0, b[0], b[1], b[2]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_byte_block_with_padding_and_stop() {
        // id 1 len 1, a padding byte, id 2 len 2, then the reserved id 15 ends the block.
        let block = [0x10, 0xAA, 0x00, 0x21, 0xBB, 0xCC, 0xF0, 0x00];
        validate(ExtensionForm::OneByte, &block).expect("valid");
        let got: Vec<_> = Extensions::new(Some(ExtensionForm::OneByte), &block).collect();
        assert_eq!(
            got,
            [
                HeaderExtension {
                    id: 1,
                    data: &[0xAA]
                },
                HeaderExtension {
                    id: 2,
                    data: &[0xBB, 0xCC]
                },
            ]
        );
    }

    #[test]
    fn two_byte_block_allows_empty_elements() {
        let block = [0x20, 0x00, 0x30, 0x01, 0x7F, 0x00, 0x00, 0x00];
        validate(ExtensionForm::TwoByte, &block).expect("valid");
        let got: Vec<_> = Extensions::new(Some(ExtensionForm::TwoByte), &block).collect();
        assert_eq!(
            got,
            [
                HeaderExtension {
                    id: 0x20,
                    data: &[]
                },
                HeaderExtension {
                    id: 0x30,
                    data: &[0x7F]
                },
            ]
        );
    }

    #[test]
    fn overflowing_elements_are_errors() {
        assert_eq!(
            validate(ExtensionForm::OneByte, &[0x13, 0, 0, 0]),
            Err(RtpError::ExtensionOverflow { id: 1 })
        );
        assert_eq!(
            validate(ExtensionForm::TwoByte, &[0x05]),
            Err(RtpError::ExtensionOverflow { id: 5 })
        );
    }

    #[test]
    fn extmap_maps_ids_both_ways() {
        let mut map = ExtensionMap::new();
        map.insert(3, ExtensionKind::TransportWideSequence)
            .expect("id 3");
        map.insert(
            ExtensionKind::from_uri("urn:ietf:params:rtp-hdrext:ssrc-audio-level").map_or(0, |_| 1),
            ExtensionKind::AudioLevel,
        )
        .expect("id 1");
        assert_eq!(map.kind(3), Some(ExtensionKind::TransportWideSequence));
        assert_eq!(map.id(ExtensionKind::AudioLevel), Some(1));
        map.insert(4, ExtensionKind::TransportWideSequence)
            .expect("remap");
        assert_eq!(map.kind(3), None);
        assert_eq!(
            map.insert(0, ExtensionKind::Mid),
            Err(RtpError::BadExtensionId(0))
        );
    }
}
