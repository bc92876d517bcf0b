//! The calling client: engine-to-engine call signaling through MediaCore's local service
//! (`service/README.md`, "Engine signaling"; api-version 2026-03-12), acting as a user with a
//! `voip` token. It carries what a [`crate::call::udp::Call`] needs from its peer — the SDP
//! offer and answer and trickled ICE candidates — and the call's life: ringing, answered,
//! rejected, hung up.
//!
//! ```text
//! caller                      service                     callee
//!   register ───────────────▶           ◀─────────────── register + events()
//!   place(callee, offer) ───▶  incomingCall{offerSdp} ──▶
//!                           ◀  answer(answer_sdp) ─────── CallHandle::answer
//!   ◀── callAnswered{answerSdp}, callConnected ─────────▶
//!   send_candidates ────────▶  iceCandidates ───────────▶ (and the other way)
//!   hang_up ────────────────▶  callDisconnected ────────▶ (to both)
//! ```
//!
//! ACS has no public REST for this (its Calling SDKs use private services), so against a real
//! ACS resource these calls fail; there, calls are placed through ACS's own clients.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::calling_events::{CallingEventStream, EndReason};
use super::connection_string::Endpoint;
use super::credential::{Credential, UserTokenCredential};
use super::error::RestError;
use super::identifier::CommunicationIdentifier;
use super::pipeline::{Call, ClientOptions, Pipeline, encode, path_query};

/// The calling api-version (Call Automation's, which the engine routes share).
pub const API_VERSION: &str = "2026-03-12";

/// A call's state as the service keeps it (`callConnectionState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CallState {
    /// Placed and ringing, not yet answered.
    Connecting,
    /// Answered.
    Connected,
    /// Over: hung up, rejected or cancelled.
    Disconnected,
    /// A state this version does not know.
    #[serde(other)]
    Unknown,
}

/// A call as the service shows it to its two parties.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallProperties {
    /// The call id, used in every other request about the call.
    pub id: String,
    /// `serverCallId` (as in Event Grid's call events).
    pub server_call_id: String,
    /// Ties the call's events and callbacks together.
    pub correlation_id: String,
    /// Where the call is.
    pub state: CallState,
    /// Who placed it.
    pub caller: CommunicationIdentifier,
    /// Who is called.
    pub callee: CommunicationIdentifier,
    /// The caller's shown name.
    #[serde(default)]
    pub caller_display_name: Option<String>,
    /// The caller's SDP offer (absent for a call a server app placed).
    #[serde(default)]
    pub offer_sdp: Option<String>,
    /// The callee's SDP answer, once answered.
    #[serde(default)]
    pub answer_sdp: Option<String>,
    /// Who answered (the callee, or a server app for it).
    #[serde(default)]
    pub answered_by: Option<CommunicationIdentifier>,
    /// When it was placed (ISO 8601).
    #[serde(default)]
    pub created_on: Option<String>,
    /// When it was answered.
    #[serde(default)]
    pub connected_on: Option<String>,
    /// When it ended.
    #[serde(default)]
    pub ended_on: Option<String>,
    /// Who ended it.
    #[serde(default)]
    pub ended_by: Option<CommunicationIdentifier>,
    /// Why it ended.
    #[serde(default)]
    pub end_reason: Option<EndReason>,
}

/// This engine's registration for incoming calls and notifications.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Registration {
    /// The registration id.
    pub id: String,
    /// The user it registers.
    pub user: CommunicationIdentifier,
    /// Path and query of its notification stream.
    pub events_path: String,
}

/// Why the callee refuses a call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RejectReason {
    /// Declined (603).
    #[default]
    Declined,
    /// Busy (486).
    Busy,
    /// Forbidden (403).
    Forbidden,
}

impl RejectReason {
    fn wire(self) -> &'static str {
        match self {
            Self::Declined => "none",
            Self::Busy => "busy",
            Self::Forbidden => "forbidden",
        }
    }
}

/// One trickled candidate as the service carries it (the browser's `RTCIceCandidateInit`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireCandidate {
    pub candidate: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdp_mid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdp_m_line_index: Option<u32>,
}

/// Most candidates the service takes in one request.
const MAX_CANDIDATES_PER_REQUEST: usize = 64;

