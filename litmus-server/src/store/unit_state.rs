//! Each unit's rollup state (`litmus_core::events::unit_state`) as one stored record, and the
//! cache of those states the rollup worker keeps between rounds.
//!
//! A round (`RollupCache::round`) reads each of its units once (from the cache, or the store
//! for the ones it does not hold), applies the batches in memory with core's rules, and the
//! store writes each new first exposure and each rollup row once, in the transaction that
//! takes the batches off the queue.
//!
//! Unit records are written at checkpoints, not every round: a unit that changed since the
//! last checkpoint stays in the cache (it is "dirty") until the next one writes it, so a busy
//! unit is written once per checkpoint instead of once per round. The store records the
//! position in `applied_batches` its unit records are current at; the batches applied after it
//! stay readable until the next checkpoint. A worker whose cache cannot be trusted (it
//! starts, another instance applied batches, or a round of its own failed after changing
//! states in memory) starts over from the records and replays those batches into its states
//! (`RollupCache::replay`: the states only, the rollups have them already). A checkpoint is
//! taken when the worker finds the queue empty, when `DIRTY_UNITS` units wait, or
//! `CHECKPOINT_EVERY` after the last one.
//!
//! The cache is only trusted while nobody else applied rollups: it remembers the rollups'
//! version its last transaction committed.
//!
//! The record (`encode`, `decode`), version 1, little-endian: `u8 1`; a table of the names it
//! uses (`u32` count, then each as `u32` length and UTF-8 bytes); the exposures (`u32` count;
//! each: experiment and variant as `u32` indexes into the table, `i64` first ms); the totals
//! (`u32` count; each: experiment, metric, `u64` events, `f64` total, `f64` covariate); the
//! history (`u32` count; each: metric, `f64` total).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::byte_reader::ByteReader;
use litmus_core::events::Event;
use litmus_core::events::derived::Bound;
use litmus_core::events::unit_state::{Names, Round, UnitExposure, UnitState, UnitTotal};
use litmus_core::metrics::Program;
use litmus_core::segments::{self, SegmentBook};

/// Units kept in memory between checkpoints, besides the dirty ones: the cache holds between
/// half of this and this many clean units.
const CACHED_UNITS: usize = 400_000;

/// Dirty units that make the next round take a checkpoint.
const DIRTY_UNITS: usize = 200_000;

/// The longest time between checkpoints while units are dirty.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(10);

/// Distinct names (experiments, variants, metrics) above which the cache starts over, so
/// event names sent at random cannot grow it without bound.
const CACHED_NAMES: usize = 100_000;

