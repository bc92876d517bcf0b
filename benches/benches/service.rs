//! Requests per second and latency of the local service's chat `send_message`, beside an
//! unauthenticated axum hello-world handler in the same run:
//! `cargo bench -p mediacore-benches --bench service`.
//!
//! The service (`mediacore_service::start`, its own data folder, SQLite in WAL mode) and the
//! hello-world server run on one tokio runtime with two workers, the load generator on
//! another (both share this machine's cores: a same-host load test measures the pair). The
//! generator keeps [`CONCURRENCY`] requests in flight over keep-alive HTTP/1.1 connections
//! of one `reqwest` client to the plain-HTTP port (TLS is the same for both targets and
//! would only add its own cost), for [`WARMUP`] and then [`MEASURE`], [`RUNS`] runs per
//! target alternating, the median run reported; each request's
//! latency is taken from before it is sent to its whole response body read.
//!
//! `send_message` is `POST /chat/threads/{id}/messages` as ACS's chat SDKs send it: a user
//! access token (the service verifies the HS256 JWT and its revocation on every request —
//! ACS chat takes only user tokens, never the HMAC access key), a JSON body, the message
//! and its Event Grid outbox rows written in one SQLite transaction, 201 with the id. The
//! user and token come from the identity API with an HMAC-signed request, as a server app
//! makes them. The hello-world handler answers `POST /hello` with a fixed body.
//!
//! Prints `send_message req/s: N`, `send_message p99 ms: X` and
//! `ratio service/send_message/hello: X` (send_message's req/s over hello's: higher is
//! better, 1 would mean the service's work costs nothing). Without `--bench` (as
//! `cargo test --benches` runs it) it makes a short run of each, as a check that requests
//! succeed.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use mediacore_service::auth::hmac;
use mediacore_service::config::KeysConfig;
use mediacore_service::{Config, RunningService};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::runtime::Runtime;

/// Requests kept in flight.
const CONCURRENCY: usize = 32;
/// Unmeasured time first: connections opened, caches and SQLite warmed.
const WARMUP: Duration = Duration::from_secs(1);
/// Measured time per target.
const MEASURE: Duration = Duration::from_secs(5);
/// Runs per target, alternating; the median run is reported.
const RUNS: usize = 3;
/// The same, without `--bench`.
const CHECK: Duration = Duration::from_millis(300);
const ACCESS_KEY: [u8; 32] = [7; 32];
const IDENTITY_API: &str = "api-version=2023-10-01";
const CHAT_API: &str = "api-version=2024-03-07";

type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// What one target answered over a measured window.
struct Load {
    requests: usize,
    elapsed: Duration,
    /// Per-request latency, sorted.
    latencies: Vec<Duration>,
}

impl Load {
    fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    fn quantile_ms(&self, q: f64) -> f64 {
        let Some(last) = self.latencies.len().checked_sub(1) else {
            return f64::NAN;
        };
        let index = ((last as f64) * q).round() as usize;
        self.latencies[index.min(last)].as_secs_f64() * 1e3
    }

    fn describe(&self, label: &str) {
        println!(
            "  {label:<13} {:8.0} req/s   p50 {:6.2} ms   p99 {:6.2} ms   ({} requests in {:.1} s)",
            self.per_second(),
            self.quantile_ms(0.50),
            self.quantile_ms(0.99),
            self.requests,
            self.elapsed.as_secs_f64()
        );
    }
}

/// One request of a target, built fresh each time (reqwest builders are single-use).
type MakeRequest = Arc<dyn Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync>;

