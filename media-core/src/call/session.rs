//! A WebRTC audio call, sans-IO: SDP offer/answer, the ICE/DTLS [`Transport`] and the
//! call's [`NetworkSide`] (Opus, RTP, MediaCore's SRTP keyed from DTLS) joined.
//!
//! The caller moves datagrams between this and its sockets and passes the time in, like
//! every protocol core of MediaCore: [`crate::call::udp`] does so on tokio with real UDP
//! sockets, tests do so on a virtual clock.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::sdp::{
    self, Direction, LocalAudio, LocalDescription, OpusParams, RemoteDescription, SdpError, Setup,
};
use super::{AudioCallConfig, AudioSide, CallError, CallStats, NetworkSide, audio_call};
use crate::net::transport::{
    DtlsRole, IceServerAddr, Incoming, RemoteParameters, SelectedPair, Transport, TransportConfig,
    TransportCounters, TransportError, TransportEvent, TransportState,
};

/// Why a session operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// The description was refused.
    #[error(transparent)]
    Sdp(#[from] SdpError),
    /// The transport refused an operation.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The media path refused an operation or a packet.
    #[error(transparent)]
    Call(#[from] CallError),
    /// Offer/answer out of order (e.g. an answer with no offer out).
    #[error("signaling: {0}")]
    Signaling(&'static str),
}

/// What a session reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEvent {
    /// The call's connection state changed.
    State(TransportState),
    /// ICE selected a pair (addresses and candidate types).
    SelectedPair(SelectedPair),
    /// Why the call failed (before `State(Failed)`).
    Failure(String),
    /// A local candidate gathered after the description was made (`candidate:…`), to
    /// trickle to the peer.
    LocalCandidate(String),
    /// A STUN/TURN server gave no candidate: its URL and why.
    CandidateError {
        /// The server's URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// No more local candidates will come.
    GatheringComplete,
}

/// A datagram the session wants sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outgoing {
    /// Local address to send from.
    pub local: SocketAddr,
    /// Destination.
    pub remote: SocketAddr,
    /// Bytes written at the start of the caller's buffer.
    pub len: usize,
}

/// Statistics of a session.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionStats {
    /// Connection state.
    pub state: TransportState,
    /// The selected pair, when there is one.
    pub selected_pair: Option<SelectedPair>,
    /// The media path's statistics.
    pub call: CallStats,
    /// What the transport dropped.
    pub transport: TransportCounters,
    /// Media datagrams the call refused (malformed, unauthenticated, wrong payload type).
    pub media_rejected: u64,
    /// Capture frames dropped before SRTP had keys.
    pub unkeyed_frames: u64,
    /// Time from the first offer/answer step to `Connected`.
    pub setup_time: Option<Duration>,
}

/// Settings of a session.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// The media path (its `srtp` is ignored: DTLS provides the keys).
    pub audio: AudioCallConfig,
    /// Transport timers.
    pub transport: TransportConfig,
}

