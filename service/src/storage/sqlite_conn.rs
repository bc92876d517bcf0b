//! The SQLite connections: one writer thread that owns the only write connection and commits
//! queued writes in groups, and a few read connections beside it (WAL lets readers run while
//! the writer writes).
//!
//! Group commit: the writer takes every write waiting in its queue, runs each in its own
//! savepoint inside one transaction, commits once, and only then answers the callers. So a
//! 2xx still means "committed" (WAL with `synchronous=NORMAL`: it survives a crash of the
//! process), a failing write rolls back only its own savepoint, and under load the cost of a
//! commit is shared by the whole group.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use rusqlite::Connection;
use tokio::sync::{Notify, oneshot};

use super::{StorageError, sqlite_events};

/// Most writes in one group: bounds the time the first of them waits for the commit.
const MAX_GROUP: usize = 256;

/// Read connections (requests on both cores of a small machine read at once).
const READERS: usize = 2;

fn err(e: impl std::fmt::Display) -> StorageError {
    StorageError(e.to_string())
}

/// Answers a grouped write's caller once the group's commit is known.
type Reply = Box<dyn FnOnce(Result<(), StorageError>) + Send>;

/// A grouped write: runs in its savepoint, says whether it succeeded and how to answer.
type GroupedFn = Box<dyn FnOnce(&Connection) -> (bool, Reply) + Send>;

enum Job {
    /// Runs in its own savepoint inside the group's transaction; says whether it succeeded
    /// (its savepoint is kept) and how to answer after the commit.
    Grouped(GroupedFn),
    /// Runs alone between groups and manages its own transaction.
    Alone(Box<dyn FnOnce(&mut Connection) + Send>),
}

/// Applies the connection settings every connection shares.
pub(super) fn configure(conn: &Connection) -> Result<(), StorageError> {
    // NORMAL is durable across process crashes in WAL mode; FULL adds an fsync per commit for
    // power loss. Requests acknowledged with 2xx must survive a kill -9, which NORMAL gives.
    // temp_store=MEMORY keeps the savepoints' statement journals off the disk.
    conn.execute_batch(
        "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000; \
         PRAGMA temp_store=MEMORY;",
    )
    .map_err(err)?;
    // Statements of the hot paths stay prepared; the default cache (16) is smaller than the
    // number of distinct statements the service uses.
    conn.set_prepared_statement_cache_capacity(128);
    Ok(())
}

/// How often the checkpointer copies the WAL back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// The queue of the writer thread.
pub(super) struct Writer {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    /// Dropped to stop the checkpointer.
    _checkpointer: mpsc::Sender<()>,
}

impl Writer {
    /// Starts the writer thread on `conn`, and a checkpointer thread on a connection of its
    /// own to the database at `path`; `wake` is notified after a commit that queued event
    /// deliveries.
    pub(super) fn start(
        conn: Connection,
        path: &Path,
        wake: Arc<Notify>,
    ) -> Result<Self, StorageError> {
        // Checkpoints run beside the writer (PASSIVE: they never block it), so the writer's own
        // checkpoint (an fsync inside a commit, stalling its whole group) is rare: it is left
        // only to bound the WAL, since the log restarts only after a checkpoint that left no
        // frame behind, which the writer's own gives (without it the WAL grew by 300 MB in a
        // 30 s bench). 10 000 pages: about 40 MB.
        conn.execute_batch("PRAGMA wal_autocheckpoint=10000")
            .map_err(err)?;
        let checkpoints = Connection::open(path).map_err(err)?;
        configure(&checkpoints)?;
        let (stop, stopped) = mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) =
                    stopped.recv_timeout(CHECKPOINT_EVERY)
                {
                    if let Err(e) = checkpoints.execute_batch("PRAGMA wal_checkpoint(PASSIVE)") {
                        tracing::warn!("WAL checkpoint failed: {e}");
                    }
                }
            })
            .map_err(err)?;
        let (send, receive) = mpsc::channel();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(conn, &receive, &wake))
            .map_err(err)?;
        Ok(Self {
            jobs: Mutex::new(Some(send)),
            _checkpointer: stop,
        })
    }

    fn submit(&self, job: Job) -> Result<(), StorageError> {
        let jobs = self
            .jobs
            .lock()
            .map_err(|_| StorageError("writer queue lock poisoned".into()))?;
        jobs.as_ref()
            .ok_or_else(|| StorageError("the writer has stopped".into()))?
            .send(job)
            .map_err(|_| StorageError("the writer has stopped".into()))
    }

    /// Runs `f` in the next group's transaction (in its own savepoint: an `Err` undoes only
    /// what `f` wrote) and returns its result once the group has committed. `f` must not
    /// begin or commit a transaction itself.
    pub(super) async fn grouped<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StorageError> + Send + 'static,
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel::<Result<T, E>>();
        self.submit(Job::Grouped(Box::new(move |conn| {
            let result = f(conn);
            let ok = result.is_ok();
            let reply: Reply = Box::new(move |commit| {
                let _ = answer.send(match commit {
                    Ok(()) => result,
                    // The savepoint was part of a group whose commit failed: nothing of it stayed.
                    Err(e) => result.and(Err(e.into())),
                });
            });
            (ok, reply)
        })))?;
        answered
            .await
            .map_err(|_| StorageError("the writer dropped the request".into()))?
    }

    /// Runs `f` with the write connection between two groups; `f` begins and commits its
    /// own transaction.
    pub(super) async fn alone<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StorageError> + Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel::<Result<T, E>>();
        self.submit(Job::Alone(Box::new(move |conn| {
            let _ = answer.send(f(conn));
        })))?;
        answered
            .await
            .map_err(|_| StorageError("the writer dropped the request".into()))?
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Closing the queue ends the thread once it has finished what is queued.
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.take();
        }
    }
}

