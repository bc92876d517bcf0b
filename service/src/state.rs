//! What every request handler shares.

use std::sync::Arc;

use crate::auth::entra::EntraVerifier;
use crate::auth::keys::KeyRing;
use crate::auth::token::TokenKey;
use crate::chat::realtime::ChatHub;
use crate::storage::Storage;

/// Relay settings handed out by `/networkTraversal`.
#[derive(Debug, Clone)]
pub struct RelaySettings {
    /// ICE server URLs.
    pub urls: Vec<String>,
    /// The TURN REST shared secret.
    pub shared_secret: String,
    /// Longest credential lifetime, seconds.
    pub max_ttl_secs: i64,
}

/// Email settings the routes need.
#[derive(Debug)]
pub struct EmailSettings {
    /// Wakes the email dispatcher when an operation was accepted.
    pub wake: Arc<tokio::sync::Notify>,
    /// `Retry-After` seconds handed to pollers.
    pub retry_after_seconds: u64,
    /// Largest message (bodies and decoded attachments).
    pub max_message_bytes: usize,
    /// Largest `POST /emails:send` body.
    pub max_request_bytes: usize,
}

/// Shared state of a running service.
#[derive(Debug)]
pub struct AppState {
    /// Persistent state.
    pub storage: Arc<dyn Storage>,
    /// HMAC access keys (replaceable while running: key regeneration).
    pub keys: KeyRing,
    /// Key user access tokens are signed with.
    pub token_key: TokenKey,
    /// This resource's id (a uuid), part of every user id.
    pub resource_id: String,
    /// Region name written into tokens.
    pub resource_location: String,
    /// Relay configuration.
    pub relay: RelaySettings,
    /// Service-principal tokens, when an issuer is configured.
    pub entra: Option<EntraVerifier>,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// Connected users' real-time chat notification queues.
    pub chat_hub: ChatHub,
    /// Wakes the SMS dispatcher when messages were queued for the gateway.
    pub sms_wake: Arc<tokio::sync::Notify>,
    /// Email delivery.
    pub email: EmailSettings,
    /// Event Grid delivery to webhooks.
    pub events: Arc<crate::events::EventsRuntime>,
    /// Call signaling: notification streams and the callback sender's wake.
    pub calling: Arc<crate::calling::CallingRuntime>,
}

impl std::fmt::Debug for dyn Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Storage")
    }
}

/// The state as handlers receive it.
pub type SharedState = Arc<AppState>;