impl SessionConfig {
    /// WebRTC's usual audio settings with the given SSRC and CNAME.
    pub fn new(ssrc: u32, cname: &str) -> Self {
        Self {
            audio: AudioCallConfig::keyed_later(ssrc, cname),
            transport: TransportConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signaling {
    Stable,
    HaveLocalOffer,
    Done,
    /// An ICE-restart re-offer is out.
    RestartOffered,
}

/// One WebRTC audio call.
pub struct Session {
    transport: Transport,
    network: NetworkSide,
    config: SessionConfig,
    candidates: Vec<String>,
    signaling: Signaling,
    local: Option<LocalDescription>,
    session_id: u64,
    selected: Option<SelectedPair>,
    media_rejected: u64,
    started_at: Option<Instant>,
    connected_after: Option<Duration>,
    events: std::collections::VecDeque<SessionEvent>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("transport", &self.transport)
            .field("signaling", &self.signaling)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A session and the audio side its audio thread runs; `unix_time` anchors RTCP's
    /// NTP timestamps.
    pub fn new(
        now: Instant,
        unix_time: Duration,
        config: SessionConfig,
    ) -> Result<(Self, AudioSide), SessionError> {
        let mut audio_config = config.audio.clone();
        audio_config.srtp = None;
        let (audio, network) = audio_call(audio_config, now, unix_time)?;
        let transport = Transport::new(now, config.transport)?;
        let session_id =
            u64::from(config.audio.ssrc) << 16 | u64::from(unix_time.subsec_nanos() & 0xffff);
        Ok((
            Self {
                transport,
                network,
                config,
                candidates: Vec::new(),
                signaling: Signaling::Stable,
                local: None,
                session_id,
                selected: None,
                media_rejected: 0,
                started_at: None,
                connected_after: None,
                events: std::collections::VecDeque::new(),
            },
            audio,
        ))
    }

    /// Adds a host candidate for a bound socket; returns its `candidate:…` line (to
    /// trickle, or found in the next description), `None` under the relay-only policy.
    pub fn add_host_candidate(&mut self, addr: SocketAddr) -> Result<Option<String>, SessionError> {
        let line = self.transport.add_host_candidate(addr)?;
        if let Some(line) = &line {
            self.candidates.push(line.clone());
        }
        Ok(line)
    }

    /// Gathers through a STUN/TURN server from the socket at `local`; the candidates come
    /// as [`SessionEvent::LocalCandidate`].
    pub fn add_ice_server(
        &mut self,
        now: Instant,
        local: SocketAddr,
        server: IceServerAddr,
    ) -> Result<(), SessionError> {
        self.transport.add_ice_server(now, local, server)?;
        self.pump(now);
        Ok(())
    }

    /// Reports a server that could not be reached (see [`Transport::server_unreachable`]).
    pub fn server_unreachable(&mut self, now: Instant, url: &str, reason: String) {
        self.transport.server_unreachable(url, reason);
        self.pump(now);
    }

    /// Says every host candidate and server has been added (see
    /// [`Transport::seal_gathering`]).
    pub fn seal_gathering(&mut self, now: Instant) {
        self.transport.seal_gathering();
        self.pump(now);
    }

    /// Whether every local candidate has been gathered (descriptions made from now on
    /// carry them all and `a=end-of-candidates`).
    pub fn gathering_complete(&self) -> bool {
        self.transport.gathering_complete()
    }

    /// Adds a remote candidate (trickled, `candidate:…` with or without `a=`).
    pub fn add_remote_candidate(&mut self, line: &str) -> Result<(), SessionError> {
        Ok(self.transport.add_remote_candidate(line)?)
    }

    fn local_description(
        &self,
        setup: Setup,
        opus: OpusParams,
        direction: Direction,
    ) -> LocalDescription {
        let (ufrag, pwd) = self.transport.local_credentials();
        LocalDescription {
            ice_ufrag: ufrag.to_owned(),
            ice_pwd: pwd.to_owned(),
            fingerprint: self.transport.fingerprint().clone(),
            setup,
            candidates: self.candidates.clone(),
            end_of_candidates: self.transport.gathering_complete(),
            audio: LocalAudio {
                mid: "0".to_owned(),
                opus,
                ssrc: self.config.audio.ssrc,
                cname: self.config.audio.cname.clone(),
                direction,
                extensions: sdp::offered_extensions(),
            },
            rejected: Vec::new(),
            session_id: self.session_id,
            session_version: 1,
        }
    }

    fn our_opus(&self, payload_type: u8) -> OpusParams {
        let encoder = &self.config.audio.encoder;
        OpusParams {
            payload_type,
            fec: true,
            dtx: encoder.dtx,
            stereo: self.config.audio.jitter.channels == 2,
        }
    }

    /// Creates the offer (this side is ICE-controlling and DTLS `actpass`).
    pub fn create_offer(&mut self, now: Instant) -> Result<String, SessionError> {
        if self.signaling == Signaling::Done {
            return Err(SessionError::Signaling(
                "the call is negotiated: re-offer with restart_ice",
            ));
        }
        let opus = self.our_opus(self.config.audio.payload_type);
        let local = self.local_description(Setup::ActPass, opus, Direction::SendRecv);
        let text = local.to_sdp(0);
        self.local = Some(local);
        self.signaling = Signaling::HaveLocalOffer;
        self.started_at.get_or_insert(now);
        Ok(text)
    }

    /// Re-offers with fresh ICE credentials (an ICE restart, RFC 8445 §9) to recover a call
    /// whose path broke (e.g. after a network change); the DTLS association and SRTP keys
    /// carry on. The peer's answer goes to [`accept_answer`](Self::accept_answer).
    pub fn restart_ice(&mut self, now: Instant) -> Result<String, SessionError> {
        let Some(local) = self.local.as_ref() else {
            return Err(SessionError::Signaling(
                "ICE restart before any negotiation",
            ));
        };
        if self.signaling != Signaling::Done {
            return Err(SessionError::Signaling(
                "ICE restart while an offer is outstanding",
            ));
        }
        let mut local = local.clone();
        self.transport.restart_ice(now)?;
        let (ufrag, pwd) = self.transport.local_credentials();
        local.ice_ufrag = ufrag.to_owned();
        local.ice_pwd = pwd.to_owned();
        local.candidates = self.candidates.clone();
        local.end_of_candidates = self.transport.gathering_complete();
        // The offerer's setup is actpass again; the DTLS roles already agreed do not change.
        local.setup = Setup::ActPass;
        local.session_version += 1;
        let text = local.to_sdp(0);
        self.local = Some(local);
        self.signaling = Signaling::RestartOffered;
        Ok(text)
    }

    /// Takes a remote re-offer on a negotiated call: an ICE restart (new credentials) is
    /// followed; the answer repeats this side's parameters.
    fn accept_reoffer(&mut self, now: Instant, offer: &str) -> Result<String, SessionError> {
        let remote = sdp::parse(offer)?;
        let Some(mut local) = self.local.clone() else {
            return Err(SessionError::Signaling("re-offer before any negotiation"));
        };
        if self.transport.remote_ufrag() != Some(remote.ice_ufrag.as_str()) {
            self.transport.restart_ice(now)?;
            for line in &remote.candidates {
                if let Err(e) = self.transport.add_remote_candidate(line) {
                    log::debug!("remote candidate skipped: {e}");
                }
            }
            self.transport.resume_ice(
                now,
                remote.ice_ufrag.clone(),
                remote.ice_pwd.clone(),
                remote.ice_lite,
            )?;
            let (ufrag, pwd) = self.transport.local_credentials();
            local.ice_ufrag = ufrag.to_owned();
            local.ice_pwd = pwd.to_owned();
        }
        local.candidates = self.candidates.clone();
        local.end_of_candidates = self.transport.gathering_complete();
        local.session_version += 1;
        let text = local.to_sdp(remote.audio_index);
        self.local = Some(local);
        self.pump(now);
        Ok(text)
    }

    /// Takes a remote offer and returns the answer (this side is ICE-controlled unless the
    /// offerer is ICE lite, and the DTLS client).
    pub fn accept_offer(&mut self, now: Instant, offer: &str) -> Result<String, SessionError> {
        if self.signaling == Signaling::Done {
            return self.accept_reoffer(now, offer);
        }
        if self.signaling != Signaling::Stable {
            return Err(SessionError::Signaling(
                "an offer arrived while one is out or done",
            ));
        }
        let remote = sdp::parse(offer)?;
        let setup = match remote.setup {
            // RFC 5763 §5: the answerer of an actpass offer should take the active role.
            Setup::ActPass | Setup::Passive => Setup::Active,
            Setup::Active => Setup::Passive,
        };
        let opus = OpusParams {
            payload_type: remote.opus.payload_type,
            ..self.our_opus(remote.opus.payload_type)
        };
        let mut local = self.local_description(setup, opus, remote.direction.answer());
        local.audio.mid = remote.audio_mid.clone();
        // Header extensions: the offered ids of those MediaCore supports.
        local.audio.extensions = remote.extensions.clone();
        local.rejected = remote.others.clone();
        let text = local.to_sdp(remote.audio_index);
        self.started_at.get_or_insert(now);
        self.apply_remote(now, &remote, setup, !remote.ice_lite)?;
        self.local = Some(local);
        self.signaling = Signaling::Done;
        Ok(text)
    }

    /// Takes the answer to this side's offer.
    pub fn accept_answer(&mut self, now: Instant, answer: &str) -> Result<(), SessionError> {
        if self.signaling == Signaling::RestartOffered {
            let remote = sdp::parse(answer)?;
            for line in &remote.candidates {
                if let Err(e) = self.transport.add_remote_candidate(line) {
                    log::debug!("remote candidate skipped: {e}");
                }
            }
            self.transport
                .resume_ice(now, remote.ice_ufrag, remote.ice_pwd, true)?;
            self.signaling = Signaling::Done;
            self.pump(now);
            return Ok(());
        }
        if self.signaling != Signaling::HaveLocalOffer {
            return Err(SessionError::Signaling(
                "an answer arrived with no offer out",
            ));
        }
        let remote = sdp::parse(answer)?;
        let Some(local) = self.local.as_ref() else {
            return Err(SessionError::Signaling(
                "an answer arrived with no offer out",
            ));
        };
        if remote.audio_mid != local.audio.mid {
            return Err(SdpError::Mismatch(format!(
                "audio mid {:?}, offered {:?}",
                remote.audio_mid, local.audio.mid
            ))
            .into());
        }
        if remote.opus.payload_type != local.audio.opus.payload_type {
            return Err(SdpError::Mismatch(format!(
                "opus payload type {}, offered {}",
                remote.opus.payload_type, local.audio.opus.payload_type
            ))
            .into());
        }
        let setup = match remote.setup {
            Setup::Active => Setup::Passive,
            Setup::Passive => Setup::Active,
            Setup::ActPass => {
                return Err(SdpError::BadSetup("actpass".to_owned()).into());
            }
        };
        self.apply_remote(now, &remote, setup, true)?;
        self.signaling = Signaling::Done;
        Ok(())
    }

    fn apply_remote(
        &mut self,
        now: Instant,
        remote: &RemoteDescription,
        our_setup: Setup,
        controlling_if_offerer: bool,
    ) -> Result<(), SessionError> {
        let offerer = self.signaling == Signaling::HaveLocalOffer;
        let ice_controlling = if offerer {
            controlling_if_offerer
        } else {
            // The answerer controls only against an ICE-lite offerer.
            remote.ice_lite
        };
        self.network.set_payload_type(remote.opus.payload_type);
        for line in &remote.candidates {
            // A candidate MediaCore cannot use (mDNS, TCP) is skipped, not fatal.
            if let Err(e) = self.transport.add_remote_candidate(line) {
                log::debug!("remote candidate skipped: {e}");
            }
        }
        self.transport.start(
            now,
            RemoteParameters {
                ice_ufrag: remote.ice_ufrag.clone(),
                ice_pwd: remote.ice_pwd.clone(),
                fingerprint: remote.fingerprint.clone(),
                dtls_role: if our_setup == Setup::Active {
                    DtlsRole::Client
                } else {
                    DtlsRole::Server
                },
                ice_controlling,
            },
        )?;
        self.pump(now);
        Ok(())
    }

    /// Takes a datagram received on `local` from `remote`. Errors are the reason a
    /// datagram was dropped (it has been counted).
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        datagram: &mut [u8],
    ) -> Result<(), SessionError> {
        let incoming = self.transport.handle_datagram(now, local, remote, datagram);
        self.pump(now);
        match incoming? {
            Incoming::Consumed => Ok(()),
            Incoming::Media { len, .. } => match self.network.receive(now, &mut datagram[..len]) {
                Ok(_) => Ok(()),
                Err(e) => {
                    self.media_rejected += 1;
                    Err(e.into())
                }
            },
        }
    }

    /// Writes the next datagram to send into `out` (at least 1500 bytes): ICE and DTLS
    /// first, then media once connected.
    pub fn poll_transmit(&mut self, now: Instant, out: &mut [u8]) -> Option<Outgoing> {
        if let Some(t) = self.transport.poll_transmit() {
            let len = t.payload.len().min(out.len());
            out[..len].copy_from_slice(&t.payload[..len]);
            return Some(Outgoing {
                local: t.local,
                remote: t.remote,
                len,
            });
        }
        let connected = self.transport.state() == TransportState::Connected;
        let route = self.transport.media_route();
        match self.network.poll_transmit(now, out) {
            Ok(Some(len)) if connected => {
                let (local, remote) = route?;
                if !self.transport.is_relayed(local) {
                    return Some(Outgoing { local, remote, len });
                }
                // Through the TURN server: wrapped, then out of the transport's queue.
                self.transport.send_relayed(local, remote, &out[..len]);
                let t = self.transport.poll_transmit()?;
                let len = t.payload.len().min(out.len());
                out[..len].copy_from_slice(&t.payload[..len]);
                Some(Outgoing {
                    local: t.local,
                    remote: t.remote,
                    len,
                })
            }
            Ok(_) => None,
            Err(e) => {
                log::debug!("media transmit failed: {e}");
                None
            }
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) is due next: a transport timer, an
    /// RTCP report, or the next whole frame of capture (also drained before the call
    /// connects, so the audio side never finds its ring full).
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        let transport = self.transport.poll_timeout();
        let media = self.network.next_deadline();
        Some(transport.map_or(media, |t| t.min(media)))
    }

    /// Runs the timers due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.transport.handle_timeout(now);
        self.pump(now);
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<SessionEvent> {
        self.events.pop_front()
    }

    /// The connection state.
    pub fn state(&self) -> TransportState {
        self.transport.state()
    }

    /// A statistics snapshot.
    pub fn stats(&mut self) -> SessionStats {
        SessionStats {
            state: self.transport.state(),
            selected_pair: self.selected.clone(),
            call: self.network.stats(),
            transport: self.transport.counters(),
            media_rejected: self.media_rejected,
            unkeyed_frames: self.network.unkeyed_frames(),
            setup_time: self.connected_after,
        }
    }

    /// Hangs up: DTLS close_notify to the peer, ICE stops.
    pub fn close(&mut self, now: Instant) {
        self.transport.close(now);
        self.pump(now);
    }

    fn pump(&mut self, now: Instant) {
        while let Some(event) = self.transport.poll_event() {
            match event {
                TransportEvent::Keys(keys) => {
                    if let Err(e) = self.network.set_srtp_keys(&keys) {
                        self.events.push_back(SessionEvent::Failure(format!(
                            "SRTP refused the DTLS keys: {e}"
                        )));
                    }
                }
                TransportEvent::State(state) => {
                    if state == TransportState::Connected && self.connected_after.is_none() {
                        self.connected_after =
                            self.started_at.map(|t| now.saturating_duration_since(t));
                    }
                    self.events.push_back(SessionEvent::State(state));
                }
                TransportEvent::SelectedPair(pair) => {
                    self.selected = Some(pair.clone());
                    self.events.push_back(SessionEvent::SelectedPair(pair));
                }
                TransportEvent::Failure(reason) => {
                    self.events.push_back(SessionEvent::Failure(reason));
                }
                TransportEvent::LocalCandidate(line) => {
                    self.candidates.push(line.clone());
                    self.events.push_back(SessionEvent::LocalCandidate(line));
                }
                TransportEvent::CandidateError { url, reason } => {
                    self.events
                        .push_back(SessionEvent::CandidateError { url, reason });
                }
                TransportEvent::GatheringComplete => {
                    self.events.push_back(SessionEvent::GatheringComplete);
                }
            }
        }
    }
}
