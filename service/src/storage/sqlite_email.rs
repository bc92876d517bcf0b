//! [`EmailStore`] on SQLite (portable SQL).

use async_trait::async_trait;
use rusqlite::{OptionalExtension, Row, params};

use super::email::{EmailInsert, EmailRecord, EmailStore};
use super::{SqliteStorage, StorageError, outbox};
use crate::email::status;

/// Email tables.
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS email_operations (
    id                  VARCHAR(128) PRIMARY KEY,
    status              VARCHAR(16) NOT NULL,
    request             TEXT NOT NULL,
    request_hash        VARCHAR(64) NOT NULL,
    sender              TEXT NOT NULL,
    error               TEXT,
    internet_message_id TEXT,
    created_ms          BIGINT NOT NULL,
    updated_ms          BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS email_operations_by_status ON email_operations (status, created_ms);
CREATE TABLE IF NOT EXISTS email_repeatability (
    request_id   VARCHAR(256) PRIMARY KEY,
    operation_id VARCHAR(128) NOT NULL,
    created_ms   BIGINT NOT NULL
);
";

const COLUMNS: &str =
    "id, status, request, request_hash, sender, error, internet_message_id, created_ms, updated_ms";

fn email_from_row(r: &Row<'_>) -> rusqlite::Result<EmailRecord> {
    Ok(EmailRecord {
        id: r.get(0)?,
        status: r.get(1)?,
        request: r.get(2)?,
        request_hash: r.get(3)?,
        sender: r.get(4)?,
        error: r.get(5)?,
        internet_message_id: r.get(6)?,
        created_ms: r.get(7)?,
        updated_ms: r.get(8)?,
    })
}

fn by_id(c: &rusqlite::Connection, id: &str) -> rusqlite::Result<Option<EmailRecord>> {
    c.query_row(
        &format!("SELECT {COLUMNS} FROM email_operations WHERE id = ?1"),
        params![id],
        email_from_row,
    )
    .optional()
}

#[async_trait]
impl EmailStore for SqliteStorage {
    async fn store_email(
        &self,
        record: &EmailRecord,
        repeatability_id: Option<&str>,
    ) -> Result<EmailInsert, StorageError> {
        let record = record.clone();
        let repeatability_id = repeatability_id.map(str::to_owned);
        self.with(move |c| {
            let tx = c.transaction()?;
            let earlier = match &repeatability_id {
                Some(rid) => {
                    let op: Option<String> = tx
                        .query_row(
                            "SELECT operation_id FROM email_repeatability WHERE request_id = ?1",
                            params![rid],
                            |r| r.get(0),
                        )
                        .optional()?;
                    match op {
                        Some(op) => by_id(&tx, &op)?,
                        None => by_id(&tx, &record.id)?,
                    }
                }
                None => by_id(&tx, &record.id)?,
            };
            if let Some(earlier) = earlier {
                return Ok(if earlier.request_hash == record.request_hash {
                    EmailInsert::Replayed(earlier)
                } else {
                    EmailInsert::Conflict
                });
            }
            tx.execute(
                &format!(
                    "INSERT INTO email_operations ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                ),
                params![
                    record.id,
                    record.status,
                    record.request,
                    record.request_hash,
                    record.sender,
                    record.error,
                    record.internet_message_id,
                    record.created_ms,
                    record.updated_ms
                ],
            )?;
            if let Some(rid) = &repeatability_id {
                tx.execute(
                    "INSERT INTO email_repeatability (request_id, operation_id, created_ms) VALUES (?1, ?2, ?3)",
                    params![rid, record.id, record.created_ms],
                )?;
            }
            tx.commit()?;
            Ok(EmailInsert::Stored)
        })
        .await
    }

    async fn email(&self, id: &str) -> Result<Option<EmailRecord>, StorageError> {
        let id = id.to_owned();
        self.with(move |c| by_id(c, &id)).await
    }

    async fn pending_emails(&self, limit: u32) -> Result<Vec<EmailRecord>, StorageError> {
        self.with(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM email_operations WHERE status IN (?1, ?2) \
                 ORDER BY created_ms, id LIMIT ?3"
            ))?;
            let rows = stmt.query_map(
                params![status::NOT_STARTED, status::RUNNING, limit],
                email_from_row,
            )?;
            rows.collect()
        })
        .await
    }

    async fn start_email(&self, id: &str, now_ms: i64) -> Result<(), StorageError> {
        let id = id.to_owned();
        self.with(move |c| {
            c.execute(
                "UPDATE email_operations SET status = ?1, updated_ms = ?2 WHERE id = ?3 AND status = ?4",
                params![status::RUNNING, now_ms, id, status::NOT_STARTED],
            )?;
            Ok(())
        })
        .await
    }

    async fn complete_email(
        &self,
        done: &EmailRecord,
        now_ms: i64,
        events: Vec<outbox::OutboxEvent>,
    ) -> Result<bool, StorageError> {
        let done = done.clone();
        self.with(move |c| {
            let tx = c.transaction()?;
            let n = tx.execute(
                "UPDATE email_operations SET status = ?1, error = ?2, internet_message_id = ?3, updated_ms = ?4 \
                 WHERE id = ?5 AND status IN (?6, ?7)",
                params![
                    done.status,
                    done.error,
                    done.internet_message_id,
                    now_ms,
                    done.id,
                    status::NOT_STARTED,
                    status::RUNNING
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
}
