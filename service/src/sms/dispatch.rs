//! The dispatcher: hands queued SMS to the gateway and records the outcome (and the delivery
//! report event) in one transaction. It runs at start (so messages queued before a crash go
//! out) and whenever a send request queued something.

use std::sync::Arc;

use tokio::sync::{Notify, watch};

use super::events;
use super::gateway::{DeliveryOutcome, OutgoingSms, SmsGateway};
use crate::clock;
use crate::storage::Storage;
use crate::storage::sms::status;

/// Messages taken from the queue per round.
const BATCH: u32 = 100;

/// Runs until `stop` changes: waits for `wake`, then empties the queue.
pub async fn run(
    storage: Arc<dyn Storage>,
    gateway: Arc<dyn SmsGateway>,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        if let Err(e) = drain(storage.as_ref(), gateway.as_ref()).await {
            tracing::error!("SMS dispatch: {e}");
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = stop.changed() => return,
        }
    }
}

/// Sends everything queued; returns how many messages were handed to the gateway.
pub async fn drain(
    storage: &dyn Storage,
    gateway: &dyn SmsGateway,
) -> Result<usize, crate::storage::StorageError> {
    let mut sent = 0;
    loop {
        let queued = storage.queued_sms(BATCH).await?;
        if queued.is_empty() {
            return Ok(sent);
        }
        for sms in queued {
            let attempt_ms = clock::now_ms();
            let outcome = gateway
                .send(&OutgoingSms {
                    message_id: sms.id.clone(),
                    from: sms.from.clone(),
                    to: sms.to.clone(),
                    body: sms.body.clone(),
                    segments: sms.segments,
                })
                .await;
            let (state, details) = match outcome {
                DeliveryOutcome::Delivered => (status::DELIVERED, "No error.".to_owned()),
                DeliveryOutcome::Failed(d) => (status::FAILED, d),
            };
            let now_ms = clock::now_ms();
            let mut done = sms.clone();
            done.status = state.to_owned();
            done.status_details = Some(details);
            let report = done
                .delivery_report
                .then(|| events::delivery_report(&done, attempt_ms, now_ms));
            storage
                .complete_sms(&done, now_ms, report.into_iter().collect())
                .await?;
            sent += 1;
        }
    }
}
