//! `rbacd identity invite|list`.

use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;

use super::{
    ConnectionArgs, Failure, Outcome,
    assignments::assignment_table,
    output, proto_json, references,
    table::{Table, enum_label},
};
use crate::proto::v1::{self as pb, identity_service_client::IdentityServiceClient};

/// `rbacd identity ...`.
#[derive(Debug, Subcommand)]
pub enum IdentityCommand {
    /// Invite an identity: it is created INVITED, with its initial role
    /// assignments, all or nothing; they grant once it is activated.
    Invite(InviteArgs),
    /// List identities, optionally only those of a status or kind.
    List(ListIdentitiesArgs),
}

/// Arguments of `rbacd identity invite`.
#[derive(Debug, Args)]
pub struct InviteArgs {
    /// The identity's email, unique in the environment (case-insensitively).
    email: String,
    /// The name people see.
    #[arg(long, default_value = "")]
    display_name: String,
    /// The identity's id in another system, e.g. auth0|123456789.
    #[arg(long, default_value = "")]
    external_id: String,
    /// Invite a service account instead of a user.
    #[arg(long)]
    service_account: bool,
    /// A role to hold at a node, written ROLE@NODE (split at the first `@`;
    /// NODE is a key or id); repeat for more.
    #[arg(long = "assign", value_name = "ROLE@NODE", value_parser = references::role_at_node)]
    assignments: Vec<references::RoleAtNode>,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// An identity's status, as a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFilter {
    Active,
    Invited,
    Disabled,
}

/// An identity's kind, as a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindFilter {
    User,
    ServiceAccount,
}

/// Arguments of `rbacd identity list`.
#[derive(Debug, Args)]
pub struct ListIdentitiesArgs {
    /// Only identities with this status.
    #[arg(long, value_enum)]
    status: Option<StatusFilter>,
    /// Only identities of this kind.
    #[arg(long, value_enum)]
    kind: Option<KindFilter>,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Runs a `rbacd identity` subcommand.
pub async fn run(command: IdentityCommand) -> Result<Outcome, Failure> {
    match command {
        IdentityCommand::Invite(args) => invite(args).await,
        IdentityCommand::List(args) => list(args).await,
    }
}

async fn invite(args: InviteArgs) -> Result<Outcome, Failure> {
    let kind = if args.service_account {
        pb::IdentityKind::ServiceAccount
    } else {
        pb::IdentityKind::User
    };
    let assignments = args
        .assignments
        .into_iter()
        .map(|a| pb::InitialAssignment {
            node: Some(a.node),
            role: Some(a.role),
            effective_from: None,
            effective_to: None,
        })
        .collect();
    let mut client = IdentityServiceClient::new(args.connection.connect().await?);
    let response = client
        .invite_identity(pb::InviteIdentityRequest {
            request_id: Default::default(),
            kind: kind.into(),
            email: args.email,
            external_id: args.external_id,
            display_name: args.display_name,
            assignments,
        })
        .await?
        .into_inner();
    let identities: Vec<pb::Identity> = response.identity.iter().cloned().collect();
    output::print(
        args.connection.output,
        || {
            json!({
                "identity": identities.first().map(proto_json::identity),
                "assignments": proto_json::list(&response.assignments, proto_json::assignment),
                "revision": response.revision,
            })
        },
        || {
            let mut text = identity_table(&identities);
            if !response.assignments.is_empty() {
                text.push('\n');
                text.push_str(&assignment_table(&response.assignments));
            }
            text
        },
    );
    Ok(Outcome::Done)
}

async fn list(args: ListIdentitiesArgs) -> Result<Outcome, Failure> {
    let status = match args.status {
        None => pb::IdentityStatus::Unspecified,
        Some(StatusFilter::Active) => pb::IdentityStatus::Active,
        Some(StatusFilter::Invited) => pb::IdentityStatus::Invited,
        Some(StatusFilter::Disabled) => pb::IdentityStatus::Disabled,
    };
    let kind = match args.kind {
        None => pb::IdentityKind::Unspecified,
        Some(KindFilter::User) => pb::IdentityKind::User,
        Some(KindFilter::ServiceAccount) => pb::IdentityKind::ServiceAccount,
    };
    let mut client = IdentityServiceClient::new(args.connection.connect().await?);
    let mut identities = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_identities(pb::ListIdentitiesRequest {
                page_size: super::PAGE_SIZE,
                page_token,
                status: status.into(),
                kind: kind.into(),
            })
            .await?
            .into_inner();
        identities.extend(page.identities);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    output::print(
        args.connection.output,
        || json!({ "identities": proto_json::list(&identities, proto_json::identity) }),
        || identity_table(&identities),
    );
    Ok(Outcome::Done)
}

fn identity_table(identities: &[pb::Identity]) -> String {
    let mut table = Table::new(&[
        "EMAIL",
        "STATUS",
        "KIND",
        "DISPLAY NAME",
        "EXTERNAL ID",
        "ID",
    ]);
    for identity in identities {
        let status = pb::IdentityStatus::try_from(identity.status).ok();
        let kind = pb::IdentityKind::try_from(identity.kind).ok();
        table.push(vec![
            identity.email.clone(),
            enum_label(status.map(|s| s.as_str_name()), "IDENTITY_STATUS_"),
            enum_label(kind.map(|k| k.as_str_name()), "IDENTITY_KIND_"),
            identity.display_name.clone(),
            identity.external_id.clone(),
            identity.id.clone(),
        ]);
    }
    table.to_string()
}
