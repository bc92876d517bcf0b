//! `/chat/threads/{thread}/participants`: list (paged with `skip`), `:add`, `:remove`.

use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use bytes::Bytes;

use super::{
    chat_user, page_size, query, resolve_participants, skip, skip_page, thread_id, transaction_id,
};
use crate::auth::Caller;
use crate::chat::wire::{AddParticipantsRequest, AddParticipantsResult, ChatParticipant, Page};
use crate::chat::{ANY_CHAT_SCOPE, MEMBERSHIP_SCOPES, events, realtime};
use crate::clock;
use crate::error::ApiError;
use crate::identifier::{self, Identified, IdentifierInput};
use crate::routes::{json, parse_json};
use crate::state::SharedState;

pub(super) fn routes() -> Router<SharedState> {
    Router::new()
        .route(
            "/chat/threads/{thread}/participants",
            get(list_participants),
        )
        // The verbs are path segments (`/:add`, `/:remove`), matched here.
        .route(
            "/chat/threads/{thread}/participants/{action}",
            post(participants_action),
        )
}

async fn list_participants(
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
        .list_participants(&thread, &user, skip, limit + 1)
        .await?;
    let page: Page<ChatParticipant> = skip_page(list, "participants", &thread, limit, skip, &q);
    Ok(json(StatusCode::OK, &page))
}

async fn participants_action(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    OriginalUri(uri): OriginalUri,
    Path((thread, action)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    match action.as_str() {
        ":add" => add(state, caller, uri, thread, body).await,
        ":remove" => remove(state, caller, uri, thread, body).await,
        _ => Err(ApiError::not_found(format!(
            "No resource at {}.",
            uri.path()
        ))),
    }
}

async fn add(
    state: SharedState,
    caller: Caller,
    uri: axum::http::Uri,
    thread: String,
    body: Bytes,
) -> Result<Response, ApiError> {
    let user = chat_user(&caller, &uri, MEMBERSHIP_SCOPES)?;
    let thread = thread_id(&thread)?;
    let req: AddParticipantsRequest = parse_json(&body)?;
    let inputs = match req.participants {
        Some(p) if !p.is_empty() => p,
        _ => {
            return Err(
                ApiError::bad_request("At least one participant is required.")
                    .with_target("participants"),
            );
        }
    };
    let (valid, invalid) = resolve_participants(&state, inputs).await?;
    let tx_id = transaction_id();
    let changed = state
        .storage
        .add_participants(
            &thread,
            &user,
            valid,
            clock::now_ms(),
            Box::new(move |c| events::membership_changed(c, &tx_id, true)),
        )
        .await?;
    if let Some(changed) = changed {
        state.chat_hub.publish(
            &changed.audience,
            realtime::membership_changed(&changed, true),
        );
    }
    Ok(json(
        StatusCode::CREATED,
        &AddParticipantsResult {
            invalid_participants: (!invalid.is_empty()).then_some(invalid),
        },
    ))
}

async fn remove(
    state: SharedState,
    caller: Caller,
    uri: axum::http::Uri,
    thread: String,
    body: Bytes,
) -> Result<Response, ApiError> {
    // Leaving a thread needs any chat scope; removing someone else needs a membership scope.
    let user = chat_user(&caller, &uri, ANY_CHAT_SCOPE)?;
    let thread = thread_id(&thread)?;
    let target: IdentifierInput = parse_json(&body)?;
    let target = match target.resolve() {
        Some(Identified::CommunicationUser(id)) => id,
        Some(Identified::Other(_)) => {
            // Not a user of this resource, so not a participant: nothing to remove, but the
            // caller must still be a participant.
            state.storage.thread_for(&thread, &user).await?;
            return Ok(StatusCode::NO_CONTENT.into_response());
        }
        None => {
            return Err(ApiError::bad_request(
                "The body must be the CommunicationIdentifierModel of the participant.",
            )
            .with_target("participantCommunicationIdentifier"));
        }
    };
    if target != user {
        chat_user(&caller, &uri, MEMBERSHIP_SCOPES)?;
    }
    if !identifier::is_user_of(&target, &state.resource_id) {
        state.storage.thread_for(&thread, &user).await?;
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let tx_id = transaction_id();
    let changed = state
        .storage
        .remove_participant(
            &thread,
            &user,
            &target,
            clock::now_ms(),
            Box::new(move |c| events::membership_changed(c, &tx_id, false)),
        )
        .await?;
    if let Some(changed) = changed {
        state.chat_hub.publish(
            &changed.audience,
            realtime::membership_changed(&changed, false),
        );
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
