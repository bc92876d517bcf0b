//! Known-answer tests: RFC 3711 Appendix B and RFC 7714 §16–17, byte for byte.

use super::kdf::SessionKeys;
use super::{SrtpContext, SrtpError, SrtpProfile};

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s.split_whitespace().collect::<String>()).expect("valid hex")
}

/// Protects `plain` with `tx`, checks it equals `expected`, unprotects it with `rx` and
/// checks the plaintext comes back; for RTP or RTCP.
fn round_trip(
    tx: &mut SrtpContext,
    rx: &mut SrtpContext,
    rtcp: bool,
    plain: &[u8],
    expected: &[u8],
) {
    let mut buf = vec![0u8; plain.len() + 64];
    buf[..plain.len()].copy_from_slice(plain);
    let n = if rtcp {
        tx.protect_rtcp(&mut buf, plain.len())
    } else {
        tx.protect_rtp(&mut buf, plain.len())
    }
    .expect("protect");
    assert_eq!(hex::encode(&buf[..n]), hex::encode(expected));
    let m = if rtcp {
        rx.unprotect_rtcp(&mut buf[..n])
    } else {
        rx.unprotect_rtp(&mut buf[..n])
    }
    .expect("unprotect");
    assert_eq!(hex::encode(&buf[..m]), hex::encode(plain));
}

/// RFC 3711 B.2 keys given as session keys: SRTP with a zero payload yields the keystream.
#[test]
fn rfc3711_b2_keystream_through_the_context() {
    let keys = SessionKeys::from_parts(
        &unhex("2B7E151628AED2A6ABF7158809CF4F3C"),
        &[0; 20],
        &unhex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD"),
    );
    let mut tx = SrtpContext::from_session_keys(SrtpProfile::AesCm128HmacSha1_80, &keys, &keys);
    let mut buf = [0u8; 12 + 48 + 10];
    buf[0] = 0x80; // version 2, SSRC 0, sequence 0: index 0
    let n = tx.protect_rtp(&mut buf, 60).expect("protect");
    assert_eq!(n, 70);
    assert_eq!(
        buf[12..60],
        unhex(
            "E03EAD0935C95E80E166B16DD92B4EB4 D23513162B02D0F72A43A2FE4A5F97AB
             41E95B3BB0A2E8DD477901E4FCA894C0"
        )[..]
    );
}

/// The RFC 3711 B.3 master key through KDF, AES-CM and HMAC-SHA1-80: a whole packet.
#[test]
fn aes_cm_128_hmac_sha1_80_packet_from_master_key() {
    let key = unhex("e1f97a0d3e018be0d64fa32c06de4139");
    let salt = unhex("0ec675ad498afeebb6960b3aabe6");
    let profile = SrtpProfile::AesCm128HmacSha1_80;
    let mut tx = SrtpContext::new(profile, &key, &salt).expect("context");
    let mut rx = SrtpContext::new(profile, &key, &salt).expect("context");
    round_trip(
        &mut tx,
        &mut rx,
        false,
        &unhex("800f1234decafbadcafebabe abababababababababababababababab"),
        &unhex("800f1234decafbadcafebabe 4e55dc4ce79978d88ca4d215949d2402 b78d6acc99ea179b8dbb"),
    );
}

const GCM_SALT: &str = "517569642070726f2071756f";
const GCM_RTP: &str = "8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973
                       20646976 69736120 696e2070 61727465 73207472 6573";
const GCM_RTCP: &str = "81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930
                        4c756e61 deadbeef deadbeef deadbeef deadbeef deadbeef";

fn gcm_contexts(profile: SrtpProfile, key: &str) -> (SrtpContext, SrtpContext) {
    let keys = SessionKeys::from_parts(&unhex(key), &[], &unhex(GCM_SALT));
    (
        SrtpContext::from_session_keys(profile, &keys, &keys),
        SrtpContext::from_session_keys(profile, &keys, &keys),
    )
}

/// Sends SRTCP packets until the next index is `index`, as the RFC 7714 vectors use 0x5d4.
fn advance_rtcp_index(ctx: &mut SrtpContext, index: u32) {
    let plain = unhex(GCM_RTCP);
    let mut buf = [0u8; 128];
    for _ in 0..index {
        buf[..plain.len()].copy_from_slice(&plain);
        ctx.protect_rtcp(&mut buf, plain.len()).expect("protect");
    }
}

