//! Large documents: loading a 10,000-experiment document (a quarter targeted, a tenth in
//! layers, a twentieth with overrides: `litmus_benches::flag_document(0, 10_000)`), the
//! per-call cost of a plain and of a targeted assign in it against the same calls in a
//! 10-experiment document (the same shapes), and the memory the loaded engine holds per
//! experiment.
//!
//! `cargo bench -p litmus-benches --bench documents` runs the criterion groups, then prints
//! the load time (goal < 100 ms), the 10k/10 ratios (goal: flat) and the bytes per experiment
//! (counted by this bench's allocator: what the engine keeps allocated after the load).
#![allow(
    missing_docs,
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::{Criterion, criterion_group};
use litmus_benches::{N_USERS, flag_document, user_ids};
use litmus_core::{Attributes, Engine, NoAttributes};

const GROUP: &str = "documents";
const LARGE: usize = 10_000;

/// The system allocator, counting the bytes allocated and not yet freed.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the counter only
// observes sizes.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract is GlobalAlloc::alloc's, passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` above with this `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The bytes a loaded engine of `text` keeps allocated.
fn engine_bytes(text: &str) -> usize {
    let before = LIVE.load(Ordering::Relaxed);
    let engine = Engine::from_json(text).unwrap();
    let held = LIVE.load(Ordering::Relaxed).saturating_sub(before);
    drop(black_box(engine));
    held
}

fn benches(c: &mut Criterion) {
    let ids = user_ids();
    let small = Engine::from_json(&flag_document(0, 10)).unwrap();
    let large_text = flag_document(0, LARGE);
    let large = Engine::from_json(&large_text).unwrap();
    assert!(
        large.problems().is_empty(),
        "{:?}",
        large.problems().first()
    );
    let us = Attributes::new().with("country", "US");
    let mut g = c.benchmark_group(GROUP);
    let mut i = 0usize;
    for (name, engine) in [("10", &small), ("10k", &large)] {
        g.bench_function(format!("assign_plain_{name}_experiments"), |b| {
            b.iter(|| {
                i = (i + 1) & (N_USERS - 1);
                black_box(
                    engine
                        .assign(black_box("fx-0"), black_box(&ids[i]), &NoAttributes)
                        .variant_key(),
                )
            })
        });
        g.bench_function(format!("assign_targeted_{name}_experiments"), |b| {
            b.iter(|| {
                i = (i + 1) & (N_USERS - 1);
                black_box(
                    engine
                        .assign(black_box("fx-1"), black_box(&ids[i]), &us)
                        .variant_key(),
                )
            })
        });
    }
    g.finish();
    let mut g = c.benchmark_group(GROUP);
    g.sample_size(10);
    g.bench_function("load_10k_experiments", |b| {
        b.iter_custom(|iterations| litmus_benches::time_loads(iterations, &large_text))
    });
    g.finish();
}

criterion_group!(group, benches);

fn mean_ns(name: &str) -> Option<f64> {
    litmus_benches::criterion_mean_ns(GROUP, name)
}

fn main() {
    group();
    Criterion::default().configure_from_args().final_summary();
    let text = flag_document(0, LARGE);
    let bytes = engine_bytes(&text);
    println!("\ndocuments, this run:");
    println!(
        "  10k experiments: {:.1} MB of JSON, the engine holds {:.2} MB: {} bytes per experiment",
        text.len() as f64 / 1e6,
        bytes as f64 / 1e6,
        bytes / LARGE
    );
    if let Some(load) = mean_ns("load_10k_experiments") {
        println!(
            "  load 10k experiments              {:>8.2} ms (goal < 100 ms)",
            load / 1e6
        );
    }
    for kind in ["plain", "targeted"] {
        let (Some(small), Some(large)) = (
            mean_ns(&format!("assign_{kind}_10_experiments")),
            mean_ns(&format!("assign_{kind}_10k_experiments")),
        ) else {
            continue;
        };
        println!(
            "  assign {kind:<8} at 10 {small:>7.2} ns, at 10k {large:>7.2} ns: {:>5.2}x (goal: flat)",
            large / small
        );
    }
}
