//! rbacd's data as Cedar entities and policies.
//!
//! Entities (built once; Cedar computes the transitive closure of parents then):
//! `Node::"<id>"` whose parent is its parent node, so `resource in Node::"n"`
//! holds on n's whole subtree; `User::"<id>"` with a `status` attribute; an
//! action group `Role::Action::"<role>"` per role, and `Action::"<permission>"`
//! per exact permission a role holds, a member of the groups of the roles that
//! hold it. A request names `Action::"<permission>"` whether or not that entity
//! exists, so a wildcard is matched with `like` on `context.permission`.
//!
//! Either one policy per assignment, e.g.
//! `permit(principal == User::"u", action in Role::Action::"Role7", resource in Node::"n")
//!  when { principal.status == "ACTIVE" && context.now >= F && context.now < T };`
//! (a role holding `Svc:*` gets `action` unconstrained in the scope and
//! `&& (action in Role::Action::"Role9" || context.permission like "Svc:*")`),
//! or one per identity: `permit(principal == User::"u", action, resource) when
//! { principal.status == "ACTIVE" && ((resource in Node::"n" && action in
//! Role::Action::"Role7" && context.now >= F) || (…)) };`.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use crate::resolve::positions;
use cedar_policy::{
    Authorizer, Context, Decision, Entities, Entity, EntityId, EntityTypeName, EntityUid, Policy,
    PolicyId, PolicySet, Request, RestrictedExpression,
};
use rbacd::domain::{Assignment, EnvironmentState, IdentityStatus, Permission, Role, Timestamp};

/// The Cedar side: entities, every policy, and each identity's own slice of them.
pub struct Cedar {
    entities: Entities,
    users: Vec<EntityUid>,
    nodes: Vec<EntityUid>,
    action_type: EntityTypeName,
    /// Policy slice of each identity: only the policies of its own assignments.
    slices: Vec<PolicySet>,
    /// Every policy in one set: what a textbook deployment hands the authorizer.
    all: PolicySet,
    /// Each identity's one merged policy (none for an identity without assignments).
    merged: Vec<PolicySet>,
    authorizer: Authorizer,
}

fn type_name(name: &str) -> EntityTypeName {
    EntityTypeName::from_str(name).unwrap_or_else(|e| panic!("type name {name}: {e}"))
}

fn uid(type_name: &EntityTypeName, id: &str) -> EntityUid {
    EntityUid::from_type_name_and_id(type_name.clone(), EntityId::new(id))
}

/// A Cedar string literal.
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Where and what an assignment grants, and when: `(resource in Node::"n" && action … && window)`.
fn grant_condition(node: &str, role: &Role, a: &Assignment) -> String {
    let group = format!("Role::Action::{}", quoted(role.name.as_str()));
    let mut any = vec![format!("action in {group}")];
    // `like` treats `*` as any text; valid permissions never end in `:`,
    // so `Svc:*` here means one or more further segments, as in rbacd.
    any.extend(
        role.permissions
            .iter()
            .filter_map(|p| p.wildcard_prefix())
            .map(|prefix| format!("context.permission like {}", quoted(&format!("{prefix}*")))),
    );
    let mut all = vec![format!("resource in Node::{}", quoted(node))];
    all.push(if any.len() == 1 {
        any.remove(0)
    } else {
        format!("({})", any.join(" || "))
    });
    if let Some(from) = a.effective_from {
        all.push(format!("context.now >= {}", from.0));
    }
    if let Some(to) = a.effective_to {
        all.push(format!("context.now < {}", to.0));
    }
    format!("({})", all.join(" && "))
}

