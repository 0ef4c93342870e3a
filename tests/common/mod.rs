//! Test harness: a fresh database per test (SQLite by default, PostgreSQL when
//! `RBACD_TEST_DATABASE_URL` is set), the real server on an ephemeral port, and
//! typed clients plus assertion helpers for gRPC statuses.
#![allow(dead_code)]

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use rbacd::proto::v1::{
    self as pb, assignment_service_client::AssignmentServiceClient,
    identity_service_client::IdentityServiceClient, node_service_client::NodeServiceClient,
    role_service_client::RoleServiceClient,
};
use sea_orm::{ConnectOptions, ConnectionTrait, Database};
use tokio::{sync::oneshot, task::JoinHandle};
use tonic::{
    Code, Request, Status,
    metadata::MetadataValue,
    service::{Interceptor, interceptor::InterceptedService},
    transport::Channel,
};
use tonic_types::StatusExt;

/// Environment variable naming a PostgreSQL server to test against, e.g.
/// `postgres://postgres@127.0.0.1:5432/test`.
pub const PG_ENV: &str = "RBACD_TEST_DATABASE_URL";

enum Cleanup {
    Sqlite(PathBuf),
    Postgres { admin_url: String, name: String },
}

/// A freshly created, empty database, removed (or dropped) when this is dropped.
pub struct TestDb {
    /// URL to hand to `Store::connect` / `App::open`.
    pub url: String,
    cleanup: Cleanup,
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let (head, rest) = url.split_at(scheme_end);
    let (rest, query) = match rest.find('?') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let authority = rest.split('/').next().unwrap_or(rest);
    format!("{head}{authority}/{name}{query}")
}

async fn admin_execute(admin_url: &str, sql: &str) {
    let mut options = ConnectOptions::new(admin_url.to_owned());
    options
        .sqlx_logging(false)
        .max_connections(1)
        .connect_timeout(Duration::from_secs(10));
    let db = Database::connect(options)
        .await
        .unwrap_or_else(|e| panic!("connect to {PG_ENV}={admin_url}: {e}"));
    db.execute_unprepared(sql)
        .await
        .unwrap_or_else(|e| panic!("`{sql}` failed: {e}"));
    let _ = db.close().await;
}

impl TestDb {
    /// Creates a fresh database: a unique SQLite file, or a new PostgreSQL
    /// database on the server `RBACD_TEST_DATABASE_URL` names.
    pub async fn new() -> Self {
        let unique = uuid::Uuid::new_v4().simple().to_string();
        match std::env::var(PG_ENV) {
            Ok(admin_url) if !admin_url.is_empty() => {
                let name = format!("rbacd_test_{unique}");
                admin_execute(&admin_url, &format!("CREATE DATABASE {name}")).await;
                Self {
                    url: with_database(&admin_url, &name),
                    cleanup: Cleanup::Postgres { admin_url, name },
                }
            }
            _ => {
                let path = std::env::temp_dir().join(format!("rbacd-test-{unique}.db"));
                Self {
                    url: format!("sqlite://{}?mode=rwc", path.display()),
                    cleanup: Cleanup::Sqlite(path),
                }
            }
        }
    }

    /// Whether this database is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self.cleanup, Cleanup::Postgres { .. })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm", "-journal"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    let _ = std::fs::remove_file(file);
                }
            }
            Cleanup::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop may run inside a runtime: use a thread with its own.
                let dropped = std::thread::spawn(move || {
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("a runtime for DROP DATABASE")
                        .block_on(admin_execute(
                            &admin_url,
                            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                        ));
                })
                .join();
                if dropped.is_err() && !std::thread::panicking() {
                    panic!("could not drop the test database");
                }
            }
        }
    }
}

/// The admin API key every test server's `default` environment starts with.
pub const ADMIN_KEY: &str = "rbacd_test_admin_key_0123456789abcdef";

/// Sends an API key as `x-api-key` on every call.
#[derive(Clone)]
pub struct ApiKey(pub MetadataValue<tonic::metadata::Ascii>);

impl ApiKey {
    pub fn new(secret: &str) -> Self {
        Self(secret.parse().expect("an API key is ASCII"))
    }
}

