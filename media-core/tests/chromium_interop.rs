//! WebRTC interop with headless Chromium, both offerer roles: Chromium's fake microphone
//! plays a speech sample to MediaCore, which scores what it heard with PESQ; MediaCore sends
//! the other sample to Chromium, whose page records it (PESQ) and reports getStats.
//!
//! A third test runs the call relay-only on both sides through coturn (TURN REST
//! credentials from a shared secret) and checks both selected pairs are relayed.
//!
//! Chromium only gathers loopback candidates with `--allow-loopback-in-peer-connection`, and
//! on a host with other interfaces its checks then come from those addresses too. So these
//! tests run in a network namespace holding only `lo`: `scripts/test-chromium.sh` (part of
//! `make test`) starts them there. Elsewhere they refuse to run, with that instruction.

#[path = "support/coturn.rs"]
mod coturn;
#[path = "support/pesq.rs"]
mod pesq;
#[path = "support/realtime.rs"]
mod realtime;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::{get, post};
use media_core::audio::wav::{read_wav, write_wav};
use media_core::call::session::SessionEvent;
use media_core::call::udp::{Call, CallEvent, CallOptions, IceServer};
use media_core::net::transport::TransportState;
use tokio::sync::{Mutex, mpsc};

const PAGE: &str = include_str!("chromium/call.html");

/// Chromium runs one at a time: two at once on a 2-core machine starve each other's audio.
static SERIAL: Mutex<()> = Mutex::const_new(());

/// What the page sends back.
enum FromPage {
    Recording(Vec<u8>),
    Report(String),
}

struct Shared {
    call: Arc<Call>,
    to_test: mpsc::UnboundedSender<FromPage>,
}

type AppState = Arc<Shared>;

async fn page() -> Html<&'static str> {
    Html(PAGE)
}

async fn chromium_offers(State(s): State<AppState>, body: String) -> (StatusCode, String) {
    // Non-trickle: the answer carries the relayed candidate when there is a TURN server.
    if let Err(e) = s.call.wait_gathering_complete().await {
        return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
    }
    match s.call.accept_offer(&body).await {
        Ok(answer) => (StatusCode::OK, answer),
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()),
    }
}

async fn mediacore_offers(State(s): State<AppState>) -> (StatusCode, String) {
    if let Err(e) = s.call.wait_gathering_complete().await {
        return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
    }
    match s.call.create_offer().await {
        Ok(offer) => (StatusCode::OK, offer),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn chromium_answers(State(s): State<AppState>, body: String) -> (StatusCode, String) {
    match s.call.accept_answer(&body).await {
        Ok(()) => (StatusCode::OK, String::new()),
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()),
    }
}

async fn page_log(body: String) {
    println!("page: {body}");
}

async fn recording(State(s): State<AppState>, body: Bytes) {
    let _ = s.to_test.send(FromPage::Recording(body.to_vec()));
}

async fn report(State(s): State<AppState>, body: String) {
    let _ = s.to_test.send(FromPage::Report(body));
}

fn require_namespace() {
    // /proc/net/dev lists this network namespace's interfaces (sysfs may show the host's).
    let dev = std::fs::read_to_string("/proc/net/dev").expect("read /proc/net/dev");
    let interfaces: Vec<String> = dev
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(|name| name.trim().to_owned())
        .collect();
    assert!(
        interfaces == ["lo"],
        "interfaces {interfaces:?}: the Chromium tests need a network namespace with only `lo` \
         (run scripts/test-chromium.sh, which starts them under `unshare -n`)"
    );
}

fn launch_chromium(url: &str, microphone: &std::path::Path, profile: &std::path::Path) -> Child {
    // Chromium refuses a file path with `..` in it, and then captures silence.
    let microphone = microphone.canonicalize().expect("speech sample path");
    Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            "--allow-loopback-in-peer-connection",
            "--autoplay-policy=no-user-gesture-required",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!(
            "--use-file-for-fake-audio-capture={}%noloop",
            microphone.display()
        ))
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium (installed by scripts/bootstrap.sh)")
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// TURN credentials for one side of a relayed call.
struct Relay<'a> {
    server: &'a coturn::Coturn,
    username: String,
    credential: String,
}

