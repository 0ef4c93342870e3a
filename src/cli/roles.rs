//! `rbacd role create|get|list|update|delete`.

use clap::{Args, Subcommand};

use super::{
    ConnectionArgs, Failure, Outcome, connection::RequestIdArgs, output, references, table::Table,
};
use crate::proto::v1::{self as pb, role_service_client::RoleServiceClient};

/// `rbacd role ...`.
#[derive(Debug, Subcommand)]
pub enum RoleCommand {
    /// Create a role: a named whitelist of permissions.
    Create(CreateRoleArgs),
    /// Show one role, by name or id.
    Get(RoleArgs),
    /// List every role.
    List(ListRolesArgs),
    /// Rename a role, or change its description or permissions.
    Update(UpdateRoleArgs),
    /// Delete a role; one still assigned needs --force (which removes its assignments).
    Delete(DeleteRoleArgs),
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
    request: RequestIdArgs,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Arguments of `rbacd role get`.
#[derive(Debug, Args)]
pub struct RoleArgs {
    /// The role's name (matched case-insensitively) or id.
    #[arg(value_name = "ROLE", value_parser = references::role)]
    role: pb::RoleRef,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Arguments of `rbacd role list`.
#[derive(Debug, Args)]
pub struct ListRolesArgs {
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Arguments of `rbacd role update`: only what is given changes.
#[derive(Debug, Args)]
pub struct UpdateRoleArgs {
    /// The role's name or id.
    #[arg(value_name = "ROLE", value_parser = references::role)]
    role: pb::RoleRef,
    /// A new name.
    #[arg(long)]
    name: Option<String>,
    /// A new description.
    #[arg(long)]
    description: Option<String>,
    /// The new permission list, replacing the old one; repeat the flag or
    /// separate with commas.
    #[arg(long = "permission", value_name = "PERMISSION", value_delimiter = ',')]
    permissions: Vec<String>,
    /// Remove every permission.
    #[arg(long, conflicts_with = "permissions")]
    clear_permissions: bool,
    #[command(flatten)]
    request: RequestIdArgs,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Arguments of `rbacd role delete`.
#[derive(Debug, Args)]
pub struct DeleteRoleArgs {
    /// The role's name or id.
    #[arg(value_name = "ROLE", value_parser = references::role)]
    role: pb::RoleRef,
    /// Also remove the role's assignments (otherwise an assigned role is refused).
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    request: RequestIdArgs,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Runs a `rbacd role` subcommand.
pub async fn run(command: RoleCommand) -> Result<Outcome, Failure> {
    match command {
        RoleCommand::Create(args) => create(args).await,
        RoleCommand::Get(args) => get(args).await,
        RoleCommand::List(args) => list(args).await,
        RoleCommand::Update(args) => update(args).await,
        RoleCommand::Delete(args) => delete(args).await,
    }
}

async fn create(args: CreateRoleArgs) -> Result<Outcome, Failure> {
    let mut client = RoleServiceClient::new(args.connection.connect().await?);
    let response = client
        .create_role(pb::CreateRoleRequest {
            request_id: args.request.request_id,
            name: args.name,
            description: args.description,
            permissions: args.permissions,
        })
        .await?
        .into_inner();
    output::print(args.connection.output, &response, || {
        role_table(response.role.as_slice())
    })?;
    Ok(Outcome::Done)
}

async fn get(args: RoleArgs) -> Result<Outcome, Failure> {
    let mut client = RoleServiceClient::new(args.connection.connect().await?);
    let response = client
        .get_role(pb::GetRoleRequest {
            role: Some(args.role),
        })
        .await?
        .into_inner();
    output::print(args.connection.output, &response, || {
        role_table(response.role.as_slice())
    })?;
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
    let response = pb::ListRolesResponse {
        roles,
        next_page_token: String::new(),
    };
    output::print(args.connection.output, &response, || {
        role_table(&response.roles)
    })?;
    Ok(Outcome::Done)
}

async fn update(args: UpdateRoleArgs) -> Result<Outcome, Failure> {
    let nothing_to_change = args.name.is_none()
        && args.description.is_none()
        && args.permissions.is_empty()
        && !args.clear_permissions;
    if nothing_to_change {
        return Err(Failure::input(
            "nothing to change: give --name, --description, --permission or --clear-permissions",
        ));
    }
    // A mask only to clear every permission; otherwise what is given changes.
    let update_mask = args.clear_permissions.then(|| prost_types::FieldMask {
        paths: ["permissions"]
            .into_iter()
            .chain(args.name.as_ref().map(|_| "name"))
            .chain(args.description.as_ref().map(|_| "description"))
            .map(String::from)
            .collect(),
    });
    let mut client = RoleServiceClient::new(args.connection.connect().await?);
    let response = client
        .update_role(pb::UpdateRoleRequest {
            role: Some(args.role),
            name: args.name,
            description: args.description,
            permissions: args.permissions,
            update_mask,
            request_id: args.request.request_id,
        })
        .await?
        .into_inner();
    output::print(args.connection.output, &response, || {
        role_table(response.role.as_slice())
    })?;
    Ok(Outcome::Done)
}

async fn delete(args: DeleteRoleArgs) -> Result<Outcome, Failure> {
    let mut client = RoleServiceClient::new(args.connection.connect().await?);
    let response = client
        .delete_role(pb::DeleteRoleRequest {
            role: Some(args.role),
            force: args.force,
            request_id: args.request.request_id,
        })
        .await?
        .into_inner();
    output::print(args.connection.output, &response, || {
        let name = response.role.as_ref().map_or("", |r| r.name.as_str());
        let id = response.role.as_ref().map_or("", |r| r.id.as_str());
        format!(
            "deleted role {name} ({id}) and {} assignment(s) of it\n",
            response.deleted_assignments
        )
    })?;
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
