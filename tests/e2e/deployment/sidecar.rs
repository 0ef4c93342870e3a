//! Sidecar serving: several listeners at once, Unix sockets that never clobber
//! a file, carry their mode and go away on exit, and the CLI reaching them.

use std::{os::unix::fs::PermissionsExt, path::PathBuf, time::Duration};

use crate::support::{ADMIN_KEY, database::TestDb};
use rbacd::{
    config::Listen,
    server::{App, Bound, Settings},
};
use tokio::{sync::oneshot, task::JoinHandle};
use tonic::transport::{Channel, Endpoint, Uri};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

struct Running {
    stop: oneshot::Sender<()>,
    serving: JoinHandle<Result<(), tonic::transport::Error>>,
    _db: TestDb,
}

impl Running {
    async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(10), self.serving)
            .await
            .expect("drains")
            .expect("no panic")
            .expect("no transport error");
    }
}

async fn serve(listeners: Vec<Bound>) -> Running {
    let db = TestDb::new().await;
    let mut settings = Settings::new(db.url.clone());
    settings.bootstrap_api_key = Some(ADMIN_KEY.into());
    let app = App::open(settings).await.expect("open");
    let (stop, stopped) = oneshot::channel::<()>();
    let serving = tokio::spawn(app.serve(listeners, async {
        let _ = stopped.await;
    }));
    Running {
        stop,
        serving,
        _db: db,
    }
}

/// A fresh path in a fresh directory.
fn socket_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rbacd-sidecar-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

async fn unix_channel(path: PathBuf) -> Channel {
    Endpoint::from_static("http://localhost")
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let path = path.clone();
            async move {
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(
                    tokio::net::UnixStream::connect(path).await?,
                ))
            }
        }))
        .await
        .expect("connect over the socket")
}

async fn serving(channel: Channel) {
    let answer = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("health");
    assert_eq!(answer.into_inner().status, 1, "SERVING");
}

async fn cli(args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_rbacd"))
        .args(args)
        .env_remove("RBACD_SERVER")
        .env_remove("RBACD_API_KEY")
        .env_remove("DATABASE_URL")
        .output()
        .await
        .expect("run rbacd")
}

#[tokio::test]
async fn a_unix_socket_carries_its_mode_serves_the_cli_and_goes_away_on_exit() {
    let path = socket_path("rbacd.sock");
    let bound = Bound::bind(&Listen::Unix(path.clone()), 0o660)
        .await
        .unwrap();
    let running = serve(vec![bound]).await;
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o660, "mode {mode:o}");
    let server = format!("unix:{}", path.display());

    let health = cli(&["health", "--server", &server]).await;
    assert!(health.status.success(), "{health:?}");
    assert_eq!(String::from_utf8_lossy(&health.stdout).trim(), "SERVING");
    let roles = cli(&["role", "list", "--server", &server, "--api-key", ADMIN_KEY]).await;
    assert!(roles.status.success(), "{roles:?}");
    assert!(String::from_utf8_lossy(&roles.stdout).contains("Administrator"));

    running.stop().await;
    assert!(!path.exists(), "the socket is removed on exit");
    let after = cli(&["health", "--server", &server, "--timeout", "2s"]).await;
    assert_eq!(after.status.code(), Some(1), "{after:?}");
}

#[tokio::test]
async fn a_path_that_is_not_a_socket_is_refused_and_left_intact() {
    let path = socket_path("rbacd.db");
    std::fs::write(&path, b"precious data").unwrap();
    let error = Bound::bind(&Listen::Unix(path.clone()), 0o660)
        .await
        .expect_err("refused");
    assert!(error.contains("not a socket"), "{error}");
    assert_eq!(std::fs::read(&path).unwrap(), b"precious data");

    // The same through `rbacd serve`, which exits with an error.
    let db = socket_path("serve.db");
    let listen = format!("unix:{}", path.display());
    let url = format!("sqlite://{}?mode=rwc", db.display());
    let out = cli(&["serve", "--listen", &listen, "--database-url", &url]).await;
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not a socket"),
        "{out:?}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), b"precious data");
}

#[tokio::test]
async fn a_stale_socket_is_replaced_but_a_live_one_is_not() {
    let path = socket_path("stale.sock");
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists(), "a stale socket file stays behind");
    let bound = Bound::bind(&Listen::Unix(path.clone()), 0o600)
        .await
        .expect("replaced");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "mode {mode:o}");
    let error = Bound::bind(&Listen::Unix(path.clone()), 0o600)
        .await
        .expect_err("a live socket is in use");
    assert!(error.contains("another process"), "{error}");
    drop(bound);
    assert!(!path.exists());
}

#[tokio::test]
async fn several_listeners_serve_at_once_and_host_names_resolve() {
    let path = socket_path("many.sock");
    let by_name = Bound::bind(&"localhost:0".parse().unwrap(), 0o660)
        .await
        .expect("localhost resolves");
    let Bound::Tcp(listener) = &by_name else {
        panic!("a TCP listener");
    };
    let addr = listener.local_addr().unwrap();
    assert!(addr.ip().is_loopback());
    let unix = Bound::bind(&Listen::Unix(path.clone()), 0o660)
        .await
        .unwrap();
    let running = serve(vec![by_name, unix]).await;
    let tcp = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    serving(tcp).await;
    serving(unix_channel(path.clone()).await).await;
    running.stop().await;
    assert!(!path.exists());
}
