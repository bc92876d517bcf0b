//! Replay, tamper, truncation and rollover behaviour of SRTP/SRTCP, for every profile.

use media_core::srtp::{SrtpContext, SrtpError, SrtpProfile};

fn contexts(profile: SrtpProfile) -> (SrtpContext, SrtpContext) {
    let key: Vec<u8> = (0..profile.key_len() as u8).collect();
    let salt: Vec<u8> = (100..100 + profile.salt_len() as u8).collect();
    (
        SrtpContext::new(profile, &key, &salt).expect("tx"),
        SrtpContext::new(profile, &key, &salt).expect("rx"),
    )
}

fn rtp(seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x80, 96];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0x10, 0]);
    p.extend_from_slice(&0xAABB_CCDDu32.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

fn protect(tx: &mut SrtpContext, plain: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; plain.len() + 16];
    buf[..plain.len()].copy_from_slice(plain);
    let n = tx.protect_rtp(&mut buf, plain.len()).expect("protect");
    buf.truncate(n);
    buf
}

fn protect_rtcp(tx: &mut SrtpContext, plain: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; plain.len() + 20];
    buf[..plain.len()].copy_from_slice(plain);
    let n = tx
        .protect_rtcp(&mut buf, plain.len())
        .expect("protect rtcp");
    buf.truncate(n);
    buf
}

const RTCP_RR: [u8; 16] = [
    0x81, 201, 0, 3, 0xAA, 0xBB, 0xCC, 0xDD, 1, 2, 3, 4, 5, 6, 7, 8,
];

#[test]
fn replayed_packets_are_refused() {
    for profile in SrtpProfile::ALL {
        let (mut tx, mut rx) = contexts(profile);
        let srtp = protect(&mut tx, &rtp(10, b"hello"));
        let mut copy = srtp.clone();
        assert!(rx.unprotect_rtp(&mut copy).is_ok(), "{profile}");
        let mut again = srtp.clone();
        assert_eq!(
            rx.unprotect_rtp(&mut again),
            Err(SrtpError::Replayed { index: 10 }),
            "{profile}"
        );
        let srtcp = protect_rtcp(&mut tx, &RTCP_RR);
        let mut copy = srtcp.clone();
        assert!(rx.unprotect_rtcp(&mut copy).is_ok(), "{profile}");
        let mut again = srtcp.clone();
        assert_eq!(
            rx.unprotect_rtcp(&mut again),
            Err(SrtpError::Replayed { index: 0 }),
            "{profile}"
        );
    }
}

#[test]
fn packets_older_than_the_window_are_refused() {
    for profile in SrtpProfile::ALL {
        let (mut tx, mut rx) = contexts(profile);
        let old = protect(&mut tx, &rtp(1, b"old"));
        for seq in 2..=200 {
            let mut p = protect(&mut tx, &rtp(seq, b"x"));
            rx.unprotect_rtp(&mut p).expect("in order");
        }
        let mut old = old;
        assert_eq!(
            rx.unprotect_rtp(&mut old),
            Err(SrtpError::TooOld { index: 1 }),
            "{profile}"
        );
    }
}

#[test]
fn protecting_the_same_index_twice_is_refused() {
    // Reusing an index would reuse a GCM nonce (and a CM keystream).
    for profile in SrtpProfile::ALL {
        let (mut tx, _) = contexts(profile);
        protect(&mut tx, &rtp(5, b"first"));
        let plain = rtp(5, b"second");
        let mut buf = vec![0u8; plain.len() + 16];
        buf[..plain.len()].copy_from_slice(&plain);
        assert_eq!(
            tx.protect_rtp(&mut buf, plain.len()),
            Err(SrtpError::Replayed { index: 5 }),
            "{profile}"
        );
    }
}

#[test]
fn every_tampered_byte_fails_authentication() {
    for profile in SrtpProfile::ALL {
        let (mut tx, mut rx) = contexts(profile);
        let srtp = protect(&mut tx, &rtp(77, b"tamper-evident payload"));
        for at in 0..srtp.len() {
            let mut bad = srtp.clone();
            bad[at] ^= 0x01;
            let got = rx.unprotect_rtp(&mut bad);
            assert!(got.is_err(), "{profile}: flipping byte {at} was accepted");
        }
        let mut good = srtp.clone();
        assert!(
            rx.unprotect_rtp(&mut good).is_ok(),
            "{profile}: untouched packet"
        );

        let srtcp = protect_rtcp(&mut tx, &RTCP_RR);
        for at in 0..srtcp.len() {
            let mut bad = srtcp.clone();
            bad[at] ^= 0x80;
            assert!(
                rx.unprotect_rtcp(&mut bad).is_err(),
                "{profile}: flipping SRTCP byte {at} was accepted"
            );
        }
    }
}

