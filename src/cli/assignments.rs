//! `rbacd assign` and `rbacd unassign`.

use clap::Args;
use prost_types::Timestamp;
use serde_json::json;

use super::{
    ConnectionArgs, Failure, Outcome, output, proto_json, references,
    table::{Table, enum_label},
};
use crate::proto::v1::{self as pb, assignment_service_client::AssignmentServiceClient};

/// Arguments of `rbacd assign`.
#[derive(Debug, Args)]
pub struct AssignArgs {
    /// Who gets the role: an email, an identity id (UUID), or external:ID.
    #[arg(long, value_name = "IDENTITY", value_parser = references::identity)]
    identity: pb::IdentityRef,
    /// The role's name (matched case-insensitively).
    #[arg(long, value_name = "NAME")]
    role: String,
    /// Where: a node key or id; the grant covers every descendant too.
    /// Use `root` for the whole environment.
    #[arg(long, value_name = "NODE", value_parser = references::node)]
    node: pb::NodeRef,
    /// The grant starts at this moment (RFC 3339, inclusive).
    #[arg(long, value_name = "RFC3339", value_parser = references::timestamp)]
    from: Option<Timestamp>,
    /// The grant ends at this moment (RFC 3339, exclusive).
    #[arg(long, value_name = "RFC3339", value_parser = references::timestamp)]
    to: Option<Timestamp>,
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
    /// The role's name.
    #[arg(long, value_name = "NAME", required_unless_present = "id")]
    role: Option<String>,
    /// The node the role is held at: a key or id.
    #[arg(long, value_name = "NODE", value_parser = references::node,
          required_unless_present = "id")]
    node: Option<pb::NodeRef>,
    /// The assignment's id, instead of identity, role and node.
    #[arg(long, conflicts_with_all = ["identity", "role", "node"])]
    id: Option<String>,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Grants the role and prints the assignment.
pub async fn assign(args: AssignArgs) -> Result<Outcome, Failure> {
    let mut client = AssignmentServiceClient::new(args.connection.connect().await?);
    let response = client
        .create_assignment(pb::CreateAssignmentRequest {
            request_id: Default::default(),
            identity: Some(args.identity),
            role: Some(references::role_by_name(&args.role)),
            node: Some(args.node),
            effective_from: args.from,
            effective_to: args.to,
        })
        .await?
        .into_inner();
    print_written(
        args.connection.output,
        response.assignment,
        response.revision,
    );
    Ok(Outcome::Done)
}

/// Removes the assignment and prints it as it was.
pub async fn unassign(args: UnassignArgs) -> Result<Outcome, Failure> {
    let mut client = AssignmentServiceClient::new(args.connection.connect().await?);
    let response = client
        .delete_assignment(pb::DeleteAssignmentRequest {
            request_id: Default::default(),
            id: args.id.unwrap_or_default(),
            identity: args.identity,
            role: args.role.as_deref().map(references::role_by_name),
            node: args.node,
        })
        .await?
        .into_inner();
    print_written(
        args.connection.output,
        response.assignment,
        response.revision,
    );
    Ok(Outcome::Done)
}

fn print_written(format: output::OutputFormat, assignment: Option<pb::Assignment>, revision: u64) {
    let assignments: Vec<pb::Assignment> = assignment.into_iter().collect();
    output::print(
        format,
        || {
            json!({
                "assignment": assignments.first().map(proto_json::assignment),
                "revision": revision,
            })
        },
        || assignment_table(&assignments),
    );
}

/// Assignments as a table, one row each.
pub fn assignment_table(assignments: &[pb::Assignment]) -> String {
    let mut table = Table::new(&["ROLE", "NODE", "STATE", "FROM", "TO", "IDENTITY ID", "ID"]);
    for assignment in assignments {
        let state = pb::AssignmentState::try_from(assignment.state).ok();
        table.push(vec![
            assignment.role_name.clone(),
            assignment.node_key.clone(),
            enum_label(state.map(|s| s.as_str_name()), "ASSIGNMENT_STATE_"),
            proto_json::rfc3339(assignment.effective_from.as_ref()).unwrap_or_default(),
            proto_json::rfc3339(assignment.effective_to.as_ref()).unwrap_or_default(),
            assignment.identity_id.clone(),
            assignment.id.clone(),
        ]);
    }
    table.to_string()
}
