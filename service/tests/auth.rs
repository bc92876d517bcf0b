//! HMAC request signing and user access tokens against a running service.

mod support;

use mediacore_service::auth::token::Claims;
use mediacore_service::clock;
use reqwest::{Method, StatusCode};
use support::*;

fn create_path() -> String {
    format!("/identities?{IDENTITY_API}")
}

const BODY: &[u8] = br#"{"createTokenWithScopes":["chat","voip"]}"#;

#[tokio::test]
async fn signed_request_with_primary_key_is_accepted() {
    let t = TestService::start().await;
    let (s, headers, v) = t
        .signed_with(Method::POST, &create_path(), BODY, &PRIMARY, 0, None)
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(t.user_count(), 1);
}

#[tokio::test]
async fn secondary_key_is_accepted() {
    let t = TestService::start().await;
    let (s, _, v) = t
        .signed_with(Method::POST, &create_path(), BODY, &SECONDARY, 0, None)
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
}

#[tokio::test]
async fn bad_signature_is_401_with_error_body() {
    let t = TestService::start().await;
    let (s, _, v) = t
        .signed_with(Method::POST, &create_path(), BODY, &[9; 32], 0, None)
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&v), "Denied");
    assert_eq!(t.user_count(), 0);
}

#[tokio::test]
async fn skewed_date_is_401_and_small_skew_is_fine() {
    let t = TestService::start().await;
    for skew in [-6 * 60, 6 * 60] {
        let (s, _, v) = t
            .signed_with(Method::POST, &create_path(), BODY, &PRIMARY, skew, None)
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "skew {skew}: {v}");
        assert_eq!(error_code(&v), "Denied");
    }
    for skew in [-4 * 60, 4 * 60] {
        let (s, _, v) = t
            .signed_with(Method::POST, &create_path(), BODY, &PRIMARY, skew, None)
            .await;
        assert_eq!(s, StatusCode::CREATED, "skew {skew}: {v}");
    }
}

#[tokio::test]
async fn wrong_content_hash_is_401() {
    let t = TestService::start().await;
    // A hash of another body, correctly signed: the body received does not match it.
    let other = mediacore_service::auth::hmac::content_hash(b"{}");
    let (s, _, v) = t
        .signed_with(Method::POST, &create_path(), BODY, &PRIMARY, 0, Some(other))
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&v), "Denied");
    assert_eq!(t.user_count(), 0);
}

#[tokio::test]
async fn missing_or_unknown_authorization_is_401() {
    let t = TestService::start().await;
    let url = format!("{}{}", t.base, create_path());
    let (s, _, v) = send(t.client.post(&url).body("{}")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&v), "Denied");
    let (s, _, _) = send(
        t.client
            .post(&url)
            .header("Authorization", "Basic eDp5")
            .body("{}"),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _, _) = send(
        t.client
            .post(&url)
            .header("Authorization", "HMAC-SHA256 garbage")
            .body("{}"),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn signing_over_plain_http_port() {
    let t = TestService::start().await;
    let http = t.service.http_addr.expect("http port");
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    let hash = mediacore_service::auth::hmac::content_hash(b"");
    let host = format!("127.0.0.1:{}", http.port());
    let pq = create_path();
    let to_sign =
        mediacore_service::auth::hmac::string_to_sign("POST", &pq, &[&date, &host, &hash]);
    let req = reqwest::Client::new()
        .post(format!("http://{host}{pq}"))
        .header("x-ms-date", date)
        .header("x-ms-content-sha256", hash)
        .header(
            "Authorization",
            mediacore_service::auth::hmac::authorization(&PRIMARY, &to_sign),
        );
    let (s, _, v) = send(req).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert!(v.get("accessToken").is_none());
}

fn relay_path() -> String {
    format!("/networkTraversal/:issueRelayConfiguration?{RELAY_API}")
}

#[tokio::test]
async fn user_token_is_accepted_for_relay_configuration() {
    let t = TestService::start().await;
    let (_, token) = t.user_with_token(&["voip"]).await;
    let (s, v) = t.bearer(Method::POST, &relay_path(), &token, b"{}").await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

#[tokio::test]
async fn token_without_the_scope_is_403() {
    let t = TestService::start().await;
    let (_, token) = t.user_with_token(&["chat"]).await;
    let (s, v) = t.bearer(Method::POST, &relay_path(), &token, b"{}").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&v), "Forbidden");
    // A user token never manages identities, whatever its scopes.
    let (_, voip) = t.user_with_token(&["voip", "chat"]).await;
    let (s, v) = t.bearer(Method::POST, &create_path(), &voip, b"{}").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(t.user_count(), 2);
}

