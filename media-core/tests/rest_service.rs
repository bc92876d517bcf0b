//! MediaCore's REST adapters against the local ACS-compatible service, started in-process on
//! 127.0.0.1 (HTTPS with its generated CA trusted through `ClientOptions::extra_ca_pem`, and
//! its plain-HTTP port), plus a tiny local stub for throttling. Only the adapters talk to the
//! service here: what they send is what a real ACS resource would get.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use futures_util::StreamExt;
use media_core::call::udp::{Call, CallOptions};
use media_core::rest::chat::ChatParticipant;
use media_core::rest::email::{EmailAddress, EmailContent, EmailRecipients};
use media_core::rest::{
    ChatClient, ChatEvent, ChatEventStream, ClientOptions, CommunicationIdentifier, EmailClient,
    EmailMessage, Endpoint, IdentityClient, RelayClient, RestError, RetryPolicy, SendChatMessage,
    SmsClient, SmsSendOptions, TokenRefresher, TokenScope, UserTokenCredential,
};
use mediacore_service::RunningService;

// The service's own test SMTP sink (RFC 5321 subset over tokio), reused as it is.
#[path = "support/local_service.rs"]
mod local_service;
#[allow(dead_code)]
#[path = "../../service/tests/support/smtp.rs"]
mod smtp;

struct Service {
    running: RunningService,
    _dir: tempfile::TempDir,
    options: ClientOptions,
}

impl Service {
    /// A service on 127.0.0.1 (free HTTPS and HTTP ports) delivering email to `smtp_port`.
    async fn start(smtp_port: u16) -> Self {
        let (running, dir, options) = local_service::start(|config| {
            config.http_port = Some(0);
            config.email.relay_port = smtp_port;
            config.relay.urls = vec![
                "stun:127.0.0.1:3478".into(),
                "turn:127.0.0.1:3478?transport=udp".into(),
            ];
        })
        .await;
        Self {
            running,
            _dir: dir,
            options,
        }
    }

    fn endpoint(&self) -> Endpoint {
        Endpoint::parse(&self.running.endpoint).expect("endpoint")
    }

    /// The plain-HTTP connection string (same key).
    fn http_connection_string(&self) -> String {
        let addr = self.running.http_addr.expect("http port");
        self.running
            .connection_string
            .replace(&self.running.endpoint, &format!("http://{addr}/"))
    }

    fn identity(&self) -> IdentityClient {
        IdentityClient::from_connection_string(&self.running.connection_string, &self.options)
            .expect("identity client")
    }

    /// A chat client for a new user with a `chat` token.
    async fn chat_user(&self) -> (String, ChatClient) {
        let created = self
            .identity()
            .create_user(Some(&[TokenScope::Chat]), None)
            .await
            .expect("user with token");
        let token = created.access_token.expect("token").token;
        let credential = UserTokenCredential::new(&token).expect("credential");
        let client =
            ChatClient::new(self.endpoint(), credential, &self.options).expect("chat client");
        (created.identity.id, client)
    }
}

#[tokio::test]
async fn identity_users_tokens_revocation() {
    let service = Service::start(1).await;
    let identity = service.identity();
    let created = identity
        .create_user(Some(&[TokenScope::Chat, TokenScope::Voip]), Some(60))
        .await
        .expect("create user with token");
    assert!(created.identity.id.starts_with("8:acs:"), "{created:?}");
    let first = created.access_token.expect("token asked for");
    assert!(!first.expires_on.is_empty());

    let plain = identity.create_user(None, None).await.expect("create user");
    assert!(plain.access_token.is_none());

    let issued = identity
        .issue_token(&created.identity.id, &[TokenScope::Chat], Some(120))
        .await
        .expect("issue token");
    let chat = ChatClient::new(
        service.endpoint(),
        UserTokenCredential::new(&issued.token).expect("credential"),
        &service.options,
    )
    .expect("chat client");
    chat.list_threads(None)
        .collect_all()
        .await
        .expect("token works");

    identity
        .revoke_tokens(&created.identity.id)
        .await
        .expect("revoke");
    let refused = chat
        .list_threads(None)
        .collect_all()
        .await
        .expect_err("revoked token");
    assert_eq!(refused.status(), Some(401), "{refused}");

    identity
        .delete_user(&plain.identity.id)
        .await
        .expect("delete user");
    let gone = identity
        .issue_token(&plain.identity.id, &[TokenScope::Voip], None)
        .await
        .expect_err("deleted user");
    assert_eq!(gone.status(), Some(404), "{gone}");
    assert!(
        gone.to_string()
            .starts_with("identity: issue token: HTTP 404"),
        "{gone}"
    );
}

