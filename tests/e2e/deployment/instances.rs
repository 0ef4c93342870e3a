//! More instances on one database, and a TCP proxy that can cut an instance's
//! link to PostgreSQL and restore it.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering::SeqCst},
    },
    time::Duration,
};

use crate::support::*;
use rbacd::server::{App, Settings};
use tokio::{net::TcpListener, sync::watch};

/// Another rbacd serving `url` in this process, until dropped.
pub struct Instance {
    pub clients: Clients,
    pub channel: tonic::transport::Channel,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Instance {
    pub async fn start(url: &str, configure: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = Settings::new(url);
        settings.bootstrap_api_key = Some(ADMIN_KEY.into());
        configure(&mut settings);
        let app = App::open(settings).await.expect("a second instance opens");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.serve_tcp(listener, async {
            let _ = stopped.await;
        }));
        let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        Self {
            clients: Clients::new(channel.clone(), Some(ADMIN_KEY)),
            channel,
            _stop: stop,
        }
    }
}

/// Forwards TCP connections to `target` while linked; `cut` closes every
/// open connection and refuses new ones until `restore`.
pub struct Proxy {
    pub addr: SocketAddr,
    linked: Arc<AtomicBool>,
    cut: watch::Sender<u64>,
}

impl Proxy {
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let linked = Arc::new(AtomicBool::new(true));
        let (cut, cuts) = watch::channel(0u64);
        let up = Arc::clone(&linked);
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    continue;
                };
                if !up.load(SeqCst) {
                    drop(client);
                    continue;
                }
                let mut cuts = cuts.clone();
                // Only cuts from now on end this connection.
                cuts.borrow_and_update();
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cuts.changed() => {}
                    }
                });
            }
        });
        Self { addr, linked, cut }
    }

    pub fn cut(&self) {
        self.linked.store(false, SeqCst);
        self.cut.send_modify(|n| *n += 1);
    }

    pub fn restore(&self) {
        self.linked.store(true, SeqCst);
    }
}

/// Polls `probe` every 20 ms until it returns true; panics after `within`.
pub async fn eventually<F, Fut>(what: &str, within: Duration, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = std::time::Instant::now();
    while !probe().await {
        assert!(started.elapsed() < within, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
