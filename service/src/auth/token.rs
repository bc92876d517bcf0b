//! User access tokens: compact JWTs signed with HMAC-SHA256 under the service's token key.
//!
//! The payload follows ACS's shape (`skypeid`, `scp`, `csi`, `exp`, `acsScope`, `resourceId`,
//! `resourceLocation`, `iat`), which is what clients read (`exp` for refresh). `mcIssuedMs` is
//! MediaCore's own: the issue time in milliseconds, compared with the user's revocation time
//! so that a token issued in the same second as a revocation is judged correctly.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::identifier;

type HmacSha256 = Hmac<Sha256>;

/// Scopes a token may carry.
pub const SCOPES: &[&str] = &[
    "chat",
    "voip",
    "chat.join",
    "chat.join.limited",
    "voip.join",
];

/// Shortest and longest token lifetimes clients may ask for, in minutes.
pub const EXPIRY_MINUTES: std::ops::RangeInclusive<i64> = 60..=1440;

/// Lifetime when the client does not ask for one, in minutes.
pub const DEFAULT_EXPIRY_MINUTES: i64 = 1440;

const HEADER: &str = r#"{"alg":"HS256","typ":"JWT","kid":"mediacore-1"}"#;

/// [`HEADER`] as it appears in a token (base64url), made once.
fn own_header() -> &'static str {
    static ENCODED: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ENCODED.get_or_init(|| B64URL.encode(HEADER))
}

/// The claims of a user access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user's raw id without the `8:` kind prefix, `acs:<resourceId>_<uuid>`.
    pub skypeid: String,
    /// Scope bits, as ACS writes them (informational).
    pub scp: u32,
    /// Issue time in seconds, as a string (ACS's form).
    pub csi: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Comma-separated scopes, e.g. `chat,voip`.
    #[serde(rename = "acsScope")]
    pub acs_scope: String,
    /// The resource the user belongs to.
    #[serde(rename = "resourceId")]
    pub resource_id: String,
    /// The region name from the configuration.
    #[serde(rename = "resourceLocation")]
    pub resource_location: String,
    /// Issue time in seconds.
    pub iat: i64,
    /// Issue time in milliseconds, for revocation checks.
    #[serde(rename = "mcIssuedMs")]
    pub issued_ms: i64,
}

impl Claims {
    /// Claims for `user_id` with `scopes`, issued at `issued_ms`, valid `minutes`.
    pub fn new(
        user_id: &str,
        scopes: &[String],
        issued_ms: i64,
        minutes: i64,
        resource_id: &str,
        resource_location: &str,
    ) -> Self {
        let iat = issued_ms / 1000;
        Self {
            skypeid: identifier::skype_id(user_id).to_owned(),
            scp: 1792,
            csi: iat.to_string(),
            exp: iat + minutes * 60,
            acs_scope: scopes.join(","),
            resource_id: resource_id.to_owned(),
            resource_location: resource_location.to_owned(),
            iat,
            issued_ms,
        }
    }

    /// The user's raw id, `8:acs:…`.
    pub fn user_id(&self) -> String {
        format!("8:{}", self.skypeid)
    }

    /// Whether the token carries `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.acs_scope.split(',').any(|s| s.trim() == scope)
    }
}

/// Why a bearer token was refused (always answered 401).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a compact JWT, or its parts do not decode.
    #[error("malformed token")]
    Malformed,
    /// Not signed by this service.
    #[error("bad token signature")]
    Signature,
    /// Past its `exp`.
    #[error("token expired")]
    Expired,
}

/// The HMAC key tokens are signed with.
#[derive(Clone)]
pub struct TokenKey(Vec<u8>);

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(..)")
    }
}

impl TokenKey {
    /// Wraps raw key bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    fn mac(&self) -> HmacSha256 {
        <HmacSha256 as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
    }

    /// Signs `claims` into a compact JWT.
    pub fn issue(&self, claims: &Claims) -> String {
        // Serialising a struct of strings and integers cannot fail.
        self.sign_payload(&serde_json::to_vec(claims).unwrap_or_default())
    }

    /// Signs any JSON payload into a compact HS256 JWT.
    pub fn sign_payload(&self, payload: &[u8]) -> String {
        let signing_input = format!("{}.{}", own_header(), B64URL.encode(payload));
        let mut mac = self.mac();
        mac.update(signing_input.as_bytes());
        let sig = B64URL.encode(mac.finalize().into_bytes());
        format!("{signing_input}.{sig}")
    }

    /// Checks the signature and expiry of `token` at `now_secs` and returns its claims.
    /// Revocation needs the user's record and is checked by the caller.
    pub fn verify(&self, token: &str, now_secs: i64) -> Result<Claims, TokenError> {
        let payload = self.verify_signature(token)?;
        let claims: Claims = serde_json::from_slice(&payload).map_err(|_| TokenError::Malformed)?;
        if claims.exp <= now_secs {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }

    /// Checks that `token` is an HS256 JWT signed with this key and returns its payload bytes.
    pub fn verify_signature(&self, token: &str) -> Result<Vec<u8>, TokenError> {
        let (signing_input, sig) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
        let (header, payload) = signing_input
            .split_once('.')
            .filter(|(_, p)| !p.contains('.'))
            .ok_or(TokenError::Malformed)?;
        // Our own header (every token this service issues) is HS256 without a look inside;
        // another one is decoded to check its algorithm.
        if header != own_header() {
            let header_json = B64URL.decode(header).map_err(|_| TokenError::Malformed)?;
            let header: serde_json::Value =
                serde_json::from_slice(&header_json).map_err(|_| TokenError::Malformed)?;
            // Only HS256: refusing anything else closes the "alg: none" door.
            if header.get("alg").and_then(|a| a.as_str()) != Some("HS256") {
                return Err(TokenError::Signature);
            }
        }
        let sig = B64URL.decode(sig).map_err(|_| TokenError::Malformed)?;
        let mut mac = self.mac();
        mac.update(signing_input.as_bytes());
        mac.verify_slice(&sig).map_err(|_| TokenError::Signature)?;
        B64URL.decode(payload).map_err(|_| TokenError::Malformed)
    }
}

