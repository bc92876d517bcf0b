#![no_main]
//! Request bodies as the local service takes them: the first byte picks one of the routes
//! that parse a JSON body (identity, relay configuration, chat threads, messages,
//! participants, read receipts, typing, SMS, email), the rest is the body, sent through the
//! service's real router and storage, signed as a client would sign it (HMAC with the access
//! key, or a chat user's token) so that it gets past authentication to the parsers.
//!
//! Whatever the body, the answer must be a success or a 4xx with ACS's error body
//! (`{"error":{"code","message"}}`): never a panic, never a 5xx.
//!
//! Event subscriptions are left out: an accepted one would make the service call the URL
//! it names.

use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use mediacore_service::auth::hmac;
use mediacore_service::config::KeysConfig;
use mediacore_service::{Config, RunningService};
use tokio::runtime::Runtime;
use tower::ServiceExt;

const KEY: [u8; 32] = [9; 32];
const HOST: &str = "127.0.0.1";

/// How a route is authenticated.
#[derive(Clone, Copy)]
enum Auth {
    AccessKey,
    ChatUser,
}

/// The service, started once, and what the routes need to name.
struct Fixture {
    runtime: Runtime,
    router: Router,
    routes: Vec<(&'static str, String, Auth)>,
    token: String,
    _service: RunningService,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let dir = data_dir();
        let config = Config {
            data_dir: dir,
            https_port: 0,
            keys: KeysConfig {
                primary: Some(base64::engine::general_purpose::STANDARD.encode(KEY)),
                secondary: None,
            },
            ..Config::default()
        };
        let service = runtime
            .block_on(mediacore_service::start(&config))
            .expect("service starts");
        let router = mediacore_service::routes::router(service.state.clone());
        // A user with a chat token, a thread and a message for the routes that name them.
        let created = call(
            &runtime,
            &router,
            "POST",
            "/identities?api-version=2023-10-01",
            br#"{"createTokenWithScopes":["chat"]}"#,
            Auth::AccessKey,
            "",
        );
        let user = created["identity"]["id"]
            .as_str()
            .expect("user id")
            .to_owned();
        let token = created["accessToken"]["token"]
            .as_str()
            .expect("token")
            .to_owned();
        let thread = call(
            &runtime,
            &router,
            "POST",
            "/chat/threads?api-version=2024-03-07",
            br#"{"topic":"fuzz"}"#,
            Auth::ChatUser,
            &token,
        )["chatThread"]["id"]
            .as_str()
            .expect("thread id")
            .to_owned();
        let message = call(
            &runtime,
            &router,
            "POST",
            &format!("/chat/threads/{thread}/messages?api-version=2024-03-07"),
            br#"{"content":"seed","type":"text"}"#,
            Auth::ChatUser,
            &token,
        )["id"]
            .as_str()
            .expect("message id")
            .to_owned();
        let chat = |path: String| format!("/chat/threads/{thread}{path}?api-version=2024-03-07");
        let routes = vec![
            (
                "POST",
                "/identities?api-version=2023-10-01".to_owned(),
                Auth::AccessKey,
            ),
            (
                "POST",
                format!("/identities/{user}/:issueAccessToken?api-version=2023-10-01"),
                Auth::AccessKey,
            ),
            (
                "POST",
                "/networkTraversal/:issueRelayConfiguration?api-version=2022-03-01-preview"
                    .to_owned(),
                Auth::AccessKey,
            ),
            (
                "POST",
                "/chat/threads?api-version=2024-03-07".to_owned(),
                Auth::ChatUser,
            ),
            ("PATCH", chat(String::new()), Auth::ChatUser),
            ("POST", chat("/messages".into()), Auth::ChatUser),
            (
                "PATCH",
                chat(format!("/messages/{message}")),
                Auth::ChatUser,
            ),
            ("POST", chat("/participants/:add".into()), Auth::ChatUser),
            ("POST", chat("/participants/:remove".into()), Auth::ChatUser),
            ("POST", chat("/readReceipts".into()), Auth::ChatUser),
            ("POST", chat("/typing".into()), Auth::ChatUser),
            (
                "POST",
                "/sms?api-version=2021-03-07".to_owned(),
                Auth::AccessKey,
            ),
            (
                "POST",
                "/emails:send?api-version=2023-03-31".to_owned(),
                Auth::AccessKey,
            ),
        ];
        Fixture {
            runtime,
            router,
            routes,
            token,
            _service: service,
        }
    })
}

/// This process's data folder; those of fuzzing processes that have exited are removed
/// (a fuzzer exits without running destructors).
fn data_dir() -> std::path::PathBuf {
    const PREFIX: &str = "mediacore-fuzz-service-";
    let tmp = std::env::temp_dir();
    if let Ok(entries) = std::fs::read_dir(&tmp) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(PREFIX)) else {
                continue;
            };
            if !std::path::Path::new("/proc").join(pid).exists() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    tmp.join(format!("{PREFIX}{}", std::process::id()))
}

/// Sends one request through the router and returns (status, body).
fn send(
    runtime: &Runtime,
    router: &Router,
    method: &str,
    path: &str,
    body: &[u8],
    auth: Auth,
    token: &str,
) -> (u16, Vec<u8>) {
    let mut request = http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", HOST)
        .header(
            "content-type",
            if method == "PATCH" {
                "application/merge-patch+json"
            } else {
                "application/json"
            },
        );
    match auth {
        Auth::AccessKey => {
            let date = httpdate::fmt_http_date(std::time::SystemTime::now());
            let hash = hmac::content_hash(body);
            let to_sign = hmac::string_to_sign(method, path, &[&date, HOST, &hash]);
            request = request
                .header("x-ms-date", date)
                .header("x-ms-content-sha256", hash)
                .header("authorization", hmac::authorization(&KEY, &to_sign));
        }
        Auth::ChatUser => request = request.header("authorization", format!("Bearer {token}")),
    }
    let request = request.body(Body::from(body.to_vec())).expect("request");
    runtime.block_on(async {
        let response = router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible router");
        let status = response.status().as_u16();
        let body = axum::body::to_bytes(response.into_body(), 1 << 24)
            .await
            .expect("response body");
        (status, body.to_vec())
    })
}

/// A request the fixture needs to succeed; returns its JSON.
fn call(
    runtime: &Runtime,
    router: &Router,
    method: &str,
    path: &str,
    body: &[u8],
    auth: Auth,
    token: &str,
) -> serde_json::Value {
    let (status, body) = send(runtime, router, method, path, body, auth, token);
    assert!(
        (200..300).contains(&status),
        "fixture {path}: {status} {}",
        String::from_utf8_lossy(&body)
    );
    serde_json::from_slice(&body).expect("fixture JSON")
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let f = fixture();
    let (method, path, auth) = &f.routes[usize::from(pick) % f.routes.len()];
    let (status, answer) = send(&f.runtime, &f.router, method, path, body, *auth, &f.token);
    assert!(
        status < 500,
        "{method} {path}: {status} {}",
        String::from_utf8_lossy(&answer)
    );
    if status >= 400 {
        let error: serde_json::Value = serde_json::from_slice(&answer)
            .unwrap_or_else(|e| panic!("{status} without a JSON error body ({e}): {answer:?}"));
        assert!(
            error["error"]["code"].is_string() && error["error"]["message"].is_string(),
            "{status} without ACS's error body: {error}"
        );
    }
});
