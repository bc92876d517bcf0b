//! Call set-up time on loopback: from the offer to the first audio at the far end, MediaCore
//! engine ↔ engine beside two webrtc-rs peers in the same run:
//! `cargo bench -p mediacore-benches --bench setup`.
//!
//! **MediaCore** (two [`Call`]s on 127.0.0.1, non-trickle, default options): the clock
//! starts just before `create_offer`; the answer goes back at once; it stops when the
//! answerer's audio side first plays decoded audio (`AudioSide::process` returns anything
//! but `Playout::Idle`). Each side's audio side runs on one "audio thread" ticking every
//! 10 ms from before the offer, as a device callback would; the offerer captures a voiced
//! synthetic signal, so it sends from the moment DTLS has keyed SRTP. Also recorded: when
//! the offerer reports `Connected` (ICE + DTLS) and when the answerer's network side
//! counted its first RTP packet (its statistics, polled every millisecond).
//!
//! **webrtc-rs** (`webrtc` 0.21, see `src/webrtc_pair.rs`): the clock starts just before
//! `create_offer`; offer and answer are exchanged after ICE gathering completes (its
//! non-trickle mode); a task writes one Opus RTP packet every 20 ms through
//! `TrackLocalStaticRTP::write_rtp` from before the offer; the clock stops when the
//! answerer reads the first RTP packet from its remote track. webrtc-rs has no jitter
//! buffer or decoder, so its "first audio" is that packet.
//!
//! Both senders work at the pace of real audio (a 20 ms packet, made of 10 ms device
//! blocks for MediaCore), so what each adds after connecting is comparable. Certificate
//! generation and socket binding happen before the clock starts, on both sides.
//!
//! webrtc-rs's first connectivity check waits for its ICE check interval (200 ms by
//! default), so it also runs with checks every 10 ms (`SettingEngine` setting), to show what
//! is left of the difference once that default is set aside.
//!
//! The stacks alternate, call after call, so co-tenant noise hits all alike. The bench ends
//! with the medians and `ratio setup/webrtc-rs: <MediaCore first decoded frame / webrtc-rs
//! first RTP packet>` (lower is better), the like-for-like
//! `ratio setup/first-packet/webrtc-rs` (first RTP packet on both sides), and
//! `ratio setup/webrtc-rs-10ms-checks` against the tuned peer.
//!
//! Without `--bench` (as `cargo test --benches` runs it) it makes one call of each kind,
//! as a check that both still connect.

#[path = "../src/measure.rs"]
#[allow(dead_code)]
mod measure;
#[path = "../src/webrtc_pair.rs"]
#[allow(dead_code)]
mod webrtc_pair;

use std::net::{IpAddr, Ipv4Addr};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use media_core::call::AudioSide;
use media_core::call::udp::{Call, CallOptions};
use media_core::codec::{OpusEncoder, OpusEncoderConfig};
use media_core::jitter::Playout;
use mediacore_benches::speech;
use tokio::sync::oneshot;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_remote::TrackRemoteEvent;
use webrtc_pair::Peer;

/// Calls per stack in a benchmark run.
const CALLS: usize = 20;
/// Longest a call may take to reach its first audio before the run is failed.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The ICE check interval of the tuned webrtc-rs peers: most of webrtc-rs's set-up time is
/// its default 200 ms interval, so the bench also runs it with short checks.
const TUNED_CHECK_INTERVAL: Duration = Duration::from_millis(10);
/// How long the audio source runs before the offer (plus a per-call phase).
const LEAD: Duration = Duration::from_millis(30);
/// Samples per 10 ms block at 48 kHz.
const BLOCK: usize = 480;

type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

/// One MediaCore call's milestones, from the offer.
#[derive(Debug, Clone, Copy)]
struct MediaCoreSetup {
    signaled: Duration,
    connected: Duration,
    first_packet: Duration,
    first_frame: Duration,
}

