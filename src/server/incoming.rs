//! Accepted connections, from every listener into one stream for tonic: the
//! connection cap, TLS handshakes off the accept loop, and the preface deadline
//! that closes connections which never start speaking HTTP/2.

use std::{
    io,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, UnixListener},
    sync::{OwnedSemaphorePermit, Semaphore, mpsc},
    task::JoinSet,
    time::{Instant, Sleep},
};
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::server::{Connected, TcpConnectInfo};

use super::{listen::Bound, tls::Certificates};

/// The client's HTTP/2 connection preface: `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`.
const PREFACE_LEN: usize = 24;
/// At most one "connection refused" warning per this long.
const REFUSED_LOG_EVERY: Duration = Duration::from_secs(10);

trait Io: AsyncRead + AsyncWrite + Send {}
impl<T: AsyncRead + AsyncWrite + Send> Io for T {}

/// One accepted connection. It holds a slot of the connection cap until dropped,
/// and fails its reads once the preface deadline passes before the preface arrived.
pub struct Conn {
    io: Pin<Box<dyn Io>>,
    info: TcpConnectInfo,
    deadline: Option<Pin<Box<Sleep>>>,
    read: usize,
    _slot: OwnedSemaphorePermit,
}

impl Connected for Conn {
    type ConnectInfo = TcpConnectInfo;
    fn connect_info(&self) -> TcpConnectInfo {
        self.info.clone()
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = self.io.as_mut().poll_read(cx, buf);
        if self.deadline.is_none() {
            return polled;
        }
        if let Poll::Ready(Ok(())) = polled {
            self.read += buf.filled().len() - before;
            if self.read >= PREFACE_LEN {
                self.deadline = None;
            }
            return polled;
        }
        if let Some(deadline) = self.deadline.as_mut()
            && deadline.as_mut().poll(cx).is_ready()
        {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "no HTTP/2 preface before the preface timeout",
            )));
        }
        polled
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.io.as_mut().poll_write(cx, data)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.as_mut().poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.as_mut().poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.io.as_mut().poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

/// How connections are admitted.
#[derive(Clone)]
pub struct Admission {
    pub slots: Arc<Semaphore>,
    pub preface_timeout: Duration,
    pub tls: Option<Certificates>,
}

/// Accepts on every listener until the returned stream is dropped. The join
/// set ends once its tasks notice; awaiting it releases the listeners (and removes socket files).
pub fn accept_all(
    listeners: Vec<Bound>,
    admission: Admission,
) -> (ReceiverStream<io::Result<Conn>>, JoinSet<()>) {
    let (tx, rx) = mpsc::channel(256);
    let mut tasks = JoinSet::new();
    for listener in listeners {
        tasks.spawn(accept(listener, admission.clone(), tx.clone()));
    }
    (ReceiverStream::new(rx), tasks)
}

enum Accepted {
    Tcp(tokio::net::TcpStream, TcpConnectInfo),
    Unix(tokio::net::UnixStream),
}

async fn next(listener: &Bound) -> io::Result<Accepted> {
    match listener {
        Bound::Tcp(l) => accept_tcp(l).await,
        Bound::Unix(l, _) => accept_unix(l).await,
    }
}

async fn accept_tcp(listener: &TcpListener) -> io::Result<Accepted> {
    let (stream, remote) = listener.accept().await?;
    // Without it a lone answer waits for the peer's delayed ACK (40 ms).
    let _ = stream.set_nodelay(true);
    let info = TcpConnectInfo {
        local_addr: stream.local_addr().ok(),
        remote_addr: Some(remote),
    };
    Ok(Accepted::Tcp(stream, info))
}

async fn accept_unix(listener: &UnixListener) -> io::Result<Accepted> {
    Ok(Accepted::Unix(listener.accept().await?.0))
}

async fn accept(listener: Bound, admission: Admission, tx: mpsc::Sender<io::Result<Conn>>) {
    let mut last_refusal: Option<Instant> = None;
    let mut refused = 0u64;
    loop {
        let accepted = tokio::select! {
            _ = tx.closed() => return,
            accepted = next(&listener) => accepted,
        };
        let accepted = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors, or a connection reset before accept: back off a little.
                tracing::debug!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
        };
        let Ok(slot) = Arc::clone(&admission.slots).try_acquire_owned() else {
            drop(accepted);
            refused += 1;
            if last_refusal.is_none_or(|t| t.elapsed() >= REFUSED_LOG_EVERY) {
                last_refusal = Some(Instant::now());
                tracing::warn!(
                    refused,
                    "connection limit reached (--max-connections); closing new connections"
                );
                refused = 0;
            }
            continue;
        };
        let deadline = Instant::now() + admission.preface_timeout;
        let conn = move |io: Pin<Box<dyn Io>>, info| Conn {
            io,
            info,
            deadline: Some(Box::pin(tokio::time::sleep_until(deadline))),
            read: 0,
            _slot: slot,
        };
        match (accepted, &admission.tls) {
            (Accepted::Tcp(stream, info), Some(tls)) => {
                let acceptor = tls.acceptor();
                let tx = tx.clone();
                tokio::spawn(async move {
                    let shaken = tokio::time::timeout_at(deadline, acceptor.accept(stream)).await;
                    match shaken {
                        Ok(Ok(stream)) => {
                            let _ = tx.send(Ok(conn(Box::pin(stream), info))).await;
                        }
                        Ok(Err(error)) => tracing::debug!(%error, "TLS handshake failed"),
                        Err(_) => tracing::debug!("TLS handshake timed out"),
                    }
                });
            }
            (Accepted::Tcp(stream, info), None) => {
                let _ = tx.send(Ok(conn(Box::pin(stream), info))).await;
            }
            (Accepted::Unix(stream), _) => {
                let info = TcpConnectInfo {
                    local_addr: None,
                    remote_addr: None,
                };
                let _ = tx.send(Ok(conn(Box::pin(stream), info))).await;
            }
        }
    }
}
