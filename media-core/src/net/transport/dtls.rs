//! DTLS-SRTP (RFC 5764): the call's certificate and its SDP fingerprint, the handshake
//! configuration that authenticates the peer by the fingerprint it signalled, and the SRTP
//! keys exported from a finished handshake into MediaCore's own SRTP.

use std::fmt;
use std::sync::{Arc, Mutex};

use aws_lc_rs::digest;
use rtc_crypto::RTCCryptoProvider;
use rtc_dtls::config::{
    ClientAuthType, ConfigBuilder, ExtendedMasterSecretType, HandshakeConfig,
    VerifyPeerCertificateFn,
};
use rtc_dtls::crypto::Certificate;
use rtc_dtls::extension::extension_use_srtp::SrtpProtectionProfile;
use rtc_dtls::state::State;

use super::TransportError;
use crate::call::SrtpKeys;
use crate::srtp::SrtpProfile;

/// The RFC 5705 exporter label of DTLS-SRTP (RFC 5764 §4.2).
const SRTP_EXPORTER_LABEL: &str = "EXTRACTOR-dtls_srtp";

/// SRTP profiles offered in the handshake, preferred first: AES-GCM is authenticated
/// encryption in one pass (and MediaCore's fastest, docs/benchmarks.md); the CM/HMAC
/// profiles are there for peers without it.
const OFFERED_PROFILES: [SrtpProfile; 3] = [
    SrtpProfile::AeadAes128Gcm,
    SrtpProfile::AesCm128HmacSha1_80,
    SrtpProfile::AeadAes256Gcm,
];

/// Which end of the DTLS handshake this side is (SDP `a=setup`, RFC 5763 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DtlsRole {
    /// Sends the ClientHello (`a=setup:active`).
    Client,
    /// Waits for it (`a=setup:passive`).
    Server,
}

/// A certificate fingerprint as SDP carries it (`a=fingerprint:sha-256 AB:CD:…`, RFC 8122).
#[derive(Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// The hash function's name as SDP spells it, lower case (`sha-256`).
    pub algorithm: String,
    /// The hash of the DER certificate.
    pub value: Vec<u8>,
}

impl Fingerprint {
    /// The fingerprint of a DER certificate under `algorithm` (`sha-256`, `sha-384` or
    /// `sha-512`).
    pub fn of_certificate(algorithm: &str, der: &[u8]) -> Result<Self, TransportError> {
        let algorithm = algorithm.to_ascii_lowercase();
        let hash = match algorithm.as_str() {
            "sha-256" => &digest::SHA256,
            "sha-384" => &digest::SHA384,
            "sha-512" => &digest::SHA512,
            _ => return Err(TransportError::UnsupportedFingerprint(algorithm)),
        };
        Ok(Self {
            value: digest::digest(hash, der).as_ref().to_vec(),
            algorithm,
        })
    }

