//! Identity (acs-wire.md §4): users and their access tokens.

use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use axum::{Extension, Router};
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::{json, parse_json, require_api_version};
use crate::auth::Caller;
use crate::auth::token::{self, Claims};
use crate::clock;
use crate::error::ApiError;
use crate::identifier;
use crate::state::SharedState;
use crate::storage::UserRecord;

/// Versions whose identity shapes are the ones served here; 2023-10-01 is the current SDK's.
const API_VERSIONS: &[&str] = &[
    "2021-03-07",
    "2022-06-01",
    "2022-10-01",
    "2023-08-01",
    "2023-10-01",
];

pub(super) fn routes() -> Router<SharedState> {
    Router::new()
        .route("/identities", post(create_user))
        .route("/identities/{id}", delete(delete_user))
        // The verbs are path segments (`/:issueAccessToken`), captured and matched here.
        .route("/identities/{id}/{action}", post(user_action))
        .route("/teamsUser/{action}", post(teams_user_action))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateUserRequest {
    create_token_with_scopes: Option<Vec<String>>,
    expires_in_minutes: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IssueTokenRequest {
    scopes: Option<Vec<String>>,
    expires_in_minutes: Option<i64>,
}

#[derive(Debug, Serialize)]
struct Identity {
    id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AccessToken {
    token: String,
    expires_on: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateUserResponse {
    identity: Identity,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_token: Option<AccessToken>,
}

/// Validated token parameters: known scopes and a lifetime in range.
fn token_params(
    scopes: Option<Vec<String>>,
    minutes: Option<i64>,
) -> Result<(Vec<String>, i64), ApiError> {
    let scopes = scopes.ok_or_else(|| {
        ApiError::bad_request("The scopes of the token are required.").with_target("scopes")
    })?;
    let scopes = token::validate_scopes(&scopes)
        .map_err(|m| ApiError::bad_request(m).with_target("scopes"))?;
    let minutes = token::validate_expiry(minutes)
        .map_err(|m| ApiError::bad_request(m).with_target("expiresInMinutes"))?;
    Ok((scopes, minutes))
}

fn issue(state: &SharedState, user: &UserRecord, scopes: &[String], minutes: i64) -> AccessToken {
    let claims = Claims::new(
        &user.id,
        scopes,
        user.next_issue_ms(clock::now_ms()),
        minutes,
        &state.resource_id,
        &state.resource_location,
    );
    AccessToken {
        token: state.token_key.issue(&claims),
        expires_on: clock::iso8601(claims.exp),
    }
}

/// A known user of this resource, or 404.
async fn existing_user(state: &SharedState, id: &str) -> Result<UserRecord, ApiError> {
    if !identifier::is_user_of(id, &state.resource_id) {
        return Err(ApiError::not_found(format!("Identity '{id}' not found.")));
    }
    state
        .storage
        .user(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Identity '{id}' not found.")))
}

async fn create_user(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    OriginalUri(uri): OriginalUri,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.require_access_key()?;
    require_api_version(&uri, API_VERSIONS)?;
    let req: CreateUserRequest = parse_json(&body)?;
    // Everything is validated before anything is stored.
    let token_params = match req.create_token_with_scopes {
        Some(scopes) => Some(token_params(Some(scopes), req.expires_in_minutes)?),
        None => {
            token::validate_expiry(req.expires_in_minutes)
                .map_err(|m| ApiError::bad_request(m).with_target("expiresInMinutes"))?;
            None
        }
    };
    let user = UserRecord {
        id: identifier::new_user_id(&state.resource_id),
        created_ms: clock::now_ms(),
        tokens_revoked_ms: None,
    };
    state.storage.create_user(&user).await?;
    let access_token = token_params.map(|(scopes, minutes)| issue(&state, &user, &scopes, minutes));
    Ok(json(
        StatusCode::CREATED,
        &CreateUserResponse {
            identity: Identity { id: user.id },
            access_token,
        },
    ))
}

async fn user_action(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    OriginalUri(uri): OriginalUri,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    match action.as_str() {
        ":issueAccessToken" => {
            caller.require_access_key()?;
            require_api_version(&uri, API_VERSIONS)?;
            let req: IssueTokenRequest = parse_json(&body)?;
            let (scopes, minutes) = token_params(req.scopes, req.expires_in_minutes)?;
            let user = existing_user(&state, &id).await?;
            Ok(json(
                StatusCode::OK,
                &issue(&state, &user, &scopes, minutes),
            ))
        }
        ":revokeAccessTokens" => {
            caller.require_access_key()?;
            require_api_version(&uri, API_VERSIONS)?;
            existing_user(&state, &id).await?;
            if !state.storage.revoke_tokens(&id, clock::now_ms()).await? {
                return Err(ApiError::not_found(format!("Identity '{id}' not found.")));
            }
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        _ => Err(ApiError::not_found(format!(
            "No resource at {}.",
            uri.path()
        ))),
    }
}

async fn delete_user(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    OriginalUri(uri): OriginalUri,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require_access_key()?;
    require_api_version(&uri, API_VERSIONS)?;
    if !identifier::is_user_of(&id, &state.resource_id) || !state.storage.delete_user(&id).await? {
        return Err(ApiError::not_found(format!("Identity '{id}' not found.")));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn teams_user_action(
    Extension(caller): Extension<Caller>,
    OriginalUri(uri): OriginalUri,
    Path(action): Path<String>,
) -> Result<Response, ApiError> {
    if action != ":exchangeAccessToken" {
        return Err(ApiError::not_found(format!(
            "No resource at {}.",
            uri.path()
        )));
    }
    caller.require_access_key()?;
    require_api_version(&uri, API_VERSIONS)?;
    // A Teams token exchange needs Entra ID and Teams; a local service has neither.
    Err(ApiError::new(
        StatusCode::NOT_IMPLEMENTED,
        "NotImplemented",
        "Teams user token exchange is not available on the local service.",
    ))
}
