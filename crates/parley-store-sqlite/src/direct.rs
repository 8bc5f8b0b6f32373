//! The store's direct connection: one plain SQLite connection (rusqlite) on a thread of
//! its own, running whole transactions sent to it. The hot transactions run here: the
//! webhook engine's (fan-out, claims, recorded attempts), the job queue's writes, and
//! conversation turns and message changes (in group commits, below); everything else
//! uses the sqlx pool. A second connection of the same kind, read-only
//! ([`Direct::reader`]), serves the reads of every inbound message and send.
//!
//! Why: through sqlx every statement, and every row it returns, is a message between the
//! async runtime and the connection's worker thread (tens of microseconds, most of it in
//! futex wake-ups and context switches); here a transaction is one message each way and
//! its statements are prepared once and stepped in place, a few microseconds each.
//!
//! Why one connection and one thread: SQLite admits one writer at a time. Transactions
//! sent here queue in a channel and run back to back, where on separate pool connections
//! they would collide on the write lock and wait in SQLite's busy handler, which sleeps
//! 1–100 ms between tries. Writers on the pool still take the same lock, and the busy
//! timeout orders them with this connection as with each other.
//!
//! Checkpoints are not the writer's: it runs with `wal_autocheckpoint = 0`, and a thread
//! of its own copies the WAL into the database file every 50 ms with passive
//! checkpoints, which wait for no one.
//!
//! **Group commit.** Work sent with [`Direct::run_grouped`] (conversation turns, message
//! changes) does not begin or commit: when several such pieces are waiting, the thread
//! runs them back to back inside one `BEGIN IMMEDIATE` transaction, each in a savepoint of
//! its own, and commits once. A piece that fails is rolled back to its savepoint alone;
//! every caller hears its answer only after the commit (or the commit's failure). Under
//! load this writes the pages the pieces share (the tails of the messages, outbox and job
//! tables) once per group instead of once per piece; alone, a piece costs what a
//! transaction of its own would. Groups hold at most [`GROUP_MAX`] pieces, so that the
//! first waits for at most so many others.
//!
//! The thread starts on first use and ends when the store is closed (or dropped) and the
//! transactions already sent have run. A panic inside one transaction is caught: the
//! caller gets an error, the transaction is rolled back, and the thread goes on.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, mpsc};
use std::time::Duration;

use parley_store::StoreError;
use rusqlite::Connection;

use crate::rows::sql_err;

/// How long a connection waits for another writer before reporting `Unavailable`.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// WAL pages between automatic checkpoints on every connection of the store: 4,000 (16 MiB
/// of WAL) rather than SQLite's 1,000, a quarter of the checkpoints and their fsyncs under
/// a steady stream of small writes.
pub(crate) const AUTOCHECKPOINT_PAGES: u32 = 4000;

/// Page cache of the direct connection, KiB (as the pool's connections).
const CACHE_KIB: u32 = 32 * 1024;

/// What the thread runs.
enum Work {
    /// A whole transaction of its own.
    Alone(Box<dyn FnOnce(&mut Connection) + Send>),
    /// A piece of a group's transaction (see the module's documentation): it runs inside
    /// a savepoint, says whether it succeeded, and hands back how to answer its caller
    /// once the group's commit is known.
    Grouped(Piece),
}

/// A grouped piece of work: whether it succeeded, and its answer.
type Piece = Box<dyn FnOnce(&Connection) -> (bool, Answer) + Send>;

/// Answers a grouped piece's caller with the group's commit outcome.
type Answer = Box<dyn FnOnce(Result<(), &StoreError>) + Send>;

/// The most pieces one group commit holds.
pub(crate) const GROUP_MAX: usize = 32;

/// The direct connection of one store; see the module's documentation.
pub(crate) struct Direct {
    path: PathBuf,
    /// A reader (`Direct::reader`): no checkpoints of its own to stop, no writes.
    reads_only: bool,
    /// The way to the thread, once started; `None` before the first use and after close.
    sender: Mutex<Option<mpsc::Sender<Work>>>,
    /// Dropped to stop the checkpointer.
    stop_checkpoints: Mutex<Option<mpsc::Sender<()>>>,
    closed: std::sync::atomic::AtomicBool,
}

