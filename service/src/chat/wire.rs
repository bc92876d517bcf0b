//! Chat JSON as the SDK's generated models name it (azure-communication-chat 1.3.0,
//! api-version 2024-03-07): requests as parsed, responses as written.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::iso;
use crate::identifier::{IdentifierInput, IdentifierModel};
use crate::storage::chat::{MessageRecord, ParticipantRecord, ReadReceiptRecord, ThreadRecord};

/// `CreateChatThreadRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateThreadRequest {
    /// Required.
    pub topic: Option<String>,
    /// Participants besides the creator.
    pub participants: Option<Vec<ParticipantInput>>,
}

/// `ChatParticipant` in a request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParticipantInput {
    /// Required.
    pub communication_identifier: Option<IdentifierInput>,
    /// Optional display name.
    pub display_name: Option<String>,
    /// Optional ISO-8601 time from which history is shared.
    pub share_history_time: Option<String>,
}

/// `UpdateChatThreadRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateThreadRequest {
    /// The new topic.
    pub topic: Option<String>,
}

/// `SendChatMessageRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendMessageRequest {
    /// Required, non-empty.
    pub content: Option<String>,
    /// Shown with the message.
    pub sender_display_name: Option<String>,
    /// `text` (default) or `html`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// String to string.
    pub metadata: Option<BTreeMap<String, String>>,
}

/// `UpdateChatMessageRequest` (a merge patch: a `null` metadata value removes the key).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateMessageRequest {
    /// New content.
    pub content: Option<String>,
    /// Metadata changes.
    pub metadata: Option<BTreeMap<String, Option<String>>>,
}

/// `AddChatParticipantsRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddParticipantsRequest {
    /// Required.
    pub participants: Option<Vec<ParticipantInput>>,
}

/// `SendReadReceiptRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadReceiptRequest {
    /// Required.
    pub chat_message_id: Option<String>,
}

/// `SendTypingNotificationRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TypingRequest {
    /// Shown with the notification.
    pub sender_display_name: Option<String>,
}

/// `ChatThreadProperties`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatThreadProperties {
    /// Thread id.
    pub id: String,
    /// Topic.
    pub topic: String,
    /// Creation time.
    pub created_on: String,
    /// The creator.
    pub created_by_communication_identifier: IdentifierModel,
    /// Deletion time (threads are removed on delete, so never set here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_on: Option<String>,
}

impl From<&ThreadRecord> for ChatThreadProperties {
    fn from(t: &ThreadRecord) -> Self {
        Self {
            id: t.id.clone(),
            topic: t.topic.clone(),
            created_on: iso(t.created_ms),
            created_by_communication_identifier: IdentifierModel::from_raw(&t.created_by),
            deleted_on: None,
        }
    }
}

/// `ChatThreadItem` of a thread list.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatThreadItem {
    /// Thread id.
    pub id: String,
    /// Topic.
    pub topic: String,
    /// Deletion time (never set: deleted threads are gone).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_on: Option<String>,
    /// Time of the last user message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_message_received_on: Option<String>,
}

impl From<&ThreadRecord> for ChatThreadItem {
    fn from(t: &ThreadRecord) -> Self {
        Self {
            id: t.id.clone(),
            topic: t.topic.clone(),
            deleted_on: None,
            last_message_received_on: t.last_message_ms.map(iso),
        }
    }
}

/// `ChatParticipant` in a response.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatParticipant {
    /// The participant.
    pub communication_identifier: IdentifierModel,
    /// Display name, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// History shared from this time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share_history_time: Option<String>,
}

impl From<&ParticipantRecord> for ChatParticipant {
    fn from(p: &ParticipantRecord) -> Self {
        Self {
            communication_identifier: IdentifierModel::from_raw(&p.user_id),
            display_name: p.display_name.clone(),
            share_history_time: p.share_history_ms.map(iso),
        }
    }
}

/// `ChatMessageContent`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessageContent {
    /// Text of a user message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Topic of a `topicUpdated` message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Participants of a `participantAdded` / `participantRemoved` message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participants: Option<Vec<ChatParticipant>>,
    /// Who caused a system message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initiator_communication_identifier: Option<IdentifierModel>,
}

/// `ChatMessage`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessage {
    /// Message id.
    pub id: String,
    /// `text`, `html`, `topicUpdated`, `participantAdded`, `participantRemoved`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Position in the thread, as a string.
    pub sequence_id: String,
    /// Last change in Unix ms, as a string.
    pub version: String,
    /// Content; absent once a message is deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<ChatMessageContent>,
    /// Sender's display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_display_name: Option<String>,
    /// Creation time.
    pub created_on: String,
    /// The sender (absent for system messages).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_communication_identifier: Option<IdentifierModel>,
    /// Deletion time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_on: Option<String>,
    /// Last edit time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edited_on: Option<String>,
    /// Metadata.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
}

impl From<&MessageRecord> for ChatMessage {
    fn from(m: &MessageRecord) -> Self {
        let has_content = m.body.is_some() || m.topic.is_some() || !m.participants.is_empty();
        let content = has_content.then(|| ChatMessageContent {
            message: m.body.clone(),
            topic: m.topic.clone(),
            participants: (!m.participants.is_empty())
                .then(|| m.participants.iter().map(ChatParticipant::from).collect()),
            initiator_communication_identifier: m
                .initiator
                .as_deref()
                .map(IdentifierModel::from_raw),
        });
        Self {
            id: m.id.to_string(),
            kind: m.kind.clone(),
            sequence_id: m.sequence_id.to_string(),
            version: m.version_ms.to_string(),
            content,
            sender_display_name: m.sender_display_name.clone(),
            created_on: iso(m.created_ms),
            sender_communication_identifier: m.sender_id.as_deref().map(IdentifierModel::from_raw),
            deleted_on: m.deleted_ms.map(iso),
            edited_on: m.edited_ms.map(iso),
            metadata: (!m.metadata.is_empty()).then(|| m.metadata.clone()),
        }
    }
}

/// `ChatMessageReadReceipt`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessageReadReceipt {
    /// The reader.
    pub sender_communication_identifier: IdentifierModel,
    /// The message read.
    pub chat_message_id: String,
    /// When.
    pub read_on: String,
}

impl From<&ReadReceiptRecord> for ChatMessageReadReceipt {
    fn from(r: &ReadReceiptRecord) -> Self {
        Self {
            sender_communication_identifier: IdentifierModel::from_raw(&r.user_id),
            chat_message_id: r.message_id.to_string(),
            read_on: iso(r.read_ms),
        }
    }
}

/// A page of a collection: `{"value":[…],"nextLink"?}`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    /// The items.
    pub value: Vec<T>,
    /// Where the next page is, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_link: Option<String>,
}

/// `ChatError` (in `invalidParticipants`; `target` is the participant's raw id).
#[derive(Debug, Clone, Serialize)]
pub struct ChatError {
    /// Code.
    pub code: String,
    /// Message.
    pub message: String,
    /// The participant's raw id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// `CreateChatThreadResult`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateThreadResult {
    /// The new thread.
    pub chat_thread: ChatThreadProperties,
    /// Participants that could not be added.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invalid_participants: Option<Vec<ChatError>>,
}

/// `AddChatParticipantsResult`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AddParticipantsResult {
    /// Participants that could not be added.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invalid_participants: Option<Vec<ChatError>>,
}

/// `SendChatMessageResult`.
#[derive(Debug, Clone, Serialize)]
pub struct SendMessageResult {
    /// The new message's id.
    pub id: String,
}