/// A record that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("a unit's rollup state is corrupt: {0}")]
pub(crate) struct Corrupt(&'static str);

/// Unit states by unit id, hashed by foldhash (fast on short keys, seeded per map, so unit ids
/// chosen by a client cannot collide on purpose).
type Units = HashMap<String, UnitState, foldhash::fast::RandomState>;

/// The rollup worker's memory of unit states (see the module's documentation).
pub(crate) struct RollupCache {
    names: Names,
    /// The units of recent rounds, and every dirty unit.
    recent: Units,
    /// The units of the rounds before the last rotation, all clean (moved to `recent` when a
    /// round needs them).
    older: Units,
    /// The units changed since the last checkpoint, each once.
    dirty: Vec<String>,
    /// The rollups' version the cache is true at (`None`: not known, start over).
    version: Option<u64>,
    /// When the last checkpoint was taken (or the cache started).
    checkpointed_at: Instant,
    /// The derived metrics the rounds keep (kept when the cache starts over).
    program: Arc<Program>,
    /// The values admitted to segments of their own (`litmus_core::segments`).
    book: SegmentBook,
    /// The subjects the store records as having rows (`None`: not read since the cache
    /// started over; [`RollupCache::load_segments`]).
    subjects: Option<HashSet<u32>>,
    /// The experiments whose rollups changed since the last checkpoint: their figures read
    /// from the units' records (a bandit's stratified inference, percentile caps) change when
    /// the next checkpoint writes them ([`RollupCache::take_unchecked`]).
    unchecked: BTreeSet<String>,
}

impl Default for RollupCache {
    fn default() -> Self {
        RollupCache {
            names: Names::default(),
            recent: Units::default(),
            older: Units::default(),
            dirty: Vec::new(),
            version: None,
            checkpointed_at: Instant::now(),
            program: Arc::default(),
            book: SegmentBook::default(),
            subjects: None,
            unchecked: BTreeSet::new(),
        }
    }
}

/// A round computed over the cache: what the store writes, as text.
#[derive(Default)]
pub(crate) struct RoundRows {
    /// New first exposures: (experiment, unit, variant, first ms).
    pub(crate) first_exposures: Vec<(String, String, String, i64)>,
    /// Units first exposed: (experiment, variant, minute) and how many.
    pub(crate) exposures: Vec<crate::store::unit_state::ExposureRow>,
    /// Metric rollups: (experiment, variant, metric, minute) and what to add.
    pub(crate) metrics: Vec<crate::store::unit_state::MetricRow>,
    /// Quantile sketch changes: (experiment, variant, metric, hour, bucket) and the count.
    pub(crate) sketches: Vec<(SketchKey, i64)>,
    /// Derived metrics recomputed or forgotten (`super::backfill`).
    pub(crate) backfill: super::backfill::Writes,
    /// The experiments whose rollups changed (a segment's, its experiment).
    pub(crate) experiments: BTreeSet<String>,
    /// Segments with rows for the first time: (experiment, dimension, value).
    pub(crate) subjects: Vec<(String, String, String)>,
}

/// A metric rollup row: (experiment, variant, metric, minute) and what to add.
pub(crate) type MetricRow = (
    (String, String, String, i64),
    litmus_core::events::MetricRollup,
);

/// An exposure rollup row: (experiment, variant, minute) and the units first exposed.
pub(crate) type ExposureRow = ((String, String, i64), u64);

/// A quantile sketch row's key: (experiment, variant, metric, hour, bucket).
pub(crate) type SketchKey = (String, String, String, i64, i32);

impl RollupCache {
    /// Starts a transaction on rollups at `version`: answers whether the cache is true at it.
    /// When it is not, the cache is emptied, and the store must replay the batches applied
    /// after its checkpoint ([`RollupCache::replay`]) before applying new ones. Either way the
    /// cache is not trusted again until [`RollupCache::committed`].
    pub(crate) fn begin(&mut self, version: u64) -> bool {
        let valid = self.version == Some(version) && self.names.len() <= CACHED_NAMES;
        if !valid {
            let program = Arc::clone(&self.program);
            *self = RollupCache::default();
            self.program = program;
        }
        self.version = None;
        valid
    }

    /// Whether the segments with rows are to be read from the store and given to
    /// [`RollupCache::load_segments`] (before any batch is applied).
    pub(crate) fn needs_segments(&self) -> bool {
        self.subjects.is_none()
    }

    /// Takes the segments the store records (experiment, dimension, value): their values are
    /// admitted, as they were when their rows were first written.
    pub(crate) fn load_segments(&mut self, segments: Vec<(String, String, String)>) {
        let mut known = HashSet::with_capacity(segments.len());
        for (experiment, dimension, value) in segments {
            let name = segments::subject(&experiment, &dimension, &value);
            self.book.admit(&name);
            known.insert(self.names.id(&name));
        }
        self.subjects = Some(known);
    }

    /// The name ids of the segments' subjects known to have rows.
    fn subjects_known(&self) -> Vec<u32> {
        self.subjects.iter().flatten().copied().collect()
    }

    /// Recomputes `pairs` from `batches` (`super::backfill::recompute`) with the values the
    /// rollups admitted to segments so far.
    pub(crate) fn recompute(
        &self,
        program: &Program,
        pairs: &BTreeSet<super::backfill::Pair>,
        batches: &[Vec<Event>],
        window_ms: i64,
    ) -> super::backfill::Recomputed {
        super::backfill::recompute(program, pairs, batches, window_ms, self.book.clone())
    }

    /// What a round writes for `plan`: its pairs' old rows deleted for the experiments and
    /// their segments' subjects, and the pairs recorded with `since_ms`.
    pub(crate) fn writes(
        &self,
        program: &Program,
        plan: super::backfill::Plan,
        since_ms: Option<i64>,
    ) -> super::backfill::Writes {
        let subjects = self.subjects_of(&plan.experiments());
        super::backfill::Writes {
            subjects,
            ..super::backfill::Writes::of(program, plan, since_ms)
        }
    }

    /// The subjects with rows of each of `experiments`' segments.
    fn subjects_of(
        &self,
        experiments: &[String],
    ) -> std::collections::BTreeMap<String, Vec<String>> {
        let mut out = std::collections::BTreeMap::new();
        for s in self.subjects_known() {
            let name = self.names.name(s);
            let parent = segments::experiment_of(name);
            if experiments.iter().any(|e| e == parent) {
                out.entry(parent.to_owned())
                    .or_insert_with(Vec::new)
                    .push(name.to_owned());
            }
        }
        out
    }

    /// The derived metrics the rounds keep.
    pub(crate) fn program(&self) -> Arc<Program> {
        Arc::clone(&self.program)
    }

    /// Sets the derived metrics the next rounds keep (`litmus_core::metrics::Program`).
    pub(crate) fn set_program(&mut self, program: Arc<Program>) {
        self.program = program;
    }

    /// The units of `batches` the cache does not hold, each once: their records are to be
    /// read from the store and given to [`RollupCache::load`] (a unit with none is new).
    pub(crate) fn missing(&self, batches: &[Vec<Event>]) -> Vec<String> {
        let mut seen = foldhash::HashSet::default();
        batches
            .iter()
            .flatten()
            .map(|e| e.unit_id.as_str())
            .filter(|u| {
                !self.recent.contains_key(*u)
                    && (self.older.is_empty() || !self.older.contains_key(*u))
            })
            .filter(|u| seen.insert(*u))
            .map(str::to_owned)
            .collect()
    }

    /// Adds a unit's stored record.
    pub(crate) fn load(&mut self, unit_id: String, record: &[u8]) -> Result<(), Corrupt> {
        let state = decode(&mut self.names, record)?;
        self.recent.insert(unit_id, state);
        Ok(())
    }

    /// Applies `batches` in order to the states only: batches already in the rollups, applied
    /// after the records' checkpoint. Their units must have been loaded.
    pub(crate) fn replay(&mut self, batches: &[Vec<Event>], window_ms: i64) {
        self.apply(batches, window_ms);
    }

    /// Applies `batches` in order with core's rules, attributing within `window_ms`; every
    /// unit with a stored record must have been loaded.
    pub(crate) fn round(&mut self, batches: &[Vec<Event>], window_ms: i64) -> RoundRows {
        let round = self.apply(batches, window_ms);
        let names = &self.names;
        let text = |id: u32| names.name(id).to_owned();
        let mut experiments = BTreeSet::new();
        let mut changed = |id: u32| {
            if !experiments.contains(segments::experiment_of(names.name(id))) {
                experiments.insert(segments::experiment_of(names.name(id)).to_owned());
            }
        };
        // A segment's first rows are its first exposure's.
        let known = self.subjects.get_or_insert_with(HashSet::new);
        let mut subjects = Vec::new();
        for &(e, _, _) in round.exposures.keys() {
            if !known.contains(&e) {
                if let Some((experiment, dimension, value)) = segments::parse_subject(names.name(e))
                {
                    known.insert(e);
                    subjects.push((
                        experiment.to_owned(),
                        dimension.to_owned(),
                        value.to_owned(),
                    ));
                }
            }
        }
        let exposures = round
            .exposures
            .into_iter()
            .map(|((e, v, m), n)| {
                changed(e);
                ((text(e), text(v), m), n)
            })
            .collect();
        let metrics = round
            .metrics
            .into_iter()
            .map(|((e, v, k, m), r)| {
                changed(e);
                ((text(e), text(v), text(k), m), r)
            })
            .collect();
        let sketches = round
            .sketches
            .into_iter()
            .filter(|(_, n)| *n != 0)
            .map(|((e, v, k, h, b), n)| ((text(e), text(v), text(k), h, b), n))
            .collect();
        let first_exposures = round
            .first_exposures
            .into_iter()
            .map(|f| {
                (
                    text(f.exposure.experiment),
                    f.unit_id,
                    text(f.exposure.variant),
                    f.exposure.first_ms,
                )
            })
            .collect();
        self.unchecked.extend(experiments.iter().cloned());
        RoundRows {
            first_exposures,
            exposures,
            metrics,
            sketches,
            backfill: super::backfill::Writes::default(),
            experiments,
            subjects,
        }
    }

    /// The experiments changed since the last checkpoint, for a transaction that writes one:
    /// their live results are recomputed once the units' records are current.
    pub(crate) fn take_unchecked(&mut self) -> BTreeSet<String> {
        std::mem::take(&mut self.unchecked)
    }

    /// Applies `batches` to the states, noting the units it dirties.
    fn apply(&mut self, batches: &[Vec<Event>], window_ms: i64) -> Round {
        if !self.older.is_empty() {
            for e in batches.iter().flatten() {
                if let Some(state) = self.older.remove(&e.unit_id) {
                    self.recent.insert(e.unit_id.clone(), state);
                }
            }
        }
        let mut round = Round::default();
        let program = Arc::clone(&self.program);
        let bound = Bound::new(&program, &mut self.names);
        for batch in batches {
            round.apply_with(
                &bound,
                &mut self.book,
                &mut self.names,
                &mut self.recent,
                batch,
                window_ms,
            );
        }
        self.dirty.append(&mut round.changed);
        round
    }

    /// Takes a recomputation's unit values (`super::backfill`) into the states: each of its
    /// units' figures of the recomputed pairs and histories of their metrics replace the
    /// cached ones (the units must have been loaded); the units become dirty.
    pub(crate) fn absorb(&mut self, recomputed: &super::backfill::Recomputed) {
        let pairs: Vec<(u32, u32)> = recomputed
            .pairs
            .iter()
            .map(|(e, m)| (self.names.id(e), self.names.id(m)))
            .collect();
        // A segment's figures belong to its experiment's pairs.
        let parents: HashMap<u32, u32> = self
            .subjects_known()
            .into_iter()
            .map(|s| {
                let parent = segments::experiment_of(self.names.name(s)).to_owned();
                (s, self.names.id(&parent))
            })
            .collect();
        let in_pairs = |experiment: u32, metric: u32| {
            let e = parents.get(&experiment).copied().unwrap_or(experiment);
            pairs.contains(&(e, metric))
        };
        let metrics: Vec<u32> = pairs.iter().map(|(_, m)| *m).collect();
        for (unit, values) in &recomputed.units {
            let mut totals = Vec::with_capacity(values.totals.len());
            for (e, m, events, total, covariate) in &values.totals {
                totals.push(UnitTotal {
                    experiment: self.names.id(e),
                    metric: self.names.id(m),
                    events: *events,
                    total: *total,
                    covariate: *covariate,
                });
            }
            let history: Vec<(u32, f64)> = values
                .history
                .iter()
                .map(|(m, x)| (self.names.id(m), *x))
                .collect();
            let state = self.recent.entry(unit.clone()).or_default();
            state.totals.retain(|t| !in_pairs(t.experiment, t.metric));
            state.totals.extend(totals);
            state.history.retain(|(m, _)| !metrics.contains(m));
            state.history.extend(history);
            if !state.changed {
                state.changed = true;
                self.dirty.push(unit.clone());
            }
        }
    }

    /// Whether this transaction should take a checkpoint: it found the queue `idle` (empty,
    /// nothing to apply), or enough units or time have gone by since the last one (and some
    /// unit is dirty). Not on every round that empties the queue: under a steady load most do.
    pub(crate) fn checkpoint_due(&self, idle: bool) -> bool {
        !self.dirty.is_empty()
            && (idle
                || self.dirty.len() >= DIRTY_UNITS
                || self.checkpointed_at.elapsed() >= CHECKPOINT_EVERY)
    }

    /// The records of the dirty units, for a checkpoint.
    pub(crate) fn dirty_records(&self) -> Vec<(&str, Vec<u8>)> {
        self.dirty
            .iter()
            .filter_map(|u| Some((u.as_str(), encode(&self.names, self.recent.get(u)?))))
            .collect()
    }

    /// The transaction committed, making the rollups `version` (and, when `checkpointed`,
    /// writing every dirty unit): the cache is true at it. After a checkpoint, when it holds
    /// too many units, the older half is dropped.
    pub(crate) fn committed(&mut self, version: u64, checkpointed: bool) {
        self.version = Some(version);
        if !checkpointed {
            return;
        }
        for unit in std::mem::take(&mut self.dirty) {
            if let Some(state) = self.recent.get_mut(&unit) {
                state.changed = false;
            }
        }
        self.checkpointed_at = Instant::now();
        if self.recent.len() >= CACHED_UNITS / 2 {
            self.older = std::mem::take(&mut self.recent);
        }
    }
}

/// A round's batches from the oldest queued ones (`sql::ROLLUP_QUEUE`'s rows: batch number
/// and events, unknown for batches queued before migration 8): in order, while they add up to
/// at most `max_events` events, and always the first one, whatever its size.
pub(crate) fn round_batches(
    queued: impl IntoIterator<Item = (i64, Option<i64>)>,
    max_events: u64,
) -> Vec<i64> {
    let mut taken = Vec::new();
    let mut events = 0u64;
    for (batch, n) in queued {
        events += n.map_or(1, |n| n.max(0) as u64);
        if !taken.is_empty() && events > max_events {
            break;
        }
        taken.push(batch);
    }
    taken
}

/// Writes a unit's record.
pub(crate) fn encode(names: &Names, state: &UnitState) -> Vec<u8> {
    let mut table: Vec<u32> = Vec::new();
    let mut index = |id: u32| -> u32 {
        match table.iter().position(|&t| t == id) {
            Some(i) => i as u32,
            None => {
                table.push(id);
                (table.len() - 1) as u32
            }
        }
    };
    let mut body = Vec::with_capacity(16 + state.totals.len() * 32 + state.exposures.len() * 16);
    body.extend((state.exposures.len() as u32).to_le_bytes());
    for x in &state.exposures {
        body.extend(index(x.experiment).to_le_bytes());
        body.extend(index(x.variant).to_le_bytes());
        body.extend(x.first_ms.to_le_bytes());
    }
    body.extend((state.totals.len() as u32).to_le_bytes());
    for t in &state.totals {
        body.extend(index(t.experiment).to_le_bytes());
        body.extend(index(t.metric).to_le_bytes());
        body.extend(t.events.to_le_bytes());
        body.extend(t.total.to_le_bytes());
        body.extend(t.covariate.to_le_bytes());
    }
    body.extend((state.history.len() as u32).to_le_bytes());
    for &(metric, total) in &state.history {
        body.extend(index(metric).to_le_bytes());
        body.extend(total.to_le_bytes());
    }
    let mut out = Vec::with_capacity(body.len() + 5 + table.len() * 12);
    out.push(1);
    out.extend((table.len() as u32).to_le_bytes());
    for &id in &table {
        let name = names.name(id).as_bytes();
        out.extend((name.len() as u32).to_le_bytes());
        out.extend(name);
    }
    out.extend(body);
    out
}

/// A record being read.
struct Reader<'a>(ByteReader<'a>);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Corrupt> {
        self.0.take(n).ok_or(Corrupt("it ends early"))
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Corrupt> {
        self.0.array().ok_or(Corrupt("it ends early"))
    }

