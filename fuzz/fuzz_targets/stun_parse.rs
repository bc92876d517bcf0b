#![no_main]
//! STUN as MediaCore receives it. Each input goes three ways:
//!
//! 1. The `rtc-stun` codec that MediaCore's ICE agent (`rtc-ice`) decodes with: the message
//!    and every attribute ICE or a STUN/TURN client reads, with FINGERPRINT and
//!    MESSAGE-INTEGRITY checked.
//! 2. A started call [`Session`] takes the bytes as a datagram on its host candidate from an
//!    address ICE has never seen, and again from the remote candidate the offer named but
//!    that has not passed a check: the RFC 7983 demultiplexer, the transport's source check
//!    and the ICE agent behind it.
//! 3. When the bytes decode as STUN, the same message is re-signed with the session's real
//!    ICE credentials (USERNAME, MESSAGE-INTEGRITY, FINGERPRINT replaced) and handed to the
//!    session from the remote candidate, so the fuzzed attributes (PRIORITY, USE-CANDIDATE,
//!    ICE-CONTROLLING/CONTROLLED, XOR-MAPPED-ADDRESS, ...) get past authentication into the
//!    agent's request and response handling.
//!
//! Whatever arrives must be a typed error or a handled message, never a panic. The session
//! lives for the whole run on a fixed clock (no timer fires), so what one input leaves in
//! the agent (a peer-reflexive candidate, say) is the next input's starting state, as on a
//! real socket.

use std::cell::RefCell;
use std::hint::black_box;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use media_core::call::sdp;
use media_core::call::session::{Session, SessionConfig};
use rtc_crypto::RTCCryptoProvider;
use rtc_stun::attributes::{
    ATTR_FINGERPRINT, ATTR_MESSAGE_INTEGRITY, ATTR_NONCE, ATTR_REALM, ATTR_SOFTWARE, ATTR_USERNAME,
    ATTR_XOR_PEER_ADDRESS, ATTR_XOR_RELAYED_ADDRESS,
};
use rtc_stun::error_code::ErrorCodeAttribute;
use rtc_stun::fingerprint::FINGERPRINT;
use rtc_stun::integrity::MessageIntegrity;
use rtc_stun::message::{CLASS_REQUEST, Getter, Message, Setter, is_stun_message};
use rtc_stun::textattrs::TextAttribute;
use rtc_stun::uattrs::UnknownAttributes;
use rtc_stun::xoraddr::XorMappedAddress;

/// The session's host candidate (the session is sans-IO: nothing is bound).
const LOCAL: &str = "127.0.0.1:40000";
/// The remote candidate of the offer the session answered.
const PEER: &str = "127.0.0.1:40002";
/// An address ICE knows nothing about.
const STRANGER: &str = "127.0.0.1:49999";

struct Harness {
    session: Session,
    now: Instant,
    local: SocketAddr,
    peer: SocketAddr,
    stranger: SocketAddr,
    /// Our ICE credentials (from our answer) and the peer's (from its offer).
    our_ufrag: String,
    our_pwd: String,
    peer_ufrag: String,
    peer_pwd: String,
    crypto: std::sync::Arc<dyn RTCCryptoProvider>,
    out: Vec<u8>,
}

fn addr(text: &str) -> SocketAddr {
    text.parse().expect("fixed fuzz addresses parse")
}

impl Harness {
    /// A session that answered an offer from a second session on loopback: ICE started,
    /// controlled, nothing validated yet.
    fn new() -> Self {
        let now = Instant::now();
        let unix_time = Duration::from_secs(1_700_000_000);
        let (local, peer, stranger) = (addr(LOCAL), addr(PEER), addr(STRANGER));
        let (mut offerer, _offerer_audio) =
            Session::new(now, unix_time, SessionConfig::new(0x2222_0002, "fuzz-peer"))
                .expect("offerer session");
        offerer.add_host_candidate(peer).expect("peer candidate");
        let offer = offerer.create_offer(now).expect("offer");
        let (mut session, _audio) =
            Session::new(now, unix_time, SessionConfig::new(0x1111_0001, "fuzz"))
                .expect("answerer session");
        session.add_host_candidate(local).expect("host candidate");
        let answer = session.accept_offer(now, &offer).expect("answer");
        let ours = sdp::parse(&answer).expect("our answer parses");
        let theirs = sdp::parse(&offer).expect("the offer parses");
        let mut harness = Self {
            session,
            now,
            local,
            peer,
            stranger,
            our_ufrag: ours.ice_ufrag,
            our_pwd: ours.ice_pwd,
            peer_ufrag: theirs.ice_ufrag,
            peer_pwd: theirs.ice_pwd,
            crypto: rtc_crypto::default_provider().expect("ring crypto provider"),
            out: vec![0; 1500],
        };
        harness.drain();
        harness
    }

