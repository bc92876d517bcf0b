//! The dispatcher: hands accepted email operations to the SMTP relay, one at a time, and records
//! the outcome (operation status, error, delivery reports) in one transaction. It runs at start
//! (so operations accepted before a crash or a stop go out) and whenever a send was accepted.

use std::sync::Arc;

use serde_json::json;
use tokio::sync::{Notify, watch};

use super::events::{self, Attempt};
use super::smtp::{self, SmtpRelay};
use super::status;
use super::wire::SendRequest;
use crate::clock;
use crate::storage::Storage;

/// Operations taken from the queue per round.
const BATCH: u32 = 20;

/// Runs until `stop` changes: waits for `wake`, then empties the queue.
pub async fn run(
    storage: Arc<dyn Storage>,
    relay: SmtpRelay,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            r = drain(storage.as_ref(), &relay) => {
                if let Err(e) = r {
                    tracing::error!("email dispatch: {e}");
                }
            }
            // A relay that hangs must not hold up a shutdown; the operation stays Running and
            // is sent again at the next start.
            _ = stop.changed() => return,
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = stop.changed() => return,
        }
    }
}

/// Sends every unfinished operation; returns how many were handed to the relay.
pub async fn drain(
    storage: &dyn Storage,
    relay: &SmtpRelay,
) -> Result<usize, crate::storage::StorageError> {
    let mut sent = 0;
    loop {
        let pending = storage.pending_emails(BATCH).await?;
        if pending.is_empty() {
            return Ok(sent);
        }
        for op in pending {
            let attempt_ms = clock::now_ms();
            storage.start_email(&op.id, attempt_ms).await?;
            let internet_message_id = smtp::internet_message_id(&op.id, &op.sender);
            // The request was validated before it was stored; a row that no longer parses
            // (a hand-edited database) fails its operation rather than the queue.
            let request: Result<SendRequest, String> =
                serde_json::from_str(&op.request).map_err(|e| format!("stored request: {e}"));
            let built = request.and_then(|r| smtp::build_message(&op.id, &r).map(|m| (r, m)));
            let (req, outcome) = match built {
                Ok((req, message)) => {
                    let outcome = relay.send(&message).await;
                    (req, outcome)
                }
                Err(e) => (
                    serde_json::from_str(&op.request).unwrap_or_default(),
                    Err(smtp::DeliveryError {
                        code: "InvalidMessage",
                        message: e,
                    }),
                ),
            };
            let mut done = op.clone();
            done.internet_message_id = Some(internet_message_id.clone());
            let (report_status, report_message) = match &outcome {
                Ok(answer) => {
                    tracing::info!(operation = %op.id, relay = relay.host(), "email delivered to the relay: {answer}");
                    done.status = status::SUCCEEDED.to_owned();
                    ("Delivered", answer.clone())
                }
                Err(e) => {
                    tracing::warn!(operation = %op.id, relay = relay.host(), "email not delivered: {}", e.message);
                    done.status = status::FAILED.to_owned();
                    done.error = Some(
                        json!({"code": e.code, "message": e.message, "target": "relay"})
                            .to_string(),
                    );
                    ("Failed", e.message.clone())
                }
            };
            let now_ms = clock::now_ms();
            let reports = events::delivery_reports(
                &op.id,
                &internet_message_id,
                &req,
                Attempt {
                    status: report_status,
                    status_message: &report_message,
                    relay_host: relay.host(),
                    attempt_ms,
                },
                now_ms,
            );
            storage.complete_email(&done, now_ms, reports).await?;
            sent += 1;
        }
    }
}
