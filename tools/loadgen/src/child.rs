//! Servers as child processes of the load generator (the same binary, with a
//! hidden subcommand), each with its own tokio runtime as in a deployment;
//! and what `/proc` says about a process.
//!
//! A child prints one JSON line on stdout once it is ready, then serves until
//! its stdin closes (so it also ends when the load generator dies).

use std::{
    net::SocketAddr,
    process::Stdio,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use rbacd::{
    proto::v1::authorization_service_server::AuthorizationServiceServer,
    server::{App, Settings},
};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, BufReader},
    process::{Child, Command},
};
use tonic::transport::server::TcpIncoming;

use crate::{noop::Noop, seed::API_KEY};

/// How long a child may take to get ready (the large dataset takes a while).
const READY_TIMEOUT: Duration = Duration::from_secs(900);

/// A port on 127.0.0.1 free at the moment.
pub fn free_port() -> Result<SocketAddr, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("a free port: {e}"))
}

/// Starts `rbacd serve` from `binary` on `database_url`, listening on `addr`
/// with metrics on `metrics`, its output appended to `log`; killed when dropped.
pub fn spawn_rbacd(
    binary: &std::path::Path,
    database_url: &str,
    addr: SocketAddr,
    metrics: SocketAddr,
    log: &std::path::Path,
) -> Result<Child, String> {
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| format!("{}: {e}", log.display()))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    Command::new(binary)
        .args(["serve", "--database-url", database_url, "--listen"])
        .arg(addr.to_string())
        .arg("--metrics-listen")
        .arg(metrics.to_string())
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("start {}: {e}", binary.display()))
}

// ---------------------------------------------------------------- child side

/// Serves rbacd (on `database_url`) or the no-op on 127.0.0.1:0 until stdin closes.
///
/// Both serve accepted sockets with TCP_NODELAY: rbacd as `App::serve_tcp` does,
/// the no-op as tonic's own `Server::serve` does.
pub async fn serve(
    database_url: Option<String>,
    noop_response_bytes: Option<usize>,
    noop_spawned_stream: bool,
) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .map_err(|e| format!("bind 127.0.0.1:0: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    match (database_url, noop_response_bytes) {
        (Some(url), _) => {
            let (app, opened) = open_app(&url).await?;
            let mut ready = opened;
            ready["addr"] = json!(addr.to_string());
            println!("{ready}");
            app.serve_tcp(listener, stdin_closed())
                .await
                .map_err(|e| format!("serve: {e}"))
        }
        (None, bytes) => {
            let noop = Noop::new(bytes.unwrap_or(0), noop_spawned_stream);
            println!(
                "{}",
                json!({ "addr": addr.to_string(), "response_bytes": noop.response_bytes() })
            );
            tonic::transport::Server::builder()
                .add_service(AuthorizationServiceServer::new(noop))
                .serve_with_incoming_shutdown(
                    TcpIncoming::from(listener).with_nodelay(Some(true)),
                    stdin_closed(),
                )
                .await
                .map_err(|e| format!("serve: {e}"))
        }
    }
}

/// Opens rbacd on `database_url`, prints how long it took and the memory, and exits.
pub async fn open(database_url: String) -> Result<(), String> {
    let (app, opened) = open_app(&database_url).await?;
    println!("{opened}");
    // Dropping a large index takes a while and measures nothing.
    std::mem::forget(app);
    Ok(())
}

/// Where `App::open`'s time goes: the snapshot read (`Store::load_snapshot`), the
/// index build (`Engine::from_snapshot`) and the release of the snapshot's freed
/// memory, timed apart; prints them and exits.
pub async fn breakdown(database_url: String) -> Result<(), String> {
    let store = rbacd::store::Store::connect(&database_url)
        .await
        .map_err(|e| e.to_string())?;
    let (started, cpu_before) = (Instant::now(), cpu_time("self"));
    let snapshot = store.load_snapshot().await.map_err(|e| e.to_string())?;
    let read_ms = started.elapsed().as_secs_f64() * 1000.0;
    let read_cpu = cpu_time("self").saturating_sub(cpu_before);
    let after_read = memory_kib("self");
    let started = Instant::now();
    let engine: rbacd::engine::Engine = rbacd::engine::Engine::from_snapshot(snapshot);
    let build_ms = started.elapsed().as_secs_f64() * 1000.0;
    let build_cpu = cpu_time("self").saturating_sub(cpu_before + read_cpu);
    let after_build = memory_kib("self");
    let started = Instant::now();
    rbacd::memory::release_freed_memory();
    let trim_ms = started.elapsed().as_secs_f64() * 1000.0;
    let memory = memory_kib("self");
    println!(
        "{}",
        json!({
            "read_ms": read_ms,
            "build_ms": build_ms,
            "trim_ms": trim_ms,
            "read_cpu_ms": read_cpu.as_secs_f64() * 1000.0,
            "build_cpu_ms": build_cpu.as_secs_f64() * 1000.0,
            "rss_after_read_kib": after_read.map(|m| m.0),
            "rss_after_build_kib": after_build.map(|m| m.0),
            "rss_kib": memory.map(|m| m.0),
            "hwm_kib": memory.map(|m| m.1),
            "index_heap_bytes": engine.heap_bytes(),
        })
    );
    std::mem::forget(engine);
    Ok(())
}

