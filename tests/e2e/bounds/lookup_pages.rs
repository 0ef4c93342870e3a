//! LookupNodes pages resume from their token in the index: after a node deleted
//! since, from where it sat; a token whose place is lost, or one another list
//! issued, is INVALID_ARGUMENT naming `page_token`.

use super::*;

async fn delete(server: &TestServer, key: &str, cascade: bool) {
    server
        .nodes()
        .delete_node(pb::DeleteNodeRequest {
            request_id: Default::default(),
            node: node_by_key(key),
            cascade,
        })
        .await
        .unwrap_or_else(|s| panic!("delete {key}: {s:?}"));
}

/// One page of the nodes where `who` reads docs: their keys and the token.
async fn page(
    server: &TestServer,
    who: &pb::Identity,
    size: i32,
    page_token: &str,
) -> Result<(Vec<String>, String), tonic::Status> {
    let reply = server
        .authorization()
        .lookup_nodes(pb::LookupNodesRequest {
            identity: identity_by_id(&who.id),
            permission: "Docs:Read".into(),
            page_size: size,
            page_token: page_token.into(),
            ..Default::default()
        })
        .await?
        .into_inner();
    let keys = reply.nodes.into_iter().map(|n| n.key).collect();
    Ok((keys, reply.next_page_token))
}

#[tokio::test]
async fn lookup_nodes_resumes_after_deleted_nodes_and_refuses_lost_or_foreign_tokens() {
    let server = TestServer::start().await;
    let reader = create_role(&server, "Reader", &["Docs:Read"]).await;
    let who = create_user(&server, "reader@example.com").await;
    // Created in tree order, so ids ascend in it too: root, a, a1, a2, a3, b, b1.
    for (key, parent) in [
        ("a", None),
        ("a1", Some("a")),
        ("a2", Some("a")),
        ("a3", Some("a")),
        ("b", None),
        ("b1", Some("b")),
    ] {
        create_node(&server, key, parent).await;
    }
    assign(&server, &who, &reader, &root(&server).await).await;

    let (first, token) = page(&server, &who, 3, "").await.unwrap();
    assert_eq!(first, ["root", "a", "a1"]);
    let (second, after_a2) = page(&server, &who, 1, &token).await.unwrap();
    assert_eq!(second, ["a2"]);

    // The last node listed is deleted: the next page starts where it sat.
    delete(&server, "a1", false).await;
    let (rest, end) = page(&server, &who, 10, &token).await.unwrap();
    assert_eq!(rest, ["a2", "a3", "b", "b1"]);
    assert!(end.is_empty());

    // Both the last node listed and its parent gone: the place is lost.
    delete(&server, "a", true).await;
    let lost = expect_invalid(page(&server, &who, 10, &after_a2).await, "page_token");
    assert!(lost.message().contains("start again"), "{lost:?}");

    // Tokens of other lists, and damaged ones, are refused.
    let foreign = format!("p1.{}", uuid::Uuid::now_v7().simple());
    for bad in [
        foreign.as_str(),
        "t1.",
        "t1.zz",
        &after_a2[..after_a2.len() - 1],
    ] {
        expect_invalid(page(&server, &who, 10, bad).await, "page_token");
    }
}
