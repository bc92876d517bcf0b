//! `mc_chat_client`: chat as a user (threads, messages) and its real-time notifications as
//! engine events (`MC_EVENT_CHAT_*`).

use std::ffi::c_char;
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use media_core::rest::chat::ChatMessage;
use media_core::rest::chat_events::ChatMessageEvent;
use media_core::rest::{
    ChatClient, ChatEvent, ChatEventStream, ChatParticipant, CommunicationIdentifier,
    SendChatMessage,
};

use super::{
    Client, Row, free, mc_client_options, out_rows, register_out, rows_count, rows_text, str_list,
    user,
};
use crate::boundary::{guard, opt_str_arg, out_ptr, out_string, str_arg};
use crate::engine::mc_engine;
use crate::events::{self, Event, EventQueue, c_text};
use crate::handles;
use crate::status::{Result, mc_status};

/// A chat client (opaque), acting as one user.
pub struct mc_chat_client {
    _private: [u8; 0],
}

/// The messages of a thread (opaque), newest first: `mc_chat_messages_count` and the
/// `mc_chat_messages_*` accessors by index.
pub struct mc_chat_messages {
    _private: [u8; 0],
}

/// The chat client behind a handle, with its notification forwarder when started.
pub struct ChatObject {
    client: Client<ChatClient>,
    forwarder: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Drop for ChatObject {
    fn drop(&mut self) {
        if let Some(task) = self
            .forwarder
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            task.abort();
        }
    }
}

fn chat(handle: *mut mc_chat_client) -> Result<Arc<ChatObject>> {
    handles::get::<ChatObject, _>(handle, "client")
}

/// Makes a chat client acting as the user whose access token (`chat` scope) is
/// `user_token`, at `endpoint` (`https://…/`). The token is used until it expires; then make
/// a new client with a new token. `options` NULL means the defaults.
///
/// # Safety
/// `engine` must be NULL or a handle; `endpoint` and `user_token` NULL or NUL-terminated
/// strings; `options` NULL or an `mc_client_options`; `client` writable memory for a handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_chat_client_new(
    engine: *mut mc_engine,
    endpoint: *const c_char,
    user_token: *const c_char,
    options: *const mc_client_options,
    client: *mut *mut mc_chat_client,
) -> mc_status {
    guard(|| {
        // SAFETY: forwarded contract.
        unsafe {
            register_out(client, || {
                Ok(ChatObject {
                    client: user(engine, endpoint, user_token, options, ChatClient::new)?,
                    forwarder: Mutex::new(None),
                })
            })
        }
    })
}

/// Stops the client's notifications and frees it. NULL is a no-op; may be called from the
/// event callback.
///
/// # Safety
/// `client` must be NULL or a handle from `mc_chat_client_new`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_chat_client_free(client: *mut mc_chat_client) {
    free::<ChatObject, _>(client, "client");
}

/// Creates a thread with `topic` and the users `participant_ids` (`8:acs:…`,
/// `participant_count` of them; the caller is always one). Blocks until the service answers.
/// `thread_id` is freed with `mc_string_free`; `invalid_participants` (NULL: not wanted)
/// gets how many of the participants the service could not add.
///
/// # Safety
/// `client` must be NULL or a handle; `topic` NULL or a NUL-terminated string;
/// `participant_ids` NULL or `participant_count` NUL-terminated strings; `thread_id`
/// writable memory for a pointer; `invalid_participants` NULL or writable for a `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_chat_create_thread(
    client: *mut mc_chat_client,
    topic: *const c_char,
    participant_ids: *const *const c_char,
    participant_count: usize,
    thread_id: *mut *mut c_char,
    invalid_participants: *mut usize,
) -> mc_status {
    guard(|| {
        let c = chat(client)?;
        // SAFETY: forwarded contract.
        let (topic, ids, out) = unsafe {
            (
                str_arg(topic, "topic")?,
                str_list(participant_ids, participant_count, "participant_ids")?,
                out_ptr(thread_id, "thread_id")?,
            )
        };
        *out = std::ptr::null_mut();
        let participants: Vec<ChatParticipant> = ids
            .iter()
            .map(|id| ChatParticipant::user(id, None))
            .collect();
        let made = c
            .client
            .run(c.client.inner.create_thread(topic, &participants))?;
        // SAFETY: forwarded contract (NULL allowed).
        if let Some(invalid) = unsafe { invalid_participants.as_mut() } {
            *invalid = made.invalid_participants.len();
        }
        out_string(out, &made.chat_thread.id)
    })
}

