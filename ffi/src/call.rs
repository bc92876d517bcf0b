//! `mc_call`: a WebRTC audio call over UDP (ICE, DTLS-SRTP, Opus) on an engine.

use std::ffi::c_char;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, TryLockError};
use std::time::Instant;

use media_core::call::AudioSide;
use media_core::call::session::SessionEvent;
use media_core::call::udp::{Call, CallEvent, CallOptions, IceServer};
use media_core::net::transport::TransportState;

use crate::boundary::{guard, in_ref, opt_str_arg, out_ptr, out_string, str_arg};
use crate::engine::{Engine, check_size, mc_engine};
use crate::events::{self, Event, EventQueue};
use crate::handles;
use crate::stats::{mc_call_stats, to_c};
use crate::status::{Error, MC_ERR_BUSY, Result, mc_status};

/// A call (opaque).
pub struct mc_call {
    _private: [u8; 0],
}

/// A STUN or TURN server.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct mc_ice_server {
    /// `stun:host:port`, `turn:host:port?transport=udp|tcp`.
    pub url: *const c_char,
    /// TURN username (NULL for STUN).
    pub username: *const c_char,
    /// TURN password (NULL for STUN).
    pub credential: *const c_char,
}

/// Options of a call. Fill with `mc_call_options_default` first.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct mc_call_options {
    /// `sizeof(mc_call_options)`, set by `mc_call_options_default`.
    pub struct_size: u32,
    /// The RTP SSRC this call sends with; 0 (default): random.
    pub ssrc: u32,
    /// RTCP CNAME; NULL (default): "mediacore".
    pub cname: *const c_char,
    /// The local address to gather host candidates on (e.g. "127.0.0.1"); NULL (default):
    /// every interface's.
    pub bind_address: *const c_char,
    /// STUN/TURN servers (`ice_server_count` of them), or NULL.
    pub ice_servers: *const mc_ice_server,
    /// How many `ice_servers` (at most 16).
    pub ice_server_count: usize,
    /// Relayed candidates only (`iceTransportPolicy: "relay"`).
    pub relay_only: bool,
    /// Opus bitrate in bit/s (6000–510000); 0 (default): MediaCore's.
    pub opus_bitrate_bps: u32,
}

/// The call behind a handle.
pub struct CallObject {
    engine: Arc<Engine>,
    call: Arc<Call>,
    /// One audio thread at a time; `try_lock` only, so the audio path never waits.
    audio: Mutex<AudioSide>,
    capture_len: usize,
    playout_len: usize,
    forwarder: tokio::task::JoinHandle<()>,
}

impl Drop for CallObject {
    fn drop(&mut self) {
        self.forwarder.abort();
    }
}

/// Fills `options` with the defaults (and its `struct_size`).
///
/// # Safety
/// `options` must be NULL or writable memory for an `mc_call_options`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_call_options_default(options: *mut mc_call_options) -> mc_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(options, "options") }?;
        *out = mc_call_options {
            struct_size: size_of::<mc_call_options>() as u32,
            ssrc: 0,
            cname: std::ptr::null(),
            bind_address: std::ptr::null(),
            ice_servers: std::ptr::null(),
            ice_server_count: 0,
            relay_only: false,
            opus_bitrate_bps: 0,
        };
        Ok(())
    })
}

const MAX_ICE_SERVERS: usize = 16;

