//! The calling notification stream: a registration's server-sent events
//! (`GET /calling/registrations/{id}/events`), typed as [`CallingEvent`]s, reconnecting with
//! `Last-Event-ID` so that a dropped connection loses and repeats nothing.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::Stream;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::calling::WireCandidate;
use super::error::RestError;
use super::identifier::CommunicationIdentifier;
use super::pipeline::{Call, Pipeline};
use super::sse::{SseEvent, SseParser};

const WHAT: &str = "calling: notifications";

/// The service writes a keep-alive comment every 15 s: three missed ones mean the connection
/// is gone even if TCP has not noticed, and the stream reconnects.
const IDLE_LIMIT: Duration = Duration::from_secs(45);

/// Why a call ended (`reason` / `endReason`): SIP-like codes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EndReason {
    /// 200 hung up, 487 cancelled, 603 declined, 486 busy, 403 forbidden.
    pub code: i64,
    /// 5001 for a call a server app terminated for everyone, else 0.
    pub sub_code: i64,
    /// Human-readable.
    pub message: String,
}

/// [`EndReason`] by meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndKind {
    /// A party hung up a connected call.
    HungUp,
    /// The caller hung up before an answer.
    Cancelled,
    /// The callee declined (rejected, or hung up while it rang).
    Declined,
    /// The callee rejected it as busy.
    Busy,
    /// The callee rejected it as forbidden.
    Forbidden,
    /// A server app ended it for everyone.
    Terminated,
    /// A code this version does not know.
    Other,
}

impl EndReason {
    /// What the code means.
    pub fn kind(&self) -> EndKind {
        match (self.code, self.sub_code) {
            (200, 5001) => EndKind::Terminated,
            (200, _) => EndKind::HungUp,
            (487, _) => EndKind::Cancelled,
            (603, _) => EndKind::Declined,
            (486, _) => EndKind::Busy,
            (403, _) => EndKind::Forbidden,
            _ => EndKind::Other,
        }
    }

    /// Whether the callee refused the call (declined, busy, forbidden).
    pub fn is_rejection(&self) -> bool {
        matches!(
            self.kind(),
            EndKind::Declined | EndKind::Busy | EndKind::Forbidden
        )
    }
}

/// `incomingCall`: someone calls this user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IncomingCall {
    /// The call id: `CallingClient::call(call_id)` gives the handle to answer or reject.
    pub call_id: String,
    /// `serverCallId`.
    pub server_call_id: String,
    /// Ties the call's events together.
    pub correlation_id: String,
    /// Who calls.
    pub caller: CommunicationIdentifier,
    /// This user.
    pub callee: CommunicationIdentifier,
    /// The caller's shown name.
    #[serde(default)]
    pub caller_display_name: Option<String>,
    /// The caller's SDP offer, for `Call::accept_offer` (absent for a server app's call).
    #[serde(default)]
    pub offer_sdp: Option<String>,
    /// Call Automation's opaque context, for a server app that answers for the user.
    #[serde(default)]
    pub incoming_call_context: Option<String>,
}

/// `callAnswered`: the callee answered this user's call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallAnswered {
    /// The call id.
    pub call_id: String,
    /// The callee's SDP answer, for `Call::accept_answer` (absent when a server app answered).
    #[serde(default)]
    pub answer_sdp: Option<String>,
    /// Who answered.
    pub answered_by: CommunicationIdentifier,
}

/// `callConnected`: the call is answered (to both parties).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallConnected {
    /// The call id.
    pub call_id: String,
    /// `serverCallId`.
    pub server_call_id: String,
    /// Ties the call's events together.
    pub correlation_id: String,
    /// Who answered.
    #[serde(default)]
    pub answered_by: Option<CommunicationIdentifier>,
}

/// `iceCandidates`: the other party trickled candidates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteCandidates {
    /// The call id.
    pub call_id: String,
    /// Who sent them.
    pub from: CommunicationIdentifier,
    /// `candidate:…` lines in the order they were sent, for `Call::add_remote_candidate`.
    pub candidates: Vec<String>,
    /// The other party said no more candidates will come.
    pub end_of_candidates: bool,
}

