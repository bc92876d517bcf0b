//! ICE + DTLS-SRTP between two sans-IO transports on a virtual clock: connection, key
//! agreement, consent expiry, ICE restart after an address change, fingerprint mismatch and
//! garbage input.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use media_core::net::transport::{
    DtlsRole, Fingerprint, Incoming, RemoteParameters, Transport, TransportConfig, TransportError,
    TransportEvent, TransportState,
};

const A_ADDR: &str = "10.0.0.1:5000";
const B_ADDR: &str = "10.0.0.2:6000";

struct Side {
    transport: Transport,
    addr: SocketAddr,
    events: Vec<TransportEvent>,
}

impl Side {
    fn new(now: Instant, addr: &str) -> (Self, String) {
        let addr: SocketAddr = addr.parse().expect("address");
        let mut transport = Transport::new(now, TransportConfig::default()).expect("transport");
        let candidate = transport
            .add_host_candidate(addr)
            .expect("host candidate")
            .expect("host candidates are offered without relay-only");
        (
            Self {
                transport,
                addr,
                events: Vec::new(),
            },
            candidate,
        )
    }

    fn params(&self, controlling: bool, role: DtlsRole) -> RemoteParameters {
        let (ufrag, pwd) = self.transport.local_credentials();
        RemoteParameters {
            ice_ufrag: ufrag.to_owned(),
            ice_pwd: pwd.to_owned(),
            fingerprint: self.transport.fingerprint().clone(),
            dtls_role: role,
            ice_controlling: controlling,
        }
    }

    fn state(&self) -> TransportState {
        self.transport.state()
    }
}

/// Two transports joined by a link with a fixed delay that drops everything while `cut`.
struct Net {
    now: Instant,
    a: Side,
    b: Side,
    in_flight: VecDeque<(Instant, bool, SocketAddr, SocketAddr, Vec<u8>)>,
    delay: Duration,
    cut: bool,
}

impl Net {
    fn connected_pair(a_fp: Option<Fingerprint>) -> Self {
        let now = Instant::now();
        let (a, a_cand) = Side::new(now, A_ADDR);
        let (b, b_cand) = Side::new(now, B_ADDR);
        let mut net = Net {
            now,
            a,
            b,
            in_flight: VecDeque::new(),
            delay: Duration::from_millis(10),
            cut: false,
        };
        // A offers (controlling, actpass); B answers active: B is the DTLS client.
        let mut a_params = net.a.params(true, DtlsRole::Client);
        if let Some(fp) = a_fp {
            a_params.fingerprint = fp;
        }
        let b_params = net.b.params(false, DtlsRole::Server);
        net.a
            .transport
            .add_remote_candidate(&b_cand)
            .expect("remote candidate");
        net.b
            .transport
            .add_remote_candidate(&format!("a={a_cand}"))
            .expect("remote candidate");
        // Each side starts with the other's parameters and its own role.
        let mut for_a = b_params;
        for_a.ice_controlling = true;
        for_a.dtls_role = DtlsRole::Server;
        let mut for_b = a_params;
        for_b.ice_controlling = false;
        for_b.dtls_role = DtlsRole::Client;
        net.a.transport.start(now, for_a).expect("start");
        net.b.transport.start(now, for_b).expect("start");
        net
    }

    /// Runs the network until `until`, moving datagrams and firing timers.
    fn run_until(&mut self, until: Instant) {
        loop {
            for (from_a, side) in [(true, &mut self.a), (false, &mut self.b)] {
                while let Some(t) = side.transport.poll_transmit() {
                    // A socket that is gone (the side moved) sends nothing.
                    if !self.cut && t.local == side.addr {
                        self.in_flight.push_back((
                            self.now + self.delay,
                            from_a,
                            t.local,
                            t.remote,
                            t.payload.to_vec(),
                        ));
                    }
                }
                while let Some(e) = side.transport.poll_event() {
                    side.events.push(e);
                }
            }
            let next_arrival = self.in_flight.front().map(|p| p.0);
            let next_timer = [
                self.a.transport.poll_timeout(),
                self.b.transport.poll_timeout(),
            ]
            .into_iter()
            .flatten()
            .min();
            let Some(next) = [next_arrival, next_timer].into_iter().flatten().min() else {
                return;
            };
            if next > until {
                self.now = until;
                return;
            }
            self.now = next.max(self.now);
            if next_arrival == Some(next) {
                let (_, from_a, src, dst, bytes) = self.in_flight.pop_front().expect("in flight");
                let to = if from_a { &mut self.b } else { &mut self.a };
                // To an address the side has left: lost.
                if dst == to.addr {
                    let mut bytes = bytes;
                    let _ = to.transport.handle_datagram(self.now, dst, src, &mut bytes);
                }
            } else {
                self.a.transport.handle_timeout(self.now);
                self.b.transport.handle_timeout(self.now);
            }
        }
    }