/// The Rust options from the C ones.
///
/// # Safety
/// The pointers in `o` must be NULL or valid as the header documents.
unsafe fn call_options(o: &mc_call_options) -> Result<CallOptions> {
    check_size(
        o.struct_size,
        size_of::<mc_call_options>(),
        "mc_call_options",
    )?;
    let ssrc = if o.ssrc == 0 { random_ssrc() } else { o.ssrc };
    // SAFETY: forwarded contract.
    let cname = unsafe { opt_str_arg(o.cname, "options.cname") }?.unwrap_or("mediacore");
    let mut options = CallOptions::new(ssrc, cname);
    // SAFETY: forwarded contract.
    if let Some(addr) = unsafe { opt_str_arg(o.bind_address, "options.bind_address") }? {
        let ip: IpAddr = addr.parse().map_err(|_| {
            Error::invalid(format!(
                "options.bind_address {addr:?} is not an IP address"
            ))
        })?;
        options.bind = vec![ip];
    }
    if o.ice_server_count > MAX_ICE_SERVERS {
        return Err(Error::invalid(format!(
            "options.ice_server_count is {}, at most {MAX_ICE_SERVERS}",
            o.ice_server_count
        )));
    }
    if o.ice_server_count > 0 {
        if o.ice_servers.is_null() {
            return Err(Error::null("options.ice_servers"));
        }
        // SAFETY: non-NULL, and the caller promises `ice_server_count` entries.
        let servers = unsafe { std::slice::from_raw_parts(o.ice_servers, o.ice_server_count) };
        for (i, s) in servers.iter().enumerate() {
            // SAFETY: forwarded contract.
            let (url, username, credential) = unsafe {
                (
                    str_arg(s.url, &format!("options.ice_servers[{i}].url"))?,
                    opt_str_arg(s.username, "username")?.unwrap_or_default(),
                    opt_str_arg(s.credential, "credential")?.unwrap_or_default(),
                )
            };
            options.ice_servers.push(IceServer {
                urls: vec![url.to_owned()],
                username: username.to_owned(),
                credential: credential.to_owned(),
            });
        }
    }
    options.relay_only = o.relay_only;
    if o.opus_bitrate_bps != 0 {
        if !(6_000..=510_000).contains(&o.opus_bitrate_bps) {
            return Err(Error::invalid(format!(
                "options.opus_bitrate_bps is {}, not 6000 to 510000",
                o.opus_bitrate_bps
            )));
        }
        options.session.audio.encoder.bitrate_bps = o.opus_bitrate_bps;
    }
    Ok(options)
}

fn random_ssrc() -> u32 {
    let mut b = [0u8; 4];
    // Without randomness any fixed SSRC still works for a two-party call.
    let _ = getrandom::fill(&mut b);
    u32::from_le_bytes(b).max(1)
}

/// Makes a call on `engine`: binds its sockets and starts gathering candidates (reported as
/// `MC_EVENT_LOCAL_CANDIDATE` events). `options` NULL means the defaults.
///
/// # Safety
/// `engine` must be NULL or a handle; `options` NULL or an `mc_call_options` whose pointers
/// are valid for the call; `call` writable memory for a handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_call_new(
    engine: *mut mc_engine,
    options: *const mc_call_options,
    call: *mut *mut mc_call,
) -> mc_status {
    guard(|| {
        let engine = handles::get::<Engine, _>(engine, "engine")?;
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(call, "call") }?;
        *out = std::ptr::null_mut();
        let options = if options.is_null() {
            let mut o = std::mem::MaybeUninit::<mc_call_options>::uninit();
            // SAFETY: o is writable; the default fills every field.
            unsafe { mc_call_options_default(o.as_mut_ptr()) };
            // SAFETY: initialised just above; its pointers are NULL.
            unsafe { call_options(&o.assume_init()) }?
        } else {
            // SAFETY: forwarded contract.
            unsafe { call_options(in_ref(options, "options")?) }?
        };
        // The call runs at 48 kHz: 480 samples per channel per 10 ms.
        let capture_len = 480 * usize::from(options.session.audio.encoder.channels);
        let playout_len = 480 * usize::from(options.session.audio.jitter.channels);
        let (made, audio) = engine.block_on(Call::new(options))??;
        let made = Arc::new(made);
        // The handle number is known only once registered; the forwarder starts after.
        let (number_tx, number_rx) = tokio::sync::oneshot::channel::<usize>();
        let forwarder = engine.runtime()?.spawn(forward(
            Arc::clone(&made),
            Arc::clone(&engine.events),
            number_rx,
        ));
        let handle: *mut mc_call = handles::register(Arc::new(CallObject {
            engine,
            call: made,
            audio: Mutex::new(audio),
            capture_len,
            playout_len,
            forwarder,
        }));
        let _ = number_tx.send(handle as usize);
        *out = handle;
        Ok(())
    })
}

