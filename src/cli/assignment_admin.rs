//! `rbacd assignment list|get|set-roles|update-window|revoke-by-filter`.

use clap::{Args, Subcommand, ValueEnum};
use prost_types::{FieldMask, Timestamp};

use super::{
    ConnectionArgs, Failure, Outcome,
    assignments::assignment_table,
    connection::{RequestIdArgs, ServerChannel},
    output, references,
};
use crate::proto::v1::{self as pb, assignment_service_client::AssignmentServiceClient};

/// `rbacd assignment ...` (granting one role is `rbacd assign`, removing one `rbacd unassign`).
#[derive(Debug, Subcommand)]
pub enum AssignmentCommand {
    /// List assignments, filtered by identity, node, role or state.
    List(ListAssignmentsArgs),
    /// Show one assignment, by id.
    Get(GetAssignmentArgs),
    /// Make an identity's direct roles at a node exactly the given ones, in
    /// one transaction: keeps those it holds (with their windows), creates
    /// the missing, removes the rest.
    SetRoles(SetRolesArgs),
    /// Change an assignment's window; it keeps its id.
    UpdateWindow(UpdateWindowArgs),
    /// Remove every assignment matching a filter, all or nothing.
    RevokeByFilter(RevokeByFilterArgs),
}

/// An assignment's state, as a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StateFilter {
    Pending,
    Active,
    Expired,
}

/// Arguments of `rbacd assignment list`.
#[derive(Debug, Args)]
pub struct ListAssignmentsArgs {
    /// Only those of this identity: an email, an id (UUID) or external:ID.
    #[arg(long, value_name = "IDENTITY", value_parser = references::identity)]
    identity: Option<pb::IdentityRef>,
    /// Only those at this node (key or id).
    #[arg(long, value_name = "NODE", value_parser = references::node)]
    node: Option<pb::NodeRef>,
    /// Only those of this role (name or id).
    #[arg(long, value_name = "ROLE", value_parser = references::role)]
    role: Option<pb::RoleRef>,
    /// Only those in this state now.
    #[arg(long, value_enum)]
    state: Option<StateFilter>,
    /// With --node, also those on the node's ancestors (which grant there too).
    #[arg(long, requires = "node")]
    include_inherited: bool,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Arguments of `rbacd assignment get`.
#[derive(Debug, Args)]
pub struct GetAssignmentArgs {
    /// The assignment's id.
    id: String,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Arguments of `rbacd assignment set-roles`.
#[derive(Debug, Args)]
pub struct SetRolesArgs {
    /// Whose roles: an email, an id (UUID) or external:ID.
    #[arg(long, value_name = "IDENTITY", value_parser = references::identity)]
    identity: pb::IdentityRef,
    /// Where: a node key or id.
    #[arg(long, value_name = "NODE", value_parser = references::node)]
    node: pb::NodeRef,
    /// A role to hold there (name or id); repeat the flag or separate with commas.
    #[arg(long = "role", value_name = "ROLE", value_delimiter = ',',
          value_parser = references::role, required_unless_present = "none")]
    roles: Vec<pb::RoleRef>,
    /// Hold no role there: remove every direct assignment at the node.
    #[arg(long, conflicts_with = "roles")]
    none: bool,
    #[command(flatten)]
    request: RequestIdArgs,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Arguments of `rbacd assignment update-window`: only the bounds given change.
#[derive(Debug, Args)]
pub struct UpdateWindowArgs {
    /// The assignment's id.
    id: String,
    /// The new start (inclusive): RFC 3339, or a date such as 2030-01-01.
    #[arg(long, value_name = "TIME", value_parser = references::timestamp,
          conflicts_with = "no_from")]
    from: Option<Timestamp>,
    /// The new end (exclusive): RFC 3339, or a date.
    #[arg(long, value_name = "TIME", value_parser = references::timestamp,
          conflicts_with = "no_to")]
    to: Option<Timestamp>,
    /// Remove the start: in effect from the beginning of time.
    #[arg(long)]
    no_from: bool,
    /// Remove the end: in effect for ever.
    #[arg(long)]
    no_to: bool,
    #[command(flatten)]
    request: RequestIdArgs,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Arguments of `rbacd assignment revoke-by-filter`; at least one filter.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("filter").required(true).multiple(true)
    .args(["identity", "role", "node"]))]