impl Interceptor for ApiKey {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        request.metadata_mut().insert("x-api-key", self.0.clone());
        Ok(request)
    }
}

/// A channel that authenticates every call with an API key.
pub type Authed = InterceptedService<Channel, ApiKey>;

/// The real server, serving a fresh database on 127.0.0.1:<ephemeral>.
pub struct TestServer {
    pub addr: SocketAddr,
    /// Unauthenticated: calls on it are refused, except health and reflection.
    pub channel: Channel,
    /// The `default` environment's admin key.
    pub api_key: String,
    pub roles: RoleServiceClient<Authed>,
    pub identities: IdentityServiceClient<Authed>,
    pub nodes: NodeServiceClient<Authed>,
    pub assignments: AssignmentServiceClient<Authed>,
    shutdown: Option<oneshot::Sender<()>>,
    serving: Option<JoinHandle<Result<(), tonic::transport::Error>>>,
    // Declared last: dropped after the server is told to stop.
    db: TestDb,
}

impl TestServer {
    /// Opens a fresh database, starts the server on port 0, connects clients
    /// that send the `default` environment's admin key ([`ADMIN_KEY`]).
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// A channel sending `secret` as the API key.
    pub fn with_key(&self, secret: &str) -> Authed {
        InterceptedService::new(self.channel.clone(), ApiKey::new(secret))
    }

    /// A channel sending the admin key.
    pub fn authed(&self) -> Authed {
        self.with_key(&self.api_key)
    }

    /// Whether the server stores in PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.db.is_postgres()
    }

    /// Stops the server gracefully and waits for it to finish.
    pub async fn stop(mut self) {
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

// ---------------------------------------------------------------- statuses

/// The error of `result`, which must have failed with `code`.
#[track_caller]
pub fn expect_code<T: std::fmt::Debug>(result: Result<T, Status>, code: Code) -> Status {
    match result {
        Ok(v) => panic!("expected {code:?}, got OK: {v:?}"),
        Err(status) => {
            assert_eq!(
                status.code(),
                code,
                "expected {code:?}, got {:?}: {}",
                status.code(),
                status.message()
            );
            assert!(
                !status.message().is_empty(),
                "a {code:?} status must carry a message"
            );
            assert_no_sql(&status);
            status
        }
    }
}

/// The field names of the `google.rpc.BadRequest` violations a status carries.
pub fn violated_fields(status: &Status) -> Vec<String> {
    status
        .get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

/// The result must be INVALID_ARGUMENT with a BadRequest violation of `field`.
#[track_caller]
pub fn expect_invalid<T: std::fmt::Debug>(result: Result<T, Status>, field: &str) -> Status {
    let status = expect_code(result, Code::InvalidArgument);
    let bad = status
        .get_details_bad_request()
        .unwrap_or_else(|| panic!("INVALID_ARGUMENT without BadRequest details: {status:?}"));
    assert!(
        bad.field_violations.iter().any(|v| v.field == field),
        "expected a violation of `{field}`, got {:?} ({})",
        bad.field_violations
            .iter()
            .map(|v| (&v.field, &v.description))
            .collect::<Vec<_>>(),
        status.message()
    );
    assert!(
        bad.field_violations
            .iter()
            .all(|v| !v.description.is_empty()),
        "every violation must say what is wrong: {bad:?}"
    );
    status
}

/// The result must be NOT_FOUND with a message mentioning `named`.
#[track_caller]
pub fn expect_not_found<T: std::fmt::Debug>(result: Result<T, Status>, named: &str) -> Status {
    let status = expect_code(result, Code::NotFound);
    assert!(
        status.message().contains(named),
        "NOT_FOUND should name `{named}`: {}",
        status.message()
    );
    status
}

/// A status message must never leak the database's own words.
#[track_caller]
pub fn assert_no_sql(status: &Status) {
    let message = status.message().to_lowercase();
    for word in [
        "sql",
        "constraint",
        "unique",
        "violat",
        "duplicate key",
        "select ",
        "insert ",
    ] {
        assert!(
            !message.contains(word),
            "the message leaks database text ({word}): {}",
            status.message()
        );
    }
}

// ---------------------------------------------------------------- references

pub fn role_by_name(name: &str) -> Option<pb::RoleRef> {
    Some(pb::RoleRef {
        r#ref: Some(pb::role_ref::Ref::Name(name.into())),
    })
}

pub fn role_by_id(id: &str) -> Option<pb::RoleRef> {
    Some(pb::RoleRef {
        r#ref: Some(pb::role_ref::Ref::Id(id.into())),
    })
}

pub fn node_by_key(key: &str) -> Option<pb::NodeRef> {
    Some(pb::NodeRef {
        r#ref: Some(pb::node_ref::Ref::Key(key.into())),
    })
}

pub fn node_by_id(id: &str) -> Option<pb::NodeRef> {
    Some(pb::NodeRef {
        r#ref: Some(pb::node_ref::Ref::Id(id.into())),
    })
}

pub fn identity_by_id(id: &str) -> Option<pb::IdentityRef> {
    Some(pb::IdentityRef {
        r#ref: Some(pb::identity_ref::Ref::Id(id.into())),
    })
}

pub fn identity_by_email(email: &str) -> Option<pb::IdentityRef> {
    Some(pb::IdentityRef {
        r#ref: Some(pb::identity_ref::Ref::Email(email.into())),
    })
}

pub fn identity_by_external_id(external_id: &str) -> Option<pb::IdentityRef> {
    Some(pb::IdentityRef {
        r#ref: Some(pb::identity_ref::Ref::ExternalId(external_id.into())),
    })
}

// ---------------------------------------------------------------- times

/// Now plus `seconds` (negative for the past), as a proto timestamp.
pub fn from_now(seconds: i64) -> Option<prost_types::Timestamp> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970");
    Some(prost_types::Timestamp {
        seconds: now.as_secs() as i64 + seconds,
        nanos: 0,
    })
}

/// A fixed instant, `seconds` after the epoch, with `micros` microseconds.
pub fn at(seconds: i64, micros: i32) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp {
        seconds,
        nanos: micros * 1000,
    })
}

