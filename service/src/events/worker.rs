//! The delivery worker: for every validated subscription, sends its queue in order, a batch at
//! a time, and records each outcome. A failed batch waits (exponential backoff with jitter) and
//! holds the rest of that subscription's queue back, so one subscription's events arrive in
//! order; other subscriptions go on. Nothing is marked delivered before the endpoint said
//! 200–204, so a crash re-delivers rather than loses (at least once).
//!
//! It wakes when a transaction queued deliveries, when a retry falls due, and at least every
//! `scan_interval_ms` (validation URLs that expired, work queued by another node). Storage
//! errors are logged and the work is looked at again at the next wake.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use super::EventsRuntime;
use super::backoff::random_unit;
use super::envelope;
use super::webhook::{self, Post};
use crate::clock;
use crate::storage::events::{AttemptFailure, PendingDelivery, SubscriptionRecord, state};
use crate::storage::{Storage, StorageError};

/// Dead-letter reasons (Event Grid's names for the first two).
pub mod reason {
    /// The retry budget's attempt count ran out.
    pub const MAX_DELIVERY_ATTEMPTS_EXCEEDED: &str = "MaxDeliveryAttemptsExceeded";
    /// The event's time-to-live ran out.
    pub const TIME_TO_LIVE_EXCEEDED: &str = "TimeToLiveExceeded";
    /// The endpoint answered 400 or 413, which retries cannot fix.
    pub const NON_RETRYABLE_STATUS: &str = "NonRetryableStatus";
}

/// Statuses that dead-letter at once, as Event Grid.
const NON_RETRYABLE: &[u16] = &[400, 413];

/// Runs until `stop` changes. Each subscription's queue is drained by a task of its own, so a
/// slow or hanging endpoint holds back only its own events.
pub async fn run(
    storage: Arc<dyn Storage>,
    runtime: Arc<EventsRuntime>,
    mut stop: watch::Receiver<bool>,
) {
    let wake = storage.deliveries_queued();
    let scan_ms = i64::try_from(runtime.scan_interval_ms.max(1)).unwrap_or(i64::MAX);
    let mut drains = Drains::default();
    let mut look = true;
    loop {
        if look && let Err(e) = drains.start(&storage, &runtime).await {
            tracing::error!("event delivery: {e}");
        }
        let now = clock::now_ms();
        let wait = drains
            .due
            .values()
            .min()
            .map_or(scan_ms, |t| (t - now).clamp(0, scan_ms));
        let wait = Duration::from_millis(u64::try_from(wait).unwrap_or(0));
        look = tokio::select! {
            Some(done) = drains.tasks.join_next_with_id() => drains.finished(done),
            _ = wake.notified() => {
                // Drains under way may have read their queue before this commit: they look again.
                drains.busy.values_mut().for_each(|again| *again = true);
                true
            }
            _ = tokio::time::sleep(wait) => true,
            _ = stop.changed() => {
                // Deliveries cut short were not recorded: they are sent again after a restart.
                drains.tasks.abort_all();
                return;
            }
        };
    }
}

type DrainResult = (String, Result<Option<i64>, StorageError>);

/// The drain tasks under way and what the idle subscriptions wait for.
#[derive(Default)]
struct Drains {
    tasks: JoinSet<DrainResult>,
    /// Subscriptions being drained, and whether work was queued since their drain began.
    busy: HashMap<String, bool>,
    /// Task ids, to know whose drain a panic ended.
    names: HashMap<tokio::task::Id, String>,
    /// When the front of each idle subscription's queue falls due, Unix ms.
    due: HashMap<String, i64>,
}

impl Drains {
    /// Starts a drain for every active subscription that has none under way.
    async fn start(
        &mut self,
        storage: &Arc<dyn Storage>,
        runtime: &Arc<EventsRuntime>,
    ) -> Result<(), StorageError> {
        for name in storage.expire_validations(clock::now_ms()).await? {
            tracing::warn!(subscription = %name, "event subscription failed: validation URL expired unvisited");
        }
        // Subscriptions deleted or being validated again wait for nothing any more.
        self.due.clear();
        for sub in storage.subscriptions().await? {
            if sub.state != state::SUCCEEDED || self.busy.contains_key(&sub.spec.name) {
                continue;
            }
            let name = sub.spec.name.clone();
            let (storage, runtime) = (Arc::clone(storage), Arc::clone(runtime));
            let task = self.tasks.spawn(async move {
                let result = drain(storage.as_ref(), &runtime, &sub.spec.name).await;
                (sub.spec.name, result)
            });
            self.names.insert(task.id(), name.clone());
            self.busy.insert(name, false);
        }
        Ok(())
    }

    /// Records a finished drain; true when its subscription should be looked at again now.
    fn finished(
        &mut self,
        done: Result<(tokio::task::Id, DrainResult), tokio::task::JoinError>,
    ) -> bool {
        let (id, result) = match done {
            Ok((id, (_, result))) => (id, result),
            Err(e) => {
                tracing::error!("event delivery task ended: {e}");
                (e.id(), Ok(None))
            }
        };
        let Some(name) = self.names.remove(&id) else {
            return false;
        };
        let again = self.busy.remove(&name).unwrap_or(false);
        match result {
            Ok(Some(t)) => {
                self.due.insert(name, t);
            }
            Ok(None) => {}
            Err(e) => tracing::error!(subscription = %name, "event delivery: {e}"),
        }
        again
    }
}

