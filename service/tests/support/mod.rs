//! A service on 127.0.0.1:0 in a temporary folder, and a client that signs like the ACS SDKs.

#![allow(dead_code)]

pub mod calling;
pub mod chat;
pub mod process;
pub mod smtp;
pub mod webhook;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use mediacore_service::auth::hmac;
use mediacore_service::config::{EntraConfig, KeysConfig, RelayConfig};
use mediacore_service::sms::gateway::{RecordingGateway, SmsGateway};
use mediacore_service::{Config, RunningService};
use reqwest::{Method, StatusCode};
use serde_json::Value;

pub const PRIMARY: [u8; 32] = [1; 32];
pub const SECONDARY: [u8; 32] = [2; 32];
pub const RELAY_SECRET: &str = "test-relay-secret";
pub const ENTRA_ISSUER: &str = "https://login.mediacore.test/tenant/v2.0";
pub const ENTRA_KEY: [u8; 32] = [3; 32];
pub const MAX_BODY: usize = 16 * 1024;
pub const IDENTITY_API: &str = "api-version=2023-10-01";
pub const RELAY_API: &str = "api-version=2022-03-01-preview";

pub struct TestService {
    pub service: RunningService,
    pub dir: tempfile::TempDir,
    pub client: reqwest::Client,
    pub base: String,
}

pub fn config(dir: &std::path::Path) -> Config {
    Config {
        data_dir: dir.to_owned(),
        https_port: 0,
        http_port: Some(0),
        max_body_bytes: MAX_BODY,
        keys: KeysConfig {
            primary: Some(B64.encode(PRIMARY)),
            secondary: Some(B64.encode(SECONDARY)),
        },
        relay: RelayConfig {
            urls: vec!["stun:127.0.0.1:3478".into(), "turn:127.0.0.1:3478".into()],
            shared_secret: Some(RELAY_SECRET.to_owned()),
            max_ttl_seconds: 3600,
        },
        entra: EntraConfig {
            issuer: Some(ENTRA_ISSUER.to_owned()),
            key: Some(B64.encode(ENTRA_KEY)),
        },
        ..Config::default()
    }
}

