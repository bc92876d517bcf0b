//! The WebRTC transport of a call, sans-IO: ICE connectivity checks and consent (RFC 8445,
//! RFC 7675), then DTLS (RFC 6347) whose exported keys (RFC 5764) feed MediaCore's SRTP, all
//! on one 5-tuple with RTP and RTCP (RFC 7983 demultiplexing, RFC 5761 mux, BUNDLE).
//!
//! The ICE agent and DTLS endpoint are the sans-IO state machines of webrtc-rs (`rtc-ice`,
//! `rtc-dtls`); [`Transport`] joins them. It opens no socket and reads no clock: the caller
//! hands it datagrams with their addresses and the time, sends what
//! [`poll_transmit`](Transport::poll_transmit) gives, and calls
//! [`handle_timeout`](Transport::handle_timeout) at [`poll_timeout`](Transport::poll_timeout).
//! RTP and RTCP are not touched here: [`handle_datagram`](Transport::handle_datagram) says
//! when a datagram is media from the peer, and [`media_route`](Transport::media_route) where
//! media goes.

pub mod demux;
pub mod dtls;
pub mod gather;

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use rtc_crypto::RTCCryptoProvider;
use rtc_dtls::config::HandshakeConfig;
use rtc_dtls::endpoint::{Endpoint, EndpointEvent};
use rtc_ice::agent::Agent;
use rtc_ice::agent::agent_config::AgentConfig;
use rtc_ice::candidate::candidate_host::CandidateHostConfig;
use rtc_ice::candidate::candidate_relay::CandidateRelayConfig;
use rtc_ice::candidate::candidate_server_reflexive::CandidateServerReflexiveConfig;
use rtc_ice::candidate::{Candidate, CandidateConfig, unmarshal_candidate};
use rtc_ice::mdns::MulticastDnsMode;
use rtc_ice::state::ConnectionState as IceState;
use rtc_shared::{TransportContext, TransportMessage, TransportProtocol};
use sansio::Protocol;
use thiserror::Error;

use crate::call::SrtpKeys;
pub use demux::{DatagramKind, classify};
pub use dtls::{DtlsIdentity, DtlsRole, Fingerprint};
use gather::{GatherEvent, Gatherer};
pub use gather::{IceServerAddr, ServerKind, tcp_frame_len};

/// The address the DTLS endpoint knows its peer by. DTLS runs over the ICE transport, not a
/// fixed 5-tuple: when ICE moves to another pair (or restarts) the association carries on,
/// so DTLS's datagrams are addressed here and routed over the selected pair.
const DTLS_PEER: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 9);

/// Why the transport refused something.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TransportError {
    /// The ICE agent refused a call or a STUN message.
    #[error("ICE: {0}")]
    Ice(String),
    /// DTLS failed or refused a record.
    #[error("DTLS: {0}")]
    Dtls(String),
    /// A candidate line could not be parsed.
    #[error("bad ICE candidate {candidate:?}: {reason}")]
    BadCandidate {
        /// The candidate as given.
        candidate: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An `a=fingerprint` value could not be parsed.
    #[error("bad certificate fingerprint {0:?}")]
    BadFingerprint(String),
    /// A fingerprint uses a hash MediaCore does not accept.
    #[error("unsupported fingerprint hash {0:?} (sha-256, sha-384 and sha-512 are)")]
    UnsupportedFingerprint(String),
    /// The DTLS handshake agreed on no SRTP profile MediaCore implements.
    #[error("DTLS negotiated no SRTP protection profile MediaCore implements")]
    NoSrtpProfile,
    /// A datagram arrived from an address ICE has not validated.
    #[error("datagram from {0}, which has not passed an ICE check")]
    UnvalidatedSource(SocketAddr),
    /// A datagram is neither STUN, DTLS, RTP nor RTCP.
    #[error("unrecognised datagram (first byte {0:#04x})")]
    UnknownDatagram(u8),
    /// The operation needs the remote description first.
    #[error("the transport has not been started with the remote parameters")]
    NotStarted,
    /// The transport is closed.
    #[error("the transport is closed")]
    Closed,
    /// A STUN/TURN server could not be used or sent something its client refused.
    #[error("ICE server {url}: {reason}")]
    Server {
        /// The server's URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
}

/// The state of the whole transport, as `RTCPeerConnectionState` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportState {
    /// Not started: no remote parameters yet.
    New,
    /// ICE checks or the DTLS handshake are under way.
    Connecting,
    /// ICE has a pair and DTLS has finished: media flows.
    Connected,
    /// Consent checks are failing; the call may recover.
    Disconnected,
    /// ICE or DTLS failed; the call is over unless ICE restarts.
    Failed,
    /// Closed locally or by the peer.
    Closed,
}

