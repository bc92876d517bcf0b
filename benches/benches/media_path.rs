//! CPU per audio packet on the media path over real loopback UDP sockets, MediaCore beside
//! a webrtc-rs peer connection pair in the same run:
//! `cargo bench -p mediacore-benches --bench media_path`.
//!
//! Every stack sends the same Opus RTP stream (a 20 ms frame of voiced speech at 48 kbit/s,
//! SSRC fixed, sequence and timestamp advancing as a call's do) from one side to the other
//! under two loads ([`LOADS`]): **paced**, one packet per millisecond, so every packet is
//! its own wake-up on both sides, as a call's packets are (each `Call` owns its socket and
//! task) — the headline; and **burst**, 10 packets back to back every millisecond, where a
//! wake-up is shared. Each side runs on its own tokio runtime with one worker thread, named
//! after the stack and direction; the CPU a side spent is the sum of its threads' on-CPU
//! time (`/proc/self/task/*/schedstat`: user and kernel time, so the system calls and the
//! kernel's loopback delivery, which runs in the sender's context, count). Per packet = CPU
//! over the measured window ÷ packets sent (send side) or received (receive side).
//!
//! - **MediaCore**, its own parts: send = RTP write (`rtp::write_packet`) → SRTP protect
//!   (`SrtpContext`, AES-128-GCM, the profile MediaCore's DTLS prefers) → `send_to` on a
//!   tokio `UdpSocket` (the runtime and socket type `call::udp::Call` uses); receive =
//!   `recv_from` → RFC 7983 demultiplexing (`net::transport::classify`) → SRTP unprotect →
//!   RTP parse (`RtpPacket::parse`) → jitter buffer insert (`JitterBuffer::insert_rtp`).
//!   The jitter buffer sees the arrivals of a clean call (one packet per 20 ms of its clock)
//!   and is never pulled — a pull decodes, which is the codec's cost, not the path's (the
//!   jitter bench measures it) — so its store is capped at 8 packets, the few a call holds.
//! - **webrtc-rs** (`webrtc` 0.21, defaults: no interceptors registered; SRTP AES-128-GCM
//!   negotiated): send = `TrackLocalStaticRTP::write_rtp` of an `rtp::Packet` (its driver
//!   does SRTP and the socket); receive = its driver's socket read and SRTP, then
//!   `TrackRemote::poll` returning the packet (`OnRtpPacket`). Its two drivers run on the
//!   two runtimes because each peer is built there.
//! - Figures that are not ratios, to show where MediaCore's time goes: the same loops with
//!   bare datagrams of the same size and no processing (**sockets only**: the runtime and
//!   the kernel), MediaCore's per-packet work with no socket at all (**in memory**: write,
//!   protect, unprotect, parse, insert on one thread), and what a connected `Call` costs
//!   per second with no audio flowing (its task's timers).
//!
//! The stacks alternate, [`RUNS`] runs each per load of the load's packet count after
//! [`WARMUP`] unmeasured ones; the bench prints each side's medians and ends with
//! `ratio media_path/webrtc-rs: <MediaCore send+receive / webrtc-rs send+receive>` (CPU per
//! packet under the paced load, lower is better), the same per load and per direction.
//!
//! Without `--bench` (as `cargo test --benches` runs it) it makes one short run of each, as
//! a check that the packets flow.

#[path = "../src/measure.rs"]
#[allow(dead_code)]
mod measure;
#[path = "../src/webrtc_pair.rs"]
mod webrtc_pair;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use media_core::call::udp::{Call, CallOptions};
use media_core::codec::{OpusEncoder, OpusEncoderConfig};
use media_core::jitter::{JitterBuffer, JitterBufferConfig};
use media_core::net::transport::{DatagramKind, TransportState, classify};
use media_core::rtp::{RtpHeader, RtpPacket, write_packet};
use media_core::srtp::{SrtpContext, SrtpProfile};
use mediacore_benches::speech;
use tokio::net::UdpSocket;
use tokio::runtime::Runtime;
use tokio::sync::oneshot;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_remote::TrackRemoteEvent;
use webrtc_pair::{FRAME_SAMPLES, OPUS_PT, Peer};

