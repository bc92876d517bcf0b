//! An Event Grid webhook receiver on 127.0.0.1: answers the validation handshakes the way a
//! test asks, records every delivery with its headers, and answers them with a status the test
//! can change while it runs.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

/// How the receiver answers an EventGridEvent validation event.
#[derive(Debug, Clone)]
pub enum Handshake {
    /// 200 `{"validationResponse": code}`.
    Echo,
    /// 200 with an empty body, after a GET of the validation URL with this client.
    GetUrl(reqwest::Client),
    /// 200 with an empty body and nothing else.
    Ignore,
    /// This status.
    Refuse(u16),
}

/// One POST (or OPTIONS) the receiver got.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub headers: HeaderMap,
    pub body: Value,
}

#[derive(Debug)]
pub struct ReceiverState {
    /// The status notifications are answered with.
    pub status: AtomicU16,
    /// Delay before answering a notification, ms.
    pub delay_ms: AtomicU64,
    pub handshake: Mutex<Handshake>,
    /// Validation events, notifications and OPTIONS requests, in arrival order.
    pub requests: Mutex<Vec<Request>>,
    pub arrived: Notify,
}

impl Default for ReceiverState {
    fn default() -> Self {
        Self {
            status: AtomicU16::new(200),
            delay_ms: AtomicU64::new(0),
            handshake: Mutex::new(Handshake::Echo),
            requests: Mutex::new(Vec::new()),
            arrived: Notify::new(),
        }
    }
}

impl ReceiverState {
    fn record(&self, method: &str, headers: &HeaderMap, body: Value) {
        self.requests.lock().expect("lock").push(Request {
            method: method.to_owned(),
            headers: headers.clone(),
            body,
        });
        self.arrived.notify_waiters();
    }

    /// Acknowledged notifications (POSTs with `aeg-event-type: Notification`), in arrival order.
    pub fn notifications(&self) -> Vec<Request> {
        self.requests_of("POST", Some("Notification"))
    }

    /// Every event of every notification, in arrival order.
    pub fn events(&self) -> Vec<Value> {
        self.notifications()
            .into_iter()
            .flat_map(|r| r.body.as_array().cloned().unwrap_or_default())
            .collect()
    }

    /// Requests of `method` with `aeg-event-type` `kind` (or any, for `None`).
    pub fn requests_of(&self, method: &str, kind: Option<&str>) -> Vec<Request> {
        self.requests
            .lock()
            .expect("lock")
            .iter()
            .filter(|r| {
                r.method == method
                    && (kind.is_none() || header(&r.headers, "aeg-event-type") == kind)
            })
            .cloned()
            .collect()
    }

    /// Waits until `done(self)` holds, or panics after `timeout` with `what`.
    pub async fn wait_until(&self, timeout: Duration, what: &str, done: impl Fn(&Self) -> bool) {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let arrived = self.arrived.notified();
            if done(self) {
                return;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() && !done(self) {
                panic!(
                    "timed out waiting for {what}; got {:#?}",
                    self.requests.lock().expect("lock").len()
                );
            }
        }
    }
}

pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

async fn on_post(State(s): State<Arc<ReceiverState>>, headers: HeaderMap, body: Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if header(&headers, "aeg-event-type") == Some("SubscriptionValidation") {
        s.record("POST", &headers, body.clone());
        let handshake = s.handshake.lock().expect("lock").clone();
        let data = &body[0]["data"];
        return match handshake {
            Handshake::Echo => {
                axum::Json(json!({ "validationResponse": data["validationCode"] })).into_response()
            }
            Handshake::GetUrl(client) => {
                let url = data["validationUrl"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                let r = client.get(url).send().await.expect("GET validationUrl");
                assert_eq!(r.status(), StatusCode::OK, "GET validationUrl");
                StatusCode::OK.into_response()
            }
            Handshake::Ignore => StatusCode::OK.into_response(),
            Handshake::Refuse(status) => StatusCode::from_u16(status)
                .unwrap_or(StatusCode::IM_A_TEAPOT)
                .into_response(),
        };
    }
    let delay = s.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let status = s.status.load(Ordering::SeqCst);
    // Only acknowledged deliveries count as arrived; refused ones are kept apart.
    let method = if (200..=204).contains(&status) {
        "POST"
    } else {
        "REFUSED"
    };
    s.record(method, &headers, body);
    StatusCode::from_u16(status)
        .unwrap_or(StatusCode::IM_A_TEAPOT)
        .into_response()
}

async fn on_options(State(s): State<Arc<ReceiverState>>, headers: HeaderMap) -> Response {
    s.record("OPTIONS", &headers, Value::Null);
    match header(&headers, "WebHook-Request-Origin") {
        Some(origin) => (
            StatusCode::OK,
            [("WebHook-Allowed-Origin", origin.to_owned())],
        )
            .into_response(),
        None => StatusCode::BAD_REQUEST.into_response(),
    }
}

/// A running receiver; `/hook` takes the deliveries.
pub struct Receiver {
    pub addr: SocketAddr,
    pub state: Arc<ReceiverState>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Receiver {
    /// A receiver on a free port.
    pub async fn start() -> Self {
        Self::start_on(Arc::new(ReceiverState::default()), 0).await
    }

    /// A receiver on `port` (0: a free one) sharing `state`.
    pub async fn start_on(state: Arc<ReceiverState>, port: u16) -> Self {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind receiver");
        let addr = listener.local_addr().expect("addr");
        let app = Router::new()
            .route("/hook", post(on_post).options(on_options))
            .with_state(Arc::clone(&state));
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await;
        });
        Self {
            addr,
            state,
            stop: Some(tx),
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// Closes the port (open connections end).
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), &mut self.task).await;
        self.task.abort();
    }
}
