//! `rbacd export`, `rbacd import FILE`, `rbacd apply FILE`: a whole environment
//! as one YAML document, loaded into an empty environment or applied as a plan.

mod apply;
mod check;
mod document;
mod plan;
#[cfg(test)]
mod tests;

use std::io::Write;

use clap::{Args, Subcommand};
use futures::StreamExt;

use super::{ConnectionArgs, Failure, Outcome, connection::ServerChannel};
use crate::proto::v1::{self as pb, bulk_service_client::BulkServiceClient};
use document::Document;

/// Objects per Import message (each far under 4 MiB).
const IMPORT_CHUNK: usize = 2000;

/// The bulk subcommands, flattened into the client's.
#[derive(Debug, Subcommand)]
pub enum BulkCommand {
    /// Write the whole environment (roles, identities, nodes, assignments; never
    /// API keys) as one YAML document, sorted for diffs.
    Export(ExportArgs),
    /// Load a document into an environment holding only what its creation made.
    ///
    /// All or nothing; a bad file is reported with line numbers and changes nothing.
    Import(FileArgs),
    /// Make the environment match a document: print the plan, run it with `--yes`.
    ///
    /// Objects are matched by role name, identity email or external id, and node
    /// key. Deletes need `--prune`.
    Apply(ApplyArgs),
}

