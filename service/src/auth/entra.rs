//! Service-principal bearer tokens: the local stand-in for Entra ID.
//!
//! ACS accepts Entra ID tokens for the audience `https://communication.azure.com` in place of
//! the access key. Locally there is no Entra, so an operator configures an issuer name and an
//! HMAC key; a service principal's tool signs HS256 JWTs with `iss` = that name, `aud` = the
//! ACS audience and an `exp`, and gets the access key's rights.

use serde::Deserialize;

use super::token::{TokenError, TokenKey};

/// The audience ACS tokens are issued for (Entra scope `https://communication.azure.com//.default`).
pub const AUDIENCE: &str = "https://communication.azure.com";

/// Allowed clock difference for `nbf`, seconds.
const NBF_LEEWAY_SECS: i64 = 300;

/// Verifies service-principal tokens of one configured issuer.
#[derive(Debug, Clone)]
pub struct EntraVerifier {
    issuer: String,
    key: TokenKey,
}

#[derive(Deserialize)]
struct EntraClaims {
    iss: String,
    aud: serde_json::Value,
    exp: i64,
    nbf: Option<i64>,
}

fn audience_ok(aud: &serde_json::Value) -> bool {
    let one = |a: &str| a.trim_end_matches('/') == AUDIENCE;
    match aud {
        serde_json::Value::String(a) => one(a),
        serde_json::Value::Array(list) => list.iter().filter_map(|a| a.as_str()).any(one),
        _ => false,
    }
}

impl EntraVerifier {
    /// A verifier for tokens of `issuer` signed with `key`.
    pub fn new(issuer: String, key: Vec<u8>) -> Self {
        Self {
            issuer,
            key: TokenKey::new(key),
        }
    }

    /// The configured issuer name.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Checks signature, issuer, audience, expiry and not-before at `now_secs`.
    pub fn verify(&self, token: &str, now_secs: i64) -> Result<(), TokenError> {
        let payload = self.key.verify_signature(token)?;
        let claims: EntraClaims =
            serde_json::from_slice(&payload).map_err(|_| TokenError::Malformed)?;
        if claims.iss != self.issuer || !audience_ok(&claims.aud) {
            return Err(TokenError::Signature);
        }
        if claims.exp <= now_secs {
            return Err(TokenError::Expired);
        }
        if claims
            .nbf
            .is_some_and(|nbf| nbf > now_secs + NBF_LEEWAY_SECS)
        {
            return Err(TokenError::Expired);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(key: &[u8], payload: serde_json::Value) -> String {
        TokenKey::new(key.to_vec()).sign_payload(payload.to_string().as_bytes())
    }

    #[test]
    fn issuer_audience_expiry() {
        let v = EntraVerifier::new("https://issuer.local/".into(), vec![3; 32]);
        let now = 1_795_521_600;
        let good = serde_json::json!({"iss": "https://issuer.local/", "aud": "https://communication.azure.com/", "exp": now + 60});
        assert_eq!(v.verify(&token(&[3; 32], good.clone()), now), Ok(()));
        assert_eq!(
            v.verify(&token(&[4; 32], good), now),
            Err(TokenError::Signature)
        );
        let other_iss = serde_json::json!({"iss": "x", "aud": AUDIENCE, "exp": now + 60});
        assert!(v.verify(&token(&[3; 32], other_iss), now).is_err());
        let other_aud = serde_json::json!({"iss": "https://issuer.local/", "aud": "https://graph", "exp": now + 60});
        assert!(v.verify(&token(&[3; 32], other_aud), now).is_err());
        let expired =
            serde_json::json!({"iss": "https://issuer.local/", "aud": [AUDIENCE], "exp": now});
        assert_eq!(
            v.verify(&token(&[3; 32], expired), now),
            Err(TokenError::Expired)
        );
    }
}
