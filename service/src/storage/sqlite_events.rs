//! [`EventStore`] on SQLite (portable SQL; event-type filters as a JSON array of strings).

use std::cell::Cell;
use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::{OptionalExtension, Row, params};
use tokio::sync::Notify;

use super::events::{
    AttemptFailure, DeadLetterRecord, EventStore, PendingDelivery, PutResult, SubscriptionRecord,
    Validation, delivery, state,
};
use super::outbox::OutboxEvent;
use super::{SqliteStorage, StorageError};
use crate::events::subscription::{DeliverySchema, SubscriptionSpec};

/// Subscriptions, their delivery queues and dead letters.
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS event_subscriptions (
    name                  VARCHAR(64) PRIMARY KEY,
    endpoint_url          TEXT NOT NULL,
    delivery_schema       VARCHAR(32) NOT NULL,
    included_event_types  TEXT NOT NULL,
    max_delivery_attempts INTEGER NOT NULL,
    event_ttl_minutes     INTEGER NOT NULL,
    max_events_per_batch  INTEGER NOT NULL,
    from_config           SMALLINT NOT NULL,
    state                 VARCHAR(32) NOT NULL,
    state_reason          TEXT,
    validation_code       VARCHAR(64),
    validation_expires_ms BIGINT,
    next_seq              BIGINT NOT NULL,
    created_ms            BIGINT NOT NULL,
    updated_ms            BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS event_deliveries (
    subscription    VARCHAR(64) NOT NULL,
    event_id        VARCHAR(64) NOT NULL,
    seq             BIGINT NOT NULL,
    state           VARCHAR(16) NOT NULL,
    attempts        INTEGER NOT NULL,
    enqueued_ms     BIGINT NOT NULL,
    next_attempt_ms BIGINT NOT NULL,
    last_attempt_ms BIGINT,
    last_status     INTEGER,
    last_error      TEXT,
    PRIMARY KEY (subscription, event_id)
);
CREATE INDEX IF NOT EXISTS event_deliveries_queue ON event_deliveries (subscription, state, seq);
CREATE TABLE IF NOT EXISTS dead_letter (
    subscription     VARCHAR(64) NOT NULL,
    event_id         VARCHAR(64) NOT NULL,
    reason           VARCHAR(64) NOT NULL,
    attempts         INTEGER NOT NULL,
    last_status      INTEGER,
    last_error       TEXT,
    enqueued_ms      BIGINT NOT NULL,
    last_attempt_ms  BIGINT,
    dead_lettered_ms BIGINT NOT NULL,
    PRIMARY KEY (subscription, event_id)
);
";

thread_local! {
    /// Set when a transaction on this thread queued deliveries; [`SqliteStorage::with`] reads
    /// and clears it on the same blocking thread, after the closure (and its commit) ran.
    static QUEUED: Cell<bool> = const { Cell::new(false) };
}

/// Whether the last closure on this thread queued deliveries (and forgets it).
pub(super) fn take_queued() -> bool {
    QUEUED.with(|q| q.replace(false))
}

/// Queues `events` for every active subscription whose filter passes them, inside the
/// transaction that writes them to the outbox.
pub(super) fn enqueue(tx: &rusqlite::Connection, events: &[OutboxEvent]) -> rusqlite::Result<()> {
    let subs: Vec<(String, String, i64)> = tx
        .prepare_cached(
            "SELECT name, included_event_types, next_seq FROM event_subscriptions WHERE state = ?1",
        )?
        .query_map(params![state::SUCCEEDED], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<Result<_, _>>()?;
    if subs.is_empty() {
        return Ok(());
    }
    let now_ms = crate::clock::now_ms();
    let mut insert = tx.prepare_cached(
        "INSERT INTO event_deliveries (subscription, event_id, seq, state, attempts, enqueued_ms, \
         next_attempt_ms) VALUES (?1, ?2, ?3, ?4, 0, ?5, ?5)",
    )?;
    for (name, types, first_seq) in subs {
        let filter = SubscriptionSpec {
            included_event_types: serde_json::from_str(&types).unwrap_or_default(),
            ..SubscriptionSpec::default()
        };
        let mut seq = first_seq;
        for e in events.iter().filter(|e| filter.wants(&e.event_type)) {
            insert.execute(params![name, e.id, seq, delivery::PENDING, now_ms])?;
            seq += 1;
        }
        if seq != first_seq {
            tx.execute(
                "UPDATE event_subscriptions SET next_seq = ?1 WHERE name = ?2",
                params![seq, name],
            )?;
            QUEUED.with(|q| q.set(true));
        }
    }
    Ok(())
}

const SUB_COLUMNS: &str = "name, endpoint_url, delivery_schema, included_event_types, \
     max_delivery_attempts, event_ttl_minutes, max_events_per_batch, from_config, state, \
     state_reason, validation_code, validation_expires_ms, created_ms, updated_ms";

fn sub_from_row(r: &Row<'_>) -> rusqlite::Result<SubscriptionRecord> {
    let schema: String = r.get(2)?;
    let types: String = r.get(3)?;
    Ok(SubscriptionRecord {
        spec: SubscriptionSpec {
            name: r.get(0)?,
            endpoint_url: r.get(1)?,
            schema: DeliverySchema::parse(&schema).unwrap_or_default(),
            included_event_types: serde_json::from_str(&types).unwrap_or_default(),
            max_delivery_attempts: r.get(4)?,
            event_time_to_live_minutes: r.get(5)?,
            max_events_per_batch: r.get(6)?,
        },
        from_config: r.get::<_, i64>(7)? != 0,
        state: r.get(8)?,
        state_reason: r.get(9)?,
        validation_code: r.get(10)?,
        validation_expires_ms: r.get(11)?,
        created_ms: r.get(12)?,
        updated_ms: r.get(13)?,
    })
}

fn sub_by_name(
    c: &rusqlite::Connection,
    name: &str,
) -> rusqlite::Result<Option<SubscriptionRecord>> {
    c.query_row(
        &format!("SELECT {SUB_COLUMNS} FROM event_subscriptions WHERE name = ?1"),
        params![name],
        sub_from_row,
    )
    .optional()
}

fn event_from_row(r: &Row<'_>, at: usize) -> rusqlite::Result<OutboxEvent> {
    let data: String = r.get(at + 3)?;
    Ok(OutboxEvent {
        id: r.get(at)?,
        event_type: r.get(at + 1)?,
        subject: r.get(at + 2)?,
        data: serde_json::from_str(&data).unwrap_or(serde_json::Value::Null),
        event_ms: r.get(at + 4)?,
    })
}

/// Columns of the joined outbox row, read by [`event_from_row`].
const EVENT_COLUMNS: &str = "o.id, o.event_type, o.subject, o.data, o.event_ms";

#[async_trait]
impl EventStore for SqliteStorage {
    fn deliveries_queued(&self) -> Arc<Notify> {
        Arc::clone(&self.deliveries_queued)
    }

    async fn put_subscription(
        &self,
        spec: &SubscriptionSpec,
        from_config: bool,
        validation: &Validation,
        now_ms: i64,
    ) -> Result<PutResult, StorageError> {
        let (spec, validation) = (spec.clone(), validation.clone());
        self.with(move |c| {
            let tx = c.transaction()?;
            let existing = sub_by_name(&tx, &spec.name)?;
            let types = serde_json::to_string(&spec.included_event_types).unwrap_or_default();
            let validate = existing.as_ref().is_none_or(|old| {
                old.spec.needs_revalidation(&spec) || old.state == state::FAILED
            });
            let definition = params![
                spec.name,
                spec.endpoint_url,
                spec.schema.as_str(),
                types,
                spec.max_delivery_attempts,
                spec.event_time_to_live_minutes,
                spec.max_events_per_batch,
                i64::from(from_config),
                now_ms,
            ];
            if existing.is_none() {
                // The state is set with the handshake's code below.
                tx.execute(
                    &format!(
                        "INSERT INTO event_subscriptions (name, endpoint_url, delivery_schema, \
                         included_event_types, max_delivery_attempts, event_ttl_minutes, \
                         max_events_per_batch, from_config, created_ms, updated_ms, state, \
                         next_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, '{}', 0)",
                        state::CREATING
                    ),
                    definition,
                )?;
            } else {
                tx.execute(
                    "UPDATE event_subscriptions SET endpoint_url = ?2, delivery_schema = ?3, \
                     included_event_types = ?4, max_delivery_attempts = ?5, event_ttl_minutes = ?6, \
                     max_events_per_batch = ?7, from_config = ?8, updated_ms = ?9 WHERE name = ?1",
                    definition,
                )?;
            }
            if validate {
                tx.execute(
                    "UPDATE event_subscriptions SET state = ?2, state_reason = NULL, \
                     validation_code = ?3, validation_expires_ms = ?4 WHERE name = ?1",
                    params![
                        spec.name,
                        state::CREATING,
                        validation.code,
                        validation.expires_ms
                    ],
                )?;
            }
            let record = sub_by_name(&tx, &spec.name)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
            tx.commit()?;
            Ok(PutResult {
                record,
                created: existing.is_none(),
                validate,
            })
        })
        .await
    }

    async fn subscription(&self, name: &str) -> Result<Option<SubscriptionRecord>, StorageError> {
        let name = name.to_owned();
        self.with(move |c| sub_by_name(c, &name)).await
    }

    async fn subscriptions(&self) -> Result<Vec<SubscriptionRecord>, StorageError> {
        self.with(|c| {
            c.prepare(&format!(
                "SELECT {SUB_COLUMNS} FROM event_subscriptions ORDER BY name"
            ))?
            .query_map([], sub_from_row)?
            .collect()
        })
        .await
    }

    async fn delete_subscription(&self, name: &str) -> Result<bool, StorageError> {
        let name = name.to_owned();
        self.with(move |c| {
            let tx = c.transaction()?;
            tx.execute(
                "DELETE FROM event_deliveries WHERE subscription = ?1",
                params![name],
            )?;
            tx.execute(
                "DELETE FROM dead_letter WHERE subscription = ?1",
                params![name],
            )?;
            let n = tx.execute(
                "DELETE FROM event_subscriptions WHERE name = ?1",
                params![name],
            )?;
            tx.commit()?;
            Ok(n > 0)
        })
        .await
    }

    async fn restart_validation(
        &self,
        name: &str,
        validation: &Validation,
        now_ms: i64,
    ) -> Result<Option<SubscriptionRecord>, StorageError> {
        let (name, validation) = (name.to_owned(), validation.clone());
        self.with(move |c| {
            let n = c.execute(
                "UPDATE event_subscriptions SET validation_code = ?2, validation_expires_ms = ?3, \
                 updated_ms = ?4 WHERE name = ?1 AND state = ?5",
                params![
                    name,
                    validation.code,
                    validation.expires_ms,
                    now_ms,
                    state::CREATING
                ],
            )?;
            if n == 0 {
                return Ok(None);
            }
            sub_by_name(c, &name)
        })
        .await
    }

    async fn settle_validation(
        &self,
        name: &str,
        code: &str,
        from: &[&str],
        to: &str,
        reason: Option<&str>,
        now_ms: i64,
    ) -> Result<bool, StorageError> {
        let (name, code, to) = (name.to_owned(), code.to_owned(), to.to_owned());
        let from: Vec<String> = from.iter().map(|s| (*s).to_owned()).collect();
        let reason = reason.map(str::to_owned);
        self.with(move |c| {
            let tx = c.transaction()?;
            let current: Option<(String, Option<String>, Option<i64>)> = tx
                .query_row(
                    "SELECT state, validation_code, validation_expires_ms FROM event_subscriptions \
                     WHERE name = ?1",
                    params![name],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let moves = current.is_some_and(|(s, c, expires)| {
                from.contains(&s)
                    && c.as_deref() == Some(code.as_str())
                    && expires.is_none_or(|e| now_ms <= e)
            });
            if moves {
                tx.execute(
                    "UPDATE event_subscriptions SET state = ?2, state_reason = ?3, updated_ms = ?4 \
                     WHERE name = ?1",
                    params![name, to, reason, now_ms],
                )?;
            }
            tx.commit()?;
            Ok(moves)
        })
        .await
    }

    async fn expire_validations(&self, now_ms: i64) -> Result<Vec<String>, StorageError> {
        self.with(move |c| {
            let tx = c.transaction()?;
            let names: Vec<String> = tx
                .prepare(
                    "SELECT name FROM event_subscriptions WHERE state = ?1 \
                     AND validation_expires_ms < ?2",
                )?
                .query_map(params![state::AWAITING_MANUAL_ACTION, now_ms], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            for name in &names {
                tx.execute(
                    "UPDATE event_subscriptions SET state = ?2, state_reason = ?3, updated_ms = ?4 \
                     WHERE name = ?1",
                    params![
                        name,
                        state::FAILED,
                        "The validation URL was not visited before it expired.",
                        now_ms
                    ],
                )?;
            }
            tx.commit()?;
            Ok(names)
        })
        .await
    }

    async fn pending_deliveries(
        &self,
        subscription: &str,
        limit: u32,
    ) -> Result<Vec<PendingDelivery>, StorageError> {
        let subscription = subscription.to_owned();
        self.with(move |c| {
            c.prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS}, d.attempts, d.enqueued_ms, d.next_attempt_ms \
                 FROM event_deliveries d JOIN outbox o ON o.id = d.event_id \
                 WHERE d.subscription = ?1 AND d.state = ?2 ORDER BY d.seq LIMIT ?3"
            ))?
            .query_map(params![subscription, delivery::PENDING, limit], |r| {
                Ok(PendingDelivery {
                    event: event_from_row(r, 0)?,
                    attempts: r.get(5)?,
                    enqueued_ms: r.get(6)?,
                    next_attempt_ms: r.get(7)?,
                })
            })?
            .collect()
        })
        .await
    }

    async fn record_delivered(
        &self,
        subscription: &str,
        event_ids: &[String],
        status: u16,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        let (subscription, ids) = (subscription.to_owned(), event_ids.to_vec());
        self.with(move |c| {
            let tx = c.transaction()?;
            {
                let mut stmt = tx.prepare_cached(
                    "UPDATE event_deliveries SET state = ?3, attempts = attempts + 1, \
                     last_attempt_ms = ?4, last_status = ?5, last_error = NULL \
                     WHERE subscription = ?1 AND event_id = ?2 AND state = ?6",
                )?;
                for id in &ids {
                    stmt.execute(params![
                        subscription,
                        id,
                        delivery::DELIVERED,
                        now_ms,
                        status,
                        delivery::PENDING
                    ])?;
                }
            }
            tx.commit()
        })
        .await
    }

    async fn record_failed(
        &self,
        subscription: &str,
        retries: &[(String, i64)],
        failure: &AttemptFailure,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        let (subscription, retries, failure) =
            (subscription.to_owned(), retries.to_vec(), failure.clone());
        self.with(move |c| {
            let tx = c.transaction()?;
            {
                let mut stmt = tx.prepare_cached(
                    "UPDATE event_deliveries SET attempts = attempts + 1, next_attempt_ms = ?3, \
                     last_attempt_ms = ?4, last_status = ?5, last_error = ?6 \
                     WHERE subscription = ?1 AND event_id = ?2 AND state = ?7",
                )?;
                for (id, next) in &retries {
                    stmt.execute(params![
                        subscription,
                        id,
                        next,
                        now_ms,
                        failure.status,
                        failure.error,
                        delivery::PENDING
                    ])?;
                }
            }
            tx.commit()
        })
        .await
    }

    async fn dead_letter(
        &self,
        subscription: &str,
        event_ids: &[String],
        reason: &str,
        failure: Option<&AttemptFailure>,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        let (subscription, ids, reason) = (
            subscription.to_owned(),
            event_ids.to_vec(),
            reason.to_owned(),
        );
        let added = i64::from(failure.is_some());
        let last_attempt = failure.map(|_| now_ms);
        let (status, error) = failure.map_or((None, None), |f| (f.status, Some(f.error.clone())));
        self.with(move |c| {
            let tx = c.transaction()?;
            {
                let mut mark = tx.prepare_cached(
                    "UPDATE event_deliveries SET state = ?3, attempts = attempts + ?4, \
                     last_attempt_ms = COALESCE(?5, last_attempt_ms), \
                     last_status = COALESCE(?6, last_status), last_error = COALESCE(?7, last_error) \
                     WHERE subscription = ?1 AND event_id = ?2 AND state = ?8",
                )?;
                let mut copy = tx.prepare_cached(
                    "INSERT INTO dead_letter (subscription, event_id, reason, attempts, \
                     last_status, last_error, enqueued_ms, last_attempt_ms, dead_lettered_ms) \
                     SELECT subscription, event_id, ?3, attempts, last_status, last_error, \
                     enqueued_ms, last_attempt_ms, ?4 FROM event_deliveries \
                     WHERE subscription = ?1 AND event_id = ?2",
                )?;
                for id in &ids {
                    let n = mark.execute(params![
                        subscription,
                        id,
                        delivery::DEAD_LETTERED,
                        added,
                        last_attempt,
                        status,
                        error,
                        delivery::PENDING
                    ])?;
                    if n > 0 {
                        copy.execute(params![subscription, id, reason, now_ms])?;
                    }
                }
            }
            tx.commit()
        })
        .await
    }

    async fn dead_letters(
        &self,
        subscription: &str,
        skip: u32,
        limit: u32,
    ) -> Result<Vec<DeadLetterRecord>, StorageError> {
        let subscription = subscription.to_owned();
        self.with(move |c| {
            c.prepare(&format!(
                "SELECT {EVENT_COLUMNS}, l.reason, l.attempts, l.last_status, l.last_error, \
                 l.enqueued_ms, l.last_attempt_ms, l.dead_lettered_ms \
                 FROM dead_letter l JOIN outbox o ON o.id = l.event_id \
                 WHERE l.subscription = ?1 ORDER BY l.dead_lettered_ms, l.event_id \
                 LIMIT ?2 OFFSET ?3"
            ))?
            .query_map(params![subscription, limit, skip], |r| {
                Ok(DeadLetterRecord {
                    event: event_from_row(r, 0)?,
                    reason: r.get(5)?,
                    attempts: r.get(6)?,
                    last_status: r.get(7)?,
                    last_error: r.get(8)?,
                    enqueued_ms: r.get(9)?,
                    last_attempt_ms: r.get(10)?,
                    dead_lettered_ms: r.get(11)?,
                })
            })?
            .collect()
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::storage::sms::{NewSms, SmsRecord, SmsStore};

    fn spec(url: &str, types: &[&str]) -> SubscriptionSpec {
        SubscriptionSpec {
            name: "sub-a".into(),
            endpoint_url: url.into(),
            included_event_types: types.iter().map(|t| (*t).to_owned()).collect(),
            ..SubscriptionSpec::default()
        }
    }

    fn validation(code: &str) -> Validation {
        Validation {
            code: code.into(),
            expires_ms: 1_000,
        }
    }

    /// Writes one event through a real state change (a stored SMS); returns its id.
    async fn write_event(s: &SqliteStorage, n: u32) -> String {
        let event = OutboxEvent::new(
            "Microsoft.Communication.SMSReceived",
            "phonenumber/1",
            serde_json::json!({}),
            5,
        );
        let record = SmsRecord {
            id: format!("Outgoing_{n}"),
            from: "+18005550100".into(),
            to: "+18005550101".into(),
            body: String::new(),
            segments: 1,
            delivery_report: false,
            tag: None,
            local: true,
            status: "Delivered".into(),
            status_details: None,
            created_ms: 5,
            updated_ms: 5,
        };
        let id = event.id.clone();
        s.store_sms(vec![NewSms {
            record,
            repeatability: None,
            events: vec![event],
        }])
        .await
        .expect("store");
        id
    }

    async fn queued(s: &SqliteStorage) -> Vec<String> {
        s.pending_deliveries("sub-a", 100)
            .await
            .expect("pending")
            .into_iter()
            .map(|d| d.event.id)
            .collect()
    }

    #[tokio::test]
    async fn queues_for_active_matching_subscriptions_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = SqliteStorage::open(&dir.path().join("t.db")).expect("open");
        let put = s
            .put_subscription(&spec("http://a/", &[]), false, &validation("c1"), 10)
            .await
            .expect("put");
        assert!(put.created && put.validate);
        assert_eq!(put.record.state, state::CREATING);

        // Not validated yet: nothing is queued for it.
        write_event(&s, 1).await;
        assert!(queued(&s).await.is_empty());
        let wrong = s.settle_validation(
            "sub-a",
            "c0",
            &[state::CREATING],
            state::SUCCEEDED,
            None,
            20,
        );
        assert!(
            !wrong.await.expect("settle"),
            "another code changes nothing"
        );
        let late = s.settle_validation(
            "sub-a",
            "c1",
            &[state::CREATING],
            state::SUCCEEDED,
            None,
            2_000,
        );
        assert!(
            !late.await.expect("settle"),
            "an expired handshake changes nothing"
        );
        let ok = s.settle_validation(
            "sub-a",
            "c1",
            &[state::CREATING],
            state::SUCCEEDED,
            None,
            20,
        );
        assert!(ok.await.expect("settle"));

        // Active: queued in the writing transaction, and the worker is woken after the commit.
        let id = write_event(&s, 2).await;
        assert_eq!(queued(&s).await, vec![id.clone()]);
        tokio::time::timeout(Duration::from_secs(1), s.deliveries_queued().notified())
            .await
            .expect("woken");

        // A filter change keeps the state; a filter that does not match queues nothing.
        let put = s
            .put_subscription(&spec("http://a/", &["Other"]), false, &validation("c2"), 30)
            .await
            .expect("put");
        assert!(!put.created && !put.validate);
        assert_eq!(put.record.state, state::SUCCEEDED);
        write_event(&s, 3).await;
        assert_eq!(queued(&s).await, vec![id]);

        // Another endpoint needs a new handshake.
        let put = s
            .put_subscription(&spec("http://b/", &[]), false, &validation("c3"), 40)
            .await
            .expect("put");
        assert!(put.validate);
        assert_eq!(
            (
                put.record.state.as_str(),
                put.record.validation_code.as_deref()
            ),
            (state::CREATING, Some("c3"))
        );
        assert!(s.delete_subscription("sub-a").await.expect("delete"));
        assert!(queued(&s).await.is_empty());
    }
}
