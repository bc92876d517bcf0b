//! MediaCore's platform services on the local service, through MediaCore's own REST adapters
//! (`media_core::rest`): two users and their tokens, a chat with a real-time notification, an
//! SMS to two numbers, an email with an attachment into an SMTP sink, and a call placed through
//! the service's signaling, relayed through the TURN server the service's relay configuration
//! names.
//!
//! `platform-demo CONNECTION_STRING CA_PEM SINK_DIR OUT_DIR`
//!
//! `make run` starts the service (with an Event Grid webhook receiver that prints every event it
//! is sent), coturn and the SMTP sink, then runs this. Pointing it at a real Azure
//! Communication Services resource is a matter of its connection string (and no CA).

#[path = "call_report.rs"]
mod call_report;
#[path = "pesq_score.rs"]
mod pesq_score;

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine as _;
use futures_util::StreamExt;
use media_core::call::AudioSide;
use media_core::call::session::SessionEvent;
use media_core::call::udp::{Call, CallEvent, CallOptions};
use media_core::net::transport::TransportState;
use media_core::rest::chat::ChatParticipant;
use media_core::rest::email::{EmailAddress, EmailAttachment, EmailContent, EmailRecipients};
use media_core::rest::relay::RouteType;
use media_core::rest::{
    CallHandle, CallingClient, CallingEvent, CallingEventStream, ChatClient, ChatEvent,
    ClientOptions, EmailClient, EmailMessage, Endpoint, IdentityClient, RelayClient,
    SendChatMessage, SmsClient, SmsSendOptions, TokenScope, UserTokenCredential,
};

/// The resource's own numbers (the service is started with these in `sms.numbers`).
const FROM_NUMBER: &str = "+18005550100";
const LOCAL_NUMBER: &str = "+18005550101";
/// A number the resource does not own: handed to the SMS gateway, which reports delivery.
const OTHER_NUMBER: &str = "+14255550123";

fn main() {
    call_report::run("platform-demo", demo());
}

struct Args {
    connection_string: String,
    ca_pem: PathBuf,
    sink_dir: PathBuf,
    out_dir: PathBuf,
}

fn parse_args() -> Result<Args, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [conn, ca, sink, out] => Ok(Args {
            connection_string: conn.clone(),
            ca_pem: PathBuf::from(ca),
            sink_dir: PathBuf::from(sink),
            out_dir: PathBuf::from(out),
        }),
        _ => Err("usage: platform-demo CONNECTION_STRING CA_PEM SINK_DIR OUT_DIR".into()),
    }
}

/// A user of the demo: id, token and the clients acting as that user.
struct User {
    name: &'static str,
    id: String,
    token: String,
}

async fn demo() -> Result<(), String> {
    let args = parse_args()?;
    let ca = std::fs::read(&args.ca_pem).map_err(|e| format!("{}: {e}", args.ca_pem.display()))?;
    let options = ClientOptions {
        extra_ca_pem: vec![ca],
        ..ClientOptions::default()
    };
    let endpoint_text = args
        .connection_string
        .split(';')
        .find_map(|p| p.strip_prefix("endpoint="))
        .ok_or("the connection string has no endpoint")?;
    let endpoint = Endpoint::parse(endpoint_text).map_err(|e| e.to_string())?;
    println!(
        "MediaCore {} — platform services at {endpoint_text} through media_core::rest",
        media_core::VERSION
    );

    // Identity: the application's server makes users and tokens with the access key.
    let identity = IdentityClient::from_connection_string(&args.connection_string, &options)
        .map_err(|e| e.to_string())?;
    let mut users = Vec::new();
    for name in ["Alice", "Bob"] {
        let created = identity
            .create_user(Some(&[TokenScope::Chat, TokenScope::Voip]), None)
            .await
            .map_err(|e| format!("create user {name}: {e}"))?;
        let token = created
            .access_token
            .ok_or("the service made a user without the token asked for")?;
        println!(
            "identity: {name} is {} (chat+voip token, expires {})",
            created.identity.id, token.expires_on
        );
        users.push(User {
            name,
            id: created.identity.id,
            token: token.token,
        });
    }
    let [alice, bob] = <[User; 2]>::try_from(users).map_err(|_| "two users")?;

    chat(&endpoint, &options, &alice, &bob).await?;
    sms(&args.connection_string, &options).await?;
    email(&args.connection_string, &options, &args.sink_dir).await?;
    call(&endpoint, &options, &alice, &bob, &args.out_dir).await?;
    Ok(())
}

