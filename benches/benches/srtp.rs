//! SRTP protect and unprotect, time per packet: MediaCore beside libsrtp 2.3 + OpenSSL (the
//! `srtp` crate), webrtc-rs (`webrtc-srtp` 0.17) and the raw cipher ("floor"), for
//! AEAD_AES_128_GCM (`gcm128`) and AES_CM_128_HMAC_SHA1_80 (`cm80`), with 200 B and
//! 1200 B payloads behind a 12-byte RTP header, all in one run:
//! `cargo bench -p mediacore-benches --bench srtp`. It ends with one
//! `ratio <id>: <MediaCore / peer median time>` line per comparison (lower is better).
//!
//! Method, the same for every implementation:
//! - **protect**: one long-lived sender and one packet buffer, reused. Each iteration writes
//!   the next sequence number into the header and protects the buffer in place; the previous
//!   iteration's ciphertext is the next plaintext (the cost does not depend on the bytes).
//!   A new sequence number every time means every iteration does the full work (key
//!   stream, MAC or GHASH, tag) and MediaCore's and libsrtp's refusal to protect one index
//!   twice never triggers; the sequence number wraps and the ROC advances as in a real
//!   stream. webrtc-rs takes `&[u8]` and returns a newly allocated packet: that is its API,
//!   and the allocation is timed.
//! - **unprotect**: `iter_batched_ref`. Outside the timed part, the implementation's own
//!   sender protects the next packet (increasing sequence numbers); the timed part
//!   unprotects it in place with one long-lived receiver whose replay window is on
//!   (MediaCore's and libsrtp's defaults; webrtc-rs with 64 packets, its session's
//!   default), so every packet is new, authenticated and decrypted in full. Each input is
//!   a separate buffer made in the setup, alike for all.
//! - **floor**: the raw cipher on session keys given directly: no key derivation, no header
//!   parsing beyond the sequence number, no replay window. GCM is aws-lc-rs (the crate
//!   MediaCore uses) `seal_in_place_separate_tag` / `open_in_place` with the 12-byte header
//!   as AAD; CM is RustCrypto AES-128-CTR from a cloned key schedule plus HMAC-SHA1 from a
//!   cloned keyed state, tag cut to 80 bits.
//!
//! Before measuring, `main` checks that MediaCore, libsrtp and webrtc-rs produce the same
//! bytes for the same packet and accept each other's packets, so they do the same work.

use std::hint::black_box;
use std::time::SystemTime;

