//! The platform clients' extern functions against the local service, started in-process on
//! 127.0.0.1 in a runtime of its own (the engine refuses to block inside a runtime, so the
//! functions are called from the plain test thread as a C program would).

use std::ffi::{CStr, CString, c_char};
use std::ptr::{null, null_mut};

use super::calling::*;
use super::chat::*;
use super::email::*;
use super::identity::*;
use super::mc_client_options;
use super::mc_client_options_default;
use crate::boundary::{mc_last_error_message, mc_string_free};
use crate::engine::{mc_engine, mc_engine_free, mc_engine_new, mc_engine_poll_event};
use crate::events::*;
use crate::status::*;

struct Service {
    running: mediacore_service::RunningService,
    _runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
    ca: CString,
    connection: CString,
    endpoint: CString,
}

fn service() -> Service {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("temporary folder");
    let config = mediacore_service::Config {
        data_dir: dir.path().to_owned(),
        https_port: 0,
        ..mediacore_service::Config::default()
    };
    let running = runtime
        .block_on(mediacore_service::start(&config))
        .expect("service starts");
    let text = |s: &str| CString::new(s).expect("no NUL");
    Service {
        ca: text(running.ca_path.to_str().expect("UTF-8 path")),
        connection: text(&running.connection_string),
        endpoint: text(&running.endpoint),
        running,
        _runtime: runtime,
        _dir: dir,
    }
}

fn last() -> String {
    // SAFETY: the thread's NUL-terminated last error.
    unsafe { CStr::from_ptr(mc_last_error_message()) }
        .to_string_lossy()
        .into_owned()
}

fn text(p: *const c_char) -> String {
    assert!(!p.is_null());
    // SAFETY: a NUL-terminated string MediaCore returned, alive for the call.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// Takes a string MediaCore returned and frees it.
fn owned(p: *mut c_char) -> String {
    let s = text(p);
    // SAFETY: returned by MediaCore, freed once.
    unsafe { mc_string_free(p) };
    s
}

fn options(s: &Service) -> mc_client_options {
    let mut o = std::mem::MaybeUninit::uninit();
    // SAFETY: writable; the default fills every field.
    unsafe {
        assert_eq!(mc_client_options_default(o.as_mut_ptr()), MC_OK);
        let mut o = o.assume_init();
        o.ca_file = s.ca.as_ptr();
        o
    }
}

fn engine() -> *mut mc_engine {
    let mut e = null_mut();
    // SAFETY: NULL options, a writable out-parameter.
    assert_eq!(unsafe { mc_engine_new(null(), &mut e) }, MC_OK);
    e
}

/// A user with a token of `scopes`: (id, token).
fn user(s: &Service, engine: *mut mc_engine, scopes: mc_token_scopes) -> (CString, CString) {
    let o = options(s);
    let (mut client, mut user) = (null_mut(), null_mut());
    let (mut id, mut token) = (null(), null());
    // SAFETY: live handles, valid strings and out-parameters.
    unsafe {
        assert_eq!(
            mc_identity_client_new(engine, s.connection.as_ptr(), &o, &mut client),
            MC_OK,
            "{}",
            last()
        );
        assert_eq!(
            mc_identity_create_user(client, scopes, 0, &mut user),
            MC_OK,
            "{}",
            last()
        );
        assert_eq!(mc_identity_user_id(user, &mut id), MC_OK);
        assert_eq!(mc_identity_user_token(user, &mut token), MC_OK);
        let pair = (
            CString::new(text(id)).expect("id"),
            CString::new(text(token)).expect("token"),
        );
        mc_identity_user_free(user);
        mc_identity_client_free(client);
        pair
    }
}

/// The next event of `kind` within 10 s (others are skipped).
fn wait_for(engine: *mut mc_engine, kind: mc_event_kind) -> (mc_event, Option<String>) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        assert!(std::time::Instant::now() < deadline, "no event {kind}");
        // SAFETY: zeroed is a valid mc_event (integers and NULL pointers).
        let mut e: mc_event = unsafe { std::mem::zeroed() };
        // SAFETY: a live engine and a writable event.
        let status = unsafe { mc_engine_poll_event(engine, &mut e, 200) };
        if status == MC_OK && e.kind == kind {
            let t = (!e.text.is_null()).then(|| text(e.text));
            return (e, t);
        }
    }
}

