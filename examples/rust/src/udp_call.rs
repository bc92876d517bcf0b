//! Two MediaCore engines in a WebRTC call over real UDP sockets on loopback: SDP
//! offer/answer, ICE, DTLS-SRTP, then speech both ways in real time with statistics once a
//! second, the received audio as WAV and the PESQ score of what each side heard.
//!
//! `cargo run --release -p mediacore-examples --bin udp-call -- [OUT_DIR] [--turn URL USER PASSWORD]`
//!
//! With `--turn`, both engines are relay-only through that TURN server (`make run` starts a
//! coturn for this). Needs the speech samples and the PESQ venv that `scripts/bootstrap.sh`
//! makes.

#[path = "pesq_score.rs"]
mod pesq_score;

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use media_core::audio::wav::{read_wav, write_wav};
use media_core::call::AudioSide;
use media_core::call::session::{SessionEvent, SessionStats};
use media_core::call::udp::{Call, CallEvent, CallOptions, IceServer};
use media_core::net::transport::TransportState;

fn main() {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("udp-call: tokio runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = runtime.block_on(demo()) {
        eprintln!("udp-call: {e}");
        std::process::exit(1);
    }
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
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let root = root.canonicalize().unwrap_or(root);
    let args = parse_args(&root)?;
    std::fs::create_dir_all(&args.out_dir)
        .map_err(|e| format!("{}: {e}", args.out_dir.display()))?;
    let speech_a = root.join("data/generated/speech-a-48k.wav");
    let speech_b = root.join("data/generated/speech-b-48k.wav");
    let a_pcm = read_wav(&speech_a).map_err(|e| format!("{e} (run scripts/bootstrap.sh)"))?;
    let b_pcm = read_wav(&speech_b).map_err(|e| format!("{e} (run scripts/bootstrap.sh)"))?;

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
    println!("Opus 48 kbit/s 20 ms, DTLS-SRTP; B's view of A's stream each second:");
    println!(
        "{:>4}  {:>7}  {:>9}  {:>6}  {:>8}  {:>9}  {:>5}",
        "t s", "RTT ms", "jitter ms", "lost", "conceal%", "buffer ms", "MOS"
    );

    let ticks = a_pcm.samples.len().max(b_pcm.samples.len()) / 480 + 100;
    let talking = tokio::task::spawn_blocking(move || {
        talk([(audio_a, a_pcm.samples), (audio_b, b_pcm.samples)], ticks)
    });
    let mut second = 0;
    while !talking.is_finished() {
        tokio::time::sleep(Duration::from_secs(1)).await;
        second += 1;
        if let Ok(s) = b.stats().await {
            print_second(second, &s);
        }
    }
    let heard = talking.await.map_err(|e| format!("audio thread: {e}"))?;
    let (sa, sb) = (
        a.stats().await.map_err(|e| e.to_string())?,
        b.stats().await.map_err(|e| e.to_string())?,
    );
    a.hang_up().await.map_err(|e| e.to_string())?;

    println!();
    for (who, s) in [("B (hears A)", &sb), ("A (hears B)", &sa)] {
        let jb = &s.call.jitter_buffer;
        println!(
            "{who}: received {} lost {} concealed {:.2} % mean buffer delay {:.1} ms, RTT {} ms, MOS {:.2}; dropped: {:?}",
            s.call.packets_received,
            s.call.packets_lost,
            100.0 * jb.concealment_ratio(),
            jb.mean_delay_ms(),
            s.call.rtt_ms.map_or("-".to_owned(), |r| format!("{r:.2}")),
            s.call.mos,
            s.transport
        );
    }
    let heard_b = args.out_dir.join("heard-by-b.wav");
    let heard_a = args.out_dir.join("heard-by-a.wav");
    write_wav(&heard_a, 48_000, 1, &heard[0]).map_err(|e| e.to_string())?;
    write_wav(&heard_b, 48_000, 1, &heard[1]).map_err(|e| e.to_string())?;
    println!(
        "received audio: {} and {}",
        heard_b.display(),
        heard_a.display()
    );
    for (reference, heard, who) in [(&speech_a, &heard_b, "B"), (&speech_b, &heard_a, "A")] {
        println!(
            "PESQ (WB, P.862.2) of what {who} heard: {}",
            pesq_score::pesq(&root, reference, heard)?
        );
    }
    Ok(())
}

async fn wait_connected(name: &str, call: &Call) -> Result<(), String> {
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

/// Runs both audio sides 10 ms a tick in real time; returns what each heard.
fn talk(mut sides: [(AudioSide, Vec<i16>); 2], ticks: usize) -> [Vec<i16>; 2] {
    let mut heard = [
        Vec::with_capacity(ticks * 480),
        Vec::with_capacity(ticks * 480),
    ];
    let mut out = [0i16; 480];
    let start = Instant::now();
    for tick in 0..ticks {
        let due = start + Duration::from_millis(10 * tick as u64);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let now = Instant::now();
        for ((side, speech), heard) in sides.iter_mut().zip(heard.iter_mut()) {
            let mut frame = [0i16; 480];
            let at = tick * 480;
            if at < speech.len() {
                let n = (speech.len() - at).min(480);
                frame[..n].copy_from_slice(&speech[at..at + n]);
            }
            if side.process(now, &frame, &mut out).is_err() {
                out = [0; 480];
            }
            heard.extend_from_slice(&out);
        }
    }
    heard
}

fn print_second(t: u32, s: &SessionStats) {
    let c = &s.call;
    println!(
        "{:>4}  {:>7}  {:>9.1}  {:>6}  {:>8.2}  {:>9.1}  {:>5.2}",
        t,
        c.rtt_ms.map_or("-".to_owned(), |r| format!("{r:.2}")),
        c.jitter_ms,
        c.packets_lost,
        100.0 * c.jitter_buffer.concealment_ratio(),
        c.jitter_buffer.playout_delay_ms,
        c.mos
    );
}
