//! `rbacd identity create|invite|get|list|update|activate|disable|delete`.

use clap::{Args, Subcommand, ValueEnum};

use super::{
    ConnectionArgs, Failure, Outcome,
    assignments::assignment_table,
    connection::{RequestIdArgs, ServerChannel},
    output, references,
    table::{Table, enum_label},
};
use crate::proto::v1::{self as pb, identity_service_client::IdentityServiceClient};

/// `rbacd identity ...`.
#[derive(Debug, Subcommand)]
pub enum IdentityCommand {
    /// Create an ACTIVE identity with its initial role assignments, all or nothing.
    Create(NewIdentityArgs),
    /// Invite an identity: it is created INVITED, with its initial role
    /// assignments, all or nothing; they grant once it is activated.
    Invite(NewIdentityArgs),
    /// Show one identity.
    Get(IdentityArgs),
    /// List identities, optionally only those of a status or kind.
    List(ListIdentitiesArgs),
    /// Change an identity's display name, email or external id.
    Update(UpdateIdentityArgs),
    /// Make an INVITED or DISABLED identity ACTIVE: its assignments grant again.
    Activate(ChangeIdentityArgs),
    /// Disable an identity: it is allowed nothing from the next check on.
    Disable(ChangeIdentityArgs),
    /// Delete an identity and its assignments.
    Delete(ChangeIdentityArgs),
}

