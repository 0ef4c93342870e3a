//! NodeService end to end: every RPC, its success path and its error paths.

mod create_and_read;
mod move_and_delete;

use std::collections::HashSet;

use crate::support::*;
use rbacd::proto::v1 as pb;
use tonic::Code;

fn create_request(key: &str, parent: Option<pb::NodeRef>) -> pb::CreateNodeRequest {
    pb::CreateNodeRequest {
        request_id: Default::default(),
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
