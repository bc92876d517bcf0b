//! The chat clients (acs-wire.md §8, api-version 2024-03-07), acting as a user with a user
//! access token: threads, messages, participants, read receipts, typing, and the real-time
//! notification stream (`GET /chat/realtime`, see [`super::chat_events`]).

use std::collections::BTreeMap;

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::chat_events::{ChatEventStream, event_stream};
use super::connection_string::Endpoint;
use super::credential::{Credential, UserTokenCredential};
use super::error::{AcsError, RestError};
use super::identifier::CommunicationIdentifier;
use super::paging::Pager;
use super::pipeline::{Call, ClientOptions, Pipeline, encode, path_query};

/// The chat api-version.
pub const API_VERSION: &str = "2024-03-07";

/// A participant of a thread.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatParticipant {
    /// Who.
    pub communication_identifier: CommunicationIdentifier,
    /// Shown name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// From when history is shared with them, ISO-8601.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_history_time: Option<String>,
}

impl ChatParticipant {
    /// An ACS user with an optional display name.
    pub fn user(id: &str, display_name: Option<&str>) -> Self {
        Self {
            communication_identifier: CommunicationIdentifier::user(id),
            display_name: display_name.map(str::to_owned),
            share_history_time: None,
        }
    }
}

/// A thread's properties.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatThreadProperties {
    /// `19:…@thread.v2`.
    pub id: String,
    /// Topic.
    pub topic: String,
    /// Creation time.
    pub created_on: String,
    /// The creator.
    pub created_by_communication_identifier: CommunicationIdentifier,
    /// Deletion time, if deleted.
    #[serde(default)]
    pub deleted_on: Option<String>,
}

/// The answer to create thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateThreadResult {
    /// The thread.
    pub chat_thread: ChatThreadProperties,
    /// Participants that could not be added (`target` = their raw id).
    #[serde(default)]
    pub invalid_participants: Vec<AcsError>,
}

/// A thread in the list of the user's threads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatThreadItem {
    /// Thread id.
    pub id: String,
    /// Topic.
    pub topic: String,
    /// Deletion time, if deleted.
    #[serde(default)]
    pub deleted_on: Option<String>,
    /// Time of the latest message.
    #[serde(default)]
    pub last_message_received_on: Option<String>,
}

/// A message's content; which fields are set depends on the message type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessageContent {
    /// Text or HTML of a `text`/`html` message.
    #[serde(default)]
    pub message: Option<String>,
    /// New topic of a `topicUpdated` message.
    #[serde(default)]
    pub topic: Option<String>,
    /// Who joined or left, for `participantAdded`/`participantRemoved`.
    #[serde(default)]
    pub participants: Option<Vec<ChatParticipant>>,
    /// Who made the change of a system message.
    #[serde(default)]
    pub initiator_communication_identifier: Option<CommunicationIdentifier>,
}

/// A message of a thread (user or system message).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessage {
    /// Message id.
    pub id: String,
    /// `text`, `html`, `topicUpdated`, `participantAdded`, `participantRemoved`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Order in the thread (a number as a string).
    pub sequence_id: String,
    /// Version (a number as a string).
    pub version: String,
    /// Content (absent once deleted).
    #[serde(default)]
    pub content: Option<ChatMessageContent>,
    /// Sender's shown name.
    #[serde(default)]
    pub sender_display_name: Option<String>,
    /// Creation time.
    pub created_on: String,
    /// The sender (absent for system messages).
    #[serde(default)]
    pub sender_communication_identifier: Option<CommunicationIdentifier>,
    /// Deletion time.
    #[serde(default)]
    pub deleted_on: Option<String>,
    /// Last edit time.
    #[serde(default)]
    pub edited_on: Option<String>,
    /// String-to-string metadata.
    #[serde(default)]
    pub metadata: Option<BTreeMap<String, String>>,
}

/// A read receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatReadReceipt {
    /// Who read.
    pub sender_communication_identifier: CommunicationIdentifier,
    /// The newest message they read.
    pub chat_message_id: String,
    /// When.
    pub read_on: String,
}

/// What to send.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendChatMessage {
    /// Text or HTML.
    pub content: String,
    /// Sender's shown name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_display_name: Option<String>,
    /// `text` (default) or `html`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// String-to-string metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
}

impl SendChatMessage {
    /// A plain-text message.
    pub fn text(content: &str) -> Self {
        Self {
            content: content.to_owned(),
            ..Self::default()
        }
    }
}

