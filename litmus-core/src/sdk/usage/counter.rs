//! The per-flag evaluation counter of the flag usage reports ([`super`]): one atomic count per
//! flag of a loaded config, by the flag's position in [`Engine::flags`]
//! ([`Evaluation::flag_index`]), carried by key into the config that replaces it.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::Engine;
use crate::flags::Evaluation;

use super::push_string;

/// Evaluations per flag of one loaded config, counted by the flag's position in
/// [`Engine::flags`]. Counting takes `&self` (a relaxed atomic add), so threads that share an
/// engine count without a lock; reading with reset takes each count atomically, so a count
/// made meanwhile is in this read or the next, never lost.
#[derive(Debug, Default)]
pub struct FlagCounter {
    keys: Box<[Box<str>]>,
    counts: Box<[AtomicU64]>,
}

impl FlagCounter {
    /// A counter at zero for every flag of `engine` (valid or rejected), in config order.
    pub fn new(engine: &Engine) -> Self {
        let keys: Box<[Box<str>]> = engine.flags().map(|(key, _)| Box::from(key)).collect();
        let counts = keys.iter().map(|_| AtomicU64::new(0)).collect();
        FlagCounter { keys, counts }
    }

    /// How many flags it counts.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the config has no flag.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Counts one evaluation of the flag at `index` in [`Engine::flags`] (an index out of
    /// range is ignored). Always inlined, as `count_evaluation`: the wasm module is built for
    /// size, which would otherwise make each count a call on the evaluation's hot path.
    #[inline(always)]
    pub fn count(&self, index: usize) {
        if let Some(count) = self.counts.get(index) {
            count.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts `evaluation` when its flag exists in the config ([`Evaluation::flag_index`]):
    /// an unknown key (`flag_not_found`) is not counted; a rejected flag, or one asked for as
    /// another type, is (the code uses it).
    #[inline(always)]
    pub fn count_evaluation(&self, evaluation: &Evaluation<'_>) {
        if let Some(index) = evaluation.flag_index() {
            self.count(index);
        }
    }

    /// The counts not zero, by key in config order; `reset` takes them (sets them to zero).
    pub fn counts(&self, reset: bool) -> Vec<(&str, u64)> {
        self.keys
            .iter()
            .zip(self.counts.iter())
            .filter_map(|(key, count)| {
                let n = if reset {
                    count.swap(0, Ordering::Relaxed)
                } else {
                    count.load(Ordering::Relaxed)
                };
                (n > 0).then_some((&**key, n))
            })
            .collect()
    }

    /// [`FlagCounter::counts`] as a JSON object of key to evaluations (`{"dark-mode":3}`).
    pub fn counts_json(&self, reset: bool) -> String {
        let mut out = String::from("{");
        for (i, (key, n)) in self.counts(reset).into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_string(&mut out, key);
            out.push(':');
            out.push_str(&n.to_string());
        }
        out.push('}');
        out
    }

    /// A counter for `engine` (a config that replaces this one's) holding the counts of the
    /// flags it still has, by key; the counts are taken from this counter, and those of flags
    /// the new config lacks are dropped.
    pub fn remap(&self, engine: &Engine) -> FlagCounter {
        let fresh = FlagCounter::new(engine);
        for (key, count) in self.keys.iter().zip(self.counts.iter()) {
            let n = count.swap(0, Ordering::Relaxed);
            if n == 0 {
                continue;
            }
            let slot = engine
                .flags
                .index
                .get(key)
                .and_then(|i| fresh.counts.get(i as usize));
            if let Some(slot) = slot {
                slot.fetch_add(n, Ordering::Relaxed);
            }
        }
        fresh
    }
}
