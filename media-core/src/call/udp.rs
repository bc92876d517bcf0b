//! A WebRTC audio call over real UDP sockets: a [`Session`] driven by one tokio task.
//!
//! [`Call`] is the handle: offer/answer, trickled candidates, events, statistics, hang-up.
//! Each operation is a message to the call's task, which alone owns the session — no lock
//! is shared with the media path. The [`AudioSide`] returned beside the handle belongs to
//! the application's audio thread (or a device callback) and talks to the task through
//! lock-free rings only.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use std::task::Poll;

use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadBuf};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpSocket, UdpSocket};
use tokio::sync::{mpsc, oneshot};
use tokio::time::sleep_until;

use rtc_ice::url::{ProtoType, SchemeType, Url};
use tokio::sync::watch;

use super::AudioSide;
use super::session::{Session, SessionConfig, SessionError, SessionEvent, SessionStats};
use crate::net::transport::{IceServerAddr, ServerKind, tcp_frame_len};

/// How long a TCP connection to a TURN server may take.
const TCP_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A frame read from a TURN server over TCP: (local, server, bytes).
type TcpFrame = (SocketAddr, SocketAddr, Vec<u8>);

/// A STUN or TURN server for ICE (`stun:host:port`, `turn:host:port?transport=udp`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceServer {
    /// Server URLs.
    pub urls: Vec<String>,
    /// TURN username.
    pub username: String,
    /// TURN credential.
    pub credential: String,
}

/// Options of a call.
#[derive(Debug, Clone)]
pub struct CallOptions {
    /// Local addresses to gather host candidates on, one UDP socket each (port chosen by the
    /// system). Empty: every up interface's unicast address, loopback excluded unless it is
    /// all there is.
    pub bind: Vec<IpAddr>,
    /// STUN/TURN servers.
    pub ice_servers: Vec<IceServer>,
    /// Use relayed candidates only (`iceTransportPolicy: "relay"`): host and
    /// server-reflexive addresses are never offered. Sets the session's
    /// `transport.relay_only`.
    pub relay_only: bool,
    /// Media and transport settings.
    pub session: SessionConfig,
}

impl CallOptions {
    /// Default options for a call sending with `ssrc` and `cname`.
    pub fn new(ssrc: u32, cname: &str) -> Self {
        Self {
            bind: Vec::new(),
            ice_servers: Vec::new(),
            relay_only: false,
            session: SessionConfig::new(ssrc, cname),
        }
    }
}

/// Why a call operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UdpCallError {
    /// The session refused it.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// A socket could not be bound or used.
    #[error("socket: {0}")]
    Io(String),
    /// An option MediaCore does not support yet.
    #[error("unsupported call option: {0}")]
    Unsupported(&'static str),
    /// An ICE server entry is malformed or its host does not resolve.
    #[error("ICE server {url:?}: {reason}")]
    BadIceServer {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The call's task has ended (hung up or failed).
    #[error("the call has ended")]
    Ended,
}

/// What a call reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallEvent {
    /// A local candidate (`candidate:…`) to trickle to the peer.
    LocalCandidate(String),
    /// Gathering finished: every local candidate has been reported.
    GatheringComplete,
    /// A session event: state change, selected pair, failure reason.
    Session(SessionEvent),
}

enum Command {
    CreateOffer(oneshot::Sender<Result<String, SessionError>>),
    AcceptOffer(String, oneshot::Sender<Result<String, SessionError>>),
    AcceptAnswer(String, oneshot::Sender<Result<(), SessionError>>),
    AddCandidate(String, oneshot::Sender<Result<(), SessionError>>),
    Stats(oneshot::Sender<SessionStats>),
    RestartIce(oneshot::Sender<Result<String, SessionError>>),
    HangUp(oneshot::Sender<()>),
}

/// A call over UDP. Dropping it hangs up.
#[derive(Debug)]
pub struct Call {
    commands: mpsc::UnboundedSender<Command>,
    // Behind a lock so the handle can be shared (`&self` everywhere); only event readers
    // take it, never the media path.
    events: tokio::sync::Mutex<mpsc::UnboundedReceiver<CallEvent>>,
    gathered: watch::Receiver<bool>,
    local_addrs: Vec<SocketAddr>,
}

