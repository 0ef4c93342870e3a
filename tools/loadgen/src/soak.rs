//! `rbacd-loadgen soak`: a long run against two rbacd processes (a release
//! binary) sharing one PostgreSQL database. Checks go over CheckStreams at a
//! paced rate, writes (assignments created and deleted) make up the given share
//! of the operations, and one instance is stopped and started again halfway.
//! Every `--sample-every` it prints checks/s, the p99 of a check's round trip,
//! each instance's RSS and how far its index is behind the store; at the end it
//! waits for both indexes to reach the store's latest revision and asks both the
//! same checks, which must answer alike. The summary is a Markdown table per `--block`.

use std::{
    collections::VecDeque,
    net::SocketAddr,
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, Instant},
};

use rbacd::proto::v1::{self as pb, assignment_service_client::AssignmentServiceClient};
use rbacd::store::Store;
use rbacd_dataset::DatasetSpec;
use rbacd_testkit::{ApiKey, Authed, FreshDb};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    process::{Child, Command},
    sync::Semaphore,
};
use tonic::{Code, transport::Channel};

use crate::{
    child::{load_average, memory_kib},
    load::{Client, connect},
};

/// How the soak runs.
#[derive(clap::Args, Clone, Debug)]
pub struct SoakArgs {
    /// The rbacd binary to run twice (a release build, copied out of the target dir).
    #[arg(long)]
    rbacd: PathBuf,
    /// The PostgreSQL server; a fresh database is created on it and dropped at the end.
    #[arg(long, env = "RBACD_TEST_DATABASE_URL")]
    postgres: String,
    /// How long the load lasts (`2m`, `30m`).
    #[arg(long, default_value = "30m", value_parser = rbacd::config::parse_duration)]
    duration: Duration,
    /// Checks per second over both instances.
    #[arg(long, default_value_t = 4000)]
    checks_per_sec: u32,
    /// Writes as a percentage of all operations.
    #[arg(long, default_value_t = 5.0)]
    write_percent: f64,
    /// CheckStreams per instance.
    #[arg(long, default_value_t = 2)]
    streams: usize,
    /// Checks in flight per stream at most.
    #[arg(long, default_value_t = 64)]
    window: usize,
    /// Time between samples.
    #[arg(long, default_value = "10s", value_parser = rbacd::config::parse_duration)]
    sample_every: Duration,
    /// Length of a row of the summary table.
    #[arg(long, default_value = "5m", value_parser = rbacd::config::parse_duration)]
    block: Duration,
    /// How long the restarted instance stays down while the other takes the writes.
    #[arg(long, default_value = "10s", value_parser = rbacd::config::parse_duration)]
    downtime: Duration,
    /// Checks asked of both instances at the end.
    #[arg(long, default_value_t = 5000)]
    verify: usize,
    /// Where the instances' logs go (`soak-a.log`, `soak-b.log`).
    #[arg(long, default_value = "/tmp")]
    log_dir: PathBuf,
}

/// Writer tasks; each issues its share of the writes one after another (a
/// write waits for its commit, tens of milliseconds on a loaded machine).
const WRITERS: usize = 16;

/// One rbacd process, on fixed ports so that it restarts where it was.
struct Instance {
    name: &'static str,
    addr: SocketAddr,
    metrics: SocketAddr,
    pid: AtomicU32,
    child: tokio::sync::Mutex<Option<Child>>,
}

impl Instance {
    fn new(name: &'static str) -> Result<Self, String> {
        Ok(Self {
            name,
            addr: crate::child::free_port()?,
            metrics: crate::child::free_port()?,
            pid: AtomicU32::new(0),
            child: tokio::sync::Mutex::new(None),
        })
    }

