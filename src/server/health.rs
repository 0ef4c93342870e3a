//! What is served now, reported through gRPC health and to the HTTP face.

use std::{sync::Arc, time::Duration};

use tokio::sync::watch;
use tonic_health::{ServingStatus, server::HealthReporter};

use crate::store::Store;

/// How often the database is pinged for the health status.
const HEALTH_INTERVAL: Duration = Duration::from_secs(5);

/// The services that write (or read the store), and the one answered from memory.
const STORE_SERVICES: &[&str] = &[
    "rbacd.v1.RoleService",
    "rbacd.v1.IdentityService",
    "rbacd.v1.NodeService",
    "rbacd.v1.AssignmentService",
    "rbacd.v1.AuditService",
];
const CHECKS_SERVICE: &str = "rbacd.v1.AuthorizationService";

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

/// Sets every service's health from `serving`; the overall ("") status follows the store.
pub async fn report(health: &HealthReporter, serving: Serving) {
    health.set_service_status("", status(serving.store)).await;
    for service in STORE_SERVICES {
        health
            .set_service_status(*service, status(serving.store))
            .await;
    }
    health
        .set_service_status(CHECKS_SERVICE, status(serving.checks))
        .await;
}

/// NOT_SERVING while the database does not answer, SERVING again once it does.
pub async fn watch_database(
    store: Arc<Store>,
    health: HealthReporter,
    serving: watch::Sender<Serving>,
) {
    loop {
        tokio::time::sleep(HEALTH_INTERVAL).await;
        let up = store.ping().await;
        let now = *serving.borrow();
        if up != now.store {
            if up {
                tracing::info!("the database answers again");
            } else {
                tracing::warn!("the database does not answer; health is NOT_SERVING");
            }
            let next = Serving {
                store: up,
                checks: up,
            };
            report(&health, next).await;
            let _ = serving.send(next);
        }
    }
}