    fn keys(side: &Side) -> Option<&media_core::call::SrtpKeys> {
        side.events.iter().find_map(|e| match e {
            TransportEvent::Keys(k) => Some(k),
            _ => None,
        })
    }
}

#[test]
fn ice_and_dtls_connect_and_agree_on_srtp_keys() {
    let mut net = Net::connected_pair(None);
    let start = net.now;
    net.run_until(start + Duration::from_secs(3));
    assert_eq!(
        net.a.state(),
        TransportState::Connected,
        "{:?}",
        net.a.events
    );
    assert_eq!(
        net.b.state(),
        TransportState::Connected,
        "{:?}",
        net.b.events
    );
    let (a_keys, b_keys) = (
        Net::keys(&net.a).expect("keys"),
        Net::keys(&net.b).expect("keys"),
    );
    assert_eq!(*a_keys, b_keys.mirrored());
    assert_eq!(a_keys.profile, media_core::srtp::SrtpProfile::AeadAes128Gcm);
    assert_ne!(a_keys.send_key, a_keys.receive_key);
    assert_eq!(
        net.a.transport.media_route(),
        Some((
            A_ADDR.parse().expect("address"),
            B_ADDR.parse().expect("address")
        ))
    );
    assert_eq!(
        net.b.transport.media_route(),
        Some((
            B_ADDR.parse().expect("address"),
            A_ADDR.parse().expect("address")
        ))
    );
    // The states went New → Connecting → Connected, in order.
    let states: Vec<_> = net
        .a
        .events
        .iter()
        .filter_map(|e| match e {
            TransportEvent::State(s) => Some(*s),
            _ => None,
        })
        .collect();
    assert_eq!(
        states,
        [TransportState::Connecting, TransportState::Connected]
    );
}

#[test]
fn silent_peer_goes_disconnected_then_failed_within_consent_timeout() {
    let mut net = Net::connected_pair(None);
    let start = net.now;
    net.run_until(start + Duration::from_secs(3));
    assert_eq!(net.a.state(), TransportState::Connected);
    net.cut = true;
    let cut_at = net.now;
    net.run_until(cut_at + Duration::from_secs(8));
    assert_eq!(net.a.state(), TransportState::Disconnected);
    net.run_until(cut_at + Duration::from_secs(31));
    assert_eq!(net.a.state(), TransportState::Failed);
    assert!(
        net.a
            .events
            .iter()
            .any(|e| matches!(e, TransportEvent::Failure(_)))
    );
}

