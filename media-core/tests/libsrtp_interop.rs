//! Interoperability of MediaCore's SRTP/SRTCP with libsrtp 2.3 (built with OpenSSL, through
//! the `srtp` crate), for every profile, in both directions.
//!
//! For each profile both implementations get the same master key and salt (libsrtp takes
//! them as one buffer, key ‖ salt). Each test checks that:
//! - what MediaCore protects, libsrtp unprotects to the same plaintext, and the reverse;
//! - both produce byte-identical SRTP packets for the same input (SRTP has no free choice:
//!   the index is implied by the sequence number and the ROC);
//! - for SRTCP, byte-identical packets where the SRTCP indices match. They do not match
//!   packet for packet: MediaCore sends its first SRTCP packet with index 0 (RFC 3711 §3.4:
//!   "The SRTCP index MUST be set to zero before the first SRTCP packet is sent"), while
//!   libsrtp 2.x increments its counter before use and starts at 1 (asserted below). Both
//!   are valid to a receiver, which reads the index from the packet. So MediaCore sends one
//!   extra leading packet and from then on the indices, and the bytes, are the same.
//!
//! libsrtp's policies follow RFC 5764 §4.1.2: SRTP_AES128_CM_HMAC_SHA1_32 uses the 32-bit
//! tag for SRTP and the 80-bit tag for SRTCP; the GCM profiles use a 16-byte tag
//! (`aes_gcm_128_16_auth` / `aes_gcm_256_16_auth`, RFC 7714).

use media_core::srtp::{SrtpContext, SrtpError, SrtpProfile};
use srtp::{CryptoPolicy, Session, StreamPolicy};

/// Spare room for any profile's SRTP/SRTCP trailer (16-byte tag + 4-byte index word).
const TRAILER_ROOM: usize = 20;

/// A small deterministic generator (SplitMix64) for keys and payloads.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

/// libsrtp's crypto policies (RTP, RTCP) for a profile.
fn libsrtp_policies(profile: SrtpProfile) -> (CryptoPolicy, CryptoPolicy) {
    match profile {
        SrtpProfile::AesCm128HmacSha1_80 => (
            CryptoPolicy::aes_cm_128_hmac_sha1_80(),
            CryptoPolicy::aes_cm_128_hmac_sha1_80(),
        ),
        SrtpProfile::AesCm128HmacSha1_32 => (
            CryptoPolicy::aes_cm_128_hmac_sha1_32(),
            CryptoPolicy::aes_cm_128_hmac_sha1_80(),
        ),
        SrtpProfile::AeadAes128Gcm => (
            CryptoPolicy::aes_gcm_128_16_auth(),
            CryptoPolicy::aes_gcm_128_16_auth(),
        ),
        SrtpProfile::AeadAes256Gcm => (
            CryptoPolicy::aes_gcm_256_16_auth(),
            CryptoPolicy::aes_gcm_256_16_auth(),
        ),
    }
}

/// Both implementations' senders and receivers for one profile and master key.
struct Peers {
    profile: SrtpProfile,
    ours_tx: SrtpContext,
    ours_rx: SrtpContext,
    lib_tx: Session,
    lib_rx: Session,
}

impl Peers {
    fn new(profile: SrtpProfile, seed: u64) -> Self {
        let mut rng = Rng(seed);
        let key = rng.bytes(profile.key_len());
        let salt = rng.bytes(profile.salt_len());
        let keying = [key.as_slice(), salt.as_slice()].concat();
        let (rtp, rtcp) = libsrtp_policies(profile);
        let policy = StreamPolicy {
            rtp,
            rtcp,
            key: &keying,
            ..Default::default()
        };
        Self {
            profile,
            ours_tx: SrtpContext::new(profile, &key, &salt).expect("MediaCore tx context"),
            ours_rx: SrtpContext::new(profile, &key, &salt).expect("MediaCore rx context"),
            lib_tx: Session::with_outbound_template(policy).expect("libsrtp outbound session"),
            lib_rx: Session::with_inbound_template(policy).expect("libsrtp inbound session"),
        }
    }

    fn ours_protect(&mut self, plain: &[u8]) -> Vec<u8> {
        let mut buf = plain.to_vec();
        buf.resize(plain.len() + self.profile.rtp_overhead(), 0);
        let n = self
            .ours_tx
            .protect_rtp(&mut buf, plain.len())
            .expect("MediaCore protect_rtp");
        buf.truncate(n);
        buf
    }