/// `callDisconnected`: the call is over (to both parties).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallEnded {
    /// The call id.
    pub call_id: String,
    /// `serverCallId`.
    pub server_call_id: String,
    /// Ties the call's events together.
    pub correlation_id: String,
    /// Who ended it.
    #[serde(default)]
    pub ended_by: Option<CommunicationIdentifier>,
    /// Why: hung up, cancelled, rejected ([`EndReason::is_rejection`]).
    #[serde(default)]
    pub reason: EndReason,
}

/// One signaling notification.
#[derive(Debug, Clone, PartialEq)]
pub enum CallingEvent {
    /// `registrationConnected`: a connection of the stream is live (again); notifications
    /// after `last_event_id` follow.
    StreamConnected {
        /// The registration.
        registration_id: String,
        /// The last notification confirmed (0: none).
        last_event_id: u64,
    },
    /// A call to this user, with its offer.
    IncomingCall(IncomingCall),
    /// This user's call was answered, with the answer.
    CallAnswered(CallAnswered),
    /// A call of this user is connected (answered).
    CallConnected(CallConnected),
    /// The other party's trickled candidates.
    RemoteCandidates(RemoteCandidates),
    /// A call of this user ended: hung up, cancelled or rejected.
    CallEnded(CallEnded),
    /// A notification this version does not know, kept as JSON.
    Other {
        /// The SSE event name.
        name: String,
        /// Its data.
        data: serde_json::Value,
    },
}

impl CallingEvent {
    /// Types one server-sent event by its name.
    pub fn parse(name: &str, data: &str) -> Result<Self, RestError> {
        fn typed<T: DeserializeOwned>(name: &str, data: &str) -> Result<T, RestError> {
            serde_json::from_str(data)
                .map_err(|e| RestError::protocol(WHAT, format!("{name} data: {e}: {data}")))
        }
        Ok(match name {
            "registrationConnected" => {
                #[derive(Deserialize)]
                #[serde(rename_all = "camelCase")]
                struct Connected {
                    registration_id: String,
                    #[serde(default)]
                    last_event_id: u64,
                }
                let c: Connected = typed(name, data)?;
                Self::StreamConnected {
                    registration_id: c.registration_id,
                    last_event_id: c.last_event_id,
                }
            }
            "incomingCall" => Self::IncomingCall(typed(name, data)?),
            "callAnswered" => Self::CallAnswered(typed(name, data)?),
            "callConnected" => Self::CallConnected(typed(name, data)?),
            "iceCandidates" => {
                #[derive(Deserialize)]
                #[serde(rename_all = "camelCase")]
                struct Wire {
                    call_id: String,
                    from: CommunicationIdentifier,
                    candidates: Vec<WireCandidate>,
                }
                let w: Wire = typed(name, data)?;
                // An empty candidate is WebRTC's end-of-candidates mark, not a candidate.
                let end_of_candidates = w.candidates.iter().any(|c| c.candidate.is_empty());
                Self::RemoteCandidates(RemoteCandidates {
                    call_id: w.call_id,
                    from: w.from,
                    candidates: w
                        .candidates
                        .into_iter()
                        .map(|c| c.candidate)
                        .filter(|c| !c.is_empty())
                        .collect(),
                    end_of_candidates,
                })
            }
            "callDisconnected" => Self::CallEnded(typed(name, data)?),
            _ => Self::Other {
                name: name.to_owned(),
                data: typed(name, data)?,
            },
        })
    }

    /// The call the event is about (none for [`CallingEvent::StreamConnected`] and
    /// [`CallingEvent::Other`]).
    pub fn call_id(&self) -> Option<&str> {
        match self {
            Self::IncomingCall(e) => Some(&e.call_id),
            Self::CallAnswered(e) => Some(&e.call_id),
            Self::CallConnected(e) => Some(&e.call_id),
            Self::RemoteCandidates(e) => Some(&e.call_id),
            Self::CallEnded(e) => Some(&e.call_id),
            Self::StreamConnected { .. } | Self::Other { .. } => None,
        }
    }
}

