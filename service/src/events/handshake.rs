//! The validation handshakes a webhook passes before events are sent to it (acs-wire.md §10):
//! EventGridEvent endpoints get a `SubscriptionValidationEvent` and echo its code (or GET its
//! validation URL, served by this service); CloudEvents endpoints answer an `OPTIONS` with
//! `WebHook-Allowed-Origin`. The outcome is stored only if the handshake is still the current
//! one (same code, still `Creating`), so a newer definition or a GET that won the race stands.

use std::sync::Arc;

use super::EventsRuntime;
use super::envelope::{EVENT_GRID_CONTENT_TYPE, validation_event};
use super::subscription::DeliverySchema;
use super::webhook::{acknowledged, describe};
use crate::clock;
use crate::storage::Storage;
use crate::storage::events::{SubscriptionRecord, Validation, state};

/// How long a validation URL is accepted after the handshake started.
pub const VALIDATION_URL_LIFETIME_MS: i64 = 10 * 60 * 1000;

/// A fresh code and its expiry.
pub fn new_validation(now_ms: i64) -> Validation {
    Validation {
        code: uuid::Uuid::new_v4().to_string(),
        expires_ms: now_ms + VALIDATION_URL_LIFETIME_MS,
    }
}

/// `https://host:port/eventSubscriptions/{name}/validate?code={code}`.
pub fn validation_url(endpoint: &str, name: &str, code: &str) -> String {
    format!("{endpoint}eventSubscriptions/{name}/validate?code={code}")
}

/// How a handshake ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The endpoint proved it wants the events.
    Validated,
    /// It acknowledged without the code: it may still GET the validation URL.
    AwaitingGet,
    /// It refused or could not be reached.
    Failed(String),
}

/// Runs the handshake of `record` in the background.
pub fn spawn(storage: Arc<dyn Storage>, runtime: Arc<EventsRuntime>, record: SubscriptionRecord) {
    tokio::spawn(async move { run(storage.as_ref(), &runtime, &record).await });
}

/// Runs the handshake of `record` (state `Creating`) and stores the outcome.
pub async fn run(storage: &dyn Storage, runtime: &EventsRuntime, record: &SubscriptionRecord) {
    let Some(code) = record.validation_code.as_deref() else {
        return;
    };
    let name = record.spec.name.as_str();
    let outcome = match record.spec.schema {
        DeliverySchema::EventGridSchema => event_grid(runtime, record, code).await,
        DeliverySchema::CloudEventSchemaV1_0 => {
            cloud_events(runtime, &record.spec.endpoint_url).await
        }
    };
    let (to, reason) = match &outcome {
        Outcome::Validated => (state::SUCCEEDED, None),
        Outcome::AwaitingGet => (
            state::AWAITING_MANUAL_ACTION,
            Some(
                "The endpoint acknowledged the validation event without its code; waiting for a GET of the validation URL.",
            ),
        ),
        Outcome::Failed(reason) => (state::FAILED, Some(reason.as_str())),
    };
    match storage
        .settle_validation(name, code, &[state::CREATING], to, reason, clock::now_ms())
        .await
    {
        Ok(true) => match outcome {
            Outcome::Validated => {
                tracing::info!(subscription = name, "event subscription validated");
                storage.deliveries_queued().notify_one();
            }
            Outcome::AwaitingGet => {
                tracing::info!(
                    subscription = name,
                    "event subscription awaits a GET of its validation URL"
                );
            }
            Outcome::Failed(reason) => {
                tracing::warn!(subscription = name, %reason, "event subscription validation failed");
            }
        },
        // Superseded: a newer definition, a GET of the validation URL, or a deletion.
        Ok(false) => {}
        Err(e) => tracing::error!(subscription = name, "storing a handshake outcome: {e}"),
    }
}

async fn event_grid(runtime: &EventsRuntime, record: &SubscriptionRecord, code: &str) -> Outcome {
    let url = validation_url(&runtime.endpoint, &record.spec.name, code);
    let body = validation_event(&runtime.topic, code, &url, clock::now_ms()).to_string();
    let sent = runtime
        .client
        .post(&record.spec.endpoint_url)
        .header("aeg-event-type", "SubscriptionValidation")
        .header(
            "aeg-subscription-name",
            record.spec.name.to_ascii_uppercase(),
        )
        .header(reqwest::header::CONTENT_TYPE, EVENT_GRID_CONTENT_TYPE)
        .body(body)
        .send()
        .await;
    let response = match sent {
        Ok(r) => r,
        Err(e) => {
            return Outcome::Failed(format!("validation event not delivered: {}", describe(&e)));
        }
    };
    let status = response.status();
    if !acknowledged(status.as_u16()) {
        return Outcome::Failed(format!(
            "the endpoint answered the validation event with {status}"
        ));
    }
    let answer = response.json::<serde_json::Value>().await.ok();
    match answer.as_ref().and_then(|v| v.get("validationResponse")) {
        Some(v) if v.as_str() == Some(code) => Outcome::Validated,
        Some(v) => Outcome::Failed(format!(
            "the endpoint answered validationResponse {v}, not the validationCode"
        )),
        None => Outcome::AwaitingGet,
    }
}

async fn cloud_events(runtime: &EventsRuntime, endpoint: &str) -> Outcome {
    let sent = runtime
        .client
        .request(reqwest::Method::OPTIONS, endpoint)
        .header("WebHook-Request-Origin", &runtime.origin)
        .send()
        .await;
    let response = match sent {
        Ok(r) => r,
        Err(e) => return Outcome::Failed(format!("OPTIONS not delivered: {}", describe(&e))),
    };
    let status = response.status();
    if !acknowledged(status.as_u16()) {
        return Outcome::Failed(format!("the endpoint answered OPTIONS with {status}"));
    }
    let allowed = response
        .headers()
        .get("WebHook-Allowed-Origin")
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    match allowed {
        Some(o) if o == "*" || o.eq_ignore_ascii_case(&runtime.origin) => Outcome::Validated,
        Some(o) => Outcome::Failed(format!(
            "WebHook-Allowed-Origin is '{o}', not '{}'",
            runtime.origin
        )),
        None => Outcome::Failed("the OPTIONS answer has no WebHook-Allowed-Origin".to_owned()),
    }
}
