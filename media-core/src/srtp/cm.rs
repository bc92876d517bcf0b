//! AES-128 counter mode with HMAC-SHA1 authentication (RFC 3711 §4.1.1, §4.2.1).
//!
//! SHA-1 dominates the cost of this profile, so the keyed HMAC state (key ⊕ ipad/opad
//! already absorbed) is built once per session and copied per packet.

use aes::Aes128;
use aes::cipher::{InnerIvInit, KeyInit, StreamCipher, generic_array::GenericArray};
use hmac::{Hmac, Mac};
use sha1::Sha1;
use zeroize::Zeroize;

use super::error::SrtpError;
use super::kdf::SessionKeys;

type Aes128Ctr = ctr::Ctr128BE<Aes128>;

/// Full HMAC-SHA1 output length.
const SHA1_LEN: usize = 20;

/// An HMAC-SHA1 state that is wiped when dropped: a keyed state is as secret as the key.
#[derive(Clone)]
struct WipedMac(Hmac<Sha1>);

impl Drop for WipedMac {
    fn drop(&mut self) {
        // SAFETY: `Hmac<Sha1>` is plain data — integer arrays and counters, no pointers,
        // no drop glue — so all-zero bytes are a valid value, and `&mut self.0` gives
        // exclusive access to them.
        unsafe { zeroize::zeroize_flat_type(&mut self.0) }
    }
}

/// Per-session AES-CM + HMAC-SHA1 transform of one direction (RTP or RTCP).
pub(crate) struct CmHmac {
    aes: Aes128,
    mac: WipedMac,
    salt: [u8; 14],
}

impl Drop for CmHmac {
    fn drop(&mut self) {
        // `aes` zeroizes its own round keys (crate feature `zeroize`).
        self.salt.zeroize();
    }
}

impl CmHmac {
    pub(crate) fn new(keys: &SessionKeys) -> Self {
        let aes = Aes128::new(GenericArray::from_slice(&keys.key[..16]));
        // HMAC accepts keys of any length, so this cannot fail.
        let mac = match <Hmac<Sha1> as Mac>::new_from_slice(&keys.auth) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        };
        Self {
            aes,
            mac: WipedMac(mac),
            salt: keys.salt,
        }
    }

    /// The counter-mode IV: (salt·2^16) ⊕ (ssrc·2^64) ⊕ (index·2^16), RFC 3711 §4.1.1.
    fn iv(&self, ssrc: u32, index: u64) -> [u8; 16] {
        let mut iv = [0u8; 16];
        iv[..14].copy_from_slice(&self.salt);
        for (d, s) in iv[4..8].iter_mut().zip(ssrc.to_be_bytes()) {
            *d ^= s;
        }
        for (d, s) in iv[8..14].iter_mut().zip(&index.to_be_bytes()[2..]) {
            *d ^= s;
        }
        iv
    }

    /// Encrypts or decrypts `data` in place with the keystream for (`ssrc`, `index`).
    pub(crate) fn apply_keystream(&self, ssrc: u32, index: u64, data: &mut [u8]) {
        let mut iv = self.iv(ssrc, index);
        let core = ctr::CtrCore::inner_iv_init(self.aes.clone(), GenericArray::from_slice(&iv));
        let mut ctr = Aes128Ctr::from_core(core);
        ctr.apply_keystream(data);
        iv.zeroize();
    }

    /// HMAC-SHA1 over `authenticated` followed by `trailer` (the ROC for SRTP, nothing for
    /// SRTCP whose index is already inside the authenticated part).
    fn mac(&self, authenticated: &[u8], trailer: &[u8]) -> [u8; SHA1_LEN] {
        let mut mac = self.mac.clone();
        mac.0.update(authenticated);
        mac.0.update(trailer);
        mac.0.finalize_reset().into_bytes().into()
    }

    /// Writes the `tag.len()`-byte tag of `authenticated ‖ trailer` into `tag`.
    pub(crate) fn sign(&self, authenticated: &[u8], trailer: &[u8], tag: &mut [u8]) {
        let mut full = self.mac(authenticated, trailer);
        tag.copy_from_slice(&full[..tag.len()]);
        full.zeroize();
    }

    /// Checks `tag` against `authenticated ‖ trailer` in constant time.
    pub(crate) fn verify(
        &self,
        authenticated: &[u8],
        trailer: &[u8],
        tag: &[u8],
    ) -> Result<(), SrtpError> {
        let mut full = self.mac(authenticated, trailer);
        let ok = aws_lc_rs::constant_time::verify_slices_are_equal(&full[..tag.len()], tag);
        full.zeroize();
        ok.map_err(|_| SrtpError::AuthenticationFailed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 3711 Appendix B.2: the AES-CM keystream for session key 2B7E..., salt F0F1...,
    /// SSRC 0 and index 0.
    #[test]
    fn rfc3711_b2_keystream() {
        let key = hex::decode("2B7E151628AED2A6ABF7158809CF4F3C").expect("hex");
        let salt = hex::decode("F0F1F2F3F4F5F6F7F8F9FAFBFCFD").expect("hex");
        let cm = CmHmac::new(&SessionKeys::from_parts(&key, &[0; 20], &salt));
        assert_eq!(
            cm.iv(0, 0),
            *hex::decode("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000")
                .expect("hex")
                .as_slice()
        );
        let mut data = [0u8; 48];
        cm.apply_keystream(0, 0, &mut data);
        assert_eq!(
            data[..],
            hex::decode(
                "E03EAD0935C95E80E166B16DD92B4EB4D23513162B02D0F72A43A2FE4A5F97AB\
                 41E95B3BB0A2E8DD477901E4FCA894C0"
            )
            .expect("hex")[..]
        );
    }
}
