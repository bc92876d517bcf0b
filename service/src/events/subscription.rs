//! A webhook event subscription as defined by an operator (the config file or the admin REST
//! surface): where events go, in which schema, which types, and the retry budget. The rules
//! follow Event Grid's (name 3–64 letters, digits and `-`; 1–30 attempts; 1–1440 minutes).

use serde::{Deserialize, Serialize};

/// Event Grid's default and largest delivery attempt count.
pub const MAX_DELIVERY_ATTEMPTS: u32 = 30;
/// Event Grid's default and longest event time-to-live, minutes.
pub const MAX_EVENT_TTL_MINUTES: u32 = 1440;
/// Event Grid's largest `maxEventsPerBatch`.
pub const MAX_EVENTS_PER_BATCH: u32 = 5000;

/// The envelope events are delivered in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeliverySchema {
    /// An array of EventGridEvent objects, `aeg-event-type: Notification`.
    #[default]
    EventGridSchema,
    /// CloudEvents 1.0 in batch mode (`application/cloudevents-batch+json`). ARM spells it
    /// `CloudEventSchemaV1_0`; `CloudEventSchema1_0` is accepted too.
    #[serde(rename = "CloudEventSchemaV1_0", alias = "CloudEventSchema1_0")]
    CloudEventSchemaV1_0,
}

impl DeliverySchema {
    /// The ARM name, as stored and answered.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliverySchema::EventGridSchema => "EventGridSchema",
            DeliverySchema::CloudEventSchemaV1_0 => "CloudEventSchemaV1_0",
        }
    }

    /// The schema named `name` (ARM name or the alias).
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "EventGridSchema" => Some(DeliverySchema::EventGridSchema),
            "CloudEventSchemaV1_0" | "CloudEventSchema1_0" => {
                Some(DeliverySchema::CloudEventSchemaV1_0)
            }
            _ => None,
        }
    }
}

/// What an operator defines; `[[events.subscriptions]]` in the config file has these keys.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SubscriptionSpec {
    /// Unique name (3–64 letters, digits, `-`).
    pub name: String,
    /// The webhook URL (`http` or `https`).
    pub endpoint_url: String,
    /// Envelope schema.
    pub schema: DeliverySchema,
    /// Event types delivered (case-insensitive); empty means all.
    pub included_event_types: Vec<String>,
    /// Attempts before an event is dead-lettered (1–30).
    pub max_delivery_attempts: u32,
    /// Minutes after which an undelivered event is dead-lettered (1–1440).
    pub event_time_to_live_minutes: u32,
    /// Events per POST (1–5000); Event Grid's default is one (still an array).
    pub max_events_per_batch: u32,
}

impl Default for SubscriptionSpec {
    fn default() -> Self {
        Self {
            name: String::new(),
            endpoint_url: String::new(),
            schema: DeliverySchema::EventGridSchema,
            included_event_types: Vec::new(),
            max_delivery_attempts: MAX_DELIVERY_ATTEMPTS,
            event_time_to_live_minutes: MAX_EVENT_TTL_MINUTES,
            max_events_per_batch: 1,
        }
    }
}

/// Why a definition is refused: the field (in the REST body's terms) and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// The offending field.
    pub target: &'static str,
    /// What is wrong.
    pub message: String,
}

fn refuse(target: &'static str, message: impl Into<String>) -> Result<(), SpecError> {
    Err(SpecError {
        target,
        message: message.into(),
    })
}

/// Whether `name` is a valid subscription name (it also goes into URL paths unescaped).
pub fn valid_name(name: &str) -> bool {
    (3..=64).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

impl SubscriptionSpec {
    /// Checks every field against Event Grid's limits.
    pub fn validate(&self) -> Result<(), SpecError> {
        if !valid_name(&self.name) {
            return refuse(
                "name",
                "The subscription name must be 3 to 64 letters, digits or '-'.",
            );
        }
        let scheme_ok = reqwest::Url::parse(&self.endpoint_url)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
        if !scheme_ok {
            return refuse(
                "endpointUrl",
                "The endpoint URL must be an http or https URL.",
            );
        }
        if !(1..=MAX_DELIVERY_ATTEMPTS).contains(&self.max_delivery_attempts) {
            return refuse(
                "maxDeliveryAttempts",
                format!("maxDeliveryAttempts must be 1 to {MAX_DELIVERY_ATTEMPTS}."),
            );
        }
        if !(1..=MAX_EVENT_TTL_MINUTES).contains(&self.event_time_to_live_minutes) {
            return refuse(
                "eventTimeToLiveInMinutes",
                format!("eventTimeToLiveInMinutes must be 1 to {MAX_EVENT_TTL_MINUTES}."),
            );
        }
        if !(1..=MAX_EVENTS_PER_BATCH).contains(&self.max_events_per_batch) {
            return refuse(
                "maxEventsPerBatch",
                format!("maxEventsPerBatch must be 1 to {MAX_EVENTS_PER_BATCH}."),
            );
        }
        if self
            .included_event_types
            .iter()
            .any(|t| t.trim().is_empty() || t.len() > 128)
        {
            return refuse(
                "includedEventTypes",
                "Included event types must be non-empty names of at most 128 characters.",
            );
        }
        Ok(())
    }

    /// Whether an event of `event_type` passes the filter (Event Grid compares case-insensitively).
    pub fn wants(&self, event_type: &str) -> bool {
        self.included_event_types.is_empty()
            || self
                .included_event_types
                .iter()
                .any(|t| t.eq_ignore_ascii_case(event_type))
    }

    /// Whether a change from `self` to `other` needs a new validation handshake (the receiver
    /// or the way it is spoken to changed).
    pub fn needs_revalidation(&self, other: &SubscriptionSpec) -> bool {
        self.endpoint_url != other.endpoint_url || self.schema != other.schema
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> SubscriptionSpec {
        SubscriptionSpec {
            name: "sub-1".into(),
            endpoint_url: "http://127.0.0.1:9/hook".into(),
            ..SubscriptionSpec::default()
        }
    }

    #[test]
    fn limits_and_filter() {
        assert!(spec().validate().is_ok());
        let bad = |f: fn(&mut SubscriptionSpec), target: &str| {
            let mut s = spec();
            f(&mut s);
            assert_eq!(s.validate().map_err(|e| e.target), Err(target));
        };
        bad(|s| s.name = "a/b".into(), "name");
        bad(|s| s.endpoint_url = "ftp://x/".into(), "endpointUrl");
        bad(|s| s.max_delivery_attempts = 31, "maxDeliveryAttempts");
        bad(
            |s| s.event_time_to_live_minutes = 0,
            "eventTimeToLiveInMinutes",
        );
        bad(|s| s.max_events_per_batch = 0, "maxEventsPerBatch");
        bad(
            |s| s.included_event_types = vec![" ".into()],
            "includedEventTypes",
        );

        let mut s = spec();
        assert!(s.wants("Microsoft.Communication.SMSReceived"));
        s.included_event_types = vec!["microsoft.communication.smsreceived".into()];
        assert!(s.wants("Microsoft.Communication.SMSReceived"));
        assert!(!s.wants("Microsoft.Communication.ChatMessageReceived"));
        assert_eq!(
            DeliverySchema::parse("CloudEventSchema1_0"),
            Some(DeliverySchema::CloudEventSchemaV1_0)
        );
    }
}
