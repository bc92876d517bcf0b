//! Who is calling: HMAC-signed requests (access key) or user access tokens (bearer JWT).
//!
//! [`authenticate`] runs before every routed handler. It reads the body (with the size limit,
//! since the content hash covers it), checks the credentials and hands the handler the body and
//! a [`Caller`]. Handlers then say what they require: the access key, or a token scope.

pub mod entra;
pub mod hmac;
pub mod keys;
pub mod token;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use crate::clock;
use crate::error::ApiError;
use crate::state::SharedState;

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub enum Caller {
    /// Signed with the primary or secondary access key: full rights on the resource.
    AccessKey,
    /// A service principal's bearer token from the configured issuer: the access key's rights.
    ServicePrincipal,
    /// A user access token issued by this service.
    User(token::Claims),
}

impl Caller {
    /// Allows only the access key or a service principal (resource management, e.g. identity).
    pub fn require_access_key(&self) -> Result<(), ApiError> {
        match self {
            Caller::AccessKey | Caller::ServicePrincipal => Ok(()),
            Caller::User(_) => Err(ApiError::forbidden(
                "This operation needs the resource's access key, not a user access token.",
            )),
        }
    }

    /// Allows the access key, or a user token carrying one of `scopes`.
    pub fn require_any_scope(&self, scopes: &[&str]) -> Result<(), ApiError> {
        match self {
            Caller::AccessKey | Caller::ServicePrincipal => Ok(()),
            Caller::User(c) if scopes.iter().any(|s| c.has_scope(s)) => Ok(()),
            Caller::User(_) => Err(ApiError::forbidden(format!(
                "The access token lacks the scope this operation needs ({}).",
                scopes.join(" or ")
            ))),
        }
    }
}

/// Middleware: limits and buffers the body, authenticates, and passes on a [`Caller`].
pub async fn authenticate(State(state): State<SharedState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let limit = crate::routes::body_limit(&state, parts.uri.path());
    if declared_length(&parts.headers).is_some_and(|n| n > limit) {
        return ApiError::too_large(limit).into_response();
    }
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        // A body without Content-Length that runs past the limit ends here.
        Err(_) => return ApiError::too_large(limit).into_response(),
    };
    match identify(&state, &parts, &bytes).await {
        Ok(caller) => {
            parts.extensions.insert(caller);
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(e) => e.into_response(),
    }
}

fn declared_length(headers: &HeaderMap) -> Option<usize> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

async fn identify(state: &SharedState, parts: &Parts, body: &Bytes) -> Result<Caller, ApiError> {
    let authorization = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(ApiError::denied)?;

    if authorization.starts_with("HMAC-SHA256 ") {
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .or_else(|| parts.uri.authority().map(|a| a.as_str()));
        let lookup = |name: &str| -> Option<&str> {
            if name == "host" {
                host
            } else {
                parts.headers.get(name).and_then(|v| v.to_str().ok())
            }
        };
        let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let request = hmac::SignedRequest {
            method: parts.method.as_str(),
            path_and_query,
            authorization,
            header: &lookup,
            body,
        };
        let current = state.keys.current();
        let keys = [
            current.primary.bytes.as_slice(),
            current.secondary.bytes.as_slice(),
        ];
        return match hmac::verify(&request, &keys, clock::now_secs()) {
            Ok(()) => Ok(Caller::AccessKey),
            Err(e) => {
                tracing::info!("HMAC authentication refused: {e}");
                Err(ApiError::denied())
            }
        };
    }

    if let Some(jwt) = authorization.strip_prefix("Bearer ") {
        let jwt = jwt.trim();
        // A token naming the configured issuer is a service principal's; any other bearer
        // token must be one of our user tokens.
        if let Some(entra) = &state.entra {
            let iss = token::unverified_payload(jwt)
                .and_then(|p| p.get("iss").and_then(|i| i.as_str()).map(str::to_owned));
            if iss.as_deref() == Some(entra.issuer()) {
                return match entra.verify(jwt, clock::now_secs()) {
                    Ok(()) => Ok(Caller::ServicePrincipal),
                    Err(e) => {
                        tracing::info!("service-principal token refused: {e}");
                        Err(ApiError::denied())
                    }
                };
            }
        }
        let claims = state
            .token_key
            .verify(jwt, clock::now_secs())
            .map_err(|e| {
                tracing::info!("bearer token refused: {e}");
                ApiError::denied()
            })?;
        let user = state.storage.user(&claims.user_id()).await?;
        // A deleted user's tokens die with it; a revoked token is older than the revocation mark.
        return match user {
            Some(u) if u.accepts_token_issued(claims.issued_ms) => Ok(Caller::User(claims)),
            _ => {
                tracing::info!("bearer token refused: user deleted or token revoked");
                Err(ApiError::denied())
            }
        };
    }

    Err(ApiError::denied())
}
