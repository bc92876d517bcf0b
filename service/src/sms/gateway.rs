//! Where SMS to numbers outside the resource go. A deployment plugs in a real carrier (an HTTP
//! API, SMPP) by implementing [`SmsGateway`]; the default [`RecordingGateway`] keeps what it
//! was given and reports every message delivered.

use std::sync::Mutex;

use async_trait::async_trait;

/// A message handed to a gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingSms {
    /// The service's message id.
    pub message_id: String,
    /// Sender, E.164.
    pub from: String,
    /// Recipient, E.164.
    pub to: String,
    /// Text.
    pub body: String,
    /// Segments it takes.
    pub segments: i64,
}

/// What became of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// The carrier delivered it.
    Delivered,
    /// It could not be delivered; the details go into the delivery report.
    Failed(String),
}

/// A carrier for SMS to numbers this resource does not own. Called from the dispatcher, one
/// message at a time; a message may be handed over again after a crash (at-least-once).
#[async_trait]
pub trait SmsGateway: Send + Sync + 'static {
    /// Short name for logs.
    fn name(&self) -> &str;

    /// Sends one message and says what became of it.
    async fn send(&self, sms: &OutgoingSms) -> DeliveryOutcome;
}

/// The default gateway: records each message (in memory and in the log) and reports it
/// delivered.
#[derive(Debug, Default)]
pub struct RecordingGateway {
    sent: Mutex<Vec<OutgoingSms>>,
}

impl RecordingGateway {
    /// The messages handed over so far.
    pub fn sent(&self) -> Vec<OutgoingSms> {
        self.sent.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl SmsGateway for RecordingGateway {
    fn name(&self) -> &str {
        "recording"
    }

    async fn send(&self, sms: &OutgoingSms) -> DeliveryOutcome {
        tracing::info!(
            message_id = %sms.message_id,
            from = %sms.from,
            to = %sms.to,
            segments = sms.segments,
            "SMS recorded by the recording gateway"
        );
        if let Ok(mut sent) = self.sent.lock() {
            sent.push(sms.clone());
        }
        DeliveryOutcome::Delivered
    }
}