#[derive(Deserialize)]
struct IdBody {
    id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AddParticipantsResult {
    #[serde(default)]
    invalid_participants: Vec<AcsError>,
}

/// A user's chat client: creates and lists threads, opens thread clients, and listens for
/// notifications.
#[derive(Clone)]
pub struct ChatClient {
    pipeline: Pipeline,
}

impl ChatClient {
    /// A client for `endpoint` acting as the user whose token `credential` holds.
    pub fn new(
        endpoint: Endpoint,
        credential: UserTokenCredential,
        options: &ClientOptions,
    ) -> Result<Self, RestError> {
        Ok(Self {
            pipeline: Pipeline::new(endpoint, Credential::UserToken(credential), options)?,
        })
    }

    /// Creates a thread with `topic`; the caller is always a participant. Carries a
    /// `repeatability-request-id`, so a retried create makes one thread.
    pub async fn create_thread(
        &self,
        topic: &str,
        participants: &[ChatParticipant],
    ) -> Result<CreateThreadResult, RestError> {
        #[derive(Serialize)]
        struct Body<'a> {
            topic: &'a str,
            participants: &'a [ChatParticipant],
        }
        let call = Call::new(
            "chat: create thread",
            Method::POST,
            path_query("/chat/threads", API_VERSION, &[]),
        )
        .json(&Body {
            topic,
            participants,
        })?
        .repeatable();
        self.pipeline.send_json(&call).await
    }

    /// The user's threads, latest activity first.
    pub fn list_threads(&self, max_page_size: Option<u32>) -> Pager<ChatThreadItem> {
        Pager::new(
            self.pipeline.clone(),
            "chat: list threads",
            API_VERSION,
            path_query(
                "/chat/threads",
                API_VERSION,
                &[("maxPageSize", max_page_size.map(|n| n.to_string()))],
            ),
        )
    }

    /// Deletes a thread.
    pub async fn delete_thread(&self, thread_id: &str) -> Result<(), RestError> {
        let call = Call::new(
            "chat: delete thread",
            Method::DELETE,
            thread_path(thread_id, ""),
        );
        self.pipeline.send(&call).await.map(drop)
    }

    /// A client for one thread.
    pub fn thread(&self, thread_id: &str) -> ChatThreadClient {
        ChatThreadClient {
            pipeline: self.pipeline.clone(),
            thread_id: thread_id.to_owned(),
        }
    }

    /// The user's real-time notifications (server-sent events), from now on; the stream ends
    /// when the connection does (reconnect and re-sync with `list_messages(start_time)`).
    pub async fn notifications(&self) -> Result<ChatEventStream, RestError> {
        let mut call = Call::new(
            "chat: real-time notifications",
            Method::GET,
            path_query("/chat/realtime", API_VERSION, &[]),
        );
        call.streaming = true;
        call.headers
            .push(("accept", "text/event-stream".to_owned()));
        let response = self.pipeline.execute(&call).await?;
        Ok(event_stream(response))
    }
}

/// `/chat/threads/{id}{rest}?api-version=…`.
fn thread_path(thread_id: &str, rest: &str) -> String {
    path_query(
        &format!("/chat/threads/{}{rest}", encode(thread_id)),
        API_VERSION,
        &[],
    )
}

/// One thread, as one participant.
#[derive(Clone)]
pub struct ChatThreadClient {
    pipeline: Pipeline,
    thread_id: String,
}

impl ChatThreadClient {
    /// The thread id.
    pub fn thread_id(&self) -> &str {
        &self.thread_id
    }

    fn path(&self, rest: &str) -> String {
        thread_path(&self.thread_id, rest)
    }

    /// A pager over `/chat/threads/{id}{rest}` with `maxPageSize` and `params`.
    fn pager<T: DeserializeOwned>(
        &self,
        what: &'static str,
        rest: &str,
        max_page_size: Option<u32>,
        params: &[(&str, Option<String>)],
    ) -> Pager<T> {
        let mut all = vec![("maxPageSize", max_page_size.map(|n| n.to_string()))];
        all.extend_from_slice(params);
        Pager::new(
            self.pipeline.clone(),
            what,
            API_VERSION,
            path_query(
                &format!("/chat/threads/{}{rest}", encode(&self.thread_id)),
                API_VERSION,
                &all,
            ),
        )
    }

    /// The thread's properties.
    pub async fn properties(&self) -> Result<ChatThreadProperties, RestError> {
        let call = Call::new("chat: get thread", Method::GET, self.path(""));
        self.pipeline.send_json(&call).await
    }

    /// Changes the topic.
    pub async fn update_topic(&self, topic: &str) -> Result<(), RestError> {
        let call = Call::new("chat: update topic", Method::PATCH, self.path(""))
            .json(&serde_json::json!({ "topic": topic }))?;
        self.pipeline.send(&call).await.map(drop)
    }