/// How often the checkpointer copies the WAL into the database file.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// Runs passive checkpoints on a connection of its own until `stop` is dropped. The
/// writer never checkpoints (a checkpoint at commit stalled that commit, and every turn
/// queued behind it, by 10-20 ms); a passive checkpoint waits for no reader or writer.
fn checkpoints(path: &Path, stop: &mpsc::Receiver<()>) {
    let conn = match open(path, 1024) {
        Ok(conn) => conn,
        Err(e) => {
            tracing::error!(error = %e, "the SQLite checkpointer could not open the database");
            return;
        }
    };
    while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(CHECKPOINT_EVERY) {
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "a passive SQLite checkpoint failed");
        }
    }
}

impl std::fmt::Debug for Direct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Direct").field("path", &self.path).finish()
    }
}

/// Opens a plain connection on the store's file with the pool's pragmas (the journal mode
/// is the file's own, WAL, set when the pool created it).
pub(crate) fn open(path: &Path, cache_kib: u32) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(sql_err)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(sql_err)?;
    conn.execute_batch(&format!(
        "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA secure_delete = ON; \
         PRAGMA temp_store = MEMORY; PRAGMA cache_size = -{cache_kib}; \
         PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT_PAGES};"
    ))
    .map_err(sql_err)?;
    conn.set_prepared_statement_cache_capacity(32);
    Ok(conn)
}

fn panicked() -> StoreError {
    StoreError::Other("a transaction on the direct SQLite connection panicked".into())
}

/// Runs a transaction of its own; whatever it leaves open (it panicked, or forgot to
/// finish) is rolled back before the next one starts.
fn alone(conn: &mut Connection, work: Box<dyn FnOnce(&mut Connection) + Send>) {
    if std::panic::catch_unwind(AssertUnwindSafe(|| work(conn))).is_err() {
        tracing::error!("a transaction on the direct SQLite connection panicked");
    }
    if !conn.is_autocommit()
        && let Err(e) = conn.execute_batch("ROLLBACK")
    {
        tracing::error!(error = %e, "rolling back on the direct SQLite connection failed");
    }
}

/// Runs a group in one transaction, each piece in a savepoint, then answers every piece
/// with the commit's outcome.
fn grouped(conn: &mut Connection, group: Vec<Piece>) {
    let mut answers: Vec<Answer> = Vec::with_capacity(group.len());
    let outcome = (|| -> Result<(), StoreError> {
        conn.execute_batch("BEGIN IMMEDIATE").map_err(sql_err)?;
        for piece in group {
            conn.execute_batch("SAVEPOINT piece").map_err(sql_err)?;
            let ran = std::panic::catch_unwind(AssertUnwindSafe(|| piece(conn)));
            let ok = match ran {
                Ok((ok, answer)) => {
                    answers.push(answer);
                    ok
                }
                Err(_) => {
                    tracing::error!("a piece of a group on the direct SQLite connection panicked");
                    false
                }
            };
            if !ok {
                conn.execute_batch("ROLLBACK TO piece").map_err(sql_err)?;
            }
            conn.execute_batch("RELEASE piece").map_err(sql_err)?;
        }
        conn.execute_batch("COMMIT").map_err(sql_err)
    })();
    if outcome.is_err()
        && !conn.is_autocommit()
        && let Err(e) = conn.execute_batch("ROLLBACK")
    {
        tracing::error!(error = %e, "rolling back a group on the direct SQLite connection failed");
    }
    for answer in answers {
        answer(outcome.as_ref().map(|_| ()));
    }
}

fn gone() -> StoreError {
    StoreError::Unavailable("the store's direct SQLite connection is closed".into())
}