use aes::Aes128;
use aes::cipher::{InnerIvInit, KeyInit, StreamCipher, generic_array::GenericArray};
use aws_lc_rs::aead::{AES_128_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use bytes::Bytes;
use criterion::measurement::WallTime;
use criterion::{BatchSize, BenchmarkGroup, Criterion, Throughput, criterion_group};
use hmac::{Hmac, Mac};
use media_core::srtp::{SrtpContext, SrtpProfile};
use mediacore_benches::ratio::{self, Comparison};
use sha1::Sha1;
use webrtc_srtp::context::Context as WebrtcContext;
use webrtc_srtp::option::srtp_replay_protection;
use webrtc_srtp::protection_profile::ProtectionProfile;

const SSRC: u32 = 0x1234_5678;
const HEADER_LEN: usize = 12;
const PAYLOAD_SIZES: [usize; 2] = [200, 1200];
const MASTER_KEY: [u8; 16] = [
    0xE1, 0xF9, 0x7A, 0x0D, 0x3E, 0x01, 0x8B, 0xE0, 0xD6, 0x4F, 0xA3, 0x2C, 0x06, 0xDE, 0x41, 0x39,
];
const MASTER_SALT: [u8; 14] = [
    0x0E, 0xC6, 0x75, 0xAD, 0x49, 0x8A, 0xFE, 0xEB, 0xB6, 0x96, 0x0B, 0x3A, 0xAB, 0xE6,
];
/// The floor's HMAC-SHA1 session authentication key (160 bits, RFC 3711 §8.2).
const FLOOR_AUTH_KEY: [u8; 20] = [0x5A; 20];
/// SRTP_AES128_CM_HMAC_SHA1_80's tag length.
const CM80_TAG_LEN: usize = 10;
const GCM_TAG_LEN: usize = 16;
/// The implementations, in the order measured; the first is ours.
const IMPLEMENTATIONS: [&str; 4] = ["mediacore", "libsrtp", "webrtc-rs", "floor"];
const OPERATIONS: [&str; 2] = ["protect", "unprotect"];

#[derive(Debug, Clone, Copy)]
enum Suite {
    Gcm128,
    Cm80,
}

impl Suite {
    const ALL: [Self; 2] = [Self::Gcm128, Self::Cm80];

    fn name(self) -> &'static str {
        match self {
            Self::Gcm128 => "gcm128",
            Self::Cm80 => "cm80",
        }
    }

    fn profile(self) -> SrtpProfile {
        match self {
            Self::Gcm128 => SrtpProfile::AeadAes128Gcm,
            Self::Cm80 => SrtpProfile::AesCm128HmacSha1_80,
        }
    }

    fn salt(self) -> &'static [u8] {
        &MASTER_SALT[..self.profile().salt_len()]
    }

    fn libsrtp_policy(self) -> srtp::CryptoPolicy {
        match self {
            Self::Gcm128 => srtp::CryptoPolicy::aes_gcm_128_16_auth(),
            Self::Cm80 => srtp::CryptoPolicy::aes_cm_128_hmac_sha1_80(),
        }
    }

    fn webrtc_profile(self) -> ProtectionProfile {
        match self {
            Self::Gcm128 => ProtectionProfile::AeadAes128Gcm,
            Self::Cm80 => ProtectionProfile::Aes128CmHmacSha1_80,
        }
    }
}

/// A 12-byte RTP header (V=2, PT 111, seq 0, SSRC) and `payload` bytes.
fn plain_packet(payload: usize) -> Vec<u8> {
    let mut p = vec![0x80, 111, 0, 0, 0, 0, 0x3A, 0x98];
    p.extend_from_slice(&SSRC.to_be_bytes());
    p.extend((0..payload).map(|i| i as u8));
    p
}

fn set_seq(packet: &mut [u8], seq: u16) {
    packet[2..4].copy_from_slice(&seq.to_be_bytes());
}

fn seq_of(packet: &[u8]) -> u16 {
    u16::from_be_bytes([packet[2], packet[3]])
}

/// One implementation's sending side.
trait Sender {
    /// Protects the next packet (the next sequence number); returns the SRTP packet.
    fn protect_next(&mut self) -> &[u8];
}

/// One implementation's receiving side.
trait Receiver {
    /// Unprotects `packet` (in place where the API allows); returns the RTP length.
    fn unprotect(&mut self, packet: &mut Vec<u8>) -> usize;
}

struct OursTx {
    ctx: SrtpContext,
    buf: Vec<u8>,
    len: usize,
    seq: u16,
}

impl OursTx {
    fn new(suite: Suite, payload: usize) -> Self {
        let profile = suite.profile();
        let mut buf = plain_packet(payload);
        let len = buf.len();
        buf.resize(len + profile.rtp_overhead(), 0);
        Self {
            ctx: SrtpContext::new(profile, &MASTER_KEY, suite.salt()).expect("MediaCore context"),
            buf,
            len,
            seq: 0,
        }
    }
}

impl Sender for OursTx {
    fn protect_next(&mut self) -> &[u8] {
        self.seq = self.seq.wrapping_add(1);
        set_seq(&mut self.buf, self.seq);
        let n = self
            .ctx
            .protect_rtp(&mut self.buf, self.len)
            .expect("MediaCore protect_rtp");
        &self.buf[..n]
    }
}

struct OursRx(SrtpContext);

