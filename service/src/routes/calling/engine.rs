//! MediaCore's engine signaling (its own addition to ACS, in ACS's style): a user's engine
//! places a call to another user with an SDP offer, the callee answers with an SDP answer or
//! rejects, both trickle ICE candidates and either hangs up. Only the call's two parties may
//! touch it.
//!
//! | call | route | answer |
//! |---|---|---|
//! | place | `POST /calling/calls {"target","offerSdp","callerDisplayName"?}` | 201 call |
//! | list active / get | `GET /calling/calls` · `GET /calling/calls/{id}` | 200 |
//! | answer / reject | `POST /calling/calls/{id}:answer {"answerSdp"}` · `:reject {"reason"?}` | 200 call · 204 |
//! | candidates | `POST /calling/calls/{id}/candidates {"candidates":[…]}` | 204 |
//! | hang up | `DELETE /calling/calls/{id}` | 204 |

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use serde_json::json;

use super::{
    Req, action, apply, callee, create, display_name, leaving_reason, load, reject_reason,
    require_state, sdp,
};
use crate::calling::transitions::{self, NewCall};
use crate::calling::wire::{self, AnswerCall, PlaceCall, RejectCall, SendCandidates};
use crate::calling::{MAX_CANDIDATE_BYTES, MAX_CANDIDATES, context, state};
use crate::clock;
use crate::error::ApiError;
use crate::routes::{json, parse_json};
use crate::state::SharedState;
use crate::storage::calling::CallRecord;

pub(super) fn routes() -> Router<SharedState> {
    Router::new()
        .route("/calling/calls", post(place).get(list))
        .route("/calling/calls/{id}", get(read).post(act).delete(hang_up))
        .route("/calling/calls/{id}/candidates", post(send_candidates))
}

/// The call `id` if `user` is one of its parties: 404 unknown, 403 otherwise.
async fn party_call(state: &SharedState, id: &str, user: &str) -> Result<CallRecord, ApiError> {
    let call = load(state, id).await?;
    if call.caller != user && call.callee != user {
        return Err(ApiError::forbidden(
            "Permissions check failed: the caller is not a participant of the call.",
        ));
    }
    Ok(call)
}

/// The call `id` if `user` is its callee (who alone answers or rejects).
async fn callee_call(
    state: &SharedState,
    id: &str,
    user: &str,
    what: &str,
) -> Result<CallRecord, ApiError> {
    let call = party_call(state, id, user).await?;
    if call.callee == user {
        Ok(call)
    } else {
        Err(ApiError::forbidden(format!(
            "Only the callee may {what} the call."
        )))
    }
}

