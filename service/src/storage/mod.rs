//! Persistent state behind a trait, so a PostgreSQL backend can replace SQLite. The SQL in
//! the backends sticks to what both databases accept (no `INSERT OR …`, no `MAX(a, b)`).

pub mod calling;
pub mod chat;
pub mod email;
pub mod events;
pub mod outbox;
pub mod sms;
mod sqlite;
mod sqlite_calling;
mod sqlite_chat;
mod sqlite_conn;
mod sqlite_email;
mod sqlite_events;
mod sqlite_sms;

pub use calling::CallStore;
pub use chat::ChatStore;
pub use email::EmailStore;
pub use events::EventStore;
pub use sms::SmsStore;
pub use sqlite::SqliteStorage;

use async_trait::async_trait;

/// A storage failure; the caller logs it and answers 500.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StorageError(pub String);

/// A communication user as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// Raw id, `8:acs:<resourceId>_<uuid>`.
    pub id: String,
    /// Creation time, Unix milliseconds.
    pub created_ms: i64,
    /// Tokens issued at or before this time (Unix milliseconds) are revoked.
    pub tokens_revoked_ms: Option<i64>,
}

impl UserRecord {
    /// Whether a token issued at `issued_ms` is still valid for this user.
    pub fn accepts_token_issued(&self, issued_ms: i64) -> bool {
        self.tokens_revoked_ms.is_none_or(|r| issued_ms > r)
    }

    /// The issue time for a token made at `now_ms`: after the revocation time, even if the
    /// clock stepped back, so a new token is never born revoked.
    pub fn next_issue_ms(&self, now_ms: i64) -> i64 {
        match self.tokens_revoked_ms {
            Some(r) if now_ms <= r => r + 1,
            _ => now_ms,
        }
    }
}

/// The service's persistent state: users and settings here, chat in [`ChatStore`], SMS in
/// [`SmsStore`], email in [`EmailStore`], event subscriptions and deliveries in [`EventStore`],
/// calls in [`CallStore`].
#[async_trait]
pub trait Storage:
    ChatStore + SmsStore + EmailStore + EventStore + CallStore + Send + Sync + 'static
{
    /// Returns the setting `name`, storing `value` first if it has none. Concurrent callers
    /// (several nodes on one database) all get the one value that won.
    async fn setting_or_insert(&self, name: &str, value: &str) -> Result<String, StorageError>;

    /// Stores `value` as the setting `name`, replacing any earlier value.
    async fn put_setting(&self, name: &str, value: &str) -> Result<(), StorageError>;

    /// Stores a new user.
    async fn create_user(&self, user: &UserRecord) -> Result<(), StorageError>;

    /// The user `id`, if it exists.
    async fn user(&self, id: &str) -> Result<Option<UserRecord>, StorageError>;

    /// Revokes the user's tokens issued up to `now_ms` (and any issued later than `now_ms` by
    /// a clock that stepped back). Returns false if there is no such user.
    async fn revoke_tokens(&self, id: &str, now_ms: i64) -> Result<bool, StorageError>;

    /// Deletes the user and everything stored for it. Returns false if there is no such user.
    async fn delete_user(&self, id: &str) -> Result<bool, StorageError>;
}