    fn lib_protect(&mut self, plain: &[u8]) -> Vec<u8> {
        let mut buf = Vec::with_capacity(plain.len() + TRAILER_ROOM);
        buf.extend_from_slice(plain);
        self.lib_tx.protect(&mut buf).expect("libsrtp protect");
        buf
    }

    fn ours_unprotect(&mut self, srtp: &[u8]) -> Result<Vec<u8>, SrtpError> {
        let mut buf = srtp.to_vec();
        let n = self.ours_rx.unprotect_rtp(&mut buf)?;
        buf.truncate(n);
        Ok(buf)
    }

    fn lib_unprotect(&mut self, srtp: &[u8]) -> Result<Vec<u8>, srtp::Error> {
        let mut buf = srtp.to_vec();
        self.lib_rx.unprotect(&mut buf)?;
        Ok(buf)
    }

    fn ours_protect_rtcp(&mut self, plain: &[u8]) -> Vec<u8> {
        let mut buf = plain.to_vec();
        buf.resize(plain.len() + self.profile.rtcp_overhead(), 0);
        let n = self
            .ours_tx
            .protect_rtcp(&mut buf, plain.len())
            .expect("MediaCore protect_rtcp");
        buf.truncate(n);
        buf
    }

    fn lib_protect_rtcp(&mut self, plain: &[u8]) -> Vec<u8> {
        let mut buf = Vec::with_capacity(plain.len() + TRAILER_ROOM);
        buf.extend_from_slice(plain);
        self.lib_tx
            .protect_rtcp(&mut buf)
            .expect("libsrtp protect_rtcp");
        buf
    }

    fn ours_unprotect_rtcp(&mut self, srtcp: &[u8]) -> Result<Vec<u8>, SrtpError> {
        let mut buf = srtcp.to_vec();
        let n = self.ours_rx.unprotect_rtcp(&mut buf)?;
        buf.truncate(n);
        Ok(buf)
    }

    fn lib_unprotect_rtcp(&mut self, srtcp: &[u8]) -> Result<Vec<u8>, srtp::Error> {
        let mut buf = srtcp.to_vec();
        self.lib_rx.unprotect_rtcp(&mut buf)?;
        Ok(buf)
    }

    /// Protects `plain` with both implementations, checks the bytes agree, and has each
    /// implementation unprotect the other's packet. Returns the SRTP packet.
    fn exchange_rtp(&mut self, plain: &[u8], what: &str) -> Vec<u8> {
        let ours = self.ours_protect(plain);
        let theirs = self.lib_protect(plain);
        assert_eq!(
            ours.len(),
            plain.len() + self.profile.rtp_tag_len(),
            "{what}: SRTP length"
        );
        assert_eq!(
            hex::encode(&ours),
            hex::encode(&theirs),
            "{what}: SRTP bytes differ between MediaCore and libsrtp"
        );
        let by_lib = self
            .lib_unprotect(&ours)
            .unwrap_or_else(|e| panic!("{what}: libsrtp rejected MediaCore's packet: {e}"));
        assert_eq!(by_lib, plain, "{what}: libsrtp's plaintext");
        let by_ours = self
            .ours_unprotect(&theirs)
            .unwrap_or_else(|e| panic!("{what}: MediaCore rejected libsrtp's packet: {e}"));
        assert_eq!(by_ours, plain, "{what}: MediaCore's plaintext");
        ours
    }
}

/// The shape of a test RTP packet.
#[derive(Debug, Clone, Copy)]
struct Shape {
    csrcs: u8,
    /// Header-extension body length in 32-bit words, if there is an extension.
    extension_words: Option<u16>,
    payload: usize,
    /// Padding bytes (including the count byte); 0 means no padding.
    padding: u8,
}

