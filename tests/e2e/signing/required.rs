//! The per-environment requirement: unsigned mutations refused only where
//! required, reads and checks never; the change log names the signer; the
//! CLI signs; a second instance refuses a replay.

use std::time::Duration;

use futures::StreamExt;

use super::*;

#[tokio::test]
async fn unsigned_mutations_are_refused_only_where_required_and_reads_never() {
    let server = TestServer::start().await;
    let admin = server.clients(Some(ADMIN_KEY));
    admin
        .roles
        .clone()
        .create_role(role_request("Unsigned"))
        .await
        .expect("not required: accepted");

    require_signed_actions(&server, "default", true).await;
    let refused = admin
        .roles
        .clone()
        .create_role(role_request("Refused"))
        .await;
    expect_refused(refused, "missing");
    let refused = admin
        .nodes
        .clone()
        .create_node(pb::CreateNodeRequest {
            key: "n".into(),
            ..Default::default()
        })
        .await;
    expect_refused(refused, "missing");

    admin
        .roles
        .clone()
        .list_roles(pb::ListRolesRequest::default())
        .await
        .expect("reads need no user action");
    admin
        .authz
        .clone()
        .check(pb::CheckRequest {
            identity: identity_by_email("nobody@example.com"),
            permission: "Docs:Read".into(),
            node: node_by_key("root"),
            ..Default::default()
        })
        .await
        .expect("checks need no user action");

    require_signed_actions(&server, "default", false).await;
    admin
        .roles
        .clone()
        .create_role(role_request("Again"))
        .await
        .expect("no longer required: accepted");
}

#[tokio::test]
async fn the_change_log_names_the_credential_that_signed_each_change() {
    let server = TestServer::start().await;
    require_signed_actions(&server, "default", true).await;
    let admin = server.clients(Some(ADMIN_KEY));
    let key = register(&admin, None).await;
    let request = signed(&admin, &key, CREATE_ROLE, role_request("Signed")).await;
    let role = admin
        .roles
        .clone()
        .create_role(request)
        .await
        .expect("a signed mutation")
        .into_inner()
        .role
        .unwrap();

    let changes = admin
        .audit
        .clone()
        .list_changes(pb::ListChangesRequest {
            object_id: role.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .changes;
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].signed_by_credential_id, key.credential_id);

    let mut watch = admin
        .audit
        .clone()
        .watch(pb::WatchRequest {
            object_id: role.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let watched = tokio::time::timeout(Duration::from_secs(10), watch.next())
        .await
        .expect("a change within 10 s")
        .expect("a change")
        .expect("no error")
        .change
        .unwrap();
    assert_eq!(watched.signed_by_credential_id, key.credential_id);

    // The credential's own registration was not signed (the first is free).
    let registered = admin
        .audit
        .clone()
        .list_changes(pb::ListChangesRequest {
            object_kind: pb::ObjectKind::Credential.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .changes;
    assert_eq!(registered.len(), 1);
    assert_eq!(registered[0].signed_by_credential_id, "");
}

#[tokio::test]
async fn a_second_instance_on_the_same_database_refuses_a_replay() {
    let server = TestServer::start().await;
    require_signed_actions(&server, "default", true).await;
    let admin = server.clients(Some(ADMIN_KEY));
    let key = register(&admin, None).await;
    let token = user_action(&admin, &key, CREATE_ROLE, &role_request("Replayed")).await;
    admin
        .roles
        .clone()
        .create_role(with_action(role_request("Replayed"), &token))
        .await
        .expect("the first use, on the first instance");

    let mut settings = rbacd::server::Settings::new(server.database_url());
    settings.bootstrap_api_key = Some(ADMIN_KEY.into());
    let second = rbacd::server::App::open(settings)
        .await
        .expect("a second instance");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(second.serve_tcp(listener, async {
        let _ = stopped.await;
    }));
    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .expect("connect to the second instance");
    let elsewhere = Clients::new(channel, Some(ADMIN_KEY));
    let replayed = elsewhere
        .roles
        .clone()
        .create_role(with_action(role_request("Replayed"), &token))
        .await;
    expect_refused(replayed, "reused");
    // A fresh one, begun on the first instance, is good on the second.
    let token = user_action(&admin, &key, CREATE_ROLE, &role_request("Elsewhere")).await;
    elsewhere
        .roles
        .clone()
        .create_role(with_action(role_request("Elsewhere"), &token))
        .await
        .expect("a user action is good on any instance");
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(10), serving).await;
}

#[tokio::test]
async fn the_cli_signs_mutations_with_its_signing_key() {
    let server = TestServer::start().await;
    let address = format!("http://{}", server.addr);
    let dir = std::env::temp_dir().join(format!("rbacd-signing-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let key_file = dir.join("key.pem");
    let key_path = key_file.to_str().unwrap();
    // The server runs on this test's runtime: the binary is awaited, not waited for.
    let rbacd = |args: &[&str]| {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_rbacd"));
        command
            .args(args)
            .args([
                "--server",
                &address,
                "--api-key",
                ADMIN_KEY,
                "--output",
                "json",
            ])
            .env_remove("RBACD_SIGNING_KEY")
            .env("RBACD_LOG", "warn")
            .kill_on_drop(true);
        async move { command.output().await.expect("run rbacd") }
    };

    let made = rbacd(&["credential", "create-key", key_path, "--name", "cli"]).await;
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let made: serde_json::Value = serde_json::from_slice(&made.stdout).unwrap();
    let credential_id = made["credential"]["id"].as_str().unwrap().to_owned();
    require_signed_actions(&server, "default", true).await;

    let unsigned = rbacd(&["role", "create", "Unsigned", "--permission", "Docs:Read"]).await;
    assert_eq!(unsigned.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&unsigned.stderr);
    assert!(stderr.contains("missing user action"), "{stderr}");

    let signed = rbacd(&[
        "role",
        "create",
        "Signed",
        "--permission",
        "Docs:Read",
        "--signing-key",
        key_path,
    ])
    .await;
    assert!(
        signed.status.success(),
        "{}",
        String::from_utf8_lossy(&signed.stderr)
    );
    let changes = server
        .audit()
        .list_changes(pb::ListChangesRequest {
            object_kind: pb::ObjectKind::Role.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .changes;
    let last = changes.last().expect("the role's change");
    assert_eq!(last.signed_by_credential_id, credential_id);
    std::fs::remove_dir_all(&dir).ok();
}
