//! Durability (issue 6): the `mediacore-service` binary is SIGKILLed while 1 000 chat sends,
//! SMS and emails are in flight; after a restart on the same data folder every request that
//! got a 2xx is there exactly once, its SMS and email went out, and the webhook receiver got
//! its events. Requests cut off by the kill may or may not have been kept.

mod support;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use mediacore_service::auth::hmac;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::process::ServiceProcess;
use support::smtp::SmtpSink;
use support::webhook::Receiver;
use support::{IDENTITY_API, PRIMARY, signed_request};

/// Requests fired, a third of each kind.
const TOTAL: usize = 1_000;
/// Requests on the wire at once: every one of the 1 000 is started together, but each side
/// keeps at most this many sockets open, well under the usual 1 024 descriptors per process.
const IN_FLIGHT: usize = 500;
/// The kill comes when this many 2xx answers have come back: a count, not a time, so a slow
/// machine only stretches the run.
const KILL_AFTER: usize = 300;
/// Longest wait for anything after the restart.
const WAIT: Duration = Duration::from_secs(60);

const CHAT_API: &str = "api-version=2024-03-07";
const SMS_PATH: &str = "/sms?api-version=2021-03-07";
const EMAIL_SEND: &str = "/emails:send?api-version=2025-09-01";
const EMAIL_API: &str = "api-version=2025-09-01";
const EVENTS_API: &str = "api-version=2025-02-15";
const OURS: &str = "+18005550100";
const OURS_TOO: &str = "+18005550101";
const SUBSCRIPTION: &str = "durable";

/// What a request was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Chat,
    /// SMS to an outside number: queued for the gateway, its report written by the dispatcher.
    SmsOut,
    /// SMS to one of the resource's numbers: delivered in the send's transaction.
    SmsLocal,
    Email,
}

impl Kind {
    fn of(i: usize) -> Self {
        match i % 3 {
            0 => Kind::Chat,
            1 if i % 2 == 0 => Kind::SmsOut,
            1 => Kind::SmsLocal,
            _ => Kind::Email,
        }
    }
}

/// The text that makes request `i` recognisable wherever it ends up.
fn text(kind: Kind, i: usize) -> String {
    format!("durable {kind:?} {i}")
}

enum Outcome {
    /// 2xx with the id it gave (chat message id, SMS messageId, email operation id).
    Accepted(String),
    /// An HTTP answer that is not a 2xx.
    Refused(StatusCode, Value),
    /// No answer: the connection was refused or cut by the kill.
    Failed,
}

/// The service's config file: plain HTTP, fixed keys, the SMTP relay and the webhook, retries
/// in tenths of a second.
fn write_config(dir: &Path, smtp_port: u16, hook: &str) -> std::path::PathBuf {
    let path = dir.join("service.toml");
    let text = format!(
        "data_dir = {data:?}\nhttps_port = 0\nhttp_port = 0\n\
         [keys]\nprimary = \"{key}\"\n\
         [email]\nrelay_port = {smtp_port}\nrelay_timeout_seconds = 10\nretry_after_seconds = 0\n\
         [events]\nretry_base_ms = 100\nretry_cap_ms = 1000\nscan_interval_ms = 100\n\
         delivery_timeout_seconds = 10\n\
         [[events.subscriptions]]\nname = \"{SUBSCRIPTION}\"\nendpoint_url = \"{hook}\"\n\
         max_events_per_batch = 20\n",
        data = dir.join("data"),
        key = B64.encode(PRIMARY),
    );
    std::fs::write(&path, text).expect("config");
    path
}

