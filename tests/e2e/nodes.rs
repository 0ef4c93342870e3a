//! NodeService end to end: every RPC, its success path and its error paths.

use std::collections::HashSet;

use crate::support::*;
use rbacd::proto::v1 as pb;
use tonic::Code;

fn create_request(key: &str, parent: Option<pb::NodeRef>) -> pb::CreateNodeRequest {
    pb::CreateNodeRequest {
        key: key.into(),
        name: String::new(),
        kind: String::new(),
        parent,
    }
}

async fn get(server: &TestServer, node: Option<pb::NodeRef>) -> pb::Node {
    server
        .nodes()
        .get_node(pb::GetNodeRequest { node })
        .await
        .expect("get node")
        .into_inner()
        .node
        .expect("a node")
}

async fn children(server: &TestServer, parent: Option<pb::NodeRef>) -> Vec<pb::Node> {
    let mut client = server.nodes();
    let mut out: Vec<pb::Node> = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_nodes(pb::ListNodesRequest {
                parent: parent.clone(),
                page_size: 2,
                page_token: token,
            })
            .await
            .expect("list nodes")
            .into_inner();
        assert!(page.nodes.len() <= 2);
        for n in page.nodes {
            assert!(out.iter().all(|o| o.id != n.id), "{} listed twice", n.key);
            out.push(n);
        }
        if page.next_page_token.is_empty() {
            return out;
        }
        token = page.next_page_token;
    }
}

fn keys(nodes: &[pb::Node]) -> HashSet<String> {
    nodes.iter().map(|n| n.key.clone()).collect()
}

fn set(keys: &[&str]) -> HashSet<String> {
    keys.iter().map(|k| k.to_string()).collect()
}

#[tokio::test]
async fn create_and_get_nodes() {
    let server = TestServer::start().await;
    let mut nodes = server.nodes();
    let root = root(&server).await;
    assert_eq!(root.key, "root");
    assert_eq!(root.parent_id, "", "the root has no parent");
    assert!(is_uuid(&root.id));

    // The parent defaults to the root.
    let created = nodes
        .create_node(pb::CreateNodeRequest {
            key: "payments".into(),
            name: "Payments".into(),
            kind: "team".into(),
            parent: None,
        })
        .await
        .expect("create node")
        .into_inner();
    let payments = created.node.unwrap();
    assert!(is_uuid(&payments.id));
    assert_eq!(payments.key, "payments");
    assert_eq!(payments.name, "Payments");
    assert_eq!(payments.kind, "team");
    assert_eq!(payments.parent_id, root.id);
    assert!(payments.create_time.is_some());
    assert!(created.revision > 0);

    // Under a parent named by key, then by id.
    let by_key = nodes
        .create_node(pb::CreateNodeRequest {
            kind: "wallet".into(),
            ..create_request("wallet:42", node_by_key("payments"))
        })
        .await
        .expect("create under a key")
        .into_inner();
    assert!(by_key.revision > created.revision);
    let wallet = by_key.node.unwrap();
    assert_eq!(wallet.parent_id, payments.id);
    let by_id = nodes
        .create_node(create_request("wallet:42:card", node_by_id(&wallet.id)))
        .await
        .expect("create under an id")
        .into_inner();
    assert!(by_id.revision > by_key.revision);
    assert_eq!(by_id.node.as_ref().unwrap().parent_id, wallet.id);

    assert_eq!(get(&server, node_by_key("payments")).await, payments);
    assert_eq!(get(&server, node_by_id(&payments.id)).await, payments);
    assert_eq!(get(&server, node_by_key("wallet:42")).await, wallet);
    assert_eq!(get(&server, node_by_id(&root.id)).await, root);

    // Limits: 256 characters are fine.
    let long = "k".repeat(256);
    let big = nodes
        .create_node(pb::CreateNodeRequest {
            key: long.clone(),
            name: "n".repeat(256),
            kind: "t".repeat(256),
            parent: None,
        })
        .await
        .expect("256-character fields")
        .into_inner()
        .node
        .unwrap();
    assert_eq!(big.key, long);
}

#[tokio::test]
async fn create_node_errors() {
    let server = TestServer::start().await;
    let mut nodes = server.nodes();
    create_node(&server, "payments", None).await;

    expect_invalid(nodes.create_node(create_request("", None)).await, "key");
    let status = expect_invalid(
        nodes
            .create_node(create_request(&"k".repeat(257), None))
            .await,
        "key",
    );
    assert!(status.message().contains("256"), "{}", status.message());
    expect_invalid(
        nodes.create_node(create_request("wallet 42", None)).await,
        "key",
    );
    expect_invalid(
        nodes
            .create_node(pb::CreateNodeRequest {
                name: "n".repeat(257),
                ..create_request("fine", None)
            })
            .await,
        "name",
    );
    expect_invalid(
        nodes
            .create_node(pb::CreateNodeRequest {
                kind: "t".repeat(257),
                ..create_request("fine", None)
            })
            .await,
        "kind",
    );
    let status = expect_code(
        nodes
            .create_node(create_request("fine", node_by_id("nope")))
            .await,
        Code::InvalidArgument,
    );
    assert!(
        violated_fields(&status)
            .iter()
            .any(|f| f.starts_with("parent")),
        "{status:?}"
    );

    // Duplicate keys, the root's included.
    for dup in ["payments", "root"] {
        let status = expect_code(
            nodes.create_node(create_request(dup, None)).await,
            Code::AlreadyExists,
        );
        assert!(status.message().contains(dup), "{}", status.message());
    }
    let status = expect_code(
        nodes
            .create_node(create_request("payments", node_by_key("payments")))
            .await,
        Code::AlreadyExists,
    );
    assert_no_sql(&status);

    // A missing parent.
    expect_not_found(
        nodes
            .create_node(create_request("orphan", node_by_key("no-such-parent")))
            .await,
        "no-such-parent",
    );
    let missing = uuid::Uuid::new_v4().to_string();
    expect_not_found(
        nodes
            .create_node(create_request("orphan", node_by_id(&missing)))
            .await,
        &missing,
    );
    expect_not_found(
        nodes
            .get_node(pb::GetNodeRequest {
                node: node_by_key("orphan"),
            })
            .await,
        "orphan",
    );
}