/// What the transport reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportEvent {
    /// The transport's state changed.
    State(TransportState),
    /// ICE selected a candidate pair; media goes there.
    SelectedPair(SelectedPair),
    /// DTLS finished: the SRTP keys of both directions.
    Keys(SrtpKeys),
    /// Why the transport failed, once, before `State(Failed)`.
    Failure(String),
    /// A local candidate (`candidate:…`) gathered after the start, to trickle.
    LocalCandidate(String),
    /// A STUN or TURN server gave no candidate (as `RTCPeerConnectionIceErrorEvent`).
    CandidateError {
        /// The server's URL.
        url: String,
        /// What went wrong (e.g. the server's 401 for a wrong TURN password).
        reason: String,
    },
    /// Every server has answered or failed: no more local candidates will come.
    GatheringComplete,
}

/// The candidate pair ICE selected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectedPair {
    /// The local candidate's base address.
    pub local: SocketAddr,
    /// The remote candidate's address.
    pub remote: SocketAddr,
    /// The local candidate's type (`host`, `srflx`, `relay`, `prflx`).
    pub local_type: String,
    /// The remote candidate's type.
    pub remote_type: String,
}

/// A datagram to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The local address to send from.
    pub local: SocketAddr,
    /// Where to.
    pub remote: SocketAddr,
    /// The bytes.
    pub payload: BytesMut,
}

/// What [`Transport::handle_datagram`] made of a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Incoming {
    /// STUN, TURN or DTLS, taken by the transport.
    Consumed,
    /// RTP or RTCP from the validated peer, for the call's media path: the first `len`
    /// bytes of the datagram buffer (a relayed packet is moved there, unwrapped).
    Media {
        /// RTP or RTCP.
        kind: DatagramKind,
        /// Length of the media packet at the start of the buffer.
        len: usize,
    },
}

/// Timers of the transport; the defaults are RFC 7675's consent rules and WebRTC's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransportConfig {
    /// Time without an answer to consent checks before `Disconnected`.
    pub disconnected_timeout: Duration,
    /// Further time before `Failed`: consent expires 30 s after the last answer
    /// (RFC 7675 §5.1).
    pub failed_timeout: Duration,
    /// Interval of consent checks (RFC 7675 asks for a randomised 4–6 s at most).
    pub keepalive_interval: Duration,
    /// Time from ICE connecting to DTLS finishing before the transport gives up.
    pub dtls_timeout: Duration,
    /// Offer only relayed candidates (`iceTransportPolicy: "relay"`): host addresses and
    /// server-reflexive ones stay private.
    pub relay_only: bool,
}

impl Default for TransportConfig {
    fn default() -> Self {
        Self {
            disconnected_timeout: Duration::from_secs(5),
            failed_timeout: Duration::from_secs(25),
            keepalive_interval: Duration::from_secs(2),
            dtls_timeout: Duration::from_secs(10),
            relay_only: false,
        }
    }
}

/// What the remote description says about the transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteParameters {
    /// The remote ICE username fragment.
    pub ice_ufrag: String,
    /// The remote ICE password.
    pub ice_pwd: String,
    /// The remote certificate's fingerprint.
    pub fingerprint: Fingerprint,
    /// This side's DTLS role (from the `a=setup` exchange).
    pub dtls_role: DtlsRole,
    /// Whether this side's ICE agent is controlling (the offerer's is).
    pub ice_controlling: bool,
}

/// Counters of what the transport dropped, for statistics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TransportCounters {
    /// STUN messages the ICE agent refused (malformed, bad integrity, unknown).
    pub stun_rejected: u64,
    /// DTLS records that failed (garbage, bad MAC, out of place).
    pub dtls_rejected: u64,
    /// Datagrams from addresses ICE had not validated.
    pub unvalidated: u64,
    /// Datagrams of no known kind.
    pub unknown: u64,
    /// Datagrams from a STUN/TURN server that its client refused.
    pub server_rejected: u64,
}

