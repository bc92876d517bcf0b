//! Two engines in a WebRTC call over real UDP sockets on loopback: SDP offer/answer, ICE,
//! DTLS-SRTP, then speech both ways in real time, scored with PESQ against the simulator's
//! clean figure. Also: bad SDP is refused with a named error, and hang-up reaches the peer.

#[path = "support/pesq.rs"]
mod pesq;
#[path = "support/realtime.rs"]
mod realtime;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use realtime::wait_for_state;

use media_core::audio::wav::{read_wav, write_wav};
use media_core::call::AudioSide;
use media_core::call::sdp::SdpError;
use media_core::call::session::{SessionError, SessionEvent};
use media_core::call::udp::{Call, CallEvent, CallOptions, UdpCallError};
use media_core::net::transport::TransportState;

/// WB-PESQ of the clean simulated call (call_sim, docs/benchmarks.md): the UDP call must
/// come within 0.2 of it.
const SIMULATOR_CLEAN_PESQ: f64 = 4.38;

fn options(ssrc: u32, cname: &str) -> CallOptions {
    let mut o = CallOptions::new(ssrc, cname);
    o.bind = vec![IpAddr::V4(Ipv4Addr::LOCALHOST)];
    // The simulated calls' bitrate, so the two figures compare the network paths alone.
    o.session.audio.encoder.bitrate_bps = 48_000;
    o
}

