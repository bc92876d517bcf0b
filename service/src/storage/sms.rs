//! SMS state as the storage keeps it: the registry of the resource's numbers, sent messages
//! with their delivery status, and repeatability ids.

use async_trait::async_trait;

use super::StorageError;
use super::outbox::OutboxEvent;

/// Delivery states of a message.
pub mod status {
    /// Waiting for the gateway.
    pub const QUEUED: &str = "Queued";
    /// Delivered (locally, or as the gateway reported).
    pub const DELIVERED: &str = "Delivered";
    /// Not deliverable.
    pub const FAILED: &str = "Failed";
}

/// A sent message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsRecord {
    /// `Outgoing_<hex>`.
    pub id: String,
    /// Sender, one of the resource's numbers.
    pub from: String,
    /// Recipient.
    pub to: String,
    /// Text.
    pub body: String,
    /// Segments it takes.
    pub segments: i64,
    /// Whether the sender asked for a delivery report.
    pub delivery_report: bool,
    /// Echoed in the delivery report.
    pub tag: Option<String>,
    /// Delivered to one of the resource's own numbers (no gateway).
    pub local: bool,
    /// One of [`status`].
    pub status: String,
    /// The delivery report's details.
    pub status_details: Option<String>,
    /// When it was accepted, Unix ms.
    pub created_ms: i64,
    /// Last status change, Unix ms.
    pub updated_ms: i64,
}

/// A message to store, with its repeatability id (and a hash of what it sends) and the events
/// its acceptance produces (written only if it is stored now).
#[derive(Debug, Clone)]
pub struct NewSms {
    /// The message.
    pub record: SmsRecord,
    /// `repeatabilityRequestId` and a hash of (from, to, message).
    pub repeatability: Option<(String, String)>,
    /// Events of a local delivery.
    pub events: Vec<OutboxEvent>,
}

/// What storing one message did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsInsert {
    /// Stored now.
    Stored,
    /// The repeatability id was seen with the same message: nothing sent again; the first id.
    Replayed(String),
    /// The repeatability id was seen with a different message: refused.
    Conflict,
}

/// SMS operations of a storage backend.
#[async_trait]
pub trait SmsStore: Send + Sync {
    /// Adds `numbers` to the registry of the resource's numbers (present ones stay).
    async fn register_numbers(&self, numbers: &[String], now_ms: i64) -> Result<(), StorageError>;

    /// Those of `numbers` that are in the registry.
    async fn local_numbers(&self, numbers: &[String]) -> Result<Vec<String>, StorageError>;

    /// Stores a request's messages in one transaction, in order.
    async fn store_sms(&self, batch: Vec<NewSms>) -> Result<Vec<SmsInsert>, StorageError>;

    /// Up to `limit` messages waiting for the gateway, oldest first.
    async fn queued_sms(&self, limit: u32) -> Result<Vec<SmsRecord>, StorageError>;

    /// Records the final status of a queued message and writes `events`, in one transaction;
    /// false (and nothing written) when it was no longer queued.
    async fn complete_sms(
        &self,
        done: &SmsRecord,
        now_ms: i64,
        events: Vec<OutboxEvent>,
    ) -> Result<bool, StorageError>;

    /// One message.
    async fn sms(&self, id: &str) -> Result<Option<SmsRecord>, StorageError>;
}