fn chat_client(
    endpoint: &Endpoint,
    options: &ClientOptions,
    user: &User,
) -> Result<ChatClient, String> {
    let credential = UserTokenCredential::new(&user.token).map_err(|e| e.to_string())?;
    ChatClient::new(endpoint.clone(), credential, options).map_err(|e| e.to_string())
}

/// Alice starts a thread with Bob and writes; Bob is told at once over his real-time stream,
/// reads the history and sends a read receipt.
async fn chat(
    endpoint: &Endpoint,
    options: &ClientOptions,
    alice: &User,
    bob: &User,
) -> Result<(), String> {
    let alice_chat = chat_client(endpoint, options, alice)?;
    let bob_chat = chat_client(endpoint, options, bob)?;
    let mut bob_events = bob_chat
        .notifications()
        .await
        .map_err(|e| format!("Bob's notifications: {e}"))?;
    let created = alice_chat
        .create_thread(
            "MediaCore demo",
            &[ChatParticipant::user(&bob.id, Some(bob.name))],
        )
        .await
        .map_err(|e| format!("create thread: {e}"))?;
    let thread_id = created.chat_thread.id;
    println!(
        "chat: {} created thread {thread_id} with {}",
        alice.name, bob.name
    );
    let sent_at = Instant::now();
    let message_id = alice_chat
        .thread(&thread_id)
        .send_message(&SendChatMessage {
            sender_display_name: Some(alice.name.into()),
            ..SendChatMessage::text("Hello Bob — calling you in a second.")
        })
        .await
        .map_err(|e| format!("send message: {e}"))?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let received = loop {
        match tokio::time::timeout_at(deadline, bob_events.next()).await {
            Ok(Some(Ok(ChatEvent::MessageReceived(m)))) if m.id == message_id => break m,
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(e))) => return Err(format!("Bob's notifications: {e}")),
            Ok(None) => return Err("Bob's notification stream ended".into()),
            Err(_) => return Err("Bob was not notified of the message within 10 s".into()),
        }
    };
    println!(
        "chat: {} got \"{}\" from {} over the real-time stream {:.1} ms after the send began",
        bob.name,
        received.message.unwrap_or_default(),
        received.sender_display_name,
        sent_at.elapsed().as_secs_f64() * 1000.0
    );
    let bob_thread = bob_chat.thread(&thread_id);
    let count = bob_thread
        .list_messages(None, None)
        .collect_all()
        .await
        .map_err(|e| format!("list messages: {e}"))?
        .len();
    bob_thread
        .send_read_receipt(&message_id)
        .await
        .map_err(|e| format!("read receipt: {e}"))?;
    println!(
        "chat: {} lists {count} messages in the thread (with the service's topic and participant notes) and sends a read receipt",
        bob.name
    );
    Ok(())
}

