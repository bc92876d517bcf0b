//! Calling routes: Call Automation for server apps (access key, acs-wire.md §11) in
//! [`automation`], and MediaCore's engine signaling (user tokens with `voip`) in [`engine`]
//! and [`stream`]. Every handler checks, in order: the caller, the api-version, the ids in the
//! path, the body; then one storage transaction applies the change (compare-and-set on the
//! call's state) and the streams and the callback sender are woken.

mod automation;
mod engine;
mod stream;

use axum::Router;
use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::http::{StatusCode, Uri};

use super::require_api_version;
use crate::auth::Caller;
use crate::calling::transitions::EndReason;
use crate::calling::{API_VERSIONS, MAX_SDP_BYTES, VOIP_SCOPES, state};
use crate::error::ApiError;
use crate::identifier::{self, Identified, IdentifierInput};
use crate::state::SharedState;
use crate::storage::calling::{CallRecord, Effects};

pub(super) fn routes() -> Router<SharedState> {
    Router::new()
        .merge(automation::routes())
        .merge(engine::routes())
        .merge(stream::routes())
}

/// What every calling handler starts from: the state, the authenticated caller and the URI.
struct Req {
    state: SharedState,
    caller: Caller,
    uri: Uri,
}

impl FromRequestParts<SharedState> for Req {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &SharedState) -> Result<Self, ApiError> {
        // The authentication middleware put the caller there; without it the route is not served.
        let caller = parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(ApiError::denied)?;
        let uri = parts
            .extensions
            .get::<OriginalUri>()
            .map_or_else(|| parts.uri.clone(), |o| o.0.clone());
        Ok(Self {
            state: state.clone(),
            caller,
            uri,
        })
    }
}

impl Req {
    /// The calling user's raw id: a user token with `voip` and a supported api-version.
    fn voip_user(&self) -> Result<String, ApiError> {
        let user = match &self.caller {
            Caller::User(claims) if VOIP_SCOPES.iter().any(|s| claims.has_scope(s)) => {
                claims.user_id()
            }
            Caller::User(_) => {
                return Err(ApiError::forbidden(
                    "The access token lacks the scope this operation needs (voip).",
                ));
            }
            Caller::AccessKey | Caller::ServicePrincipal => {
                return Err(ApiError::forbidden(
                    "Engine signaling is called with a user access token (scope voip); server \
                     apps use /calling/callConnections.",
                ));
            }
        };
        require_api_version(&self.uri, API_VERSIONS)?;
        Ok(user)
    }

    /// A server app (access key) and a supported api-version.
    fn server_app(&self) -> Result<(), ApiError> {
        self.caller.require_access_key()?;
        require_api_version(&self.uri, API_VERSIONS)
    }
}

fn unknown_call() -> ApiError {
    ApiError::not_found("The call does not exist.").with_target("callConnectionId")
}

/// The call `id`, or 404 (ids that cannot be a call's are not looked up).
async fn load(state: &SharedState, id: &str) -> Result<CallRecord, ApiError> {
    if uuid::Uuid::try_parse(id).is_err() {
        return Err(unknown_call());
    }
    state.storage.call(id).await?.ok_or_else(unknown_call)
}

/// 409 for a change the call's state does not allow.
fn conflict(call: &CallRecord, what: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "Conflict",
        format!("The call cannot be {what}: it is {}.", call.state),
    )
    .with_target("callConnectionState")
}

/// Requires `call` to be in `allowed`, or 409.
fn require_state(call: &CallRecord, allowed: &[&str], what: &str) -> Result<(), ApiError> {
    if allowed.contains(&call.state.as_str()) {
        Ok(())
    } else {
        Err(conflict(call, what))
    }
}

/// Wakes whoever a committed change concerns.
fn wake(state: &SharedState, effects: &Effects) {
    state
        .calling
        .hub
        .wake(effects.signals.iter().map(|s| s.user.as_str()));
    if !effects.callbacks.is_empty() {
        state.calling.callbacks_queued.notify_one();
    }
}

