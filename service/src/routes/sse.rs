//! Server-sent event responses shared by the real-time routes (chat notifications, call
//! signaling): a first event that says the subscription is in place, then the stream, with
//! keep-alive comments.

use std::convert::Infallible;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream, StreamExt};

use crate::error::ApiError;

/// Interval of the keep-alive comments that hold idle connections open through proxies.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// A `text/event-stream` response: `first` (name and JSON data), then `events`.
pub(crate) fn response<S>(first: (&'static str, String), events: S) -> Response
where
    S: Stream<Item = Event> + Send + 'static,
{
    let (name, data) = first;
    let first = stream::once(async move { Event::default().event(name).data(data) });
    Sse::new(first.chain(events).map(Ok::<Event, Infallible>))
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response()
}

/// 503 for a stream asked for while the service shuts down.
pub(crate) fn shutting_down() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "ServiceUnavailable",
        "The service is shutting down.",
    )
}