#[test]
fn errors_map_to_statuses() {
    let s = service();
    let engine = engine();
    let o = options(&s);
    let mut client = null_mut();
    // SAFETY: live handles, valid strings and out-parameters.
    unsafe {
        assert_eq!(
            mc_identity_client_new(engine, c"endpoint=nope".as_ptr(), &o, &mut client),
            MC_ERR_INVALID_ARGUMENT
        );
        assert!(client.is_null());
        let mut missing = o;
        missing.ca_file = c"/nonexistent/ca.pem".as_ptr();
        assert_eq!(
            mc_identity_client_new(engine, s.connection.as_ptr(), &missing, &mut client),
            MC_ERR_INVALID_ARGUMENT
        );
        assert!(last().contains("ca_file"), "{}", last());
        let mut wrong_size = o;
        wrong_size.struct_size -= 1;
        assert_eq!(
            mc_identity_client_new(engine, s.connection.as_ptr(), &wrong_size, &mut client),
            MC_ERR_INVALID_ARGUMENT
        );

        assert_eq!(
            mc_identity_client_new(engine, s.connection.as_ptr(), &o, &mut client),
            MC_OK
        );
        let mut user = null_mut();
        assert_eq!(
            mc_identity_create_user(client, 1 << 30, 0, &mut user),
            MC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            mc_identity_create_user(client, MC_TOKEN_SCOPE_CHAT, 5, &mut user),
            MC_ERR_INVALID_ARGUMENT
        );
        let (mut token, mut expiry) = (null_mut(), null_mut());
        assert_eq!(
            mc_identity_issue_token(
                client,
                c"8:acs:nobody".as_ptr(),
                MC_TOKEN_SCOPE_CHAT,
                0,
                &mut token,
                &mut expiry
            ),
            MC_ERR_SERVICE
        );
        assert!(last().contains("HTTP 404"), "{}", last());
        assert!(token.is_null() && expiry.is_null());
        mc_identity_client_free(client);

        // A port nobody listens on: no answer at all.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = closed.local_addr().expect("addr").port();
        drop(closed);
        let key = s
            .running
            .connection_string
            .split("accesskey=")
            .nth(1)
            .expect("key");
        let unreachable = CString::new(format!(
            "endpoint=https://127.0.0.1:{port}/;accesskey={key}"
        ))
        .expect("text");
        let mut quick = o;
        quick.max_retries = 0;
        assert_eq!(
            mc_identity_client_new(engine, unreachable.as_ptr(), &quick, &mut client),
            MC_OK
        );
        assert_eq!(
            mc_identity_create_user(client, 0, 0, &mut user),
            MC_ERR_NETWORK,
            "{}",
            last()
        );
        // A wrong-type handle and a double free are errors, not undefined behaviour.
        let mut messages = null_mut();
        assert_eq!(
            mc_chat_list_messages(client.cast(), c"t".as_ptr(), &mut messages),
            MC_ERR_INVALID_HANDLE
        );
        mc_identity_client_free(client);
        mc_identity_client_free(client);
        assert!(last().contains("not a live"), "{}", last());

        let mut email = null_mut();
        assert_eq!(
            mc_email_client_new(engine, s.connection.as_ptr(), &o, &mut email),
            MC_OK
        );
        let mut message = std::mem::MaybeUninit::uninit();
        assert_eq!(mc_email_message_default(message.as_mut_ptr()), MC_OK);
        let message = message.assume_init();
        let mut status = null_mut();
        assert_eq!(
            mc_email_send(email, &message, &mut status),
            MC_ERR_NULL_POINTER
        );
        mc_email_client_free(email);
        mc_engine_free(engine);
    }
}

#[test]
fn chat_messages_and_their_events() {
    let s = service();
    let engine = engine();
    let (alice, alice_token) = user(&s, engine, MC_TOKEN_SCOPE_CHAT);
    let (bob, bob_token) = user(&s, engine, MC_TOKEN_SCOPE_CHAT);
    let o = options(&s);
    let (mut a, mut b) = (null_mut(), null_mut());
    // SAFETY: live handles, valid strings and out-parameters.
    unsafe {
        assert_eq!(
            mc_chat_client_new(
                engine,
                s.endpoint.as_ptr(),
                alice_token.as_ptr(),
                &o,
                &mut a
            ),
            MC_OK,
            "{}",
            last()
        );
        assert_eq!(
            mc_chat_client_new(engine, s.endpoint.as_ptr(), bob_token.as_ptr(), &o, &mut b),
            MC_OK
        );
        assert_eq!(mc_chat_client_start_events(b), MC_OK, "{}", last());
        let participants = [bob.as_ptr()];
        let (mut thread, mut invalid) = (null_mut(), 9);
        assert_eq!(
            mc_chat_create_thread(
                a,
                c"topic".as_ptr(),
                participants.as_ptr(),
                1,
                &mut thread,
                &mut invalid
            ),
            MC_OK,
            "{}",
            last()
        );
        assert_eq!(invalid, 0);
        let thread_id = CString::new(owned(thread)).expect("id");
        for (i, content) in ["one", "two", "three"].iter().enumerate() {
            let content = CString::new(*content).expect("text");
            let mut id = null_mut();
            assert_eq!(
                mc_chat_send_message(a, thread_id.as_ptr(), content.as_ptr(), null(), &mut id),
                MC_OK
            );
            let id = owned(id);
            // Bob, a participant, hears each one as an event of his client.
            let (e, t) = wait_for(engine, MC_EVENT_CHAT_MESSAGE);
            assert_eq!(e.client, b.cast(), "message {i}");
            assert_eq!(t.as_deref(), content.to_str().ok());
            assert_eq!(text(e.message_id), id);
            assert_eq!(text(e.thread_id), thread_id.to_str().expect("UTF-8"));
            assert_eq!(text(e.sender), alice.to_str().expect("UTF-8"));
        }
        let mut messages = null_mut();
        assert_eq!(
            mc_chat_list_messages(b, thread_id.as_ptr(), &mut messages),
            MC_OK
        );
        let mut count = 0;
        assert_eq!(mc_chat_messages_count(messages, &mut count), MC_OK);
        let mut texts = Vec::new();
        for i in 0..count {
            let (mut kind, mut content) = (null(), null());
            assert_eq!(mc_chat_messages_type(messages, i, &mut kind), MC_OK);
            assert_eq!(mc_chat_messages_content(messages, i, &mut content), MC_OK);
            if text(kind) == "text" {
                texts.push(text(content));
            }
        }
        assert_eq!(texts, ["three", "two", "one"], "newest first");
        let mut past = null();
        assert_eq!(
            mc_chat_messages_id(messages, count, &mut past),
            MC_ERR_INVALID_ARGUMENT
        );
        mc_chat_messages_free(messages);
        mc_chat_client_free(a);
        mc_chat_client_free(b);
        mc_engine_free(engine);
    }
}

