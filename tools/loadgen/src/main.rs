//! `rbacd-loadgen`: rbacd over gRPC on loopback, side by side with a no-op
//! server speaking the same proto, and rbacd's cold start.
//!
//! ```text
//! cargo run -p rbacd-loadgen --release -- --rounds 3            # everything but the large dataset
//! cargo run -p rbacd-loadgen --release -- --quick               # smoke run, ~1 s per run
//! cargo run -p rbacd-loadgen --release -- --scenario stream,unary-c32
//! cargo run -p rbacd-loadgen --release -- --scenario cold --large --postgres postgres://postgres@127.0.0.1:5432/test
//! rbacd-loadgen soak --rbacd /tmp/rbacd --postgres postgres://postgres@127.0.0.1:5432/test --duration 30m
//! rbacd-loadgen writes --rbacd /tmp/rbacd --postgres postgres://postgres@127.0.0.1:5432/test
//! ```
//!
//! gRPC scenarios (`--scenario` takes names or parts of names, comma-separated):
//! `unary-c1`, `unary-c32` (unary Check, that many calls in flight: p50/p99),
//! `batch100-c1`, `batch100-c8` (BatchCheck of 100), `stream-1`, `stream-8`
//! (CheckStreams pipelined with `--window` checks in flight each). The standard
//! dataset is seeded into a fresh SQLite file; rbacd and the no-op each run as a
//! child process (this binary, own tokio runtime) on 127.0.0.1:0, and every
//! scenario alternates between them for `--rounds` rounds; medians are reported.
//! Before timing, every query is asked of rbacd and compared with the engine's
//! answer computed in this process.
//!
//! Cold start scenarios: `cold-sqlite`, `cold-postgres` (standard dataset), and
//! with `--large` (or named) `cold-large-sqlite`, `cold-large-postgres`: seed a
//! fresh database, then time `App::open` in a fresh child process and read its RSS.
//! The large dataset can be kept for the next run: `--large-sqlite-file PATH`, and
//! `--keep-large-postgres` (database `rbacd_loadgen_large`, dropped with
//! `--drop-large-postgres`).

mod child;
mod db;
mod decode;
mod load;
mod noop;
mod query;
mod seed;
mod soak;
mod writes;

use std::{process::ExitCode, sync::Arc, time::Duration};

use clap::{Parser, Subcommand};
use rbacd_dataset::DatasetSpec;
use rbacd_testkit::FreshDb;

use crate::{
    child::ChildProcess,
    load::{Kind, Plan, RunResult, SCENARIOS, Workload},
};

#[derive(Parser, Debug)]
#[command(
    name = "rbacd-loadgen",
    about = "Load rbacd over gRPC on loopback beside a no-op server, and time its cold start"
)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    child: Option<ChildCommand>,
    /// Seconds each measured run lasts (after a warm-up).
    #[arg(long, default_value_t = 5.0)]
    duration_secs: f64,
    /// Rounds; each runs every scenario against rbacd and the no-op, alternating who goes first.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Only scenarios whose name contains one of these (comma-separated).
    #[arg(long, value_delimiter = ',')]
    scenario: Vec<String>,
    /// A smoke run: 1 s per run, one round.
    #[arg(long)]
    quick: bool,
    /// Checks in flight per CheckStream.
    #[arg(long, default_value_t = 1024)]
    window: usize,
    /// How much of each answer the client decodes: `full` (every field) or `lean`
    /// (`correlation_id`, `allowed`, `error`, as a sidecar reads it).
    #[arg(long, value_enum, default_value_t = decode::Decode::Full)]
    decode: decode::Decode,
    /// Check queries generated (the runs cycle through them).
    #[arg(long, default_value_t = 20_000)]
    queries: usize,
    /// Also time the cold start of the large dataset (100,000 nodes, 1,000,000
    /// identities, 5,000,000 assignments); seeding it takes minutes.
    #[arg(long)]
    large: bool,
    /// Diagnostic: the no-op answers CheckStream from a spawned task through a
    /// bounded queue (rbacd's design before `fd4051b`), instead of mapping the
    /// request stream as rbacd now does.
    #[arg(long)]
    noop_spawned_stream: bool,
    /// Keep the large SQLite dataset in this file, and reuse it when it exists
    /// (seeding it takes minutes).
    #[arg(long)]
    large_sqlite_file: Option<std::path::PathBuf>,
    /// Keep the large PostgreSQL dataset in the database `rbacd_loadgen_large` on the
    /// `--postgres` server, and reuse it when it exists (seeding it takes minutes).
    /// It is seeded as `rbacd_loadgen_large_seeding` and renamed once complete.
    #[arg(long)]
    keep_large_postgres: bool,
    /// Drop the database `rbacd_loadgen_large` (and an interrupted seeding of it) on the
    /// `--postgres` server before anything else, e.g. after a schema change.
    #[arg(long)]
    drop_large_postgres: bool,
    /// A PostgreSQL server to time the cold start from (a database is created and
    /// dropped, unless `--keep-large-postgres`).
    #[arg(long, env = "RBACD_TEST_DATABASE_URL")]
    postgres: Option<String>,
}