/// Keeps [`CONCURRENCY`] requests in flight for `warmup`, then for `measure`, counting only
/// the second window. A response other than `expected` ends the run with an error.
async fn drive(
    client: &reqwest::Client,
    make: MakeRequest,
    expected: StatusCode,
    warmup: Duration,
    measure: Duration,
) -> BenchResult<Load> {
    let start = Instant::now();
    let measured_from = start + warmup;
    let end = measured_from + measure;
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..CONCURRENCY {
        let client = client.clone();
        let make = Arc::clone(&make);
        workers.spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let sent = Instant::now();
                if sent >= end {
                    break;
                }
                let response = make(&client).send().await?;
                let status = response.status();
                let body = response.bytes().await?;
                if status != expected {
                    return Err(format!(
                        "answered {status}, not {expected}: {}",
                        String::from_utf8_lossy(&body)
                    )
                    .into());
                }
                if sent >= measured_from {
                    latencies.push(sent.elapsed());
                }
            }
            BenchResult::Ok(latencies)
        });
    }
    let mut latencies = Vec::new();
    while let Some(done) = workers.join_next().await {
        latencies.extend(done??);
    }
    latencies.sort_unstable();
    Ok(Load {
        requests: latencies.len(),
        elapsed: measure,
        latencies,
    })
}

/// An axum server answering `POST /hello` on 127.0.0.1, on the current runtime.
async fn hello_server() -> BenchResult<SocketAddr> {
    let app = axum::Router::new().route("/hello", axum::routing::post(|| async { "hello" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("hello server: {e}");
        }
    });
    Ok(addr)
}

/// The service with a fixed access key and a plain-HTTP port, data in `dir`.
async fn service(dir: &std::path::Path) -> BenchResult<(RunningService, String)> {
    let config = Config {
        data_dir: dir.to_owned(),
        https_port: 0,
        http_port: Some(0),
        keys: KeysConfig {
            primary: Some(base64::engine::general_purpose::STANDARD.encode(ACCESS_KEY)),
            secondary: None,
        },
        ..Config::default()
    };
    let running = mediacore_service::start(&config).await?;
    let addr = running
        .http_addr
        .ok_or("the service did not open its plain-HTTP port")?;
    Ok((running, format!("http://{addr}")))
}

/// An HMAC-signed request (acs-wire.md: date, content hash, host, signature).
fn signed(
    client: &reqwest::Client,
    method: Method,
    base: &str,
    path_and_query: &str,
    body: &[u8],
) -> reqwest::RequestBuilder {
    let host = base.split_once("://").map_or(base, |(_, h)| h);
    let date = httpdate::fmt_http_date(SystemTime::now());
    let hash = hmac::content_hash(body);
    let to_sign = hmac::string_to_sign(method.as_str(), path_and_query, &[&date, host, &hash]);
    client
        .request(method, format!("{base}{path_and_query}"))
        .header("x-ms-date", date)
        .header("x-ms-content-sha256", hash)
        .header("Authorization", hmac::authorization(&ACCESS_KEY, &to_sign))
        .header("Content-Type", "application/json")
        .body(body.to_vec())
}

/// JSON of a response, or an error naming the step, status and body.
async fn expect_json(
    step: &str,
    request: reqwest::RequestBuilder,
    expected: StatusCode,
) -> BenchResult<Value> {
    let response = request.send().await?;
    let status = response.status();
    let body = response.bytes().await?;
    if status != expected {
        return Err(format!("{step}: {status}: {}", String::from_utf8_lossy(&body)).into());
    }
    Ok(serde_json::from_slice(&body)?)
}

/// A user with a `chat` token (HMAC-signed identity call) and a thread it created:
/// (token, thread id).
async fn chat_thread(client: &reqwest::Client, base: &str) -> BenchResult<(String, String)> {
    let body = json!({ "createTokenWithScopes": ["chat"] }).to_string();
    let path = format!("/identities?{IDENTITY_API}");
    let created = expect_json(
        "create user",
        signed(client, Method::POST, base, &path, body.as_bytes()),
        StatusCode::CREATED,
    )
    .await?;
    let (Some(id), Some(token)) = (
        created["identity"]["id"].as_str(),
        created["accessToken"]["token"].as_str(),
    ) else {
        return Err(format!("create user: no id or token in {created}").into());
    };
    let me = json!({"communicationIdentifier": {"rawId": id, "communicationUser": {"id": id}}});
    let thread = expect_json(
        "create thread",
        client
            .post(format!("{base}/chat/threads?{CHAT_API}"))
            .bearer_auth(token)
            .json(&json!({"topic": "bench", "participants": [me]})),
        StatusCode::CREATED,
    )
    .await?;
    let thread = thread["chatThread"]["id"]
        .as_str()
        .ok_or_else(|| format!("create thread: no id in {thread}"))?;
    Ok((token.to_owned(), thread.to_owned()))
}

