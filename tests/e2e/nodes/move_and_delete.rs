//! MoveNode (the subtree moves, cycles refused) and DeleteNode (cascade).

use super::*;

#[tokio::test]
async fn move_node_moves_the_subtree_and_refuses_cycles() {
    let server = TestServer::start().await;
    let mut nodes = server.nodes();
    let a = create_node(&server, "a", None).await;
    let b = create_node(&server, "a:b", Some("a")).await;
    let c = create_node(&server, "a:b:c", Some("a:b")).await;
    let other = create_node(&server, "other", None).await;
    let root = root(&server).await;

    let moved = nodes
        .move_node(pb::MoveNodeRequest {
            request_id: Default::default(),
            node: node_by_key("a:b"),
            new_parent: node_by_key("other"),
        })
        .await
        .expect("move")
        .into_inner();
    assert!(moved.revision > 0);
    let moved_b = moved.node.unwrap();
    assert_eq!(moved_b.id, b.id);
    assert_eq!(moved_b.key, b.key);
    assert_eq!(moved_b.parent_id, other.id);
    assert_eq!(get(&server, node_by_id(&b.id)).await, moved_b);
    // The subtree came along.
    assert_eq!(get(&server, node_by_id(&c.id)).await.parent_id, b.id);
    assert!(children(&server, node_by_key("a")).await.is_empty());
    assert_eq!(
        keys(&children(&server, node_by_key("other")).await),
        set(&["a:b"])
    );

    // And back, by id, to the root.
    let back = nodes
        .move_node(pb::MoveNodeRequest {
            request_id: Default::default(),
            node: node_by_id(&b.id),
            new_parent: node_by_id(&root.id),
        })
        .await
        .expect("move to the root")
        .into_inner();
    assert!(back.revision > moved.revision);
    assert_eq!(back.node.unwrap().parent_id, root.id);

    // To where it already is: allowed, nothing moves.
    let stay = nodes
        .move_node(pb::MoveNodeRequest {
            request_id: Default::default(),
            node: node_by_key("a:b"),
            new_parent: node_by_key("root"),
        })
        .await
        .expect("move to the current parent")
        .into_inner();
    assert_eq!(stay.node.unwrap().parent_id, root.id);
    assert_eq!(get(&server, node_by_id(&c.id)).await.parent_id, b.id);

    // Under itself, or under its own descendant.
    for (node, parent) in [("a:b", "a:b"), ("a:b", "a:b:c"), ("other", "other")] {
        let status = expect_code(
            nodes
                .move_node(pb::MoveNodeRequest {
                    request_id: Default::default(),
                    node: node_by_key(node),
                    new_parent: node_by_key(parent),
                })
                .await,
            Code::FailedPrecondition,
        );
        assert!(status.message().contains(node), "{}", status.message());
    }
    // A deeper cycle: a under a:b:c's child.
    create_node(&server, "a:b:c:d", Some("a:b:c")).await;
    nodes
        .move_node(pb::MoveNodeRequest {
            request_id: Default::default(),
            node: node_by_key("a:b"),
            new_parent: node_by_key("a"),
        })
        .await
        .expect("move back under a");
    expect_code(
        nodes
            .move_node(pb::MoveNodeRequest {
                request_id: Default::default(),
                node: node_by_key("a"),
                new_parent: node_by_key("a:b:c:d"),
            })
            .await,
        Code::FailedPrecondition,
    );
    assert_eq!(get(&server, node_by_key("a")).await.parent_id, root.id);

    // The root cannot move.
    let status = expect_code(
        nodes
            .move_node(pb::MoveNodeRequest {
                request_id: Default::default(),
                node: node_by_key("root"),
                new_parent: node_by_key("a"),
            })
            .await,
        Code::FailedPrecondition,
    );
    assert!(status.message().contains("root"), "{}", status.message());
    assert_eq!(get(&server, node_by_key("root")).await.parent_id, "");

    expect_not_found(
        nodes
            .move_node(pb::MoveNodeRequest {
                request_id: Default::default(),
                node: node_by_key("ghost"),
                new_parent: node_by_key("a"),
            })
            .await,
        "ghost",
    );
    expect_not_found(
        nodes
            .move_node(pb::MoveNodeRequest {
                request_id: Default::default(),
                node: node_by_key("a"),
                new_parent: node_by_key("ghost-parent"),
            })
            .await,
        "ghost-parent",
    );
    expect_invalid(
        nodes
            .move_node(pb::MoveNodeRequest {
                request_id: Default::default(),
                node: node_by_key("a"),
                new_parent: None,
            })
            .await,
        "new_parent",
    );
    expect_invalid(
        nodes
            .move_node(pb::MoveNodeRequest {
                request_id: Default::default(),
                node: node_by_id("zzz"),
                new_parent: node_by_key("a"),
            })
            .await,
        "node",
    );
    let _ = a;
}

