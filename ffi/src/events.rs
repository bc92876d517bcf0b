//! Events: a bounded queue per engine, read by `mc_engine_poll_event` or, when the engine was
//! made with a callback, by a dispatcher thread of the engine that calls it.

use std::collections::VecDeque;
use std::ffi::{CString, c_char, c_void};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::call::mc_call;

/// Events kept for a slow reader; beyond this the oldest go (counted in `dropped`).
pub(crate) const QUEUE_LIMIT: usize = 10_000;

/// What an event reports.
pub type mc_event_kind = u32;
/// A call's connection state changed (`state`).
pub const MC_EVENT_CALL_STATE: mc_event_kind = 1;
/// A local ICE candidate to send to the peer (`text`: the `candidate:…` line).
pub const MC_EVENT_LOCAL_CANDIDATE: mc_event_kind = 2;
/// Every local candidate has been reported.
pub const MC_EVENT_GATHERING_COMPLETE: mc_event_kind = 3;
/// The call failed (`text`: why); a `MC_CALL_STATE_FAILED` state event follows or preceded it.
pub const MC_EVENT_CALL_FAILED: mc_event_kind = 4;
/// A STUN/TURN server could not be used (`text`: the server and the reason).
pub const MC_EVENT_CANDIDATE_ERROR: mc_event_kind = 5;
/// The pair of candidates carrying media was chosen (`text`: `local (type) <-> remote (type)`).
pub const MC_EVENT_SELECTED_PAIR: mc_event_kind = 6;

/// A chat message arrived (`text`: its content; `thread_id`, `message_id`, `sender`;
/// `client`: the `mc_chat_client`). Also for the user's own messages.
pub const MC_EVENT_CHAT_MESSAGE: mc_event_kind = 20;
/// A chat message was edited (`text`: the new content; `thread_id`, `message_id`, `sender`).
pub const MC_EVENT_CHAT_MESSAGE_EDITED: mc_event_kind = 21;
/// A chat message was deleted (`thread_id`, `message_id`, `sender`).
pub const MC_EVENT_CHAT_MESSAGE_DELETED: mc_event_kind = 22;
/// Someone is typing (`thread_id`, `sender`; `text`: their display name).
pub const MC_EVENT_CHAT_TYPING: mc_event_kind = 23;
/// Someone read up to a message (`thread_id`, `message_id`, `sender`).
pub const MC_EVENT_CHAT_READ_RECEIPT: mc_event_kind = 24;
/// A thread was created or its topic changed (`thread_id`; `text`: the topic).
pub const MC_EVENT_CHAT_THREAD_UPDATED: mc_event_kind = 25;
/// A thread was deleted (`thread_id`).
pub const MC_EVENT_CHAT_THREAD_DELETED: mc_event_kind = 26;
/// Participants joined or left a thread (`thread_id`).
pub const MC_EVENT_CHAT_PARTICIPANTS_CHANGED: mc_event_kind = 27;
/// The chat notification stream ended (`text`: why); start it again with
/// `mc_chat_client_start_events` and re-read the messages.
pub const MC_EVENT_CHAT_STREAM_ENDED: mc_event_kind = 28;
/// A call to this user (`call_id`, `sender`: the caller's id; `text`: the caller's SDP offer,
/// for `mc_call_accept_offer`; `client`: the `mc_calling_client`).
pub const MC_EVENT_SIGNALING_INCOMING_CALL: mc_event_kind = 40;
/// The callee answered this user's call (`call_id`; `text`: the SDP answer, for
/// `mc_call_accept_answer`).
pub const MC_EVENT_SIGNALING_ANSWERED: mc_event_kind = 41;
/// A call of this user is connected (answered) (`call_id`).
pub const MC_EVENT_SIGNALING_CONNECTED: mc_event_kind = 42;
/// The other party trickled a candidate (`call_id`; `text`: the `candidate:…` line, for
/// `mc_call_add_remote_candidate`). One event per candidate, in the order sent.
pub const MC_EVENT_SIGNALING_CANDIDATE: mc_event_kind = 43;
/// The other party will send no more candidates (`call_id`).
pub const MC_EVENT_SIGNALING_END_OF_CANDIDATES: mc_event_kind = 44;
/// A call of this user ended (`call_id`; `code`: 200 hung up, 487 cancelled, 603 declined,
/// 486 busy, 403 forbidden; `text`: the reason's message; `sender`: who ended it).
pub const MC_EVENT_SIGNALING_ENDED: mc_event_kind = 45;
/// The signaling notification stream ended for good (`text`: why), e.g. the registration
/// was deleted; dropped connections are resumed without it.
pub const MC_EVENT_SIGNALING_STREAM_ENDED: mc_event_kind = 46;