/// A notification with its number (none for the greeting), or an error.
type Numbered = Result<(Option<u64>, CallingEvent), RestError>;

/// A registration's notifications, across reconnects.
///
/// A connection that ends, fails or stays silent past the keep-alive limit is reopened with
/// `Last-Event-ID` (the first time at once, then with the retry policy's backoff while
/// connections keep ending with nothing received), and the service sends what came after it.
/// The stream ends with an error when a reconnect is refused (the registration was deleted,
/// the token is no longer valid) or the service cannot be reached within the retry policy.
/// A notification whose data does not parse is an `Err` item; the stream goes on.
pub struct CallingEventStream {
    inner: Pin<Box<dyn Stream<Item = Numbered> + Send>>,
    last_event_id: Option<u64>,
}

impl std::fmt::Debug for CallingEventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallingEventStream")
            .field("last_event_id", &self.last_event_id)
            .finish_non_exhaustive()
    }
}

impl CallingEventStream {
    /// Connects (so that a refusal is the caller's error) and follows.
    pub(crate) async fn open(
        pipeline: Pipeline,
        path: String,
        last_event_id: Option<u64>,
    ) -> Result<Self, RestError> {
        let response = connect(&pipeline, &path, last_event_id).await?;
        let follow = Follow {
            pipeline,
            path,
            last: last_event_id,
            response: Some(response),
            parser: SseParser::default(),
            ready: VecDeque::new(),
            quiet_reconnects: 0,
            heard_this_connection: false,
        };
        let inner = futures_util::stream::unfold(Some(follow), |follow| async move {
            let mut follow = follow?;
            match follow.next().await {
                Ok(item) => Some((Ok(item), Some(follow))),
                Err(Step::Skip(e)) => Some((Err(e), Some(follow))),
                Err(Step::End(e)) => Some((Err(e), None)),
            }
        });
        Ok(Self {
            inner: Box::pin(inner),
            last_event_id,
        })
    }

    /// The number of the last notification this stream yielded (or was opened after): pass
    /// it to `CallingClient::events_after` to resume in a new stream.
    pub fn last_event_id(&self) -> Option<u64> {
        self.last_event_id
    }
}

