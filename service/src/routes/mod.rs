//! The HTTP surface: routes, the checks every route shares, and the fallbacks.

mod calling;
mod chat;
mod email;
mod events;
mod identity;
mod keys;
pub(crate) mod paging;
mod relay;
mod sms;
mod sse;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::auth;
use crate::error::ApiError;
use crate::state::SharedState;

/// The whole service as an axum router.
pub fn router(state: SharedState) -> Router {
    let authenticated = Router::new()
        .merge(identity::routes())
        .merge(relay::routes())
        .merge(chat::routes())
        .merge(calling::routes())
        .merge(sms::routes())
        .merge(email::routes())
        .merge(events::routes())
        .merge(keys::routes())
        // route_layer: unknown paths get 404 without being asked for credentials first.
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ));
    Router::new()
        .merge(authenticated)
        .merge(events::public_routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // The authentication middleware enforces the configured limit with an ACS error body.
        .layer(DefaultBodyLimit::disable())
        .layer(middleware::from_fn(echo_client_request_id))
        .with_state(state)
}

/// Which listener a request came in on, so URLs the service hands out (an email operation's
/// `Operation-Location`) use the scheme the client can reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// The TLS listener.
    Https,
    /// The optional plain-HTTP listener.
    Http,
}

impl Scheme {
    /// `https` or `http`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Https => "https",
            Scheme::Http => "http",
        }
    }
}

/// `scheme://host` as the caller reached the service (the listener's scheme, the `Host`
/// header), for URLs handed back to it.
pub(crate) fn caller_base_url(
    headers: &axum::http::HeaderMap,
    uri: &Uri,
    scheme: Option<axum::Extension<Scheme>>,
) -> Result<String, ApiError> {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()))
        .ok_or_else(|| ApiError::bad_request("The Host header is required."))?;
    let scheme = scheme.map_or(Scheme::Https, |axum::Extension(s)| s);
    Ok(format!("{}://{host}", scheme.as_str()))
}

/// The body limit of a request to `path`: email sends carry attachments up to the message limit.
pub(crate) fn body_limit(state: &crate::state::AppState, path: &str) -> usize {
    if path == email::SEND_PATH {
        state.email.max_request_bytes.max(state.max_body_bytes)
    } else {
        state.max_body_bytes
    }
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found(format!("No resource at {}.", uri.path()))
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        "The resource does not support this method.",
    )
}

static CLIENT_REQUEST_ID: HeaderName = HeaderName::from_static("x-ms-client-request-id");

/// Echoes `x-ms-client-request-id`, as ACS does, so clients can correlate logs.
async fn echo_client_request_id(req: Request, next: Next) -> Response {
    let id = req.headers().get(&CLIENT_REQUEST_ID).cloned();
    let mut response = next.run(req).await;
    if let Some(id) = id {
        response.headers_mut().insert(CLIENT_REQUEST_ID.clone(), id);
    }
    response
}

/// Checks the `api-version` query parameter against the versions a route speaks.
pub(crate) fn require_api_version(uri: &Uri, supported: &[&str]) -> Result<(), ApiError> {
    let version = uri.query().and_then(|q| {
        q.split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == "api-version")
            .map(|(_, v)| v)
    });
    match version {
        None => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "MissingApiVersionParameter",
            "The api-version query parameter is required.",
        )
        .with_target("api-version")),
        Some(v) if supported.contains(&v) => Ok(()),
        Some(v) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "UnsupportedApiVersion",
            format!(
                "The api-version '{v}' is not supported; supported versions: {}.",
                supported.join(", ")
            ),
        )
        .with_target("api-version")),
    }
}

/// Parses a JSON request body; an empty body is the type's default (all fields absent).
pub(crate) fn parse_json<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("The request body is not valid: {e}.")))
}

/// A JSON response with a status.
pub(crate) fn json<T: serde::Serialize>(status: StatusCode, value: &T) -> Response {
    (status, axum::Json(value)).into_response()
}
