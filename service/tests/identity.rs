//! Identity end to end (acs-wire.md §4): users, tokens, revocation, deletion.

mod support;

use mediacore_service::clock;
use reqwest::{Method, StatusCode};
use support::*;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

fn expires_in_secs(v: &serde_json::Value) -> i64 {
    let t = OffsetDateTime::parse(v.as_str().expect("expiresOn"), &Rfc3339).expect("ISO-8601");
    t.unix_timestamp() - clock::now_secs()
}

#[tokio::test]
async fn create_user_without_and_with_token() {
    let t = TestService::start().await;
    let (s, v) = t
        .signed(Method::POST, &format!("/identities?{IDENTITY_API}"), b"")
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["identity"]["id"].as_str().expect("id");
    assert!(
        id.starts_with(&format!("8:acs:{}_", t.service.state.resource_id)),
        "{id}"
    );
    assert!(v.get("accessToken").is_none());

    let (s, v) = t
        .signed(
            Method::POST,
            &format!("/identities?{IDENTITY_API}"),
            br#"{"createTokenWithScopes":["chat","voip"],"expiresInMinutes":60}"#,
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let token = v["accessToken"]["token"].as_str().expect("token");
    assert_eq!(token.split('.').count(), 3, "a compact JWT");
    let left = expires_in_secs(&v["accessToken"]["expiresOn"]);
    assert!((3590..=3600).contains(&left), "{left}");
    let claims = t
        .service
        .state
        .token_key
        .verify(token, clock::now_secs())
        .expect("our token");
    assert_eq!(claims.user_id(), v["identity"]["id"].as_str().expect("id"));
    assert_eq!(claims.acs_scope, "chat,voip");
    assert_eq!(t.user_count(), 2);
}

#[tokio::test]
async fn issue_token_scopes_and_expiry() {
    let t = TestService::start().await;
    let (id, _) = t.user_with_token(&["chat"]).await;
    let path = format!("/identities/{id}/:issueAccessToken?{IDENTITY_API}");

    let (s, v) = t
        .signed(
            Method::POST,
            &path,
            br#"{"scopes":["voip"],"expiresInMinutes":1440}"#,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!((86_390..=86_400).contains(&expires_in_secs(&v["expiresOn"])));
    // No expiresInMinutes (or null, as the SDK sends it): the default, 24 hours.
    let (s, v) = t
        .signed(
            Method::POST,
            &path,
            br#"{"scopes":["chat","voip"],"expiresInMinutes":null}"#,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!((86_390..=86_400).contains(&expires_in_secs(&v["expiresOn"])));

    for bad in [
        r#"{"scopes":["voip"],"expiresInMinutes":59}"#,
        r#"{"scopes":["voip"],"expiresInMinutes":1441}"#,
        r#"{"scopes":["voip"],"expiresInMinutes":"60"}"#,
        r#"{"scopes":["email"]}"#,
        r#"{"scopes":[]}"#,
        r#"{}"#,
    ] {
        let (s, v) = t.signed(Method::POST, &path, bad.as_bytes()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {v}");
        error_code(&v);
    }
}

#[tokio::test]
async fn create_with_bad_token_parameters_stores_nothing() {
    let t = TestService::start().await;
    for bad in [
        r#"{"createTokenWithScopes":["voip"],"expiresInMinutes":10}"#,
        r#"{"createTokenWithScopes":["nope"]}"#,
        r#"{"createTokenWithScopes":[]}"#,
        r#"{"expiresInMinutes":5000}"#,
    ] {
        let (s, v) = t
            .signed(
                Method::POST,
                &format!("/identities?{IDENTITY_API}"),
                bad.as_bytes(),
            )
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {v}");
    }
    assert_eq!(t.user_count(), 0);
}

#[tokio::test]
async fn revoke_and_delete() {
    let t = TestService::start().await;
    let (id, _) = t.user_with_token(&["chat"]).await;
    let (s, v) = t
        .signed(
            Method::POST,
            &format!("/identities/{id}/:revokeAccessTokens?{IDENTITY_API}"),
            b"",
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    assert_eq!(v, serde_json::Value::Null);
    let (s, _) = t
        .signed(
            Method::DELETE,
            &format!("/identities/{id}?{IDENTITY_API}"),
            b"",
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(t.user_count(), 0);

    // Gone: every per-user call is 404 now.
    for (method, path) in [
        (Method::DELETE, format!("/identities/{id}?{IDENTITY_API}")),
        (
            Method::POST,
            format!("/identities/{id}/:revokeAccessTokens?{IDENTITY_API}"),
        ),
        (
            Method::POST,
            format!("/identities/{id}/:issueAccessToken?{IDENTITY_API}"),
        ),
    ] {
        let body: &[u8] = if path.contains("issue") {
            br#"{"scopes":["chat"]}"#
        } else {
            b""
        };
        let (s, v) = t.signed(method, &path, body).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}: {v}");
        assert_eq!(error_code(&v), "NotFound");
    }
}

#[tokio::test]
async fn percent_encoded_ids_as_the_sdk_sends_them() {
    let t = TestService::start().await;
    let (id, _) = t.user_with_token(&["chat"]).await;
    let encoded = id.replace(':', "%3A");
    let (s, v) = t
        .signed(
            Method::POST,
            &format!("/identities/{encoded}/:issueAccessToken?{IDENTITY_API}"),
            br#"{"scopes":["chat"]}"#,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

#[tokio::test]
async fn unknown_or_foreign_ids_are_404() {
    let t = TestService::start().await;
    for id in [
        "8:acs:00000000-0000-4000-8000-000000000000_00000000-0000-4000-8000-000000000001"
            .to_owned(),
        format!(
            "8:acs:{}_00000000-0000-4000-8000-000000000001",
            t.service.state.resource_id
        ),
        "garbage".to_owned(),
    ] {
        let (s, v) = t
            .signed(
                Method::DELETE,
                &format!("/identities/{id}?{IDENTITY_API}"),
                b"",
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{id}: {v}");
    }
}

#[tokio::test]
async fn api_version_is_required_and_checked() {
    let t = TestService::start().await;
    let (s, v) = t.signed(Method::POST, "/identities", b"").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&v), "MissingApiVersionParameter");
    let (s, v) = t
        .signed(Method::POST, "/identities?api-version=2099-01-01", b"")
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&v), "UnsupportedApiVersion");
    assert_eq!(v["error"]["target"], "api-version");
    assert_eq!(t.user_count(), 0);
}

#[tokio::test]
async fn teams_token_exchange_is_not_available_locally() {
    let t = TestService::start().await;
    let (s, v) = t
        .signed(
            Method::POST,
            &format!("/teamsUser/:exchangeAccessToken?{IDENTITY_API}"),
            br#"{"token":"x","appId":"a","userId":"u"}"#,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_IMPLEMENTED);
    assert_eq!(error_code(&v), "NotImplemented");
}

#[tokio::test]
async fn state_survives_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = config(dir.path());
    cfg.keys.primary = None;
    cfg.keys.secondary = None;
    let first = mediacore_service::start(&cfg).await.expect("start");
    let conn = first.connection_string.clone();
    let ca = std::fs::read(&first.ca_path).expect("ca");
    let resource = first.state.resource_id.clone();
    let key = first.state.keys.current().primary.bytes.clone();
    let claims = mediacore_service::auth::token::Claims::new(
        &format!("8:acs:{resource}_00000000-0000-4000-8000-000000000001"),
        &["chat".to_owned()],
        clock::now_ms(),
        60,
        &resource,
        "local",
    );
    let token = first.state.token_key.issue(&claims);
    first.shutdown().await;

    let second = mediacore_service::start(&cfg).await.expect("restart");
    assert_eq!(
        std::fs::read(&second.ca_path).expect("ca"),
        ca,
        "the CA is kept"
    );
    assert_eq!(second.state.resource_id, resource);
    assert_eq!(
        second.state.keys.current().primary.bytes,
        key,
        "generated keys are kept"
    );
    assert_ne!(second.connection_string, conn, "new port, same key");
    assert!(
        second
            .state
            .token_key
            .verify(&token, clock::now_secs())
            .is_ok(),
        "tokens stay valid across a restart"
    );
    second.shutdown().await;
}
