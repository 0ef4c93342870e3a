//! The load: unary Check, BatchCheck and pipelined CheckStream runs against one
//! server, each bounded in time and in count, with a warm-up that is not counted.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use prost::Message;
use rbacd::engine::Engine;
use rbacd::proto::v1 as pb;
use rbacd_testkit::ApiKey;
use tokio::{sync::Semaphore, task::JoinHandle};
use tonic::transport::Channel;

use crate::decode::{Answer, Batch, Caller, Decode, LeanAnswer, LeanBatch};
use crate::{child::cpu_time, seed::Seeded};

/// Upper bound of checks in one run, whatever its duration.
const MAX_CHECKS_PER_RUN: u64 = 200_000_000;
/// Time a run may take past its duration to wind down (in-flight answers, stream ends).
const WIND_DOWN: Duration = Duration::from_secs(30);

pub type Client = Caller;

/// A client on a new connection to `addr`.
pub async fn connect(addr: SocketAddr) -> Result<Client, String> {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .map_err(|e| e.to_string())?
        .connect_timeout(Duration::from_secs(10))
        .connect()
        .await
        .map_err(|e| format!("connect to {addr}: {e}"))?;
    let key = ApiKey::new(crate::seed::API_KEY)?;
    Ok(Caller::new(key.on(channel)))
}

/// What a scenario sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Unary Check with this many calls in flight.
    Unary(usize),
    /// BatchCheck of `size` items with `concurrency` calls in flight.
    Batch { concurrency: usize, size: usize },
    /// This many CheckStreams, each pipelined with a window of in-flight checks.
    Stream(usize),
}

pub struct Scenario {
    pub name: &'static str,
    pub kind: Kind,
}

pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "unary-c1",
        kind: Kind::Unary(1),
    },
    Scenario {
        name: "unary-c32",
        kind: Kind::Unary(32),
    },
    Scenario {
        name: "batch100-c1",
        kind: Kind::Batch {
            concurrency: 1,
            size: 100,
        },
    },
    Scenario {
        name: "batch100-c8",
        kind: Kind::Batch {
            concurrency: 8,
            size: 100,
        },
    },
    Scenario {
        name: "stream-1",
        kind: Kind::Stream(1),
    },
    Scenario {
        name: "stream-8",
        kind: Kind::Stream(8),
    },
];

/// How long a run lasts.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub warmup: Duration,
    pub duration: Duration,
    /// Checks in flight per stream.
    pub window: usize,
    /// How much of each answer the client decodes.
    pub decode: Decode,
}

/// The requests a run cycles through, prebuilt.
pub struct Workload {
    pub requests: Vec<pb::CheckRequest>,
    pub batches: Vec<pb::BatchCheckRequest>,
}

impl Workload {
    /// Every query as a request, and batches of `batch_size` consecutive queries.
    pub fn new(seeded: &Seeded, batch_size: usize) -> Self {
        let requests: Vec<pb::CheckRequest> = seeded
            .queries
            .iter()
            .enumerate()
            .map(|(i, q)| crate::query::request(q, format!("q{i}")))
            .collect();
        let batches = requests
            .chunks_exact(batch_size)
            .map(|c| pb::BatchCheckRequest { checks: c.to_vec() })
            .collect();
        Self { requests, batches }
    }
}

/// The outcome of one run.
#[derive(Clone, Debug, Default)]
pub struct RunResult {
    /// Checks answered inside the measured window.
    pub checks: u64,
    pub elapsed: Duration,
    /// Nanoseconds per call (unary and batch), inside the window.
    pub latencies: Vec<u64>,
    pub server_cpu: Duration,
    pub client_cpu: Duration,
    pub allowed: u64,
    /// Answers carrying an `error` (must be 0: every query is well formed).
    pub errors: u64,
    /// Stream answers whose correlation id is not the next one sent (must be 0).
    pub out_of_order: u64,
}

