//! [`Writer`]: the thread that owns the state file and commits the mutations' changes in groups.
//!
//! Mutations hand their changes to the writer in the order they were made (under the state lock,
//! see [`crate::context::Context::mutate`]). The thread takes everything queued while its previous
//! commit ran and writes it in ONE transaction (group commit), then tells each waiting mutation,
//! which answers its request only then: every acknowledged change is in the file.
//!
//! Commits append to SQLite's journal (the WAL) without `fsync`; copying the journal into the
//! database (a checkpoint, which `fsync`s both files and took tens of milliseconds during which
//! every mutation waited) is done by a second thread and connection while the writer goes on
//! committing, see [`Checkpointer`].
//!
//! A failed commit fails every mutation in its group; their changes, already applied in memory,
//! are kept (the last change of each record) and written again before the next group, in the same
//! transaction, so the file does not drift from memory and a later successful commit makes them
//! durable.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use super::Store;
use crate::model::tracking::Changes;

/// The thread writing the state file; dropping the writer lets it finish the queued commits,
/// then closes the file.
pub struct Writer {
    queue: Option<mpsc::Sender<Job>>,
    spare: Spare,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}

/// One mutation's changes and whom to tell once they are durable.
struct Job {
    changes: Changes,
    done: oneshot::Sender<Result<(), CommitFailed>>,
}

/// The commit that held a mutation's changes failed (the reason is logged by the writer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitFailed;

/// Resolves once the changes it was submitted with (and every change queued before them) are
/// committed.
#[derive(Debug)]
pub struct Commit(oneshot::Receiver<Result<(), CommitFailed>>);

impl Commit {
    /// Waits for the commit (an error when it failed or the writer is gone).
    pub async fn wait(self) -> Result<(), CommitFailed> {
        self.0.await.unwrap_or(Err(CommitFailed))
    }
}

impl Writer {
    /// Starts the thread, which owns `store` from now on.
    pub fn start(store: Store) -> anyhow::Result<Self> {
        store.disable_automatic_checkpoints()?;
        let checkpointer = Checkpointer::start(store.reopen()?)?;
        let (queue, jobs) = mpsc::channel();
        let spare = Spare::default();
        let returned = spare.clone();
        let thread = std::thread::Builder::new()
            .name("state-file-writer".into())
            .spawn(move || run(store, checkpointer, jobs, returned))?;
        Ok(Self {
            queue: Some(queue),
            spare,
            thread: Some(thread),
        })
    }

    /// An empty [`Changes`] to fill for [`Writer::submit`] (the buffers of one already written,
    /// when there is one).
    pub fn buffer(&self) -> Changes {
        let mut spare = self.spare.lock().unwrap_or_else(|p| p.into_inner());
        spare.pop().unwrap_or_default()
    }

