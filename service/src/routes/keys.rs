//! The resource's access keys over REST: the local stand-in for the Azure Resource Manager
//! calls `listKeys` and `regenerateKey` of a Communication Services resource (same request and
//! response shapes), at `POST /resource/listKeys` and `POST /resource/regenerateKey`.
//!
//! Regeneration is stored before it takes effect, so a key handed out in a 200 survives a
//! restart; the other key keeps working throughout, so applications rotate without downtime.

use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use axum::{Extension, Router};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::{Scheme, caller_base_url, json, parse_json, require_api_version};
use crate::auth::Caller;
use crate::auth::keys::{AccessKey, AccessKeys, KeyType};
use crate::error::ApiError;
use crate::state::SharedState;

/// ARM api-versions of Microsoft.Communication whose key shapes these follow.
const API_VERSIONS: &[&str] = &["2023-04-01", "2023-06-01-preview"];

/// Length of a generated key, bytes (ACS's keys decode to 64 bytes: 88 base64 characters).
const KEY_BYTES: usize = 64;

pub(super) fn routes() -> Router<SharedState> {
    Router::new()
        .route("/resource/listKeys", post(list_keys))
        .route("/resource/regenerateKey", post(regenerate_key))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RegenerateRequest {
    key_type: Option<String>,
}

/// ARM's `CommunicationServiceKeys`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct KeysBody {
    primary_key: String,
    secondary_key: String,
    primary_connection_string: String,
    secondary_connection_string: String,
}

fn keys_body(keys: &AccessKeys, endpoint: &str) -> KeysBody {
    KeysBody {
        primary_key: keys.primary.base64.clone(),
        secondary_key: keys.secondary.base64.clone(),
        primary_connection_string: format!("endpoint={endpoint};accesskey={}", keys.primary.base64),
        secondary_connection_string: format!(
            "endpoint={endpoint};accesskey={}",
            keys.secondary.base64
        ),
    }
}

async fn list_keys(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    scheme: Option<Extension<Scheme>>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    caller.require_access_key()?;
    require_api_version(&uri, API_VERSIONS)?;
    let endpoint = format!("{}/", caller_base_url(&headers, &uri, scheme)?);
    Ok(json(
        StatusCode::OK,
        &keys_body(&state.keys.current(), &endpoint),
    ))
}

async fn regenerate_key(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    scheme: Option<Extension<Scheme>>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.require_access_key()?;
    require_api_version(&uri, API_VERSIONS)?;
    let request: RegenerateRequest = parse_json(&body)?;
    let which = match request.key_type.as_deref() {
        Some(t) => KeyType::parse(t).ok_or_else(|| {
            ApiError::bad_request(format!(
                "keyType must be 'Primary' or 'Secondary', not '{t}'."
            ))
            .with_target("keyType")
        })?,
        None => {
            return Err(ApiError::bad_request("keyType is required.").with_target("keyType"));
        }
    };
    if state.keys.current().get(which).configured {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "KeyFixedByConfiguration",
            format!(
                "This key is set by the service configuration ({}); remove it there to let the \
                 service generate and regenerate it.",
                which.config_names()
            ),
        )
        .with_target("keyType"));
    }
    let endpoint = format!("{}/", caller_base_url(&headers, &uri, scheme)?);

    // One regeneration at a time, so the stored key and the one in force cannot cross.
    let _updating = state.keys.updating().await;
    let mut bytes = [0u8; KEY_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| {
        tracing::error!("no randomness for a new access key: {e}");
        ApiError::internal()
    })?;
    let text = B64.encode(bytes);
    let key = AccessKey::from_base64(&text, false).ok_or_else(ApiError::internal)?;
    // Stored first: once the caller sees the new key, a restart keeps it.
    state.storage.put_setting(which.setting(), &text).await?;
    let keys = state.keys.replace(which, key);
    tracing::info!("access key regenerated: {which:?}");
    Ok(json(StatusCode::OK, &keys_body(&keys, &endpoint)))
}
