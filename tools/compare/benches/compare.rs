//! rbacd beside Cedar (`cedar-policy`) and casbin, in one process, on the
//! standard dataset and the same query mix: answers compared, then timed.
//!
//! Run: `cargo bench -p rbacd-compare` (about a minute after the build; a
//! filter such as `-- compare/rbacd` times fewer, all are still compared). It
//! prints how long each encoding took to build, how many queries each agreed on
//! (it panics on the first disagreement), criterion's figures for
//! `compare/rbacd`, `compare/cedar-sliced`, `compare/cedar-merged`,
//! `compare/casbin-sliced` and `compare/cedar-all`, then the median ns per
//! check of each and its ratio to rbacd's.
//!
//! # What each does per call, and what is built beforehand
//!
//! Every competitor's call starts with what rbacd does inside its check: the
//! identity and node references (ids, keys, external ids, emails in any letter
//! case) are resolved by hash lookups ([`resolve::Resolver`]); an unknown one is a
//! deny without asking the competitor (the dataset's queries name none).
//! Windows are always evaluated at the query's `at`, and the identity's status is
//! read by the competitor on every call, never folded into its policies.
//!
//! - `rbacd`: `Engine::check`, the service's own path (references, ancestor walk,
//!   windows, status, exact and wildcard permissions).
//! - `cedar-merged` (Cedar's best here): nodes, users (with a `status`
//!   attribute) and role action groups are Cedar entities, built once, so that
//!   Cedar's transitive closure answers `resource in Node::"n"` for inheritance.
//!   Each identity has one policy, `principal == User::"u"`, whose `when` is
//!   the status check and then any of its assignments' conditions (node, role
//!   group or `like` for a wildcard, window on `context.now`; see [`in_cedar`]).
//!   Per call: build the action uid, the context (`now`, `permission`) and the
//!   request, and hand the authorizer only the asking identity's policy.
//! - `cedar-sliced`: the same, with one policy per assignment (about 2 per
//!   identity, the node and role group in the scope); Cedar's per-policy cost
//!   (each scope is turned into an expression, each result recorded) makes it
//!   slower than one merged policy.
//! - `casbin-sliced`: one enforcer per identity holding only that identity's
//!   lines, one per (assignment, pattern of its role), about 20 on average (see
//!   [`in_casbin`]). Per call: walk the node's ancestors into the request, and
//!   enforce; casbin evaluates its matcher on each of the identity's lines.
//! - `cedar-all`, for contrast: `cedar-sliced`'s policies and entities, all 20,000
//!   policies handed to the authorizer on every call, as a textbook deployment
//!   would; agreement and timing over the first [`ALL_SAMPLE`] queries only.
//!
//! A textbook casbin (every identity's lines, 200,000, in one enforcer) is left
//! out: at the 2 µs or so a line that `casbin-sliced` shows, a call would take
//! about 0.4 s.

#[path = "compare/in_casbin.rs"]
mod in_casbin;
#[path = "compare/in_cedar.rs"]
mod in_cedar;
#[path = "compare/resolve.rs"]
mod resolve;

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use criterion::Criterion;
use rbacd::engine::Engine;
use rbacd_dataset::{self as dataset, CheckQuery, DatasetSpec};

use in_casbin::Casbin;
use in_cedar::Cedar;
use resolve::Resolver;

/// Queries asked of every fast encoding, for agreement and timing.
const QUERIES: usize = 100_000;
/// Queries asked of `cedar-all`, which takes milliseconds per check.
const ALL_SAMPLE: usize = 100;

/// One way of answering a check.
type Check<'a> = &'a dyn Fn(&CheckQuery) -> bool;

/// Asks `check` every query and panics on the first answer that differs from rbacd's.
fn agree(
    name: &str,
    queries: &[CheckQuery],
    expected: &[bool],
    check: impl Fn(&CheckQuery) -> bool,
) {
    let started = Instant::now();
    let mut allowed = 0;
    for (i, (q, &want)) in queries.iter().zip(expected).enumerate() {
        let got = check(q);
        assert_eq!(
            got, want,
            "{name} disagrees with rbacd on query {i}: {q:?}: {name} says {got}, rbacd {want}"
        );
        allowed += usize::from(got);
    }
    println!(
        "{name}: {}/{} agree, {allowed} allowed ({:.2?})",
        queries.len(),
        queries.len(),
        started.elapsed()
    );
}