impl OursRx {
    fn new(suite: Suite) -> Self {
        Self(
            SrtpContext::new(suite.profile(), &MASTER_KEY, suite.salt())
                .expect("MediaCore context"),
        )
    }
}

impl Receiver for OursRx {
    fn unprotect(&mut self, packet: &mut Vec<u8>) -> usize {
        self.0
            .unprotect_rtp(packet.as_mut_slice())
            .expect("MediaCore unprotect_rtp")
    }
}

/// libsrtp's master key buffer: key ‖ salt.
fn libsrtp_keying(suite: Suite) -> Vec<u8> {
    [&MASTER_KEY[..], suite.salt()].concat()
}

fn libsrtp_policy(suite: Suite, keying: &[u8]) -> srtp::StreamPolicy<'_> {
    srtp::StreamPolicy {
        rtp: suite.libsrtp_policy(),
        rtcp: suite.libsrtp_policy(),
        key: keying,
        ..Default::default()
    }
}

struct LibTx {
    session: srtp::Session,
    buf: Vec<u8>,
    len: usize,
    seq: u16,
}

impl LibTx {
    fn new(suite: Suite, payload: usize) -> Self {
        let keying = libsrtp_keying(suite);
        let plain = plain_packet(payload);
        // Room for libsrtp's largest trailer, so its `reserve` never reallocates.
        let mut buf = Vec::with_capacity(plain.len() + srtp::sys::SRTP_MAX_TRAILER_LEN as usize);
        buf.extend_from_slice(&plain);
        Self {
            session: srtp::Session::with_outbound_template(libsrtp_policy(suite, &keying))
                .expect("libsrtp outbound session"),
            buf,
            len: plain.len(),
            seq: 0,
        }
    }
}

impl Sender for LibTx {
    fn protect_next(&mut self) -> &[u8] {
        self.seq = self.seq.wrapping_add(1);
        self.buf.truncate(self.len);
        set_seq(&mut self.buf, self.seq);
        self.session
            .protect(&mut self.buf)
            .expect("libsrtp protect");
        &self.buf
    }
}

struct LibRx(srtp::Session);

impl LibRx {
    fn new(suite: Suite) -> Self {
        let keying = libsrtp_keying(suite);
        Self(
            srtp::Session::with_inbound_template(libsrtp_policy(suite, &keying))
                .expect("libsrtp inbound session"),
        )
    }
}

impl Receiver for LibRx {
    fn unprotect(&mut self, packet: &mut Vec<u8>) -> usize {
        self.0.unprotect(packet).expect("libsrtp unprotect");
        packet.len()
    }
}

struct WebrtcTx {
    ctx: WebrtcContext,
    plain: Vec<u8>,
    seq: u16,
    last: Bytes,
}

impl WebrtcTx {
    fn new(suite: Suite, payload: usize) -> Self {
        Self {
            ctx: WebrtcContext::new(
                &MASTER_KEY,
                suite.salt(),
                suite.webrtc_profile(),
                None,
                None,
            )
            .expect("webrtc-rs context"),
            plain: plain_packet(payload),
            seq: 0,
            last: Bytes::new(),
        }
    }
}

impl Sender for WebrtcTx {
    fn protect_next(&mut self) -> &[u8] {
        self.seq = self.seq.wrapping_add(1);
        set_seq(&mut self.plain, self.seq);
        self.last = self
            .ctx
            .encrypt_rtp(&self.plain)
            .expect("webrtc-rs encrypt_rtp");
        &self.last
    }
}

struct WebrtcRx(WebrtcContext);

impl WebrtcRx {
    fn new(suite: Suite) -> Self {
        Self(
            WebrtcContext::new(
                &MASTER_KEY,
                suite.salt(),
                suite.webrtc_profile(),
                Some(srtp_replay_protection(64)),
                None,
            )
            .expect("webrtc-rs context"),
        )
    }
}

