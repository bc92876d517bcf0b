//! Chat state as the storage keeps it, and the operations a backend provides.
//!
//! Each operation is one transaction: it checks that the thread exists and that the caller is
//! a participant, changes the state, and writes the operation's events to the outbox, so a
//! 2xx answer always has its state and its events stored together.

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::StorageError;
use super::outbox::OutboxEvent;

/// Why a chat operation was refused (the route maps these onto 404, 403 and 409).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatRefusal {
    /// No such thread (or it was deleted).
    ThreadNotFound,
    /// The caller is not a participant of the thread.
    NotParticipant,
    /// No such message in the thread.
    MessageNotFound,
    /// Only the sender may change or delete a message; system messages are nobody's.
    NotSender,
    /// A repeatability id came back with a different request.
    RepeatabilityConflict,
}

/// A chat operation's failure: refused, or the storage failed.
#[derive(Debug)]
pub enum ChatStoreError {
    /// The request is not allowed in the current state.
    Refused(ChatRefusal),
    /// The database failed.
    Storage(StorageError),
}

impl From<StorageError> for ChatStoreError {
    fn from(e: StorageError) -> Self {
        Self::Storage(e)
    }
}

impl From<ChatRefusal> for ChatStoreError {
    fn from(r: ChatRefusal) -> Self {
        Self::Refused(r)
    }
}

/// Result of a chat storage operation.
pub type ChatResult<T> = Result<T, ChatStoreError>;

/// A chat thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadRecord {
    /// `19:<hex>@thread.v2`.
    pub id: String,
    /// The topic.
    pub topic: String,
    /// Raw id of the creator.
    pub created_by: String,
    /// Creation time, Unix ms.
    pub created_ms: i64,
    /// Last change of the thread's properties or membership, Unix ms (the thread `version`).
    pub version_ms: i64,
    /// Time of the last message, Unix ms.
    pub last_message_ms: Option<i64>,
}

/// A participant of a thread (also the JSON stored in system messages).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ParticipantRecord {
    /// The user's raw id.
    pub user_id: String,
    /// Display name given when the participant was added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Time from which history is shared with the participant, Unix ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_history_ms: Option<i64>,
}

/// Message types, as on the wire.
pub mod kind {
    /// A user's plain-text message.
    pub const TEXT: &str = "text";
    /// A user's HTML message.
    pub const HTML: &str = "html";
    /// System message: the topic was set or changed.
    pub const TOPIC_UPDATED: &str = "topicUpdated";
    /// System message: participants were added.
    pub const PARTICIPANT_ADDED: &str = "participantAdded";
    /// System message: participants were removed.
    pub const PARTICIPANT_REMOVED: &str = "participantRemoved";
}

/// A message in a thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRecord {
    /// The thread.
    pub thread_id: String,
    /// Message id: its creation time in Unix ms, made unique in the thread (as ACS does).
    pub id: i64,
    /// Position in the thread, from 1.
    pub sequence_id: i64,
    /// One of [`kind`].
    pub kind: String,
    /// Last change, Unix ms.
    pub version_ms: i64,
    /// Text of a user message (empty once deleted).
    pub body: Option<String>,
    /// The topic, for `topicUpdated`.
    pub topic: Option<String>,
    /// The participants, for `participantAdded` / `participantRemoved`.
    pub participants: Vec<ParticipantRecord>,
    /// Who caused a system message.
    pub initiator: Option<String>,
    /// The sender of a user message.
    pub sender_id: Option<String>,
    /// The sender's display name as sent.
    pub sender_display_name: Option<String>,
    /// Metadata of a user message.
    pub metadata: BTreeMap<String, String>,
    /// Creation time, Unix ms.
    pub created_ms: i64,
    /// Last edit, Unix ms.
    pub edited_ms: Option<i64>,
    /// Deletion time, Unix ms.
    pub deleted_ms: Option<i64>,
}

/// A participant's latest read receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadReceiptRecord {
    /// The reader.
    pub user_id: String,
    /// The message read.
    pub message_id: i64,
    /// When, Unix ms.
    pub read_ms: i64,
}

/// A thread to create.
#[derive(Debug, Clone)]
pub struct NewThread {
    /// The new thread's id.
    pub id: String,
    /// The topic.
    pub topic: String,
    /// The creator (made a participant too).
    pub creator: String,
    /// Other participants; all exist as users.
    pub participants: Vec<ParticipantRecord>,
    /// `repeatability-request-id` and a hash of the request body.
    pub repeatability: Option<(String, String)>,
    /// The response body to store for replays of the same repeatability id.
    pub response: String,
    /// Now, Unix ms.
    pub now_ms: i64,
}

/// What creating a thread did.
#[derive(Debug, Clone)]
pub enum CreateThreadOutcome {
    /// Created now: all participants, the creator included.
    Created(Changed<Vec<ParticipantRecord>>),
    /// The repeatability id was seen before with the same request: its stored response.
    Replayed(String),
}

/// A user message to store.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// `text` or `html`.
    pub kind: &'static str,
    /// The text.
    pub body: String,
    /// Display name of the sender.
    pub sender_display_name: Option<String>,
    /// Metadata.
    pub metadata: BTreeMap<String, String>,
}

/// A message edit: new content and a merge patch of the metadata (`None` removes a key).
#[derive(Debug, Clone, Default)]
pub struct MessageEdit {
    /// New text.
    pub body: Option<String>,
    /// Metadata changes.
    pub metadata: Option<BTreeMap<String, Option<String>>>,
}