/// Moves a call's events to the engine's queue.
async fn forward(
    call: Arc<Call>,
    queue: Arc<EventQueue>,
    number: tokio::sync::oneshot::Receiver<usize>,
) {
    let Ok(id) = number.await else { return };
    while let Some(event) = call.next_event().await {
        let e = match event {
            CallEvent::LocalCandidate(line)
            | CallEvent::Session(SessionEvent::LocalCandidate(line)) => {
                Event::with_text(events::MC_EVENT_LOCAL_CANDIDATE, id, &line)
            }
            CallEvent::GatheringComplete | CallEvent::Session(SessionEvent::GatheringComplete) => {
                Event::with_text(events::MC_EVENT_GATHERING_COMPLETE, id, "")
            }
            CallEvent::Session(SessionEvent::State(state)) => Event {
                state: c_state(state),
                ..Event::with_text(events::MC_EVENT_CALL_STATE, id, "")
            },
            CallEvent::Session(SessionEvent::Failure(why)) => {
                Event::with_text(events::MC_EVENT_CALL_FAILED, id, &why)
            }
            CallEvent::Session(SessionEvent::CandidateError { url, reason }) => Event::with_text(
                events::MC_EVENT_CANDIDATE_ERROR,
                id,
                &format!("{url}: {reason}"),
            ),
            CallEvent::Session(SessionEvent::SelectedPair(p)) => Event::with_text(
                events::MC_EVENT_SELECTED_PAIR,
                id,
                &format!(
                    "{} ({}) <-> {} ({})",
                    p.local, p.local_type, p.remote, p.remote_type
                ),
            ),
        };
        // Text events with an empty text carry none.
        let e = match e.text.as_ref().map(|t| t.is_empty()) {
            Some(true) => Event { text: None, ..e },
            _ => e,
        };
        queue.push(e);
    }
}

/// The C state of a transport state.
pub fn c_state(state: TransportState) -> events::mc_call_state {
    match state {
        TransportState::New => events::MC_CALL_STATE_NEW,
        TransportState::Connecting => events::MC_CALL_STATE_CONNECTING,
        TransportState::Connected => events::MC_CALL_STATE_CONNECTED,
        TransportState::Disconnected => events::MC_CALL_STATE_DISCONNECTED,
        TransportState::Failed => events::MC_CALL_STATE_FAILED,
        TransportState::Closed => events::MC_CALL_STATE_CLOSED,
    }
}

fn object(call: *mut mc_call) -> Result<Arc<CallObject>> {
    handles::get::<CallObject, _>(call, "call")
}

/// Hangs up (if not done) and frees the call. NULL is a no-op; may be called from the event
/// callback.
///
/// # Safety
/// `call` must be NULL or a handle from `mc_call_new`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_call_free(call: *mut mc_call) {
    let _ = guard(|| {
        if let Some(c) = handles::take::<CallObject, _>(call, "call")? {
            // Dropping the last `Call` hangs up; the forwarder holds one until aborted.
            c.forwarder.abort();
        }
        Ok(())
    });
}

/// Creates the SDP offer (freed with `mc_string_free`).
///
/// # Safety
/// `call` must be NULL or a handle; `sdp` writable memory for a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_call_create_offer(
    call: *mut mc_call,
    sdp: *mut *mut c_char,
) -> mc_status {
    guard(|| {
        let c = object(call)?;
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(sdp, "sdp") }?;
        *out = std::ptr::null_mut();
        let offer = c.engine.block_on(c.call.create_offer())??;
        out_string(out, &offer)
    })
}

/// Takes the peer's offer and creates the answer (freed with `mc_string_free`).
///
/// # Safety
/// `call` must be NULL or a handle; `offer` NULL or a NUL-terminated string; `answer`
/// writable memory for a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_call_accept_offer(
    call: *mut mc_call,
    offer: *const c_char,
    answer: *mut *mut c_char,
) -> mc_status {
    guard(|| {
        let c = object(call)?;
        // SAFETY: forwarded contract.
        let (offer, out) = unsafe { (str_arg(offer, "offer")?, out_ptr(answer, "answer")?) };
        *out = std::ptr::null_mut();
        let sdp = c.engine.block_on(c.call.accept_offer(offer))??;
        out_string(out, &sdp)
    })
}

