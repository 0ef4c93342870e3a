//! The real server, in process, serving a fresh database on 127.0.0.1:<ephemeral>,
//! with clients of every service. `RBACD_TEST_LOG=<filter>` (e.g. `debug`) turns
//! the server's logs on, printed with the test's output.

use std::{net::SocketAddr, time::Duration};

use tokio::{sync::oneshot, task::JoinHandle};
use tonic::transport::Channel;
use tonic_health::pb::health_client::HealthClient;

use super::clients::{Assignments, Audit, Authed, Authz, Clients, Identities, Nodes, Roles};
use super::database::TestDb;

/// The admin API key every test server's `default` environment starts with.
pub const ADMIN_KEY: &str = "rbacd_test_admin_key_0123456789abcdef";

/// Names a `tracing` filter for the server's logs; unset, tests are quiet.
pub const LOG_ENV: &str = "RBACD_TEST_LOG";

pub struct TestServer {
    pub addr: SocketAddr,
    /// Unauthenticated: calls on it are refused, except health and reflection.
    pub channel: Channel,
    /// Clients sending the `default` environment's admin key.
    admin: Clients,
    shutdown: Option<oneshot::Sender<()>>,
    serving: Option<JoinHandle<Result<(), tonic::transport::Error>>>,
    // Declared last: dropped after the server is told to stop.
    db: Option<TestDb>,
}

fn init_logs() {
    if let Ok(filter) = std::env::var(LOG_ENV) {
        // Several tests start servers in one process: only the first installs it.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_test_writer()
            .try_init();
    }
}

async fn connect(addr: SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .expect("a valid uri")
        .connect_timeout(Duration::from_secs(10))
        .connect()
        .await
        .expect("connect to the test server")
}

impl TestServer {
    /// Opens a fresh database, starts the server on port 0, connects clients
    /// that send the `default` environment's admin key ([`ADMIN_KEY`]).
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Like [`TestServer::start`], with the server's settings adjusted by
    /// `configure` first (e.g. a short `min_revision_timeout`).
    pub async fn start_with(configure: impl FnOnce(&mut rbacd::server::Settings)) -> Self {
        Self::serve(TestDb::new().await, configure).await
    }

    /// Stops the server and starts a new one on the same database, as after
    /// a restart of the process.
    pub async fn restart(mut self) -> Self {
        let db = self.db.take().expect("a database");
        self.stop_serving().await;
        Self::serve(db, |_| {}).await
    }

    async fn serve(db: TestDb, configure: impl FnOnce(&mut rbacd::server::Settings)) -> Self {
        init_logs();
        let mut settings = rbacd::server::Settings::new(db.url.clone());
        settings.bootstrap_api_key = Some(ADMIN_KEY.to_owned());
        configure(&mut settings);
        let app = rbacd::server::App::open(settings)
            .await
            .unwrap_or_else(|e| panic!("App::open({}): {e}", db.url));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let (tx, rx) = oneshot::channel::<()>();
        let serving = tokio::spawn(app.serve_tcp(listener, async {
            let _ = rx.await;
        }));
        let channel = connect(addr).await;
        Self {
            addr,
            admin: Clients::new(channel.clone(), Some(ADMIN_KEY)),
            channel,
            shutdown: Some(tx),
            serving: Some(serving),
            db: Some(db),
        }
    }

    pub fn roles(&self) -> Roles {
        self.admin.roles.clone()
    }

    pub fn identities(&self) -> Identities {
        self.admin.identities.clone()
    }

    pub fn nodes(&self) -> Nodes {
        self.admin.nodes.clone()
    }

    pub fn assignments(&self) -> Assignments {
        self.admin.assignments.clone()
    }

    pub fn authorization(&self) -> Authz {
        self.admin.authz.clone()
    }

    pub fn audit(&self) -> Audit {
        self.admin.audit.clone()
    }

    pub fn signing(&self) -> super::clients::Signing {
        self.admin.signing.clone()
    }

    /// Health needs no key.
    pub fn health(&self) -> HealthClient<Channel> {
        HealthClient::new(self.channel.clone())
    }

    /// Clients of every service sending `key` (or no key at all).
    pub fn clients(&self, key: Option<&str>) -> Clients {
        Clients::new(self.channel.clone(), key)
    }

    /// A channel sending the admin key.
    pub fn authed(&self) -> Authed {
        tonic::service::interceptor::InterceptedService::new(
            self.channel.clone(),
            super::clients::ApiKey::new(Some(ADMIN_KEY)),
        )
    }

    /// Clients on a connection of their own (a new HTTP/2 connection) sending `key`.
    pub async fn connect_clients(&self, key: &str) -> Clients {
        Clients::new(connect(self.addr).await, Some(key))
    }

    /// The URL of the database this server stores in, e.g. to open a second
    /// `rbacd::store::Store` on it.
    pub fn database_url(&self) -> &str {
        &self.db.as_ref().expect("a database").url
    }

    /// Stops the server gracefully and waits for it to finish.
    pub async fn stop(mut self) {
        self.stop_serving().await;
    }

    async fn stop_serving(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(serving) = self.serving.take() {
            let ended = tokio::time::timeout(Duration::from_secs(10), serving).await;
            let ended = ended.expect("the server drains within 10 s");
            ended
                .expect("the server task does not panic")
                .expect("the server ends without a transport error");
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(serving) = self.serving.take() {
            serving.abort();
        }
    }
}
