//! `rbacd-loadgen writes`: assignment writes through one or more rbacd binaries
//! (`rbacd serve`, a release build) side by side with a bare SQL loop doing the
//! same inserts through sqlx on the same database.
//!
//! ```text
//! rbacd-loadgen writes --rbacd /tmp/rbacd-before --rbacd /tmp/rbacd-after \
//!     --postgres postgres://postgres@127.0.0.1:5432/test --duration 5s
//! ```
//!
//! Each database kind (`--databases sqlite,postgres`) gets a fresh database
//! seeded with identities, roles and nodes but no assignments; every write then
//! grants a triple (identity, role, node) never granted before, so none is
//! refused. Scenarios: `unary` (CreateAssignment) and `batch` (BatchCreateAssignments
//! of `--batch` items), each at every `--concurrency` (calls in flight). For each
//! scenario every binary is started afresh on the database, loaded for a warm-up
//! and `--duration`, and stopped; then the bare loop runs the same scenario:
//! per call one transaction inserting, row by row, the assignment row and its
//! change-log row (a batch: `--batch` of each in one transaction). Reported:
//! assignments written per second, each call's p50 and p99, and the share of
//! the bare loop's assignments/s.

use std::{
    net::SocketAddr,
    path::PathBuf,
    str::FromStr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, Instant},
};

use rbacd::proto::v1::{self as pb, assignment_service_client::AssignmentServiceClient};
use rbacd_dataset::DatasetSpec;
use rbacd_testkit::{ApiKey, Authed, FreshDb};
use sea_orm::sqlx::{
    self,
    postgres::{PgPool, PgPoolOptions},
    sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
    },
    types::Uuid,
};
use tokio::process::{Child, Command};
use tonic::transport::Channel;

use crate::child::load_average;

/// What the writes benchmark runs.
#[derive(clap::Args, Clone, Debug)]
pub struct WritesArgs {
    /// An rbacd binary to measure (a release build); repeat to compare builds side by side.
    #[arg(long, required = true)]
    rbacd: Vec<PathBuf>,
    /// The PostgreSQL server; a fresh database is created on it and dropped at the end.
    #[arg(long, env = "RBACD_TEST_DATABASE_URL")]
    postgres: Option<String>,
    /// Database kinds to run on.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    databases: Vec<String>,
    /// Calls in flight.
    #[arg(long, value_delimiter = ',', default_value = "1,16")]
    concurrency: Vec<usize>,
    /// Scenarios: `unary`, `batch`.
    #[arg(long, value_delimiter = ',', default_value = "unary,batch")]
    scenario: Vec<String>,
    /// Assignments per BatchCreateAssignments.
    #[arg(long, default_value_t = 1000)]
    batch: usize,
    /// How long each measured run lasts, after a warm-up of a fifth of it.
    #[arg(long, default_value = "5s", value_parser = rbacd::config::parse_duration)]
    duration: Duration,
    /// Rounds; each runs every scenario once per binary and once bare, alternating the order.
    #[arg(long, default_value_t = 1)]
    rounds: usize,
    /// Where rbacd's logs go (`writes-N.log`).
    #[arg(long, default_value = "/tmp")]
    log_dir: PathBuf,
}

/// The seeded world the writes draw their triples from.
struct World {
    environment: Uuid,
    identities: Vec<Uuid>,
    roles: Vec<Uuid>,
    nodes: Vec<Uuid>,
    /// The next triple to grant; shared by every run on this database.
    next: AtomicU64,
}

impl World {
    /// A triple granted by no earlier call.
    fn triple(&self) -> (Uuid, Uuid, Uuid) {
        let k = self.next.fetch_add(1, Relaxed) as usize;
        let (i, r) = (self.identities.len(), self.roles.len());
        (
            self.identities[k % i],
            self.roles[(k / i) % r],
            self.nodes[(k / (i * r)) % self.nodes.len()],
        )
    }
}

/// Identities, roles and nodes enough for tens of millions of distinct triples.
const WORLD: DatasetSpec = DatasetSpec {
    nodes: 200,
    depth: 3,
    identities: 5_000,
    roles: 20,
    permissions_per_role: 2,
    assignments: 0,
    seed: 7,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Unary,
    Batch,
}

/// One measured run.
#[derive(Clone, Debug, Default)]
struct Measured {
    assignments: u64,
    calls: u64,
    errors: u64,
    first_error: Option<String>,
    secs: f64,
    /// Each call's latency, microseconds, sorted.
    latencies: Vec<u32>,
}

impl Measured {
    fn per_sec(&self) -> f64 {
        self.assignments as f64 / self.secs.max(1e-9)
    }

    fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies.len() - 1) as f64 * q).round() as usize;
        f64::from(self.latencies[i]) / 1000.0
    }

    fn merge(&mut self, other: Measured) {
        self.assignments += other.assignments;
        self.calls += other.calls;
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        self.latencies.extend(other.latencies);
    }
}

pub async fn run(args: WritesArgs) -> Result<(), String> {
    println!("# rbacd writes\n");
    println!(
        "binaries: {}; duration {:?} per run (+{:?} warm-up), {} round(s); load average at start {}",
        args.rbacd
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        args.duration,
        args.duration / 5,
        args.rounds,
        load_average()
    );
    let mut rows = Vec::new();
    for kind in &args.databases {
        let db = match kind.as_str() {
            "sqlite" => FreshDb::sqlite(),
            "postgres" => match &args.postgres {
                Some(url) => FreshDb::postgres(url).await?,
                None => {
                    println!("postgres: skipped (no --postgres)");
                    continue;
                }
            },
            other => return Err(format!("unknown database kind `{other}`")),
        };
        rows.extend(on_database(&args, kind, &db).await?);
    }
    println!(
        "\n| database | scenario | conc. | who | assignments/s | calls/s | p50 ms | p99 ms | % of bare | errors |"
    );
    println!("|---|---|---:|---|---:|---:|---:|---:|---:|---:|");
    for row in &rows {
        println!("{row}");
    }
    println!("\nload average at end {}", load_average());
    Ok(())
}

async fn on_database(args: &WritesArgs, kind: &str, db: &FreshDb) -> Result<Vec<String>, String> {
    let seeded = crate::seed::seed(db.url(), WORLD, 0, true).await?;
    let state = &seeded
        .snapshot
        .as_ref()
        .ok_or("the seeding kept no snapshot")?
        .environments[0]
        .1;
    let world = Arc::new(World {
        environment: seeded.environment.0,
        identities: state.identities.iter().map(|i| i.id.0).collect(),
        roles: state.roles.iter().map(|r| r.id.0).collect(),
        nodes: state.nodes.iter().map(|n| n.id.0).collect(),
        next: AtomicU64::new(0),
    });
    println!(
        "{kind}: seeded {} identities, {} roles, {} nodes",
        world.identities.len(),
        world.roles.len(),
        world.nodes.len()
    );
    let bare = Bare::connect(db, args.concurrency.iter().copied().max().unwrap_or(1)).await?;
    let mut rows = Vec::new();
    for shape in [Shape::Unary, Shape::Batch] {
        let name = match shape {
            Shape::Unary => "unary",
            Shape::Batch => "batch",
        };
        if !args.scenario.iter().any(|s| name.contains(s.as_str())) {
            continue;
        }
        for &conc in &args.concurrency {
            let mut results = vec![Measured::default(); args.rbacd.len() + 1];
            for round in 0..args.rounds {
                let mut order: Vec<usize> = (0..results.len()).collect();
                if round % 2 == 1 {
                    order.reverse();
                }
                for who in order {
                    let measured = if who < args.rbacd.len() {
                        let server = Server::start(args, who, db.url()).await?;
                        let done = drive_rbacd(&server, &world, shape, conc, args).await;
                        server.stop().await;
                        done?
                    } else {
                        drive_bare(&bare, &world, shape, conc, args).await
                    };
                    results[who].merge(measured);
                    results[who].secs += args.duration.as_secs_f64();
                }
            }
            for r in &mut results {
                r.latencies.sort_unstable();
            }
            let ceiling = results[args.rbacd.len()].per_sec();
            let label = |who: usize| {
                if who < args.rbacd.len() {
                    args.rbacd[who]
                        .file_name()
                        .map_or_else(|| format!("rbacd {who}"), |f| f.to_string_lossy().into())
                } else {
                    "bare SQL".to_owned()
                }
            };
            let scenario = match shape {
                Shape::Unary => "CreateAssignment".to_owned(),
                Shape::Batch => format!("BatchCreateAssignments({})", args.batch),
            };
            for (who, r) in results.iter().enumerate() {
                let row = format!(
                    "| {kind} | {scenario} | {conc} | {} | {:.0} | {:.1} | {:.2} | {:.2} | {:.0}% | {}{} |",
                    label(who),
                    r.per_sec(),
                    r.calls as f64 / r.secs.max(1e-9),
                    r.quantile_ms(0.5),
                    r.quantile_ms(0.99),
                    100.0 * r.per_sec() / ceiling.max(1e-9),
                    r.errors,
                    r.first_error
                        .as_deref()
                        .map(|e| format!(" ({})", e.chars().take(80).collect::<String>()))
                        .unwrap_or_default(),
                );
                println!("{row}");
                rows.push(row);
            }
        }
    }
    Ok(rows)
}