/// Stores a new call and wakes the callee.
async fn create(state: &SharedState, call: &CallRecord, effects: &Effects) -> Result<(), ApiError> {
    state.storage.create_call(call, effects).await?;
    wake(state, effects);
    Ok(())
}

/// Applies a step computed from `before`; 409 when another request changed the call first.
async fn apply(
    state: &SharedState,
    before: &CallRecord,
    (after, effects): (CallRecord, Effects),
    what: &str,
) -> Result<CallRecord, ApiError> {
    if !state
        .storage
        .update_call(&after, &before.state, &effects)
        .await?
    {
        let now = state.storage.call(&before.id).await?;
        return Err(conflict(now.as_ref().unwrap_or(before), what));
    }
    wake(state, &effects);
    Ok(after)
}

/// How an active call ends when `by` leaves it.
fn leaving_reason(call: &CallRecord, by: &str) -> EndReason {
    match (call.state.as_str(), call.caller == by) {
        (state::CONNECTING, true) => EndReason::Cancelled,
        (state::CONNECTING, false) => EndReason::Declined,
        _ => EndReason::HungUp,
    }
}

/// `none` / `busy` / `forbidden` (Call Automation's `callRejectReason`).
fn reject_reason(reason: Option<&str>, target: &str) -> Result<EndReason, ApiError> {
    match reason.map(str::to_ascii_lowercase).as_deref() {
        None | Some("none") => Ok(EndReason::Declined),
        Some("busy") => Ok(EndReason::Busy),
        Some("forbidden") => Ok(EndReason::Forbidden),
        Some(other) => Err(ApiError::bad_request(format!(
            "{target} must be none, busy or forbidden, not '{other}'."
        ))
        .with_target(target)),
    }
}

/// A present, non-empty SDP within the size limit.
fn sdp(value: Option<String>, target: &str) -> Result<String, ApiError> {
    let sdp = value.filter(|s| !s.trim().is_empty()).ok_or_else(|| {
        ApiError::bad_request(format!("{target} is required.")).with_target(target)
    })?;
    if sdp.len() > MAX_SDP_BYTES {
        return Err(ApiError::bad_request(format!(
            "{target} is larger than {MAX_SDP_BYTES} bytes."
        ))
        .with_target(target));
    }
    Ok(sdp)
}

/// An optional display name (≤ 256 characters).
fn display_name(value: Option<String>, target: &str) -> Result<Option<String>, ApiError> {
    match value {
        Some(n) if n.chars().count() > 256 => Err(ApiError::bad_request(format!(
            "{target} is longer than 256 characters."
        ))
        .with_target(target)),
        other => Ok(other),
    }
}

/// The existing user of this resource a request names, or 400 with `target`.
async fn callee(
    state: &SharedState,
    input: Option<&IdentifierInput>,
    target: &str,
) -> Result<String, ApiError> {
    let bad = |m: &str| ApiError::bad_request(m.to_owned()).with_target(target);
    let Some(input) = input else {
        return Err(bad(&format!("{target} is required.")));
    };
    match input.resolve() {
        Some(Identified::CommunicationUser(id))
            if identifier::is_user_of(&id, &state.resource_id) =>
        {
            if state.storage.user(&id).await?.is_some() {
                Ok(id)
            } else {
                Err(bad("The target user does not exist."))
            }
        }
        Some(_) => Err(bad(
            "Only communication users of this resource can be called here.",
        )),
        None => Err(bad(&format!("{target} names no identity."))),
    }
}

/// Splits `{id}:action` (ACS's custom actions) into the id and the action.
fn action(raw: &str) -> (&str, Option<&str>) {
    match raw.split_once(':') {
        Some((id, action)) => (id, Some(action)),
        None => (raw, None),
    }
}

/// 501 with the ACS error body, for operations this service does not provide.
fn not_implemented(what: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_IMPLEMENTED,
        "NotImplemented",
        format!("{what} is not implemented by the local service."),
    )
}
