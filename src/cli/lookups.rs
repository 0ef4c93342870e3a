//! `rbacd permissions` (what may an identity do at a node?) and
//! `rbacd lookup nodes|identities` (where may it, who may?).

use clap::{Args, Subcommand};
use prost_types::Timestamp;

use super::{ConnectionArgs, Failure, Outcome, output, references, table::Table};
use crate::proto::v1::{self as pb, authorization_service_client::AuthorizationServiceClient};

/// When to decide, shared by the subcommands here.
#[derive(Debug, Args)]
pub struct DecideAt {
    /// Decide as of this moment (RFC 3339, or a date such as 2030-01-01) instead of now.
    #[arg(long, value_name = "TIME", value_parser = references::timestamp)]
    at: Option<Timestamp>,
    /// Wait until the server has applied this change-log revision (a write's `revision`).
    #[arg(long, value_name = "REVISION", default_value_t = 0)]
    min_revision: u64,
}

/// Arguments of `rbacd permissions`.
#[derive(Debug, Args)]
pub struct PermissionsArgs {
    /// Whose permissions: an email, an identity id (UUID), or external:ID.
    #[arg(long, value_name = "IDENTITY", value_parser = references::identity)]
    identity: pb::IdentityRef,
    /// Where: a node key or id.
    #[arg(long, value_name = "NODE", value_parser = references::node)]
    node: pb::NodeRef,
    #[command(flatten)]
    at: DecideAt,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// `rbacd lookup ...`.
#[derive(Debug, Subcommand)]
pub enum LookupCommand {
    /// The nodes under a subtree where an identity holds a permission.
    Nodes(LookupNodesArgs),
    /// The identities holding a permission at a node.
    Identities(LookupIdentitiesArgs),
}

/// Arguments of `rbacd lookup nodes`.
#[derive(Debug, Args)]
pub struct LookupNodesArgs {
    /// Who: an email, an identity id (UUID), or external:ID.
    #[arg(long, value_name = "IDENTITY", value_parser = references::identity)]
    identity: pb::IdentityRef,
    /// A concrete permission, e.g. Wallets:Read.
    #[arg(long)]
    permission: String,
    /// Only nodes in this subtree (key or id); the whole environment by default.
    #[arg(long, value_name = "NODE", value_parser = references::node)]
    root: Option<pb::NodeRef>,
    #[command(flatten)]
    at: DecideAt,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Arguments of `rbacd lookup identities`.
#[derive(Debug, Args)]
pub struct LookupIdentitiesArgs {
    /// A concrete permission, e.g. Wallets:Read.
    #[arg(long)]
    permission: String,
    /// Where: a node key or id.
    #[arg(long, value_name = "NODE", value_parser = references::node)]
    node: pb::NodeRef,
    #[command(flatten)]
    at: DecideAt,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Prints the identity's effective permissions at the node, one a line.
pub async fn permissions(args: PermissionsArgs) -> Result<Outcome, Failure> {
    let mut client = AuthorizationServiceClient::new(args.connection.connect().await?);
    let response = client
        .list_permissions(pb::ListPermissionsRequest {
            identity: Some(args.identity),
            node: Some(args.node),
            at: args.at.at,
            min_revision: args.at.min_revision,
        })
        .await?
        .into_inner();
    output::print(args.connection.output, &response, || {
        let mut table = Table::new(&["PERMISSION"]);
        for permission in &response.permissions {
            table.push(vec![permission.clone()]);
        }
        table.to_string()
    })?;
    Ok(Outcome::Done)
}

/// Runs a `rbacd lookup` subcommand, reading every page.
pub async fn lookup(command: LookupCommand) -> Result<Outcome, Failure> {
    match command {
        LookupCommand::Nodes(args) => nodes(args).await,
        LookupCommand::Identities(args) => identities(args).await,
    }
}

async fn nodes(args: LookupNodesArgs) -> Result<Outcome, Failure> {
    let mut client = AuthorizationServiceClient::new(args.connection.connect().await?);
    let mut request = pb::LookupNodesRequest {
        identity: Some(args.identity),
        permission: args.permission,
        root: args.root,
        page_size: super::PAGE_SIZE,
        page_token: String::new(),
        at: args.at.at,
        min_revision: args.at.min_revision,
    };
    let mut response = pb::LookupNodesResponse::default();
    loop {
        let page = client.lookup_nodes(request.clone()).await?.into_inner();
        response.nodes.extend(page.nodes);
        response.revision = page.revision;
        if page.next_page_token.is_empty() {
            break;
        }
        request.page_token = page.next_page_token;
    }
    output::print(args.connection.output, &response, || {
        let mut table = Table::new(&["KEY", "ID"]);
        for node in &response.nodes {
            table.push(vec![node.key.clone(), node.id.clone()]);
        }
        table.to_string()
    })?;
    Ok(Outcome::Done)
}

async fn identities(args: LookupIdentitiesArgs) -> Result<Outcome, Failure> {
    let mut client = AuthorizationServiceClient::new(args.connection.connect().await?);
    let mut request = pb::LookupIdentitiesRequest {
        permission: args.permission,
        node: Some(args.node),
        page_size: super::PAGE_SIZE,
        page_token: String::new(),
        at: args.at.at,
        min_revision: args.at.min_revision,
    };
    let mut response = pb::LookupIdentitiesResponse::default();
    loop {
        let page = client
            .lookup_identities(request.clone())
            .await?
            .into_inner();
        response.identities.extend(page.identities);
        response.revision = page.revision;
        if page.next_page_token.is_empty() {
            break;
        }
        request.page_token = page.next_page_token;
    }
    output::print(args.connection.output, &response, || {
        let mut table = Table::new(&["EMAIL", "EXTERNAL ID", "ID"]);
        for identity in &response.identities {
            table.push(vec![
                identity.email.clone(),
                identity.external_id.clone(),
                identity.id.clone(),
            ]);
        }
        table.to_string()
    })?;
    Ok(Outcome::Done)
}
