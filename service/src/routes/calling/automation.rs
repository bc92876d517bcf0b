//! ACS Call Automation for server apps (access key; acs-wire.md §11, api-version 2026-03-12).
//! The app acts as `28:acs:<resourceId>`; its callbacks are CloudEvents POSTed to the
//! `callbackUri` it gave (`crate::calling::callbacks`).
//!
//! | call | route | answer |
//! |---|---|---|
//! | create call | `POST /calling/callConnections {"targets":[one user],"callbackUri","sourceDisplayName"?,"operationContext"?}` | 201 properties |
//! | answer / reject | `POST /calling/callConnections:answer {"incomingCallContext","callbackUri"}` · `:reject {"incomingCallContext","callRejectReason"?}` | 200 properties · 204 |
//! | get / hang up / terminate | `GET` · `DELETE /calling/callConnections/{id}` · `POST …/{id}:terminate` | 200 · 204 · 204 |
//! | participants | `GET …/{id}/participants` · `GET …/{id}/participants/{participantRawId}` | 200 `{"value":[…]}` · 200 participant |
//!
//! `:redirect`, `participants:add` and `participants:remove` answer 501.

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use serde_json::json;

use super::{
    Req, action, apply, callee, create, display_name, leaving_reason, load, not_implemented,
    reject_reason, require_state, unknown_call,
};
use crate::calling::transitions::{self, EndReason, NewCall};
use crate::calling::wire::{self, AnswerIncoming, CreateCall, RejectIncoming};
use crate::calling::{app_id, context, state};
use crate::clock;
use crate::error::ApiError;
use crate::routes::{json, parse_json};
use crate::state::SharedState;
use crate::storage::calling::CallRecord;

pub(super) fn routes() -> Router<SharedState> {
    Router::new()
        .route("/calling/callConnections", post(create_call))
        .route("/calling/callConnections:answer", post(answer))
        .route("/calling/callConnections:reject", post(reject))
        .route("/calling/callConnections:redirect", post(redirect))
        .route(
            "/calling/callConnections/{id}",
            get(read).delete(hang_up).post(terminate),
        )
        .route(
            "/calling/callConnections/{id}/participants",
            get(participants),
        )
        .route(
            "/calling/callConnections/{id}/participants/{raw_id}",
            get(participant),
        )
        .route(
            "/calling/callConnections/{id}/participants:add",
            post(change_participants),
        )
        .route(
            "/calling/callConnections/{id}/participants:remove",
            post(change_participants),
        )
}

/// A `callbackUri`: required, an absolute http(s) URL.
fn callback_uri(value: Option<String>) -> Result<String, ApiError> {
    let bad = |m: &str| ApiError::bad_request(m.to_owned()).with_target("callbackUri");
    let uri = value.ok_or_else(|| bad("callbackUri is required."))?;
    match reqwest::Url::parse(&uri) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(uri),
        _ => Err(bad("callbackUri must be an absolute http or https URL.")),
    }
}

/// The call an `incomingCallContext` names; 400 when it is not one this service issued.
async fn from_context(state: &SharedState, ctx: Option<&str>) -> Result<CallRecord, ApiError> {
    let bad = |m: &str| ApiError::bad_request(m.to_owned()).with_target("incomingCallContext");
    let ctx = ctx.ok_or_else(|| bad("incomingCallContext is required."))?;
    let id = context::call_id(&state.token_key, ctx)
        .ok_or_else(|| bad("incomingCallContext is not valid."))?;
    load(state, &id).await
}

/// The callback the app sees on a call's properties.
fn app_callback(call: &CallRecord) -> Option<&str> {
    call.callee_callback
        .as_deref()
        .or(call.caller_callback.as_deref())
}

async fn create_call(r: Req, body: Bytes) -> Result<Response, ApiError> {
    r.server_app()?;
    let state = r.state;
    let req: CreateCall = parse_json(&body)?;
    let callback = callback_uri(req.callback_uri)?;
    let name = display_name(req.source_display_name, "sourceDisplayName")?;
    let targets = req.targets.unwrap_or_default();
    if targets.len() != 1 {
        return Err(
            ApiError::bad_request("targets must name exactly one user (two-party calls).")
                .with_target("targets"),
        );
    }
    let target = callee(&state, targets.first(), "targets").await?;
    let id = uuid::Uuid::new_v4().to_string();
    let ctx = context::issue(&state.token_key, &id, &target);
    let new = NewCall {
        caller: app_id(&state.resource_id),
        callee: target,
        caller_display_name: name,
        offer_sdp: None,
        caller_callback: Some(callback.clone()),
        operation_context: req.operation_context,
    };
    let (call, effects) = transitions::place(new, id, &ctx, clock::now_ms());
    create(&state, &call, &effects).await?;
    Ok(json(
        StatusCode::CREATED,
        &wire::connection_properties(&call, Some(&callback)),
    ))
}

