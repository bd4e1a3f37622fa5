//! Group commit of event batches, shared by both stores: concurrent `POST /events` requests are
//! written together, in one transaction with one commit (one fsync) for all, and each is
//! answered only after that commit, with its own report.
//!
//! The queue decides who writes what; each store only writes a group in one transaction
//! ([`GroupWrite`]).
//!
//! - A batch joins the queue. When fewer than [`Limits::writers`] groups are being written, a
//!   writer task starts; it takes the oldest batches, up to [`Limits::max_events`] events
//!   (always at least one batch, never part of one), writes them as one group, answers each
//!   batch, and takes the next group until the queue is empty.
//! - No timer: a group holds what arrived while the previous one was being written, so the
//!   groups grow with the load and a lone request is written at once. A batch waits for at most
//!   the groups ahead of it (each bounded by `max_events`) and its own.
//! - Group order is arrival order: the store numbers the batches in that order and a
//!   `message_id` sent twice in one group is stored for the first batch that carries it.
//! - All or nothing: when a group's transaction fails, every batch in it is answered the
//!   error and none of it is kept (the clients retry, as they do for any failed request).
//! - The writers are tasks of their own ([`GroupCommit::submit`]; blocking threads with
//!   [`GroupCommit::submit_blocking`], for SQLite, which then writes group after group without
//!   waiting for an async worker in between), so a client hanging up never cuts a
//!   transaction short.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use super::{EventBatch, Ingested, StoreError, lock};

/// The bounds of a store's group commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most events one group holds (a batch that alone holds more is a group of its own).
    pub max_events: usize,
    /// How many groups may be written at once (1 for a store with one writing connection).
    pub writers: usize,
}

impl Limits {
    /// The default group size: 10,000 events (four of the largest batches, 2,500 events).
    pub const MAX_EVENTS: usize = 10_000;
}

/// Writes one group: the part of the group commit each store implements.
pub trait GroupWrite: Clone + Send + Sync + 'static {
    /// Stores `batches` in one transaction, all or nothing, as if they were ingested one after
    /// the other in this order (each its own batch number and rollup queue entry; a
    /// `message_id` already stored, or carried by an earlier batch of the group, is a
    /// duplicate). Answers one report per batch, in order.
    fn write_group(
        &self,
        batches: Vec<EventBatch>,
    ) -> impl Future<Output = Result<Vec<Ingested>, StoreError>> + Send;
}

/// A batch waiting for its group, and where its answer goes.
struct Waiting {
    batch: EventBatch,
    answer: oneshot::Sender<Answer>,
}

/// The queue and how many writers are at work.
#[derive(Default)]
struct Queue {
    waiting: VecDeque<Waiting>,
    writers: usize,
}

/// A store's group commit: the queue of batches waiting to be written (cheap to clone: clones
/// share the queue).
#[derive(Clone)]
pub struct GroupCommit {
    queue: Arc<Mutex<Queue>>,
    limits: Limits,
}

impl GroupCommit {
    /// An empty queue with these bounds.
    pub fn new(limits: Limits) -> Self {
        GroupCommit {
            queue: Arc::default(),
            limits: Limits {
                max_events: limits.max_events.max(1),
                writers: limits.writers.max(1),
            },
        }
    }

    /// Batches waiting for a writer (not those being written).
    pub fn waiting(&self) -> usize {
        lock(&self.queue).waiting.len()
    }

    /// Stores `batch` with the next group `store` writes; answers after that group's commit.
    /// The writers are tasks (for a store whose writes are asynchronous).
    pub async fn submit<W: GroupWrite>(
        &self,
        store: &W,
        batch: EventBatch,
    ) -> Result<Ingested, StoreError> {
        let (answered, start) = self.enqueue(batch);
        if start {
            let (this, store) = (self.clone(), store.clone());
            tokio::spawn(async move {
                let active = this.active();
                while let Some(mut group) = active.commit.next_group() {
                    let batches = group.batches();
                    group.answer(store.write_group(batches).await);
                }
                active.finish();
            });
        }
        wait(answered).await
    }