    /// Starts the process and waits until it answers a check.
    async fn start(
        &self,
        args: &SoakArgs,
        url: &str,
        probe: &pb::CheckRequest,
    ) -> Result<Duration, String> {
        let started = Instant::now();
        let child = crate::child::spawn_rbacd(
            &args.rbacd,
            url,
            self.addr,
            self.metrics,
            &args.log_dir.join(format!("soak-{}.log", self.name)),
        )?;
        self.pid.store(child.id().unwrap_or(0), Relaxed);
        *self.child.lock().await = Some(child);
        while started.elapsed() < Duration::from_secs(120) {
            if let Ok(mut client) = connect(self.addr).await
                && client
                    .check::<pb::CheckResponse>(probe.clone())
                    .await
                    .is_ok()
            {
                return Ok(started.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!(
            "instance {} did not answer within 120 s",
            self.name
        ))
    }

    /// SIGTERM, then waits for the process to end (SIGKILL after 30 s).
    async fn stop(&self) {
        let Some(mut child) = self.child.lock().await.take() else {
            return;
        };
        let pid = self.pid.swap(0, Relaxed);
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await;
        if tokio::time::timeout(Duration::from_secs(30), child.wait())
            .await
            .is_err()
        {
            eprintln!(
                "instance {} did not stop within 30 s; killing it",
                self.name
            );
            let _ = child.kill().await;
        }
    }

    fn rss_mib(&self) -> Option<f64> {
        let pid = self.pid.load(Relaxed);
        (pid != 0)
            .then(|| memory_kib(&pid.to_string()))
            .flatten()
            .map(|(rss, _)| rss as f64 / 1024.0)
    }

    /// The applied revision and the lag in seconds its metrics report.
    async fn index(&self) -> Option<(u64, f64)> {
        let text = tokio::time::timeout(Duration::from_secs(5), scrape(self.metrics))
            .await
            .ok()??;
        let value = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
                .and_then(|v| v.trim().parse::<f64>().ok())
        };
        Some((
            value("rbacd_applied_revision")? as u64,
            value("rbacd_index_lag_seconds")?,
        ))
    }
}

async fn scrape(addr: SocketAddr) -> Option<String> {
    let mut socket = tokio::net::TcpStream::connect(addr).await.ok()?;
    socket
        .write_all(b"GET /metrics HTTP/1.1\r\nhost: soak\r\nconnection: close\r\n\r\n")
        .await
        .ok()?;
    let mut answer = String::new();
    socket.read_to_string(&mut answer).await.ok()?;
    Some(answer.split_once("\r\n\r\n")?.1.to_owned())
}

/// What the load tasks count, read and reset by the sampler.
#[derive(Default)]
struct Counters {
    stop: AtomicBool,
    checks: AtomicU64,
    /// Answers carrying an error, and streams that ended with one.
    check_errors: AtomicU64,
    writes: AtomicU64,
    /// Writes the store refused (a duplicate, a missing identity): not failures.
    writes_refused: AtomicU64,
    /// Writes that failed on both instances.
    writes_failed: AtomicU64,
    /// Round trips of the checks answered since the last sample, in µs.
    latencies_us: Mutex<Vec<u32>>,
}

/// One sample.
struct Sample {
    at: Duration,
    /// The row of the summary table it belongs to.
    block: usize,
    checks_per_sec: f64,
    writes_per_sec: f64,
    p99_ms: f64,
    rss: [Option<f64>; 2],
    revision_lag: [Option<u64>; 2],
    lag_secs: [Option<f64>; 2],
    errors: u64,
}

/// Runs the soak; see the module documentation.
pub async fn run(args: SoakArgs) -> Result<(), String> {
    println!("# rbacd soak\n");
    println!(
        "{} for {:?}: {} checks/s over {} CheckStreams per instance (window {}), {}% writes, restart of B at half time (down {:?}); load average at start {}",
        args.rbacd.display(),
        args.duration,
        args.checks_per_sec,
        args.streams,
        args.window,
        args.write_percent,
        args.downtime,
        load_average()
    );
    let db = FreshDb::postgres(&args.postgres).await?;
    let seeded = crate::seed::seed(db.url(), DatasetSpec::STANDARD, 20_000, true).await?;
    let roles: Vec<String> = seeded
        .snapshot
        .as_ref()
        .map(|s| {
            s.environments[0]
                .1
                .roles
                .iter()
                .map(|r| r.id.to_string())
                .collect()
        })
        .unwrap_or_default();
    let requests: Arc<Vec<pb::CheckRequest>> = Arc::new(
        seeded
            .queries
            .iter()
            .enumerate()
            .map(|(i, q)| crate::query::request(q, format!("q{i}")))
            .collect(),
    );
    println!(
        "seeded the standard dataset: {} objects; {} roles",
        seeded.objects,
        roles.len()
    );
    let store = Store::connect(db.url()).await.map_err(|e| e.to_string())?;
    let instances = Arc::new([Instance::new("a")?, Instance::new("b")?]);
    for instance in instances.iter() {
        let took = instance.start(&args, db.url(), &requests[0]).await?;
        println!(
            "instance {} on {} ready in {took:.2?}",
            instance.name, instance.addr
        );
    }

    let counters = Arc::new(Counters::default());
    let mut tasks = Vec::new();
    let streams_total = 2 * args.streams;
    let period =
        Duration::from_secs_f64(streams_total as f64 / f64::from(args.checks_per_sec.max(1)));
    for (i, instance) in instances.iter().enumerate() {
        for k in 0..args.streams {
            let start = (i * args.streams + k) * requests.len() / streams_total;
            tasks.push(tokio::spawn(stream_loop(
                instance.addr,
                Arc::clone(&requests),
                Arc::clone(&counters),
                start,
                period,
                args.window,
            )));
        }
    }
    let share = args.write_percent.clamp(0.0, 99.0) / 100.0;
    let writes_per_sec = f64::from(args.checks_per_sec) * share / (1.0 - share);
    if writes_per_sec > 0.0 && !roles.is_empty() {
        let addrs = [instances[0].addr, instances[1].addr];
        let roles = Arc::new(roles);
        for w in 0..WRITERS {
            tasks.push(tokio::spawn(write_loop(
                addrs,
                Arc::clone(&requests),
                Arc::clone(&roles),
                Arc::clone(&counters),
                w,
                Duration::from_secs_f64(WRITERS as f64 / writes_per_sec),
            )));
        }
    }
    println!("{writes_per_sec:.0} writes/s over {WRITERS} writers\n");

    let restart = {
        let (instances, counters) = (Arc::clone(&instances), Arc::clone(&counters));
        let (url, probe) = (db.url().to_owned(), requests[0].clone());
        let (half, downtime) = (args.duration / 2, args.downtime);
        let args_rbacd = args.clone();
        tokio::spawn(async move {
            tokio::time::sleep(half).await;
            if counters.stop.load(Relaxed) {
                return Ok(String::new());
            }
            let stopping = Instant::now();
            instances[1].stop().await;
            let stopped = stopping.elapsed();
            tokio::time::sleep(downtime).await;
            let ready = instances[1].start(&args_rbacd, &url, &probe).await?;
            Ok::<_, String>(format!(
                "B restarted at {:?}: stopped in {stopped:.2?}, down {downtime:?}, ready again in {ready:.2?}",
                half
            ))
        })
    };

    println!(
        "| t | checks/s | writes/s | p99 ms | RSS A MiB | RSS B MiB | rev lag A | rev lag B | lag s A | lag s B | errors | load |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    let began = Instant::now();
    let mut samples = Vec::new();
    let mut block_latencies: Vec<Vec<u32>> = Vec::new();
    let (mut last_checks, mut last_writes, mut last_at) = (0, 0, began);
    while began.elapsed() < args.duration {
        tokio::time::sleep(
            args.sample_every
                .min(args.duration.saturating_sub(began.elapsed())),
        )
        .await;
        let head = store.latest_revision().await.ok();
        let at = began.elapsed();
        // A sample lands a little after its due time: it counts for the block it was due in.
        let due = at.saturating_sub(args.sample_every / 2);
        let mut sample = Sample {
            at,
            block: (due.as_secs_f64() / args.block.as_secs_f64()) as usize,
            checks_per_sec: 0.0,
            writes_per_sec: 0.0,
            p99_ms: f64::NAN,
            rss: [None; 2],
            revision_lag: [None; 2],
            lag_secs: [None; 2],
            errors: counters.check_errors.load(Relaxed) + counters.writes_failed.load(Relaxed),
        };
        for (i, instance) in instances.iter().enumerate() {
            sample.rss[i] = instance.rss_mib();
            if let Some((applied, lag)) = instance.index().await {
                sample.revision_lag[i] = head.map(|h| h.saturating_sub(applied));
                sample.lag_secs[i] = Some(lag);
            }
        }
        let (checks, writes) = (counters.checks.load(Relaxed), counters.writes.load(Relaxed));
        let secs = last_at.elapsed().as_secs_f64();
        sample.checks_per_sec = (checks - last_checks) as f64 / secs;
        sample.writes_per_sec = (writes - last_writes) as f64 / secs;
        (last_checks, last_writes, last_at) = (checks, writes, Instant::now());
        let mut window = std::mem::take(&mut *counters.latencies_us.lock().unwrap());
        window.sort_unstable();
        sample.p99_ms = quantile_ms(&window, 0.99);
        block_latencies.resize_with(sample.block + 1, Vec::new);
        block_latencies[sample.block].extend(window);
        print_sample(&sample);
        samples.push(sample);
    }
    counters.stop.store(true, Relaxed);
    for task in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(30), task).await;
    }
    match restart.await {
        Ok(Ok(done)) if !done.is_empty() => println!("\n{done}"),
        Ok(Ok(_)) => println!("\nB was not restarted (the run ended first)"),
        Ok(Err(e)) => return Err(format!("restarting B: {e}")),
        Err(e) => return Err(format!("the restart task: {e}")),
    }