    /// Sends a message; returns its id. Carries repeatability headers so that a retried send
    /// is recognisable as the same request.
    pub async fn send_message(&self, message: &SendChatMessage) -> Result<String, RestError> {
        let call = Call::new("chat: send message", Method::POST, self.path("/messages"))
            .json(message)?
            .repeatable();
        let body: IdBody = self.pipeline.send_json(&call).await?;
        Ok(body.id)
    }

    /// One message.
    pub async fn get_message(&self, message_id: &str) -> Result<ChatMessage, RestError> {
        let call = Call::new(
            "chat: get message",
            Method::GET,
            self.path(&format!("/messages/{}", encode(message_id))),
        );
        self.pipeline.send_json(&call).await
    }

    /// The messages, newest first (system messages included); with `start_time` (RFC 3339),
    /// only those changed since.
    pub fn list_messages(
        &self,
        max_page_size: Option<u32>,
        start_time: Option<&str>,
    ) -> Pager<ChatMessage> {
        self.pager(
            "chat: list messages",
            "/messages",
            max_page_size,
            &[("startTime", start_time.map(str::to_owned))],
        )
    }

    /// Edits a message's content and merges `metadata` (a `None` value removes a key).
    pub async fn update_message(
        &self,
        message_id: &str,
        content: Option<&str>,
        metadata: Option<&BTreeMap<String, Option<String>>>,
    ) -> Result<(), RestError> {
        #[derive(Serialize)]
        struct Body<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            content: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            metadata: Option<&'a BTreeMap<String, Option<String>>>,
        }
        let call = Call::new(
            "chat: update message",
            Method::PATCH,
            self.path(&format!("/messages/{}", encode(message_id))),
        )
        .json(&Body { content, metadata })?;
        self.pipeline.send(&call).await.map(drop)
    }

    /// Deletes a message (it stays as a tombstone with `deletedOn`).
    pub async fn delete_message(&self, message_id: &str) -> Result<(), RestError> {
        let call = Call::new(
            "chat: delete message",
            Method::DELETE,
            self.path(&format!("/messages/{}", encode(message_id))),
        );
        self.pipeline.send(&call).await.map(drop)
    }

    /// The participants.
    pub fn list_participants(&self, max_page_size: Option<u32>) -> Pager<ChatParticipant> {
        self.pager(
            "chat: list participants",
            "/participants",
            max_page_size,
            &[],
        )
    }

    /// Adds participants; returns those that could not be added.
    pub async fn add_participants(
        &self,
        participants: &[ChatParticipant],
    ) -> Result<Vec<AcsError>, RestError> {
        let call = Call::new(
            "chat: add participants",
            Method::POST,
            self.path("/participants/:add"),
        )
        .json(&serde_json::json!({ "participants": participants }))?;
        let result: AddParticipantsResult = match self.pipeline.send(&call).await? {
            answer if answer.body.is_empty() => AddParticipantsResult {
                invalid_participants: Vec::new(),
            },
            answer => answer.json(call.what)?,
        };
        Ok(result.invalid_participants)
    }

    /// Removes a participant (removing someone absent succeeds).
    pub async fn remove_participant(
        &self,
        participant: &CommunicationIdentifier,
    ) -> Result<(), RestError> {
        let call = Call::new(
            "chat: remove participant",
            Method::POST,
            self.path("/participants/:remove"),
        )
        .json(participant)?;
        self.pipeline.send(&call).await.map(drop)
    }

    /// Marks `message_id` (and everything before it) read.
    pub async fn send_read_receipt(&self, message_id: &str) -> Result<(), RestError> {
        let call = Call::new(
            "chat: send read receipt",
            Method::POST,
            self.path("/readReceipts"),
        )
        .json(&serde_json::json!({ "chatMessageId": message_id }))?;
        self.pipeline.send(&call).await.map(drop)
    }

    /// Every participant's newest read receipt.
    pub fn list_read_receipts(&self, max_page_size: Option<u32>) -> Pager<ChatReadReceipt> {
        self.pager(
            "chat: list read receipts",
            "/readReceipts",
            max_page_size,
            &[],
        )
    }

    /// Tells the others the user is typing.
    pub async fn send_typing(&self, sender_display_name: Option<&str>) -> Result<(), RestError> {
        let body = match sender_display_name {
            Some(name) => serde_json::json!({ "senderDisplayName": name }),
            None => serde_json::json!({}),
        };
        let call =
            Call::new("chat: send typing", Method::POST, self.path("/typing")).json(&body)?;
        self.pipeline.send(&call).await.map(drop)
    }
}