/// One policy per assignment; its role's group (when it holds no wildcard) and
/// its node go in the scope, where Cedar checks them first.
fn policy_text(user: &str, node: &str, role: &Role, a: &Assignment) -> String {
    let group = format!("Role::Action::{}", quoted(role.name.as_str()));
    let wildcards: Vec<&str> = role
        .permissions
        .iter()
        .filter_map(|p| p.wildcard_prefix())
        .collect();
    let mut when = vec![r#"principal.status == "ACTIVE""#.to_owned()];
    if let Some(from) = a.effective_from {
        when.push(format!("context.now >= {}", from.0));
    }
    if let Some(to) = a.effective_to {
        when.push(format!("context.now < {}", to.0));
    }
    let action =
        if wildcards.is_empty() {
            format!("action in {group}")
        } else {
            let mut any = vec![format!("action in {group}")];
            any.extend(wildcards.iter().map(|prefix| {
                format!("context.permission like {}", quoted(&format!("{prefix}*")))
            }));
            when.push(format!("({})", any.join(" || ")));
            "action".to_owned()
        };
    format!(
        "permit(principal == User::{}, {action}, resource in Node::{}) when {{ {} }};",
        quoted(user),
        quoted(node),
        when.join(" && ")
    )
}

/// One policy per identity: the status once, then any of its assignments' conditions.
fn merged_text(user: &str, grants: &[String]) -> String {
    format!(
        "permit(principal == User::{}, action, resource) when {{ principal.status == \"ACTIVE\" && ({}) }};",
        quoted(user),
        grants.join(" || ")
    )
}

impl Cedar {
    pub fn new(state: &EnvironmentState) -> Self {
        let (user_type, node_type) = (type_name("User"), type_name("Node"));
        let (action_type, group_type) = (type_name("Action"), type_name("Role::Action"));
        let users: Vec<EntityUid> = state
            .identities
            .iter()
            .map(|i| uid(&user_type, &i.id.0.to_string()))
            .collect();
        let node_index = positions(&state.nodes, |n| n.id);
        let nodes: Vec<EntityUid> = state
            .nodes
            .iter()
            .map(|n| uid(&node_type, &n.id.0.to_string()))
            .collect();
        let mut entities = Vec::new();
        for (identity, user) in state.identities.iter().zip(&users) {
            let status = match identity.status {
                IdentityStatus::Active => "ACTIVE",
                IdentityStatus::Invited => "INVITED",
                IdentityStatus::Disabled => "DISABLED",
            };
            let attrs = HashMap::from([(
                "status".to_owned(),
                RestrictedExpression::new_string(status.to_owned()),
            )]);
            entities.push(Entity::new(user.clone(), attrs, HashSet::new()).expect("user entity"));
        }
        for (node, entity) in state.nodes.iter().zip(&nodes) {
            let parents = node
                .parent_id
                .map(|p| nodes[node_index[&p]].clone())
                .into_iter()
                .collect();
            entities.push(Entity::new_no_attrs(entity.clone(), parents));
        }
        let mut groups_of: HashMap<&str, HashSet<EntityUid>> = HashMap::new();
        for role in &state.roles {
            let group = uid(&group_type, role.name.as_str());
            entities.push(Entity::new_no_attrs(group.clone(), HashSet::new()));
            for pattern in role
                .permissions
                .iter()
                .filter(|p| p.wildcard_prefix().is_none())
            {
                groups_of
                    .entry(pattern.as_str())
                    .or_default()
                    .insert(group.clone());
            }
        }
        for (permission, groups) in groups_of {
            entities.push(Entity::new_no_attrs(uid(&action_type, permission), groups));
        }
        let entities = Entities::from_entities(entities, None).expect("entities");

        let identity_index = positions(&state.identities, |x| x.id);
        let roles: HashMap<_, _> = state.roles.iter().map(|r| (r.id, r)).collect();
        let mut per_identity: Vec<Vec<Policy>> = vec![Vec::new(); users.len()];
        let mut grants: Vec<Vec<String>> = vec![Vec::new(); users.len()];
        for (n, a) in state.assignments.iter().enumerate() {
            let i = identity_index[&a.identity_id];
            let text = policy_text(
                &a.identity_id.0.to_string(),
                &a.node_id.0.to_string(),
                roles[&a.role_id],
                a,
            );
            let policy = Policy::parse(Some(PolicyId::new(format!("a{n}"))), &text)
                .unwrap_or_else(|e| panic!("policy {text}: {e}"));
            per_identity[i].push(policy);
            grants[i].push(grant_condition(
                &a.node_id.0.to_string(),
                roles[&a.role_id],
                a,
            ));
        }
        let merged = grants
            .iter()
            .zip(&state.identities)
            .map(|(grants, identity)| {
                let policies = (!grants.is_empty()).then(|| {
                    let text = merged_text(&identity.id.0.to_string(), grants);
                    Policy::parse(Some(PolicyId::new("merged")), &text)
                        .unwrap_or_else(|e| panic!("policy {text}: {e}"))
                });
                PolicySet::from_policies(policies).expect("merged")
            })
            .collect();
        let all = PolicySet::from_policies(per_identity.iter().flatten().cloned()).expect("all");
        let slices = per_identity
            .into_iter()
            .map(|p| PolicySet::from_policies(p).expect("slice"))
            .collect();
        Self {
            entities,
            users,
            nodes,
            action_type,
            slices,
            all,
            merged,
            authorizer: Authorizer::new(),
        }
    }

    /// Builds the request and asks the authorizer with `policies`.
    fn ask(
        &self,
        policies: &PolicySet,
        identity: usize,
        node: usize,
        permission: &Permission,
        at: Timestamp,
    ) -> bool {
        let action = uid(&self.action_type, permission.as_str());
        let context = Context::from_pairs([
            ("now".to_owned(), RestrictedExpression::new_long(at.0)),
            (
                "permission".to_owned(),
                RestrictedExpression::new_string(permission.as_str().to_owned()),
            ),
        ])
        .expect("context");
        let request = Request::new(
            self.users[identity].clone(),
            action,
            self.nodes[node].clone(),
            context,
            None,
        )
        .expect("request");
        let response = self
            .authorizer
            .is_authorized(&request, policies, &self.entities);
        response.decision() == Decision::Allow
    }

    /// Only the asking identity's policies are handed to the authorizer.
    pub fn check_sliced(
        &self,
        identity: usize,
        node: usize,
        permission: &Permission,
        at: Timestamp,
    ) -> bool {
        self.ask(&self.slices[identity], identity, node, permission, at)
    }

    /// The asking identity's one merged policy is handed to the authorizer.
    pub fn check_merged(
        &self,
        identity: usize,
        node: usize,
        permission: &Permission,
        at: Timestamp,
    ) -> bool {
        self.ask(&self.merged[identity], identity, node, permission, at)
    }

    /// Every policy is handed to the authorizer.
    pub fn check_all(
        &self,
        identity: usize,
        node: usize,
        permission: &Permission,
        at: Timestamp,
    ) -> bool {
        self.ask(&self.all, identity, node, permission, at)
    }

    /// Policies in all.
    pub fn policy_count(&self) -> usize {
        self.all.policies().count()
    }
}