/// ICE and DTLS of one call, joined.
pub struct Transport {
    config: TransportConfig,
    crypto: Arc<dyn RTCCryptoProvider>,
    identity: DtlsIdentity,
    ice: Agent,
    dtls: Option<Endpoint>,
    /// The client's handshake configuration until the handshake starts.
    dtls_client: Option<Arc<HandshakeConfig>>,
    /// Set by the certificate check when the peer's certificate is not the signalled one.
    fingerprint_failure: Arc<Mutex<Option<String>>>,
    started: bool,
    ice_state: IceState,
    dtls_done: bool,
    dtls_deadline: Option<Instant>,
    state: TransportState,
    route: Option<(SocketAddr, SocketAddr)>,
    events: VecDeque<TransportEvent>,
    transmits: VecDeque<Transmit>,
    counters: TransportCounters,
    gatherers: Vec<Gatherer>,
    /// Set once the caller has added every host candidate and server.
    gathering_sealed: bool,
    gathering_reported: bool,
    /// Reasons servers gave no candidate (for the relay-only failure message).
    candidate_errors: Vec<String>,
    /// The latest time passed in: TURN wrapping on the transmit path needs one.
    clock: Instant,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("state", &self.state)
            .field("route", &self.route)
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// A transport with fresh ICE credentials and a fresh DTLS certificate.
    pub fn new(now: Instant, config: TransportConfig) -> Result<Self, TransportError> {
        let crypto =
            rtc_crypto::default_provider().map_err(|e| TransportError::Dtls(e.to_string()))?;
        let identity = DtlsIdentity::generate(&crypto)?;
        let agent_config = AgentConfig {
            multicast_dns_mode: MulticastDnsMode::Disabled,
            disconnected_timeout: Some(config.disconnected_timeout),
            failed_timeout: Some(config.failed_timeout),
            keepalive_interval: Some(config.keepalive_interval),
            // The controlling agent waits this long before nominating a relayed pair, in case
            // a direct one answers (2 s by default). Relay-only has nothing better to wait for.
            relay_acceptance_min_wait: config.relay_only.then_some(Duration::ZERO),
            ..AgentConfig::default()
        };
        let ice = Agent::new(now, Arc::new(agent_config), crypto.clone()).map_err(ice_error)?;
        Ok(Self {
            config,
            crypto,
            identity,
            ice,
            dtls: None,
            dtls_client: None,
            fingerprint_failure: Arc::new(Mutex::new(None)),
            started: false,
            ice_state: IceState::New,
            dtls_done: false,
            dtls_deadline: None,
            state: TransportState::New,
            route: None,
            events: VecDeque::new(),
            transmits: VecDeque::new(),
            counters: TransportCounters::default(),
            gatherers: Vec::new(),
            gathering_sealed: false,
            gathering_reported: false,
            candidate_errors: Vec::new(),
            clock: now,
        })
    }

    /// This side's ICE username fragment and password, for the SDP.
    pub fn local_credentials(&self) -> (&str, &str) {
        let c = self.ice.get_local_credentials();
        (&c.ufrag, &c.pwd)
    }

    /// This side's certificate fingerprint, for the SDP.
    pub fn fingerprint(&self) -> &Fingerprint {
        self.identity.fingerprint()
    }

    /// The transport's state.
    pub fn state(&self) -> TransportState {
        self.state
    }

    /// What the transport has dropped so far.
    pub fn counters(&self) -> TransportCounters {
        self.counters
    }

    /// Adds a host candidate for a bound UDP socket and returns its SDP form
    /// (`candidate:…`, without `a=`); `None` under the relay-only policy, which keeps host
    /// addresses out of ICE (the socket still reaches the TURN server).
    pub fn add_host_candidate(
        &mut self,
        addr: SocketAddr,
    ) -> Result<Option<String>, TransportError> {
        if self.config.relay_only {
            return Ok(None);
        }
        let candidate = CandidateHostConfig {
            base_config: CandidateConfig {
                network: "udp".to_owned(),
                address: addr.ip().to_string(),
                port: addr.port(),
                component: 1,
                ..CandidateConfig::default()
            },
            ..CandidateHostConfig::default()
        }
        .new_candidate_host()
        .map_err(ice_error)?;
        self.add_local(candidate).map(Some)
    }