/// One SMS to a number of the resource (arrives as an SMSReceived event) and one to another
/// number (handed to the gateway, which reports delivery).
async fn sms(connection_string: &str, options: &ClientOptions) -> Result<(), String> {
    let sms =
        SmsClient::from_connection_string(connection_string, options).map_err(|e| e.to_string())?;
    let results = sms
        .send(
            FROM_NUMBER,
            &[LOCAL_NUMBER, OTHER_NUMBER],
            "MediaCore demo: your call starts now.",
            &SmsSendOptions {
                enable_delivery_report: true,
                tag: Some("demo".into()),
            },
        )
        .await
        .map_err(|e| format!("send SMS: {e}"))?;
    for r in &results {
        println!(
            "sms: {FROM_NUMBER} → {}: {} {} ({})",
            r.to,
            r.http_status_code,
            if r.successful { "accepted" } else { "refused" },
            r.message_id
                .as_deref()
                .or(r.error_message.as_deref())
                .unwrap_or("-")
        );
    }
    if results.iter().any(|r| !r.successful) {
        return Err("an SMS recipient was refused".into());
    }
    Ok(())
}

/// An email with an attachment, sent as a long-running operation and polled to its end; then
/// the message as the SMTP sink received it.
async fn email(
    connection_string: &str,
    options: &ClientOptions,
    sink_dir: &Path,
) -> Result<(), String> {
    let email = EmailClient::from_connection_string(connection_string, options)
        .map_err(|e| e.to_string())?
        .with_poll_interval(Duration::from_millis(200));
    let attachment = "caller,callee\nAlice,Bob\n";
    let message = EmailMessage {
        sender_address: "DoNotReply@mediacore.demo".into(),
        content: EmailContent {
            subject: "MediaCore demo: call summary".into(),
            plain_text: Some("Alice called Bob; the summary is attached.".into()),
            html: Some("<p>Alice called Bob; the summary is attached.</p>".into()),
        },
        recipients: EmailRecipients {
            to: vec![EmailAddress::new("bob@example.test")],
            ..EmailRecipients::default()
        },
        attachments: vec![EmailAttachment {
            name: "summary.csv".into(),
            content_type: "text/csv".into(),
            content_in_base64: base64::engine::general_purpose::STANDARD.encode(attachment),
            content_id: None,
        }],
        ..EmailMessage::default()
    };
    let started = Instant::now();
    let poller = email
        .begin_send(&message, None)
        .await
        .map_err(|e| format!("send email: {e}"))?;
    let operation = poller.operation_id().to_owned();
    let done = poller
        .wait()
        .await
        .map_err(|e| format!("email operation {operation}: {e}"))?;
    println!(
        "email: operation {operation} {} in {:.0} ms",
        done.status,
        started.elapsed().as_secs_f64() * 1000.0
    );
    let received = newest_mail(sink_dir)?;
    println!(
        "email: the SMTP sink holds {} ({} bytes, subject \"{}\", attachment summary.csv: {})",
        received.0.display(),
        received.1.len(),
        header(&received.1, "Subject").unwrap_or_default(),
        if received.1.contains("summary.csv") {
            "present"
        } else {
            "MISSING"
        }
    );
    if !received.1.contains("summary.csv") {
        return Err("the mail in the sink lacks its attachment".into());
    }
    Ok(())
}

/// The newest `.eml` in the sink's folder and its text.
fn newest_mail(dir: &Path) -> Result<(PathBuf, String), String> {
    let newest = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .max_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .ok_or_else(|| format!("no mail in {}", dir.display()))?;
    let text =
        std::fs::read_to_string(&newest).map_err(|e| format!("{}: {e}", newest.display()))?;
    Ok((newest, text))
}

fn header(message: &str, name: &str) -> Option<String> {
    message
        .lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_owned))
}

/// One side of the signaled call: its engine's `Call`, its signaling client and stream.
struct Party {
    name: &'static str,
    calling: CallingClient,
    events: CallingEventStream,
    call: Call,
}

