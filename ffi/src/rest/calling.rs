//! `mc_calling_client`: engine-to-engine call signaling through MediaCore's local service
//! (offer, answer, trickled candidates, the call's end), its notifications as engine events
//! (`MC_EVENT_SIGNALING_*`). The media itself is an `mc_call`.

use std::ffi::c_char;
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use media_core::rest::{CallingClient, CallingEvent, CallingEventStream, RejectReason};

use super::{Client, free, mc_client_options, register_out, str_list, user};
use crate::boundary::{guard, out_ptr, out_string, str_arg};
use crate::engine::mc_engine;
use crate::events::{self, Event, EventQueue, c_text};
use crate::handles;
use crate::status::{Error, MC_ERR_INVALID_STATE, Result, mc_status};

/// A calling client (opaque), acting as one user.
pub struct mc_calling_client {
    _private: [u8; 0],
}

/// Why the callee refuses a call.
pub type mc_reject_reason = u32;
/// Declined (603).
pub const MC_REJECT_DECLINED: mc_reject_reason = 0;
/// Busy (486).
pub const MC_REJECT_BUSY: mc_reject_reason = 1;
/// Forbidden (403).
pub const MC_REJECT_FORBIDDEN: mc_reject_reason = 2;

/// The calling client behind a handle: its registration and notification forwarder.
pub struct CallingObject {
    client: Client<CallingClient>,
    registration: Mutex<Option<(String, tokio::task::JoinHandle<()>)>>,
}

impl Drop for CallingObject {
    fn drop(&mut self) {
        let registration = self
            .registration
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some((_, task)) = registration {
            task.abort();
        }
    }
}

fn calling(handle: *mut mc_calling_client) -> Result<Arc<CallingObject>> {
    handles::get::<CallingObject, _>(handle, "client")
}

/// Makes a calling client acting as the user whose access token (`voip` scope) is
/// `user_token`, at `endpoint` (the local service's `https://…/`). `options` NULL means the
/// defaults.
///
/// # Safety
/// `engine` must be NULL or a handle; `endpoint` and `user_token` NULL or NUL-terminated
/// strings; `options` NULL or an `mc_client_options`; `client` writable memory for a handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_calling_client_new(
    engine: *mut mc_engine,
    endpoint: *const c_char,
    user_token: *const c_char,
    options: *const mc_client_options,
    client: *mut *mut mc_calling_client,
) -> mc_status {
    guard(|| {
        // SAFETY: forwarded contract.
        unsafe {
            register_out(client, || {
                Ok(CallingObject {
                    client: user(engine, endpoint, user_token, options, CallingClient::new)?,
                    registration: Mutex::new(None),
                })
            })
        }
    })
}

/// Stops the client's notifications and frees it (the registration stays at the service
/// until `mc_calling_client_unregister` or its expiry). NULL is a no-op; may be called from
/// the event callback.
///
/// # Safety
/// `client` must be NULL or a handle from `mc_calling_client_new`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_calling_client_free(client: *mut mc_calling_client) {
    free::<CallingObject, _>(client, "client");
}

/// Registers this engine for the user's calls and starts delivering its signaling
/// notifications as engine events (`MC_EVENT_SIGNALING_*`, with `client` this handle).
/// Blocks until the stream is open, so a call placed to the user after this returns is
/// reported. Dropped connections are resumed without loss. `registration_id` (NULL: not
/// wanted) is freed with `mc_string_free`. `MC_ERR_INVALID_STATE` when already registered.
///
/// # Safety
/// `client` must be NULL or a handle; `registration_id` NULL or writable memory for a
/// pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_calling_client_register(
    client: *mut mc_calling_client,
    registration_id: *mut *mut c_char,
) -> mc_status {
    guard(|| {
        let c = calling(client)?;
        // SAFETY: forwarded contract (NULL allowed).
        let mut out = unsafe { registration_id.as_mut() };
        if let Some(o) = out.as_deref_mut() {
            *o = std::ptr::null_mut();
        }
        let mut slot = c.registration.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_some() {
            return Err(Error::new(MC_ERR_INVALID_STATE, "already registered"));
        }
        let inner = &c.client.inner;
        let (registration, stream) = c.client.run(async {
            let registration = inner.register().await?;
            let stream = inner.events(&registration.id).await?;
            Ok((registration, stream))
        })?;
        let task = c.client.engine.runtime()?.spawn(forward(
            stream,
            Arc::clone(&c.client.engine.events),
            client as usize,
        ));
        *slot = Some((registration.id.clone(), task));
        match out {
            Some(o) => out_string(o, &registration.id),
            None => Ok(()),
        }
    })
}

