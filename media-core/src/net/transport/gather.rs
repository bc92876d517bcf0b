//! Server-reflexive and relayed candidates (RFC 8445 §5.1.1): a STUN Binding or a TURN
//! allocation (RFC 8656) made from one local socket to one server, sans-IO.
//!
//! Each [`Gatherer`] wraps webrtc-rs's `rtc-turn` client for one (socket, server) pair. For a
//! TURN server it also carries the relayed traffic afterwards: what ICE, DTLS and media send
//! from the relayed address is wrapped for the server (Send indication, then ChannelData once
//! a channel is bound), and what the server forwards is unwrapped for the transport.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::BytesMut;
use rtc_crypto::RTCCryptoProvider;
use rtc_shared::{TransportContext, TransportMessage, TransportProtocol};
use rtc_stun::message::TransactionId;
use rtc_turn::client::{Client, ClientConfig, Event};
use sansio::Protocol;

/// Packets held for a peer while its TURN permission is being created.
const MAX_HELD_PER_PEER: usize = 16;

/// What kind of server an ICE server entry is, with its credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerKind {
    /// A STUN server: server-reflexive candidates.
    Stun,
    /// A TURN server over UDP with long-term credentials: relayed candidates (and, unless the
    /// policy is relay-only, server-reflexive ones from the same server).
    Turn {
        /// TURN username.
        username: String,
        /// TURN password.
        password: String,
    },
}

/// One STUN or TURN server, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceServerAddr {
    /// The URL as configured, for events and candidate `url` fields.
    pub url: String,
    /// The server's address.
    pub addr: SocketAddr,
    /// STUN or TURN.
    pub kind: ServerKind,
}