/// Sends a subscription's due queue, batch after batch, until it is empty (`None`), its front
/// waits for a retry (the time it falls due), or the subscription is no longer active.
async fn drain(
    storage: &dyn Storage,
    runtime: &EventsRuntime,
    name: &str,
) -> Result<Option<i64>, StorageError> {
    loop {
        // Read again before every batch: the definition may have changed (or gone) meanwhile.
        let Some(sub) = storage.subscription(name).await? else {
            return Ok(None);
        };
        if sub.state != state::SUCCEEDED {
            return Ok(None);
        }
        let ttl_ms = i64::from(sub.spec.event_time_to_live_minutes) * 60_000;
        let now = clock::now_ms();
        let queue = storage
            .pending_deliveries(name, sub.spec.max_events_per_batch)
            .await?;
        let Some(front) = queue.first() else {
            return Ok(None);
        };
        if front.next_attempt_ms > now {
            return Ok(Some(front.next_attempt_ms));
        }
        // In order: only the due front of the queue goes.
        let due: Vec<PendingDelivery> = queue
            .into_iter()
            .take_while(|d| d.next_attempt_ms <= now)
            .collect();
        let (expired, live): (Vec<_>, Vec<_>) =
            due.into_iter().partition(|d| now - d.enqueued_ms > ttl_ms);
        if !expired.is_empty() {
            let ids = ids(&expired);
            tracing::warn!(
                subscription = name,
                events = ids.len(),
                "events dead-lettered: time-to-live exceeded"
            );
            storage
                .dead_letter(name, &ids, reason::TIME_TO_LIVE_EXCEEDED, None, now)
                .await?;
            continue;
        }
        let events: Vec<_> = live.iter().map(|d| &d.event).collect();
        let (body, content_type) = envelope::batch(sub.spec.schema, &events, &runtime.topic);
        let sent = webhook::post(
            &runtime.client,
            Post {
                url: &sub.spec.endpoint_url,
                subscription: name,
                body: &body,
                content_type,
                delivery_count: live.first().map_or(0, |d| d.attempts),
            },
        )
        .await;
        let now = clock::now_ms();
        match sent {
            Ok(status) => {
                storage
                    .record_delivered(name, &ids(&live), status, now)
                    .await?;
            }
            // The front now waits for its retry (or was dead-lettered): the next turn sees which.
            Err(failure) => record_failure(storage, runtime, &sub, &live, &failure, now).await?,
        }
    }
}

/// Dead-letters what cannot or may no longer be retried, and schedules the rest.
async fn record_failure(
    storage: &dyn Storage,
    runtime: &EventsRuntime,
    sub: &SubscriptionRecord,
    batch: &[PendingDelivery],
    failure: &AttemptFailure,
    now: i64,
) -> Result<(), StorageError> {
    let name = sub.spec.name.as_str();
    let status = failure
        .status
        .map_or_else(|| "none".to_owned(), |s| s.to_string());
    if failure.status.is_some_and(|s| NON_RETRYABLE.contains(&s)) {
        tracing::warn!(subscription = name, status, error = %failure.error, events = batch.len(), "event delivery refused; dead-lettered");
        return storage
            .dead_letter(
                name,
                &ids(batch),
                reason::NON_RETRYABLE_STATUS,
                Some(failure),
                now,
            )
            .await;
    }
    // The batch shares one fate; its front has the most attempts.
    let attempts = batch.first().map_or(0, |d| d.attempts) + 1;
    let (spent, retry): (Vec<_>, Vec<_>) = batch
        .iter()
        .partition(|d| d.attempts + 1 >= sub.spec.max_delivery_attempts);
    tracing::warn!(subscription = name, status, error = %failure.error, events = batch.len(), attempts, "event delivery failed");
    if !spent.is_empty() {
        let spent: Vec<String> = spent.iter().map(|d| d.event.id.clone()).collect();
        tracing::warn!(
            subscription = name,
            events = spent.len(),
            "events dead-lettered: delivery attempts exhausted"
        );
        storage
            .dead_letter(
                name,
                &spent,
                reason::MAX_DELIVERY_ATTEMPTS_EXCEEDED,
                Some(failure),
                now,
            )
            .await?;
    }
    // One time for the whole batch (from its front's attempts), so it is retried together.
    let next = now.saturating_add(runtime.backoff.delay_ms(attempts, random_unit()));
    let retries: Vec<(String, i64)> = retry.iter().map(|d| (d.event.id.clone(), next)).collect();
    storage.record_failed(name, &retries, failure, now).await
}

fn ids(deliveries: &[PendingDelivery]) -> Vec<String> {
    deliveries.iter().map(|d| d.event.id.clone()).collect()
}
