//! Starting and stopping the service: storage, keys, TLS, listeners.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum_server::Handle;
use axum_server::tls_rustls::RustlsConfig;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use tokio::sync::{Notify, oneshot, watch};
use tokio::task::JoinHandle;

use crate::auth::entra::EntraVerifier;
use crate::auth::keys::{AccessKey, AccessKeys, KeyRing, KeyType};
use crate::auth::token::TokenKey;
use crate::calling::CallingRuntime;
use crate::chat::realtime::ChatHub;
use crate::config::Config;
use crate::email::smtp::SmtpRelay;
use crate::events::backoff::Backoff;
use crate::events::{EventsRuntime, webhook};
use crate::routes::Scheme;
use crate::sms::gateway::{RecordingGateway, SmsGateway};
use crate::state::{AppState, EmailSettings, RelaySettings};
use crate::storage::{SqliteStorage, Storage, StorageError};
use crate::{calling, clock, email, events, routes, sms, tls};

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Creating the data folder or binding a port.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The database.
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    /// The certificates.
    #[error("tls: {0}")]
    Tls(#[from] tls::TlsError),
    /// A configured value is unusable.
    #[error("configuration: {0}")]
    Config(String),
    /// The system's random source failed.
    #[error("random source: {0}")]
    Random(String),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> StartError {
    let what = what.into();
    move |source| StartError::Io { what, source }
}

fn random_b64(len: usize) -> Result<String, StartError> {
    let mut buf = vec![0u8; len];
    getrandom::fill(&mut buf).map_err(|e| StartError::Random(e.to_string()))?;
    Ok(B64.encode(buf))
}

/// A key from the configuration, or the stored one (made on first start; replaced when
/// regenerated).
async fn access_key(
    storage: &dyn Storage,
    configured: Option<&str>,
    which: KeyType,
) -> Result<AccessKey, StartError> {
    let setting = which.setting();
    let (text, is_configured) = match configured {
        Some(k) => (k.to_owned(), true),
        None => (
            storage.setting_or_insert(setting, &random_b64(32)?).await?,
            false,
        ),
    };
    AccessKey::from_base64(&text, is_configured)
        .ok_or_else(|| StartError::Config(format!("{setting} is not base64 or is empty")))
}

/// A running service: its addresses, its credentials, and the means to stop it.
pub struct RunningService {
    /// The HTTPS listener's address.
    pub https_addr: SocketAddr,
    /// The plain-HTTP listener's address, when configured.
    pub http_addr: Option<SocketAddr>,
    /// `https://host:port/`.
    pub endpoint: String,
    /// `endpoint=https://host:port/;accesskey=<primary>`.
    pub connection_string: String,
    /// The secondary key's connection string.
    pub secondary_connection_string: String,
    /// The CA certificate clients must trust.
    pub ca_path: PathBuf,
    /// The shared state (keys, storage), for embedding and tests.
    pub state: Arc<AppState>,
    handle: Handle,
    http_stop: Option<oneshot::Sender<()>>,
    workers_stop: Option<watch::Sender<bool>>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for RunningService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningService")
            .field("https_addr", &self.https_addr)
            .field("http_addr", &self.http_addr)
            .finish_non_exhaustive()
    }
}

impl RunningService {
    /// Stops accepting requests, lets those in flight finish, and waits for the listeners.
    pub async fn shutdown(mut self) {
        // Notification streams never end on their own; graceful shutdown would wait for them.
        self.state.chat_hub.close();
        self.state.calling.hub.close();
        self.handle
            .graceful_shutdown(Some(std::time::Duration::from_secs(5)));
        if let Some(stop) = self.http_stop.take() {
            let _ = stop.send(());
        }
        if let Some(stop) = self.workers_stop.take() {
            let _ = stop.send(true);
        }
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
    }
}

/// Starts the service described by `config` on the current tokio runtime, with the default
/// (recording) SMS gateway.
pub async fn start(config: &Config) -> Result<RunningService, StartError> {
    start_with_gateway(config, Arc::new(RecordingGateway::default())).await
}

