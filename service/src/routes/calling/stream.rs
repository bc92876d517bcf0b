//! Engine registrations and their notification streams.
//!
//! `POST /calling/registrations` registers an engine of the calling user (201
//! `{"id","user","eventsPath"}`); from then on every notification for that user is buffered for
//! the registration, numbered from 1. `GET /calling/registrations/{id}/events` streams the
//! buffer as server-sent events (`id:` is the number) and then follows it; a client that
//! reconnects with `Last-Event-ID: n` gets everything after `n`, and what it confirmed that
//! way is dropped from the buffer. `DELETE /calling/registrations/{id}` ends the registration.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::Event;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use futures_util::stream;
use serde_json::json;

use super::Req;
use crate::calling::API_VERSIONS;
use crate::calling::transitions::identifier;
use crate::clock;
use crate::error::ApiError;
use crate::routes::{json, sse};
use crate::state::SharedState;
use crate::storage::calling::StoredSignal;

/// Longest wait between two looks at the buffer without a wake (changes made by another node).
const POLL: Duration = Duration::from_secs(2);

/// Notifications read from the buffer per look.
const READ_BATCH: u32 = 100;

pub(super) fn routes() -> Router<SharedState> {
    Router::new()
        .route("/calling/registrations", post(register))
        .route("/calling/registrations/{id}", delete(unregister))
        .route("/calling/registrations/{id}/events", get(events))
}

fn unknown_registration() -> ApiError {
    ApiError::not_found("The registration does not exist.").with_target("registrationId")
}

/// The registration `id` if it is `user`'s: 404 unknown, 403 someone else's.
async fn own_registration(state: &SharedState, id: &str, user: &str) -> Result<(), ApiError> {
    if uuid::Uuid::try_parse(id).is_err() {
        return Err(unknown_registration());
    }
    match state.storage.registration_user(id).await? {
        None => Err(unknown_registration()),
        Some(owner) if owner == user => Ok(()),
        Some(_) => Err(ApiError::forbidden(
            "The registration belongs to another user.",
        )),
    }
}

async fn register(r: Req) -> Result<Response, ApiError> {
    let user = r.voip_user()?;
    let state = r.state;
    let id = uuid::Uuid::new_v4().to_string();
    state
        .storage
        .create_registration(&id, &user, clock::now_ms())
        .await?;
    let body = json!({
        "id": id,
        "user": identifier(&user),
        "eventsPath": format!("/calling/registrations/{id}/events?api-version={}", API_VERSIONS[0]),
    });
    Ok(json(StatusCode::CREATED, &body))
}

async fn unregister(r: Req, Path(id): Path<String>) -> Result<Response, ApiError> {
    let user = r.voip_user()?;
    let state = r.state;
    own_registration(&state, &id, &user).await?;
    state.storage.delete_registration(&id).await?;
    // Its open streams look again and end.
    state.calling.hub.wake([user.as_str()]);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `Last-Event-ID`: the last notification the client received (0: none).
fn last_event_id(headers: &HeaderMap) -> Result<i64, ApiError> {
    match headers.get("last-event-id") {
        None => Ok(0),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .filter(|n| *n >= 0)
            .ok_or_else(|| {
                ApiError::bad_request("Last-Event-ID must be a notification number.")
                    .with_target("Last-Event-ID")
            }),
    }
}

async fn events(r: Req, Path(id): Path<String>, headers: HeaderMap) -> Result<Response, ApiError> {
    let user = r.voip_user()?;
    let state = r.state;
    own_registration(&state, &id, &user).await?;
    let last = last_event_id(&headers)?;
    if last > 0 {
        state.storage.acknowledge_signals(&id, last).await?;
    }
    let waker = state
        .calling
        .hub
        .waker(&user)
        .ok_or_else(sse::shutting_down)?;
    let connected = json!({ "registrationId": id, "lastEventId": last }).to_string();
    let follow = Follow {
        state,
        registration: id,
        waker,
        last,
        buffered: VecDeque::new(),
    };
    let notifications = stream::unfold(follow, |mut f| async move {
        let s = f.next().await?;
        let event = Event::default()
            .event(s.name)
            .id(s.seq.to_string())
            .data(s.data.to_string());
        Some((event, f))
    });
    Ok(sse::response(
        ("registrationConnected", connected),
        notifications,
    ))
}

/// A stream's position in its registration's buffer.
struct Follow {
    state: SharedState,
    registration: String,
    waker: Arc<tokio::sync::Notify>,
    last: i64,
    buffered: VecDeque<StoredSignal>,
}

impl Follow {
    /// The next notification; `None` when the service shuts down, the registration is gone or
    /// the storage fails (the client reconnects with `Last-Event-ID` and loses nothing).
    async fn next(&mut self) -> Option<StoredSignal> {
        loop {
            if let Some(s) = self.buffered.pop_front() {
                self.last = s.seq;
                return Some(s);
            }
            // Enabled before the read, so a commit between the read and the wait still wakes it.
            let woken = self.waker.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            if self.state.calling.hub.is_closed() {
                return None;
            }
            let read = self
                .state
                .storage
                .signals_after(&self.registration, self.last, READ_BATCH)
                .await;
            match read {
                Ok(list) if !list.is_empty() => self.buffered.extend(list),
                Ok(_) => {
                    // Nothing new: a deleted registration ends its streams.
                    match self
                        .state
                        .storage
                        .registration_user(&self.registration)
                        .await
                    {
                        Ok(Some(_)) => {}
                        Ok(None) => return None,
                        Err(e) => {
                            tracing::error!("call notifications: {e}");
                            return None;
                        }
                    }
                    let _ = tokio::time::timeout(POLL, woken).await;
                }
                Err(e) => {
                    tracing::error!("call notifications: {e}");
                    return None;
                }
            }
        }
    }
}