pub fn https_client(ca_path: &std::path::Path) -> reqwest::Client {
    let pem = std::fs::read(ca_path).expect("CA file");
    let ca = reqwest::Certificate::from_pem(&pem).expect("CA pem");
    reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(ca)
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

impl TestService {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// A service whose test configuration `adjust` changes first.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Self {
        Self::start_with_gateway(adjust, Arc::new(RecordingGateway::default())).await
    }

    /// As [`start_with`](Self::start_with), with `gateway` carrying SMS.
    pub async fn start_with_gateway(
        adjust: impl FnOnce(&mut Config),
        gateway: Arc<dyn SmsGateway>,
    ) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = config(dir.path());
        adjust(&mut config);
        let service = mediacore_service::start_with_gateway(&config, gateway)
            .await
            .expect("start");
        Self::around(service, dir)
    }

    /// A client and base URL for `service`, which keeps its data in `dir`.
    fn around(service: RunningService, dir: tempfile::TempDir) -> Self {
        let client = https_client(&service.ca_path);
        let base = format!("https://127.0.0.1:{}", service.https_addr.port());
        Self {
            service,
            dir,
            client,
            base,
        }
    }

    /// Stops the service and starts it again on the same data folder (with the test
    /// configuration `adjust` changes), as a restart of the process would.
    pub async fn restart(self, adjust: impl FnOnce(&mut Config)) -> Self {
        let Self { service, dir, .. } = self;
        service.shutdown().await;
        let mut config = config(dir.path());
        adjust(&mut config);
        let service = mediacore_service::start(&config).await.expect("restart");
        Self::around(service, dir)
    }

    /// A request signed with `key`, a date `skew` seconds off now, and optionally a wrong
    /// content hash.
    pub async fn signed_with(
        &self,
        method: Method,
        path_and_query: &str,
        body: &[u8],
        key: &[u8],
        skew_secs: i64,
        hash_override: Option<String>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let now = SystemTime::now();
        let when = if skew_secs >= 0 {
            now + Duration::from_secs(skew_secs.unsigned_abs())
        } else {
            now - Duration::from_secs(skew_secs.unsigned_abs())
        };
        let date = httpdate::fmt_http_date(when);
        let hash = hash_override.unwrap_or_else(|| hmac::content_hash(body));
        let req = signed_request(
            &self.client,
            method,
            &self.base,
            path_and_query,
            body,
            key,
            date,
            hash,
        );
        send(req).await
    }

    /// A request signed with the primary key, carrying `headers` too.
    pub async fn signed_headers(
        &self,
        method: Method,
        path_and_query: &str,
        body: &[u8],
        headers: &[(&str, &str)],
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let date = httpdate::fmt_http_date(SystemTime::now());
        let hash = hmac::content_hash(body);
        let mut req = signed_request(
            &self.client,
            method,
            &self.base,
            path_and_query,
            body,
            &PRIMARY,
            date,
            hash,
        );
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        send(req).await
    }

    pub async fn signed(
        &self,
        method: Method,
        path_and_query: &str,
        body: &[u8],
    ) -> (StatusCode, Value) {
        let (s, _, v) = self
            .signed_with(method, path_and_query, body, &PRIMARY, 0, None)
            .await;
        (s, v)
    }

    pub async fn bearer(
        &self,
        method: Method,
        path_and_query: &str,
        token: &str,
        body: &[u8],
    ) -> (StatusCode, Value) {
        let req = self
            .client
            .request(method, format!("{}{}", self.base, path_and_query))
            .header("Authorization", format!("Bearer {token}"))
            .header("Content-Type", "application/json")
            .body(body.to_vec());
        let (s, _, v) = send(req).await;
        (s, v)
    }

    /// Creates a user with a token of `scopes`; returns (id, token).
    pub async fn user_with_token(&self, scopes: &[&str]) -> (String, String) {
        let body = serde_json::json!({ "createTokenWithScopes": scopes }).to_string();
        let (s, v) = self
            .signed(
                Method::POST,
                &format!("/identities?{IDENTITY_API}"),
                body.as_bytes(),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        (
            v["identity"]["id"].as_str().expect("id").to_owned(),
            v["accessToken"]["token"]
                .as_str()
                .expect("token")
                .to_owned(),
        )
    }

    /// Number of users in the database, read directly from the SQLite file.
    pub fn user_count(&self) -> i64 {
        self.count("users")
    }

    /// Number of rows in `table`, read directly from the SQLite file.
    pub fn count(&self, table: &str) -> i64 {
        let conn = rusqlite::Connection::open(self.dir.path().join("service.db")).expect("db");
        conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
            .expect("count")
    }
}

/// A request to `base` + `path_and_query` signed as the ACS SDKs sign: HMAC-SHA256 with `key`
/// over the method, path, `date`, host (from `base`) and content `hash`.
#[allow(clippy::too_many_arguments)]
pub fn signed_request(
    client: &reqwest::Client,
    method: Method,
    base: &str,
    path_and_query: &str,
    body: &[u8],
    key: &[u8],
    date: String,
    hash: String,
) -> reqwest::RequestBuilder {
    let host = base.split_once("://").map_or(base, |(_, h)| h);
    let to_sign = hmac::string_to_sign(method.as_str(), path_and_query, &[&date, host, &hash]);
    client
        .request(method, format!("{base}{path_and_query}"))
        .header("x-ms-date", date)
        .header("x-ms-content-sha256", hash)
        .header("Authorization", hmac::authorization(key, &to_sign))
        .header("Content-Type", "application/json")
        .body(body.to_vec())
}

pub async fn send(req: reqwest::RequestBuilder) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.expect("body");
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
    };
    (status, headers, value)
}

/// Asserts the ACS error body and returns its code.
pub fn error_code(v: &Value) -> String {
    let e = &v["error"];
    assert!(e["message"].is_string(), "no ACS error body: {v}");
    e["code"].as_str().expect("error code").to_owned()
}
