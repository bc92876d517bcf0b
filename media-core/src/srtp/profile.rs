//! The SRTP protection profiles MediaCore implements (RFC 3711, RFC 5764, RFC 7714).

/// An SRTP protection profile: cipher, key sizes and tag lengths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SrtpProfile {
    /// `SRTP_AES128_CM_HMAC_SHA1_80` (RFC 5764 id 0x0001).
    AesCm128HmacSha1_80,
    /// `SRTP_AES128_CM_HMAC_SHA1_32` (RFC 5764 id 0x0002); SRTCP still uses an 80-bit tag.
    AesCm128HmacSha1_32,
    /// `SRTP_AEAD_AES_128_GCM` (RFC 7714 id 0x0007).
    AeadAes128Gcm,
    /// `SRTP_AEAD_AES_256_GCM` (RFC 7714 id 0x0008).
    AeadAes256Gcm,
}

impl SrtpProfile {
    /// Every profile, strongest last.
    pub const ALL: [Self; 4] = [
        Self::AesCm128HmacSha1_80,
        Self::AesCm128HmacSha1_32,
        Self::AeadAes128Gcm,
        Self::AeadAes256Gcm,
    ];

    /// The profile's name as DTLS-SRTP (RFC 5764) spells it.
    pub fn name(self) -> &'static str {
        match self {
            Self::AesCm128HmacSha1_80 => "SRTP_AES128_CM_HMAC_SHA1_80",
            Self::AesCm128HmacSha1_32 => "SRTP_AES128_CM_HMAC_SHA1_32",
            Self::AeadAes128Gcm => "SRTP_AEAD_AES_128_GCM",
            Self::AeadAes256Gcm => "SRTP_AEAD_AES_256_GCM",
        }
    }

    /// The DTLS-SRTP protection profile id (RFC 5764 §4.1.2, RFC 7714 §14.2).
    pub fn dtls_id(self) -> u16 {
        match self {
            Self::AesCm128HmacSha1_80 => 0x0001,
            Self::AesCm128HmacSha1_32 => 0x0002,
            Self::AeadAes128Gcm => 0x0007,
            Self::AeadAes256Gcm => 0x0008,
        }
    }

    /// The profile with a DTLS-SRTP id, if MediaCore implements it.
    pub fn from_dtls_id(id: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.dtls_id() == id)
    }

    /// Length of the master (and session encryption) key in bytes.
    pub fn key_len(self) -> usize {
        match self {
            Self::AeadAes256Gcm => 32,
            _ => 16,
        }
    }

    /// Length of the master (and session) salt in bytes.
    pub fn salt_len(self) -> usize {
        if self.is_aead() { 12 } else { 14 }
    }

    /// Whether the profile is an AEAD (GCM) profile.
    pub fn is_aead(self) -> bool {
        matches!(self, Self::AeadAes128Gcm | Self::AeadAes256Gcm)
    }

    /// Bytes of authentication tag appended to an SRTP packet.
    pub fn rtp_tag_len(self) -> usize {
        match self {
            Self::AesCm128HmacSha1_80 => 10,
            Self::AesCm128HmacSha1_32 => 4,
            Self::AeadAes128Gcm | Self::AeadAes256Gcm => 16,
        }
    }

    /// Bytes of authentication tag in an SRTCP packet.
    pub fn rtcp_tag_len(self) -> usize {
        if self.is_aead() { 16 } else { 10 }
    }

    /// Bytes that protecting adds to an RTP packet.
    pub fn rtp_overhead(self) -> usize {
        self.rtp_tag_len()
    }

    /// Bytes that protecting adds to an RTCP packet (tag plus the 4-byte E‖index word).
    pub fn rtcp_overhead(self) -> usize {
        self.rtcp_tag_len() + 4
    }
}

impl std::fmt::Display for SrtpProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
