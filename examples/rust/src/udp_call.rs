//! Two MediaCore engines in a WebRTC call over real UDP sockets on loopback: SDP
//! offer/answer, ICE, DTLS-SRTP, then speech both ways in real time with statistics once a
//! second, the received audio as WAV and the PESQ score of what each side heard.
//!
//! `cargo run --release -p mediacore-examples --bin udp-call -- [OUT_DIR] [--turn URL USER PASSWORD]`
//!
//! With `--turn`, both engines are relay-only through that TURN server (`make run` starts a
//! coturn for this). Needs the speech samples and the PESQ venv that `scripts/bootstrap.sh`
//! makes.

#[path = "call_report.rs"]
mod call_report;
#[path = "pesq_score.rs"]
mod pesq_score;

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use media_core::call::session::SessionEvent;
use media_core::call::udp::{Call, CallEvent, CallOptions, IceServer};
use media_core::net::transport::TransportState;

fn main() {
    call_report::run("udp-call", demo());
}

struct Args {
    out_dir: PathBuf,
    turn: Option<IceServer>,
}

fn parse_args(root: &Path) -> Result<Args, String> {
    let mut out_dir = root.join("target/udp-call");
    let mut turn = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--turn" {
            let mut next = || {
                args.next()
                    .ok_or("--turn takes URL USERNAME PASSWORD".to_owned())
            };
            turn = Some(IceServer {
                urls: vec![next()?],
                username: next()?,
                credential: next()?,
            });
        } else {
            out_dir = PathBuf::from(arg);
        }
    }
    Ok(Args { out_dir, turn })
}

fn options(ssrc: u32, cname: &str, turn: &Option<IceServer>) -> CallOptions {
    let mut o = CallOptions::new(ssrc, cname);
    o.bind = vec![IpAddr::V4(Ipv4Addr::LOCALHOST)];
    o.session.audio.encoder.bitrate_bps = 48_000;
    if let Some(server) = turn {
        o.ice_servers = vec![server.clone()];
        o.relay_only = true;
    }
    o
}

async fn demo() -> Result<(), String> {
    let root = call_report::repo_root();
    let args = parse_args(&root)?;
    std::fs::create_dir_all(&args.out_dir)
        .map_err(|e| format!("{}: {e}", args.out_dir.display()))?;
    let [speech_a, speech_b] = call_report::speech_paths(&root);

    let how = match &args.turn {
        Some(t) => format!("relay-only through {}", t.urls.join(", ")),
        None => "host candidates on 127.0.0.1".to_owned(),
    };
    println!(
        "MediaCore {} — a WebRTC call between engines A and B over UDP ({how})",
        media_core::VERSION
    );
    let (a, audio_a) = Call::new(options(0xa, "engine-a", &args.turn))
        .await
        .map_err(|e| format!("call A: {e}"))?;
    let (b, audio_b) = Call::new(options(0xb, "engine-b", &args.turn))
        .await
        .map_err(|e| format!("call B: {e}"))?;
    let started = Instant::now();
    a.wait_gathering_complete()
        .await
        .map_err(|e| e.to_string())?;
    b.wait_gathering_complete()
        .await
        .map_err(|e| e.to_string())?;
    let offer = a.create_offer().await.map_err(|e| format!("offer: {e}"))?;
    let answer = b
        .accept_offer(&offer)
        .await
        .map_err(|e| format!("answer: {e}"))?;
    a.accept_answer(&answer)
        .await
        .map_err(|e| format!("accept answer: {e}"))?;
    for (name, call) in [("A", &a), ("B", &b)] {
        wait_connected(name, call).await?;
    }
    let stats = a.stats().await.map_err(|e| e.to_string())?;
    println!(
        "connected in {:.1} ms (offer → ICE + DTLS done); A's pair {}",
        started.elapsed().as_secs_f64() * 1000.0,
        stats
            .selected_pair
            .map(|p| format!(
                "{} ({}) ↔ {} ({})",
                p.local, p.local_type, p.remote, p.remote_type
            ))
            .unwrap_or_default()
    );
    call_report::converse(
        &root,
        [(&a, audio_a, &speech_a), (&b, audio_b, &speech_b)],
        &args.out_dir,
    )
    .await?;
    a.hang_up().await.map_err(|e| e.to_string())?;
    Ok(())
}

/// Waits up to 15 s for `call` to connect, printing candidate errors on the way.
pub async fn wait_connected(name: &str, call: &Call) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        match tokio::time::timeout_at(deadline, call.next_event()).await {
            Ok(Some(CallEvent::Session(SessionEvent::State(TransportState::Connected)))) => {
                return Ok(());
            }
            Ok(Some(CallEvent::Session(SessionEvent::Failure(why)))) => {
                return Err(format!("call {name} failed: {why}"));
            }
            Ok(Some(CallEvent::Session(SessionEvent::CandidateError { url, reason }))) => {
                println!("call {name}: {url}: {reason}");
            }
            Ok(Some(_)) => {}
            Ok(None) => return Err(format!("call {name} ended before connecting")),
            Err(_) => return Err(format!("call {name} did not connect within 15 s")),
        }
    }
}