#[tokio::test]
async fn relay_configuration_becomes_ice_servers() {
    let service = Service::start(1).await;
    let relay =
        RelayClient::from_connection_string(&service.running.connection_string, &service.options)
            .expect("relay client");
    let config = relay
        .issue_relay_configuration(None, None, Some(600))
        .await
        .expect("relay configuration");
    let servers = config.to_ice_servers();
    assert!(!servers.is_empty());
    assert!(
        servers.iter().all(|s| s
            .urls
            .contains(&"turn:127.0.0.1:3478?transport=udp".to_owned())
            && !s.username.is_empty()
            && !s.credential.is_empty()),
        "{servers:?}"
    );

    // The list is what a call takes: a relay-only call on this runtime accepts it (it needs a
    // TURN server among them) and starts.
    let mut call_options = CallOptions::new(0x5eed, "rest-test");
    call_options.bind = vec![std::net::IpAddr::from([127, 0, 0, 1])];
    call_options.ice_servers = servers;
    call_options.relay_only = true;
    let (call, _audio) = Call::new(call_options)
        .await
        .expect("call with relay servers");
    call.hang_up().await.expect("hang up");

    // A user with a voip token asks for its own credentials.
    let user = service
        .identity()
        .create_user(Some(&[TokenScope::Voip]), None)
        .await
        .expect("voip user");
    let token =
        UserTokenCredential::new(&user.access_token.expect("token").token).expect("credential");
    let as_user = RelayClient::with_user_token(service.endpoint(), token, &service.options)
        .expect("relay client");
    let mine = as_user
        .issue_relay_configuration(Some(&user.identity.id), None, None)
        .await
        .expect("relay configuration for the user");
    let ice = mine.to_ice_servers();
    assert!(
        ice.iter()
            .all(|s| s.username.ends_with(&format!(":{}", user.identity.id))),
        "{ice:?}"
    );
}

/// The next event of `stream` that `pick` accepts, within five seconds.
async fn next_matching<T>(
    stream: &mut ChatEventStream,
    mut pick: impl FnMut(ChatEvent) -> Option<T>,
) -> T {
    let wait = async {
        while let Some(event) = stream.next().await {
            if let Some(found) = pick(event.expect("event")) {
                return found;
            }
        }
        panic!("stream ended");
    };
    tokio::time::timeout(Duration::from_secs(5), wait)
        .await
        .expect("event in time")
}

