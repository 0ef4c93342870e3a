//! A second rbacd instance on the database of a test's server.

use std::net::SocketAddr;

use tokio::sync::oneshot;
use tonic::transport::Channel;

use super::{Clients, TestServer};

/// Another rbacd instance serving the database of `server`.
pub struct Replica {
    addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

impl Replica {
    pub async fn start(server: &TestServer) -> Self {
        let settings = rbacd::server::Settings::new(server.database_url());
        let app = rbacd::server::App::open(settings)
            .await
            .expect("a second instance on the same database");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(app.serve_tcp(listener, async {
            let _ = stopped.await;
        }));
        Self { addr, _stop: stop }
    }

    pub async fn clients(&self, key: &str) -> Clients {
        let channel = Channel::from_shared(format!("http://{}", self.addr))
            .expect("a valid uri")
            .connect()
            .await
            .expect("connect to the second instance");
        Clients::new(channel, Some(key))
    }
}
