//! `incomingCallContext`: opaque to apps, a token signed with the service's token key naming
//! the call, so `:answer` / `:reject` cannot be pointed at a call the app was not told about.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde::{Deserialize, Serialize};

use crate::auth::token::TokenKey;

#[derive(Serialize, Deserialize)]
struct Payload {
    /// The call id.
    cid: String,
    /// The callee's raw id.
    to: String,
}

/// The context handed out in `IncomingCall` for `call_id` to `callee`.
pub fn issue(key: &TokenKey, call_id: &str, callee: &str) -> String {
    let payload = Payload {
        cid: call_id.to_owned(),
        to: callee.to_owned(),
    };
    // Serialising two strings cannot fail.
    let token = key.sign_payload(&serde_json::to_vec(&payload).unwrap_or_default());
    B64URL.encode(token)
}

/// The call id a context names, if it is one this service signed.
pub fn call_id(key: &TokenKey, context: &str) -> Option<String> {
    let token = B64URL.decode(context.trim()).ok()?;
    let token = std::str::from_utf8(&token).ok()?;
    let payload = key.verify_signature(token).ok()?;
    serde_json::from_slice::<Payload>(&payload)
        .ok()
        .map(|p| p.cid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_forgery() {
        let key = TokenKey::new(vec![7; 32]);
        let c = issue(&key, "call-1", "8:acs:b");
        assert_eq!(call_id(&key, &c).as_deref(), Some("call-1"));
        assert_eq!(call_id(&TokenKey::new(vec![8; 32]), &c), None);
        assert_eq!(call_id(&key, "not a context"), None);
    }
}
