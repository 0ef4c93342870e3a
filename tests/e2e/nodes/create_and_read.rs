//! CreateNode, GetNode, ListNodes: success, errors, races.

use super::*;

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
            request_id: Default::default(),
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
            request_id: Default::default(),
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
