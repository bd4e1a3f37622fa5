//! Live results: WebSocket connections subscribe to experiments and receive each experiment's
//! results again whenever its rollups change.
//!
//! - The rollup worker of whichever instance applies batches sends the experiments it changed
//!   with the rollups' version: directly to this instance's hub, and to the other instances
//!   through the cache's pub/sub (Redis; nothing to send with the in-process cache).
//! - Each instance computes an experiment's results once per change, for all its subscribers.
//! - Pub/sub is at-most-once. Every instance therefore also re-reads the stored rollup version
//!   every second. When that version, or a notice's, skips past what the instance has seen, a
//!   notice was lost: every subscribed experiment is recomputed (a resync).
//! - Each connection has a bounded queue. A client that falls that many messages behind is
//!   disconnected (close code 1008, "too slow") rather than slowing the others; it reconnects
//!   and subscribes again.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{Notify, mpsc};

/// Messages a connection may have queued before it counts as too slow.
pub const QUEUE: usize = 16;

/// A connection's queue of messages (JSON text), and how the hub tells it that it fell too
/// far behind.
#[derive(Clone)]
pub struct Outbox {
    queue: mpsc::Sender<Arc<str>>,
    kicked: Arc<Notify>,
}

/// Why a message could not be queued.
enum Offer {
    Queued,
    Full,
    Closed,
}

impl Outbox {
    /// A new outbox and the receiving end of its queue ([`QUEUE`] messages).
    pub fn new() -> (Outbox, mpsc::Receiver<Arc<str>>) {
        let (queue, inbox) = mpsc::channel(QUEUE);
        (
            Outbox {
                queue,
                kicked: Arc::new(Notify::new()),
            },
            inbox,
        )
    }

    /// Queues `message` without waiting; false when the queue is full.
    pub fn offer(&self, message: Arc<str>) -> bool {
        matches!(self.try_offer(message), Offer::Queued)
    }

    fn try_offer(&self, message: Arc<str>) -> Offer {
        match self.queue.try_send(message) {
            Ok(()) => Offer::Queued,
            Err(mpsc::error::TrySendError::Full(_)) => Offer::Full,
            Err(mpsc::error::TrySendError::Closed(_)) => Offer::Closed,
        }
    }

    /// Resolves once the hub dropped this connection for being too slow.
    pub async fn kicked(&self) {
        self.kicked.notified().await;
    }
}

/// The subscribers of one experiment and its newest results message.
#[derive(Default)]
struct Topic {
    subscribers: Vec<(u64, Outbox)>,
    last: Option<Arc<str>>,
}

#[derive(Default)]
struct Hub {
    topics: HashMap<String, Topic>,
    /// Experiments whose results must be recomputed.
    dirty: BTreeSet<String>,
    /// The newest rollup version seen.
    version: u64,
}

/// The live subscriptions of one instance (a part of the state, cheap to clone: it is shared).
#[derive(Default, Clone)]
pub struct LiveHub {
    hub: Arc<Mutex<Hub>>,
    pub(crate) wake: Arc<Notify>,
    next_connection: Arc<AtomicU64>,
    /// Connections dropped for being too slow.
    dropped: Arc<AtomicU64>,
    /// Resyncs after a lost notice.
    resyncs: Arc<AtomicU64>,
}

impl LiveHub {
    fn lock(&self) -> MutexGuard<'_, Hub> {
        self.hub.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new connection's id.
    pub fn connection(&self) -> u64 {
        self.next_connection.fetch_add(1, Ordering::Relaxed)
    }

    /// The rollups reached `version`, changing `experiments`. A version more than one past the
    /// newest seen means notices were lost: every subscribed experiment is recomputed.
    pub fn changed(&self, version: u64, experiments: impl IntoIterator<Item = String>) {
        let mut hub = self.lock();
        if version > hub.version.saturating_add(1) && hub.version > 0 {
            self.resyncs.fetch_add(1, Ordering::Relaxed);
            let all: Vec<String> = hub.topics.keys().cloned().collect();
            hub.dirty.extend(all);
        }
        hub.version = hub.version.max(version);
        for e in experiments {
            // Rows stored under another environment's (or project's) prefix are its topic's
            // (`experiment@environment`, in the hub under its project).
            let topic = crate::environments::hub_topic_of(&e);
            if hub.topics.contains_key(&topic) {
                hub.dirty.insert(topic);
            }
        }
        drop(hub);
        self.wake.notify_one();
    }