    fn u32(&mut self) -> Result<u32, Corrupt> {
        self.array().map(u32::from_le_bytes)
    }

    fn u64(&mut self) -> Result<u64, Corrupt> {
        self.array().map(u64::from_le_bytes)
    }

    fn i64(&mut self) -> Result<i64, Corrupt> {
        self.array().map(i64::from_le_bytes)
    }

    fn f64(&mut self) -> Result<f64, Corrupt> {
        self.array().map(f64::from_le_bytes)
    }

    /// A count of items of at least `size` bytes each, checked against what is left.
    fn count(&mut self, size: usize) -> Result<usize, Corrupt> {
        let n = self.u32()? as usize;
        if n.saturating_mul(size) > self.0.left() {
            return Err(Corrupt("a count exceeds the record"));
        }
        Ok(n)
    }

    /// A name, by its index in `table`.
    fn name(&mut self, table: &[u32]) -> Result<u32, Corrupt> {
        let i = self.u32()? as usize;
        table
            .get(i)
            .copied()
            .ok_or(Corrupt("a name index is out of range"))
    }
}

/// Reads a unit's record, interning its names in `names`.
pub(crate) fn decode(names: &mut Names, record: &[u8]) -> Result<UnitState, Corrupt> {
    let mut r = Reader(ByteReader::new(record));
    if r.take(1)? != [1] {
        return Err(Corrupt("unknown version"));
    }
    let n = r.count(4)?;
    let mut table = Vec::with_capacity(n);
    for _ in 0..n {
        let len = r.u32()? as usize;
        let text = std::str::from_utf8(r.take(len)?).map_err(|_| Corrupt("a name is not UTF-8"))?;
        table.push(names.id(text));
    }
    let mut state = UnitState::default();
    for _ in 0..r.count(16)? {
        let experiment = r.name(&table)?;
        let mut exposure = UnitExposure::new(experiment, r.name(&table)?, r.i64()?);
        // A segment's subject names its experiment.
        if let Some((parent, _, _)) = segments::parse_subject(names.name(experiment)) {
            let parent = parent.to_owned();
            exposure.parent = names.id(&parent);
        }
        state.exposures.push(exposure);
    }
    for _ in 0..r.count(32)? {
        state.totals.push(UnitTotal {
            experiment: r.name(&table)?,
            metric: r.name(&table)?,
            events: r.u64()?,
            total: r.f64()?,
            covariate: r.f64()?,
        });
    }
    for _ in 0..r.count(12)? {
        state.history.push((r.name(&table)?, r.f64()?));
    }
    if r.0.left() > 0 {
        return Err(Corrupt("bytes follow its end"));
    }
    Ok(state)
}

