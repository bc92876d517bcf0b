//! The call state machine — `connecting` → `connected` → `disconnected`, or `connecting` →
//! `disconnected` (rejected, cancelled) — and what each step writes: Event Grid events
//! (acs-wire.md §10), engine notifications, Call Automation callbacks (§11). Pure functions;
//! the routes check who may do what, and the storage applies a step atomically.

use serde_json::{Value, json};

use super::state;
use crate::clock;
use crate::identifier::IdentifierModel;
use crate::storage::calling::{CallRecord, Callback, Effects, Signal};
use crate::storage::outbox::OutboxEvent;

const PREFIX: &str = "Microsoft.Communication.";

/// Why a call ended, as `resultInformation` / `reason` carry it (SIP-like codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// A party hung up a connected call.
    HungUp,
    /// The caller hung up before an answer.
    Cancelled,
    /// The callee (or an app for it) declined.
    Declined,
    /// Rejected as busy.
    Busy,
    /// Rejected as forbidden.
    Forbidden,
    /// A server app ended it for everyone.
    Terminated,
}

impl EndReason {
    /// `code`, `subCode` and `message`.
    pub fn result(self) -> (i64, i64, &'static str) {
        match self {
            EndReason::HungUp => (200, 0, "The call was hung up."),
            EndReason::Cancelled => (487, 0, "The caller hung up before the call was answered."),
            EndReason::Declined => (603, 0, "The call was declined."),
            EndReason::Busy => (486, 0, "The callee is busy."),
            EndReason::Forbidden => (403, 0, "The call was rejected."),
            EndReason::Terminated => (200, 5001, "The call was terminated for all participants."),
        }
    }

    /// The reason of a stored end code.
    fn from_code(code: i64) -> Self {
        match code {
            487 => EndReason::Cancelled,
            603 => EndReason::Declined,
            486 => EndReason::Busy,
            403 => EndReason::Forbidden,
            _ => EndReason::HungUp,
        }
    }
}

/// `{"code","subCode","message"}` of a stored end code.
pub fn result_information(code: Option<i64>) -> Value {
    let (code, sub_code, message) = code.map_or((200, 0, "Success."), |c| {
        let (_, sub, msg) = EndReason::from_code(c).result();
        (c, sub, msg)
    });
    json!({ "code": code, "subCode": sub_code, "message": message })
}

/// The identifier model of a raw id.
pub fn identifier(raw: &str) -> Value {
    json!(IdentifierModel::from_raw(raw))
}

/// A call about to be placed.
#[derive(Debug, Clone)]
pub struct NewCall {
    /// Who calls (a user, or the app).
    pub caller: String,
    /// Who is called (a user of this resource).
    pub callee: String,
    /// The caller's display name.
    pub caller_display_name: Option<String>,
    /// The engine's offer.
    pub offer_sdp: Option<String>,
    /// A server app's callback.
    pub caller_callback: Option<String>,
    /// A server app's `operationContext`.
    pub operation_context: Option<String>,
}

/// The new call and its effects: `IncomingCall` (outbox, with `incoming_call_context`) and
/// `incomingCall` to the callee's engines.
pub fn place(
    new: NewCall,
    id: String,
    incoming_call_context: &str,
    now_ms: i64,
) -> (CallRecord, Effects) {
    let call = CallRecord {
        server_call_id: format!("mediacore:{}", uuid::Uuid::new_v4()),
        correlation_id: uuid::Uuid::new_v4().to_string(),
        id,
        caller: new.caller,
        callee: new.callee,
        caller_display_name: new.caller_display_name,
        state: state::CONNECTING.to_owned(),
        offer_sdp: new.offer_sdp,
        answer_sdp: None,
        answered_by: None,
        caller_callback: new.caller_callback,
        callee_callback: None,
        operation_context: new.operation_context,
        created_ms: now_ms,
        connected_ms: None,
        ended_ms: None,
        ended_by: None,
        end_code: None,
    };
    let incoming = OutboxEvent::new(
        format!("{PREFIX}IncomingCall"),
        format!("/caller/{}/recipient/{}", call.caller, call.callee),
        json!({
            "toCommunicationIdentifier": identifier(&call.callee),
            "fromCommunicationIdentifier": identifier(&call.caller),
            "serverCallId": call.server_call_id,
            "callerDisplayName": call.caller_display_name.clone().unwrap_or_default(),
            "customContext": { "sipHeaders": {}, "voipHeaders": {} },
            "incomingCallContext": incoming_call_context,
            "onBehalfOfCallee": null,
            "correlationId": call.correlation_id,
        }),
        now_ms,
    );
    // The call as `GET /calling/calls/{id}` shows it, with the fields every notification has.
    let mut data = super::wire::call(&call);
    data["callId"] = json!(call.id);
    data["incomingCallContext"] = json!(incoming_call_context);
    let signal = Signal {
        user: call.callee.clone(),
        name: "incomingCall".into(),
        data,
    };
    let effects = Effects {
        outbox: vec![incoming],
        signals: vec![signal],
        callbacks: Vec::new(),
    };
    (call, effects)
}