    /// The stored rollup version is `version` (read on a timer): when it is past the newest
    /// seen, a notice was lost, and every subscribed experiment is recomputed.
    pub fn stored_version(&self, version: u64) {
        let mut hub = self.lock();
        if version > hub.version {
            if hub.version > 0 {
                self.resyncs.fetch_add(1, Ordering::Relaxed);
            }
            hub.version = version;
            let all: Vec<String> = hub.topics.keys().cloned().collect();
            hub.dirty.extend(all);
            drop(hub);
            self.wake.notify_one();
        }
    }

    /// Every subscribed experiment is recomputed (after a config change, which may change
    /// variants, metrics or status).
    pub fn recompute_all(&self) {
        let mut hub = self.lock();
        let all: Vec<String> = hub.topics.keys().cloned().collect();
        hub.dirty.extend(all);
        drop(hub);
        self.wake.notify_one();
    }

    /// The stored version was read just before computing results: the newest seen from now
    /// on, without a recomputation (the computation under way reads newer rollups anyway).
    pub(crate) fn saw_version(&self, version: u64) {
        let mut hub = self.lock();
        hub.version = hub.version.max(version);
    }

    /// Whether any connection follows an experiment.
    pub fn has_subscribers(&self) -> bool {
        !self.lock().topics.is_empty()
    }

    /// The newest rollup version seen.
    pub fn version(&self) -> u64 {
        self.lock().version
    }

    /// Subscribes connection `id` to `experiment`; answers the newest results message when
    /// there is one (else it is computed and sent as soon as possible).
    pub fn subscribe(&self, id: u64, experiment: &str, outbox: &Outbox) -> Option<Arc<str>> {
        let mut hub = self.lock();
        let topic = hub.topics.entry(experiment.to_owned()).or_default();
        if !topic.subscribers.iter().any(|(c, _)| *c == id) {
            topic.subscribers.push((id, outbox.clone()));
        }
        let last = topic.last.clone();
        if last.is_none() {
            hub.dirty.insert(experiment.to_owned());
            drop(hub);
            self.wake.notify_one();
        }
        last
    }

    /// Marks `experiment` for recomputation (a client asked to resync).
    pub fn refresh(&self, experiment: &str) {
        let mut hub = self.lock();
        if hub.topics.contains_key(experiment) {
            hub.dirty.insert(experiment.to_owned());
        }
        drop(hub);
        self.wake.notify_one();
    }

    /// Unsubscribes connection `id` from `experiment`.
    pub fn unsubscribe(&self, id: u64, experiment: &str) {
        let mut hub = self.lock();
        if let Some(topic) = hub.topics.get_mut(experiment) {
            topic.subscribers.retain(|(c, _)| *c != id);
            if topic.subscribers.is_empty() {
                hub.topics.remove(experiment);
            }
        }
    }

    /// Forgets connection `id` everywhere.
    pub fn disconnect(&self, id: u64) {
        let mut hub = self.lock();
        for topic in hub.topics.values_mut() {
            topic.subscribers.retain(|(c, _)| *c != id);
        }
        hub.topics.retain(|_, t| !t.subscribers.is_empty());
    }

    /// The experiments to recompute now.
    pub(crate) fn take_dirty(&self) -> Vec<String> {
        std::mem::take(&mut self.lock().dirty).into_iter().collect()
    }

