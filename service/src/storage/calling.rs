//! Calls as the storage keeps them, and what one state change writes with them.
//!
//! Every change is one transaction: the call row (compare-and-set on its state, so two
//! concurrent answers cannot both win), the Event Grid events (outbox), the signaling
//! notifications buffered for each registration of the users concerned (numbered per
//! registration, so a reconnecting engine resumes where it stopped), and the Call Automation
//! callbacks to POST. An acknowledged request therefore never loses its signaling.

use async_trait::async_trait;

use super::StorageError;
use super::outbox::OutboxEvent;

/// A call between two parties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    /// The call (connection) id, a uuid.
    pub id: String,
    /// ACS's `serverCallId`.
    pub server_call_id: String,
    /// ACS's `correlationId`.
    pub correlation_id: String,
    /// Raw id of the caller (a user, or the server app for Call Automation calls).
    pub caller: String,
    /// Raw id of the callee (a user of this resource).
    pub callee: String,
    /// The caller's display name, if given.
    pub caller_display_name: Option<String>,
    /// One of `crate::calling::state`.
    pub state: String,
    /// The caller's SDP offer (none when a server app places the call).
    pub offer_sdp: Option<String>,
    /// The callee's SDP answer.
    pub answer_sdp: Option<String>,
    /// Who answered (the callee, or the server app that answered for it).
    pub answered_by: Option<String>,
    /// Call Automation callback of the caller side.
    pub caller_callback: Option<String>,
    /// Call Automation callback of the answering app.
    pub callee_callback: Option<String>,
    /// `operationContext` given by a server app.
    pub operation_context: Option<String>,
    /// Creation, Unix ms.
    pub created_ms: i64,
    /// When it was answered, Unix ms.
    pub connected_ms: Option<i64>,
    /// When it ended, Unix ms.
    pub ended_ms: Option<i64>,
    /// Who ended it.
    pub ended_by: Option<String>,
    /// Why it ended: a SIP-like code (200 hung up, 603 declined, …).
    pub end_code: Option<i64>,
}

/// A signaling notification for every registration of `user`.
#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    /// The user's raw id.
    pub user: String,
    /// The server-sent event name, e.g. `incomingCall`.
    pub name: String,
    /// Its data.
    pub data: serde_json::Value,
}

/// A Call Automation callback event to POST to `url`.
#[derive(Debug, Clone, PartialEq)]
pub struct Callback {
    /// The app's `callbackUri`.
    pub url: String,
    /// The event (`subject` is the CloudEvent's `source`, `calling/callConnections/{id}`).
    pub event: OutboxEvent,
}

/// What a state change writes besides the call.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Effects {
    /// Event Grid events.
    pub outbox: Vec<OutboxEvent>,
    /// Notifications to the engines.
    pub signals: Vec<Signal>,
    /// Callbacks to server apps.
    pub callbacks: Vec<Callback>,
}

/// A buffered notification of one registration.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSignal {
    /// Its number in the registration's stream (the SSE `id`).
    pub seq: i64,
    /// Event name.
    pub name: String,
    /// Data.
    pub data: serde_json::Value,
}

/// A callback waiting to be sent.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingCallback {
    /// Queue order.
    pub seq: i64,
    /// What to send and where.
    pub callback: Callback,
    /// Failed attempts so far.
    pub attempts: u32,
    /// Not before this time, Unix ms.
    pub next_attempt_ms: i64,
}

/// Calls, engine registrations and their buffered notifications, callbacks.
#[async_trait]
pub trait CallStore {
    /// Stores a new call with its effects.
    async fn create_call(&self, call: &CallRecord, effects: &Effects) -> Result<(), StorageError>;

    /// The call `id`.
    async fn call(&self, id: &str) -> Result<Option<CallRecord>, StorageError>;

    /// The calls `user` takes part in that have not ended, oldest first.
    async fn active_calls(&self, user: &str) -> Result<Vec<CallRecord>, StorageError>;

    /// Replaces the call if its stored state is still `expected_state`, with its effects.
    /// False (nothing written) when another request changed it first.
    async fn update_call(
        &self,
        call: &CallRecord,
        expected_state: &str,
        effects: &Effects,
    ) -> Result<bool, StorageError>;

    /// Buffers signals when `call_id` is in one of `states` (trickled candidates change no
    /// state). False (nothing written) otherwise.
    async fn relay_signals(
        &self,
        call_id: &str,
        states: &[&str],
        signals: &[Signal],
    ) -> Result<bool, StorageError>;

    /// Registers an engine of `user`.
    async fn create_registration(
        &self,
        id: &str,
        user: &str,
        now_ms: i64,
    ) -> Result<(), StorageError>;

    /// The user a registration belongs to.
    async fn registration_user(&self, id: &str) -> Result<Option<String>, StorageError>;

    /// Removes a registration and its buffer. False if there was none.
    async fn delete_registration(&self, id: &str) -> Result<bool, StorageError>;

    /// Drops a registration's notifications up to `seq`: the client said it received them.
    async fn acknowledge_signals(&self, registration: &str, seq: i64) -> Result<(), StorageError>;

    /// A registration's notifications after `after_seq`, in order, at most `limit`.
    async fn signals_after(
        &self,
        registration: &str,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<StoredSignal>, StorageError>;

    /// The callback queue, in order, at most `limit`.
    async fn pending_callbacks(&self, limit: u32) -> Result<Vec<PendingCallback>, StorageError>;

    /// Removes a callback that was acknowledged (or given up on).
    async fn remove_callback(&self, seq: i64) -> Result<(), StorageError>;

    /// Counts a failed attempt and sets the next one.
    async fn retry_callback(&self, seq: i64, next_attempt_ms: i64) -> Result<(), StorageError>;
}