/// Packets sent before measuring: connection, caches and allocator settled.
const WARMUP: usize = 300;
/// Runs per stack.
const RUNS: usize = 5;
/// Time between two sender wake-ups.
const TICK: Duration = Duration::from_millis(1);
/// The two loads: a lone stream (every packet its own wake-up, as a call's packets are)
/// and a busy endpoint (packets of many streams handled per wake-up).
const LOADS: [Load; 2] = [
    Load {
        name: "paced",
        per_tick: 1,
        packets: 3_000,
    },
    Load {
        name: "burst",
        per_tick: 10,
        packets: 20_000,
    },
];
/// Longest wait for the last packets to arrive after the sender finished.
const DRAIN: Duration = Duration::from_millis(500);
const SSRC: u32 = 0x4D43_0001;
/// What the MediaCore receiver takes as "the run is over": not STUN, DTLS, RTP or RTCP.
const END_MARK: [u8; 1] = [0xFF];
/// Packets the in-memory loop runs.
const IN_MEMORY_PACKETS: usize = 200_000;

type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// How packets are sent: `per_tick` back to back every [`TICK`], `packets` measured.
#[derive(Debug, Clone, Copy)]
struct Load {
    name: &'static str,
    per_tick: usize,
    packets: usize,
}

/// CPU and packet counts of one measured run.
#[derive(Debug, Clone, Copy)]
struct Run {
    send_cpu: Duration,
    receive_cpu: Duration,
    sent: usize,
    received: usize,
}

impl Run {
    fn send_ns(&self) -> f64 {
        self.send_cpu.as_nanos() as f64 / self.sent.max(1) as f64
    }

    fn receive_ns(&self) -> f64 {
        self.receive_cpu.as_nanos() as f64 / self.received.max(1) as f64
    }

    fn total_ns(&self) -> f64 {
        self.send_ns() + self.receive_ns()
    }
}

/// A tokio runtime with one worker, its threads named `name` (at most 15 bytes survive).
fn runtime(name: String) -> std::io::Result<Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name(name)
        .enable_all()
        .build()
}

/// CPU of the send and receive runtimes' threads.
fn cpu_pair(send: &str, receive: &str) -> BenchResult<(Duration, Duration)> {
    Ok((
        measure::cpu_of_threads(send)?,
        measure::cpu_of_threads(receive)?,
    ))
}

/// Waits (on the calling thread) until `count` reaches `target` or `DRAIN` passes.
fn wait_for_count(count: &AtomicUsize, target: usize) {
    let deadline = Instant::now() + DRAIN;
    while count.load(Ordering::Acquire) < target && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The sender's schedule: [`WARMUP`] packets, a pause until `go`, then the load's
/// measured packets, `per_tick` of them every [`TICK`].
struct Schedule {
    tick: tokio::time::Interval,
    warm: Option<oneshot::Sender<()>>,
    go: Option<oneshot::Receiver<()>>,
    next: usize,
    load: Load,
}

impl Schedule {
    fn new(load: Load, warm: oneshot::Sender<()>, go: oneshot::Receiver<()>) -> Self {
        Self {
            tick: tokio::time::interval(TICK),
            warm: Some(warm),
            go: Some(go),
            next: 0,
            load,
        }
    }

    /// Waits for the next packet's turn and returns its number; `None` when all are sent
    /// (or the run was called off during the pause).
    async fn next(&mut self) -> Option<u32> {
        if self.next == WARMUP {
            if let Some(warm) = self.warm.take() {
                let _ = warm.send(());
            }
            if let Some(go) = self.go.take() {
                go.await.ok()?;
                self.tick.reset();
            }
        }
        if self.next >= WARMUP + self.load.packets {
            return None;
        }
        if self.next % self.load.per_tick.max(1) == 0 {
            self.tick.tick().await;
        }
        let n = self.next as u32;
        self.next += 1;
        Some(n)
    }
}

/// The fixed SRTP master key and salt both MediaCore sides use (DTLS would export them).
fn srtp_pair() -> BenchResult<(SrtpContext, SrtpContext)> {
    let key = [0x5Au8; 16];
    let salt = [0xC3u8; 12];
    Ok((
        SrtpContext::new(SrtpProfile::AeadAes128Gcm, &key, &salt)?,
        SrtpContext::new(SrtpProfile::AeadAes128Gcm, &key, &salt)?,
    ))
}

/// A bound pair of non-blocking loopback sockets: (sender, receiver, receiver's address).
fn socket_pair() -> BenchResult<(std::net::UdpSocket, std::net::UdpSocket, SocketAddr)> {
    let tx = std::net::UdpSocket::bind("127.0.0.1:0")?;
    let rx = std::net::UdpSocket::bind("127.0.0.1:0")?;
    tx.set_nonblocking(true)?;
    rx.set_nonblocking(true)?;
    let to = rx.local_addr()?;
    Ok((tx, rx, to))
}

/// What the two paced loops do with each packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Loop {
    /// MediaCore's RTP, SRTP, demultiplexing and jitter buffer around the sockets.
    MediaCore,
    /// The sockets alone: a datagram of the same size, nothing done with it.
    SocketsOnly,
}

