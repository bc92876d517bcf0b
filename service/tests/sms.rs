//! SMS end to end (acs-wire.md §6): per-recipient results, E.164, repeatability, local numbers
//! (SMSReceived), the gateway and delivery reports (outbox events).

mod support;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use mediacore_service::sms::gateway::{DeliveryOutcome, OutgoingSms, RecordingGateway, SmsGateway};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::chat::StoredEvent;
use support::*;

const SMS_PATH: &str = "/sms?api-version=2021-03-07";
/// The test service's own numbers (config default).
const OURS: &str = "+18005550100";
const OURS_TOO: &str = "+18005550101";

fn recipient(to: &str, id: Option<&str>) -> Value {
    let mut r = json!({ "to": to });
    if let Some(id) = id {
        r["repeatabilityRequestId"] = json!(id);
        r["repeatabilityFirstSent"] = json!("Tue, 24 Nov 2026 03:02:32 GMT");
    }
    r
}

fn request(to: &[Value], message: &str, report: bool) -> Vec<u8> {
    json!({
        "from": OURS,
        "smsRecipients": to,
        "message": message,
        "smsSendOptions": {"enableDeliveryReport": report, "tag": "t1"},
    })
    .to_string()
    .into_bytes()
}

async fn events_of(t: &TestService, kind: &str, n: usize) -> Vec<StoredEvent> {
    for _ in 0..100 {
        let found: Vec<StoredEvent> = t
            .outbox()
            .into_iter()
            .filter(|e| e.event_type == format!("Microsoft.Communication.{kind}"))
            .collect();
        if found.len() >= n {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("fewer than {n} {kind} events");
}

/// A gateway that fails numbers ending in 9 and records the rest.
#[derive(Default)]
struct PickyGateway {
    inner: RecordingGateway,
}

#[async_trait]
impl SmsGateway for PickyGateway {
    fn name(&self) -> &str {
        "picky"
    }
    async fn send(&self, sms: &OutgoingSms) -> DeliveryOutcome {
        if sms.to.ends_with('9') {
            DeliveryOutcome::Failed("Unreachable.".into())
        } else {
            self.inner.send(sms).await
        }
    }
}

async fn start_with(gateway: Arc<dyn SmsGateway>) -> TestService {
    TestService::start_with_gateway(|_| {}, gateway).await
}

#[tokio::test]
async fn send_to_two_numbers_through_the_gateway() {
    let gateway = Arc::new(RecordingGateway::default());
    let t = start_with(gateway.clone()).await;
    let body = request(
        &[
            recipient("+14255550101", Some("4a4d7d4e-0000-4000-8000-000000000001")),
            recipient("+14255550102", None),
        ],
        "hello",
        true,
    );
    let (s, v) = t.signed(Method::POST, SMS_PATH, &body).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let value = v["value"].as_array().expect("value");
    assert_eq!(value.len(), 2);
    assert_eq!(value[0]["to"], "+14255550101");
    assert_eq!(value[0]["httpStatusCode"], 202);
    assert_eq!(value[0]["successful"], true);
    assert_eq!(value[0]["repeatabilityResult"], "accepted");
    assert!(
        value[0]["messageId"]
            .as_str()
            .expect("id")
            .starts_with("Outgoing_")
    );
    assert!(
        value[1].get("repeatabilityResult").is_none(),
        "no id, no result"
    );
    assert!(value[1].get("errorMessage").is_none());

    let reports = events_of(&t, "SMSDeliveryReportReceived", 2).await;
    let sent = gateway.sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].body, "hello");
    let report = reports
        .iter()
        .find(|e| e.data["messageId"] == value[0]["messageId"])
        .expect("report of the first");
    assert_eq!(report.subject, "phonenumber/18005550100");
    assert_eq!(report.data["from"], OURS);
    assert_eq!(report.data["to"], "+14255550101");
    assert_eq!(report.data["deliveryStatus"], "Delivered");
    assert_eq!(report.data["tag"], "t1");
    assert_eq!(report.data["deliveryAttempts"][0]["segmentsSucceeded"], 1);
    assert!(report.data["receivedTimestamp"].is_string());
    assert_eq!(t.count("sms_messages"), 2);
}

