//! A real rbacd server in process on a fresh database, which can be stopped and
//! started again on the same port, and a small dataset to check against.

use std::{net::SocketAddr, time::Duration};

use rbacd::server::{App, Bound, Settings};
use rbacd_client::{
    ApiKey, Authed, Connector,
    pb::{self, authorization_service_client::AuthorizationServiceClient},
};
use rbacd_testkit::FreshDb;
use tokio::{sync::oneshot, task::JoinHandle};

pub const ADMIN_KEY: &str = "rbacd_client_test_admin_key_0123456789";

/// A server and the database it keeps across restarts.
pub struct Server {
    pub addr: SocketAddr,
    running: Option<Running>,
    settings: Settings,
    _db: FreshDb,
}

struct Running {
    stop: oneshot::Sender<()>,
    serving: JoinHandle<Result<(), tonic::transport::Error>>,
}

impl Server {
    /// Starts on 127.0.0.1:<ephemeral>; `configure` adjusts the settings first.
    pub async fn start_with(configure: impl FnOnce(&mut Settings)) -> Self {
        let db = FreshDb::new().await.expect("a fresh test database");
        let mut settings = Settings::new(db.url().to_owned());
        settings.bootstrap_api_key = Some(ADMIN_KEY.to_owned());
        configure(&mut settings);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut server = Self {
            addr,
            running: None,
            settings,
            _db: db,
        };
        server.serve(vec![Bound::Tcp(listener)]).await;
        server
    }

    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Serves the same database on `listeners` (after [`Server::stop`]).
    pub async fn serve(&mut self, listeners: Vec<Bound>) {
        assert!(self.running.is_none(), "stop the server first");
        let app = App::open(self.settings.clone()).await.expect("App::open");
        let (stop, stopped) = oneshot::channel::<()>();
        let serving = tokio::spawn(app.serve(listeners, async {
            let _ = stopped.await;
        }));
        self.running = Some(Running { stop, serving });
    }

    /// Starts again on the same port.
    pub async fn restart(&mut self) {
        let listener = tokio::net::TcpListener::bind(self.addr)
            .await
            .expect("bind the same port again");
        self.serve(vec![Bound::Tcp(listener)]).await;
    }

    /// Stops gracefully: open streams end, in-flight calls drain.
    pub async fn stop(&mut self) {
        let running = self.running.take().expect("a running server");
        let _ = running.stop.send(());
        tokio::time::timeout(Duration::from_secs(10), running.serving)
            .await
            .expect("the server drains within 10 s")
            .expect("the server task does not panic")
            .expect("the server ends without a transport error");
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A channel sending the admin key.
    pub async fn authed(&self) -> Authed {
        let channel = Connector::new(&self.url())
            .unwrap()
            .connect()
            .await
            .unwrap();
        ApiKey::new(ADMIN_KEY).unwrap().on(channel)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            let _ = running.stop.send(());
            running.serving.abort();
        }
    }
}

/// `alice@example.com` holds `Reader` (`Docs:Read`) on node `docs`;
/// `bob@example.com` holds nothing; node `docs:1` is below `docs`.
pub async fn seed(channel: Authed) {
    use pb::{
        assignment_service_client::AssignmentServiceClient,
        identity_service_client::IdentityServiceClient, node_service_client::NodeServiceClient,
        role_service_client::RoleServiceClient,
    };
    RoleServiceClient::new(channel.clone())
        .create_role(pb::CreateRoleRequest {
            name: "Reader".into(),
            permissions: vec!["Docs:Read".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    let mut identities = IdentityServiceClient::new(channel.clone());
    for email in ["alice@example.com", "bob@example.com"] {
        identities
            .create_identity(pb::CreateIdentityRequest {
                email: email.into(),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let mut nodes = NodeServiceClient::new(channel.clone());
    for (key, parent) in [("docs", "root"), ("docs:1", "docs")] {
        nodes
            .create_node(pb::CreateNodeRequest {
                key: key.into(),
                name: key.into(),
                parent: Some(node(parent)),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    AssignmentServiceClient::new(channel)
        .create_assignment(pb::CreateAssignmentRequest {
            identity: Some(email("alice@example.com")),
            role: Some(pb::RoleRef {
                r#ref: Some(pb::role_ref::Ref::Name("Reader".into())),
            }),
            node: Some(node("docs")),
            ..Default::default()
        })
        .await
        .unwrap();
}

pub fn email(email: &str) -> pb::IdentityRef {
    pb::IdentityRef {
        r#ref: Some(pb::identity_ref::Ref::Email(email.into())),
    }
}

pub fn node(key: &str) -> pb::NodeRef {
    pb::NodeRef {
        r#ref: Some(pb::node_ref::Ref::Key(key.into())),
    }
}

pub fn question(who: &str, permission: &str, at: &str) -> pb::CheckRequest {
    pb::CheckRequest {
        identity: Some(email(who)),
        permission: permission.into(),
        node: Some(node(at)),
        ..Default::default()
    }
}

/// Allowed, denied for several reasons, and malformed (a pattern is not a concrete permission).
pub fn questions() -> Vec<pb::CheckRequest> {
    let mut all = Vec::new();
    for who in ["alice@example.com", "bob@example.com", "nobody@example.com"] {
        for permission in ["Docs:Read", "Docs:Write", "Docs:*"] {
            for at in ["docs", "docs:1", "root", "missing"] {
                all.push(question(who, permission, at));
            }
        }
    }
    all
}

pub fn unary(channel: Authed) -> AuthorizationServiceClient<Authed> {
    AuthorizationServiceClient::new(channel)
}
