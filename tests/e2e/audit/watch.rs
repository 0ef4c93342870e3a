//! Watch: backlog then live, resumption, environment scoping, draining.

use super::*;

#[tokio::test]
async fn watch_sends_the_backlog_then_a_write_made_after_it_started() {
    let server = TestServer::start().await;
    let client = server.audit();
    let base = latest(&client).await;
    let before = create_role(&server, "Before", &["A:B"]).await;
    let mut stream = start_watch(
        &client,
        pb::WatchRequest {
            after_revision: base,
            object_kind: pb::ObjectKind::Role.into(),
            ..Default::default()
        },
    )
    .await;
    let first = next_change(&mut stream).await;
    assert_eq!(
        (first.action.as_str(), first.object_id.as_str()),
        ("CreateRole", before.id.as_str())
    );

    // Long enough for the stream to be past its backlog and following live.
    tokio::time::sleep(Duration::from_millis(300)).await;
    create_node(&server, "not-a-role", None).await;
    let after = create_role(&server, "After", &["A:B"]).await;
    let live = next_change(&mut stream).await;
    assert_eq!(live.object_id, after.id, "the node is filtered out");
    assert!(live.revision > first.revision);
    assert_eq!(field(&live.after, "name"), "After");
    server.stop().await;
}

#[tokio::test]
async fn a_resumed_watch_misses_nothing_and_repeats_nothing_under_concurrent_writes() {
    let server = TestServer::start().await;
    let client = server.audit();
    let base = latest(&client).await;
    let roles = server.roles();
    let writes = tokio::spawn(async move {
        for i in 0..50 {
            roles
                .clone()
                .create_role(pb::CreateRoleRequest {
                    request_id: Default::default(),
                    name: format!("concurrent-{i}"),
                    description: String::new(),
                    permissions: vec!["A:B".into()],
                })
                .await
                .expect("create a role");
        }
    });

    let mut received: Vec<u64> = Vec::new();
    let mut stream = start_watch(
        &client,
        pb::WatchRequest {
            after_revision: base,
            ..Default::default()
        },
    )
    .await;
    for _ in 0..20 {
        received.push(next_change(&mut stream).await.revision);
    }
    drop(stream);
    // Resume from the last revision seen while the writes go on.
    let last_seen = *received.last().expect("twenty revisions");
    let mut resumed = start_watch(
        &client,
        pb::WatchRequest {
            after_revision: last_seen,
            ..Default::default()
        },
    )
    .await;
    writes.await.expect("the writes succeed");
    let expected = revisions(
        &list_all(
            &client,
            pb::ListChangesRequest {
                after_revision: base,
                page_size: 7,
                ..Default::default()
            },
        )
        .await,
    );
    assert_eq!(expected.len(), 50);
    let last = *expected.last().expect("fifty revisions");
    while received.last() != Some(&last) {
        received.push(next_change(&mut resumed).await.revision);
    }
    assert_eq!(received, expected, "every change once, in order");
    server.stop().await;
}

#[tokio::test]
async fn audit_shows_only_the_callers_environment() {
    let server = TestServer::start().await;
    let client = server.audit();
    const STAGING_KEY: &str = "rbacd_test_audit_staging_key_0123456789";
    let staging = create_environment(&server, "staging", STAGING_KEY)
        .await
        .audit;
    let staging_changes = staging
        .clone()
        .list_changes(pb::ListChangesRequest::default())
        .await
        .expect("ListChanges in staging")
        .into_inner()
        .changes;
    let default_changes = list_all(&client, pb::ListChangesRequest::default()).await;
    assert!(!staging_changes.is_empty());
    for change in &staging_changes {
        assert!(
            default_changes
                .iter()
                .all(|c| c.revision != change.revision),
            "change {} shows in both environments",
            change.revision
        );
    }

    let mut stream = start_watch(&staging, pb::WatchRequest::default()).await;
    for expected in &staging_changes {
        assert_eq!(next_change(&mut stream).await.revision, expected.revision);
    }
    create_role(&server, "DefaultOnly", &["A:B"]).await;
    let quiet = tokio::time::timeout(Duration::from_millis(500), stream.message()).await;
    assert!(
        quiet.is_err(),
        "staging's Watch saw default's write: {quiet:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_watch_ends_when_the_server_drains() {
    let server = TestServer::start().await;
    let client = server.audit();
    let base = latest(&client).await;
    let mut stream = start_watch(
        &client,
        pb::WatchRequest {
            after_revision: base,
            ..Default::default()
        },
    )
    .await;
    let reader = tokio::spawn(async move {
        let mut seen = 0;
        while let Ok(Some(_)) = stream.message().await {
            seen += 1;
        }
        seen
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.stop().await;
    let seen = tokio::time::timeout(ARRIVAL, reader)
        .await
        .expect("the stream ends with the server")
        .expect("the reader does not panic");
    assert_eq!(seen, 0);
}