    /// Parses the value of an `a=fingerprint` attribute: `<hash> <hex pairs joined by ':'>`.
    pub fn parse(text: &str) -> Result<Self, TransportError> {
        let bad = || TransportError::BadFingerprint(text.to_owned());
        let (algorithm, hex) = text.trim().split_once(' ').ok_or_else(bad)?;
        let algorithm = algorithm.to_ascii_lowercase();
        let expected_len = match algorithm.as_str() {
            "sha-256" => 32,
            "sha-384" => 48,
            "sha-512" => 64,
            _ => return Err(TransportError::UnsupportedFingerprint(algorithm)),
        };
        let value = hex
            .trim()
            .split(':')
            .map(|pair| {
                if pair.len() == 2 {
                    u8::from_str_radix(pair, 16).map_err(|_| bad())
                } else {
                    Err(bad())
                }
            })
            .collect::<Result<Vec<u8>, _>>()?;
        if value.len() != expected_len {
            return Err(bad());
        }
        Ok(Self { algorithm, value })
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.algorithm)?;
        for (i, byte) in self.value.iter().enumerate() {
            let sep = if i == 0 { ' ' } else { ':' };
            write!(f, "{sep}{byte:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A call's DTLS identity: a fresh self-signed certificate and its SHA-256 fingerprint.
#[derive(Clone)]
pub struct DtlsIdentity {
    certificate: Certificate,
    fingerprint: Fingerprint,
}

impl fmt::Debug for DtlsIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DtlsIdentity")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl DtlsIdentity {
    /// Generates a self-signed ECDSA P-256 certificate, as browsers use for WebRTC.
    pub fn generate(crypto: &Arc<dyn RTCCryptoProvider>) -> Result<Self, TransportError> {
        let certificate =
            Certificate::generate_self_signed(vec!["mediacore".to_owned()], crypto.crypto())
                .map_err(|e| TransportError::Dtls(e.to_string()))?;
        let der = certificate
            .certificate
            .first()
            .ok_or_else(|| TransportError::Dtls("generated certificate is empty".to_owned()))?;
        let fingerprint = Fingerprint::of_certificate("sha-256", der.as_ref())?;
        Ok(Self {
            certificate,
            fingerprint,
        })
    }

    /// The fingerprint the SDP advertises.
    pub fn fingerprint(&self) -> &Fingerprint {
        &self.fingerprint
    }

    /// The handshake configuration for `role`: mutual certificate authentication where the
    /// peer's certificate must hash to `remote` (no CA: the signalling channel vouches for
    /// the fingerprint), extended master secret required, and the SRTP profiles MediaCore
    /// implements.
    pub(crate) fn handshake_config(
        &self,
        crypto: &Arc<dyn RTCCryptoProvider>,
        role: DtlsRole,
        remote: Fingerprint,
        mismatch: Arc<Mutex<Option<String>>>,
    ) -> Result<HandshakeConfig, TransportError> {
        let verify: VerifyPeerCertificateFn = Arc::new(move |chain: &[Vec<u8>], _| {
            let Some(leaf) = chain.first() else {
                return Err(rtc_shared::error::Error::Other(
                    "peer sent no certificate".to_owned(),
                ));
            };
            let reason = match Fingerprint::of_certificate(&remote.algorithm, leaf) {
                Ok(actual) if actual == remote => return Ok(()),
                Ok(actual) => {
                    format!("peer certificate fingerprint {actual} is not the signalled {remote}")
                }
                Err(e) => e.to_string(),
            };
            // The handshake only sees an error; the transport reports why.
            if let Ok(mut slot) = mismatch.lock() {
                *slot = Some(reason.clone());
            }
            Err(rtc_shared::error::Error::Other(reason))
        });
        let profiles = OFFERED_PROFILES
            .iter()
            .map(|p| dtls_profile(*p))
            .collect::<Vec<_>>();
        ConfigBuilder::default()
            .with_crypto_provider(crypto.clone())
            .with_certificates(vec![self.certificate.clone()])
            .with_srtp_protection_profiles(profiles)
            .with_client_auth(ClientAuthType::RequireAnyClientCert)
            // No chain validation: the fingerprint check above is the authentication.
            .with_insecure_skip_verify(true)
            .with_verify_peer_certificate(Some(verify))
            .with_extended_master_secret(ExtendedMasterSecretType::Require)
            .build(role == DtlsRole::Client, None)
            .map_err(|e| TransportError::Dtls(e.to_string()))
    }
}

fn dtls_profile(profile: SrtpProfile) -> SrtpProtectionProfile {
    match profile {
        SrtpProfile::AesCm128HmacSha1_80 => SrtpProtectionProfile::Srtp_Aes128_Cm_Hmac_Sha1_80,
        SrtpProfile::AesCm128HmacSha1_32 => SrtpProtectionProfile::Srtp_Aes128_Cm_Hmac_Sha1_32,
        SrtpProfile::AeadAes128Gcm => SrtpProtectionProfile::Srtp_Aead_Aes_128_Gcm,
        SrtpProfile::AeadAes256Gcm => SrtpProtectionProfile::Srtp_Aead_Aes_256_Gcm,
    }
}

/// The SRTP keys of a finished handshake (RFC 5764 §4.2): the exporter output is the
/// client's master key, the server's, the client's salt, the server's; each side sends
/// with its own and receives with the other's.
pub(crate) fn srtp_keys(state: &State) -> Result<SrtpKeys, TransportError> {
    let negotiated = state.srtp_protection_profile();
    let profile = SrtpProfile::from_dtls_id(negotiated as u16)
        .filter(|_| negotiated != SrtpProtectionProfile::Unsupported)
        .ok_or(TransportError::NoSrtpProfile)?;
    let (key_len, salt_len) = (profile.key_len(), profile.salt_len());
    let material = state
        .export_keying_material(SRTP_EXPORTER_LABEL, &[], 2 * (key_len + salt_len))
        .map_err(|e| TransportError::Dtls(e.to_string()))?;
    let material: &[u8] = material.as_ref();
    if material.len() != 2 * (key_len + salt_len) {
        return Err(TransportError::Dtls(
            "DTLS exporter returned the wrong length".to_owned(),
        ));
    }
    let (client_key, rest) = material.split_at(key_len);
    let (server_key, rest) = rest.split_at(key_len);
    let (client_salt, server_salt) = rest.split_at(salt_len);
    let (send, receive) = if state.is_client() {
        ((client_key, client_salt), (server_key, server_salt))
    } else {
        ((server_key, server_salt), (client_key, client_salt))
    };
    Ok(SrtpKeys {
        profile,
        send_key: send.0.to_vec(),
        send_salt: send.1.to_vec(),
        receive_key: receive.0.to_vec(),
        receive_salt: receive.1.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_round_trips_through_sdp_text() {
        let fp = Fingerprint::of_certificate("sha-256", b"certificate").expect("hash");
        let text = fp.to_string();
        assert!(text.starts_with("sha-256 "));
        assert_eq!(text.len(), "sha-256 ".len() + 32 * 3 - 1);
        assert_eq!(Fingerprint::parse(&text).expect("parse upper case"), fp);
        assert_eq!(
            Fingerprint::parse(&text.to_lowercase()).expect("parse lower case"),
            fp
        );
    }

    #[test]
    fn bad_fingerprints_are_errors() {
        for text in [
            "",
            "sha-256",
            "sha-256 AB:CD",
            "sha-256 ZZ:00",
            "md5 AB:CD:EF",
            "sha-256 ABC:00",
        ] {
            assert!(Fingerprint::parse(text).is_err(), "{text:?}");
        }
    }
}