impl RunResult {
    pub fn checks_per_sec(&self) -> f64 {
        self.checks as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The `q`-quantile (0..=1) of call latency in milliseconds; latencies must be sorted.
    pub fn latency_ms(&self, q: f64) -> Option<f64> {
        if self.latencies.is_empty() {
            return None;
        }
        let rank =
            ((self.latencies.len() as f64 * q).ceil() as usize).clamp(1, self.latencies.len());
        Some(self.latencies[rank - 1] as f64 / 1e6)
    }

    /// Server CPU per check, in microseconds.
    pub fn server_us_per_check(&self) -> f64 {
        self.server_cpu.as_secs_f64() * 1e6 / self.checks.max(1) as f64
    }
}

#[derive(Default)]
struct Control {
    measuring: AtomicBool,
    stop: AtomicBool,
}

#[derive(Default)]
struct Partial {
    checks: u64,
    latencies: Vec<u64>,
    allowed: u64,
    errors: u64,
    out_of_order: u64,
}

/// Runs `kind` against the server at `addr` (process `server_pid`) for `plan`.
pub async fn run(
    kind: Kind,
    addr: SocketAddr,
    server_pid: u32,
    workload: &Arc<Workload>,
    plan: Plan,
) -> Result<RunResult, String> {
    let client = connect(addr).await?;
    let control = Arc::new(Control::default());
    let tasks: Vec<JoinHandle<Result<Partial, String>>> = match plan.decode {
        Decode::Full => spawn::<pb::CheckResponse, pb::BatchCheckResponse>(
            kind, &client, workload, &control, plan,
        ),
        Decode::Lean => spawn::<LeanAnswer, LeanBatch>(kind, &client, workload, &control, plan),
    };
    let server = server_pid.to_string();
    tokio::time::sleep(plan.warmup).await;
    let (server_cpu, client_cpu) = (cpu_time(&server), cpu_time("self"));
    control.measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(plan.duration).await;
    control.measuring.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed();
    let (server_cpu, client_cpu) = (
        cpu_time(&server).saturating_sub(server_cpu),
        cpu_time("self").saturating_sub(client_cpu),
    );
    control.stop.store(true, Ordering::Relaxed);
    let mut result = RunResult {
        elapsed,
        server_cpu,
        client_cpu,
        ..Default::default()
    };
    for task in tasks {
        let partial = tokio::time::timeout(WIND_DOWN, task)
            .await
            .map_err(|_| format!("a {kind:?} task did not end within {WIND_DOWN:?} of its run"))?
            .map_err(|e| format!("a {kind:?} task failed: {e}"))??;
        result.checks += partial.checks;
        result.latencies.extend(partial.latencies);
        result.allowed += partial.allowed;
        result.errors += partial.errors;
        result.out_of_order += partial.out_of_order;
    }
    result.latencies.sort_unstable();
    Ok(result)
}

/// The tasks of one run, decoding answers as `A` and batch answers as `B`.
fn spawn<A: Answer, B: Batch>(
    kind: Kind,
    client: &Client,
    workload: &Arc<Workload>,
    control: &Arc<Control>,
    plan: Plan,
) -> Vec<JoinHandle<Result<Partial, String>>> {
    let (calls, len) = match kind {
        Kind::Unary(n) | Kind::Stream(n) => (n, workload.requests.len()),
        Kind::Batch { concurrency: n, .. } => (n, workload.batches.len()),
    };
    (0..calls)
        .map(|k| {
            let start = k * len / calls;
            let (client, workload, control) =
                (client.clone(), Arc::clone(workload), Arc::clone(control));
            let tasks = calls as u64;
            match kind {
                Kind::Unary(_) => tokio::spawn(unary::<A>(client, workload, control, start, tasks)),
                Kind::Batch { .. } => {
                    tokio::spawn(batch::<B>(client, workload, control, start, tasks))
                }
                Kind::Stream(_) => tokio::spawn(stream::<A>(
                    client,
                    workload,
                    control,
                    start,
                    plan.window,
                    tasks,
                )),
            }
        })
        .collect()
}

async fn unary<A: Answer>(
    mut client: Client,
    workload: Arc<Workload>,
    control: Arc<Control>,
    start: usize,
    tasks: u64,
) -> Result<Partial, String> {
    let mut partial = Partial::default();
    let requests = &workload.requests;
    let mut i = start;
    let mut calls = 0;
    while !control.stop.load(Ordering::Relaxed) && calls < MAX_CHECKS_PER_RUN / tasks {
        let request = requests[i % requests.len()].clone();
        i += 1;
        calls += 1;
        let sent = Instant::now();
        let answer: A = client
            .check(request)
            .await
            .map_err(|s| format!("Check: {s}"))?;
        let took = sent.elapsed();
        if control.measuring.load(Ordering::Relaxed) {
            partial.latencies.push(took.as_nanos() as u64);
            partial.checks += 1;
            partial.allowed += u64::from(answer.allowed());
            partial.errors += u64::from(answer.has_error());
        }
    }
    Ok(partial)
}

async fn batch<B: Batch>(
    mut client: Client,
    workload: Arc<Workload>,
    control: Arc<Control>,
    start: usize,
    tasks: u64,
) -> Result<Partial, String> {
    let mut partial = Partial::default();
    let batches = &workload.batches;
    let mut i = start;
    let mut checks = 0;
    while !control.stop.load(Ordering::Relaxed) && checks < MAX_CHECKS_PER_RUN / tasks {
        let request = batches[i % batches.len()].clone();
        i += 1;
        checks += request.checks.len() as u64;
        let sent = Instant::now();
        let answer: B = client
            .batch_check(request)
            .await
            .map_err(|s| format!("BatchCheck: {s}"))?;
        let took = sent.elapsed();
        if control.measuring.load(Ordering::Relaxed) {
            partial.latencies.push(took.as_nanos() as u64);
            partial.checks += answer.results().len() as u64;
            for r in answer.results() {
                partial.allowed += u64::from(r.allowed());
                partial.errors += u64::from(r.has_error());
            }
        }
    }
    Ok(partial)
}

/// One CheckStream, pipelined: the request stream (polled by the connection's
/// sending task, the writer) yields a check whenever fewer than `window` are in
/// flight, while this task reads the answers and returns their permits.
async fn stream<A: Answer>(
    mut client: Client,
    workload: Arc<Workload>,
    control: Arc<Control>,
    start: usize,
    window: usize,
    streams: u64,
) -> Result<Partial, String> {
    struct Writer {
        workload: Arc<Workload>,
        control: Arc<Control>,
        in_flight: Arc<Semaphore>,
        next: usize,
        left: u64,
    }
    let in_flight = Arc::new(Semaphore::new(window));
    let writer = Writer {
        workload: Arc::clone(&workload),
        control: Arc::clone(&control),
        in_flight: Arc::clone(&in_flight),
        next: start,
        left: MAX_CHECKS_PER_RUN / streams,
    };
    // Ending the request stream half-closes the call; the server then ends it.
    let outbound = futures::stream::unfold(writer, |mut w| async move {
        if w.left == 0 || w.control.stop.load(Ordering::Relaxed) {
            return None;
        }
        w.in_flight.acquire().await.ok()?.forget();
        let requests = &w.workload.requests;
        let request = requests[w.next % requests.len()].clone();
        w.next += 1;
        w.left -= 1;
        Some((request, w))
    });
    let mut answers = client
        .check_stream::<A>(outbound)
        .await
        .map_err(|s| format!("CheckStream: {s}"))?;
    let mut partial = Partial::default();
    let requests = &workload.requests;
    let mut expected = start;
    while let Some(answer) = answers
        .message()
        .await
        .map_err(|s| format!("CheckStream: {s}"))?
    {
        in_flight.add_permits(1);
        if answer.correlation_id() != requests[expected % requests.len()].correlation_id {
            partial.out_of_order += 1;
        }
        expected += 1;
        if control.measuring.load(Ordering::Relaxed) {
            partial.checks += 1;
            partial.allowed += u64::from(answer.allowed());
            partial.errors += u64::from(answer.has_error());
        }
    }
    // Wakes a writer waiting for a permit no answer will return.
    in_flight.close();
    Ok(partial)
}

/// How rbacd's answers compare with the engine's, computed in this process.
pub struct Verification {
    pub checked: usize,
    pub agreed: usize,
    pub allowed: usize,
    pub errors: usize,
    /// Mean encoded size of an answer without its correlation id.
    pub mean_answer_bytes: usize,
}

/// Asks rbacd every query (in batches) and compares each answer with the engine's.
pub async fn verify(
    addr: SocketAddr,
    seeded: &Seeded,
    workload: &Workload,
) -> Result<Verification, String> {
    let snapshot = seeded.snapshot.clone().ok_or("no snapshot kept")?;
    let engine: Engine = Engine::from_snapshot(snapshot);
    let mut client = connect(addr).await?;
    let mut v = Verification {
        checked: 0,
        agreed: 0,
        allowed: 0,
        errors: 0,
        mean_answer_bytes: 0,
    };
    let mut bytes = 0;
    for (chunk, queries) in workload
        .requests
        .chunks(100)
        .zip(seeded.queries.chunks(100))
    {
        let answers = client
            .batch_check::<pb::BatchCheckResponse>(pb::BatchCheckRequest {
                checks: chunk.to_vec(),
            })
            .await
            .map_err(|s| format!("BatchCheck: {s}"))?
            .results;
        for (mut answer, q) in answers.into_iter().zip(queries) {
            let expected = engine.check(
                seeded.environment,
                &q.identity,
                &q.permission,
                &q.node,
                q.at,
            );
            v.checked += 1;
            v.agreed += usize::from(answer.allowed == expected.allowed && answer.error.is_none());
            v.allowed += usize::from(answer.allowed);
            v.errors += usize::from(answer.error.is_some());
            answer.correlation_id.clear();
            bytes += answer.encoded_len();
        }
    }
    v.mean_answer_bytes = bytes / v.checked.max(1);
    Ok(v)
}
