//! `GET /chat/realtime`: the caller's chat notifications as server-sent events (MediaCore's
//! own addition; ACS's clients use a private real-time channel).
//!
//! ```text
//! event: realTimeNotificationConnected
//! data: {}
//!
//! event: chatMessageReceived
//! id: 6c0d…
//! data: {"threadId":"19:…@thread.v2","sender":{…},"recipient":{…},"id":"1795521600123",…}
//! ```

use axum::extract::{OriginalUri, State};
use axum::response::Response;
use axum::response::sse::Event;
use axum::routing::get;
use axum::{Extension, Router};
use futures_util::stream;

use super::chat_user;
use crate::auth::Caller;
use crate::chat::ANY_CHAT_SCOPE;
use crate::error::ApiError;
use crate::routes::sse;
use crate::state::SharedState;

pub(super) fn routes() -> Router<SharedState> {
    Router::new().route("/chat/realtime", get(realtime))
}

async fn realtime(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    OriginalUri(uri): OriginalUri,
) -> Result<Response, ApiError> {
    let user = chat_user(&caller, &uri, ANY_CHAT_SCOPE)?;
    let queue = state
        .chat_hub
        .subscribe(&user)
        .ok_or_else(sse::shutting_down)?;
    let notifications = stream::unfold((queue, user), |(mut queue, user)| async move {
        let n = queue.recv().await?;
        let event = Event::default()
            .event(n.name)
            .id(n.id.clone())
            .data(n.data_for(&user).to_string());
        Some((event, (queue, user)))
    });
    Ok(sse::response(
        ("realTimeNotificationConnected", "{}".to_owned()),
        notifications,
    ))
}
