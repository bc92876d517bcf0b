//! Call signaling: engines calling each other through the service (offer/answer, trickled
//! candidates, state notifications, resumable streams), Call Automation with callbacks, the
//! outbox events, and the refusals.

mod support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::TestService;
use support::calling::{Engine, expect, target, versioned};
use support::webhook::Receiver;

const OFFER: &str =
    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";
const ANSWER: &str =
    "v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";

fn candidate(n: u32) -> Value {
    json!({"candidate": format!("candidate:{n} 1 udp 2122260223 127.0.0.1 {} typ host", 50000 + n), "sdpMid": "0", "sdpMLineIndex": 0})
}

async fn send_candidates(svc: &TestService, from: &Engine, call: &str, list: Vec<Value>) {
    let (s, v) = svc
        .as_engine(
            from,
            Method::POST,
            &format!("/calling/calls/{call}/candidates"),
            Some(json!({ "candidates": list })),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
}

fn code(v: &Value) -> String {
    support::error_code(v)
}

#[tokio::test]
async fn engines_call_answer_trickle_and_hang_up() {
    let svc = TestService::start().await;
    let (a, b) = (svc.engine().await, svc.engine().await);
    let mut sa = svc.follow(&a, None).await;
    let mut sb = svc.follow(&b, None).await;

    let call = svc.place_call(&a, &b, OFFER).await;
    let incoming = expect(&mut sb, "incomingCall").await;
    assert_eq!(incoming["callId"], call.as_str());
    assert_eq!(incoming["offerSdp"], OFFER);
    assert_eq!(incoming["caller"]["rawId"], a.id.as_str());
    assert_eq!(incoming["callerDisplayName"], "Alice");

    // The caller may trickle before the answer; the callee gets them in order.
    send_candidates(&svc, &a, &call, vec![candidate(1), candidate(2)]).await;
    let (s, v) = svc.answer_call(&b, &call, ANSWER).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["state"].as_str(), v["answerSdp"].as_str()),
        (Some("connected"), Some(ANSWER))
    );
    send_candidates(&svc, &a, &call, vec![candidate(3)]).await;
    send_candidates(&svc, &b, &call, vec![candidate(10), candidate(11)]).await;

    let got = expect(&mut sb, "iceCandidates").await;
    assert_eq!(got["candidates"], json!([candidate(1), candidate(2)]));
    assert_eq!(got["from"]["rawId"], a.id.as_str());
    assert_eq!(
        expect(&mut sb, "callConnected").await["callId"],
        call.as_str()
    );
    assert_eq!(
        expect(&mut sb, "iceCandidates").await["candidates"],
        json!([candidate(3)])
    );

    let answered = expect(&mut sa, "callAnswered").await;
    assert_eq!(answered["answerSdp"], ANSWER);
    assert_eq!(expect(&mut sa, "callConnected").await["state"], "connected");
    assert_eq!(
        expect(&mut sa, "iceCandidates").await["candidates"],
        json!([candidate(10), candidate(11)])
    );

    // Answering again is a conflict; the state is readable over REST.
    let (s, v) = svc.answer_call(&b, &call, ANSWER).await;
    assert_eq!((s, code(&v).as_str()), (StatusCode::CONFLICT, "Conflict"));
    let (s, v) = svc.get_call(&a, &call).await;
    assert_eq!(
        (s, v["state"].as_str()),
        (StatusCode::OK, Some("connected"))
    );

    let (s, v) = svc.hang_up(&a, &call).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    for stream in [&mut sa, &mut sb] {
        let d = expect(stream, "callDisconnected").await;
        assert_eq!(
            (d["state"].as_str(), d["reason"]["code"].as_i64()),
            (Some("disconnected"), Some(200))
        );
        assert_eq!(d["endedBy"]["rawId"], a.id.as_str());
    }
    // After the hang-up: answering, hanging up, trickling are conflicts.
    let (s, v) = svc.answer_call(&b, &call, ANSWER).await;
    assert_eq!((s, code(&v).as_str()), (StatusCode::CONFLICT, "Conflict"));
    let (s, _) = svc.hang_up(&b, &call).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _) = svc
        .as_engine(
            &b,
            Method::POST,
            &format!("/calling/calls/{call}/candidates"),
            Some(json!({"candidates": [candidate(4)]})),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);

    // Outbox: IncomingCall, CallStarted, CallEnded with acs-wire.md §10's fields.
    let events: Vec<_> = svc
        .outbox()
        .into_iter()
        .filter(|e| e.event_type.contains("Call"))
        .collect();
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "Microsoft.Communication.IncomingCall",
            "Microsoft.Communication.CallStarted",
            "Microsoft.Communication.CallEnded"
        ]
    );
    let inc = &events[0].data;
    for field in [
        "toCommunicationIdentifier",
        "fromCommunicationIdentifier",
        "serverCallId",
        "callerDisplayName",
        "customContext",
        "incomingCallContext",
        "onBehalfOfCallee",
        "correlationId",
    ] {
        assert!(
            inc.get(field).is_some(),
            "IncomingCall lacks {field}: {inc}"
        );
    }
    assert_eq!(inc["toCommunicationIdentifier"]["rawId"], b.id.as_str());
    let ended = &events[2].data;
    for field in [
        "startedBy",
        "serverCallId",
        "group",
        "room",
        "isTwoParty",
        "correlationId",
        "endedBy",
        "reason",
        "callDurationInSeconds",
    ] {
        assert!(
            ended.get(field).is_some(),
            "CallEnded lacks {field}: {ended}"
        );
    }
    assert_eq!(events[1].data["serverCallId"], inc["serverCallId"]);
    assert_eq!(ended["correlationId"], inc["correlationId"]);
    assert_eq!(ended["isTwoParty"], true);
    svc.service.shutdown().await;
}

