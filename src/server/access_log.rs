//! The access log, at info: every write with its caller and outcome, and every
//! refused authentication with its reason. Both are rate-limited so a flood
//! cannot flood the log; secrets never appear (no bodies, no keys, only key ids).

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use parking_lot::Mutex;

use crate::domain::{Actor, Caller};

/// Lines per second each kind of entry may take; the rest are counted and
/// reported with the next line that is written.
const PER_SECOND: u64 = 20;

/// A per-second budget of lines.
pub struct Budget {
    second: AtomicU64,
    used: AtomicU64,
    dropped: AtomicU64,
}

impl Budget {
    pub const fn new() -> Self {
        Self {
            second: AtomicU64::new(0),
            used: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        }
    }

    /// `Some(lines dropped since the last one written)` when a line may be written now.
    pub fn take(&self) -> Option<u64> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_secs();
        if self.second.swap(now, Relaxed) != now {
            self.used.store(0, Relaxed);
        }
        if self.used.fetch_add(1, Relaxed) < PER_SECOND {
            Some(self.dropped.swap(0, Relaxed))
        } else {
            self.dropped.fetch_add(1, Relaxed);
            None
        }
    }
}

static WRITES: Budget = Budget::new();
static REFUSALS: Budget = Budget::new();

/// Whether `path` names a write: a method of a write service that neither gets nor lists.
pub fn is_write(path: &str) -> bool {
    let Some((service, method)) = path
        .strip_prefix("/rbacd.v1.")
        .and_then(|p| p.split_once('/'))
    else {
        return false;
    };
    !matches!(service, "AuthorizationService" | "AuditService")
        && !method.starts_with("Get")
        && !method.starts_with("List")
}

/// Where the interceptor leaves the caller of a write, for the log line written when it ends.
#[derive(Clone, Default)]
pub struct WriteCaller(pub Arc<Mutex<Option<Caller>>>);

/// Logs a finished write.
pub fn write(
    path: &str,
    code: i32,
    elapsed: Duration,
    caller: Option<Caller>,
    peer: Option<SocketAddr>,
) {
    let Some(dropped) = WRITES.take() else {
        return;
    };
    let (environment, identity) = match caller {
        Some(Caller {
            environment, actor, ..
        }) => (
            Some(environment.to_string()),
            match actor {
                Actor::Identity(id) => Some(id.to_string()),
                Actor::System => None,
            },
        ),
        None => (None, None),
    };
    tracing::info!(
        target: "rbacd::access",
        method = path.trim_start_matches('/'),
        code,
        elapsed_ms = elapsed.as_secs_f64() * 1e3,
        environment,
        identity,
        peer = peer.map(|p| p.to_string()),
        dropped,
        "write"
    );
}

/// Logs a refused authentication; `reason` must carry no secret.
pub fn refused(method: &str, reason: &str, peer: Option<SocketAddr>) {
    let Some(dropped) = REFUSALS.take() else {
        return;
    };
    tracing::info!(
        target: "rbacd::access",
        method,
        reason,
        peer = peer.map(|p| p.to_string()),
        dropped,
        "authentication refused"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_the_mutating_methods_of_write_services() {
        assert!(is_write("/rbacd.v1.RoleService/CreateRole"));
        assert!(is_write("/rbacd.v1.IdentityService/RevokeApiKey"));
        assert!(!is_write("/rbacd.v1.RoleService/ListRoles"));
        assert!(!is_write("/rbacd.v1.NodeService/GetNode"));
        assert!(!is_write("/rbacd.v1.AuthorizationService/Check"));
        assert!(!is_write("/grpc.health.v1.Health/Check"));
    }

    #[test]
    fn a_budget_allows_its_lines_then_counts_the_rest() {
        let budget = Budget::new();
        let allowed = (0..PER_SECOND * 3)
            .filter(|_| budget.take().is_some())
            .count() as u64;
        // The second may turn during the loop; at most two seconds' worth pass.
        assert!(
            (PER_SECOND..=2 * PER_SECOND).contains(&allowed),
            "{allowed}"
        );
    }
}
