//! `rbacd assign` and `rbacd unassign`.

use clap::Args;
use prost_types::Timestamp;

use super::{
    ConnectionArgs, Failure, Outcome,
    connection::RequestIdArgs,
    names::Names,
    output, references,
    table::{self, Table, enum_label},
};
use crate::proto::v1::{self as pb, assignment_service_client::AssignmentServiceClient};

/// Arguments of `rbacd assign`.
#[derive(Debug, Args)]
pub struct AssignArgs {
    /// Who gets the role: an email, an identity id (UUID), or external:ID.
    #[arg(long, value_name = "IDENTITY", value_parser = references::identity)]
    identity: pb::IdentityRef,
    /// The role's name (matched case-insensitively) or id.
    #[arg(long, value_name = "ROLE", value_parser = references::role)]
    role: pb::RoleRef,
    /// Where: a node key or id; the grant covers every descendant too.
    /// Use `root` for the whole environment.
    #[arg(long, value_name = "NODE", value_parser = references::node)]
    node: pb::NodeRef,
    /// The grant starts at this moment (inclusive): RFC 3339, or a date
    /// such as 2030-01-01 (midnight UTC).
    #[arg(long, value_name = "TIME", value_parser = references::timestamp)]
    from: Option<Timestamp>,
    /// The grant ends at this moment (exclusive): RFC 3339, or a date.
    #[arg(long, value_name = "TIME", value_parser = references::timestamp)]
    to: Option<Timestamp>,
    #[command(flatten)]
    request: RequestIdArgs,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Arguments of `rbacd unassign`: the assignment's id, or identity + role + node.
#[derive(Debug, Args)]
pub struct UnassignArgs {
    /// The identity holding the role: an email, an id (UUID), or external:ID.
    #[arg(long, value_name = "IDENTITY", value_parser = references::identity,
          required_unless_present = "id")]
    identity: Option<pb::IdentityRef>,
    /// The role's name or id.
    #[arg(long, value_name = "ROLE", value_parser = references::role,
          required_unless_present = "id")]
    role: Option<pb::RoleRef>,
    /// The node the role is held at: a key or id.
    #[arg(long, value_name = "NODE", value_parser = references::node,
          required_unless_present = "id")]
    node: Option<pb::NodeRef>,
    /// The assignment's id, instead of identity, role and node.
    #[arg(long, conflicts_with_all = ["identity", "role", "node"])]
    id: Option<String>,
    #[command(flatten)]
    request: RequestIdArgs,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Grants the role and prints the assignment.
pub async fn assign(args: AssignArgs) -> Result<Outcome, Failure> {
    let mut client = AssignmentServiceClient::new(args.connection.connect().await?);
    let response = client
        .create_assignment(pb::CreateAssignmentRequest {
            request_id: args.request.request_id,
            identity: Some(args.identity),
            role: Some(args.role),
            node: Some(args.node),
            effective_from: args.from,
            effective_to: args.to,
        })
        .await?
        .into_inner();
    output::print(args.connection.output, &response, || {
        assignment_table(response.assignment.as_slice())
    })?;
    Ok(Outcome::Done)
}

/// Removes the assignment and says what it was: identity, role and node,
/// each by name beside its id.
pub async fn unassign(args: UnassignArgs) -> Result<Outcome, Failure> {
    let channel = args.connection.connect().await?;
    let mut client = AssignmentServiceClient::new(channel.clone());
    let response = client
        .delete_assignment(pb::DeleteAssignmentRequest {
            request_id: args.request.request_id,
            id: args.id.unwrap_or_default(),
            identity: args.identity,
            role: args.role,
            node: args.node,
        })
        .await?
        .into_inner();
    let removed = response.assignment.clone().unwrap_or_default();
    let who = match args.connection.output {
        output::OutputFormat::Json => String::new(),
        output::OutputFormat::Table => Names::new(channel).identity(&removed.identity_id).await,
    };
    output::print(args.connection.output, &response, || {
        format!(
            "removed: role {} ({}) of identity {} ({}) at node {} ({}); revision {}\n",
            removed.role_name,
            removed.role_id,
            who,
            removed.identity_id,
            removed.node_key,
            removed.node_id,
            response.revision
        )
    })?;
    Ok(Outcome::Done)
}

/// Assignments as a table, one row each.
pub fn assignment_table(assignments: &[pb::Assignment]) -> String {
    let mut table = Table::new(&["ROLE", "NODE", "STATE", "FROM", "TO", "IDENTITY ID", "ID"]);
    for assignment in assignments {
        let state = pb::AssignmentState::try_from(assignment.state).ok();
        let node = if assignment.inherited {
            format!("{} (inherited)", assignment.node_key)
        } else {
            assignment.node_key.clone()
        };
        table.push(vec![
            assignment.role_name.clone(),
            node,
            enum_label(state.map(|s| s.as_str_name()), "ASSIGNMENT_STATE_"),
            table::time(assignment.effective_from.as_ref()),
            table::time(assignment.effective_to.as_ref()),
            assignment.identity_id.clone(),
            assignment.id.clone(),
        ]);
    }
    table.to_string()
}
