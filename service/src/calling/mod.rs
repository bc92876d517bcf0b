//! Call signaling: two-party calls between users of this resource, placed and answered by
//! MediaCore engines (SDP offer/answer and trickled ICE candidates relayed through the service)
//! or controlled by server apps through ACS Call Automation (acs-wire.md §11).
//!
//! - [`transitions`]: the state machine and what each change writes (events, notifications,
//!   callbacks);
//! - [`context`]: the signed, opaque `incomingCallContext`;
//! - [`hub`]: wakes the notification streams of users after a change committed;
//! - [`callbacks`]: delivers Call Automation callbacks (CloudEvents) at least once;
//! - [`wire`]: request and response shapes.

pub mod callbacks;
pub mod context;
pub mod hub;
pub mod transitions;
pub mod wire;

use std::sync::Arc;

use tokio::sync::Notify;

/// Call Automation's api-version (callautomation 1.6.0); the engine routes speak it too.
pub const API_VERSIONS: &[&str] = &["2026-03-12"];

/// The user-token scopes that may place and take calls.
pub const VOIP_SCOPES: &[&str] = &["voip"];

/// Largest SDP accepted (real offers are a few KB; this leaves room for many codecs).
pub const MAX_SDP_BYTES: usize = 12 * 1024;

/// Largest ICE candidate line.
pub const MAX_CANDIDATE_BYTES: usize = 1024;

/// Most candidates in one request.
pub const MAX_CANDIDATES: usize = 64;

/// `callConnectionState` values used here (ACS's names).
pub mod state {
    /// Placed, ringing, not yet answered.
    pub const CONNECTING: &str = "connecting";
    /// Answered.
    pub const CONNECTED: &str = "connected";
    /// Ended (hung up, rejected, cancelled, terminated).
    pub const DISCONNECTED: &str = "disconnected";
    /// The states in which a call may still change.
    pub const ACTIVE: &[&str] = &[CONNECTING, CONNECTED];
}

/// The raw id a server app acts as in Call Automation calls.
pub fn app_id(resource_id: &str) -> String {
    format!("28:acs:{resource_id}")
}

/// What the routes need to tell others after a change committed.
#[derive(Debug, Default)]
pub struct CallingRuntime {
    /// Notification streams by user.
    pub hub: hub::SignalHub,
    /// Wakes the callback sender.
    pub callbacks_queued: Arc<Notify>,
}
