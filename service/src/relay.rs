//! TURN REST credentials (the scheme coturn's `--use-auth-secret` checks):
//! `username = "<unix expiry>:<user>"`, `credential = base64(HMAC-SHA1(secret, username))`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// A TURN username and its password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnCredential {
    /// `<expiry>:<user>`.
    pub username: String,
    /// base64 HMAC-SHA1 of the username under the shared secret.
    pub credential: String,
}

/// Credentials for `user` valid until `expiry_secs` (Unix time) on a TURN server that shares
/// `secret`.
pub fn turn_credential(secret: &str, user: &str, expiry_secs: i64) -> TurnCredential {
    let username = format!("{expiry_secs}:{user}");
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(username.as_bytes());
    TurnCredential {
        credential: B64.encode(mac.finalize().into_bytes()),
        username,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_turn_rest_scheme() {
        let c = turn_credential("s3cr3t", "bob", 1_795_575_666);
        assert_eq!(c.username, "1795575666:bob");
        assert_eq!(c.credential, "8BGHsA03TUCYncFV6+E1LhMqPHA=");
    }
}
