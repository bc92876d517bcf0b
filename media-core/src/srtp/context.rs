//! An SRTP/SRTCP cryptographic context: one master key, any number of SSRCs.

use super::cm::CmHmac;
use super::error::SrtpError;
use super::gcm::{GCM_TAG_LEN, Gcm};
use super::header::{RTCP_CLEAR_LEN, rtcp_ssrc, rtp_header};
use super::kdf::{self, SessionKeys};
use super::profile::SrtpProfile;
use super::replay::ReplayWindow;

/// Highest SRTP packet index a key may protect (48 bits, RFC 3711 §9.2).
const MAX_RTP_INDEX: u64 = (1 << 48) - 1;
/// Highest SRTCP index (31 bits).
const MAX_RTCP_INDEX: u32 = 0x7FFF_FFFF;
/// The E flag of the SRTCP index word: the payload is encrypted.
const SRTCP_E_FLAG: u32 = 0x8000_0000;

/// The transform of one direction (RTP or RTCP) of a session.
#[allow(clippy::large_enum_variant)] // Two per context, used per packet: no boxing on the hot path.
enum Transform {
    CmHmac(CmHmac),
    Gcm(Gcm),
}

impl Transform {
    fn new(profile: SrtpProfile, keys: &SessionKeys) -> Self {
        if profile.is_aead() {
            Self::Gcm(Gcm::new(profile, keys))
        } else {
            Self::CmHmac(CmHmac::new(keys))
        }
    }
}

/// Per-SSRC state. Created for sending on first protect, for receiving only after a
/// packet authenticated, so forged packets cannot make the context grow.
#[derive(Debug, Clone, Default)]
struct Stream {
    ssrc: u32,
    /// ROC to assume for the first packet in each direction (RFC 3711 §3.3.1: zero,
    /// unless signalled otherwise).
    initial_roc: u32,
    /// SRTP indices protected: refusing to protect one twice keeps GCM nonces unique.
    sent: ReplayWindow,
    /// SRTP indices received and authenticated.
    received: ReplayWindow,
    /// Next SRTCP index to send.
    rtcp_next: u32,
    /// SRTCP indices received and authenticated.
    rtcp_received: ReplayWindow,
}

/// An SRTP and SRTCP context for one master key (RFC 3711, RFC 7714).
///
/// One context serves one sender or receiver; DTLS-SRTP gives each side two master keys,
/// so an endpoint holds one context to protect what it sends and one to unprotect what it
/// receives. Streams are tracked per SSRC. Every call works in place on the caller's
/// buffer and allocates nothing, except the first time an SSRC is seen. Key material is
/// zeroized when the context is dropped.
///
/// ```
/// use media_core::srtp::{SrtpContext, SrtpProfile};
///
/// let profile = SrtpProfile::AeadAes128Gcm;
/// let (key, salt) = ([7u8; 16], [9u8; 12]); // from the DTLS-SRTP exporter in a real call
/// let mut sender = SrtpContext::new(profile, &key, &salt)?;
/// let mut receiver = SrtpContext::new(profile, &key, &salt)?;
///
/// // An RTP packet (12-byte header + payload) with room for the tag.
/// let mut buf = [0u8; 1500];
/// buf[..12].copy_from_slice(&[0x80, 111, 0, 1, 0, 0, 0, 0, 0, 0, 0, 42]);
/// buf[12..17].copy_from_slice(b"hello");
/// let n = sender.protect_rtp(&mut buf, 17)?;
/// assert_eq!(n, 17 + profile.rtp_overhead());
/// let m = receiver.unprotect_rtp(&mut buf[..n])?;
/// assert_eq!(&buf[12..m], b"hello");
/// # Ok::<(), media_core::srtp::SrtpError>(())
/// ```
pub struct SrtpContext {
    profile: SrtpProfile,
    rtp: Transform,
    rtcp: Transform,
    streams: Vec<Stream>,
}

impl std::fmt::Debug for SrtpContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SrtpContext")
            .field("profile", &self.profile)
            .field("streams", &self.streams.len())
            .finish_non_exhaustive()
    }
}

