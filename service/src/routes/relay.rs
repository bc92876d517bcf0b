//! Network traversal (acs-wire.md §5): STUN/TURN servers with TURN REST credentials.

use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use axum::{Extension, Router};
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::{json, parse_json, require_api_version};
use crate::auth::Caller;
use crate::clock;
use crate::error::ApiError;
use crate::identifier;
use crate::relay::turn_credential;
use crate::state::SharedState;

const API_VERSIONS: &[&str] = &["2021-10-08-preview", "2022-03-01-preview"];

/// Token scopes that may ask for relay credentials (a call needs them).
const SCOPES: &[&str] = &["voip", "voip.join"];

const ROUTE_TYPES: &[&str] = &["any", "nearest"];

pub(super) fn routes() -> Router<SharedState> {
    Router::new().route("/networkTraversal/{action}", post(network_traversal))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RelayRequest {
    id: Option<String>,
    route_type: Option<String>,
    ttl: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct IceServer {
    route_type: &'static str,
    urls: Vec<String>,
    username: String,
    credential: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RelayConfiguration {
    expires_on: String,
    ice_servers: Vec<IceServer>,
}

async fn network_traversal(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    OriginalUri(uri): OriginalUri,
    Path(action): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    if action != ":issueRelayConfiguration" {
        return Err(ApiError::not_found(format!(
            "No resource at {}.",
            uri.path()
        )));
    }
    caller.require_any_scope(SCOPES)?;
    require_api_version(&uri, API_VERSIONS)?;
    let req: RelayRequest = parse_json(&body)?;

    let route_types: Vec<&'static str> = match req.route_type.as_deref() {
        None => ROUTE_TYPES.to_vec(),
        Some(r) => match ROUTE_TYPES.iter().find(|t| t.eq_ignore_ascii_case(r)) {
            Some(t) => vec![*t],
            None => {
                return Err(ApiError::bad_request(format!(
                    "routeType must be 'any' or 'nearest', got '{r}'."
                ))
                .with_target("routeType"));
            }
        },
    };
    // ACS cuts a TTL above its maximum to the maximum rather than refusing it.
    let ttl = match req.ttl {
        None => state.relay.max_ttl_secs,
        Some(t) if t < 0 => {
            return Err(ApiError::bad_request("ttl must not be negative.").with_target("ttl"));
        }
        Some(t) => t.min(state.relay.max_ttl_secs),
    };

    let user = match (&caller, req.id) {
        (Caller::User(claims), Some(id)) if id != claims.user_id() => {
            return Err(ApiError::forbidden(
                "A user access token may only ask for its own relay configuration.",
            ));
        }
        (Caller::User(claims), _) => claims.user_id(),
        (Caller::AccessKey | Caller::ServicePrincipal, Some(id)) => {
            let known = identifier::is_user_of(&id, &state.resource_id)
                && state.storage.user(&id).await?.is_some();
            if !known {
                return Err(
                    ApiError::not_found(format!("Identity '{id}' not found.")).with_target("id")
                );
            }
            id
        }
        // Without a user the TURN username still needs a distinct name after the expiry.
        (Caller::AccessKey | Caller::ServicePrincipal, None) => {
            format!("anonymous-{}", uuid::Uuid::new_v4())
        }
    };

    let expiry = clock::now_secs() + ttl;
    let cred = turn_credential(&state.relay.shared_secret, &user, expiry);
    let ice_servers = route_types
        .into_iter()
        .map(|route_type| IceServer {
            route_type,
            urls: state.relay.urls.clone(),
            username: cred.username.clone(),
            credential: cred.credential.clone(),
        })
        .collect();
    Ok(json(
        StatusCode::OK,
        &RelayConfiguration {
            expires_on: clock::iso8601(expiry),
            ice_servers,
        },
    ))
}