    fn add_local(&mut self, candidate: Candidate) -> Result<String, TransportError> {
        let line = format!("candidate:{}", candidate.marshal());
        self.ice.add_local_candidate(candidate).map_err(ice_error)?;
        Ok(line)
    }

    /// Starts gathering through a STUN or TURN server from the socket bound at `local`
    /// (one of the host addresses). Candidates arrive as [`TransportEvent::LocalCandidate`];
    /// a server that gives none reports [`TransportEvent::CandidateError`].
    pub fn add_ice_server(
        &mut self,
        now: Instant,
        local: SocketAddr,
        server: IceServerAddr,
    ) -> Result<(), TransportError> {
        if self.config.relay_only && server.kind == ServerKind::Stun {
            return Ok(());
        }
        self.clock = now;
        let url = server.url.clone();
        let gatherer = Gatherer::start(
            now,
            local,
            server,
            self.config.relay_only,
            self.crypto.clone(),
        )
        .map_err(|reason| TransportError::Server { url, reason })?;
        self.gatherers.push(gatherer);
        Ok(())
    }

    /// Reports a server that could not be used at all (e.g. its TCP connection was refused):
    /// a [`TransportEvent::CandidateError`], and a reason for the relay-only failure.
    pub fn server_unreachable(&mut self, url: &str, reason: String) {
        self.candidate_errors.push(format!("{url}: {reason}"));
        self.events.push_back(TransportEvent::CandidateError {
            url: url.to_owned(),
            reason,
        });
    }

    /// Says every host candidate and server has been added: once the servers have answered,
    /// [`TransportEvent::GatheringComplete`] follows. Under the relay-only policy with no
    /// relayed candidate by then, the transport fails with the servers' reasons.
    pub fn seal_gathering(&mut self) {
        self.gathering_sealed = true;
        self.check_gathering();
    }

    /// Whether gathering is complete.
    pub fn gathering_complete(&self) -> bool {
        self.gathering_reported
    }

    fn check_gathering(&mut self) {
        if self.gathering_reported
            || !self.gathering_sealed
            || !self.gatherers.iter().all(Gatherer::finished)
        {
            return;
        }
        self.gathering_reported = true;
        self.events.push_back(TransportEvent::GatheringComplete);
        if self.config.relay_only && !self.gatherers.iter().any(|g| g.relayed().is_some()) {
            let why = if self.candidate_errors.is_empty() {
                "no TURN server is configured".to_owned()
            } else {
                self.candidate_errors.join("; ")
            };
            self.fail(format!("relay-only policy and no relayed candidate: {why}"));
        }
    }

    fn on_gather_events(&mut self, now: Instant, url: &str, events: Vec<GatherEvent>) {
        for event in events {
            match event {
                GatherEvent::ServerReflexive { base, mapped } => {
                    // Equal to its base (no NAT between us and the server): redundant
                    // (RFC 8445 §5.1.3).
                    if mapped == base {
                        continue;
                    }
                    let candidate = CandidateServerReflexiveConfig {
                        base_config: CandidateConfig {
                            network: "udp".to_owned(),
                            address: mapped.ip().to_string(),
                            port: mapped.port(),
                            component: 1,
                            ..CandidateConfig::default()
                        },
                        rel_addr: base.ip().to_string(),
                        rel_port: base.port(),
                        url: Some(url.to_owned()),
                    }
                    .new_candidate_server_reflexive();
                    self.add_gathered(candidate);
                }
                GatherEvent::Relayed { base, relayed } => {
                    let candidate = CandidateRelayConfig {
                        base_config: CandidateConfig {
                            network: "udp".to_owned(),
                            address: relayed.ip().to_string(),
                            port: relayed.port(),
                            component: 1,
                            ..CandidateConfig::default()
                        },
                        rel_addr: base.ip().to_string(),
                        rel_port: base.port(),
                        url: Some(url.to_owned()),
                    }
                    .new_candidate_relay();
                    self.add_gathered(candidate);
                    // Peers already known get their permissions now, before ICE checks.
                    let peers: Vec<SocketAddr> = self
                        .ice
                        .get_remote_candidates()
                        .iter()
                        .map(Candidate::addr)
                        .collect();
                    for gatherer in self.gatherers.iter_mut() {
                        if gatherer.relayed() == Some(relayed) {
                            for peer in &peers {
                                gatherer.permit(now, *peer);
                            }
                        }
                    }
                }
                GatherEvent::Failed(reason) => {
                    self.candidate_errors.push(format!("{url}: {reason}"));
                    self.events.push_back(TransportEvent::CandidateError {
                        url: url.to_owned(),
                        reason,
                    });
                }
                GatherEvent::Data { .. } => {}
            }
        }
    }

