//! Request bodies (every field optional, so a missing one is a 400 naming it rather than a
//! parse error) and response shapes of both calling surfaces.

use serde::Deserialize;
use serde_json::{Value, json};

use super::transitions::{identifier, iso, result_information};
use crate::identifier::IdentifierInput;
use crate::storage::calling::CallRecord;

/// `POST /calling/calls` (engine).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlaceCall {
    /// The callee.
    pub target: Option<IdentifierInput>,
    /// The caller's SDP offer.
    pub offer_sdp: Option<String>,
    /// Shown to the callee.
    pub caller_display_name: Option<String>,
}

/// `POST /calling/calls/{id}:answer` (engine).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnswerCall {
    /// The callee's SDP answer.
    pub answer_sdp: Option<String>,
}

/// `POST /calling/calls/{id}:reject` (engine).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RejectCall {
    /// `none` (declined), `busy` or `forbidden`, as Call Automation's `callRejectReason`.
    pub reason: Option<String>,
}

/// One trickled ICE candidate (the browser's `RTCIceCandidateInit`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Candidate {
    /// The `candidate:` line.
    pub candidate: Option<String>,
    /// Media stream id.
    pub sdp_mid: Option<String>,
    /// Media line index.
    pub sdp_m_line_index: Option<u32>,
}

/// `POST /calling/calls/{id}/candidates` (engine).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendCandidates {
    /// In the order they were gathered.
    pub candidates: Option<Vec<Candidate>>,
}

/// `POST /calling/callConnections` (Call Automation).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateCall {
    /// Exactly one user here (two-party calls).
    pub targets: Option<Vec<IdentifierInput>>,
    /// Where callback events go.
    pub callback_uri: Option<String>,
    /// Shown to the callee.
    pub source_display_name: Option<String>,
    /// Echoed in callbacks.
    pub operation_context: Option<String>,
}

/// `POST /calling/callConnections:answer` (Call Automation).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnswerIncoming {
    /// From the `IncomingCall` event.
    pub incoming_call_context: Option<String>,
    /// Where callback events go.
    pub callback_uri: Option<String>,
}

/// `POST /calling/callConnections:reject` (Call Automation).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RejectIncoming {
    /// From the `IncomingCall` event.
    pub incoming_call_context: Option<String>,
    /// `none`, `busy` or `forbidden`.
    pub call_reject_reason: Option<String>,
}

/// The engine's view of a call (MediaCore's resource).
pub fn call(c: &CallRecord) -> Value {
    json!({
        "id": c.id,
        "serverCallId": c.server_call_id,
        "correlationId": c.correlation_id,
        "state": c.state,
        "caller": identifier(&c.caller),
        "callee": identifier(&c.callee),
        "callerDisplayName": c.caller_display_name,
        "offerSdp": c.offer_sdp,
        "answerSdp": c.answer_sdp,
        "answeredBy": c.answered_by.as_deref().map(identifier),
        "createdOn": iso(Some(c.created_ms)),
        "connectedOn": iso(c.connected_ms),
        "endedOn": iso(c.ended_ms),
        "endedBy": c.ended_by.as_deref().map(identifier),
        "endReason": c.end_code.map(|code| result_information(Some(code))),
    })
}

/// Call Automation's `CallConnectionProperties`, as the app with `callback` sees it.
pub fn connection_properties(c: &CallRecord, callback: Option<&str>) -> Value {
    json!({
        "callConnectionId": c.id,
        "serverCallId": c.server_call_id,
        "targets": [identifier(&c.callee)],
        "callConnectionState": c.state,
        "callbackUri": callback,
        "source": identifier(&c.caller),
        "sourceDisplayName": c.caller_display_name,
        "correlationId": c.correlation_id,
        // The SDK's model here is `CommunicationUserIdentifierModel` (`{"id"}`), not the full one.
        "answeredBy": c.answered_by.as_deref().map(|id| json!({ "id": id })),
    })
}
