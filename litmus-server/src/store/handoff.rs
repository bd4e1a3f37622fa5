//! Batches handed from ingestion to the rollup worker in memory: the events a batch stores
//! (in batch order, without their ids, and without the properties no metric of the current
//! program reads) wait
//! here under its number, so the worker of this instance applies them without reading them
//! back from the store. They are put here before the batch's transaction commits (so the
//! worker, which only sees committed batches, never misses them) and taken out again when it
//! fails. Anything not here (another instance stored it,
//! the server restarted, the hand-off was full) the worker reads from the store as before:
//! this is a shortcut, never the record.
//!
//! Bounded: at most `HANDOFF_EVENTS` events wait; batches beyond that are not kept. Emptied
//! when the worker's cache starts over (another instance may have applied what waits here).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use litmus_core::events::{Event, EventKind};
use litmus_core::metrics::Program;

use super::lock;

/// The most events waiting (about 100 MB of them).
const HANDOFF_EVENTS: usize = 500_000;

/// Committed batches waiting for this instance's rollup worker.
#[derive(Clone, Default)]
pub(crate) struct Handoff(Arc<Mutex<Waiting>>);

#[derive(Default)]
struct Waiting {
    batches: HashMap<i64, Vec<Event>>,
    events: usize,
    /// The metric program: which events' properties are kept.
    program: Arc<Program>,
}

impl Handoff {
    /// Hands over batch `batch`'s stored events, in batch order (not kept when full). They are
    /// moved, not copied: ingestion is done with them once they are written.
    pub(crate) fn put(&self, batch: i64, stored: impl IntoIterator<Item = Event>) {
        let program = Arc::clone(&lock(&self.0).program);
        let events: Vec<Event> = stored.into_iter().map(|e| lean(e, &program)).collect();
        let mut w = lock(&self.0);
        // Kept as the program then said: when it has changed since, not kept at all.
        if !Arc::ptr_eq(&program, &w.program) {
            return;
        }
        if w.events + events.len() > HANDOFF_EVENTS {
            return;
        }
        w.events += events.len();
        if let Some(before) = w.batches.insert(batch, events) {
            // A number taken again after a failed commit (SQLite's numbers come from the
            // events stored): the new batch replaces what the failed one left.
            w.events -= before.len();
        }
    }

    /// The events of batch `batch`, if they were handed over.
    pub(crate) fn take(&self, batch: i64) -> Option<Vec<Event>> {
        let mut w = lock(&self.0);
        let events = w.batches.remove(&batch)?;
        w.events -= events.len();
        Some(events)
    }

    /// Drops batch `batch` (its transaction failed).
    pub(crate) fn forget(&self, batch: i64) {
        drop(self.take(batch));
    }

    /// The end of the transaction of the batches `handed` over: when `committed` is an error,
    /// they are dropped. Answers `committed`.
    pub(crate) fn settle<E>(
        &self,
        handed: impl IntoIterator<Item = i64>,
        committed: Result<(), E>,
    ) -> Result<(), E> {
        if committed.is_err() {
            for batch in handed {
                self.forget(batch);
            }
        }
        committed
    }

    /// Drops everything waiting.
    pub(crate) fn clear(&self) {
        let mut w = lock(&self.0);
        w.batches.clear();
        w.events = 0;
    }
}

impl Handoff {
    /// Sets the metric program whose properties are kept. When it reads properties the
    /// previous one did not, the batches waiting (kept without them) are dropped: the worker
    /// reads those from the store.
    pub(crate) fn set_program(&self, program: Arc<Program>) {
        let mut w = lock(&self.0);
        if program.needs_more_properties_than(&w.program) {
            w.batches.clear();
            w.events = 0;
        }
        w.program = program;
    }
}

/// What the rollups read of `e`: its properties only when a metric of `program` reads them.
fn lean(mut e: Event, program: &Program) -> Event {
    e.message_id = String::new();
    e.client_time = None;
    if let EventKind::Track {
        event, properties, ..
    } = &mut e.kind
    {
        if !program.needs_properties(event) {
            *properties = None;
        }
    }
    e
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use litmus_core::Timestamp;

    fn events(n: usize) -> Vec<Event> {
        (0..n)
            .map(|i| Event {
                message_id: format!("m{i}"),
                unit_id: format!("u{i}"),
                time: Timestamp::from_unix_millis(i as i64),
                client_time: Some(Timestamp::from_unix_millis(0)),
                kind: EventKind::Track {
                    event: "buy".into(),
                    value: 1.0,
                    properties: Some(serde_json::Map::new()),
                },
            })
            .collect()
    }

    #[test]
    fn a_batch_is_taken_once_lean_and_the_hand_off_is_bounded() {
        let h = Handoff::default();
        h.put(1, events(3));
        let got = h.take(1).unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(got[2].unit_id, "u2");
        assert!(got[0].message_id.is_empty() && got[0].client_time.is_none());
        assert!(matches!(
            &got[0].kind,
            EventKind::Track {
                properties: None,
                ..
            }
        ));
        assert!(h.take(1).is_none());
        h.put(2, events(HANDOFF_EVENTS));
        h.put(3, events(1));
        assert!(h.take(3).is_none(), "full: not kept");
        h.clear();
        assert!(h.take(2).is_none());
        h.put(4, events(1));
        h.forget(4);
        assert!(h.take(4).is_none());
        h.put(5, events(1));
        assert!(h.take(5).is_some());
        // A number taken again replaces what waited under it, and the count follows.
        h.put(6, events(3));
        h.put(6, events(2));
        assert_eq!(h.0.lock().unwrap().events, 2);
        assert_eq!(h.take(6).unwrap().len(), 2);
        assert_eq!(h.0.lock().unwrap().events, 0);
    }
}
