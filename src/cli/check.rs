//! `rbacd check`: may an identity perform a permission on a node?

use clap::Args;
use prost_types::Timestamp;

use super::{ConnectionArgs, Failure, Outcome, output, references};
use crate::proto::v1::{self as pb, authorization_service_client::AuthorizationServiceClient};

/// Arguments of `rbacd check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Who asks: an email, an identity id (UUID), or external:ID.
    #[arg(long, value_name = "IDENTITY", value_parser = references::identity)]
    identity: pb::IdentityRef,
    /// A concrete permission, e.g. Wallets:Read.
    #[arg(long)]
    permission: String,
    /// The resource: a node key, or a node id (UUID).
    #[arg(long, value_name = "NODE", value_parser = references::node)]
    node: pb::NodeRef,
    /// Decide as of this moment (RFC 3339, or a date such as 2030-01-01) instead of now.
    #[arg(long, value_name = "TIME", value_parser = references::timestamp)]
    at: Option<Timestamp>,
    /// Wait until the server has applied this change-log revision (a write's `revision`).
    #[arg(long, value_name = "REVISION", default_value_t = 0)]
    min_revision: u64,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Asks the server; allowed is [`Outcome::Done`], denied is [`Outcome::Denied`].
pub async fn run(args: CheckArgs) -> Result<Outcome, Failure> {
    let mut client = AuthorizationServiceClient::new(args.connection.connect().await?);
    let response = client
        .check(pb::CheckRequest {
            correlation_id: String::new(),
            identity: Some(args.identity),
            permission: args.permission,
            node: Some(args.node),
            at: args.at,
            min_revision: args.min_revision,
        })
        .await?
        .into_inner();
    if let Some(error) = &response.error {
        // A malformed check is normally an error status; this covers a server
        // that answers with a per-item error instead.
        let code = tonic::Code::from_i32(error.code);
        return Err(tonic::Status::new(code, error.message.clone()).into());
    }
    let verdict = if response.allowed {
        "ALLOWED"
    } else {
        "DENIED"
    };
    output::print(args.connection.output, &response, || {
        format!("{verdict}\n{}\n", response.reason)
    })?;
    Ok(if response.allowed {
        Outcome::Done
    } else {
        Outcome::Denied
    })
}