/// A user's calling client: registers the engine for incoming calls, opens the notification
/// stream, places calls and gives handles to act on them.
#[derive(Clone)]
pub struct CallingClient {
    pipeline: Pipeline,
}

impl CallingClient {
    /// A client for `endpoint` acting as the user whose token (`voip` scope) `credential` holds.
    pub fn new(
        endpoint: Endpoint,
        credential: UserTokenCredential,
        options: &ClientOptions,
    ) -> Result<Self, RestError> {
        Ok(Self {
            pipeline: Pipeline::new(endpoint, Credential::UserToken(credential), options)?,
        })
    }

    /// Registers this engine: from now on every notification for the user (incoming calls,
    /// answers, candidates, ends) is kept for it until its stream confirms it.
    pub async fn register(&self) -> Result<Registration, RestError> {
        let call = Call::new(
            "calling: register",
            Method::POST,
            path_query("/calling/registrations", API_VERSION, &[]),
        );
        self.pipeline.send_json(&call).await
    }

    /// Ends a registration: its buffer is dropped and its open streams end.
    pub async fn unregister(&self, registration_id: &str) -> Result<(), RestError> {
        let call = Call::new(
            "calling: unregister",
            Method::DELETE,
            path_query(
                &format!("/calling/registrations/{}", encode(registration_id)),
                API_VERSION,
                &[],
            ),
        );
        self.pipeline.send(&call).await.map(drop)
    }

    /// The registration's notifications, from the first it has not confirmed. The stream
    /// reconnects by itself with `Last-Event-ID`, so nothing is lost or repeated across
    /// dropped connections; it ends with an error when the service refuses it (e.g. the
    /// registration was deleted) or cannot be reached within the retry policy.
    pub async fn events(&self, registration_id: &str) -> Result<CallingEventStream, RestError> {
        self.events_after(registration_id, None).await
    }

    /// As [`events`](Self::events), resuming after notification `last_event_id` (from
    /// [`CallingEventStream::last_event_id`] of an earlier stream, e.g. before a restart).
    pub async fn events_after(
        &self,
        registration_id: &str,
        last_event_id: Option<u64>,
    ) -> Result<CallingEventStream, RestError> {
        let path = path_query(
            &format!("/calling/registrations/{}/events", encode(registration_id)),
            API_VERSION,
            &[],
        );
        CallingEventStream::open(self.pipeline.clone(), path, last_event_id).await
    }

    /// Places a call to the user `callee_id` (`8:acs:…`) with this engine's SDP offer.
    pub async fn place(&self, callee_id: &str, offer_sdp: &str) -> Result<CallHandle, RestError> {
        self.place_with_name(callee_id, offer_sdp, None).await
    }

    /// As [`place`](Self::place), with a name shown to the callee.
    pub async fn place_with_name(
        &self,
        callee_id: &str,
        offer_sdp: &str,
        caller_display_name: Option<&str>,
    ) -> Result<CallHandle, RestError> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Body<'a> {
            target: CommunicationIdentifier,
            offer_sdp: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            caller_display_name: Option<&'a str>,
        }
        let call = Call::new(
            "calling: place call",
            Method::POST,
            path_query("/calling/calls", API_VERSION, &[]),
        )
        .json(&Body {
            target: CommunicationIdentifier::user(callee_id),
            offer_sdp,
            caller_display_name,
        })?;
        let placed: CallProperties = self.pipeline.send_json(&call).await?;
        Ok(self.call(&placed.id))
    }

    /// A handle on the call `call_id` (from [`CallingEvent::IncomingCall`] or
    /// [`active_calls`](Self::active_calls)); nothing is sent until it is used.
    ///
    /// [`CallingEvent::IncomingCall`]: super::CallingEvent::IncomingCall
    pub fn call(&self, call_id: &str) -> CallHandle {
        CallHandle {
            pipeline: self.pipeline.clone(),
            id: call_id.to_owned(),
        }
    }

    /// The user's calls that have not ended (placed or received), offers included: how an
    /// engine registered after a call was placed finds it.
    pub async fn active_calls(&self) -> Result<Vec<CallProperties>, RestError> {
        #[derive(Deserialize)]
        struct List {
            value: Vec<CallProperties>,
        }
        let call = Call::new(
            "calling: list calls",
            Method::GET,
            path_query("/calling/calls", API_VERSION, &[]),
        );
        let list: List = self.pipeline.send_json(&call).await?;
        Ok(list.value)
    }
}