impl Direct {
    pub(crate) fn new(path: PathBuf) -> Self {
        Self {
            path,
            reads_only: false,
            sender: Mutex::new(None),
            stop_checkpoints: Mutex::new(None),
            closed: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// A connection and thread of the same kind for hot reads (the contact of an inbound
    /// address, a channel, a suppression): one round trip per read instead of one per
    /// statement through the sqlx pool, and never queued behind the writer's groups (WAL
    /// readers do not wait for the writer). It runs no checkpoints.
    pub(crate) fn reader(path: PathBuf) -> Self {
        Self {
            reads_only: true,
            ..Self::new(path)
        }
    }

    /// The way to the thread, starting it (and opening the connection) on first use.
    fn sender(&self) -> Result<mpsc::Sender<Work>, StoreError> {
        let mut guard = self
            .sender
            .lock()
            .map_err(|_| StoreError::corrupt("the direct connection's lock was poisoned"))?;
        if let Some(sender) = guard.as_ref() {
            return Ok(sender.clone());
        }
        if self.closed.load(std::sync::atomic::Ordering::Acquire) {
            return Err(gone());
        }
        let mut conn = open(&self.path, CACHE_KIB)?;
        if self.reads_only {
            conn.execute_batch("PRAGMA query_only = ON")
                .map_err(sql_err)?;
        } else {
            conn.execute_batch("PRAGMA wal_autocheckpoint = 0")
                .map_err(sql_err)?;
            let (stop, stopped) = mpsc::channel::<()>();
            let path = self.path.clone();
            std::thread::Builder::new()
                .name("sqlite-checkpoint".to_owned())
                .spawn(move || checkpoints(&path, &stopped))
                .map_err(|e| StoreError::Other(Box::new(e)))?;
            if let Ok(mut guard) = self.stop_checkpoints.lock() {
                *guard = Some(stop);
            }
        }
        let (sender, queue) = mpsc::channel::<Work>();
        std::thread::Builder::new()
            .name(
                if self.reads_only {
                    "sqlite-reader"
                } else {
                    "sqlite-direct"
                }
                .to_owned(),
            )
            .spawn(move || {
                let mut next = None;
                loop {
                    let work = match next.take() {
                        Some(work) => work,
                        None => match queue.recv() {
                            Ok(work) => work,
                            Err(_) => break,
                        },
                    };
                    match work {
                        Work::Alone(work) => alone(&mut conn, work),
                        Work::Grouped(first) => {
                            let mut group = vec![first];
                            while group.len() < GROUP_MAX {
                                match queue.try_recv() {
                                    Ok(Work::Grouped(more)) => group.push(more),
                                    Ok(other) => {
                                        next = Some(other);
                                        break;
                                    }
                                    Err(_) => break,
                                }
                            }
                            grouped(&mut conn, group);
                        }
                    }
                }
            })
            .map_err(|e| StoreError::Other(Box::new(e)))?;
        *guard = Some(sender.clone());
        Ok(sender)
    }

    /// Runs `work` on the connection's thread and returns what it returns. `work` owns its
    /// transaction: it begins and commits it (a transaction left open is rolled back).
    pub(crate) async fn run<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let work = Work::Alone(Box::new(move |conn| {
            // The caller may have gone (its future dropped); the work is done either way.
            let _ = reply.send(work(conn));
        }));
        self.sender()?.send(work).map_err(|_| gone())?;
        answer.await.map_err(|_| panicked())?
    }

    /// Runs `work` inside a transaction the thread owns, possibly shared with other
    /// grouped work (see the module's documentation): `work` neither begins nor commits.
    /// What it returns comes back once the transaction has committed; when `work` fails,
    /// its writes are undone and the others' are not.
    pub(crate) async fn run_grouped<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let work = Work::Grouped(Box::new(move |conn| {
            let result = work(conn);
            let ok = result.is_ok();
            let answer: Answer = Box::new(move |committed| {
                let _ = reply.send(match (result, committed) {
                    (Ok(value), Ok(())) => Ok(value),
                    (Ok(_), Err(e)) => Err(StoreError::Other(e.to_string().into())),
                    (Err(e), _) => Err(e),
                });
            });
            (ok, answer)
        }));
        self.sender()?.send(work).map_err(|_| gone())?;
        answer.await.map_err(|_| panicked())?
    }

