//! `/chat/threads/{thread}/readReceipts` (send, list) and `/typing`.

use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use bytes::Bytes;

use super::{chat_user, message_id, page_size, query, skip, skip_page, thread_id};
use crate::auth::Caller;
use crate::chat::wire::{ChatMessageReadReceipt, Page, ReadReceiptRequest, TypingRequest};
use crate::chat::{ANY_CHAT_SCOPE, realtime};
use crate::clock;
use crate::error::ApiError;
use crate::routes::{json, parse_json};
use crate::state::SharedState;

pub(super) fn routes() -> Router<SharedState> {
    Router::new()
        .route(
            "/chat/threads/{thread}/readReceipts",
            get(list_read_receipts).post(send_read_receipt),
        )
        .route("/chat/threads/{thread}/typing", post(send_typing))
}

async fn send_read_receipt(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    OriginalUri(uri): OriginalUri,
    Path(thread): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let user = chat_user(&caller, &uri, ANY_CHAT_SCOPE)?;
    let thread = thread_id(&thread)?;
    let req: ReadReceiptRequest = parse_json(&body)?;
    let Some(message) = req.chat_message_id else {
        return Err(
            ApiError::bad_request("chatMessageId is required.").with_target("chatMessageId")
        );
    };
    let message = message_id(&message)?;
    // Read receipts are not Event Grid events: nothing goes to the outbox.
    let changed = state
        .storage
        .send_read_receipt(
            &thread,
            &user,
            message,
            clock::now_ms(),
            Box::new(|_| Vec::new()),
        )
        .await?;
    state.chat_hub.publish(
        &changed.audience,
        realtime::read_receipt(&thread, &changed.value),
    );
    Ok(StatusCode::OK.into_response())
}

async fn list_read_receipts(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    OriginalUri(uri): OriginalUri,
    Path(thread): Path<String>,
) -> Result<Response, ApiError> {
    let user = chat_user(&caller, &uri, ANY_CHAT_SCOPE)?;
    let thread = thread_id(&thread)?;
    let q = query(&uri)?;
    let limit = page_size(&q)?;
    let skip = skip(&q)?;
    let list = state
        .storage
        .list_read_receipts(&thread, &user, skip, limit + 1)
        .await?;
    let page: Page<ChatMessageReadReceipt> =
        skip_page(list, "readReceipts", &thread, limit, skip, &q);
    Ok(json(StatusCode::OK, &page))
}

async fn send_typing(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    OriginalUri(uri): OriginalUri,
    Path(thread): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let user = chat_user(&caller, &uri, ANY_CHAT_SCOPE)?;
    let thread = thread_id(&thread)?;
    let req: TypingRequest = parse_json(&body)?;
    // Typing changes no state: a membership check, then the notification.
    let audience = state.storage.audience(&thread, &user).await?;
    state.chat_hub.publish(
        &audience.audience,
        realtime::typing(
            &thread,
            &user,
            req.sender_display_name.as_deref(),
            clock::now_ms(),
        ),
    );
    Ok(StatusCode::OK.into_response())
}