/// Arguments of `rbacd identity create` and `rbacd identity invite`.
#[derive(Debug, Args)]
pub struct NewIdentityArgs {
    /// The identity's email, unique in the environment (case-insensitively).
    email: String,
    /// The name people see.
    #[arg(long, default_value = "")]
    display_name: String,
    /// The identity's id in another system, e.g. auth0|123456789.
    #[arg(long, default_value = "")]
    external_id: String,
    /// A service account instead of a user.
    #[arg(long)]
    service_account: bool,
    /// A role to hold at a node, written ROLE@NODE (split at the first `@`;
    /// NODE is a key or id); repeat for more.
    #[arg(long = "assign", value_name = "ROLE@NODE", value_parser = references::role_at_node)]
    assignments: Vec<references::RoleAtNode>,
    #[command(flatten)]
    request: RequestIdArgs,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Arguments of `rbacd identity get`.
#[derive(Debug, Args)]
pub struct IdentityArgs {
    /// The identity: an email, an id (UUID) or external:ID.
    #[arg(value_name = "IDENTITY", value_parser = references::identity)]
    identity: pb::IdentityRef,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Arguments of the subcommands that change one identity's state.
#[derive(Debug, Args)]
pub struct ChangeIdentityArgs {
    /// The identity: an email, an id (UUID) or external:ID.
    #[arg(value_name = "IDENTITY", value_parser = references::identity)]
    identity: pb::IdentityRef,
    #[command(flatten)]
    request: RequestIdArgs,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Arguments of `rbacd identity update`: only what is given changes.
#[derive(Debug, Args)]
pub struct UpdateIdentityArgs {
    /// The identity: an email, an id (UUID) or external:ID.
    #[arg(value_name = "IDENTITY", value_parser = references::identity)]
    identity: pb::IdentityRef,
    /// A new display name.
    #[arg(long)]
    display_name: Option<String>,
    /// A new email; an empty one removes it.
    #[arg(long)]
    email: Option<String>,
    /// A new external id; an empty one removes it.
    #[arg(long)]
    external_id: Option<String>,
    #[command(flatten)]
    request: RequestIdArgs,
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
        IdentityCommand::Create(args) => create(args).await,
        IdentityCommand::Invite(args) => invite(args).await,
        IdentityCommand::Get(args) => get(args).await,
        IdentityCommand::List(args) => list(args).await,
        IdentityCommand::Update(args) => update(args).await,
        IdentityCommand::Activate(args) => activate(args).await,
        IdentityCommand::Disable(args) => disable(args).await,
        IdentityCommand::Delete(args) => delete(args).await,
    }
}

async fn client(
    connection: &ConnectionArgs,
) -> Result<IdentityServiceClient<ServerChannel>, Failure> {
    Ok(IdentityServiceClient::new(connection.connect().await?))
}

fn kind(service_account: bool) -> pb::IdentityKind {
    if service_account {
        pb::IdentityKind::ServiceAccount
    } else {
        pb::IdentityKind::User
    }
}

fn initial_assignments(assignments: Vec<references::RoleAtNode>) -> Vec<pb::InitialAssignment> {
    assignments
        .into_iter()
        .map(|a| pb::InitialAssignment {
            node: Some(a.node),
            role: Some(a.role),
            effective_from: None,
            effective_to: None,
        })
        .collect()
}

/// The identity's row, then its assignments' rows when it has any.
fn identity_with_assignments(
    identity: Option<&pb::Identity>,
    assignments: &[pb::Assignment],
) -> String {
    let mut text = identity_table(identity.into_iter());
    if !assignments.is_empty() {
        text.push('\n');
        text.push_str(&assignment_table(assignments));
    }
    text
}

async fn create(args: NewIdentityArgs) -> Result<Outcome, Failure> {
    let response = client(&args.connection)
        .await?
        .create_identity(pb::CreateIdentityRequest {
            request_id: args.request.request_id,
            kind: kind(args.service_account).into(),
            email: args.email,
            external_id: args.external_id,
            display_name: args.display_name,
            assignments: initial_assignments(args.assignments),
        })
        .await?
        .into_inner();
    output::print(args.connection.output, &response, || {
        identity_with_assignments(response.identity.as_ref(), &response.assignments)
    })?;
    Ok(Outcome::Done)
}

async fn invite(args: NewIdentityArgs) -> Result<Outcome, Failure> {
    let response = client(&args.connection)
        .await?
        .invite_identity(pb::InviteIdentityRequest {
            request_id: args.request.request_id,
            kind: kind(args.service_account).into(),
            email: args.email,
            external_id: args.external_id,
            display_name: args.display_name,
            assignments: initial_assignments(args.assignments),
        })
        .await?
        .into_inner();
    output::print(args.connection.output, &response, || {
        identity_with_assignments(response.identity.as_ref(), &response.assignments)
    })?;
    Ok(Outcome::Done)
}

async fn get(args: IdentityArgs) -> Result<Outcome, Failure> {
    let response = client(&args.connection)
        .await?
        .get_identity(pb::GetIdentityRequest {
            identity: Some(args.identity),
        })
        .await?
        .into_inner();
    output::print(args.connection.output, &response, || {
        identity_table(response.identity.iter())
    })?;
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
    let mut client = client(&args.connection).await?;
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
    let response = pb::ListIdentitiesResponse {
        identities,
        next_page_token: String::new(),
    };
    output::print(args.connection.output, &response, || {
        identity_table(response.identities.iter())
    })?;
    Ok(Outcome::Done)
}

async fn update(args: UpdateIdentityArgs) -> Result<Outcome, Failure> {
    if args.display_name.is_none() && args.email.is_none() && args.external_id.is_none() {
        return Err(Failure::input(
            "nothing to change: give --display-name, --email or --external-id",
        ));
    }
    let response = client(&args.connection)
        .await?
        .update_identity(pb::UpdateIdentityRequest {
            identity: Some(args.identity),
            display_name: args.display_name,
            email: args.email,
            external_id: args.external_id,
            request_id: args.request.request_id,
        })
        .await?
        .into_inner();
    output::print(args.connection.output, &response, || {
        identity_table(response.identity.iter())
    })?;
    Ok(Outcome::Done)
}

async fn activate(args: ChangeIdentityArgs) -> Result<Outcome, Failure> {
    let response = client(&args.connection)
        .await?
        .activate_identity(pb::ActivateIdentityRequest {
            identity: Some(args.identity),
            request_id: args.request.request_id,
        })
        .await?
        .into_inner();
    output::print(args.connection.output, &response, || {
        identity_table(response.identity.iter())
    })?;
    Ok(Outcome::Done)
}

async fn disable(args: ChangeIdentityArgs) -> Result<Outcome, Failure> {
    let response = client(&args.connection)
        .await?
        .disable_identity(pb::DisableIdentityRequest {
            identity: Some(args.identity),
            request_id: args.request.request_id,
        })
        .await?
        .into_inner();
    output::print(args.connection.output, &response, || {
        identity_table(response.identity.iter())
    })?;
    Ok(Outcome::Done)
}

async fn delete(args: ChangeIdentityArgs) -> Result<Outcome, Failure> {
    let response = client(&args.connection)
        .await?
        .delete_identity(pb::DeleteIdentityRequest {
            identity: Some(args.identity),
            request_id: args.request.request_id,
        })
        .await?
        .into_inner();
    output::print(args.connection.output, &response, || {
        let identity = response.identity.as_ref();
        let name = identity.map_or("", |i| shown_name(i));
        let id = identity.map_or("", |i| i.id.as_str());
        format!(
            "deleted identity {name} ({id}) and {} assignment(s) of it\n",
            response.deleted_assignments
        )
    })?;
    Ok(Outcome::Done)
}

/// What people call an identity: its email, else its external id, else its display name.
pub fn shown_name(identity: &pb::Identity) -> &str {
    [
        &identity.email,
        &identity.external_id,
        &identity.display_name,
    ]
    .into_iter()
    .find(|name| !name.is_empty())
    .map_or("", |name| name.as_str())
}

fn identity_table<'a>(identities: impl Iterator<Item = &'a pb::Identity>) -> String {
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
