//! Call Automation callbacks: CloudEvents POSTed to the app's `callbackUri` (a JSON array of
//! one event, `source` `calling/callConnections/{id}`), at least once. They are queued in the
//! transaction of the state change; this loop sends them in order per URL (a failing URL holds
//! back only its own later events), retrying with the events module's backoff and HTTP client
//! until [`MAX_ATTEMPTS`], then dropping them with a warning.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};

use crate::clock;
use crate::events::backoff::{Backoff, random_unit};
use crate::events::{envelope, webhook};
use crate::storage::{Storage, StorageError};

/// Attempts per callback before it is given up.
pub const MAX_ATTEMPTS: u32 = 10;

/// Callbacks read per look.
const BATCH: u32 = 100;

/// What the sender needs.
#[derive(Debug, Clone)]
pub struct Sender {
    /// The events module's client (rustls, no redirects, timeout).
    pub client: reqwest::Client,
    /// Retry delays.
    pub backoff: Backoff,
    /// Longest sleep between two looks, ms.
    pub scan_interval_ms: u64,
}

/// Runs until `stop` changes.
pub async fn run(
    storage: Arc<dyn Storage>,
    sender: Sender,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let scan = i64::try_from(sender.scan_interval_ms.max(1)).unwrap_or(i64::MAX);
    loop {
        let wait = match send_due(storage.as_ref(), &sender).await {
            Ok(next) => next.map_or(scan, |t| (t - clock::now_ms()).clamp(0, scan)),
            Err(e) => {
                tracing::error!("call callbacks: {e}");
                scan
            }
        };
        let wait = Duration::from_millis(u64::try_from(wait).unwrap_or(0));
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Sends what is due; returns when to look again (`None`: when woken or at the next scan).
async fn send_due(storage: &dyn Storage, sender: &Sender) -> Result<Option<i64>, StorageError> {
    let pending = storage.pending_callbacks(BATCH).await?;
    let full = pending.len() >= BATCH as usize;
    let mut held = HashSet::new();
    let mut next: Option<i64> = None;
    for p in pending {
        let url = p.callback.url.clone();
        if held.contains(&url) {
            continue;
        }
        if p.next_attempt_ms > clock::now_ms() {
            next = Some(next.map_or(p.next_attempt_ms, |n| n.min(p.next_attempt_ms)));
            held.insert(url);
            continue;
        }
        let event = &p.callback.event;
        let body = serde_json::Value::Array(vec![envelope::cloud_event(event, &event.subject)]);
        let request = sender
            .client
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
        match webhook::send(request).await {
            Ok(_) => storage.remove_callback(p.seq).await?,
            Err(failure) => {
                let attempts = p.attempts + 1;
                held.insert(url.clone());
                if attempts >= MAX_ATTEMPTS {
                    tracing::warn!(url, event = %event.event_type, error = %failure.error, attempts, "call callback given up");
                    storage.remove_callback(p.seq).await?;
                    continue;
                }
                tracing::warn!(url, event = %event.event_type, error = %failure.error, attempts, "call callback failed");
                let at = clock::now_ms()
                    .saturating_add(sender.backoff.delay_ms(attempts, random_unit()));
                storage.retry_callback(p.seq, at).await?;
                next = Some(next.map_or(at, |n| n.min(at)));
            }
        }
    }
    // A full batch may have more behind it: look again at once.
    Ok(if full { Some(clock::now_ms()) } else { next })
}