    /// Sends `message` to the subscribers of `experiment` (and keeps it as the newest when
    /// `keep`). A subscriber whose queue is full is disconnected from every experiment: its
    /// queue closes, and its connection ends.
    pub(crate) fn publish(&self, experiment: &str, message: Arc<str>, keep: bool) {
        let mut slow = Vec::new();
        let mut hub = self.lock();
        let Some(topic) = hub.topics.get_mut(experiment) else {
            return;
        };
        if keep {
            topic.last = Some(Arc::clone(&message));
        }
        topic.subscribers.retain(
            |(id, outbox)| match outbox.try_offer(Arc::clone(&message)) {
                Offer::Queued => true,
                Offer::Full => {
                    slow.push((*id, Arc::clone(&outbox.kicked)));
                    false
                }
                Offer::Closed => false,
            },
        );
        drop(hub);
        for (id, kicked) in slow {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            self.disconnect(id);
            kicked.notify_one();
        }
    }

    /// Connections dropped for being too slow, and resyncs after lost notices.
    pub fn counters(&self) -> (u64, u64) {
        (
            self.dropped.load(Ordering::Relaxed),
            self.resyncs.load(Ordering::Relaxed),
        )
    }

    /// Its metrics in Prometheus' text format.
    pub fn render(&self) -> String {
        let (dropped, resyncs) = self.counters();
        let followed = self.lock().topics.len();
        format!(
            "# HELP litmus_live_dropped_total WebSocket clients closed for being too slow.\n\
             # TYPE litmus_live_dropped_total counter\n\
             litmus_live_dropped_total {dropped}\n\
             # HELP litmus_live_resyncs_total Recomputations of every subscription after a lost notice.\n\
             # TYPE litmus_live_resyncs_total counter\n\
             litmus_live_resyncs_total {resyncs}\n\
             # HELP litmus_live_experiments Experiments with live subscribers.\n\
             # TYPE litmus_live_experiments gauge\n\
             litmus_live_experiments {followed}\n"
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_client_that_falls_behind_is_dropped_and_the_others_are_not() {
        let hub = LiveHub::default();
        let (slow, _never_read) = Outbox::new();
        let (fast, mut read) = Outbox::new();
        assert!(hub.subscribe(1, "e", &slow).is_none());
        assert!(hub.subscribe(2, "e", &fast).is_none());
        assert_eq!(hub.take_dirty(), vec!["e".to_owned()]);
        for i in 0..=QUEUE {
            hub.publish("e", Arc::from(format!("m{i}")), true);
            assert_eq!(&*read.recv().await.unwrap(), format!("m{i}"));
        }
        // The slow one is kicked once its queue is full, and unsubscribed.
        slow.kicked().await;
        assert_eq!(hub.counters().0, 1);
        assert_eq!(hub.lock().topics["e"].subscribers.len(), 1);
        // A new subscriber gets the newest message at once.
        let (late, _) = Outbox::new();
        assert_eq!(
            hub.subscribe(3, "e", &late).as_deref(),
            Some(format!("m{QUEUE}").as_str())
        );
        hub.disconnect(2);
        hub.disconnect(3);
        assert!(!hub.has_subscribers());
    }

    #[test]
    fn a_lost_notice_recomputes_every_subscription() {
        let hub = LiveHub::default();
        let (outbox, _inbox) = Outbox::new();
        hub.subscribe(1, "a", &outbox);
        hub.subscribe(1, "b", &outbox);
        hub.take_dirty();
        hub.changed(1, ["a".to_owned(), "unfollowed".to_owned()]);
        assert_eq!(hub.take_dirty(), vec!["a".to_owned()]);
        hub.changed(2, ["b".to_owned()]);
        assert_eq!(hub.take_dirty(), vec!["b".to_owned()]);
        // Version 3 never arrived: 4 means a gap.
        hub.changed(4, []);
        assert_eq!(hub.take_dirty(), vec!["a".to_owned(), "b".to_owned()]);
        assert_eq!(hub.counters().1, 1);
        // The stored version is read on a timer: ahead of the notices, another gap.
        hub.stored_version(4);
        assert!(hub.take_dirty().is_empty());
        hub.stored_version(6);
        assert_eq!(hub.take_dirty().len(), 2);
        assert_eq!((hub.version(), hub.counters().1), (6, 2));
        let text = hub.render();
        assert!(text.contains("litmus_live_resyncs_total 2\n"), "{text}");
        assert!(text.contains("litmus_live_experiments 2\n"), "{text}");
    }
}
