//! [`ChatStore`] on SQLite. Each change is one savepoint in the writer's group commit (atomic,
//! answered after the commit), each read one read transaction on a read connection; the SQL is
//! portable (keyset paging, `LIMIT … OFFSET …`, no SQLite-only syntax).

use std::collections::BTreeMap;

use async_trait::async_trait;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};

use super::chat::{
    Changed, ChatRefusal, ChatResult, ChatStore, ChatStoreError, CreateThreadOutcome, Events,
    MessageEdit, MessageRecord, NewMessage, NewThread, ParticipantRecord, ReadReceiptRecord,
    ThreadCursor, ThreadRecord, kind,
};
use super::sqlite_conn::{exec, row};
use super::{SqliteStorage, StorageError, outbox};

/// Chat tables (portable SQL). Deleting a thread cascades to everything in it; deleting a user
/// takes it out of every thread.
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS chat_threads (
    id              VARCHAR(128) PRIMARY KEY,
    topic           TEXT NOT NULL,
    created_by      VARCHAR(128) NOT NULL,
    created_ms      BIGINT NOT NULL,
    version_ms      BIGINT NOT NULL,
    last_message_ms BIGINT,
    last_sequence   BIGINT NOT NULL,
    last_message_id BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS chat_participants (
    thread_id        VARCHAR(128) NOT NULL REFERENCES chat_threads (id) ON DELETE CASCADE,
    user_id          VARCHAR(128) NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    display_name     TEXT,
    share_history_ms BIGINT,
    added_ms         BIGINT NOT NULL,
    join_order       BIGINT NOT NULL,
    PRIMARY KEY (thread_id, user_id)
);
CREATE INDEX IF NOT EXISTS chat_participants_by_user ON chat_participants (user_id);
CREATE TABLE IF NOT EXISTS chat_messages (
    thread_id           VARCHAR(128) NOT NULL REFERENCES chat_threads (id) ON DELETE CASCADE,
    id                  BIGINT NOT NULL,
    sequence_id         BIGINT NOT NULL,
    kind                VARCHAR(32) NOT NULL,
    version_ms          BIGINT NOT NULL,
    body                TEXT,
    topic               TEXT,
    participants        TEXT,
    initiator           VARCHAR(128),
    sender_id           VARCHAR(128),
    sender_display_name TEXT,
    metadata            TEXT,
    created_ms          BIGINT NOT NULL,
    edited_ms           BIGINT,
    deleted_ms          BIGINT,
    PRIMARY KEY (thread_id, id)
);
CREATE UNIQUE INDEX IF NOT EXISTS chat_messages_by_sequence ON chat_messages (thread_id, sequence_id);
CREATE TABLE IF NOT EXISTS chat_read_receipts (
    thread_id   VARCHAR(128) NOT NULL REFERENCES chat_threads (id) ON DELETE CASCADE,
    user_id     VARCHAR(128) NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message_id  BIGINT NOT NULL,
    sequence_id BIGINT NOT NULL,
    read_ms     BIGINT NOT NULL,
    PRIMARY KEY (thread_id, user_id)
);
CREATE TABLE IF NOT EXISTS chat_thread_requests (
    creator      VARCHAR(128) NOT NULL,
    request_id   VARCHAR(256) NOT NULL,
    request_hash VARCHAR(64) NOT NULL,
    response     TEXT NOT NULL,
    created_ms   BIGINT NOT NULL,
    PRIMARY KEY (creator, request_id)
);
";

impl From<rusqlite::Error> for ChatStoreError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Storage(StorageError(e.to_string()))
    }
}

macro_rules! thread_columns {
    () => {
        "t.id, t.topic, t.created_by, t.created_ms, t.version_ms, t.last_message_ms"
    };
}
const THREAD_COLUMNS: &str = thread_columns!();

macro_rules! message_columns {
    () => {
        "thread_id, id, sequence_id, kind, version_ms, body, topic, participants, initiator, \
         sender_id, sender_display_name, metadata, created_ms, edited_ms, deleted_ms"
    };
}
const MESSAGE_COLUMNS: &str = message_columns!();