/// One call, as one of its two parties.
#[derive(Clone)]
pub struct CallHandle {
    pipeline: Pipeline,
    id: String,
}

impl std::fmt::Debug for CallHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallHandle").field("id", &self.id).finish()
    }
}

impl CallHandle {
    /// The call id.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn path(&self, rest: &str) -> String {
        path_query(
            &format!("/calling/calls/{}{rest}", encode(&self.id)),
            API_VERSION,
            &[],
        )
    }

    /// The call as the service has it now.
    pub async fn properties(&self) -> Result<CallProperties, RestError> {
        let call = Call::new("calling: get call", Method::GET, self.path(""));
        self.pipeline.send_json(&call).await
    }

    /// Answers a ringing call with this engine's SDP answer (the callee only). A call a
    /// server app placed has no offer; answer it with [`answer_without_sdp`](Self::answer_without_sdp).
    pub async fn answer(&self, answer_sdp: &str) -> Result<CallProperties, RestError> {
        self.send_answer(Some(answer_sdp)).await
    }

    /// Answers a call that carries no offer (placed by a server app).
    pub async fn answer_without_sdp(&self) -> Result<CallProperties, RestError> {
        self.send_answer(None).await
    }

    async fn send_answer(&self, answer_sdp: Option<&str>) -> Result<CallProperties, RestError> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Body<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            answer_sdp: Option<&'a str>,
        }
        let call = Call::new("calling: answer", Method::POST, self.path(":answer"))
            .json(&Body { answer_sdp })?;
        self.pipeline.send_json(&call).await
    }

    /// Refuses a ringing call (the callee only); both parties get
    /// [`CallingEvent::CallEnded`](super::CallingEvent::CallEnded) with the reason.
    pub async fn reject(&self, reason: RejectReason) -> Result<(), RestError> {
        let call = Call::new("calling: reject", Method::POST, self.path(":reject"))
            .json(&serde_json::json!({ "reason": reason.wire() }))?;
        self.pipeline.send(&call).await.map(drop)
    }

    /// Leaves the call: hangs up a connected call, cancels (caller) or declines (callee) a
    /// ringing one. Both parties get [`CallingEvent::CallEnded`](super::CallingEvent::CallEnded).
    pub async fn hang_up(&self) -> Result<(), RestError> {
        let call = Call::new("calling: hang up", Method::DELETE, self.path(""));
        self.pipeline.send(&call).await.map(drop)
    }

    /// Trickles local ICE candidates to the other party, in order: the lines a
    /// [`Call`](crate::call::udp::Call) reports as `CallEvent::LocalCandidate`
    /// (`candidate:…`). Sent in requests of at most 64; nothing is sent for an empty list.
    pub async fn send_candidates<S: AsRef<str>>(&self, candidates: &[S]) -> Result<(), RestError> {
        let wire: Vec<WireCandidate> = candidates
            .iter()
            .map(|c| WireCandidate {
                candidate: c.as_ref().to_owned(),
                sdp_mid: None,
                // MediaCore bundles everything on one transport, its audio section first; a
                // browser needs an index or a mid to place a candidate.
                sdp_m_line_index: Some(0),
            })
            .collect();
        for chunk in wire.chunks(MAX_CANDIDATES_PER_REQUEST) {
            self.post_candidates(chunk).await?;
        }
        Ok(())
    }

    /// Tells the other party no more candidates will come (an empty candidate, as WebRTC's
    /// end-of-candidates).
    pub async fn end_of_candidates(&self) -> Result<(), RestError> {
        self.post_candidates(&[WireCandidate {
            candidate: String::new(),
            sdp_mid: None,
            sdp_m_line_index: Some(0),
        }])
        .await
    }

    async fn post_candidates(&self, candidates: &[WireCandidate]) -> Result<(), RestError> {
        let call = Call::new(
            "calling: send candidates",
            Method::POST,
            self.path("/candidates"),
        )
        .json(&serde_json::json!({ "candidates": candidates }))?;
        self.pipeline.send(&call).await.map(drop)
    }
}