impl SrtpContext {
    /// A context for `profile` from a master key and salt (as exported by DTLS-SRTP).
    pub fn new(
        profile: SrtpProfile,
        master_key: &[u8],
        master_salt: &[u8],
    ) -> Result<Self, SrtpError> {
        kdf::check_master(profile, master_key, master_salt)?;
        let (rtp, rtcp) = kdf::derive(profile, master_key, master_salt);
        Ok(Self::from_session_keys(profile, &rtp, &rtcp))
    }

    /// A context from already-derived session keys (the RFC test vectors give these).
    pub(crate) fn from_session_keys(
        profile: SrtpProfile,
        rtp: &SessionKeys,
        rtcp: &SessionKeys,
    ) -> Self {
        Self {
            profile,
            rtp: Transform::new(profile, rtp),
            rtcp: Transform::new(profile, rtcp),
            streams: Vec::new(),
        }
    }

    /// The context's protection profile.
    pub fn profile(&self) -> SrtpProfile {
        self.profile
    }

    /// Sets the rollover counter to assume for the first packet of `ssrc` in either
    /// direction, for joining a stream whose ROC was signalled out of band. It does not
    /// change a stream that already has packets.
    pub fn set_initial_roc(&mut self, ssrc: u32, roc: u32) {
        stream_entry(&mut self.streams, ssrc).initial_roc = roc;
    }

    /// The current rollover counter of packets sent on `ssrc`.
    pub fn sent_roc(&self, ssrc: u32) -> Option<u32> {
        let highest = self.stream(ssrc)?.sent.highest()?;
        Some((highest >> 16) as u32)
    }

    /// The current rollover counter of packets received on `ssrc`.
    pub fn received_roc(&self, ssrc: u32) -> Option<u32> {
        let highest = self.stream(ssrc)?.received.highest()?;
        Some((highest >> 16) as u32)
    }

    fn stream(&self, ssrc: u32) -> Option<&Stream> {
        self.streams.iter().find(|s| s.ssrc == ssrc)
    }

    /// Protects the RTP packet in `buf[..len]` in place, appending the tag; returns the
    /// SRTP packet's length. `buf` must have [`SrtpProfile::rtp_overhead`] spare bytes.
    pub fn protect_rtp(&mut self, buf: &mut [u8], len: usize) -> Result<usize, SrtpError> {
        let packet = buf.get(..len).ok_or(SrtpError::LengthExceedsBuffer {
            len,
            capacity: buf.len(),
        })?;
        let header = rtp_header(packet)?;
        let tag_len = self.profile.rtp_tag_len();
        let out_len = len + tag_len;
        if buf.len() < out_len {
            return Err(SrtpError::BufferTooSmall {
                needed: out_len,
                capacity: buf.len(),
            });
        }
        let stream = stream_entry(&mut self.streams, header.ssrc);
        let index = estimate_index(&stream.sent, stream.initial_roc, header.seq)?;
        stream.sent.check(index)?;
        let roc = (index >> 16) as u32;
        match &self.rtp {
            Transform::CmHmac(cm) => {
                cm.apply_keystream(header.ssrc, index, &mut buf[header.header_len..len]);
                let (packet, tag) = buf.split_at_mut(len);
                cm.sign(packet, &roc.to_be_bytes(), &mut tag[..tag_len]);
            }
            Transform::Gcm(gcm) => {
                let (aad, rest) = buf.split_at_mut(header.header_len);
                let (payload, tag) = rest.split_at_mut(len - header.header_len);
                let nonce = gcm.rtp_nonce(header.ssrc, roc, header.seq);
                gcm.seal(nonce, aad, payload, &mut tag[..tag_len])?;
            }
        }
        stream.sent.accept(index);
        Ok(out_len)
    }

