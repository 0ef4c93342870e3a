//! BatchCheck: one malformed item never spoils the others; min_revision waited
//! for once per batch.

use super::*;

#[tokio::test]
async fn batch_check_decides_around_a_malformed_item() {
    let server = TestServer::start().await;
    let client = server.authorization();
    let root = root(&server).await;
    let role = create_role(&server, "Reader", &["Docs:Read"]).await;
    let jane = create_user(&server, "jane@example.com").await;
    assign(&server, &jane, &role, &root).await;
    let with_id = |id: &str, mut r: pb::CheckRequest| {
        r.correlation_id = id.into();
        r
    };
    let checks = vec![
        with_id("a", ask_key(&jane, "Docs:Read", "root")),
        with_id("b", ask_key(&jane, "Docs:Write", "root")),
        with_id("c", ask_key(&jane, "Docs:*", "root")),
        with_id(
            "d",
            ask(
                identity_by_id(&uuid::Uuid::new_v4().to_string()),
                "Docs:Read",
                node_by_key("root"),
            ),
        ),
        with_id(
            "e",
            pb::CheckRequest {
                node: None,
                ..ask_key(&jane, "Docs:Read", "root")
            },
        ),
        with_id("f", ask_key(&jane, "Docs:Read", "root")),
    ];
    let results = client
        .clone()
        .batch_check(pb::BatchCheckRequest { checks })
        .await
        .expect("a batch with malformed items is still answered")
        .into_inner()
        .results;
    assert_eq!(results.len(), 6);
    let ids: Vec<&str> = results.iter().map(|r| r.correlation_id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c", "d", "e", "f"]);
    assert_allowed(&results[0]);
    assert_denied(&results[1], pb::DecisionReason::NoMatchingAssignment);
    assert_item_invalid(&results[2], "permission");
    assert_denied(&results[3], pb::DecisionReason::UnknownIdentity);
    assert_item_invalid(&results[4], "node");
    assert_allowed(&results[5]);

    // 0 and 1001 items are refused whole; 1000 are answered.
    for n in [0, 1001] {
        let checks = vec![ask_key(&jane, "Docs:Read", "root"); n];
        expect_invalid(
            client
                .clone()
                .batch_check(pb::BatchCheckRequest { checks })
                .await,
            "checks",
        );
    }
    let checks = vec![ask_key(&jane, "Docs:Read", "root"); 1000];
    let results = client
        .clone()
        .batch_check(pb::BatchCheckRequest { checks })
        .await
        .expect("1000 checks")
        .into_inner()
        .results;
    assert_eq!(results.len(), 1000);
    results.iter().for_each(assert_allowed);
}

#[tokio::test]
async fn a_batch_waits_for_min_revision_once_not_once_per_item() {
    let timeout = Duration::from_millis(300);
    let server = TestServer::start_with(|s| s.min_revision_timeout = timeout).await;
    let client = server.authorization();
    let jane = create_user(&server, "jane@example.com").await;
    let unreachable = 1_000_000;
    let checks = vec![
        pb::CheckRequest {
            min_revision: unreachable,
            ..ask_key(&jane, "Docs:Read", "root")
        };
        10
    ];
    let started = Instant::now();
    let results = client
        .clone()
        .batch_check(pb::BatchCheckRequest { checks })
        .await
        .expect("batch check")
        .into_inner()
        .results;
    let waited = started.elapsed();
    assert_eq!(results.len(), 10);
    assert!(results.iter().all(|r| {
        r.error
            .as_ref()
            .is_some_and(|e| e.code == Code::Unavailable as i32)
    }));
    assert!(
        waited < timeout * 3,
        "a batch waited {waited:?} for a bound of {timeout:?}"
    );
}
