//! The SRTP key derivation function: the AES-CM PRF of RFC 3711 §4.3 (AES-256 for
//! AEAD_AES_256_GCM, RFC 6188), with a key derivation rate of zero as DTLS-SRTP uses.

use aes::cipher::{BlockEncrypt, KeyInit, generic_array::GenericArray};
use aes::{Aes128, Aes256};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::error::SrtpError;
use super::profile::SrtpProfile;

/// Labels of RFC 3711 §4.3.2.
#[derive(Debug, Clone, Copy)]
#[repr(u8)]
enum Label {
    RtpEncryption = 0,
    RtpAuthentication = 1,
    RtpSalt = 2,
    RtcpEncryption = 3,
    RtcpAuthentication = 4,
    RtcpSalt = 5,
}

/// Length of the HMAC-SHA1 session authentication key.
pub const AUTH_KEY_LEN: usize = 20;

/// The session keys of one direction (RTP or RTCP). Zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SessionKeys {
    /// Encryption key; the first `profile.key_len()` bytes are used.
    pub(crate) key: [u8; 32],
    /// Authentication key (CM profiles only).
    pub(crate) auth: [u8; AUTH_KEY_LEN],
    /// Session salt; the first `profile.salt_len()` bytes are used.
    pub(crate) salt: [u8; 14],
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKeys(..)")
    }
}

impl SessionKeys {
    /// Session keys given directly, as the RFC test vectors give them.
    pub(crate) fn from_parts(key: &[u8], auth: &[u8], salt: &[u8]) -> Self {
        let mut keys = Self {
            key: [0; 32],
            auth: [0; AUTH_KEY_LEN],
            salt: [0; 14],
        };
        keys.key[..key.len()].copy_from_slice(key);
        keys.auth[..auth.len()].copy_from_slice(auth);
        keys.salt[..salt.len()].copy_from_slice(salt);
        keys
    }
}

/// Checks the master key and salt lengths for `profile`.
pub(crate) fn check_master(
    profile: SrtpProfile,
    master_key: &[u8],
    master_salt: &[u8],
) -> Result<(), SrtpError> {
    if master_key.len() != profile.key_len() {
        return Err(SrtpError::BadKeyLength {
            what: "master key",
            profile: profile.name(),
            expected: profile.key_len(),
            got: master_key.len(),
        });
    }
    if master_salt.len() != profile.salt_len() {
        return Err(SrtpError::BadKeyLength {
            what: "master salt",
            profile: profile.name(),
            expected: profile.salt_len(),
            got: master_salt.len(),
        });
    }
    Ok(())
}

/// Derives the RTP and RTCP session keys from a master key and salt whose lengths were
/// checked with [`check_master`].
pub(crate) fn derive(
    profile: SrtpProfile,
    master_key: &[u8],
    master_salt: &[u8],
) -> (SessionKeys, SessionKeys) {
    let prf = Prf::new(master_key, master_salt);
    let session = |enc, auth, salt| {
        let mut keys = SessionKeys::from_parts(&[], &[], &[]);
        prf.fill(enc, &mut keys.key[..profile.key_len()]);
        if !profile.is_aead() {
            prf.fill(auth, &mut keys.auth);
        }
        prf.fill(salt, &mut keys.salt[..profile.salt_len()]);
        keys
    };
    (
        session(
            Label::RtpEncryption,
            Label::RtpAuthentication,
            Label::RtpSalt,
        ),
        session(
            Label::RtcpEncryption,
            Label::RtcpAuthentication,
            Label::RtcpSalt,
        ),
    )
}

/// The AES-CM PRF keyed with a master key.
struct Prf {
    cipher: PrfCipher,
    /// The master salt as a 112-bit value; a 96-bit AEAD salt is multiplied by 2^16
    /// (RFC 7714 erratum 4938), i.e. zero-padded on the right.
    salt: [u8; 14],
}

#[allow(clippy::large_enum_variant)] // Lives on the stack for one key derivation.
enum PrfCipher {
    Aes128(Aes128),
    Aes256(Aes256),
}

impl Prf {
    fn new(master_key: &[u8], master_salt: &[u8]) -> Self {
        let mut salt = [0u8; 14];
        salt[..master_salt.len()].copy_from_slice(master_salt);
        let cipher = if master_key.len() == 32 {
            PrfCipher::Aes256(Aes256::new(GenericArray::from_slice(master_key)))
        } else {
            PrfCipher::Aes128(Aes128::new(GenericArray::from_slice(master_key)))
        };
        Self { cipher, salt }
    }

    /// Fills `out` with the PRF keystream for `label`: AES(k_master, (salt ⊕ label·2^48)·2^16 + i).
    fn fill(&self, label: Label, out: &mut [u8]) {
        let mut iv = [0u8; 16];
        iv[..14].copy_from_slice(&self.salt);
        iv[7] ^= label as u8;
        for (i, chunk) in out.chunks_mut(16).enumerate() {
            let mut block = iv;
            block[14..].copy_from_slice(&(i as u16).to_be_bytes());
            let block_ref = GenericArray::from_mut_slice(&mut block);
            match &self.cipher {
                PrfCipher::Aes128(c) => c.encrypt_block(block_ref),
                PrfCipher::Aes256(c) => c.encrypt_block(block_ref),
            }
            chunk.copy_from_slice(&block[..chunk.len()]);
            block.zeroize();
        }
    }
}

impl Drop for Prf {
    fn drop(&mut self) {
        self.salt.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s.split_whitespace().collect::<String>()).expect("hex")
    }

    /// RFC 3711 Appendix B.3.
    #[test]
    fn rfc3711_b3_key_derivation() {
        let master_key = unhex("E1F97A0D3E018BE0D64FA32C06DE4139");
        let master_salt = unhex("0EC675AD498AFEEBB6960B3AABE6");
        let (rtp, _) = derive(SrtpProfile::AesCm128HmacSha1_80, &master_key, &master_salt);
        assert_eq!(rtp.key[..16], unhex("C61E7A93744F39EE10734AFE3FF7A087")[..]);
        assert_eq!(rtp.salt[..], unhex("30CBBC08863D8C85D49DB34A9AE1")[..]);
        assert_eq!(
            rtp.auth[..],
            unhex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4")[..]
        );
        // The full 94-byte keystream of label 1, to check multi-block output.
        let prf = Prf::new(&master_key, &master_salt);
        let mut long = [0u8; 94];
        prf.fill(Label::RtpAuthentication, &mut long);
        assert_eq!(
            long[..],
            unhex(
                "CEBE321F6FF7716B6FD4AB49AF256A15 6D38BAA48F0A0ACF3C34E2359E6CDBCE
                 E049646C43D9327AD175578EF7227098 6371C10C9A369AC2F94A8C5FBCDDDC25
                 6D6E919A48B610EF17C2041E47403576 6B68642C59BBFC2F34DB60DBDFB2"
            )[..]
        );
    }
}
