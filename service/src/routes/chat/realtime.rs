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

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{OriginalUri, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use futures_util::stream::{self, StreamExt};

use super::chat_user;
use crate::auth::Caller;
use crate::chat::ANY_CHAT_SCOPE;
use crate::error::ApiError;
use crate::state::SharedState;

/// Interval of the keep-alive comments that hold idle connections open through proxies.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub(super) fn routes() -> Router<SharedState> {
    Router::new().route("/chat/realtime", get(realtime))
}

async fn realtime(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    OriginalUri(uri): OriginalUri,
) -> Result<Response, ApiError> {
    let user = chat_user(&caller, &uri, ANY_CHAT_SCOPE)?;
    let Some(queue) = state.chat_hub.subscribe(&user) else {
        return Err(ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "The service is shutting down.",
        ));
    };
    let connected = stream::once(async {
        Ok::<Event, Infallible>(
            Event::default()
                .event("realTimeNotificationConnected")
                .data("{}"),
        )
    });
    let notifications = stream::unfold((queue, user), |(mut queue, user)| async move {
        let n = queue.recv().await?;
        let event = Event::default()
            .event(n.name)
            .id(n.id.clone())
            .data(n.data_for(&user).to_string());
        Some((Ok::<Event, Infallible>(event), (queue, user)))
    });
    Ok(Sse::new(connected.chain(notifications))
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response())
}
