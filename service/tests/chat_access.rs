//! Who may call chat, and what bad input gets: ACS error bodies with the right status, and
//! nothing stored (no thread, message or outbox row).

mod support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::chat::*;
use support::*;

/// Rows in every chat table and the outbox, to check that a refused request stored nothing.
fn stored(t: &TestService) -> Vec<i64> {
    [
        "chat_threads",
        "chat_participants",
        "chat_messages",
        "chat_read_receipts",
        "chat_thread_requests",
        "outbox",
    ]
    .iter()
    .map(|table| t.count(table))
    .collect()
}

#[tokio::test]
async fn non_participants_get_403_on_every_route() {
    let t = TestService::start().await;
    let (alice, mallory) = (t.chat_user().await, t.chat_user().await);
    let thread = t.thread(&alice, "private", &[]).await;
    let message = t.message(&alice, &thread, "secret").await;
    let before = stored(&t);
    let base = format!("/chat/threads/{thread}");
    let calls = [
        (Method::GET, base.clone(), None),
        (Method::PATCH, base.clone(), Some(json!({"topic": "mine"}))),
        (Method::DELETE, base.clone(), None),
        (Method::GET, format!("{base}/messages"), None),
        (
            Method::POST,
            format!("{base}/messages"),
            Some(json!({"content": "hi"})),
        ),
        (Method::GET, format!("{base}/messages/{message}"), None),
        (
            Method::PATCH,
            format!("{base}/messages/{message}"),
            Some(json!({"content": "x"})),
        ),
        (Method::DELETE, format!("{base}/messages/{message}"), None),
        (Method::GET, format!("{base}/participants"), None),
        (
            Method::POST,
            format!("{base}/participants/:add"),
            Some(json!({"participants": [participant(&mallory, "M")]})),
        ),
        (
            Method::POST,
            format!("{base}/participants/:remove"),
            Some(identifier(&alice)),
        ),
        (Method::GET, format!("{base}/readReceipts"), None),
        (
            Method::POST,
            format!("{base}/readReceipts"),
            Some(json!({"chatMessageId": message})),
        ),
        (Method::POST, format!("{base}/typing"), Some(json!({}))),
    ];
    for (method, path, body) in calls {
        let (s, v) = t.as_user(&mallory, method.clone(), &path, body).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{method} {path}: {v}");
        assert_eq!(error_code(&v), "Forbidden", "{method} {path}");
    }
    assert_eq!(stored(&t), before);
}