#[tokio::test]
async fn per_recipient_failures_stay_in_the_202() {
    let gateway = Arc::new(RecordingGateway::default());
    let t = start_with(gateway.clone()).await;
    let body = request(
        &[
            recipient("+14255550101", None),
            recipient("4255550102", None),
            recipient("+1425555010x", None),
            json!({"to": "+14255550103", "repeatabilityRequestId": "r", "repeatabilityFirstSent": "yesterday"}),
        ],
        "hi",
        false,
    );
    let (s, v) = t.signed(Method::POST, SMS_PATH, &body).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let value = v["value"].as_array().expect("value");
    let codes: Vec<(bool, i64)> = value
        .iter()
        .map(|r| {
            (
                r["successful"].as_bool().expect("ok"),
                r["httpStatusCode"].as_i64().expect("code"),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [(true, 202), (false, 400), (false, 400), (false, 400)]
    );
    assert_eq!(value[1]["errorMessage"], "Invalid To phone number format.");
    assert!(value[1].get("messageId").is_none());
    assert_eq!(
        t.count("sms_messages"),
        1,
        "only the good recipient is stored"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(gateway.sent().len(), 1);
    assert!(t.outbox().is_empty(), "no delivery report asked for");
}

#[tokio::test]
async fn repeatability_ids_send_once() {
    let gateway = Arc::new(RecordingGateway::default());
    let t = start_with(gateway.clone()).await;
    let id = "0f8fad5b-d9cb-469f-a165-70867728950e";
    let body = request(&[recipient("+14255550101", Some(id))], "once", true);
    let (_, first) = t.signed(Method::POST, SMS_PATH, &body).await;
    let (s, again) = t.signed(Method::POST, SMS_PATH, &body).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{again}");
    assert_eq!(
        again["value"][0]["messageId"],
        first["value"][0]["messageId"]
    );
    assert_eq!(again["value"][0]["repeatabilityResult"], "accepted");
    assert_eq!(again["value"][0]["successful"], true);
    // The same id for a different message is refused for that recipient.
    let other = request(&[recipient("+14255550101", Some(id))], "different", true);
    let (s, v) = t.signed(Method::POST, SMS_PATH, &other).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert_eq!(v["value"][0]["successful"], false);
    assert_eq!(v["value"][0]["httpStatusCode"], 409);
    assert_eq!(v["value"][0]["repeatabilityResult"], "rejected");
    events_of(&t, "SMSDeliveryReportReceived", 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(t.count("sms_messages"), 1);
    assert_eq!(gateway.sent().len(), 1, "sent once");
    assert_eq!(events_of(&t, "SMSDeliveryReportReceived", 1).await.len(), 1);
}

#[tokio::test]
async fn local_numbers_receive_without_the_gateway() {
    let gateway = Arc::new(RecordingGateway::default());
    let t = start_with(gateway.clone()).await;
    let text = "zażółć gęślą jaźń ".repeat(5);
    let body = request(&[recipient(OURS_TOO, None)], &text, true);
    let (s, v) = t.signed(Method::POST, SMS_PATH, &body).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let received = events_of(&t, "SMSReceived", 1).await;
    let e = &received[0];
    assert_eq!(e.subject, "phonenumber/18005550101");
    assert_eq!(e.data["from"], OURS);
    assert_eq!(e.data["to"], OURS_TOO);
    assert_eq!(e.data["message"], text.as_str());
    assert_eq!(e.data["segmentCount"], 2, "90 UCS-2 characters");
    assert!(
        e.data["messageId"]
            .as_str()
            .expect("id")
            .starts_with("Incoming_")
    );
    let reports = events_of(&t, "SMSDeliveryReportReceived", 1).await;
    assert_eq!(reports[0].data["messageId"], v["value"][0]["messageId"]);
    assert_eq!(reports[0].data["deliveryStatus"], "Delivered");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        gateway.sent().is_empty(),
        "local delivery skips the gateway"
    );
}

#[tokio::test]
async fn gateway_failures_are_reported() {
    let t = start_with(Arc::new(PickyGateway::default())).await;
    let body = request(
        &[
            recipient("+14255550109", None),
            recipient("+14255550101", None),
        ],
        "x",
        true,
    );
    let (s, _) = t.signed(Method::POST, SMS_PATH, &body).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let reports = events_of(&t, "SMSDeliveryReportReceived", 2).await;
    let failed = reports
        .iter()
        .find(|e| e.data["to"] == "+14255550109")
        .expect("report");
    assert_eq!(failed.data["deliveryStatus"], "Failed");
    assert_eq!(failed.data["deliveryStatusDetails"], "Unreachable.");
    assert_eq!(failed.data["deliveryAttempts"][0]["segmentsFailed"], 1);
}

#[tokio::test]
async fn queued_messages_go_out_after_a_restart() {
    let t = start_with(Arc::new(RecordingGateway::default())).await;
    let dir = t.dir;
    t.service.shutdown().await;
    // A message queued by a process that died before handing it to the gateway.
    let conn = rusqlite::Connection::open(dir.path().join("service.db")).expect("db");
    conn.execute(
        "INSERT INTO sms_messages (id, from_number, to_number, body, segments, delivery_report, tag, \
         local_delivery, status, status_details, created_ms, updated_ms) \
         VALUES ('Outgoing_left', ?1, '+14255550101', 'left over', 1, 1, NULL, 0, 'Queued', NULL, 1, 1)",
        [OURS],
    )
    .expect("insert");
    drop(conn);
    let gateway = Arc::new(RecordingGateway::default());
    let service = mediacore_service::start_with_gateway(&config(dir.path()), gateway.clone())
        .await
        .expect("restart");
    for _ in 0..100 {
        if !gateway.sent().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let sent: Vec<String> = gateway.sent().into_iter().map(|s| s.message_id).collect();
    assert_eq!(sent, ["Outgoing_left"]);
    let row = service
        .state
        .storage
        .sms("Outgoing_left")
        .await
        .expect("read")
        .expect("row");
    assert_eq!(row.status, "Delivered");
    service.shutdown().await;
}

#[tokio::test]
async fn bad_requests_are_400_and_store_nothing() {
    let t = TestService::start().await;
    let good = recipient("+14255550101", None);
    let cases: Vec<(Value, &str)> = vec![
        (json!({"smsRecipients": [good], "message": "x"}), "from"),
        (
            json!({"from": "18005550100", "smsRecipients": [good], "message": "x"}),
            "from",
        ),
        (
            json!({"from": "+14255550199", "smsRecipients": [good], "message": "x"}),
            "from",
        ),
        (
            json!({"from": OURS, "smsRecipients": [], "message": "x"}),
            "smsRecipients",
        ),
        (json!({"from": OURS, "message": "x"}), "smsRecipients"),
        (
            json!({"from": OURS, "smsRecipients": vec![good.clone(); 101], "message": "x"}),
            "smsRecipients",
        ),
        (json!({"from": OURS, "smsRecipients": [good]}), "message"),
        (
            json!({"from": OURS, "smsRecipients": [good], "message": "x".repeat(2049)}),
            "message",
        ),
    ];
    for (body, target) in cases {
        let (s, v) = t
            .signed(Method::POST, SMS_PATH, body.to_string().as_bytes())
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert_eq!(error_code(&v), "BadRequest");
        assert_eq!(v["error"]["target"], target, "{body}");
    }
    for bad in [
        "{",
        r#"{"from": 5}"#,
        r#"{"from": "+18005550100", "smsRecipients": "x"}"#,
    ] {
        let (s, v) = t.signed(Method::POST, SMS_PATH, bad.as_bytes()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {v}");
    }
    // 2048 characters is fine.
    let (s, v) = t
        .signed(
            Method::POST,
            SMS_PATH,
            json!({"from": OURS, "smsRecipients": [good], "message": "é".repeat(2048)})
                .to_string()
                .as_bytes(),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert_eq!(t.count("sms_messages"), 1);

    // A user token is not enough; neither is nothing.
    let user = t.chat_user_with(&["chat", "voip"]).await;
    let (s, _) = t
        .bearer(
            Method::POST,
            SMS_PATH,
            &user.token,
            &request(std::slice::from_ref(&good), "x", false),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = send(t.client.post(format!("{}{SMS_PATH}", t.base)).body("{}")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, v) = t
        .signed(
            Method::POST,
            "/sms?api-version=2020-01-01",
            &request(&[good], "x", false),
        )
        .await;
    assert_eq!(
        (s, error_code(&v).as_str()),
        (StatusCode::BAD_REQUEST, "UnsupportedApiVersion")
    );
    assert_eq!(t.count("sms_messages"), 1);
}