async fn interop(chromium_offers_first: bool, relay: Option<Relay<'_>>) {
    require_namespace();
    let _serial = SERIAL.lock().await;
    let role = if chromium_offers_first {
        "offer"
    } else {
        "answer"
    };
    let mut options = CallOptions::new(0x5eed_0001, "mediacore-interop");
    options.bind = vec![IpAddr::V4(Ipv4Addr::LOCALHOST)];
    if let Some(relay) = &relay {
        options.ice_servers = vec![IceServer {
            urls: vec![relay.server.url()],
            username: relay.username.clone(),
            credential: relay.credential.clone(),
        }];
        options.relay_only = true;
    }
    let tag = if relay.is_some() {
        format!("{role}-relay")
    } else {
        role.to_owned()
    };
    let (call, audio) = Call::new(options).await.expect("call");
    let call = Arc::new(call);
    let (to_test, mut from_page) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        call: call.clone(),
        to_test,
    });
    let app = Router::new()
        .route("/", get(page))
        .route("/offer", post(chromium_offers).get(mediacore_offers))
        .route("/answer", post(chromium_answers))
        .route("/log", post(page_log))
        .route("/recording", post(recording))
        .route("/report", post(report))
        .with_state(shared);
    let listener =
        tokio::net::TcpListener::bind(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0))
            .await
            .expect("bind the test server");
    let port = listener.local_addr().expect("server address").port();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let speech_to_chromium = read_wav(pesq::speech_a()).expect("speech a").samples;
    let speech_ms = speech_to_chromium.len() as u64 / 48;
    let dir = pesq::root().join(format!("target/call-tests/chromium-{tag}"));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let mut url = format!(
        "http://127.0.0.1:{port}/?role={role}&listen_ms={}",
        speech_ms + 2500
    );
    if let Some(relay) = &relay {
        // Chromium gets its own REST credentials (user "chromium").
        let (user, cred) = coturn::rest_credentials(SECRET, "chromium");
        url.push_str(&format!(
            "&turn={}&user={}&cred={}",
            percent(&relay.server.url()),
            percent(&user),
            percent(&cred)
        ));
    }
    let _chromium = KillOnDrop(launch_chromium(
        &url,
        &pesq::speech_b(),
        &dir.join("profile"),
    ));

    let events =
        realtime::wait_for_state(&call, TransportState::Connected, Duration::from_secs(30)).await;
    let pair = events.iter().find_map(|e| match e {
        CallEvent::Session(SessionEvent::SelectedPair(p)) => Some((p.local, p.remote)),
        _ => None,
    });
    println!("{tag}: connected, pair {pair:?}");
    // Chromium's microphone starts when the page sees the connection; MediaCore's speech
    // starts now, and both listen for the longer sample plus a tail.
    let ticks = (speech_ms as usize + 2000) / 10;
    let heard = tokio::task::spawn_blocking(move || {
        realtime::talk(vec![(audio, &speech_to_chromium[..])], ticks).remove(0)
    })
    .await
    .expect("audio thread");
    // The snapshot now, while the page still listens (500 ms longer than MediaCore talks):
    // once the page has reported it closes its connection, and the call would be closed.
    let stats = call.stats().await.expect("stats");

    let (mut pcm, mut report) = (None, None);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while report.is_none() {
        match tokio::time::timeout_at(deadline, from_page.recv()).await {
            Ok(Some(FromPage::Recording(bytes))) => pcm = Some(bytes),
            Ok(Some(FromPage::Report(text))) => report = Some(text),
            Ok(None) | Err(_) => panic!("no report from the page"),
        }
    }
    server.abort();
    let report: serde_json::Value =
        serde_json::from_str(&report.unwrap_or_default()).expect("report JSON");
    assert!(report.get("error").is_none(), "page error: {report}");
    call.hang_up().await.expect("hang up");
    println!(
        "{tag}: MediaCore: received {} lost {} unauthenticated {} malformed {} rejected {} \
         transport {:?}; page inbound {}; outbound {}; source {}",
        stats.call.packets_received,
        stats.call.packets_lost,
        stats.call.unauthenticated,
        stats.call.malformed,
        stats.media_rejected,
        stats.transport,
        report["inbound"],
        report["outbound"],
        report["source"]
    );

    // What MediaCore heard from Chromium.
    let heard_wav = dir.join("heard-by-mediacore.wav");
    write_wav(&heard_wav, 48_000, 1, &heard).expect("write");
    let at_mediacore = pesq::pesq_wb(&pesq::speech_b(), &heard_wav);
    // What Chromium heard from MediaCore.
    let pcm = pcm.expect("recording from the page");
    let recorded: Vec<i16> = pcm
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    let recorded_wav = dir.join("heard-by-chromium.wav");
    write_wav(&recorded_wav, 48_000, 1, &recorded).expect("write");
    let at_chromium = pesq::pesq_wb(&pesq::speech_a(), &recorded_wav);
    let inbound = &report["inbound"];
    let received = inbound["packetsReceived"].as_f64().unwrap_or(0.0);
    let concealed = inbound["concealedSamples"].as_f64().unwrap_or(f64::MAX);
    let total = inbound["totalSamplesReceived"].as_f64().unwrap_or(0.0);
    println!(
        "{tag}: WB-PESQ at MediaCore {at_mediacore:.2}, at Chromium {at_chromium:.2};          Chromium received {received} packets, concealed {concealed}/{total} samples ({} silent);          MediaCore received {} lost {}, setup {:?}",
        inbound["silentConcealedSamples"],
        stats.call.packets_received,
        stats.call.packets_lost,
        stats.setup_time
    );
    assert_eq!(report["connectionState"], "connected", "{report}");
    if relay.is_some() {
        let pair = stats.selected_pair.as_ref().expect("selected pair");
        assert_eq!(
            (pair.local_type.as_str(), pair.remote_type.as_str()),
            ("relay", "relay"),
            "{pair:?}"
        );
        assert_eq!(report["localCandidateType"], "relay", "{report}");
        assert_eq!(report["remoteCandidateType"], "relay", "{report}");
    }
    assert_eq!(stats.state, TransportState::Connected);
    assert_eq!(stats.call.unauthenticated, 0);
    assert!(stats.call.packets_received > 500, "{stats:?}");
    assert!(received > 500.0, "{inbound}");
    // Most of Chromium's concealment is silence it plays before MediaCore starts talking
    // (silentConcealedSamples: 29 880 of 31 440 in a relayed run, whose setup is longer);
    // concealment of sound is what loss or late packets would cost.
    let silent = inbound["silentConcealedSamples"].as_f64().unwrap_or(0.0);
    assert!(
        total > 0.0 && (concealed - silent) / total < 0.02,
        "Chromium concealed {} samples of sound of {total}",
        concealed - silent
    );
    assert!(
        concealed / total < 0.08,
        "Chromium concealed {concealed} of {total} samples"
    );
    assert!(
        at_mediacore >= 3.0,
        "MediaCore heard Chromium at WB-PESQ {at_mediacore:.2}"
    );
    // The page records through a WebAudio ScriptProcessor, which drops blocks now and then
    // on a busy 2-core host: measured 2.98-3.70 over five runs at Chromium's default 32 kbit/s
    // (docs/webrtc.md). The gate leaves room for that; getStats' concealment is the tight one.
    assert!(
        at_chromium >= 2.7,
        "Chromium heard MediaCore at WB-PESQ {at_chromium:.2}"
    );
}

/// The shared secret of the relayed test's coturn (`--use-auth-secret`).
const SECRET: &str = "mediacore-interop-secret";

/// Percent-encodes a query value (TURN REST passwords hold `+`, `/` and `=`).
fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a network namespace with only lo: run scripts/test-chromium.sh"]
async fn chromium_offers_mediacore_answers() {
    interop(true, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a network namespace with only lo: run scripts/test-chromium.sh"]
async fn mediacore_offers_chromium_answers() {
    interop(false, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a network namespace with only lo: run scripts/test-chromium.sh"]
async fn chromium_and_mediacore_relay_only_through_coturn() {
    let server = coturn::Coturn::start(coturn::Auth::Secret(SECRET), (49400, 49449));
    let (username, credential) = coturn::rest_credentials(SECRET, "mediacore");
    interop(
        true,
        Some(Relay {
            server: &server,
            username,
            credential,
        }),
    )
    .await;
}