async fn connected_pair() -> (Call, AudioSide, Call, AudioSide) {
    let (a, audio_a) = Call::new(options(0x1111_0001, "engine-a"))
        .await
        .expect("call a");
    let (b, audio_b) = Call::new(options(0x2222_0002, "engine-b"))
        .await
        .expect("call b");
    let offer = a.create_offer().await.expect("offer");
    let answer = b.accept_offer(&offer).await.expect("answer");
    a.accept_answer(&answer).await.expect("accept answer");
    let events_a = wait_for_state(&a, TransportState::Connected, Duration::from_secs(10)).await;
    wait_for_state(&b, TransportState::Connected, Duration::from_secs(10)).await;
    assert!(
        events_a
            .iter()
            .any(|e| matches!(e, CallEvent::Session(SessionEvent::SelectedPair(p)) if p.local_type == "host")),
        "{events_a:?}"
    );
    (a, audio_a, b, audio_b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engines_talk_over_udp_with_simulator_quality() {
    let (a, audio_a, b, audio_b) = connected_pair().await;
    let speech_a = read_wav(pesq::speech_a()).expect("speech a").samples;
    let speech_b = read_wav(pesq::speech_b()).expect("speech b").samples;
    // Both samples, then a 1 s tail.
    let ticks = speech_a.len().max(speech_b.len()) / 480 + 100;
    let heard = tokio::task::spawn_blocking(move || {
        realtime::talk(
            vec![(audio_a, &speech_a[..]), (audio_b, &speech_b[..])],
            ticks,
        )
    })
    .await
    .expect("audio thread");
    let (heard_a, heard_b) = (&heard[0], &heard[1]);
    let dir = pesq::root().join("target/call-tests");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let (wav_a, wav_b) = (
        dir.join("udp-heard-by-a.wav"),
        dir.join("udp-heard-by-b.wav"),
    );
    write_wav(&wav_a, 48_000, 1, heard_a).expect("write");
    write_wav(&wav_b, 48_000, 1, heard_b).expect("write");
    let at_b = pesq::pesq_wb(&pesq::speech_a(), &wav_b);
    let at_a = pesq::pesq_wb(&pesq::speech_b(), &wav_a);
    let (sa, sb) = (
        a.stats().await.expect("stats a"),
        b.stats().await.expect("stats b"),
    );
    println!(
        "UDP call: PESQ at B {at_b:.2}, at A {at_a:.2}; setup {:?}; B received {} lost {}; A received {} lost {}; SRTP {:?}",
        sa.setup_time,
        sb.call.packets_received,
        sb.call.packets_lost,
        sa.call.packets_received,
        sa.call.packets_lost,
        sa.selected_pair,
    );
    println!("B jitter buffer: {:?}", sb.call.jitter_buffer);
    println!("A jitter buffer: {:?}", sa.call.jitter_buffer);
    for (pesq, stats) in [(at_b, &sb), (at_a, &sa)] {
        assert!(
            pesq >= SIMULATOR_CLEAN_PESQ - 0.2,
            "PESQ {pesq:.2} is more than 0.2 below the simulator's clean {SIMULATOR_CLEAN_PESQ}"
        );
        assert_eq!(stats.state, TransportState::Connected);
        assert!(stats.call.packets_received > 500);
        assert_eq!(stats.call.unauthenticated, 0);
        assert_eq!(stats.media_rejected, 0);
        assert!(stats.call.rtcp_received > 0 && stats.call.rtt_ms.is_some());
    }
    a.hang_up().await.expect("hang up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ice_restart_renegotiates_and_the_call_stays_up() {
    let (a, audio_a, b, audio_b) = connected_pair().await;
    let offer = a.restart_ice().await.expect("restart offer");
    let answer = b.accept_offer(&offer).await.expect("restart answer");
    // Fresh ICE credentials both ways, same DTLS certificate.
    let ufrag = |sdp: &str| {
        sdp.lines()
            .find_map(|l| l.strip_prefix("a=ice-ufrag:"))
            .map(str::to_owned)
    };
    let first_offer_fp = offer.lines().find(|l| l.starts_with("a=fingerprint:"));
    assert!(first_offer_fp.is_some());
    a.accept_answer(&answer)
        .await
        .expect("accept restart answer");
    // ICE checks again and selects a pair; the call ends up connected with traffic flowing.
    let events = realtime::wait_for_event(&a, Duration::from_secs(5), |e| {
        matches!(e, CallEvent::Session(SessionEvent::SelectedPair(_)))
    })
    .await;
    println!("after restart: {events:?}");
    assert_ne!(ufrag(&offer), None);
    assert_ne!(ufrag(&offer), ufrag(&answer));
    // Half a second of speech each way over the new pair.
    let speech = read_wav(pesq::speech_a()).expect("speech").samples;
    tokio::task::spawn_blocking(move || {
        realtime::talk(vec![(audio_a, &speech[..]), (audio_b, &speech[..])], 50)
    })
    .await
    .expect("audio thread");
    for call in [&a, &b] {
        let stats = call.stats().await.expect("stats");
        assert_eq!(stats.state, TransportState::Connected);
        // 500 ms of 20 ms packets.
        assert!(stats.call.packets_received >= 20, "{stats:?}");
        assert_eq!(stats.call.unauthenticated, 0);
    }
    // A second restart offer while one is out is refused, not a panic.
    let again = a.restart_ice().await.expect("second restart");
    assert!(matches!(
        a.restart_ice().await,
        Err(UdpCallError::Session(SessionError::Signaling(_)))
    ));
    let answer = b.accept_offer(&again).await.expect("answer");
    a.accept_answer(&answer).await.expect("accept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hang_up_closes_the_peer() {
    let (a, _audio_a, b, _audio_b) = connected_pair().await;
    a.hang_up().await.expect("hang up");
    wait_for_state(&b, TransportState::Closed, Duration::from_secs(5)).await;
    assert_eq!(a.create_offer().await, Err(UdpCallError::Ended));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_descriptions_are_refused_with_the_reason() {
    let (a, _audio_a) = Call::new(options(1, "a")).await.expect("call a");
    let (b, _audio_b) = Call::new(options(2, "b")).await.expect("call b");
    let offer = a.create_offer().await.expect("offer");
    let no_mux = offer.replace("a=rtcp-mux\r\n", "");
    assert_eq!(
        b.accept_offer(&no_mux).await,
        Err(UdpCallError::Session(SessionError::Sdp(
            SdpError::NoRtcpMux
        )))
    );
    let garbage = b.accept_offer("v=0\r\nthis is not sdp").await;
    assert!(
        matches!(
            garbage,
            Err(UdpCallError::Session(SessionError::Sdp(SdpError::Syntax(
                _
            ))))
        ),
        "{garbage:?}"
    );
    // An answer with no offer out is a signaling error, not a panic.
    assert!(matches!(
        b.accept_answer(&offer).await,
        Err(UdpCallError::Session(SessionError::Signaling(_)))
    ));
    // The refused offers left B able to take a good one.
    b.accept_offer(&offer)
        .await
        .expect("good offer after bad ones");
}
