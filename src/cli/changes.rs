//! `rbacd changes`: the change log, listed or followed live.

use clap::{Args, ValueEnum};
use futures::StreamExt;
use prost_types::value::Kind;

use super::{
    ConnectionArgs, Failure, Outcome,
    names::Names,
    output::{self, OutputFormat},
    table::{self, Table, enum_label},
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
    Credential,
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
            ObjectKindFilter::Credential => Self::Credential,
        }
    }
}

/// Lists the changes, or follows them with `--follow`.
pub async fn run(args: ChangesArgs) -> Result<Outcome, Failure> {
    let kind = args
        .kind
        .map_or(pb::ObjectKind::Unspecified, pb::ObjectKind::from);
    let channel = args.connection.connect().await?;
    let mut client = AuditServiceClient::new(channel.clone());
    let names = Names::new(channel);
    if args.follow {
        let request = pb::WatchRequest {
            after_revision: args.after,
            object_kind: kind.into(),
            object_id: args.object_id.unwrap_or_default(),
            actor_id: args.actor_id.unwrap_or_default(),
        };
        return follow(client, names, request, args.connection.output).await;
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
    let response = pb::ListChangesResponse {
        changes,
        next_page_token: String::new(),
    };
    let mut rows = Vec::new();
    if args.connection.output == OutputFormat::Table {
        let mut names = names;
        for change in &response.changes {
            rows.push(row(change, &mut names).await);
        }
    }
    output::print(args.connection.output, &response, || {
        let mut table = Table::new(&HEADER);
        for row in rows {
            table.push(row.to_vec());
        }
        table.to_string()
    })?;
    Ok(Outcome::Done)
}

/// Prints changes as they arrive, until the server ends the stream.
async fn follow(
    mut client: AuditServiceClient<super::connection::ServerChannel>,
    mut names: Names,
    request: pb::WatchRequest,
    format: OutputFormat,
) -> Result<Outcome, Failure> {
    let mut last_seen = request.after_revision;
    let mut stream = client.watch(request).await?.into_inner();
    if format == OutputFormat::Table {
        output::write(&streamed_line(&HEADER.map(String::from)));
    }
    while let Some(message) = stream.next().await {
        let message = message.map_err(|status| Failure::Resumable(status, last_seen))?;
        let Some(change) = &message.change else {
            continue;
        };
        last_seen = change.revision;
        output::write(&match format {
            OutputFormat::Json => output::json_line(&message)?,
            OutputFormat::Table => streamed_line(&row(change, &mut names).await),
        });
    }
    Err(Failure::Ended(last_seen))
}

const HEADER: [&str; 8] = [
    "REVISION",
    "TIME",
    "ACTION",
    "KIND",
    "OBJECT",
    "OBJECT ID",
    "ACTOR",
    "ACTOR ID",
];

async fn row(change: &pb::Change, names: &mut Names) -> [String; 8] {
    let kind = pb::ObjectKind::try_from(change.object_kind).ok();
    learn(change, names);
    let actor = if change.actor_id.is_empty() {
        "rbacd".to_owned()
    } else {
        names.identity(&change.actor_id).await
    };
    [
        change.revision.to_string(),
        table::time(change.create_time.as_ref()),
        change.action.clone(),
        enum_label(kind.map(|k| k.as_str_name()), "OBJECT_KIND_"),
        object_label(change, names).await,
        change.object_id.clone(),
        actor,
        change.actor_id.clone(),
    ]
}

/// The image after the change, or before it for a deletion.
fn image(change: &pb::Change) -> Option<&prost_types::Struct> {
    change.after.as_ref().or(change.before.as_ref())
}

/// A string field of an image (proto JSON names), when set.
fn text<'a>(image: Option<&'a prost_types::Struct>, field: &str) -> Option<&'a str> {
    match &image?.fields.get(field)?.kind {
        Some(Kind::StringValue(s)) if !s.is_empty() => Some(s.as_str()),
        _ => None,
    }
}

/// Keeps the names a change's images show, so later rows need not ask.
fn learn(change: &pb::Change, names: &mut Names) {
    for image in [change.before.as_ref(), change.after.as_ref()] {
        let id = text(image, "id").unwrap_or_default();
        match pb::ObjectKind::try_from(change.object_kind) {
            Ok(pb::ObjectKind::Identity) => {
                let name = text(image, "email")
                    .or(text(image, "externalId"))
                    .or(text(image, "displayName"));
                names.learn_identity(id, name.unwrap_or_default());
            }
            Ok(pb::ObjectKind::Role) => {
                names.learn_role(id, text(image, "name").unwrap_or_default())
            }
            Ok(pb::ObjectKind::Node) => {
                names.learn_node(id, text(image, "key").unwrap_or_default())
            }
            Ok(pb::ObjectKind::Assignment) => {
                let (role_id, node_id) = (text(image, "roleId"), text(image, "nodeId"));
                names.learn_role(
                    role_id.unwrap_or_default(),
                    text(image, "roleName").unwrap_or_default(),
                );
                names.learn_node(
                    node_id.unwrap_or_default(),
                    text(image, "nodeKey").unwrap_or_default(),
                );
            }
            _ => {}
        }
    }
}

/// What people call the changed object: a node's key, an identity's email,
/// a role's name; an assignment as ROLE@NODE for IDENTITY.
async fn object_label(change: &pb::Change, names: &mut Names) -> String {
    let image = image(change);
    if image.is_some() && change.object_kind == i32::from(pb::ObjectKind::Assignment) {
        let role = match text(image, "roleName") {
            Some(name) => name.to_owned(),
            None => names.role(text(image, "roleId").unwrap_or_default()).await,
        };
        let node = match text(image, "nodeKey") {
            Some(key) => key.to_owned(),
            None => names.node(text(image, "nodeId").unwrap_or_default()).await,
        };
        let identity = names
            .identity(text(image, "identityId").unwrap_or_default())
            .await;
        return format!("{role}@{node} for {identity}");
    }
    ["key", "email", "name", "externalId", "displayName"]
        .into_iter()
        .find_map(|field| text(image, field))
        .unwrap_or_default()
        .to_owned()
}

/// One row of a followed stream: the widths are fixed, since later rows are unknown.
fn streamed_line(cells: &[String]) -> String {
    const WIDTHS: [usize; 7] = [8, 27, 22, 11, 24, 36, 24];
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