impl Stream for CallingEventStream {
    type Item = Result<CallingEvent, RestError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok((id, event)))) => {
                if id.is_some() {
                    self.last_event_id = id;
                }
                Poll::Ready(Some(Ok(event)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Opens one connection of the stream.
async fn connect(
    pipeline: &Pipeline,
    path: &str,
    last_event_id: Option<u64>,
) -> Result<reqwest::Response, RestError> {
    let mut call = Call::new(WHAT, Method::GET, path.to_owned());
    call.streaming = true;
    call.headers
        .push(("accept", "text/event-stream".to_owned()));
    if let Some(id) = last_event_id {
        call.headers.push(("last-event-id", id.to_string()));
    }
    pipeline.execute(&call).await
}

/// An error item: one to report while going on, or the last.
enum Step {
    Skip(RestError),
    End(RestError),
}

/// The stream's position: the open connection and the last notification number seen.
struct Follow {
    pipeline: Pipeline,
    path: String,
    last: Option<u64>,
    response: Option<reqwest::Response>,
    parser: SseParser,
    ready: VecDeque<SseEvent>,
    /// Reconnects in a row whose connection brought no notification and nothing after its
    /// first chunk.
    quiet_reconnects: u32,
    /// The current connection has sent something after its greeting (a keep-alive counts).
    heard_this_connection: bool,
}

impl Follow {
    async fn next(&mut self) -> Result<(Option<u64>, CallingEvent), Step> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                // The greeting has no id of its own; numbers belong to notifications.
                let id = match event.name.as_str() {
                    "registrationConnected" => None,
                    _ => event.id.as_deref().and_then(|s| s.parse::<u64>().ok()),
                };
                if matches!((id, self.last), (Some(id), Some(last)) if id <= last) {
                    continue; // already yielded before a reconnect
                }
                if id.is_some() {
                    self.last = id;
                    // Notifications flow: the connection is healthy, whatever it does next.
                    self.quiet_reconnects = 0;
                }
                return match CallingEvent::parse(&event.name, &event.data) {
                    Ok(parsed) => Ok((id, parsed)),
                    Err(e) => Err(Step::Skip(e)),
                };
            }
            let Some(response) = self.response.as_mut() else {
                self.reconnect().await?;
                continue;
            };
            match tokio::time::timeout(IDLE_LIMIT, response.chunk()).await {
                Ok(Ok(Some(bytes))) => {
                    if self.heard_this_connection {
                        self.quiet_reconnects = 0;
                    }
                    self.heard_this_connection = true;
                    let events = self.parser.push(&bytes);
                    self.ready.extend(events);
                }
                Ok(Ok(None)) => {
                    log::debug!("{WHAT}: the connection ended; reconnecting");
                    self.response = None;
                }
                Ok(Err(e)) => {
                    log::debug!("{WHAT}: connection failed: {e}; reconnecting");
                    self.response = None;
                }
                Err(_) => {
                    log::debug!("{WHAT}: nothing for {IDLE_LIMIT:?}; reconnecting");
                    self.response = None;
                }
            }
        }
    }

    async fn reconnect(&mut self) -> Result<(), Step> {
        let retry = self.pipeline.retry_policy();
        if self.quiet_reconnects > retry.max_retries {
            return Err(Step::End(RestError::protocol(
                WHAT,
                format!(
                    "{} connections in a row ended with nothing received",
                    self.quiet_reconnects
                ),
            )));
        }
        if self.quiet_reconnects > 0 {
            tokio::time::sleep(retry.backoff(self.quiet_reconnects)).await;
        }
        self.quiet_reconnects += 1;
        let response = connect(&self.pipeline, &self.path, self.last)
            .await
            .map_err(Step::End)?;
        self.response = Some(response);
        // A partial event of the old connection is dropped: the service sends it again.
        self.parser = SseParser::default();
        self.heard_this_connection = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_every_notification() {
        let candidates = r#"{"callId":"c","from":{"rawId":"8:acs:a","kind":"communicationUser","communicationUser":{"id":"8:acs:a"}},
            "candidates":[{"candidate":"candidate:1 1 udp 1 127.0.0.1 5000 typ host","sdpMid":null,"sdpMLineIndex":0},{"candidate":""}]}"#;
        match CallingEvent::parse("iceCandidates", candidates).expect("candidates") {
            CallingEvent::RemoteCandidates(r) => {
                assert_eq!(r.candidates.len(), 1);
                assert!(r.end_of_candidates);
                assert_eq!(r.from.id(), Some("8:acs:a"));
            }
            other => panic!("{other:?}"),
        }
        let ended = r#"{"callId":"c","serverCallId":"s","correlationId":"k","state":"disconnected",
            "endedBy":{"rawId":"8:acs:b"},"reason":{"code":486,"subCode":0,"message":"busy"}}"#;
        match CallingEvent::parse("callDisconnected", ended).expect("ended") {
            CallingEvent::CallEnded(e) => {
                assert_eq!(e.reason.kind(), EndKind::Busy);
                assert!(e.reason.is_rejection());
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            CallingEvent::parse(
                "registrationConnected",
                r#"{"registrationId":"r","lastEventId":4}"#
            )
            .expect("connected"),
            CallingEvent::StreamConnected {
                registration_id: "r".into(),
                last_event_id: 4
            }
        );
        assert!(matches!(
            CallingEvent::parse("somethingNew", "{}"),
            Ok(CallingEvent::Other { .. })
        ));
        assert!(CallingEvent::parse("callAnswered", "{}").is_err());
    }

    #[test]
    fn end_codes_by_meaning() {
        let r = |code, sub_code| EndReason {
            code,
            sub_code,
            message: String::new(),
        };
        assert_eq!(r(200, 0).kind(), EndKind::HungUp);
        assert_eq!(r(200, 5001).kind(), EndKind::Terminated);
        assert_eq!(r(487, 0).kind(), EndKind::Cancelled);
        assert!(r(603, 0).is_rejection() && !r(487, 0).is_rejection());
        assert_eq!(r(999, 0).kind(), EndKind::Other);
    }
}