    /// As [`GroupCommit::submit`], with writers that are blocking threads calling `write`
    /// (for a store whose writes block): a writer takes group after group without waiting
    /// for an async worker in between.
    pub async fn submit_blocking<F>(
        &self,
        batch: EventBatch,
        write: F,
    ) -> Result<Ingested, StoreError>
    where
        F: Fn(Vec<EventBatch>) -> Result<Vec<Ingested>, StoreError> + Send + 'static,
    {
        let (answered, start) = self.enqueue(batch);
        if start {
            let this = self.clone();
            tokio::task::spawn_blocking(move || {
                let active = this.active();
                while let Some(mut group) = active.commit.next_group() {
                    let batches = group.batches();
                    group.answer(write(batches));
                }
                active.finish();
            });
        }
        wait(answered).await
    }

    /// Queues `batch`: where its answer will come, and whether a writer is to be started
    /// (counted in here, under the lock).
    fn enqueue(&self, batch: EventBatch) -> (oneshot::Receiver<Answer>, bool) {
        let (answer, answered) = oneshot::channel();
        let mut q = lock(&self.queue);
        q.waiting.push_back(Waiting { batch, answer });
        let start = q.writers < self.limits.writers;
        if start {
            q.writers += 1;
        }
        (answered, start)
    }

    /// The next group: the oldest batches up to `max_events` events (at least one). When none
    /// waits, the writer stops (counted out under the same lock a batch is queued under, so a
    /// batch never waits without a writer).
    fn next_group(&self) -> Option<Group> {
        let mut q = lock(&self.queue);
        let mut events = 0;
        let mut group = Vec::new();
        while let Some(next) = q.waiting.front() {
            let n = next.batch.events.len();
            if !group.is_empty() && events + n > self.limits.max_events {
                break;
            }
            events += n;
            group.extend(q.waiting.pop_front());
        }
        if group.is_empty() {
            q.writers = q.writers.saturating_sub(1);
            return None;
        }
        let (batches, answers) = group.into_iter().map(|w| (w.batch, w.answer)).unzip();
        Some(Group {
            batches,
            answers,
            events,
            started: std::time::Instant::now(),
        })
    }

    /// A writer at work, counted out if it stops early.
    fn active(&self) -> Active<'_> {
        Active {
            commit: self,
            done: false,
        }
    }
}

/// What a batch is answered.
type Answer = Result<Ingested, StoreError>;

/// The answer of a queued batch.
async fn wait(answered: oneshot::Receiver<Answer>) -> Answer {
    answered
        .await
        .map_err(|_| StoreError::Backend("the group commit stopped".into()))?
}

/// A group taken from the queue: its batches and where their answers go.
struct Group {
    batches: Vec<EventBatch>,
    answers: Vec<oneshot::Sender<Answer>>,
    events: usize,
    started: std::time::Instant,
}

impl Group {
    /// The batches to write (their answers stay here).
    fn batches(&mut self) -> Vec<EventBatch> {
        std::mem::take(&mut self.batches)
    }

    /// Answers each batch its report, or every batch the error.
    fn answer(self, written: Result<Vec<Ingested>, StoreError>) {
        let n = self.answers.len();
        tracing::debug!(
            batches = n,
            events = self.events,
            micros = self.started.elapsed().as_micros() as u64,
            ok = written.is_ok(),
            "group written"
        );
        let written = match written {
            Ok(reports) if reports.len() != n => Err(StoreError::Backend(
                "the store answered a wrong number of reports for its group".into(),
            )),
            other => other,
        };
        match written {
            Ok(reports) => {
                for (answer, report) in self.answers.into_iter().zip(reports) {
                    let _ = answer.send(Ok(report));
                }
            }
            Err(e) => {
                for answer in self.answers {
                    let _ = answer.send(Err(e.clone()));
                }
            }
        }
    }
}