/// A call's connection state (RTCPeerConnectionState's values).
pub type mc_call_state = u32;
/// Made; no check started.
pub const MC_CALL_STATE_NEW: mc_call_state = 0;
/// ICE checks or the DTLS handshake under way.
pub const MC_CALL_STATE_CONNECTING: mc_call_state = 1;
/// Media can flow.
pub const MC_CALL_STATE_CONNECTED: mc_call_state = 2;
/// Consent lost for now; may come back.
pub const MC_CALL_STATE_DISCONNECTED: mc_call_state = 3;
/// Gave up.
pub const MC_CALL_STATE_FAILED: mc_call_state = 4;
/// Hung up.
pub const MC_CALL_STATE_CLOSED: mc_call_state = 5;

/// One event. Strings in it belong to the engine: valid until the next
/// `mc_engine_poll_event` on that engine, or until the callback returns.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct mc_event {
    /// `MC_EVENT_…`.
    pub kind: mc_event_kind,
    /// For `MC_EVENT_CALL_STATE`: the new state (`MC_CALL_STATE_…`); 0 otherwise.
    pub state: mc_call_state,
    /// The call the event is about (compare with your handle; it may have been freed since).
    pub call: *mut mc_call,
    /// The event's text (see each kind), or NULL.
    pub text: *const c_char,
    /// Events dropped just before this one because nobody read the queue (it holds 10 000).
    pub dropped: u64,
    /// For chat and signaling events: the `mc_chat_client` or `mc_calling_client` it came
    /// from (compare with your handle); NULL otherwise.
    pub client: *mut c_void,
    /// For chat events: the thread id; NULL otherwise.
    pub thread_id: *const c_char,
    /// For signaling events: the call id (for `mc_calling_answer`, …); NULL otherwise.
    pub call_id: *const c_char,
    /// For chat and signaling events: who sent it (a raw id, `8:acs:…`), or NULL.
    pub sender: *const c_char,
    /// For chat message and read-receipt events: the message id; NULL otherwise.
    pub message_id: *const c_char,
    /// For `MC_EVENT_SIGNALING_ENDED`: the end code (see there); 0 otherwise.
    pub code: i32,
}

/// Called with each event from the engine's event thread (never from a thread that holds a
/// MediaCore lock, so it may call any MediaCore function, free the call or the engine).
pub type mc_event_callback =
    Option<unsafe extern "C" fn(event: *const mc_event, user_data: *mut c_void)>;

/// An event as queued: owned text.
#[derive(Debug)]
pub struct Event {
    /// `MC_EVENT_…`.
    pub kind: mc_event_kind,
    /// `MC_CALL_STATE_…` or 0.
    pub state: mc_call_state,
    /// The call's handle number.
    pub call: usize,
    /// Text, if any.
    pub text: Option<CString>,
    /// The chat or calling client's handle number (0: none).
    pub client: usize,
    /// Chat thread id.
    pub thread_id: Option<CString>,
    /// Signaling call id.
    pub call_id: Option<CString>,
    /// Sender's raw id.
    pub sender: Option<CString>,
    /// Message id.
    pub message_id: Option<CString>,
    /// End code.
    pub code: i32,
}