#[tokio::test]
async fn get_node_errors() {
    let server = TestServer::start().await;
    let mut nodes = server.nodes();
    expect_not_found(
        nodes
            .get_node(pb::GetNodeRequest {
                node: node_by_key("nowhere"),
            })
            .await,
        "nowhere",
    );
    let missing = uuid::Uuid::new_v4().to_string();
    expect_not_found(
        nodes
            .get_node(pb::GetNodeRequest {
                node: node_by_id(&missing),
            })
            .await,
        &missing,
    );
    expect_invalid(
        nodes
            .get_node(pb::GetNodeRequest {
                node: node_by_id("not-a-uuid"),
            })
            .await,
        "node",
    );
    expect_invalid(
        nodes.get_node(pb::GetNodeRequest { node: None }).await,
        "node",
    );
}

#[tokio::test]
async fn list_nodes_lists_children_page_by_page() {
    let server = TestServer::start().await;
    let mut nodes = server.nodes();
    let top_before = children(&server, None).await;
    let mut top: HashSet<String> = keys(&top_before);
    for i in 0..5 {
        create_node(&server, &format!("top{i}"), None).await;
        top.insert(format!("top{i}"));
    }
    for i in 0..3 {
        create_node(&server, &format!("top0:child{i}"), Some("top0")).await;
    }
    create_node(&server, "top0:child0:grandchild", Some("top0:child0")).await;

    // The root's children, by default and named.
    assert_eq!(keys(&children(&server, None).await), top);
    assert_eq!(keys(&children(&server, node_by_key("root")).await), top);
    let listed = children(&server, node_by_key("top0")).await;
    assert_eq!(
        keys(&listed),
        set(&["top0:child0", "top0:child1", "top0:child2"])
    );
    let top0 = get(&server, node_by_key("top0")).await;
    assert!(listed.iter().all(|n| n.parent_id == top0.id));
    assert_eq!(
        keys(&children(&server, node_by_id(&top0.id)).await),
        keys(&listed)
    );
    assert!(children(&server, node_by_key("top1")).await.is_empty());

    // Page size 0 is the default of 100.
    let page = nodes
        .list_nodes(pb::ListNodesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(keys(&page.nodes), top);
    assert!(page.next_page_token.is_empty());

    expect_not_found(
        nodes
            .list_nodes(pb::ListNodesRequest {
                parent: node_by_key("nowhere"),
                ..Default::default()
            })
            .await,
        "nowhere",
    );
    expect_invalid(
        nodes
            .list_nodes(pb::ListNodesRequest {
                page_size: -1,
                ..Default::default()
            })
            .await,
        "page_size",
    );
    expect_invalid(
        nodes
            .list_nodes(pb::ListNodesRequest {
                page_token: "p1.not-a-uuid".into(),
                ..Default::default()
            })
            .await,
        "page_token",
    );
    expect_invalid(
        nodes
            .list_nodes(pb::ListNodesRequest {
                parent: node_by_id("1"),
                ..Default::default()
            })
            .await,
        "parent",
    );
}

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
            node: node_by_key("a:b"),
            new_parent: node_by_key("a"),
        })
        .await
        .expect("move back under a");
    expect_code(
        nodes
            .move_node(pb::MoveNodeRequest {
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
                node: node_by_key("ghost"),
                new_parent: node_by_key("a"),
            })
            .await,
        "ghost",
    );
    expect_not_found(
        nodes
            .move_node(pb::MoveNodeRequest {
                node: node_by_key("a"),
                new_parent: node_by_key("ghost-parent"),
            })
            .await,
        "ghost-parent",
    );
    expect_invalid(
        nodes
            .move_node(pb::MoveNodeRequest {
                node: node_by_key("a"),
                new_parent: None,
            })
            .await,
        "new_parent",
    );
    expect_invalid(
        nodes
            .move_node(pb::MoveNodeRequest {
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
                node: node_by_key("mid"),
                cascade: true,
            })
            .await,
        "mid",
    );
    expect_invalid(
        nodes
            .delete_node(pb::DeleteNodeRequest {
                node: None,
                cascade: false,
            })
            .await,
        "node",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_identical_creates_yield_one_winner() {
    let server = TestServer::start().await;
    let calls = (0..32).map(|_| {
        let mut nodes = server.nodes();
        tokio::spawn(async move { nodes.create_node(create_request("contended", None)).await })
    });
    let mut ok = 0;
    let mut exists = 0;
    for result in futures::future::join_all(calls).await {
        match result.expect("no panic") {
            Ok(_) => ok += 1,
            Err(status) => {
                assert_eq!(status.code(), Code::AlreadyExists, "{status:?}");
                assert_no_sql(&status);
                exists += 1;
            }
        }
    }
    assert_eq!((ok, exists), (1, 31));
}
