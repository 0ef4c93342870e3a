//! A database outage, through a TCP proxy that cuts one instance's link to
//! PostgreSQL while a second instance keeps writing directly: writes fail
//! fast with UNAVAILABLE, health keeps AuthorizationService SERVING while the
//! index is young enough, checks then fail closed, and once the link is back
//! everything recovers by itself, the writes made meanwhile included.

use std::time::{Duration, Instant};

use super::instances::{Instance, Proxy, eventually};
use crate::support::*;
use rbacd::proto::v1 as pb;
use tonic::Code;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

async fn health(channel: &tonic::transport::Channel, service: &str) -> ServingStatus {
    HealthClient::new(channel.clone())
        .check(HealthCheckRequest {
            service: service.into(),
        })
        .await
        .map(|r| r.into_inner().status())
        .unwrap_or(ServingStatus::Unknown)
}

fn a_check() -> pb::CheckRequest {
    pb::CheckRequest {
        identity: identity_by_email("nobody@example.com"),
        permission: "Docs:Read".into(),
        node: node_by_key("root"),
        ..Default::default()
    }
}

async fn role_exists(clients: &Clients, name: &str) -> bool {
    clients
        .roles
        .clone()
        .get_role(pb::GetRoleRequest {
            role: role_by_name(name),
        })
        .await
        .is_ok()
}

#[tokio::test]
async fn an_outage_degrades_to_checks_from_memory_then_recovers_with_nothing_missed() {
    let writer = TestServer::start().await;
    let url = writer.database_url().to_owned();
    if !url.starts_with("postgres") {
        eprintln!(
            "skipped: the outage test needs PostgreSQL (set RBACD_TEST_DATABASE_URL); SQLite has no link to cut"
        );
        return;
    }
    let (host_port, rest) = url
        .strip_prefix("postgres://postgres@")
        .and_then(|r| r.split_once('/'))
        .expect("a postgres://postgres@HOST:PORT/DB URL");
    let target = tokio::net::lookup_host(host_port)
        .await
        .unwrap()
        .next()
        .unwrap();
    let proxy = Proxy::start(target).await;
    let proxied = format!("postgres://postgres@{}/{rest}", proxy.addr);
    let cut_off = Instance::start(&proxied, |s| s.max_staleness = Duration::from_secs(4)).await;
    let roles = || cut_off.clients.roles.clone();
    let authz = || cut_off.clients.authz.clone();

    proxy.cut();
    let started = Instant::now();
    let refused = roles()
        .create_role(pb::CreateRoleRequest {
            name: "Refused".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");
    assert!(
        refused.message().contains("store is unreachable"),
        "{refused:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "fails fast: {:?}",
        started.elapsed()
    );
    eventually(
        "write services NOT_SERVING",
        Duration::from_secs(5),
        || async {
            health(&cut_off.channel, "rbacd.v1.RoleService").await == ServingStatus::NotServing
        },
    )
    .await;
    assert_eq!(
        health(&cut_off.channel, "rbacd.v1.AuthorizationService").await,
        ServingStatus::Serving
    );
    authz()
        .check(a_check())
        .await
        .expect("checks are answered from memory");

    // The other instance writes while this one is cut off.
    for i in 0..5 {
        create_role(&writer, &format!("Meanwhile{i}"), &["Docs:Read"]).await;
    }
    // Past --max-staleness, checks fail closed.
    eventually("checks fail closed", Duration::from_secs(8), || async {
        authz()
            .check(a_check())
            .await
            .is_err_and(|s| s.code() == Code::Unavailable)
    })
    .await;
    assert_eq!(
        health(&cut_off.channel, "rbacd.v1.AuthorizationService").await,
        ServingStatus::NotServing
    );

    proxy.restore();
    eventually(
        "everything SERVING again",
        Duration::from_secs(15),
        || async {
            health(&cut_off.channel, "rbacd.v1.RoleService").await == ServingStatus::Serving
                && health(&cut_off.channel, "rbacd.v1.AuthorizationService").await
                    == ServingStatus::Serving
        },
    )
    .await;
    for i in 0..5 {
        assert!(
            role_exists(&cut_off.clients, &format!("Meanwhile{i}")).await,
            "Meanwhile{i} missed"
        );
    }
    authz()
        .check(a_check())
        .await
        .expect("checks answered again");
    roles()
        .create_role(pb::CreateRoleRequest {
            name: "After".into(),
            ..Default::default()
        })
        .await
        .expect("writes work again");
    eventually(
        "the writer sees the cut-off instance's write",
        Duration::from_secs(5),
        || async { role_exists(&writer.clients(Some(ADMIN_KEY)), "After").await },
    )
    .await;
}
