//! Relay configuration (acs-wire.md §5): STUN/TURN servers with TURN REST credentials.

mod support;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use mediacore_service::clock;
use reqwest::{Method, StatusCode};
use support::*;

fn path() -> String {
    format!("/networkTraversal/:issueRelayConfiguration?{RELAY_API}")
}

/// The credential coturn computes for `username`, recomputed here independently.
fn expected_credential(username: &str) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(RELAY_SECRET.as_bytes()).expect("key");
    mac.update(username.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[tokio::test]
async fn relay_configuration_for_a_user() {
    let t = TestService::start().await;
    let (id, _) = t.user_with_token(&["voip"]).await;
    let body = serde_json::json!({ "id": id, "routeType": "any", "ttl": 600 }).to_string();
    let (s, v) = t.signed(Method::POST, &path(), body.as_bytes()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let servers = v["iceServers"].as_array().expect("iceServers");
    assert_eq!(servers.len(), 1);
    let server = &servers[0];
    assert_eq!(server["routeType"], "any");
    assert_eq!(
        server["urls"],
        serde_json::json!(["stun:127.0.0.1:3478", "turn:127.0.0.1:3478"])
    );
    let username = server["username"].as_str().expect("username");
    let (expiry, user) = username.split_once(':').expect("expiry:user");
    assert_eq!(user, id);
    let expiry: i64 = expiry.parse().expect("unix expiry");
    assert!((expiry - clock::now_secs() - 600).abs() <= 2);
    assert_eq!(
        server["credential"].as_str().expect("credential"),
        expected_credential(username)
    );
    assert!(v["expiresOn"].as_str().expect("expiresOn").ends_with('Z'));
}

#[tokio::test]
async fn defaults_route_types_and_ttl_limits() {
    let t = TestService::start().await;
    // No body at all: both route types, the maximum TTL (3600 in the test config).
    let (s, v) = t.signed(Method::POST, &path(), b"").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let servers = v["iceServers"].as_array().expect("iceServers");
    let kinds: Vec<&str> = servers
        .iter()
        .filter_map(|s| s["routeType"].as_str())
        .collect();
    assert_eq!(kinds, ["any", "nearest"]);
    let username = servers[0]["username"].as_str().expect("username");
    let expiry: i64 = username
        .split(':')
        .next()
        .expect("expiry")
        .parse()
        .expect("int");
    assert!((expiry - clock::now_secs() - 3600).abs() <= 2);

    // A TTL above the maximum is cut to it, as ACS does.
    let (s, v) = t
        .signed(
            Method::POST,
            &path(),
            br#"{"ttl":172800,"routeType":"nearest"}"#,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let username = v["iceServers"][0]["username"].as_str().expect("username");
    let expiry: i64 = username
        .split(':')
        .next()
        .expect("expiry")
        .parse()
        .expect("int");
    assert!((expiry - clock::now_secs() - 3600).abs() <= 2);

    for bad in [
        r#"{"ttl":-1}"#,
        r#"{"routeType":"fastest"}"#,
        r#"{"ttl":"x"}"#,
    ] {
        let (s, v) = t.signed(Method::POST, &path(), bad.as_bytes()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {v}");
        error_code(&v);
    }
}

#[tokio::test]
async fn unknown_user_is_404_and_token_user_gets_its_own() {
    let t = TestService::start().await;
    let body = format!(
        r#"{{"id":"8:acs:{}_00000000-0000-4000-8000-000000000009"}}"#,
        t.service.state.resource_id
    );
    let (s, v) = t.signed(Method::POST, &path(), body.as_bytes()).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");

    let (id, token) = t.user_with_token(&["voip"]).await;
    let (s, v) = t.bearer(Method::POST, &path(), &token, b"").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let username = v["iceServers"][0]["username"].as_str().expect("username");
    assert!(username.ends_with(&format!(":{id}")), "{username}");
    // Someone else's id with a user token: refused.
    let (other, _) = t.user_with_token(&["chat"]).await;
    let (s, _) = t
        .bearer(
            Method::POST,
            &path(),
            &token,
            format!(r#"{{"id":"{other}"}}"#).as_bytes(),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn relay_api_version_checked() {
    let t = TestService::start().await;
    let (s, v) = t
        .signed(
            Method::POST,
            "/networkTraversal/:issueRelayConfiguration?api-version=2023-10-01",
            b"",
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&v), "UnsupportedApiVersion");
}