    /// Authenticates and decrypts the SRTP packet that fills `packet`, in place; returns
    /// the length of the RTP packet now at its start.
    pub fn unprotect_rtp(&mut self, packet: &mut [u8]) -> Result<usize, SrtpError> {
        let header = rtp_header(packet)?;
        let tag_len = self.profile.rtp_tag_len();
        let len = packet.len();
        if len < header.header_len + tag_len {
            return Err(SrtpError::Truncated {
                needed: header.header_len + tag_len,
                len,
            });
        }
        let (window, initial_roc) = match self.stream(header.ssrc) {
            Some(s) => (s.received, s.initial_roc),
            None => (ReplayWindow::default(), 0),
        };
        let index = estimate_index(&window, initial_roc, header.seq)?;
        window.check(index)?;
        let roc = (index >> 16) as u32;
        let plain_len = len - tag_len;
        match &self.rtp {
            Transform::CmHmac(cm) => {
                let (authenticated, tag) = packet.split_at_mut(plain_len);
                cm.verify(authenticated, &roc.to_be_bytes(), tag)?;
                cm.apply_keystream(header.ssrc, index, &mut authenticated[header.header_len..]);
            }
            Transform::Gcm(gcm) => {
                let (aad, rest) = packet.split_at_mut(header.header_len);
                let nonce = gcm.rtp_nonce(header.ssrc, roc, header.seq);
                gcm.open(nonce, aad, rest)?;
            }
        }
        stream_entry(&mut self.streams, header.ssrc)
            .received
            .accept(index);
        Ok(plain_len)
    }

    /// Protects the RTCP compound packet in `buf[..len]` in place, appending the
    /// E‖SRTCP-index word and the tag; returns the SRTCP packet's length. `buf` must have
    /// [`SrtpProfile::rtcp_overhead`] spare bytes.
    pub fn protect_rtcp(&mut self, buf: &mut [u8], len: usize) -> Result<usize, SrtpError> {
        let packet = buf.get(..len).ok_or(SrtpError::LengthExceedsBuffer {
            len,
            capacity: buf.len(),
        })?;
        let ssrc = rtcp_ssrc(packet, RTCP_CLEAR_LEN)?;
        let out_len = len + self.profile.rtcp_overhead();
        if buf.len() < out_len {
            return Err(SrtpError::BufferTooSmall {
                needed: out_len,
                capacity: buf.len(),
            });
        }
        let stream = stream_entry(&mut self.streams, ssrc);
        let index = stream.rtcp_next;
        if index > MAX_RTCP_INDEX {
            return Err(SrtpError::KeyExhausted);
        }
        let word = (SRTCP_E_FLAG | index).to_be_bytes();
        match &self.rtcp {
            Transform::CmHmac(cm) => {
                // header | encrypted | E‖index | tag (RFC 3711 §3.4)
                cm.apply_keystream(ssrc, u64::from(index), &mut buf[RTCP_CLEAR_LEN..len]);
                buf[len..len + 4].copy_from_slice(&word);
                let (authenticated, tag) = buf.split_at_mut(len + 4);
                cm.sign(authenticated, &[], &mut tag[..self.profile.rtcp_tag_len()]);
            }
            Transform::Gcm(gcm) => {
                // header | ciphertext | tag | E‖index (RFC 7714 §9); AAD = header ‖ E‖index
                let mut aad = [0u8; RTCP_CLEAR_LEN + 4];
                aad[..RTCP_CLEAR_LEN].copy_from_slice(&buf[..RTCP_CLEAR_LEN]);
                aad[RTCP_CLEAR_LEN..].copy_from_slice(&word);
                let (payload, tail) = buf[RTCP_CLEAR_LEN..].split_at_mut(len - RTCP_CLEAR_LEN);
                gcm.seal(
                    gcm.rtcp_nonce(ssrc, index),
                    &aad,
                    payload,
                    &mut tail[..GCM_TAG_LEN],
                )?;
                tail[GCM_TAG_LEN..GCM_TAG_LEN + 4].copy_from_slice(&word);
            }
        }
        stream.rtcp_next = index + 1;
        Ok(out_len)
    }