/// Ends the registration: notifications stop and the service drops what it kept for it.
/// Blocks until the service answers. No-op when not registered.
///
/// # Safety
/// `client` must be NULL or a handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_calling_client_unregister(client: *mut mc_calling_client) -> mc_status {
    guard(|| {
        let c = calling(client)?;
        let taken = c
            .registration
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let Some((id, task)) = taken else {
            return Ok(());
        };
        task.abort();
        c.client.run(c.client.inner.unregister(&id))
    })
}

/// Places a call to the user `callee_id` (`8:acs:…`) with this engine's SDP offer (from
/// `mc_call_create_offer`). Blocks until the service answers. `call_id` is freed with
/// `mc_string_free`; the answer arrives as `MC_EVENT_SIGNALING_ANSWERED`.
///
/// # Safety
/// `client` must be NULL or a handle; `callee_id` and `offer_sdp` NULL or NUL-terminated
/// strings; `call_id` writable memory for a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_calling_place(
    client: *mut mc_calling_client,
    callee_id: *const c_char,
    offer_sdp: *const c_char,
    call_id: *mut *mut c_char,
) -> mc_status {
    guard(|| {
        let c = calling(client)?;
        // SAFETY: forwarded contract.
        let (callee, offer, out) = unsafe {
            (
                str_arg(callee_id, "callee_id")?,
                str_arg(offer_sdp, "offer_sdp")?,
                out_ptr(call_id, "call_id")?,
            )
        };
        *out = std::ptr::null_mut();
        let handle = c.client.run(c.client.inner.place(callee, offer))?;
        out_string(out, handle.id())
    })
}

/// Answers the ringing call `call_id` (the callee) with this engine's SDP answer (from
/// `mc_call_accept_offer`). Blocks until the service answers.
///
/// # Safety
/// `client` must be NULL or a handle; `call_id` and `answer_sdp` NULL or NUL-terminated
/// strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_calling_answer(
    client: *mut mc_calling_client,
    call_id: *const c_char,
    answer_sdp: *const c_char,
) -> mc_status {
    guard(|| {
        let c = calling(client)?;
        // SAFETY: forwarded contract.
        let (id, answer) = unsafe {
            (
                str_arg(call_id, "call_id")?,
                str_arg(answer_sdp, "answer_sdp")?,
            )
        };
        let handle = c.client.inner.call(id);
        c.client.run(handle.answer(answer)).map(drop)
    })
}

/// Refuses the ringing call `call_id` (the callee) for `reason` (`MC_REJECT_*`); both
/// parties get `MC_EVENT_SIGNALING_ENDED`. Blocks until the service answers.
///
/// # Safety
/// `client` must be NULL or a handle; `call_id` NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_calling_reject(
    client: *mut mc_calling_client,
    call_id: *const c_char,
    reason: mc_reject_reason,
) -> mc_status {
    guard(|| {
        let c = calling(client)?;
        // SAFETY: forwarded contract.
        let id = unsafe { str_arg(call_id, "call_id") }?;
        let reason = match reason {
            MC_REJECT_DECLINED => RejectReason::Declined,
            MC_REJECT_BUSY => RejectReason::Busy,
            MC_REJECT_FORBIDDEN => RejectReason::Forbidden,
            other => return Err(Error::invalid(format!("reason {other} is no MC_REJECT_*"))),
        };
        let handle = c.client.inner.call(id);
        c.client.run(handle.reject(reason))
    })
}

/// Leaves the call `call_id`: hangs up a connected call, cancels (caller) or declines
/// (callee) a ringing one; both parties get `MC_EVENT_SIGNALING_ENDED`. Blocks until the
/// service answers. The media (`mc_call_hang_up`) is the application's to end.
///
/// # Safety
/// `client` must be NULL or a handle; `call_id` NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_calling_hang_up(
    client: *mut mc_calling_client,
    call_id: *const c_char,
) -> mc_status {
    guard(|| {
        let c = calling(client)?;
        // SAFETY: forwarded contract.
        let id = unsafe { str_arg(call_id, "call_id") }?;
        let handle = c.client.inner.call(id);
        c.client.run(handle.hang_up())
    })
}

