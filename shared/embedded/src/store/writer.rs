//! The store's writer: one thread that runs queued writes in groups, so concurrent writes share
//! one durable commit (one fsync) instead of paying one each.
//!
//! Each write of a group runs in its own transaction. All but the group's last commit without
//! waiting for the disk; the last one commits durably, which makes the earlier ones durable too
//! (if it fails, an empty durable commit does that). Only then does any caller of the group hear
//! its outcome. A write whose work fails rolls back alone and its caller hears its own error.
//!
//! One transaction with a savepoint per write would save the intermediate commits, but redb
//! takes a savepoint only before a transaction has opened any table.
//!
//! Readers may open a snapshot holding a commit that is not durable yet. `visible` numbers those
//! commits and `Persisted` says how far they are durable, so a read can wait for what it saw
//! before answering.

use super::Fault;
use redb::{Database, Durability, WriteTransaction};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use tokio::sync::{oneshot, watch};
use vitasync_domain::StoreError;

/// The most writes one durable commit covers.
const GROUP_CAP: usize = 128;

/// A queued write: runs its work in the transaction it is given, or hears why it got none.
pub(super) trait Job: Send {
    fn run(self: Box<Self>, txn: &WriteTransaction) -> Ran;
    fn refuse(self: Box<Self>, err: StoreError);
}

/// Hands a committed write's result over, or the error that kept its commit from being durable.
type Deliver = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// Hands over an outcome that no later commit changes.
type Settle = Box<dyn FnOnce() + Send>;

/// What a job's work came to.
pub(super) enum Ran {
    /// Commit its transaction.
    Succeeded(Deliver),
    /// Roll its transaction back.
    Failed(Settle),
}

/// What a write left to hand over once its group is settled.
enum Step {
    /// Nothing: its work panicked, and its caller hears the write was dropped.
    Dropped,
    /// An outcome already known.
    Settled(Settle),
    /// Committed without waiting for the disk: durable once the group is.
    Visible(Deliver),
    /// Committed durably (the group's last write), with every earlier commit.
    Durable(Deliver),
}

/// How far the commits readers can see are durable.
#[derive(Default)]
pub(super) struct Persisted {
    /// Every non-durable commit numbered up to this one is on disk now.
    pub(super) through: u64,
    /// Why later ones may never be: a durable commit failed, and redb takes no more writes
    /// until the database is reopened.
    pub(super) failure: Option<String>,
}

#[derive(Default)]
pub(super) struct Counters {
    /// Commits made without waiting for the disk, counted before each one is made.
    pub(super) visible: AtomicU64,
    /// Durable commits (each one fsync).
    pub(super) durable_commits: AtomicU64,
}

/// A running writer: where to queue jobs, and what readers watch.
pub(super) struct Started {
    pub(super) jobs: mpsc::Sender<Box<dyn Job>>,
    pub(super) thread: JoinHandle<()>,
    pub(super) counters: Arc<Counters>,
    pub(super) persisted: watch::Receiver<Persisted>,
}

/// Starts the writer of `db`. It stops once every sender of its queue is gone and the queue is
/// drained, so what was queued is always written.
pub(super) fn start(db: Arc<Database>) -> std::io::Result<Started> {
    let (jobs, queue) = mpsc::channel();
    let counters = Arc::new(Counters::default());
    let (persisted_sender, persisted) = watch::channel(Persisted::default());
    let writer = Writer {
        db,
        counters: Arc::clone(&counters),
        persisted: persisted_sender,
    };
    let thread = std::thread::Builder::new()
        .name("store-writer".into())
        .spawn(move || writer.run(&queue))?;
    Ok(Started {
        jobs,
        thread,
        counters,
        persisted,
    })
}

/// `work`, whose outcome goes to `reply`, as the writer runs it.
pub(super) fn job<T, F>(work: F, reply: oneshot::Sender<Result<T, StoreError>>) -> Box<dyn Job>
where
    T: Send + 'static,
    F: FnOnce(&WriteTransaction) -> Result<T, Fault> + Send + 'static,
{
    Box::new(Write { work, reply })
}