    /// Stops taking work; the thread ends once the work already sent has run.
    pub(crate) fn close(&self) {
        self.closed
            .store(true, std::sync::atomic::Ordering::Release);
        if let Ok(mut guard) = self.sender.lock() {
            guard.take();
        }
        if let Ok(mut guard) = self.stop_checkpoints.lock() {
            guard.take();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn direct() -> (tempfile::TempDir, Direct) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("direct.db");
        let conn = Connection::open(&path).expect("open");
        conn.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (n INTEGER NOT NULL)")
            .expect("schema");
        (dir, Direct::new(path))
    }

    fn count(conn: &mut Connection) -> Result<i64, StoreError> {
        conn.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .map_err(sql_err)
    }

    #[tokio::test]
    async fn runs_transactions_and_survives_a_panic_inside_one() {
        let (_dir, direct) = direct();
        direct
            .run(|conn| {
                conn.execute("INSERT INTO t (n) VALUES (1)", [])
                    .map_err(sql_err)?;
                Ok(())
            })
            .await
            .expect("insert");
        // A transaction that panics half-way is reported and rolled back.
        let panicked = direct
            .run(|conn| -> Result<(), StoreError> {
                conn.execute_batch("BEGIN IMMEDIATE; INSERT INTO t (n) VALUES (2);")
                    .map_err(sql_err)?;
                panic!("half-way");
            })
            .await;
        assert!(
            matches!(panicked, Err(StoreError::Other(_))),
            "{panicked:?}"
        );
        assert_eq!(direct.run(count).await.expect("count"), 1);
        // Errors from the work come back as they are.
        let bad = direct
            .run(|conn| {
                conn.execute("INSERT INTO nowhere VALUES (1)", [])
                    .map_err(sql_err)
            })
            .await;
        assert!(matches!(bad, Err(StoreError::Other(_))), "{bad:?}");
        direct.close();
        let closed = direct.run(count).await;
        assert!(
            matches!(closed, Err(StoreError::Unavailable(_))),
            "{closed:?}"
        );
    }

    #[tokio::test]
    async fn grouped_pieces_share_a_commit_and_a_failing_piece_undoes_only_itself() {
        let (_dir, direct) = direct();
        let direct = std::sync::Arc::new(direct);
        // Hold the thread so that the pieces below queue up and run as one group.
        let (release, held) = std::sync::mpsc::channel::<()>();
        let blocker = {
            let direct = direct.clone();
            tokio::spawn(async move {
                direct
                    .run(move |_| {
                        let _ = held.recv();
                        Ok(())
                    })
                    .await
            })
        };
        let mut pieces = Vec::new();
        for n in 0..10_i64 {
            let direct = direct.clone();
            pieces.push(tokio::spawn(async move {
                direct
                    .run_grouped(move |conn| {
                        conn.execute("INSERT INTO t (n) VALUES (?1)", [n])
                            .map_err(sql_err)?;
                        if n == 4 {
                            return Err(StoreError::Conflict { constraint: "four" });
                        }
                        Ok(n)
                    })
                    .await
            }));
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        release.send(()).expect("release");
        blocker.await.expect("join").expect("blocker");
        for (n, piece) in pieces.into_iter().enumerate() {
            let answer = piece.await.expect("join");
            if n == 4 {
                assert!(matches!(
                    answer,
                    Err(StoreError::Conflict { constraint: "four" })
                ));
            } else {
                assert_eq!(answer.expect("piece"), i64::try_from(n).expect("small"));
            }
        }
        let rows: Vec<i64> = direct
            .run(|conn| {
                let mut s = conn
                    .prepare("SELECT n FROM t ORDER BY n")
                    .map_err(sql_err)?;
                let rows = s.query_map([], |r| r.get(0)).map_err(sql_err)?;
                rows.collect::<Result<_, _>>().map_err(sql_err)
            })
            .await
            .expect("rows");
        assert_eq!(rows, [0, 1, 2, 3, 5, 6, 7, 8, 9]);
        // A panicking piece is reported and undone too.
        let panicked = direct
            .run_grouped(|conn| -> Result<(), StoreError> {
                conn.execute("INSERT INTO t (n) VALUES (99)", [])
                    .map_err(sql_err)?;
                panic!("half-way");
            })
            .await;
        assert!(
            matches!(panicked, Err(StoreError::Other(_))),
            "{panicked:?}"
        );
        assert_eq!(direct.run(count).await.expect("count"), 9);
    }
}
