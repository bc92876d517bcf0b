//! The admin REST shapes of event subscriptions: Event Grid's ARM resource
//! (`Microsoft.EventGrid/eventSubscriptions`, webhook destination), as far as the local service
//! uses it, plus dead-lettered events with the fields of Event Grid's dead-letter records.

use serde::Deserialize;
use serde_json::{Value, json};

use super::subscription::{DeliverySchema, SpecError, SubscriptionSpec};
use crate::clock;
use crate::storage::events::{DeadLetterRecord, SubscriptionRecord};

/// `PUT /eventSubscriptions/{name}` body.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutRequest {
    /// ARM puts everything under `properties`.
    pub properties: Option<PutProperties>,
}

/// The subscription's properties.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutProperties {
    /// Where events go.
    pub destination: Option<Destination>,
    /// Which events go.
    pub filter: Option<Filter>,
    /// `EventGridSchema` (default) or `CloudEventSchemaV1_0`.
    pub event_delivery_schema: Option<String>,
    /// The retry budget.
    pub retry_policy: Option<RetryPolicy>,
}

/// `destination`: only `WebHook` here.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Destination {
    /// `WebHook`.
    pub endpoint_type: Option<String>,
    /// The webhook's properties.
    pub properties: Option<WebHookProperties>,
}

/// A webhook destination.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebHookProperties {
    /// The URL events are POSTed to.
    pub endpoint_url: Option<String>,
    /// Events per request.
    pub max_events_per_batch: Option<u32>,
}

/// `filter`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    /// Event types delivered; absent or empty = all.
    pub included_event_types: Option<Vec<String>>,
}

/// `retryPolicy`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryPolicy {
    /// 1–30.
    pub max_delivery_attempts: Option<u32>,
    /// 1–1440.
    pub event_time_to_live_in_minutes: Option<u32>,
}

fn refused(target: &'static str, message: &str) -> SpecError {
    SpecError {
        target,
        message: message.to_owned(),
    }
}

impl PutRequest {
    /// The definition named `name`, checked against Event Grid's limits.
    pub fn into_spec(self, name: &str) -> Result<SubscriptionSpec, SpecError> {
        let p = self.properties.unwrap_or_default();
        let destination = p
            .destination
            .ok_or_else(|| refused("destination", "properties.destination is required."))?;
        if destination
            .endpoint_type
            .as_deref()
            .is_some_and(|t| !t.eq_ignore_ascii_case("WebHook"))
        {
            return Err(refused(
                "endpointType",
                "Only the WebHook endpoint type is served locally.",
            ));
        }
        let webhook = destination.properties.unwrap_or_default();
        let defaults = SubscriptionSpec::default();
        let schema = match p.event_delivery_schema.as_deref() {
            None => DeliverySchema::EventGridSchema,
            Some(s) => DeliverySchema::parse(s).ok_or_else(|| {
                refused(
                    "eventDeliverySchema",
                    "eventDeliverySchema must be EventGridSchema or CloudEventSchemaV1_0.",
                )
            })?,
        };
        let retry = p.retry_policy.unwrap_or_default();
        let spec = SubscriptionSpec {
            name: name.to_owned(),
            endpoint_url: webhook.endpoint_url.unwrap_or_default(),
            schema,
            included_event_types: p
                .filter
                .and_then(|f| f.included_event_types)
                .unwrap_or_default(),
            max_delivery_attempts: retry
                .max_delivery_attempts
                .unwrap_or(defaults.max_delivery_attempts),
            event_time_to_live_minutes: retry
                .event_time_to_live_in_minutes
                .unwrap_or(defaults.event_time_to_live_minutes),
            max_events_per_batch: webhook
                .max_events_per_batch
                .unwrap_or(defaults.max_events_per_batch),
        };
        spec.validate()?;
        Ok(spec)
    }
}

/// The URL without its query (ARM answers `endpointBaseUrl`, keeping secrets in the query out).
fn base_url(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

/// The subscription as an ARM resource.
pub fn resource(record: &SubscriptionRecord, topic: &str) -> Value {
    let spec = &record.spec;
    let mut properties = json!({
        "topic": topic,
        "provisioningState": record.state,
        "destination": {
            "endpointType": "WebHook",
            "properties": {
                "endpointBaseUrl": base_url(&spec.endpoint_url),
                "maxEventsPerBatch": spec.max_events_per_batch,
            },
        },
        "filter": { "includedEventTypes": spec.included_event_types },
        "eventDeliverySchema": spec.schema.as_str(),
        "retryPolicy": {
            "maxDeliveryAttempts": spec.max_delivery_attempts,
            "eventTimeToLiveInMinutes": spec.event_time_to_live_minutes,
        },
        "definedIn": if record.from_config { "config" } else { "api" },
    });
    if let Some(reason) = &record.state_reason {
        properties["provisioningStateReason"] = json!(reason);
    }
    json!({
        "id": format!("{topic}/providers/Microsoft.EventGrid/eventSubscriptions/{}", spec.name),
        "name": spec.name,
        "type": "Microsoft.EventGrid/eventSubscriptions",
        "properties": properties,
    })
}

/// A dead-lettered event: the event (EventGridEvent fields) and why it was given up.
#[derive(Debug, serde::Serialize)]
pub struct DeadLetteredEvent(Value);

impl From<&DeadLetterRecord> for DeadLetteredEvent {
    fn from(r: &DeadLetterRecord) -> Self {
        let e = &r.event;
        Self(json!({
            "id": e.id,
            "eventType": e.event_type,
            "subject": e.subject,
            "eventTime": clock::iso8601_ms(e.event_ms),
            "data": e.data,
            "deadLetterReason": r.reason,
            "deliveryAttempts": r.attempts,
            "lastDeliveryOutcome": r.last_error,
            "lastHttpStatusCode": r.last_status,
            "publishTime": clock::iso8601_ms(r.enqueued_ms),
            "lastDeliveryAttemptTime": r.last_attempt_ms.map(clock::iso8601_ms),
            "deadLetterTime": clock::iso8601_ms(r.dead_lettered_ms),
        }))
    }
}
