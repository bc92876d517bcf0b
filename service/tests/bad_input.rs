//! Malformed JSON, oversized bodies, unknown routes and methods: ACS error bodies, nothing stored.

mod support;

use std::io::{Read, Write};

use reqwest::{Method, StatusCode};
use support::*;

#[tokio::test]
async fn malformed_json_is_400_and_stores_nothing() {
    let t = TestService::start().await;
    for bad in [
        "{",
        "[1,2]",
        "null",
        r#"{"createTokenWithScopes":"chat"}"#,
        "\u{0}",
    ] {
        let (s, v) = t
            .signed(
                Method::POST,
                &format!("/identities?{IDENTITY_API}"),
                bad.as_bytes(),
            )
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad:?}: {v}");
        assert_eq!(error_code(&v), "BadRequest");
    }
    assert_eq!(t.user_count(), 0);
}

#[tokio::test]
async fn oversized_body_is_413_and_stores_nothing() {
    let t = TestService::start().await;
    let big = format!(
        r#"{{"createTokenWithScopes":["chat"],"pad":"{}"}}"#,
        "x".repeat(MAX_BODY)
    );
    let (s, _, v) = t
        .signed_with(
            Method::POST,
            &format!("/identities?{IDENTITY_API}"),
            big.as_bytes(),
            &PRIMARY,
            0,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(&v), "RequestEntityTooLarge");
    assert_eq!(t.user_count(), 0);
}

#[tokio::test]
async fn oversized_chunked_body_is_413() {
    let t = TestService::start().await;
    let addr = t.service.http_addr.expect("http port");
    // No Content-Length: the limit must hold while reading.
    let body = async move {
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .expect("timeout");
        let chunk = "a".repeat(4096);
        let mut req = format!(
            "POST /identities?{IDENTITY_API} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: HMAC-SHA256 x\r\nTransfer-Encoding: chunked\r\n\r\n"
        );
        for _ in 0..(MAX_BODY / 4096 + 2) {
            req.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
        }
        req.push_str("0\r\n\r\n");
        // The service may answer and close before reading everything; a write error is fine.
        let _ = s.write_all(req.as_bytes());
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    };
    let response = tokio::task::spawn_blocking(move || futures_block(body))
        .await
        .expect("join");
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert!(response.contains("RequestEntityTooLarge"), "{response}");
}

fn futures_block<F: std::future::Future<Output = String>>(f: F) -> String {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("rt")
        .block_on(f)
}

#[tokio::test]
async fn unknown_route_and_method() {
    let t = TestService::start().await;
    let (s, _, v) = send(
        t.client
            .get(format!("{}/nothing/here?{IDENTITY_API}", t.base)),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&v), "NotFound");
    let (s, v) = t
        .signed(
            Method::POST,
            &format!("/identities/x/:explode?{IDENTITY_API}"),
            b"",
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&v), "NotFound");
    let (s, _, v) = send(
        t.client
            .get(format!("{}/identities?{IDENTITY_API}", t.base)),
    )
    .await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(error_code(&v), "MethodNotAllowed");
}
