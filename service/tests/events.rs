//! Event Grid delivery to webhooks (acs-wire.md §10): subscriptions over the admin REST surface
//! and the config file, both validation handshakes, the exact envelopes of both schemas, the
//! event-type filter, retries after refusals and a closed port, dead letters (budget spent, 400
//! at once), and a restart in the middle of a backlog — against a receiver on 127.0.0.1.

mod support;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use mediacore_service::Config;
use mediacore_service::events::subscription::{DeliverySchema, SubscriptionSpec};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::process::ServiceProcess;
use support::webhook::{Handshake, Receiver, ReceiverState, header};
use support::*;

const API: &str = "api-version=2025-02-15";
const SMS_PATH: &str = "/sms?api-version=2021-03-07";
const OURS: &str = "+18005550100";
const OURS_TOO: &str = "+18005550101";
const SMS_RECEIVED: &str = "Microsoft.Communication.SMSReceived";
const WAIT: Duration = Duration::from_secs(20);

/// Retries in tenths of a second, so the tests run in seconds.
fn fast(c: &mut Config) {
    c.events.retry_base_ms = 100;
    c.events.retry_cap_ms = 400;
    c.events.scan_interval_ms = 100;
    c.events.delivery_timeout_seconds = 5;
}

fn topic() -> String {
    Config::default().events.topic()
}

fn definition(url: &str, schema: &str, types: &[&str], batch: u32, attempts: u32) -> Value {
    json!({"properties": {
        "destination": {"endpointType": "WebHook", "properties": {"endpointUrl": url, "maxEventsPerBatch": batch}},
        "filter": {"includedEventTypes": types},
        "eventDeliverySchema": schema,
        "retryPolicy": {"maxDeliveryAttempts": attempts, "eventTimeToLiveInMinutes": 1440},
    }})
}

async fn put(t: &TestService, name: &str, body: &Value) -> (StatusCode, Value) {
    t.signed(
        Method::PUT,
        &format!("/eventSubscriptions/{name}?{API}"),
        body.to_string().as_bytes(),
    )
    .await
}

async fn get(t: &TestService, path: &str) -> (StatusCode, Value) {
    t.signed(Method::GET, path, b"").await
}

/// Polls the subscription until its provisioningState is `state`.
async fn wait_state(t: &TestService, name: &str, state: &str) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (s, v) = get(t, &format!("/eventSubscriptions/{name}?{API}")).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        if v["properties"]["provisioningState"] == state {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{name} never became {state}: {v}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Creates a subscription and waits until it is validated.
async fn subscribe(t: &TestService, name: &str, body: &Value) {
    let (s, v) = put(t, name, body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    wait_state(t, name, "Succeeded").await;
}

/// Sends `n` SMS to the resource's own number: one `SMSReceived` each (and a delivery report
/// when `report`).
async fn local_sms(t: &TestService, n: usize, report: bool) {
    for i in 0..n {
        let body = json!({
            "from": OURS, "smsRecipients": [{"to": OURS_TOO}], "message": format!("hello {i}"),
            "smsSendOptions": {"enableDeliveryReport": report},
        });
        let (s, v) = t
            .signed(Method::POST, SMS_PATH, body.to_string().as_bytes())
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    }
}

fn db(t: &TestService) -> rusqlite::Connection {
    rusqlite::Connection::open(t.dir.path().join("service.db")).expect("db")
}

/// Outbox rows (id → the row as an EventGridEvent would carry it), of `types` when given.
fn outbox(t: &TestService, types: &[&str]) -> Vec<(String, String, String, Value)> {
    let conn = db(t);
    let mut stmt = conn
        .prepare("SELECT id, event_type, subject, data FROM outbox ORDER BY event_ms, id")
        .expect("query");
    stmt.query_map([], |r| {
        let data: String = r.get(3)?;
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            serde_json::from_str(&data).unwrap_or(Value::Null),
        ))
    })
    .expect("rows")
    .collect::<Result<Vec<(String, String, String, Value)>, _>>()
    .expect("events")
    .into_iter()
    .filter(|(_, ty, _, _)| types.is_empty() || types.contains(&ty.as_str()))
    .collect()
}