fn rtp_packet(shape: Shape, seq: u16, ssrc: u32, rng: &mut Rng) -> Vec<u8> {
    let mut p = Vec::new();
    let mut b0 = 0x80 | shape.csrcs;
    if shape.padding > 0 {
        b0 |= 0x20;
    }
    if shape.extension_words.is_some() {
        b0 |= 0x10;
    }
    p.push(b0);
    p.push(if seq % 7 == 0 { 0x80 | 111 } else { 111 });
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&u32::from(seq).wrapping_mul(960).to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    for i in 0..u32::from(shape.csrcs) {
        p.extend_from_slice(&(0x0C5C_0000 + i).to_be_bytes());
    }
    if let Some(words) = shape.extension_words {
        // RFC 8285 one-byte header extensions: profile 0xBEDE; contents are opaque to SRTP.
        p.extend_from_slice(&[0xBE, 0xDE]);
        p.extend_from_slice(&words.to_be_bytes());
        p.extend_from_slice(&rng.bytes(4 * usize::from(words)));
    }
    p.extend_from_slice(&rng.bytes(shape.payload));
    if shape.padding > 0 {
        p.extend(std::iter::repeat_n(0, usize::from(shape.padding) - 1));
        p.push(shape.padding);
    }
    p
}

/// Every combination of the payload sizes with plain, CSRC, extension and padded headers.
fn shapes() -> Vec<Shape> {
    let mut out = Vec::new();
    for payload in [0, 1, 160, 1200] {
        for (csrcs, extension_words, padding) in [
            (0, None, 0),
            (2, None, 0),
            (15, None, 0),
            (0, Some(1), 0),
            (0, Some(3), 0),
            (0, None, 4),
            (3, Some(2), 3),
        ] {
            out.push(Shape {
                csrcs,
                extension_words,
                payload,
                padding,
            });
        }
    }
    out
}

fn profile_seed(profile: SrtpProfile) -> u64 {
    0x5EED_0000 + u64::from(profile.dtls_id())
}

#[test]
fn libsrtp_is_version_2() {
    let version = srtp::get_version();
    assert_eq!(version >> 24, 2, "libsrtp {}", srtp::get_version_string());
}

#[test]
fn rtp_packet_shapes_interoperate_for_every_profile() {
    for profile in SrtpProfile::ALL {
        let mut peers = Peers::new(profile, profile_seed(profile));
        let mut rng = Rng(profile_seed(profile) ^ 0xA5A5);
        let mut seq: u16 = 4321;
        for shape in shapes() {
            // Two SSRCs interleaved: each keeps its own stream state on both sides.
            for ssrc in [0x1234_5678, 0xCAFE_F00D] {
                let plain = rtp_packet(shape, seq, ssrc, &mut rng);
                let what = format!("{profile} {shape:?} seq {seq} ssrc {ssrc:#x}");
                peers.exchange_rtp(&plain, &what);
            }
            seq = seq.wrapping_add(1);
        }
    }
}

/// The order in which the receiver sees packets `0..count` of the rollover stream: in order,
/// except around the wrap of the sequence number (packet 535 carries seq 65535), where some
/// packets are swapped, one from before the wrap arrives after several from after it, and
/// one packet is duplicated (the duplicate must be rejected as a replay).
fn delivery_order(count: usize, wrap_at: usize) -> Vec<(usize, bool)> {
    let mut order: Vec<(usize, bool)> = (0..count).map(|i| (i, false)).collect();
    // Adjacent swaps straddling the wrap: 65534 after 65535, then seq 0 after seq 1.
    order.swap(wrap_at - 1, wrap_at);
    order.swap(wrap_at + 1, wrap_at + 2);
    // seq 65530 arrives after seq 2, eight packets late.
    let late = order.remove(wrap_at - 5);
    order.insert(wrap_at + 3, late);
    // A duplicate of seq 65533, well after the wrap.
    order.insert(wrap_at + 10, (wrap_at - 2, true));
    // A duplicate of seq 2 shortly after it.
    order.insert(wrap_at + 12, (wrap_at + 3, true));
    order
}