/// Microseconds since the epoch of a proto timestamp (which must be set).
#[track_caller]
pub fn micros(t: &Option<prost_types::Timestamp>) -> i64 {
    let t = t.as_ref().expect("a timestamp");
    t.seconds * 1_000_000 + i64::from(t.nanos / 1000)
}

/// Whether `text` is a UUID.
pub fn is_uuid(text: &str) -> bool {
    uuid::Uuid::try_parse(text).is_ok()
}

// ---------------------------------------------------------------- fixtures

/// Creates a role with `permissions`; returns it.
pub async fn create_role(server: &TestServer, name: &str, permissions: &[&str]) -> pb::Role {
    server
        .roles
        .clone()
        .create_role(pb::CreateRoleRequest {
            name: name.into(),
            description: String::new(),
            permissions: permissions.iter().map(|p| p.to_string()).collect(),
        })
        .await
        .unwrap_or_else(|e| panic!("create role {name}: {e:?}"))
        .into_inner()
        .role
        .expect("a role")
}

/// Creates an ACTIVE USER with `email`; returns it.
pub async fn create_user(server: &TestServer, email: &str) -> pb::Identity {
    server
        .identities
        .clone()
        .create_identity(pb::CreateIdentityRequest {
            kind: pb::IdentityKind::User.into(),
            email: email.into(),
            external_id: String::new(),
            display_name: String::new(),
        })
        .await
        .unwrap_or_else(|e| panic!("create identity {email}: {e:?}"))
        .into_inner()
        .identity
        .expect("an identity")
}

/// Creates a node `key` under `parent` (the root when `None`); returns it.
pub async fn create_node(server: &TestServer, key: &str, parent: Option<&str>) -> pb::Node {
    server
        .nodes
        .clone()
        .create_node(pb::CreateNodeRequest {
            key: key.into(),
            name: String::new(),
            kind: String::new(),
            parent: parent.and_then(node_by_key),
        })
        .await
        .unwrap_or_else(|e| panic!("create node {key}: {e:?}"))
        .into_inner()
        .node
        .expect("a node")
}

