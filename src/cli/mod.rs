//! Client subcommands for people at a terminal: each talks gRPC to a running
//! rbacd (`--server`, `--api-key`) and prints a table or, with
//! `--output json`, the response as proto JSON (what grpcurl prints).
//!
//! Exit status: 0 on success (for `check`: allowed), 1 when `check` is
//! denied, 2 on any error (a gRPC status, an unreachable server, bad input).

mod api_keys;
mod assignment_admin;
mod assignments;
mod bulk;
mod changes;
mod check;
mod completions;
mod connection;
mod credentials;
mod failure;
pub mod health;
mod identities;
mod lookups;
mod names;
mod nodes;
mod output;
mod references;
mod roles;
mod signing;
mod table;

use std::process::ExitCode;

use clap::Subcommand;

pub use connection::ConnectionArgs;
pub use failure::Failure;
pub use output::OutputFormat;

/// Items a list subcommand asks for per page; it reads every page.
const PAGE_SIZE: i32 = 1000;

/// The client subcommands, flattened into `rbacd`'s own.
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Ask whether an identity may perform a permission on a node.
    ///
    /// Prints ALLOWED or DENIED and the reason.
    #[command(after_help = "Exit status: 0 when allowed, 1 when denied, 2 on an error.")]
    Check(check::CheckArgs),
    /// The permissions an identity holds at a node, from every assignment there or above.
    Permissions(lookups::PermissionsArgs),
    /// Where an identity holds a permission, or who holds one at a node.
    #[command(subcommand)]
    Lookup(lookups::LookupCommand),
    /// Create, show, list, update and delete roles.
    #[command(subcommand)]
    Role(roles::RoleCommand),
    /// Create, invite, show, list, update, activate, disable and delete
    /// identities (users and service accounts).
    #[command(subcommand)]
    Identity(identities::IdentityCommand),
    /// Create, list and revoke the API keys of service accounts.
    #[command(subcommand)]
    ApiKey(api_keys::ApiKeyCommand),
    /// Create, show, list (as a tree), move and delete resource nodes.
    #[command(subcommand)]
    Node(nodes::NodeCommand),
    /// Grant a role to an identity at a node (and so at every descendant).
    Assign(assignments::AssignArgs),
    /// Remove an assignment, by identity + role + node or by its id, and say what it was.
    Unassign(assignments::UnassignArgs),
    /// List assignments; replace an identity's roles at a node; change a
    /// window; revoke by filter.
    #[command(subcommand)]
    Assignment(assignment_admin::AssignmentCommand),
    /// Print the change log: every mutation, in revision order; or follow it live.
    Changes(changes::ChangesArgs),
    /// Make, list and revoke the keys that sign user actions.
    #[command(subcommand)]
    Credential(credentials::CredentialCommand),
    /// Print a shell completion script for bash, zsh or fish.
    Completions(completions::CompletionsArgs),
    #[command(flatten)]
    Bulk(bulk::BulkCommand),
}

/// What a client subcommand ended with, short of an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It did what was asked (or `check` was allowed).
    Done,
    /// `check` was denied.
    Denied,
}

/// Runs a client subcommand and says how the process should exit.
pub async fn run(command: ClientCommand) -> ExitCode {
    let outcome = match command {
        ClientCommand::Check(args) => check::run(args).await,
        ClientCommand::Permissions(args) => lookups::permissions(args).await,
        ClientCommand::Lookup(command) => lookups::lookup(command).await,
        ClientCommand::Role(command) => roles::run(command).await,
        ClientCommand::Identity(command) => identities::run(command).await,
        ClientCommand::ApiKey(command) => api_keys::run(command).await,
        ClientCommand::Node(command) => nodes::run(command).await,
        ClientCommand::Assign(args) => assignments::assign(args).await,
        ClientCommand::Unassign(args) => assignments::unassign(args).await,
        ClientCommand::Assignment(command) => assignment_admin::run(command).await,
        ClientCommand::Changes(args) => changes::run(args).await,
        ClientCommand::Credential(command) => credentials::run(command).await,
        ClientCommand::Completions(args) => completions::run(args),
        ClientCommand::Bulk(command) => bulk::run(command).await,
    };
    match outcome {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::Denied) => ExitCode::from(1),
        Err(failure) => {
            eprintln!("{failure}");
            ExitCode::from(2)
        }
    }
}
