//! Email (acs-wire.md §7): `POST /emails:send` answers 202 with the operation, the dispatcher
//! delivers it over SMTP, and `GET /emails/operations/{id}` reports its status to the SDK's
//! poller.

use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Router};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::{Scheme, caller_base_url, json, parse_json, require_api_version};
use crate::auth::Caller;
use crate::clock;
use crate::email::wire::{OperationStatus, SendRequest};
use crate::email::{self, status};
use crate::error::ApiError;
use crate::state::SharedState;
use crate::storage::email::{EmailInsert, EmailRecord};

/// The version azure-communication-email 1.1.0 speaks, and the earlier GA one.
const API_VERSIONS: &[&str] = &["2023-03-31", "2025-09-01"];

/// Longest operation or repeatability id kept.
const MAX_ID: usize = 128;

pub(super) fn routes() -> Router<SharedState> {
    Router::new()
        .route("/emails:send", post(send))
        .route("/emails/operations/{id}", get(operation))
}

/// The path a send's body limit is raised for (attachments up to the message limit).
pub(crate) const SEND_PATH: &str = "/emails:send";

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, ApiError> {
    headers
        .get(name)
        .map(|v| {
            v.to_str().map_err(|_| {
                ApiError::bad_request(format!("The {name} header is not text.")).with_target(name)
            })
        })
        .transpose()
}

/// An id that goes into a URL path unescaped: letters, digits, `-`, `_`, `.`.
fn checked_id(id: &str, name: &str) -> Result<(), ApiError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_ID
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "The {name} header must be 1 to {MAX_ID} letters, digits, '-', '_' or '.'."
        ))
        .with_target(name))
    }
}

fn api_version(uri: &axum::http::Uri) -> &str {
    uri.query()
        .and_then(|q| {
            q.split('&')
                .filter_map(|p| p.split_once('='))
                .find(|(k, _)| *k == "api-version")
                .map(|(_, v)| v)
        })
        .unwrap_or(API_VERSIONS[API_VERSIONS.len() - 1])
}

fn with_headers(
    mut response: Response,
    pairs: &[(&'static str, String)],
) -> Result<Response, ApiError> {
    for (name, value) in pairs {
        let value = HeaderValue::from_str(value).map_err(|_| ApiError::internal())?;
        response.headers_mut().insert(*name, value);
    }
    Ok(response)
}

fn status_body(op: &EmailRecord) -> OperationStatus {
    OperationStatus {
        id: op.id.clone(),
        status: op.status.clone(),
        error: op
            .error
            .as_deref()
            .and_then(|e| serde_json::from_str(e).ok()),
    }
}

fn finished(op: &EmailRecord) -> bool {
    op.status == status::SUCCEEDED || op.status == status::FAILED
}

async fn send(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    scheme: Option<Extension<Scheme>>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.require_access_key()?;
    require_api_version(&uri, API_VERSIONS)?;
    let operation_id = header_text(&headers, "operation-id")?;
    if let Some(id) = operation_id {
        checked_id(id, "operation-id")?;
    }
    let repeatability_id = header_text(&headers, "repeatability-request-id")?;
    if let Some(id) = repeatability_id {
        checked_id(id, "repeatability-request-id")?;
    }
    if let Some(first) = header_text(&headers, "repeatability-first-sent")?
        && httpdate::parse_http_date(first).is_err()
    {
        return Err(
            ApiError::bad_request("repeatability-first-sent must be an RFC 1123 date.")
                .with_target("repeatability-first-sent"),
        );
    }
    let req: SendRequest = parse_json(&body)?;
    email::validate(&req, state.email.max_message_bytes)?;

    // The request as stored is the request as parsed, so a replay that differs only in JSON
    // spacing or key order is still the same request.
    let stored = serde_json::to_string(&req).map_err(|_| ApiError::internal())?;
    let now_ms = clock::now_ms();
    let record = EmailRecord {
        id: operation_id.map_or_else(email::new_operation_id, str::to_owned),
        status: status::NOT_STARTED.to_owned(),
        request_hash: B64.encode(Sha256::digest(stored.as_bytes())),
        request: stored,
        sender: req.sender_address.clone().unwrap_or_default(),
        error: None,
        internet_message_id: None,
        created_ms: now_ms,
        updated_ms: now_ms,
    };
    let op = match state.storage.store_email(&record, repeatability_id).await? {
        EmailInsert::Stored => {
            state.email.wake.notify_one();
            record
        }
        EmailInsert::Replayed(earlier) => earlier,
        EmailInsert::Conflict => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "Conflict",
                "The operation id was already used for a different message.",
            )
            .with_target("operation-id"));
        }
    };

    let location = format!(
        "{}/emails/operations/{}?api-version={}",
        caller_base_url(&headers, &uri, scheme)?,
        op.id,
        api_version(&uri)
    );
    // ACS answers a fresh send "Running" (acs-wire.md §7); the operation reads back as
    // NotStarted until the dispatcher opens the SMTP session, which the poller treats alike.
    let mut body = status_body(&op);
    if !finished(&op) {
        body.status = status::RUNNING.to_owned();
    }
    with_headers(
        json(StatusCode::ACCEPTED, &body),
        &[
            ("operation-location", location),
            ("retry-after", state.email.retry_after_seconds.to_string()),
            ("operation-id", op.id.clone()),
        ],
    )
}

async fn operation(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    OriginalUri(uri): OriginalUri,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require_access_key()?;
    require_api_version(&uri, API_VERSIONS)?;
    let Some(op) = state.storage.email(&id).await? else {
        return Err(
            ApiError::not_found(format!("No email operation '{id}'.")).with_target("operationId")
        );
    };
    let mut pairs = vec![("operation-id", op.id.clone())];
    if !finished(&op) {
        pairs.push(("retry-after", state.email.retry_after_seconds.to_string()));
    }
    with_headers(json(StatusCode::OK, &status_body(&op)), &pairs)
}
