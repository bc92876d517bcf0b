#![no_main]
//! A remote description as MediaCore takes it: `call::sdp::parse` (rtc-sdp's parser plus
//! MediaCore's checks), then, for what it accepts, a call `Session` answering it as an offer
//! (remote candidates through the ICE candidate parser, the transport started with the
//! fingerprint and credentials, the answer written). The answer MediaCore writes must parse
//! again with the same audio mid: an offer must never make MediaCore write a description
//! it would refuse itself.
//!
//! A session answers at most once, so a fresh one replaces it after every accepted offer;
//! refused offers leave it as it was (signaling stays stable), as a real call's does.

use std::cell::RefCell;
use std::hint::black_box;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use media_core::call::sdp;
use media_core::call::session::{Session, SessionConfig};

fn fresh_session(now: Instant) -> Session {
    let (mut session, _audio) = Session::new(
        now,
        Duration::from_secs(1_700_000_000),
        SessionConfig::new(0x1111_0001, "fuzz"),
    )
    .expect("session");
    let local: SocketAddr = "127.0.0.1:40000".parse().expect("fixed address");
    session.add_host_candidate(local).expect("host candidate");
    session
}

thread_local! {
    static SESSION: RefCell<Option<(Session, Instant)>> = const { RefCell::new(None) };
}

fuzz_target!(|data: &[u8]| {
    // SDP is UTF-8 text (RFC 8866 §5); the callers hand MediaCore a `&str`.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(remote) = black_box(sdp::parse(text)) else {
        return;
    };
    assert!(remote.others.iter().all(|(i, _)| *i != remote.audio_index));

    SESSION.with(|cell| {
        let mut slot = cell.borrow_mut();
        let (session, now) = slot.get_or_insert_with(|| {
            let now = Instant::now();
            (fresh_session(now), now)
        });
        let now = *now;
        let Ok(answer) = session.accept_offer(now, text) else {
            return;
        };
        let reparsed = sdp::parse(&answer).unwrap_or_else(|e| {
            panic!("MediaCore's answer does not parse ({e}):\n{answer}\n--- to the offer:\n{text}")
        });
        assert_eq!(
            reparsed.audio_mid, remote.audio_mid,
            "answer's audio mid differs from the offer's:\n{answer}"
        );
        let mut out = vec![0u8; 1500];
        while session.poll_transmit(now, &mut out).is_some() {}
        *slot = Some((fresh_session(now), now));
    });
});