#[test]
fn roc_rollover_interoperates_both_ways_with_reordering() {
    const START_SEQ: u16 = 65000;
    const COUNT: usize = 2000;
    let wrap_at = usize::from(u16::MAX - START_SEQ); // index of the packet with seq 65535
    let ssrc = 0x0BAD_CAFE;
    let shape = Shape {
        csrcs: 0,
        extension_words: None,
        payload: 160,
        padding: 0,
    };
    for profile in SrtpProfile::ALL {
        let mut peers = Peers::new(profile, profile_seed(profile) ^ 0x0E0C);
        let mut rng = Rng(7);
        let plain: Vec<Vec<u8>> = (0..COUNT)
            .map(|i| rtp_packet(shape, START_SEQ.wrapping_add(i as u16), ssrc, &mut rng))
            .collect();
        // The senders protect in order; the bytes must agree packet by packet.
        let mut ours = Vec::with_capacity(COUNT);
        let mut theirs = Vec::with_capacity(COUNT);
        for (i, p) in plain.iter().enumerate() {
            let o = peers.ours_protect(p);
            let t = peers.lib_protect(p);
            assert_eq!(
                hex::encode(&o),
                hex::encode(&t),
                "{profile}: packet {i} (seq {})",
                START_SEQ.wrapping_add(i as u16)
            );
            ours.push(o);
            theirs.push(t);
        }
        assert_eq!(
            peers.ours_tx.sent_roc(ssrc),
            Some(1),
            "{profile}: sender ROC"
        );
        assert_eq!(
            peers
                .lib_tx
                .get_stream_roc(ssrc)
                .expect("libsrtp sender ROC"),
            1,
            "{profile}: libsrtp sender ROC"
        );

        // Both receivers see the packets in the same reordered sequence.
        for (i, duplicate) in delivery_order(COUNT, wrap_at) {
            let seq = START_SEQ.wrapping_add(i as u16);
            let by_lib = peers.lib_unprotect(&ours[i]);
            let by_ours = peers.ours_unprotect(&theirs[i]);
            if duplicate {
                let e = by_lib.expect_err("libsrtp accepted a duplicate");
                assert_eq!(e, srtp::Error::REPLAY_FAIL, "{profile}: seq {seq}");
                let e = by_ours.expect_err("MediaCore accepted a duplicate");
                assert!(
                    matches!(e, SrtpError::Replayed { .. }),
                    "{profile}: seq {seq}: {e}"
                );
                continue;
            }
            let by_lib = by_lib.unwrap_or_else(|e| {
                panic!("{profile}: libsrtp rejected MediaCore's packet {i} (seq {seq}): {e}")
            });
            assert_eq!(
                by_lib, plain[i],
                "{profile}: libsrtp plaintext of seq {seq}"
            );
            let by_ours = by_ours.unwrap_or_else(|e| {
                panic!("{profile}: MediaCore rejected libsrtp's packet {i} (seq {seq}): {e}")
            });
            assert_eq!(
                by_ours, plain[i],
                "{profile}: MediaCore plaintext of seq {seq}"
            );
        }
        assert_eq!(
            peers.ours_rx.received_roc(ssrc),
            Some(1),
            "{profile}: receiver ROC"
        );
        assert_eq!(
            peers
                .lib_rx
                .get_stream_roc(ssrc)
                .expect("libsrtp receiver ROC"),
            1,
            "{profile}: libsrtp receiver ROC"
        );
    }
}