/// One paced run of MediaCore's path (or of the sockets alone) over loopback.
fn socket_run(kind: Loop, run: usize, load: Load, payload: &[u8]) -> BenchResult<Run> {
    let tag = if kind == Loop::MediaCore { "mc" } else { "fl" };
    let (send_name, recv_name) = (format!("{tag}-send-{run}-"), format!("{tag}-recv-{run}-"));
    let send_rt = runtime(send_name.clone())?;
    let recv_rt = runtime(recv_name.clone())?;
    let (tx, rx, to) = socket_pair()?;
    let (mut protect, mut unprotect) = srtp_pair()?;
    // The store a call holds (see the module comment); everything else as in a call.
    let mut jitter = JitterBuffer::new(JitterBufferConfig {
        max_packets: 8,
        ..JitterBufferConfig::default()
    })?;
    let received = Arc::new(AtomicUsize::new(0));

    let count = received.clone();
    let receiver = recv_rt.spawn(async move {
        let socket = UdpSocket::from_std(rx)?;
        let mut buf = vec![0u8; 1500];
        // The jitter buffer's clock: a clean call's arrivals, one packet per 20 ms.
        let epoch = Instant::now();
        let mut arrivals = 0u32;
        loop {
            let (n, _from) = socket.recv_from(&mut buf).await?;
            let datagram = &mut buf[..n];
            if kind == Loop::MediaCore {
                if classify(datagram) != DatagramKind::Rtp {
                    break;
                }
                let len = unprotect.unprotect_rtp(datagram)?;
                let packet = RtpPacket::parse(&datagram[..len])?;
                let arrival = epoch + Duration::from_millis(20 * u64::from(arrivals));
                arrivals += 1;
                std::hint::black_box(jitter.insert_rtp(arrival, &packet));
            } else if n == END_MARK.len() {
                break;
            }
            count.fetch_add(1, Ordering::Release);
        }
        BenchResult::Ok(())
    });

    let (go_tx, go_rx) = oneshot::channel();
    let (warm_tx, warm_rx) = oneshot::channel();
    let payload = payload.to_vec();
    let sender = send_rt.spawn(async move {
        let socket = UdpSocket::from_std(tx)?;
        let mut buf = vec![0u8; 1500];
        let mut failures = 0usize;
        let mut schedule = Schedule::new(load, warm_tx, go_rx);
        while let Some(n) = schedule.next().await {
            let len = match kind {
                Loop::MediaCore => {
                    let header = RtpHeader {
                        payload_type: OPUS_PT,
                        sequence_number: n as u16,
                        timestamp: n.wrapping_mul(FRAME_SAMPLES),
                        ssrc: SSRC,
                        ..RtpHeader::default()
                    };
                    write_packet(&header, &payload, 0, &mut buf)
                        .ok()
                        .and_then(|len| protect.protect_rtp(&mut buf, len).ok())
                }
                // The size MediaCore's packet has on the wire: header, payload, GCM tag.
                Loop::SocketsOnly => Some(12 + payload.len() + 16),
            };
            let sent = match len {
                Some(len) => socket.send_to(&buf[..len], to).await.is_ok(),
                None => false,
            };
            failures += usize::from(!sent);
        }
        // The receiver stops on this.
        socket.send_to(&END_MARK, to).await?;
        std::io::Result::Ok(failures)
    });
    finish_run(
        (&send_name, &recv_name),
        load.packets,
        &received,
        warm_rx,
        go_tx,
        || {
            let failures = send_rt.block_on(sender)??;
            if failures > 0 {
                return Err(format!("{tag}: {failures} packets failed to send").into());
            }
            Ok(())
        },
        || {
            recv_rt.block_on(receiver)??;
            Ok(())
        },
    )
}

