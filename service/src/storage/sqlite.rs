//! SQLite backend: one connection in WAL mode, used from blocking threads.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use super::{
    Storage, StorageError, UserRecord, outbox, sqlite_calling, sqlite_chat, sqlite_email,
    sqlite_events, sqlite_sms,
};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS settings (
    name  VARCHAR(64) PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
    id                VARCHAR(128) PRIMARY KEY,
    created_ms        BIGINT NOT NULL,
    tokens_revoked_ms BIGINT
);
";

/// Storage in one SQLite file (WAL journal, so readers never wait for the writer's commit).
#[derive(Clone)]
pub struct SqliteStorage {
    pub(super) conn: Arc<Mutex<Connection>>,
    /// Woken after a transaction queued event deliveries.
    pub(super) deliveries_queued: Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for SqliteStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteStorage")
    }
}

fn err(e: impl std::fmt::Display) -> StorageError {
    StorageError(e.to_string())
}

impl SqliteStorage {
    /// Opens (creating if needed) the database at `path` and its schema.
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        let conn = Connection::open(path).map_err(err)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StorageError(format!("journal_mode is {mode}, not wal")));
        }
        // NORMAL is durable across process crashes in WAL mode; FULL adds an fsync per commit
        // for power loss. Requests acknowledged with 2xx must survive a kill -9, which NORMAL gives.
        conn.execute_batch(
            "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;",
        )
        .map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        conn.execute_batch(sqlite_chat::SCHEMA).map_err(err)?;
        conn.execute_batch(sqlite_sms::SCHEMA).map_err(err)?;
        conn.execute_batch(sqlite_email::SCHEMA).map_err(err)?;
        conn.execute_batch(outbox::SCHEMA).map_err(err)?;
        conn.execute_batch(sqlite_events::SCHEMA).map_err(err)?;
        conn.execute_batch(sqlite_calling::SCHEMA).map_err(err)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            deliveries_queued: Arc::new(tokio::sync::Notify::new()),
        })
    }

    /// Runs `f` with the connection on a blocking thread.
    pub(super) async fn with<T, F>(&self, f: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, rusqlite::Error> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        let wake = Arc::clone(&self.deliveries_queued);
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| StorageError("connection lock poisoned".into()))?;
            let result = f(&mut guard).map_err(err);
            // The closure has committed (or rolled back): the worker may look now. A wake after
            // a rollback finds nothing, which is harmless.
            if sqlite_events::take_queued() {
                wake.notify_one();
            }
            result
        })
        .await
        .map_err(err)?
    }
}

#[async_trait]
impl Storage for SqliteStorage {
    async fn setting_or_insert(&self, name: &str, value: &str) -> Result<String, StorageError> {
        let (name, value) = (name.to_owned(), value.to_owned());
        self.with(move |c| {
            let tx = c.transaction()?;
            let existing: Option<String> = tx
                .query_row(
                    "SELECT value FROM settings WHERE name = ?1",
                    params![name],
                    |r| r.get(0),
                )
                .optional()?;
            let v = match existing {
                Some(v) => v,
                None => {
                    tx.execute(
                        "INSERT INTO settings (name, value) VALUES (?1, ?2)",
                        params![name, value],
                    )?;
                    value
                }
            };
            tx.commit()?;
            Ok(v)
        })
        .await
    }

    async fn put_setting(&self, name: &str, value: &str) -> Result<(), StorageError> {
        let (name, value) = (name.to_owned(), value.to_owned());
        self.with(move |c| {
            // Portable upsert (SQLite ≥ 3.24 and PostgreSQL both take ON CONFLICT … DO UPDATE).
            c.execute(
                "INSERT INTO settings (name, value) VALUES (?1, ?2) \
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                params![name, value],
            )?;
            Ok(())
        })
        .await
    }

    async fn create_user(&self, user: &UserRecord) -> Result<(), StorageError> {
        let user = user.clone();
        self.with(move |c| {
            c.execute(
                "INSERT INTO users (id, created_ms, tokens_revoked_ms) VALUES (?1, ?2, ?3)",
                params![user.id, user.created_ms, user.tokens_revoked_ms],
            )?;
            Ok(())
        })
        .await
    }

    async fn user(&self, id: &str) -> Result<Option<UserRecord>, StorageError> {
        let id = id.to_owned();
        self.with(move |c| {
            c.query_row(
                "SELECT id, created_ms, tokens_revoked_ms FROM users WHERE id = ?1",
                params![id],
                |r| {
                    Ok(UserRecord {
                        id: r.get(0)?,
                        created_ms: r.get(1)?,
                        tokens_revoked_ms: r.get(2)?,
                    })
                },
            )
            .optional()
        })
        .await
    }

    async fn revoke_tokens(&self, id: &str, now_ms: i64) -> Result<bool, StorageError> {
        let id = id.to_owned();
        self.with(move |c| {
            // A token issued after an earlier revocation may carry a time later than now
            // (see UserRecord::next_issue_ms); stepping past the old mark revokes it too.
            let n = c.execute(
                "UPDATE users SET tokens_revoked_ms = CASE \
                   WHEN tokens_revoked_ms IS NOT NULL AND tokens_revoked_ms >= ?1 THEN tokens_revoked_ms + 1 \
                   ELSE ?1 END \
                 WHERE id = ?2",
                params![now_ms, id],
            )?;
            Ok(n > 0)
        })
        .await
    }

    async fn delete_user(&self, id: &str) -> Result<bool, StorageError> {
        let id = id.to_owned();
        self.with(move |c| {
            let n = c.execute("DELETE FROM users WHERE id = ?1", params![id])?;
            Ok(n > 0)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn users_settings_and_revocation() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = SqliteStorage::open(&dir.path().join("t.db")).expect("open");
        assert_eq!(s.setting_or_insert("k", "a").await.expect("set"), "a");
        assert_eq!(s.setting_or_insert("k", "b").await.expect("get"), "a");
        s.put_setting("k", "c").await.expect("put");
        assert_eq!(s.setting_or_insert("k", "d").await.expect("get"), "c");

        let u = UserRecord {
            id: "8:acs:r_1".into(),
            created_ms: 10,
            tokens_revoked_ms: None,
        };
        s.create_user(&u).await.expect("create");
        assert!(s.create_user(&u).await.is_err(), "duplicate id");
        assert_eq!(s.user("8:acs:r_1").await.expect("get"), Some(u.clone()));

        assert!(s.revoke_tokens("8:acs:r_1", 100).await.expect("revoke"));
        let r = s.user("8:acs:r_1").await.expect("get").expect("exists");
        assert!(!r.accepts_token_issued(100) && r.accepts_token_issued(101));
        assert_eq!(r.next_issue_ms(100), 101);
        // Revoking again at the same millisecond still moves the mark past a token issued at 101.
        assert!(s.revoke_tokens("8:acs:r_1", 100).await.expect("revoke"));
        let r = s.user("8:acs:r_1").await.expect("get").expect("exists");
        assert!(!r.accepts_token_issued(101));

        assert!(!s.revoke_tokens("8:acs:none", 1).await.expect("revoke"));
        assert!(s.delete_user("8:acs:r_1").await.expect("delete"));
        assert!(!s.delete_user("8:acs:r_1").await.expect("delete"));
        assert_eq!(s.user("8:acs:r_1").await.expect("get"), None);
    }
}