struct Write<T, F> {
    work: F,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Job for Write<T, F>
where
    T: Send + 'static,
    F: FnOnce(&WriteTransaction) -> Result<T, Fault> + Send + 'static,
{
    fn run(self: Box<Self>, txn: &WriteTransaction) -> Ran {
        let Write { work, reply } = *self;
        match work(txn) {
            Ok(out) => Ran::Succeeded(Box::new(move |committed: Result<(), StoreError>| {
                // The caller may have gone; the write stands either way.
                let _ = reply.send(committed.map(|()| out));
            })),
            Err(fault) => {
                let err = StoreError::from(fault);
                Ran::Failed(Box::new(move || {
                    let _ = reply.send(Err(err));
                }))
            }
        }
    }

    fn refuse(self: Box<Self>, err: StoreError) {
        let Write { reply, .. } = *self;
        let _ = reply.send(Err(err));
    }
}

struct Writer {
    db: Arc<Database>,
    counters: Arc<Counters>,
    persisted: watch::Sender<Persisted>,
}

impl Writer {
    fn run(self, queue: &mpsc::Receiver<Box<dyn Job>>) {
        while let Ok(first) = queue.recv() {
            let mut group = vec![first];
            group.extend(queue.try_iter().take(GROUP_CAP - 1));
            self.commit_group(group);
        }
    }

    fn commit_group(&self, group: Vec<Box<dyn Job>>) {
        let last = group.len().saturating_sub(1);
        let visible_before = self.counters.visible.load(Ordering::SeqCst);
        let steps: Vec<Step> = group
            .into_iter()
            .enumerate()
            .map(|(index, job)| self.run_one(job, index == last))
            .collect();
        let visible_after = self.counters.visible.load(Ordering::SeqCst);
        let settled = if visible_after == visible_before {
            Ok(())
        } else {
            let durable = if matches!(steps.last(), Some(Step::Durable(_))) {
                Ok(())
            } else {
                self.durable_commit()
            };
            match &durable {
                Ok(()) => self.persisted.send_modify(|state| {
                    state.through = visible_after;
                    state.failure = None;
                }),
                Err(err) => {
                    tracing::error!(error = %err, "the store could not make its writes durable");
                    self.persisted
                        .send_modify(|state| state.failure = Some(err.clone()));
                }
            }
            durable
        };
        for step in steps {
            match step {
                Step::Dropped => {}
                Step::Settled(settle) => settle(),
                Step::Durable(deliver) => deliver(Ok(())),
                Step::Visible(deliver) => {
                    deliver(settled.clone().map_err(StoreError::Unavailable));
                }
            }
        }
    }

    fn run_one(&self, job: Box<dyn Job>, last: bool) -> Step {
        let mut txn = match self.db.begin_write() {
            Ok(txn) => txn,
            Err(err) => return refused(job, err.to_string()),
        };
        // The group's last commit is durable and takes the earlier ones with it.
        if !last && let Err(err) = txn.set_durability(Durability::None) {
            let _ = txn.abort();
            return refused(job, err.to_string());
        }
        let Ok(ran) = catch_unwind(AssertUnwindSafe(|| job.run(&txn))) else {
            tracing::error!("a write panicked; it was rolled back and the rest of its group kept");
            let _ = txn.abort();
            return Step::Dropped;
        };
        match ran {
            Ran::Failed(settle) => {
                let _ = txn.abort();
                Step::Settled(settle)
            }
            Ran::Succeeded(deliver) => {
                if !last {
                    // Counted before it is made: a reader whose snapshot holds it sees the count.
                    self.counters.visible.fetch_add(1, Ordering::SeqCst);
                }
                match txn.commit() {
                    Ok(()) if last => {
                        self.counters.durable_commits.fetch_add(1, Ordering::SeqCst);
                        Step::Durable(deliver)
                    }
                    Ok(()) => Step::Visible(deliver),
                    Err(err) => {
                        let err = StoreError::Unavailable(err.to_string());
                        Step::Settled(Box::new(move || deliver(Err(err))))
                    }
                }
            }
        }
    }

    /// An empty durable commit: what the group committed before it reaches the disk with it.
    fn durable_commit(&self) -> Result<(), String> {
        let txn = self.db.begin_write().map_err(|err| err.to_string())?;
        txn.commit().map_err(|err| err.to_string())?;
        self.counters.durable_commits.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

fn refused(job: Box<dyn Job>, reason: String) -> Step {
    Step::Settled(Box::new(move || {
        job.refuse(StoreError::Unavailable(reason));
    }))
}