fn run(mut conn: Connection, jobs: &mpsc::Receiver<Job>, wake: &Notify) {
    let mut next: Option<Job> = None;
    loop {
        let job = match next.take() {
            Some(job) => job,
            None => match jobs.recv() {
                Ok(job) => job,
                Err(_) => return,
            },
        };
        match job {
            Job::Alone(f) => {
                // A panic drops the reply (its caller gets an error); the thread lives on.
                let _ = catch_unwind(AssertUnwindSafe(|| f(&mut conn)));
                if !conn.is_autocommit() {
                    let _ = conn.execute_batch("ROLLBACK");
                }
            }
            Job::Grouped(first) => {
                next = group(&conn, first, jobs);
            }
        }
        // The transaction has committed (or rolled back): the delivery worker may look now. A
        // wake after a rollback finds nothing, which is harmless.
        if sqlite_events::take_queued() {
            wake.notify_one();
        }
    }
}

/// Runs `first` and the grouped jobs queued behind it in one transaction, then answers them.
/// Returns the job that ended the group early, if one did.
fn group(conn: &Connection, first: GroupedFn, jobs: &mpsc::Receiver<Job>) -> Option<Job> {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        let (_, reply) = first(conn);
        reply(Err(err(e)));
        return None;
    }
    let mut replies: Vec<Reply> = Vec::new();
    let mut next = None;
    let mut f = first;
    loop {
        if let Some(reply) = savepoint(conn, f) {
            replies.push(reply);
        }
        if replies.len() >= MAX_GROUP {
            break;
        }
        match jobs.try_recv() {
            Ok(Job::Grouped(g)) => f = g,
            Ok(alone) => {
                next = Some(alone);
                break;
            }
            Err(_) => break,
        }
    }
    let commit = conn.execute_batch("COMMIT").map_err(err);
    if commit.is_err() && !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    for reply in replies {
        reply(
            commit
                .as_ref()
                .map(|_| ())
                .map_err(|e| StorageError(e.0.clone())),
        );
    }
    next
}

/// Runs one grouped job in a savepoint, kept when it succeeded and rolled back when it failed.
/// `None` when the job panicked (its caller is answered with an error when the reply drops).
fn savepoint(conn: &Connection, f: GroupedFn) -> Option<Reply> {
    let step = |sql: &str| {
        conn.prepare_cached(sql)
            .and_then(|mut s| s.execute([]))
            .map(|_| ())
    };
    if let Err(e) = step("SAVEPOINT job") {
        // Without a savepoint the job could not be undone alone: it is not run, and dropping
        // it answers its caller with an error.
        tracing::error!("SAVEPOINT failed: {e}");
        drop(f);
        return None;
    }
    let outcome = catch_unwind(AssertUnwindSafe(|| f(conn)));
    let (ok, reply) = match outcome {
        Ok((ok, reply)) => (ok, Some(reply)),
        Err(_) => (false, None),
    };
    let undone = if ok {
        step("RELEASE job")
    } else {
        step("ROLLBACK TO job").and_then(|()| step("RELEASE job"))
    };
    if let Err(e) = undone {
        tracing::error!("ending a savepoint failed: {e}");
    }
    reply
}

/// Read connections, used from blocking threads.
pub(super) struct Readers {
    conns: Vec<Mutex<Connection>>,
    next: AtomicUsize,
}

