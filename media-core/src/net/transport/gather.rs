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
    /// Reached over TCP (`?transport=tcp`): the caller keeps the connection and moves whole
    /// STUN messages and ChannelData frames over it (RFC 8656 §12.5), with the connection's
    /// local address as `local`. The relay itself is UDP either way.
    pub tcp: bool,
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
            transport_protocol: protocol(server.tcp),
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
                transport_protocol: protocol(self.server.tcp),
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

fn protocol(tcp: bool) -> TransportProtocol {
    if tcp {
        TransportProtocol::TCP
    } else {
        TransportProtocol::UDP
    }
}

/// The length of the STUN message or ChannelData frame at the start of a TURN-over-TCP
/// stream (ChannelData padded to 4 bytes, RFC 8656 §12.5): `Ok(None)` until 4 bytes are in,
/// an error for bytes that are neither.
pub fn tcp_frame_len(stream: &[u8]) -> Result<Option<usize>, String> {
    let Some(header) = stream.get(..4) else {
        return Ok(None);
    };
    let len = usize::from(u16::from_be_bytes([header[2], header[3]]));
    match header[0] >> 6 {
        0 => Ok(Some(20 + len)),
        1 => Ok(Some(4 + len.div_ceil(4) * 4)),
        _ => Err(format!(
            "neither STUN nor ChannelData on the TURN connection (first byte {:#04x})",
            header[0]
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::tcp_frame_len;

    #[test]
    fn tcp_frames_are_stun_or_padded_channel_data() {
        assert_eq!(tcp_frame_len(&[0, 1]), Ok(None));
        // A STUN message: 20-byte header plus its length.
        assert_eq!(tcp_frame_len(&[0x01, 0x01, 0, 12, 0x21]), Ok(Some(32)));
        // ChannelData 0x4000 with 5 bytes of data: padded to 8 over TCP.
        assert_eq!(tcp_frame_len(&[0x40, 0x00, 0, 5]), Ok(Some(12)));
        assert_eq!(tcp_frame_len(&[0x40, 0x00, 0, 8]), Ok(Some(12)));
        assert!(tcp_frame_len(&[0x80, 0, 0, 0]).is_err());
        assert!(tcp_frame_len(&[0xff, 0, 0, 0]).is_err());
    }
}