impl Call {
    /// Binds the sockets, gathers host candidates and starts the call's task on the current
    /// tokio runtime. Returns the handle and the audio side for the audio thread.
    pub async fn new(options: CallOptions) -> Result<(Self, AudioSide), UdpCallError> {
        let servers = resolve_ice_servers(&options.ice_servers).await?;
        if options.relay_only && !servers.iter().any(|s| s.kind != ServerKind::Stun) {
            return Err(UdpCallError::BadIceServer {
                url: String::new(),
                reason: "the relay-only policy needs a TURN server".to_owned(),
            });
        }
        let unix_time = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let now = Instant::now();
        let mut config = options.session.clone();
        config.transport.relay_only |= options.relay_only;
        let (mut session, mut audio) = Session::new(now, unix_time, config)?;
        let capture_wake = capture_wake_pair(&mut audio)?;
        let addrs = if options.bind.is_empty() {
            host_addresses()
        } else {
            options.bind.clone()
        };
        let mut sockets = Vec::new();
        let mut tcp_writers = Vec::new();
        let (tcp_tx, tcp_rx) = mpsc::unbounded_channel();
        let (events_tx, events) = mpsc::unbounded_channel();
        for ip in addrs {
            let socket = UdpSocket::bind(SocketAddr::new(ip, 0))
                .await
                .map_err(|e| UdpCallError::Io(format!("bind {ip}: {e}")))?;
            let local = socket
                .local_addr()
                .map_err(|e| UdpCallError::Io(e.to_string()))?;
            if let Some(line) = session.add_host_candidate(local)? {
                let _ = events_tx.send(CallEvent::LocalCandidate(line));
            }
            for server in &servers {
                // Only servers of the socket's address family can answer it.
                if server.addr.is_ipv4() != local.is_ipv4() {
                    continue;
                }
                if !server.tcp {
                    session.add_ice_server(now, local, server.clone())?;
                    continue;
                }
                match connect_tcp(ip, server.addr).await {
                    Ok((tcp_local, reader, writer)) => {
                        tokio::spawn(read_tcp_frames(
                            reader,
                            tcp_local,
                            server.addr,
                            tcp_tx.clone(),
                        ));
                        tcp_writers.push((tcp_local, writer));
                        session.add_ice_server(now, tcp_local, server.clone())?;
                    }
                    Err(reason) => session.server_unreachable(now, &server.url, reason),
                }
            }
            sockets.push(Arc::new(socket));
        }
        session.seal_gathering(now);
        let local_addrs = sockets.iter().filter_map(|s| s.local_addr().ok()).collect();
        let (commands, commands_rx) = mpsc::unbounded_channel();
        let (gathered_tx, gathered) = watch::channel(false);
        let io = Io {
            sockets,
            tcp_writers,
            tcp_frames: tcp_rx,
            capture_wake,
        };
        tokio::spawn(run(session, io, commands_rx, events_tx, gathered_tx));
        Ok((
            Self {
                commands,
                events: tokio::sync::Mutex::new(events),
                gathered,
                local_addrs,
            },
            audio,
        ))
    }

    /// Waits until every local candidate has been gathered (servers answered or failed), so
    /// that the next offer or answer carries them all — for peers that do not trickle.
    /// Returns at once when there are no STUN/TURN servers.
    pub async fn wait_gathering_complete(&self) -> Result<(), UdpCallError> {
        let mut gathered = self.gathered.clone();
        gathered
            .wait_for(|done| *done)
            .await
            .map(|_| ())
            .map_err(|_| UdpCallError::Ended)
    }

    /// Re-offers with fresh ICE credentials (an ICE restart) to recover a call whose path
    /// broke; the peer's answer goes to [`accept_answer`](Self::accept_answer).
    pub async fn restart_ice(&self) -> Result<String, UdpCallError> {
        Ok(self.ask(Command::RestartIce).await??)
    }

