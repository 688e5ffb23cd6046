use crate::tables;
use redb::{Database, ReadTransaction, ReadableDatabase, WriteTransaction};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::thread::JoinHandle;
use tokio::sync::{oneshot, watch};
use vitasync_domain::StoreError;
use writer::{Counters, Job, Persisted};

mod writer;

const FILE_NAME: &str = "vitasync.redb";

/// The on-disk store. Cheap to clone; every clone shares one database and its writer. Writes
/// are answered once durable; concurrent ones share a durable commit (see `writer`).
#[derive(Clone)]
pub struct EmbeddedStore {
    shared: Arc<Shared>,
}

struct Shared {
    db: Arc<Database>,
    /// The writer's queue; closed when the last clone goes, which lets the writer finish what
    /// is queued and stop.
    jobs: Option<mpsc::Sender<Box<dyn Job>>>,
    writer: Option<JoinHandle<()>>,
    counters: Arc<Counters>,
    persisted: watch::Receiver<Persisted>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.jobs = None;
        // Waiting for the writer releases the file with the last clone, so the store can be
        // opened again right away (a restart in the same process does).
        if let Some(writer) = self.writer.take()
            && writer.thread().id() != std::thread::current().id()
        {
            let _ = writer.join();
        }
    }
}

/// Where a queued write's outcome arrives.
type Reply<T> = oneshot::Receiver<Result<T, StoreError>>;

/// What can go wrong inside a transaction: a database fault, or a rule the caller must hear of.
pub(crate) enum Fault {
    Db(redb::Error),
    Store(StoreError),
}

impl<E: Into<redb::Error>> From<E> for Fault {
    fn from(err: E) -> Self {
        Fault::Db(err.into())
    }
}

impl From<Fault> for StoreError {
    fn from(fault: Fault) -> Self {
        match fault {
            Fault::Db(err) => StoreError::Unavailable(err.to_string()),
            Fault::Store(err) => err,
        }
    }
}

pub(crate) fn conflict(what: &str) -> Fault {
    Fault::Store(StoreError::Conflict(what.into()))
}

pub(crate) fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, Fault> {
    serde_json::to_vec(value).map_err(|err| Fault::Store(StoreError::Corrupt(err.to_string())))
}

pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Fault> {
    serde_json::from_slice(bytes).map_err(|err| Fault::Store(StoreError::Corrupt(err.to_string())))
}

impl EmbeddedStore {
    /// Opens (or creates) the store in `dir`, creating the directory if needed.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|err| StoreError::Unavailable(format!("creating {}: {err}", dir.display())))?;
        let db = Database::create(dir.join(FILE_NAME)).map_err(|err| match err {
            redb::DatabaseError::DatabaseAlreadyOpen => StoreError::Unavailable(format!(
                "{} is in use by another VitaSync: stop it, or give this one another data \
                 directory (--data-dir or VITASYNC_DATA_DIR)",
                dir.display()
            )),
            other => StoreError::Unavailable(other.to_string()),
        })?;
        create_tables(&db).map_err(StoreError::from)?;
        let db = Arc::new(db);
        let started = writer::start(Arc::clone(&db))
            .map_err(|err| StoreError::Unavailable(format!("starting the store writer: {err}")))?;
        Ok(Self {
            shared: Arc::new(Shared {
                db,
                jobs: Some(started.jobs),
                writer: Some(started.thread),
                counters: started.counters,
                persisted: started.persisted,
            }),
        })
    }

    /// Runs `work` in a write transaction and commits it if it succeeds; answers once the
    /// commit is durable. Concurrent writes share one durable commit, and a write that fails
    /// rolls back alone. `work` sees the writes committed before it, durable or not.
    pub(crate) async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&WriteTransaction) -> Result<T, Fault> + Send + 'static,
    {
        let reply = self.submit(work)?;
        reply.await.map_err(|_| {
            StoreError::Unavailable("the store dropped a write that failed while running".into())
        })?
    }

    /// Queues `work` for the writer.
    fn submit<T, F>(&self, work: F) -> Result<Reply<T>, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&WriteTransaction) -> Result<T, Fault> + Send + 'static,
    {
        let (reply, outcome) = oneshot::channel();
        self.shared
            .jobs
            .as_ref()
            .ok_or_else(writer_stopped)?
            .send(writer::job(work, reply))
            .map_err(|_| writer_stopped())?;
        Ok(outcome)
    }

    /// Runs `work` against a consistent snapshot on the blocking pool, and answers once every
    /// write the snapshot holds is durable: nothing a crash could take back is ever shown.
    pub(crate) async fn read<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&ReadTransaction) -> Result<T, Fault> + Send + 'static,
    {
        let db = Arc::clone(&self.shared.db);
        let counters = Arc::clone(&self.shared.counters);
        let (out, seen) = Self::blocking(move || {
            let txn = db.begin_read()?;
            // Loaded after the snapshot is taken, so it counts every commit the snapshot holds.
            let seen = counters.visible.load(Ordering::SeqCst);
            Ok((work(&txn)?, seen))
        })
        .await?;
        self.durable_through(seen).await?;
        Ok(out)
    }

    /// Waits until the commits numbered up to `seen` are durable.
    async fn durable_through(&self, seen: u64) -> Result<(), StoreError> {
        if self.shared.persisted.borrow().through >= seen {
            return Ok(());
        }
        let mut persisted = self.shared.persisted.clone();
        let state = persisted
            .wait_for(|state| state.through >= seen || state.failure.is_some())
            .await
            .map_err(|_| writer_stopped())?;
        if state.through >= seen {
            return Ok(());
        }
        Err(StoreError::Unavailable(format!(
            "writes were not made durable: {}",
            state.failure.as_deref().unwrap_or_default()
        )))
    }

    async fn blocking<T, F>(work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, Fault> + Send + 'static,
    {
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|err| StoreError::Unavailable(format!("store task failed: {err}")))?
            .map_err(StoreError::from)
    }

    /// Durable commits made by the writer so far.
    #[cfg(test)]
    fn durable_commits(&self) -> u64 {
        self.shared.counters.durable_commits.load(Ordering::SeqCst)
    }
}