/// Activity time of a thread: its last message, or its creation.
const ACTIVITY: &str = "COALESCE(t.last_message_ms, t.created_ms)";

fn thread_from_row(r: &Row<'_>) -> rusqlite::Result<ThreadRecord> {
    Ok(ThreadRecord {
        id: r.get(0)?,
        topic: r.get(1)?,
        created_by: r.get(2)?,
        created_ms: r.get(3)?,
        version_ms: r.get(4)?,
        last_message_ms: r.get(5)?,
    })
}

fn json_column<T: serde::de::DeserializeOwned + Default>(
    r: &Row<'_>,
    index: usize,
) -> rusqlite::Result<T> {
    let text: Option<String> = r.get(index)?;
    match text {
        None => Ok(T::default()),
        Some(t) => serde_json::from_str(&t).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, e.into())
        }),
    }
}

fn message_from_row(r: &Row<'_>) -> rusqlite::Result<MessageRecord> {
    Ok(MessageRecord {
        thread_id: r.get(0)?,
        id: r.get(1)?,
        sequence_id: r.get(2)?,
        kind: r.get(3)?,
        version_ms: r.get(4)?,
        body: r.get(5)?,
        topic: r.get(6)?,
        participants: json_column(r, 7)?,
        initiator: r.get(8)?,
        sender_id: r.get(9)?,
        sender_display_name: r.get(10)?,
        metadata: json_column(r, 11)?,
        created_ms: r.get(12)?,
        edited_ms: r.get(13)?,
        deleted_ms: r.get(14)?,
    })
}

fn to_json<T: serde::Serialize>(value: &T) -> ChatResult<String> {
    serde_json::to_string(value).map_err(|e| StorageError(e.to_string()).into())
}

fn load_thread(tx: &Connection, thread_id: &str) -> rusqlite::Result<Option<ThreadRecord>> {
    row(
        tx,
        concat!(
            "SELECT ",
            thread_columns!(),
            " FROM chat_threads t WHERE t.id = ?1"
        ),
        params![thread_id],
        thread_from_row,
    )
    .optional()
}

/// The thread, if it exists and `caller` is one of its participants.
fn guard(tx: &Connection, thread_id: &str, caller: &str) -> ChatResult<ThreadRecord> {
    let thread = load_thread(tx, thread_id)?.ok_or(ChatRefusal::ThreadNotFound)?;
    let member: Option<i64> = row(
        tx,
        "SELECT 1 FROM chat_participants WHERE thread_id = ?1 AND user_id = ?2",
        params![thread_id, caller],
        |r| r.get(0),
    )
    .optional()?;
    match member {
        Some(_) => Ok(thread),
        None => Err(ChatRefusal::NotParticipant.into()),
    }
}

fn member_ids(tx: &Connection, thread_id: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = tx.prepare_cached(
        "SELECT user_id FROM chat_participants WHERE thread_id = ?1 ORDER BY join_order",
    )?;
    let rows = stmt.query_map(params![thread_id], |r| r.get(0))?;
    rows.collect()
}

fn load_message(tx: &Connection, thread_id: &str, message_id: i64) -> ChatResult<MessageRecord> {
    row(
        tx,
        concat!(
            "SELECT ",
            message_columns!(),
            " FROM chat_messages WHERE thread_id = ?1 AND id = ?2"
        ),
        params![thread_id, message_id],
        message_from_row,
    )
    .optional()?
    .ok_or_else(|| ChatRefusal::MessageNotFound.into())
}