/// Sends a text message to `thread_id` with an optional `sender_display_name` (NULL: none).
/// Blocks until the service answers. `message_id` is freed with `mc_string_free`.
///
/// # Safety
/// `client` must be NULL or a handle; `thread_id`, `content`, `sender_display_name` NULL or
/// NUL-terminated strings; `message_id` writable memory for a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_chat_send_message(
    client: *mut mc_chat_client,
    thread_id: *const c_char,
    content: *const c_char,
    sender_display_name: *const c_char,
    message_id: *mut *mut c_char,
) -> mc_status {
    guard(|| {
        let c = chat(client)?;
        // SAFETY: forwarded contract.
        let (thread_id, content, name, out) = unsafe {
            (
                str_arg(thread_id, "thread_id")?,
                str_arg(content, "content")?,
                opt_str_arg(sender_display_name, "sender_display_name")?,
                out_ptr(message_id, "message_id")?,
            )
        };
        *out = std::ptr::null_mut();
        let message = SendChatMessage {
            sender_display_name: name.map(str::to_owned),
            ..SendChatMessage::text(content)
        };
        let thread = c.client.inner.thread(thread_id);
        let id = c.client.run(thread.send_message(&message))?;
        out_string(out, &id)
    })
}

struct MessagesKind;
const ID: usize = 0;
const TYPE: usize = 1;
const SEQUENCE_ID: usize = 2;
const CONTENT: usize = 3;
const SENDER_ID: usize = 4;
const SENDER_NAME: usize = 5;
const CREATED_ON: usize = 6;

fn message_row(m: &ChatMessage) -> Row {
    let content = m.content.as_ref().and_then(|c| c.message.as_deref());
    let sender = m
        .sender_communication_identifier
        .as_ref()
        .and_then(CommunicationIdentifier::id);
    Row::new(
        &[
            Some(&m.id),
            Some(&m.kind),
            Some(&m.sequence_id),
            content,
            sender,
            m.sender_display_name.as_deref(),
            Some(&m.created_on),
        ],
        &[],
    )
}

/// Reads every message of `thread_id` (all pages), newest first, system messages
/// (`participantAdded`, `topicUpdated`, …) included. Blocks until the last page is read.
/// Free `messages` with `mc_chat_messages_free`.
///
/// # Safety
/// `client` must be NULL or a handle; `thread_id` NULL or a NUL-terminated string;
/// `messages` writable memory for a handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_chat_list_messages(
    client: *mut mc_chat_client,
    thread_id: *const c_char,
    messages: *mut *mut mc_chat_messages,
) -> mc_status {
    guard(|| {
        let c = chat(client)?;
        // SAFETY: forwarded contract.
        let (thread_id, out) = unsafe {
            (
                str_arg(thread_id, "thread_id")?,
                out_ptr(messages, "messages")?,
            )
        };
        *out = std::ptr::null_mut();
        let thread = c.client.inner.thread(thread_id);
        let all = c
            .client
            .run(thread.list_messages(None, None).collect_all())?;
        out_rows::<MessagesKind, _>(out, all.iter().map(message_row).collect());
        Ok(())
    })
}

/// How many messages `messages` holds.
///
/// # Safety
/// `messages` must be NULL or a handle; `count` writable memory for a `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_chat_messages_count(
    messages: *const mc_chat_messages,
    count: *mut usize,
) -> mc_status {
    // SAFETY: forwarded contract.
    unsafe { rows_count::<MessagesKind, _>(messages, "messages", count) }
}

