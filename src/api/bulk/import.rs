//! An Import stream's objects as the environment state to insert: each field
//! parsed, references resolved within the stream (or to what the environment's
//! creation made), duplicates refused, nodes put parents first.

use std::collections::{HashMap, HashSet};

use uuid::Uuid;

use crate::api::parse::{self, Violations};
use crate::domain::{
    ADMINISTRATOR_ROLE, Assignment, AssignmentId, EnvironmentId, EnvironmentState, Identity,
    IdentityId, IdentityRef, IdentityStatus, MAX_TEXT_LEN, Node, NodeId, NodeKey, NodeRef,
    PermissionPattern, Result, Role, RoleId, RoleName, RoleRef, Timestamp, fold,
};
use crate::proto::v1 as pb;
use crate::store::Builtins;

/// Violations reported at most; past that, the rest of the stream is not examined.
const MAX_VIOLATIONS: usize = 100;

/// Every object an Import stream carried, in stream order.
#[derive(Default)]
pub struct Received {
    pub roles: Vec<pb::BulkRole>,
    pub identities: Vec<pb::BulkIdentity>,
    pub nodes: Vec<pb::BulkNode>,
    pub assignments: Vec<pb::BulkAssignment>,
}

impl Received {
    pub fn add(&mut self, message: pb::ImportRequest) {
        self.roles.extend(message.roles);
        self.identities.extend(message.identities);
        self.nodes.extend(message.nodes);
        self.assignments.extend(message.assignments);
    }
}

/// Where each handle of the stream's objects leads.
#[derive(Default)]
struct Names {
    role_labels: HashMap<Uuid, RoleId>,
    role_names: HashMap<String, RoleId>,
    identity_labels: HashMap<Uuid, IdentityId>,
    emails: HashMap<String, IdentityId>,
    external_ids: HashMap<String, IdentityId>,
    node_labels: HashMap<Uuid, NodeId>,
    node_keys: HashMap<String, NodeId>,
}

/// The objects to insert into `env`, or INVALID_ARGUMENT naming every bad field
/// (up to [`MAX_VIOLATIONS`]).
pub fn build(
    received: &Received,
    env: EnvironmentId,
    builtins: &Builtins,
    now: Timestamp,
) -> Result<EnvironmentState> {
    let mut v = Violations::default();
    let mut names = Names::default();
    names
        .role_names
        .insert(fold(ADMINISTRATOR_ROLE), builtins.administrator);
    names
        .node_keys
        .insert(NodeKey::root().to_string(), builtins.root);
    let mut state = EnvironmentState::default();
    roles(
        &mut v,
        &mut names,
        &received.roles,
        builtins,
        env,
        now,
        &mut state,
    );
    identities(
        &mut v,
        &mut names,
        &received.identities,
        builtins,
        env,
        now,
        &mut state,
    );
    nodes(
        &mut v,
        &mut names,
        &received.nodes,
        builtins,
        env,
        now,
        &mut state,
    );
    assignments(
        &mut v,
        &names,
        &received.assignments,
        builtins,
        env,
        now,
        &mut state,
    );
    v.finish(Some(state))
}

/// Records a label (an id given in the stream), refusing a malformed or repeated one.
fn label<T: Copy>(
    v: &mut Violations,
    field: &str,
    text: &str,
    labels: &mut HashMap<Uuid, T>,
    value: T,
) {
    if text.is_empty() {
        return;
    }
    if let Some(id) = v.check(field, parse::uuid(text))
        && labels.insert(id, value).is_some()
    {
        v.add(field, "is given to another object of the stream too");
    }
}