    /// The local socket addresses (one per host candidate).
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.local_addrs
    }

    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, UdpCallError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(make(tx))
            .map_err(|_| UdpCallError::Ended)?;
        rx.await.map_err(|_| UdpCallError::Ended)
    }

    /// Creates the offer.
    pub async fn create_offer(&self) -> Result<String, UdpCallError> {
        Ok(self.ask(Command::CreateOffer).await??)
    }

    /// Takes a remote offer; returns the answer.
    pub async fn accept_offer(&self, offer: &str) -> Result<String, UdpCallError> {
        let offer = offer.to_owned();
        Ok(self.ask(|tx| Command::AcceptOffer(offer, tx)).await??)
    }

    /// Takes the answer to this side's offer.
    pub async fn accept_answer(&self, answer: &str) -> Result<(), UdpCallError> {
        let answer = answer.to_owned();
        Ok(self.ask(|tx| Command::AcceptAnswer(answer, tx)).await??)
    }

    /// Adds a trickled remote candidate.
    pub async fn add_remote_candidate(&self, line: &str) -> Result<(), UdpCallError> {
        let line = line.to_owned();
        Ok(self.ask(|tx| Command::AddCandidate(line, tx)).await??)
    }

    /// A statistics snapshot.
    pub async fn stats(&self) -> Result<SessionStats, UdpCallError> {
        self.ask(Command::Stats).await
    }

    /// Waits for the next event; `None` once the call's task has ended and every event has
    /// been read.
    pub async fn next_event(&self) -> Option<CallEvent> {
        self.events.lock().await.recv().await
    }

    /// The next event if one is waiting (and no other reader holds the events).
    pub fn try_event(&self) -> Option<CallEvent> {
        self.events.try_lock().ok()?.try_recv().ok()
    }

    /// Hangs up (DTLS close_notify to the peer) and ends the call's task.
    pub async fn hang_up(&self) -> Result<(), UdpCallError> {
        self.ask(Command::HangUp).await
    }
}

/// Parses and resolves the ICE server URLs (`stun:`, `turn:` over UDP).
async fn resolve_ice_servers(servers: &[IceServer]) -> Result<Vec<IceServerAddr>, UdpCallError> {
    let mut resolved = Vec::new();
    for server in servers {
        for raw in &server.urls {
            let bad = |reason: String| UdpCallError::BadIceServer {
                url: raw.clone(),
                reason,
            };
            let url = Url::parse_url(raw).map_err(|e| bad(e.to_string()))?;
            let kind = match (url.scheme, url.proto) {
                (SchemeType::Stun, _) => ServerKind::Stun,
                (SchemeType::Turn, ProtoType::Udp | ProtoType::Tcp) => {
                    if server.username.is_empty() {
                        return Err(bad("a TURN server needs a username and credential".into()));
                    }
                    ServerKind::Turn {
                        username: server.username.clone(),
                        password: server.credential.clone(),
                    }
                }
                (SchemeType::Turn, _) => {
                    return Err(bad("TURN transport must be udp or tcp".to_owned()));
                }
                _ => return Err(bad("stuns:/turns: (TLS) are not implemented yet".to_owned())),
            };
            let tcp = url.proto == ProtoType::Tcp && url.scheme == SchemeType::Turn;
            let addr = tokio::net::lookup_host((url.host.as_str(), url.port))
                .await
                .map_err(|e| bad(format!("cannot resolve {}: {e}", url.host)))?
                .next()
                .ok_or_else(|| bad(format!("{} has no address", url.host)))?;
            resolved.push(IceServerAddr {
                url: raw.clone(),
                addr,
                kind,
                tcp,
            });
        }
    }
    Ok(resolved)
}

/// Unicast addresses of the machine's interfaces, loopback only if nothing else.
fn host_addresses() -> Vec<IpAddr> {
    let mut found: Vec<IpAddr> = rtc_shared::ifaces::ifaces()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|i| i.addr.map(|a| a.ip()))
        .filter(|ip| !ip.is_unspecified() && !ip.is_multicast())
        .filter(|ip| match ip {
            IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) != 0xfe80,
            IpAddr::V4(_) => true,
        })
        .collect();
    found.sort();
    found.dedup();
    let non_loopback: Vec<IpAddr> = found
        .iter()
        .copied()
        .filter(|ip| !ip.is_loopback())
        .collect();
    if non_loopback.is_empty() {
        vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]
    } else {
        non_loopback
    }
}