/// One webrtc-rs call's milestones, from the offer.
#[derive(Debug, Clone, Copy)]
struct WebrtcSetup {
    signaled: Duration,
    connected: Duration,
    first_packet: Duration,
}

fn call_options(ssrc: u32, cname: &str) -> CallOptions {
    let mut o = CallOptions::new(ssrc, cname);
    o.bind = vec![IpAddr::V4(Ipv4Addr::LOCALHOST)];
    o
}

/// The audio thread of both calls: 10 ms ticks against the wall clock from the moment it
/// starts; the offerer captures `voice`, the answerer silence. Reports when the answerer
/// first played decoded audio, and stops at `stop`.
fn audio_thread(
    mut offerer: AudioSide,
    mut answerer: AudioSide,
    voice: Vec<i16>,
    stop: Arc<AtomicBool>,
    first_frame: oneshot::Sender<Instant>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut first_frame = Some(first_frame);
        let mut out = [0i16; BLOCK];
        let silence = [0i16; BLOCK];
        let start = Instant::now();
        let mut tick = 0usize;
        while !stop.load(Ordering::Relaxed) {
            let due = start + Duration::from_millis(10 * tick as u64);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            let now = Instant::now();
            let at = (tick * BLOCK) % (voice.len() - BLOCK);
            // Errors here (a ring full while the network side is busy) only cost audio.
            let _ = offerer.process(now, &voice[at..at + BLOCK], &mut out);
            let played = answerer.process(now, &silence, &mut out);
            if matches!(played, Ok(p) if p != Playout::Idle)
                && let Some(tx) = first_frame.take()
            {
                let _ = tx.send(Instant::now());
            }
            tick += 1;
        }
    })
}