fn outbox_ids(t: &TestService, types: &[&str]) -> HashSet<String> {
    outbox(t, types).into_iter().map(|(id, ..)| id).collect()
}

/// (state, attempts) of every delivery of `sub`.
fn deliveries(t: &TestService, sub: &str) -> Vec<(String, i64)> {
    let conn = db(t);
    let mut stmt = conn
        .prepare(
            "SELECT state, attempts FROM event_deliveries WHERE subscription = ?1 ORDER BY seq",
        )
        .expect("query");
    stmt.query_map([sub], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("deliveries")
}

/// (reason, attempts, last_status) of every dead letter of `sub`.
fn dead_letter_rows(t: &TestService, sub: &str) -> Vec<(String, i64, Option<i64>)> {
    let conn = db(t);
    let mut stmt = conn
        .prepare("SELECT reason, attempts, last_status FROM dead_letter WHERE subscription = ?1")
        .expect("query");
    stmt.query_map([sub], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("dead letters")
}

async fn wait_db(what: &str, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn received_ids(r: &ReceiverState) -> HashSet<String> {
    r.events()
        .iter()
        .filter_map(|e| e["id"].as_str().map(str::to_owned))
        .collect()
}

async fn wait_all(r: &ReceiverState, ids: &HashSet<String>) {
    r.wait_until(WAIT, &format!("{} events", ids.len()), |s| {
        received_ids(s).is_superset(ids)
    })
    .await;
}

/// Finds every stored event among the delivered ones and checks that it has exactly `keys`
/// and carries the stored type (under `type_key`), subject and data; returns them in the
/// stored order.
fn delivered_as_stored<'a>(
    delivered: &'a [Value],
    stored: &[(String, String, String, Value)],
    keys: &[&str],
    type_key: &str,
) -> Vec<&'a Value> {
    let keys: HashSet<&str> = keys.iter().copied().collect();
    stored
        .iter()
        .map(|(id, ty, subject, data)| {
            let e = delivered
                .iter()
                .find(|e| e["id"] == id.as_str())
                .expect("delivered");
            let got: HashSet<&str> = e
                .as_object()
                .expect("object")
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(got, keys, "{e}");
            assert_eq!(
                (&e[type_key], &e["subject"], &e["data"]),
                (&json!(ty), &json!(subject), data)
            );
            e
        })
        .collect()
}

/// A chat thread of two with one message: ChatThreadCreated…, ChatMessageReceived… events.
async fn chat_message(t: &TestService) {
    let a = t.chat_user().await;
    let b = t.chat_user().await;
    let thread = t.thread(&a, "events", &[&b]).await;
    t.message(&a, &thread, "hello over Event Grid").await;
}

#[tokio::test]
async fn event_grid_schema_handshake_and_exact_envelope() {
    let t = TestService::start_with(fast).await;
    let r = Receiver::start().await;
    subscribe(
        &t,
        "egs",
        &definition(&r.url(), "EventGridSchema", &[], 10, 30),
    )
    .await;

    // The handshake: one SubscriptionValidationEvent with a code and this service's URL.
    let validation = r.state.requests_of("POST", Some("SubscriptionValidation"));
    assert_eq!(validation.len(), 1);
    let v = &validation[0].body;
    assert_eq!(v.as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(
        v[0]["eventType"],
        "Microsoft.EventGrid.SubscriptionValidationEvent"
    );
    assert!(v[0]["data"]["validationCode"].is_string(), "{v}");
    let url = v[0]["data"]["validationUrl"]
        .as_str()
        .expect("validationUrl");
    assert!(
        url.starts_with(&format!("{}/eventSubscriptions/egs/validate?", t.base)),
        "{url}"
    );

    local_sms(&t, 2, true).await;
    chat_message(&t).await;
    let stored = outbox(&t, &[]);
    let ids: HashSet<String> = stored.iter().map(|(id, ..)| id.clone()).collect();
    assert!(
        stored.len() >= 6,
        "SMS and chat events in the outbox: {}",
        stored.len()
    );
    wait_all(&r.state, &ids).await;

    for n in r.state.notifications() {
        assert_eq!(header(&n.headers, "aeg-event-type"), Some("Notification"));
        assert_eq!(header(&n.headers, "aeg-subscription-name"), Some("EGS"));
        assert!(
            header(&n.headers, "content-type").is_some_and(|c| c.starts_with("application/json"))
        );
    }
    let events = r.state.events();
    let keys = [
        "id",
        "topic",
        "subject",
        "data",
        "eventType",
        "eventTime",
        "metadataVersion",
        "dataVersion",
    ];
    for e in delivered_as_stored(&events, &stored, &keys, "eventType") {
        assert_eq!(e["topic"], topic());
        assert_eq!(
            (&e["metadataVersion"], &e["dataVersion"]),
            (&json!("1"), &json!("1.0"))
        );
        let time = e["eventTime"].as_str().expect("eventTime");
        assert!(time.len() == 24 && time.ends_with('Z'), "{time}");
    }
    let sms = events
        .iter()
        .find(|e| e["eventType"] == SMS_RECEIVED)
        .expect("SMSReceived");
    assert_eq!(
        (&sms["data"]["from"], &sms["data"]["to"]),
        (&json!(OURS), &json!(OURS_TOO))
    );
    assert_eq!(sms["subject"], "phonenumber/18005550101");
    assert!(events.iter().any(
        |e| e["eventType"] == "Microsoft.Communication.ChatMessageReceived"
            && e["data"]["messageBody"] == "hello over Event Grid"
    ));
    wait_db("all delivered", || {
        deliveries(&t, "egs").iter().all(|(s, _)| s == "Delivered")
    })
    .await;
}

#[tokio::test]
async fn cloud_events_schema_handshake_and_exact_envelope() {
    let t = TestService::start_with(|c| {
        fast(c);
        c.events.azure_subscription_id = "11111111-2222-3333-4444-555555555555".into();
        c.events.resource_group = "rg-test".into();
        c.events.resource_name = "contoso".into();
    })
    .await;
    let r = Receiver::start().await;
    // ARM's name and the brief's alias both work; the answer uses ARM's.
    let (s, v) = put(
        &t,
        "ce-sub",
        &definition(&r.url(), "CloudEventSchema1_0", &[], 5, 30),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(
        v["properties"]["eventDeliverySchema"],
        "CloudEventSchemaV1_0"
    );
    wait_state(&t, "ce-sub", "Succeeded").await;
    let options = r.state.requests_of("OPTIONS", None);
    assert_eq!(options.len(), 1);
    assert_eq!(
        header(&options[0].headers, "webhook-request-origin"),
        Some("127.0.0.1")
    );

    local_sms(&t, 1, false).await;
    chat_message(&t).await;
    let stored = outbox(&t, &[]);
    wait_all(
        &r.state,
        &stored.iter().map(|(id, ..)| id.clone()).collect(),
    )
    .await;
    for n in r.state.notifications() {
        assert!(
            header(&n.headers, "content-type")
                .is_some_and(|c| c.starts_with("application/cloudevents-batch+json")),
            "{:?}",
            n.headers
        );
    }
    let source = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-test/providers/Microsoft.Communication/communicationServices/contoso";
    let events = r.state.events();
    let keys = [
        "specversion",
        "id",
        "source",
        "type",
        "subject",
        "time",
        "datacontenttype",
        "data",
    ];
    for e in delivered_as_stored(&events, &stored, &keys, "type") {
        assert_eq!(
            (&e["specversion"], &e["source"]),
            (&json!("1.0"), &json!(source))
        );
    }
}

#[tokio::test]
async fn validation_url_get_awaiting_and_failed_handshakes() {
    let t = TestService::start_with(fast).await;
    // The endpoint GETs the validation URL instead of echoing the code.
    let r = Receiver::start().await;
    *r.state.handshake.lock().expect("lock") = Handshake::GetUrl(https_client(&t.service.ca_path));
    subscribe(
        &t,
        "by-get",
        &definition(&r.url(), "EventGridSchema", &[], 1, 30),
    )
    .await;

    // Acknowledged without the code: visible as waiting, with the reason.
    let quiet = Receiver::start().await;
    *quiet.state.handshake.lock().expect("lock") = Handshake::Ignore;
    put(
        &t,
        "quiet",
        &definition(&quiet.url(), "EventGridSchema", &[], 1, 30),
    )
    .await;
    let v = wait_state(&t, "quiet", "AwaitingManualAction").await;
    assert!(
        v["properties"]["provisioningStateReason"]
            .as_str()
            .is_some_and(|r| r.contains("validation URL")),
        "{v}"
    );
    // A wrong code at the validation URL is refused and changes nothing.
    let wrong = https_client(&t.service.ca_path)
        .get(format!(
            "{}/eventSubscriptions/quiet/validate?code=nope",
            t.base
        ))
        .send()
        .await
        .expect("GET");
    assert_eq!(wrong.status(), StatusCode::NOT_FOUND);
    wait_state(&t, "quiet", "AwaitingManualAction").await;

    // Refused: Failed with the reason; a PUT with a working endpoint validates again.
    let refusing = Receiver::start().await;
    *refusing.state.handshake.lock().expect("lock") = Handshake::Refuse(500);
    put(
        &t,
        "refused",
        &definition(&refusing.url(), "EventGridSchema", &[], 1, 30),
    )
    .await;
    let v = wait_state(&t, "refused", "Failed").await;
    assert!(
        v["properties"]["provisioningStateReason"]
            .as_str()
            .is_some_and(|r| r.contains("500")),
        "{v}"
    );
    let (s, _) = put(
        &t,
        "refused",
        &definition(&r.url(), "EventGridSchema", &[], 1, 30),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    wait_state(&t, "refused", "Succeeded").await;

    // CloudEvents to a closed port: Failed, and no events are queued for it.
    let closed = Receiver::start().await;
    let closed_url = closed.url();
    closed.stop().await;
    put(
        &t,
        "ce-closed",
        &definition(&closed_url, "CloudEventSchemaV1_0", &[], 1, 30),
    )
    .await;
    let v = wait_state(&t, "ce-closed", "Failed").await;
    assert!(
        v["properties"]["provisioningStateReason"]
            .as_str()
            .is_some_and(|r| r.contains("OPTIONS")),
        "{v}"
    );
    local_sms(&t, 1, false).await;
    let ids = outbox_ids(&t, &[]);
    wait_all(&r.state, &ids).await;
    assert!(deliveries(&t, "ce-closed").is_empty() && deliveries(&t, "quiet").is_empty());
}

#[tokio::test]
async fn filter_and_events_before_the_subscription() {
    let t = TestService::start_with(fast).await;
    local_sms(&t, 1, false).await;
    let before = outbox_ids(&t, &[]);
    let r = Receiver::start().await;
    subscribe(
        &t,
        "only-sms",
        &definition(
            &r.url(),
            "EventGridSchema",
            &["microsoft.communication.smsreceived"],
            10,
            30,
        ),
    )
    .await;
    local_sms(&t, 2, true).await;
    chat_message(&t).await;
    let wanted: HashSet<String> = outbox_ids(&t, &[SMS_RECEIVED])
        .difference(&before)
        .cloned()
        .collect();
    assert_eq!(wanted.len(), 2);
    wait_all(&r.state, &wanted).await;
    // Give anything else time to (wrongly) arrive, then check nothing did.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(received_ids(&r.state), wanted);
    assert_eq!(
        deliveries(&t, "only-sms").len(),
        2,
        "only matching events are queued"
    );
}

#[tokio::test]
async fn refusals_are_retried_until_every_event_arrives() {
    let t = TestService::start_with(fast).await;
    let r = Receiver::start().await;
    subscribe(
        &t,
        "flaky",
        &definition(&r.url(), "EventGridSchema", &[], 2, 30),
    )
    .await;
    r.state.status.store(503, Ordering::SeqCst);
    local_sms(&t, 5, false).await;
    r.state
        .wait_until(WAIT, "three refused deliveries", |s| {
            s.requests_of("REFUSED", None).len() >= 3
        })
        .await;
    assert!(r.state.events().is_empty());
    r.state.status.store(200, Ordering::SeqCst);
    let ids = outbox_ids(&t, &[]);
    wait_all(&r.state, &ids).await;
    assert_eq!(
        received_ids(&r.state),
        ids,
        "nothing but the outbox's events"
    );
    let retried = r.state.notifications();
    assert!(
        header(&retried[0].headers, "aeg-delivery-count").and_then(|c| c.parse::<u32>().ok())
            >= Some(3),
        "the first batch arrived after its refusals: {:?}",
        retried[0].headers
    );
    // In order per subscription: the first event written arrives first.
    let first = outbox(&t, &[]).into_iter().next().expect("event").0;
    assert_eq!(r.state.events()[0]["id"], first.as_str());
    wait_db("all delivered", || {
        let d = deliveries(&t, "flaky");
        d.len() == 5 && d.iter().all(|(s, _)| s == "Delivered") && d[0].1 >= 4
    })
    .await;
}

#[tokio::test]
async fn a_closed_port_is_retried_until_the_receiver_is_back() {
    let t = TestService::start_with(fast).await;
    let state = Arc::new(ReceiverState::default());
    let r = Receiver::start_on(Arc::clone(&state), 0).await;
    let port = r.addr.port();
    subscribe(
        &t,
        "down",
        &definition(&r.url(), "EventGridSchema", &[], 1, 30),
    )
    .await;
    r.stop().await;
    local_sms(&t, 3, true).await;
    wait_db("failed attempts", || {
        deliveries(&t, "down").first().is_some_and(|d| d.1 >= 2)
    })
    .await;
    assert!(dead_letter_rows(&t, "down").is_empty());
    let _back = Receiver::start_on(Arc::clone(&state), port).await;
    let ids = outbox_ids(&t, &[]);
    assert_eq!(ids.len(), 6);
    wait_all(&state, &ids).await;
    assert_eq!(received_ids(&state), ids);
}

#[tokio::test]
async fn a_spent_budget_dead_letters_with_the_reason() {
    let t = TestService::start_with(fast).await;
    let r = Receiver::start().await;
    subscribe(
        &t,
        "spent",
        &definition(&r.url(), "EventGridSchema", &[], 1, 3),
    )
    .await;
    r.state.status.store(500, Ordering::SeqCst);
    local_sms(&t, 2, false).await;
    wait_db("two dead letters", || {
        dead_letter_rows(&t, "spent").len() == 2
    })
    .await;
    for row in dead_letter_rows(&t, "spent") {
        assert_eq!(
            row,
            ("MaxDeliveryAttemptsExceeded".to_owned(), 3, Some(500))
        );
    }
    assert_eq!(
        r.state.requests_of("REFUSED", None).len(),
        6,
        "three attempts each"
    );

    // Operators list them, paged.
    let (s, v) = get(
        &t,
        &format!("/eventSubscriptions/spent/deadLetteredEvents?maxPageSize=1&{API}"),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let item = &v["value"][0];
    assert_eq!(
        (
            &item["deadLetterReason"],
            &item["deliveryAttempts"],
            &item["lastHttpStatusCode"]
        ),
        (
            &json!("MaxDeliveryAttemptsExceeded"),
            &json!(3),
            &json!(500)
        )
    );
    assert_eq!(item["eventType"], SMS_RECEIVED);
    let next = v["nextLink"].as_str().expect("nextLink");
    let (s, v) = get(&t, next).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["value"].as_array().map(Vec::len), Some(1));
    assert!(v.get("nextLink").is_none(), "{v}");
}

#[tokio::test]
async fn bad_request_and_too_large_dead_letter_at_once() {
    let t = TestService::start_with(fast).await;
    for status in [400u16, 413] {
        let r = Receiver::start().await;
        let name = format!("refuses-{status}");
        subscribe(
            &t,
            &name,
            &definition(&r.url(), "EventGridSchema", &[], 1, 30),
        )
        .await;
        r.state.status.store(status, Ordering::SeqCst);
        local_sms(&t, 1, false).await;
        wait_db("a dead letter", || dead_letter_rows(&t, &name).len() == 1).await;
        assert_eq!(
            dead_letter_rows(&t, &name)[0],
            ("NonRetryableStatus".to_owned(), 1, Some(i64::from(status)))
        );
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(
            r.state.requests_of("REFUSED", None).len(),
            1,
            "no retry after {status}"
        );
        assert_eq!(deliveries(&t, &name), vec![("DeadLettered".to_owned(), 1)]);
        t.signed(
            Method::DELETE,
            &format!("/eventSubscriptions/{name}?{API}"),
            b"",
        )
        .await;
    }
}

#[tokio::test]
async fn a_restart_in_the_middle_of_a_backlog_delivers_the_rest() {
    let t = TestService::start_with(fast).await;
    let r = Receiver::start().await;
    r.state.delay_ms.store(100, Ordering::SeqCst);
    subscribe(
        &t,
        "backlog",
        &definition(&r.url(), "EventGridSchema", &[], 1, 30),
    )
    .await;
    local_sms(&t, 12, false).await;
    let ids = outbox_ids(&t, &[]);
    r.state
        .wait_until(WAIT, "three events", |s| s.events().len() >= 3)
        .await;
    let t = t.restart(fast).await;
    assert!(
        received_ids(&r.state).len() < ids.len(),
        "the restart came mid-backlog"
    );
    wait_all(&r.state, &ids).await;
    assert_eq!(received_ids(&r.state), ids);
    wait_db("all delivered", || {
        deliveries(&t, "backlog")
            .iter()
            .all(|(s, _)| s == "Delivered")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_in_the_middle_of_a_delivery_loses_nothing() {
    use base64::Engine as _;
    let b64 = |k: &[u8]| base64::engine::general_purpose::STANDARD.encode(k);
    let r = Receiver::start().await;
    r.state.delay_ms.store(200, Ordering::SeqCst);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("service.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\nhttps_port = 0\nhttp_port = 0\n[keys]\nprimary = \"{}\"\n\
             [events]\nretry_base_ms = 100\nretry_cap_ms = 400\nscan_interval_ms = 100\n\
             [[events.subscriptions]]\nname = \"kill-9\"\nendpoint_url = \"{}\"\n",
            dir.path().join("data"),
            b64(&PRIMARY),
            r.url()
        ),
    )
    .expect("config");
    let db = dir.path().join("data").join("service.db");
    let sub_state = || {
        rusqlite::Connection::open(&db)
            .and_then(|c| {
                c.query_row(
                    "SELECT state FROM event_subscriptions WHERE name = 'kill-9'",
                    [],
                    |r| r.get::<_, String>(0),
                )
            })
            .unwrap_or_default()
    };
    let stored = || {
        let c = rusqlite::Connection::open(&db).expect("db");
        let mut stmt = c.prepare("SELECT id FROM outbox").expect("query");
        stmt.query_map([], |r| r.get::<_, String>(0))
            .expect("rows")
            .collect::<Result<HashSet<_>, _>>()
            .expect("ids")
    };

    let first = ServiceProcess::spawn(&config, &dir.path().join("first.log")).await;
    let http = first.http.clone();
    wait_db("kill-9 validated", || sub_state() == "Succeeded").await;
    let client = reqwest::Client::new();
    for i in 0..10 {
        let body = json!({"from": OURS, "smsRecipients": [{"to": OURS_TOO}], "message": format!("k9 {i}")})
            .to_string();
        let date = httpdate::fmt_http_date(std::time::SystemTime::now());
        let hash = mediacore_service::auth::hmac::content_hash(body.as_bytes());
        let req = signed_request(
            &client,
            Method::POST,
            &http,
            SMS_PATH,
            body.as_bytes(),
            &PRIMARY,
            date,
            hash,
        );
        let (s, _, v) = send(req).await;
        assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    }
    let ids = stored();
    assert_eq!(ids.len(), 10);
    r.state
        .wait_until(WAIT, "two events", |s| s.events().len() >= 2)
        .await;
    drop(first); // SIGKILL, most likely while a POST waits for the receiver's answer
    assert!(
        received_ids(&r.state).len() < ids.len(),
        "the kill came mid-backlog"
    );

    let _second = ServiceProcess::spawn(&config, &dir.path().join("second.log")).await;
    wait_all(&r.state, &ids).await;
    assert_eq!(received_ids(&r.state), ids);
}

#[tokio::test]
async fn a_slow_endpoint_holds_back_only_its_own_events() {
    let t = TestService::start_with(fast).await;
    let slow = Receiver::start().await;
    let quick = Receiver::start().await;
    subscribe(
        &t,
        "slow",
        &definition(&slow.url(), "EventGridSchema", &[], 1, 30),
    )
    .await;
    subscribe(
        &t,
        "quick",
        &definition(&quick.url(), "EventGridSchema", &[], 1, 30),
    )
    .await;
    slow.state.delay_ms.store(3_000, Ordering::SeqCst);
    local_sms(&t, 1, false).await;
    let first = outbox_ids(&t, &[]);
    let started = tokio::time::Instant::now();
    wait_all(&quick.state, &first).await;
    // The slow endpoint still holds its first event; the quick one gets the next at once too.
    local_sms(&t, 1, false).await;
    let all = outbox_ids(&t, &[]);
    wait_all(&quick.state, &all).await;
    assert!(
        started.elapsed() < Duration::from_millis(2_500),
        "the quick endpoint waited for the slow one: {:?}",
        started.elapsed()
    );
    assert!(slow.state.events().is_empty());
    wait_all(&slow.state, &all).await;
}

#[tokio::test]
async fn config_file_subscriptions_follow_the_file() {
    let r = Receiver::start().await;
    let spec = SubscriptionSpec {
        name: "from-file".into(),
        endpoint_url: r.url(),
        schema: DeliverySchema::EventGridSchema,
        included_event_types: vec![SMS_RECEIVED.into()],
        ..SubscriptionSpec::default()
    };
    let with_spec = |c: &mut Config| {
        fast(c);
        c.events.subscriptions = vec![spec.clone()];
    };
    let t = TestService::start_with(with_spec).await;
    let v = wait_state(&t, "from-file", "Succeeded").await;
    assert_eq!(v["properties"]["definedIn"], "config");
    assert_eq!(
        v["properties"]["filter"]["includedEventTypes"],
        json!([SMS_RECEIVED])
    );
    // Unchanged at a restart: no second handshake.
    let t = t.restart(with_spec).await;
    wait_state(&t, "from-file", "Succeeded").await;
    assert_eq!(
        r.state
            .requests_of("POST", Some("SubscriptionValidation"))
            .len(),
        1
    );
    local_sms(&t, 1, false).await;
    wait_all(&r.state, &outbox_ids(&t, &[])).await;
    // Removed from the file: gone.
    let t = t.restart(fast).await;
    let (s, v) = get(&t, &format!("/eventSubscriptions/from-file?{API}")).await;
    assert_eq!(
        (s, error_code(&v)),
        (StatusCode::NOT_FOUND, "NotFound".to_owned())
    );
}

#[tokio::test]
async fn admin_surface_answers_like_acs() {
    let t = TestService::start_with(fast).await;
    let r = Receiver::start().await;
    subscribe(
        &t,
        "admin-1",
        &definition(&r.url(), "EventGridSchema", &[], 1, 30),
    )
    .await;

    let (s, v) = get(&t, &format!("/eventSubscriptions?{API}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let listed = &v["value"][0];
    assert_eq!(listed["name"], "admin-1");
    assert_eq!(listed["type"], "Microsoft.EventGrid/eventSubscriptions");
    assert_eq!(
        listed["id"],
        format!(
            "{}/providers/Microsoft.EventGrid/eventSubscriptions/admin-1",
            topic()
        )
    );
    assert_eq!(
        listed["properties"]["destination"]["properties"]["endpointBaseUrl"],
        r.url()
    );
    assert_eq!(
        listed["properties"]["retryPolicy"],
        json!({"maxDeliveryAttempts": 30, "eventTimeToLiveInMinutes": 1440})
    );

    let tr = &t;
    let bad = |body: Value| async move {
        let (s, v) = put(tr, "admin-2", &body).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
        (
            error_code(&v),
            v["error"]["target"].as_str().unwrap_or_default().to_owned(),
        )
    };
    assert_eq!(
        bad(json!({})).await,
        ("BadRequest".into(), "destination".into())
    );
    assert_eq!(
        bad(definition("ftp://x/", "EventGridSchema", &[], 1, 30))
            .await
            .1,
        "endpointUrl"
    );
    assert_eq!(
        bad(definition(&r.url(), "Custom", &[], 1, 30)).await.1,
        "eventDeliverySchema"
    );
    assert_eq!(
        bad(definition(&r.url(), "EventGridSchema", &[], 1, 31))
            .await
            .1,
        "maxDeliveryAttempts"
    );
    assert_eq!(
        bad(definition(&r.url(), "EventGridSchema", &[], 0, 30))
            .await
            .1,
        "maxEventsPerBatch"
    );
    let (s, v) = t
        .signed(
            Method::PUT,
            &format!("/eventSubscriptions/admin-2?{API}"),
            b"{not json",
        )
        .await;
    assert_eq!(
        (s, error_code(&v)),
        (StatusCode::BAD_REQUEST, "BadRequest".into())
    );
    let (s, v) = put(
        &t,
        "a",
        &definition(&r.url(), "EventGridSchema", &[], 1, 30),
    )
    .await;
    assert_eq!(
        (s, v["error"]["target"].as_str()),
        (StatusCode::BAD_REQUEST, Some("name"))
    );
    let (s, v) = t
        .signed(
            Method::GET,
            "/eventSubscriptions?api-version=2020-01-01",
            b"",
        )
        .await;
    assert_eq!(
        (s, error_code(&v)),
        (StatusCode::BAD_REQUEST, "UnsupportedApiVersion".into())
    );
    let (s, v) = get(&t, &format!("/eventSubscriptions/nope-nope?{API}")).await;
    assert_eq!(
        (s, error_code(&v)),
        (StatusCode::NOT_FOUND, "NotFound".into())
    );

    // Only the access key manages subscriptions.
    let (_, token) = t.user_with_token(&["chat"]).await;
    let (s, v) = t
        .bearer(
            Method::GET,
            &format!("/eventSubscriptions?{API}"),
            &token,
            b"",
        )
        .await;
    assert_eq!(
        (s, error_code(&v)),
        (StatusCode::FORBIDDEN, "Forbidden".into())
    );
    let (s, _, v) = t
        .signed_with(
            Method::GET,
            &format!("/eventSubscriptions?{API}"),
            b"",
            &[9; 32],
            0,
            None,
        )
        .await;
    assert_eq!(
        (s, error_code(&v)),
        (StatusCode::UNAUTHORIZED, "Denied".into())
    );

    let (s, _) = t
        .signed(
            Method::DELETE,
            &format!("/eventSubscriptions/admin-1?{API}"),
            b"",
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = t
        .signed(
            Method::DELETE,
            &format!("/eventSubscriptions/admin-1?{API}"),
            b"",
        )
        .await;
    assert_eq!(
        (s, error_code(&v)),
        (StatusCode::NOT_FOUND, "NotFound".into())
    );
}