#[tokio::test]
async fn chat_threads_messages_participants_receipts_typing_and_realtime() {
    let service = Service::start(1).await;
    let identity = service.identity();
    let (bob_id, bob) = service.chat_user().await;
    let (carol_id, _carol) = service.chat_user().await;

    // Alice's token comes from a refresher (her application's server), fetched on first use.
    let alice = identity
        .create_user(None, None)
        .await
        .expect("alice")
        .identity
        .id;
    let refreshes = Arc::new(AtomicU32::new(0));
    let refresher: TokenRefresher = {
        let (identity, alice, refreshes) = (identity.clone(), alice.clone(), refreshes.clone());
        Arc::new(move || {
            let (identity, alice, refreshes) = (identity.clone(), alice.clone(), refreshes.clone());
            Box::pin(async move {
                refreshes.fetch_add(1, Ordering::SeqCst);
                Ok(identity
                    .issue_token(&alice, &[TokenScope::Chat], None)
                    .await?
                    .token)
            })
        })
    };
    let credential = UserTokenCredential::with_refresher(None, refresher, Duration::from_secs(600))
        .expect("credential");
    let alice_chat =
        ChatClient::new(service.endpoint(), credential, &service.options).expect("chat client");

    let mut bob_events = bob.notifications().await.expect("bob's stream");
    next_matching(&mut bob_events, |e| {
        (e == ChatEvent::Connected).then_some(())
    })
    .await;

    let created = alice_chat
        .create_thread("planning", &[ChatParticipant::user(&bob_id, Some("Bob"))])
        .await
        .expect("create thread");
    assert!(created.invalid_participants.is_empty(), "{created:?}");
    let thread_id = created.chat_thread.id.clone();
    assert!(thread_id.starts_with("19:") && thread_id.ends_with("@thread.v2"));
    let topic = next_matching(&mut bob_events, |e| match e {
        ChatEvent::ThreadCreated(t) => Some(t.properties.map(|p| p.topic)),
        _ => None,
    })
    .await;
    assert_eq!(topic.as_deref(), Some("planning"));

    let thread = alice_chat.thread(&thread_id);
    let mut sent = Vec::new();
    for i in 0..5 {
        let message = SendChatMessage {
            sender_display_name: Some("Alice".into()),
            metadata: Some(BTreeMap::from([("n".to_owned(), i.to_string())])),
            ..SendChatMessage::text(&format!("message {i}"))
        };
        sent.push(thread.send_message(&message).await.expect("send"));
    }
    let received = next_matching(&mut bob_events, |e| match e {
        ChatEvent::MessageReceived(m) => Some(m),
        _ => None,
    })
    .await;
    assert_eq!(received.thread_id, thread_id);
    assert_eq!(received.id, sent[0]);
    assert_eq!(received.message.as_deref(), Some("message 0"));
    assert_eq!(received.sender_display_name, "Alice");
    assert_eq!(
        received.recipient.as_ref().and_then(|r| r.id()),
        Some(bob_id.as_str())
    );

    // Paged: 5 messages and 2 system messages (topic, participants), two per page.
    let mut pager = thread.list_messages(Some(2), None);
    let mut pages = 0;
    let mut listed = Vec::new();
    while let Some(page) = pager.next_page().await.expect("page") {
        assert!(page.len() <= 2);
        pages += 1;
        listed.extend(page);
    }
    assert_eq!((pages, listed.len()), (4, 7), "{listed:?}");
    let texts: Vec<_> = listed
        .iter()
        .filter(|m| m.kind == "text")
        .map(|m| m.id.clone())
        .collect();
    assert_eq!(
        texts,
        sent.iter().rev().cloned().collect::<Vec<_>>(),
        "newest first"
    );

    thread
        .update_message(&sent[1], Some("edited"), None)
        .await
        .expect("edit");
    let edited = thread.get_message(&sent[1]).await.expect("get");
    assert_eq!(
        edited.content.and_then(|c| c.message).as_deref(),
        Some("edited")
    );
    assert!(edited.edited_on.is_some());
    thread.delete_message(&sent[2]).await.expect("delete");
    assert!(
        thread
            .get_message(&sent[2])
            .await
            .expect("tombstone")
            .deleted_on
            .is_some()
    );

    // Participants.
    let invalid = thread
        .add_participants(&[
            ChatParticipant::user(&carol_id, Some("Carol")),
            ChatParticipant::user("8:acs:nobody_0", None),
        ])
        .await
        .expect("add");
    assert_eq!(invalid.len(), 1, "{invalid:?}");
    assert_eq!(invalid[0].target.as_deref(), Some("8:acs:nobody_0"));
    let participants = thread
        .list_participants(Some(1))
        .collect_all()
        .await
        .expect("participants");
    assert_eq!(participants.len(), 3, "{participants:?}");
    thread
        .remove_participant(&CommunicationIdentifier::user(&carol_id))
        .await
        .expect("remove");
    assert_eq!(
        thread
            .list_participants(None)
            .collect_all()
            .await
            .expect("participants")
            .len(),
        2
    );

    // Read receipts and typing, seen by Bob in real time.
    let bobs_thread = bob.thread(&thread_id);
    bobs_thread
        .send_read_receipt(&sent[4])
        .await
        .expect("read receipt");
    let receipts = thread
        .list_read_receipts(None)
        .collect_all()
        .await
        .expect("receipts");
    assert_eq!(receipts.len(), 1, "{receipts:?}");
    assert_eq!(receipts[0].chat_message_id, sent[4]);
    assert_eq!(
        receipts[0].sender_communication_identifier.id(),
        Some(bob_id.as_str())
    );
    thread.send_typing(Some("Alice")).await.expect("typing");
    let typing = next_matching(&mut bob_events, |e| match e {
        ChatEvent::TypingIndicatorReceived(t) => Some(t),
        _ => None,
    })
    .await;
    assert_eq!(typing.sender_display_name, "Alice");

    thread.update_topic("renamed").await.expect("rename");
    assert_eq!(
        thread.properties().await.expect("properties").topic,
        "renamed"
    );
    let threads = bob.list_threads(None).collect_all().await.expect("threads");
    assert!(threads.iter().any(|t| t.id == thread_id), "{threads:?}");

    // The creator's token was fetched once and reused.
    assert_eq!(refreshes.load(Ordering::SeqCst), 1);

    alice_chat.delete_thread(&thread_id).await.expect("delete");
    let gone = thread.properties().await.expect_err("deleted thread");
    assert_eq!(gone.status(), Some(404), "{gone}");
}