#[test]
fn call_signaling_as_events() {
    let s = service();
    let engine = engine();
    let (_, caller_token) = user(&s, engine, MC_TOKEN_SCOPE_VOIP);
    let (callee, callee_token) = user(&s, engine, MC_TOKEN_SCOPE_VOIP);
    let o = options(&s);
    let (mut a, mut b) = (null_mut(), null_mut());
    // SAFETY: live handles, valid strings and out-parameters.
    unsafe {
        assert_eq!(
            mc_calling_client_new(
                engine,
                s.endpoint.as_ptr(),
                caller_token.as_ptr(),
                &o,
                &mut a
            ),
            MC_OK
        );
        assert_eq!(
            mc_calling_client_new(
                engine,
                s.endpoint.as_ptr(),
                callee_token.as_ptr(),
                &o,
                &mut b
            ),
            MC_OK
        );
        let mut registration = null_mut();
        assert_eq!(
            mc_calling_client_register(a, null_mut()),
            MC_OK,
            "{}",
            last()
        );
        assert_eq!(mc_calling_client_register(b, &mut registration), MC_OK);
        assert!(!owned(registration).is_empty());
        assert_eq!(
            mc_calling_client_register(b, null_mut()),
            MC_ERR_INVALID_STATE
        );

        let offer = c"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";
        let mut call_id = null_mut();
        assert_eq!(
            mc_calling_place(a, callee.as_ptr(), offer.as_ptr(), &mut call_id),
            MC_OK,
            "{}",
            last()
        );
        let call_id = CString::new(owned(call_id)).expect("id");
        let (e, t) = wait_for(engine, MC_EVENT_SIGNALING_INCOMING_CALL);
        assert_eq!(e.client, b.cast());
        assert_eq!(text(e.call_id), call_id.to_str().expect("UTF-8"));
        assert_eq!(t.as_deref(), offer.to_str().ok());

        let answer = c"v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";
        assert_eq!(
            mc_calling_answer(b, call_id.as_ptr(), answer.as_ptr()),
            MC_OK,
            "{}",
            last()
        );
        let (e, t) = wait_for(engine, MC_EVENT_SIGNALING_ANSWERED);
        assert_eq!(e.client, a.cast());
        assert_eq!(t.as_deref(), answer.to_str().ok());

        let line = c"candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host";
        let lines = [line.as_ptr()];
        assert_eq!(
            mc_calling_send_candidates(a, call_id.as_ptr(), lines.as_ptr(), 1, true),
            MC_OK,
            "{}",
            last()
        );
        let (e, t) = wait_for(engine, MC_EVENT_SIGNALING_CANDIDATE);
        assert_eq!(e.client, b.cast());
        assert_eq!(t.as_deref(), line.to_str().ok());
        wait_for(engine, MC_EVENT_SIGNALING_END_OF_CANDIDATES);

        assert_eq!(mc_calling_hang_up(a, call_id.as_ptr()), MC_OK);
        let (e, _) = wait_for(engine, MC_EVENT_SIGNALING_ENDED);
        assert_eq!(e.code, 200);
        assert_eq!(
            mc_calling_reject(b, call_id.as_ptr(), 7),
            MC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(mc_calling_client_unregister(b), MC_OK, "{}", last());
        mc_calling_client_free(a);
        mc_calling_client_free(b);
        mc_engine_free(engine);
    }
}