/// A CreateAssignmentRequest naming identity by id, role by id, node by id.
pub fn assignment_request(
    identity: &pb::Identity,
    role: &pb::Role,
    node: &pb::Node,
) -> pb::CreateAssignmentRequest {
    pb::CreateAssignmentRequest {
        identity: identity_by_id(&identity.id),
        role: role_by_id(&role.id),
        node: node_by_id(&node.id),
        effective_from: None,
        effective_to: None,
    }
}

/// Creates an assignment; returns it.
pub async fn assign(
    server: &TestServer,
    identity: &pb::Identity,
    role: &pb::Role,
    node: &pb::Node,
) -> pb::Assignment {
    server
        .assignments
        .clone()
        .create_assignment(assignment_request(identity, role, node))
        .await
        .unwrap_or_else(|e| panic!("create assignment: {e:?}"))
        .into_inner()
        .assignment
        .expect("an assignment")
}

/// The root node.
pub async fn root(server: &TestServer) -> pb::Node {
    server
        .nodes
        .clone()
        .get_node(pb::GetNodeRequest {
            node: node_by_key("root"),
        })
        .await
        .expect("the root node exists")
        .into_inner()
        .node
        .expect("a node")
}

/// Every assignment matching `request`, read page by page (of `page_size`)
/// to the end; panics on a repeated id.
pub async fn list_all_assignments(
    server: &TestServer,
    mut request: pb::ListAssignmentsRequest,
) -> Vec<pb::Assignment> {
    let mut client = server.assignments.clone();
    let mut all: Vec<pb::Assignment> = Vec::new();
    request.page_token.clear();
    loop {
        let page = client
            .list_assignments(request.clone())
            .await
            .expect("list assignments")
            .into_inner();
        if request.page_size > 0 {
            assert!(page.assignments.len() <= request.page_size as usize);
        }
        for a in page.assignments {
            assert!(
                all.iter().all(|seen| seen.id != a.id),
                "assignment {} listed twice",
                a.id
            );
            all.push(a);
        }
        if page.next_page_token.is_empty() {
            return all;
        }
        request.page_token = page.next_page_token;
    }
}

/// Ids of assignments, sorted.
pub fn sorted_ids<'a>(ids: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut ids: Vec<String> = ids.into_iter().map(str::to_owned).collect();
    ids.sort();
    ids
}

// ---------------------------------------------------------------- settings and the database

impl TestServer {
    /// The URL of the database this server stores in, e.g. to open a second
    /// `rbacd::store::Store` on it.
    pub fn database_url(&self) -> &str {
        &self.db.url
    }

    /// Like [`TestServer::start`], with the server's settings adjusted by
    /// `configure` first (e.g. a short `min_revision_timeout`).
    pub async fn start_with(configure: impl FnOnce(&mut rbacd::server::Settings)) -> Self {
        let db = TestDb::new().await;
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
        let channel = Channel::from_shared(format!("http://{addr}"))
            .expect("a valid uri")
            .connect_timeout(Duration::from_secs(10))
            .connect()
            .await
            .expect("connect to the test server");
        let authed = InterceptedService::new(channel.clone(), ApiKey::new(ADMIN_KEY));
        Self {
            addr,
            api_key: ADMIN_KEY.to_owned(),
            roles: RoleServiceClient::new(authed.clone()),
            identities: IdentityServiceClient::new(authed.clone()),
            nodes: NodeServiceClient::new(authed.clone()),
            assignments: AssignmentServiceClient::new(authed),
            channel,
            shutdown: Some(tx),
            serving: Some(serving),
            db,
        }
    }

    /// A new connection (its own HTTP/2 connection) sending `secret` as the API key.
    pub async fn connect_with_key(&self, secret: &str) -> Authed {
        let channel = Channel::from_shared(format!("http://{}", self.addr))
            .expect("a valid uri")
            .connect_timeout(Duration::from_secs(10))
            .connect()
            .await
            .expect("connect to the test server");
        InterceptedService::new(channel, ApiKey::new(secret))
    }
}