/// A change and the participants who should hear of it (after the change).
#[derive(Debug, Clone)]
pub struct Changed<T> {
    /// The changed object.
    pub value: T,
    /// The thread as it is now.
    pub thread: ThreadRecord,
    /// Every participant now (for removals: the remaining ones and the removed).
    pub audience: Vec<String>,
}

/// Keyset position in a thread list (threads newest activity first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadCursor {
    /// Activity time of the last thread returned.
    pub activity_ms: i64,
    /// Id of the last thread returned.
    pub id: String,
}

/// Chat operations of a storage backend.
#[async_trait]
pub trait ChatStore: Send + Sync {
    /// Creates a thread with its participants, its first system messages and events; or
    /// replays a repeated request.
    async fn create_thread(
        &self,
        new: NewThread,
        events: Events<Vec<ParticipantRecord>>,
    ) -> ChatResult<CreateThreadOutcome>;

    /// The thread, if `caller` is one of its participants.
    async fn thread_for(&self, thread_id: &str, caller: &str) -> ChatResult<ThreadRecord>;

    /// Threads `caller` takes part in with activity at or after `since_ms`, newest activity
    /// first, after `cursor`, at most `limit`.
    async fn list_threads(
        &self,
        caller: &str,
        since_ms: Option<i64>,
        cursor: Option<ThreadCursor>,
        limit: u32,
    ) -> ChatResult<Vec<ThreadRecord>>;

    /// Changes the topic (a `topicUpdated` message and events).
    async fn update_topic(
        &self,
        thread_id: &str,
        caller: &str,
        topic: &str,
        now_ms: i64,
        events: Events<MessageRecord>,
    ) -> ChatResult<Changed<MessageRecord>>;

    /// Deletes the thread and everything in it; returns the participants it had.
    async fn delete_thread(
        &self,
        thread_id: &str,
        caller: &str,
        now_ms: i64,
        events: Events<()>,
    ) -> ChatResult<Changed<()>>;

    /// Stores a user message.
    async fn send_message(
        &self,
        thread_id: &str,
        caller: &str,
        message: NewMessage,
        now_ms: i64,
        events: Events<MessageRecord>,
    ) -> ChatResult<Changed<MessageRecord>>;

    /// Messages with sequence ids below `before_sequence` (all when `None`) created at or after
    /// `since_ms`, newest first, at most `limit`.
    async fn list_messages(
        &self,
        thread_id: &str,
        caller: &str,
        since_ms: Option<i64>,
        before_sequence: Option<i64>,
        limit: u32,
    ) -> ChatResult<Vec<MessageRecord>>;

    /// One message.
    async fn message(
        &self,
        thread_id: &str,
        caller: &str,
        message_id: i64,
    ) -> ChatResult<MessageRecord>;

    /// Edits the caller's own message.
    async fn update_message(
        &self,
        thread_id: &str,
        caller: &str,
        message_id: i64,
        edit: MessageEdit,
        now_ms: i64,
        events: Events<MessageRecord>,
    ) -> ChatResult<Changed<MessageRecord>>;

    /// Deletes the caller's own message; `None` when it was already deleted (no new events).
    async fn delete_message(
        &self,
        thread_id: &str,
        caller: &str,
        message_id: i64,
        now_ms: i64,
        events: Events<MessageRecord>,
    ) -> ChatResult<Option<Changed<MessageRecord>>>;

    /// Participants in the order they joined, skipping `skip`, at most `limit`.
    async fn list_participants(
        &self,
        thread_id: &str,
        caller: &str,
        skip: u32,
        limit: u32,
    ) -> ChatResult<Vec<ParticipantRecord>>;

    /// Adds participants not yet in the thread (existing ones are left unchanged); `None` in
    /// the result when all were already there.
    async fn add_participants(
        &self,
        thread_id: &str,
        caller: &str,
        participants: Vec<ParticipantRecord>,
        now_ms: i64,
        events: Events<MessageRecord>,
    ) -> ChatResult<Option<Changed<MessageRecord>>>;

    /// Removes a participant; `None` when it was not one (no change, no events).
    async fn remove_participant(
        &self,
        thread_id: &str,
        caller: &str,
        user_id: &str,
        now_ms: i64,
        events: Events<MessageRecord>,
    ) -> ChatResult<Option<Changed<MessageRecord>>>;

    /// Records that `caller` read up to `message_id` (an older receipt never replaces a newer).
    async fn send_read_receipt(
        &self,
        thread_id: &str,
        caller: &str,
        message_id: i64,
        now_ms: i64,
        events: Events<ReadReceiptRecord>,
    ) -> ChatResult<Changed<ReadReceiptRecord>>;

    /// Each participant's latest read receipt, skipping `skip`, at most `limit`.
    async fn list_read_receipts(
        &self,
        thread_id: &str,
        caller: &str,
        skip: u32,
        limit: u32,
    ) -> ChatResult<Vec<ReadReceiptRecord>>;

    /// The participants of a thread `caller` takes part in (for typing notifications).
    async fn audience(&self, thread_id: &str, caller: &str) -> ChatResult<Changed<()>>;
}

/// Builds the events an operation writes to the outbox from the state it produced; called
/// inside the operation's transaction.
pub type Events<T> = Box<dyn FnOnce(&Changed<T>) -> Vec<OutboxEvent> + Send>;