/// A unit's attributed events and total of `metric` in `experiment`, from its record (none:
/// no record, or none attributed).
pub(crate) fn total_of(
    record: Option<&[u8]>,
    experiment: &str,
    metric: &str,
) -> Result<(u64, f64), Corrupt> {
    Ok(metrics_in(record, experiment, Some(metric))?
        .pop()
        .map_or((0, 0.0), |t| (t.events, t.total)))
}

/// Every figure of a unit's stored record (`None`: no record) in `experiment`: per metric, its
/// events, total and covariate.
pub(crate) fn metrics_in(
    record: Option<&[u8]>,
    experiment: &str,
    only: Option<&str>,
) -> Result<Vec<super::UnitMetric>, Corrupt> {
    let Some(record) = record else {
        return Ok(Vec::new());
    };
    // Read in place: the record's own name table, no interning (exports and percentile caps
    // read every unit of an experiment).
    let mut r = Reader(ByteReader::new(record));
    if r.take(1)? != [1] {
        return Err(Corrupt("unknown version"));
    }
    let n = r.count(4)?;
    let mut table = Vec::with_capacity(n);
    for _ in 0..n {
        let len = r.u32()? as usize;
        table.push(std::str::from_utf8(r.take(len)?).map_err(|_| Corrupt("a name is not UTF-8"))?);
    }
    let Some(e) = table.iter().position(|t| *t == experiment) else {
        return Ok(Vec::new());
    };
    let wanted = only.map(|m| table.iter().position(|t| *t == m));
    if wanted == Some(None) {
        return Ok(Vec::new());
    }
    let exposures = r.count(16)?;
    r.take(exposures * 16)?;
    let mut out = Vec::new();
    for _ in 0..r.count(32)? {
        let (experiment, metric) = (r.u32()? as usize, r.u32()? as usize);
        let (events, total, covariate) = (r.u64()?, r.f64()?, r.f64()?);
        if experiment == e && wanted.is_none_or(|w| w == Some(metric)) {
            let metric = table
                .get(metric)
                .ok_or(Corrupt("a name index is out of range"))?;
            out.push(super::UnitMetric {
                metric: (*metric).to_owned(),
                events,
                total,
                covariate,
            });
        }
    }
    Ok(out)
}