#[test]
fn truncated_packets_get_typed_errors() {
    for profile in SrtpProfile::ALL {
        let (mut tx, mut rx) = contexts(profile);
        let srtp = protect(&mut tx, &rtp(1, b"payload"));
        for len in 0..srtp.len() {
            let mut short = srtp[..len].to_vec();
            match rx.unprotect_rtp(&mut short) {
                Err(
                    SrtpError::Truncated { .. }
                    | SrtpError::AuthenticationFailed
                    | SrtpError::BadVersion(_),
                ) => {}
                other => panic!("{profile}: {len} bytes gave {other:?}"),
            }
        }
        assert!(matches!(
            rx.unprotect_rtcp(&mut [0x80, 200, 0, 1]),
            Err(SrtpError::Truncated { .. })
        ));
        let mut v1 = srtp.clone();
        v1[0] = 0x40;
        assert_eq!(rx.unprotect_rtp(&mut v1), Err(SrtpError::BadVersion(1)));
    }
}

#[test]
fn bad_arguments_get_typed_errors() {
    let profile = SrtpProfile::AeadAes128Gcm;
    assert!(matches!(
        SrtpContext::new(profile, &[0; 15], &[0; 12]),
        Err(SrtpError::BadKeyLength {
            what: "master key",
            expected: 16,
            got: 15,
            ..
        })
    ));
    assert!(matches!(
        SrtpContext::new(profile, &[0; 16], &[0; 14]),
        Err(SrtpError::BadKeyLength {
            what: "master salt",
            expected: 12,
            got: 14,
            ..
        })
    ));
    let (mut tx, _) = contexts(profile);
    let plain = rtp(1, b"abc");
    let mut exact = plain.clone();
    assert_eq!(
        tx.protect_rtp(&mut exact, plain.len()),
        Err(SrtpError::BufferTooSmall {
            needed: plain.len() + 16,
            capacity: plain.len()
        })
    );
    assert_eq!(
        tx.protect_rtp(&mut exact, plain.len() + 1),
        Err(SrtpError::LengthExceedsBuffer {
            len: plain.len() + 1,
            capacity: plain.len()
        })
    );
}

#[test]
fn roc_rolls_over_and_reordering_across_the_wrap_is_handled() {
    for profile in SrtpProfile::ALL {
        let (mut tx, mut rx) = contexts(profile);
        let mut sent = Vec::new();
        for i in 0..600u32 {
            let seq = (65_300 + i) as u16;
            sent.push((seq, protect(&mut tx, &rtp(seq, &i.to_be_bytes()))));
        }
        assert_eq!(tx.sent_roc(0xAABB_CCDD), Some(1), "{profile}");
        // Deliver with neighbours swapped around the wrap (65535 ↔ 0).
        let wrap = sent.iter().position(|(s, _)| *s == 0).expect("wraps");
        sent.swap(wrap - 1, wrap);
        sent.swap(wrap + 3, wrap - 3);
        for (seq, mut packet) in sent {
            let n = rx.unprotect_rtp(&mut packet).unwrap_or_else(|e| {
                panic!("{profile}: seq {seq}: {e}");
            });
            assert_eq!(u16::from_be_bytes([packet[2], packet[3]]), seq);
            assert_eq!(n, 16);
        }
        assert_eq!(rx.received_roc(0xAABB_CCDD), Some(1), "{profile}");
    }
}

#[test]
fn initial_roc_can_be_signalled() {
    let profile = SrtpProfile::AesCm128HmacSha1_80;
    let (mut tx, mut rx) = contexts(profile);
    tx.set_initial_roc(0xAABB_CCDD, 7);
    let mut srtp = protect(&mut tx, &rtp(100, b"late joiner"));
    // A receiver that assumes ROC 0 computes a different MAC input.
    let mut copy = srtp.clone();
    assert_eq!(
        rx.unprotect_rtp(&mut copy),
        Err(SrtpError::AuthenticationFailed)
    );
    rx.set_initial_roc(0xAABB_CCDD, 7);
    assert!(rx.unprotect_rtp(&mut srtp).is_ok());
    assert_eq!(rx.received_roc(0xAABB_CCDD), Some(7));
}