    /// Queues `changes` (an empty list waits for the changes queued before it). Calls must be made
    /// in mutation order.
    pub fn submit(&self, changes: Changes) -> Commit {
        let (done, wait) = oneshot::channel();
        if let Some(queue) = &self.queue {
            // If the thread is gone, the job (and `done`) is dropped: the wait fails.
            let _ = queue.send(Job { changes, done });
        }
        Commit(wait)
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        drop(self.queue.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Written [`Changes`] whose buffers are reused (allocating them anew on a worker and freeing them
/// on the writer's thread was a visible cost): at most [`SPARE_BUFFERS`], of at most
/// [`SPARE_BYTES`] each (a mutation that changed many records does not keep its memory).
type Spare = Arc<std::sync::Mutex<Vec<Changes>>>;
const SPARE_BUFFERS: usize = 256;
const SPARE_BYTES: usize = 64 << 10;

/// Changes committed between two checkpoints (about as many journal pages; SQLite's own default
/// is a checkpoint every 1 000 pages).
const CHECKPOINT_AFTER_CHANGES: usize = 4096;
/// Passes a checkpoint round makes at most while the writer goes on.
const MAX_PASSES: usize = 4;
/// Journal pages left after a pass that end a round.
const FEW_PAGES: i64 = 64;
/// Rounds that may end with more than [`FEW_PAGES`] left (the writer then starts another one
/// instead of copying them itself) before the writer copies what is left anyway.
const MAX_ROUNDS: usize = 8;

/// A thread with its own connection that checkpoints the journal on request, in passes that do
/// not block the writer, until only a few pages committed meanwhile are left. The writer then
/// copies those itself (a short checkpoint, with nobody else copying), so that the journal is
/// entirely in the database and the next commit starts it again from its beginning. When a round
/// ends with more left (the writer commits faster than the passes copy), another round starts,
/// up to [`MAX_ROUNDS`], after which the writer copies what is left: the journal stays bounded
/// under any load.
struct Checkpointer {
    requests: Option<mpsc::Sender<()>>,
    finished: Arc<AtomicBool>,
    /// Pages left when the last round ended.
    left: Arc<AtomicI64>,
    running: bool,
    /// Rounds since the writer last copied the rest.
    rounds: usize,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    fn start(store: Store) -> anyhow::Result<Self> {
        let (requests, rounds) = mpsc::channel::<()>();
        let finished = Arc::new(AtomicBool::new(false));
        let left = Arc::new(AtomicI64::new(0));
        let (done, pages_left) = (finished.clone(), left.clone());
        let thread = std::thread::Builder::new()
            .name("state-file-checkpointer".into())
            .spawn(move || {
                while rounds.recv().is_ok() {
                    let mut left = 0;
                    for _ in 0..MAX_PASSES {
                        match store.checkpoint() {
                            Ok(pages) => {
                                left = pages;
                                if pages <= FEW_PAGES {
                                    break;
                                }
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "could not checkpoint the state file");
                                break;
                            }
                        }
                    }
                    pages_left.store(left, Ordering::Relaxed);
                    done.store(true, Ordering::Release);
                }
            })?;
        Ok(Self {
            requests: Some(requests),
            finished,
            left,
            running: false,
            rounds: 0,
            thread: Some(thread),
        })
    }

    /// Called by the writer after each group: starts a round when `written` changes were
    /// committed since the last one, and finishes a round that is over.
    fn after_commit(&mut self, store: &Store, written: &mut usize) {
        if self.running {
            if !self.finished.swap(false, Ordering::Acquire) {
                return;
            }
            self.running = false;
            self.rounds += 1;
            if self.left.load(Ordering::Relaxed) <= FEW_PAGES || self.rounds >= MAX_ROUNDS {
                self.rounds = 0;
                if let Err(e) = store.checkpoint() {
                    tracing::warn!(error = %e, "could not checkpoint the state file");
                }
            } else {
                self.request();
            }
        } else if *written >= CHECKPOINT_AFTER_CHANGES {
            self.request();
            *written = 0;
        }
    }

    fn request(&mut self) {
        if let Some(requests) = &self.requests {
            self.running = requests.send(()).is_ok();
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.requests.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(mut store: Store, mut checkpointer: Checkpointer, jobs: mpsc::Receiver<Job>, spare: Spare) {
    // The changes of failed commits, written again with the next group.
    let mut unwritten = Changes::default();
    // Changes committed since the last checkpoint round started.
    let mut written = 0;
    while let Ok(first) = jobs.recv() {
        let mut group = Vec::new();
        let mut waiting = Vec::new();
        for job in std::iter::once(first).chain(jobs.try_iter()) {
            group.push(job.changes);
            waiting.push(job.done);
        }
        written += group.iter().map(Changes::len).sum::<usize>();
        let changes = || unwritten.iter().chain(group.iter().flat_map(Changes::iter));
        let result = if changes().next().is_none() {
            Ok(())
        } else {
            match store.apply(changes()) {
                Ok(()) => Ok(()),
                Err(e) => {
                    tracing::error!(error = %e, "could not write the state file");
                    Err(CommitFailed)
                }
            }
        };
        unwritten = match result {
            Ok(()) => Changes::default(),
            Err(CommitFailed) => Changes::coalesce(changes()),
        };
        for done in waiting {
            // A mutation whose request was abandoned no longer waits.
            let _ = done.send(result);
        }
        {
            let mut spare = spare.lock().unwrap_or_else(|p| p.into_inner());
            for mut changes in group {
                if spare.len() >= SPARE_BUFFERS {
                    break;
                }
                if changes.capacity() <= SPARE_BYTES {
                    changes.clear();
                    spare.push(changes);
                }
            }
        }
        checkpointer.after_commit(&store, &mut written);
    }
    // The checkpointer's connection closes first: closing the last one copies the journal into
    // the database and removes it.
    drop(checkpointer);
    drop(store);
}
