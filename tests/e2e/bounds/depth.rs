//! The tree is at most 128 levels below the root: CreateNode and MoveNode
//! refuse to go deeper; reads at the deepest level work.

use super::*;

/// Nodes `d1` … `d{levels}`, each under the one before, the first under the root.
async fn chain(server: &TestServer, levels: usize) -> Vec<pb::Node> {
    let mut nodes: Vec<pb::Node> = Vec::with_capacity(levels);
    for level in 1..=levels {
        let parent = nodes.last().map(|n| n.key.clone());
        nodes.push(create_node(server, &format!("d{level}"), parent.as_deref()).await);
    }
    nodes
}

fn move_request(node: &str, new_parent: &str) -> pb::MoveNodeRequest {
    pb::MoveNodeRequest {
        request_id: Default::default(),
        node: node_by_key(node),
        new_parent: node_by_key(new_parent),
    }
}

#[tokio::test]
async fn the_tree_stops_at_level_128() {
    let server = TestServer::start().await;
    let levels = chain(&server, 128).await;
    let mut nodes = server.nodes();

    let refused = expect_code(
        nodes
            .create_node(pb::CreateNodeRequest {
                key: "d129".into(),
                parent: node_by_key("d128"),
                ..Default::default()
            })
            .await,
        Code::FailedPrecondition,
    );
    assert!(
        refused.message().contains("129") && refused.message().contains("128"),
        "names the level and the limit: {}",
        refused.message()
    );

    // A node with one child: under d127 the child would be at 129, under d126 at 128.
    create_node(&server, "side", None).await;
    create_node(&server, "side:child", Some("side")).await;
    let refused = expect_code(
        nodes.move_node(move_request("side", "d127")).await,
        Code::FailedPrecondition,
    );
    assert!(refused.message().contains("128"), "{}", refused.message());
    nodes
        .move_node(move_request("side", "d126"))
        .await
        .expect("a move that keeps the subtree within 128 levels");

    // Reads at the bottom still see what the root grants.
    let listed = server
        .assignments()
        .list_assignments(pb::ListAssignmentsRequest {
            node: node_by_id(&levels[127].id),
            include_inherited: true,
            ..Default::default()
        })
        .await
        .expect("list with include_inherited at level 128")
        .into_inner();
    assert!(
        !listed.assignments.is_empty(),
        "the root's Administrator assignment is inherited down to level 128"
    );
}