/// Answers a `connecting` call: `answered_by` is the callee or the app answering for it.
pub fn answer(
    call: &CallRecord,
    answered_by: &str,
    answer_sdp: Option<String>,
    callee_callback: Option<String>,
    now_ms: i64,
) -> (CallRecord, Effects) {
    let mut c = call.clone();
    c.state = state::CONNECTED.to_owned();
    c.answer_sdp = answer_sdp;
    c.answered_by = Some(answered_by.to_owned());
    c.callee_callback = callee_callback;
    c.connected_ms = Some(now_ms);
    let started = OutboxEvent::new(
        format!("{PREFIX}CallStarted"),
        format!("call/{}/startedBy/{}", c.server_call_id, c.caller),
        call_fields(&c),
        now_ms,
    );
    let answered = Signal {
        user: c.caller.clone(),
        name: "callAnswered".into(),
        data: json!({
            "callId": c.id,
            "answerSdp": c.answer_sdp,
            "answeredBy": identifier(answered_by),
        }),
    };
    let connected = state_signals(
        &c,
        "callConnected",
        json!({ "answeredBy": identifier(answered_by) }),
    );
    // Per app: CallConnected, then the participants.
    let mut posts = callbacks(&c, "CallConnected", json!({}), now_ms);
    posts.extend(callbacks(
        &c,
        "ParticipantsUpdated",
        json!({ "sequenceNumber": 1, "participants": participants(&c) }),
        now_ms,
    ));
    let mut signals = vec![answered];
    signals.extend(connected);
    (
        c,
        Effects {
            outbox: vec![started],
            signals,
            callbacks: posts,
        },
    )
}

/// Ends an active call: `CallEnded` if it had started, `callDisconnected` to both parties,
/// `CallDisconnected` to the apps.
pub fn end(
    call: &CallRecord,
    ended_by: &str,
    reason: EndReason,
    now_ms: i64,
) -> (CallRecord, Effects) {
    let mut c = call.clone();
    c.state = state::DISCONNECTED.to_owned();
    c.ended_ms = Some(now_ms);
    c.ended_by = Some(ended_by.to_owned());
    let (code, sub_code, message) = reason.result();
    c.end_code = Some(code);
    let mut outbox = Vec::new();
    if let Some(connected_ms) = c.connected_ms {
        let mut data = call_fields(&c);
        data["endedBy"] =
            json!({ "communicationIdentifier": identifier(ended_by), "type": "Participant" });
        data["reason"] = json!({ "code": code, "subCode": sub_code });
        data["callDurationInSeconds"] = json!((now_ms - connected_ms).max(0) as f64 / 1000.0);
        outbox.push(OutboxEvent::new(
            format!("{PREFIX}CallEnded"),
            format!("call/{}/startedBy/{}", c.server_call_id, c.caller),
            data,
            now_ms,
        ));
    }
    let reason_json = json!({ "code": code, "subCode": sub_code, "message": message });
    let signals = state_signals(
        &c,
        "callDisconnected",
        json!({ "endedBy": identifier(ended_by), "reason": reason_json }),
    );
    let result = json!({ "resultInformation": reason_json });
    let posts = callbacks(&c, "CallDisconnected", result, now_ms);
    (
        c,
        Effects {
            outbox,
            signals,
            callbacks: posts,
        },
    )
}

/// Trickled candidates from `from` to the other party.
pub fn candidates(call: &CallRecord, from: &str, candidates: Value) -> Signal {
    Signal {
        user: other_party(call, from).to_owned(),
        name: "iceCandidates".into(),
        data: json!({ "callId": call.id, "from": identifier(from), "candidates": candidates }),
    }
}

/// The party that is not `user`.
pub fn other_party<'a>(call: &'a CallRecord, user: &str) -> &'a str {
    if call.caller == user {
        &call.callee
    } else {
        &call.caller
    }
}