fn writer_stopped() -> StoreError {
    StoreError::Unavailable("the store's writer has stopped".into())
}

/// Creates every table up front so readers never meet a missing one.
fn create_tables(db: &Database) -> Result<(), Fault> {
    let txn = db.begin_write()?;
    txn.open_table(tables::WORKSPACES)?;
    txn.open_table(tables::WORKSPACE_SLUGS)?;
    txn.open_table(tables::API_KEYS)?;
    txn.open_table(tables::API_KEY_IDS)?;
    txn.open_table(tables::USERS)?;
    txn.open_table(tables::USER_EXTERNAL_IDS)?;
    txn.open_table(tables::QUEUE_MESSAGES)?;
    txn.open_table(tables::CONNECTIONS)?;
    txn.open_table(tables::STATES)?;
    txn.open_table(tables::CONNECTION_ACCOUNTS)?;
    txn.open_table(tables::CONNECTION_TOKENS)?;
    txn.open_table(tables::QUEUE_VISIBILITY)?;
    txn.open_table(tables::HEALTH_RECORDS)?;
    txn.open_table(tables::JOBS)?;
    txn.open_table(tables::USER_JOBS)?;
    txn.open_table(tables::ACTIVE_JOBS)?;
    txn.open_table(tables::WEBHOOKS)?;
    txn.open_table(tables::ACCOUNT_CONNECTIONS)?;
    txn.open_table(tables::SESSIONS)?;
    txn.open_table(tables::DELIVERIES)?;
    txn.open_table(tables::PROVIDER_APPS)?;
    txn.open_table(tables::PROVIDER_APP_IDS)?;
    txn.open_table(tables::OUTBOX)?;
    txn.commit()?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use redb::{ReadableTable, TableDefinition};
    use std::time::Duration;

    const NUMBERS: TableDefinition<u64, u64> = TableDefinition::new("test_numbers");

    async fn open() -> (tempfile::TempDir, EmbeddedStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::open(dir.path()).unwrap();
        store
            .write(|txn| {
                txn.open_table(NUMBERS)?;
                Ok(())
            })
            .await
            .unwrap();
        (dir, store)
    }

    fn insert(txn: &WriteTransaction, n: u64) -> Result<(), Fault> {
        txn.open_table(NUMBERS)?.insert(n, n)?;
        Ok(())
    }

    async fn numbers(store: &EmbeddedStore) -> Vec<u64> {
        store
            .read(|txn| {
                let table = txn.open_table(NUMBERS)?;
                let mut numbers = Vec::new();
                for entry in table.iter()? {
                    numbers.push(entry?.0.value());
                }
                Ok(numbers)
            })
            .await
            .unwrap()
    }

    /// Queues a write that holds the writer until `release` is sent; `running` resolves once
    /// it runs. What is queued meanwhile makes the next group, as behind a commit in flight.
    fn hold_writer(store: &EmbeddedStore) -> (mpsc::Sender<()>, oneshot::Receiver<()>, Reply<()>) {
        let (release, released) = mpsc::channel::<()>();
        let (started, running) = oneshot::channel::<()>();
        let done = store
            .submit(move |_: &WriteTransaction| {
                let _ = started.send(());
                let _ = released.recv();
                Ok(())
            })
            .unwrap();
        (release, running, done)
    }

    #[test]
    fn a_data_dir_in_use_names_the_other_vitasync() {
        let dir = tempfile::tempdir().unwrap();
        let _first = EmbeddedStore::open(dir.path()).unwrap();
        let Err(err) = EmbeddedStore::open(dir.path()) else {
            panic!("opened twice");
        };
        let message = err.to_string();
        assert!(message.contains("another VitaSync"), "{message}");
        assert!(message.contains("VITASYNC_DATA_DIR"), "{message}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_all_land_and_share_durable_commits() {
        const WRITES: u64 = 200;
        let (_dir, store) = open().await;
        let commits_before = store.durable_commits();
        let (release, running, held) = hold_writer(&store);
        running.await.unwrap();
        let writers: Vec<_> = (0..WRITES)
            .map(|n| {
                let store = store.clone();
                tokio::spawn(async move { store.write(move |txn| insert(txn, n)).await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(100)).await;
        release.send(()).unwrap();
        held.await.unwrap().unwrap();
        for writer in writers {
            writer.await.unwrap().unwrap();
        }

        assert_eq!(numbers(&store).await, (0..WRITES).collect::<Vec<_>>());
        let commits = store.durable_commits() - commits_before;
        assert!(
            commits < WRITES,
            "{commits} durable commits for {WRITES} writes"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_write_rolls_back_alone_and_hears_its_own_error() {
        let (_dir, store) = open().await;
        let commits_before = store.durable_commits();
        let (release, running, held) = hold_writer(&store);
        running.await.unwrap();
        let first = store.submit(|txn| insert(txn, 1)).unwrap();
        let failing = store
            .submit(|txn| {
                insert(txn, 2)?;
                Err::<(), _>(conflict("number two"))
            })
            .unwrap();
        let third = store.submit(|txn| insert(txn, 3)).unwrap();
        release.send(()).unwrap();
        held.await.unwrap().unwrap();

        first.await.unwrap().unwrap();
        match failing.await.unwrap() {
            Err(StoreError::Conflict(what)) => assert_eq!(what, "number two"),
            other => panic!("expected the write's own conflict, got {other:?}"),
        }
        third.await.unwrap().unwrap();
        assert_eq!(numbers(&store).await, [1, 3]);
        // The held write's commit, then one for the group of three.
        assert_eq!(store.durable_commits() - commits_before, 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_that_panics_is_dropped_alone() {
        let (_dir, store) = open().await;
        let (release, running, held) = hold_writer(&store);
        running.await.unwrap();
        let first = store.submit(|txn| insert(txn, 1)).unwrap();
        let panicking = store
            .submit(|txn: &WriteTransaction| -> Result<(), Fault> {
                insert(txn, 2)?;
                panic!("a bug inside a write");
            })
            .unwrap();
        let third = store.submit(|txn| insert(txn, 3)).unwrap();
        release.send(()).unwrap();
        held.await.unwrap().unwrap();

        first.await.unwrap().unwrap();
        assert!(panicking.await.is_err(), "its caller hears it was dropped");
        third.await.unwrap().unwrap();
        assert_eq!(numbers(&store).await, [1, 3]);
        store.write(|txn| insert(txn, 4)).await.unwrap();
        assert_eq!(numbers(&store).await, [1, 3, 4]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_read_answers_only_once_what_it_saw_is_durable() {
        let (_dir, store) = open().await;
        let (release_first, first_running, first_held) = hold_writer(&store);
        first_running.await.unwrap();
        // A write in progress does not hold reads back when nothing undurable is visible.
        let read = tokio::time::timeout(Duration::from_secs(5), numbers(&store));
        assert_eq!(read.await.unwrap(), Vec::<u64>::new());

        // One group: the insert commits without waiting for the disk, then the second held
        // write keeps the group's durable commit back.
        let written = store.submit(|txn| insert(txn, 5)).unwrap();
        let (release_second, second_running, second_held) = hold_writer(&store);
        release_first.send(()).unwrap();
        first_held.await.unwrap().unwrap();
        second_running.await.unwrap();
        let reading = tokio::spawn({
            let store = store.clone();
            async move { numbers(&store).await }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            !reading.is_finished(),
            "a read answered with a write that is not durable yet"
        );

        release_second.send(()).unwrap();
        assert_eq!(reading.await.unwrap(), [5]);
        second_held.await.unwrap().unwrap();
        written.await.unwrap().unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_last_clone_dropped_finishes_queued_writes_and_releases_the_file() {
        let (dir, store) = open().await;
        let (release, running, held) = hold_writer(&store);
        running.await.unwrap();
        let queued = store.submit(|txn| insert(txn, 7)).unwrap();
        release.send(()).unwrap();
        drop(store);

        held.await.unwrap().unwrap();
        queued.await.unwrap().unwrap();
        let reopened = EmbeddedStore::open(dir.path()).unwrap();
        assert_eq!(numbers(&reopened).await, [7]);
    }
}