/// A writer at work: if it stops without emptying the queue (it panicked), it is counted out
/// and, when it was the last, the batches still waiting are answered an error rather than
/// left waiting.
struct Active<'a> {
    commit: &'a GroupCommit,
    done: bool,
}

impl Active<'_> {
    /// The writer stopped because the queue was empty (`next_group` counted it out).
    fn finish(mut self) {
        self.done = true;
    }
}

impl Drop for Active<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut q = lock(&self.commit.queue);
        q.writers = q.writers.saturating_sub(1);
        if q.writers == 0 {
            // Dropping the senders answers "the group commit stopped".
            q.waiting.clear();
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    use litmus_core::Timestamp;
    use litmus_core::events::{Event, EventKind};
    use tokio::sync::Semaphore;

    fn event(id: &str) -> Event {
        Event {
            message_id: id.to_owned(),
            unit_id: "u".to_owned(),
            time: Timestamp::from_unix_millis(0),
            client_time: None,
            kind: EventKind::Track {
                event: "buy".to_owned(),
                value: 1.0,
                properties: None,
            },
        }
    }

    fn batch(ids: &[&str]) -> EventBatch {
        EventBatch {
            events: ids.iter().map(|id| event(id)).collect(),
            received_ms: 0,
        }
    }

    /// A store in memory: message ids, the groups it was asked to write (batch sizes), a gate
    /// each group waits at, and a message id that fails its group.
    #[derive(Clone)]
    struct Fake {
        stored: Arc<Mutex<HashSet<String>>>,
        groups: Arc<Mutex<Vec<Vec<usize>>>>,
        gate: Arc<Semaphore>,
        poison: &'static str,
    }

    impl Fake {
        fn new(poison: &'static str) -> Self {
            Fake {
                stored: Arc::default(),
                groups: Arc::default(),
                gate: Arc::new(Semaphore::new(0)),
                poison,
            }
        }
    }

    impl GroupWrite for Fake {
        async fn write_group(&self, batches: Vec<EventBatch>) -> Result<Vec<Ingested>, StoreError> {
            self.groups
                .lock()
                .unwrap()
                .push(batches.iter().map(|b| b.events.len()).collect());
            self.gate.acquire().await.unwrap().forget();
            if batches
                .iter()
                .flat_map(|b| &b.events)
                .any(|e| e.message_id == self.poison)
            {
                return Err(StoreError::Backend("poisoned".into()));
            }
            let mut stored = self.stored.lock().unwrap();
            Ok(batches
                .iter()
                .map(|b| {
                    let new = b
                        .events
                        .iter()
                        .filter(|e| stored.insert(e.message_id.clone()))
                        .count();
                    Ingested {
                        stored: new,
                        duplicates: b.events.len() - new,
                    }
                })
                .collect())
        }
    }

    /// Waits until `check` holds (no clock decides anything).
    async fn until(check: impl Fn() -> bool) {
        while !check() {
            tokio::task::yield_now().await;
        }
    }

    type Handle = tokio::task::JoinHandle<Answer>;

    fn queue(max_events: usize, writers: usize) -> GroupCommit {
        GroupCommit::new(Limits {
            max_events,
            writers,
        })
    }

    /// Submits each batch in turn, each once the one before is being written (as a group of
    /// its own, by a writer of its own).
    async fn written_alone(
        commit: &GroupCommit,
        fake: &Fake,
        batches: &[&'static [&'static str]],
    ) -> Vec<Handle> {
        submit_each(commit, fake, batches, || fake.groups.lock().unwrap().len()).await
    }

    /// Submits each batch in turn, each once the one before waits in the queue.
    async fn queued(
        commit: &GroupCommit,
        fake: &Fake,
        batches: &[&'static [&'static str]],
    ) -> Vec<Handle> {
        submit_each(commit, fake, batches, || commit.waiting()).await
    }

    /// Submits each batch in turn, each once `count` has grown by one since the one before.
    async fn submit_each(
        commit: &GroupCommit,
        fake: &Fake,
        batches: &[&'static [&'static str]],
        count: impl Fn() -> usize,
    ) -> Vec<Handle> {
        let mut handles = Vec::new();
        for ids in batches {
            let before = count();
            let (c, f, ids) = (commit.clone(), fake.clone(), *ids);
            handles.push(tokio::spawn(async move { c.submit(&f, batch(ids)).await }));
            until(|| count() == before + 1).await;
        }
        handles
    }

    /// The answers of `handles`, in order.
    async fn answers(handles: Vec<Handle>) -> Vec<Answer> {
        let mut answers = Vec::new();
        for h in handles {
            answers.push(h.await.unwrap());
        }
        answers
    }

    fn counts(answers: &[Answer]) -> Vec<(usize, usize)> {
        answers
            .iter()
            .map(|a| a.as_ref().map(|r| (r.stored, r.duplicates)).unwrap())
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn batches_arriving_during_a_commit_are_one_group_each_with_its_own_report() {
        let (fake, commit) = (Fake::new("none"), queue(100, 1));
        let first = written_alone(&commit, &fake, &[&["a"]]).await;
        // The first group is being written: these three wait and go together.
        let rest = queued(
            &commit,
            &fake,
            &[&["b", "c"], &["c", "d"], &["a", "e", "e"]],
        )
        .await;
        fake.gate.add_permits(2);
        assert_eq!(counts(&answers(first).await), vec![(1, 0)]);
        assert_eq!(counts(&answers(rest).await), vec![(2, 0), (1, 1), (1, 2)]);
        assert_eq!(*fake.groups.lock().unwrap(), vec![vec![1], vec![2, 2, 3]]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_group_holds_at_most_max_events_and_never_part_of_a_batch() {
        let (fake, commit) = (Fake::new("none"), queue(3, 1));
        let mut all = written_alone(&commit, &fake, &[&["x"]]).await;
        all.extend(
            queued(
                &commit,
                &fake,
                &[&["a", "b"], &["c"], &["d", "e", "f", "g"], &["h"]],
            )
            .await,
        );
        fake.gate.add_permits(4);
        assert_eq!(counts(&answers(all).await).len(), 5);
        assert_eq!(
            *fake.groups.lock().unwrap(),
            vec![vec![1], vec![2, 1], vec![4], vec![1]]
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_group_answers_every_batch_the_error_and_the_next_group_goes_on() {
        let (fake, commit) = (Fake::new("poison"), queue(100, 1));
        let first = written_alone(&commit, &fake, &[&["a"]]).await;
        let failed = queued(&commit, &fake, &[&["b"], &["poison"], &["c"]]).await;
        fake.gate.add_permits(3);
        assert_eq!(counts(&answers(first).await), vec![(1, 0)]);
        for answer in answers(failed).await {
            assert_eq!(answer.unwrap_err().to_string(), "store backend: poisoned");
        }
        // Nothing of the failed group was kept, and the queue still works.
        let again = commit.submit(&fake, batch(&["b", "c"])).await.unwrap();
        assert_eq!((again.stored, again.duplicates), (2, 0));
        assert_eq!(fake.groups.lock().unwrap().len(), 3);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn with_two_writers_two_groups_are_written_at_once() {
        let (fake, commit) = (Fake::new("none"), queue(100, 2));
        let mut all = written_alone(&commit, &fake, &[&["a"], &["b"]]).await;
        // Both writers are busy: the next two wait, then go together.
        all.extend(queued(&commit, &fake, &[&["c"], &["d"]]).await);
        fake.gate.add_permits(3);
        assert_eq!(counts(&answers(all).await).len(), 4);
        let groups = fake.groups.lock().unwrap().clone();
        assert_eq!(groups.len(), 3, "{groups:?}");
        assert_eq!(groups[2], vec![1, 1]);
    }
}