/// A compound RTCP packet: an SR with `reports` report blocks, then an SDES CNAME chunk.
/// SRTCP treats everything after the first 8 bytes as opaque.
fn rtcp_compound(ssrc: u32, reports: u8, rng: &mut Rng) -> Vec<u8> {
    let mut p = vec![0x80 | reports, 200];
    p.extend_from_slice(&(6 + 6 * u16::from(reports)).to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(&rng.bytes(20)); // NTP, RTP timestamp, packet and octet counts
    p.extend_from_slice(&rng.bytes(24 * usize::from(reports)));
    // SDES: one chunk with CNAME "mediacore" (9 bytes), end item, padded to 32 bits.
    let cname = b"mediacore";
    let mut chunk = ssrc.to_be_bytes().to_vec();
    chunk.push(1);
    chunk.push(cname.len() as u8);
    chunk.extend_from_slice(cname);
    chunk.push(0);
    while chunk.len() % 4 != 0 {
        chunk.push(0);
    }
    p.extend_from_slice(&[0x81, 202]);
    p.extend_from_slice(&((chunk.len() / 4) as u16).to_be_bytes());
    p.extend_from_slice(&chunk);
    p
}

/// The SRTCP index word (E flag ‖ 31-bit index) of a protected packet.
fn srtcp_word(profile: SrtpProfile, srtcp: &[u8]) -> u32 {
    let at = if profile.is_aead() {
        srtcp.len() - 4
    } else {
        srtcp.len() - profile.rtcp_tag_len() - 4
    };
    u32::from_be_bytes([srtcp[at], srtcp[at + 1], srtcp[at + 2], srtcp[at + 3]])
}

#[test]
fn srtcp_interoperates_for_every_profile() {
    const PACKETS: usize = 12;
    let ssrc = 0x5EC0_0001;
    for profile in SrtpProfile::ALL {
        let mut peers = Peers::new(profile, profile_seed(profile) ^ 0x0C7C);
        let mut rng = Rng(profile_seed(profile) ^ 0x1111);

        // MediaCore's first packet carries index 0, libsrtp's index 1 (see the file doc):
        // MediaCore sends one extra leading packet so the indices line up afterwards.
        let lead = rtcp_compound(ssrc, 0, &mut rng);
        let ours_lead = peers.ours_protect_rtcp(&lead);
        assert_eq!(srtcp_word(profile, &ours_lead), 0x8000_0000, "{profile}");
        let by_lib = peers
            .lib_unprotect_rtcp(&ours_lead)
            .expect("libsrtp rejected MediaCore's SRTCP index 0");
        assert_eq!(
            by_lib, lead,
            "{profile}: libsrtp plaintext of SRTCP index 0"
        );

        for k in 1..=PACKETS {
            let plain = rtcp_compound(ssrc, (k % 4) as u8, &mut rng);
            let ours = peers.ours_protect_rtcp(&plain);
            let theirs = peers.lib_protect_rtcp(&plain);
            let what = format!("{profile} SRTCP packet {k}");
            assert_eq!(
                ours.len(),
                plain.len() + 4 + profile.rtcp_tag_len(),
                "{what}: length"
            );
            let expected_word = 0x8000_0000 | k as u32;
            assert_eq!(
                srtcp_word(profile, &theirs),
                expected_word,
                "{what}: libsrtp index"
            );
            assert_eq!(
                srtcp_word(profile, &ours),
                expected_word,
                "{what}: MediaCore index"
            );
            assert_eq!(
                hex::encode(&ours),
                hex::encode(&theirs),
                "{what}: SRTCP bytes differ between MediaCore and libsrtp"
            );
            let by_lib = peers
                .lib_unprotect_rtcp(&ours)
                .unwrap_or_else(|e| panic!("{what}: libsrtp rejected MediaCore's packet: {e}"));
            assert_eq!(by_lib, plain, "{what}: libsrtp plaintext");
            let by_ours = peers
                .ours_unprotect_rtcp(&theirs)
                .unwrap_or_else(|e| panic!("{what}: MediaCore rejected libsrtp's packet: {e}"));
            assert_eq!(by_ours, plain, "{what}: MediaCore plaintext");
        }

        // Each side refuses the other's replayed SRTCP packet.
        let plain = rtcp_compound(ssrc, 1, &mut rng);
        let ours = peers.ours_protect_rtcp(&plain);
        let theirs = peers.lib_protect_rtcp(&plain);
        peers.lib_unprotect_rtcp(&ours).expect("libsrtp first copy");
        assert_eq!(
            peers.lib_unprotect_rtcp(&ours),
            Err(srtp::Error::REPLAY_FAIL),
            "{profile}: libsrtp SRTCP replay"
        );
        peers
            .ours_unprotect_rtcp(&theirs)
            .expect("MediaCore first copy");
        assert!(
            matches!(
                peers.ours_unprotect_rtcp(&theirs),
                Err(SrtpError::Replayed { .. })
            ),
            "{profile}: MediaCore SRTCP replay"
        );
    }
}

#[test]
fn tampered_packets_are_rejected_by_libsrtp() {
    for profile in SrtpProfile::ALL {
        let mut peers = Peers::new(profile, profile_seed(profile) ^ 0x7A3F);
        let mut rng = Rng(3);
        let shape = Shape {
            csrcs: 1,
            extension_words: Some(1),
            payload: 160,
            padding: 0,
        };
        let plain = rtp_packet(shape, 100, 0x7777_0001, &mut rng);
        let mut srtp = peers.ours_protect(&plain);
        let at = srtp.len() / 2;
        srtp[at] ^= 0x01;
        assert_eq!(
            peers.lib_unprotect(&srtp),
            Err(srtp::Error::AUTH_FAIL),
            "{profile}: libsrtp accepted a tampered SRTP packet"
        );
        let rtcp = rtcp_compound(0x7777_0001, 1, &mut rng);
        let mut srtcp = peers.ours_protect_rtcp(&rtcp);
        srtcp[10] ^= 0x80;
        assert_eq!(
            peers.lib_unprotect_rtcp(&srtcp),
            Err(srtp::Error::AUTH_FAIL),
            "{profile}: libsrtp accepted a tampered SRTCP packet"
        );
    }
}