/// Where criterion writes its estimates: `$CARGO_TARGET_DIR`, else the target
/// directory this bench binary was built in (`<target>/release/deps/compare-…`).
fn criterion_dir() -> Option<PathBuf> {
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => std::env::current_exe()
            .ok()?
            .parent()?
            .parent()?
            .parent()?
            .to_owned(),
    };
    Some(target.join("criterion"))
}

/// Criterion's median ns per iteration of `compare/<name>`, if measured in this run.
fn median_ns(name: &str, since: SystemTime) -> Option<f64> {
    let path = criterion_dir()?
        .join("compare")
        .join(name)
        .join("new/estimates.json");
    if std::fs::metadata(&path).ok()?.modified().ok()? < since {
        return None;
    }
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    json["median"]["point_estimate"].as_f64()
}

fn main() {
    let run_started = SystemTime::now();
    let started = Instant::now();
    let (snapshot, queries) = dataset::generate(DatasetSpec::STANDARD, QUERIES).into_snapshot();
    let (environment, state) = &snapshot.environments[0];
    let env = environment.id;
    println!("dataset generated in {:.2?}", started.elapsed());

    let started = Instant::now();
    let engine: Engine = Engine::from_snapshot(snapshot.clone());
    println!("rbacd: index built in {:.2?}", started.elapsed());
    let resolver = Resolver::new(state);
    let started = Instant::now();
    let cedar = Cedar::new(state);
    println!(
        "cedar: {} policies and their entities built in {:.2?}",
        cedar.policy_count(),
        started.elapsed()
    );
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio runtime");
    let casbin = runtime.block_on(Casbin::new(state));
    println!(
        "casbin: {} enforcers, {} policy lines, built in {:.2?}",
        state.identities.len(),
        casbin.lines(),
        started.elapsed()
    );

    let rbacd = |q: &CheckQuery| {
        engine
            .check(env, &q.identity, &q.permission, &q.node, q.at)
            .allowed
    };
    // Resolves the references as rbacd does, then asks the competitor.
    let resolved = |q: &CheckQuery, ask: &dyn Fn(usize, usize) -> bool| match (
        resolver.identity(&q.identity),
        resolver.node(&q.node),
    ) {
        (Some(identity), Some(node)) => ask(identity, node),
        _ => false,
    };
    let cedar_sliced =
        |q: &CheckQuery| resolved(q, &|i, n| cedar.check_sliced(i, n, &q.permission, q.at));
    let cedar_merged =
        |q: &CheckQuery| resolved(q, &|i, n| cedar.check_merged(i, n, &q.permission, q.at));
    let cedar_all =
        |q: &CheckQuery| resolved(q, &|i, n| cedar.check_all(i, n, &q.permission, q.at));
    let casbin_sliced = |q: &CheckQuery| {
        resolved(q, &|i, n| {
            casbin.check(&resolver, i, n, &q.permission, q.at)
        })
    };

    let expected: Vec<bool> = queries.iter().map(rbacd).collect();
    println!(
        "rbacd: {} queries, {} allowed",
        queries.len(),
        expected.iter().filter(|&&a| a).count()
    );
    let sample = &queries[..ALL_SAMPLE];
    agree("cedar-sliced", &queries, &expected, cedar_sliced);
    agree("cedar-merged", &queries, &expected, cedar_merged);
    agree("casbin-sliced", &queries, &expected, casbin_sliced);
    agree("cedar-all", sample, &expected[..ALL_SAMPLE], cedar_all);

    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average before timing: {}", load.trim());
    let mut c = Criterion::default()
        .sample_size(30)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_secs(1))
        .configure_from_args();
    let mut group = c.benchmark_group("compare");
    let encodings: [(&str, &[CheckQuery], Check); 5] = [
        ("rbacd", &queries, &rbacd),
        ("cedar-sliced", &queries, &cedar_sliced),
        ("cedar-merged", &queries, &cedar_merged),
        ("casbin-sliced", &queries, &casbin_sliced),
        ("cedar-all", sample, &cedar_all),
    ];
    for (name, queries, check) in encodings {
        let mut next = 0usize;
        group.bench_function(name, |b| {
            b.iter(|| {
                let q = &queries[next % queries.len()];
                next = next.wrapping_add(1);
                black_box(check(black_box(q)))
            })
        });
    }
    group.finish();
    c.final_summary();

    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average after timing: {}", load.trim());
    let Some(base) = median_ns("rbacd", run_started) else {
        return;
    };
    println!("median per check, and ratio to rbacd:");
    for (name, _, _) in encodings {
        if let Some(median) = median_ns(name, run_started) {
            println!("  {name:<14} {median:>12.0} ns  {:>9.1}×", median / base);
        }
    }
}