/// Units' values of percentile-capped metrics (`EventStore::experiment_metric_values`), kept
/// per (experiment, metric) with where the unit records stood when read: results asked for
/// again before the next round or checkpoint read no unit record. At most `VALUE_CACHE`
/// entries.
#[derive(Clone, Default)]
pub(crate) struct ValueCache(std::sync::Arc<std::sync::Mutex<HashMap<(String, String), Kept>>>);

/// Where the unit records stand (`sql::RECORDS_VERSION`): the rollups' version and the
/// batches applied since the last checkpoint.
pub(crate) type RecordsVersion = (i64, i64);

/// What a [`ValueCache`] keeps of one metric: where the records stood, and the values.
type Kept = (RecordsVersion, Arc<Vec<litmus_core::results::UnitValue>>);

/// The most (experiment, metric) values a [`ValueCache`] keeps.
const VALUE_CACHE: usize = 32;

impl ValueCache {
    /// The values of `metric` in `experiment` read at `version`, if kept.
    pub(crate) fn get(
        &self,
        experiment: &str,
        metric: &str,
        version: RecordsVersion,
    ) -> Option<Arc<Vec<litmus_core::results::UnitValue>>> {
        let map = super::lock(&self.0);
        map.get(&(experiment.to_owned(), metric.to_owned()))
            .filter(|(v, _)| *v == version)
            .map(|(_, values)| Arc::clone(values))
    }