/// Starts the service with `gateway` carrying SMS to numbers the resource does not own.
pub async fn start_with_gateway(
    config: &Config,
    gateway: Arc<dyn SmsGateway>,
) -> Result<RunningService, StartError> {
    std::fs::create_dir_all(&config.data_dir)
        .map_err(io(format!("creating {}", config.data_dir.display())))?;
    let storage: Arc<dyn Storage> =
        Arc::new(SqliteStorage::open(&config.data_dir.join("service.db"))?);

    let resource_id = storage
        .setting_or_insert("resource_id", &uuid::Uuid::new_v4().to_string())
        .await?;
    let token_key = storage
        .setting_or_insert("token_signing_key", &random_b64(32)?)
        .await?;
    let token_key = TokenKey::new(
        B64.decode(token_key)
            .map_err(|e| StartError::Config(format!("stored token key: {e}")))?,
    );
    let primary = access_key(
        storage.as_ref(),
        config.keys.primary.as_deref(),
        KeyType::Primary,
    )
    .await?;
    let secondary = access_key(
        storage.as_ref(),
        config.keys.secondary.as_deref(),
        KeyType::Secondary,
    )
    .await?;
    let shared_secret = match &config.relay.shared_secret {
        Some(s) if !s.is_empty() => s.clone(),
        _ => {
            storage
                .setting_or_insert("relay_shared_secret", &random_b64(24)?)
                .await?
        }
    };
    let max_ttl_secs = i64::try_from(config.relay.max_ttl_seconds)
        .map_err(|_| StartError::Config("relay.max_ttl_seconds is too large".into()))?;

    let entra = match (&config.entra.issuer, &config.entra.key) {
        (None, None) => None,
        (Some(issuer), Some(key)) => {
            let key = B64
                .decode(key.trim())
                .map_err(|e| StartError::Config(format!("entra.key is not base64: {e}")))?;
            if key.len() < 16 {
                return Err(StartError::Config(
                    "entra.key must be at least 16 bytes".into(),
                ));
            }
            Some(EntraVerifier::new(issuer.clone(), key))
        }
        _ => {
            return Err(StartError::Config(
                "entra.issuer and entra.key go together".into(),
            ));
        }
    };

    if let Some(bad) = config.sms.numbers.iter().find(|n| !sms::is_e164(n)) {
        return Err(StartError::Config(format!(
            "sms.numbers: '{bad}' is not an E.164 number"
        )));
    }
    storage
        .register_numbers(&config.sms.numbers, clock::now_ms())
        .await?;
    let smtp_relay = SmtpRelay::new(&config.email).map_err(StartError::Config)?;

    let https = std::net::TcpListener::bind((config.listen_address, config.https_port))
        .map_err(io(format!("binding HTTPS port {}", config.https_port)))?;
    https
        .set_nonblocking(true)
        .map_err(io("configuring the HTTPS listener"))?;
    let https_addr = https
        .local_addr()
        .map_err(io("reading the HTTPS address"))?;
    let host = config.host();
    let endpoint = format!("https://{host}:{}/", https_addr.port());
    let events = Arc::new(EventsRuntime {
        topic: config.events.topic(),
        client: webhook::client(
            std::time::Duration::from_secs(config.events.delivery_timeout_seconds.max(1)),
            config.events.ca_file.as_deref(),
        )
        .map_err(StartError::Config)?,
        endpoint: endpoint.clone(),
        origin: host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
        backoff: Backoff {
            base_ms: config.events.retry_base_ms,
            cap_ms: config.events.retry_cap_ms,
        },
        scan_interval_ms: config.events.scan_interval_ms,
    });
    let to_validate =
        events::startup::sync_subscriptions(storage.as_ref(), &config.events.subscriptions)
            .await
            .map_err(StartError::Config)?;

    let state = Arc::new(AppState {
        storage,
        keys: KeyRing::new(AccessKeys { primary, secondary }),
        token_key,
        resource_id,
        resource_location: config.resource_location.clone(),
        relay: RelaySettings {
            urls: config.relay.urls.clone(),
            shared_secret,
            max_ttl_secs,
        },
        entra,
        max_body_bytes: config.max_body_bytes,
        chat_hub: ChatHub::default(),
        sms_wake: Arc::new(Notify::new()),
        email: EmailSettings {
            wake: Arc::new(Notify::new()),
            retry_after_seconds: config.email.retry_after_seconds,
            max_message_bytes: config.email.max_message_bytes,
            max_request_bytes: config.email.max_request_bytes(),
        },
        events,
        calling: Arc::new(CallingRuntime::default()),
    });

    let mut names = vec![
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
        "localhost".to_owned(),
    ];
    if !config.listen_address.is_unspecified() {
        names.push(config.listen_address.to_string());
    }
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| seen.insert(n.clone()));
    let material = tls::prepare(&config.data_dir.join("tls"), &names)?;

    let app = routes::router(Arc::clone(&state));
    let mut tasks = Vec::new();

    // The SMS dispatcher: sends what was queued (also before a restart), then waits for more.
    let (workers_stop, workers_stopped) = watch::channel(false);
    tasks.push(tokio::spawn(sms::dispatch::run(
        Arc::clone(&state.storage),
        gateway,
        Arc::clone(&state.sms_wake),
        workers_stopped.clone(),
    )));
    // The email dispatcher: delivers what was accepted (also before a restart) to the relay.
    tasks.push(tokio::spawn(email::dispatch::run(
        Arc::clone(&state.storage),
        smtp_relay,
        Arc::clone(&state.email.wake),
        workers_stopped.clone(),
    )));
    // Call Automation callbacks: sends what was queued (also before a restart) to the apps.
    tasks.push(tokio::spawn(calling::callbacks::run(
        Arc::clone(&state.storage),
        calling::callbacks::Sender {
            client: state.events.client.clone(),
            backoff: state.events.backoff,
            scan_interval_ms: state.events.scan_interval_ms,
        },
        Arc::clone(&state.calling.callbacks_queued),
        workers_stopped.clone(),
    )));
    // Event Grid delivery: sends what was queued (also before a restart) to the webhooks.
    tasks.push(tokio::spawn(events::worker::run(
        Arc::clone(&state.storage),
        Arc::clone(&state.events),
        workers_stopped,
    )));

    let handle = Handle::new();
    let server = axum_server::from_tcp_rustls(
        https,
        RustlsConfig::from_config(Arc::clone(&material.server_config)),
    )
    .handle(handle.clone());
    let make = app
        .clone()
        .layer(axum::Extension(Scheme::Https))
        .into_make_service();
    tasks.push(tokio::spawn(async move {
        if let Err(e) = server.serve(make).await {
            tracing::error!("HTTPS listener stopped: {e}");
        }
    }));

    let (http_addr, http_stop) = match config.http_port {
        Some(port) => {
            let listener = tokio::net::TcpListener::bind((config.listen_address, port))
                .await
                .map_err(io(format!("binding HTTP port {port}")))?;
            let addr = listener
                .local_addr()
                .map_err(io("reading the HTTP address"))?;
            let (tx, rx) = oneshot::channel::<()>();
            tasks.push(tokio::spawn(async move {
                let serve = axum::serve(
                    listener,
                    app.layer(axum::Extension(Scheme::Http)).into_make_service(),
                )
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                });
                if let Err(e) = serve.await {
                    tracing::error!("HTTP listener stopped: {e}");
                }
            }));
            (Some(addr), Some(tx))
        }
        None => (None, None),
    };

    // Handshakes last: the validation URL they hand out is served from here on.
    for record in to_validate {
        events::handshake::spawn(
            Arc::clone(&state.storage),
            Arc::clone(&state.events),
            record,
        );
    }

    let keys = state.keys.current();
    Ok(RunningService {
        connection_string: format!("endpoint={endpoint};accesskey={}", keys.primary.base64),
        secondary_connection_string: format!(
            "endpoint={endpoint};accesskey={}",
            keys.secondary.base64
        ),
        endpoint,
        https_addr,
        http_addr,
        ca_path: material.ca_path,
        state,
        handle,
        http_stop,
        workers_stop: Some(workers_stop),
        tasks,
    })
}