/// Trickles local candidates (`candidate:…` lines from `MC_EVENT_LOCAL_CANDIDATE`, `count`
/// of them, in order) to the other party of `call_id`; with `end_of_candidates`, also tells
/// it no more will come (after `MC_EVENT_GATHERING_COMPLETE`). Blocks until the service
/// answers.
///
/// # Safety
/// `client` must be NULL or a handle; `call_id` NULL or a NUL-terminated string;
/// `candidates` NULL or `count` NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_calling_send_candidates(
    client: *mut mc_calling_client,
    call_id: *const c_char,
    candidates: *const *const c_char,
    count: usize,
    end_of_candidates: bool,
) -> mc_status {
    guard(|| {
        let c = calling(client)?;
        // SAFETY: forwarded contract.
        let (id, lines) = unsafe {
            (
                str_arg(call_id, "call_id")?,
                str_list(candidates, count, "candidates")?,
            )
        };
        let handle = c.client.inner.call(id);
        c.client.run(async {
            handle.send_candidates(&lines).await?;
            if end_of_candidates {
                handle.end_of_candidates().await?;
            }
            Ok(())
        })
    })
}

/// An event of this client about `call_id`.
fn signaling_event(kind: events::mc_event_kind, client: usize, call_id: &str) -> Event {
    Event {
        client,
        call_id: Some(c_text(call_id)),
        text: None,
        ..Event::with_text(kind, 0, "")
    }
}

/// Moves the notifications to the engine's queue until the stream ends for good.
async fn forward(mut stream: CallingEventStream, queue: Arc<EventQueue>, client: usize) {
    use events::*;
    // An error item is either a notification that did not parse (the stream goes on) or the
    // reason the stream ends (nothing follows it): kept until the next item tells which.
    let mut last_error = None;
    let why = loop {
        let event = match stream.next().await {
            None => {
                break last_error.unwrap_or_else(|| "the service ended the stream".to_owned());
            }
            Some(Err(e)) => {
                last_error = Some(e.to_string());
                continue;
            }
            Some(Ok(event)) => event,
        };
        last_error = None;
        match event {
            CallingEvent::IncomingCall(i) => queue.push(Event {
                text: i.offer_sdp.as_deref().map(c_text),
                sender: i.caller.id().map(c_text),
                ..signaling_event(MC_EVENT_SIGNALING_INCOMING_CALL, client, &i.call_id)
            }),
            CallingEvent::CallAnswered(a) => queue.push(Event {
                text: a.answer_sdp.as_deref().map(c_text),
                sender: a.answered_by.id().map(c_text),
                ..signaling_event(MC_EVENT_SIGNALING_ANSWERED, client, &a.call_id)
            }),
            CallingEvent::CallConnected(c) => {
                queue.push(signaling_event(
                    MC_EVENT_SIGNALING_CONNECTED,
                    client,
                    &c.call_id,
                ));
            }
            CallingEvent::RemoteCandidates(r) => {
                for line in &r.candidates {
                    queue.push(Event {
                        text: Some(c_text(line)),
                        sender: r.from.id().map(c_text),
                        ..signaling_event(MC_EVENT_SIGNALING_CANDIDATE, client, &r.call_id)
                    });
                }
                if r.end_of_candidates {
                    queue.push(signaling_event(
                        MC_EVENT_SIGNALING_END_OF_CANDIDATES,
                        client,
                        &r.call_id,
                    ));
                }
            }
            CallingEvent::CallEnded(e) => queue.push(Event {
                text: Some(c_text(&e.reason.message)),
                sender: e.ended_by.as_ref().and_then(|b| b.id()).map(c_text),
                code: i32::try_from(e.reason.code).unwrap_or(0),
                ..signaling_event(MC_EVENT_SIGNALING_ENDED, client, &e.call_id)
            }),
            // Greetings of (re)connections and unknown names carry nothing to act on.
            CallingEvent::StreamConnected { .. } | CallingEvent::Other { .. } => {}
        }
    };
    queue.push(Event {
        client,
        ..Event::with_text(MC_EVENT_SIGNALING_STREAM_ENDED, 0, &why)
    });
}
