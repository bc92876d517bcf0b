//! Real-time notifications: each connected user has a bounded queue, fed after a chat
//! operation commits. `GET /chat/realtime` (routes::chat::realtime) drains it as server-sent
//! events. Event names and fields follow `@azure/communication-chat`'s real-time events
//! (`chatMessageReceived`, `typingIndicatorReceived`, …); identifiers and participants use the
//! REST models (`CommunicationIdentifierModel`, `ChatParticipant`).
//!
//! Delivery is best effort and in-process: a client too slow to keep up (queue full) is
//! disconnected and re-syncs over REST after reconnecting; durable delivery is the outbox's job.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::iso;
use super::wire::ChatParticipant;
use crate::identifier::IdentifierModel;
use crate::storage::chat::{Changed, MessageRecord, ParticipantRecord, ReadReceiptRecord};

/// Notifications queued per connection before it counts as too slow.
pub const QUEUE_LEN: usize = 256;

/// One notification: an SSE event name and its data (the recipient is added per connection).
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// Event id (a uuid).
    pub id: String,
    /// Event name, e.g. `chatMessageReceived`.
    pub name: &'static str,
    /// Event data without `recipient`.
    pub data: Value,
}

impl Notification {
    fn new(name: &'static str, data: Value) -> Arc<Self> {
        Arc::new(Self {
            id: uuid::Uuid::new_v4().to_string(),
            name,
            data,
        })
    }

    /// The data as `recipient` receives it.
    pub fn data_for(&self, recipient: &str) -> Value {
        let mut d = self.data.clone();
        d["recipient"] = json!(IdentifierModel::from_raw(recipient));
        d
    }
}

#[derive(Default)]
struct Connections {
    closed: bool,
    by_user: HashMap<String, Vec<mpsc::Sender<Arc<Notification>>>>,
}

/// The connected users and their queues.
#[derive(Default)]
pub struct ChatHub {
    inner: Mutex<Connections>,
}

impl std::fmt::Debug for ChatHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChatHub")
    }
}

impl ChatHub {
    /// A queue of `user`'s notifications; `None` once the hub is closed (shutting down).
    pub fn subscribe(&self, user: &str) -> Option<mpsc::Receiver<Arc<Notification>>> {
        let mut inner = self.inner.lock().ok()?;
        if inner.closed {
            return None;
        }
        let (tx, rx) = mpsc::channel(QUEUE_LEN);
        inner.by_user.entry(user.to_owned()).or_default().push(tx);
        Some(rx)
    }

    /// Queues `notification` for every connection of every user in `audience`. Connections
    /// that are gone or full are dropped (a full one sees its stream end).
    pub fn publish(&self, audience: &[String], notification: Arc<Notification>) {
        self.publish_with(audience, || notification);
    }

    /// As [`ChatHub::publish`], making the notification only if one of `audience` is
    /// connected (most requests have no listener, and building it costs more than the check).
    pub fn publish_with(&self, audience: &[String], make: impl FnOnce() -> Arc<Notification>) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        let mut make = Some(make);
        let mut notification = None;
        for user in audience {
            let Some(senders) = inner.by_user.get_mut(user) else {
                continue;
            };
            if notification.is_none() {
                notification = make.take().map(|m| m());
            }
            let Some(notification) = &notification else {
                continue;
            };
            senders.retain(|tx| tx.try_send(Arc::clone(notification)).is_ok());
            if senders.is_empty() {
                inner.by_user.remove(user);
            }
        }
    }

    /// Number of open connections of `user` (as far as the hub knows).
    pub fn connections(&self, user: &str) -> usize {
        self.inner.lock().map_or(0, |inner| {
            inner
                .by_user
                .get(user)
                .map_or(0, |s| s.iter().filter(|tx| !tx.is_closed()).count())
        })
    }

    /// Ends every stream and refuses new ones (graceful shutdown waits for open streams).
    pub fn close(&self) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.closed = true;
            inner.by_user.clear();
        }
    }
}

fn id(raw: &str) -> Value {
    json!(IdentifierModel::from_raw(raw))
}

fn by(raw: &str) -> Value {
    json!({ "communicationIdentifier": id(raw) })
}

fn participants(list: &[ParticipantRecord]) -> Value {
    json!(list.iter().map(ChatParticipant::from).collect::<Vec<_>>())
}

fn message_base(m: &MessageRecord) -> Value {
    json!({
        "threadId": m.thread_id,
        "sender": m.sender_id.as_deref().map(id),
        "senderDisplayName": m.sender_display_name.clone().unwrap_or_default(),
        "id": m.id.to_string(),
        "createdOn": iso(m.created_ms),
        "version": m.version_ms.to_string(),
        "type": m.kind,
    })
}

/// `chatThreadCreated`.
pub fn thread_created(changed: &Changed<Vec<ParticipantRecord>>) -> Arc<Notification> {
    let t = &changed.thread;
    Notification::new(
        "chatThreadCreated",
        json!({
            "threadId": t.id,
            "version": t.version_ms.to_string(),
            "createdOn": iso(t.created_ms),
            "properties": { "topic": t.topic },
            "participants": participants(&changed.value),
            "createdBy": by(&t.created_by),
        }),
    )
}

