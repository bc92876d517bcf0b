//! [`SmsStore`] on SQLite (portable SQL; booleans as `SMALLINT` 0/1).

use async_trait::async_trait;
use rusqlite::{OptionalExtension, Row, params};

use super::sms::{NewSms, SmsInsert, SmsRecord, SmsStore, status};
use super::{SqliteStorage, StorageError, outbox};

/// SMS tables.
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS phone_numbers (
    number     VARCHAR(32) PRIMARY KEY,
    created_ms BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS sms_messages (
    id              VARCHAR(64) PRIMARY KEY,
    from_number     VARCHAR(32) NOT NULL,
    to_number       VARCHAR(32) NOT NULL,
    body            TEXT NOT NULL,
    segments        BIGINT NOT NULL,
    delivery_report SMALLINT NOT NULL,
    tag             TEXT,
    local_delivery  SMALLINT NOT NULL,
    status          VARCHAR(16) NOT NULL,
    status_details  TEXT,
    created_ms      BIGINT NOT NULL,
    updated_ms      BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS sms_messages_by_status ON sms_messages (status, created_ms);
CREATE TABLE IF NOT EXISTS sms_repeatability (
    request_id   VARCHAR(256) PRIMARY KEY,
    message_id   VARCHAR(64) NOT NULL,
    request_hash VARCHAR(64) NOT NULL,
    created_ms   BIGINT NOT NULL
);
";

const COLUMNS: &str = "id, from_number, to_number, body, segments, delivery_report, tag, \
     local_delivery, status, status_details, created_ms, updated_ms";

fn sms_from_row(r: &Row<'_>) -> rusqlite::Result<SmsRecord> {
    Ok(SmsRecord {
        id: r.get(0)?,
        from: r.get(1)?,
        to: r.get(2)?,
        body: r.get(3)?,
        segments: r.get(4)?,
        delivery_report: r.get::<_, i64>(5)? != 0,
        tag: r.get(6)?,
        local: r.get::<_, i64>(7)? != 0,
        status: r.get(8)?,
        status_details: r.get(9)?,
        created_ms: r.get(10)?,
        updated_ms: r.get(11)?,
    })
}

#[async_trait]
impl SmsStore for SqliteStorage {
    async fn register_numbers(&self, numbers: &[String], now_ms: i64) -> Result<(), StorageError> {
        let numbers = numbers.to_vec();
        self.with(move |c| {
            let tx = c.transaction()?;
            for n in &numbers {
                let known: Option<i64> = tx
                    .query_row(
                        "SELECT 1 FROM phone_numbers WHERE number = ?1",
                        params![n],
                        |r| r.get(0),
                    )
                    .optional()?;
                if known.is_none() {
                    tx.execute(
                        "INSERT INTO phone_numbers (number, created_ms) VALUES (?1, ?2)",
                        params![n, now_ms],
                    )?;
                }
            }
            tx.commit()
        })
        .await
    }

    async fn local_numbers(&self, numbers: &[String]) -> Result<Vec<String>, StorageError> {
        let numbers = numbers.to_vec();
        self.with(move |c| {
            let mut stmt = c.prepare_cached("SELECT 1 FROM phone_numbers WHERE number = ?1")?;
            let mut local = Vec::new();
            for n in numbers {
                if stmt.exists(params![n])? && !local.contains(&n) {
                    local.push(n);
                }
            }
            Ok(local)
        })
        .await
    }

    async fn store_sms(&self, batch: Vec<NewSms>) -> Result<Vec<SmsInsert>, StorageError> {
        self.with(move |c| {
            let tx = c.transaction()?;
            let mut results = Vec::with_capacity(batch.len());
            for item in batch {
                if let Some((request_id, hash)) = &item.repeatability {
                    let seen: Option<(String, String)> = tx
                        .query_row(
                            "SELECT message_id, request_hash FROM sms_repeatability WHERE request_id = ?1",
                            params![request_id],
                            |r| Ok((r.get(0)?, r.get(1)?)),
                        )
                        .optional()?;
                    if let Some((message_id, seen_hash)) = seen {
                        results.push(if &seen_hash == hash {
                            SmsInsert::Replayed(message_id)
                        } else {
                            SmsInsert::Conflict
                        });
                        continue;
                    }
                    tx.execute(
                        "INSERT INTO sms_repeatability (request_id, message_id, request_hash, created_ms) \
                         VALUES (?1, ?2, ?3, ?4)",
                        params![request_id, item.record.id, hash, item.record.created_ms],
                    )?;
                }
                let m = &item.record;
                tx.execute(
                    &format!(
                        "INSERT INTO sms_messages ({COLUMNS}) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
                    ),
                    params![
                        m.id,
                        m.from,
                        m.to,
                        m.body,
                        m.segments,
                        i64::from(m.delivery_report),
                        m.tag,
                        i64::from(m.local),
                        m.status,
                        m.status_details,
                        m.created_ms,
                        m.updated_ms
                    ],
                )?;
                outbox::insert(&tx, &item.events)?;
                results.push(SmsInsert::Stored);
            }
            tx.commit()?;
            Ok(results)
        })
        .await
    }

    async fn queued_sms(&self, limit: u32) -> Result<Vec<SmsRecord>, StorageError> {
        self.with(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM sms_messages WHERE status = ?1 ORDER BY created_ms, id LIMIT ?2"
            ))?;
            let rows = stmt.query_map(params![status::QUEUED, limit], sms_from_row)?;
            rows.collect()
        })
        .await
    }

    async fn complete_sms(
        &self,
        done: &SmsRecord,
        now_ms: i64,
        events: Vec<outbox::OutboxEvent>,
    ) -> Result<bool, StorageError> {
        let done = done.clone();
        self.with(move |c| {
            let tx = c.transaction()?;
            let n = tx.execute(
                "UPDATE sms_messages SET status = ?1, status_details = ?2, updated_ms = ?3 \
                 WHERE id = ?4 AND status = ?5",
                params![
                    done.status,
                    done.status_details,
                    now_ms,
                    done.id,
                    status::QUEUED
                ],
            )?;
            if n == 0 {
                return Ok(false);
            }
            outbox::insert(&tx, &events)?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn sms(&self, id: &str) -> Result<Option<SmsRecord>, StorageError> {
        let id = id.to_owned();
        self.with(move |c| {
            c.query_row(
                &format!("SELECT {COLUMNS} FROM sms_messages WHERE id = ?1"),
                params![id],
                sms_from_row,
            )
            .optional()
        })
        .await
    }
}
