//! Two MediaCore engines set up a WebRTC call purely through the local service's signaling
//! (started in-process on 127.0.0.1, HTTPS with its CA trusted), with `CallingClient`: the
//! caller places the call with its offer, the callee gets it on its notification stream and
//! answers, both trickle their candidates through the service (none are in the SDP), ICE and
//! DTLS connect over real UDP on loopback and audio flows both ways; then a hang-up reaches
//! the other side and the service. Also: a rejected call, a cancelled one, resuming a stream
//! after its last notification, a dropped connection reconnecting without loss or repeat,
//! and a token without `voip` refused.

#[path = "support/local_service.rs"]
mod local_service;
#[path = "support/realtime.rs"]
mod realtime;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use media_core::call::AudioSide;
use media_core::call::udp::{Call, CallEvent, CallOptions};
use media_core::net::transport::TransportState;
use media_core::rest::{
    CallHandle, CallState, CallingClient, CallingEvent, CallingEventStream, ClientOptions, EndKind,
    Endpoint, IdentityClient, RejectReason, RestError, TokenScope, UserTokenCredential,
};
use mediacore_service::RunningService;
use tokio::net::{TcpListener, TcpStream};

/// Longest wait for one signaling notification or call state.
const WAIT: Duration = Duration::from_secs(10);

struct Service {
    running: RunningService,
    _dir: tempfile::TempDir,
    options: ClientOptions,
}

impl Service {
    /// The service on 127.0.0.1 (a free HTTPS port).
    async fn start() -> Self {
        let (running, dir, options) = local_service::start(|_| {}).await;
        Self {
            running,
            _dir: dir,
            options,
        }
    }

    /// A new user with a token of `scopes`, and its calling client.
    async fn user(&self, scopes: &[TokenScope]) -> (String, CallingClient) {
        self.user_at(scopes, self.running.https_addr.port()).await
    }

    /// As [`user`](Self::user), the client reaching the service through 127.0.0.1:`port`.
    async fn user_at(&self, scopes: &[TokenScope], port: u16) -> (String, CallingClient) {
        let identity =
            IdentityClient::from_connection_string(&self.running.connection_string, &self.options)
                .expect("identity client");
        let created = identity
            .create_user(Some(scopes), None)
            .await
            .expect("user with token");
        let token = created.access_token.expect("token asked for").token;
        let own_port = format!(":{}/", self.running.https_addr.port());
        let url = self
            .running
            .endpoint
            .replace(&own_port, &format!(":{port}/"));
        let endpoint = Endpoint::parse(&url).expect("endpoint");
        let credential = UserTokenCredential::new(&token).expect("credential");
        let client =
            CallingClient::new(endpoint, credential, &self.options).expect("calling client");
        (created.identity.id, client)
    }

    async fn shutdown(self) {
        self.running.shutdown().await;
    }
}

/// A user's engine: its calling client, registered, with its notification stream open.
struct Engine {
    id: String,
    registration: String,
    calling: CallingClient,
    events: CallingEventStream,
}

impl Engine {
    async fn new(service: &Service) -> Self {
        Self::with_client(service.user(&[TokenScope::Voip]).await).await
    }

    /// Registers `calling` (user `id`) and opens its stream.
    async fn with_client((id, calling): (String, CallingClient)) -> Self {
        let registration = calling.register().await.expect("register");
        assert_eq!(registration.user.id(), Some(id.as_str()));
        let mut events = calling
            .events(&registration.id)
            .await
            .expect("notification stream");
        match next(&mut events, "the stream's greeting").await {
            CallingEvent::StreamConnected {
                registration_id,
                last_event_id,
            } => assert_eq!(
                (registration_id.as_str(), last_event_id),
                (&*registration.id, 0)
            ),
            other => panic!("first notification is not the greeting: {other:?}"),
        }
        Self {
            id,
            registration: registration.id,
            calling,
            events,
        }
    }

    /// The next notification (the greeting of a reconnect included).
    async fn next(&mut self, what: &str) -> CallingEvent {
        next(&mut self.events, what).await
    }
}