/// Arguments of `rbacd export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output_file: Option<std::path::PathBuf>,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Arguments of `rbacd import`.
#[derive(Debug, Args)]
pub struct FileArgs {
    /// The YAML document (as `rbacd export` writes it).
    file: std::path::PathBuf,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Arguments of `rbacd apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The YAML document (as `rbacd export` writes it).
    file: std::path::PathBuf,
    /// Run the plan (otherwise it is only printed).
    #[arg(long, conflicts_with = "dry_run")]
    yes: bool,
    /// Print the plan only (the default without `--yes`).
    #[arg(long)]
    dry_run: bool,
    /// Also delete what the document does not hold.
    #[arg(long)]
    prune: bool,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// Runs a bulk subcommand.
pub async fn run(command: BulkCommand) -> Result<Outcome, Failure> {
    match command {
        BulkCommand::Export(args) => export(args).await,
        BulkCommand::Import(args) => import(args).await,
        BulkCommand::Apply(args) => apply::run(args).await,
    }
}

async fn export(args: ExportArgs) -> Result<Outcome, Failure> {
    let channel = args.connection.connect().await?;
    let (revision, doc) = fetch(channel).await?;
    let text = doc.to_yaml(revision).map_err(Failure::input)?;
    match &args.output_file {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| Failure::input(format!("cannot write {}: {e}", path.display())))?,
        None => std::io::stdout()
            .write_all(text.as_bytes())
            .map_err(|e| Failure::input(format!("cannot write: {e}")))?,
    }
    Ok(Outcome::Done)
}

/// The environment as a document, and the revision it reflects.
async fn fetch(channel: ServerChannel) -> Result<(u64, Document), Failure> {
    let mut stream = BulkServiceClient::new(channel)
        .export(pb::ExportRequest::default())
        .await?
        .into_inner();
    let mut messages = Vec::new();
    while let Some(message) = stream.next().await {
        messages.push(message?);
    }
    let revision = messages.first().map_or(0, |m| m.revision);
    Ok((revision, document::from_export(messages)))
}

/// Reads and checks `path`: every problem with its line.
fn read(path: &std::path::Path) -> Result<Document, Failure> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::input(format!("cannot read {name}: {e}")))?;
    let doc = Document::parse(&text).map_err(|e| Failure::input(format!("{name}: {e}")))?;
    check::check(&doc, &text, &name).map_err(|problems| {
        Failure::input(format!(
            "{name} is not valid; nothing was changed:\n{problems}"
        ))
    })?;
    Ok(normalized(doc))
}

async fn import(args: FileArgs) -> Result<Outcome, Failure> {
    let started = std::time::Instant::now();
    let doc = read(&args.file)?;
    let read_ms = started.elapsed().as_millis() as u64;
    let messages = import_messages(&doc);
    drop(doc);
    tracing::debug!(
        read_ms,
        messages_ms = started.elapsed().as_millis() as u64 - read_ms,
        "import: document read and checked, messages built"
    );
    let sending = std::time::Instant::now();
    let mut client = BulkServiceClient::new(args.connection.connect().await?);
    let response = client
        .import(tokio_stream::iter(messages))
        .await?
        .into_inner();
    tracing::debug!(
        send_and_server_ms = sending.elapsed().as_millis() as u64,
        "import: answered"
    );
    println!(
        "imported {} roles, {} identities, {} nodes, {} assignments (revision {})",
        response.roles,
        response.identities,
        response.nodes,
        response.assignments,
        response.revision
    );
    Ok(Outcome::Done)
}

/// The document as Import messages, in document order.
fn import_messages(doc: &Document) -> Vec<pb::ImportRequest> {
    let roles = doc.roles.iter().map(|r| pb::BulkRole {
        name: r.name.clone(),
        description: r.description.clone(),
        permissions: r.permissions.clone(),
        builtin: r.builtin,
        ..Default::default()
    });
    // The admin account is named by a label of the stream's own.
    let admin_label = uuid::Uuid::new_v4().to_string();
    let identities = doc.identities.iter().map(|x| pb::BulkIdentity {
        id: if x.builtin {
            admin_label.clone()
        } else {
            x.id.clone()
        },
        kind: apply::kind(&x.kind).into(),
        status: apply::status(&x.status).into(),
        email: x.email.clone(),
        external_id: x.external_id.clone(),
        display_name: x.display_name.clone(),
        builtin: x.builtin,
    });
    let nodes = doc.nodes.iter().map(|n| pb::BulkNode {
        key: n.key.clone(),
        name: n.name.clone(),
        kind: n.kind.clone(),
        parent: Some(apply::node_ref(&n.parent)),
        ..Default::default()
    });
    let assignments = doc.assignments.iter().map(|a| pb::BulkAssignment {
        identity: Some(apply::identity_ref(&a.identity, &admin_label)),
        role: Some(super::references::role_by_name(&a.role)),
        node: Some(apply::node_ref(&a.node)),
        effective_from: a.from.as_deref().and_then(|t| instant(t).ok()),
        effective_to: a.to.as_deref().and_then(|t| instant(t).ok()),
        builtin: false,
        id: String::new(),
    });
    let mut messages = Vec::new();
    let mut push = |fill: &mut dyn FnMut(&mut pb::ImportRequest, usize) -> bool| loop {
        let mut m = pb::ImportRequest::default();
        let mut n = 0;
        while n < IMPORT_CHUNK && fill(&mut m, n) {
            n += 1;
        }
        if n > 0 {
            messages.push(m);
        }
        if n < IMPORT_CHUNK {
            break;
        }
    };
    let mut roles = roles;
    push(&mut |m, _| roles.next().map(|x| m.roles.push(x)).is_some());
    let mut identities = identities;
    push(&mut |m, _| identities.next().map(|x| m.identities.push(x)).is_some());
    let mut nodes = nodes;
    push(&mut |m, _| nodes.next().map(|x| m.nodes.push(x)).is_some());
    let mut assignments = assignments;
    push(&mut |m, _| assignments.next().map(|x| m.assignments.push(x)).is_some());
    messages
}

/// `doc` with its times written as the server renders them, so that a date and
/// the same instant in RFC 3339 compare equal.
fn normalized(mut doc: Document) -> Document {
    let canonical = |t: &mut Option<String>| {
        if let Some(ts) = t.as_deref().and_then(|text| instant(text).ok()) {
            *t = Some(document::rfc3339(&ts));
        }
    };
    for a in &mut doc.assignments {
        canonical(&mut a.from);
        canonical(&mut a.to);
    }
    doc
}

/// An instant in a document: RFC 3339, or a date (midnight UTC).
pub fn instant(text: &str) -> Result<prost_types::Timestamp, String> {
    if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let seconds = date
            .and_hms_opt(0, 0, 0)
            .map_or(0, |d| d.and_utc().timestamp());
        return Ok(prost_types::Timestamp { seconds, nanos: 0 });
    }
    super::references::timestamp(text)
}