    fn add_gathered(&mut self, candidate: Result<Candidate, rtc_shared::error::Error>) {
        match candidate.map_err(ice_error).and_then(|c| self.add_local(c)) {
            Ok(line) => self.events.push_back(TransportEvent::LocalCandidate(line)),
            Err(e) => log::debug!("gathered candidate refused: {e}"),
        }
    }

    /// Adds a remote candidate from its SDP or trickle form (`candidate:…`, with or
    /// without `a=`). mDNS (`.local`) candidates are refused: MediaCore does not resolve them.
    pub fn add_remote_candidate(&mut self, line: &str) -> Result<(), TransportError> {
        let bad = |reason: String| TransportError::BadCandidate {
            candidate: line.to_owned(),
            reason,
        };
        let text = line.trim();
        let text = text.strip_prefix("a=").unwrap_or(text);
        let text = text.strip_prefix("candidate:").unwrap_or(text);
        let candidate = unmarshal_candidate(text).map_err(|e| bad(e.to_string()))?;
        if candidate.address().ends_with(".local") {
            return Err(bad("mDNS candidates are not resolved".to_owned()));
        }
        if candidate.component() != 1 {
            // RTCP is muxed (RFC 5761): component 2 candidates have no use.
            return Ok(());
        }
        let peer = candidate.addr();
        self.ice
            .add_remote_candidate(candidate)
            .map_err(|e| bad(e.to_string()))?;
        let now = self.clock;
        for gatherer in self.gatherers.iter_mut() {
            gatherer.permit(now, peer);
        }
        Ok(())
    }

