//! The bodies POSTed to webhooks (acs-wire.md §10): an array of EventGridEvent objects, or a
//! CloudEvents 1.0 batch, with the resource path as `topic` / `source`.

use serde_json::{Value, json};

use super::subscription::DeliverySchema;
use crate::clock;
use crate::storage::outbox::OutboxEvent;

/// `Content-Type` of an EventGridEvent array.
pub const EVENT_GRID_CONTENT_TYPE: &str = "application/json";
/// `Content-Type` of a CloudEvents batch.
pub const CLOUD_EVENTS_BATCH_CONTENT_TYPE: &str =
    "application/cloudevents-batch+json; charset=utf-8";

/// One event in the EventGridEvent schema.
pub fn event_grid_event(event: &OutboxEvent, topic: &str) -> Value {
    json!({
        "id": event.id,
        "topic": topic,
        "subject": event.subject,
        "data": event.data,
        "eventType": event.event_type,
        "eventTime": clock::iso8601_ms(event.event_ms),
        "metadataVersion": "1",
        "dataVersion": "1.0",
    })
}

/// One event in the CloudEvents 1.0 schema (`source` is the topic).
pub fn cloud_event(event: &OutboxEvent, topic: &str) -> Value {
    json!({
        "specversion": "1.0",
        "id": event.id,
        "source": topic,
        "type": event.event_type,
        "subject": event.subject,
        "time": clock::iso8601_ms(event.event_ms),
        "datacontenttype": "application/json",
        "data": event.data,
    })
}

/// The body and its `Content-Type` for a batch of `events` in `schema`.
pub fn batch(
    schema: DeliverySchema,
    events: &[&OutboxEvent],
    topic: &str,
) -> (Vec<u8>, &'static str) {
    let (items, content_type): (Vec<Value>, _) = match schema {
        DeliverySchema::EventGridSchema => (
            events.iter().map(|e| event_grid_event(e, topic)).collect(),
            EVENT_GRID_CONTENT_TYPE,
        ),
        DeliverySchema::CloudEventSchemaV1_0 => (
            events.iter().map(|e| cloud_event(e, topic)).collect(),
            CLOUD_EVENTS_BATCH_CONTENT_TYPE,
        ),
    };
    (Value::Array(items).to_string().into_bytes(), content_type)
}

/// The `Microsoft.EventGrid.SubscriptionValidationEvent` of an EventGridEvent handshake.
pub fn validation_event(topic: &str, code: &str, validation_url: &str, now_ms: i64) -> Value {
    json!([{
        "id": uuid::Uuid::new_v4().to_string(),
        "topic": topic,
        "subject": "",
        "data": { "validationCode": code, "validationUrl": validation_url },
        "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
        "eventTime": clock::iso8601_ms(now_ms),
        "metadataVersion": "1",
        "dataVersion": "1",
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_schemas_carry_the_topic_and_times() {
        let e = OutboxEvent {
            id: "e1".into(),
            event_type: "Microsoft.Communication.SMSReceived".into(),
            subject: "phonenumber/18005550100".into(),
            data: json!({"message": "hi"}),
            event_ms: 1_795_521_600_250,
        };
        let g = event_grid_event(&e, "/t");
        assert_eq!(g["topic"], "/t");
        assert_eq!(g["eventTime"], "2026-11-24T12:00:00.250Z");
        assert_eq!(
            (g["metadataVersion"].as_str(), g["dataVersion"].as_str()),
            (Some("1"), Some("1.0"))
        );
        let c = cloud_event(&e, "/t");
        assert_eq!(
            (c["source"].as_str(), c["type"].as_str()),
            (Some("/t"), Some("Microsoft.Communication.SMSReceived"))
        );
        let (body, ct) = batch(DeliverySchema::CloudEventSchemaV1_0, &[&e], "/t");
        assert!(ct.starts_with("application/cloudevents-batch+json"));
        let v: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(v[0]["specversion"], "1.0");
    }
}