#[derive(Subcommand, Debug)]
enum ChildCommand {
    /// (internal) Serve rbacd on a seeded database, or the no-op, until stdin closes.
    #[command(hide = true)]
    Serve {
        #[arg(long)]
        database_url: Option<String>,
        /// Serve the no-op, its answers this many bytes without correlation id (0: default).
        #[arg(long)]
        noop_response_bytes: Option<usize>,
        /// The no-op answers CheckStream from a spawned task through a queue of 256.
        #[arg(long)]
        spawned_stream: bool,
    },
    /// Two rbacd processes on one PostgreSQL database for a long run: paced
    /// CheckStreams, a share of writes, one instance restarted halfway; prints
    /// samples, a table per block and whether the restarted one caught up.
    Soak(soak::SoakArgs),
    /// Assignment writes through rbacd binaries beside a bare SQL loop doing the
    /// same inserts, on SQLite and PostgreSQL: writes/s, p50/p99, share of the bare loop.
    Writes(writes::WritesArgs),
    /// (internal) Time `App::open` on a seeded database, print it and the RSS, exit.
    #[command(hide = true)]
    Open {
        #[arg(long)]
        database_url: String,
    },
    /// (internal) Time the snapshot read and the index build apart, print them, exit.
    #[command(hide = true)]
    Breakdown {
        #[arg(long)]
        database_url: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("rbacd-loadgen: a runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        match cli.child {
            Some(ChildCommand::Serve {
                database_url,
                noop_response_bytes,
                spawned_stream,
            }) => child::serve(database_url, noop_response_bytes, spawned_stream).await,
            Some(ChildCommand::Soak(args)) => soak::run(args).await,
            Some(ChildCommand::Writes(args)) => writes::run(args).await,
            Some(ChildCommand::Breakdown { database_url }) => {
                let done = child::breakdown(database_url).await;
                if done.is_ok() {
                    std::process::exit(0);
                }
                done
            }
            Some(ChildCommand::Open { database_url }) => {
                let done = child::open(database_url).await;
                // Skip dropping the index and the runtime's tasks.
                if done.is_ok() {
                    std::process::exit(0);
                }
                done
            }
            None => main_run(&cli).await,
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("rbacd-loadgen: {message}");
            ExitCode::FAILURE
        }
    }
}

fn selected(cli: &Cli, name: &str) -> bool {
    if cli.scenario.is_empty() {
        return !name.contains("large") || cli.large;
    }
    let named = cli.scenario.iter().any(|s| name.contains(s.as_str()));
    named
        && (!name.contains("large")
            || cli.large
            || cli.scenario.iter().any(|s| s.contains("large")))
}