async fn next(events: &mut CallingEventStream, what: &str) -> CallingEvent {
    match tokio::time::timeout(WAIT, events.next()).await {
        Ok(Some(Ok(event))) => event,
        Ok(Some(Err(e))) => panic!("waiting for {what}: stream error: {e}"),
        Ok(None) => panic!("waiting for {what}: the stream ended"),
        Err(_) => panic!("no notification within {WAIT:?} while waiting for {what}"),
    }
}

fn options(ssrc: u32, cname: &str) -> CallOptions {
    let mut o = CallOptions::new(ssrc, cname);
    o.bind = vec![IpAddr::V4(Ipv4Addr::LOCALHOST)];
    o
}

/// A description without its candidates, so that they can only arrive by trickle.
fn without_candidates(sdp: &str) -> String {
    sdp.split_inclusive("\r\n")
        .filter(|l| !l.starts_with("a=candidate:") && !l.starts_with("a=end-of-candidates"))
        .collect()
}

/// Every local candidate the call reports until gathering completes.
async fn gathered_candidates(call: &Call) -> Vec<String> {
    let seen = realtime::wait_for_event(call, WAIT, |e| *e == CallEvent::GatheringComplete).await;
    let lines: Vec<String> = seen
        .into_iter()
        .filter_map(|e| match e {
            CallEvent::LocalCandidate(line) => Some(line),
            _ => None,
        })
        .collect();
    assert!(!lines.is_empty(), "no local candidate gathered");
    lines
}

/// Sends the call's candidates and the end-of-candidates mark through the service.
async fn trickle(handle: &CallHandle, call: &Call) {
    let lines = gathered_candidates(call).await;
    handle.send_candidates(&lines).await.expect("candidates");
    handle.end_of_candidates().await.expect("end of candidates");
}

/// Hands trickled candidates to the call; returns how many.
async fn take_candidates(event: CallingEvent, from: &str, call: &Call) -> usize {
    let CallingEvent::RemoteCandidates(remote) = event else {
        panic!("expected candidates, got {event:?}");
    };
    assert_eq!(remote.from.id(), Some(from));
    for line in &remote.candidates {
        call.add_remote_candidate(line)
            .await
            .expect("remote candidate");
    }
    remote.candidates.len()
}

/// Power of `samples` at `hz` (Goertzel), for telling the two tones apart.
fn tone_power(samples: &[i16], hz: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * hz / 48_000.0;
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0, 0.0);
    for &x in samples {
        let s = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    s1 * s1 + s2 * s2 - coeff * s1 * s2
}

fn tone(hz: f64, seconds: f64) -> Vec<i16> {
    (0..(seconds * 48_000.0) as usize)
        .map(|n| (8000.0 * (2.0 * std::f64::consts::PI * hz * n as f64 / 48_000.0).sin()) as i16)
        .collect()
}