/// The payload of a compact JWT, not verified: only to choose which verifier applies.
pub fn unverified_payload(token: &str) -> Option<serde_json::Value> {
    let payload = token.split('.').nth(1)?;
    serde_json::from_slice(&B64URL.decode(payload).ok()?).ok()
}

/// Checks requested scopes: known names, at least one, no duplicates kept.
pub fn validate_scopes(scopes: &[String]) -> Result<Vec<String>, String> {
    if scopes.is_empty() {
        return Err("At least one scope is required.".to_owned());
    }
    let mut out: Vec<String> = Vec::with_capacity(scopes.len());
    for s in scopes {
        if !SCOPES.contains(&s.as_str()) {
            return Err(format!("Unknown scope '{s}'."));
        }
        if !out.contains(s) {
            out.push(s.clone());
        }
    }
    Ok(out)
}

/// Checks `expiresInMinutes` (absent → the default).
pub fn validate_expiry(minutes: Option<i64>) -> Result<i64, String> {
    match minutes {
        None => Ok(DEFAULT_EXPIRY_MINUTES),
        Some(m) if EXPIRY_MINUTES.contains(&m) => Ok(m),
        Some(m) => Err(format!(
            "expiresInMinutes must be between {} and {}, got {m}.",
            EXPIRY_MINUTES.start(),
            EXPIRY_MINUTES.end()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(minutes: i64) -> Claims {
        Claims::new(
            "8:acs:r_00000000-0000-4000-8000-000000000000",
            &["chat".to_owned(), "voip".to_owned()],
            1_795_521_600_123,
            minutes,
            "r",
            "local",
        )
    }

    #[test]
    fn round_trip_and_refusals() {
        let key = TokenKey::new(vec![1; 32]);
        let c = claims(60);
        let t = key.issue(&c);
        assert_eq!(key.verify(&t, c.iat + 10), Ok(c.clone()));
        assert_eq!(key.verify(&t, c.exp), Err(TokenError::Expired));
        assert_eq!(
            TokenKey::new(vec![2; 32]).verify(&t, c.iat),
            Err(TokenError::Signature)
        );
        assert_eq!(key.verify("a.b", 0), Err(TokenError::Malformed));
        // A payload swapped under the original signature is refused.
        let other = key.issue(&claims(1440));
        let mut forged: Vec<&str> = t.split('.').collect();
        forged[1] = other.split('.').nth(1).expect("payload");
        assert_eq!(
            key.verify(&forged.join("."), c.iat),
            Err(TokenError::Signature)
        );
        // Another header is read: HS256 is accepted, any other algorithm refused.
        let resign = |header: &str| {
            let payload = t.split('.').nth(1).expect("payload");
            let input = format!("{}.{payload}", B64URL.encode(header));
            let mut mac = key.mac();
            mac.update(input.as_bytes());
            format!("{input}.{}", B64URL.encode(mac.finalize().into_bytes()))
        };
        assert_eq!(
            key.verify(&resign(r#"{"alg":"HS256"}"#), c.iat),
            Ok(c.clone())
        );
        assert_eq!(
            key.verify(&resign(r#"{"alg":"none"}"#), c.iat),
            Err(TokenError::Signature)
        );
        assert!(c.has_scope("voip") && !c.has_scope("chat.join"));
        assert_eq!(c.user_id(), "8:acs:r_00000000-0000-4000-8000-000000000000");
    }

    #[test]
    fn validation() {
        assert!(validate_scopes(&[]).is_err());
        assert!(validate_scopes(&["mail".to_owned()]).is_err());
        assert_eq!(validate_expiry(None), Ok(1440));
        assert_eq!(validate_expiry(Some(60)), Ok(60));
        assert!(validate_expiry(Some(59)).is_err());
        assert!(validate_expiry(Some(1441)).is_err());
    }
}
