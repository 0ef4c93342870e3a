//! The access log: writes with their caller and outcome, refused
//! authentication with its reason, at info, never with a secret.

use std::{process::Stdio, time::Duration};

use crate::support::*;
use rbacd::proto::v1 as pb;
use tokio::io::{AsyncBufReadExt, BufReader};

const WRONG_KEY: &str = "rbacd_wrong_secret_that_must_not_be_logged";

#[tokio::test]
async fn writes_and_refusals_are_logged_without_secrets() {
    let db =
        std::env::temp_dir().join(format!("rbacd-access-{}.db", uuid::Uuid::new_v4().simple()));
    let port = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_rbacd"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--database-url",
        ])
        .arg(format!("sqlite://{}?mode=rwc", db.display()))
        .env("RBACD_BOOTSTRAP_API_KEY", ADMIN_KEY)
        .env("RBACD_LOG_FORMAT", "json")
        .env("RBACD_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start rbacd serve");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    let wait_for =
        |needle: &'static str| move |seen: &Vec<String>| seen.iter().any(|l| l.contains(needle));
    collect(&mut rx, &mut seen, wait_for("serving gRPC")).await;

    let channel = tonic::transport::Channel::from_shared(format!("http://127.0.0.1:{port}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let admin = Clients::new(channel.clone(), Some(ADMIN_KEY));
    admin
        .roles
        .clone()
        .create_role(pb::CreateRoleRequest {
            name: "Reader".into(),
            permissions: vec!["Docs:Read".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    let stranger = Clients::new(channel, Some(WRONG_KEY));
    let refused = stranger
        .roles
        .clone()
        .list_roles(pb::ListRolesRequest::default())
        .await;
    assert_eq!(refused.unwrap_err().code(), tonic::Code::Unauthenticated);

    collect(&mut rx, &mut seen, |s| {
        wait_for("\"write\"")(s) && wait_for("authentication refused")(s)
    })
    .await;
    let _ = child.kill().await;
    let _ = std::fs::remove_file(&db);
    let events: Vec<serde_json::Value> = seen
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let write = events
        .iter()
        .find(|e| e["fields"]["message"] == "write")
        .unwrap_or_else(|| panic!("{seen:#?}"));
    assert_eq!(write["level"], "INFO");
    assert_eq!(write["fields"]["method"], "rbacd.v1.RoleService/CreateRole");
    assert_eq!(write["fields"]["code"], 0);
    assert!(
        write["fields"]["identity"].as_str().is_some_and(is_uuid),
        "{write}"
    );
    let refusal = events
        .iter()
        .find(|e| e["fields"]["message"] == "authentication refused")
        .unwrap();
    assert_eq!(
        refusal["fields"]["method"],
        "rbacd.v1.RoleService/ListRoles"
    );
    assert!(
        refusal["fields"]["reason"]
            .as_str()
            .unwrap()
            .contains("not valid")
    );
    for line in &seen {
        assert!(!line.contains(WRONG_KEY), "a secret in the log: {line}");
        assert!(!line.contains(ADMIN_KEY), "a secret in the log: {line}");
    }
}

async fn collect(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<String>,
    seen: &mut Vec<String>,
    done: impl Fn(&Vec<String>) -> bool,
) {
    let waited = tokio::time::timeout(Duration::from_secs(120), async {
        while !done(seen) {
            match rx.recv().await {
                Some(line) => seen.push(line),
                None => return,
            }
        }
    })
    .await;
    assert!(waited.is_ok() && done(seen), "not logged: {seen:#?}");
}
