//! `/chat/threads`: create (with `repeatability-request-id`), list, get, update topic, delete.

use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::{
    api_version, chat_user, continuation, page_size, query, resolve_participants, start_time,
    thread_id, transaction_id,
};
use crate::auth::Caller;
use crate::chat::paging::{self, ThreadsToken};
use crate::chat::wire::{
    ChatThreadItem, ChatThreadProperties, CreateThreadRequest, CreateThreadResult, Page,
    UpdateThreadRequest,
};
use crate::chat::{ANY_CHAT_SCOPE, THREAD_ADMIN_SCOPES, events, new_thread_id, realtime};
use crate::clock;
use crate::error::ApiError;
use crate::routes::{json, parse_json};
use crate::state::SharedState;
use crate::storage::chat::{CreateThreadOutcome, NewThread, ThreadCursor};

/// Longest `repeatability-request-id` kept.
const MAX_REQUEST_ID: usize = 256;

pub(super) fn routes() -> Router<SharedState> {
    Router::new()
        .route("/chat/threads", get(list_threads).post(create_thread))
        .route(
            "/chat/threads/{thread}",
            get(get_thread).patch(update_thread).delete(delete_thread),
        )
}

/// A required, non-blank topic.
fn topic(topic: Option<String>) -> Result<String, ApiError> {
    match topic {
        Some(t) if !t.trim().is_empty() => Ok(t),
        _ => Err(ApiError::bad_request("The topic is required.").with_target("topic")),
    }
}

async fn create_thread(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let user = chat_user(&caller, &uri, THREAD_ADMIN_SCOPES)?;
    let req: CreateThreadRequest = parse_json(&body)?;
    let topic = topic(req.topic)?;
    let request_id = match headers.get("repeatability-request-id") {
        None => None,
        Some(v) => match v.to_str() {
            Ok(s) if !s.is_empty() && s.len() <= MAX_REQUEST_ID => Some(s.to_owned()),
            _ => {
                return Err(ApiError::bad_request(format!(
                    "repeatability-request-id must be 1 to {MAX_REQUEST_ID} visible characters."
                ))
                .with_target("repeatability-request-id"));
            }
        },
    };
    let (participants, invalid) =
        resolve_participants(&state, req.participants.unwrap_or_default()).await?;

    let now_ms = clock::now_ms();
    let id = new_thread_id();
    let response = CreateThreadResult {
        chat_thread: ChatThreadProperties {
            id: id.clone(),
            topic: topic.clone(),
            created_on: crate::chat::iso(now_ms),
            created_by_communication_identifier: crate::identifier::IdentifierModel::from_raw(
                &user,
            ),
            deleted_on: None,
        },
        invalid_participants: (!invalid.is_empty()).then_some(invalid),
    };
    let response = serde_json::to_string(&response).map_err(|e| {
        tracing::error!("serialising a thread: {e}");
        ApiError::internal()
    })?;
    let tx_id = transaction_id();
    let outcome = state
        .storage
        .create_thread(
            NewThread {
                id,
                topic,
                creator: user,
                participants,
                repeatability: request_id.map(|r| (r, B64.encode(Sha256::digest(&body)))),
                response: response.clone(),
                now_ms,
            },
            Box::new(move |changed| events::thread_created(changed, &tx_id)),
        )
        .await?;
    let body = match outcome {
        CreateThreadOutcome::Created(changed) => {
            state
                .chat_hub
                .publish(&changed.audience, realtime::thread_created(&changed));
            response
        }
        CreateThreadOutcome::Replayed(stored) => stored,
    };
    Ok((
        StatusCode::CREATED,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response())
}

async fn list_threads(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    OriginalUri(uri): OriginalUri,
) -> Result<Response, ApiError> {
    let user = chat_user(&caller, &uri, ANY_CHAT_SCOPE)?;
    let q = query(&uri)?;
    let limit = page_size(&q)?;
    let token: Option<ThreadsToken> = continuation(&q)?;
    let since_ms = match &token {
        Some(t) => t.since_ms,
        None => start_time(&q)?,
    };
    let cursor = token.map(|t| ThreadCursor {
        activity_ms: t.activity_ms,
        id: t.id,
    });
    let mut threads = state
        .storage
        .list_threads(&user, since_ms, cursor, limit + 1)
        .await?;
    let more = threads.len() > limit as usize;
    threads.truncate(limit as usize);
    let next_link = match threads.last() {
        Some(last) if more => Some(format!(
            "/chat/threads?maxPageSize={limit}&continuationToken={}&api-version={}",
            paging::encode(&ThreadsToken {
                activity_ms: last.last_message_ms.unwrap_or(last.created_ms),
                id: last.id.clone(),
                since_ms,
            }),
            api_version(&q)
        )),
        _ => None,
    };
    Ok(json(
        StatusCode::OK,
        &Page {
            value: threads.iter().map(ChatThreadItem::from).collect(),
            next_link,
        },
    ))
}

async fn get_thread(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    OriginalUri(uri): OriginalUri,
    Path(thread): Path<String>,
) -> Result<Response, ApiError> {
    let user = chat_user(&caller, &uri, ANY_CHAT_SCOPE)?;
    let thread = thread_id(&thread)?;
    let record = state.storage.thread_for(&thread, &user).await?;
    Ok(json(StatusCode::OK, &ChatThreadProperties::from(&record)))
}

async fn update_thread(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    OriginalUri(uri): OriginalUri,
    Path(thread): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let user = chat_user(&caller, &uri, THREAD_ADMIN_SCOPES)?;
    let thread = thread_id(&thread)?;
    let req: UpdateThreadRequest = parse_json(&body)?;
    let Some(new_topic) = req.topic else {
        // Nothing to change (the SDK's update_topic(None) sends `{}`): still a member check.
        state.storage.thread_for(&thread, &user).await?;
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    let new_topic = topic(Some(new_topic))?;
    let tx_id = transaction_id();
    let changed = state
        .storage
        .update_topic(
            &thread,
            &user,
            &new_topic,
            clock::now_ms(),
            Box::new(move |c| events::properties_updated(c, &tx_id)),
        )
        .await?;
    state
        .chat_hub
        .publish(&changed.audience, realtime::thread_updated(&changed));
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn delete_thread(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    OriginalUri(uri): OriginalUri,
    Path(thread): Path<String>,
) -> Result<Response, ApiError> {
    let user = chat_user(&caller, &uri, THREAD_ADMIN_SCOPES)?;
    let thread = thread_id(&thread)?;
    let tx_id = transaction_id();
    let by = user.clone();
    let changed = state
        .storage
        .delete_thread(
            &thread,
            &user,
            clock::now_ms(),
            Box::new(move |c| events::thread_deleted(c, &tx_id, &by)),
        )
        .await?;
    state
        .chat_hub
        .publish(&changed.audience, realtime::thread_deleted(&changed, &user));
    Ok(StatusCode::NO_CONTENT.into_response())
}