/// Takes the next sequence id and a unique message id (the time in ms, moved past the last
/// one when two messages share a millisecond).
fn allocate_message(
    tx: &Connection,
    thread_id: &str,
    now_ms: i64,
    user_message: bool,
) -> rusqlite::Result<(i64, i64)> {
    let (last_sequence, last_id): (i64, i64) = row(
        tx,
        "SELECT last_sequence, last_message_id FROM chat_threads WHERE id = ?1",
        params![thread_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let sequence = last_sequence + 1;
    let id = now_ms.max(last_id + 1);
    if user_message {
        exec(
            tx,
            "UPDATE chat_threads SET last_sequence = ?1, last_message_id = ?2, last_message_ms = ?3 \
             WHERE id = ?4",
            params![sequence, id, now_ms, thread_id],
        )?;
    } else {
        exec(
            tx,
            "UPDATE chat_threads SET last_sequence = ?1, last_message_id = ?2, version_ms = ?3 \
             WHERE id = ?4",
            params![sequence, id, now_ms, thread_id],
        )?;
    }
    Ok((id, sequence))
}

fn insert_message(tx: &Connection, m: &MessageRecord) -> ChatResult<()> {
    let participants = if m.participants.is_empty() {
        None
    } else {
        Some(to_json(&m.participants)?)
    };
    let metadata = if m.metadata.is_empty() {
        None
    } else {
        Some(to_json(&m.metadata)?)
    };
    exec(
        tx,
        concat!(
            "INSERT INTO chat_messages (",
            message_columns!(),
            ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
        ),
        params![
            m.thread_id,
            m.id,
            m.sequence_id,
            m.kind,
            m.version_ms,
            m.body,
            m.topic,
            participants,
            m.initiator,
            m.sender_id,
            m.sender_display_name,
            metadata,
            m.created_ms,
            m.edited_ms,
            m.deleted_ms
        ],
    )?;
    Ok(())
}

/// Writes a system message (`topicUpdated`, `participantAdded`, `participantRemoved`).
fn system_message(
    tx: &Connection,
    thread_id: &str,
    kind: &str,
    topic: Option<String>,
    participants: Vec<ParticipantRecord>,
    initiator: &str,
    now_ms: i64,
) -> ChatResult<MessageRecord> {
    let (id, sequence_id) = allocate_message(tx, thread_id, now_ms, false)?;
    let m = MessageRecord {
        thread_id: thread_id.to_owned(),
        id,
        sequence_id,
        kind: kind.to_owned(),
        version_ms: now_ms,
        body: None,
        topic,
        participants,
        initiator: Some(initiator.to_owned()),
        sender_id: None,
        sender_display_name: None,
        metadata: BTreeMap::new(),
        created_ms: now_ms,
        edited_ms: None,
        deleted_ms: None,
    };
    insert_message(tx, &m)?;
    Ok(m)
}

fn insert_participant(
    tx: &Connection,
    thread_id: &str,
    p: &ParticipantRecord,
    now_ms: i64,
) -> rusqlite::Result<()> {
    // Join order is kept explicitly: several participants often join in one millisecond.
    exec(
        tx,
        "INSERT INTO chat_participants \
         (thread_id, user_id, display_name, share_history_ms, added_ms, join_order) \
         SELECT ?1, ?2, ?3, ?4, ?5, COALESCE(MAX(join_order), 0) + 1 \
         FROM chat_participants WHERE thread_id = ?1",
        params![
            thread_id,
            p.user_id,
            p.display_name,
            p.share_history_ms,
            now_ms
        ],
    )?;
    Ok(())
}

/// Reloads the thread, computes the audience, writes the events and commits.
fn finish<T>(
    tx: &Connection,
    thread_id: &str,
    value: T,
    extra_audience: Option<&str>,
    events: Events<T>,
) -> ChatResult<Changed<T>> {
    let thread = load_thread(tx, thread_id)?.ok_or(ChatRefusal::ThreadNotFound)?;
    let mut audience = member_ids(tx, thread_id)?;
    if let Some(extra) = extra_audience {
        audience.push(extra.to_owned());
    }
    let changed = Changed {
        value,
        thread,
        audience,
    };
    outbox::insert(tx, &events(&changed))?;
    Ok(changed)
}

#[async_trait]
impl ChatStore for SqliteStorage {
    async fn create_thread(
        &self,
        new: NewThread,
        events: Events<Vec<ParticipantRecord>>,
    ) -> ChatResult<CreateThreadOutcome> {
        self.write(move |c: &Connection| {
            let tx = c;
            if let Some((request_id, hash)) = &new.repeatability {
                let seen: Option<(String, String)> = row(tx,
                        "SELECT request_hash, response FROM chat_thread_requests \
                         WHERE creator = ?1 AND request_id = ?2",
                        params![new.creator, request_id],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?;
                if let Some((seen_hash, response)) = seen {
                    if &seen_hash != hash {
                        return Err(ChatRefusal::RepeatabilityConflict.into());
                    }
                    return Ok(CreateThreadOutcome::Replayed(response));
                }
            }
            exec(tx,
                "INSERT INTO chat_threads \
                 (id, topic, created_by, created_ms, version_ms, last_message_ms, last_sequence, last_message_id) \
                 VALUES (?1, ?2, ?3, ?4, ?4, NULL, 0, 0)",
                params![new.id, new.topic, new.creator, new.now_ms],
            )?;
            // The creator is a participant, with the display name the request gave it, if any.
            let mut participants = vec![
                new.participants
                    .iter()
                    .find(|p| p.user_id == new.creator)
                    .cloned()
                    .unwrap_or(ParticipantRecord {
                        user_id: new.creator.clone(),
                        display_name: None,
                        share_history_ms: None,
                    }),
            ];
            for p in &new.participants {
                if !participants.iter().any(|q| q.user_id == p.user_id) {
                    participants.push(p.clone());
                }
            }
            for p in &participants {
                insert_participant(tx, &new.id, p, new.now_ms)?;
            }
            system_message(
                tx,
                &new.id,
                kind::TOPIC_UPDATED,
                Some(new.topic.clone()),
                Vec::new(),
                &new.creator,
                new.now_ms,
            )?;
            system_message(
                tx,
                &new.id,
                kind::PARTICIPANT_ADDED,
                None,
                participants.clone(),
                &new.creator,
                new.now_ms,
            )?;
            if let Some((request_id, hash)) = &new.repeatability {
                exec(tx,
                    "INSERT INTO chat_thread_requests (creator, request_id, request_hash, response, created_ms) \
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![new.creator, request_id, hash, new.response, new.now_ms],
                )?;
            }
            let changed = finish(tx, &new.id, participants, None, events)?;
            Ok(CreateThreadOutcome::Created(changed))
        })
        .await
    }

    async fn thread_for(&self, thread_id: &str, caller: &str) -> ChatResult<ThreadRecord> {
        let (thread_id, caller) = (thread_id.to_owned(), caller.to_owned());
        self.read(move |c: &Connection| {
            let tx = c.unchecked_transaction()?;
            guard(&tx, &thread_id, &caller)
        })
        .await
    }

    async fn list_threads(
        &self,
        caller: &str,
        since_ms: Option<i64>,
        cursor: Option<ThreadCursor>,
        limit: u32,
    ) -> ChatResult<Vec<ThreadRecord>> {
        let caller = caller.to_owned();
        self.read(move |c: &Connection| {
            let mut sql = format!(
                "SELECT {THREAD_COLUMNS} FROM chat_threads t \
                 JOIN chat_participants p ON p.thread_id = t.id AND p.user_id = ?1"
            );
            let mut args: Vec<SqlValue> = vec![SqlValue::Text(caller)];
            let mut conditions = Vec::new();
            if let Some(since) = since_ms {
                args.push(SqlValue::Integer(since));
                conditions.push(format!("{ACTIVITY} >= ?{}", args.len()));
            }
            if let Some(cursor) = cursor {
                args.push(SqlValue::Integer(cursor.activity_ms));
                let at = args.len();
                args.push(SqlValue::Text(cursor.id));
                conditions.push(format!(
                    "({ACTIVITY} < ?{at} OR ({ACTIVITY} = ?{at} AND t.id < ?{}))",
                    at + 1
                ));
            }
            if !conditions.is_empty() {
                sql.push_str(" WHERE ");
                sql.push_str(&conditions.join(" AND "));
            }
            args.push(SqlValue::Integer(i64::from(limit)));
            sql.push_str(&format!(
                " ORDER BY {ACTIVITY} DESC, t.id DESC LIMIT ?{}",
                args.len()
            ));
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map(params_from_iter(args), thread_from_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn update_topic(
        &self,
        thread_id: &str,
        caller: &str,
        topic: &str,
        now_ms: i64,
        events: Events<MessageRecord>,
    ) -> ChatResult<Changed<MessageRecord>> {
        let (thread_id, caller, topic) =
            (thread_id.to_owned(), caller.to_owned(), topic.to_owned());
        self.write(move |c: &Connection| {
            let tx = c;
            guard(tx, &thread_id, &caller)?;
            exec(
                tx,
                "UPDATE chat_threads SET topic = ?1 WHERE id = ?2",
                params![topic, thread_id],
            )?;
            let m = system_message(
                tx,
                &thread_id,
                kind::TOPIC_UPDATED,
                Some(topic),
                Vec::new(),
                &caller,
                now_ms,
            )?;
            finish(tx, &thread_id, m, None, events)
        })
        .await
    }

    async fn delete_thread(
        &self,
        thread_id: &str,
        caller: &str,
        now_ms: i64,
        events: Events<()>,
    ) -> ChatResult<Changed<()>> {
        let (thread_id, caller) = (thread_id.to_owned(), caller.to_owned());
        self.write(move |c: &Connection| {
            let tx = c;
            let mut thread = guard(tx, &thread_id, &caller)?;
            let audience = member_ids(tx, &thread_id)?;
            thread.version_ms = now_ms;
            // Cascades to participants, messages and read receipts.
            exec(
                tx,
                "DELETE FROM chat_threads WHERE id = ?1",
                params![thread_id],
            )?;
            let changed = Changed {
                value: (),
                thread,
                audience,
            };
            outbox::insert(tx, &events(&changed))?;
            Ok(changed)
        })
        .await
    }

    async fn send_message(
        &self,
        thread_id: &str,
        caller: &str,
        message: NewMessage,
        now_ms: i64,
        events: Events<MessageRecord>,
    ) -> ChatResult<Changed<MessageRecord>> {
        let (thread_id, caller) = (thread_id.to_owned(), caller.to_owned());
        self.write(move |c: &Connection| {
            // One statement checks the membership and takes the next sequence and message ids;
            // the thread is read back with a second (RETURNING would cost a temporary table
            // per call in SQLite).
            let allowed = exec(
                c,
                "UPDATE chat_threads SET last_sequence = last_sequence + 1, \
                 last_message_id = CASE WHEN last_message_id < ?2 THEN ?2 \
                 ELSE last_message_id + 1 END, last_message_ms = ?2 \
                 WHERE id = ?1 AND EXISTS (SELECT 1 FROM chat_participants p \
                 WHERE p.thread_id = ?1 AND p.user_id = ?3)",
                params![thread_id, now_ms, caller],
            )?;
            if allowed == 0 {
                // Not allowed: say why, as the other operations do.
                guard(c, &thread_id, &caller)?;
                return Err(ChatRefusal::NotParticipant.into());
            }
            let (thread, sequence_id, id) = row(
                c,
                concat!(
                    "SELECT ",
                    thread_columns!(),
                    ", t.last_sequence, t.last_message_id FROM chat_threads t WHERE t.id = ?1"
                ),
                params![thread_id],
                |r| {
                    Ok((
                        thread_from_row(r)?,
                        r.get::<_, i64>(6)?,
                        r.get::<_, i64>(7)?,
                    ))
                },
            )?;
            let m = MessageRecord {
                thread_id: thread_id.clone(),
                id,
                sequence_id,
                kind: message.kind.to_owned(),
                version_ms: now_ms,
                body: Some(message.body),
                topic: None,
                participants: Vec::new(),
                initiator: None,
                sender_id: Some(caller),
                sender_display_name: message.sender_display_name,
                metadata: message.metadata,
                created_ms: now_ms,
                edited_ms: None,
                deleted_ms: None,
            };
            insert_message(c, &m)?;
            let changed = Changed {
                audience: member_ids(c, &thread_id)?,
                value: m,
                thread,
            };
            outbox::insert(c, &events(&changed))?;
            Ok(changed)
        })
        .await
    }

    async fn list_messages(
        &self,
        thread_id: &str,
        caller: &str,
        since_ms: Option<i64>,
        before_sequence: Option<i64>,
        limit: u32,
    ) -> ChatResult<Vec<MessageRecord>> {
        let (thread_id, caller) = (thread_id.to_owned(), caller.to_owned());
        self.read(move |c: &Connection| {
            let tx = c.unchecked_transaction()?;
            guard(&tx, &thread_id, &caller)?;
            let mut sql =
                format!("SELECT {MESSAGE_COLUMNS} FROM chat_messages WHERE thread_id = ?1");
            let mut args: Vec<SqlValue> = vec![SqlValue::Text(thread_id)];
            if let Some(before) = before_sequence {
                args.push(SqlValue::Integer(before));
                sql.push_str(&format!(" AND sequence_id < ?{}", args.len()));
            }
            if let Some(since) = since_ms {
                // Changed since: new, edited or deleted at or after the time.
                args.push(SqlValue::Integer(since));
                sql.push_str(&format!(" AND version_ms >= ?{}", args.len()));
            }
            args.push(SqlValue::Integer(i64::from(limit)));
            sql.push_str(&format!(" ORDER BY sequence_id DESC LIMIT ?{}", args.len()));
            let messages = {
                let mut stmt = tx.prepare_cached(&sql)?;
                let rows = stmt.query_map(params_from_iter(args), message_from_row)?;
                rows.collect::<rusqlite::Result<Vec<_>>>()?
            };
            Ok(messages)
        })
        .await
    }

    async fn message(
        &self,
        thread_id: &str,
        caller: &str,
        message_id: i64,
    ) -> ChatResult<MessageRecord> {
        let (thread_id, caller) = (thread_id.to_owned(), caller.to_owned());
        self.read(move |c: &Connection| {
            let tx = c.unchecked_transaction()?;
            guard(&tx, &thread_id, &caller)?;
            load_message(&tx, &thread_id, message_id)
        })
        .await
    }

    async fn update_message(
        &self,
        thread_id: &str,
        caller: &str,
        message_id: i64,
        edit: MessageEdit,
        now_ms: i64,
        events: Events<MessageRecord>,
    ) -> ChatResult<Changed<MessageRecord>> {
        let (thread_id, caller) = (thread_id.to_owned(), caller.to_owned());
        self.write(move |c: &Connection| {
            let tx = c;
            guard(tx, &thread_id, &caller)?;
            let mut m = load_message(tx, &thread_id, message_id)?;
            if m.deleted_ms.is_some() {
                return Err(ChatRefusal::MessageNotFound.into());
            }
            if m.sender_id.as_deref() != Some(caller.as_str()) {
                return Err(ChatRefusal::NotSender.into());
            }
            if let Some(body) = edit.body {
                m.body = Some(body);
            }
            for (k, v) in edit.metadata.unwrap_or_default() {
                match v {
                    Some(v) => m.metadata.insert(k, v),
                    None => m.metadata.remove(&k),
                };
            }
            m.edited_ms = Some(now_ms);
            m.version_ms = now_ms;
            let metadata = if m.metadata.is_empty() {
                None
            } else {
                Some(to_json(&m.metadata)?)
            };
            exec(tx,
                "UPDATE chat_messages SET body = ?1, metadata = ?2, edited_ms = ?3, version_ms = ?3 \
                 WHERE thread_id = ?4 AND id = ?5",
                params![m.body, metadata, now_ms, thread_id, message_id],
            )?;
            finish(tx, &thread_id, m, None, events)
        })
        .await
    }

    async fn delete_message(
        &self,
        thread_id: &str,
        caller: &str,
        message_id: i64,
        now_ms: i64,
        events: Events<MessageRecord>,
    ) -> ChatResult<Option<Changed<MessageRecord>>> {
        let (thread_id, caller) = (thread_id.to_owned(), caller.to_owned());
        self.write(move |c: &Connection| {
            let tx = c;
            guard(tx, &thread_id, &caller)?;
            let mut m = load_message(tx, &thread_id, message_id)?;
            if m.sender_id.as_deref() != Some(caller.as_str()) {
                return Err(ChatRefusal::NotSender.into());
            }
            if m.deleted_ms.is_some() {
                return Ok(None);
            }
            // The content goes; the message stays as a tombstone so clients can sync.
            exec(tx,
                "UPDATE chat_messages SET body = NULL, metadata = NULL, deleted_ms = ?1, version_ms = ?1 \
                 WHERE thread_id = ?2 AND id = ?3",
                params![now_ms, thread_id, message_id],
            )?;
            m.body = None;
            m.metadata.clear();
            m.deleted_ms = Some(now_ms);
            m.version_ms = now_ms;
            finish(tx, &thread_id, m, None, events).map(Some)
        })
        .await
    }

    async fn list_participants(
        &self,
        thread_id: &str,
        caller: &str,
        skip: u32,
        limit: u32,
    ) -> ChatResult<Vec<ParticipantRecord>> {
        let (thread_id, caller) = (thread_id.to_owned(), caller.to_owned());
        self.read(move |c: &Connection| {
            let tx = c.unchecked_transaction()?;
            guard(&tx, &thread_id, &caller)?;
            let participants = {
                let mut stmt = tx.prepare_cached(
                    "SELECT user_id, display_name, share_history_ms FROM chat_participants \
                     WHERE thread_id = ?1 ORDER BY join_order LIMIT ?2 OFFSET ?3",
                )?;
                let rows = stmt.query_map(params![thread_id, limit, skip], |r| {
                    Ok(ParticipantRecord {
                        user_id: r.get(0)?,
                        display_name: r.get(1)?,
                        share_history_ms: r.get(2)?,
                    })
                })?;
                rows.collect::<rusqlite::Result<Vec<_>>>()?
            };
            Ok(participants)
        })
        .await
    }

    async fn add_participants(
        &self,
        thread_id: &str,
        caller: &str,
        participants: Vec<ParticipantRecord>,
        now_ms: i64,
        events: Events<MessageRecord>,
    ) -> ChatResult<Option<Changed<MessageRecord>>> {
        let (thread_id, caller) = (thread_id.to_owned(), caller.to_owned());
        self.write(move |c: &Connection| {
            let tx = c;
            guard(tx, &thread_id, &caller)?;
            let present = member_ids(tx, &thread_id)?;
            let mut added: Vec<ParticipantRecord> = Vec::new();
            for p in participants {
                if present.contains(&p.user_id) || added.iter().any(|q| q.user_id == p.user_id) {
                    continue;
                }
                insert_participant(tx, &thread_id, &p, now_ms)?;
                added.push(p);
            }
            if added.is_empty() {
                return Ok(None);
            }
            let m = system_message(
                tx,
                &thread_id,
                kind::PARTICIPANT_ADDED,
                None,
                added,
                &caller,
                now_ms,
            )?;
            finish(tx, &thread_id, m, None, events).map(Some)
        })
        .await
    }

    async fn remove_participant(
        &self,
        thread_id: &str,
        caller: &str,
        user_id: &str,
        now_ms: i64,
        events: Events<MessageRecord>,
    ) -> ChatResult<Option<Changed<MessageRecord>>> {
        let (thread_id, caller, user_id) =
            (thread_id.to_owned(), caller.to_owned(), user_id.to_owned());
        self.write(move |c: &Connection| {
            let tx = c;
            guard(tx, &thread_id, &caller)?;
            let removed: Option<ParticipantRecord> = row(
                tx,
                "SELECT user_id, display_name, share_history_ms FROM chat_participants \
                     WHERE thread_id = ?1 AND user_id = ?2",
                params![thread_id, user_id],
                |r| {
                    Ok(ParticipantRecord {
                        user_id: r.get(0)?,
                        display_name: r.get(1)?,
                        share_history_ms: r.get(2)?,
                    })
                },
            )
            .optional()?;
            let Some(removed) = removed else {
                return Ok(None);
            };
            exec(
                tx,
                "DELETE FROM chat_participants WHERE thread_id = ?1 AND user_id = ?2",
                params![thread_id, user_id],
            )?;
            exec(
                tx,
                "DELETE FROM chat_read_receipts WHERE thread_id = ?1 AND user_id = ?2",
                params![thread_id, user_id],
            )?;
            let m = system_message(
                tx,
                &thread_id,
                kind::PARTICIPANT_REMOVED,
                None,
                vec![removed],
                &caller,
                now_ms,
            )?;
            // The removed participant hears of its removal too.
            finish(tx, &thread_id, m, Some(&user_id), events).map(Some)
        })
        .await
    }

    async fn send_read_receipt(
        &self,
        thread_id: &str,
        caller: &str,
        message_id: i64,
        now_ms: i64,
        events: Events<ReadReceiptRecord>,
    ) -> ChatResult<Changed<ReadReceiptRecord>> {
        let (thread_id, caller) = (thread_id.to_owned(), caller.to_owned());
        self.write(move |c: &Connection| {
            let tx = c;
            guard(tx, &thread_id, &caller)?;
            let m = load_message(tx, &thread_id, message_id)?;
            let stored: Option<i64> = row(tx,
                    "SELECT sequence_id FROM chat_read_receipts WHERE thread_id = ?1 AND user_id = ?2",
                    params![thread_id, caller],
                    |r| r.get(0),
                )
                .optional()?;
            match stored {
                None => {
                    exec(tx,
                        "INSERT INTO chat_read_receipts (thread_id, user_id, message_id, sequence_id, read_ms) \
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![thread_id, caller, message_id, m.sequence_id, now_ms],
                    )?;
                }
                Some(seq) if seq <= m.sequence_id => {
                    exec(tx,
                        "UPDATE chat_read_receipts SET message_id = ?1, sequence_id = ?2, read_ms = ?3 \
                         WHERE thread_id = ?4 AND user_id = ?5",
                        params![message_id, m.sequence_id, now_ms, thread_id, caller],
                    )?;
                }
                Some(_) => {}
            }
            let receipt = ReadReceiptRecord {
                user_id: caller,
                message_id,
                read_ms: now_ms,
            };
            finish(tx, &thread_id, receipt, None, events)
        })
        .await
    }

    async fn list_read_receipts(
        &self,
        thread_id: &str,
        caller: &str,
        skip: u32,
        limit: u32,
    ) -> ChatResult<Vec<ReadReceiptRecord>> {
        let (thread_id, caller) = (thread_id.to_owned(), caller.to_owned());
        self.read(move |c: &Connection| {
            let tx = c.unchecked_transaction()?;
            guard(&tx, &thread_id, &caller)?;
            let receipts = {
                let mut stmt = tx.prepare_cached(
                    "SELECT user_id, message_id, read_ms FROM chat_read_receipts \
                     WHERE thread_id = ?1 ORDER BY read_ms DESC, user_id LIMIT ?2 OFFSET ?3",
                )?;
                let rows = stmt.query_map(params![thread_id, limit, skip], |r| {
                    Ok(ReadReceiptRecord {
                        user_id: r.get(0)?,
                        message_id: r.get(1)?,
                        read_ms: r.get(2)?,
                    })
                })?;
                rows.collect::<rusqlite::Result<Vec<_>>>()?
            };
            Ok(receipts)
        })
        .await
    }

    async fn audience(&self, thread_id: &str, caller: &str) -> ChatResult<Changed<()>> {
        let (thread_id, caller) = (thread_id.to_owned(), caller.to_owned());
        self.read(move |c: &Connection| {
            let tx = c.unchecked_transaction()?;
            let thread = guard(&tx, &thread_id, &caller)?;
            let audience = member_ids(&tx, &thread_id)?;
            Ok(Changed {
                value: (),
                thread,
                audience,
            })
        })
        .await
    }
}
