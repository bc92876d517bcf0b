//! Chat routes (acs-wire.md §8), called with a user access token carrying a chat scope, as in
//! ACS. Every handler checks, in order: the caller and its scope, the api-version, the ids in
//! the path, the body; then one storage transaction does the rest (membership included).

mod messages;
mod participants;
mod realtime;
mod receipts;
mod threads;

use std::collections::HashMap;

use axum::Router;
use axum::http::{StatusCode, Uri};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::paging::{api_version, query, skip};
use super::require_api_version;
use crate::auth::Caller;
use crate::chat::wire::{ChatError, ParticipantInput};
use crate::chat::{self, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::error::ApiError;
use crate::identifier::{self, Identified};
use crate::state::SharedState;
use crate::storage::chat::{ChatRefusal, ChatStoreError, ParticipantRecord};

/// Versions whose chat shapes are the ones served here; 2024-03-07 is chat 1.3.0's.
const API_VERSIONS: &[&str] = &["2021-03-07", "2021-09-07", "2023-11-07", "2024-03-07"];

pub(super) fn routes() -> Router<SharedState> {
    Router::new()
        .merge(threads::routes())
        .merge(messages::routes())
        .merge(participants::routes())
        .merge(receipts::routes())
        .merge(realtime::routes())
}

impl From<ChatStoreError> for ApiError {
    fn from(e: ChatStoreError) -> Self {
        match e {
            ChatStoreError::Storage(e) => e.into(),
            ChatStoreError::Refused(r) => match r {
                ChatRefusal::ThreadNotFound => {
                    ApiError::not_found("The chat thread does not exist.")
                        .with_target("chatThreadId")
                }
                ChatRefusal::NotParticipant => ApiError::forbidden(
                    "Permissions check failed: the caller is not a participant of the chat thread.",
                ),
                ChatRefusal::MessageNotFound => {
                    ApiError::not_found("The chat message does not exist.")
                        .with_target("chatMessageId")
                }
                ChatRefusal::NotSender => {
                    ApiError::forbidden("Only the sender of a message may change or delete it.")
                }
                ChatRefusal::RepeatabilityConflict => ApiError::new(
                    StatusCode::CONFLICT,
                    "Conflict",
                    "The repeatability-request-id was already used with a different request.",
                )
                .with_target("repeatability-request-id"),
            },
        }
    }
}

/// The calling user's raw id, if it is a user whose token has one of `scopes` and the request
/// names a supported api-version.
fn chat_user(caller: &Caller, uri: &Uri, scopes: &[&str]) -> Result<String, ApiError> {
    let user = match caller {
        Caller::User(claims) if scopes.iter().any(|s| claims.has_scope(s)) => claims.user_id(),
        Caller::User(_) => {
            return Err(ApiError::forbidden(format!(
                "The access token lacks the scope this operation needs ({}).",
                scopes.join(" or ")
            )));
        }
        Caller::AccessKey | Caller::ServicePrincipal => {
            return Err(ApiError::forbidden(
                "Chat is called with a user access token (scope chat), as in ACS; the access key \
                 does not act as a chat participant.",
            ));
        }
    };
    require_api_version(uri, API_VERSIONS)?;
    Ok(user)
}

/// A thread id from the path, or 404 when it cannot be one.
fn thread_id(raw: &str) -> Result<String, ApiError> {
    if chat::is_thread_id(raw) {
        Ok(raw.to_owned())
    } else {
        Err(ChatStoreError::Refused(ChatRefusal::ThreadNotFound).into())
    }
}

/// A message id from the path, or 404 when it cannot be one.
fn message_id(raw: &str) -> Result<i64, ApiError> {
    chat::parse_message_id(raw)
        .ok_or_else(|| ChatStoreError::Refused(ChatRefusal::MessageNotFound).into())
}

/// `maxPageSize` with chat's default and maximum.
fn page_size(q: &HashMap<String, String>) -> Result<u32, ApiError> {
    super::paging::page_size(q, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
}

/// An ISO-8601 time as Unix ms (a `+` that a query string turned into a space is accepted).
fn parse_time(text: &str, target: &str) -> Result<i64, ApiError> {
    OffsetDateTime::parse(text, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(&text.replace(' ', "+"), &Rfc3339))
        .ok()
        .and_then(|t| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok())
        .ok_or_else(|| {
            ApiError::bad_request(format!("{target} must be an RFC 3339 time, got '{text}'."))
                .with_target(target)
        })
}

/// `startTime` as Unix ms.
fn start_time(q: &HashMap<String, String>) -> Result<Option<i64>, ApiError> {
    q.get("startTime")
        .map(|t| parse_time(t, "startTime"))
        .transpose()
}

/// A continuation token from the query, decoded.
fn continuation<T: serde::de::DeserializeOwned>(
    q: &HashMap<String, String>,
) -> Result<Option<T>, ApiError> {
    match q.get("continuationToken") {
        None => Ok(None),
        Some(t) => chat::paging::decode(t).map(Some).ok_or_else(|| {
            ApiError::bad_request("The continuationToken is not valid.")
                .with_target("continuationToken")
        }),
    }
}

/// A skip-paged list of a thread's `collection` (participants, read receipts).
fn skip_page<T, W: for<'a> From<&'a T>>(
    items: Vec<T>,
    collection: &str,
    thread: &str,
    limit: u32,
    skip: u32,
    q: &HashMap<String, String>,
) -> crate::chat::wire::Page<W> {
    let path = format!(
        "/chat/threads/{}/{collection}",
        crate::chat::paging::encode_segment(thread)
    );
    super::paging::skip_page(items, &path, limit, skip, q)
}

/// A fresh id shared by all events of one operation.
fn transaction_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Splits requested participants into those that can join (existing users of this resource)
/// and `invalidParticipants` entries; a participant without an identifier is a 400.
async fn resolve_participants(
    state: &SharedState,
    inputs: Vec<ParticipantInput>,
) -> Result<(Vec<ParticipantRecord>, Vec<ChatError>), ApiError> {
    let mut valid = Vec::new();
    let mut invalid = Vec::new();
    for p in inputs {
        let named = p
            .communication_identifier
            .as_ref()
            .and_then(identifier::IdentifierInput::resolve)
            .ok_or_else(|| {
                ApiError::bad_request("Each participant needs a communicationIdentifier.")
                    .with_target("communicationIdentifier")
            })?;
        let share_history_ms = p
            .share_history_time
            .as_deref()
            .map(|t| parse_time(t, "shareHistoryTime"))
            .transpose()?;
        match named {
            Identified::CommunicationUser(id)
                if identifier::is_user_of(&id, &state.resource_id)
                    && state.storage.user(&id).await?.is_some() =>
            {
                valid.push(ParticipantRecord {
                    user_id: id,
                    display_name: p.display_name,
                    share_history_ms,
                });
            }
            Identified::CommunicationUser(id) => invalid.push(ChatError {
                code: "NotFound".into(),
                message: "The user does not exist in this resource.".into(),
                target: Some(id),
            }),
            Identified::Other(raw) => invalid.push(ChatError {
                code: "BadRequest".into(),
                message: "Only communication users of this resource can take part in a chat."
                    .into(),
                target: Some(raw),
            }),
        }
    }
    Ok((valid, invalid))
}