impl Party {
    /// Registers `user` for calls, fetches relay credentials for them from the service, and
    /// makes a relay-only call with them.
    async fn new(
        endpoint: &Endpoint,
        options: &ClientOptions,
        user: &User,
        ssrc: u32,
    ) -> Result<(Self, AudioSide), String> {
        let credential = || UserTokenCredential::new(&user.token).map_err(|e| e.to_string());
        let calling = CallingClient::new(endpoint.clone(), credential()?, options)
            .map_err(|e| e.to_string())?;
        let registration = calling
            .register()
            .await
            .map_err(|e| format!("{}: register for calls: {e}", user.name))?;
        let events = calling
            .events(&registration.id)
            .await
            .map_err(|e| format!("{}: signaling stream: {e}", user.name))?;
        let relay = RelayClient::with_user_token(endpoint.clone(), credential()?, options)
            .map_err(|e| e.to_string())?
            .issue_relay_configuration(Some(&user.id), Some(RouteType::Any), None)
            .await
            .map_err(|e| format!("{}: relay configuration: {e}", user.name))?;
        let servers = relay.to_ice_servers();
        println!(
            "relay: {} gets {} (TURN REST credentials until {})",
            user.name,
            servers
                .iter()
                .flat_map(|s| s.urls.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(", "),
            relay.expires_on
        );
        let mut o = CallOptions::new(ssrc, user.name);
        o.bind = vec![IpAddr::V4(Ipv4Addr::LOCALHOST)];
        o.session.audio.encoder.bitrate_bps = 48_000;
        o.ice_servers = servers;
        o.relay_only = true;
        let (call, audio) = Call::new(o)
            .await
            .map_err(|e| format!("{}: call: {e}", user.name))?;
        Ok((
            Self {
                name: user.name,
                calling,
                events,
                call,
            },
            audio,
        ))
    }

    /// Drives signaling until the media path is up: answers an incoming call (callee), takes
    /// the answer (caller), trickles local candidates through the service as they are
    /// gathered and hands remote ones to the call. Returns the call's signaling handle.
    async fn connect(&mut self, mut handle: Option<CallHandle>) -> Result<CallHandle, String> {
        let name = self.name;
        let fail = |what: &str, e: &dyn std::fmt::Display| format!("{name}: {what}: {e}");
        let (mut pending, mut gathered) = (Vec::new(), false);
        loop {
            tokio::select! {
                event = self.call.next_event() => match event {
                    Some(CallEvent::LocalCandidate(line)) => match &handle {
                        Some(h) => h.send_candidates(&[line]).await.map_err(|e| fail("candidate", &e))?,
                        None => pending.push(line),
                    },
                    Some(CallEvent::GatheringComplete) => {
                        gathered = true;
                        if let Some(h) = &handle {
                            h.end_of_candidates().await.map_err(|e| fail("end of candidates", &e))?;
                        }
                    }
                    Some(CallEvent::Session(SessionEvent::State(TransportState::Connected))) => {
                        return handle.ok_or_else(|| format!("{name}: connected without a call"));
                    }
                    Some(CallEvent::Session(SessionEvent::Failure(why))) => {
                        return Err(fail("call failed", &why));
                    }
                    Some(_) => {}
                    None => return Err(format!("{name}: the call ended before connecting")),
                },
                event = self.events.next() => match event {
                    Some(Ok(CallingEvent::IncomingCall(incoming))) => {
                        println!(
                            "call: {name}'s engine rings: {} calls (call {})",
                            incoming.caller_display_name.as_deref().unwrap_or("someone"),
                            incoming.call_id
                        );
                        let offer = incoming.offer_sdp.unwrap_or_default();
                        let answer = self.call.accept_offer(&offer).await.map_err(|e| fail("answer", &e))?;
                        let h = self.calling.call(&incoming.call_id);
                        h.answer(&without_candidates(&answer)).await.map_err(|e| fail("answer the call", &e))?;
                        if !pending.is_empty() {
                            h.send_candidates(&pending).await.map_err(|e| fail("candidates", &e))?;
                            pending.clear();
                        }
                        if gathered {
                            h.end_of_candidates().await.map_err(|e| fail("end of candidates", &e))?;
                        }
                        handle = Some(h);
                    }
                    Some(Ok(CallingEvent::CallAnswered(answered))) => {
                        let sdp = answered.answer_sdp.unwrap_or_default();
                        self.call.accept_answer(&sdp).await.map_err(|e| fail("accept answer", &e))?;
                    }
                    Some(Ok(CallingEvent::RemoteCandidates(remote))) => {
                        for line in &remote.candidates {
                            self.call.add_remote_candidate(line).await.map_err(|e| fail("remote candidate", &e))?;
                        }
                    }
                    Some(Ok(CallingEvent::CallEnded(ended))) => {
                        return Err(format!("{name}: the call ended before connecting: {:?}", ended.reason));
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(fail("signaling stream", &e)),
                    None => return Err(format!("{name}: the signaling stream ended")),
                },
            }
        }
    }

    /// Waits for the service to say the call ended.
    async fn ended(&mut self) -> Result<String, String> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            match tokio::time::timeout_at(deadline, self.events.next()).await {
                Ok(Some(Ok(CallingEvent::CallEnded(e)))) => {
                    return Ok(format!("{:?}", e.reason.kind()));
                }
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(e))) => return Err(format!("{}: signaling stream: {e}", self.name)),
                Ok(None) => return Err(format!("{}: the signaling stream ended", self.name)),
                Err(_) => return Err(format!("{}: no end of call within 10 s", self.name)),
            }
        }
    }
}