    /// Sends nowhere what the session wants sent, so its queues stay bounded.
    fn drain(&mut self) {
        while self
            .session
            .poll_transmit(self.now, &mut self.out)
            .is_some()
        {}
        while self.session.poll_event().is_some() {}
    }

    fn deliver(&mut self, from: SocketAddr, bytes: &[u8]) {
        let mut datagram = bytes.to_vec();
        let _ = black_box(
            self.session
                .handle_datagram(self.now, self.local, from, &mut datagram),
        );
        self.drain();
    }

    /// `m` with its USERNAME, MESSAGE-INTEGRITY and FINGERPRINT replaced by valid ones for
    /// this session: requests as the peer would sign them, anything else as a response to
    /// one of ours.
    fn resign(&self, m: &Message) -> Option<Vec<u8>> {
        let mut out = Message::new();
        out.typ = m.typ;
        out.transaction_id = m.transaction_id;
        out.write_header();
        for a in &m.attributes.0 {
            if a.typ != ATTR_USERNAME
                && a.typ != ATTR_MESSAGE_INTEGRITY
                && a.typ != ATTR_FINGERPRINT
            {
                out.add(a.typ, &a.value);
            }
        }
        // A request to us carries "our-ufrag:their-ufrag" and our password; a response to
        // our check is keyed with the peer's password (RFC 8445 §7.2.2, §7.3).
        let (username, pwd) = if m.typ.class == CLASS_REQUEST {
            (
                format!("{}:{}", self.our_ufrag, self.peer_ufrag),
                self.our_pwd.clone(),
            )
        } else {
            (
                format!("{}:{}", self.peer_ufrag, self.our_ufrag),
                self.peer_pwd.clone(),
            )
        };
        TextAttribute::new(ATTR_USERNAME, username)
            .add_to(&mut out)
            .ok()?;
        MessageIntegrity::new_short_term_integrity_with_provider(pwd, self.crypto.crypto())
            .add_to(&mut out)
            .ok()?;
        FINGERPRINT.add_to(&mut out).ok()?;
        Some(out.raw)
    }
}

/// Reads every attribute ICE and a STUN/TURN client look at; each must be a value or an
/// error.
fn read_attributes(m: &mut Message, crypto: &dyn RTCCryptoProvider) {
    let mut xor = XorMappedAddress::default();
    let _ = black_box(xor.get_from(m));
    let _ = black_box(xor.get_from_as(m, ATTR_XOR_PEER_ADDRESS));
    let _ = black_box(xor.get_from_as(m, ATTR_XOR_RELAYED_ADDRESS));
    for attr in [ATTR_USERNAME, ATTR_REALM, ATTR_NONCE, ATTR_SOFTWARE] {
        let _ = black_box(TextAttribute::get_from_as(m, attr));
    }
    let mut code = ErrorCodeAttribute::default();
    let _ = black_box(code.get_from(m));
    let mut unknown = UnknownAttributes(Vec::new());
    let _ = black_box(unknown.get_from(m));
    let _ = black_box(FINGERPRINT.check(m));
    let _ = black_box(MessageIntegrity::check(
        m,
        b"fuzz-password",
        crypto.crypto(),
    ));
}

thread_local! {
    static HARNESS: RefCell<Option<Harness>> = const { RefCell::new(None) };
}

fuzz_target!(|data: &[u8]| {
    HARNESS.with(|cell| {
        let mut slot = cell.borrow_mut();
        let h = slot.get_or_insert_with(Harness::new);

        let mut decoded = None;
        if is_stun_message(data) {
            let mut m = Message {
                raw: data.to_vec(),
                ..Message::default()
            };
            if m.decode().is_ok() {
                read_attributes(&mut m, h.crypto.as_ref());
                decoded = Some(m);
            }
        }

        let (stranger, peer) = (h.stranger, h.peer);
        h.deliver(stranger, data);
        h.deliver(peer, data);
        if let Some(signed) = decoded.as_ref().and_then(|m| h.resign(m)) {
            h.deliver(peer, &signed);
        }
    });
});