    /// Keeps `values` as read at `version` (older entries go when full).
    pub(crate) fn put(
        &self,
        experiment: &str,
        metric: &str,
        version: RecordsVersion,
        values: Arc<Vec<litmus_core::results::UnitValue>>,
    ) {
        let mut map = super::lock(&self.0);
        if map.len() >= VALUE_CACHE {
            map.retain(|_, (v, _)| *v >= version);
            if map.len() >= VALUE_CACHE {
                map.clear();
            }
        }
        map.insert(
            (experiment.to_owned(), metric.to_owned()),
            (version, values),
        );
    }
}

/// A unit's value of one metric in one experiment from its record, as a percentile cap reads
/// it (`variant` and `first_ms` from its exposure).
pub(crate) fn unit_value(
    record: Option<&[u8]>,
    experiment: &str,
    metric: &str,
    variant: String,
    first_ms: i64,
) -> Result<litmus_core::results::UnitValue, Corrupt> {
    let figure = metrics_in(record, experiment, Some(metric))?.pop();
    Ok(litmus_core::results::UnitValue {
        variant,
        first_ms,
        events: figure.as_ref().map_or(0, |f| f.events),
        total: figure.as_ref().map_or(0.0, |f| f.total),
        covariate: figure.as_ref().map_or(0.0, |f| f.covariate),
    })
}

/// Every row of the per-unit tables before migration 9 (exposures, unit_totals, covariates,
/// unit_history) in one shape: unit, table (0 to 3), experiment, name (variant or metric),
/// an integer (first ms or events) and a number (total or covariate).
pub(crate) const LEGACY_ROWS: &str = "
    SELECT unit_id, 0, experiment, variant, first_ms, CAST(0 AS DOUBLE PRECISION) FROM exposures
    UNION ALL SELECT unit_id, 1, experiment, metric, events, total FROM unit_totals
    UNION ALL SELECT unit_id, 2, experiment, metric, CAST(0 AS BIGINT), x FROM covariates
    UNION ALL SELECT unit_id, 3, '', metric, CAST(0 AS BIGINT), total FROM unit_history";

/// The legacy rows ([`LEGACY_ROWS`]) gathered per unit, to become records.
#[derive(Default)]
pub(crate) struct Legacy {
    units: std::collections::BTreeMap<String, LegacyUnit>,
}

impl Legacy {
    /// Adds one row of [`LEGACY_ROWS`].
    pub(crate) fn add(
        &mut self,
        unit: String,
        table: i32,
        experiment: String,
        name: String,
        n: i64,
        x: f64,
    ) {
        let u = self.units.entry(unit).or_default();
        match table {
            0 => u.exposures.push((experiment, name, n)),
            1 => u.totals.push((experiment, name, n, x)),
            2 => u.covariates.push((experiment, name, x)),
            _ => u.history.push((name, x)),
        }
    }

    /// Each unit and its record.
    pub(crate) fn records(&self) -> Vec<(&str, Vec<u8>)> {
        self.units
            .iter()
            .map(|(unit, rows)| (unit.as_str(), from_legacy(rows)))
            .collect()
    }
}