/// A description without its candidates: they go by trickle through the service instead.
fn without_candidates(sdp: &str) -> String {
    sdp.split_inclusive("\r\n")
        .filter(|l| !l.starts_with("a=candidate:") && !l.starts_with("a=end-of-candidates"))
        .collect()
}

/// Alice calls Bob through the service's signaling, relay-only with the relay configuration
/// the service issues to each of them; they talk, Alice hangs up.
async fn call(
    endpoint: &Endpoint,
    options: &ClientOptions,
    alice: &User,
    bob: &User,
    out_dir: &Path,
) -> Result<(), String> {
    let root = call_report::repo_root();
    let [speech_a, speech_b] = call_report::speech_paths(&root);
    std::fs::create_dir_all(out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let (mut a, audio_a) = Party::new(endpoint, options, alice, 0xa).await?;
    let (mut b, audio_b) = Party::new(endpoint, options, bob, 0xb).await?;

    let started = Instant::now();
    let offer = a
        .call
        .create_offer()
        .await
        .map_err(|e| format!("offer: {e}"))?;
    let placed = a
        .calling
        .place_with_name(&bob.id, &without_candidates(&offer), Some(alice.name))
        .await
        .map_err(|e| format!("place the call: {e}"))?;
    println!(
        "call: {} places call {} to {}",
        alice.name,
        placed.id(),
        bob.name
    );
    let connecting = async { tokio::try_join!(a.connect(Some(placed)), b.connect(None)) };
    let (placed, _answered) = tokio::time::timeout(Duration::from_secs(20), connecting)
        .await
        .map_err(|_| "the call did not connect within 20 s".to_owned())??;
    let stats = a.call.stats().await.map_err(|e| e.to_string())?;
    println!(
        "call: connected in {:.1} ms (offer → answer and trickled candidates through the service → ICE + DTLS); A's pair {}",
        started.elapsed().as_secs_f64() * 1000.0,
        stats
            .selected_pair
            .map(|p| format!(
                "{} ({}) ↔ {} ({})",
                p.local, p.local_type, p.remote, p.remote_type
            ))
            .unwrap_or_default()
    );
    call_report::converse(
        &root,
        [(&a.call, audio_a, &speech_a), (&b.call, audio_b, &speech_b)],
        out_dir,
    )
    .await?;
    placed
        .hang_up()
        .await
        .map_err(|e| format!("hang up: {e}"))?;
    a.call.hang_up().await.map_err(|e| e.to_string())?;
    let reason = b.ended().await?;
    b.call.hang_up().await.map_err(|e| e.to_string())?;
    println!(
        "call: {} hung up; {}'s engine was told ({reason}) and hung up too",
        alice.name, bob.name
    );
    Ok(())
}
