//! Calling helpers: voip users, engine registrations with their event streams, and requests
//! to the engine and Call Automation routes.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::TestService;
use super::chat::EventStream;

pub const CALLING_API: &str = "api-version=2026-03-12";

/// A user with a token and one registered engine.
#[derive(Debug, Clone)]
pub struct Engine {
    pub id: String,
    pub token: String,
    pub registration: String,
}

/// `path` with the calling api-version added.
pub fn versioned(path: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}{CALLING_API}")
}

/// A user's identifier as requests carry it.
pub fn target(id: &str) -> Value {
    json!({"rawId": id, "communicationUser": {"id": id}})
}

impl TestService {
    /// A new user with a `voip` token and a registration.
    pub async fn engine(&self) -> Engine {
        let (id, token) = self.user_with_token(&["voip"]).await;
        let (s, v) = self
            .bearer(
                Method::POST,
                &versioned("/calling/registrations"),
                &token,
                b"",
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let registration = v["id"].as_str().expect("registration id").to_owned();
        Engine {
            id,
            token,
            registration,
        }
    }

    /// Calls an engine route as `engine` with a JSON body.
    pub async fn as_engine(
        &self,
        engine: &Engine,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        self.bearer(method, &versioned(path), &engine.token, body.as_bytes())
            .await
    }

    /// Opens the engine's notification stream (resuming after `last_event_id`) and checks the
    /// first event.
    pub async fn follow(&self, engine: &Engine, last_event_id: Option<&str>) -> EventStream {
        let path = versioned(&format!(
            "/calling/registrations/{}/events",
            engine.registration
        ));
        let (mut stream, _) = self.sse(&path, &engine.token, last_event_id).await;
        let (name, data) = stream.next().await.expect("connected event");
        assert_eq!(name, "registrationConnected");
        assert_eq!(data["registrationId"], engine.registration.as_str());
        stream
    }

    /// `caller` calls `callee` with `offer`; returns the call id.
    pub async fn place_call(&self, caller: &Engine, callee: &Engine, offer: &str) -> String {
        let (s, v) = self
            .as_engine(
                caller,
                Method::POST,
                "/calling/calls",
                Some(json!({"target": target(&callee.id), "offerSdp": offer, "callerDisplayName": "Alice"})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(v["state"], "connecting");
        v["id"].as_str().expect("call id").to_owned()
    }

    /// `engine` answers `call` with the test answer SDP.
    pub async fn answer_call(&self, engine: &Engine, call: &str, sdp: &str) -> (StatusCode, Value) {
        let path = format!("/calling/calls/{call}:answer");
        self.as_engine(
            engine,
            Method::POST,
            &path,
            Some(json!({ "answerSdp": sdp })),
        )
        .await
    }

    /// `GET /calling/calls/{call}` as `engine`.
    pub async fn get_call(&self, engine: &Engine, call: &str) -> (StatusCode, Value) {
        self.as_engine(engine, Method::GET, &format!("/calling/calls/{call}"), None)
            .await
    }

    /// `DELETE /calling/calls/{call}` as `engine`.
    pub async fn hang_up(&self, engine: &Engine, call: &str) -> (StatusCode, Value) {
        self.as_engine(
            engine,
            Method::DELETE,
            &format!("/calling/calls/{call}"),
            None,
        )
        .await
    }

    /// A Call Automation request signed with the access key.
    pub async fn automation(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        self.signed(method, &versioned(path), body.as_bytes()).await
    }
}

/// The next event, which must be `name`; returns its data.
pub async fn expect(stream: &mut EventStream, name: &str) -> Value {
    let (n, data) = stream
        .next()
        .await
        .unwrap_or_else(|| panic!("no {name} event"));
    assert_eq!(n, name, "{data}");
    data
}
