//! min_revision: waited for, bounded, then UNAVAILABLE; per item on a stream.

use super::*;

#[tokio::test]
async fn min_revision_waits_bounded_then_unavailable() {
    let timeout = Duration::from_millis(400);
    let server = TestServer::start_with(|s| s.min_revision_timeout = timeout).await;
    let client = server.authorization();
    let root = root(&server).await;
    let role = create_role(&server, "Reader", &["Docs:Read"]).await;
    let jane = create_user(&server, "jane@example.com").await;
    let written = server
        .assignments()
        .create_assignment(assignment_request(&jane, &role, &root))
        .await
        .expect("create assignment")
        .into_inner();

    // The revision just returned: answered at once.
    let started = Instant::now();
    let resp = check(
        &client,
        pb::CheckRequest {
            min_revision: written.revision,
            ..ask_key(&jane, "Docs:Read", "root")
        },
    )
    .await;
    assert!(started.elapsed() < timeout, "{:?}", started.elapsed());
    assert_allowed(&resp);
    assert!(resp.revision >= written.revision);

    // A revision no one has written: UNAVAILABLE after the bounded wait.
    let far = written.revision + 1_000_000;
    let started = Instant::now();
    let status = expect_code(
        client
            .clone()
            .check(pb::CheckRequest {
                min_revision: far,
                ..ask_key(&jane, "Docs:Read", "root")
            })
            .await,
        Code::Unavailable,
    );
    let waited = started.elapsed();
    assert!(waited >= timeout, "gave up after {waited:?}");
    assert!(waited < timeout * 5, "waited {waited:?}");
    assert!(status.message().contains(&far.to_string()), "{status:?}");

    // In a batch: that item gets its own UNAVAILABLE error; the others are decided.
    let results = client
        .clone()
        .batch_check(pb::BatchCheckRequest {
            checks: vec![
                ask_key(&jane, "Docs:Read", "root"),
                pb::CheckRequest {
                    min_revision: far,
                    ..ask_key(&jane, "Docs:Read", "root")
                },
                ask_key(&jane, "Docs:Write", "root"),
            ],
        })
        .await
        .expect("batch check")
        .into_inner()
        .results;
    assert_allowed(&results[0]);
    assert_eq!(
        results[1].error.as_ref().map(|e| e.code),
        Some(Code::Unavailable as i32),
        "{:?}",
        results[1]
    );
    assert_denied(&results[2], pb::DecisionReason::NoMatchingAssignment);

    // The other reads honour it too.
    expect_code(
        client
            .clone()
            .list_permissions(pb::ListPermissionsRequest {
                identity: identity_by_id(&jane.id),
                min_revision: far,
                ..Default::default()
            })
            .await,
        Code::Unavailable,
    );
    expect_code(
        client
            .clone()
            .lookup_nodes(pb::LookupNodesRequest {
                identity: identity_by_id(&jane.id),
                permission: "Docs:Read".into(),
                min_revision: far,
                ..Default::default()
            })
            .await,
        Code::Unavailable,
    );
    expect_code(
        client
            .clone()
            .lookup_identities(pb::LookupIdentitiesRequest {
                permission: "Docs:Read".into(),
                node: node_by_key("root"),
                min_revision: far,
                ..Default::default()
            })
            .await,
        Code::Unavailable,
    );
}

#[tokio::test]
async fn min_revision_on_a_stream_waits_per_item_and_the_stream_goes_on() {
    let timeout = Duration::from_millis(600);
    let server = TestServer::start_with(|s| s.min_revision_timeout = timeout).await;
    let client = server.authorization();
    let root = root(&server).await;
    let role = create_role(&server, "Reader", &["Docs:Read"]).await;
    let jane = create_user(&server, "jane@example.com").await;
    let written = server
        .assignments()
        .create_assignment(assignment_request(&jane, &role, &root))
        .await
        .expect("create assignment")
        .into_inner()
        .revision;
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let mut answers = client
        .clone()
        .check_stream(ReceiverStream::new(rx))
        .await
        .expect("open CheckStream")
        .into_inner();
    let item = |id: &str, permission: &str, min_revision: u64| pb::CheckRequest {
        correlation_id: id.into(),
        min_revision,
        ..ask_key(&jane, permission, "root")
    };
    let mut next = async || {
        tokio::time::timeout(Duration::from_secs(10), answers.message())
            .await
            .expect("an answer in time")
            .expect("no error on the stream")
            .expect("an answer")
    };

    // Applied already: at once. Never written: UNAVAILABLE after the bounded
    // wait, and the item behind it is answered after it, in order.
    let started = Instant::now();
    for request in [
        item("applied", "Docs:Read", written),
        item("never", "Docs:Read", written + 1_000_000),
        item("after", "Docs:Write", 0),
    ] {
        tx.send(request).await.expect("send");
    }
    let applied = next().await;
    assert_eq!(applied.correlation_id, "applied");
    assert_allowed(&applied);
    assert!(started.elapsed() < timeout, "{:?}", started.elapsed());
    let never = next().await;
    assert_eq!(never.correlation_id, "never");
    assert_eq!(
        never.error.as_ref().map(|e| e.code),
        Some(Code::Unavailable as i32),
        "{never:?}"
    );
    assert!(started.elapsed() >= timeout, "{:?}", started.elapsed());
    let after = next().await;
    assert_eq!(after.correlation_id, "after");
    assert_denied(&after, pb::DecisionReason::NoMatchingAssignment);

    // A revision written while the item waits: decided once it is applied.
    tx.send(item("soon", "Docs:Read", written + 1))
        .await
        .expect("send");
    let later = create_role(&server, "Writer", &["Docs:Write"]).await;
    assert!(!later.id.is_empty());
    let soon = next().await;
    assert_eq!(soon.correlation_id, "soon");
    assert_allowed(&soon);
    assert!(soon.revision > written, "{soon:?}");

    // The stream is still open and answering.
    tx.send(item("last", "Docs:Read", 0)).await.expect("send");
    assert_allowed(&next().await);
    drop(tx);
    let end = tokio::time::timeout(Duration::from_secs(5), answers.message())
        .await
        .expect("the stream ends after the half-close");
    assert!(matches!(end, Ok(None)), "a clean end: {end:?}");
}
