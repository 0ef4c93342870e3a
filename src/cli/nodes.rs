//! `rbacd node create|list`.

use clap::{Args, Subcommand};
use serde_json::json;

use super::{ConnectionArgs, Failure, Outcome, output, proto_json, references, table::Table};
use crate::proto::v1::{self as pb, node_service_client::NodeServiceClient};

/// `rbacd node ...`.
#[derive(Debug, Subcommand)]
pub enum NodeCommand {
    /// Create a resource node under a parent (the root by default).
    Create(CreateNodeArgs),
    /// List the children of a node (the root by default).
    List(ListNodesArgs),
}

/// Arguments of `rbacd node create`.
#[derive(Debug, Args)]
pub struct CreateNodeArgs {
    /// The node's key, your own name for the resource, e.g. wallet:42;
    /// unique in the environment.
    key: String,
    /// The parent node's key or id; the root when not given.
    #[arg(long, value_name = "NODE", value_parser = references::node)]
    parent: Option<pb::NodeRef>,
    /// A name for people.
    #[arg(long, default_value = "")]
    name: String,
    /// What sort of resource it is, e.g. wallet or team.
    #[arg(long, default_value = "")]
    kind: String,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Arguments of `rbacd node list`.
#[derive(Debug, Args)]
pub struct ListNodesArgs {
    /// The node whose children to list, by key or id; the root when not given.
    #[arg(long, value_name = "NODE", value_parser = references::node)]
    parent: Option<pb::NodeRef>,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Runs a `rbacd node` subcommand.
pub async fn run(command: NodeCommand) -> Result<Outcome, Failure> {
    match command {
        NodeCommand::Create(args) => create(args).await,
        NodeCommand::List(args) => list(args).await,
    }
}

async fn create(args: CreateNodeArgs) -> Result<Outcome, Failure> {
    let mut client = NodeServiceClient::new(args.connection.connect().await?);
    let response = client
        .create_node(pb::CreateNodeRequest {
            request_id: Default::default(),
            key: args.key,
            name: args.name,
            kind: args.kind,
            parent: args.parent,
        })
        .await?
        .into_inner();
    let nodes: Vec<pb::Node> = response.node.into_iter().collect();
    output::print(
        args.connection.output,
        || {
            json!({
                "node": nodes.first().map(proto_json::node),
                "revision": response.revision,
            })
        },
        || node_table(&nodes),
    );
    Ok(Outcome::Done)
}

async fn list(args: ListNodesArgs) -> Result<Outcome, Failure> {
    let mut client = NodeServiceClient::new(args.connection.connect().await?);
    let mut nodes = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_nodes(pb::ListNodesRequest {
                parent: args.parent.clone(),
                page_size: super::PAGE_SIZE,
                page_token,
            })
            .await?
            .into_inner();
        nodes.extend(page.nodes);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    output::print(
        args.connection.output,
        || json!({ "nodes": proto_json::list(&nodes, proto_json::node) }),
        || node_table(&nodes),
    );
    Ok(Outcome::Done)
}

fn node_table(nodes: &[pb::Node]) -> String {
    let mut table = Table::new(&["KEY", "NAME", "KIND", "ID", "PARENT ID"]);
    for node in nodes {
        table.push(vec![
            node.key.clone(),
            node.name.clone(),
            node.kind.clone(),
            node.id.clone(),
            node.parent_id.clone(),
        ]);
    }
    table.to_string()
}
