//! Chat real-time notifications: the local service's `GET /chat/realtime` server-sent events
//! (names and fields of `@azure/communication-chat`'s real-time events), parsed into typed
//! [`ChatEvent`]s.

use std::collections::{BTreeMap, VecDeque};
use std::pin::Pin;

use futures_util::Stream;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::chat::ChatParticipant;
use super::error::RestError;
use super::identifier::CommunicationIdentifier;
pub use super::sse::{SseEvent, SseParser};

const WHAT: &str = "chat: real-time notifications";

/// The service writes a keep-alive comment every 15 s: three missed ones mean the connection
/// is gone even if TCP has not noticed, and the stream ends with an error.
const IDLE_LIMIT: std::time::Duration = std::time::Duration::from_secs(45);

/// The notifications of one connection; ends when the connection does.
pub type ChatEventStream = Pin<Box<dyn Stream<Item = Result<ChatEvent, RestError>> + Send>>;

/// `{"communicationIdentifier": …}`: who made a change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangedBy {
    /// Who.
    pub communication_identifier: CommunicationIdentifier,
}

/// A message was received, edited or deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ChatMessageEvent {
    /// Thread id.
    pub thread_id: String,
    /// Sender.
    pub sender: Option<CommunicationIdentifier>,
    /// Sender's shown name.
    pub sender_display_name: String,
    /// The user this copy is for.
    pub recipient: Option<CommunicationIdentifier>,
    /// Message id.
    pub id: String,
    /// Creation time.
    pub created_on: String,
    /// Version (Unix ms as a string).
    pub version: String,
    /// `text` or `html`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Content (received and edited).
    pub message: Option<String>,
    /// Metadata (received and edited).
    pub metadata: Option<BTreeMap<String, String>>,
    /// Edit time (edited).
    pub edited_on: Option<String>,
    /// Deletion time (deleted).
    pub deleted_on: Option<String>,
}

/// `{"topic"}` of a thread.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadPropertiesModel {
    /// Topic.
    pub topic: String,
}

/// A thread was created, renamed or deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ChatThreadEvent {
    /// Thread id.
    pub thread_id: String,
    /// Version.
    pub version: String,
    /// The user this copy is for.
    pub recipient: Option<CommunicationIdentifier>,
    /// Topic (created, renamed).
    pub properties: Option<ThreadPropertiesModel>,
    /// Participants (created).
    pub participants: Option<Vec<ChatParticipant>>,
    /// Creation time and creator (created).
    pub created_on: Option<String>,
    /// The creator (created).
    pub created_by: Option<ChangedBy>,
    /// Rename time (renamed).
    pub updated_on: Option<String>,
    /// Who renamed (renamed).
    pub updated_by: Option<ChangedBy>,
    /// Deletion time (deleted).
    pub deleted_on: Option<String>,
    /// Who deleted (deleted).
    pub deleted_by: Option<ChangedBy>,
}

/// Participants were added or removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ParticipantsEvent {
    /// Thread id.
    pub thread_id: String,
    /// Version.
    pub version: String,
    /// The user this copy is for.
    pub recipient: Option<CommunicationIdentifier>,
    /// Time (added).
    pub added_on: Option<String>,
    /// Who joined (added).
    pub participants_added: Option<Vec<ChatParticipant>>,
    /// Who added them (added).
    pub added_by: Option<ChangedBy>,
    /// Time (removed).
    pub removed_on: Option<String>,
    /// Who left (removed).
    pub participants_removed: Option<Vec<ChatParticipant>>,
    /// Who removed them (removed).
    pub removed_by: Option<ChangedBy>,
}

/// A read receipt was sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ReadReceiptEvent {
    /// Thread id.
    pub thread_id: String,
    /// Who read.
    pub sender: Option<CommunicationIdentifier>,
    /// Their shown name.
    pub sender_display_name: String,
    /// The user this copy is for.
    pub recipient: Option<CommunicationIdentifier>,
    /// The message read.
    pub chat_message_id: String,
    /// When.
    pub read_on: String,
}

/// Someone is typing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TypingEvent {
    /// Thread id.
    pub thread_id: String,
    /// Who.
    pub sender: Option<CommunicationIdentifier>,
    /// Their shown name.
    pub sender_display_name: String,
    /// The user this copy is for.
    pub recipient: Option<CommunicationIdentifier>,
    /// Version.
    pub version: String,
    /// When.
    pub received_on: String,
}

/// One real-time notification.
#[derive(Debug, Clone, PartialEq)]
pub enum ChatEvent {
    /// `realTimeNotificationConnected`: the subscription is live.
    Connected,
    /// `chatThreadCreated`
    ThreadCreated(ChatThreadEvent),
    /// `chatThreadPropertiesUpdated`
    ThreadPropertiesUpdated(ChatThreadEvent),
    /// `chatThreadDeleted`
    ThreadDeleted(ChatThreadEvent),
    /// `chatMessageReceived`
    MessageReceived(ChatMessageEvent),
    /// `chatMessageEdited`
    MessageEdited(ChatMessageEvent),
    /// `chatMessageDeleted`
    MessageDeleted(ChatMessageEvent),
    /// `participantsAdded`
    ParticipantsAdded(ParticipantsEvent),
    /// `participantsRemoved`
    ParticipantsRemoved(ParticipantsEvent),
    /// `readReceiptReceived`
    ReadReceiptReceived(ReadReceiptEvent),
    /// `typingIndicatorReceived`
    TypingIndicatorReceived(TypingEvent),
    /// An event this version does not know, kept as JSON.
    Other {
        /// The SSE event name.
        name: String,
        /// Its data.
        data: serde_json::Value,
    },
}