/// `App::open`, timed, with the time of its snapshot load + index build and the RSS after.
async fn open_app(url: &str) -> Result<(App, Value), String> {
    let index_ms = Arc::new(AtomicU64::new(u64::MAX));
    install_index_timer(Arc::clone(&index_ms));
    let mut settings = Settings::new(url);
    settings.bootstrap_api_key = Some(API_KEY.to_owned());
    let started = Instant::now();
    let app = App::open(settings)
        .await
        .map_err(|e| format!("App::open: {e}"))?;
    let open_ms = started.elapsed().as_secs_f64() * 1000.0;
    let cpu_ms = cpu_time("self").as_secs_f64() * 1000.0;
    let memory = memory_kib("self");
    let index_ms = index_ms.load(Ordering::Relaxed);
    Ok((
        app,
        json!({
            "open_ms": open_ms,
            "cpu_ms": cpu_ms,
            "index_ms": (index_ms != u64::MAX).then_some(index_ms),
            "rss_kib": memory.map(|m| m.0),
            "hwm_kib": memory.map(|m| m.1),
        }),
    ))
}

/// Records the `elapsed_ms` of rbacd's "index loaded" event (snapshot read + index build).
fn install_index_timer(into: Arc<AtomicU64>) {
    use tracing_subscriber::{
        Layer, filter::Targets, layer::SubscriberExt, util::SubscriberInitExt,
    };

    struct IndexTimer(Arc<AtomicU64>);

    #[derive(Default)]
    struct Fields {
        message: String,
        elapsed_ms: Option<u64>,
    }

    impl tracing::field::Visit for Fields {
        fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
            if field.name() == "elapsed_ms" {
                self.elapsed_ms = Some(value);
            }
        }
        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
            if field.name() == "message" {
                self.message = format!("{value:?}");
            }
        }
    }

    impl<S: tracing::Subscriber> Layer<S> for IndexTimer {
        fn on_event(
            &self,
            event: &tracing::Event<'_>,
            _: tracing_subscriber::layer::Context<'_, S>,
        ) {
            let mut fields = Fields::default();
            event.record(&mut fields);
            if let (true, Some(ms)) = (fields.message.contains("index loaded"), fields.elapsed_ms) {
                self.0.store(ms, Ordering::Relaxed);
            }
        }
    }

    // Only rbacd's own INFO events reach the layer; everything else stays disabled.
    let filter = Targets::new().with_target("rbacd", tracing::Level::INFO);
    let _ = tracing_subscriber::registry()
        .with(IndexTimer(into).with_filter(filter))
        .try_init();
}

/// Resolves when stdin reaches its end (the load generator closed it or died).
async fn stdin_closed() {
    let mut stdin = tokio::io::stdin();
    let mut sink = [0u8; 64];
    while let Ok(n) = stdin.read(&mut sink).await {
        if n == 0 {
            break;
        }
    }
}

// ---------------------------------------------------------------- parent side

/// A child process of this binary.
pub struct ChildProcess {
    child: Child,
    pub pid: u32,
    /// The JSON line it printed when ready.
    pub ready: Value,
}

impl ChildProcess {
    /// Starts this binary with `args` and waits for its ready line.
    pub async fn start(args: &[String]) -> Result<Self, String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut child = Command::new(exe)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("start a child: {e}"))?;
        let pid = child.id().ok_or("the child has no pid")?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(READY_TIMEOUT, lines.next_line())
            .await
            .map_err(|_| format!("{args:?} was not ready within {READY_TIMEOUT:?}"))?
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("{args:?} exited before it was ready"))?;
        let ready: Value =
            serde_json::from_str(&line).map_err(|e| format!("{args:?} printed `{line}`: {e}"))?;
        Ok(Self { child, pid, ready })
    }

    /// The address it listens on.
    pub fn addr(&self) -> Result<SocketAddr, String> {
        self.ready["addr"]
            .as_str()
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| format!("no address in {}", self.ready))
    }

    /// Closes its stdin and waits for it to end (killing it after 20 s).
    pub async fn stop(mut self) {
        drop(self.child.stdin.take());
        let ended = tokio::time::timeout(Duration::from_secs(20), self.child.wait()).await;
        if ended.is_err() {
            eprintln!("child {} did not stop within 20 s; killing it", self.pid);
            let _ = self.child.kill().await;
        }
    }
}

// ---------------------------------------------------------------- /proc

/// (VmRSS, VmHWM) in KiB of `pid` ("self" for this process).
pub fn memory_kib(pid: &str) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))?
            .split_whitespace()
            .nth(1)?
            .parse::<u64>()
            .ok()
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// CPU time (user + system, all threads) `pid` has used.
pub fn cpu_time(pid: &str) -> Duration {
    // Clock ticks are 1/100 s on Linux x86_64 and aarch64.
    const TICKS_PER_SECOND: u64 = 100;
    let ticks = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let after_name = &stat[stat.rfind(')')? + 1..];
            let fields: Vec<&str> = after_name.split_whitespace().collect();
            // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
            Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0);
    Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND)
}

/// The 1-, 5- and 15-minute load averages.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}