/// A client for one service process.
struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    fn new(base: &str) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
            base: base.to_owned(),
        }
    }

    fn signed(&self, method: Method, path: &str, body: &[u8]) -> reqwest::RequestBuilder {
        let date = httpdate::fmt_http_date(SystemTime::now());
        let hash = hmac::content_hash(body);
        signed_request(
            &self.http, method, &self.base, path, body, &PRIMARY, date, hash,
        )
    }

    fn bearer(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: &Value,
    ) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {token}"))
            .header("Content-Type", "application/json")
            .body(body.to_string())
    }

    /// Sends `req`; panics unless the answer is `want`; returns the body.
    async fn expect(&self, req: reqwest::RequestBuilder, want: StatusCode) -> Value {
        let (s, _, v) = support::send(req).await;
        assert_eq!(s, want, "{v}");
        v
    }

    /// A user with a `chat` token: (id, token).
    async fn chat_user(&self) -> (String, String) {
        let body = json!({"createTokenWithScopes": ["chat"]}).to_string();
        let req = self.signed(
            Method::POST,
            &format!("/identities?{IDENTITY_API}"),
            body.as_bytes(),
        );
        let v = self.expect(req, StatusCode::CREATED).await;
        (
            v["identity"]["id"].as_str().expect("user id").to_owned(),
            v["accessToken"]["token"]
                .as_str()
                .expect("token")
                .to_owned(),
        )
    }

    /// Request `i`, as its kind says.
    fn request(&self, i: usize, thread: &str, token: &str) -> reqwest::RequestBuilder {
        let kind = Kind::of(i);
        let text = text(kind, i);
        match kind {
            Kind::Chat => self.bearer(
                Method::POST,
                &format!("/chat/threads/{thread}/messages?{CHAT_API}"),
                token,
                &json!({"content": text, "type": "text"}),
            ),
            Kind::SmsOut | Kind::SmsLocal => {
                let to = if kind == Kind::SmsLocal {
                    OURS_TOO.to_owned()
                } else {
                    format!("+1425555{:04}", i % 10_000)
                };
                let body = json!({
                    "from": OURS, "smsRecipients": [{"to": to}], "message": text,
                    "smsSendOptions": {"enableDeliveryReport": true, "tag": "durable"},
                });
                self.signed(Method::POST, SMS_PATH, body.to_string().as_bytes())
            }
            Kind::Email => {
                let body = json!({
                    "senderAddress": "DoNotReply@mediacore.test",
                    "content": {"subject": text, "plainText": "kept across a kill -9"},
                    "recipients": {"to": [{"address": format!("r{i}@example.test")}]},
                });
                self.signed(Method::POST, EMAIL_SEND, body.to_string().as_bytes())
            }
        }
    }

    /// Fires request `i` and says what came of it.
    async fn fire(&self, i: usize, thread: &str, token: &str) -> Outcome {
        let Ok(resp) = self.request(i, thread, token).send().await else {
            return Outcome::Failed;
        };
        let status = resp.status();
        let Ok(bytes) = resp.bytes().await else {
            return Outcome::Failed;
        };
        let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if !status.is_success() {
            return Outcome::Refused(status, v);
        }
        let id = match Kind::of(i) {
            Kind::Chat | Kind::Email => &v["id"],
            Kind::SmsOut | Kind::SmsLocal => {
                assert_eq!(v["value"][0]["successful"], true, "{v}");
                &v["value"][0]["messageId"]
            }
        };
        Outcome::Accepted(id.as_str().expect("id in a 2xx").to_owned())
    }

    /// Every message of `thread` (newest first), following `nextLink`.
    async fn messages(&self, thread: &str, token: &str) -> Vec<Value> {
        let mut all = Vec::new();
        let mut next = Some(format!(
            "/chat/threads/{thread}/messages?maxPageSize=200&{CHAT_API}"
        ));
        while let Some(link) = next {
            let link = if link.contains("api-version") {
                link
            } else {
                format!("{link}&{CHAT_API}")
            };
            let v = self
                .expect(
                    self.bearer(Method::GET, &link, token, &Value::Null),
                    StatusCode::OK,
                )
                .await;
            all.extend(v["value"].as_array().cloned().unwrap_or_default());
            next = v["nextLink"].as_str().map(str::to_owned);
        }
        all
    }
}

