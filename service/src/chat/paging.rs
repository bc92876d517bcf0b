//! Continuation tokens of the `nextLink`s: base64url JSON, so they pass through the SDK's
//! re-quoting of `nextLink` query values unchanged.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Where a message list continues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagesToken {
    /// Messages below this sequence id.
    #[serde(rename = "b")]
    pub before_sequence: i64,
    /// The list's `startTime`, in Unix ms.
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub since_ms: Option<i64>,
}

/// Where a thread list continues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadsToken {
    /// Activity time of the last thread returned.
    #[serde(rename = "a")]
    pub activity_ms: i64,
    /// Id of the last thread returned.
    #[serde(rename = "i")]
    pub id: String,
    /// The list's `startTime`, in Unix ms.
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub since_ms: Option<i64>,
}

/// The token text for `value`.
pub fn encode<T: Serialize>(value: &T) -> String {
    // Serialising integers and strings cannot fail.
    B64URL.encode(serde_json::to_vec(value).unwrap_or_default())
}

/// The value of a token, or `None` when it is not one of ours.
pub fn decode<T: DeserializeOwned>(token: &str) -> Option<T> {
    serde_json::from_slice(&B64URL.decode(token).ok()?).ok()
}

/// Percent-encodes a path segment (thread ids carry `:` and `@`).
pub fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len() + 8);
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let t = MessagesToken {
            before_sequence: 42,
            since_ms: Some(7),
        };
        let s = encode(&t);
        assert!(
            s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(decode::<MessagesToken>(&s), Some(t));
        assert_eq!(decode::<MessagesToken>("!!"), None);
        assert_eq!(decode::<ThreadsToken>(&s), None);
        assert_eq!(encode_segment("19:ab@thread.v2"), "19%3Aab%40thread.v2");
    }
}
