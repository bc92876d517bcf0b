//! AEAD_AES_128_GCM and AEAD_AES_256_GCM for SRTP and SRTCP (RFC 7714).
//!
//! The key object is built once per session; per packet only the 12-byte nonce changes.
//! aws-lc-rs cleanses its key schedule when the key is dropped.

use aws_lc_rs::aead::{AES_128_GCM, AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use zeroize::Zeroize;

use super::error::SrtpError;
use super::kdf::SessionKeys;
use super::profile::SrtpProfile;

/// GCM tag length used by SRTP (RFC 7714 §5: 16 octets).
pub(crate) const GCM_TAG_LEN: usize = 16;

/// Per-session AES-GCM transform of one direction (RTP or RTCP).
pub(crate) struct Gcm {
    key: LessSafeKey,
    salt: [u8; 12],
}

impl Drop for Gcm {
    fn drop(&mut self) {
        self.salt.zeroize();
    }
}

impl Gcm {
    pub(crate) fn new(profile: SrtpProfile, keys: &SessionKeys) -> Self {
        let (alg, len) = match profile {
            SrtpProfile::AeadAes256Gcm => (&AES_256_GCM, 32),
            _ => (&AES_128_GCM, 16),
        };
        let key = match UnboundKey::new(alg, &keys.key[..len]) {
            Ok(key) => LessSafeKey::new(key),
            Err(_) => unreachable!("the key length matches the algorithm"),
        };
        let mut salt = [0u8; 12];
        salt.copy_from_slice(&keys.salt[..12]);
        Self { key, salt }
    }

    /// The 12-byte nonce: `0x0000 ‖ ssrc ‖ high ‖ low`, ⊕ salt (RFC 7714 §8.1 and §9.1).
    /// For SRTP, `high` is the ROC and `low` the sequence number; for SRTCP `high` is 0 and
    /// `low` the 31-bit index.
    fn nonce(&self, ssrc: u32, high: u32, low: u32, low_is_u16: bool) -> Nonce {
        let mut iv = [0u8; 12];
        iv[2..6].copy_from_slice(&ssrc.to_be_bytes());
        if low_is_u16 {
            iv[6..10].copy_from_slice(&high.to_be_bytes());
            iv[10..12].copy_from_slice(&(low as u16).to_be_bytes());
        } else {
            iv[8..12].copy_from_slice(&low.to_be_bytes());
        }
        for (d, s) in iv.iter_mut().zip(&self.salt) {
            *d ^= s;
        }
        Nonce::assume_unique_for_key(iv)
    }

    /// The nonce of an SRTP packet.
    pub(crate) fn rtp_nonce(&self, ssrc: u32, roc: u32, seq: u16) -> Nonce {
        self.nonce(ssrc, roc, u32::from(seq), true)
    }

    /// The nonce of an SRTCP packet.
    pub(crate) fn rtcp_nonce(&self, ssrc: u32, index: u32) -> Nonce {
        self.nonce(ssrc, 0, index, false)
    }

    /// Encrypts `plaintext` in place and writes the tag into `tag`.
    pub(crate) fn seal(
        &self,
        nonce: Nonce,
        aad: &[u8],
        plaintext: &mut [u8],
        tag: &mut [u8],
    ) -> Result<(), SrtpError> {
        let t = self
            .key
            .seal_in_place_separate_tag(nonce, Aad::from(aad), plaintext)
            // Only oversized inputs (≫ any UDP datagram) make sealing fail.
            .map_err(|_| SrtpError::BufferTooSmall {
                needed: plaintext.len(),
                capacity: plaintext.len(),
            })?;
        tag.copy_from_slice(t.as_ref());
        Ok(())
    }

    /// Authenticates and decrypts `ciphertext_and_tag` in place; returns the plaintext length.
    pub(crate) fn open(
        &self,
        nonce: Nonce,
        aad: &[u8],
        ciphertext_and_tag: &mut [u8],
    ) -> Result<usize, SrtpError> {
        self.key
            .open_in_place(nonce, Aad::from(aad), ciphertext_and_tag)
            .map(|plain| plain.len())
            .map_err(|_| SrtpError::AuthenticationFailed)
    }
}