fn runtime(name: &str, workers: usize) -> std::io::Result<Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name(name)
        .enable_all()
        .build()
}

fn run() -> BenchResult<()> {
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let (warmup, window) = if bench_mode {
        (WARMUP, MEASURE)
    } else {
        (CHECK, CHECK)
    };
    let dir = std::env::temp_dir().join(format!("mediacore-service-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let servers = runtime("svc", 2)?;
    let (running, base, hello) = servers.block_on(async {
        let (running, base) = service(&dir).await?;
        let hello = hello_server().await?;
        BenchResult::Ok((running, base, hello))
    })?;
    let load = runtime("load", 2)?;
    let result = load.block_on(async {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(CONCURRENCY)
            .timeout(Duration::from_secs(10))
            .build()?;
        let (token, thread) = chat_thread(&client, &base).await?;
        let messages = format!("{base}/chat/threads/{thread}/messages?{CHAT_API}");
        let body = json!({"content": "Hello from the load generator", "type": "text"}).to_string();
        let send_message: MakeRequest = Arc::new(move |c| {
            c.post(&messages)
                .bearer_auth(&token)
                .header("Content-Type", "application/json")
                .body(body.clone())
        });
        let hello_url = format!("http://{hello}/hello");
        let say_hello: MakeRequest = Arc::new(move |c| c.post(&hello_url).body("{}"));
        // Alternating, so a drift of the machine's load touches both.
        let mut ours = Vec::new();
        let mut peers = Vec::new();
        for _ in 0..if bench_mode { RUNS } else { 1 } {
            ours.push(
                drive(
                    &client,
                    Arc::clone(&send_message),
                    StatusCode::CREATED,
                    warmup,
                    window,
                )
                .await?,
            );
            peers.push(
                drive(
                    &client,
                    Arc::clone(&say_hello),
                    StatusCode::OK,
                    warmup,
                    window,
                )
                .await?,
            );
        }
        BenchResult::Ok((ours, peers))
    });
    servers.block_on(running.shutdown());
    drop(servers);
    let _ = std::fs::remove_dir_all(&dir);
    let (ours, peers) = result?;
    // The run with the median rate stands for the target.
    let median = |loads: &[Load]| {
        let mut sorted: Vec<&Load> = loads.iter().collect();
        sorted.sort_by(|a, b| a.per_second().total_cmp(&b.per_second()));
        sorted
            .get(sorted.len() / 2)
            .map(|l| (l.per_second(), l.quantile_ms(0.50), l.quantile_ms(0.99)))
    };
    println!(
        "Service over loopback HTTP/1.1, {CONCURRENCY} requests in flight, {} s measured per run:",
        window.as_secs_f64()
    );
    for (i, load) in ours.iter().enumerate() {
        load.describe(&format!("send_message#{i}"));
    }
    for (i, load) in peers.iter().enumerate() {
        load.describe(&format!("hello#{i}"));
    }
    let (Some((rate, p50, p99)), Some((hello_rate, ..))) = (median(&ours), median(&peers)) else {
        return Err("no run finished".into());
    };
    if !bench_mode {
        println!("service: send_message and hello answered (test mode, no figures)");
        return Ok(());
    }
    println!("send_message p50 ms: {p50:.2}");
    println!("ratio service/send_message/hello: {:.2}", rate / hello_rate);
    println!("send_message req/s: {rate:.0}");
    println!("send_message p99 ms: {p99:.2}");
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("service bench: {e}");
            ExitCode::FAILURE
        }
    }
}