/// Runs `conc` workers calling `call` until the warm-up and `args.duration` have passed.
async fn drive<F, Fut>(conc: usize, args: &WritesArgs, call: F) -> Measured
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<u64, String>> + Send,
{
    let warm = Instant::now() + args.duration / 5;
    let end = warm + args.duration;
    let mut workers = Vec::new();
    for w in 0..conc {
        let call = call.clone();
        workers.push(tokio::spawn(async move {
            let mut m = Measured::default();
            loop {
                let started = Instant::now();
                if started >= end {
                    break;
                }
                let done = call(w).await;
                let took = started.elapsed();
                if started < warm {
                    continue;
                }
                m.calls += 1;
                m.latencies
                    .push(u32::try_from(took.as_micros()).unwrap_or(u32::MAX));
                match done {
                    Ok(n) => m.assignments += n,
                    Err(e) => {
                        m.errors += 1;
                        m.first_error.get_or_insert(e);
                    }
                }
            }
            m
        }));
    }
    let mut all = Measured::default();
    for w in workers {
        if let Ok(m) = w.await {
            all.merge(m);
        }
    }
    all
}

fn create_request(world: &World) -> pb::CreateAssignmentRequest {
    let (identity, role, node) = world.triple();
    pb::CreateAssignmentRequest {
        identity: Some(pb::IdentityRef {
            r#ref: Some(pb::identity_ref::Ref::Id(identity.to_string())),
        }),
        role: Some(pb::RoleRef {
            r#ref: Some(pb::role_ref::Ref::Id(role.to_string())),
        }),
        node: Some(pb::NodeRef {
            r#ref: Some(pb::node_ref::Ref::Id(node.to_string())),
        }),
        ..Default::default()
    }
}

async fn drive_rbacd(
    server: &Server,
    world: &Arc<World>,
    shape: Shape,
    conc: usize,
    args: &WritesArgs,
) -> Result<Measured, String> {
    let mut clients = Vec::new();
    for _ in 0..conc {
        clients.push(client(server.addr).await?);
    }
    let clients = Arc::new(clients);
    let (world, batch) = (Arc::clone(world), args.batch);
    Ok(drive(conc, args, move |w| {
        let mut client = clients[w].clone();
        let world = Arc::clone(&world);
        async move {
            match shape {
                Shape::Unary => client
                    .create_assignment(create_request(&world))
                    .await
                    .map(|_| 1)
                    .map_err(|s| format!("{:?}: {}", s.code(), s.message())),
                Shape::Batch => {
                    let request = pb::BatchCreateAssignmentsRequest {
                        assignments: (0..batch).map(|_| create_request(&world)).collect(),
                        ..Default::default()
                    };
                    client
                        .batch_create_assignments(request)
                        .await
                        .map(|made| made.into_inner().assignments.len() as u64)
                        .map_err(|s| format!("{:?}: {}", s.code(), s.message()))
                }
            }
        }
    })
    .await)
}

async fn client(addr: SocketAddr) -> Result<AssignmentServiceClient<Authed>, String> {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .map_err(|e| e.to_string())?
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
        .map_err(|e| format!("connect to {addr}: {e}"))?;
    let key = ApiKey::new(crate::seed::API_KEY)?;
    Ok(AssignmentServiceClient::new(key.on(channel))
        .max_decoding_message_size(64 << 20)
        .max_encoding_message_size(64 << 20))
}

/// One `rbacd serve` process.
struct Server {
    addr: SocketAddr,
    child: Child,
}

impl Server {
    /// Starts binary `which` on `url` and waits until it answers a write's read side.
    async fn start(args: &WritesArgs, which: usize, url: &str) -> Result<Self, String> {
        let (binary, path) = (
            &args.rbacd[which],
            args.log_dir.join(format!("writes-{which}.log")),
        );
        let addr = crate::child::free_port()?;
        let child =
            crate::child::spawn_rbacd(binary, url, addr, crate::child::free_port()?, &path)?;
        let server = Self { addr, child };
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            if let Ok(mut c) = client(addr).await
                && c.list_assignments(pb::ListAssignmentsRequest {
                    page_size: 1,
                    ..Default::default()
                })
                .await
                .is_ok()
            {
                return Ok(server);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!(
            "{} did not answer within 60 s (log: {})",
            binary.display(),
            path.display()
        ))
    }

    /// SIGTERM, then waits for the process to end (SIGKILL after 30 s).
    async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await;
        }
        if tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