/// Message `index`'s id, borrowed from `messages` (valid until it is freed).
///
/// # Safety
/// `messages` must be NULL or a handle; `value` writable memory for a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_chat_messages_id(
    messages: *const mc_chat_messages,
    index: usize,
    value: *mut *const c_char,
) -> mc_status {
    // SAFETY: forwarded contract.
    unsafe { rows_text::<MessagesKind, _>(messages, "messages", index, ID, value) }
}

/// Message `index`'s type (`text`, `html`, `topicUpdated`, `participantAdded`,
/// `participantRemoved`), borrowed from `messages`.
///
/// # Safety
/// `messages` must be NULL or a handle; `value` writable memory for a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_chat_messages_type(
    messages: *const mc_chat_messages,
    index: usize,
    value: *mut *const c_char,
) -> mc_status {
    // SAFETY: forwarded contract.
    unsafe { rows_text::<MessagesKind, _>(messages, "messages", index, TYPE, value) }
}

/// Message `index`'s order in the thread (a number as a string), borrowed from `messages`.
///
/// # Safety
/// `messages` must be NULL or a handle; `value` writable memory for a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_chat_messages_sequence_id(
    messages: *const mc_chat_messages,
    index: usize,
    value: *mut *const c_char,
) -> mc_status {
    // SAFETY: forwarded contract.
    unsafe { rows_text::<MessagesKind, _>(messages, "messages", index, SEQUENCE_ID, value) }
}

/// Message `index`'s text or HTML, borrowed from `messages`; NULL for system messages and
/// deleted ones.
///
/// # Safety
/// `messages` must be NULL or a handle; `value` writable memory for a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_chat_messages_content(
    messages: *const mc_chat_messages,
    index: usize,
    value: *mut *const c_char,
) -> mc_status {
    // SAFETY: forwarded contract.
    unsafe { rows_text::<MessagesKind, _>(messages, "messages", index, CONTENT, value) }
}

/// Message `index`'s sender (raw id, `8:acs:…`), borrowed from `messages`; NULL for system
/// messages.
///
/// # Safety
/// `messages` must be NULL or a handle; `value` writable memory for a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_chat_messages_sender_id(
    messages: *const mc_chat_messages,
    index: usize,
    value: *mut *const c_char,
) -> mc_status {
    // SAFETY: forwarded contract.
    unsafe { rows_text::<MessagesKind, _>(messages, "messages", index, SENDER_ID, value) }
}

/// Message `index`'s sender display name, borrowed from `messages`; NULL when none.
///
/// # Safety
/// `messages` must be NULL or a handle; `value` writable memory for a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_chat_messages_sender_display_name(
    messages: *const mc_chat_messages,
    index: usize,
    value: *mut *const c_char,
) -> mc_status {
    // SAFETY: forwarded contract.
    unsafe { rows_text::<MessagesKind, _>(messages, "messages", index, SENDER_NAME, value) }
}

/// Message `index`'s creation time (ISO 8601), borrowed from `messages`.
///
/// # Safety
/// `messages` must be NULL or a handle; `value` writable memory for a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_chat_messages_created_on(
    messages: *const mc_chat_messages,
    index: usize,
    value: *mut *const c_char,
) -> mc_status {
    // SAFETY: forwarded contract.
    unsafe { rows_text::<MessagesKind, _>(messages, "messages", index, CREATED_ON, value) }
}

/// Frees a message list. NULL is a no-op.
///
/// # Safety
/// `messages` must be NULL or a handle from `mc_chat_list_messages`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_chat_messages_free(messages: *mut mc_chat_messages) {
    free::<super::Rows<MessagesKind>, _>(messages, "messages");
}

/// Subscribes to the user's real-time notifications: from now on chat messages, edits,
/// typing, read receipts and thread changes of every thread the user is in arrive as engine
/// events (`MC_EVENT_CHAT_*`, with `client` this handle). Blocks until the subscription is
/// live, so a message sent after this returns is reported. The stream is not replayed: when
/// `MC_EVENT_CHAT_STREAM_ENDED` comes, start it again and re-read the messages. A second
/// start replaces the first subscription. Works against MediaCore's local service (a real
/// ACS resource has no such stream: `MC_ERR_SERVICE`).
///
/// # Safety
/// `client` must be NULL or a handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_chat_client_start_events(client: *mut mc_chat_client) -> mc_status {
    guard(|| {
        let c = chat(client)?;
        let stream = c.client.run(c.client.inner.notifications())?;
        let task = c.client.engine.runtime()?.spawn(forward(
            stream,
            Arc::clone(&c.client.engine.events),
            client as usize,
        ));
        let old = c
            .forwarder
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .replace(task);
        if let Some(old) = old {
            old.abort();
        }
        Ok(())
    })
}

