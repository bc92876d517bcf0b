//! Chat end to end (acs-wire.md §8): threads, messages, participants, read receipts, paging.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::chat::*;
use support::*;

fn ids_of(pages: &[Value], field: &str) -> Vec<String> {
    pages
        .iter()
        .flat_map(|p| p["value"].as_array().expect("value").clone())
        .map(|item| match &item[field] {
            Value::String(s) => s.clone(),
            other => other["rawId"].as_str().expect(field).to_owned(),
        })
        .collect()
}

#[tokio::test]
async fn thread_lifecycle() {
    let t = TestService::start().await;
    let (alice, bob) = (t.chat_user().await, t.chat_user().await);
    let (s, v) = t
        .as_user(
            &alice,
            Method::POST,
            "/chat/threads",
            Some(json!({"topic": "launch", "participants": [participant(&bob, "Bob")]})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let thread = &v["chatThread"];
    let id = thread["id"].as_str().expect("id").to_owned();
    assert!(id.starts_with("19:") && id.ends_with("@thread.v2"), "{id}");
    assert_eq!(thread["topic"], "launch");
    assert_eq!(
        thread["createdByCommunicationIdentifier"],
        json!({"rawId": alice.id, "kind": "communicationUser", "communicationUser": {"id": alice.id}})
    );
    assert!(
        thread["createdOn"]
            .as_str()
            .expect("createdOn")
            .ends_with('Z')
    );
    assert!(v.get("invalidParticipants").is_none(), "{v}");

    let (s, got) = t
        .as_user(&bob, Method::GET, &format!("/chat/threads/{id}"), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{got}");
    assert_eq!(&got, thread);

    let (s, v) = t
        .as_user(
            &alice,
            Method::PATCH,
            &format!("/chat/threads/{id}"),
            Some(json!({"topic": "launch v2"})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    // The SDK's update_topic(None) sends {}: nothing changes.
    let (s, _) = t
        .as_user(
            &alice,
            Method::PATCH,
            &format!("/chat/threads/{id}"),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, got) = t
        .as_user(&bob, Method::GET, &format!("/chat/threads/{id}"), None)
        .await;
    assert_eq!(got["topic"], "launch v2");

    let (s, list) = t.as_user(&bob, Method::GET, "/chat/threads", None).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    assert_eq!(list["value"], json!([{"id": id, "topic": "launch v2"}]));

    let (s, _) = t
        .as_user(&alice, Method::DELETE, &format!("/chat/threads/{id}"), None)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = t
        .as_user(&alice, Method::GET, &format!("/chat/threads/{id}"), None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&v), "NotFound");
    for table in ["chat_threads", "chat_participants", "chat_messages"] {
        assert_eq!(t.count(table), 0, "{table} after delete");
    }
}

#[tokio::test]
async fn repeatability_request_id_creates_once() {
    let t = TestService::start().await;
    let alice = t.chat_user().await;
    let body = json!({"topic": "once"}).to_string();
    let create = |body: String| {
        t.client
            .post(format!("{}{}", t.base, versioned("/chat/threads")))
            .header("Authorization", format!("Bearer {}", alice.token))
            .header(
                "repeatability-request-id",
                "8d8b6a6e-0c3f-4c36-9a8e-6b1f0a3c2d11",
            )
            .body(body)
    };
    let (s1, _, v1) = send(create(body.clone())).await;
    let (s2, _, v2) = send(create(body)).await;
    assert_eq!(
        (s1, s2),
        (StatusCode::CREATED, StatusCode::CREATED),
        "{v1} {v2}"
    );
    assert_eq!(v1, v2, "a replay answers the first response");
    assert_eq!(t.count("chat_threads"), 1);

    let (s, _, v) = send(create(json!({"topic": "other"}).to_string())).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(error_code(&v), "Conflict");
    assert_eq!(t.count("chat_threads"), 1);
}

#[tokio::test]
async fn messages_send_list_get_edit_delete() {
    let t = TestService::start().await;
    let (alice, bob) = (t.chat_user().await, t.chat_user().await);
    let thread = t.thread(&alice, "messages", &[&bob]).await;
    let path = format!("/chat/threads/{thread}/messages");

    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(t.message(&alice, &thread, &format!("hello {i}")).await);
    }
    let (s, v) = t
        .as_user(
            &bob,
            Method::POST,
            &path,
            Some(
                json!({"content": "<b>hi</b>", "type": "html", "senderDisplayName": "Bob",
                        "metadata": {"a": "1", "b": "2"}}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let html = v["id"].as_str().expect("id").to_owned();
    ids.push(html.clone());
    let numeric: Vec<i64> = ids.iter().map(|i| i.parse().expect("numeric id")).collect();
    assert!(numeric.windows(2).all(|w| w[0] < w[1]), "{ids:?}");

    // 5 user messages and the 2 system messages of the creation, two per page, newest first.
    let pages = t.pages(&alice, &format!("{path}?maxPageSize=2")).await;
    assert_eq!(pages.len(), 4);
    let sequence = ids_of(&pages, "sequenceId");
    assert_eq!(sequence, ["7", "6", "5", "4", "3", "2", "1"]);
    let listed = ids_of(&pages, "id");
    let mut newest_first = ids.clone();
    newest_first.reverse();
    assert_eq!(listed[..5], newest_first[..]);
    let system: Vec<&Value> = pages[3]["value"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(pages[2]["value"].as_array().into_iter().flatten().skip(1))
        .collect();
    assert_eq!(system[0]["type"], "topicUpdated");
    assert_eq!(system[0]["content"]["topic"], "messages");
    assert_eq!(
        system[0]["content"]["initiatorCommunicationIdentifier"]["rawId"],
        alice.id
    );
    assert_eq!(system[1]["type"], "participantAdded");
    assert_eq!(
        system[1]["content"]["participants"]
            .as_array()
            .expect("participants")
            .len(),
        2
    );
    assert!(system[0].get("senderCommunicationIdentifier").is_none());

    let (s, m) = t
        .as_user(&alice, Method::GET, &format!("{path}/{html}"), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{m}");
    assert_eq!(m["id"], html.as_str());
    assert_eq!(m["type"], "html");
    assert_eq!(m["sequenceId"], "7");
    assert_eq!(
        m["version"],
        html.as_str(),
        "version starts as the creation time"
    );
    assert_eq!(m["content"], json!({"message": "<b>hi</b>"}));
    assert_eq!(m["senderDisplayName"], "Bob");
    assert_eq!(m["senderCommunicationIdentifier"]["rawId"], bob.id);
    assert_eq!(m["metadata"], json!({"a": "1", "b": "2"}));
    assert!(m.get("editedOn").is_none() && m.get("deletedOn").is_none());

    // Edit: content replaced, metadata merged (null removes a key).
    let (s, v) = t
        .as_user(
            &bob,
            Method::PATCH,
            &format!("{path}/{html}"),
            Some(json!({"content": "<i>hi</i>", "metadata": {"a": null, "c": "3"}})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    let (_, m) = t
        .as_user(&alice, Method::GET, &format!("{path}/{html}"), None)
        .await;
    assert_eq!(m["content"]["message"], "<i>hi</i>");
    assert_eq!(m["metadata"], json!({"b": "2", "c": "3"}));
    assert!(m["editedOn"].is_string());
    assert!(m["version"].as_str().expect("version") >= html.as_str());

    // Delete: a tombstone without content; deleting again changes nothing.
    for _ in 0..2 {
        let (s, v) = t
            .as_user(&bob, Method::DELETE, &format!("{path}/{html}"), None)
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    }
    let (_, m) = t
        .as_user(&alice, Method::GET, &format!("{path}/{html}"), None)
        .await;
    assert!(m["deletedOn"].is_string(), "{m}");
    assert!(
        m.get("content").is_none() && m.get("metadata").is_none(),
        "{m}"
    );
    let (s, v) = t
        .as_user(
            &bob,
            Method::PATCH,
            &format!("{path}/{html}"),
            Some(json!({"content": "back"})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");

    // Someone else's message.
    let (s, v) = t
        .as_user(&bob, Method::DELETE, &format!("{path}/{}", ids[0]), None)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(error_code(&v), "Forbidden");
}

#[tokio::test]
async fn list_messages_since_a_time() {
    let t = TestService::start().await;
    let alice = t.chat_user().await;
    let thread = t.thread(&alice, "since", &[]).await;
    let old = t.message(&alice, &thread, "old").await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let since = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .expect("time");
    let new = t.message(&alice, &thread, "new").await;
    let path = format!("/chat/threads/{thread}/messages?startTime={since}&maxPageSize=1");
    let pages = t.pages(&alice, &path.replace(':', "%3A")).await;
    assert_eq!(ids_of(&pages, "id"), [new]);
    // An edit counts as a change.
    let (s, _) = t
        .as_user(
            &alice,
            Method::PATCH,
            &format!("/chat/threads/{thread}/messages/{old}"),
            Some(json!({"content": "old, edited"})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let pages = t.pages(&alice, &path.replace(':', "%3A")).await;
    assert_eq!(ids_of(&pages, "id").len(), 2);
}

#[tokio::test]
async fn threads_list_pages_newest_activity_first() {
    let t = TestService::start().await;
    let (alice, bob) = (t.chat_user().await, t.chat_user().await);
    let mut threads = Vec::new();
    for i in 0..5 {
        threads.push(t.thread(&alice, &format!("t{i}"), &[&bob]).await);
    }
    // A message makes the first thread the most recent.
    t.message(&bob, &threads[0], "bump").await;
    let pages = t.pages(&bob, "/chat/threads?maxPageSize=2").await;
    assert_eq!(pages.len(), 3);
    let listed = ids_of(&pages, "id");
    assert_eq!(listed.len(), 5);
    assert_eq!(listed[0], threads[0]);
    assert!(pages[0]["value"][0]["lastMessageReceivedOn"].is_string());
    let mut sorted = listed.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 5, "no thread twice");
    // Someone in no thread sees none.
    let carol = t.chat_user().await;
    let (_, v) = t.as_user(&carol, Method::GET, "/chat/threads", None).await;
    assert_eq!(v["value"], json!([]));
    assert!(v.get("nextLink").is_none());
}

#[tokio::test]
async fn participants_add_remove_and_page() {
    let t = TestService::start().await;
    let (alice, bob, carol) = (
        t.chat_user().await,
        t.chat_user().await,
        t.chat_user().await,
    );
    let thread = t.thread(&alice, "people", &[&bob]).await;
    let path = format!("/chat/threads/{thread}/participants");

    let ghost_id = format!("{}000000000000", &carol.id[..carol.id.len() - 12]);
    let (s, v) = t
        .as_user(
            &alice,
            Method::POST,
            &format!("{path}/:add"),
            Some(json!({"participants": [
                participant(&carol, "Carol"),
                participant(&bob, "Bob again"),
                {"communicationIdentifier": {"rawId": ghost_id, "communicationUser": {"id": ghost_id}}},
                {"communicationIdentifier": {"rawId": "4:+14255550101", "phoneNumber": {"value": "+14255550101"}}},
            ]})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let invalid = v["invalidParticipants"].as_array().expect("invalid");
    let targets: Vec<&str> = invalid
        .iter()
        .filter_map(|e| e["target"].as_str())
        .collect();
    assert_eq!(targets, [ghost_id.as_str(), "4:+14255550101"]);
    assert!(
        invalid
            .iter()
            .all(|e| e["code"].is_string() && e["message"].is_string())
    );

    let pages = t.pages(&bob, &format!("{path}?maxPageSize=1")).await;
    assert_eq!(pages.len(), 3);
    assert_eq!(
        ids_of(&pages, "communicationIdentifier"),
        [alice.id.clone(), bob.id.clone(), carol.id.clone()]
    );
    assert_eq!(pages[2]["value"][0]["displayName"], "Carol");
    assert_eq!(
        pages[1]["value"][0].get("displayName"),
        None,
        "Bob unchanged"
    );

    // Adding only existing participants changes nothing (no system message).
    let before = t.count("chat_messages");
    let (s, v) = t
        .as_user(
            &alice,
            Method::POST,
            &format!("{path}/:add"),
            Some(json!({"participants": [participant(&bob, "Bob")]})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v, json!({}));
    assert_eq!(t.count("chat_messages"), before);

    let (s, v) = t
        .as_user(
            &alice,
            Method::POST,
            &format!("{path}/:remove"),
            Some(identifier(&carol)),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    // Removing someone who is not there is not an error (a retried remove succeeds).
    let (s, _) = t
        .as_user(
            &alice,
            Method::POST,
            &format!("{path}/:remove"),
            Some(identifier(&carol)),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = t
        .as_user(
            &carol,
            Method::GET,
            &format!("/chat/threads/{thread}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    // Nor may she write: the check runs in the write that follows the removal's commit.
    let (s, v) = t
        .as_user(
            &carol,
            Method::POST,
            &format!("/chat/threads/{thread}/messages"),
            Some(json!({"content": "still here?"})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");

    let (_, v) = t
        .as_user(
            &alice,
            Method::GET,
            &format!("/chat/threads/{thread}/messages?maxPageSize=1"),
            None,
        )
        .await;
    let m = &v["value"][0];
    assert_eq!(m["type"], "participantRemoved");
    assert_eq!(
        m["content"]["participants"][0]["communicationIdentifier"]["rawId"],
        carol.id
    );
    assert_eq!(
        m["content"]["initiatorCommunicationIdentifier"]["rawId"],
        alice.id
    );

    // Bob leaves on his own.
    let (s, _) = t
        .as_user(
            &bob,
            Method::POST,
            &format!("{path}/:remove"),
            Some(identifier(&bob)),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, v) = t.as_user(&alice, Method::GET, &path, None).await;
    assert_eq!(
        ids_of(&[v], "communicationIdentifier"),
        std::slice::from_ref(&alice.id)
    );
}

#[tokio::test]
async fn read_receipts_keep_the_latest_per_reader() {
    let t = TestService::start().await;
    let (alice, bob) = (t.chat_user().await, t.chat_user().await);
    let thread = t.thread(&alice, "receipts", &[&bob]).await;
    let first = t.message(&alice, &thread, "one").await;
    let second = t.message(&alice, &thread, "two").await;
    let path = format!("/chat/threads/{thread}/readReceipts");

    for (who, id) in [(&bob, &second), (&bob, &first), (&alice, &first)] {
        let (s, v) = t
            .as_user(who, Method::POST, &path, Some(json!({"chatMessageId": id})))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    let pages = t.pages(&alice, &format!("{path}?maxPageSize=1")).await;
    assert_eq!(pages.len(), 2);
    let mut receipts: Vec<(String, String)> = pages
        .iter()
        .flat_map(|p| p["value"].as_array().expect("value").clone())
        .map(|r| {
            assert!(r["readOn"].is_string());
            (
                r["senderCommunicationIdentifier"]["rawId"]
                    .as_str()
                    .expect("sender")
                    .to_owned(),
                r["chatMessageId"].as_str().expect("id").to_owned(),
            )
        })
        .collect();
    receipts.sort();
    let mut want = vec![(alice.id.clone(), first.clone()), (bob.id.clone(), second)];
    want.sort();
    assert_eq!(
        receipts, want,
        "bob's older receipt did not replace his newer one"
    );

    let (s, v) = t
        .as_user(
            &bob,
            Method::POST,
            &path,
            Some(json!({"chatMessageId": "12345"})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");

    let (s, v) = t
        .as_user(
            &bob,
            Method::POST,
            &format!("/chat/threads/{thread}/typing"),
            Some(json!({"senderDisplayName": "Bob"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, _) = t
        .bearer(
            Method::POST,
            &versioned(&format!("/chat/threads/{thread}/typing")),
            &bob.token,
            b"",
        )
        .await;
    assert_eq!(s, StatusCode::OK, "typing with an empty body");
}

#[tokio::test]
async fn deleting_a_user_takes_it_out_of_its_threads() {
    let t = TestService::start().await;
    let (alice, bob) = (t.chat_user().await, t.chat_user().await);
    let thread = t.thread(&alice, "bye", &[&bob]).await;
    t.message(&bob, &thread, "hi").await;
    let (s, v) = t
        .signed(
            Method::DELETE,
            &format!("/identities/{}?{IDENTITY_API}", bob.id),
            b"",
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    let (_, v) = t
        .as_user(
            &alice,
            Method::GET,
            &format!("/chat/threads/{thread}/participants"),
            None,
        )
        .await;
    assert_eq!(
        ids_of(&[v], "communicationIdentifier"),
        std::slice::from_ref(&alice.id)
    );
    // Bob's message stays, with his id as its sender.
    let (_, v) = t
        .as_user(
            &alice,
            Method::GET,
            &format!("/chat/threads/{thread}/messages"),
            None,
        )
        .await;
    assert_eq!(
        v["value"][0]["senderCommunicationIdentifier"]["rawId"],
        bob.id
    );
}