    let verdict = verify(&store, &instances, &requests, args.verify).await?;
    summarize(&samples, &block_latencies, args.block, &counters, &verdict);
    for instance in instances.iter() {
        instance.stop().await;
    }
    store.close().await;
    drop(db);
    Ok(())
}

/// `5` for five minutes, `2.5` for two and a half.
fn minutes(d: Duration) -> String {
    let m = (d.as_secs_f64() / 6.0).round() / 10.0;
    if m.fract() == 0.0 {
        format!("{m:.0}")
    } else {
        format!("{m:.1}")
    }
}

fn quantile_ms(sorted_us: &[u32], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    let rank = ((sorted_us.len() as f64 * q).ceil() as usize).clamp(1, sorted_us.len());
    f64::from(sorted_us[rank - 1]) / 1000.0
}

fn print_sample(s: &Sample) {
    let opt = |v: Option<f64>, digits: usize| v.map_or("—".into(), |v| format!("{v:.digits$}"));
    println!(
        "| {:.0} s | {:.0} | {:.0} | {:.2} | {} | {} | {} | {} | {} | {} | {} | {} |",
        s.at.as_secs_f64(),
        s.checks_per_sec,
        s.writes_per_sec,
        s.p99_ms,
        opt(s.rss[0], 1),
        opt(s.rss[1], 1),
        opt(s.revision_lag[0].map(|v| v as f64), 0),
        opt(s.revision_lag[1].map(|v| v as f64), 0),
        opt(s.lag_secs[0], 2),
        opt(s.lag_secs[1], 2),
        s.errors,
        load_average()
    );
}

