//! `rbacd api-key create|list|revoke`: the secrets service accounts call with.

use clap::{Args, Subcommand};

use super::{
    ConnectionArgs, Failure, Outcome,
    connection::RequestIdArgs,
    output, references,
    table::{self, Table},
};
use crate::proto::v1::{self as pb, identity_service_client::IdentityServiceClient};

/// `rbacd api-key ...`.
#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Make an API key for a service account; its secret is printed once.
    Create(CreateApiKeyArgs),
    /// List an identity's API keys (never their secrets).
    List(ListApiKeysArgs),
    /// Revoke an API key: calls with it fail from then on.
    Revoke(RevokeApiKeyArgs),
}

/// Arguments of `rbacd api-key create`.
#[derive(Debug, Args)]
pub struct CreateApiKeyArgs {
    /// The service account: an email, an id (UUID) or external:ID.
    #[arg(long, value_name = "IDENTITY", value_parser = references::identity)]
    identity: pb::IdentityRef,
    /// A name for people, e.g. `ci`.
    #[arg(long, default_value = "")]
    name: String,
    #[command(flatten)]
    request: RequestIdArgs,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Arguments of `rbacd api-key list`.
#[derive(Debug, Args)]
pub struct ListApiKeysArgs {
    /// Whose keys: an email, an id (UUID) or external:ID.
    #[arg(long, value_name = "IDENTITY", value_parser = references::identity)]
    identity: pb::IdentityRef,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Arguments of `rbacd api-key revoke`.
#[derive(Debug, Args)]
pub struct RevokeApiKeyArgs {
    /// The API key's id.
    id: String,
    #[command(flatten)]
    request: RequestIdArgs,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Runs a `rbacd api-key` subcommand.
pub async fn run(command: ApiKeyCommand) -> Result<Outcome, Failure> {
    match command {
        ApiKeyCommand::Create(args) => create(args).await,
        ApiKeyCommand::List(args) => list(args).await,
        ApiKeyCommand::Revoke(args) => revoke(args).await,
    }
}

async fn create(args: CreateApiKeyArgs) -> Result<Outcome, Failure> {
    let mut client = IdentityServiceClient::new(args.connection.connect().await?);
    let response = client
        .create_api_key(pb::CreateApiKeyRequest {
            identity: Some(args.identity),
            name: args.name,
            request_id: args.request.request_id,
        })
        .await?
        .into_inner();
    output::print(args.connection.output, &response, || {
        format!(
            "{}\nsecret (shown only this once): {}\n",
            api_key_table(response.api_key.as_slice()),
            response.secret
        )
    })?;
    Ok(Outcome::Done)
}

async fn list(args: ListApiKeysArgs) -> Result<Outcome, Failure> {
    let mut client = IdentityServiceClient::new(args.connection.connect().await?);
    let mut api_keys = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_api_keys(pb::ListApiKeysRequest {
                identity: Some(args.identity.clone()),
                page_size: super::PAGE_SIZE,
                page_token,
            })
            .await?
            .into_inner();
        api_keys.extend(page.api_keys);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    let response = pb::ListApiKeysResponse {
        api_keys,
        next_page_token: String::new(),
    };
    output::print(args.connection.output, &response, || {
        api_key_table(&response.api_keys)
    })?;
    Ok(Outcome::Done)
}

async fn revoke(args: RevokeApiKeyArgs) -> Result<Outcome, Failure> {
    let mut client = IdentityServiceClient::new(args.connection.connect().await?);
    let response = client
        .revoke_api_key(pb::RevokeApiKeyRequest {
            api_key_id: args.id,
            request_id: args.request.request_id,
        })
        .await?
        .into_inner();
    output::print(args.connection.output, &response, || {
        api_key_table(response.api_key.as_slice())
    })?;
    Ok(Outcome::Done)
}

fn api_key_table(keys: &[pb::ApiKey]) -> String {
    let mut table = Table::new(&["NAME", "PREFIX", "CREATED", "REVOKED", "IDENTITY ID", "ID"]);
    for key in keys {
        table.push(vec![
            key.name.clone(),
            key.prefix.clone(),
            table::time(key.create_time.as_ref()),
            table::time(key.revoke_time.as_ref()),
            key.identity_id.clone(),
            key.id.clone(),
        ]);
    }
    table.to_string()
}