/// The bare loop's connections: sqlx, as rbacd's SeaORM uses it.
enum Bare {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Bare {
    async fn connect(db: &FreshDb, conc: usize) -> Result<Self, String> {
        let size = u32::try_from(conc + 1).unwrap_or(u32::MAX);
        // No ping on checkout, as rbacd's pool (its connections are in use).
        if db.is_postgres() {
            let pool = PgPoolOptions::new()
                .max_connections(size)
                .test_before_acquire(false)
                .connect(db.url())
                .await
                .map_err(|e| format!("bare: connect: {e}"))?;
            return Ok(Self::Postgres(pool));
        }
        // rbacd's own settings (see `Store::connect_in_schema`).
        let options = SqliteConnectOptions::from_str(db.url())
            .map_err(|e| format!("bare: {e}"))?
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(size)
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(|e| format!("bare: connect: {e}"))?;
        Ok(Self::Sqlite(pool))
    }
}

const INSERT_ASSIGNMENT: &str = "INSERT INTO assignments (id, environment_id, identity_id, role_id, node_id, effective_from, effective_to, created_at) VALUES ($1, $2, $3, $4, $5, NULL, NULL, $6)";
const INSERT_CHANGE: &str = "INSERT INTO changes (environment_id, at, actor_id, action, object_kind, object_id, before, after, signed_by) VALUES ($1, $2, NULL, $3, 'ASSIGNMENT', $4, NULL, $5, NULL)";

/// The values of one assignment row and its change row.
struct Row {
    id: Uuid,
    identity: Uuid,
    role: Uuid,
    node: Uuid,
    at: i64,
    after: String,
}

impl Row {
    fn new(world: &World) -> Self {
        let (identity, role, node) = world.triple();
        let id = rbacd::domain::AssignmentId::generate().0;
        let at = rbacd::domain::Timestamp::now().micros();
        // The after-image's shape as rbacd writes it.
        let after = format!(
            r#"{{"id":"{id}","environment_id":"{}","identity_id":"{identity}","role_id":"{role}","node_id":"{node}","effective_from":null,"effective_to":null,"created_at":{at}}}"#,
            world.environment
        );
        Self {
            id,
            identity,
            role,
            node,
            at,
            after,
        }
    }
}

/// Inserts `rows` assignment rows, each with its change row, in one
/// transaction of `pool` (the same code for either driver).
macro_rules! bare_transaction {
    ($pool:expr, $world:expr, $rows:expr) => {{
        let (pool, world, rows) = ($pool, $world, $rows);
        let mut tx = pool.begin().await.map_err(|e| e.to_string())?;
        for _ in 0..rows {
            let row = Row::new(world);
            sqlx::query(INSERT_ASSIGNMENT)
                .bind(row.id)
                .bind(world.environment)
                .bind(row.identity)
                .bind(row.role)
                .bind(row.node)
                .bind(row.at)
                .execute(&mut *tx)
                .await
                .map_err(|e| e.to_string())?;
            sqlx::query(INSERT_CHANGE)
                .bind(world.environment)
                .bind(row.at)
                .bind("CreateAssignment")
                .bind(row.id)
                .bind(row.after)
                .execute(&mut *tx)
                .await
                .map_err(|e| e.to_string())?;
        }
        tx.commit().await.map_err(|e| e.to_string())?;
        Ok(rows as u64)
    }};
}

async fn bare_sqlite(pool: &SqlitePool, world: &World, rows: usize) -> Result<u64, String> {
    bare_transaction!(pool, world, rows)
}

async fn bare_postgres(pool: &PgPool, world: &World, rows: usize) -> Result<u64, String> {
    bare_transaction!(pool, world, rows)
}

async fn drive_bare(
    bare: &Bare,
    world: &Arc<World>,
    shape: Shape,
    conc: usize,
    args: &WritesArgs,
) -> Measured {
    let rows = match shape {
        Shape::Unary => 1,
        Shape::Batch => args.batch,
    };
    let world = Arc::clone(world);
    match bare {
        Bare::Sqlite(pool) => {
            let pool = pool.clone();
            drive(conc, args, move |_| {
                let (pool, world) = (pool.clone(), Arc::clone(&world));
                async move { bare_sqlite(&pool, &world, rows).await }
            })
            .await
        }
        Bare::Postgres(pool) => {
            let pool = pool.clone();
            drive(conc, args, move |_| {
                let (pool, world) = (pool.clone(), Arc::clone(&world));
                async move { bare_postgres(&pool, &world, rows).await }
            })
            .await
        }
    }
}