    /// Authenticates and (if its E flag is set) decrypts the SRTCP packet that fills
    /// `packet`, in place; returns the length of the RTCP compound packet now at its start.
    pub fn unprotect_rtcp(&mut self, packet: &mut [u8]) -> Result<usize, SrtpError> {
        let tag_len = self.profile.rtcp_tag_len();
        let len = packet.len();
        let ssrc = rtcp_ssrc(packet, RTCP_CLEAR_LEN + 4 + tag_len)?;
        // The index word sits before the tag (CM) or after it (GCM).
        let word_at = if self.profile.is_aead() {
            len - 4
        } else {
            len - tag_len - 4
        };
        let word = u32::from_be_bytes([
            packet[word_at],
            packet[word_at + 1],
            packet[word_at + 2],
            packet[word_at + 3],
        ]);
        let encrypted = word & SRTCP_E_FLAG != 0;
        let index = word & MAX_RTCP_INDEX;
        if let Some(s) = self.stream(ssrc) {
            s.rtcp_received.check(u64::from(index))?;
        }
        let plain_len = len - tag_len - 4;
        match &self.rtcp {
            Transform::CmHmac(cm) => {
                let (authenticated, tag) = packet.split_at_mut(len - tag_len);
                cm.verify(authenticated, &[], tag)?;
                if encrypted {
                    cm.apply_keystream(
                        ssrc,
                        u64::from(index),
                        &mut authenticated[RTCP_CLEAR_LEN..plain_len],
                    );
                }
            }
            Transform::Gcm(gcm) => {
                let nonce = gcm.rtcp_nonce(ssrc, index);
                let word = word.to_be_bytes();
                if encrypted {
                    let mut aad = [0u8; RTCP_CLEAR_LEN + 4];
                    aad[..RTCP_CLEAR_LEN].copy_from_slice(&packet[..RTCP_CLEAR_LEN]);
                    aad[RTCP_CLEAR_LEN..].copy_from_slice(&word);
                    gcm.open(nonce, &aad, &mut packet[RTCP_CLEAR_LEN..len - 4])?;
                } else {
                    // Authentication only: AAD = packet ‖ E‖index. Move the word next to
                    // the packet so the AAD is contiguous, with the tag set aside.
                    let mut tag = [0u8; GCM_TAG_LEN];
                    tag.copy_from_slice(&packet[plain_len..plain_len + GCM_TAG_LEN]);
                    packet[plain_len..plain_len + 4].copy_from_slice(&word);
                    gcm.open(nonce, &packet[..plain_len + 4], &mut tag)?;
                }
            }
        }
        stream_entry(&mut self.streams, ssrc)
            .rtcp_received
            .accept(u64::from(index));
        Ok(plain_len)
    }
}

/// The stream of `ssrc`, created if new (the only allocation on the packet path).
fn stream_entry(streams: &mut Vec<Stream>, ssrc: u32) -> &mut Stream {
    let at = match streams.iter().position(|s| s.ssrc == ssrc) {
        Some(at) => at,
        None => {
            streams.push(Stream {
                ssrc,
                ..Stream::default()
            });
            streams.len() - 1
        }
    };
    &mut streams[at]
}

/// The 48-bit packet index of sequence number `seq`, estimated from the highest index
/// seen (RFC 3711 §3.3.1 and Appendix A).
fn estimate_index(window: &ReplayWindow, initial_roc: u32, seq: u16) -> Result<u64, SrtpError> {
    let seq = u64::from(seq);
    let Some(highest) = window.highest() else {
        return Ok((u64::from(initial_roc) << 16) | seq);
    };
    let last_seq = highest & 0xFFFF;
    let roc = highest >> 16;
    let guessed_roc = if last_seq < 0x8000 {
        if seq > last_seq + 0x8000 {
            // From before a wrap; before the stream's first cycle it is simply too old.
            roc.checked_sub(1).ok_or(SrtpError::TooOld { index: seq })?
        } else {
            roc
        }
    } else if seq + 0x8000 < last_seq {
        roc + 1
    } else {
        roc
    };
    let index = (guessed_roc << 16) | seq;
    if index > MAX_RTP_INDEX {
        return Err(SrtpError::KeyExhausted);
    }
    Ok(index)
}

#[cfg(test)]
mod tests {
    use super::SrtpContext;

    /// A context moves to and is shared with the media threads.
    #[test]
    fn context_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<SrtpContext>();
    }
}