impl ChatEvent {
    /// Types one server-sent event by its name.
    pub fn parse(name: &str, data: &str) -> Result<Self, RestError> {
        fn typed<T: DeserializeOwned>(name: &str, data: &str) -> Result<T, RestError> {
            serde_json::from_str(data)
                .map_err(|e| RestError::protocol(WHAT, format!("{name} data: {e}: {data}")))
        }
        Ok(match name {
            "realTimeNotificationConnected" => Self::Connected,
            "chatThreadCreated" => Self::ThreadCreated(typed(name, data)?),
            "chatThreadPropertiesUpdated" => Self::ThreadPropertiesUpdated(typed(name, data)?),
            "chatThreadDeleted" => Self::ThreadDeleted(typed(name, data)?),
            "chatMessageReceived" => Self::MessageReceived(typed(name, data)?),
            "chatMessageEdited" => Self::MessageEdited(typed(name, data)?),
            "chatMessageDeleted" => Self::MessageDeleted(typed(name, data)?),
            "participantsAdded" => Self::ParticipantsAdded(typed(name, data)?),
            "participantsRemoved" => Self::ParticipantsRemoved(typed(name, data)?),
            "readReceiptReceived" => Self::ReadReceiptReceived(typed(name, data)?),
            "typingIndicatorReceived" => Self::TypingIndicatorReceived(typed(name, data)?),
            _ => Self::Other {
                name: name.to_owned(),
                data: typed(name, data)?,
            },
        })
    }
}

struct StreamState {
    response: reqwest::Response,
    parser: SseParser,
    ready: VecDeque<SseEvent>,
}

/// The typed events of an open `text/event-stream` answer.
pub(crate) fn event_stream(response: reqwest::Response) -> ChatEventStream {
    let state = StreamState {
        response,
        parser: SseParser::default(),
        ready: VecDeque::new(),
    };
    Box::pin(futures_util::stream::unfold(
        Some(state),
        |state| async move {
            let mut state = state?;
            loop {
                if let Some(event) = state.ready.pop_front() {
                    let item = ChatEvent::parse(&event.name, &event.data);
                    return Some((item, Some(state)));
                }
                let Ok(chunk) = tokio::time::timeout(IDLE_LIMIT, state.response.chunk()).await
                else {
                    let detail =
                        format!("nothing received for {IDLE_LIMIT:?}, not even a keep-alive");
                    return Some((Err(RestError::protocol(WHAT, detail)), None));
                };
                match chunk {
                    Ok(Some(bytes)) => {
                        let events = state.parser.push(&bytes);
                        state.ready.extend(events);
                    }
                    Ok(None) => return None,
                    // The error ends the stream: the connection is gone.
                    Err(source) => {
                        let error = RestError::Transport {
                            what: WHAT.to_owned(),
                            source,
                        };
                        return Some((Err(error), None));
                    }
                }
            }
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_events_split_anywhere() {
        let text = ": keep-alive\r\nevent: realTimeNotificationConnected\r\ndata: {}\r\n\r\n\
                    event: typingIndicatorReceived\nid: 1\ndata: {\"threadId\":\"t\",\n\
                    data: \"senderDisplayName\":\"A\"}\n\nevent: nodata\n\n";
        // Byte by byte, so every split point is exercised.
        let mut parser = SseParser::default();
        let events: Vec<SseEvent> = text
            .as_bytes()
            .iter()
            .flat_map(|b| parser.push(&[*b]))
            .collect();
        assert_eq!(events.len(), 2, "{events:?}");
        assert_eq!(
            ChatEvent::parse(&events[0].name, &events[0].data).expect("connected"),
            ChatEvent::Connected
        );
        match ChatEvent::parse(&events[1].name, &events[1].data).expect("typing") {
            ChatEvent::TypingIndicatorReceived(t) => {
                assert_eq!(
                    (t.thread_id.as_str(), t.sender_display_name.as_str()),
                    ("t", "A")
                );
            }
            other => panic!("not typing: {other:?}"),
        }
    }

    #[test]
    fn unknown_events_are_kept_and_bad_data_is_an_error() {
        assert!(matches!(
            ChatEvent::parse("somethingNew", r#"{"a":1}"#),
            Ok(ChatEvent::Other { .. })
        ));
        let err = ChatEvent::parse("chatMessageReceived", "not json").expect_err("bad");
        assert!(err.to_string().contains("chatMessageReceived"), "{err}");
    }
}