async fn place(r: Req, body: Bytes) -> Result<Response, ApiError> {
    let user = r.voip_user()?;
    let state = r.state;
    let req: PlaceCall = parse_json(&body)?;
    let offer = sdp(req.offer_sdp, "offerSdp")?;
    let name = display_name(req.caller_display_name, "callerDisplayName")?;
    let target = callee(&state, req.target.as_ref(), "target").await?;
    if target == user {
        return Err(ApiError::bad_request("A user cannot call itself.").with_target("target"));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let ctx = context::issue(&state.token_key, &id, &target);
    let new = NewCall {
        caller: user,
        callee: target,
        caller_display_name: name,
        offer_sdp: Some(offer),
        caller_callback: None,
        operation_context: None,
    };
    let (call, effects) = transitions::place(new, id, &ctx, clock::now_ms());
    create(&state, &call, &effects).await?;
    Ok(json(StatusCode::CREATED, &wire::call(&call)))
}

async fn list(r: Req) -> Result<Response, ApiError> {
    let user = r.voip_user()?;
    let state = r.state;
    let calls = state.storage.active_calls(&user).await?;
    let value: Vec<_> = calls.iter().map(wire::call).collect();
    Ok(json(StatusCode::OK, &json!({ "value": value })))
}

async fn read(r: Req, Path(id): Path<String>) -> Result<Response, ApiError> {
    let user = r.voip_user()?;
    let state = r.state;
    let call = party_call(&state, &id, &user).await?;
    Ok(json(StatusCode::OK, &wire::call(&call)))
}

/// `POST /calling/calls/{id}:answer` and `:reject`.
async fn act(r: Req, Path(raw): Path<String>, body: Bytes) -> Result<Response, ApiError> {
    let user = r.voip_user()?;
    let state = r.state;
    let (id, action) = action(&raw);
    match action {
        Some("answer") => answer(&state, id, &user, &body).await,
        Some("reject") => reject(&state, id, &user, &body).await,
        _ => Err(ApiError::not_found(format!(
            "No resource at {}.",
            r.uri.path()
        ))),
    }
}

async fn answer(
    state: &SharedState,
    id: &str,
    user: &str,
    body: &[u8],
) -> Result<Response, ApiError> {
    let call = callee_call(state, id, user, "answer").await?;
    let req: AnswerCall = parse_json(body)?;
    // A server app's call carries no offer, so there is nothing to answer with an SDP.
    let answer_sdp = match (&call.offer_sdp, req.answer_sdp) {
        (None, None) => None,
        (_, given) => Some(sdp(given, "answerSdp")?),
    };
    require_state(&call, &[state::CONNECTING], "answered")?;
    let step = transitions::answer(&call, user, answer_sdp, None, clock::now_ms());
    let call = apply(state, &call, step, "answered").await?;
    Ok(json(StatusCode::OK, &wire::call(&call)))
}

async fn reject(
    state: &SharedState,
    id: &str,
    user: &str,
    body: &[u8],
) -> Result<Response, ApiError> {
    let call = callee_call(state, id, user, "reject").await?;
    let req: RejectCall = parse_json(body)?;
    let reason = reject_reason(req.reason.as_deref(), "reason")?;
    require_state(&call, &[state::CONNECTING], "rejected")?;
    let step = transitions::end(&call, user, reason, clock::now_ms());
    apply(state, &call, step, "rejected").await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn send_candidates(
    r: Req,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let user = r.voip_user()?;
    let state = r.state;
    let call = party_call(&state, &id, &user).await?;
    let req: SendCandidates = parse_json(&body)?;
    let bad = |m: String| ApiError::bad_request(m).with_target("candidates");
    let list = req
        .candidates
        .filter(|c| !c.is_empty())
        .ok_or_else(|| bad("candidates is required and may not be empty.".into()))?;
    if list.len() > MAX_CANDIDATES {
        return Err(bad(format!(
            "At most {MAX_CANDIDATES} candidates per request."
        )));
    }
    let mut out = Vec::with_capacity(list.len());
    for c in list {
        // An empty candidate is the end-of-candidates mark, as in WebRTC.
        let line = c
            .candidate
            .ok_or_else(|| bad("Every candidate needs a candidate line.".into()))?;
        let mid_len = c.sdp_mid.as_deref().map_or(0, str::len);
        if line.len() > MAX_CANDIDATE_BYTES || mid_len > 64 {
            return Err(bad(format!(
                "A candidate is longer than {MAX_CANDIDATE_BYTES} bytes."
            )));
        }
        out.push(
            json!({ "candidate": line, "sdpMid": c.sdp_mid, "sdpMLineIndex": c.sdp_m_line_index }),
        );
    }
    require_state(&call, state::ACTIVE, "given candidates")?;
    let signal = transitions::candidates(&call, &user, json!(out));
    let to = signal.user.clone();
    if !state
        .storage
        .relay_signals(&call.id, state::ACTIVE, &[signal])
        .await?
    {
        let now = load(&state, &call.id).await?;
        return Err(super::conflict(&now, "given candidates"));
    }
    state.calling.hub.wake([to.as_str()]);
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn hang_up(r: Req, Path(id): Path<String>) -> Result<Response, ApiError> {
    let user = r.voip_user()?;
    let state = r.state;
    let call = party_call(&state, &id, &user).await?;
    require_state(&call, state::ACTIVE, "hung up")?;
    let step = transitions::end(&call, &user, leaving_reason(&call, &user), clock::now_ms());
    apply(&state, &call, step, "hung up").await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
