//! In-process engine benchmarks.
//!
//! `cargo bench --bench engine` runs everything; filter with a group name:
//! - `check/standard`, `check/large`: one check (references resolved, windows and
//!   status checked) over a fixed query mix; the large dataset takes a while to build;
//! - `lookup/...`: one page of LookupNodes and LookupIdentities on the large dataset,
//!   first, middle and last of the listing;
//! - `cells/...`: the three ways of sharing an index, on one thread, on two threads,
//!   and on two threads while a writer applies about 20,000 changes a second, over
//!   64 cache-resident queries so that the cost of entering a read stands out.
//!
//! Each `check/<dataset>` is also timed by the thread's CPU clock (`check/<dataset>-cpu`),
//! which leaves out time spent waiting for a core on a loaded machine. Queries
//! cycle through all 100,000 generated ones, so the index is not cache-resident.
//! `ENGINE_PROBE_CHECKS=n` runs `n` checks instead, for valgrind (see `probe_checks`).
//!
//! Index memory is measured with a counting allocator and printed as bytes per
//! assignment, with the build time.
#![allow(
    unsafe_code,
    reason = "a counting GlobalAlloc and the thread CPU clock are unsafe by their nature"
)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
#[path = "engine/cpu_clock.rs"]
mod cpu_clock;
#[path = "engine/lookup.rs"]
mod lookup;
use rbacd::domain::change::{Change, Event};
use rbacd::domain::{Assignment, AssignmentId, EnvironmentId, Snapshot};
use rbacd::engine::{Engine, IndexCell, ShardedIndex};
use rbacd_dataset::cells::{DoubleBufferedIndex, LockedIndex};
use rbacd_dataset::{self as dataset, CheckQuery, DatasetSpec};

struct Counting;

static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE_BYTES.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live_bytes() -> isize {
    LIVE_BYTES.load(Ordering::Relaxed)
}

/// Builds the engine from a copy of `snapshot`, printing build time and index size.
fn build<C: IndexCell>(label: &str, snapshot: &Snapshot) -> Engine<C> {
    let assignments: usize = snapshot
        .environments
        .iter()
        .map(|(_, s)| s.assignments.len())
        .sum();
    let before = live_bytes();
    let copy = snapshot.clone();
    let started = Instant::now();
    let engine = Engine::<C>::from_snapshot(copy);
    let elapsed = started.elapsed();
    // The copy was consumed and freed: what remains since `before` is the index.
    let measured = (live_bytes() - before).max(0) as f64;
    println!(
        "{label}: built in {elapsed:.2?}; index {:.1} MiB = {:.1} bytes/assignment measured, {:.1} estimated ({} assignments)",
        measured / 1048576.0,
        measured / assignments as f64,
        engine.heap_bytes() as f64 / assignments as f64,
        assignments,
    );
    engine
}

fn checks<C: IndexCell>(
    engine: &Engine<C>,
    env: EnvironmentId,
    queries: &[CheckQuery],
    from: usize,
    count: usize,
) -> usize {
    let mut allowed = 0;
    let mut next = from % queries.len();
    for _ in 0..count {
        let q = &queries[next];
        next += 1;
        if next == queries.len() {
            next = 0;
        }
        let d = engine.check(env, &q.identity, &q.permission, &q.node, q.at);
        allowed += usize::from(black_box(d).allowed);
    }
    allowed
}

fn bench_check(c: &mut Criterion, name: &str, spec: DatasetSpec) {
    let started = Instant::now();
    let (snapshot, queries) = dataset::generate(spec, 100_000).into_snapshot();
    println!("{name}: dataset generated in {:.2?}", started.elapsed());
    let env = snapshot.environments[0].0.id;
    let engine: Engine = build(name, &snapshot);
    drop(snapshot);
    let allowed = checks(&engine, env, &queries, 0, queries.len());
    println!("{name}: {allowed} of {} queries allowed", queries.len());
    if let Some(count) = probe_checks() {
        let started = Instant::now();
        let allowed = checks(&engine, env, &queries, 0, count);
        println!(
            "{name}: probe of {count} checks ({allowed} allowed) in {:.2?}",
            started.elapsed()
        );
        return;
    }
    let mut next = 0usize;
    c.bench_function(&format!("check/{name}"), |b| {
        b.iter(|| {
            let q = &queries[next];
            // A compare, not `%`: a division per iteration would be counted as the engine's.
            next += 1;
            if next == queries.len() {
                next = 0;
            }
            engine.check(env, &q.identity, &q.permission, &q.node, q.at)
        })
    });
    // The same loop timed by this thread's CPU clock: on a shared machine, wall time
    // also counts the time other processes held the core.
    let mut from = 0usize;
    c.bench_function(&format!("check/{name}-cpu"), |b| {
        b.iter_custom(|iters| {
            let started = cpu_clock::thread_cpu_time();
            checks(&engine, env, &queries, from, iters as usize);
            from = (from + iters as usize) % queries.len();
            cpu_clock::thread_cpu_time() - started
        })
    });
}

