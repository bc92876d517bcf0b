//! What chat operations announce: outbox rows (Event Grid events, written with the change) and
//! real-time notifications on `GET /chat/realtime`.

mod support;

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::chat::*;
use support::*;

fn types(events: &[StoredEvent]) -> Vec<&str> {
    events
        .iter()
        .map(|e| {
            e.event_type
                .strip_prefix("Microsoft.Communication.")
                .expect("ACS event type")
        })
        .collect()
}

#[tokio::test]
async fn outbox_rows_per_operation() {
    let t = TestService::start().await;
    let (alice, bob, carol) = (
        t.chat_user().await,
        t.chat_user().await,
        t.chat_user().await,
    );
    let thread = t.thread(&alice, "events", &[&bob, &carol]).await;
    let created = t.outbox();
    let mut created_types = types(&created);
    created_types.sort();
    assert_eq!(
        created_types,
        [
            "ChatThreadCreated",
            "ChatThreadCreatedWithUser",
            "ChatThreadCreatedWithUser",
            "ChatThreadCreatedWithUser"
        ]
    );
    let in_thread = created
        .iter()
        .find(|e| e.event_type.ends_with("ChatThreadCreated"))
        .expect("in-thread event");
    assert_eq!(in_thread.data["threadId"], thread.as_str());
    assert_eq!(in_thread.data["properties"]["topic"], "events");
    assert_eq!(
        in_thread.data["createdByCommunicationIdentifier"]["rawId"],
        alice.id
    );
    assert_eq!(
        in_thread.data["participants"]
            .as_array()
            .expect("list")
            .len(),
        3
    );
    assert_eq!(
        in_thread.subject,
        format!("thread/{thread}/createdBy/{}", alice.id)
    );
    let transaction = in_thread.data["transactionId"].clone();
    assert!(
        created
            .iter()
            .all(|e| e.data["transactionId"] == transaction)
    );

    let id = t.message(&alice, &thread, "hello").await;
    let sent: Vec<StoredEvent> = t.outbox().split_off(created.len());
    let mut sent_types = types(&sent);
    sent_types.sort();
    assert_eq!(
        sent_types,
        [
            "ChatMessageReceived",
            "ChatMessageReceived",
            "ChatMessageReceivedInThread"
        ],
        "one per recipient, the sender excluded"
    );
    let per_user: Vec<&StoredEvent> = sent
        .iter()
        .filter(|e| e.event_type.ends_with("ChatMessageReceived"))
        .collect();
    let mut recipients: Vec<&str> = per_user
        .iter()
        .map(|e| {
            e.data["recipientCommunicationIdentifier"]["rawId"]
                .as_str()
                .expect("recipient")
        })
        .collect();
    recipients.sort();
    let mut want = vec![bob.id.as_str(), carol.id.as_str()];
    want.sort();
    assert_eq!(recipients, want);
    let e = per_user[0];
    assert_eq!(e.data["messageId"], id.as_str());
    assert_eq!(e.data["messageBody"], "hello");
    assert_eq!(e.data["type"], "Text");
    assert_eq!(e.data["senderCommunicationIdentifier"]["rawId"], alice.id);
    assert!(e.data["version"].is_i64() && e.data["composeTime"].is_string());
    let r = e.data["recipientCommunicationIdentifier"]["rawId"]
        .as_str()
        .expect("recipient");
    assert_eq!(
        e.subject,
        format!("thread/{thread}/sender/{}/recipient/{r}", alice.id)
    );

    let n = t.outbox().len();
    let (s, _) = t
        .as_user(
            &alice,
            Method::PATCH,
            &format!("/chat/threads/{thread}/messages/{id}"),
            Some(json!({"content": "hello!"})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = t
        .as_user(
            &alice,
            Method::DELETE,
            &format!("/chat/threads/{thread}/messages/{id}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = t
        .as_user(
            &alice,
            Method::POST,
            &format!("/chat/threads/{thread}/participants/:remove"),
            Some(identifier(&carol)),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = t
        .as_user(
            &alice,
            Method::PATCH,
            &format!("/chat/threads/{thread}"),
            Some(json!({"topic": "renamed"})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = t
        .as_user(
            &alice,
            Method::DELETE,
            &format!("/chat/threads/{thread}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let later = t.outbox().split_off(n);
    let count = |name: &str| types(&later).iter().filter(|t| **t == name).count();
    assert_eq!(count("ChatMessageEditedInThread"), 1);
    assert_eq!(count("ChatMessageEdited"), 2);
    assert_eq!(count("ChatMessageDeletedInThread"), 1);
    assert_eq!(count("ChatMessageDeleted"), 2);
    assert_eq!(count("ChatThreadParticipantRemoved"), 1);
    assert_eq!(
        count("ChatParticipantRemovedFromThreadWithUser"),
        3,
        "the removed one too"
    );
    assert_eq!(count("ChatThreadPropertiesUpdated"), 1);
    assert_eq!(count("ChatThreadPropertiesUpdatedPerUser"), 2);
    assert_eq!(count("ChatThreadDeleted"), 1);
    assert_eq!(count("ChatThreadWithUserDeleted"), 2);
    let edited = later
        .iter()
        .find(|e| e.event_type.ends_with("ChatMessageEditedInThread"))
        .expect("edited");
    assert_eq!(edited.data["messageBody"], "hello!");
    assert!(edited.data["editTime"].is_string());
    let deleted = later
        .iter()
        .find(|e| e.event_type.ends_with("ChatMessageDeletedInThread"))
        .expect("deleted");
    assert!(deleted.data["deleteTime"].is_string() && deleted.data.get("messageBody").is_none());
    let removed = later
        .iter()
        .find(|e| e.event_type.ends_with("ChatThreadParticipantRemoved"))
        .expect("removed");
    assert_eq!(
        removed.data["participantRemoved"]["participantCommunicationIdentifier"]["rawId"],
        carol.id
    );
    assert_eq!(
        removed.data["removedByCommunicationIdentifier"]["rawId"],
        alice.id
    );
}

#[tokio::test]
async fn realtime_notifications_reach_the_participants() {
    let t = TestService::start().await;
    let (alice, bob, carol) = (
        t.chat_user().await,
        t.chat_user().await,
        t.chat_user().await,
    );
    let mut bob_events = t.realtime(&bob).await;
    let mut carol_events = t.realtime(&carol).await;

    let thread = t.thread(&alice, "live", &[&bob]).await;
    let (name, data) = bob_events.next().await.expect("thread created");
    assert_eq!(name, "chatThreadCreated");
    assert_eq!(data["threadId"], thread.as_str());
    assert_eq!(data["properties"]["topic"], "live");
    assert_eq!(data["recipient"]["rawId"], bob.id);

    let (s, v) = t
        .as_user(
            &alice,
            Method::POST,
            &format!("/chat/threads/{thread}/messages"),
            Some(
                json!({"content": "hi bob", "senderDisplayName": "Alice", "metadata": {"k": "v"}}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (name, data) = bob_events.next().await.expect("message");
    assert_eq!(name, "chatMessageReceived");
    assert_eq!(data["id"], v["id"]);
    assert_eq!(data["message"], "hi bob");
    assert_eq!(data["senderDisplayName"], "Alice");
    assert_eq!(data["sender"]["rawId"], alice.id);
    assert_eq!(data["type"], "text");
    assert_eq!(data["metadata"], json!({"k": "v"}));
    assert!(data["createdOn"].is_string() && data["version"].is_string());

    let (s, _) = t
        .as_user(
            &alice,
            Method::POST,
            &format!("/chat/threads/{thread}/typing"),
            Some(json!({"senderDisplayName": "Alice"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (name, data) = bob_events.next().await.expect("typing");
    assert_eq!(name, "typingIndicatorReceived");
    assert_eq!(data["senderDisplayName"], "Alice");

    let mid = v["id"].as_str().expect("id").to_owned();
    let (s, _) = t
        .as_user(
            &alice,
            Method::POST,
            &format!("/chat/threads/{thread}/readReceipts"),
            Some(json!({"chatMessageId": mid})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (name, data) = bob_events.next().await.expect("receipt");
    assert_eq!(name, "readReceiptReceived");
    assert_eq!(data["chatMessageId"], mid.as_str());

    let (s, _) = t
        .as_user(
            &alice,
            Method::POST,
            &format!("/chat/threads/{thread}/participants/:add"),
            Some(json!({"participants": [participant(&carol, "Carol")]})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (name, data) = bob_events.next().await.expect("added");
    assert_eq!(name, "participantsAdded");
    assert_eq!(
        data["participantsAdded"][0]["communicationIdentifier"]["rawId"],
        carol.id
    );
    // Carol heard nothing before she joined, then hears of her own addition.
    let (name, _) = carol_events.next().await.expect("carol added");
    assert_eq!(name, "participantsAdded");

    // A second connection of the same user gets the same notifications.
    let mut bob_again = t.realtime(&bob).await;
    t.message(&carol, &thread, "hello all").await;
    for stream in [&mut bob_events, &mut bob_again, &mut carol_events] {
        let (name, data) = stream.next().await.expect("message");
        assert_eq!(
            (name.as_str(), &data["message"]),
            ("chatMessageReceived", &json!("hello all"))
        );
    }

    // Shutdown ends open streams instead of waiting for them.
    let stop = tokio::time::timeout(Duration::from_secs(10), t.service.shutdown()).await;
    assert!(stop.is_ok(), "shutdown waited for the open streams");
    assert!(
        bob_events
            .next_within(Duration::from_secs(2))
            .await
            .is_none()
    );
}

#[tokio::test]
async fn realtime_needs_a_chat_token() {
    let t = TestService::start().await;
    let voip = t.chat_user_with(&["voip"]).await;
    let (s, v) = t.as_user(&voip, Method::GET, "/chat/realtime", None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, _, v) = send(
        t.client
            .get(format!("{}{}", t.base, versioned("/chat/realtime"))),
    )
    .await;
    assert_eq!(
        (s, error_code(&v).as_str()),
        (StatusCode::UNAUTHORIZED, "Denied")
    );
}