impl Event {
    /// An event with text (a NUL inside is cut there).
    pub fn with_text(kind: mc_event_kind, call: usize, text: &str) -> Self {
        Self {
            kind,
            state: 0,
            call,
            text: Some(c_text(text)),
            client: 0,
            thread_id: None,
            call_id: None,
            sender: None,
            message_id: None,
            code: 0,
        }
    }

    /// The C view; `text` points into `self`.
    pub fn as_c(&self, dropped: u64) -> mc_event {
        mc_event {
            kind: self.kind,
            state: self.state,
            call: self.call as *mut mc_call,
            text: ptr(&self.text),
            dropped,
            client: self.client as *mut c_void,
            thread_id: ptr(&self.thread_id),
            call_id: ptr(&self.call_id),
            sender: ptr(&self.sender),
            message_id: ptr(&self.message_id),
            code: self.code,
        }
    }
}

/// A C string of `text`, cut at a NUL inside.
pub fn c_text(text: &str) -> CString {
    let text = text.split('\0').next().unwrap_or_default();
    CString::new(text).unwrap_or_default()
}

fn ptr(s: &Option<CString>) -> *const c_char {
    s.as_ref().map_or(std::ptr::null(), |t| t.as_ptr())
}

#[derive(Debug, Default)]
struct State {
    events: VecDeque<Event>,
    dropped: u64,
    closed: bool,
}

/// The engine's queue.
#[derive(Debug, Default)]
pub struct EventQueue {
    state: Mutex<State>,
    ready: Condvar,
}

impl EventQueue {
    /// Adds an event (dropping the oldest beyond the limit).
    pub fn push(&self, event: Event) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if s.closed {
            return;
        }
        if s.events.len() >= QUEUE_LIMIT {
            s.events.pop_front();
            s.dropped += 1;
        }
        s.events.push_back(event);
        drop(s);
        self.ready.notify_one();
    }

    /// The next event within `timeout` (`None`: wait for ever), with the count dropped before
    /// it; `None` on timeout or once closed.
    pub fn pop(&self, timeout: Option<Duration>) -> Option<(Event, u64)> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(e) = s.events.pop_front() {
                let dropped = std::mem::take(&mut s.dropped);
                return Some((e, dropped));
            }
            if s.closed {
                return None;
            }
            s = match deadline {
                None => self.ready.wait(s).unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let left = d.checked_duration_since(Instant::now())?;
                    self.ready
                        .wait_timeout(s, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
    }

    /// Wakes every reader for good.
    pub fn close(&self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).closed = true;
        self.ready.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_with_a_count_of_what_was_dropped() {
        let q = EventQueue::default();
        for i in 0..QUEUE_LIMIT + 3 {
            q.push(Event::with_text(
                MC_EVENT_LOCAL_CANDIDATE,
                1,
                &i.to_string(),
            ));
        }
        let (first, dropped) = q.pop(Some(Duration::ZERO)).expect("event");
        assert_eq!(dropped, 3);
        assert_eq!(
            first.text.as_deref().and_then(|t| t.to_str().ok()),
            Some("3")
        );
        let (_, dropped) = q.pop(Some(Duration::ZERO)).expect("event");
        assert_eq!(dropped, 0);
        q.close();
        assert!(
            q.pop(None).is_some(),
            "queued events are still read after close"
        );
    }

    #[test]
    fn timeout_and_close_end_a_wait() {
        let q = std::sync::Arc::new(EventQueue::default());
        assert!(q.pop(Some(Duration::from_millis(5))).is_none());
        let q2 = q.clone();
        let waiter = std::thread::spawn(move || q2.pop(None).is_none());
        std::thread::sleep(Duration::from_millis(20));
        q.close();
        assert!(waiter.join().expect("waiter"));
    }
}
