//! `rbacd changes`: the change log, listed or followed live.

use clap::{Args, ValueEnum};
use futures::StreamExt;
use serde_json::json;

use super::{
    ConnectionArgs, Failure, Outcome,
    output::{self, OutputFormat},
    proto_json,
    table::{Table, enum_label},
};
use crate::proto::v1::{self as pb, audit_service_client::AuditServiceClient};

/// Arguments of `rbacd changes`.
#[derive(Debug, Args)]
pub struct ChangesArgs {
    /// Only changes with a larger revision (e.g. the last one seen); 0 for the whole log.
    #[arg(long, value_name = "REVISION", default_value_t = 0)]
    after: u64,
    /// Keep the stream open and print each new change as it is made. With
    /// `--output json`, prints one change per line (JSON Lines).
    #[arg(long, short)]
    follow: bool,
    /// Only changes of this kind of object.
    #[arg(long, value_enum)]
    kind: Option<ObjectKindFilter>,
    /// Only changes of the object with this id.
    #[arg(long, value_name = "ID")]
    object_id: Option<String>,
    /// Only changes made by the identity with this id.
    #[arg(long, value_name = "ID")]
    actor_id: Option<String>,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// A kind of object, as a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ObjectKindFilter {
    Environment,
    Role,
    Identity,
    Node,
    Assignment,
    ApiKey,
}

impl From<ObjectKindFilter> for pb::ObjectKind {
    fn from(kind: ObjectKindFilter) -> Self {
        match kind {
            ObjectKindFilter::Environment => Self::Environment,
            ObjectKindFilter::Role => Self::Role,
            ObjectKindFilter::Identity => Self::Identity,
            ObjectKindFilter::Node => Self::Node,
            ObjectKindFilter::Assignment => Self::Assignment,
            ObjectKindFilter::ApiKey => Self::ApiKey,
        }
    }
}

/// Lists the changes, or follows them with `--follow`.
pub async fn run(args: ChangesArgs) -> Result<Outcome, Failure> {
    let kind = args
        .kind
        .map_or(pb::ObjectKind::Unspecified, pb::ObjectKind::from);
    let mut client = AuditServiceClient::new(args.connection.connect().await?);
    if args.follow {
        let request = pb::WatchRequest {
            after_revision: args.after,
            object_kind: kind.into(),
            object_id: args.object_id.unwrap_or_default(),
            actor_id: args.actor_id.unwrap_or_default(),
        };
        return follow(client, request, args.connection.output).await;
    }
    let mut request = pb::ListChangesRequest {
        after_revision: args.after,
        page_size: super::PAGE_SIZE,
        page_token: String::new(),
        object_kind: kind.into(),
        object_id: args.object_id.unwrap_or_default(),
        actor_id: args.actor_id.unwrap_or_default(),
    };
    let mut changes = Vec::new();
    loop {
        let page = client.list_changes(request.clone()).await?.into_inner();
        changes.extend(page.changes);
        if page.next_page_token.is_empty() {
            break;
        }
        request.page_token = page.next_page_token;
    }
    output::print(
        args.connection.output,
        || json!({ "changes": proto_json::list(&changes, proto_json::change) }),
        || {
            let mut table = Table::new(&HEADER);
            for change in &changes {
                table.push(row(change).to_vec());
            }
            table.to_string()
        },
    );
    Ok(Outcome::Done)
}

/// Prints changes as they arrive, until the server ends the stream.
async fn follow(
    mut client: AuditServiceClient<super::connection::ServerChannel>,
    request: pb::WatchRequest,
    format: OutputFormat,
) -> Result<Outcome, Failure> {
    let mut last_seen = request.after_revision;
    let mut stream = client.watch(request).await?.into_inner();
    if format == OutputFormat::Table {
        output::write(&streamed_line(&HEADER.map(String::from)));
    }
    while let Some(message) = stream.next().await {
        let change = match message {
            Ok(pb::WatchResponse {
                change: Some(change),
            }) => change,
            Ok(pb::WatchResponse { change: None }) => continue,
            Err(status) => return Err(Failure::Resumable(status, last_seen)),
        };
        last_seen = change.revision;
        output::write(&match format {
            OutputFormat::Json => format!("{}\n", proto_json::change(&change)),
            OutputFormat::Table => streamed_line(&row(&change)),
        });
    }
    Err(Failure::Ended(last_seen))
}

const HEADER: [&str; 7] = [
    "REVISION",
    "TIME",
    "ACTION",
    "KIND",
    "OBJECT",
    "OBJECT ID",
    "ACTOR ID",
];

fn row(change: &pb::Change) -> [String; 7] {
    let kind = pb::ObjectKind::try_from(change.object_kind).ok();
    [
        change.revision.to_string(),
        proto_json::rfc3339(change.create_time.as_ref()).unwrap_or_default(),
        change.action.clone(),
        enum_label(kind.map(|k| k.as_str_name()), "OBJECT_KIND_"),
        object_label(change),
        change.object_id.clone(),
        change.actor_id.clone(),
    ]
}

/// What people call the changed object: its key, email or name, from the
/// image after the change (or before it, for a deletion).
fn object_label(change: &pb::Change) -> String {
    let image = change.after.as_ref().or(change.before.as_ref());
    let text = |field: &str| {
        image
            .and_then(|i| i.fields.get(field))
            .and_then(|v| match &v.kind {
                Some(prost_types::value::Kind::StringValue(s)) if !s.is_empty() => Some(s.clone()),
                _ => None,
            })
    };
    ["key", "email", "name", "display_name", "role_name"]
        .into_iter()
        .find_map(text)
        .unwrap_or_default()
}

/// One row of a followed stream: the widths are fixed, since later rows are unknown.
fn streamed_line(cells: &[String]) -> String {
    const WIDTHS: [usize; 6] = [8, 27, 22, 11, 24, 36];
    let mut line = String::new();
    for (i, cell) in cells.iter().enumerate() {
        let cell = if cell.is_empty() { "-" } else { cell };
        line.push_str(cell);
        if let Some(width) = WIDTHS.get(i) {
            let pad = width.saturating_sub(cell.chars().count());
            line.extend(std::iter::repeat_n(' ', pad + 2));
        }
    }
    line.truncate(line.trim_end().len());
    line.push('\n');
    line
}