impl Receiver for WebrtcRx {
    fn unprotect(&mut self, packet: &mut Vec<u8>) -> usize {
        self.0
            .decrypt_rtp(packet)
            .expect("webrtc-rs decrypt_rtp")
            .len()
    }
}

/// The receiver-side index of an in-order stream: the ROC advances when seq goes back.
#[derive(Default)]
struct InOrderIndex {
    roc: u32,
    last_seq: u16,
}

impl InOrderIndex {
    fn next(&mut self, seq: u16) -> u64 {
        if seq < self.last_seq {
            self.roc = self.roc.wrapping_add(1);
        }
        self.last_seq = seq;
        (u64::from(self.roc) << 16) | u64::from(seq)
    }
}

/// The floor for AEAD_AES_128_GCM: aws-lc-rs AES-128-GCM, 12-byte header as AAD.
struct GcmFloor {
    key: LessSafeKey,
    salt: [u8; 12],
    buf: Vec<u8>,
    len: usize,
    index: u64,
    rx_index: InOrderIndex,
}

impl GcmFloor {
    fn new(payload: usize) -> Self {
        let mut buf = plain_packet(payload);
        let len = buf.len();
        buf.resize(len + GCM_TAG_LEN, 0);
        let mut salt = [0u8; 12];
        salt.copy_from_slice(&MASTER_SALT[..12]);
        Self {
            key: LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &MASTER_KEY).expect("AES-128 key")),
            salt,
            buf,
            len,
            index: 0,
            rx_index: InOrderIndex::default(),
        }
    }

    /// RFC 7714 §8.1: (0 ‖ SSRC ‖ ROC ‖ SEQ) ⊕ salt.
    fn nonce(salt: &[u8; 12], index: u64) -> Nonce {
        let mut iv = [0u8; 12];
        iv[2..6].copy_from_slice(&SSRC.to_be_bytes());
        iv[6..12].copy_from_slice(&index.to_be_bytes()[2..]);
        for (d, s) in iv.iter_mut().zip(salt) {
            *d ^= s;
        }
        Nonce::assume_unique_for_key(iv)
    }
}

impl Sender for GcmFloor {
    fn protect_next(&mut self) -> &[u8] {
        self.index += 1;
        set_seq(&mut self.buf, self.index as u16);
        let (header, rest) = self.buf.split_at_mut(HEADER_LEN);
        let (payload, trailer) = rest.split_at_mut(self.len - HEADER_LEN);
        let tag = self
            .key
            .seal_in_place_separate_tag(
                Self::nonce(&self.salt, self.index),
                Aad::from(&*header),
                payload,
            )
            .expect("AES-GCM seal");
        trailer[..GCM_TAG_LEN].copy_from_slice(tag.as_ref());
        &self.buf[..self.len + GCM_TAG_LEN]
    }
}

impl Receiver for GcmFloor {
    fn unprotect(&mut self, packet: &mut Vec<u8>) -> usize {
        let index = self.rx_index.next(seq_of(packet));
        let (header, rest) = packet.split_at_mut(HEADER_LEN);
        let plain = self
            .key
            .open_in_place(Self::nonce(&self.salt, index), Aad::from(&*header), rest)
            .expect("AES-GCM open");
        HEADER_LEN + plain.len()
    }
}

type Aes128Ctr = ctr::Ctr128BE<Aes128>;

/// The floor for AES_CM_128_HMAC_SHA1_80: RustCrypto AES-CTR and HMAC-SHA1, keyed once.
struct CmFloor {
    aes: Aes128,
    mac: Hmac<Sha1>,
    salt: [u8; 14],
    buf: Vec<u8>,
    len: usize,
    index: u64,
    rx_index: InOrderIndex,
}

impl CmFloor {
    fn new(payload: usize) -> Self {
        let mut buf = plain_packet(payload);
        let len = buf.len();
        buf.resize(len + CM80_TAG_LEN, 0);
        Self {
            aes: Aes128::new(GenericArray::from_slice(&MASTER_KEY)),
            mac: <Hmac<Sha1> as Mac>::new_from_slice(&FLOOR_AUTH_KEY).expect("HMAC key"),
            salt: MASTER_SALT,
            buf,
            len,
            index: 0,
            rx_index: InOrderIndex::default(),
        }
    }

