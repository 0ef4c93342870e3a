//! Two instances on one database see each other's writes quickly: on SQLite
//! through `PRAGMA data_version`, on PostgreSQL through LISTEN/NOTIFY.

use std::time::{Duration, Instant};

use super::instances::Instance;
use crate::support::*;
use rbacd::proto::v1 as pb;

#[tokio::test]
async fn a_write_on_one_instance_is_visible_on_another_within_100_ms_at_the_median() {
    let first = TestServer::start().await;
    // A long poll interval, so only the change notifications can explain a quick sighting.
    let second = Instance::start(first.database_url(), |s| {
        s.poll_interval = Duration::from_secs(30);
    })
    .await;
    let mut seen_after = Vec::new();
    for i in 0..15 {
        let name = format!("Role{i}");
        let written = Instant::now();
        create_role(&first, &name, &["Docs:Read"]).await;
        loop {
            let found = second
                .clients
                .roles
                .clone()
                .get_role(pb::GetRoleRequest {
                    role: role_by_name(&name),
                })
                .await;
            if found.is_ok() {
                break;
            }
            assert!(
                written.elapsed() < Duration::from_secs(5),
                "{name} never reached the second instance"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        seen_after.push(written.elapsed());
    }
    seen_after.sort();
    let median = seen_after[seen_after.len() / 2];
    eprintln!(
        "replica visibility: median {median:?}, max {:?} ({})",
        seen_after.last().unwrap(),
        if first.database_url().starts_with("postgres") {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );
    assert!(
        median < Duration::from_millis(100),
        "median {median:?}: {seen_after:?}"
    );
}
