//! `rbacd role create|list`.

use clap::{Args, Subcommand};
use serde_json::json;

use super::{ConnectionArgs, Failure, Outcome, output, proto_json, table::Table};
use crate::proto::v1::{self as pb, role_service_client::RoleServiceClient};

/// `rbacd role ...`.
#[derive(Debug, Subcommand)]
pub enum RoleCommand {
    /// Create a role: a named whitelist of permissions.
    Create(CreateRoleArgs),
    /// List every role.
    List(ListRolesArgs),
}

/// Arguments of `rbacd role create`.
#[derive(Debug, Args)]
pub struct CreateRoleArgs {
    /// The role's name, unique in the environment (compared case-insensitively).
    name: String,
    /// A permission or pattern the role holds, e.g. Wallets:Read or Wallets:*;
    /// repeat the flag or separate with commas.
    #[arg(long = "permission", value_name = "PERMISSION", value_delimiter = ',')]
    permissions: Vec<String>,
    /// What the role is for.
    #[arg(long, default_value = "")]
    description: String,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Arguments of `rbacd role list`.
#[derive(Debug, Args)]
pub struct ListRolesArgs {
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Runs a `rbacd role` subcommand.
pub async fn run(command: RoleCommand) -> Result<Outcome, Failure> {
    match command {
        RoleCommand::Create(args) => create(args).await,
        RoleCommand::List(args) => list(args).await,
    }
}

async fn create(args: CreateRoleArgs) -> Result<Outcome, Failure> {
    let mut client = RoleServiceClient::new(args.connection.connect().await?);
    let response = client
        .create_role(pb::CreateRoleRequest {
            request_id: Default::default(),
            name: args.name,
            description: args.description,
            permissions: args.permissions,
        })
        .await?
        .into_inner();
    let roles: Vec<pb::Role> = response.role.into_iter().collect();
    output::print(
        args.connection.output,
        || {
            json!({
                "role": roles.first().map(proto_json::role),
                "revision": response.revision,
            })
        },
        || role_table(&roles),
    );
    Ok(Outcome::Done)
}

async fn list(args: ListRolesArgs) -> Result<Outcome, Failure> {
    let mut client = RoleServiceClient::new(args.connection.connect().await?);
    let mut roles = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_roles(pb::ListRolesRequest {
                page_size: super::PAGE_SIZE,
                page_token,
            })
            .await?
            .into_inner();
        roles.extend(page.roles);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    output::print(
        args.connection.output,
        || json!({ "roles": proto_json::list(&roles, proto_json::role) }),
        || role_table(&roles),
    );
    Ok(Outcome::Done)
}

fn role_table(roles: &[pb::Role]) -> String {
    let mut table = Table::new(&["NAME", "PERMISSIONS", "DESCRIPTION", "ID"]);
    for role in roles {
        table.push(vec![
            role.name.clone(),
            role.permissions.join(","),
            role.description.clone(),
            role.id.clone(),
        ]);
    }
    table.to_string()
}
