//! Calls relayed through coturn (started by each test on 127.0.0.1): relay-only policy on
//! both engines, with long-term credentials and with TURN REST credentials from a shared
//! secret; speech both ways scored with PESQ; the selected pair is relayed on both sides.
//! A wrong TURN password ends in a candidate error and a failed call, not a hang.

#[path = "support/coturn.rs"]
mod coturn;
#[path = "support/local_service.rs"]
mod local_service;
#[path = "support/pesq.rs"]
mod pesq;
#[path = "support/realtime.rs"]
mod realtime;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use coturn::{Auth, Coturn};
use media_core::audio::wav::{read_wav, write_wav};
use media_core::call::session::SessionEvent;
use media_core::call::udp::{Call, CallEvent, CallOptions, IceServer};
use media_core::net::transport::TransportState;
use media_core::rest::relay::RouteType;
use media_core::rest::{Endpoint, IdentityClient, RelayClient, TokenScope, UserTokenCredential};
use realtime::wait_for_state;

/// Relayed on loopback the path is as clean as the direct one (call_udp: 4.38); the gate
/// leaves room for a scheduling hiccup on a busy 2-core host.
const MIN_PESQ: f64 = 4.0;

fn relay_options(ssrc: u32, server: &Coturn, username: &str, credential: &str) -> CallOptions {
    relay_options_to(ssrc, &server.url(), username, credential)
}

fn relay_options_to(ssrc: u32, url: &str, username: &str, credential: &str) -> CallOptions {
    let mut o = CallOptions::new(ssrc, &format!("relay-{ssrc:x}"));
    o.bind = vec![IpAddr::V4(Ipv4Addr::LOCALHOST)];
    o.session.audio.encoder.bitrate_bps = 48_000;
    o.ice_servers = vec![IceServer {
        urls: vec![url.to_owned()],
        username: username.to_owned(),
        credential: credential.to_owned(),
    }];
    o.relay_only = true;
    o
}