    /// Starts ICE checks (and, on the DTLS server, readiness for the ClientHello) with the
    /// remote description's parameters.
    pub fn start(&mut self, now: Instant, remote: RemoteParameters) -> Result<(), TransportError> {
        if self.state == TransportState::Closed {
            return Err(TransportError::Closed);
        }
        let config = Arc::new(self.identity.handshake_config(
            &self.crypto,
            remote.dtls_role,
            remote.fingerprint.clone(),
            self.fingerprint_failure.clone(),
        )?);
        let local = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);
        match remote.dtls_role {
            DtlsRole::Client => {
                self.dtls = Some(Endpoint::new(local, TransportProtocol::UDP, None));
                self.dtls_client = Some(config);
            }
            DtlsRole::Server => {
                self.dtls = Some(Endpoint::new(local, TransportProtocol::UDP, Some(config)));
            }
        }
        self.ice
            .start_connectivity_checks(
                now,
                remote.ice_controlling,
                remote.ice_ufrag,
                remote.ice_pwd,
            )
            .map_err(ice_error)?;
        self.started = true;
        self.pump(now);
        Ok(())
    }

    /// Begins an ICE restart (RFC 8445 §9): fresh local credentials, the remote's candidates
    /// and every pair dropped, local candidates kept. Media keeps its route until ICE selects
    /// a new pair; DTLS and SRTP carry on. Follow with [`resume_ice`](Self::resume_ice) once
    /// the remote's new credentials and candidates are known.
    pub fn restart_ice(&mut self, now: Instant) -> Result<(), TransportError> {
        if self.state == TransportState::Closed {
            return Err(TransportError::Closed);
        }
        if !self.started {
            return Err(TransportError::NotStarted);
        }
        self.clock = now;
        self.ice
            .restart(now, String::new(), String::new(), true)
            .map_err(ice_error)?;
        // A call that failed for want of a path can come back; a failed handshake cannot.
        if self.state == TransportState::Failed && self.dtls_done {
            self.set_state(TransportState::Connecting);
        }
        Ok(())
    }

    /// Starts checks again after [`restart_ice`](Self::restart_ice) with the remote's new
    /// credentials (its candidates are added with
    /// [`add_remote_candidate`](Self::add_remote_candidate) first).
    pub fn resume_ice(
        &mut self,
        now: Instant,
        ice_ufrag: String,
        ice_pwd: String,
        ice_controlling: bool,
    ) -> Result<(), TransportError> {
        self.clock = now;
        self.ice
            .start_connectivity_checks(now, ice_controlling, ice_ufrag, ice_pwd)
            .map_err(ice_error)?;
        self.pump(now);
        Ok(())
    }

    /// The remote ICE username fragment in use.
    pub fn remote_ufrag(&self) -> Option<&str> {
        self.ice.get_remote_credentials().map(|c| c.ufrag.as_str())
    }

    /// Takes one datagram received on `local` from `remote`. STUN, TURN and DTLS are
    /// consumed; RTP and RTCP from a validated peer come back as [`Incoming::Media`] for the
    /// call. Anything else is counted and refused with the reason.
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        datagram: &mut [u8],
    ) -> Result<Incoming, TransportError> {
        if self.state == TransportState::Closed {
            return Err(TransportError::Closed);
        }
        self.clock = now;
        if let Some(index) = self.gatherers.iter().position(|g| g.owns(local, remote)) {
            return self.handle_from_server(now, index, datagram);
        }
        self.handle_peer_datagram(now, local, remote, datagram)
    }

    /// A datagram from a STUN/TURN server: responses, or a peer's packet relayed.
    fn handle_from_server(
        &mut self,
        now: Instant,
        index: usize,
        datagram: &mut [u8],
    ) -> Result<Incoming, TransportError> {
        let mut events = Vec::new();
        let gatherer = &mut self.gatherers[index];
        let url = gatherer.url().to_owned();
        let handled = gatherer.handle_datagram(now, datagram, &mut events);
        let mut relayed = None;
        events.retain_mut(|e| match e {
            GatherEvent::Data {
                relayed: local,
                peer,
                payload,
            } => {
                relayed = Some((*local, *peer, std::mem::take(payload)));
                false
            }
            _ => true,
        });
        self.on_gather_events(now, &url, events);
        self.check_gathering();
        if let Err(reason) = handled {
            self.counters.server_rejected += 1;
            self.pump(now);
            return Err(TransportError::Server { url, reason });
        }
        match relayed {
            Some((local, peer, payload)) => {
                // The unwrapped packet is shorter than its TURN framing: it fits in place.
                let len = payload.len().min(datagram.len());
                datagram[..len].copy_from_slice(&payload[..len]);
                self.handle_peer_datagram(now, local, peer, &mut datagram[..len])
            }
            None => {
                self.pump(now);
                Ok(Incoming::Consumed)
            }
        }
    }

    fn handle_peer_datagram(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        datagram: &mut [u8],
    ) -> Result<Incoming, TransportError> {
        let kind = classify(datagram);
        let context = TransportContext {
            local_addr: local,
            peer_addr: remote,
            transport_protocol: TransportProtocol::UDP,
            ecn: None,
        };
        let result = match kind {
            DatagramKind::Stun => {
                let result = self.ice.handle_read(TransportMessage {
                    now,
                    transport: context,
                    message: BytesMut::from(&*datagram),
                });
                if let Err(e) = result {
                    self.counters.stun_rejected += 1;
                    self.pump(now);
                    return Err(ice_error(e));
                }
                Ok(Incoming::Consumed)
            }
            DatagramKind::Dtls | DatagramKind::Rtp | DatagramKind::Rtcp => {
                if !self.ice.is_valid_non_stun_traffic(now, context) {
                    self.counters.unvalidated += 1;
                    return Err(TransportError::UnvalidatedSource(remote));
                }
                if kind == DatagramKind::Dtls {
                    self.read_dtls(now, datagram).map(|()| Incoming::Consumed)
                } else {
                    Ok(Incoming::Media {
                        kind,
                        len: datagram.len(),
                    })
                }
            }
            DatagramKind::TurnChannel | DatagramKind::Unknown => {
                self.counters.unknown += 1;
                Err(TransportError::UnknownDatagram(
                    datagram.first().copied().unwrap_or(0),
                ))
            }
        };
        self.pump(now);
        result
    }

    fn read_dtls(&mut self, now: Instant, datagram: &[u8]) -> Result<(), TransportError> {
        let Some(dtls) = self.dtls.as_mut() else {
            self.counters.dtls_rejected += 1;
            return Err(TransportError::NotStarted);
        };
        let events = match dtls.read(now, DTLS_PEER, None, BytesMut::from(datagram)) {
            Ok(events) => events,
            Err(e) => {
                self.counters.dtls_rejected += 1;
                let mismatch = self
                    .fingerprint_failure
                    .lock()
                    .ok()
                    .and_then(|mut f| f.take());
                if let Some(reason) = mismatch {
                    self.fail(reason);
                }
                return Err(TransportError::Dtls(e.to_string()));
            }
        };
        for event in events {
            match event {
                EndpointEvent::HandshakeComplete => self.on_handshake_complete(),
                EndpointEvent::PeerClosed => self.set_state(TransportState::Closed),
                // No data channels: application data has no reader.
                _ => {}
            }
        }
        Ok(())
    }

    fn on_handshake_complete(&mut self) {
        let keys = self
            .dtls
            .as_ref()
            .and_then(|d| d.get_connection_state(DTLS_PEER))
            .map(dtls::srtp_keys);
        match keys {
            Some(Ok(keys)) => {
                self.dtls_done = true;
                self.dtls_deadline = None;
                self.events.push_back(TransportEvent::Keys(keys));
                self.update_state();
            }
            Some(Err(e)) => self.fail(e.to_string()),
            None => self.fail("DTLS finished without a connection state".to_owned()),
        }
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        if self.transmits.is_empty() {
            self.queue_pending();
        }
        self.transmits.pop_front()
    }

    /// Moves what ICE, DTLS and the STUN/TURN clients have to send into the transmit queue;
    /// what leaves from a relayed address goes through its TURN server.
    fn queue_pending(&mut self) {
        while let Some(t) = self.ice.poll_write() {
            self.queue(t.transport.local_addr, t.transport.peer_addr, t.message);
        }
        while let Some(t) = self.dtls.as_mut().and_then(|d| d.poll_transmit()) {
            // Sent over the selected pair; before there is one DTLS retransmits later.
            if let Some((local, remote)) = self.route {
                self.queue(local, remote, t.message);
            }
        }
        for gatherer in self.gatherers.iter_mut() {
            while let Some((local, remote, payload)) = gatherer.poll_transmit() {
                self.transmits.push_back(Transmit {
                    local,
                    remote,
                    payload,
                });
            }
        }
    }

    fn queue(&mut self, local: SocketAddr, remote: SocketAddr, payload: BytesMut) {
        match self
            .gatherers
            .iter_mut()
            .find(|g| g.relayed() == Some(local))
        {
            Some(gatherer) => gatherer.send(self.clock, remote, &payload),
            None => self.transmits.push_back(Transmit {
                local,
                remote,
                payload,
            }),
        }
    }

    /// Whether `local` (a media route's local side) is a relayed address: media from it
    /// must go through [`send_relayed`](Self::send_relayed).
    pub fn is_relayed(&self, local: SocketAddr) -> bool {
        self.gatherers.iter().any(|g| g.relayed() == Some(local))
    }

    /// Sends a media packet from a relayed address: it comes out of
    /// [`poll_transmit`](Self::poll_transmit) wrapped for the TURN server.
    pub fn send_relayed(&mut self, local: SocketAddr, remote: SocketAddr, packet: &[u8]) {
        let now = self.clock;
        if let Some(gatherer) = self
            .gatherers
            .iter_mut()
            .find(|g| g.relayed() == Some(local))
        {
            gatherer.send(now, remote, packet);
        }
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<TransportEvent> {
        self.events.pop_front()
    }

    /// Where media goes: the selected pair's local base address and remote address.
    pub fn media_route(&self) -> Option<(SocketAddr, SocketAddr)> {
        self.route
    }

    /// When [`handle_timeout`](Self::handle_timeout) is next due.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        if matches!(self.state, TransportState::Closed | TransportState::Failed) {
            return None;
        }
        let ice = self.ice.poll_timeout();
        let dtls = self.dtls.as_ref().and_then(|d| d.poll_timeout(&DTLS_PEER));
        let servers = self
            .gatherers
            .iter_mut()
            .filter_map(Gatherer::poll_timeout)
            .min();
        [ice, dtls, self.dtls_deadline, servers]
            .into_iter()
            .flatten()
            .min()
    }

    /// Runs the timers due at `now`: ICE checks and consent, DTLS retransmission.
    pub fn handle_timeout(&mut self, now: Instant) {
        if matches!(self.state, TransportState::Closed | TransportState::Failed) {
            return;
        }
        self.clock = now;
        for index in 0..self.gatherers.len() {
            let mut events = Vec::new();
            self.gatherers[index].handle_timeout(now, &mut events);
            let url = self.gatherers[index].url().to_owned();
            self.on_gather_events(now, &url, events);
        }
        self.check_gathering();
        if let Err(e) = self.ice.handle_timeout(now) {
            log::debug!("ICE timeout handling: {e}");
        }
        if let Some(dtls) = self.dtls.as_mut()
            && dtls.get_connection_state(DTLS_PEER).is_some()
            && let Err(e) = dtls.handle_timeout(DTLS_PEER, now)
        {
            self.fail(format!("DTLS: {e}"));
        }
        if let Some(deadline) = self.dtls_deadline
            && now >= deadline
            && !self.dtls_done
        {
            self.fail(format!(
                "DTLS handshake did not finish within {} ms of ICE connecting",
                self.config.dtls_timeout.as_millis()
            ));
        }
        self.pump(now);
    }

    /// Closes the transport: a DTLS close_notify to the peer, then ICE stops.
    pub fn close(&mut self, now: Instant) {
        if self.state == TransportState::Closed {
            return;
        }
        if let Some(dtls) = self.dtls.as_mut() {
            let _ = dtls.close(now);
        }
        // Queue the close_notify over the current route before ICE forgets the pair, then
        // release the allocations.
        self.clock = now;
        self.queue_pending();
        for gatherer in self.gatherers.iter_mut() {
            gatherer.close(now);
        }
        self.queue_pending();
        let _ = self.ice.close();
        self.route = None;
        self.set_state(TransportState::Closed);
    }

    /// Takes the ICE agent's events into the transport's state.
    fn pump(&mut self, now: Instant) {
        while let Some(tagged) = self.ice.poll_event() {
            match tagged.event {
                rtc_ice::Event::ConnectionStateChange(state) => {
                    self.ice_state = state;
                    if matches!(state, IceState::Connected | IceState::Completed)
                        && !self.dtls_done
                        && self.dtls_deadline.is_none()
                    {
                        self.dtls_deadline = Some(now + self.config.dtls_timeout);
                    }
                    if state == IceState::Failed {
                        self.events.push_back(TransportEvent::Failure(
                            "ICE failed: no candidate pair answers".to_owned(),
                        ));
                    }
                    self.update_state();
                }
                rtc_ice::Event::SelectedCandidatePairChange(local, remote) => {
                    self.route = Some((local.base_addr(), remote.addr()));
                    self.events
                        .push_back(TransportEvent::SelectedPair(SelectedPair {
                            local: local.base_addr(),
                            remote: remote.addr(),
                            local_type: local.candidate_type().to_string(),
                            remote_type: remote.candidate_type().to_string(),
                        }));
                    self.start_dtls_client(now);
                }
                _ => {}
            }
        }
    }

    fn start_dtls_client(&mut self, now: Instant) {
        let (Some(dtls), Some(config)) = (self.dtls.as_mut(), self.dtls_client.take()) else {
            return;
        };
        if let Err(e) = dtls.connect(now, DTLS_PEER, config, None) {
            self.fail(format!("DTLS: {e}"));
        }
    }

    fn fail(&mut self, reason: String) {
        if matches!(self.state, TransportState::Failed | TransportState::Closed) {
            return;
        }
        self.events.push_back(TransportEvent::Failure(reason));
        self.set_state(TransportState::Failed);
    }

    fn update_state(&mut self) {
        if matches!(self.state, TransportState::Failed | TransportState::Closed) {
            return;
        }
        let state = match self.ice_state {
            IceState::Failed => TransportState::Failed,
            IceState::Closed => TransportState::Closed,
            IceState::Disconnected => TransportState::Disconnected,
            IceState::Connected | IceState::Completed if self.dtls_done => {
                TransportState::Connected
            }
            _ if self.started => TransportState::Connecting,
            _ => TransportState::New,
        };
        self.set_state(state);
    }

    fn set_state(&mut self, state: TransportState) {
        if state != self.state {
            self.state = state;
            self.events.push_back(TransportEvent::State(state));
        }
    }
}

fn ice_error(e: rtc_shared::error::Error) -> TransportError {
    TransportError::Ice(e.to_string())
}