async fn answer(r: Req, body: Bytes) -> Result<Response, ApiError> {
    r.server_app()?;
    let state = r.state;
    let req: AnswerIncoming = parse_json(&body)?;
    let callback = callback_uri(req.callback_uri)?;
    let call = from_context(&state, req.incoming_call_context.as_deref()).await?;
    require_state(&call, &[state::CONNECTING], "answered")?;
    let app = app_id(&state.resource_id);
    let step = transitions::answer(&call, &app, None, Some(callback.clone()), clock::now_ms());
    let call = apply(&state, &call, step, "answered").await?;
    Ok(json(
        StatusCode::OK,
        &wire::connection_properties(&call, Some(&callback)),
    ))
}

async fn reject(r: Req, body: Bytes) -> Result<Response, ApiError> {
    r.server_app()?;
    let state = r.state;
    let req: RejectIncoming = parse_json(&body)?;
    let reason = reject_reason(req.call_reject_reason.as_deref(), "callRejectReason")?;
    let call = from_context(&state, req.incoming_call_context.as_deref()).await?;
    require_state(&call, &[state::CONNECTING], "rejected")?;
    let step = transitions::end(&call, &app_id(&state.resource_id), reason, clock::now_ms());
    apply(&state, &call, step, "rejected").await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn redirect(r: Req) -> Result<Response, ApiError> {
    r.server_app()?;
    Err(not_implemented("Redirecting a call"))
}

async fn change_participants(r: Req) -> Result<Response, ApiError> {
    r.server_app()?;
    Err(not_implemented(
        "Adding or removing participants (calls are two-party)",
    ))
}

async fn read(r: Req, Path(id): Path<String>) -> Result<Response, ApiError> {
    r.server_app()?;
    let state = r.state;
    let call = load(&state, &id).await?;
    Ok(json(
        StatusCode::OK,
        &wire::connection_properties(&call, app_callback(&call)),
    ))
}

async fn participants(r: Req, Path(id): Path<String>) -> Result<Response, ApiError> {
    r.server_app()?;
    let state = r.state;
    let call = load(&state, &id).await?;
    Ok(json(
        StatusCode::OK,
        &json!({ "value": transitions::participants(&call) }),
    ))
}

/// `GET …/{id}/participants/{participantRawId}`: one of [`participants`]'s entries, or 404.
async fn participant(
    r: Req,
    Path((id, raw_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    r.server_app()?;
    let call = load(&r.state, &id).await?;
    let all = transitions::participants(&call);
    let found = all
        .as_array()
        .and_then(|list| {
            list.iter()
                .find(|p| p["identifier"]["rawId"] == raw_id.as_str())
        })
        .ok_or_else(|| {
            ApiError::not_found("The participant is not in the call.")
                .with_target("participantRawId")
        })?;
    Ok(json(StatusCode::OK, found))
}

/// Ends the call for the app: hang up (`DELETE`) or terminate; two-party calls end either way.
async fn end(state: &SharedState, id: &str, terminate: bool) -> Result<Response, ApiError> {
    let call = load(state, id).await?;
    require_state(&call, state::ACTIVE, "hung up")?;
    let app = app_id(&state.resource_id);
    let reason = if terminate {
        EndReason::Terminated
    } else {
        leaving_reason(&call, &app)
    };
    let step = transitions::end(&call, &app, reason, clock::now_ms());
    apply(state, &call, step, "hung up").await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn hang_up(r: Req, Path(id): Path<String>) -> Result<Response, ApiError> {
    r.server_app()?;
    let state = r.state;
    end(&state, &id, false).await
}

/// `POST /calling/callConnections/{id}:terminate`.
async fn terminate(r: Req, Path(raw): Path<String>) -> Result<Response, ApiError> {
    r.server_app()?;
    let state = r.state;
    match action(&raw) {
        (id, Some("terminate")) => end(&state, id, true).await,
        _ => Err(unknown_call()),
    }
}