fn roles(
    v: &mut Violations,
    names: &mut Names,
    given: &[pb::BulkRole],
    builtins: &Builtins,
    env: EnvironmentId,
    now: Timestamp,
    state: &mut EnvironmentState,
) {
    for (i, r) in given.iter().enumerate() {
        if v.len() >= MAX_VIOLATIONS {
            return;
        }
        let at = |field: &str| format!("roles[{i}].{field}");
        let administrator = fold(&r.name) == fold(ADMINISTRATOR_ROLE);
        if r.builtin || administrator {
            if !administrator || r.permissions != ["*"] {
                v.add(
                    &at("builtin"),
                    format!("the built-in role is `{ADMINISTRATOR_ROLE}` holding `*`; it cannot be changed"),
                );
            }
            label(
                v,
                &at("id"),
                &r.id,
                &mut names.role_labels,
                builtins.administrator,
            );
            continue;
        }
        let id = RoleId::generate();
        label(v, &at("id"), &r.id, &mut names.role_labels, id);
        let name = v.check(&at("name"), RoleName::parse(&r.name));
        let description = v.check(
            &at("description"),
            parse::text(&r.description, MAX_TEXT_LEN),
        );
        let permissions: Option<Vec<PermissionPattern>> =
            parse::permissions(v, &at("permissions"), &r.permissions);
        let (Some(name), Some(description), Some(permissions)) = (name, description, permissions)
        else {
            continue;
        };
        if names.role_names.insert(name.folded(), id).is_some() {
            v.add(
                &at("name"),
                format!("`{name}` is another role's name in the stream too"),
            );
            continue;
        }
        state.roles.push(Role {
            id,
            environment_id: env,
            name,
            description,
            permissions,
            created_at: now,
            updated_at: now,
        });
    }
}

fn identities(
    v: &mut Violations,
    names: &mut Names,
    given: &[pb::BulkIdentity],
    builtins: &Builtins,
    env: EnvironmentId,
    now: Timestamp,
    state: &mut EnvironmentState,
) {
    let mut builtin_seen = false;
    for (i, x) in given.iter().enumerate() {
        if v.len() >= MAX_VIOLATIONS {
            return;
        }
        let at = |field: &str| format!("identities[{i}].{field}");
        if x.builtin {
            match builtins.admin {
                Some(admin) if !builtin_seen => {
                    label(v, &at("id"), &x.id, &mut names.identity_labels, admin)
                }
                Some(_) => v.add(
                    &at("builtin"),
                    "only one identity can be the built-in admin account",
                ),
                None => v.add(
                    &at("builtin"),
                    "this environment has no admin account of its creation left",
                ),
            }
            builtin_seen = true;
            continue;
        }
        let id = IdentityId::generate();
        label(v, &at("id"), &x.id, &mut names.identity_labels, id);
        let kind = v.check(&at("kind"), parse::identity_kind(x.kind));
        let status = v.check(
            &at("status"),
            crate::api::enums::filter::<pb::IdentityStatus, IdentityStatus>(
                x.status,
                "IdentityStatus",
            )
            .map(|s| s.unwrap_or(IdentityStatus::Active)),
        );
        let email = kind.and_then(|kind| v.check(&at("email"), parse::email(kind, &x.email)));
        let external_id = v.check(&at("external_id"), parse::external_id(&x.external_id));
        let display_name = v.check(
            &at("display_name"),
            parse::text(&x.display_name, MAX_TEXT_LEN),
        );
        let (Some(kind), Some(status), Some(email), Some(external_id), Some(display_name)) =
            (kind, status, email, external_id, display_name)
        else {
            continue;
        };
        if let Some(e) = &email
            && names.emails.insert(e.folded(), id).is_some()
        {
            v.add(
                &at("email"),
                format!("`{e}` is another identity's email in the stream too"),
            );
        }
        if let Some(e) = &external_id
            && names.external_ids.insert(e.to_string(), id).is_some()
        {
            v.add(
                &at("external_id"),
                format!("`{e}` is another identity's external id in the stream too"),
            );
        }
        state.identities.push(Identity {
            id,
            environment_id: env,
            kind,
            status,
            email,
            external_id,
            display_name,
            created_at: now,
            updated_at: now,
        });
    }
}