#[tokio::test]
async fn expired_token_is_401() {
    let t = TestService::start().await;
    let (id, _) = t.user_with_token(&["voip"]).await;
    let state = &t.service.state;
    let issued = clock::now_ms() - 2 * 3_600_000;
    let claims = Claims::new(
        &id,
        &["voip".to_owned()],
        issued,
        60,
        &state.resource_id,
        "local",
    );
    let expired = state.token_key.issue(&claims);
    let (s, v) = t.bearer(Method::POST, &relay_path(), &expired, b"{}").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&v), "Denied");
}

#[tokio::test]
async fn forged_token_is_401() {
    let t = TestService::start().await;
    let (id, token) = t.user_with_token(&["voip"]).await;
    let claims = Claims::new(
        &id,
        &["voip".to_owned()],
        clock::now_ms(),
        60,
        &t.service.state.resource_id,
        "local",
    );
    let forged = mediacore_service::auth::token::TokenKey::new(vec![5; 32]).issue(&claims);
    let (s, _) = t.bearer(Method::POST, &relay_path(), &forged, b"{}").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // An unsigned token ("alg": "none") is refused too.
    let parts: Vec<&str> = token.split('.').collect();
    let none_header = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        r#"{"alg":"none"}"#,
    );
    let (s, _) = t
        .bearer(
            Method::POST,
            &relay_path(),
            &format!("{none_header}.{}.", parts[1]),
            b"{}",
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn revoked_token_is_401_and_a_new_one_works() {
    let t = TestService::start().await;
    let (id, token) = t.user_with_token(&["voip"]).await;
    let (s, _) = t
        .signed(
            Method::POST,
            &format!("/identities/{id}/:revokeAccessTokens?{IDENTITY_API}"),
            b"",
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = t.bearer(Method::POST, &relay_path(), &token, b"{}").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&v), "Denied");

    // Issued right after the revocation (same millisecond or not): valid.
    let (s, v) = t
        .signed(
            Method::POST,
            &format!("/identities/{id}/:issueAccessToken?{IDENTITY_API}"),
            br#"{"scopes":["voip"]}"#,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let fresh = v["token"].as_str().expect("token");
    let (s, v) = t.bearer(Method::POST, &relay_path(), fresh, b"{}").await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

#[tokio::test]
async fn deleted_users_token_is_401() {
    let t = TestService::start().await;
    let (id, token) = t.user_with_token(&["voip"]).await;
    let (s, _) = t
        .signed(
            Method::DELETE,
            &format!("/identities/{id}?{IDENTITY_API}"),
            b"",
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = t.bearer(Method::POST, &relay_path(), &token, b"{}").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn client_request_id_is_echoed() {
    let t = TestService::start().await;
    let req = t
        .client
        .post(format!("{}{}", t.base, create_path()))
        .header(
            "x-ms-client-request-id",
            "0f8fad5b-d9cb-469f-a165-70867728950e",
        );
    let (s, h, _) = send(req).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(
        h["x-ms-client-request-id"],
        "0f8fad5b-d9cb-469f-a165-70867728950e"
    );
}

fn entra_token(key: &[u8], iss: &str, aud: &str, exp_in: i64) -> String {
    let payload = serde_json::json!({
        "iss": iss, "aud": aud, "exp": clock::now_secs() + exp_in, "nbf": clock::now_secs() - 10,
        "oid": "00000000-0000-4000-8000-0000000000aa",
    });
    mediacore_service::auth::token::TokenKey::new(key.to_vec())
        .sign_payload(payload.to_string().as_bytes())
}

#[tokio::test]
async fn service_principal_token_manages_identities() {
    let t = TestService::start().await;
    let aud = mediacore_service::auth::entra::AUDIENCE;
    let good = entra_token(&ENTRA_KEY, ENTRA_ISSUER, aud, 600);
    let (s, v) = t.bearer(Method::POST, &create_path(), &good, BODY).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = t.bearer(Method::POST, &relay_path(), &good, b"").await;
    assert_eq!(s, StatusCode::OK, "{v}");

    for bad in [
        entra_token(&[9; 32], ENTRA_ISSUER, aud, 600),
        entra_token(&ENTRA_KEY, ENTRA_ISSUER, "https://graph.microsoft.com", 600),
        entra_token(&ENTRA_KEY, ENTRA_ISSUER, aud, -1),
        // Signed with the right key but naming another issuer: treated as a user token, refused.
        entra_token(&ENTRA_KEY, "https://elsewhere/", aud, 600),
    ] {
        let (s, v) = t.bearer(Method::POST, &create_path(), &bad, BODY).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");
    }
    assert_eq!(t.user_count(), 1);
}