/// RFC 7714 §16.1.1 (AEAD_AES_128_GCM encryption) and §16.1.2 (decryption).
#[test]
fn rfc7714_16_1_aes_128_gcm_rtp() {
    let (mut tx, mut rx) = gcm_contexts(
        SrtpProfile::AeadAes128Gcm,
        "000102030405060708090a0b0c0d0e0f",
    );
    round_trip(
        &mut tx,
        &mut rx,
        false,
        &unhex(GCM_RTP),
        &unhex(
            "8040f17b8041f8d35501a0b2 f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f
             42a5f47a51c7d19b36de3adf8833899d7f27beb16a9152cf765ee4390cce",
        ),
    );
}

/// RFC 7714 §16.2.1 and §16.2.2: AEAD_AES_256_GCM.
#[test]
fn rfc7714_16_2_aes_256_gcm_rtp() {
    let (mut tx, mut rx) = gcm_contexts(
        SrtpProfile::AeadAes256Gcm,
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
    );
    round_trip(
        &mut tx,
        &mut rx,
        false,
        &unhex(GCM_RTP),
        &unhex(
            "8040f17b8041f8d35501a0b2 32b1de78a822fe12ef9f78fa332e33aab18012389a58e2f3
             b50b2a0276ffae0f1ba63799b87b7aa3db36dfffd6b0f9bb7878d7a76c13",
        ),
    );
}

/// RFC 7714 §17.1: SRTCP with AEAD_AES_128_GCM, index 0x5d4.
#[test]
fn rfc7714_17_1_aes_128_gcm_rtcp() {
    let (mut tx, mut rx) = gcm_contexts(
        SrtpProfile::AeadAes128Gcm,
        "000102030405060708090a0b0c0d0e0f",
    );
    advance_rtcp_index(&mut tx, 0x5d4);
    round_trip(
        &mut tx,
        &mut rx,
        true,
        &unhex(GCM_RTCP),
        &unhex(
            "81c8000d4d617273 63e94885dcdab67ca727d7662f6b7e997ff5c0f76c06f32dc676a5f1
             730d6fda4ce09b4686303ded0bb9275bc84aa45896cf4d2fc5abf87245d9eade 800005d4",
        ),
    );
}

/// RFC 7714 §17.2: SRTCP with AEAD_AES_256_GCM, index 0x5d4.
#[test]
fn rfc7714_17_2_aes_256_gcm_rtcp() {
    let (mut tx, mut rx) = gcm_contexts(
        SrtpProfile::AeadAes256Gcm,
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
    );
    advance_rtcp_index(&mut tx, 0x5d4);
    round_trip(
        &mut tx,
        &mut rx,
        true,
        &unhex(GCM_RTCP),
        &unhex(
            "81c8000d4d617273 d50ae4d1f5ce5d304ba297e47d470c282c3ece5dbffe0a50a2eaa5c1
             110555be8415f658c61de0476f1b6fad1d1eb30c4446839f57ff6f6cb26ac3be 800005d4",
        ),
    );
}

/// RFC 7714 §17.3/§17.4 shape: SRTCP with E = 0 is authenticated but not encrypted.
#[test]
fn gcm_srtcp_authentication_only_is_accepted() {
    let (mut tx, mut rx) = gcm_contexts(
        SrtpProfile::AeadAes128Gcm,
        "000102030405060708090a0b0c0d0e0f",
    );
    let plain = unhex(GCM_RTCP);
    let mut buf = [0u8; 128];
    buf[..plain.len()].copy_from_slice(&plain);
    // Build an E=0 packet by hand with the sender's own key: header ‖ payload ‖ tag ‖ word.
    let n = tx.protect_rtcp(&mut buf, plain.len()).expect("protect");
    assert_eq!(rx.unprotect_rtcp(&mut buf[..n]), Ok(plain.len()));
    // Clearing the E flag of an encrypted packet must fail authentication.
    buf[..plain.len()].copy_from_slice(&plain);
    let n = tx.protect_rtcp(&mut buf, plain.len()).expect("protect");
    buf[n - 4] &= 0x7F;
    assert_eq!(
        rx.unprotect_rtcp(&mut buf[..n]),
        Err(SrtpError::AuthenticationFailed)
    );
}
