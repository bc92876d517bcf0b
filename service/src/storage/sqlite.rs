//! SQLite backend in WAL mode: a writer thread with group commit, read connections beside it
//! (`sqlite_conn`), and the users' revocation marks cached in memory.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use super::sqlite_conn::{self, Readers, Writer};
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

/// Storage in one SQLite file (WAL journal, so readers never wait for the writer's commit):
/// writes go through one writer thread that commits them in groups, reads through a few read
/// connections (see `sqlite_conn`).
#[derive(Clone)]
pub struct SqliteStorage {
    writer: Arc<Writer>,
    readers: Arc<Readers>,
    users: Arc<UserMarks>,
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

/// Users as last committed, kept in memory so that checking a token's revocation on every
/// request needs no trip to the database. Sound because this process is the only writer of
/// its database: revocation and deletion update the cache after their commit and before
/// their caller is answered. (A backend shared by several nodes cannot keep this.)
#[derive(Default)]
struct UserMarks {
    inner: RwLock<Marks>,
}

#[derive(Default)]
struct Marks {
    /// Bumped by every change, so a lookup that read the database before a change does not
    /// store what it read after it.
    epoch: u64,
    users: HashMap<String, UserRecord>,
}

/// Most users kept; past it the cache starts over (it only saves reads).
const MAX_CACHED_USERS: usize = 100_000;

impl UserMarks {
    fn get(&self, id: &str) -> Result<(Option<UserRecord>, u64), StorageError> {
        let marks = self
            .inner
            .read()
            .map_err(|_| StorageError("user cache lock poisoned".into()))?;
        Ok((marks.users.get(id).cloned(), marks.epoch))
    }

    /// Stores `user`: as read at `epoch` (`Some`), or as just committed (`None`).
    fn put(&self, user: UserRecord, read_at: Option<u64>) -> Result<(), StorageError> {
        let mut marks = self
            .inner
            .write()
            .map_err(|_| StorageError("user cache lock poisoned".into()))?;
        match read_at {
            Some(epoch) if epoch != marks.epoch => return Ok(()),
            Some(_) => {}
            None => marks.epoch += 1,
        }
        if marks.users.len() >= MAX_CACHED_USERS {
            marks.users.clear();
        }
        marks.users.insert(user.id.clone(), user);
        Ok(())
    }

    fn forget(&self, id: &str) -> Result<(), StorageError> {
        let mut marks = self
            .inner
            .write()
            .map_err(|_| StorageError("user cache lock poisoned".into()))?;
        marks.epoch += 1;
        marks.users.remove(id);
        Ok(())
    }
}

fn user_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserRecord> {
    Ok(UserRecord {
        id: r.get(0)?,
        created_ms: r.get(1)?,
        tokens_revoked_ms: r.get(2)?,
    })
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
        sqlite_conn::configure(&conn)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        conn.execute_batch(sqlite_chat::SCHEMA).map_err(err)?;
        conn.execute_batch(sqlite_sms::SCHEMA).map_err(err)?;
        conn.execute_batch(sqlite_email::SCHEMA).map_err(err)?;
        conn.execute_batch(outbox::SCHEMA).map_err(err)?;
        conn.execute_batch(sqlite_events::SCHEMA).map_err(err)?;
        conn.execute_batch(sqlite_calling::SCHEMA).map_err(err)?;
        let readers = Readers::open(path)?;
        let deliveries_queued = Arc::new(tokio::sync::Notify::new());
        let writer = Writer::start(conn, path, Arc::clone(&deliveries_queued))?;
        Ok(Self {
            writer: Arc::new(writer),
            readers: Arc::new(readers),
            users: Arc::default(),
            deliveries_queued,
        })
    }

    /// Runs `f` with the write connection on the writer thread, between groups; `f` begins and
    /// commits its own transaction.
    pub(super) async fn with<T, F>(&self, f: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, rusqlite::Error> + Send + 'static,
    {
        self.writer.alone(move |c| f(c).map_err(err)).await
    }

    /// Runs `f` in the writer's next group commit (see `sqlite_conn`): no transaction of its
    /// own; an `Err` undoes what it wrote; the result comes back after the commit.
    pub(super) async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StorageError> + Send + 'static,
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    {
        self.writer.grouped(f).await
    }

    /// Runs `f` on a read connection; it sees every write already answered.
    pub(super) async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StorageError> + Send + 'static,
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    {
        self.readers.read(f).await
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
        let stored = user.clone();
        self.write(move |c| {
            c.prepare_cached(
                "INSERT INTO users (id, created_ms, tokens_revoked_ms) VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    stored.id,
                    stored.created_ms,
                    stored.tokens_revoked_ms
                ])
            })
            .map_err(err)?;
            Ok::<_, StorageError>(())
        })
        .await?;
        self.users.put(user.clone(), None)
    }

    async fn user(&self, id: &str) -> Result<Option<UserRecord>, StorageError> {
        let (cached, epoch) = self.users.get(id)?;
        if cached.is_some() {
            return Ok(cached);
        }
        let key = id.to_owned();
        let found = self
            .read(move |c| {
                c.prepare_cached(
                    "SELECT id, created_ms, tokens_revoked_ms FROM users WHERE id = ?1",
                )
                .and_then(|mut s| s.query_row(params![key], user_from_row).optional())
                .map_err(err)
            })
            .await?;
        // Only users that exist are kept: ids asked about need not be.
        if let Some(user) = &found {
            self.users.put(user.clone(), Some(epoch))?;
        }
        Ok(found)
    }

    async fn revoke_tokens(&self, id: &str, now_ms: i64) -> Result<bool, StorageError> {
        let id = id.to_owned();
        let revoked = self
            .write(move |c| {
                // A token issued after an earlier revocation may carry a time later than now
                // (see UserRecord::next_issue_ms); stepping past the old mark revokes it too.
                c.prepare_cached(
                    "UPDATE users SET tokens_revoked_ms = CASE \
                       WHEN tokens_revoked_ms IS NOT NULL AND tokens_revoked_ms >= ?1 THEN tokens_revoked_ms + 1 \
                       ELSE ?1 END \
                     WHERE id = ?2 \
                     RETURNING id, created_ms, tokens_revoked_ms",
                )
                .and_then(|mut s| s.query_row(params![now_ms, id], user_from_row).optional())
                .map_err(err)
            })
            .await?;
        match revoked {
            Some(user) => {
                self.users.put(user, None)?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn delete_user(&self, id: &str) -> Result<bool, StorageError> {
        let key = id.to_owned();
        let deleted = self
            .write(move |c| {
                c.prepare_cached("DELETE FROM users WHERE id = ?1")
                    .and_then(|mut s| s.execute(params![key]))
                    .map_err(err)
            })
            .await?;
        self.users.forget(id)?;
        Ok(deleted > 0)
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