impl Readers {
    /// Opens the read connections of the database at `path` (its schema already made).
    pub(super) fn open(path: &Path) -> Result<Self, StorageError> {
        let mut conns = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let conn = Connection::open(path).map_err(err)?;
            configure(&conn)?;
            // A guard against a write slipping into a read path: it would bypass the writer.
            conn.execute_batch("PRAGMA query_only=ON").map_err(err)?;
            conns.push(Mutex::new(conn));
        }
        Ok(Self {
            conns,
            next: AtomicUsize::new(0),
        })
    }

    /// Runs `f` with a read connection on a blocking thread. A read sees every write whose
    /// caller has been answered.
    pub(super) async fn read<T, E, F>(self: &Arc<Self>, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StorageError> + Send + 'static,
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    {
        let readers = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let start = readers.next.fetch_add(1, Ordering::Relaxed);
            let n = readers.conns.len();
            // A free connection if there is one, else wait for the one in turn.
            let guard = (0..n)
                .find_map(|i| readers.conns[(start + i) % n].try_lock().ok())
                .map_or_else(|| readers.conns[start % n].lock(), Ok)
                .map_err(|_| StorageError("read connection lock poisoned".into()))?;
            f(&guard)
        })
        .await
        .map_err(|e| StorageError(e.to_string()))?
    }
}

/// Executes `sql` through the connection's cache of prepared statements (parsing SQL costs
/// more than running these small statements).
pub(super) fn exec(c: &Connection, sql: &str, p: impl rusqlite::Params) -> rusqlite::Result<usize> {
    c.prepare_cached(sql)?.execute(p)
}

/// The first row of `sql`, through the cache of prepared statements.
pub(super) fn row<T>(
    c: &Connection,
    sql: &str,
    p: impl rusqlite::Params,
    f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    c.prepare_cached(sql)?.query_row(p, f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer(dir: &Path) -> (Writer, Arc<Readers>) {
        let path = dir.join("t.db");
        let conn = Connection::open(&path).expect("open");
        conn.execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE t (k INTEGER PRIMARY KEY)")
            .expect("schema");
        configure(&conn).expect("configure");
        let readers = Arc::new(Readers::open(&path).expect("readers"));
        let writer = Writer::start(conn, &path, Arc::new(Notify::new())).expect("writer");
        (writer, readers)
    }

    /// Grouped writes in flight together: one that fails after writing undoes only its own
    /// rows; the others are committed and visible to readers once answered.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_write_fails_alone_in_its_group() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (writer, readers) = writer(dir.path());
        let writer = Arc::new(writer);
        let mut tasks = tokio::task::JoinSet::new();
        for k in 0..64_i64 {
            let writer = Arc::clone(&writer);
            tasks.spawn(async move {
                let result = writer
                    .grouped(move |c| {
                        exec(c, "INSERT INTO t (k) VALUES (?1)", [k]).map_err(err)?;
                        if k % 8 == 3 {
                            // Written, then failed: the savepoint must take the row back.
                            return Err(StorageError("refused".into()));
                        }
                        Ok(k)
                    })
                    .await;
                (k, result)
            });
        }
        let mut committed = Vec::new();
        while let Some(done) = tasks.join_next().await {
            let (k, result) = done.expect("task");
            assert_eq!(result.is_ok(), k % 8 != 3, "write {k}");
            if result.is_ok() {
                committed.push(k);
            }
        }
        committed.sort_unstable();
        let stored: Vec<i64> = readers
            .read(|c| {
                let mut s = c.prepare("SELECT k FROM t ORDER BY k").map_err(err)?;
                let rows = s.query_map([], |r| r.get(0)).map_err(err)?;
                rows.collect::<Result<Vec<_>, _>>().map_err(err)
            })
            .await
            .expect("read");
        assert_eq!(stored, committed);
        // A statement error (duplicate key) is a failure of that write only, too.
        let dup = writer
            .grouped(|c| exec(c, "INSERT INTO t (k) VALUES (0)", []).map_err(err))
            .await;
        assert!(dup.is_err());
        let alone = writer
            .alone(|c| {
                let tx = c.transaction().map_err(err)?;
                exec(&tx, "INSERT INTO t (k) VALUES (1000)", []).map_err(err)?;
                tx.commit().map_err(err)
            })
            .await;
        assert!(alone.is_ok());
    }

    /// A job that panics is answered with an error; the writer goes on.
    #[tokio::test]
    async fn a_panicking_write_does_not_stop_the_writer() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (writer, _) = writer(dir.path());
        let panicked: Result<(), StorageError> = writer
            .grouped(|_| -> Result<(), StorageError> { panic!("job panics") })
            .await;
        assert!(panicked.is_err());
        let next = writer
            .grouped(|c| exec(c, "INSERT INTO t (k) VALUES (1)", []).map_err(err))
            .await;
        assert_eq!(next.expect("writer alive"), 1);
    }
}
