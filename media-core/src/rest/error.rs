//! The one error type of the REST adapters. Every variant names the call or step that failed
//! (`what`), so a message like "chat: send message: HTTP 403 Forbidden: …" is enough to act on.

use std::time::Duration;

use serde::Deserialize;

/// Why a REST call failed.
#[derive(Debug, thiserror::Error)]
pub enum RestError {
    /// The connection string (or endpoint) is unusable.
    #[error("connection string: {0}")]
    ConnectionString(String),
    /// The client options are unusable (for example an extra CA that is not PEM).
    #[error("client options: {0}")]
    Options(String),
    /// The access key or the user token cannot be used.
    #[error("credential: {0}")]
    Credential(String),
    /// The service answered with an error status; `code` and `message` come from the ACS error
    /// body (`{"error":{"code","message","target"?}}`) when it had one.
    #[error("{what}: HTTP {status} {code}: {message}")]
    Service {
        /// The call that failed, e.g. `identity: create user`.
        what: String,
        /// HTTP status.
        status: u16,
        /// ACS error code (`Denied`, `Forbidden`, `BadRequest`, …), or the status text when the
        /// body was not an ACS error body.
        code: String,
        /// ACS error message, or the body text.
        message: String,
        /// ACS error target, when given.
        target: Option<String>,
        /// The `Retry-After` the service asked for, when it asked.
        retry_after: Option<Duration>,
    },
    /// The request did not get an answer (connection refused, TLS, timeout, reset).
    #[error("{what}: transport: {}", chain(source))]
    Transport {
        /// The call that failed.
        what: String,
        /// The HTTP client's error.
        source: reqwest::Error,
    },
    /// The answer is not what the wire contract says (bad JSON, missing header, bad SSE).
    #[error("{what}: unexpected response: {detail}")]
    Protocol {
        /// The call that failed.
        what: String,
        /// What was wrong with it.
        detail: String,
    },
    /// A long-running operation (email send) ended `Failed` or `Canceled`.
    #[error("{what}: operation {operation_id} ended {status}: {code}: {message}")]
    OperationFailed {
        /// The call that failed.
        what: String,
        /// The operation id.
        operation_id: String,
        /// Terminal status (`Failed`, `Canceled`).
        status: String,
        /// Error code from the operation's `error`, if any.
        code: String,
        /// Error message from the operation's `error`, if any.
        message: String,
    },
}

/// An error with its causes, `a: b: c`: reqwest's own message alone ("error sending request")
/// hides whether DNS, TCP, TLS or a timeout failed.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}

impl RestError {
    /// The HTTP status of a [`RestError::Service`] error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Service { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The ACS error code of a [`RestError::Service`] error.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Service { code, .. } => Some(code),
            _ => None,
        }
    }

    pub(crate) fn protocol(what: &str, detail: impl Into<String>) -> Self {
        Self::Protocol {
            what: what.to_owned(),
            detail: detail.into(),
        }
    }

    /// Builds a [`RestError::Service`] from an error answer's status, body and `Retry-After`.
    pub(crate) fn from_answer(
        what: &str,
        status: reqwest::StatusCode,
        body: &[u8],
        retry_after: Option<Duration>,
    ) -> Self {
        let parsed = serde_json::from_slice::<ErrorBody>(body).ok();
        let (code, message, target) = match parsed {
            Some(ErrorBody { error }) => (error.code, error.message, error.target),
            None => (
                status.canonical_reason().unwrap_or("error").to_owned(),
                String::from_utf8_lossy(body).into_owned(),
                None,
            ),
        };
        Self::Service {
            what: what.to_owned(),
            status: status.as_u16(),
            code,
            message,
            target,
            retry_after,
        }
    }
}

/// The ACS error body (acs-wire.md §9).
#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: AcsError,
}

/// The `error` object of the ACS error body; also the `error` of an email operation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AcsError {
    /// Error code.
    #[serde(default)]
    pub code: String,
    /// Human-readable message.
    #[serde(default)]
    pub message: String,
    /// What the error is about (a field, a participant's raw id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acs_error_body_gives_code_and_message() {
        let e = RestError::from_answer(
            "identity: create user",
            reqwest::StatusCode::UNAUTHORIZED,
            br#"{"error":{"code":"Denied","message":"Denied by the resource provider."}}"#,
            None,
        );
        assert_eq!(e.status(), Some(401));
        assert_eq!(e.code(), Some("Denied"));
        assert_eq!(
            e.to_string(),
            "identity: create user: HTTP 401 Denied: Denied by the resource provider."
        );
    }

    #[test]
    fn other_bodies_keep_their_text() {
        let e = RestError::from_answer("x", reqwest::StatusCode::BAD_GATEWAY, b"upstream", None);
        assert_eq!(e.code(), Some("Bad Gateway"));
        assert!(e.to_string().ends_with("upstream"));
    }
}
