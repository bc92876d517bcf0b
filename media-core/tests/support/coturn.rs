//! A coturn TURN server (Debian `coturn`, installed by scripts/bootstrap.sh) started on
//! 127.0.0.1 for one test and killed when dropped.

#![allow(dead_code)]

use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use hmac::{Hmac, Mac};

/// The realm every test server uses.
pub const REALM: &str = "mediacore.test";

/// How the server checks credentials.
pub enum Auth<'a> {
    /// Long-term credentials: one static user (`--lt-cred-mech --user`).
    Static { user: &'a str, password: &'a str },
    /// TURN REST credentials from a shared secret (`--use-auth-secret`).
    Secret(&'a str),
}

/// A running turnserver.
pub struct Coturn {
    child: Child,
    /// Where it listens (UDP and TCP).
    pub addr: SocketAddr,
}

impl Coturn {
    /// Starts turnserver on a free port with relay ports in `relay_ports`, and waits until
    /// it answers a STUN Binding. Fails the test with an install hint when it is missing.
    pub fn start(auth: Auth<'_>, relay_ports: (u16, u16)) -> Self {
        let port = free_port();
        let mut command = Command::new("turnserver");
        command.args([
            "-n",
            "--listening-ip=127.0.0.1",
            "--relay-ip=127.0.0.1",
            &format!("--listening-port={port}"),
            &format!("--min-port={}", relay_ports.0),
            &format!("--max-port={}", relay_ports.1),
            &format!("--realm={REALM}"),
            "--no-tls",
            "--no-dtls",
            "--no-cli",
            // Both peers' relayed addresses are on 127.0.0.1: without this coturn refuses
            // permissions to them (403 Forbidden IP).
            "--allow-loopback-peers",
            "--log-file=stdout",
            "--simple-log",
        ]);
        match auth {
            Auth::Static { user, password } => {
                command.args(["--lt-cred-mech", &format!("--user={user}:{password}")]);
            }
            Auth::Secret(secret) => {
                command.args([
                    "--use-auth-secret",
                    &format!("--static-auth-secret={secret}"),
                ]);
            }
        }
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start turnserver ({e}): install coturn (scripts/bootstrap.sh)")
            });
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let server = Self { child, addr };
        server.wait_ready();
        server
    }

    /// `turn:` URL over UDP.
    pub fn url(&self) -> String {
        format!("turn:{}?transport=udp", self.addr)
    }

    fn wait_ready(&self) {
        let probe = UdpSocket::bind("127.0.0.1:0").expect("probe socket");
        probe
            .set_read_timeout(Some(Duration::from_millis(100)))
            .expect("timeout");
        // A STUN Binding request: type 0x0001, length 0, magic cookie, transaction id.
        let mut request = vec![0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42];
        request.extend_from_slice(b"mediacore-tt");
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut buf = [0u8; 512];
        while Instant::now() < deadline {
            let _ = probe.send_to(&request, self.addr);
            if let Ok((n, _)) = probe.recv_from(&mut buf)
                && n >= 20
                && buf[..2] == [1, 1]
            {
                return;
            }
        }
        panic!("turnserver on {} did not answer within 10 s", self.addr);
    }
}

impl Drop for Coturn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// TURN REST credentials (username `expiry:user`, password base64(HMAC-SHA1(secret,
/// username))) valid for an hour.
pub fn rest_credentials(secret: &str, user: &str) -> (String, String) {
    let expiry = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        + 3600;
    let username = format!("{expiry}:{user}");
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).expect("hmac key");
    mac.update(username.as_bytes());
    let password = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    (username, password)
}

/// A port free for UDP and TCP on 127.0.0.1.
fn free_port() -> u16 {
    for _ in 0..50 {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let port = udp.local_addr().expect("addr").port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no port free for both UDP and TCP");
}