/// Polls `check` (every 100 ms) until it returns `None`, or panics after [`WAIT`] with the
/// last thing it said was missing.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<String>>,
{
    let deadline = Instant::now() + WAIT;
    loop {
        let Some(missing) = check().await else {
            return;
        };
        assert!(
            Instant::now() < deadline,
            "{what}: still missing after {WAIT:?}: {missing}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The rows of the SQLite file, read beside the running service (WAL: readers don't block it).
fn query(db: &Path, sql: &str) -> Vec<Vec<String>> {
    let conn = rusqlite::Connection::open(db).expect("db");
    let mut stmt = conn.prepare(sql).expect("query");
    let n = stmt.column_count();
    stmt.query_map([], |r| {
        (0..n)
            .map(|k| r.get::<_, rusqlite::types::Value>(k))
            .map(|v| {
                v.map(|v| match v {
                    rusqlite::types::Value::Text(t) => t,
                    rusqlite::types::Value::Integer(n) => n.to_string(),
                    other => format!("{other:?}"),
                })
            })
            .collect::<Result<Vec<String>, _>>()
    })
    .expect("rows")
    .collect::<Result<_, _>>()
    .expect("values")
}

/// (type, data.messageId or, for SMSReceived, data.message) of every event the receiver got,
/// with each event id.
fn received(r: &Receiver) -> (HashSet<(String, String)>, HashSet<String>) {
    let mut keys = HashSet::new();
    let mut ids = HashSet::new();
    for e in r.state.events() {
        let ty = e["eventType"].as_str().unwrap_or_default();
        let ty = ty.strip_prefix("Microsoft.Communication.").unwrap_or(ty);
        let key = if ty == "SMSReceived" {
            &e["data"]["message"]
        } else {
            &e["data"]["messageId"]
        };
        keys.insert((ty.to_owned(), key.as_str().unwrap_or_default().to_owned()));
        ids.insert(e["id"].as_str().unwrap_or_default().to_owned());
    }
    (keys, ids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_under_load_keeps_every_acknowledged_request() {
    let started = Instant::now();
    let sink = SmtpSink::start().await;
    let receiver = Receiver::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), sink.port, &receiver.url());
    let db = dir.path().join("data").join("service.db");

    // The first run: the webhook validated, a thread of two, then the load and the kill.
    let first = ServiceProcess::spawn(&config, &dir.path().join("first.log")).await;
    let client = Client::new(&first.http);
    eventually("the subscription validated", || async {
        let v = client
            .expect(
                client.signed(
                    Method::GET,
                    &format!("/eventSubscriptions/{SUBSCRIPTION}?{EVENTS_API}"),
                    b"",
                ),
                StatusCode::OK,
            )
            .await;
        let state = &v["properties"]["provisioningState"];
        (state != "Succeeded").then(|| state.to_string())
    })
    .await;
    let (_, alice_token) = client.chat_user().await;
    let (bob, _) = client.chat_user().await;
    let created = client
        .expect(
            client.bearer(
                Method::POST,
                &format!("/chat/threads?{CHAT_API}"),
                &alice_token,
                &json!({"topic": "durability", "participants": [
                    {"communicationIdentifier": {"rawId": bob, "communicationUser": {"id": bob}}}
                ]}),
            ),
            StatusCode::CREATED,
        )
        .await;
    let thread = created["chatThread"]["id"]
        .as_str()
        .expect("thread id")
        .to_owned();
    let setup = started.elapsed();

    let first = Arc::new(Mutex::new(first));
    let client = Arc::new(client);
    let accepted_count = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    let load = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..TOTAL {
        let (client, first, count, gate) = (
            Arc::clone(&client),
            Arc::clone(&first),
            Arc::clone(&accepted_count),
            Arc::clone(&gate),
        );
        let (thread, token) = (thread.clone(), alice_token.clone());
        tasks.spawn(async move {
            let _permit = gate.acquire().await.expect("semaphore");
            let outcome = client.fire(i, &thread, &token).await;
            if matches!(outcome, Outcome::Accepted(_))
                && count.fetch_add(1, Ordering::SeqCst) + 1 == KILL_AFTER
            {
                first.lock().expect("process lock").kill();
            }
            (i, outcome)
        });
    }
    let mut accepted: HashMap<usize, String> = HashMap::new();
    let mut failed = 0;
    while let Some(done) = tasks.join_next().await {
        let (i, outcome) = done.expect("request task");
        match outcome {
            Outcome::Accepted(id) => {
                accepted.insert(i, id);
            }
            Outcome::Refused(status, v) => panic!("request {i} got {status}: {v}"),
            Outcome::Failed => failed += 1,
        }
    }
    let load = load.elapsed();
    // The kill came mid-load: some requests never got an answer.
    assert!(
        accepted.len() >= KILL_AFTER && failed > 0,
        "{} accepted, {failed} failed",
        accepted.len()
    );
    let by_kind = |k: Kind| accepted.keys().filter(|&&i| Kind::of(i) == k).count();
    let (chats, sms_out, sms_local, emails) = (
        by_kind(Kind::Chat),
        by_kind(Kind::SmsOut),
        by_kind(Kind::SmsLocal),
        by_kind(Kind::Email),
    );
    assert!(
        chats > 0 && sms_out > 0 && sms_local > 0 && emails > 0,
        "every kind was acknowledged before the kill: {chats} chat, {sms_out} + {sms_local} SMS, {emails} email"
    );
    let outbox_at_kill = query(&db, "SELECT COUNT(*) FROM outbox")[0][0].clone();
    let delivered_at_kill = received(&receiver).1.len();

    // The second run, on the same data folder and keys: the token from the first still works.
    let second = ServiceProcess::spawn(&config, &dir.path().join("second.log")).await;
    let restarted = Instant::now();
    let client = Client::new(&second.http);

    // Chat: every acknowledged message listed once, under the id it was acknowledged with.
    let listed = client.messages(&thread, &alice_token).await;
    let mut by_text: HashMap<String, Vec<String>> = HashMap::new();
    for m in &listed {
        if let Some(body) = m["content"]["message"].as_str() {
            by_text
                .entry(body.to_owned())
                .or_default()
                .push(m["id"].as_str().unwrap_or_default().to_owned());
        }
    }
    let ids: Vec<&str> = listed.iter().filter_map(|m| m["id"].as_str()).collect();
    assert_eq!(
        ids.len(),
        ids.iter().collect::<HashSet<_>>().len(),
        "message ids are unique"
    );
    for (&i, id) in accepted.iter().filter(|(i, _)| Kind::of(**i) == Kind::Chat) {
        assert_eq!(
            by_text.get(&text(Kind::Chat, i)),
            Some(&vec![id.clone()]),
            "chat message {i} (acknowledged as {id}) listed once"
        );
    }

    // SMS: every acknowledged message stored once under its id, and (outside numbers after
    // the restart's dispatch) delivered.
    eventually("every acknowledged SMS delivered", || async {
        let rows = query(&db, "SELECT id, body, status FROM sms_messages");
        let mut bodies: HashMap<String, usize> = HashMap::new();
        let mut by_id: HashMap<String, (String, String)> = HashMap::new();
        for r in rows {
            *bodies.entry(r[1].clone()).or_default() += 1;
            by_id.insert(r[0].clone(), (r[1].clone(), r[2].clone()));
        }
        for (&i, id) in accepted
            .iter()
            .filter(|(i, _)| matches!(Kind::of(**i), Kind::SmsOut | Kind::SmsLocal))
        {
            let body = text(Kind::of(i), i);
            assert_eq!(bodies.get(&body), Some(&1), "SMS {i} stored once");
            let (stored_body, status) = by_id.get(id).cloned().unwrap_or_default();
            assert_eq!(stored_body, body, "SMS {i} stored under {id}");
            if status != "Delivered" {
                return Some(format!("SMS {i} ({id}) is {status}"));
            }
        }
        None
    })
    .await;

    let sms_done = restarted.elapsed();

    // Email: every acknowledged operation Succeeded and its message in the sink.
    let mut operations: HashMap<String, Vec<String>> = HashMap::new();
    for r in query(&db, "SELECT id, request FROM email_operations") {
        let request: Value = serde_json::from_str(&r[1]).expect("stored request");
        let subject = request["content"]["subject"].as_str().unwrap_or_default();
        operations
            .entry(subject.to_owned())
            .or_default()
            .push(r[0].clone());
    }
    for (&i, op) in accepted
        .iter()
        .filter(|(i, _)| Kind::of(**i) == Kind::Email)
    {
        assert_eq!(
            operations.get(&text(Kind::Email, i)),
            Some(&vec![op.clone()]),
            "email {i} stored once, as operation {op}"
        );
        let path = format!("/emails/operations/{op}?{EMAIL_API}");
        eventually(&format!("email {i} ({op}) finished"), || async {
            let v = client
                .expect(client.signed(Method::GET, &path, b""), StatusCode::OK)
                .await;
            assert_ne!(v["status"], "Failed", "email {i}: {v}");
            (v["status"] != "Succeeded").then(|| v.to_string())
        })
        .await;
    }
    let mut mails: HashMap<String, usize> = HashMap::new();
    for m in sink.messages() {
        if let Some(subject) = m.data.lines().find_map(|l| l.strip_prefix("Subject: ")) {
            *mails.entry(subject.trim().to_owned()).or_default() += 1;
        }
    }
    for (&i, op) in accepted
        .iter()
        .filter(|(i, _)| Kind::of(**i) == Kind::Email)
    {
        let n = mails.get(&text(Kind::Email, i)).copied().unwrap_or(0);
        assert!(n >= 1, "email {i} ({op}) reached the sink");
    }
    // The dispatcher hands one operation at a time to the relay, and only the one whose SMTP
    // session the kill cut can go out twice (at least once, as documented).
    let twice: Vec<_> = mails.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.len() <= 1 && twice.iter().all(|(_, n)| **n == 2),
        "emails sent more than once: {twice:?}"
    );

    let email_done = restarted.elapsed();

    // Events: the receiver gets those of every acknowledged request, and every other event
    // in the outbox too (requests cut by the kill but committed), at least once.
    let mut expected: HashSet<(String, String)> = HashSet::new();
    for (&i, id) in &accepted {
        let mut want = |ty: &str, key: String| expected.insert((ty.to_owned(), key));
        match Kind::of(i) {
            Kind::Chat => {
                want("ChatMessageReceivedInThread", id.clone());
                want("ChatMessageReceived", id.clone());
            }
            Kind::SmsOut => {
                want("SMSDeliveryReportReceived", id.clone());
            }
            Kind::SmsLocal => {
                want("SMSDeliveryReportReceived", id.clone());
                want("SMSReceived", text(Kind::SmsLocal, i));
            }
            Kind::Email => {
                want("EmailDeliveryReportReceived", id.clone());
            }
        }
    }
    eventually("every acknowledged request's events delivered", || async {
        let (got, _) = received(&receiver);
        let missing: Vec<_> = expected.difference(&got).take(5).collect();
        (!missing.is_empty()).then(|| {
            format!(
                "{} of {} events, e.g. {missing:?}",
                expected.len() - expected.intersection(&got).count(),
                expected.len()
            )
        })
    })
    .await;
    eventually("every outbox event delivered", || async {
        let stored: HashSet<String> = query(&db, "SELECT id FROM outbox")
            .into_iter()
            .map(|r| r[0].clone())
            .collect();
        let (_, got) = received(&receiver);
        let missing = stored.difference(&got).count();
        (missing > 0).then(|| format!("{missing} of {} outbox events", stored.len()))
    })
    .await;

    eprintln!(
        "durability: setup {setup:?}; {TOTAL} requests ({IN_FLIGHT} at once) in {load:?}: \
         {} acknowledged ({chats} chat, {sms_out} + {sms_local} SMS, {emails} email), \
         {failed} cut by the kill; at the kill {outbox_at_kill} events stored, \
         {delivered_at_kill} delivered; after the restart SMS checked at {sms_done:?}, email at {email_done:?}, \
         events at {:?}; total {:?}",
        accepted.len(),
        restarted.elapsed(),
        started.elapsed()
    );
    drop(second);
}
