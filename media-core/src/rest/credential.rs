//! Credentials: an access key (HMAC signing, for identity, relay, SMS, email) or a user access
//! token (bearer, for chat), refreshed before it expires.
//!
//! As the ACS SDKs' `CommunicationTokenCredential`, the token's expiry is read from the JWT
//! payload's `exp` without checking the signature: the service checks that, the client only
//! needs to know when to refresh.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use super::error::RestError;
use super::hmac_signer::HmacSigner;

/// What a refresher returns: a fresh user access token (a JWT with `exp`).
pub type TokenFuture = Pin<Box<dyn Future<Output = Result<String, RestError>> + Send>>;

/// Fetches a fresh user access token, typically from the application's own server, which
/// issues it with its access key (`IdentityClient::issue_token`).
pub type TokenRefresher = Arc<dyn Fn() -> TokenFuture + Send + Sync>;

/// How long before expiry a token is refreshed by default (the ACS SDKs' 10 minutes).
pub const DEFAULT_REFRESH_BEFORE: Duration = Duration::from_secs(10 * 60);

/// A token and when it expires.
#[derive(Clone)]
struct CachedToken {
    token: String,
    expires_at: SystemTime,
}

/// A user access token, refreshed through a callback before it expires.
///
/// Cloning shares the cache: one refresh serves every client holding the credential, and
/// concurrent callers wait for the same refresh instead of each starting one.
#[derive(Clone)]
pub struct UserTokenCredential {
    cached: Arc<tokio::sync::Mutex<Option<CachedToken>>>,
    refresher: Option<TokenRefresher>,
    refresh_before: Duration,
}

impl std::fmt::Debug for UserTokenCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserTokenCredential")
            .field("refreshes", &self.refresher.is_some())
            .field("refresh_before", &self.refresh_before)
            .finish_non_exhaustive()
    }
}

impl UserTokenCredential {
    /// A fixed token, used until it expires (then calls fail with [`RestError::Credential`]).
    pub fn new(token: &str) -> Result<Self, RestError> {
        let expires_at = token_expiry(token)?;
        Ok(Self {
            cached: Arc::new(tokio::sync::Mutex::new(Some(CachedToken {
                token: token.to_owned(),
                expires_at,
            }))),
            refresher: None,
            refresh_before: DEFAULT_REFRESH_BEFORE,
        })
    }

    /// A token fetched by `refresher` when first needed and again `refresh_before` its
    /// expiry; `initial` (if given) is used first.
    pub fn with_refresher(
        initial: Option<&str>,
        refresher: TokenRefresher,
        refresh_before: Duration,
    ) -> Result<Self, RestError> {
        let cached = match initial {
            Some(token) => Some(CachedToken {
                token: token.to_owned(),
                expires_at: token_expiry(token)?,
            }),
            None => None,
        };
        Ok(Self {
            cached: Arc::new(tokio::sync::Mutex::new(cached)),
            refresher: Some(refresher),
            refresh_before,
        })
    }

    /// A token valid now, refreshed first when it is within `refresh_before` of its expiry.
    pub async fn token(&self) -> Result<String, RestError> {
        let mut cached = self.cached.lock().await;
        let now = SystemTime::now();
        let fresh_enough = |c: &CachedToken| now + self.refresh_before < c.expires_at;
        if let Some(c) = cached.as_ref().filter(|c| fresh_enough(c)) {
            return Ok(c.token.clone());
        }
        let Some(refresher) = &self.refresher else {
            return match cached.as_ref().filter(|c| now < c.expires_at) {
                Some(c) => Ok(c.token.clone()),
                None => Err(RestError::Credential(
                    "user token expired and no refresher was given".into(),
                )),
            };
        };
        match refresher().await {
            Ok(token) => {
                let expires_at = token_expiry(&token)?;
                *cached = Some(CachedToken {
                    token: token.clone(),
                    expires_at,
                });
                Ok(token)
            }
            // A failed refresh is not fatal while the old token still works: the next call
            // tries again.
            Err(e) => match cached.as_ref().filter(|c| now < c.expires_at) {
                Some(c) => {
                    log::warn!("user token refresh failed, old token still valid: {e}");
                    Ok(c.token.clone())
                }
                None => Err(RestError::Credential(format!("user token refresh: {e}"))),
            },
        }
    }
}

/// How a client authenticates.
#[derive(Debug, Clone)]
pub enum Credential {
    /// HMAC-SHA256 request signing with the resource's access key.
    AccessKey(HmacSigner),
    /// `Authorization: Bearer <user access token>`.
    UserToken(UserTokenCredential),
}

#[derive(Deserialize)]
struct JwtExpiry {
    exp: Option<u64>,
}

/// The expiry (`exp`) in a JWT's payload; the signature is not checked.
pub fn token_expiry(token: &str) -> Result<SystemTime, RestError> {
    let bad = |why: &str| RestError::Credential(format!("user token is not a JWT with exp: {why}"));
    let payload = token
        .split('.')
        .nth(1)
        .ok_or_else(|| bad("no payload part"))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| bad(&format!("payload is not base64url: {e}")))?;
    let claims: JwtExpiry =
        serde_json::from_slice(&bytes).map_err(|e| bad(&format!("payload is not JSON: {e}")))?;
    let exp = claims.exp.ok_or_else(|| bad("no exp claim"))?;
    Ok(UNIX_EPOCH + Duration::from_secs(exp))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn jwt(exp: u64) -> String {
        let payload = URL_SAFE_NO_PAD.encode(format!(r#"{{"exp":{exp},"scp":"chat"}}"#));
        format!("eyJhbGciOiJIUzI1NiJ9.{payload}.c2ln")
    }

    fn unix_now() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }

    #[test]
    fn expiry_comes_from_exp() {
        assert_eq!(
            token_expiry(&jwt(1_800_000_000)).expect("exp"),
            UNIX_EPOCH + Duration::from_secs(1_800_000_000)
        );
        for bad in ["", "abc", "a.!!!.c", "a.e30.c"] {
            assert!(token_expiry(bad).is_err(), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn refreshes_before_expiry_once_for_concurrent_callers() {
        let calls = Arc::new(AtomicU32::new(0));
        let counted = Arc::clone(&calls);
        let refresher: TokenRefresher = Arc::new(move || {
            let n = counted.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move { Ok(jwt(unix_now() + 3600 + u64::from(n))) })
        });
        // Expires in 5 minutes: inside the 10-minute margin, so the first use refreshes.
        let soon = jwt(unix_now() + 300);
        let cred =
            UserTokenCredential::with_refresher(Some(&soon), refresher, DEFAULT_REFRESH_BEFORE)
                .expect("credential");
        let (a, b) = tokio::join!(cred.token(), cred.token());
        let (a, b) = (a.expect("token"), b.expect("token"));
        assert_eq!(a, b);
        assert_ne!(a, soon);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(cred.token().await.expect("cached"), a);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_fixed_token_works_until_expiry() {
        let valid = UserTokenCredential::new(&jwt(unix_now() + 60)).expect("credential");
        assert!(valid.token().await.is_ok());
        let expired = UserTokenCredential::new(&jwt(unix_now() - 1)).expect("credential");
        assert!(matches!(
            expired.token().await,
            Err(RestError::Credential(_))
        ));
    }
}
