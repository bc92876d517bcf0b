//! Event subscriptions and their delivery queues as the storage keeps them. Events reach a
//! subscription's queue in the transaction that writes them to the outbox (only subscriptions
//! active at that moment), so "events written before a subscription existed are not sent to it"
//! holds exactly, on one node or many.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::Notify;

use super::StorageError;
use super::outbox::OutboxEvent;
use crate::events::subscription::SubscriptionSpec;

/// A subscription's `provisioningState` (ARM's names).
pub mod state {
    /// The validation handshake is under way.
    pub const CREATING: &str = "Creating";
    /// The endpoint answered the handshake without the code: waiting for a GET of the
    /// validation URL.
    pub const AWAITING_MANUAL_ACTION: &str = "AwaitingManualAction";
    /// Validated: events are queued for it and delivered.
    pub const SUCCEEDED: &str = "Succeeded";
    /// The handshake failed (the reason is kept).
    pub const FAILED: &str = "Failed";
}

/// A delivery's state.
pub mod delivery {
    /// Not yet acknowledged by the endpoint.
    pub const PENDING: &str = "Pending";
    /// Acknowledged with 200–204.
    pub const DELIVERED: &str = "Delivered";
    /// Given up; see the `dead_letter` table.
    pub const DEAD_LETTERED: &str = "DeadLettered";
}

/// A stored subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRecord {
    /// What the operator defined.
    pub spec: SubscriptionSpec,
    /// Defined in the config file (kept in step with it at start) rather than over REST.
    pub from_config: bool,
    /// One of [`state`].
    pub state: String,
    /// Why the handshake failed or what it waits for.
    pub state_reason: Option<String>,
    /// The code of the current handshake.
    pub validation_code: Option<String>,
    /// Until when a GET of the validation URL is accepted, Unix ms.
    pub validation_expires_ms: Option<i64>,
    /// Creation time, Unix ms.
    pub created_ms: i64,
    /// Last change, Unix ms.
    pub updated_ms: i64,
}

/// A new handshake: the code the endpoint must echo and how long the validation URL is good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validation {
    /// The `validationCode`.
    pub code: String,
    /// Expiry of the validation URL, Unix ms.
    pub expires_ms: i64,
}

/// What storing a definition did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutResult {
    /// The subscription as stored now.
    pub record: SubscriptionRecord,
    /// It did not exist before.
    pub created: bool,
    /// A handshake with the given [`Validation`] must run (new, changed endpoint or schema, or
    /// failed before).
    pub validate: bool,
}

/// An event waiting in a subscription's queue.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingDelivery {
    /// The event.
    pub event: OutboxEvent,
    /// Attempts so far.
    pub attempts: u32,
    /// When it was queued, Unix ms (the time-to-live counts from here).
    pub enqueued_ms: i64,
    /// Not before this time, Unix ms.
    pub next_attempt_ms: i64,
}

/// The outcome of one failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptFailure {
    /// The HTTP status, when the endpoint answered.
    pub status: Option<u16>,
    /// What went wrong (status line, connection error, timeout).
    pub error: String,
}

/// An event given up on, for operators.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetterRecord {
    /// The event.
    pub event: OutboxEvent,
    /// `MaxDeliveryAttemptsExceeded`, `TimeToLiveExceeded` or `NonRetryableStatus`.
    pub reason: String,
    /// Attempts made.
    pub attempts: u32,
    /// The last HTTP status, when there was one.
    pub last_status: Option<u16>,
    /// The last error.
    pub last_error: Option<String>,
    /// When it was queued, Unix ms.
    pub enqueued_ms: i64,
    /// The last attempt, Unix ms.
    pub last_attempt_ms: Option<i64>,
    /// When it was given up on, Unix ms.
    pub dead_lettered_ms: i64,
}

/// Subscriptions, delivery queues and dead letters.
#[async_trait]
pub trait EventStore {
    /// Woken (after the commit) when a transaction queued deliveries.
    fn deliveries_queued(&self) -> Arc<Notify>;

    /// Creates or updates a subscription. A new one, one whose endpoint or schema changed, and
    /// one that had failed start a handshake with `validation`; otherwise the state is kept.
    async fn put_subscription(
        &self,
        spec: &SubscriptionSpec,
        from_config: bool,
        validation: &Validation,
        now_ms: i64,
    ) -> Result<PutResult, StorageError>;

    /// The subscription `name`.
    async fn subscription(&self, name: &str) -> Result<Option<SubscriptionRecord>, StorageError>;

    /// All subscriptions, by name.
    async fn subscriptions(&self) -> Result<Vec<SubscriptionRecord>, StorageError>;

    /// Deletes a subscription with its queue and dead letters. False if there was none.
    async fn delete_subscription(&self, name: &str) -> Result<bool, StorageError>;

    /// Starts a new handshake for a subscription stuck in `Creating` (a restart interrupted
    /// its handshake). Returns the record if it was.
    async fn restart_validation(
        &self,
        name: &str,
        validation: &Validation,
        now_ms: i64,
    ) -> Result<Option<SubscriptionRecord>, StorageError>;

    /// Moves a subscription from one of `from` to `to` if its handshake's code is `code` (and,
    /// for a GET of the validation URL, it has not expired). Returns whether it moved.
    async fn settle_validation(
        &self,
        name: &str,
        code: &str,
        from: &[&str],
        to: &str,
        reason: Option<&str>,
        now_ms: i64,
    ) -> Result<bool, StorageError>;

    /// Fails subscriptions whose validation URL expired unvisited; returns their names.
    async fn expire_validations(&self, now_ms: i64) -> Result<Vec<String>, StorageError>;

    /// The first `limit` pending deliveries of a subscription, in the order they were queued.
    async fn pending_deliveries(
        &self,
        subscription: &str,
        limit: u32,
    ) -> Result<Vec<PendingDelivery>, StorageError>;

    /// Marks deliveries acknowledged with `status`.
    async fn record_delivered(
        &self,
        subscription: &str,
        event_ids: &[String],
        status: u16,
        now_ms: i64,
    ) -> Result<(), StorageError>;

    /// Counts a failed attempt for each delivery and sets its next attempt time.
    async fn record_failed(
        &self,
        subscription: &str,
        retries: &[(String, i64)],
        failure: &AttemptFailure,
        now_ms: i64,
    ) -> Result<(), StorageError>;

    /// Gives up on deliveries: marks them and copies them to the dead letters with `reason`.
    /// `failure` is the attempt that just failed (counted), or `None` when none was made now
    /// (time-to-live exceeded; the last attempt's outcome is kept).
    async fn dead_letter(
        &self,
        subscription: &str,
        event_ids: &[String],
        reason: &str,
        failure: Option<&AttemptFailure>,
        now_ms: i64,
    ) -> Result<(), StorageError>;

    /// A subscription's dead letters, oldest first, after the first `skip`, at most `limit`.
    async fn dead_letters(
        &self,
        subscription: &str,
        skip: u32,
        limit: u32,
    ) -> Result<Vec<DeadLetterRecord>, StorageError>;
}