    /// RFC 3711 §4.1.1: IV = (salt·2^16) ⊕ (SSRC·2^64) ⊕ (index·2^16).
    fn keystream(aes: &Aes128, salt: &[u8; 14], index: u64, data: &mut [u8]) {
        let mut iv = [0u8; 16];
        iv[..14].copy_from_slice(salt);
        for (d, s) in iv[4..8].iter_mut().zip(SSRC.to_be_bytes()) {
            *d ^= s;
        }
        for (d, s) in iv[8..14].iter_mut().zip(&index.to_be_bytes()[2..]) {
            *d ^= s;
        }
        let core = ctr::CtrCore::inner_iv_init(aes.clone(), GenericArray::from_slice(&iv));
        Aes128Ctr::from_core(core).apply_keystream(data);
    }
}

impl Sender for CmFloor {
    fn protect_next(&mut self) -> &[u8] {
        self.index += 1;
        set_seq(&mut self.buf, self.index as u16);
        let len = self.len;
        Self::keystream(
            &self.aes,
            &self.salt,
            self.index,
            &mut self.buf[HEADER_LEN..len],
        );
        let mut mac = self.mac.clone();
        mac.update(&self.buf[..len]);
        mac.update(&((self.index >> 16) as u32).to_be_bytes());
        let tag = mac.finalize().into_bytes();
        self.buf[len..len + CM80_TAG_LEN].copy_from_slice(&tag[..CM80_TAG_LEN]);
        &self.buf[..len + CM80_TAG_LEN]
    }
}

impl Receiver for CmFloor {
    fn unprotect(&mut self, packet: &mut Vec<u8>) -> usize {
        let index = self.rx_index.next(seq_of(packet));
        let len = packet.len() - CM80_TAG_LEN;
        let (authenticated, tag) = packet.split_at_mut(len);
        let mut mac = self.mac.clone();
        mac.update(authenticated);
        mac.update(&((index >> 16) as u32).to_be_bytes());
        mac.verify_truncated_left(tag).expect("HMAC-SHA1 tag");
        Self::keystream(
            &self.aes,
            &self.salt,
            index,
            &mut authenticated[HEADER_LEN..],
        );
        len
    }
}

fn bench_protect(group: &mut BenchmarkGroup<'_, WallTime>, name: &str, mut tx: impl Sender) {
    group.bench_function(name, |b| {
        b.iter(|| {
            black_box(tx.protect_next());
        })
    });
}

fn bench_unprotect(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    mut tx: impl Sender,
    mut rx: impl Receiver,
) {
    group.bench_function(name, |b| {
        b.iter_batched_ref(
            || tx.protect_next().to_vec(),
            |packet| rx.unprotect(black_box(packet)),
            BatchSize::SmallInput,
        )
    });
}

fn group_id(suite: Suite, operation: &str, payload: usize) -> String {
    format!("srtp/{}/{operation}/{payload}", suite.name())
}

