//! Email end to end (acs-wire.md §7): the long-running send, its status, SMTP delivery into a
//! sink, delivery reports in the outbox, validation, repeatability, relay failures and
//! resuming after a restart.

mod support;

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::smtp::SmtpSink;
use support::*;

const SEND: &str = "/emails:send?api-version=2025-09-01";
const SENDER: &str = "DoNotReply@mediacore.test";

async fn service_with_relay(port: u16) -> TestService {
    TestService::start_with(|c| {
        c.email.relay_port = port;
        c.email.relay_timeout_seconds = 5;
        c.email.retry_after_seconds = 0;
    })
    .await
}

fn message(subject: &str, to: &str) -> Value {
    json!({
        "senderAddress": SENDER,
        "content": {"subject": subject, "plainText": "plain body"},
        "recipients": {"to": [{"address": to, "displayName": "Someone"}]},
    })
}

/// Sends `body`; returns (status, headers, body).
async fn send(
    t: &TestService,
    body: &Value,
    headers: &[(&str, &str)],
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    t.signed_headers(Method::POST, SEND, body.to_string().as_bytes(), headers)
        .await
}

/// Polls `location` (as Operation-Location gave it) until the operation finishes.
async fn finished(t: &TestService, location: &str) -> Value {
    let path = location
        .strip_prefix(&t.base)
        .expect("Operation-Location on the service's https endpoint");
    for _ in 0..200 {
        let (s, v) = t.signed(Method::GET, path, b"").await;
        assert_eq!(s, StatusCode::OK, "{v}");
        if v["status"] == "Succeeded" || v["status"] == "Failed" {
            return v;
        }
        assert!(
            v["status"] == "NotStarted" || v["status"] == "Running",
            "{v}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("operation at {location} did not finish");
}

/// Sends `body` and waits for its outcome.
async fn send_and_wait(t: &TestService, body: &Value) -> Value {
    let (s, h, v) = send(t, body, &[]).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let location = h
        .get("operation-location")
        .and_then(|l| l.to_str().ok())
        .expect("Operation-Location")
        .to_owned();
    finished(t, &location).await
}

fn reports(t: &TestService, operation: &str) -> Vec<Value> {
    t.outbox()
        .into_iter()
        .filter(|e| e.event_type == "Microsoft.Communication.EmailDeliveryReportReceived")
        .filter(|e| e.data["messageId"] == operation)
        .map(|e| {
            assert_eq!(e.subject, format!("sender/{SENDER}/message/{operation}"));
            e.data
        })
        .collect()
}

#[tokio::test]
async fn send_delivers_everything_and_reports_per_recipient() {
    let sink = SmtpSink::start().await;
    let t = service_with_relay(sink.port).await;
    let body = json!({
        "senderAddress": SENDER,
        "content": {"subject": "Figures", "plainText": "plain body", "html": "<p>html body</p>"},
        "recipients": {
            "to": [{"address": "alice@example.test", "displayName": "Alice"}],
            "cc": [{"address": "carol@example.test"}],
            "bcc": [{"address": "bob@example.test"}],
        },
        "replyTo": [{"address": "replies@mediacore.test"}],
        "attachments": [
            {"name": "figures.txt", "contentType": "text/plain", "contentInBase64": B64.encode("attached text")},
            {"name": "logo.png", "contentType": "image/png", "contentInBase64": B64.encode([137u8, 80, 78, 71]), "contentId": "logo"},
        ],
        "headers": {"x-mediacore-test": "rust"},
        "userEngagementTrackingDisabled": true,
    });
    let (s, h, v) = send(&t, &body, &[]).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let id = v["id"].as_str().expect("id").to_owned();
    assert_eq!(v["status"], "Running");
    assert_eq!(
        h.get("operation-location").and_then(|l| l.to_str().ok()),
        Some(format!("{}/emails/operations/{id}?api-version=2025-09-01", t.base).as_str())
    );
    assert_eq!(
        h.get("retry-after").and_then(|r| r.to_str().ok()),
        Some("0")
    );
    assert_eq!(
        h.get("operation-id").and_then(|r| r.to_str().ok()),
        Some(id.as_str())
    );

    let location = format!("{}/emails/operations/{id}?api-version=2025-09-01", t.base);
    let done = finished(&t, &location).await;
    assert_eq!(done, json!({"id": id, "status": "Succeeded"}));

    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(m.mail_from, SENDER);
    assert_eq!(
        m.rcpt_to,
        [
            "alice@example.test",
            "carol@example.test",
            "bob@example.test"
        ]
    );
    for needle in [
        "To: Alice <alice@example.test>",
        "Cc: carol@example.test",
        "Reply-To: replies@mediacore.test",
        "x-mediacore-test: rust",
        "Subject: Figures",
        &format!("Message-ID: <{id}@mediacore.test>"),
        "multipart/related",
        "Content-ID: <logo>",
        "filename=\"figures.txt\"",
        "attached text",
        "<p>html body</p>",
    ] {
        assert!(m.data.contains(needle), "{needle} missing in:\n{}", m.data);
    }
    assert!(
        !m.data.contains("bob@example.test"),
        "Bcc leaked:\n{}",
        m.data
    );

    let reports = reports(&t, &id);
    let mut recipients: Vec<&str> = reports
        .iter()
        .filter_map(|r| r["recipient"].as_str())
        .collect();
    recipients.sort_unstable();
    assert_eq!(
        recipients,
        [
            "alice@example.test",
            "bob@example.test",
            "carol@example.test"
        ]
    );
    for r in &reports {
        assert_eq!(r["status"], "Delivered");
        assert_eq!(r["sender"], SENDER);
        assert_eq!(r["internetMessageId"], format!("<{id}@mediacore.test>"));
        assert_eq!(
            r["deliveryStatusDetails"]["recipientMailServerHostName"],
            "127.0.0.1"
        );
        assert!(
            r["deliveryAttemptTimestamp"]
                .as_str()
                .expect("time")
                .ends_with('Z')
        );
    }
}

#[tokio::test]
async fn bad_input_is_400_and_stores_nothing() {
    let sink = SmtpSink::start().await;
    let t = TestService::start_with(|c| {
        c.email.relay_port = sink.port;
        c.email.max_message_bytes = 1000;
    })
    .await;
    let big = B64.encode(vec![0u8; 1001]);
    let mut cases = vec![
        ("recipients.to", message("x", "not-an-address")),
        (
            "senderAddress",
            json!({"content": {"subject": "x", "plainText": "y"}, "recipients": {"to": [{"address": "a@example.test"}]}}),
        ),
        (
            "content.subject",
            json!({"senderAddress": SENDER, "content": {"plainText": "y"}, "recipients": {"to": [{"address": "a@example.test"}]}}),
        ),
        (
            "content",
            json!({"senderAddress": SENDER, "content": {"subject": "x"}, "recipients": {"to": [{"address": "a@example.test"}]}}),
        ),
        (
            "recipients",
            json!({"senderAddress": SENDER, "content": {"subject": "x", "plainText": "y"}, "recipients": {"to": []}}),
        ),
    ];
    let mut with = |target: &'static str, key: &str, value: Value| {
        let mut m = message("x", "a@example.test");
        m[key] = value;
        cases.push((target, m));
    };
    with("replyTo", "replyTo", json!([{"address": "nope"}]));
    with(
        "attachments.contentInBase64",
        "attachments",
        json!([{"name": "a", "contentType": "text/plain", "contentInBase64": "!!"}]),
    );
    with(
        "attachments.contentType",
        "attachments",
        json!([{"name": "a", "contentType": "not a type", "contentInBase64": ""}]),
    );
    with(
        "attachments",
        "attachments",
        json!([{"name": "a", "contentType": "text/plain", "contentInBase64": big}]),
    );
    with("headers", "headers", json!({"Bcc": "evil@example.test"}));
    with(
        "headers",
        "headers",
        json!({"x-a": "v\r\nBcc: evil@example.test"}),
    );
    let many: Vec<Value> = (0..51)
        .map(|i| json!({"address": format!("u{i}@example.test")}))
        .collect();
    with("recipients", "recipients", json!({"to": many}));
    for (target, body) in cases {
        let (s, _, v) = send(&t, &body, &[]).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{target}: {v}");
        assert_eq!(error_code(&v), "BadRequest");
        assert_eq!(v["error"]["target"], target, "{v}");
    }
    let (s, _, v) = t
        .signed_headers(
            Method::POST,
            "/emails:send",
            message("x", "a@example.test").to_string().as_bytes(),
            &[],
        )
        .await;
    assert_eq!(
        (s, error_code(&v).as_str()),
        (StatusCode::BAD_REQUEST, "MissingApiVersionParameter")
    );
    let (s, _, v) = send(
        &t,
        &message("x", "a@example.test"),
        &[("operation-id", "bad id/")],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(t.count("email_operations"), 0);
    assert!(sink.messages().is_empty());

    let (s, v) = t
        .signed(
            Method::GET,
            "/emails/operations/unknown?api-version=2025-09-01",
            b"",
        )
        .await;
    assert_eq!(
        (s, error_code(&v).as_str()),
        (StatusCode::NOT_FOUND, "NotFound")
    );
}

#[tokio::test]
async fn operation_and_repeatability_ids_send_once() {
    let sink = SmtpSink::start().await;
    let t = service_with_relay(sink.port).await;
    let op = "0f6b3a4e-5d7c-4e0b-9a1f-2c3d4e5f6a7b";
    let body = message("once", "a@example.test");
    let (s, _, first) = send(&t, &body, &[("operation-id", op)]).await;
    assert_eq!((s, first["id"].as_str()), (StatusCode::ACCEPTED, Some(op)));
    let location = format!("{}/emails/operations/{op}?api-version=2025-09-01", t.base);
    finished(&t, &location).await;
    let (s, h, again) = send(&t, &body, &[("operation-id", op)]).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_eq!(
        again,
        json!({"id": op, "status": "Succeeded"}),
        "the finished operation"
    );
    assert!(h.get("operation-location").is_some());
    let (s, _, v) = send(
        &t,
        &message("other", "a@example.test"),
        &[("operation-id", op)],
    )
    .await;
    assert_eq!(
        (s, error_code(&v).as_str()),
        (StatusCode::CONFLICT, "Conflict")
    );

    let headers = [
        ("repeatability-request-id", "r-1"),
        ("repeatability-first-sent", "Tue, 24 Nov 2026 03:02:32 GMT"),
    ];
    let (_, _, a) = send(&t, &message("repeatable", "a@example.test"), &headers).await;
    let (s, _, b) = send(&t, &message("repeatable", "a@example.test"), &headers).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_eq!(
        a["id"], b["id"],
        "same operation for the same repeatability id"
    );
    let (s, _, v) = send(
        &t,
        &message("repeatable", "a@example.test"),
        &[("repeatability-first-sent", "yesterday")],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let location = format!(
        "{}/emails/operations/{}?api-version=2025-09-01",
        t.base,
        a["id"].as_str().expect("id")
    );
    finished(&t, &location).await;
    let subjects: Vec<bool> = sink
        .messages()
        .iter()
        .map(|m| m.data.contains("Subject: once"))
        .collect();
    assert_eq!(subjects, [true, false], "each message went out once");
}

#[tokio::test]
async fn relay_down_or_refusing_fails_the_operation_with_a_report() {
    // A port nothing listens on: bind, note, close.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let t = service_with_relay(closed).await;
    let done = send_and_wait(&t, &message("down", "a@example.test")).await;
    assert_eq!(done["status"], "Failed", "{done}");
    assert_eq!(done["error"]["code"], "RelayUnavailable", "{done}");
    assert!(done["error"]["message"].is_string());
    let id = done["id"].as_str().expect("id");
    let r = reports(&t, id);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["status"], "Failed");
    assert_eq!(r[0]["recipient"], "a@example.test");

    let sink = SmtpSink::start().await;
    let t = service_with_relay(sink.port).await;
    let done = send_and_wait(&t, &message("refused", "rejected@example.test")).await;
    assert_eq!(
        (done["status"].as_str(), done["error"]["code"].as_str()),
        (Some("Failed"), Some("MessageRejected")),
        "{done}"
    );
    assert_eq!(
        reports(&t, done["id"].as_str().expect("id"))[0]["status"],
        "Failed"
    );
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn a_restart_resumes_unfinished_sends() {
    // The first relay never answers: the operation is Running when the service stops.
    let hanging = SmtpSink::hanging().await;
    let t = service_with_relay(hanging.port).await;
    let (s, _, v) = send(&t, &message("after restart", "a@example.test"), &[]).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let id = v["id"].as_str().expect("id").to_owned();
    let path = format!("/emails/operations/{id}?api-version=2025-09-01");
    for _ in 0..100 {
        let (_, v) = t.signed(Method::GET, &path, b"").await;
        if v["status"] == "Running" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let TestService { service, dir, .. } = t;
    service.shutdown().await;

    let sink = SmtpSink::start().await;
    let mut config = support::config(dir.path());
    config.email.relay_port = sink.port;
    let service = mediacore_service::start(&config).await.expect("restart");
    let t = TestService {
        client: https_client(&service.ca_path),
        base: format!("https://127.0.0.1:{}", service.https_addr.port()),
        service,
        dir,
    };
    let done = finished(&t, &format!("{}{path}", t.base)).await;
    assert_eq!(done["status"], "Succeeded", "{done}");
    assert_eq!(sink.messages().len(), 1);
    assert_eq!(reports(&t, &id).len(), 1);
}
