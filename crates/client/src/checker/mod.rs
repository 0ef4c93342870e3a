//! [`Checker`]: checks from any number of tasks over one CheckStream.
//!
//! Each check takes a slot of a bounded window (a semaphore) before it is
//! queued, and gives it back when its answer arrives: at most `window` checks
//! are ever taken in and unanswered, and a caller past the window waits (back
//! pressure) instead of growing a queue. One task (the driver) owns the stream:
//! it gives each check a correlation id of its own, sends it, and matches the
//! answers, which the server sends in request order, to their callers, who get
//! back their own correlation id.
//!
//! When the stream breaks, the checks sent on it fail with UNAVAILABLE (a
//! caller may retry them), and the driver opens a new stream after an
//! exponential backoff; checks made meanwhile wait for it.

mod backoff;
mod driver;

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tonic::Status;

use crate::{
    Authed,
    pb::{CheckRequest, CheckResponse, authorization_service_client::AuthorizationServiceClient},
};

/// How a [`Checker`] bounds and reconnects its stream.
#[derive(Debug, Clone)]
pub struct CheckerOptions {
    /// Most checks taken in and not yet answered (at least 1).
    pub window: usize,
    /// The first wait before opening a new stream after a failure.
    pub initial_backoff: Duration,
    /// The longest wait between attempts; the wait doubles up to it.
    pub max_backoff: Duration,
}

impl Default for CheckerOptions {
    fn default() -> Self {
        Self {
            window: 256,
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(5),
        }
    }
}

/// Multiplexes checks from many tasks over one CheckStream. Cheap to clone;
/// the stream closes when the last clone is dropped and its checks are answered.
#[derive(Clone)]
pub struct Checker {
    shared: Arc<Shared>,
}

struct Shared {
    jobs: mpsc::UnboundedSender<Job>,
    window: Arc<Semaphore>,
    size: usize,
    streams_opened: Arc<AtomicU64>,
}

/// A check on its way to the stream; its slot of the window travels with it.
struct Job {
    request: CheckRequest,
    reply: oneshot::Sender<Result<CheckResponse, Status>>,
    slot: OwnedSemaphorePermit,
}

impl Checker {
    /// Starts the driver task on the current tokio runtime; it opens the stream
    /// on `channel` right away and keeps one open from then on.
    pub fn new(channel: Authed, options: CheckerOptions) -> Self {
        let size = options.window.max(1);
        let (jobs, queued) = mpsc::unbounded_channel();
        let streams_opened = Arc::new(AtomicU64::new(0));
        let driver = driver::Driver {
            client: AuthorizationServiceClient::new(channel),
            jobs: queued,
            backoff: backoff::Backoff::new(options.initial_backoff, options.max_backoff),
            streams_opened: Arc::clone(&streams_opened),
        };
        tokio::spawn(driver.run());
        Self {
            shared: Arc::new(Shared {
                jobs,
                window: Arc::new(Semaphore::new(size)),
                size,
                streams_opened,
            }),
        }
    }

    /// Asks one question. The answer carries `request.correlation_id` back;
    /// `min_revision` and `at` are passed through. A malformed check is its
    /// own error (INVALID_ARGUMENT with field violations), as is a
    /// `min_revision` the server did not reach in time (UNAVAILABLE); a check
    /// in flight when the stream broke is UNAVAILABLE and may be retried.
    /// Waits while the window is full or no stream is open: bound it with
    /// `tokio::time::timeout` where that matters.
    pub async fn check(&self, request: CheckRequest) -> Result<CheckResponse, Status> {
        let slot = Arc::clone(&self.shared.window)
            .acquire_owned()
            .await
            .map_err(|_| stopped())?;
        let (reply, answer) = oneshot::channel();
        self.shared
            .jobs
            .send(Job {
                request,
                reply,
                slot,
            })
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Checks taken in and not yet answered (queued or on the stream); never above the window.
    pub fn in_flight(&self) -> usize {
        self.shared.size - self.shared.window.available_permits()
    }

    /// The window: most checks in flight at once.
    pub fn window(&self) -> usize {
        self.shared.size
    }

    /// How many CheckStreams have been opened so far (1 + reconnections, once connected).
    pub fn streams_opened(&self) -> u64 {
        self.shared.streams_opened.load(Ordering::Relaxed)
    }
}

fn stopped() -> Status {
    Status::cancelled("the checker's stream task has stopped (its runtime is shutting down)")
}