/// One MediaCore engine ↔ engine call, set up and hung up; the offer comes `LEAD + phase`
/// after the audio thread started.
async fn mediacore_call(voice: &[i16], phase: Duration) -> BenchResult<MediaCoreSetup> {
    let (a, audio_a) = Call::new(call_options(0x1111_0001, "setup-a")).await?;
    let (b, audio_b) = Call::new(call_options(0x2222_0002, "setup-b")).await?;
    let stop = Arc::new(AtomicBool::new(false));
    let (frame_tx, frame_rx) = oneshot::channel();
    let audio = audio_thread(audio_a, audio_b, voice.to_vec(), stop.clone(), frame_tx);
    // Let the audio thread run its first ticks, as a device already open would; `phase`
    // places the offer at a different point of the 10 ms device grid in each call.
    tokio::time::sleep(LEAD + phase).await;

    let t0 = Instant::now();
    let result = async {
        let offer = a.create_offer().await?;
        let answer = b.accept_offer(&offer).await?;
        a.accept_answer(&answer).await?;
        let signaled = t0.elapsed();
        // The answerer's first received RTP packet, from its statistics.
        let first_packet = loop {
            if b.stats().await?.call.packets_received > 0 {
                break Instant::now();
            }
            if t0.elapsed() > TIMEOUT {
                return Err("MediaCore: no RTP packet within the timeout".into());
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        };
        let first_frame = tokio::time::timeout(TIMEOUT, frame_rx)
            .await
            .map_err(|_| "MediaCore: no decoded audio within the timeout")??;
        let connected = a
            .stats()
            .await?
            .setup_time
            .ok_or("MediaCore: the offerer never reported Connected")?;
        BenchResult::Ok(MediaCoreSetup {
            signaled,
            connected,
            first_packet: first_packet - t0,
            first_frame: first_frame - t0,
        })
    }
    .await;
    stop.store(true, Ordering::Relaxed);
    let _ = a.hang_up().await;
    let _ = b.hang_up().await;
    audio
        .join()
        .map_err(|_| "MediaCore: the audio thread panicked")?;
    result
}

/// One webrtc-rs call: negotiated, first RTP packet read, closed. `check_interval` is the
/// ICE agents' setting (`None`: webrtc-rs's default, 200 ms); `phase` as for MediaCore.
async fn webrtc_call(
    payload: &Bytes,
    check_interval: Option<Duration>,
    phase: Duration,
) -> BenchResult<WebrtcSetup> {
    const SSRC: u32 = 0x3333_0003;
    let mut offerer = Peer::with_check_interval(check_interval).await?;
    let mut answerer = Peer::with_check_interval(check_interval).await?;
    let track = webrtc_pair::opus_track(SSRC);
    webrtc_pair::add_track(&offerer, &track).await?;

    // The first RTP packet read from the answerer's remote track.
    let mut tracks = answerer.take_tracks();
    let (rtp_tx, rtp_rx) = oneshot::channel();
    let reader = tokio::spawn(async move {
        let Some(remote) = tracks.recv().await else {
            return;
        };
        while let Some(event) = remote.poll().await {
            if let TrackRemoteEvent::OnRtpPacket(_) = event {
                let _ = rtp_tx.send(Instant::now());
                return;
            }
        }
    });
    // The sender: one packet every 20 ms from before the offer, as an audio source would.
    // Writes before the track is bound or the transport is up fail or are dropped by
    // webrtc-rs; either way the packet is lost, as MediaCore's unkeyed frames are.
    let sender_track = track.clone();
    let payload = payload.clone();
    let sender = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        for n in 0u32.. {
            tick.tick().await;
            let _ = sender_track
                .write_rtp(webrtc_pair::opus_packet(SSRC, n, &payload))
                .await;
        }
    });
    // As for MediaCore: the offer at a different point of the 20 ms packet grid each call.
    tokio::time::sleep(LEAD + phase).await;

    let t0 = Instant::now();
    let result = async {
        webrtc_pair::negotiate(&mut offerer, &mut answerer).await?;
        let signaled = t0.elapsed();
        let connected = offerer.connected_at(TIMEOUT).await?;
        let first_packet = tokio::time::timeout(TIMEOUT, rtp_rx)
            .await
            .map_err(|_| "webrtc-rs: no RTP packet within the timeout")??;
        BenchResult::Ok(WebrtcSetup {
            signaled,
            connected: connected - t0,
            first_packet: first_packet - t0,
        })
    }
    .await;
    sender.abort();
    reader.abort();
    offerer.close().await;
    answerer.close().await;
    result
}