/// Two seconds of a different tone each way; each side must hear the other's tone.
async fn talk_both_ways(a: (&Call, AudioSide), b: (&Call, AudioSide)) {
    const TONE_A: f64 = 440.0;
    const TONE_B: f64 = 660.0;
    let (sent_a, sent_b) = (tone(TONE_A, 2.0), tone(TONE_B, 2.0));
    let (audio_a, audio_b) = (a.1, b.1);
    let heard = tokio::task::spawn_blocking(move || {
        realtime::talk(vec![(audio_a, &sent_a[..]), (audio_b, &sent_b[..])], 200)
    })
    .await
    .expect("audio thread");
    // The last second: the first one holds the connection's start and the buffer's fill.
    let last_second = |h: &[i16]| h[h.len() - 48_000..].to_vec();
    let (heard_a, heard_b) = (last_second(&heard[0]), last_second(&heard[1]));
    for (name, heard, own, other) in [
        ("A", &heard_a, TONE_A, TONE_B),
        ("B", &heard_b, TONE_B, TONE_A),
    ] {
        let (p_other, p_own) = (tone_power(heard, other), tone_power(heard, own));
        assert!(
            p_other > 100.0 * p_own.max(1.0),
            "{name} does not hear the other side's {other} Hz tone: power {p_other:.3e} vs \
             {p_own:.3e} at its own {own} Hz"
        );
    }
    for (name, call) in [("A", a.0), ("B", b.0)] {
        let stats = call.stats().await.expect("stats");
        let jb = &stats.call.jitter_buffer;
        println!(
            "{name}: received {} packets, lost {}, concealment {:.3}, setup {:?}, pair {:?}",
            stats.call.packets_received,
            stats.call.packets_lost,
            jb.concealment_ratio(),
            stats.setup_time,
            stats.selected_pair,
        );
        assert_eq!(stats.state, TransportState::Connected);
        // 2 s of 20 ms packets is 100; the first can go before the peer's keys are ready.
        assert!(
            stats.call.packets_received >= 50,
            "{name}: {} packets",
            stats.call.packets_received
        );
        assert_eq!(stats.call.unauthenticated, 0);
        assert_eq!(jb.decode_errors, 0);
        assert!(
            jb.concealment_ratio() < 0.2,
            "{name}: {:.3} of the played samples concealed",
            jb.concealment_ratio()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engines_set_up_a_call_through_the_service_and_hang_up() {
    let service = Service::start().await;
    let mut alice = Engine::new(&service).await;
    let mut bob = Engine::new(&service).await;
    let (a, audio_a) = Call::new(options(0xa11c_e001, "alice"))
        .await
        .expect("call a");
    let (b, audio_b) = Call::new(options(0xb0b0_0002, "bob"))
        .await
        .expect("call b");

    // Alice places the call with her offer and trickles her candidates while it rings.
    let offer = without_candidates(&a.create_offer().await.expect("offer"));
    let placed = alice.calling.place(&bob.id, &offer).await.expect("place");
    trickle(&placed, &a).await;

    // Bob's engine rings with the offer, answers, and trickles his candidates.
    let CallingEvent::IncomingCall(incoming) = bob.next("the incoming call").await else {
        panic!("bob's first notification is not the incoming call");
    };
    assert_eq!(incoming.call_id, placed.id());
    assert_eq!(incoming.caller.id(), Some(alice.id.as_str()));
    let offer_in = incoming.offer_sdp.expect("the call carries the offer");
    assert_eq!(offer_in, offer);
    let answer = without_candidates(&b.accept_offer(&offer_in).await.expect("answer"));
    let answering = bob.calling.call(&incoming.call_id);
    let answered = answering.answer(&answer).await.expect("answer the call");
    assert_eq!(answered.state, CallState::Connected);
    trickle(&answering, &b).await;
    let n = take_candidates(bob.next("alice's candidates").await, &alice.id, &b).await;
    assert!(n > 0);
    let end = bob.next("alice's end of candidates").await;
    assert!(
        matches!(&end, CallingEvent::RemoteCandidates(r) if r.end_of_candidates && r.candidates.is_empty()),
        "{end:?}"
    );
    assert!(matches!(
        bob.next("connected").await,
        CallingEvent::CallConnected(c) if c.call_id == placed.id()
    ));

    // Alice gets the answer, the connected state and Bob's candidates, in that order.
    match alice.next("the answer").await {
        CallingEvent::CallAnswered(e) => {
            assert_eq!(e.answered_by.id(), Some(bob.id.as_str()));
            let sdp = e.answer_sdp.expect("the answer carries the SDP");
            a.accept_answer(&sdp).await.expect("accept answer");
        }
        other => panic!("expected the answer, got {other:?}"),
    }
    assert!(matches!(
        alice.next("connected").await,
        CallingEvent::CallConnected(c) if c.answered_by.as_ref().and_then(|i| i.id()) == Some(bob.id.as_str())
    ));
    take_candidates(alice.next("bob's candidates").await, &bob.id, &a).await;
    assert!(matches!(
        alice.next("bob's end of candidates").await,
        CallingEvent::RemoteCandidates(r) if r.end_of_candidates
    ));

    // ICE and DTLS connect on the trickled candidates alone; audio flows both ways.
    realtime::wait_for_state(&a, TransportState::Connected, WAIT).await;
    realtime::wait_for_state(&b, TransportState::Connected, WAIT).await;
    talk_both_ways((&a, audio_a), (&b, audio_b)).await;

    // Alice hangs up: both streams say so, Bob's engine hangs up too, the service agrees.
    placed.hang_up().await.expect("hang up");
    a.hang_up().await.expect("media hang-up");
    let alice_id = alice.id.clone();
    for engine in [&mut alice, &mut bob] {
        match engine.next("the end of the call").await {
            CallingEvent::CallEnded(e) => {
                assert_eq!(e.call_id, placed.id());
                assert_eq!(e.reason.kind(), EndKind::HungUp);
                assert_eq!(
                    e.ended_by.as_ref().and_then(|i| i.id()),
                    Some(alice_id.as_str())
                );
            }
            other => panic!("expected the end of the call, got {other:?}"),
        }
    }
    realtime::wait_for_state(&b, TransportState::Closed, WAIT).await;
    b.hang_up().await.ok();
    let after = answering.properties().await.expect("the call");
    assert_eq!(after.state, CallState::Disconnected);
    assert_eq!(after.end_reason.map(|r| r.kind()), Some(EndKind::HungUp));
    assert!(after.connected_on.is_some() && after.ended_on.is_some());
    assert!(
        alice
            .calling
            .active_calls()
            .await
            .expect("calls")
            .is_empty()
    );
    // Hanging up again is refused with the ACS error body.
    let again = placed.hang_up().await.expect_err("already ended");
    assert_eq!(
        (again.status(), again.code()),
        (Some(409), Some("Conflict"))
    );
    assert!(alice.events.last_event_id().is_some());
    drop((alice, bob));
    service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_and_cancelled_calls_and_a_resumed_stream() {
    let service = Service::start().await;
    let mut alice = Engine::new(&service).await;
    let mut bob = Engine::new(&service).await;
    let (a, _audio_a) = Call::new(options(0xa11c_e003, "alice"))
        .await
        .expect("call a");
    let offer = a.create_offer().await.expect("offer");

    // Bob rejects as busy: both are told why and by whom; the call cannot be answered.
    let placed = alice.calling.place(&bob.id, &offer).await.expect("place");
    // The ringing call is also listed, offer included (for an engine registered later).
    let listed = bob.calling.active_calls().await.expect("bob's calls");
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (
            listed[0].id.as_str(),
            listed[0].state,
            listed[0].offer_sdp.as_deref()
        ),
        (placed.id(), CallState::Connecting, Some(offer.as_str()))
    );
    let CallingEvent::IncomingCall(incoming) = bob.next("the incoming call").await else {
        panic!("bob's first notification is not the incoming call");
    };
    let ringing = bob.calling.call(&incoming.call_id);
    ringing.reject(RejectReason::Busy).await.expect("reject");
    let bob_id = bob.id.clone();
    for engine in [&mut alice, &mut bob] {
        match engine.next("the rejection").await {
            CallingEvent::CallEnded(e) => {
                assert_eq!(e.call_id, placed.id());
                assert_eq!(e.reason.kind(), EndKind::Busy);
                assert!(e.reason.is_rejection());
                assert_eq!(
                    e.ended_by.as_ref().and_then(|i| i.id()),
                    Some(bob_id.as_str())
                );
            }
            other => panic!("expected the rejection, got {other:?}"),
        }
    }
    let late = ringing
        .answer("v=0\r\n")
        .await
        .expect_err("answer after reject");
    assert_eq!((late.status(), late.code()), (Some(409), Some("Conflict")));
    let props = placed.properties().await.expect("the call");
    assert_eq!(
        (props.state, props.connected_on),
        (CallState::Disconnected, None)
    );

    // Bob's engine restarts: a new stream after the last notification it saw gets only
    // what came later.
    let last = bob.events.last_event_id();
    assert!(last.is_some());
    drop(std::mem::replace(
        &mut bob.events,
        bob.calling
            .events_after(&bob.registration, last)
            .await
            .expect("resumed stream"),
    ));
    match bob.next("the resumed stream's greeting").await {
        CallingEvent::StreamConnected { last_event_id, .. } => {
            assert_eq!(Some(last_event_id), last);
        }
        other => panic!("expected the greeting, got {other:?}"),
    }
    let second = alice
        .calling
        .place_with_name(&bob.id, &offer, Some("Alice"))
        .await
        .expect("place again");
    match bob.next("the second call").await {
        CallingEvent::IncomingCall(i) => {
            assert_eq!(i.call_id, second.id());
            assert_eq!(i.caller_display_name.as_deref(), Some("Alice"));
        }
        other => panic!("expected only the new call after resuming, got {other:?}"),
    }

    // Alice gives up before an answer: a cancellation for both.
    second.hang_up().await.expect("cancel");
    for engine in [&mut alice, &mut bob] {
        match engine.next("the cancellation").await {
            CallingEvent::CallEnded(e) => {
                assert_eq!(e.call_id, second.id());
                assert_eq!(e.reason.kind(), EndKind::Cancelled);
                assert!(!e.reason.is_rejection());
            }
            other => panic!("expected the cancellation, got {other:?}"),
        }
    }
    drop((alice, bob));
    service.shutdown().await;
}

/// A TCP relay on 127.0.0.1 whose connections can be cut, to drop a stream's connection.
struct Relay {
    port: u16,
    connections: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Relay {
    async fn start(to: SocketAddr) -> Self {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("relay listens");
        let port = listener.local_addr().expect("relay address").port();
        let connections = Arc::new(Mutex::new(Vec::new()));
        let list = Arc::clone(&connections);
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(to).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                list.lock().expect("relay list").push(task);
            }
        });
        Self { port, connections }
    }

    /// Closes every connection made so far (the listener stays); returns once they are
    /// closed, so nothing more passes through them.
    async fn cut(&self) {
        let tasks: Vec<_> = self
            .connections
            .lock()
            .expect("relay list")
            .drain(..)
            .collect();
        for task in tasks {
            task.abort();
            let _ = task.await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_stream_reconnects_and_loses_nothing() {
    let service = Service::start().await;
    let relay = Relay::start(service.running.https_addr).await;
    let alice = Engine::new(&service).await;
    let mut bob = Engine::with_client(service.user_at(&[TokenScope::Voip], relay.port).await).await;
    let (a, _audio_a) = Call::new(options(0xa11c_e004, "alice"))
        .await
        .expect("call a");
    let offer = a.create_offer().await.expect("offer");

    let first = alice.calling.place(&bob.id, &offer).await.expect("place");
    assert!(matches!(
        bob.next("the incoming call").await,
        CallingEvent::IncomingCall(i) if i.call_id == first.id()
    ));
    let seen = bob.events.last_event_id();

    // The connection drops; meanwhile the call is cancelled. The stream reconnects after
    // the last notification it gave, and the cancellation comes exactly once.
    relay.cut().await;
    first.hang_up().await.expect("cancel");
    match bob.next("the reconnect's greeting").await {
        CallingEvent::StreamConnected { last_event_id, .. } => {
            assert_eq!(Some(last_event_id), seen);
        }
        other => panic!("expected the reconnect's greeting, got {other:?}"),
    }
    assert!(matches!(
        bob.next("the cancellation").await,
        CallingEvent::CallEnded(e) if e.call_id == first.id() && e.reason.kind() == EndKind::Cancelled
    ));
    let second = alice.calling.place(&bob.id, &offer).await.expect("place");
    assert!(matches!(
        bob.next("the second call").await,
        CallingEvent::IncomingCall(i) if i.call_id == second.id()
    ));
    drop((alice, bob));
    service.shutdown().await;
}

#[tokio::test]
async fn a_token_without_voip_is_refused() {
    let service = Service::start().await;
    let (_, chat_only) = service.user(&[TokenScope::Chat]).await;
    let (callee, _) = service.user(&[TokenScope::Voip]).await;
    let refused: Vec<RestError> = vec![
        chat_only
            .register()
            .await
            .expect_err("register without voip"),
        chat_only
            .place(&callee, "v=0\r\n")
            .await
            .expect_err("place without voip"),
        chat_only
            .active_calls()
            .await
            .expect_err("list without voip"),
    ];
    for e in refused {
        assert_eq!(
            (e.status(), e.code()),
            (Some(403), Some("Forbidden")),
            "{e}"
        );
        assert!(e.to_string().contains("voip"), "{e}");
    }
    service.shutdown().await;
}