async fn main_run(cli: &Cli) -> Result<(), String> {
    let (duration, rounds) = if cli.quick {
        (Duration::from_secs(1), 1)
    } else {
        (
            Duration::from_secs_f64(cli.duration_secs),
            cli.rounds.max(1),
        )
    };
    let plan = Plan {
        warmup: if cli.quick {
            Duration::from_millis(300)
        } else {
            Duration::from_secs(1).min(duration)
        },
        duration,
        window: cli.window.max(1),
        decode: cli.decode,
    };
    println!("# rbacd-loadgen\n");
    println!("{}", machine());
    println!("load average at start: {}\n", child::load_average());
    if cli.drop_large_postgres {
        let url = cli
            .postgres
            .as_deref()
            .ok_or("--drop-large-postgres needs --postgres (or RBACD_TEST_DATABASE_URL)")?;
        db::drop_kept_postgres(url).await?;
        println!("dropped database {}\n", db::KEPT_POSTGRES_DATABASE);
    }

    let grpc: Vec<&load::Scenario> = SCENARIOS.iter().filter(|s| selected(cli, s.name)).collect();
    if !grpc.is_empty() {
        grpc_bench(cli, &grpc, plan, rounds).await?;
    }

    let mut cold = Vec::new();
    for (name, spec, postgres) in [
        ("cold-sqlite", DatasetSpec::STANDARD, false),
        ("cold-postgres", DatasetSpec::STANDARD, true),
        ("cold-large-sqlite", DatasetSpec::LARGE, false),
        ("cold-large-postgres", DatasetSpec::LARGE, true),
    ] {
        if !selected(cli, name) {
            continue;
        }
        let pg_url = match (postgres, &cli.postgres) {
            (false, _) => None,
            (true, Some(url)) => Some(url.as_str()),
            (true, None) => {
                println!("{name}: skipped (no --postgres URL nor RBACD_TEST_DATABASE_URL)\n");
                continue;
            }
        };
        let keep = match (name.contains("large"), pg_url, &cli.large_sqlite_file) {
            (true, Some(_), _) if cli.keep_large_postgres => Keep::Postgres,
            (true, None, Some(path)) => Keep::SqliteFile(path),
            _ => Keep::Nothing,
        };
        cold.push(cold_start(name, spec, pg_url, keep, rounds).await?);
    }
    if !cold.is_empty() {
        print_cold(&cold);
    }
    println!("load average at end: {}", child::load_average());
    Ok(())
}

/// nproc, CPU model and memory.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(str::trim)
        .unwrap_or("unknown");
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    format!(
        "machine: {} CPUs ({}), {:.1} GiB memory",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        model,
        mem_kib as f64 / 1048576.0
    )
}

struct Row {
    name: &'static str,
    kind: Kind,
    rbacd: Vec<RunResult>,
    noop: Vec<RunResult>,
}