/// The rows of the tables before migration 9, one unit's each.
#[derive(Default)]
pub(crate) struct LegacyUnit {
    /// Exposures: (experiment, variant, first ms).
    pub(crate) exposures: Vec<(String, String, i64)>,
    /// Totals: (experiment, metric, events, total).
    pub(crate) totals: Vec<(String, String, i64, f64)>,
    /// Covariates: (experiment, metric, x).
    pub(crate) covariates: Vec<(String, String, f64)>,
    /// History: (metric, total).
    pub(crate) history: Vec<(String, f64)>,
}

/// A unit's record from the tables before migration 9 (exposures, unit_totals, covariates,
/// unit_history).
pub(crate) fn from_legacy(unit: &LegacyUnit) -> Vec<u8> {
    let mut names = Names::default();
    let mut state = UnitState::default();
    for (experiment, variant, first_ms) in &unit.exposures {
        let experiment = names.id(experiment);
        state
            .exposures
            .push(UnitExposure::new(experiment, names.id(variant), *first_ms));
    }
    // Keyed by (experiment, metric), in the order first met.
    let mut totals: Vec<UnitTotal> = Vec::new();
    let mut at: HashMap<(u32, u32), usize> = HashMap::new();
    let mut entry = |names: &mut Names, experiment: &str, metric: &str| {
        let key = (names.id(experiment), names.id(metric));
        *at.entry(key).or_insert_with(|| {
            totals.push(UnitTotal {
                experiment: key.0,
                metric: key.1,
                events: 0,
                total: 0.0,
                covariate: 0.0,
            });
            totals.len() - 1
        })
    };
    let counted: Vec<(usize, u64, f64)> = unit
        .totals
        .iter()
        .map(|(e, m, events, total)| {
            let i = entry(&mut names, e, m);
            (i, u64::try_from(*events).unwrap_or(0), *total)
        })
        .collect();
    let covariates: Vec<(usize, f64)> = unit
        .covariates
        .iter()
        .map(|(e, m, x)| (entry(&mut names, e, m), *x))
        .collect();
    for (i, events, total) in counted {
        if let Some(t) = totals.get_mut(i) {
            t.events = events;
            t.total = total;
        }
    }
    for (i, x) in covariates {
        if let Some(t) = totals.get_mut(i) {
            t.covariate = x;
        }
    }
    state.totals = totals;
    for (metric, total) in &unit.history {
        state.history.push((names.id(metric), *total));
    }
    encode(&names, &state)
}

/// What both stores' migration tests share: rows in the tables before migration 9, and what
/// the rollups must do with them afterwards.
#[cfg(test)]
pub(crate) mod legacy_fixture {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use crate::store::{EventBatch, EventStore};
    use litmus_core::Timestamp;
    use litmus_core::events::{Event, EventKind};

    /// Rows of every per-unit table, for units u1 (exposed, with totals, a covariate and
    /// history), u2 (exposed only) and u3 (history only).
    pub(crate) const ROWS: &str =
        "INSERT INTO exposures VALUES ('e', 'u1', 'b', 60000), ('e', 'u2', 'a', 60000);
         INSERT INTO unit_totals VALUES ('e', 'buy', 'u1', 3, 2.5);
         INSERT INTO covariates VALUES ('e', 'buy', 'u1', 4.0);
         INSERT INTO unit_history VALUES ('u1', 'buy', 6.5), ('u3', 'buy', 1.0);";

    fn track(id: &str, unit: &str, value: f64, ms: i64) -> Event {
        Event {
            message_id: id.into(),
            unit_id: unit.into(),
            time: Timestamp::from_unix_millis(ms),
            client_time: Some(Timestamp::from_unix_millis(ms)),
            kind: EventKind::Track {
                event: "buy".into(),
                value,
                properties: None,
            },
        }
    }