fn nodes(
    v: &mut Violations,
    names: &mut Names,
    given: &[pb::BulkNode],
    builtins: &Builtins,
    env: EnvironmentId,
    now: Timestamp,
    state: &mut EnvironmentState,
) {
    let mut parsed = Vec::with_capacity(given.len());
    for (i, n) in given.iter().enumerate() {
        if v.len() >= MAX_VIOLATIONS {
            return;
        }
        let at = |field: &str| format!("nodes[{i}].{field}");
        let id = NodeId::generate();
        label(v, &at("id"), &n.id, &mut names.node_labels, id);
        let key = v.check(&at("key"), NodeKey::parse(&n.key));
        let name = v.check(&at("name"), parse::text(&n.name, MAX_TEXT_LEN));
        let kind = v.check(&at("kind"), parse::text(&n.kind, MAX_TEXT_LEN));
        let parent = v.check(&at("parent"), parse::optional_node_ref(n.parent.as_ref()));
        let (Some(key), Some(name), Some(kind), Some(parent)) = (key, name, kind, parent) else {
            continue;
        };
        if names.node_keys.insert(key.to_string(), id).is_some() {
            let why = if key == NodeKey::root() {
                "`root` is the environment's root, which exists already: leave it out".to_owned()
            } else {
                format!("`{key}` is another node's key in the stream too")
            };
            v.add(&at("key"), why);
            continue;
        }
        parsed.push((
            i,
            parent,
            Node {
                id,
                environment_id: env,
                key,
                name,
                kind,
                parent_id: None,
                created_at: now,
                updated_at: now,
            },
        ));
    }
    // Resolve parents, then order parents first.
    let mut children: HashMap<NodeId, Vec<Node>> = HashMap::new();
    for (i, parent, mut node) in parsed {
        let parent_id = match &parent {
            None => Some(builtins.root),
            Some(NodeRef::Id(id)) if *id == builtins.root => Some(builtins.root),
            Some(NodeRef::Id(id)) => names.node_labels.get(&id.0).copied(),
            Some(NodeRef::Key(key)) => names.node_keys.get(key.as_str()).copied(),
        };
        match parent_id {
            Some(p) => {
                node.parent_id = Some(p);
                children.entry(p).or_default().push(node);
            }
            None => v.add(&format!("nodes[{i}].parent"), "names no node of the stream"),
        }
    }
    let mut queue = vec![builtins.root];
    while let Some(parent) = queue.pop() {
        for node in children.remove(&parent).unwrap_or_default() {
            queue.push(node.id);
            state.nodes.push(node);
        }
    }
    let mut cycle: Vec<&NodeKey> = children.values().flatten().map(|n| &n.key).collect();
    if !cycle.is_empty() {
        cycle.sort();
        let keys: Vec<String> = cycle.iter().take(10).map(|k| format!("`{k}`")).collect();
        v.add(
            "nodes",
            format!(
                "parents form a cycle, never reaching the root: {}",
                keys.join(", ")
            ),
        );
    }
}

fn assignments(
    v: &mut Violations,
    names: &Names,
    given: &[pb::BulkAssignment],
    builtins: &Builtins,
    env: EnvironmentId,
    now: Timestamp,
    state: &mut EnvironmentState,
) {
    let mut seen: HashSet<(IdentityId, RoleId, NodeId)> = HashSet::with_capacity(given.len());
    let mut memo = Memo::default();
    state.assignments.reserve(given.len());
    for (i, a) in given.iter().enumerate() {
        if v.len() >= MAX_VIOLATIONS {
            return;
        }
        // Field names are formatted only for a violation: most streams have none.
        let at = |field: &'static str| move || format!("assignments[{i}].{field}");
        let identity = memo::resolved(
            &mut memo.identities,
            memo::identity_key(a.identity.as_ref()),
            || {
                v.check_with(at("identity"), parse::identity_ref(a.identity.as_ref()))
                    .and_then(|r| found(v, at("identity"), identity(names, builtins, &r)))
            },
        );
        let role = memo::resolved(&mut memo.roles, memo::role_key(a.role.as_ref()), || {
            v.check_with(at("role"), parse::role_ref(a.role.as_ref()))
                .and_then(|r| found(v, at("role"), role(names, builtins, &r)))
        });
        let node = memo::resolved(&mut memo.nodes, memo::node_key(a.node.as_ref()), || {
            v.check_with(at("node"), parse::node_ref(a.node.as_ref()))
                .and_then(|r| found(v, at("node"), node(names, builtins, &r)))
        });
        let start = v.len();
        let window = parse::window(v, a.effective_from.as_ref(), a.effective_to.as_ref());
        if v.len() > start {
            v.prefix_from(start, &format!("assignments[{i}]"));
        }
        let (Some(identity), Some(role), Some(node), Some((from, to))) =
            (identity, role, node, window)
        else {
            continue;
        };
        let triple = (identity, role, node);
        let builtin_grant = builtins.admin_grant
            && Some(identity) == builtins.admin
            && role == builtins.administrator
            && node == builtins.root;
        if builtin_grant {
            continue;
        }
        if !seen.insert(triple) {
            v.add(
                &format!("assignments[{i}]"),
                "repeats another assignment of the stream (same identity, role and node)",
            );
            continue;
        }
        state.assignments.push(Assignment {
            id: AssignmentId::generate(),
            environment_id: env,
            identity_id: identity,
            role_id: role,
            node_id: node,
            effective_from: from,
            effective_to: to,
            created_at: now,
        });
    }
}

