//! The outbox: events written in the same transaction as the state change they describe, and
//! queued in that transaction for every active webhook subscription that wants them, so the
//! delivery worker (`crate::events::worker`) sends them at least once from any node.

/// One event as Event Grid describes it; the envelope's `topic` (the resource path) is added
/// at delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEvent {
    /// Event id (a uuid); receivers dedupe by it.
    pub id: String,
    /// Full type, e.g. `Microsoft.Communication.ChatMessageReceived`.
    pub event_type: String,
    /// Subject, e.g. `thread/{threadId}/sender/{rawId}/recipient/{rawId}`.
    pub subject: String,
    /// The `data` object.
    pub data: serde_json::Value,
    /// Event time, Unix ms.
    pub event_ms: i64,
}

impl OutboxEvent {
    /// An event with a fresh id: a time-ordered uuid (v7), so the outbox's primary-key index
    /// grows at its end instead of dirtying a random page per event at every commit.
    pub fn new(
        event_type: impl Into<String>,
        subject: impl Into<String>,
        data: serde_json::Value,
        event_ms: i64,
    ) -> Self {
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            event_type: event_type.into(),
            subject: subject.into(),
            data,
            event_ms,
        }
    }
}

/// The outbox table (portable SQL).
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS outbox (
    id         VARCHAR(64) PRIMARY KEY,
    event_type VARCHAR(128) NOT NULL,
    subject    TEXT NOT NULL,
    data       TEXT NOT NULL,
    event_ms   BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_by_time ON outbox (event_ms);
";

/// Writes `events` inside the caller's transaction and queues their deliveries.
pub(super) fn insert(tx: &rusqlite::Connection, events: &[OutboxEvent]) -> rusqlite::Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let mut stmt = tx.prepare_cached(
        "INSERT INTO outbox (id, event_type, subject, data, event_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for e in events {
        stmt.execute(rusqlite::params![
            e.id,
            e.event_type,
            e.subject,
            e.data.to_string(),
            e.event_ms
        ])?;
    }
    super::sqlite_events::enqueue(tx, events)
}