/// `ENGINE_PROBE_CHECKS=n`: instead of benchmarking, run `n` checks of the query mix
/// and stop, for instruction and cache-miss counts under valgrind (run with n and
/// with 0; the difference over n is per check).
fn probe_checks() -> Option<usize> {
    std::env::var("ENGINE_PROBE_CHECKS").ok()?.parse().ok()
}

fn check_standard(c: &mut Criterion) {
    bench_check(c, "standard", DatasetSpec::STANDARD);
}

fn check_large(c: &mut Criterion) {
    if !c_filter_matches("check/large") {
        return;
    }
    bench_check(c, "large", DatasetSpec::LARGE);
}

fn lookups(c: &mut Criterion) {
    if !c_filter_matches("lookup/") {
        return;
    }
    let (snapshot, _) = dataset::generate(DatasetSpec::LARGE, 1).into_snapshot();
    let engine: Engine = build("large", &snapshot);
    lookup::bench(c, &snapshot, &engine);
}

/// Skips building the large dataset when a command-line filter excludes it.
fn c_filter_matches(name: &str) -> bool {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()))
}

/// A writer alternately creating and deleting one assignment, about every 100 µs.
fn writer<C: IndexCell>(engine: &Engine<C>, snapshot: &Snapshot, stop: &AtomicBool) -> u64 {
    let (environment, state) = &snapshot.environments[0];
    let template = &state.assignments[0];
    let mut revision = engine.applied_revision();
    let mut writes = 0;
    while !stop.load(Ordering::Relaxed) {
        let id = AssignmentId::generate();
        let assignment = Assignment {
            id,
            node_id: state.nodes[1].id,
            ..template.clone()
        };
        for event in [
            Event::AssignmentCreated(assignment),
            Event::AssignmentDeleted(id),
        ] {
            revision += 1;
            engine.apply(&Change {
                revision,
                environment_id: environment.id,
                at: dataset::NOW,
                actor: None,
                action: "Bench".into(),
                before: None,
                event,
                signed_by: None,
            });
            writes += 1;
        }
        std::thread::sleep(Duration::from_micros(100));
    }
    writes
}

fn bench_cell<C: IndexCell>(
    c: &mut Criterion,
    name: &str,
    snapshot: &Snapshot,
    queries: &[CheckQuery],
) {
    let env = snapshot.environments[0].0.id;
    let engine: Engine<C> = build(&format!("cells/{name}"), snapshot);
    let mut group = c.benchmark_group("cells");
    let mut next = 0usize;
    group.bench_function(format!("{name}/1-thread"), |b| {
        b.iter(|| {
            let q = &queries[next % queries.len()];
            next = next.wrapping_add(1);
            engine.check(env, &q.identity, &q.permission, &q.node, q.at)
        })
    });
    // Wall time of `iters` checks on each of two threads: time per check per thread.
    group.bench_function(format!("{name}/2-threads"), |b| {
        b.iter_custom(|iters| {
            let started = Instant::now();
            std::thread::scope(|s| {
                for t in 0..2 {
                    let engine = &engine;
                    s.spawn(move || checks(engine, env, queries, t * 7919, iters as usize));
                }
            });
            started.elapsed()
        })
    });
    group.bench_function(format!("{name}/2-threads+writer"), |b| {
        b.iter_custom(|iters| {
            let stop = AtomicBool::new(false);
            let started = Instant::now();
            std::thread::scope(|s| {
                let writer = s.spawn(|| writer(&engine, snapshot, &stop));
                let readers: Vec<_> = (0..2)
                    .map(|t| {
                        let engine = &engine;
                        s.spawn(move || checks(engine, env, queries, t * 7919, iters as usize))
                    })
                    .collect();
                for reader in readers {
                    let _ = reader.join();
                }
                let elapsed = started.elapsed();
                stop.store(true, Ordering::Relaxed);
                let _ = writer.join();
                elapsed
            })
        })
    });
    group.finish();
}

fn cells(c: &mut Criterion) {
    if !c_filter_matches("cells/") {
        return;
    }
    let (snapshot, queries) = dataset::generate(DatasetSpec::STANDARD, 100_000).into_snapshot();
    // A small, cache-resident query set: what differs between the designs is the
    // cost of entering a read, which memory misses would otherwise drown.
    let hot = &queries[..64];
    bench_cell::<LockedIndex>(c, "rwlock", &snapshot, hot);
    bench_cell::<ShardedIndex>(c, "sharded", &snapshot, hot);
    bench_cell::<DoubleBufferedIndex>(c, "double-buffered", &snapshot, hot);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
    targets = check_standard, cells, check_large, lookups
}
criterion_main!(benches);