/// The ids references resolved to, by the reference as the stream gave it: a
/// stream names each identity, role and node in many assignments, and parsing,
/// folding and looking each one up again costs more than the rest of the build.
#[derive(Default)]
struct Memo<'a> {
    identities: HashMap<memo::Key<'a>, IdentityId>,
    roles: HashMap<memo::Key<'a>, RoleId>,
    nodes: HashMap<memo::Key<'a>, NodeId>,
}

mod memo {
    use std::collections::HashMap;

    use crate::proto::v1 as pb;

    /// Which field of a reference was given, and its text.
    pub(super) type Key<'a> = (u8, &'a str);

    /// The id `key` resolved to before, or `resolve`'s answer, kept when found.
    pub(super) fn resolved<'a, T: Copy>(
        memo: &mut HashMap<Key<'a>, T>,
        key: Option<Key<'a>>,
        resolve: impl FnOnce() -> Option<T>,
    ) -> Option<T> {
        if let Some(id) = key.and_then(|k| memo.get(&k)) {
            return Some(*id);
        }
        let id = resolve()?;
        if let Some(k) = key {
            memo.insert(k, id);
        }
        Some(id)
    }

    pub(super) fn identity_key(r: Option<&pb::IdentityRef>) -> Option<Key<'_>> {
        use pb::identity_ref::Ref;
        Some(match r?.r#ref.as_ref()? {
            Ref::Id(x) => (0, x.as_str()),
            Ref::ExternalId(x) => (1, x.as_str()),
            Ref::Email(x) => (2, x.as_str()),
        })
    }

    pub(super) fn role_key(r: Option<&pb::RoleRef>) -> Option<Key<'_>> {
        use pb::role_ref::Ref;
        Some(match r?.r#ref.as_ref()? {
            Ref::Id(x) => (0, x.as_str()),
            Ref::Name(x) => (1, x.as_str()),
        })
    }

    pub(super) fn node_key(r: Option<&pb::NodeRef>) -> Option<Key<'_>> {
        use pb::node_ref::Ref;
        Some(match r?.r#ref.as_ref()? {
            Ref::Id(x) => (0, x.as_str()),
            Ref::Key(x) => (1, x.as_str()),
        })
    }
}

fn found<T>(v: &mut Violations, field: impl FnOnce() -> String, id: Option<T>) -> Option<T> {
    if id.is_none() {
        v.add(&field(), "names no object of the stream");
    }
    id
}

fn identity(names: &Names, builtins: &Builtins, r: &IdentityRef) -> Option<IdentityId> {
    match r {
        IdentityRef::Id(id) if Some(*id) == builtins.admin => Some(*id),
        IdentityRef::Id(id) => names.identity_labels.get(&id.0).copied(),
        IdentityRef::Email(e) => names.emails.get(&e.folded()).copied(),
        IdentityRef::ExternalId(e) => names.external_ids.get(e.as_str()).copied(),
    }
}

fn role(names: &Names, builtins: &Builtins, r: &RoleRef) -> Option<RoleId> {
    match r {
        RoleRef::Id(id) if *id == builtins.administrator => Some(*id),
        RoleRef::Id(id) => names.role_labels.get(&id.0).copied(),
        RoleRef::Name(n) => names.role_names.get(&n.folded()).copied(),
    }
}

fn node(names: &Names, builtins: &Builtins, r: &NodeRef) -> Option<NodeId> {
    match r {
        NodeRef::Id(id) if *id == builtins.root => Some(*id),
        NodeRef::Id(id) => names.node_labels.get(&id.0).copied(),
        NodeRef::Key(k) => names.node_keys.get(k.as_str()).copied(),
    }
}
