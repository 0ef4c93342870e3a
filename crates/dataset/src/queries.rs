//! Check queries against a generated environment: half follow an assignment
//! down the tree with a permission of its role (mostly allowed), half are random
//! (mostly denied, some naming permissions no role holds). References mix ids,
//! keys, external ids and emails in other letter cases.

use hashbrown::HashMap;

use super::{CheckQuery, NOW, Rng};
use rbacd::domain::{
    Email, EnvironmentState, IdentityRef, NodeKey, NodeRef, Permission, PermissionPattern,
};

pub(super) fn generate_queries(
    rng: &mut Rng,
    state: &EnvironmentState,
    children: &[Vec<usize>],
    count: usize,
) -> Vec<CheckQuery> {
    let node_index: HashMap<_, _> = state
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id, i))
        .collect();
    let role_index: HashMap<_, _> = state
        .roles
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id, i))
        .collect();
    let identity_index: HashMap<_, _> = state
        .identities
        .iter()
        .enumerate()
        .map(|(i, x)| (x.id, i))
        .collect();
    let services = (state.roles.len() / 2).max(1);
    (0..count)
        .filter_map(|_| {
            let (identity, node, permission) = if rng.chance(50) && !state.assignments.is_empty() {
                let a = &state.assignments[rng.below(state.assignments.len())];
                let mut node = node_index.get(&a.node_id).copied().unwrap_or(0);
                for _ in 0..rng.below(4) {
                    if children[node].is_empty() {
                        break;
                    }
                    node = children[node][rng.below(children[node].len())];
                }
                let role = &state.roles[role_index.get(&a.role_id).copied().unwrap_or(0)];
                let pattern = &role.permissions[rng.below(role.permissions.len())];
                let identity = identity_index.get(&a.identity_id).copied().unwrap_or(0);
                (identity, node, concrete(rng, pattern))
            } else {
                let permission = if rng.chance(5) {
                    format!("Unknown:Action{}", rng.below(1000))
                } else {
                    super::permission_text(rng.below(services), rng.below(10))
                };
                (
                    rng.below(state.identities.len()),
                    rng.below(state.nodes.len()),
                    permission,
                )
            };
            Some(CheckQuery {
                identity: identity_ref(rng, &state.identities[identity]),
                permission: Permission::parse(&permission).ok()?,
                node: node_ref(rng, &state.nodes[node]),
                at: NOW,
            })
        })
        .collect()
}

/// A permission the pattern grants.
fn concrete(rng: &mut Rng, pattern: &PermissionPattern) -> String {
    match pattern.wildcard_prefix() {
        Some(prefix) => format!("{prefix}Action{}", rng.below(10)),
        None => pattern.as_str().to_owned(),
    }
}

fn identity_ref(rng: &mut Rng, identity: &rbacd::domain::Identity) -> IdentityRef {
    match (rng.below(10), &identity.email, &identity.external_id) {
        (0..=2, Some(email), _) => {
            let text = if rng.chance(50) {
                email.as_str().to_lowercase()
            } else {
                email.as_str().to_uppercase()
            };
            Email::parse(&text).map_or(IdentityRef::Id(identity.id), IdentityRef::Email)
        }
        (3..=5, _, Some(external_id)) => IdentityRef::ExternalId(external_id.clone()),
        _ => IdentityRef::Id(identity.id),
    }
}

fn node_ref(rng: &mut Rng, node: &rbacd::domain::Node) -> NodeRef {
    if rng.chance(50) {
        NodeRef::Id(node.id)
    } else {
        NodeKey::parse(node.key.as_str()).map_or(NodeRef::Id(node.id), NodeRef::Key)
    }
}