/// `[{identifier, isMuted, isOnHold}]` of a call (media state is not known to the service).
pub fn participants(call: &CallRecord) -> Value {
    let mut ids = vec![call.caller.as_str(), call.callee.as_str()];
    if let Some(app) = call.answered_by.as_deref().filter(|a| *a != call.callee) {
        ids.push(app);
    }
    json!(
        ids.into_iter()
            .map(|id| json!({ "identifier": identifier(id), "isMuted": false, "isOnHold": false }))
            .collect::<Vec<_>>()
    )
}

/// The fields `CallStarted` and `CallEnded` share.
fn call_fields(c: &CallRecord) -> Value {
    json!({
        "startedBy": { "communicationIdentifier": identifier(&c.caller), "role": "Participant" },
        "serverCallId": c.server_call_id,
        "group": null,
        "room": null,
        "isTwoParty": true,
        "correlationId": c.correlation_id,
    })
}

/// The same state notification for both parties.
fn state_signals(c: &CallRecord, name: &str, extra: Value) -> Vec<Signal> {
    let mut data = json!({
        "callId": c.id,
        "serverCallId": c.server_call_id,
        "correlationId": c.correlation_id,
        "state": c.state,
    });
    if let (Some(d), Value::Object(extra)) = (data.as_object_mut(), extra) {
        d.extend(extra);
    }
    [&c.caller, &c.callee]
        .into_iter()
        .map(|user| Signal {
            user: user.clone(),
            name: name.to_owned(),
            data: data.clone(),
        })
        .collect()
}

/// A callback event `name` for each app callback of the call.
fn callbacks(c: &CallRecord, name: &str, extra: Value, now_ms: i64) -> Vec<Callback> {
    let mut data = json!({
        "callConnectionId": c.id,
        "serverCallId": c.server_call_id,
        "correlationId": c.correlation_id,
        "operationContext": c.operation_context,
        "resultInformation": { "code": 200, "subCode": 0, "message": "Success." },
        "version": super::API_VERSIONS[0],
        "publicEventType": format!("{PREFIX}{name}"),
    });
    if let (Some(d), Value::Object(extra)) = (data.as_object_mut(), extra) {
        d.extend(extra);
    }
    [&c.caller_callback, &c.callee_callback]
        .into_iter()
        .flatten()
        .map(|url| Callback {
            url: url.clone(),
            event: OutboxEvent::new(
                format!("{PREFIX}{name}"),
                format!("calling/callConnections/{}", c.id),
                data.clone(),
                now_ms,
            ),
        })
        .collect()
}

/// The time a call record shows, ISO 8601 with milliseconds.
pub fn iso(ms: Option<i64>) -> Value {
    json!(ms.map(clock::iso8601_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placed(callback: Option<&str>) -> CallRecord {
        let new = NewCall {
            caller: "8:acs:a".into(),
            callee: "8:acs:b".into(),
            caller_display_name: None,
            offer_sdp: Some("v=0".into()),
            caller_callback: callback.map(str::to_owned),
            operation_context: None,
        };
        let (call, effects) = place(new, "k".into(), "ctx", 1_000);
        assert_eq!(effects.signals[0].user, "8:acs:b");
        assert_eq!(effects.outbox[0].data["incomingCallContext"], "ctx");
        call
    }

    #[test]
    fn what_each_step_writes() {
        let call = placed(Some("http://127.0.0.1:9/cb"));
        let (connected, effects) = answer(&call, "8:acs:b", Some("v=0".into()), None, 2_000);
        assert_eq!(connected.state, state::CONNECTED);
        let names: Vec<_> = effects
            .signals
            .iter()
            .map(|s| (s.user.as_str(), s.name.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("8:acs:a", "callAnswered"),
                ("8:acs:a", "callConnected"),
                ("8:acs:b", "callConnected")
            ]
        );
        let types: Vec<_> = effects
            .callbacks
            .iter()
            .map(|c| c.event.event_type.as_str())
            .collect();
        assert_eq!(
            types,
            [
                "Microsoft.Communication.CallConnected",
                "Microsoft.Communication.ParticipantsUpdated"
            ]
        );
        let (ended, effects) = end(&connected, "8:acs:a", EndReason::HungUp, 4_500);
        assert_eq!(
            (ended.state.as_str(), ended.end_code),
            (state::DISCONNECTED, Some(200))
        );
        assert_eq!(effects.outbox[0].data["callDurationInSeconds"], 2.5);

        // Declined before an answer: never started, so no CallEnded.
        let (_, effects) = end(&placed(None), "8:acs:b", EndReason::Declined, 1_500);
        assert!(effects.outbox.is_empty() && effects.callbacks.is_empty());
        assert_eq!(effects.signals[0].data["reason"]["code"], 603);
    }
}
