//! The Event Grid events chat operations write to the outbox (acs-wire.md §10): the thread-level
//! event once, and the per-user event (`…WithUser`, `…PerUser`, or the plain message events)
//! once per recipient. Data fields follow the Event Grid system-event models; subjects follow
//! ACS's documented patterns (not verified against a live resource).

use serde_json::{Value, json};

use super::iso;
use crate::identifier::IdentifierModel;
use crate::storage::chat::{Changed, MessageRecord, ParticipantRecord, kind};
use crate::storage::outbox::OutboxEvent;

const PREFIX: &str = "Microsoft.Communication.";

fn id(raw: &str) -> Value {
    json!(IdentifierModel::from_raw(raw))
}

fn participant(p: &ParticipantRecord) -> Value {
    let mut v = json!({ "participantCommunicationIdentifier": id(&p.user_id) });
    if let Some(name) = &p.display_name {
        v["displayName"] = json!(name);
    }
    v
}

/// Event Grid names message types `Text` / `Html`.
fn message_type(kind_name: &str) -> &'static str {
    if kind_name == kind::HTML {
        "Html"
    } else {
        "Text"
    }
}

/// The thread-level event and one per recipient (the recipient's id added to `data`).
fn fan_out(
    in_thread_type: &str,
    per_user_type: &str,
    subject: &str,
    data: &Value,
    recipients: &[&str],
    event_ms: i64,
) -> Vec<OutboxEvent> {
    let mut out = Vec::with_capacity(recipients.len() + 1);
    out.push(OutboxEvent::new(
        format!("{PREFIX}{in_thread_type}"),
        subject,
        data.clone(),
        event_ms,
    ));
    for r in recipients {
        let mut d = data.clone();
        d["recipientCommunicationIdentifier"] = id(r);
        out.push(OutboxEvent::new(
            format!("{PREFIX}{per_user_type}"),
            format!("{subject}/recipient/{r}"),
            d,
            event_ms,
        ));
    }
    out
}

fn audience(changed: &Changed<impl Sized>) -> Vec<&str> {
    changed.audience.iter().map(String::as_str).collect()
}

/// `ChatThreadCreated` and `ChatThreadCreatedWithUser` for every participant.
pub fn thread_created(
    changed: &Changed<Vec<ParticipantRecord>>,
    transaction_id: &str,
) -> Vec<OutboxEvent> {
    let t = &changed.thread;
    let data = json!({
        "transactionId": transaction_id,
        "threadId": t.id,
        "createTime": iso(t.created_ms),
        "version": t.version_ms,
        "createdByCommunicationIdentifier": id(&t.created_by),
        "properties": { "topic": t.topic },
        "participants": changed.value.iter().map(participant).collect::<Vec<_>>(),
    });
    fan_out(
        "ChatThreadCreated",
        "ChatThreadCreatedWithUser",
        &format!("thread/{}/createdBy/{}", t.id, t.created_by),
        &data,
        &audience(changed),
        t.created_ms,
    )
}

/// The common data of message events.
fn message_data(m: &MessageRecord, transaction_id: &str, with_body: bool) -> Value {
    let mut data = json!({
        "transactionId": transaction_id,
        "threadId": m.thread_id,
        "messageId": m.id.to_string(),
        "senderCommunicationIdentifier": m.sender_id.as_deref().map(id),
        "senderDisplayName": m.sender_display_name.clone().unwrap_or_default(),
        "composeTime": iso(m.created_ms),
        "type": message_type(&m.kind),
        "version": m.version_ms,
    });
    if with_body {
        data["messageBody"] = json!(m.body.clone().unwrap_or_default());
        data["metadata"] = json!(m.metadata);
    }
    data
}

/// Recipients of a message event: everyone but the sender.
fn recipients(changed: &Changed<MessageRecord>) -> Vec<&str> {
    let sender = changed.value.sender_id.as_deref();
    changed
        .audience
        .iter()
        .map(String::as_str)
        .filter(|r| Some(*r) != sender)
        .collect()
}

fn message_subject(m: &MessageRecord) -> String {
    format!(
        "thread/{}/sender/{}",
        m.thread_id,
        m.sender_id.as_deref().unwrap_or_default()
    )
}

/// `ChatMessageReceivedInThread` and `ChatMessageReceived` per recipient.
pub fn message_received(
    changed: &Changed<MessageRecord>,
    transaction_id: &str,
) -> Vec<OutboxEvent> {
    let m = &changed.value;
    fan_out(
        "ChatMessageReceivedInThread",
        "ChatMessageReceived",
        &message_subject(m),
        &message_data(m, transaction_id, true),
        &recipients(changed),
        m.created_ms,
    )
}

