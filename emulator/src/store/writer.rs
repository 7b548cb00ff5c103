//! [`Writer`]: the thread that owns the state file and commits the mutations' changes in groups.
//!
//! Mutations hand their changes to the writer in the order they were made (under the state lock,
//! see [`crate::state::Shared::mutate`]). The thread takes everything queued while its previous
//! commit ran and writes it in ONE transaction (group commit), then tells each waiting mutation,
//! which answers its request only then: every acknowledged change is in the file.
//!
//! A failed commit fails every mutation in its group; their changes, already applied in memory,
//! are kept (the last change of each record) and written again before the next group, in the same
//! transaction, so the file does not drift from memory and a later successful commit makes them
//! durable.

use std::sync::mpsc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use super::{Changes, Store};

/// The thread writing the state file; dropping the writer lets it finish the queued commits,
/// then closes the file.
pub struct Writer {
    queue: Option<mpsc::Sender<Job>>,
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
        let (queue, jobs) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("state-file-writer".into())
            .spawn(move || run(store, jobs))?;
        Ok(Self {
            queue: Some(queue),
            thread: Some(thread),
        })
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

fn run(mut store: Store, jobs: mpsc::Receiver<Job>) {
    // The changes of failed commits, written again with the next group.
    let mut unwritten = Changes::default();
    while let Ok(first) = jobs.recv() {
        let mut group = Vec::new();
        let mut waiting = Vec::new();
        for job in std::iter::once(first).chain(jobs.try_iter()) {
            group.push(job.changes);
            waiting.push(job.done);
        }
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
    }
}