/// 20 ms of voiced synthetic speech coded the way a call codes it (48 kbit/s Opus), for the
/// webrtc-rs sender.
fn opus_payload(voice: &[i16]) -> BenchResult<Bytes> {
    let mut encoder = OpusEncoder::new(OpusEncoderConfig {
        bitrate_bps: 48_000,
        ..OpusEncoderConfig::default()
    })?;
    let mut out = [0u8; 1275];
    let mut n = 0;
    // A few frames in, so the encoder is past its start-up.
    for frame in voice.chunks_exact(encoder.frame_len()).take(5) {
        n = encoder.encode(frame, &mut out)?;
    }
    Ok(Bytes::copy_from_slice(&out[..n]))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn summary(label: &str, values: &[f64]) -> String {
    let med = measure::median(values).unwrap_or(f64::NAN);
    let p90 = measure::quantile(values, 0.9).unwrap_or(f64::NAN);
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    format!("{label:<36} median {med:7.1} ms   p90 {p90:7.1} ms   min {min:7.1} ms")
}

fn run() -> BenchResult<()> {
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let calls = if bench_mode { CALLS } else { 1 };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let voice = speech::voiced(0, 48_000);
    let payload = opus_payload(&voice)?;

    let (ours, peers, tuned) = rt.block_on(async {
        // One call of each before measuring: first-use costs (lazy statics, the allocator's
        // arenas, the reactor) stay out of the figures.
        if bench_mode {
            mediacore_call(&voice, Duration::ZERO).await?;
            webrtc_call(&payload, None, Duration::ZERO).await?;
        }
        let mut ours = Vec::new();
        let mut peers = Vec::new();
        let mut tuned = Vec::new();
        for i in 0..calls {
            // 0..19 ms, each once over 20 calls (7 is prime to 20): when the offer falls
            // against the senders' 10/20 ms audio grid is spread alike for all stacks.
            let phase = Duration::from_millis((i as u64 * 7) % 20);
            ours.push(mediacore_call(&voice, phase).await?);
            peers.push(webrtc_call(&payload, None, phase).await?);
            tuned.push(webrtc_call(&payload, Some(TUNED_CHECK_INTERVAL), phase).await?);
        }
        BenchResult::Ok((ours, peers, tuned))
    })?;

    let col = |v: &[Duration]| v.iter().map(|d| ms(*d)).collect::<Vec<f64>>();
    let ours_signaled = col(&ours.iter().map(|s| s.signaled).collect::<Vec<_>>());
    let peer_signaled = col(&peers.iter().map(|s| s.signaled).collect::<Vec<_>>());
    let ours_connected = col(&ours.iter().map(|s| s.connected).collect::<Vec<_>>());
    let ours_packet = col(&ours.iter().map(|s| s.first_packet).collect::<Vec<_>>());
    let ours_frame = col(&ours.iter().map(|s| s.first_frame).collect::<Vec<_>>());
    let peer_connected = col(&peers.iter().map(|s| s.connected).collect::<Vec<_>>());
    let peer_packet = col(&peers.iter().map(|s| s.first_packet).collect::<Vec<_>>());
    let tuned_connected = col(&tuned.iter().map(|s| s.connected).collect::<Vec<_>>());
    let tuned_packet = col(&tuned.iter().map(|s| s.first_packet).collect::<Vec<_>>());

    println!("Call set-up on loopback, {calls} calls per stack, alternating (ms from the offer):");
    println!(
        "{}",
        summary("mediacore offer→answer applied", &ours_signaled)
    );
    println!("{}", summary("mediacore offer→connected", &ours_connected));
    println!(
        "{}",
        summary("mediacore offer→first RTP packet", &ours_packet)
    );
    println!(
        "{}",
        summary("mediacore offer→first decoded frame", &ours_frame)
    );
    println!(
        "{}",
        summary("webrtc-rs offer→answer applied", &peer_signaled)
    );
    println!("{}", summary("webrtc-rs offer→connected", &peer_connected));
    println!(
        "{}",
        summary("webrtc-rs offer→first RTP packet", &peer_packet)
    );
    println!("webrtc-rs, ICE checks every {TUNED_CHECK_INTERVAL:?}:");
    println!("{}", summary("  offer→connected", &tuned_connected));
    println!("{}", summary("  offer→first RTP packet", &tuned_packet));
    if !bench_mode {
        println!("setup: one call of each connected and carried audio (test mode, no ratios)");
        return Ok(());
    }
    let med = |v: &[f64]| measure::median(v).unwrap_or(f64::NAN);
    println!();
    println!("median setup/mediacore: {:.1} ms", med(&ours_frame));
    println!("median setup/webrtc-rs: {:.1} ms", med(&peer_packet));
    println!(
        "median setup/webrtc-rs-{}ms-checks: {:.1} ms",
        TUNED_CHECK_INTERVAL.as_millis(),
        med(&tuned_packet)
    );
    println!("Ratios ours/peer of median times (lower is better):");
    println!(
        "ratio setup/webrtc-rs: {:.2}",
        med(&ours_frame) / med(&peer_packet)
    );
    println!(
        "ratio setup/first-packet/webrtc-rs: {:.2}",
        med(&ours_packet) / med(&peer_packet)
    );
    println!(
        "ratio setup/webrtc-rs-{}ms-checks: {:.2}",
        TUNED_CHECK_INTERVAL.as_millis(),
        med(&ours_frame) / med(&tuned_packet)
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("setup bench: {e}");
            ExitCode::FAILURE
        }
    }
}