/// `ChatMessageEditedInThread` and `ChatMessageEdited` per recipient.
pub fn message_edited(changed: &Changed<MessageRecord>, transaction_id: &str) -> Vec<OutboxEvent> {
    let m = &changed.value;
    let mut data = message_data(m, transaction_id, true);
    data["editTime"] = json!(iso(m.version_ms));
    fan_out(
        "ChatMessageEditedInThread",
        "ChatMessageEdited",
        &message_subject(m),
        &data,
        &recipients(changed),
        m.version_ms,
    )
}

/// `ChatMessageDeletedInThread` and `ChatMessageDeleted` per recipient.
pub fn message_deleted(changed: &Changed<MessageRecord>, transaction_id: &str) -> Vec<OutboxEvent> {
    let m = &changed.value;
    let mut data = message_data(m, transaction_id, false);
    data["deleteTime"] = json!(iso(m.version_ms));
    fan_out(
        "ChatMessageDeletedInThread",
        "ChatMessageDeleted",
        &message_subject(m),
        &data,
        &recipients(changed),
        m.version_ms,
    )
}

/// `ChatThreadParticipantAdded` / `ChatParticipantAddedToThreadWithUser` (added), or the
/// `Removed` pair, for each participant of the system message.
pub fn membership_changed(
    changed: &Changed<MessageRecord>,
    transaction_id: &str,
    added: bool,
) -> Vec<OutboxEvent> {
    let m = &changed.value;
    let t = &changed.thread;
    let actor = m.initiator.as_deref().unwrap_or_default();
    let (in_thread, per_user, by, what, path) = if added {
        (
            "ChatThreadParticipantAdded",
            "ChatParticipantAddedToThreadWithUser",
            "addedByCommunicationIdentifier",
            "participantAdded",
            "participantAdded",
        )
    } else {
        (
            "ChatThreadParticipantRemoved",
            "ChatParticipantRemovedFromThreadWithUser",
            "removedByCommunicationIdentifier",
            "participantRemoved",
            "participantRemoved",
        )
    };
    let mut out = Vec::new();
    for p in &m.participants {
        let data = json!({
            "transactionId": transaction_id,
            "threadId": t.id,
            "time": iso(m.created_ms),
            "createTime": iso(t.created_ms),
            "version": t.version_ms,
            (by): id(actor),
            (what): participant(p),
        });
        out.extend(fan_out(
            in_thread,
            per_user,
            &format!("thread/{}/{path}/{}", t.id, p.user_id),
            &data,
            &audience(changed),
            m.created_ms,
        ));
    }
    out
}

/// `ChatThreadPropertiesUpdated` and `ChatThreadPropertiesUpdatedPerUser` for every participant.
pub fn properties_updated(
    changed: &Changed<MessageRecord>,
    transaction_id: &str,
) -> Vec<OutboxEvent> {
    let t = &changed.thread;
    let actor = changed.value.initiator.as_deref().unwrap_or_default();
    let data = json!({
        "transactionId": transaction_id,
        "threadId": t.id,
        "createTime": iso(t.created_ms),
        "version": t.version_ms,
        "editedByCommunicationIdentifier": id(actor),
        "editTime": iso(t.version_ms),
        "properties": { "topic": t.topic },
    });
    fan_out(
        "ChatThreadPropertiesUpdated",
        "ChatThreadPropertiesUpdatedPerUser",
        &format!("thread/{}/editedBy/{actor}", t.id),
        &data,
        &audience(changed),
        t.version_ms,
    )
}

/// `ChatThreadDeleted` and `ChatThreadWithUserDeleted` for every participant it had.
pub fn thread_deleted(
    changed: &Changed<()>,
    transaction_id: &str,
    deleted_by: &str,
) -> Vec<OutboxEvent> {
    let t = &changed.thread;
    let data = json!({
        "transactionId": transaction_id,
        "threadId": t.id,
        "createTime": iso(t.created_ms),
        "version": t.version_ms,
        "deletedByCommunicationIdentifier": id(deleted_by),
        "deleteTime": iso(t.version_ms),
    });
    fan_out(
        "ChatThreadDeleted",
        "ChatThreadWithUserDeleted",
        &format!("thread/{}/deletedBy/{deleted_by}", t.id),
        &data,
        &audience(changed),
        t.version_ms,
    )
}
