//! `rbacd credential create-key|list|revoke`: the keys an identity signs its
//! actions with (see ActionSigningService).

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{
    ConnectionArgs, Failure, Outcome, output, references,
    table::{self, Table},
};
use crate::proto::v1::{self as pb, action_signing_service_client::ActionSigningServiceClient};

/// `rbacd credential ...`.
#[derive(Debug, Subcommand)]
pub enum CredentialCommand {
    /// Make an Ed25519 key pair, write the private key to FILE (PKCS#8 PEM,
    /// mode 0600) and register the public key.
    ///
    /// An identity's first credential needs no signature; to add another,
    /// pass the existing one's key with --signing-key.
    CreateKey(CreateKeyArgs),
    /// List an identity's credentials (the API key's own by default).
    List(ListArgs),
    /// Revoke a credential; needs --signing-key (a live credential of the caller).
    Revoke(RevokeArgs),
}

/// Arguments of `rbacd credential create-key`.
#[derive(Debug, Args)]
pub struct CreateKeyArgs {
    /// Where to write the new private key; an existing file is not overwritten.
    file: PathBuf,
    /// A name for people, e.g. `laptop`.
    #[arg(long, default_value = "")]
    name: String,
    /// Whose credential (EMAIL, id or external:ID); the API key's identity by default.
    #[arg(long, value_name = "IDENTITY", value_parser = references::identity)]
    identity: Option<pb::IdentityRef>,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Arguments of `rbacd credential list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Whose credentials (EMAIL, id or external:ID); the API key's identity by default.
    #[arg(long, value_name = "IDENTITY", value_parser = references::identity)]
    identity: Option<pb::IdentityRef>,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Arguments of `rbacd credential revoke`.
#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// The credential's id.
    id: String,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Runs a `rbacd credential` subcommand.
pub async fn run(command: CredentialCommand) -> Result<Outcome, Failure> {
    match command {
        CredentialCommand::CreateKey(args) => create_key(args).await,
        CredentialCommand::List(args) => list(args).await,
        CredentialCommand::Revoke(args) => revoke(args).await,
    }
}

fn credential_table(credentials: &[pb::Credential]) -> String {
    let mut table = Table::new(&["ID", "NAME", "KIND", "REVOKED", "IDENTITY"]);
    for c in credentials {
        let kind = pb::CredentialKind::try_from(c.kind)
            .map(|k| k.as_str_name().trim_start_matches("CREDENTIAL_KIND_"))
            .unwrap_or("UNKNOWN");
        table.push(vec![
            c.id.clone(),
            c.name.clone(),
            kind.to_owned(),
            table::time(c.revoked_at.as_ref()),
            c.identity_id.clone(),
        ]);
    }
    table.to_string()
}

async fn create_key(args: CreateKeyArgs) -> Result<Outcome, Failure> {
    let mut client = ActionSigningServiceClient::new(args.connection.connect().await?);
    let key = super::signing::create_key(&args.file)?;
    let registered = client
        .register_credential(pb::RegisterCredentialRequest {
            identity: args.identity,
            kind: pb::CredentialKind::Ed25519.into(),
            public_key: key.verifying_key().to_bytes().to_vec(),
            name: args.name,
        })
        .await;
    let response = match registered {
        Ok(response) => response.into_inner(),
        Err(status) => {
            // An unregistered key is of no use; do not leave it lying around.
            let _ = std::fs::remove_file(&args.file);
            return Err(status.into());
        }
    };
    output::print(args.connection.output, &response, || {
        format!(
            "{}\nprivate key written to {}; sign with --signing-key {1} (or RBACD_SIGNING_KEY)\n",
            credential_table(response.credential.as_slice()),
            args.file.display()
        )
    })?;
    Ok(Outcome::Done)
}

async fn list(args: ListArgs) -> Result<Outcome, Failure> {
    let mut client = ActionSigningServiceClient::new(args.connection.connect().await?);
    let mut credentials = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_credentials(pb::ListCredentialsRequest {
                identity: args.identity.clone(),
                page_size: super::PAGE_SIZE,
                page_token,
            })
            .await?
            .into_inner();
        credentials.extend(page.credentials);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    let response = pb::ListCredentialsResponse {
        credentials,
        next_page_token: String::new(),
    };
    output::print(args.connection.output, &response, || {
        credential_table(&response.credentials)
    })?;
    Ok(Outcome::Done)
}

async fn revoke(args: RevokeArgs) -> Result<Outcome, Failure> {
    let mut client = ActionSigningServiceClient::new(args.connection.connect().await?);
    let response = client
        .revoke_credential(pb::RevokeCredentialRequest {
            credential_id: args.id,
        })
        .await?
        .into_inner();
    output::print(args.connection.output, &response, || {
        credential_table(response.credential.as_slice())
    })?;
    Ok(Outcome::Done)
}