/// Connects to a TURN server over TCP from `ip`; returns the connection's local address and
/// its halves.
async fn connect_tcp(
    ip: IpAddr,
    server: SocketAddr,
) -> Result<(SocketAddr, OwnedReadHalf, OwnedWriteHalf), String> {
    let socket = if ip.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(|e| format!("TCP socket: {e}"))?;
    socket
        .bind(SocketAddr::new(ip, 0))
        .map_err(|e| format!("bind {ip}: {e}"))?;
    let stream = tokio::time::timeout(TCP_CONNECT_TIMEOUT, socket.connect(server))
        .await
        .map_err(|_| format!("TCP connection to {server} timed out"))?
        .map_err(|e| format!("TCP connection to {server}: {e}"))?;
    // Checks, DTLS and media are small and latency-bound.
    let _ = stream.set_nodelay(true);
    let local = stream
        .local_addr()
        .map_err(|e| format!("TCP local address: {e}"))?;
    let (reader, writer) = stream.into_split();
    Ok((local, reader, writer))
}

/// Splits a TURN-over-TCP stream into STUN messages and ChannelData frames for the call's
/// task. Ends at EOF, on a read error or on bytes that are neither (the server is broken).
async fn read_tcp_frames(
    mut reader: OwnedReadHalf,
    local: SocketAddr,
    server: SocketAddr,
    frames: mpsc::UnboundedSender<TcpFrame>,
) {
    let mut stream = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        match reader.read(&mut chunk).await {
            Ok(0) => return,
            Ok(n) => stream.extend_from_slice(&chunk[..n]),
            Err(e) => {
                log::debug!("TURN connection to {server}: {e}");
                return;
            }
        }
        loop {
            match tcp_frame_len(&stream) {
                Ok(Some(len)) if stream.len() >= len => {
                    let frame: Vec<u8> = stream.drain(..len).collect();
                    if frames.send((local, server, frame)).is_err() {
                        return;
                    }
                }
                Ok(_) => break,
                Err(e) => {
                    log::debug!("TURN connection to {server}: {e}");
                    return;
                }
            }
        }
    }
}

/// The call's sockets: UDP for ICE and media, TCP connections to TURN servers, and the
/// socket the audio side wakes the task through when capture resumes.
struct Io {
    sockets: Vec<Arc<UdpSocket>>,
    tcp_writers: Vec<(SocketAddr, OwnedWriteHalf)>,
    tcp_frames: mpsc::UnboundedReceiver<TcpFrame>,
    capture_wake: Option<CaptureWake>,
}

#[cfg(unix)]
type CaptureWake = tokio::net::UnixDatagram;
#[cfg(not(unix))]
type CaptureWake = std::convert::Infallible;

/// A socket pair: one end to the audio side, which writes a byte when it pushes capture
/// after the task parked (see `call::capture_clock`); the task reads the other.
#[cfg(unix)]
fn capture_wake_pair(audio: &mut AudioSide) -> Result<Option<CaptureWake>, UdpCallError> {
    let io = |e: std::io::Error| UdpCallError::Io(format!("capture wake-up socket: {e}"));
    let (task_end, audio_end) = tokio::net::UnixDatagram::pair().map_err(io)?;
    // Non-blocking (tokio leaves it so): the audio thread never waits on it.
    audio.set_capture_waker(audio_end.into_std().map_err(io)?);
    Ok(Some(task_end))
}

/// Without Unix sockets a parked task polls (see `call::capture_clock`).
#[cfg(not(unix))]
fn capture_wake_pair(_: &mut AudioSide) -> Result<Option<CaptureWake>, UdpCallError> {
    Ok(None)
}

/// Resolves when the audio side has woken the task: true, or false when its end is gone
/// (the audio side was dropped: stop listening). Never resolves without a socket.
async fn capture_woken(wake: &Option<CaptureWake>) -> bool {
    #[cfg(unix)]
    if let Some(socket) = wake {
        let mut byte = [0u8; 16];
        // Wake-ups are one byte: an empty read is the closed end.
        if !matches!(socket.recv(&mut byte).await, Ok(n) if n > 0) {
            return false;
        }
        // Several wake-ups may have queued: one pass of the loop serves them all.
        while socket.try_recv(&mut byte).is_ok_and(|n| n > 0) {}
        return true;
    }
    #[cfg(not(unix))]
    let _ = wake;
    std::future::pending().await
}