/// The common end of a run: after the warm-up, read the CPU, start the measured packets,
/// wait for the sender and the arrivals, read the CPU again, then let the receiver end.
fn finish_run(
    (send_name, recv_name): (&str, &str),
    measured: usize,
    received: &AtomicUsize,
    warm: oneshot::Receiver<()>,
    go: oneshot::Sender<()>,
    join_sender: impl FnOnce() -> BenchResult<()>,
    end_receiver: impl FnOnce() -> BenchResult<()>,
) -> BenchResult<Run> {
    warm.blocking_recv()
        .map_err(|_| "the sender ended during the warm-up")?;
    // Let the last warm-up packets land before the first reading.
    std::thread::sleep(Duration::from_millis(20));
    let before_count = received.load(Ordering::Acquire);
    let (send0, recv0) = cpu_pair(send_name, recv_name)?;
    go.send(())
        .map_err(|()| "the sender ended before the measured packets")?;
    // The sender's join returns once its last measured packet is out; the end mark
    // follows, but the receiver's reading is taken before it is handled.
    join_sender()?;
    wait_for_count(received, before_count + measured);
    let (send1, recv1) = cpu_pair(send_name, recv_name)?;
    let got = received.load(Ordering::Acquire) - before_count;
    end_receiver()?;
    Ok(Run {
        send_cpu: send1.saturating_sub(send0),
        receive_cpu: recv1.saturating_sub(recv0),
        sent: measured,
        received: got,
    })
}

/// One paced run of a webrtc-rs peer connection pair.
fn webrtc_run(run: usize, load: Load, payload: &Bytes) -> BenchResult<Run> {
    let (send_name, recv_name) = (format!("wr-send-{run}-"), format!("wr-recv-{run}-"));
    let send_rt = runtime(send_name.clone())?;
    let recv_rt = runtime(recv_name.clone())?;
    // Each peer is built on its runtime, so its driver task runs there.
    let mut offerer = send_rt.block_on(Peer::new())?;
    let mut answerer = recv_rt.block_on(Peer::new())?;
    let track = webrtc_pair::opus_track(SSRC);
    send_rt.block_on(webrtc_pair::add_track(&offerer, &track))?;
    send_rt.block_on(async {
        webrtc_pair::negotiate(&mut offerer, &mut answerer).await?;
        offerer.connected_at(Duration::from_secs(10)).await?;
        answerer.connected_at(Duration::from_secs(10)).await
    })?;

    let received = Arc::new(AtomicUsize::new(0));
    let count = received.clone();
    let mut tracks = answerer.take_tracks();
    let reader = recv_rt.spawn(async move {
        let Some(remote) = tracks.recv().await else {
            return;
        };
        while let Some(event) = remote.poll().await {
            if let TrackRemoteEvent::OnRtpPacket(packet) = event {
                std::hint::black_box(&packet);
                count.fetch_add(1, Ordering::Release);
            }
        }
    });

    let (go_tx, go_rx) = oneshot::channel();
    let (warm_tx, warm_rx) = oneshot::channel();
    let payload = payload.clone();
    let sender_track = track.clone();
    let sender = send_rt.spawn(async move {
        let mut failures = 0usize;
        let mut schedule = Schedule::new(load, warm_tx, go_rx);
        while let Some(n) = schedule.next().await {
            let packet = webrtc_pair::opus_packet(SSRC, n, &payload);
            failures += usize::from(sender_track.write_rtp(packet).await.is_err());
        }
        failures
    });
    let result = finish_run(
        (&send_name, &recv_name),
        load.packets,
        &received,
        warm_rx,
        go_tx,
        || {
            let failures = send_rt.block_on(sender)?;
            if failures > 0 {
                return Err(format!("webrtc-rs: {failures} write_rtp calls failed").into());
            }
            Ok(())
        },
        || {
            reader.abort();
            Ok(())
        },
    );
    send_rt.block_on(offerer.close());
    recv_rt.block_on(answerer.close());
    result
}

