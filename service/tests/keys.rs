//! Access keys: listing, regeneration without downtime, persistence across a restart.

mod support;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use reqwest::{Method, StatusCode};
use support::*;

const KEYS_API: &str = "api-version=2023-04-01";

fn decoded(v: &serde_json::Value, field: &str) -> Vec<u8> {
    let text = v[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} in {v}"));
    B64.decode(text).expect("base64 key")
}

/// A request that any authenticated caller may make, signed with `key`.
async fn identity_status(t: &TestService, key: &[u8]) -> StatusCode {
    let (s, _, _) = t
        .signed_with(
            Method::POST,
            &format!("/identities?{IDENTITY_API}"),
            b"",
            key,
            0,
            None,
        )
        .await;
    s
}

/// A service whose keys are generated (not fixed by the configuration), and its keys.
async fn generated_keys() -> (TestService, Vec<u8>, Vec<u8>) {
    let t = TestService::start_with(|c| {
        c.keys.primary = None;
        c.keys.secondary = None;
    })
    .await;
    let keys = t.service.state.keys.current();
    let (p, s) = (keys.primary.bytes.clone(), keys.secondary.bytes.clone());
    (t, p, s)
}

#[tokio::test]
async fn regenerating_one_key_keeps_the_other_working_and_survives_restart() {
    let (t, primary, secondary) = generated_keys().await;
    assert_eq!(identity_status(&t, &primary).await, StatusCode::CREATED);

    // Rotate as an application would: sign with the secondary, regenerate the primary.
    let (s, _, v) = t
        .signed_with(
            Method::POST,
            &format!("/resource/regenerateKey?{KEYS_API}"),
            br#"{"keyType":"Primary"}"#,
            &secondary,
            0,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let new_primary = decoded(&v, "primaryKey");
    assert_ne!(new_primary, primary);
    assert_eq!(decoded(&v, "secondaryKey"), secondary);
    assert_eq!(new_primary.len(), 64);
    let conn = v["primaryConnectionString"].as_str().expect("conn");
    assert_eq!(
        conn,
        format!(
            "endpoint={}/;accesskey={}",
            t.base,
            v["primaryKey"].as_str().expect("key")
        )
    );

    assert_eq!(
        identity_status(&t, &primary).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(identity_status(&t, &new_primary).await, StatusCode::CREATED);
    assert_eq!(identity_status(&t, &secondary).await, StatusCode::CREATED);

    // listKeys shows the same pair.
    let (s, _, listed) = t
        .signed_with(
            Method::POST,
            &format!("/resource/listKeys?{KEYS_API}"),
            b"",
            &new_primary,
            0,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{listed}");
    assert_eq!(decoded(&listed, "primaryKey"), new_primary);
    assert_eq!(decoded(&listed, "secondaryKey"), secondary);

    // The regenerated key was stored before it was handed out.
    let t = t
        .restart(|c| {
            c.keys.primary = None;
            c.keys.secondary = None;
        })
        .await;
    assert_eq!(
        identity_status(&t, &primary).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(identity_status(&t, &new_primary).await, StatusCode::CREATED);
    assert_eq!(identity_status(&t, &secondary).await, StatusCode::CREATED);
}

#[tokio::test]
async fn regeneration_refusals() {
    let (t, primary, _) = generated_keys().await;
    let path = format!("/resource/regenerateKey?{KEYS_API}");
    for (body, target) in [
        (&br#"{"keyType":"Tertiary"}"#[..], "keyType"),
        (&br#"{}"#[..], "keyType"),
        (&br#"{"keyType":"#[..], ""),
    ] {
        let (s, _, v) = t
            .signed_with(Method::POST, &path, body, &primary, 0, None)
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
        assert_eq!(v["error"]["code"], "BadRequest", "{v}");
        if !target.is_empty() {
            assert_eq!(v["error"]["target"], target, "{v}");
        }
    }
    // Nothing changed.
    assert_eq!(identity_status(&t, &primary).await, StatusCode::CREATED);

    // Keys fixed by the configuration are not regenerated (a restart would bring them back).
    let fixed = TestService::start().await;
    // A user token cannot manage keys.
    let (_, token) = fixed.user_with_token(&["chat"]).await;
    let (s, v) = fixed
        .bearer(Method::POST, &path, &token, br#"{"keyType":"Primary"}"#)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, _, v) = fixed
        .signed_with(
            Method::POST,
            &path,
            br#"{"keyType":"secondary"}"#,
            &PRIMARY,
            0,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"]["code"], "KeyFixedByConfiguration", "{v}");
    assert_eq!(
        identity_status(&fixed, &SECONDARY).await,
        StatusCode::CREATED
    );
}