/// Sets up a relay-only call between two engines (non-trickle: each waits for its
/// allocation first), checks both selected pairs are relayed, and talks both ways.
async fn relayed_call(server: &Coturn, creds: [(String, String); 2], tag: &str) {
    let [(user_a, pass_a), (user_b, pass_b)] = creds;
    let (a, audio_a) = Call::new(relay_options(0xa1, server, &user_a, &pass_a))
        .await
        .expect("call a");
    let (b, audio_b) = Call::new(relay_options(0xb2, server, &user_b, &pass_b))
        .await
        .expect("call b");
    a.wait_gathering_complete().await.expect("a gathered");
    b.wait_gathering_complete().await.expect("b gathered");
    let offer = a.create_offer().await.expect("offer");
    assert!(offer.contains(" typ relay "), "{offer}");
    assert!(
        !offer.contains(" typ host "),
        "relay-only offered a host: {offer}"
    );
    let answer = b.accept_offer(&offer).await.expect("answer");
    assert!(answer.contains(" typ relay "), "{answer}");
    a.accept_answer(&answer).await.expect("accept answer");
    wait_for_state(&a, TransportState::Connected, Duration::from_secs(10)).await;
    wait_for_state(&b, TransportState::Connected, Duration::from_secs(10)).await;

    let speech_a = read_wav(pesq::speech_a()).expect("speech a").samples;
    let speech_b = read_wav(pesq::speech_b()).expect("speech b").samples;
    let ticks = speech_a.len().max(speech_b.len()) / 480 + 100;
    let heard = tokio::task::spawn_blocking(move || {
        realtime::talk(
            vec![(audio_a, &speech_a[..]), (audio_b, &speech_b[..])],
            ticks,
        )
    })
    .await
    .expect("audio thread");
    let dir = pesq::root().join("target/call-tests");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let wav_a = dir.join(format!("turn-{tag}-heard-by-a.wav"));
    let wav_b = dir.join(format!("turn-{tag}-heard-by-b.wav"));
    write_wav(&wav_a, 48_000, 1, &heard[0]).expect("write");
    write_wav(&wav_b, 48_000, 1, &heard[1]).expect("write");
    let at_b = pesq::pesq_wb(&pesq::speech_a(), &wav_b);
    let at_a = pesq::pesq_wb(&pesq::speech_b(), &wav_a);
    let (sa, sb) = (
        a.stats().await.expect("stats a"),
        b.stats().await.expect("stats b"),
    );
    println!(
        "TURN ({tag}) call: PESQ at B {at_b:.2}, at A {at_a:.2}; setup {:?}; pair A {:?}; pair B {:?}",
        sa.setup_time, sa.selected_pair, sb.selected_pair
    );
    for (pesq, stats) in [(at_b, &sb), (at_a, &sa)] {
        let pair = stats.selected_pair.as_ref().expect("selected pair");
        assert_eq!(pair.local_type, "relay", "{pair:?}");
        assert_eq!(pair.remote_type, "relay", "{pair:?}");
        assert!(pesq >= MIN_PESQ, "PESQ {pesq:.2} through the relay");
        assert!(stats.call.packets_received > 500);
        assert_eq!(stats.media_rejected, 0);
    }
    a.hang_up().await.expect("hang up");
    wait_for_state(&b, TransportState::Closed, Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_only_call_with_long_term_credentials() {
    let server = Coturn::start(
        Auth::Static {
            user: "alice",
            password: "wonderland",
        },
        (49200, 49249),
    );
    let creds = [
        ("alice".to_owned(), "wonderland".to_owned()),
        ("alice".to_owned(), "wonderland".to_owned()),
    ];
    relayed_call(&server, creds, "static").await;
}

/// The relay configuration MediaCore's REST adapter gets from the local service (TURN REST
/// credentials under the secret coturn was started with) is what the two calls use.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_only_call_with_credentials_the_service_issues() {
    let secret = "mediacore-shared-secret";
    let server = Coturn::start(Auth::Secret(secret), (49250, 49299));
    let (service, _dir, options) = local_service::start(|config| {
        config.relay.urls = vec![server.url()];
        config.relay.shared_secret = Some(secret.to_owned());
    })
    .await;
    let identity = IdentityClient::from_connection_string(&service.connection_string, &options)
        .expect("identity client");
    let endpoint = Endpoint::parse(&service.endpoint).expect("endpoint");
    let mut creds = Vec::new();
    for _ in 0..2 {
        let user = identity
            .create_user(Some(&[TokenScope::Voip]), None)
            .await
            .expect("voip user");
        let token =
            UserTokenCredential::new(&user.access_token.expect("token").token).expect("credential");
        let relay = RelayClient::with_user_token(endpoint.clone(), token, &options)
            .expect("relay client")
            .issue_relay_configuration(Some(&user.identity.id), Some(RouteType::Any), None)
            .await
            .expect("relay configuration");
        let servers = relay.to_ice_servers();
        assert_eq!(servers.len(), 1, "{servers:?}");
        assert_eq!(servers[0].urls, vec![server.url()]);
        creds.push((servers[0].username.clone(), servers[0].credential.clone()));
    }
    let creds: [(String, String); 2] = creds.try_into().expect("two users");
    relayed_call(&server, creds, "service").await;
    service.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_turn_password_fails_with_the_reason() {
    let server = Coturn::start(
        Auth::Static {
            user: "alice",
            password: "wonderland",
        },
        (49300, 49349),
    );
    let (call, _audio) = Call::new(relay_options(0xc3, &server, "alice", "looking-glass"))
        .await
        .expect("call");
    let events = wait_for_state(&call, TransportState::Failed, Duration::from_secs(10)).await;
    println!("wrong password: {events:?}");
    let error = events.iter().find_map(|e| match e {
        CallEvent::Session(SessionEvent::CandidateError { url, reason }) => Some((url, reason)),
        _ => None,
    });
    let (url, reason) = error.expect("a candidate error event");
    assert_eq!(url, &server.url());
    assert!(reason.contains("401"), "{reason}");
    assert!(
        events.iter().any(|e| matches!(
            e,
            CallEvent::Session(SessionEvent::Failure(why)) if why.contains("relay-only") && why.contains("401")
        )),
        "{events:?}"
    );
    assert!(events.contains(&CallEvent::GatheringComplete));
    call.wait_gathering_complete()
        .await
        .expect("gathering over");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relayed_candidates_trickle_after_offer_and_answer() {
    let server = Coturn::start(
        Auth::Static {
            user: "alice",
            password: "wonderland",
        },
        (49350, 49399),
    );
    let (a, _audio_a) = Call::new(relay_options(0xd4, &server, "alice", "wonderland"))
        .await
        .expect("call a");
    let (b, _audio_b) = Call::new(relay_options(0xe5, &server, "alice", "wonderland"))
        .await
        .expect("call b");
    // Offer and answer with their candidates taken out (an allocation on loopback may beat
    // the offer): every candidate reaches the peer by trickle, after the answer.
    let strip = |sdp: String| -> String {
        sdp.split_inclusive("\r\n")
            .filter(|l| !l.starts_with("a=candidate:") && !l.starts_with("a=end-of-candidates"))
            .collect()
    };
    let offer = strip(a.create_offer().await.expect("offer"));
    let answer = strip(b.accept_offer(&offer).await.expect("answer"));
    a.accept_answer(&answer).await.expect("accept answer");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut connected = [false, false];
    while connected != [true, true] {
        for (i, (from, to)) in [(&a, &b), (&b, &a)].into_iter().enumerate() {
            while let Some(event) = from.try_event() {
                match event {
                    CallEvent::LocalCandidate(line) => {
                        assert!(line.contains("typ relay"), "{line}");
                        to.add_remote_candidate(&line).await.expect("trickled");
                    }
                    CallEvent::Session(SessionEvent::State(TransportState::Connected)) => {
                        connected[i] = true;
                    }
                    CallEvent::Session(SessionEvent::State(TransportState::Failed)) => {
                        panic!("call {i} failed");
                    }
                    _ => {}
                }
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no connection by trickle"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let pair = a.stats().await.expect("stats").selected_pair.expect("pair");
    assert_eq!(
        (pair.local_type.as_str(), pair.remote_type.as_str()),
        ("relay", "relay")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_only_call_with_one_engine_reaching_the_server_over_tcp() {
    let server = Coturn::start(
        Auth::Static {
            user: "alice",
            password: "wonderland",
        },
        (49450, 49499),
    );
    let tcp_url = format!("turn:{}?transport=tcp", server.addr);
    let (a, _audio_a) = Call::new(relay_options_to(0xf6, &tcp_url, "alice", "wonderland"))
        .await
        .expect("call a");
    let (b, _audio_b) = Call::new(relay_options(0xf7, &server, "alice", "wonderland"))
        .await
        .expect("call b");
    a.wait_gathering_complete().await.expect("a gathered");
    b.wait_gathering_complete().await.expect("b gathered");
    let offer = a.create_offer().await.expect("offer");
    assert!(offer.contains(" typ relay "), "{offer}");
    let answer = b.accept_offer(&offer).await.expect("answer");
    a.accept_answer(&answer).await.expect("accept answer");
    wait_for_state(&a, TransportState::Connected, Duration::from_secs(10)).await;
    wait_for_state(&b, TransportState::Connected, Duration::from_secs(10)).await;
    // RTCP flows both ways over the TCP leg (no audio thread runs here).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for call in [&a, &b] {
        let stats = call.stats().await.expect("stats");
        let pair = stats.selected_pair.expect("pair");
        assert_eq!(
            (pair.local_type.as_str(), pair.remote_type.as_str()),
            ("relay", "relay")
        );
        assert!(stats.call.rtcp_received > 0, "{:?}", stats.call);
        assert_eq!(stats.transport.server_rejected, 0);
    }

    // A TCP server that is not there: a candidate error naming it, then failed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let nobody = closed.local_addr().expect("addr");
    drop(closed);
    let url = format!("turn:{nobody}?transport=tcp");
    let (c, _audio_c) = Call::new(relay_options_to(0xf8, &url, "alice", "wonderland"))
        .await
        .expect("call c");
    let events = wait_for_state(&c, TransportState::Failed, Duration::from_secs(10)).await;
    assert!(
        events.iter().any(|e| matches!(
            e,
            CallEvent::Session(SessionEvent::CandidateError { url: u, reason }) if *u == url && reason.contains("TCP")
        )),
        "{events:?}"
    );
}