/// Ends the subscription of `mc_chat_client_start_events` (no-op if none).
///
/// # Safety
/// `client` must be NULL or a handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_chat_client_stop_events(client: *mut mc_chat_client) -> mc_status {
    guard(|| {
        let c = chat(client)?;
        if let Some(task) = c.forwarder.lock().unwrap_or_else(|p| p.into_inner()).take() {
            task.abort();
        }
        Ok(())
    })
}

/// An event of this client about `thread_id`.
fn chat_event(kind: events::mc_event_kind, client: usize, thread_id: &str) -> Event {
    Event {
        client,
        thread_id: Some(c_text(thread_id)),
        text: None,
        ..Event::with_text(kind, 0, "")
    }
}

fn message_event(kind: events::mc_event_kind, client: usize, m: &ChatMessageEvent) -> Event {
    Event {
        text: m.message.as_deref().map(c_text),
        sender: m.sender.as_ref().and_then(|s| s.id()).map(c_text),
        message_id: Some(c_text(&m.id)),
        ..chat_event(kind, client, &m.thread_id)
    }
}

/// Moves the notifications to the engine's queue until the stream ends.
async fn forward(mut stream: ChatEventStream, queue: Arc<EventQueue>, client: usize) {
    let why = loop {
        let event = match stream.next().await {
            None => break "the service closed the connection".to_owned(),
            Some(Err(e)) => break e.to_string(),
            Some(Ok(event)) => event,
        };
        let e = match event {
            ChatEvent::MessageReceived(m) => {
                message_event(events::MC_EVENT_CHAT_MESSAGE, client, &m)
            }
            ChatEvent::MessageEdited(m) => {
                message_event(events::MC_EVENT_CHAT_MESSAGE_EDITED, client, &m)
            }
            ChatEvent::MessageDeleted(m) => Event {
                text: None,
                ..message_event(events::MC_EVENT_CHAT_MESSAGE_DELETED, client, &m)
            },
            ChatEvent::TypingIndicatorReceived(t) => Event {
                text: Some(c_text(&t.sender_display_name)),
                sender: t.sender.as_ref().and_then(|s| s.id()).map(c_text),
                ..chat_event(events::MC_EVENT_CHAT_TYPING, client, &t.thread_id)
            },
            ChatEvent::ReadReceiptReceived(r) => Event {
                sender: r.sender.as_ref().and_then(|s| s.id()).map(c_text),
                message_id: Some(c_text(&r.chat_message_id)),
                ..chat_event(events::MC_EVENT_CHAT_READ_RECEIPT, client, &r.thread_id)
            },
            ChatEvent::ThreadCreated(t) | ChatEvent::ThreadPropertiesUpdated(t) => Event {
                text: t.properties.as_ref().map(|p| c_text(&p.topic)),
                ..chat_event(events::MC_EVENT_CHAT_THREAD_UPDATED, client, &t.thread_id)
            },
            ChatEvent::ThreadDeleted(t) => {
                chat_event(events::MC_EVENT_CHAT_THREAD_DELETED, client, &t.thread_id)
            }
            ChatEvent::ParticipantsAdded(p) | ChatEvent::ParticipantsRemoved(p) => chat_event(
                events::MC_EVENT_CHAT_PARTICIPANTS_CHANGED,
                client,
                &p.thread_id,
            ),
            // The greeting and names this version does not know carry nothing to act on.
            ChatEvent::Connected | ChatEvent::Other { .. } => continue,
        };
        queue.push(e);
    };
    queue.push(Event {
        client,
        ..Event::with_text(events::MC_EVENT_CHAT_STREAM_ENDED, 0, &why)
    });
}
