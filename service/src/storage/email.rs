//! Email operations as the storage keeps them: the request (what the dispatcher sends), the
//! operation's status and error, and the ids that make a send repeatable.

use async_trait::async_trait;

use super::StorageError;
use super::outbox::OutboxEvent;

/// One `POST /emails:send` operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailRecord {
    /// The operation id (the `operation-id` header, or a uuid).
    pub id: String,
    /// One of [`crate::email::status`].
    pub status: String,
    /// The validated request, JSON.
    pub request: String,
    /// SHA-256 (base64) of the request body: a repeated id with another body is a conflict.
    pub request_hash: String,
    /// `senderAddress`.
    pub sender: String,
    /// The operation's `error` object (JSON) when it failed.
    pub error: Option<String>,
    /// The `Message-ID` given to the relay.
    pub internet_message_id: Option<String>,
    /// Accepted, Unix ms.
    pub created_ms: i64,
    /// Last status change, Unix ms.
    pub updated_ms: i64,
}

/// What storing an operation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailInsert {
    /// Stored now.
    Stored,
    /// The operation id or repeatability id was seen with the same body: that operation.
    Replayed(EmailRecord),
    /// The id was seen with a different body.
    Conflict,
}

/// Email operations of a storage backend.
#[async_trait]
pub trait EmailStore: Send + Sync {
    /// Stores a new operation, unless its id (or `repeatability_id`) was seen before.
    async fn store_email(
        &self,
        record: &EmailRecord,
        repeatability_id: Option<&str>,
    ) -> Result<EmailInsert, StorageError>;

    /// One operation.
    async fn email(&self, id: &str) -> Result<Option<EmailRecord>, StorageError>;

    /// Up to `limit` operations not finished (`NotStarted`, or `Running` when a crash
    /// interrupted them), oldest first.
    async fn pending_emails(&self, limit: u32) -> Result<Vec<EmailRecord>, StorageError>;

    /// Marks a `NotStarted` operation `Running`.
    async fn start_email(&self, id: &str, now_ms: i64) -> Result<(), StorageError>;

    /// Records the final status of an unfinished operation and writes `events`, in one
    /// transaction; false (and nothing written) when it had already finished.
    async fn complete_email(
        &self,
        done: &EmailRecord,
        now_ms: i64,
        events: Vec<OutboxEvent>,
    ) -> Result<bool, StorageError>;
}
