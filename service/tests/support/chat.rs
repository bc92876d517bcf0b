//! Chat helpers: users with tokens, requests as one of them, threads and messages in one call,
//! the outbox as stored, and a reader of the real-time event stream.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::TestService;

pub const CHAT_API: &str = "api-version=2024-03-07";

/// A user and its access token.
#[derive(Debug, Clone)]
pub struct ChatUser {
    pub id: String,
    pub token: String,
}

/// `path` with the chat api-version added.
pub fn versioned(path: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}{CHAT_API}")
}

/// A `ChatParticipant` as the SDK sends it (rawId and the kind's property, no kind); an empty
/// `name` is left out.
pub fn participant(user: &ChatUser, name: &str) -> Value {
    let mut p = json!({ "communicationIdentifier": identifier(user) });
    if !name.is_empty() {
        p["displayName"] = json!(name);
    }
    p
}

/// The `CommunicationIdentifierModel` of a user, as requests carry it.
pub fn identifier(user: &ChatUser) -> Value {
    json!({"rawId": user.id, "communicationUser": {"id": user.id}})
}

/// An outbox row.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub event_type: String,
    pub subject: String,
    pub data: Value,
}

impl TestService {
    /// A new user with a token of `scopes`.
    pub async fn chat_user_with(&self, scopes: &[&str]) -> ChatUser {
        let (id, token) = self.user_with_token(scopes).await;
        ChatUser { id, token }
    }

    /// A new user with a `chat` token.
    pub async fn chat_user(&self) -> ChatUser {
        self.chat_user_with(&["chat"]).await
    }

    /// Calls `path` (the chat api-version is added) as `user` with a JSON body.
    pub async fn as_user(
        &self,
        user: &ChatUser,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        self.bearer(method, &versioned(path), &user.token, body.as_bytes())
            .await
    }

    /// Creates a thread as `creator` with `others`; returns its id.
    pub async fn thread(&self, creator: &ChatUser, topic: &str, others: &[&ChatUser]) -> String {
        let participants: Vec<Value> = others.iter().map(|u| participant(u, "")).collect();
        let (s, v) = self
            .as_user(
                creator,
                Method::POST,
                "/chat/threads",
                Some(json!({"topic": topic, "participants": participants})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v["chatThread"]["id"]
            .as_str()
            .expect("thread id")
            .to_owned()
    }

    /// Sends a text message as `sender`; returns its id.
    pub async fn message(&self, sender: &ChatUser, thread: &str, text: &str) -> String {
        let (s, v) = self
            .as_user(
                sender,
                Method::POST,
                &format!("/chat/threads/{thread}/messages"),
                Some(json!({"content": text, "type": "text"})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v["id"].as_str().expect("message id").to_owned()
    }

    /// Follows `nextLink`s from `path` as `user`; returns the pages.
    pub async fn pages(&self, user: &ChatUser, path: &str) -> Vec<Value> {
        let mut pages = Vec::new();
        let mut next = Some(versioned(path));
        while let Some(link) = next {
            assert!(pages.len() < 100, "nextLink loop");
            let (s, v) = self.bearer(Method::GET, &link, &user.token, b"").await;
            assert_eq!(s, StatusCode::OK, "{link}: {v}");
            next = v["nextLink"].as_str().map(|l| {
                assert!(l.starts_with("/chat/"), "nextLink is a path: {l}");
                assert!(l.contains(CHAT_API), "nextLink keeps the api-version: {l}");
                l.to_owned()
            });
            pages.push(v);
        }
        pages
    }

    /// The outbox, oldest first.
    pub fn outbox(&self) -> Vec<StoredEvent> {
        let conn = rusqlite::Connection::open(self.dir.path().join("service.db")).expect("db");
        let mut stmt = conn
            .prepare("SELECT event_type, subject, data FROM outbox ORDER BY event_ms, id")
            .expect("query");
        stmt.query_map([], |r| {
            let data: String = r.get(2)?;
            Ok(StoredEvent {
                event_type: r.get(0)?,
                subject: r.get(1)?,
                data: serde_json::from_str(&data).unwrap_or(Value::Null),
            })
        })
        .expect("rows")
        .collect::<Result<Vec<_>, _>>()
        .expect("events")
    }

    /// Opens `GET /chat/realtime` as `user` and waits for the connected event.
    pub async fn realtime(&self, user: &ChatUser) -> EventStream {
        let (mut stream, _) = self
            .sse(&versioned("/chat/realtime"), &user.token, None)
            .await;
        let (name, _) = stream.next().await.expect("connected event");
        assert_eq!(name, "realTimeNotificationConnected");
        stream
    }

    /// Opens a server-sent event stream at `path_and_query` with a bearer token (and
    /// `Last-Event-ID` when given); panics unless it is a 200 `text/event-stream`.
    pub async fn sse(
        &self,
        path_and_query: &str,
        token: &str,
        last_event_id: Option<&str>,
    ) -> (EventStream, reqwest::header::HeaderMap) {
        let mut req = self
            .client
            .get(format!("{}{}", self.base, path_and_query))
            .header("Authorization", format!("Bearer {token}"))
            .timeout(Duration::from_secs(3600));
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id);
        }
        let resp = req.send().await.expect("event stream request");
        assert_eq!(resp.status(), StatusCode::OK);
        let headers = resp.headers().clone();
        assert_eq!(
            headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some("text/event-stream")
        );
        let stream = EventStream {
            resp,
            buf: String::new(),
            last_id: None,
        };
        (stream, headers)
    }
}

/// Server-sent events as they arrive.
pub struct EventStream {
    resp: reqwest::Response,
    buf: String,
    /// The `id:` of the last event read that had one.
    pub last_id: Option<String>,
}

impl EventStream {
    /// The next event (name, data), skipping keep-alive comments; `None` when the stream ends
    /// or nothing comes within 5 s.
    pub async fn next(&mut self) -> Option<(String, Value)> {
        self.next_within(Duration::from_secs(5)).await
    }

    /// As [`next`](Self::next) with a chosen wait.
    pub async fn next_within(&mut self, wait: Duration) -> Option<(String, Value)> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut name = None;
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(n) = line.strip_prefix("event:") {
                        name = Some(n.trim().to_owned());
                    } else if let Some(d) = line.strip_prefix("data:") {
                        data.push_str(d.trim());
                    } else if let Some(id) = line.strip_prefix("id:") {
                        self.last_id = Some(id.trim().to_owned());
                    }
                }
                match name {
                    Some(n) => return Some((n, serde_json::from_str(&data).expect("json data"))),
                    None => continue,
                }
            }
            let chunk = tokio::time::timeout(wait, self.resp.chunk()).await.ok()?;
            let bytes = chunk.ok()??;
            self.buf.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
}
