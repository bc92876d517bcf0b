//! MediaCore's local service: the Azure Communication Services REST contract (identity, access
//! tokens, relay configuration, chat with real-time notifications, call signaling, SMS, email over SMTP, Event Grid delivery to webhooks) served over HTTPS from one process with SQLite storage, so the
//! official ACS SDKs and MediaCore's own adapters work against it unchanged.
//!
//! Start it with [`server::start`]; the `mediacore-service` binary does that from a TOML file
//! and the environment ([`config::Config`]).

pub mod auth;
pub mod calling;
pub mod chat;
pub mod clock;
pub mod config;
pub mod email;
pub mod error;
pub mod events;
pub mod identifier;
pub mod relay;
pub mod routes;
pub mod server;
pub mod sms;
pub mod state;
pub mod storage;
pub mod tls;

pub use config::Config;
pub use server::{RunningService, StartError, start, start_with_gateway};