/// Takes the peer's answer to this call's offer.
///
/// # Safety
/// `call` must be NULL or a handle; `answer` NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_call_accept_answer(
    call: *mut mc_call,
    answer: *const c_char,
) -> mc_status {
    guard(|| {
        let c = object(call)?;
        // SAFETY: forwarded contract.
        let answer = unsafe { str_arg(answer, "answer") }?;
        Ok(c.engine.block_on(c.call.accept_answer(answer))??)
    })
}

/// Adds a candidate the peer trickled (`candidate:…`, with or without `a=`).
///
/// # Safety
/// `call` must be NULL or a handle; `candidate` NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_call_add_remote_candidate(
    call: *mut mc_call,
    candidate: *const c_char,
) -> mc_status {
    guard(|| {
        let c = object(call)?;
        // SAFETY: forwarded contract.
        let line = unsafe { str_arg(candidate, "candidate") }?;
        Ok(c.engine.block_on(c.call.add_remote_candidate(line))??)
    })
}

/// The number of `int16_t` in one 10 ms block of capture and of playout for this call (480
/// each: 48 kHz mono).
///
/// # Safety
/// `call` must be NULL or a handle; `capture_len` and `playout_len` writable memory for a
/// `size_t` each.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_call_audio_block_len(
    call: *mut mc_call,
    capture_len: *mut usize,
    playout_len: *mut usize,
) -> mc_status {
    guard(|| {
        let c = object(call)?;
        // SAFETY: forwarded contract.
        let (capture, playout) = unsafe {
            (
                out_ptr(capture_len, "capture_len")?,
                out_ptr(playout_len, "playout_len")?,
            )
        };
        *capture = c.capture_len;
        *playout = c.playout_len;
        Ok(())
    })
}

/// The audio thread's tick, every 10 ms: sends `capture` (one 10 ms block, 48 kHz,
/// interleaved, `mc_call_audio_block_len` samples) and fills `playout` with what to play. Never blocks, locks against another thread or allocates: a
/// second thread calling at the same moment gets `MC_ERR_BUSY`.
///
/// # Safety
/// `call` must be NULL or a handle; `capture` NULL or `capture_len` readable samples;
/// `playout` NULL or `playout_len` writable samples.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_call_process_audio(
    call: *mut mc_call,
    capture: *const i16,
    capture_len: usize,
    playout: *mut i16,
    playout_len: usize,
) -> mc_status {
    guard(|| {
        let c = object(call)?;
        if capture.is_null() {
            return Err(Error::null("capture"));
        }
        if playout.is_null() {
            return Err(Error::null("playout"));
        }
        if capture_len != c.capture_len || playout_len != c.playout_len {
            return Err(Error::invalid(format!(
                "capture_len {capture_len} and playout_len {playout_len} must be {} and {} \
                 (10 ms; see mc_call_audio_block_len)",
                c.capture_len, c.playout_len
            )));
        }
        // SAFETY: non-NULL, lengths per the contract.
        let (input, output) = unsafe {
            (
                std::slice::from_raw_parts(capture, capture_len),
                std::slice::from_raw_parts_mut(playout, playout_len),
            )
        };
        let mut audio = match c.audio.try_lock() {
            Ok(a) => a,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => {
                return Err(Error::new(
                    MC_ERR_BUSY,
                    "another thread is in this call's audio tick",
                ));
            }
        };
        audio
            .process(Instant::now(), input, output)
            .map(|_| ())
            .map_err(|e| Error::invalid(e.to_string()))
    })
}

/// A snapshot of the call's statistics.
///
/// # Safety
/// `call` must be NULL or a handle; `stats` writable memory for an `mc_call_stats`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_call_get_stats(
    call: *mut mc_call,
    stats: *mut mc_call_stats,
) -> mc_status {
    guard(|| {
        let c = object(call)?;
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(stats, "stats") }?;
        let s = c.engine.block_on(c.call.stats())??;
        *out = to_c(&s);
        Ok(())
    })
}

/// Hangs up: the peer is told (DTLS close), the call's state becomes closed. The handle
/// stays valid until `mc_call_free`.
///
/// # Safety
/// `call` must be NULL or a handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_call_hang_up(call: *mut mc_call) -> mc_status {
    guard(|| {
        let c = object(call)?;
        Ok(c.engine.block_on(c.call.hang_up())??)
    })
}