pub struct RevokeByFilterArgs {
    /// Only assignments of this identity: an email, an id (UUID) or external:ID.
    #[arg(long, value_name = "IDENTITY", value_parser = references::identity)]
    identity: Option<pb::IdentityRef>,
    /// Only assignments of this role (name or id).
    #[arg(long, value_name = "ROLE", value_parser = references::role)]
    role: Option<pb::RoleRef>,
    /// Only assignments at this node (key or id).
    #[arg(long, value_name = "NODE", value_parser = references::node)]
    node: Option<pb::NodeRef>,
    /// With --node, also assignments anywhere below it.
    #[arg(long, requires = "node")]
    include_descendants: bool,
    /// Refuse (changing nothing) when more than this many match; at most
    /// 1000, the default.
    #[arg(long, default_value_t = 0, hide_default_value = true)]
    limit: i32,
    /// Count what would be removed, and change nothing.
    #[arg(long, visible_alias = "dry-run")]
    validate_only: bool,
    #[command(flatten)]
    request: RequestIdArgs,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Runs a `rbacd assignment` subcommand.
pub async fn run(command: AssignmentCommand) -> Result<Outcome, Failure> {
    match command {
        AssignmentCommand::List(args) => list(args).await,
        AssignmentCommand::Get(args) => get(args).await,
        AssignmentCommand::SetRoles(args) => set_roles(args).await,
        AssignmentCommand::UpdateWindow(args) => update_window(args).await,
        AssignmentCommand::RevokeByFilter(args) => revoke_by_filter(args).await,
    }
}

async fn client(
    connection: &ConnectionArgs,
) -> Result<AssignmentServiceClient<ServerChannel>, Failure> {
    Ok(AssignmentServiceClient::new(connection.connect().await?))
}

async fn list(args: ListAssignmentsArgs) -> Result<Outcome, Failure> {
    let state = match args.state {
        None => pb::AssignmentState::Unspecified,
        Some(StateFilter::Pending) => pb::AssignmentState::Pending,
        Some(StateFilter::Active) => pb::AssignmentState::Active,
        Some(StateFilter::Expired) => pb::AssignmentState::Expired,
    };
    let mut client = client(&args.connection).await?;
    let mut assignments = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_assignments(pb::ListAssignmentsRequest {
                identity: args.identity.clone(),
                node: args.node.clone(),
                role: args.role.clone(),
                state: state.into(),
                include_inherited: args.include_inherited,
                page_size: super::PAGE_SIZE,
                page_token,
            })
            .await?
            .into_inner();
        assignments.extend(page.assignments);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    let response = pb::ListAssignmentsResponse {
        assignments,
        next_page_token: String::new(),
    };
    output::print(args.connection.output, &response, || {
        assignment_table(&response.assignments)
    })?;
    Ok(Outcome::Done)
}

async fn get(args: GetAssignmentArgs) -> Result<Outcome, Failure> {
    let response = client(&args.connection)
        .await?
        .get_assignment(pb::GetAssignmentRequest { id: args.id })
        .await?
        .into_inner();
    output::print(args.connection.output, &response, || {
        assignment_table(response.assignment.as_slice())
    })?;
    Ok(Outcome::Done)
}

async fn set_roles(args: SetRolesArgs) -> Result<Outcome, Failure> {
    let response = client(&args.connection)
        .await?
        .set_roles(pb::SetRolesRequest {
            identity: Some(args.identity),
            node: Some(args.node),
            roles: args.roles,
            request_id: args.request.request_id,
        })
        .await?
        .into_inner();
    output::print(args.connection.output, &response, || {
        let mut text = String::new();
        for (title, assignments) in [
            ("created", &response.created),
            ("deleted", &response.deleted),
            ("now held", &response.assignments),
        ] {
            text.push_str(&format!("{title}: {}\n", assignments.len()));
            if !assignments.is_empty() {
                text.push_str(&assignment_table(assignments));
            }
        }
        text.push_str(&format!("revision {}\n", response.revision));
        text
    })?;
    Ok(Outcome::Done)
}

async fn update_window(args: UpdateWindowArgs) -> Result<Outcome, Failure> {
    let mut paths = Vec::new();
    if args.from.is_some() || args.no_from {
        paths.push("effective_from".to_owned());
    }
    if args.to.is_some() || args.no_to {
        paths.push("effective_to".to_owned());
    }
    if paths.is_empty() {
        return Err(Failure::input(
            "nothing to change: give --from, --to, --no-from or --no-to",
        ));
    }
    let response = client(&args.connection)
        .await?
        .update_assignment(pb::UpdateAssignmentRequest {
            id: args.id,
            effective_from: args.from,
            effective_to: args.to,
            update_mask: Some(FieldMask { paths }),
            request_id: args.request.request_id,
        })
        .await?
        .into_inner();
    output::print(args.connection.output, &response, || {
        assignment_table(response.assignment.as_slice())
    })?;
    Ok(Outcome::Done)
}

async fn revoke_by_filter(args: RevokeByFilterArgs) -> Result<Outcome, Failure> {
    let response = client(&args.connection)
        .await?
        .delete_assignments(pb::DeleteAssignmentsRequest {
            identity: args.identity,
            role: args.role,
            node: args.node,
            include_descendants: args.include_descendants,
            limit: args.limit,
            validate_only: args.validate_only,
            request_id: args.request.request_id,
        })
        .await?
        .into_inner();
    output::print(args.connection.output, &response, || {
        if args.validate_only {
            format!(
                "would remove {} assignment(s); nothing changed\n",
                response.deleted_count
            )
        } else {
            format!(
                "removed {} assignment(s); revision {}\n",
                response.deleted_count, response.revision
            )
        }
    })?;
    Ok(Outcome::Done)
}