#[tokio::test]
async fn sms_to_two_numbers_over_plain_http() {
    let service = Service::start(1).await;
    // The plain-HTTP port: HMAC signing covers `host:port` of the http endpoint.
    let sms =
        SmsClient::from_connection_string(&service.http_connection_string(), &service.options)
            .expect("sms client");
    let results = sms
        .send(
            "+18005550100",
            &["+14255550101", "+14255550102"],
            "hello from MediaCore",
            &SmsSendOptions {
                enable_delivery_report: true,
                tag: Some("t1".into()),
            },
        )
        .await
        .expect("send");
    assert_eq!(results.len(), 2, "{results:?}");
    for (result, to) in results.iter().zip(["+14255550101", "+14255550102"]) {
        assert_eq!(result.to, to);
        assert!(
            result.successful && result.http_status_code == 202,
            "{result:?}"
        );
        assert!(result.message_id.is_some());
    }
    let bad = sms
        .send("+18005550100", &["12"], "x", &SmsSendOptions::default())
        .await
        .expect("per-recipient failure is not an error");
    assert!(
        !bad[0].successful && bad[0].error_message.is_some(),
        "{bad:?}"
    );
}

#[tokio::test]
async fn email_send_runs_to_completion_into_smtp() {
    let sink = smtp::SmtpSink::start().await;
    let service = Service::start(sink.port).await;
    let email =
        EmailClient::from_connection_string(&service.running.connection_string, &service.options)
            .expect("email client");
    let message = EmailMessage {
        sender_address: "DoNotReply@mediacore.test".into(),
        content: EmailContent {
            subject: "MediaCore adapters".into(),
            plain_text: Some("sent by media_core::rest".into()),
            html: None,
        },
        recipients: EmailRecipients {
            to: vec![EmailAddress::new("a@example.test")],
            cc: Vec::new(),
            bcc: vec![EmailAddress::new("hidden@example.test")],
        },
        ..EmailMessage::default()
    };
    let started = Instant::now();
    let poller = email
        .begin_send(&message, Some("op-mediacore-1"))
        .await
        .expect("begin send");
    assert_eq!(poller.operation_id(), "op-mediacore-1");
    let done = poller.wait().await.expect("operation succeeds");
    assert_eq!(done.status, "Succeeded");
    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0].mail_from, "DoNotReply@mediacore.test");
    assert_eq!(
        messages[0].rcpt_to,
        vec![
            "a@example.test".to_owned(),
            "hidden@example.test".to_owned()
        ]
    );
    assert!(messages[0].data.contains("sent by media_core::rest"));
    eprintln!("email delivered in {:?}", started.elapsed());

    // A recipient the relay refuses ends the operation Failed: an error naming it.
    let mut refused = message.clone();
    refused.recipients = EmailRecipients {
        to: vec![EmailAddress::new("reject@example.test")],
        ..EmailRecipients::default()
    };
    let failed = email.send(&refused, None).await.expect_err("refused");
    assert!(
        matches!(&failed, RestError::OperationFailed { status, .. } if status == "Failed"),
        "{failed}"
    );
}

#[tokio::test]
async fn wrong_key_is_401_with_the_acs_code() {
    let service = Service::start(1).await;
    let wrong = format!(
        "endpoint={};accesskey=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        service.running.endpoint
    );
    let identity =
        IdentityClient::from_connection_string(&wrong, &service.options).expect("client");
    let err = identity
        .create_user(None, None)
        .await
        .expect_err("wrong key");
    match &err {
        RestError::Service {
            what,
            status,
            code,
            message,
            ..
        } => {
            assert_eq!((what.as_str(), *status), ("identity: create user", 401));
            assert_eq!(code, "Denied");
            assert!(!message.is_empty());
        }
        other => panic!("not a service error: {other}"),
    }
}