/// What a gatherer learned.
#[derive(Debug)]
pub(super) enum GatherEvent {
    /// The server sees the socket at `mapped`.
    ServerReflexive {
        base: SocketAddr,
        mapped: SocketAddr,
    },
    /// The server allocated `relayed` for the socket.
    Relayed {
        base: SocketAddr,
        relayed: SocketAddr,
    },
    /// The request failed: the reason, for a candidate error event.
    Failed(String),
    /// A peer sent this through the relay.
    Data {
        relayed: SocketAddr,
        peer: SocketAddr,
        payload: BytesMut,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Progress {
    Pending,
    Done,
    Failed,
}

/// One (local socket, server) pair.
pub(super) struct Gatherer {
    server: IceServerAddr,
    local: SocketAddr,
    client: Client,
    binding: Progress,
    binding_id: Option<TransactionId>,
    allocation: Progress,
    relayed: Option<SocketAddr>,
    /// Packets for peers whose permission is being created.
    held: Vec<(SocketAddr, VecDeque<BytesMut>)>,
}

impl Gatherer {
    /// Starts gathering from `local` through `server`: a Binding request unless `relay_only`,
    /// and for a TURN server an Allocate.
    pub(super) fn start(
        now: Instant,
        local: SocketAddr,
        server: IceServerAddr,
        relay_only: bool,
        crypto: Arc<dyn RTCCryptoProvider>,
    ) -> Result<Self, String> {
        let (turn_serv_addr, username, password) = match &server.kind {
            ServerKind::Stun => (String::new(), String::new(), String::new()),
            ServerKind::Turn { username, password } => {
                (server.addr.to_string(), username.clone(), password.clone())
            }
        };
        let config = ClientConfig {
            stun_serv_addr: server.addr.to_string(),
            turn_serv_addr,
            local_addr: local,
            transport_protocol: TransportProtocol::UDP,
            username,
            password,
            realm: String::new(),
            software: String::new(),
            rto_in_ms: 0,
            allocation_refresh_interval_cap: None,
        };
        let mut client = Client::new(config, crypto).map_err(|e| e.to_string())?;
        let is_turn = matches!(server.kind, ServerKind::Turn { .. });
        let (binding, binding_id) = if relay_only {
            (Progress::Done, None)
        } else {
            let id = client
                .send_binding_request(now)
                .map_err(|e| e.to_string())?;
            (Progress::Pending, Some(id))
        };
        let allocation = if is_turn {
            client.allocate(now).map_err(|e| e.to_string())?;
            Progress::Pending
        } else {
            Progress::Done
        };
        Ok(Self {
            server,
            local,
            client,
            binding,
            binding_id,
            allocation,
            relayed: None,
            held: Vec::new(),
        })
    }

    /// The server's URL.
    pub(super) fn url(&self) -> &str {
        &self.server.url
    }

    /// Whether a datagram received on `local` from `remote` is this gatherer's.
    pub(super) fn owns(&self, local: SocketAddr, remote: SocketAddr) -> bool {
        self.local == local && self.server.addr == remote
    }

    /// The relayed address, once allocated.
    pub(super) fn relayed(&self) -> Option<SocketAddr> {
        self.relayed
    }

    /// Whether every request has been answered or has failed.
    pub(super) fn finished(&self) -> bool {
        self.binding != Progress::Pending && self.allocation != Progress::Pending
    }

    /// Takes a datagram from the server.
    pub(super) fn handle_datagram(
        &mut self,
        now: Instant,
        datagram: &[u8],
        events: &mut Vec<GatherEvent>,
    ) -> Result<(), String> {
        let message = TransportMessage {
            now,
            transport: TransportContext {
                local_addr: self.local,
                peer_addr: self.server.addr,
                transport_protocol: TransportProtocol::UDP,
                ecn: None,
            },
            message: BytesMut::from(datagram),
        };
        let result = self.client.handle_read(message).map_err(|e| e.to_string());
        self.drain_events(now, events);
        result
    }

    /// Sends `payload` to `peer` through the relay (creating the permission first when
    /// there is none; the packet waits for it).
    pub(super) fn send(&mut self, now: Instant, peer: SocketAddr, payload: &[u8]) {
        let Some(relayed) = self.relayed else { return };
        let Ok(mut relay) = self.client.relay(relayed) else {
            return;
        };
        match relay.create_permission(now, peer) {
            Ok(Some(_)) => self.hold(peer, payload),
            Ok(None) => {
                if self.held.iter().any(|(p, _)| *p == peer) {
                    self.hold(peer, payload);
                } else if let Err(e) = relay.send_to(now, payload, peer) {
                    log::debug!("relay send to {peer}: {e}");
                }
            }
            Err(e) => log::debug!("relay permission for {peer}: {e}"),
        }
    }

    fn hold(&mut self, peer: SocketAddr, payload: &[u8]) {
        let index = match self.held.iter().position(|(p, _)| *p == peer) {
            Some(i) => i,
            None => {
                self.held.push((peer, VecDeque::new()));
                self.held.len() - 1
            }
        };
        let queue = &mut self.held[index].1;
        if queue.len() == MAX_HELD_PER_PEER {
            queue.pop_front();
        }
        queue.push_back(BytesMut::from(payload));
    }

    /// Asks the server to permit `peer` ahead of any traffic to it.
    pub(super) fn permit(&mut self, now: Instant, peer: SocketAddr) {
        let Some(relayed) = self.relayed else { return };
        if let Ok(mut relay) = self.client.relay(relayed)
            && let Err(e) = relay.create_permission(now, peer)
        {
            log::debug!("relay permission for {peer}: {e}");
        }
    }

    /// The next datagram for the server.
    pub(super) fn poll_transmit(&mut self) -> Option<(SocketAddr, SocketAddr, BytesMut)> {
        self.client
            .poll_write()
            .map(|t| (self.local, t.transport.peer_addr, t.message))
    }

    /// When the client's retransmissions or refreshes are due.
    pub(super) fn poll_timeout(&mut self) -> Option<Instant> {
        self.client.poll_timeout()
    }

    /// Runs the client's timers.
    pub(super) fn handle_timeout(&mut self, now: Instant, events: &mut Vec<GatherEvent>) {
        if let Err(e) = self.client.handle_timeout(now) {
            log::debug!("TURN client timers: {e}");
        }
        self.drain_events(now, events);
    }

    /// Releases the allocation (a Refresh with lifetime 0).
    pub(super) fn close(&mut self, now: Instant) {
        if let Some(relayed) = self.relayed.take()
            && let Ok(mut relay) = self.client.relay(relayed)
        {
            let _ = relay.close(now);
        }
    }

    fn drain_events(&mut self, now: Instant, events: &mut Vec<GatherEvent>) {
        while let Some(event) = self.client.poll_event() {
            match event {
                Event::BindingResponse(_, mapped) => {
                    self.binding = Progress::Done;
                    events.push(GatherEvent::ServerReflexive {
                        base: self.local,
                        mapped,
                    });
                }
                Event::BindingError(_, e) => {
                    self.binding = Progress::Failed;
                    events.push(GatherEvent::Failed(format!("STUN binding: {e}")));
                }
                Event::AllocateResponse(_, relayed) => {
                    self.allocation = Progress::Done;
                    self.relayed = Some(relayed);
                    events.push(GatherEvent::Relayed {
                        base: self.local,
                        relayed,
                    });
                }
                Event::AllocateError(_, e) => {
                    self.allocation = Progress::Failed;
                    events.push(GatherEvent::Failed(format!("TURN allocation: {e}")));
                }
                Event::TransactionTimeout(id) => {
                    if self.binding_id == Some(id) && self.binding == Progress::Pending {
                        self.binding = Progress::Failed;
                        events.push(GatherEvent::Failed(
                            "STUN binding: no response from the server".to_owned(),
                        ));
                    } else if self.allocation == Progress::Pending {
                        self.allocation = Progress::Failed;
                        events.push(GatherEvent::Failed(
                            "TURN allocation: no response from the server".to_owned(),
                        ));
                    }
                }
                Event::CreatePermissionResponse(_, peer) => self.release(now, peer),
                Event::CreatePermissionError(_, e) => {
                    log::debug!("TURN permission refused by {}: {e}", self.server.url);
                    self.held.clear();
                }
                Event::DataIndicationOrChannelData(_, peer, payload) => {
                    if let Some(relayed) = self.relayed {
                        events.push(GatherEvent::Data {
                            relayed,
                            peer,
                            payload,
                        });
                    }
                }
                _ => {}
            }
        }
    }

    /// Sends what waited for `peer`'s permission.
    fn release(&mut self, now: Instant, peer: SocketAddr) {
        let Some(index) = self.held.iter().position(|(p, _)| *p == peer) else {
            return;
        };
        let (_, queue) = self.held.swap_remove(index);
        let Some(relayed) = self.relayed else { return };
        if let Ok(mut relay) = self.client.relay(relayed) {
            for payload in queue {
                if let Err(e) = relay.send_to(now, &payload, peer) {
                    log::debug!("relay send to {peer}: {e}");
                }
            }
        }
    }
}