async fn grpc_bench(
    cli: &Cli,
    scenarios: &[&load::Scenario],
    plan: Plan,
    rounds: usize,
) -> Result<(), String> {
    let db = FreshDb::sqlite();
    let seeded = seed::seed(db.url(), DatasetSpec::STANDARD, cli.queries.max(100), true).await?;
    println!(
        "seeded the standard dataset into SQLite: {} objects, generated in {:.2?}, written in {:.2?}",
        seeded.objects, seeded.generated_in, seeded.written_in
    );
    let workload = Arc::new(Workload::new(&seeded, 100));
    let args = ["serve".into(), "--database-url".into(), seeded.url.clone()];
    let rbacd = ChildProcess::start(&args).await?;
    println!("rbacd (pid {}) ready: {}", rbacd.pid, rbacd.ready);
    let verified = load::verify(rbacd.addr()?, &seeded, &workload).await?;
    println!(
        "verified: {} of {} answers agree with the engine in process; {} allowed, {} errors; mean answer {} bytes",
        verified.agreed,
        verified.checked,
        verified.allowed,
        verified.errors,
        verified.mean_answer_bytes
    );
    if verified.agreed != verified.checked {
        return Err(
            "rbacd's answers disagree with the engine's: the seeding or the server is wrong".into(),
        );
    }
    let mut args: Vec<String> = vec![
        "serve".into(),
        "--noop-response-bytes".into(),
        verified.mean_answer_bytes.to_string(),
    ];
    if cli.noop_spawned_stream {
        args.push("--spawned-stream".into());
    }
    let noop = ChildProcess::start(&args).await?;
    println!("no-op (pid {}) ready: {}", noop.pid, noop.ready);
    println!(
        "runs: {:?} warm-up + {:?} measured, {rounds} round(s), window {} per stream, {:?} decoding\n",
        plan.warmup, plan.duration, plan.window, plan.decode
    );

    let mut rows: Vec<Row> = scenarios
        .iter()
        .map(|s| Row {
            name: s.name,
            kind: s.kind,
            rbacd: Vec::new(),
            noop: Vec::new(),
        })
        .collect();
    for round in 0..rounds {
        for row in &mut rows {
            let order = if round % 2 == 0 {
                [true, false]
            } else {
                [false, true]
            };
            for is_rbacd in order {
                let server = if is_rbacd { &rbacd } else { &noop };
                let result =
                    load::run(row.kind, server.addr()?, server.pid, &workload, plan).await?;
                if result.errors > 0 || result.out_of_order > 0 {
                    return Err(format!(
                        "{}: {} answers with an error, {} out of order",
                        row.name, result.errors, result.out_of_order
                    ));
                }
                println!(
                    "round {}/{rounds} {:<12} {:<6} {:>10.0} checks/s{}  server {:.2} cores, {:.2} µs/check; client {:.2} cores; load {}",
                    round + 1,
                    row.name,
                    if is_rbacd { "rbacd" } else { "no-op" },
                    result.checks_per_sec(),
                    match (result.latency_ms(0.5), result.latency_ms(0.99)) {
                        (Some(p50), Some(p99)) if matches!(row.kind, Kind::Unary(_)) =>
                            format!("  p50 {p50:.3} ms p99 {p99:.3} ms"),
                        _ => String::new(),
                    },
                    result.server_cpu.as_secs_f64() / result.elapsed.as_secs_f64(),
                    result.server_us_per_check(),
                    result.client_cpu.as_secs_f64() / result.elapsed.as_secs_f64(),
                    child::load_average(),
                );
                let mut kept = result;
                // Percentiles are taken per run; the sorted samples are not needed after.
                let p50 = kept.latency_ms(0.5);
                let p99 = kept.latency_ms(0.99);
                kept.latencies = [p50, p99]
                    .into_iter()
                    .flatten()
                    .map(|ms| (ms * 1e6) as u64)
                    .collect();
                if is_rbacd {
                    row.rbacd.push(kept);
                } else {
                    row.noop.push(kept);
                }
            }
        }
    }
    let rbacd_memory = child::memory_kib(&rbacd.pid.to_string());
    rbacd.stop().await;
    noop.stop().await;
    drop(db);
    print_grpc(&rows, rounds, plan, &verified, rbacd_memory);
    Ok(())
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// Median of p50 (index 0) or p99 (index 1) over the runs, in ms.
fn median_latency(runs: &[RunResult], which: usize) -> f64 {
    median(
        runs.iter()
            .filter_map(|r| r.latencies.get(which))
            .map(|ns| *ns as f64 / 1e6)
            .collect(),
    )
}

fn thousands(v: f64) -> String {
    let n = v.round() as u64;
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn print_grpc(
    rows: &[Row],
    rounds: usize,
    plan: Plan,
    verified: &load::Verification,
    rbacd_memory: Option<(u64, u64)>,
) {
    println!("\n## Over gRPC on loopback\n");
    println!(
        "rbacd served by `App::serve_tcp`, the no-op by tonic's `Server`; both with TCP_NODELAY on accepted sockets\n"
    );
    println!(
        "medians of {rounds} round(s), each run {:?} after a {:?} warm-up; standard dataset; {} of {} answers verified against the in-process engine ({} allowed); mean answer {} bytes (no-op padded to match). Ratios: of the medians, and in parentheses the median of each round's paired ratio (the two runs of a round are adjacent)\n",
        plan.duration,
        plan.warmup,
        verified.agreed,
        verified.checked,
        verified.allowed,
        verified.mean_answer_bytes
    );
    println!(
        "| scenario | rbacd checks/s | no-op checks/s | rbacd / no-op (paired) | rbacd p50 | no-op p50 | rbacd p99 | no-op p99 | p99 rbacd / no-op (paired) | server CPU µs/check rbacd / no-op |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut verdicts = Vec::new();
    for row in rows {
        let rate =
            |runs: &[RunResult]| median(runs.iter().map(RunResult::checks_per_sec).collect());
        let cpu =
            |runs: &[RunResult]| median(runs.iter().map(RunResult::server_us_per_check).collect());
        let (r, n) = (rate(&row.rbacd), rate(&row.noop));
        let ratio = r / n;
        let unary = matches!(row.kind, Kind::Unary(_));
        let lat = |runs: &[RunResult], i| {
            if unary {
                format!("{:.3} ms", median_latency(runs, i))
            } else {
                "—".into()
            }
        };
        let p99_ratio = median_latency(&row.rbacd, 1) / median_latency(&row.noop, 1);
        // Each round's rbacd run and no-op run are adjacent: their ratio cancels slow drifts of load.
        let paired = |f: &dyn Fn(&RunResult) -> Option<f64>| {
            median(
                row.rbacd
                    .iter()
                    .zip(&row.noop)
                    .filter_map(|(a, b)| Some(f(a)? / f(b)?))
                    .collect(),
            )
        };
        let paired_rate = paired(&|r| Some(r.checks_per_sec()));
        let paired_p99 = paired(&|r| r.latencies.get(1).map(|ns| *ns as f64));
        println!(
            "| {} | {} | {} | {:.0}% ({:.0}%) | {} | {} | {} | {} | {} | {:.2} / {:.2} |",
            row.name,
            thousands(r),
            thousands(n),
            ratio * 100.0,
            paired_rate * 100.0,
            lat(&row.rbacd, 0),
            lat(&row.noop, 0),
            lat(&row.rbacd, 1),
            lat(&row.noop, 1),
            if unary {
                format!("{p99_ratio:.2}× ({paired_p99:.2}×)")
            } else {
                "—".into()
            },
            cpu(&row.rbacd),
            cpu(&row.noop),
        );
        match row.kind {
            Kind::Batch { .. } | Kind::Stream(_) => verdicts.push(format!(
                "- {}: rbacd at {:.0}% of the no-op's checks/s (target ≥ 60%): {}",
                row.name,
                ratio * 100.0,
                if ratio >= 0.6 { "met" } else { "MISSED" }
            )),
            Kind::Unary(32) => verdicts.push(format!(
                "- {}: rbacd p99 {:.2}× the no-op's (target ≤ 1.3×): {}",
                row.name,
                p99_ratio,
                if p99_ratio <= 1.3 { "met" } else { "MISSED" }
            )),
            Kind::Unary(_) => {}
        }
    }
    println!("\n{}", verdicts.join("\n"));
    if let Some((rss, hwm)) = rbacd_memory {
        println!(
            "\nrbacd's RSS after the runs: {:.1} MiB (peak {:.1} MiB)",
            rss as f64 / 1024.0,
            hwm as f64 / 1024.0
        );
    }
}

struct Cold {
    name: &'static str,
    spec: DatasetSpec,
    /// Objects written and the time to generate and to write them; `None` when an
    /// existing database was reused.
    seeding: Option<(usize, Duration, Duration)>,
    db_bytes: Option<u64>,
    open_ms: Vec<f64>,
    /// CPU time of the opening process (all its threads; not the database server's).
    cpu_ms: Vec<f64>,
    index_ms: Vec<f64>,
    rss_kib: Vec<f64>,
    hwm_kib: Vec<f64>,
    /// The separate run: snapshot read ms, index build ms, index heap bytes.
    breakdown: Option<(f64, f64, f64)>,
    /// The separate run: CPU ms of the read and of the build.
    breakdown_cpu: Option<(f64, f64)>,
}

/// Where a cold start's database is kept between runs.
enum Keep<'a> {
    Nothing,
    SqliteFile(&'a std::path::Path),
    /// In [`db::KEPT_POSTGRES_DATABASE`].
    Postgres,
}

async fn cold_start(
    name: &'static str,
    spec: DatasetSpec,
    postgres: Option<&str>,
    keep: Keep<'_>,
    rounds: usize,
) -> Result<Cold, String> {
    let (mut db, existed) = match (postgres, keep) {
        (Some(url), Keep::Postgres) => db::kept_postgres(url).await?,
        (Some(url), _) => (FreshDb::postgres(url).await?, false),
        (None, Keep::SqliteFile(path)) => db::kept_sqlite(path),
        (None, _) => (FreshDb::sqlite(), false),
    };
    let seeding = if existed {
        println!("{name}: reusing {} (seeded before)", db.url());
        None
    } else {
        println!(
            "{name}: seeding {} nodes, {} identities, {} roles, {} assignments …",
            spec.nodes, spec.identities, spec.roles, spec.assignments
        );
        let seeded = seed::seed(db.url(), spec, 0, false).await?;
        println!(
            "{name}: {} objects generated in {:.2?}, written in {:.2?} (of which migrations and environment {:.2?}); load {}",
            seeded.objects,
            seeded.generated_in,
            seeded.written_in,
            seeded.prepared_in,
            child::load_average()
        );
        if let Some(url) = postgres {
            db = db::keep_seeded_postgres(db, url).await?;
        }
        Some((seeded.objects, seeded.generated_in, seeded.written_in))
    };
    let mut cold = Cold {
        name,
        spec,
        seeding,
        db_bytes: db::size_bytes(&db),
        open_ms: Vec::new(),
        cpu_ms: Vec::new(),
        index_ms: Vec::new(),
        rss_kib: Vec::new(),
        hwm_kib: Vec::new(),
        breakdown: None,
        breakdown_cpu: None,
    };
    for round in 0..rounds {
        let opened =
            ChildProcess::start(&["open".into(), "--database-url".into(), db.url().to_owned()])
                .await?;
        let ready = opened.ready.clone();
        opened.stop().await;
        println!(
            "{name}: open {}/{rounds}: {ready}; load {}",
            round + 1,
            child::load_average()
        );
        let field = |k: &str| ready[k].as_f64();
        cold.open_ms.extend(field("open_ms"));
        cold.cpu_ms.extend(field("cpu_ms"));
        cold.index_ms.extend(field("index_ms"));
        cold.rss_kib.extend(field("rss_kib"));
        cold.hwm_kib.extend(field("hwm_kib"));
    }
    let split = ChildProcess::start(&[
        "breakdown".into(),
        "--database-url".into(),
        db.url().to_owned(),
    ])
    .await?;
    let ready = split.ready.clone();
    split.stop().await;
    println!("{name}: snapshot read and index build apart: {ready}");
    cold.breakdown = ready["read_ms"].as_f64().and_then(|r| {
        Some((
            r,
            ready["build_ms"].as_f64()?,
            ready["index_heap_bytes"].as_f64()?,
        ))
    });
    cold.breakdown_cpu = ready["read_cpu_ms"]
        .as_f64()
        .zip(ready["build_cpu_ms"].as_f64());
    drop(db);
    Ok(cold)
}

fn print_cold(cold: &[Cold]) {
    println!("\n## Cold start\n");
    println!(
        "| run | nodes / identities / assignments | seeding: objects, generate + write | `App::open` (median) | its CPU | snapshot read + index build (in `App::open`) | separately: read / build (CPU) | RSS after open (peak) | index heap per assignment | database file |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for c in cold {
        let open = median(c.open_ms.clone()) / 1000.0;
        println!(
            "| {} | {} / {} / {} | {} | {:.2} s | {:.2} s | {:.2} s | {} | {:.0} MiB ({:.0} MiB) | {} | {} |",
            c.name,
            thousands(c.spec.nodes as f64),
            thousands(c.spec.identities as f64),
            thousands(c.spec.assignments as f64),
            c.seeding
                .map_or("reused".into(), |(objects, generate, write)| format!(
                    "{}, {:.1} s + {:.1} s",
                    thousands(objects as f64),
                    generate.as_secs_f64(),
                    write.as_secs_f64()
                )),
            open,
            median(c.cpu_ms.clone()) / 1000.0,
            median(c.index_ms.clone()) / 1000.0,
            c.breakdown.map_or("—".into(), |(read, build, _)| {
                let cpu = c.breakdown_cpu.map_or(String::new(), |(r, b)| {
                    format!(" ({:.2} s / {:.2} s)", r / 1000.0, b / 1000.0)
                });
                format!("{:.2} s / {:.2} s{cpu}", read / 1000.0, build / 1000.0)
            }),
            median(c.rss_kib.clone()) / 1024.0,
            median(c.hwm_kib.clone()) / 1024.0,
            c.breakdown.map_or("—".into(), |(_, _, heap)| format!(
                "{:.0} B",
                heap / c.spec.assignments as f64
            )),
            c.db_bytes
                .map_or("—".into(), |b| format!("{:.0} MiB", b as f64 / 1048576.0)),
        );
    }
    for c in cold.iter().filter(|c| c.name.contains("large")) {
        let open = median(c.open_ms.clone()) / 1000.0;
        println!(
            "\n- {}: large dataset loaded in {:.1} s (target ≤ 15 s): {}",
            c.name,
            open,
            if open <= 15.0 { "met" } else { "MISSED" }
        );
    }
}
