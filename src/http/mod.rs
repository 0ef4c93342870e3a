//! The HTTP face for gateways (`--http-listen`): the OpenID AuthZEN
//! Authorization API 1.0 plus `/healthz` and `/readyz`, over HTTP/1.1.
//! Transport only: requests are mapped to the engine's check and answered.

mod authzen;
mod face;
mod routes;

use std::{sync::Arc, time::Duration};

use hyper::{server::conn::http1, service::service_fn};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::{net::TcpListener, sync::Semaphore};

pub use face::Face;

/// Largest request body accepted; an evaluations request of the most items fits.
pub const MAX_BODY: usize = 1024 * 1024;

/// How the HTTP face bounds its clients.
#[derive(Clone, Copy, Debug)]
pub struct HttpLimits {
    /// Most open connections; beyond it new ones wait to be accepted.
    pub max_connections: usize,
    /// How long a request's head may take to arrive (an idle keep-alive
    /// connection is closed after it too), and how long its body and answer may take.
    pub timeout: Duration,
}

/// Serves `listener` until `shutdown` resolves; open connections finish their
/// request in flight, then close.
pub async fn serve(
    listener: TcpListener,
    face: Face,
    limits: HttpLimits,
    shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut stop = shutdown.clone();
    loop {
        let slot = tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => return,
            },
        };
        let accepted = tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((stream, _)) = accepted else {
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (face, mut stop) = (face.clone(), shutdown.clone());
        tokio::spawn(async move {
            let _slot = slot;
            let service = service_fn(move |request| {
                let face = face.clone();
                async move {
                    let answer = tokio::time::timeout(
                        limits.timeout,
                        routes::handle(face, request, MAX_BODY),
                    )
                    .await
                    .unwrap_or_else(|_| routes::timed_out());
                    Ok::<_, std::convert::Infallible>(answer)
                }
            });
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.timeout)
                .max_buf_size(64 * 1024)
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            let stopping = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            tokio::select! {
                _ = connection.as_mut() => {}
                () = stopping => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
}

/// Serves the HTTP face in the background.
pub fn spawn(
    listener: TcpListener,
    face: Face,
    limits: HttpLimits,
    shutdown: tokio::sync::watch::Receiver<bool>,
) {
    if let Ok(bound) = listener.local_addr() {
        tracing::info!(%bound, "serving the AuthZEN HTTP API");
    }
    tokio::spawn(serve(listener, face, limits, shutdown));
}
