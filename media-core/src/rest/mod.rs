//! REST adapters for Azure Communication Services and MediaCore's local service, which speaks
//! the same wire contract (`shared/acs-wire.md`, `service/README.md`).
//!
//! Typed async clients on the engine's tokio runtime (reqwest with rustls): [`IdentityClient`],
//! [`RelayClient`] (relay configuration → a call's ICE servers), [`ChatClient`] and
//! [`ChatThreadClient`] (with the real-time notification stream), [`CallingClient`] (engine
//! call signaling through the local service: offer/answer, trickled candidates, a resumable
//! notification stream), [`SmsClient`] and [`EmailClient`] (a long-running send). A connection string (or an endpoint and a user
//! token) decides whether they talk to the local service or to a real ACS resource; nothing
//! else changes. Requests are signed with HMAC-SHA256 ([`HmacSigner`]) or carry a user token
//! refreshed before expiry ([`UserTokenCredential`]); throttling and server errors are retried
//! as azure-core does ([`retry`]). See `docs/rest.md`.

pub mod calling;
pub mod calling_events;
pub mod chat;
pub mod chat_events;
pub mod connection_string;
pub mod credential;
pub mod email;
pub mod error;
pub mod hmac_signer;
pub mod identifier;
pub mod identity;
pub mod paging;
mod pipeline;
pub mod relay;
pub mod retry;
pub mod sms;
pub mod sse;

pub use calling::{
    CallHandle, CallProperties, CallState, CallingClient, Registration, RejectReason,
};
pub use calling_events::{
    CallAnswered, CallConnected, CallEnded, CallingEvent, CallingEventStream, EndKind, EndReason,
    IncomingCall, RemoteCandidates,
};
pub use chat::{ChatClient, ChatParticipant, ChatThreadClient, SendChatMessage};
pub use chat_events::{ChatEvent, ChatEventStream};
pub use connection_string::{ConnectionString, Endpoint};
pub use credential::{Credential, DEFAULT_REFRESH_BEFORE, TokenRefresher, UserTokenCredential};
pub use email::{EmailClient, EmailMessage, EmailSendPoller};
pub use error::RestError;
pub use hmac_signer::HmacSigner;
pub use identifier::CommunicationIdentifier;
pub use identity::{IdentityClient, TokenScope};
pub use paging::Pager;
pub use pipeline::ClientOptions;
pub use relay::{RelayClient, RelayConfiguration};
pub use retry::RetryPolicy;
pub use sms::{SmsClient, SmsSendOptions};