    /// After migration 9, `store` (which had [`ROWS`]) keeps every unit's state: the rollups
    /// go on from the totals, covariates and history it had.
    pub(crate) async fn units_carry_on(store: &impl EventStore) {
        let units = store.experiment_units("e", "buy", 10).await.unwrap();
        let figures: Vec<_> = units
            .iter()
            .map(|u| (u.variant.as_str(), u.events, u.total))
            .collect();
        assert!(figures.contains(&("b", 3, 2.5)) && figures.contains(&("a", 0, 0.0)));
        let events = vec![
            track("m1", "u1", 1.0, 120_000),
            track("m2", "u2", 2.0, 120_000),
        ];
        store
            .ingest(EventBatch {
                events,
                received_ms: 0,
            })
            .await
            .unwrap();
        assert_eq!(store.apply_rollups(i64::MAX, 10).await.unwrap().batches, 1);
        let tables = store.rollups().await.unwrap();
        let key = |v: &str| ("e".to_owned(), v.to_owned(), "buy".to_owned(), 120_000);
        let b = tables.metrics[&key("b")];
        // u1 had 3 events totalling 2.5 and covariate 4: no new unit, (3.5² − 2.5²), 4 × 1.
        assert_eq!((b.events, b.units, b.sum), (1, 0, 1.0));
        assert_eq!((b.sum_squares, b.cross), (6.0, 4.0));
        let a = tables.metrics[&key("a")];
        assert_eq!(
            (a.events, a.units, a.sum_squares, a.cross),
            (1, 1, 4.0, 0.0)
        );
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn state(names: &mut Names) -> UnitState {
        UnitState {
            exposures: vec![UnitExposure::new(names.id("checkout"), names.id("b"), -7)],
            totals: vec![UnitTotal {
                experiment: names.id("checkout"),
                metric: names.id("buy"),
                events: 3,
                total: 2.5,
                covariate: -1.0,
            }],
            history: vec![(names.id("buy"), 4.5), (names.id("view"), 1.0)],
            changed: false,
        }
    }

    #[test]
    fn a_round_takes_batches_up_to_its_events_and_always_the_first() {
        let queued = [(4, Some(30)), (5, None), (7, Some(60)), (8, Some(1))];
        // 30 + 1 (unknown counts as one) + 60 + 1 events.
        assert_eq!(round_batches(queued, 92), vec![4, 5, 7, 8]);
        assert_eq!(round_batches(queued, 91), vec![4, 5, 7]);
        assert_eq!(round_batches(queued, 90), vec![4, 5]);
        assert_eq!(round_batches([(9, Some(500)), (10, Some(1))], 100), vec![9]);
        assert_eq!(round_batches([], 100), Vec::<i64>::new());
    }

    #[test]
    fn a_record_reads_back_as_written() {
        let mut names = Names::default();
        let mut s = state(&mut names);
        // A segment's subject reads back with its experiment.
        s.exposures.push(UnitExposure {
            parent: names.id("checkout"),
            ..UnitExposure::new(names.id("checkout#country=FR"), names.id("b"), -7)
        });
        let record = encode(&names, &s);
        let mut other = Names::default();
        other.id("unrelated");
        let back = decode(&mut other, &record).unwrap();
        assert_eq!(encode(&other, &back), record);
        assert_eq!(other.name(back.exposures[1].parent), "checkout");
        assert!(back.exposures[1].is_segment() && !back.exposures[0].is_segment());
        assert_eq!(other.name(back.totals[0].metric), "buy");
        assert_eq!(
            total_of(Some(&record), "checkout", "buy").unwrap(),
            (3, 2.5)
        );
        assert_eq!(
            total_of(Some(&record), "checkout", "view").unwrap(),
            (0, 0.0)
        );
        assert_eq!(total_of(None, "checkout", "buy").unwrap(), (0, 0.0));
        // Read in place, an experiment's figures.
        let figures = metrics_in(Some(&record), "checkout", None).unwrap();
        assert_eq!(
            metrics_in(Some(&record), "checkout", Some("buy")).unwrap(),
            figures
        );
        assert!(
            metrics_in(Some(&record), "checkout", Some("view"))
                .unwrap()
                .is_empty()
        );
        assert_eq!(figures.len(), 1);
        assert_eq!(
            (
                figures[0].metric.as_str(),
                figures[0].events,
                figures[0].total,
                figures[0].covariate
            ),
            ("buy", 3, 2.5, -1.0)
        );
        assert!(metrics_in(Some(&record), "other", None).unwrap().is_empty());
        assert!(metrics_in(None, "checkout", None).unwrap().is_empty());
        for cut in 1..record.len() {
            // Never a panic on a damaged record (an error, or figures of what is there).
            let _ = metrics_in(Some(&record[..cut]), "checkout", None);
        }
    }

    #[test]
    fn a_damaged_record_is_an_error_not_a_panic() {
        let mut names = Names::default();
        let s = state(&mut names);
        let record = encode(&names, &s);
        for cut in 0..record.len() {
            assert!(decode(&mut Names::default(), &record[..cut]).is_err());
        }
        let mut longer = record.clone();
        longer.push(0);
        assert!(decode(&mut Names::default(), &longer).is_err());
        let mut huge = record;
        huge[1..5].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode(&mut Names::default(), &huge).is_err());
    }

    #[test]
    fn legacy_rows_become_the_same_record() {
        let mut names = Names::default();
        let s = state(&mut names);
        let legacy = LegacyUnit {
            exposures: vec![("checkout".into(), "b".into(), -7)],
            totals: vec![("checkout".into(), "buy".into(), 3, 2.5)],
            covariates: vec![("checkout".into(), "buy".into(), -1.0)],
            history: vec![("buy".into(), 4.5), ("view".into(), 1.0)],
        };
        let back = decode(&mut names, &from_legacy(&legacy)).unwrap();
        assert_eq!(back, s);
    }
}