/// A local stub that answers 429 (or `first_status`) with `retry_headers` `fail_times`
/// times, then 201 with a user; counts requests.
async fn stub(
    first_status: StatusCode,
    retry_headers: &'static [(&'static str, &'static str)],
    fail_times: u32,
) -> (String, Arc<AtomicU32>) {
    let count = Arc::new(AtomicU32::new(0));
    let seen = Arc::clone(&count);
    let app = axum::Router::new().fallback(move |headers: HeaderMap| {
        let seen = Arc::clone(&seen);
        async move {
            assert!(headers.contains_key("x-ms-content-sha256"), "signed");
            let n = seen.fetch_add(1, Ordering::SeqCst);
            if n < fail_times {
                let mut response = (
                    first_status,
                    [("content-type", "application/json")],
                    r#"{"error":{"code":"TooManyRequests","message":"slow down"}}"#,
                )
                    .into_response();
                for (name, value) in retry_headers {
                    response
                        .headers_mut()
                        .insert(*name, value.parse().expect("header value"));
                }
                response
            } else {
                (
                    StatusCode::CREATED,
                    [("content-type", "application/json")],
                    r#"{"identity":{"id":"8:acs:stub_1"}}"#,
                )
                    .into_response()
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind stub");
    let addr = listener.local_addr().expect("stub address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (
        format!("endpoint=http://{addr}/;accesskey=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="),
        count,
    )
}

#[tokio::test]
async fn throttling_is_retried_after_the_given_time() {
    let (cs, count) = stub(StatusCode::TOO_MANY_REQUESTS, &[("retry-after", "1")], 1).await;
    let options = ClientOptions {
        retry: RetryPolicy {
            // A backoff far longer than the test: only Retry-After can make it pass in time.
            backoff_factor: Duration::from_secs(60),
            ..RetryPolicy::default()
        },
        ..ClientOptions::default()
    };
    let identity = IdentityClient::from_connection_string(&cs, &options).expect("client");
    let started = Instant::now();
    let user = tokio::time::timeout(Duration::from_secs(10), identity.create_user(None, None))
        .await
        .expect("in time")
        .expect("retried to success");
    let waited = started.elapsed();
    assert_eq!(user.identity.id, "8:acs:stub_1");
    assert_eq!(count.load(Ordering::SeqCst), 2);
    assert!(
        waited >= Duration::from_secs(1) && waited < Duration::from_secs(5),
        "{waited:?}"
    );

    // retry-after-ms wins over Retry-After.
    let (cs, count) = stub(
        StatusCode::TOO_MANY_REQUESTS,
        &[("retry-after-ms", "100"), ("retry-after", "30")],
        2,
    )
    .await;
    let identity = IdentityClient::from_connection_string(&cs, &options).expect("client");
    let started = Instant::now();
    identity.create_user(None, None).await.expect("retried");
    assert_eq!(count.load(Ordering::SeqCst), 3);
    assert!(started.elapsed() < Duration::from_secs(5));

    // A POST answered 503 is not repeated (the service may have acted), Retry-After or not.
    let (cs, count) = stub(StatusCode::SERVICE_UNAVAILABLE, &[("retry-after", "0")], 1).await;
    let identity = IdentityClient::from_connection_string(&cs, &options).expect("client");
    let err = identity.create_user(None, None).await.expect_err("503");
    assert_eq!(err.status(), Some(503));
    assert_eq!(count.load(Ordering::SeqCst), 1);

    // Attempts are bounded: 1 + max_retries.
    let bounded = ClientOptions {
        retry: RetryPolicy {
            max_retries: 2,
            ..RetryPolicy::default()
        },
        ..ClientOptions::default()
    };
    let (cs, count) = stub(StatusCode::TOO_MANY_REQUESTS, &[("retry-after", "0")], 100).await;
    let identity = IdentityClient::from_connection_string(&cs, &bounded).expect("client");
    let err = identity
        .create_user(None, None)
        .await
        .expect_err("throttled");
    assert_eq!(
        (err.status(), err.code()),
        (Some(429), Some("TooManyRequests"))
    );
    assert_eq!(count.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn transport_failures_name_the_call() {
    let quick = ClientOptions {
        retry: RetryPolicy {
            max_retries: 1,
            backoff_factor: Duration::from_millis(10),
            ..RetryPolicy::default()
        },
        ..ClientOptions::default()
    };
    // Nothing listens on a port just freed: connection refused, retried once, then an error.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    let cs = format!("endpoint=http://127.0.0.1:{port}/;accesskey=AAAA");
    let identity = IdentityClient::from_connection_string(&cs, &quick).expect("client");
    let err = identity.create_user(None, None).await.expect_err("refused");
    assert!(matches!(err, RestError::Transport { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("identity: create user: transport:"),
        "{err}"
    );

    // The service's certificate is not trusted without its CA.
    let service = Service::start(1).await;
    let untrusting =
        IdentityClient::from_connection_string(&service.running.connection_string, &quick)
            .expect("client");
    let err = untrusting
        .create_user(None, None)
        .await
        .expect_err("untrusted certificate");
    assert!(
        matches!(err, RestError::Transport { .. }) && err.to_string().contains("certificate"),
        "{err}"
    );
}
