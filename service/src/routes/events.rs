//! Event subscriptions over REST: the local stand-in for the Azure Resource Manager calls that
//! manage Event Grid subscriptions of a real ACS resource (`PUT/GET/DELETE
//! /eventSubscriptions/{name}`, `GET /eventSubscriptions`), dead-lettered events for operators
//! (`GET /eventSubscriptions/{name}/deadLetteredEvents`), and the validation URL that webhooks
//! may GET during the handshake (unauthenticated: the code in it is the credential).

use std::sync::Arc;

use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use bytes::Bytes;
use serde_json::json;

use super::paging::{page_size, query, skip, skip_page};
use super::{json, parse_json, require_api_version};
use crate::auth::Caller;
use crate::chat::wire::Page;
use crate::clock;
use crate::error::ApiError;
use crate::events::handshake;
use crate::events::subscription::{SpecError, valid_name};
use crate::events::wire::{DeadLetteredEvent, PutRequest, resource};
use crate::state::SharedState;
use crate::storage::events::{SubscriptionRecord, state};

/// Event Grid's ARM api-versions for event subscriptions whose shapes these follow.
const API_VERSIONS: &[&str] = &["2022-06-15", "2025-02-15"];

/// Dead letters per page unless `maxPageSize` says otherwise, and at most.
const DEAD_LETTER_PAGE: (u32, u32) = (100, 1000);

pub(super) fn routes() -> Router<SharedState> {
    Router::new()
        .route("/eventSubscriptions", get(list))
        .route(
            "/eventSubscriptions/{name}",
            get(read).put(put).delete(delete),
        )
        .route(
            "/eventSubscriptions/{name}/deadLetteredEvents",
            get(dead_letters),
        )
}

/// Routes without authentication.
pub(super) fn public_routes() -> Router<SharedState> {
    Router::new().route("/eventSubscriptions/{name}/validate", get(validate))
}

impl From<SpecError> for ApiError {
    fn from(e: SpecError) -> Self {
        ApiError::bad_request(e.message).with_target(e.target)
    }
}

/// The access key's caller, a supported api-version, and a valid name (else 404: no such
/// subscription can exist).
fn admin(caller: &Caller, uri: &axum::http::Uri, name: Option<&str>) -> Result<(), ApiError> {
    caller.require_access_key()?;
    require_api_version(uri, API_VERSIONS)?;
    match name {
        Some(n) if !valid_name(n) => Err(not_found(n)),
        _ => Ok(()),
    }
}

fn not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("The event subscription '{name}' does not exist."))
        .with_target("name")
}

async fn existing(state: &SharedState, name: &str) -> Result<SubscriptionRecord, ApiError> {
    state
        .storage
        .subscription(name)
        .await?
        .ok_or_else(|| not_found(name))
}

async fn put(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    OriginalUri(uri): OriginalUri,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.require_access_key()?;
    require_api_version(&uri, API_VERSIONS)?;
    if !valid_name(&name) {
        return Err(ApiError::bad_request(
            "The subscription name must be 3 to 64 letters, digits or '-'.",
        )
        .with_target("name"));
    }
    let spec = parse_json::<PutRequest>(&body)?.into_spec(&name)?;
    let now = clock::now_ms();
    let put = state
        .storage
        .put_subscription(&spec, false, &handshake::new_validation(now), now)
        .await?;
    if put.validate {
        handshake::spawn(
            Arc::clone(&state.storage),
            Arc::clone(&state.events),
            put.record.clone(),
        );
    }
    let status = if put.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(json(status, &resource(&put.record, &state.events.topic)))
}

async fn read(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    OriginalUri(uri): OriginalUri,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    admin(&caller, &uri, Some(&name))?;
    let record = existing(&state, &name).await?;
    Ok(json(
        StatusCode::OK,
        &resource(&record, &state.events.topic),
    ))
}

async fn list(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    OriginalUri(uri): OriginalUri,
) -> Result<Response, ApiError> {
    admin(&caller, &uri, None)?;
    let value: Vec<_> = state
        .storage
        .subscriptions()
        .await?
        .iter()
        .map(|r| resource(r, &state.events.topic))
        .collect();
    Ok(json(StatusCode::OK, &json!({ "value": value })))
}

async fn delete(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    OriginalUri(uri): OriginalUri,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    admin(&caller, &uri, Some(&name))?;
    if state.storage.delete_subscription(&name).await? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(not_found(&name))
    }
}

async fn dead_letters(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    OriginalUri(uri): OriginalUri,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    admin(&caller, &uri, Some(&name))?;
    let q = query(&uri)?;
    let (default, max) = DEAD_LETTER_PAGE;
    let limit = page_size(&q, default, max)?;
    let skip = skip(&q)?;
    existing(&state, &name).await?;
    let list = state.storage.dead_letters(&name, skip, limit + 1).await?;
    let page: Page<DeadLetteredEvent> = skip_page(
        list,
        &format!("/eventSubscriptions/{name}/deadLetteredEvents"),
        limit,
        skip,
        &q,
    );
    Ok(json(StatusCode::OK, &page))
}

/// The handshake's validation URL: a GET with the current code validates the subscription.
async fn validate(
    State(state): State<SharedState>,
    OriginalUri(uri): OriginalUri,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let q = query(&uri)?;
    let code = q.get("code").map(String::as_str).unwrap_or_default();
    let validated = valid_name(&name)
        && !code.is_empty()
        && state
            .storage
            .settle_validation(
                &name,
                code,
                &[state::CREATING, state::AWAITING_MANUAL_ACTION],
                state::SUCCEEDED,
                None,
                clock::now_ms(),
            )
            .await?;
    if !validated {
        return Err(ApiError::not_found(
            "No event subscription awaits validation with this code (or it expired).",
        ));
    }
    tracing::info!(subscription = %name, "event subscription validated through its validation URL");
    state.storage.deliveries_queued().notify_one();
    Ok((
        StatusCode::OK,
        "Webhook successfully validated as a subscription endpoint.",
    )
        .into_response())
}
