//! Event Grid delivery to webhooks: what the outbox holds reaches the subscribed endpoints at
//! least once, in Event Grid's envelopes, after the endpoint passed Event Grid's validation
//! handshake.
//!
//! Real ACS manages event subscriptions through Azure Resource Manager (Microsoft.EventGrid
//! system topics); the local service keeps them in its database, defined in the config file or
//! through the admin routes (`routes/events.rs`).
//!
//! - [`subscription`]: the definition and its limits;
//! - [`envelope`]: EventGridEvent and CloudEvents 1.0 bodies;
//! - [`webhook`]: the HTTP client and one POST of a batch;
//! - [`handshake`]: the validation handshakes;
//! - [`backoff`]: retry delays;
//! - [`startup`]: config-file subscriptions and interrupted handshakes at start;
//! - [`worker`]: the delivery loop;
//! - [`wire`]: the admin REST shapes.

pub mod backoff;
pub mod envelope;
pub mod handshake;
pub mod startup;
pub mod subscription;
pub mod webhook;
pub mod wire;
pub mod worker;

/// What delivery needs besides the storage: the topic, the HTTP client, and the timing.
#[derive(Debug, Clone)]
pub struct EventsRuntime {
    /// `/subscriptions/…/communicationServices/<name>`.
    pub topic: String,
    /// The client for handshakes and deliveries.
    pub client: reqwest::Client,
    /// The service's HTTPS endpoint (`https://host:port/`), base of validation URLs.
    pub endpoint: String,
    /// Sent as `WebHook-Request-Origin` in CloudEvents handshakes.
    pub origin: String,
    /// Retry delays.
    pub backoff: backoff::Backoff,
    /// Longest wait between two looks for due retries, ms.
    pub scan_interval_ms: u64,
}