/// Checks over one CheckStream after another on `addr`, reconnecting while the
/// instance is down, until told to stop.
async fn stream_loop(
    addr: SocketAddr,
    requests: Arc<Vec<pb::CheckRequest>>,
    counters: Arc<Counters>,
    mut next: usize,
    period: Duration,
    window: usize,
) {
    while !counters.stop.load(Relaxed) {
        match connect(addr).await {
            Ok(client) => {
                next = one_stream(client, &requests, &counters, next, period, window).await;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// One paced CheckStream; returns the index of the next request to send.
async fn one_stream(
    mut client: Client,
    requests: &Arc<Vec<pb::CheckRequest>>,
    counters: &Arc<Counters>,
    start: usize,
    period: Duration,
    window: usize,
) -> usize {
    struct Writer {
        requests: Arc<Vec<pb::CheckRequest>>,
        counters: Arc<Counters>,
        in_flight: Arc<Semaphore>,
        sent: Arc<Mutex<VecDeque<Instant>>>,
        next: usize,
        due: Instant,
        period: Duration,
    }
    let in_flight = Arc::new(Semaphore::new(window));
    let sent = Arc::new(Mutex::new(VecDeque::new()));
    let writer = Writer {
        requests: Arc::clone(requests),
        counters: Arc::clone(counters),
        in_flight: Arc::clone(&in_flight),
        sent: Arc::clone(&sent),
        next: start,
        due: Instant::now(),
        period,
    };
    let outbound = futures::stream::unfold(writer, |mut w| async move {
        w.in_flight.acquire().await.ok()?.forget();
        let now = Instant::now();
        if w.due > now {
            tokio::time::sleep_until(w.due.into()).await;
        } else if now - w.due > Duration::from_secs(1) {
            // After a stall, go on at the set pace instead of catching up in a burst.
            w.due = now;
        }
        w.due += w.period;
        if w.counters.stop.load(Relaxed) {
            return None;
        }
        let request = w.requests[w.next % w.requests.len()].clone();
        w.next += 1;
        w.sent.lock().unwrap().push_back(Instant::now());
        Some((request, w))
    });
    let mut answered = 0;
    match client.check_stream::<pb::CheckResponse>(outbound).await {
        Ok(mut answers) => loop {
            match answers.message().await {
                Ok(Some(answer)) => {
                    in_flight.add_permits(1);
                    answered += 1;
                    let took = sent.lock().unwrap().pop_front().map(|t| t.elapsed());
                    counters.checks.fetch_add(1, Relaxed);
                    if answer.error.is_some() {
                        counters.check_errors.fetch_add(1, Relaxed);
                    }
                    if let Some(took) = took {
                        let us = u32::try_from(took.as_micros()).unwrap_or(u32::MAX);
                        counters.latencies_us.lock().unwrap().push(us);
                    }
                }
                Ok(None) => break,
                Err(_) => {
                    if !counters.stop.load(Relaxed) {
                        counters.check_errors.fetch_add(1, Relaxed);
                    }
                    break;
                }
            }
        },
        Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
    }
    in_flight.close();
    start + answered
}

/// Creates an assignment, then deletes it, and so on, at `period`; each write
/// goes to the next instance, and to the other one when that one is down.
async fn write_loop(
    addrs: [SocketAddr; 2],
    requests: Arc<Vec<pb::CheckRequest>>,
    roles: Arc<Vec<String>>,
    counters: Arc<Counters>,
    writer: usize,
    period: Duration,
) {
    let mut clients: [Option<AssignmentServiceClient<Authed>>; 2] = [None, None];
    let mut held: Option<pb::DeleteAssignmentRequest> = None;
    let (mut next, mut turn) = (writer, writer);
    let mut due = Instant::now();
    while !counters.stop.load(Relaxed) {
        tokio::time::sleep_until(due.into()).await;
        due = (due + period).max(Instant::now() - Duration::from_secs(1));
        turn += 1;
        let mut done = false;
        for attempt in 0..2 {
            let i = (turn + attempt) % 2;
            if clients[i].is_none() {
                clients[i] = writer_client(addrs[i]).await;
            }
            let Some(client) = clients[i].as_mut() else {
                continue;
            };
            let outcome = match &held {
                Some(delete) => client.delete_assignment(delete.clone()).await.map(|_| None),
                None => {
                    let query = &requests[next % requests.len()];
                    next += WRITERS;
                    let create = pb::CreateAssignmentRequest {
                        identity: query.identity.clone(),
                        role: Some(pb::RoleRef {
                            r#ref: Some(pb::role_ref::Ref::Id(roles[next % roles.len()].clone())),
                        }),
                        node: query.node.clone(),
                        ..Default::default()
                    };
                    client.create_assignment(create).await.map(|made| {
                        made.into_inner()
                            .assignment
                            .map(|a| pb::DeleteAssignmentRequest {
                                id: a.id,
                                ..Default::default()
                            })
                    })
                }
            };
            match outcome {
                Ok(created) => {
                    held = created;
                    counters.writes.fetch_add(1, Relaxed);
                    done = true;
                    break;
                }
                Err(s)
                    if matches!(
                        s.code(),
                        Code::Unavailable | Code::Unknown | Code::Cancelled
                    ) =>
                {
                    clients[i] = None;
                }
                Err(_) => {
                    held = None;
                    counters.writes_refused.fetch_add(1, Relaxed);
                    done = true;
                    break;
                }
            }
        }
        if !done {
            counters.writes_failed.fetch_add(1, Relaxed);
        }
    }
}

async fn writer_client(addr: SocketAddr) -> Option<AssignmentServiceClient<Authed>> {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .ok()?
        .connect_timeout(Duration::from_secs(2))
        .connect()
        .await
        .ok()?;
    let key = ApiKey::new(crate::seed::API_KEY).ok()?;
    Some(AssignmentServiceClient::new(key.on(channel)))
}

/// How the run ended.
struct Verdict {
    head: u64,
    applied: [Option<u64>; 2],
    caught_up_in: Option<Duration>,
    compared: usize,
    differ: usize,
}

/// Waits for both indexes to reach the store's latest revision, then asks both
/// the same `count` checks at that revision.
async fn verify(
    store: &Store,
    instances: &[Instance; 2],
    requests: &[pb::CheckRequest],
    count: usize,
) -> Result<Verdict, String> {
    let head = store.latest_revision().await.map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut verdict = Verdict {
        head,
        applied: [None; 2],
        caught_up_in: None,
        compared: 0,
        differ: 0,
    };
    while started.elapsed() < Duration::from_secs(60) {
        for (i, instance) in instances.iter().enumerate() {
            verdict.applied[i] = instance.index().await.map(|(applied, _)| applied);
        }
        if verdict.applied.iter().all(|a| *a == Some(head)) {
            verdict.caught_up_in = Some(started.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut clients = [
        connect(instances[0].addr).await?,
        connect(instances[1].addr).await?,
    ];
    let step = (requests.len() / count.max(1)).max(1);
    let chosen: Vec<pb::CheckRequest> = requests
        .iter()
        .step_by(step)
        .take(count)
        .map(|r| pb::CheckRequest {
            min_revision: head,
            ..r.clone()
        })
        .collect();
    for batch in chosen.chunks(100) {
        let request = pb::BatchCheckRequest {
            checks: batch.to_vec(),
        };
        let mut answers = Vec::new();
        for client in &mut clients {
            let answer = client
                .batch_check::<pb::BatchCheckResponse>(request.clone())
                .await
                .map_err(|s| format!("BatchCheck: {s}"))?
                .results;
            answers.push(answer);
        }
        for (a, b) in answers[0].iter().zip(&answers[1]) {
            verdict.compared += 1;
            if a.allowed != b.allowed || a.error.is_some() != b.error.is_some() {
                verdict.differ += 1;
            }
        }
    }
    Ok(verdict)
}

fn summarize(
    samples: &[Sample],
    block_latencies: &[Vec<u32>],
    block: Duration,
    counters: &Counters,
    verdict: &Verdict,
) {
    println!("\n## Per {block:?}\n");
    println!(
        "| minute | checks/s | writes/s | p99 ms | RSS A MiB (end) | RSS B MiB (end) | max rev lag A / B | max lag s A / B |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let mut rows = Vec::new();
    for (k, latencies) in block_latencies.iter().enumerate() {
        let in_block: Vec<&Sample> = samples.iter().filter(|s| s.block == k).collect();
        let Some(last) = in_block.last() else {
            continue;
        };
        let mean = |f: &dyn Fn(&Sample) -> f64| {
            in_block.iter().map(|s| f(s)).sum::<f64>() / in_block.len() as f64
        };
        let max_lag = |i: usize| in_block.iter().filter_map(|s| s.revision_lag[i]).max();
        let max_secs = |i: usize| {
            in_block
                .iter()
                .filter_map(|s| s.lag_secs[i])
                .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))
        };
        let mut sorted = latencies.clone();
        sorted.sort_unstable();
        let p99 = quantile_ms(&sorted, 0.99);
        let show = |v: Option<f64>| v.map_or("—".into(), |v| format!("{v:.1}"));
        let show_u = |v: Option<u64>| v.map_or("—".into(), |v| v.to_string());
        println!(
            "| {}–{} | {:.0} | {:.0} | {:.2} | {} | {} | {} / {} | {} / {} |",
            minutes(block * k as u32),
            minutes((block * (k as u32 + 1)).min(last.at)),
            mean(&|s| s.checks_per_sec),
            mean(&|s| s.writes_per_sec),
            p99,
            show(last.rss[0]),
            show(last.rss[1]),
            show_u(max_lag(0)),
            show_u(max_lag(1)),
            max_secs(0).map_or("—".into(), |v| format!("{v:.2}")),
            max_secs(1).map_or("—".into(), |v| format!("{v:.2}")),
        );
        rows.push((p99, last.rss[0]));
    }
    println!(
        "\nchecks answered {}, check errors {}, writes {}, refused {}, failed on both instances {}; load average at end {}",
        counters.checks.load(Relaxed),
        counters.check_errors.load(Relaxed),
        counters.writes.load(Relaxed),
        counters.writes_refused.load(Relaxed),
        counters.writes_failed.load(Relaxed),
        load_average()
    );
    if let (Some(first), Some(last)) = (rows.first(), rows.last()) {
        if let (Some(a), Some(b)) = (first.1, last.1) {
            println!(
                "- memory: A's RSS {a:.1} MiB after the first block, {b:.1} MiB at the end ({:+.1}%)",
                (b / a - 1.0) * 100.0
            );
        }
        println!(
            "- p99: {:.2} ms in the first block, {:.2} ms in the last ({:.2}×)",
            first.0,
            last.0,
            last.0 / first.0
        );
    }
    println!(
        "- catch-up: store at revision {}, A at {:?}, B (restarted) at {:?}{}",
        verdict.head,
        verdict.applied[0],
        verdict.applied[1],
        verdict
            .caught_up_in
            .map_or(" — NOT caught up within 60 s".into(), |d| format!(
                ", both there {d:.2?} after the load stopped"
            ))
    );
    println!(
        "- answers: {} checks asked of both at revision {}: {} differ — {}",
        verdict.compared,
        verdict.head,
        verdict.differ,
        if verdict.differ == 0 && verdict.caught_up_in.is_some() {
            "nothing missed"
        } else {
            "MISMATCH"
        }
    );
}