fn bench_suite(c: &mut Criterion, suite: Suite) {
    for payload in PAYLOAD_SIZES {
        let mut group = c.benchmark_group(group_id(suite, "protect", payload));
        group.throughput(Throughput::Elements(1));
        bench_protect(&mut group, "mediacore", OursTx::new(suite, payload));
        bench_protect(&mut group, "libsrtp", LibTx::new(suite, payload));
        bench_protect(&mut group, "webrtc-rs", WebrtcTx::new(suite, payload));
        match suite {
            Suite::Gcm128 => bench_protect(&mut group, "floor", GcmFloor::new(payload)),
            Suite::Cm80 => bench_protect(&mut group, "floor", CmFloor::new(payload)),
        }
        group.finish();

        let mut group = c.benchmark_group(group_id(suite, "unprotect", payload));
        group.throughput(Throughput::Elements(1));
        bench_unprotect(
            &mut group,
            "mediacore",
            OursTx::new(suite, payload),
            OursRx::new(suite),
        );
        bench_unprotect(
            &mut group,
            "libsrtp",
            LibTx::new(suite, payload),
            LibRx::new(suite),
        );
        bench_unprotect(
            &mut group,
            "webrtc-rs",
            WebrtcTx::new(suite, payload),
            WebrtcRx::new(suite),
        );
        match suite {
            Suite::Gcm128 => bench_unprotect(
                &mut group,
                "floor",
                GcmFloor::new(payload),
                GcmFloor::new(payload),
            ),
            Suite::Cm80 => bench_unprotect(
                &mut group,
                "floor",
                CmFloor::new(payload),
                CmFloor::new(payload),
            ),
        }
        group.finish();
    }
}

fn bench_gcm128(c: &mut Criterion) {
    bench_suite(c, Suite::Gcm128);
}

fn bench_cm80(c: &mut Criterion) {
    bench_suite(c, Suite::Cm80);
}

criterion_group! {
    name = srtp_benches;
    config = mediacore_benches::criterion_config();
    targets = bench_gcm128, bench_cm80
}

/// MediaCore against every peer and the floor, for each suite, operation and size.
fn comparisons() -> Vec<Comparison> {
    let mut out = Vec::new();
    for suite in Suite::ALL {
        for operation in OPERATIONS {
            for payload in PAYLOAD_SIZES {
                let group = group_id(suite, operation, payload);
                let ours = format!("{group}/{}", IMPLEMENTATIONS[0]);
                for peer in &IMPLEMENTATIONS[1..] {
                    let peer = format!("{group}/{peer}");
                    out.push(Comparison::new(&ours, &peer, &peer));
                }
            }
        }
    }
    out
}

/// Checks that MediaCore, libsrtp and webrtc-rs turn the same packet into the same bytes
/// and accept each other's packets, so that the bench compares equal work.
fn check_equivalence() {
    for suite in Suite::ALL {
        for payload in PAYLOAD_SIZES {
            let ours = OursTx::new(suite, payload).protect_next().to_vec();
            let lib = LibTx::new(suite, payload).protect_next().to_vec();
            let webrtc = WebrtcTx::new(suite, payload).protect_next().to_vec();
            assert_eq!(
                ours, lib,
                "{suite:?} {payload}: MediaCore and libsrtp differ"
            );
            assert_eq!(
                ours, webrtc,
                "{suite:?} {payload}: MediaCore and webrtc-rs differ"
            );
            let plain_len = HEADER_LEN + payload;
            assert_eq!(OursRx::new(suite).unprotect(&mut lib.clone()), plain_len);
            assert_eq!(LibRx::new(suite).unprotect(&mut webrtc.clone()), plain_len);
            assert_eq!(WebrtcRx::new(suite).unprotect(&mut ours.clone()), plain_len);
        }
    }
    // The floors are self-consistent (they use session keys directly, so their bytes differ).
    for payload in PAYLOAD_SIZES {
        let mut gcm = GcmFloor::new(payload);
        let mut packet = gcm.protect_next().to_vec();
        assert_eq!(gcm.unprotect(&mut packet), HEADER_LEN + payload);
        let mut cm = CmFloor::new(payload);
        let mut packet = cm.protect_next().to_vec();
        assert_eq!(cm.unprotect(&mut packet), HEADER_LEN + payload);
    }
}

fn main() {
    let started = SystemTime::now();
    println!(
        "peers: {} (srtp 0.7 crate, OpenSSL crypto), webrtc-srtp 0.17",
        srtp::get_version_string()
    );
    check_equivalence();
    srtp_benches();
    Criterion::default().configure_from_args().final_summary();
    ratio::print_report(&ratio::criterion_home(), &comparisons(), started);
}