/// MediaCore's per-packet work without sockets, on this thread: write, protect, unprotect,
/// parse, insert. Returns ns per packet. A busy loop on one thread, so wall time is its CPU
/// time (the scheduler's per-thread counter is only brought up to date at a context
/// switch, too coarse for a thread that never sleeps).
fn in_memory(packets: usize, payload: &[u8]) -> BenchResult<f64> {
    let (mut protect, mut unprotect) = srtp_pair()?;
    let mut jitter = JitterBuffer::new(JitterBufferConfig {
        max_packets: 8,
        ..JitterBufferConfig::default()
    })?;
    let mut buf = vec![0u8; 1500];
    let epoch = Instant::now();
    let start = Instant::now();
    for n in 0..packets as u32 {
        let header = RtpHeader {
            payload_type: OPUS_PT,
            sequence_number: n as u16,
            timestamp: n.wrapping_mul(FRAME_SAMPLES),
            ssrc: SSRC,
            ..RtpHeader::default()
        };
        let len = write_packet(&header, payload, 0, &mut buf)?;
        let len = protect.protect_rtp(&mut buf, len)?;
        let len = unprotect.unprotect_rtp(&mut buf[..len])?;
        let packet = RtpPacket::parse(&buf[..len])?;
        let arrival = epoch + Duration::from_millis(20 * u64::from(n));
        std::hint::black_box(jitter.insert_rtp(arrival, &packet));
    }
    Ok(start.elapsed().as_nanos() as f64 / packets as f64)
}