/// `chatThreadPropertiesUpdated`.
pub fn thread_updated(changed: &Changed<MessageRecord>) -> Arc<Notification> {
    let t = &changed.thread;
    Notification::new(
        "chatThreadPropertiesUpdated",
        json!({
            "threadId": t.id,
            "version": t.version_ms.to_string(),
            "properties": { "topic": t.topic },
            "updatedOn": iso(t.version_ms),
            "updatedBy": by(changed.value.initiator.as_deref().unwrap_or_default()),
        }),
    )
}

/// `chatThreadDeleted`.
pub fn thread_deleted(changed: &Changed<()>, deleted_by: &str) -> Arc<Notification> {
    let t = &changed.thread;
    Notification::new(
        "chatThreadDeleted",
        json!({
            "threadId": t.id,
            "version": t.version_ms.to_string(),
            "deletedOn": iso(t.version_ms),
            "deletedBy": by(deleted_by),
        }),
    )
}

/// `chatMessageReceived`.
pub fn message_received(m: &MessageRecord) -> Arc<Notification> {
    let mut d = message_base(m);
    d["message"] = json!(m.body.clone().unwrap_or_default());
    d["metadata"] = json!(m.metadata);
    Notification::new("chatMessageReceived", d)
}

/// `chatMessageEdited`.
pub fn message_edited(m: &MessageRecord) -> Arc<Notification> {
    let mut d = message_base(m);
    d["message"] = json!(m.body.clone().unwrap_or_default());
    d["metadata"] = json!(m.metadata);
    d["editedOn"] = json!(m.edited_ms.map(iso));
    Notification::new("chatMessageEdited", d)
}

/// `chatMessageDeleted`.
pub fn message_deleted(m: &MessageRecord) -> Arc<Notification> {
    let mut d = message_base(m);
    d["deletedOn"] = json!(m.deleted_ms.map(iso));
    Notification::new("chatMessageDeleted", d)
}

/// `participantsAdded` or `participantsRemoved`, from the system message.
pub fn membership_changed(changed: &Changed<MessageRecord>, added: bool) -> Arc<Notification> {
    let m = &changed.value;
    let t = &changed.thread;
    let initiator = by(m.initiator.as_deref().unwrap_or_default());
    let (name, data) = if added {
        (
            "participantsAdded",
            json!({
                "threadId": t.id,
                "version": t.version_ms.to_string(),
                "addedOn": iso(m.created_ms),
                "participantsAdded": participants(&m.participants),
                "addedBy": initiator,
            }),
        )
    } else {
        (
            "participantsRemoved",
            json!({
                "threadId": t.id,
                "version": t.version_ms.to_string(),
                "removedOn": iso(m.created_ms),
                "participantsRemoved": participants(&m.participants),
                "removedBy": initiator,
            }),
        )
    };
    Notification::new(name, data)
}

/// `readReceiptReceived`.
pub fn read_receipt(thread_id: &str, r: &ReadReceiptRecord) -> Arc<Notification> {
    Notification::new(
        "readReceiptReceived",
        json!({
            "threadId": thread_id,
            "sender": id(&r.user_id),
            "senderDisplayName": "",
            "chatMessageId": r.message_id.to_string(),
            "readOn": iso(r.read_ms),
        }),
    )
}

/// `typingIndicatorReceived`.
pub fn typing(
    thread_id: &str,
    sender: &str,
    sender_display_name: Option<&str>,
    now_ms: i64,
) -> Arc<Notification> {
    Notification::new(
        "typingIndicatorReceived",
        json!({
            "threadId": thread_id,
            "sender": id(sender),
            "senderDisplayName": sender_display_name.unwrap_or_default(),
            "version": now_ms.to_string(),
            "receivedOn": iso(now_ms),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn publish_reaches_only_the_audience_and_close_ends_streams() {
        let hub = ChatHub::default();
        let mut a = hub.subscribe("8:acs:a").expect("open");
        let mut b = hub.subscribe("8:acs:b").expect("open");
        let n = typing("t", "8:acs:a", None, 1_000);
        hub.publish(&["8:acs:a".to_owned()], Arc::clone(&n));
        assert_eq!(
            a.recv().await.expect("queued").name,
            "typingIndicatorReceived"
        );
        assert!(b.try_recv().is_err());
        assert_eq!(n.data_for("8:acs:b")["recipient"]["rawId"], "8:acs:b");
        hub.close();
        assert!(a.recv().await.is_none() && b.recv().await.is_none());
        assert!(hub.subscribe("8:acs:a").is_none());
    }

    #[tokio::test]
    async fn a_full_queue_is_dropped() {
        let hub = ChatHub::default();
        let mut slow = hub.subscribe("8:acs:s").expect("open");
        let audience = ["8:acs:s".to_owned()];
        for i in 0..=QUEUE_LEN {
            hub.publish(
                &audience,
                typing("t", "8:acs:x", None, i64::try_from(i).unwrap_or(0)),
            );
        }
        assert_eq!(hub.connections("8:acs:s"), 0);
        let mut n = 0;
        while slow.recv().await.is_some() {
            n += 1;
        }
        assert_eq!(
            n, QUEUE_LEN,
            "the queued ones are still read, then the stream ends"
        );
    }
}
