//! The YAML document of an environment: its types, its stable order, how it is
//! read (with line-numbered errors) and how an Export stream becomes one.
//!
//! References are by handle: a role by name, a node by key (`root` for the
//! root), an identity by email, else `external:ID`, else its `id` (written only
//! for identities with neither, like the admin account an environment's
//! creation made, marked `builtin`).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::cli::references::EXTERNAL_PREFIX;
use crate::domain::{ADMINISTRATOR_ROLE, ROOT_NODE_KEY, fold};
use crate::proto::v1 as pb;

/// How a document names the admin account the environment's creation made.
pub const BUILTIN_ADMIN: &str = "builtin:admin";

/// A whole environment, as `rbacd export` writes it and `import`/`apply` read it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    /// The id of this environment's own admin account (when read from a server).
    #[serde(skip)]
    pub admin_id: String,
    #[serde(default)]
    pub roles: Vec<RoleDoc>,
    #[serde(default)]
    pub identities: Vec<IdentityDoc>,
    #[serde(default)]
    pub nodes: Vec<NodeDoc>,
    #[serde(default)]
    pub assignments: Vec<AssignmentDoc>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleDoc {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default)]
    pub permissions: Vec<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub builtin: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityDoc {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub email: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub external_id: String,
    #[serde(default = "user")]
    pub kind: String,
    #[serde(default = "active")]
    pub status: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub display_name: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub builtin: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeDoc {
    pub key: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// The parent's key; the root when not given.
    #[serde(default = "root", skip_serializing_if = "is_root")]
    pub parent: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignmentDoc {
    /// The assignment's id on the server it was read from; never in the text.
    #[serde(skip)]
    pub id: String,
    /// Email, `external:ID` or id of an identity of the document.
    pub identity: String,
    /// Key of a node of the document, or `root`.
    pub node: String,
    /// Name of a role of the document.
    pub role: String,
    /// RFC 3339 (or a date, `2030-01-01`); since always when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// RFC 3339 (or a date); forever when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !b
}
fn user() -> String {
    "USER".into()
}
fn active() -> String {
    "ACTIVE".into()
}
fn root() -> String {
    ROOT_NODE_KEY.into()
}
fn is_root(key: &String) -> bool {
    key == ROOT_NODE_KEY
}

impl IdentityDoc {
    /// How assignments name this identity.
    pub fn handle(&self) -> String {
        if self.builtin {
            BUILTIN_ADMIN.to_owned()
        } else if !self.email.is_empty() {
            self.email.clone()
        } else if !self.external_id.is_empty() {
            format!("{EXTERNAL_PREFIX}{}", self.external_id)
        } else {
            self.id.clone()
        }
    }

    /// The handle in the form handles are compared (emails case-insensitively).
    pub fn match_key(&self) -> String {
        match_key(&self.handle())
    }
}

/// A handle in the form handles are compared.
pub fn match_key(handle: &str) -> String {
    if handle.starts_with(EXTERNAL_PREFIX) {
        handle.to_owned()
    } else {
        fold(handle)
    }
}

impl Document {
    /// Sorts every list into the document's stable order.
    pub fn sort(&mut self) {
        self.roles.sort_by_key(|r| (fold(&r.name), r.name.clone()));
        self.identities.sort_by_key(IdentityDoc::match_key);
        self.nodes.sort_by(|a, b| a.key.cmp(&b.key));
        self.assignments.sort_by_key(|a| {
            (
                match_key(&a.identity),
                a.node.clone(),
                fold(&a.role),
                a.clone(),
            )
        });
    }

    /// The YAML text, with a header comment.
    pub fn to_yaml(&self, revision: u64) -> Result<String, String> {
        let body = serde_norway::to_string(self).map_err(|e| e.to_string())?;
        Ok(format!(
            "# rbacd environment, exported at revision {revision}.\n\
             # Edit and load with `rbacd apply FILE`; into an empty environment with `rbacd import FILE`.\n{body}"
        ))
    }

    /// Reads `text`; a syntax or shape error names its line.
    pub fn parse(text: &str) -> Result<Self, String> {
        serde_norway::from_str::<Option<Document>>(text)
            .map(Option::unwrap_or_default)
            .map_err(|e| match e.location() {
                Some(at) => format!("line {}, column {}: {e}", at.line(), at.column()),
                None => e.to_string(),
            })
    }
}

/// Everything an Export stream carried, turned into a document.
pub fn from_export(messages: Vec<pb::ExportResponse>) -> Document {
    let mut roles = Vec::new();
    let mut identities = Vec::new();
    let mut nodes = Vec::new();
    let mut assignments = Vec::new();
    for m in messages {
        roles.extend(m.roles);
        identities.extend(m.identities);
        nodes.extend(m.nodes);
        assignments.extend(m.assignments);
    }
    let role_names: HashMap<String, String> = roles
        .iter()
        .map(|r| (r.id.clone(), r.name.clone()))
        .collect();
    let node_keys: HashMap<String, String> = nodes
        .iter()
        .map(|n| (n.id.clone(), n.key.clone()))
        .collect();
    let mut doc = Document::default();
    let mut handles = HashMap::new();
    for i in identities {
        if i.builtin {
            doc.admin_id = i.id.clone();
        }
        let id = IdentityDoc {
            id: if i.email.is_empty() && i.external_id.is_empty() && !i.builtin {
                i.id.clone()
            } else {
                String::new()
            },
            email: i.email,
            external_id: i.external_id,
            kind: enum_name(
                pb::IdentityKind::try_from(i.kind)
                    .ok()
                    .map(|k| k.as_str_name()),
                "IDENTITY_KIND_",
            ),
            status: enum_name(
                pb::IdentityStatus::try_from(i.status)
                    .ok()
                    .map(|s| s.as_str_name()),
                "IDENTITY_STATUS_",
            ),
            display_name: i.display_name,
            builtin: i.builtin,
        };
        handles.insert(i.id, id.handle());
        doc.identities.push(id);
    }
    let node_key = |r: Option<&pb::NodeRef>| match r.and_then(|r| r.r#ref.as_ref()) {
        Some(pb::node_ref::Ref::Id(id)) => node_keys.get(id).cloned().unwrap_or_else(|| id.clone()),
        Some(pb::node_ref::Ref::Key(key)) => key.clone(),
        None => root(),
    };
    for n in &nodes {
        doc.nodes.push(NodeDoc {
            key: n.key.clone(),
            name: n.name.clone(),
            kind: n.kind.clone(),
            parent: node_key(n.parent.as_ref()),
        });
    }
    for r in roles {
        let builtin = r.builtin || fold(&r.name) == fold(ADMINISTRATOR_ROLE);
        doc.roles.push(RoleDoc {
            name: r.name,
            description: r.description,
            permissions: r.permissions,
            builtin,
        });
    }
    for a in assignments {
        let identity = match a.identity.and_then(|r| r.r#ref) {
            Some(pb::identity_ref::Ref::Id(id)) => handles.get(&id).cloned().unwrap_or(id),
            Some(pb::identity_ref::Ref::Email(e)) => e,
            Some(pb::identity_ref::Ref::ExternalId(e)) => format!("{EXTERNAL_PREFIX}{e}"),
            None => String::new(),
        };
        let role = match a.role.and_then(|r| r.r#ref) {
            Some(pb::role_ref::Ref::Id(id)) => role_names.get(&id).cloned().unwrap_or(id),
            Some(pb::role_ref::Ref::Name(n)) => n,
            None => String::new(),
        };
        doc.assignments.push(AssignmentDoc {
            id: a.id,
            identity,
            node: node_key(a.node.as_ref()),
            role,
            from: a.effective_from.map(|t| rfc3339(&t)),
            to: a.effective_to.map(|t| rfc3339(&t)),
        });
    }
    doc.sort();
    doc
}

fn enum_name(name: Option<&str>, prefix: &str) -> String {
    name.map(|n| n.trim_start_matches(prefix).to_owned())
        .unwrap_or_default()
}

/// A wire timestamp as RFC 3339, in UTC, seconds unless there is a fraction.
pub fn rfc3339(t: &prost_types::Timestamp) -> String {
    chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        .unwrap_or_default()
}
