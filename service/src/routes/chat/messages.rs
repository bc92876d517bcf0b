//! `/chat/threads/{thread}/messages`: send, list (newest first, paged), get, edit, delete.

use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use bytes::Bytes;

use super::{
    api_version, chat_user, continuation, message_id, page_size, query, start_time, thread_id,
    transaction_id,
};
use crate::auth::Caller;
use crate::chat::paging::{self, MessagesToken};
use crate::chat::wire::{
    ChatMessage, Page, SendMessageRequest, SendMessageResult, UpdateMessageRequest,
};
use crate::chat::{ANY_CHAT_SCOPE, MAX_CONTENT_BYTES, events, realtime};
use crate::clock;
use crate::error::ApiError;
use crate::routes::{json, parse_json};
use crate::state::SharedState;
use crate::storage::chat::{MessageEdit, NewMessage, kind};

pub(super) fn routes() -> Router<SharedState> {
    Router::new()
        .route(
            "/chat/threads/{thread}/messages",
            get(list_messages).post(send_message),
        )
        .route(
            "/chat/threads/{thread}/messages/{message}",
            get(get_message)
                .patch(update_message)
                .delete(delete_message),
        )
}

/// Non-empty content within the size limit.
fn content(text: String) -> Result<String, ApiError> {
    if text.is_empty() {
        return Err(ApiError::bad_request("The content is required.").with_target("content"));
    }
    if text.len() > MAX_CONTENT_BYTES {
        return Err(ApiError::bad_request(format!(
            "The content is larger than {MAX_CONTENT_BYTES} bytes."
        ))
        .with_target("content"));
    }
    Ok(text)
}

/// `text` (the default) or `html`, in any letter case.
fn message_kind(kind_name: Option<&str>) -> Result<&'static str, ApiError> {
    match kind_name {
        None => Ok(kind::TEXT),
        Some(k) if k.eq_ignore_ascii_case(kind::TEXT) => Ok(kind::TEXT),
        Some(k) if k.eq_ignore_ascii_case(kind::HTML) => Ok(kind::HTML),
        Some(k) => Err(ApiError::bad_request(format!(
            "A message's type is 'text' or 'html', got '{k}'."
        ))
        .with_target("type")),
    }
}

async fn send_message(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    OriginalUri(uri): OriginalUri,
    Path(thread): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let user = chat_user(&caller, &uri, ANY_CHAT_SCOPE)?;
    let thread = thread_id(&thread)?;
    let req: SendMessageRequest = parse_json(&body)?;
    let message = NewMessage {
        kind: message_kind(req.kind.as_deref())?,
        body: content(req.content.unwrap_or_default())?,
        sender_display_name: req.sender_display_name,
        metadata: req.metadata.unwrap_or_default(),
    };
    let tx_id = transaction_id();
    let changed = state
        .storage
        .send_message(
            &thread,
            &user,
            message,
            clock::now_ms(),
            Box::new(move |c| events::message_received(c, &tx_id)),
        )
        .await?;
    state.chat_hub.publish_with(&changed.audience, || {
        realtime::message_received(&changed.value)
    });
    Ok(json(
        StatusCode::CREATED,
        &SendMessageResult {
            id: changed.value.id.to_string(),
        },
    ))
}

async fn list_messages(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    OriginalUri(uri): OriginalUri,
    Path(thread): Path<String>,
) -> Result<Response, ApiError> {
    let user = chat_user(&caller, &uri, ANY_CHAT_SCOPE)?;
    let thread = thread_id(&thread)?;
    let q = query(&uri)?;
    let limit = page_size(&q)?;
    let token: Option<MessagesToken> = continuation(&q)?;
    let (since_ms, before) = match &token {
        Some(t) => (t.since_ms, Some(t.before_sequence)),
        None => (start_time(&q)?, None),
    };
    let mut messages = state
        .storage
        .list_messages(&thread, &user, since_ms, before, limit + 1)
        .await?;
    let more = messages.len() > limit as usize;
    messages.truncate(limit as usize);
    let next_link = match messages.last() {
        Some(last) if more => Some(format!(
            "/chat/threads/{}/messages?maxPageSize={limit}&continuationToken={}&api-version={}",
            paging::encode_segment(&thread),
            paging::encode(&MessagesToken {
                before_sequence: last.sequence_id,
                since_ms,
            }),
            api_version(&q)
        )),
        _ => None,
    };
    Ok(json(
        StatusCode::OK,
        &Page {
            value: messages.iter().map(ChatMessage::from).collect(),
            next_link,
        },
    ))
}

async fn get_message(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    OriginalUri(uri): OriginalUri,
    Path((thread, message)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let user = chat_user(&caller, &uri, ANY_CHAT_SCOPE)?;
    let thread = thread_id(&thread)?;
    let message = message_id(&message)?;
    let record = state.storage.message(&thread, &user, message).await?;
    Ok(json(StatusCode::OK, &ChatMessage::from(&record)))
}

async fn update_message(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    OriginalUri(uri): OriginalUri,
    Path((thread, message)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let user = chat_user(&caller, &uri, ANY_CHAT_SCOPE)?;
    let thread = thread_id(&thread)?;
    let message = message_id(&message)?;
    let req: UpdateMessageRequest = parse_json(&body)?;
    let edit = MessageEdit {
        body: req.content.map(content).transpose()?,
        metadata: req.metadata,
    };
    let tx_id = transaction_id();
    let changed = state
        .storage
        .update_message(
            &thread,
            &user,
            message,
            edit,
            clock::now_ms(),
            Box::new(move |c| events::message_edited(c, &tx_id)),
        )
        .await?;
    state
        .chat_hub
        .publish(&changed.audience, realtime::message_edited(&changed.value));
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn delete_message(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    OriginalUri(uri): OriginalUri,
    Path((thread, message)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let user = chat_user(&caller, &uri, ANY_CHAT_SCOPE)?;
    let thread = thread_id(&thread)?;
    let message = message_id(&message)?;
    let tx_id = transaction_id();
    let changed = state
        .storage
        .delete_message(
            &thread,
            &user,
            message,
            clock::now_ms(),
            Box::new(move |c| events::message_deleted(c, &tx_id)),
        )
        .await?;
    if let Some(changed) = changed {
        state
            .chat_hub
            .publish(&changed.audience, realtime::message_deleted(&changed.value));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