/// What a connected MediaCore `Call` costs per second: two calls connected on a named
/// runtime, either **idle** (audio sides kept but not ticked: the task's timers — consent
/// checks, RTCP, looking for capture) or **talking** (each audio side ticked every 10 ms
/// by its own thread, not counted, with voiced speech both ways: the network task's Opus
/// encode, RTP, SRTP, sockets and RTCP). Returns CPU ns per call per second.
fn call_cost(seconds: f64, talking: bool) -> BenchResult<f64> {
    let name = if talking { "mc-talk-" } else { "mc-call-" };
    let rt = runtime(name.to_owned())?;
    let options = |ssrc: u32, cname: &str| {
        let mut o = CallOptions::new(ssrc, cname);
        o.bind = vec![IpAddr::V4(Ipv4Addr::LOCALHOST)];
        o
    };
    let (a, b, audio) = rt.block_on(async {
        let (a, audio_a) = Call::new(options(0x1111_0001, "cost-a")).await?;
        let (b, audio_b) = Call::new(options(0x2222_0002, "cost-b")).await?;
        let offer = a.create_offer().await?;
        let answer = b.accept_offer(&offer).await?;
        a.accept_answer(&answer).await?;
        let deadline = Instant::now() + Duration::from_secs(10);
        for call in [&a, &b] {
            while call.stats().await?.state != TransportState::Connected {
                if Instant::now() > deadline {
                    return Err("MediaCore: the calls did not connect".into());
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        BenchResult::Ok((a, b, [audio_a, audio_b]))
    })?;
    let stop = Arc::new(AtomicBool::new(false));
    let mut talkers = Vec::new();
    let mut idle_sides = Vec::new();
    for (index, mut side) in audio.into_iter().enumerate() {
        if !talking {
            idle_sides.push(side);
            continue;
        }
        let stop = Arc::clone(&stop);
        let voice = speech::voiced(index * 4_800, 48_000);
        talkers.push(std::thread::spawn(move || -> Result<(), String> {
            let mut playout = [0i16; 480];
            let start = Instant::now();
            let mut tick = 0u32;
            while !stop.load(Ordering::Acquire) {
                let due = start + Duration::from_millis(10) * tick;
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                let offset = (tick as usize * 480) % (voice.len() - 480);
                side.process(due, &voice[offset..offset + 480], &mut playout)
                    .map_err(|e| e.to_string())?;
                tick += 1;
            }
            Ok(())
        }));
    }
    // Past the handshake's retransmission timers.
    std::thread::sleep(Duration::from_millis(300));
    let before = measure::cpu_of_threads(name)?;
    std::thread::sleep(Duration::from_secs_f64(seconds));
    let cpu = measure::cpu_of_threads(name)?.saturating_sub(before);
    stop.store(true, Ordering::Release);
    for talker in talkers {
        talker
            .join()
            .map_err(|_| "a talking thread panicked")?
            .map_err(|e| format!("audio side: {e}"))?;
    }
    let sent = rt.block_on(async {
        let sent = a.stats().await?.call.packets_sent;
        let _ = a.hang_up().await;
        let _ = b.hang_up().await;
        BenchResult::Ok(sent)
    })?;
    if talking && sent == 0 {
        return Err("MediaCore: the talking call sent no packet".into());
    }
    drop(idle_sides);
    Ok(cpu.as_nanos() as f64 / seconds / 2.0)
}

/// A second of voiced synthetic speech and an encoder set as a call's (48 kbit/s).
fn voice_and_encoder() -> BenchResult<(Vec<i16>, OpusEncoder)> {
    let encoder = OpusEncoder::new(OpusEncoderConfig {
        bitrate_bps: 48_000,
        ..OpusEncoderConfig::default()
    })?;
    Ok((speech::voiced(0, 48_000), encoder))
}

/// Opus encode of one 20 ms frame of voiced speech (48 kbit/s, the call's default
/// complexity): the part of a talking call's CPU that is the codec's, not the path's.
fn opus_encode_ns(frames: usize) -> BenchResult<f64> {
    let (voice, mut encoder) = voice_and_encoder()?;
    let mut out = [0u8; 1275];
    let len = encoder.frame_len();
    let start = Instant::now();
    for frame in voice.chunks_exact(len).cycle().take(frames) {
        encoder.encode(frame, &mut out)?;
    }
    Ok(start.elapsed().as_nanos() as f64 / frames as f64)
}

/// 20 ms of voiced synthetic speech as a call codes it (48 kbit/s Opus).
fn opus_payload() -> BenchResult<Bytes> {
    let (voice, mut encoder) = voice_and_encoder()?;
    let mut out = [0u8; 1275];
    let mut n = 0;
    // A few frames in, so the encoder is past its start-up.
    for frame in voice.chunks_exact(encoder.frame_len()).take(5) {
        n = encoder.encode(frame, &mut out)?;
    }
    Ok(Bytes::copy_from_slice(&out[..n]))
}

/// Prints one stack's medians over its runs; returns (send, receive, total) ns per packet.
fn describe(label: &str, runs: &[Run]) -> (f64, f64, f64) {
    let med = |f: fn(&Run) -> f64| {
        measure::median(&runs.iter().map(f).collect::<Vec<_>>()).unwrap_or(f64::NAN)
    };
    let (send, receive, total) = (med(Run::send_ns), med(Run::receive_ns), med(Run::total_ns));
    let lost: usize = runs.iter().map(|r| r.sent.saturating_sub(r.received)).sum();
    let sent: usize = runs.iter().map(|r| r.sent).sum();
    println!(
        "  {label:<13} send {:6.2} µs   receive {:6.2} µs   total {:6.2} µs per packet   \
         ({lost} of {sent} packets not received)",
        send / 1e3,
        receive / 1e3,
        total / 1e3,
    );
    (send, receive, total)
}

fn run() -> BenchResult<()> {
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let runs = if bench_mode { RUNS } else { 1 };
    let payload = opus_payload()?;
    println!(
        "Media path over loopback UDP: {}-byte Opus payload, {runs} runs per stack and load, \
         alternating; CPU per packet, medians of the runs:",
        payload.len(),
    );
    let mut ratios = Vec::new();
    for (index, mut load) in LOADS.into_iter().enumerate() {
        if !bench_mode {
            load.packets = 200;
        }
        let (mut ours, mut peers, mut floor) = (Vec::new(), Vec::new(), Vec::new());
        for r in 0..runs {
            let id = index * 100 + r;
            ours.push(socket_run(Loop::MediaCore, id, load, &payload)?);
            peers.push(webrtc_run(id, load, &payload)?);
            floor.push(socket_run(Loop::SocketsOnly, id, load, &payload)?);
        }
        for (label, list) in [("mediacore", &ours), ("webrtc-rs", &peers)] {
            if list.iter().any(|r| r.received == 0) {
                return Err(format!("{label}: no packet arrived in a {} run", load.name).into());
            }
        }
        println!(
            "{}: {} packet(s) every {TICK:?}, {} measured per run",
            load.name, load.per_tick, load.packets
        );
        let ours = describe("mediacore", &ours);
        let peers = describe("webrtc-rs", &peers);
        describe("sockets only", &floor);
        ratios.push((load.name, ours, peers));
    }
    let memory = (0..if bench_mode { 5 } else { 1 })
        .map(|_| in_memory(if bench_mode { IN_MEMORY_PACKETS } else { 1_000 }, &payload))
        .collect::<BenchResult<Vec<f64>>>()?;
    println!(
        "mediacore in memory (write, protect, unprotect, parse, insert; no socket): {:.2} µs \
         per packet",
        measure::median(&memory).unwrap_or(f64::NAN) / 1e3
    );
    let seconds = if bench_mode { 5.0 } else { 0.5 };
    let idle = call_cost(seconds, false)?;
    println!(
        "mediacore Call, connected, no audio: {:.0} µs CPU per call per second \
         ({:.1} µs per 20 ms packet interval)",
        idle / 1e3,
        idle / 1e3 / 50.0
    );
    let talking = call_cost(seconds, true)?;
    let encode = opus_encode_ns(if bench_mode { 2_000 } else { 50 })?;
    println!(
        "mediacore Call, talking both ways: {:.0} µs CPU per call per second ({:.1} µs per \
         20 ms packet sent and received, of which Opus encode {:.1} µs)",
        talking / 1e3,
        talking / 1e3 / 50.0,
        encode / 1e3
    );
    if !bench_mode {
        println!("media_path: packets flowed on both stacks (test mode, no ratios)");
        return Ok(());
    }
    println!();
    for (name, (_, _, ours), (_, _, peers)) in &ratios {
        println!("median media_path/{name}/mediacore: {ours:.0} ns");
        println!("median media_path/{name}/webrtc-rs: {peers:.0} ns");
    }
    println!("Ratios ours/peer of median CPU per packet, send + receive (lower is better):");
    for (name, (send, receive, total), (peer_send, peer_receive, peer_total)) in &ratios {
        // The headline is the paced load: one packet per wake-up, as a call sends.
        if *name == "paced" {
            println!("ratio media_path/webrtc-rs: {:.2}", total / peer_total);
        }
        println!(
            "ratio media_path/{name}/webrtc-rs: {:.2}",
            total / peer_total
        );
        println!(
            "ratio media_path/{name}/send/webrtc-rs: {:.2}",
            send / peer_send
        );
        println!(
            "ratio media_path/{name}/receive/webrtc-rs: {:.2}",
            receive / peer_receive
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("media_path bench: {e}");
            ExitCode::FAILURE
        }
    }
}