#[tokio::test]
async fn credentials_and_scopes() {
    let t = TestService::start().await;
    let alice = t.chat_user().await;
    let thread = t.thread(&alice, "scopes", &[]).await;

    // The access key does not act as a chat participant.
    let (s, v) = t
        .signed(
            Method::POST,
            &versioned("/chat/threads"),
            json!({"topic": "by key"}).to_string().as_bytes(),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    // No credentials, a foreign token: 401.
    let (s, _, v) = send(
        t.client
            .get(format!("{}{}", t.base, versioned("/chat/threads"))),
    )
    .await;
    assert_eq!(
        (s, error_code(&v).as_str()),
        (StatusCode::UNAUTHORIZED, "Denied")
    );
    let forged = ChatUser {
        id: alice.id.clone(),
        token: format!("{}x", alice.token),
    };
    let (s, _) = t.as_user(&forged, Method::GET, "/chat/threads", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // voip only: no chat.
    let voip = t.chat_user_with(&["voip"]).await;
    let (s, v) = t.as_user(&voip, Method::GET, "/chat/threads", None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");

    // chat.join: may talk and add people, may not create, rename or delete threads.
    let joiner = t.chat_user_with(&["chat.join"]).await;
    let limited = t.chat_user_with(&["chat.join.limited"]).await;
    let other = t.chat_user().await;
    let (s, v) = t
        .as_user(
            &alice,
            Method::POST,
            &format!("/chat/threads/{thread}/participants/:add"),
            Some(json!({"participants": [participant(&joiner, "J"), participant(&limited, "L")]})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, _) = t
        .as_user(
            &joiner,
            Method::POST,
            "/chat/threads",
            Some(json!({"topic": "no"})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = t
        .as_user(
            &joiner,
            Method::PATCH,
            &format!("/chat/threads/{thread}"),
            Some(json!({"topic": "no"})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    t.message(&joiner, &thread, "joined").await;
    let add_other = Some(json!({"participants": [participant(&other, "O")]}));
    // chat.join.limited: may talk, may not change membership (but may leave).
    t.message(&limited, &thread, "limited").await;
    let (s, _) = t
        .as_user(
            &limited,
            Method::POST,
            &format!("/chat/threads/{thread}/participants/:add"),
            add_other.clone(),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = t
        .as_user(
            &joiner,
            Method::POST,
            &format!("/chat/threads/{thread}/participants/:add"),
            add_other,
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = t
        .as_user(
            &limited,
            Method::POST,
            &format!("/chat/threads/{thread}/participants/:remove"),
            Some(identifier(&other)),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = t
        .as_user(
            &limited,
            Method::POST,
            &format!("/chat/threads/{thread}/participants/:remove"),
            Some(identifier(&limited)),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn bad_input_is_refused_and_stores_nothing() {
    let t = TestService::start().await;
    let alice = t.chat_user().await;
    let thread = t.thread(&alice, "bad input", &[]).await;
    let message = t.message(&alice, &thread, "ok").await;
    let before = stored(&t);
    let unknown = format!("19:{}@thread.v2", "0".repeat(32));
    let base = format!("/chat/threads/{thread}");

    let post = |path: String, body: &'static str| (Method::POST, path, body);
    let cases = [
        // Malformed or wrongly typed JSON.
        (post("/chat/threads".into(), "{"), 400, "BadRequest"),
        (
            post("/chat/threads".into(), r#"{"topic": 5}"#),
            400,
            "BadRequest",
        ),
        (post(format!("{base}/messages"), "[1]"), 400, "BadRequest"),
        (
            post(
                format!("{base}/messages"),
                r#"{"content":"x","metadata":{"k":1}}"#,
            ),
            400,
            "BadRequest",
        ),
        // Missing or empty fields.
        (post("/chat/threads".into(), "{}"), 400, "BadRequest"),
        (
            post("/chat/threads".into(), r#"{"topic":"  "}"#),
            400,
            "BadRequest",
        ),
        (
            post(
                "/chat/threads".into(),
                r#"{"topic":"t","participants":[{"displayName":"x"}]}"#,
            ),
            400,
            "BadRequest",
        ),
        (
            post(
                "/chat/threads".into(),
                r#"{"topic":"t","participants":[{"communicationIdentifier":{}}]}"#,
            ),
            400,
            "BadRequest",
        ),
        (post(format!("{base}/messages"), "{}"), 400, "BadRequest"),
        (
            post(format!("{base}/messages"), r#"{"content":""}"#),
            400,
            "BadRequest",
        ),
        (
            post(
                format!("{base}/messages"),
                r#"{"content":"x","type":"topicUpdated"}"#,
            ),
            400,
            "BadRequest",
        ),
        (
            post(format!("{base}/participants/:add"), "{}"),
            400,
            "BadRequest",
        ),
        (
            post(
                format!("{base}/participants/:add"),
                r#"{"participants":[]}"#,
            ),
            400,
            "BadRequest",
        ),
        (
            post(format!("{base}/participants/:remove"), "{}"),
            400,
            "BadRequest",
        ),
        (
            post(format!("{base}/readReceipts"), "{}"),
            400,
            "BadRequest",
        ),
        (
            post(format!("{base}/participants/:explode"), "{}"),
            404,
            "NotFound",
        ),
        // Unknown thread or message (well-formed or not).
        (
            post(
                format!("/chat/threads/{unknown}/messages"),
                r#"{"content":"x"}"#,
            ),
            404,
            "NotFound",
        ),
        (
            post(
                "/chat/threads/not-a-thread/messages".into(),
                r#"{"content":"x"}"#,
            ),
            404,
            "NotFound",
        ),
        (
            post(format!("{base}/readReceipts"), r#"{"chatMessageId":"abc"}"#),
            404,
            "NotFound",
        ),
        (
            post(format!("/chat/threads/{unknown}/typing"), "{}"),
            404,
            "NotFound",
        ),
        (
            post(
                format!("/chat/threads/{unknown}/participants/:add"),
                r#"{"participants":[]}"#,
            ),
            400,
            "BadRequest",
        ),
    ];
    for ((method, path, body), status, code) in cases {
        let (s, v) = t
            .bearer(
                method.clone(),
                &versioned(&path),
                &alice.token,
                body.as_bytes(),
            )
            .await;
        assert_eq!(s.as_u16(), status, "{method} {path} {body}: {v}");
        assert_eq!(error_code(&v), code, "{method} {path} {body}");
    }
    let gets = [
        (format!("/chat/threads/{unknown}"), 404, "NotFound"),
        (format!("{base}/messages/999"), 404, "NotFound"),
        (format!("{base}/messages/-4"), 404, "NotFound"),
        (format!("{base}/messages?maxPageSize=0"), 400, "BadRequest"),
        (
            format!("{base}/messages?maxPageSize=ten"),
            400,
            "BadRequest",
        ),
        (
            format!("{base}/messages?continuationToken=%21%21"),
            400,
            "BadRequest",
        ),
        (
            format!("{base}/messages?startTime=yesterday"),
            400,
            "BadRequest",
        ),
        (format!("{base}/participants?skip=-1"), 400, "BadRequest"),
        (
            "/chat/threads?continuationToken=eyJiIjoxfQ".to_owned(),
            400,
            "BadRequest",
        ),
    ];
    for (path, status, code) in gets {
        let (s, v) = t.as_user(&alice, Method::GET, &path, None).await;
        assert_eq!(s.as_u16(), status, "GET {path}: {v}");
        assert_eq!(error_code(&v), code, "GET {path}");
    }
    // api-version: missing or unknown.
    let (s, v) = t
        .bearer(Method::GET, "/chat/threads", &alice.token, b"")
        .await;
    assert_eq!(
        (s, error_code(&v).as_str()),
        (StatusCode::BAD_REQUEST, "MissingApiVersionParameter")
    );
    let (s, v) = t
        .bearer(
            Method::GET,
            "/chat/threads?api-version=2020-01-01",
            &alice.token,
            b"",
        )
        .await;
    assert_eq!(
        (s, error_code(&v).as_str()),
        (StatusCode::BAD_REQUEST, "UnsupportedApiVersion")
    );
    // Edits of a message that does not exist.
    let (s, _) = t
        .as_user(
            &alice,
            Method::PATCH,
            &format!("{base}/messages/999"),
            Some(json!({"content": "x"})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = t
        .as_user(
            &alice,
            Method::PATCH,
            &format!("{base}/messages/{message}"),
            Some(json!({"content": ""})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // Body over the service's limit.
    let big = json!({"content": "x".repeat(MAX_BODY)}).to_string();
    let (s, v) = t
        .bearer(
            Method::POST,
            &versioned(&format!("{base}/messages")),
            &alice.token,
            big.as_bytes(),
        )
        .await;
    assert_eq!(
        (s, error_code(&v).as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "RequestEntityTooLarge")
    );
    assert_eq!(stored(&t), before, "nothing stored by refused requests");
}

#[tokio::test]
async fn message_content_is_limited_to_28_kb() {
    let t = TestService::start_with(|c| c.max_body_bytes = 64 * 1024).await;
    let alice = t.chat_user().await;
    let thread = t.thread(&alice, "big", &[]).await;
    let path = format!("/chat/threads/{thread}/messages");
    let (s, v) = t
        .as_user(
            &alice,
            Method::POST,
            &path,
            Some(json!({"content": "x".repeat(28 * 1024)})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = t
        .as_user(
            &alice,
            Method::POST,
            &path,
            Some(json!({"content": "x".repeat(28 * 1024 + 1)})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["error"]["target"], "content");
}
