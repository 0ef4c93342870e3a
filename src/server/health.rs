//! What is served now, reported through gRPC health and to the HTTP face,
//! and the outage log: one warning when the store becomes unreachable, a
//! reminder every minute while it stays so, one when it answers again.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use tokio::sync::watch;
use tonic_health::{ServingStatus, server::HealthReporter};

use crate::feed::Feed;

/// How often the store is probed (by catching the index up with it).
const PROBE_INTERVAL: Duration = Duration::from_secs(1);
/// Longest wait for one probe.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// How often a continuing outage is mentioned again.
const REMINDER_INTERVAL: Duration = Duration::from_secs(60);

/// The services that need the store.
const STORE_SERVICES: &[&str] = &[
    "rbacd.v1.RoleService",
    "rbacd.v1.IdentityService",
    "rbacd.v1.NodeService",
    "rbacd.v1.AssignmentService",
    "rbacd.v1.AuditService",
    "rbacd.v1.ActionSigningService",
    "rbacd.v1.BulkService",
];
/// The service answered from memory; the overall ("") status follows it,
/// since an instance that answers checks is worth keeping in rotation.
const CHECK_SERVICES: &[&str] = &["", "rbacd.v1.AuthorizationService"];

/// Whether the store answers, and whether checks are answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Serving {
    pub store: bool,
    pub checks: bool,
}

impl Serving {
    pub const ALL: Self = Self {
        store: true,
        checks: true,
    };
}

fn status(up: bool) -> ServingStatus {
    if up {
        ServingStatus::Serving
    } else {
        ServingStatus::NotServing
    }
}

/// Sets every service's health from `serving`.
pub async fn report(health: &HealthReporter, serving: Serving) {
    for service in STORE_SERVICES {
        health
            .set_service_status(*service, status(serving.store))
            .await;
    }
    for service in CHECK_SERVICES {
        health
            .set_service_status(*service, status(serving.checks))
            .await;
    }
}

/// Probes the store every second by catching the index up with it; reports
/// the store down while that fails, and checks down (failing closed) once the
/// index is older than `max_staleness`.
pub async fn watch(
    feed: Arc<Feed>,
    health: HealthReporter,
    serving: watch::Sender<Serving>,
    max_staleness: Duration,
) {
    let mut outage: Option<(Instant, Instant)> = None;
    loop {
        tokio::time::sleep(PROBE_INTERVAL).await;
        let up = matches!(
            tokio::time::timeout(PROBE_TIMEOUT, feed.catch_up()).await,
            Ok(Ok(_))
        );
        let lag = feed.lag();
        let fresh = lag <= max_staleness;
        feed.set_stale(!fresh);
        outage = log_outage(outage, up, lag, max_staleness);
        let now = *serving.borrow();
        let next = Serving {
            store: up,
            checks: fresh,
        };
        if next.checks != now.checks {
            if fresh {
                tracing::warn!("the index is current again; checks are answered");
            } else {
                tracing::warn!(
                    max_staleness_s = max_staleness.as_secs_f64(),
                    "the index is older than --max-staleness; checks fail closed with UNAVAILABLE"
                );
            }
        }
        if next != now {
            report(&health, next).await;
            serving.send_replace(next);
        }
    }
}

/// The outage's start and last mention, after logging what changed.
fn log_outage(
    outage: Option<(Instant, Instant)>,
    up: bool,
    lag: Duration,
    max_staleness: Duration,
) -> Option<(Instant, Instant)> {
    match (outage, up) {
        (None, true) => None,
        (None, false) => {
            tracing::warn!(
                max_staleness_s = max_staleness.as_secs_f64(),
                "the store is unreachable: writes fail with UNAVAILABLE; checks are answered from memory until the index is older than --max-staleness"
            );
            let now = Instant::now();
            Some((now, now))
        }
        (Some((started, mentioned)), false) => {
            if mentioned.elapsed() < REMINDER_INTERVAL {
                return Some((started, mentioned));
            }
            tracing::warn!(
                for_s = started.elapsed().as_secs(),
                index_lag_s = lag.as_secs(),
                "the store is still unreachable"
            );
            Some((started, Instant::now()))
        }
        (Some((started, _)), true) => {
            tracing::warn!(
                after_s = started.elapsed().as_secs(),
                index_lag_s = lag.as_secs_f64(),
                "the store answers again; the index has caught up with every change made meanwhile"
            );
            None
        }
    }
}
