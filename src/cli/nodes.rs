//! `rbacd node create|get|list|move|delete`.

use clap::{Args, Subcommand};

use super::{
    ConnectionArgs, Failure, Outcome,
    connection::{RequestIdArgs, ServerChannel},
    output, references,
    table::Table,
};
use crate::proto::v1::{self as pb, node_service_client::NodeServiceClient};

/// `rbacd node ...`.
#[derive(Debug, Subcommand)]
pub enum NodeCommand {
    /// Create a resource node under a parent (the root by default).
    Create(CreateNodeArgs),
    /// Show one node, by key or id.
    Get(NodeArgs),
    /// List the children of a node (the root by default); with --tree, its
    /// whole subtree, indented.
    List(ListNodesArgs),
    /// Move a node, with its subtree, under another parent.
    Move(MoveNodeArgs),
    /// Delete a node and its assignments; one with children needs --cascade.
    Delete(DeleteNodeArgs),
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
    request: RequestIdArgs,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Arguments of `rbacd node get`.
#[derive(Debug, Args)]
pub struct NodeArgs {
    /// The node's key or id.
    #[arg(value_name = "NODE", value_parser = references::node)]
    node: pb::NodeRef,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Arguments of `rbacd node list`.
#[derive(Debug, Args)]
pub struct ListNodesArgs {
    /// The node whose children to list, by key or id; the root when not given.
    #[arg(long, value_name = "NODE", value_parser = references::node)]
    parent: Option<pb::NodeRef>,
    /// The whole subtree under the parent, each node indented under its own
    /// parent (JSON: every node of the subtree, parents before children).
    #[arg(long)]
    tree: bool,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Arguments of `rbacd node move`.
#[derive(Debug, Args)]
pub struct MoveNodeArgs {
    /// The node to move: its key or id.
    #[arg(value_name = "NODE", value_parser = references::node)]
    node: pb::NodeRef,
    /// The new parent's key or id.
    #[arg(long = "to", value_name = "NODE", value_parser = references::node)]
    new_parent: pb::NodeRef,
    #[command(flatten)]
    request: RequestIdArgs,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Arguments of `rbacd node delete`.
#[derive(Debug, Args)]
pub struct DeleteNodeArgs {
    /// The node's key or id.
    #[arg(value_name = "NODE", value_parser = references::node)]
    node: pb::NodeRef,
    /// Also delete its whole subtree (otherwise a node with children is refused).
    #[arg(long)]
    cascade: bool,
    #[command(flatten)]
    request: RequestIdArgs,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Runs a `rbacd node` subcommand.
pub async fn run(command: NodeCommand) -> Result<Outcome, Failure> {
    match command {
        NodeCommand::Create(args) => create(args).await,
        NodeCommand::Get(args) => get(args).await,
        NodeCommand::List(args) => list(args).await,
        NodeCommand::Move(args) => move_node(args).await,
        NodeCommand::Delete(args) => delete(args).await,
    }
}

type Client = NodeServiceClient<ServerChannel>;

async fn create(args: CreateNodeArgs) -> Result<Outcome, Failure> {
    let mut client = NodeServiceClient::new(args.connection.connect().await?);
    let response = client
        .create_node(pb::CreateNodeRequest {
            request_id: args.request.request_id,
            key: args.key,
            name: args.name,
            kind: args.kind,
            parent: args.parent,
        })
        .await?
        .into_inner();
    output::print(args.connection.output, &response, || {
        node_table(response.node.as_slice())
    })?;
    Ok(Outcome::Done)
}

async fn get(args: NodeArgs) -> Result<Outcome, Failure> {
    let mut client = NodeServiceClient::new(args.connection.connect().await?);
    let response = client
        .get_node(pb::GetNodeRequest {
            node: Some(args.node),
        })
        .await?
        .into_inner();
    output::print(args.connection.output, &response, || {
        node_table(response.node.as_slice())
    })?;
    Ok(Outcome::Done)
}

/// Every child of `parent` (the root when `None`), all pages.
async fn children(
    client: &mut Client,
    parent: Option<pb::NodeRef>,
) -> Result<Vec<pb::Node>, Failure> {
    let mut nodes = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_nodes(pb::ListNodesRequest {
                parent: parent.clone(),
                page_size: super::PAGE_SIZE,
                page_token,
            })
            .await?
            .into_inner();
        nodes.extend(page.nodes);
        if page.next_page_token.is_empty() {
            return Ok(nodes);
        }
        page_token = page.next_page_token;
    }
}

fn by_id(id: &str) -> pb::NodeRef {
    pb::NodeRef {
        r#ref: Some(pb::node_ref::Ref::Id(id.to_owned())),
    }
}

async fn list(args: ListNodesArgs) -> Result<Outcome, Failure> {
    let mut client = NodeServiceClient::new(args.connection.connect().await?);
    if args.tree {
        return tree(&mut client, args).await;
    }
    let response = pb::ListNodesResponse {
        nodes: children(&mut client, args.parent).await?,
        next_page_token: String::new(),
    };
    output::print(args.connection.output, &response, || {
        node_table(&response.nodes)
    })?;
    Ok(Outcome::Done)
}

/// The subtree under `args.parent`, depth first, each node with its depth
/// below the top (the top itself at 0).
async fn tree(client: &mut Client, args: ListNodesArgs) -> Result<Outcome, Failure> {
    let top_ref = args.parent.unwrap_or_else(|| references::node_key("root"));
    let top = client
        .get_node(pb::GetNodeRequest {
            node: Some(top_ref),
        })
        .await?
        .into_inner()
        .node
        .ok_or_else(|| Failure::input("the server answered GetNode without the node"))?;
    let mut ordered: Vec<(usize, pb::Node)> = Vec::new();
    // Children pushed in reverse so the first child is visited first.
    let mut pending = vec![(0, top)];
    while let Some((depth, node)) = pending.pop() {
        let below = children(client, Some(by_id(&node.id))).await?;
        pending.extend(below.into_iter().rev().map(|child| (depth + 1, child)));
        ordered.push((depth, node));
    }
    let response = pb::ListNodesResponse {
        nodes: ordered.iter().skip(1).map(|(_, n)| n.clone()).collect(),
        next_page_token: String::new(),
    };
    output::print(args.connection.output, &response, || {
        let mut table = Table::new(&["KEY", "NAME", "KIND", "ID"]);
        for (depth, node) in &ordered {
            table.push(vec![
                format!("{}{}", "  ".repeat(*depth), node.key),
                node.name.clone(),
                node.kind.clone(),
                node.id.clone(),
            ]);
        }
        table.to_string()
    })?;
    Ok(Outcome::Done)
}

async fn move_node(args: MoveNodeArgs) -> Result<Outcome, Failure> {
    let mut client = NodeServiceClient::new(args.connection.connect().await?);
    let response = client
        .move_node(pb::MoveNodeRequest {
            node: Some(args.node),
            new_parent: Some(args.new_parent),
            request_id: args.request.request_id,
        })
        .await?
        .into_inner();
    output::print(args.connection.output, &response, || {
        node_table(response.node.as_slice())
    })?;
    Ok(Outcome::Done)
}

async fn delete(args: DeleteNodeArgs) -> Result<Outcome, Failure> {
    let mut client = NodeServiceClient::new(args.connection.connect().await?);
    let response = client
        .delete_node(pb::DeleteNodeRequest {
            node: Some(args.node),
            cascade: args.cascade,
            request_id: args.request.request_id,
        })
        .await?
        .into_inner();
    output::print(args.connection.output, &response, || {
        let key = response.node.as_ref().map_or("", |n| n.key.as_str());
        let id = response.node.as_ref().map_or("", |n| n.id.as_str());
        format!(
            "deleted node {key} ({id}): {} node(s) and {} assignment(s) in all\n",
            response.deleted_nodes, response.deleted_assignments
        )
    })?;
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
