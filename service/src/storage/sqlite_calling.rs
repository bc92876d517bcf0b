//! [`CallStore`] on SQLite (portable SQL: sequence numbers are kept in rows and moved inside
//! the transaction, no autoincrement). Registrations go with their user, buffers with their
//! registration (foreign keys with `ON DELETE CASCADE`).

use async_trait::async_trait;
use rusqlite::{OptionalExtension, Row, Transaction, params};

use super::calling::{
    CallRecord, CallStore, Callback, Effects, PendingCallback, Signal, StoredSignal,
};
use super::outbox::{self, OutboxEvent};
use super::{SqliteStorage, StorageError};

/// Calling tables.
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS calls (
    id                  VARCHAR(64) PRIMARY KEY,
    server_call_id      VARCHAR(128) NOT NULL,
    correlation_id      VARCHAR(64) NOT NULL,
    caller              VARCHAR(128) NOT NULL,
    callee              VARCHAR(128) NOT NULL,
    caller_display_name TEXT,
    state               VARCHAR(16) NOT NULL,
    offer_sdp           TEXT,
    answer_sdp          TEXT,
    answered_by         VARCHAR(128),
    caller_callback     TEXT,
    callee_callback     TEXT,
    operation_context   TEXT,
    created_ms          BIGINT NOT NULL,
    connected_ms        BIGINT,
    ended_ms            BIGINT,
    ended_by            VARCHAR(128),
    end_code            BIGINT
);
CREATE INDEX IF NOT EXISTS calls_by_caller ON calls (caller, state);
CREATE INDEX IF NOT EXISTS calls_by_callee ON calls (callee, state);
CREATE TABLE IF NOT EXISTS call_registrations (
    id         VARCHAR(64) PRIMARY KEY,
    user_id    VARCHAR(128) NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    next_seq   BIGINT NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS call_registrations_by_user ON call_registrations (user_id);
CREATE TABLE IF NOT EXISTS call_signals (
    registration VARCHAR(64) NOT NULL REFERENCES call_registrations (id) ON DELETE CASCADE,
    seq          BIGINT NOT NULL,
    name         VARCHAR(64) NOT NULL,
    data         TEXT NOT NULL,
    PRIMARY KEY (registration, seq)
);
CREATE TABLE IF NOT EXISTS call_callbacks (
    seq             BIGINT PRIMARY KEY,
    url             TEXT NOT NULL,
    event_id        VARCHAR(64) NOT NULL,
    event_type      VARCHAR(128) NOT NULL,
    subject         TEXT NOT NULL,
    data            TEXT NOT NULL,
    event_ms        BIGINT NOT NULL,
    attempts        BIGINT NOT NULL,
    next_attempt_ms BIGINT NOT NULL
);
";

const CALL_COLUMNS: &str = "id, server_call_id, correlation_id, caller, callee, \
     caller_display_name, state, offer_sdp, answer_sdp, answered_by, caller_callback, \
     callee_callback, operation_context, created_ms, connected_ms, ended_ms, ended_by, end_code";

fn call_from_row(r: &Row<'_>) -> rusqlite::Result<CallRecord> {
    Ok(CallRecord {
        id: r.get(0)?,
        server_call_id: r.get(1)?,
        correlation_id: r.get(2)?,
        caller: r.get(3)?,
        callee: r.get(4)?,
        caller_display_name: r.get(5)?,
        state: r.get(6)?,
        offer_sdp: r.get(7)?,
        answer_sdp: r.get(8)?,
        answered_by: r.get(9)?,
        caller_callback: r.get(10)?,
        callee_callback: r.get(11)?,
        operation_context: r.get(12)?,
        created_ms: r.get(13)?,
        connected_ms: r.get(14)?,
        ended_ms: r.get(15)?,
        ended_by: r.get(16)?,
        end_code: r.get(17)?,
    })
}

/// Buffers each signal for every registration of its user, numbering it in that registration.
fn insert_signals(tx: &Transaction<'_>, signals: &[Signal]) -> rusqlite::Result<()> {
    for s in signals {
        let registrations: Vec<String> = tx
            .prepare_cached("SELECT id FROM call_registrations WHERE user_id = ?1")?
            .query_map(params![s.user], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for reg in registrations {
            let seq: i64 = tx.query_row(
                "UPDATE call_registrations SET next_seq = next_seq + 1 WHERE id = ?1 \
                 RETURNING next_seq",
                params![reg],
                |r| r.get(0),
            )?;
            tx.execute(
                "INSERT INTO call_signals (registration, seq, name, data) VALUES (?1, ?2, ?3, ?4)",
                params![reg, seq, s.name, s.data.to_string()],
            )?;
        }
    }
    Ok(())
}

fn insert_callbacks(tx: &Transaction<'_>, callbacks: &[Callback]) -> rusqlite::Result<()> {
    let mut seq: i64 = tx.query_row(
        "SELECT COALESCE(MAX(seq), 0) FROM call_callbacks",
        [],
        |r| r.get(0),
    )?;
    for c in callbacks {
        seq += 1;
        let e = &c.event;
        tx.execute(
            "INSERT INTO call_callbacks (seq, url, event_id, event_type, subject, data, event_ms, \
             attempts, next_attempt_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?7)",
            params![
                seq,
                c.url,
                e.id,
                e.event_type,
                e.subject,
                e.data.to_string(),
                e.event_ms
            ],
        )?;
    }
    Ok(())
}

fn write_effects(tx: &Transaction<'_>, effects: &Effects) -> rusqlite::Result<()> {
    outbox::insert(tx, &effects.outbox)?;
    insert_signals(tx, &effects.signals)?;
    insert_callbacks(tx, &effects.callbacks)
}

#[async_trait]
impl CallStore for SqliteStorage {
    async fn create_call(&self, call: &CallRecord, effects: &Effects) -> Result<(), StorageError> {
        let (c, effects) = (call.clone(), effects.clone());
        self.with(move |conn| {
            let tx = conn.transaction()?;
            tx.execute(
                &format!(
                    "INSERT INTO calls ({CALL_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, \
                     ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"
                ),
                params![
                    c.id,
                    c.server_call_id,
                    c.correlation_id,
                    c.caller,
                    c.callee,
                    c.caller_display_name,
                    c.state,
                    c.offer_sdp,
                    c.answer_sdp,
                    c.answered_by,
                    c.caller_callback,
                    c.callee_callback,
                    c.operation_context,
                    c.created_ms,
                    c.connected_ms,
                    c.ended_ms,
                    c.ended_by,
                    c.end_code
                ],
            )?;
            write_effects(&tx, &effects)?;
            tx.commit()
        })
        .await
    }

    async fn call(&self, id: &str) -> Result<Option<CallRecord>, StorageError> {
        let id = id.to_owned();
        self.with(move |conn| {
            conn.query_row(
                &format!("SELECT {CALL_COLUMNS} FROM calls WHERE id = ?1"),
                params![id],
                call_from_row,
            )
            .optional()
        })
        .await
    }

    async fn active_calls(&self, user: &str) -> Result<Vec<CallRecord>, StorageError> {
        let user = user.to_owned();
        self.with(move |conn| {
            conn.prepare(&format!(
                "SELECT {CALL_COLUMNS} FROM calls WHERE (caller = ?1 OR callee = ?1) \
                 AND ended_ms IS NULL ORDER BY created_ms, id"
            ))?
            .query_map(params![user], call_from_row)?
            .collect()
        })
        .await
    }

    async fn update_call(
        &self,
        call: &CallRecord,
        expected_state: &str,
        effects: &Effects,
    ) -> Result<bool, StorageError> {
        let (c, expected, effects) = (call.clone(), expected_state.to_owned(), effects.clone());
        self.with(move |conn| {
            let tx = conn.transaction()?;
            let n = tx.execute(
                "UPDATE calls SET state = ?2, answer_sdp = ?3, answered_by = ?4, \
                 callee_callback = ?5, connected_ms = ?6, ended_ms = ?7, ended_by = ?8, \
                 end_code = ?9 WHERE id = ?1 AND state = ?10",
                params![
                    c.id,
                    c.state,
                    c.answer_sdp,
                    c.answered_by,
                    c.callee_callback,
                    c.connected_ms,
                    c.ended_ms,
                    c.ended_by,
                    c.end_code,
                    expected
                ],
            )?;
            if n == 0 {
                return Ok(false);
            }
            write_effects(&tx, &effects)?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn relay_signals(
        &self,
        call_id: &str,
        states: &[&str],
        signals: &[Signal],
    ) -> Result<bool, StorageError> {
        let call_id = call_id.to_owned();
        let states: Vec<String> = states.iter().map(|s| (*s).to_owned()).collect();
        let signals = signals.to_vec();
        self.with(move |conn| {
            let tx = conn.transaction()?;
            let state: Option<String> = tx
                .query_row(
                    "SELECT state FROM calls WHERE id = ?1",
                    params![call_id],
                    |r| r.get(0),
                )
                .optional()?;
            if !state.is_some_and(|s| states.contains(&s)) {
                return Ok(false);
            }
            insert_signals(&tx, &signals)?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn create_registration(
        &self,
        id: &str,
        user: &str,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        let (id, user) = (id.to_owned(), user.to_owned());
        self.with(move |conn| {
            conn.execute(
                "INSERT INTO call_registrations (id, user_id, next_seq, created_ms) \
                 VALUES (?1, ?2, 0, ?3)",
                params![id, user, now_ms],
            )?;
            Ok(())
        })
        .await
    }

    async fn registration_user(&self, id: &str) -> Result<Option<String>, StorageError> {
        let id = id.to_owned();
        self.with(move |conn| {
            conn.query_row(
                "SELECT user_id FROM call_registrations WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )
            .optional()
        })
        .await
    }

    async fn delete_registration(&self, id: &str) -> Result<bool, StorageError> {
        let id = id.to_owned();
        self.with(move |conn| {
            // Its buffer goes with it (ON DELETE CASCADE).
            let n = conn.execute("DELETE FROM call_registrations WHERE id = ?1", params![id])?;
            Ok(n > 0)
        })
        .await
    }

    async fn acknowledge_signals(&self, registration: &str, seq: i64) -> Result<(), StorageError> {
        let registration = registration.to_owned();
        self.with(move |conn| {
            conn.execute(
                "DELETE FROM call_signals WHERE registration = ?1 AND seq <= ?2",
                params![registration, seq],
            )?;
            Ok(())
        })
        .await
    }

    async fn signals_after(
        &self,
        registration: &str,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<StoredSignal>, StorageError> {
        let registration = registration.to_owned();
        self.with(move |conn| {
            conn.prepare_cached(
                "SELECT seq, name, data FROM call_signals WHERE registration = ?1 AND seq > ?2 \
                 ORDER BY seq LIMIT ?3",
            )?
            .query_map(params![registration, after_seq, limit], |r| {
                let data: String = r.get(2)?;
                Ok(StoredSignal {
                    seq: r.get(0)?,
                    name: r.get(1)?,
                    data: serde_json::from_str(&data).unwrap_or_default(),
                })
            })?
            .collect()
        })
        .await
    }

    async fn pending_callbacks(&self, limit: u32) -> Result<Vec<PendingCallback>, StorageError> {
        self.with(move |conn| {
            conn.prepare_cached(
                "SELECT seq, url, event_id, event_type, subject, data, event_ms, attempts, \
                 next_attempt_ms FROM call_callbacks ORDER BY seq LIMIT ?1",
            )?
            .query_map(params![limit], |r| {
                let data: String = r.get(5)?;
                Ok(PendingCallback {
                    seq: r.get(0)?,
                    callback: Callback {
                        url: r.get(1)?,
                        event: OutboxEvent {
                            id: r.get(2)?,
                            event_type: r.get(3)?,
                            subject: r.get(4)?,
                            data: serde_json::from_str(&data).unwrap_or_default(),
                            event_ms: r.get(6)?,
                        },
                    },
                    attempts: r.get(7)?,
                    next_attempt_ms: r.get(8)?,
                })
            })?
            .collect()
        })
        .await
    }

    async fn remove_callback(&self, seq: i64) -> Result<(), StorageError> {
        self.with(move |conn| {
            conn.execute("DELETE FROM call_callbacks WHERE seq = ?1", params![seq])?;
            Ok(())
        })
        .await
    }

    async fn retry_callback(&self, seq: i64, next_attempt_ms: i64) -> Result<(), StorageError> {
        self.with(move |conn| {
            conn.execute(
                "UPDATE call_callbacks SET attempts = attempts + 1, next_attempt_ms = ?2 \
                 WHERE seq = ?1",
                params![seq, next_attempt_ms],
            )?;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{Storage, UserRecord};

    fn call(id: &str, state: &str) -> CallRecord {
        CallRecord {
            id: id.into(),
            server_call_id: "s".into(),
            correlation_id: "c".into(),
            caller: "8:acs:a".into(),
            callee: "8:acs:b".into(),
            caller_display_name: None,
            state: state.into(),
            offer_sdp: Some("v=0".into()),
            answer_sdp: None,
            answered_by: None,
            caller_callback: None,
            callee_callback: None,
            operation_context: None,
            created_ms: 1,
            connected_ms: None,
            ended_ms: None,
            ended_by: None,
            end_code: None,
        }
    }

    fn signal(user: &str, name: &str) -> Signal {
        Signal {
            user: user.into(),
            name: name.into(),
            data: serde_json::json!({}),
        }
    }

    #[tokio::test]
    async fn numbering_compare_and_set_callbacks_and_cascades() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = SqliteStorage::open(&dir.path().join("t.db")).expect("open");
        for id in ["8:acs:a", "8:acs:b"] {
            let user = UserRecord {
                id: id.into(),
                created_ms: 0,
                tokens_revoked_ms: None,
            };
            s.create_user(&user).await.expect("user");
        }
        s.create_registration("rb1", "8:acs:b", 0)
            .await
            .expect("reg");
        s.create_registration("rb2", "8:acs:b", 0)
            .await
            .expect("reg");
        let effects = Effects {
            signals: vec![signal("8:acs:b", "incomingCall")],
            ..Effects::default()
        };
        s.create_call(&call("k", "connecting"), &effects)
            .await
            .expect("create");

        // Each registration numbers its own buffer from 1.
        let relayed = [signal("8:acs:b", "x"), signal("8:acs:b", "y")];
        assert!(
            s.relay_signals("k", &["connecting"], &relayed)
                .await
                .expect("relay")
        );
        let names =
            |v: Vec<StoredSignal>| v.into_iter().map(|x| (x.seq, x.name)).collect::<Vec<_>>();
        let all = vec![
            (1, "incomingCall".to_owned()),
            (2, "x".into()),
            (3, "y".into()),
        ];
        assert_eq!(
            names(s.signals_after("rb1", 0, 10).await.expect("read")),
            all
        );
        assert_eq!(
            names(s.signals_after("rb2", 1, 1).await.expect("read")),
            all[1..2]
        );
        s.acknowledge_signals("rb1", 2).await.expect("ack");
        assert_eq!(
            names(s.signals_after("rb1", 0, 10).await.expect("read")),
            all[2..]
        );

        // Compare-and-set: the second change from the same state loses, writing nothing.
        let cb = Callback {
            url: "http://127.0.0.1:9/hook".into(),
            event: OutboxEvent::new("T", "calling/callConnections/k", serde_json::json!({}), 5),
        };
        let effects = Effects {
            callbacks: vec![cb.clone(), cb],
            ..Effects::default()
        };
        let connected = call("k", "connected");
        assert!(
            s.update_call(&connected, "connecting", &effects)
                .await
                .expect("cas")
        );
        assert!(
            !s.update_call(&connected, "connecting", &effects)
                .await
                .expect("cas")
        );
        assert!(
            !s.relay_signals("k", &["ended"], &relayed)
                .await
                .expect("relay")
        );
        let queue = s.pending_callbacks(10).await.expect("queue");
        assert_eq!(queue.iter().map(|p| p.seq).collect::<Vec<_>>(), [1, 2]);
        s.retry_callback(1, 99).await.expect("retry");
        s.remove_callback(2).await.expect("remove");
        let queue = s.pending_callbacks(10).await.expect("queue");
        assert_eq!(
            (queue.len(), queue[0].attempts, queue[0].next_attempt_ms),
            (1, 1, 99)
        );

        // A deleted user takes its registrations and their buffers along.
        assert!(s.delete_user("8:acs:b").await.expect("delete"));
        assert_eq!(s.registration_user("rb2").await.expect("reg"), None);
        assert!(
            s.signals_after("rb2", 0, 10)
                .await
                .expect("read")
                .is_empty()
        );
    }
}