#[tokio::test]
async fn reject_refusals_and_scopes() {
    let svc = TestService::start().await;
    let (a, b, c) = (svc.engine().await, svc.engine().await, svc.engine().await);
    let mut sa = svc.follow(&a, None).await;
    let mut sb = svc.follow(&b, None).await;
    let call = svc.place_call(&a, &b, OFFER).await;
    expect(&mut sb, "incomingCall").await;

    // Someone else's call: 403 on every route, nothing changes.
    for (method, path, body) in [
        (Method::GET, format!("/calling/calls/{call}"), None),
        (
            Method::POST,
            format!("/calling/calls/{call}:answer"),
            Some(json!({"answerSdp": ANSWER})),
        ),
        (Method::POST, format!("/calling/calls/{call}:reject"), None),
        (
            Method::POST,
            format!("/calling/calls/{call}/candidates"),
            Some(json!({"candidates": [candidate(1)]})),
        ),
        (Method::DELETE, format!("/calling/calls/{call}"), None),
    ] {
        let (s, v) = svc.as_engine(&c, method, &path, body).await;
        assert_eq!(
            (s, code(&v).as_str()),
            (StatusCode::FORBIDDEN, "Forbidden"),
            "{path}"
        );
    }
    // The caller cannot answer its own call.
    let (s, _) = svc.answer_call(&a, &call, ANSWER).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Unknown calls, and ids that cannot be one.
    for id in [uuid::Uuid::new_v4().to_string(), "nope".to_owned()] {
        let (s, v) = svc.get_call(&a, &id).await;
        assert_eq!((s, code(&v).as_str()), (StatusCode::NOT_FOUND, "NotFound"));
        let (s, _) = svc.answer_call(&a, &id, ANSWER).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
    // Without voip (a chat token) or with the access key: 403.
    let (_, chat_token) = svc.user_with_token(&["chat"]).await;
    let (s, v) = svc
        .bearer(
            Method::GET,
            &versioned(&format!("/calling/calls/{call}")),
            &chat_token,
            b"",
        )
        .await;
    assert_eq!((s, code(&v).as_str()), (StatusCode::FORBIDDEN, "Forbidden"));
    let (s, _) = svc
        .bearer(
            Method::POST,
            &versioned("/calling/registrations"),
            &chat_token,
            b"",
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = svc
        .signed(Method::GET, &versioned("/calling/calls"), b"")
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Someone else's registration stream.
    let (s, _) = svc
        .bearer(
            Method::GET,
            &versioned(&format!("/calling/registrations/{}/events", a.registration)),
            &c.token,
            b"",
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // The callee declines: both are told, the call is over.
    let (s, v) = svc
        .as_engine(
            &b,
            Method::POST,
            &format!("/calling/calls/{call}:reject"),
            Some(json!({"reason": "busy"})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    for stream in [&mut sa, &mut sb] {
        let d = expect(stream, "callDisconnected").await;
        assert_eq!(d["reason"]["code"], 486);
    }
    let (s, v) = svc.answer_call(&b, &call, ANSWER).await;
    assert_eq!((s, code(&v).as_str()), (StatusCode::CONFLICT, "Conflict"));
    let (s, v) = svc.as_engine(&a, Method::GET, "/calling/calls", None).await;
    assert_eq!(
        (s, v["value"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(0))
    );
    // A rejected call never started: no CallStarted / CallEnded.
    let types: Vec<String> = svc.outbox().into_iter().map(|e| e.event_type).collect();
    assert!(
        !types
            .iter()
            .any(|t| t.ends_with("CallStarted") || t.ends_with("CallEnded")),
        "{types:?}"
    );
    svc.service.shutdown().await;
}

#[tokio::test]
async fn bad_input_stores_nothing() {
    let svc = TestService::start().await;
    let (a, b) = (svc.engine().await, svc.engine().await);
    let (_, stranger) = svc.user_with_token(&["voip"]).await;
    // Over the SDP limit (12 KiB) but under the body limit, so it is the SDP check that answers.
    let big = format!("v=0 {}", "a".repeat(13 * 1024));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("malformed", b"{\"target\":".to_vec()),
        (
            "no target",
            json!({"offerSdp": OFFER}).to_string().into_bytes(),
        ),
        (
            "no offer",
            json!({"target": target(&b.id)}).to_string().into_bytes(),
        ),
        (
            "empty offer",
            json!({"target": target(&b.id), "offerSdp": " "})
                .to_string()
                .into_bytes(),
        ),
        (
            "oversized offer",
            json!({"target": target(&b.id), "offerSdp": big})
                .to_string()
                .into_bytes(),
        ),
        (
            "unknown user",
            json!({"target": target(&format!("{}0", stranger)), "offerSdp": OFFER})
                .to_string()
                .into_bytes(),
        ),
        (
            "phone number",
            json!({"target": {"phoneNumber": {"value": "+14255550101"}}, "offerSdp": OFFER})
                .to_string()
                .into_bytes(),
        ),
        (
            "self",
            json!({"target": target(&a.id), "offerSdp": OFFER})
                .to_string()
                .into_bytes(),
        ),
        (
            "wrong type",
            json!({"target": target(&b.id), "offerSdp": 5})
                .to_string()
                .into_bytes(),
        ),
    ];
    for (what, body) in cases {
        let (s, v) = svc
            .bearer(Method::POST, &versioned("/calling/calls"), &a.token, &body)
            .await;
        assert_eq!(
            (s, code(&v).as_str()),
            (StatusCode::BAD_REQUEST, "BadRequest"),
            "{what}: {v}"
        );
    }
    let (s, v) = svc
        .bearer(Method::POST, "/calling/calls", &a.token, b"{}")
        .await;
    assert_eq!(
        (s, code(&v).as_str()),
        (StatusCode::BAD_REQUEST, "MissingApiVersionParameter")
    );
    assert_eq!(
        (
            svc.count("calls"),
            svc.count("call_signals"),
            svc.count("outbox")
        ),
        (0, 0, 0)
    );

    // On a live call: bad answers and candidates change nothing.
    let call = svc.place_call(&a, &b, OFFER).await;
    let signals = svc.count("call_signals");
    for (path, body) in [
        (format!("/calling/calls/{call}:answer"), json!({})),
        (
            format!("/calling/calls/{call}:answer"),
            json!({"answerSdp": big.clone()}),
        ),
        (
            format!("/calling/calls/{call}/candidates"),
            json!({"candidates": []}),
        ),
        (
            format!("/calling/calls/{call}/candidates"),
            json!({"candidates": [{"sdpMid": "0"}]}),
        ),
        (
            format!("/calling/calls/{call}/candidates"),
            json!({"candidates": [{"candidate": "x".repeat(2000)}]}),
        ),
        (
            format!("/calling/calls/{call}:reject"),
            json!({"reason": "tired"}),
        ),
    ] {
        let (s, v) = svc.as_engine(&b, Method::POST, &path, Some(body)).await;
        assert_eq!(
            (s, code(&v).as_str()),
            (StatusCode::BAD_REQUEST, "BadRequest"),
            "{path}: {v}"
        );
    }
    let (s, v) = svc.get_call(&b, &call).await;
    assert_eq!(
        (s, v["state"].as_str()),
        (StatusCode::OK, Some("connecting"))
    );
    assert_eq!(svc.count("call_signals"), signals);
    svc.service.shutdown().await;
}

#[tokio::test]
async fn a_reconnecting_engine_loses_nothing() {
    let svc = TestService::start().await;
    let (a, b) = (svc.engine().await, svc.engine().await);
    let mut sb = svc.follow(&b, None).await;
    let call = svc.place_call(&a, &b, OFFER).await;
    expect(&mut sb, "incomingCall").await;
    let seen = sb.last_id.clone().expect("event id");
    drop(sb);

    // While B is away: candidates and the caller's hang-up are buffered for it.
    for n in 1..=3 {
        send_candidates(&svc, &a, &call, vec![candidate(n)]).await;
    }
    let (s, _) = svc.hang_up(&a, &call).await;
    assert_eq!(s, StatusCode::NO_CONTENT);

    let mut sb = svc.follow(&b, Some(&seen)).await;
    for n in 1..=3 {
        assert_eq!(
            expect(&mut sb, "iceCandidates").await["candidates"],
            json!([candidate(n)])
        );
    }
    let d = expect(&mut sb, "callDisconnected").await;
    assert_eq!(d["reason"]["code"], 487, "cancelled before an answer");
    let last = sb.last_id.clone().expect("event id");
    assert_eq!(
        last.parse::<i64>().ok(),
        seen.parse::<i64>().ok().map(|n| n + 4)
    );
    drop(sb);

    // Resuming from the same point again replays the same events (nothing was confirmed).
    let mut again = svc.follow(&b, Some(&seen)).await;
    assert_eq!(
        expect(&mut again, "iceCandidates").await["candidates"],
        json!([candidate(1)])
    );
    drop(again);
    // Confirming everything leaves nothing buffered.
    let mut done = svc.follow(&b, Some(&last)).await;
    assert!(done.next_within(Duration::from_millis(300)).await.is_none());
    drop(done);
    // What stays buffered is A's: its own callDisconnected, which A never confirmed.
    assert_eq!(svc.count("call_signals"), 1);

    // An engine that registers after a call was placed reads it over REST.
    let call2 = svc.place_call(&a, &b, OFFER).await;
    let late = svc.engine().await;
    let late_b = Engine {
        registration: late.registration,
        ..b.clone()
    };
    let (s, v) = svc
        .as_engine(&late_b, Method::GET, "/calling/calls", None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["value"][0]["id"], call2.as_str());
    assert_eq!(v["value"][0]["offerSdp"], OFFER);
    svc.service.shutdown().await;
}

/// The `incomingCallContext` of the newest `IncomingCall` in the outbox.
fn last_incoming_context(svc: &TestService) -> String {
    svc.outbox()
        .into_iter()
        .rev()
        .find(|e| e.event_type.ends_with("IncomingCall"))
        .and_then(|e| e.data["incomingCallContext"].as_str().map(str::to_owned))
        .expect("context")
}

/// CloudEvents the receiver got (callbacks carry no `aeg-event-type`).
fn callbacks(receiver: &Receiver) -> Vec<Value> {
    receiver
        .state
        .requests_of("POST", None)
        .into_iter()
        .flat_map(|r| r.body.as_array().cloned().unwrap_or_default())
        .collect()
}

async fn wait_callbacks(receiver: &Receiver, n: usize) -> Vec<Value> {
    receiver
        .state
        .wait_until(Duration::from_secs(10), "callbacks", |s| {
            s.requests_of("POST", None)
                .iter()
                .map(|r| r.body.as_array().map_or(0, Vec::len))
                .sum::<usize>()
                >= n
        })
        .await;
    callbacks(receiver)
}

#[tokio::test]
async fn call_automation_with_callbacks() {
    let svc = TestService::start().await;
    let hook = Receiver::start().await;
    let (a, b) = (svc.engine().await, svc.engine().await);
    let mut sa = svc.follow(&a, None).await;
    let mut sb = svc.follow(&b, None).await;

    // An app calls B; B's engine answers (no SDP: the app has no media).
    let (s, v) = svc
        .automation(
            Method::POST,
            "/calling/callConnections",
            Some(json!({"targets": [target(&b.id)], "callbackUri": hook.url(), "sourceDisplayName": "Bot", "operationContext": "ctx-1"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["callConnectionState"], "connecting");
    assert_eq!(v["targets"][0]["rawId"], b.id.as_str());
    assert_eq!(v["callbackUri"], hook.url());
    let cc = v["callConnectionId"].as_str().expect("id").to_owned();
    let server_call_id = v["serverCallId"].clone();
    let incoming = expect(&mut sb, "incomingCall").await;
    assert_eq!(
        (incoming["callId"].as_str(), incoming["offerSdp"].is_null()),
        (Some(cc.as_str()), true)
    );
    let (s, v) = svc
        .as_engine(
            &b,
            Method::POST,
            &format!("/calling/calls/{cc}:answer"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let got = wait_callbacks(&hook, 2).await;
    assert_eq!(got[0]["type"], "Microsoft.Communication.CallConnected");
    assert_eq!(got[0]["source"], format!("calling/callConnections/{cc}"));
    for field in [
        "callConnectionId",
        "serverCallId",
        "correlationId",
        "operationContext",
        "resultInformation",
    ] {
        assert!(
            got[0]["data"].get(field).is_some(),
            "CallConnected lacks {field}"
        );
    }
    assert_eq!(got[0]["data"]["operationContext"], "ctx-1");
    assert_eq!(got[0]["data"]["serverCallId"], server_call_id);
    assert_eq!(
        got[1]["type"],
        "Microsoft.Communication.ParticipantsUpdated"
    );
    assert_eq!(
        got[1]["data"]["participants"].as_array().map(Vec::len),
        Some(2)
    );

    let (s, v) = svc
        .automation(Method::GET, &format!("/calling/callConnections/{cc}"), None)
        .await;
    assert_eq!(
        (s, v["callConnectionState"].as_str()),
        (StatusCode::OK, Some("connected"))
    );
    assert_eq!(
        v["answeredBy"],
        json!({ "id": b.id }),
        "the SDK's CommunicationUserIdentifierModel"
    );
    let one = format!(
        "/calling/callConnections/{cc}/participants/{}",
        b.id.replace(':', "%3A")
    );
    let (s, v) = svc.automation(Method::GET, &one, None).await;
    assert_eq!(
        (s, v["identifier"]["rawId"].as_str()),
        (StatusCode::OK, Some(b.id.as_str()))
    );
    let (s, _) = svc
        .automation(
            Method::GET,
            &format!("/calling/callConnections/{cc}/participants/8%3Aacs%3Ax"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) = svc
        .automation(
            Method::GET,
            &format!("/calling/callConnections/{cc}/participants"),
            None,
        )
        .await;
    assert_eq!(
        (s, v["value"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(2))
    );
    let (s, _) = svc
        .automation(
            Method::DELETE,
            &format!("/calling/callConnections/{cc}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let got = wait_callbacks(&hook, 3).await;
    assert_eq!(got[2]["type"], "Microsoft.Communication.CallDisconnected");
    expect(&mut sb, "callConnected").await;
    expect(&mut sb, "callDisconnected").await;
    let (s, v) = svc
        .automation(
            Method::DELETE,
            &format!("/calling/callConnections/{cc}"),
            None,
        )
        .await;
    assert_eq!((s, code(&v).as_str()), (StatusCode::CONFLICT, "Conflict"));

    // A calls B; the app answers from the IncomingCall event's context, then terminates.
    let call = svc.place_call(&a, &b, OFFER).await;
    expect(&mut sb, "incomingCall").await;
    let context = last_incoming_context(&svc);
    let (s, v) = svc
        .automation(
            Method::POST,
            "/calling/callConnections:answer",
            Some(json!({"incomingCallContext": "forged", "callbackUri": hook.url()})),
        )
        .await;
    assert_eq!(
        (s, code(&v).as_str()),
        (StatusCode::BAD_REQUEST, "BadRequest")
    );
    let (s, v) = svc
        .automation(
            Method::POST,
            "/calling/callConnections:answer",
            Some(json!({"incomingCallContext": context})),
        )
        .await;
    assert_eq!(
        (s, code(&v).as_str()),
        (StatusCode::BAD_REQUEST, "BadRequest"),
        "callbackUri is required"
    );
    let (s, v) = svc
        .automation(
            Method::POST,
            "/calling/callConnections:answer",
            Some(json!({"incomingCallContext": context, "callbackUri": hook.url()})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (
            v["callConnectionId"].as_str(),
            v["callConnectionState"].as_str()
        ),
        (Some(call.as_str()), Some("connected"))
    );
    let (s, _) = svc
        .automation(
            Method::POST,
            "/calling/callConnections:answer",
            Some(json!({"incomingCallContext": context, "callbackUri": hook.url()})),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    expect(&mut sa, "callAnswered").await;
    expect(&mut sa, "callConnected").await;
    let (s, v) = svc
        .automation(
            Method::POST,
            &format!("/calling/callConnections/{call}:terminate"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    assert_eq!(
        expect(&mut sa, "callDisconnected").await["reason"]["subCode"],
        5001
    );
    let got = wait_callbacks(&hook, 6).await;
    let types: Vec<&str> = got[3..].iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(
        types,
        [
            "Microsoft.Communication.CallConnected",
            "Microsoft.Communication.ParticipantsUpdated",
            "Microsoft.Communication.CallDisconnected"
        ]
    );

    // The app rejects a third call; a user token may not use Call Automation.
    let call3 = svc.place_call(&a, &b, OFFER).await;
    let context = last_incoming_context(&svc);
    let (s, _) = svc
        .automation(
            Method::POST,
            "/calling/callConnections:reject",
            Some(json!({"incomingCallContext": context, "callRejectReason": "busy"})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = svc.get_call(&a, &call3).await;
    assert_eq!(
        (s, v["state"].as_str()),
        (StatusCode::OK, Some("disconnected"))
    );
    let (s, _) = svc
        .bearer(
            Method::GET,
            &versioned(&format!("/calling/callConnections/{call3}")),
            &a.token,
            b"",
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = svc
        .automation(
            Method::GET,
            &format!("/calling/callConnections/{}", uuid::Uuid::new_v4()),
            None,
        )
        .await;
    assert_eq!((s, code(&v).as_str()), (StatusCode::NOT_FOUND, "NotFound"));
    let (s, v) = svc
        .automation(
            Method::POST,
            "/calling/callConnections",
            Some(json!({"targets": [target(&b.id)]})),
        )
        .await;
    assert_eq!(
        (s, code(&v).as_str()),
        (StatusCode::BAD_REQUEST, "BadRequest")
    );
    hook.stop().await;
    svc.service.shutdown().await;
}

#[tokio::test]
async fn callbacks_are_retried_until_acknowledged_and_registrations_end() {
    let svc = TestService::start_with(|c| c.events.retry_base_ms = 100).await;
    let hook = Receiver::start().await;
    hook.state.status.store(500, Ordering::SeqCst);
    let b = svc.engine().await;
    let (s, v) = svc
        .automation(
            Method::POST,
            "/calling/callConnections",
            Some(json!({"targets": [target(&b.id)], "callbackUri": hook.url()})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let cc = v["callConnectionId"].as_str().expect("id").to_owned();
    let (s, _) = svc.answer_call(&b, &cc, ANSWER).await;
    assert_eq!(s, StatusCode::OK);
    hook.state
        .wait_until(Duration::from_secs(10), "refused callbacks", |st| {
            st.requests_of("REFUSED", None).len() >= 2
        })
        .await;
    assert!(callbacks(&hook).is_empty());
    hook.state.status.store(200, Ordering::SeqCst);
    let got = wait_callbacks(&hook, 2).await;
    let types: Vec<&str> = got.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(
        types[..2],
        [
            "Microsoft.Communication.CallConnected",
            "Microsoft.Communication.ParticipantsUpdated"
        ],
        "in order, after the retries"
    );
    let refused = hook.state.requests_of("REFUSED", None);
    assert_eq!(
        refused[0].body[0]["id"], got[0]["id"],
        "the same event again"
    );
    // The queue row goes once the acknowledgement is recorded, just after the receiver saw it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while svc.count("call_callbacks") > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "callbacks left queued"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Deleting a registration ends its stream and drops its buffer.
    let mut stream = svc.follow(&b, None).await;
    expect(&mut stream, "incomingCall").await;
    let path = format!("/calling/registrations/{}", b.registration);
    let (s, _) = svc.as_engine(&b, Method::DELETE, &path, None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    while stream.next().await.is_some() {}
    let (s, _) = svc.as_engine(&b, Method::DELETE, &path, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    hook.stop().await;
    svc.service.shutdown().await;
}