#[tokio::test]
async fn delete_node_needs_cascade_for_children() {
    let server = TestServer::start().await;
    let mut nodes = server.nodes();
    let mut assignments = server.assignments();
    let role = create_role(&server, "Reader", &["Docs:Read"]).await;
    let jane = create_user(&server, "jane@example.co").await;
    let baseline = list_all_assignments(&server, pb::ListAssignmentsRequest::default()).await;

    // A leaf goes at once, with its assignments.
    let leaf = create_node(&server, "leaf", None).await;
    let on_leaf = assign(&server, &jane, &role, &leaf).await;
    let deleted = nodes
        .delete_node(pb::DeleteNodeRequest {
            request_id: Default::default(),
            node: node_by_key("leaf"),
            cascade: false,
        })
        .await
        .expect("delete a leaf")
        .into_inner();
    assert_eq!(deleted.node.as_ref(), Some(&leaf));
    assert_eq!(deleted.deleted_nodes, 1);
    assert_eq!(deleted.deleted_assignments, 1);
    expect_not_found(
        nodes
            .get_node(pb::GetNodeRequest {
                node: node_by_key("leaf"),
            })
            .await,
        "leaf",
    );
    expect_not_found(
        assignments
            .get_assignment(pb::GetAssignmentRequest {
                id: on_leaf.id.clone(),
            })
            .await,
        &on_leaf.id,
    );

    // A subtree: top -> (mid -> (low1, low2), mid2); plus a sibling that stays.
    let top = create_node(&server, "top", None).await;
    let mid = create_node(&server, "mid", Some("top")).await;
    let low1 = create_node(&server, "low1", Some("mid")).await;
    let low2 = create_node(&server, "low2", Some("mid")).await;
    let mid2 = create_node(&server, "mid2", Some("top")).await;
    let sibling = create_node(&server, "sibling", None).await;
    let doomed = [
        assign(&server, &jane, &role, &top).await,
        assign(&server, &jane, &role, &mid).await,
        assign(&server, &jane, &role, &low2).await,
    ];
    let kept = assign(&server, &jane, &role, &sibling).await;

    for node in ["top", "mid"] {
        let status = expect_code(
            nodes
                .delete_node(pb::DeleteNodeRequest {
                    request_id: Default::default(),
                    node: node_by_key(node),
                    cascade: false,
                })
                .await,
            Code::FailedPrecondition,
        );
        assert!(status.message().contains(node), "{}", status.message());
    }
    // Nothing was removed.
    for n in [&top, &mid, &low1, &low2, &mid2] {
        assert_eq!(&get(&server, node_by_id(&n.id)).await, n);
    }
    for a in &doomed {
        assignments
            .get_assignment(pb::GetAssignmentRequest { id: a.id.clone() })
            .await
            .expect("assignments survive a refused delete");
    }

    let cascaded = nodes
        .delete_node(pb::DeleteNodeRequest {
            request_id: Default::default(),
            node: node_by_id(&top.id),
            cascade: true,
        })
        .await
        .expect("cascade")
        .into_inner();
    assert!(cascaded.revision > deleted.revision);
    assert_eq!(cascaded.node.as_ref().map(|n| &n.id), Some(&top.id));
    assert_eq!(cascaded.deleted_nodes, 5);
    assert_eq!(cascaded.deleted_assignments, doomed.len() as u32);
    for n in [&top, &mid, &low1, &low2, &mid2] {
        expect_not_found(
            nodes
                .get_node(pb::GetNodeRequest {
                    node: node_by_id(&n.id),
                })
                .await,
            &n.id,
        );
    }
    for a in &doomed {
        expect_not_found(
            assignments
                .get_assignment(pb::GetAssignmentRequest { id: a.id.clone() })
                .await,
            &a.id,
        );
    }
    assert_eq!(get(&server, node_by_key("sibling")).await, sibling);
    let left = list_all_assignments(&server, pb::ListAssignmentsRequest::default()).await;
    let mut expected: Vec<&str> = baseline.iter().map(|a| a.id.as_str()).collect();
    expected.push(&kept.id);
    assert_eq!(
        sorted_ids(left.iter().map(|a| a.id.as_str())),
        sorted_ids(expected)
    );
    // The keys are free again.
    create_node(&server, "top", None).await;
    create_node(&server, "low1", Some("top")).await;

    // The root can never be deleted, cascade or not.
    for cascade in [false, true] {
        let status = expect_code(
            nodes
                .delete_node(pb::DeleteNodeRequest {
                    request_id: Default::default(),
                    node: node_by_key("root"),
                    cascade,
                })
                .await,
            Code::FailedPrecondition,
        );
        assert!(status.message().contains("root"), "{}", status.message());
    }
    get(&server, node_by_key("root")).await;
    assert_eq!(get(&server, node_by_key("sibling")).await, sibling);

    expect_not_found(
        nodes
            .delete_node(pb::DeleteNodeRequest {
                request_id: Default::default(),
                node: node_by_key("mid"),
                cascade: true,
            })
            .await,
        "mid",
    );
    expect_invalid(
        nodes
            .delete_node(pb::DeleteNodeRequest {
                request_id: Default::default(),
                node: None,
                cascade: false,
            })
            .await,
        "node",
    );
}