async fn run(
    mut session: Session,
    mut io: Io,
    mut commands: mpsc::UnboundedReceiver<Command>,
    events: mpsc::UnboundedSender<CallEvent>,
    gathered: watch::Sender<bool>,
) {
    // Received datagrams land in this one buffer: no allocation per packet.
    let mut inbound = vec![0u8; 2048];
    let mut out = vec![0u8; 1500];
    let mut hang_up: Option<oneshot::Sender<()>> = None;
    loop {
        let now = Instant::now();
        flush(&mut session, &mut io, &mut out, now).await;
        while let Some(event) = session.poll_event() {
            let event = match event {
                SessionEvent::LocalCandidate(line) => CallEvent::LocalCandidate(line),
                SessionEvent::GatheringComplete => CallEvent::GatheringComplete,
                other => CallEvent::Session(other),
            };
            let _ = events.send(event);
        }
        if session.gathering_complete() && !*gathered.borrow() {
            let _ = gathered.send(true);
        }
        if let Some(done) = hang_up.take() {
            let _ = done.send(());
            break;
        }
        let deadline = session
            .poll_timeout()
            .unwrap_or(now + Duration::from_secs(1));
        tokio::select! {
            command = commands.recv() => {
                let now = Instant::now();
                match command {
                    Some(Command::CreateOffer(tx)) => { let _ = tx.send(session.create_offer(now)); }
                    Some(Command::AcceptOffer(sdp, tx)) => { let _ = tx.send(session.accept_offer(now, &sdp)); }
                    Some(Command::AcceptAnswer(sdp, tx)) => { let _ = tx.send(session.accept_answer(now, &sdp)); }
                    Some(Command::AddCandidate(line, tx)) => { let _ = tx.send(session.add_remote_candidate(&line)); }
                    Some(Command::Stats(tx)) => { let _ = tx.send(session.stats()); }
                    Some(Command::RestartIce(tx)) => { let _ = tx.send(session.restart_ice(now)); }
                    Some(Command::HangUp(tx)) => {
                        session.close(now);
                        hang_up = Some(tx);
                    }
                    None => {
                        // The handle was dropped: hang up.
                        session.close(now);
                        flush(&mut session, &mut io, &mut out, now).await;
                        break;
                    }
                }
            }
            Some((local, from, mut frame)) = io.tcp_frames.recv() => {
                if let Err(e) = session.handle_datagram(Instant::now(), local, from, &mut frame) {
                    log::debug!("frame from {from} over TCP dropped: {e}");
                }
            }
            received = recv_any(&io.sockets, &mut inbound) => {
                match received {
                    Ok((local, from, n)) => {
                        // Refused datagrams are counted by the session; the reason is logged.
                        let datagram = &mut inbound[..n];
                        if let Err(e) = session.handle_datagram(Instant::now(), local, from, datagram) {
                            log::debug!("datagram from {from} dropped: {e}");
                        }
                    }
                    // ICMP port unreachable and the like: the next read goes on.
                    Err(e) => log::debug!("receive: {e}"),
                }
            }
            alive = capture_woken(&io.capture_wake) => {
                if !alive {
                    io.capture_wake = None;
                }
            }
            () = sleep_until(deadline.into()) => {
                session.handle_timeout(Instant::now());
            }
        }
    }
}

/// Receives one datagram from whichever socket has one: (local, from, length).
async fn recv_any(
    sockets: &[Arc<UdpSocket>],
    buf: &mut [u8],
) -> std::io::Result<(SocketAddr, SocketAddr, usize)> {
    std::future::poll_fn(|cx| {
        for socket in sockets {
            let mut read = ReadBuf::new(buf);
            if let Poll::Ready(result) = socket.poll_recv_from(cx, &mut read) {
                let n = read.filled().len();
                let local = socket.local_addr()?;
                return Poll::Ready(result.map(|from| (local, from, n)));
            }
        }
        Poll::Pending
    })
    .await
}

async fn flush(session: &mut Session, io: &mut Io, out: &mut [u8], now: Instant) {
    while let Some(t) = session.poll_transmit(now, out) {
        if let Some((_, writer)) = io.tcp_writers.iter_mut().find(|(l, _)| *l == t.local) {
            if let Err(e) = writer.write_all(&out[..t.len]).await {
                log::debug!("TURN connection to {}: {e}", t.remote);
            }
            continue;
        }
        let socket = io
            .sockets
            .iter()
            .find(|s| s.local_addr().is_ok_and(|a| a == t.local))
            .or_else(|| io.sockets.first());
        if let Some(socket) = socket
            && let Err(e) = socket.send_to(&out[..t.len], t.remote).await
        {
            log::debug!("send to {}: {e}", t.remote);
        }
    }
}