#[test]
fn ice_restart_recovers_the_call_after_the_remote_port_changes() {
    let mut net = Net::connected_pair(None);
    let start = net.now;
    net.run_until(start + Duration::from_secs(3));
    assert_eq!(net.a.state(), TransportState::Connected);
    let keys_before = Net::keys(&net.a).cloned().expect("keys");

    // B's port changes (a new socket after a network change): the old path is dead.
    let moved: SocketAddr = "10.0.0.2:6001".parse().expect("address");
    net.b.addr = moved;
    let b_new = net
        .b
        .transport
        .add_host_candidate(moved)
        .expect("candidate")
        .expect("host candidate");
    let moved_at = net.now;
    net.run_until(moved_at + Duration::from_secs(7));
    assert_eq!(net.a.state(), TransportState::Disconnected);

    // ICE restart: fresh credentials both ways, B's new candidate, checks again.
    let a_host = "candidate:1 1 udp 2130706431 10.0.0.1 5000 typ host";
    let now = net.now;
    net.a.transport.restart_ice(now).expect("restart a");
    net.b.transport.restart_ice(now).expect("restart b");
    let (a_ufrag, a_pwd) = {
        let (u, p) = net.a.transport.local_credentials();
        (u.to_owned(), p.to_owned())
    };
    let (b_ufrag, b_pwd) = {
        let (u, p) = net.b.transport.local_credentials();
        (u.to_owned(), p.to_owned())
    };
    net.a
        .transport
        .add_remote_candidate(&b_new)
        .expect("candidate");
    net.b
        .transport
        .add_remote_candidate(a_host)
        .expect("candidate");
    net.a
        .transport
        .resume_ice(now, b_ufrag, b_pwd, true)
        .expect("resume a");
    net.b
        .transport
        .resume_ice(now, a_ufrag, a_pwd, false)
        .expect("resume b");
    net.run_until(now + Duration::from_secs(3));

    assert_eq!(
        net.a.state(),
        TransportState::Connected,
        "{:?}",
        net.a.events
    );
    assert_eq!(
        net.b.state(),
        TransportState::Connected,
        "{:?}",
        net.b.events
    );
    assert_eq!(
        net.a.transport.media_route(),
        Some((A_ADDR.parse().expect("address"), moved))
    );
    // DTLS carried on: no second handshake, the same SRTP keys.
    let keys: Vec<_> = net
        .a
        .events
        .iter()
        .filter(|e| matches!(e, TransportEvent::Keys(_)))
        .collect();
    assert_eq!(keys.len(), 1);
    assert_eq!(Net::keys(&net.a), Some(&keys_before));
}

#[test]
fn wrong_fingerprint_fails_the_handshake_with_the_reason() {
    let wrong =
        Fingerprint::of_certificate("sha-256", b"not the certificate").expect("fingerprint");
    let mut net = Net::connected_pair(Some(wrong));
    let start = net.now;
    net.run_until(start + Duration::from_secs(15));
    // B (the DTLS client) was told the wrong fingerprint for A: it must fail, not connect.
    assert_eq!(net.b.state(), TransportState::Failed, "{:?}", net.b.events);
    assert!(Net::keys(&net.b).is_none());
    let reason = net
        .b
        .events
        .iter()
        .find_map(|e| match e {
            TransportEvent::Failure(r) => Some(r.clone()),
            _ => None,
        })
        .expect("a failure event");
    assert!(reason.contains("fingerprint"), "{reason}");
    assert_ne!(net.a.state(), TransportState::Connected);
}

#[test]
fn garbage_is_counted_and_refused_never_a_panic() {
    let mut net = Net::connected_pair(None);
    let start = net.now;
    net.run_until(start + Duration::from_secs(3));
    let (a, b) = (net.a.addr, net.b.addr);
    let t = &mut net.a.transport;
    let now = net.now;
    // Malformed STUN (a STUN first byte, then nonsense).
    assert!(
        t.handle_datagram(now, a, b, &mut [0, 1, 0, 4, 1, 2])
            .is_err()
    );
    // DTLS garbage from the validated peer.
    assert!(
        t.handle_datagram(now, a, b, &mut [22, 0xfe, 0xfd, 0, 0])
            .is_err()
    );
    // RTP from an address that never passed a check.
    let stranger: SocketAddr = "10.9.9.9:1234".parse().expect("address");
    assert_eq!(
        t.handle_datagram(now, a, stranger, &mut [0x80, 111, 0, 1]),
        Err(TransportError::UnvalidatedSource(stranger))
    );
    // Unknown first byte.
    assert!(matches!(
        t.handle_datagram(now, a, b, &mut [0xff, 0]),
        Err(TransportError::UnknownDatagram(0xff))
    ));
    // RTP from the peer is media.
    assert_eq!(
        t.handle_datagram(now, a, b, &mut [0x80, 111, 0, 1]),
        Ok(Incoming::Media {
            kind: media_core::net::transport::DatagramKind::Rtp,
            len: 4
        })
    );
    let c = t.counters();
    assert_eq!(c.stun_rejected, 1);
    assert_eq!(c.dtls_rejected, 1);
    assert_eq!(c.unvalidated, 1);
    assert_eq!(c.unknown, 1);
    // Still connected after all that.
    net.run_until(now + Duration::from_secs(2));
    assert_eq!(net.a.state(), TransportState::Connected);
}
