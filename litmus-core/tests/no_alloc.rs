//! `assign` allocates nothing: a counting global allocator proves it for a plain experiment,
//! a targeted one, a multivariate one, a layered one with a holdout, and `assign_all`; and
//! so do flag evaluations, counted for the usage reports as the bindings count them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use litmus_core::{Attributes, Engine, NoAttributes};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Whether this thread's allocations count: only the measured loop's, so the test
    /// harness's other threads (output capture, a loaded machine's scheduling) cannot add any.
    static MEASURED: Cell<bool> = const { Cell::new(false) };
}

fn count() {
    if MEASURED.try_with(Cell::get).unwrap_or(false) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY-free wrapper: delegates to the system allocator and counts calls.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const CONFIG: &str = r#"{"schema_version": 1,
  "layers": [{"key": "l"}],
  "holdouts": [{"key": "h", "share": 0.05, "experiments": ["layered"]}],
  "experiments": [
    {"key": "plain", "status": "running", "variants": [{"key": "control"}, {"key": "treatment"}]},
    {"key": "targeted", "status": "running", "variants": [{"key": "control"}, {"key": "treatment"}],
     "targeting": {"all": [{"attribute": "country", "op": "in", "value": ["US", "CA"]},
                           {"attribute": "app", "op": "version_gte", "value": "2.1.0"}]}},
    {"key": "mv", "kind": "multivariate", "status": "running", "traffic": 0.5,
     "factors": [{"key": "color", "levels": [{"key": "red"}, {"key": "blue"}]},
                 {"key": "size", "levels": [{"key": "s"}, {"key": "m"}, {"key": "l"}]}]},
    {"key": "layered", "status": "running", "layer": {"key": "l", "range": [0, 0.5]},
     "overrides": {"qa-1": "b"}, "variants": [{"key": "a"}, {"key": "b"}]}
  ]}"#;

#[test]
fn assign_allocates_nothing() {
    let engine = Engine::from_json(CONFIG).expect("config");
    assert!(engine.problems().is_empty(), "{:?}", engine.problems());
    let attrs = Attributes::new().with("country", "US").with("app", "2.3.1");
    let units: Vec<String> = (0..10_000).map(|i| format!("user-{i}")).collect();
    let mut assigned = 0usize;
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    MEASURED.with(|m| m.set(true));
    for unit in &units {
        for key in ["plain", "targeted", "mv", "layered", "missing"] {
            assigned += usize::from(engine.assign(key, unit, &attrs).in_experiment());
        }
        assigned += engine
            .assign("plain", unit, &NoAttributes)
            .variant_key()
            .map_or(0, str::len);
        assigned += engine
            .assign_all(unit, &attrs)
            .filter(|a| a.in_experiment())
            .count();
    }
    MEASURED.with(|m| m.set(false));
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    assert!(assigned > 0);
    assert_eq!(
        after - before,
        0,
        "assign allocated {} times",
        after - before
    );
}

const FLAGS: &str = r#"{"schema_version": 1,
  "experiments": [{"key": "t", "status": "running", "traffic": 0.5,
                   "variants": [{"key": "a"}, {"key": "b"}]}],
  "flags": [
    {"key": "ramp", "type": "boolean", "default": false,
     "rules": [{"kind": "rollout", "percentage": 30, "value": true}]},
    {"key": "color", "type": "string", "default": "grey", "rules": [
      {"kind": "force", "condition": {"attribute": "country", "op": "in", "value": ["FR"]}, "value": "blue"},
      {"kind": "experiment", "experiment": "t", "values": {"a": "red", "b": "green"}},
      {"kind": "prerequisite", "flag": "ramp", "is": true, "value": "gold"}]},
    {"key": "later", "type": "number", "default": 1, "enabled": false,
     "schedule": [{"at": "2026-01-01T00:00:00Z", "enabled": true}]}
  ]}"#;

#[test]
fn evaluate_allocates_nothing() {
    let engine = Engine::from_json(FLAGS).expect("config");
    assert!(engine.problems().is_empty(), "{:?}", engine.problems());
    let attrs = Attributes::new().with("country", "US");
    let now = litmus_core::Timestamp::parse_rfc3339("2026-06-01T00:00:00Z");
    let units: Vec<String> = (0..10_000).map(|i| format!("user-{i}")).collect();
    // The bindings count each evaluation for the flag usage reports: no allocation either.
    let usage = litmus_core::sdk::FlagCounter::new(&engine);
    let mut served = 0usize;
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    MEASURED.with(|m| m.set(true));
    for unit in &units {
        for key in ["ramp", "color", "later", "missing"] {
            let r = engine.evaluate_at(key, unit, &attrs, now);
            usage.count_evaluation(&r);
            served += usize::from(r.value().is_some()) + r.outcome() as usize;
        }
        served += usize::from(engine.boolean_flag("ramp", unit, &NoAttributes, None, false));
        served += engine.string_flag("color", unit, &attrs, now, "x").len();
        served += engine
            .evaluate_all(unit, &attrs, now)
            .filter(|(_, r)| {
                usage.count_evaluation(r);
                r.assignment().is_some()
            })
            .count();
    }
    MEASURED.with(|m| m.set(false));
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    assert!(served > 0);
    // Each flag twice per unit (once alone, once in evaluate_all); "missing" is not counted.
    assert_eq!(
        usage.counts(false),
        [("ramp", 20_000), ("color", 20_000), ("later", 20_000)]
    );
    assert_eq!(
        after - before,
        0,
        "evaluate allocated {} times",
        after - before
    );
}
