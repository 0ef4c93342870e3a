//! What the harness does for a competitor on every call, as rbacd does inside its
//! check: turn the request's references into dense indexes (hash lookups; emails
//! case-folded), and walk a node's ancestors through a parent array.

use hashbrown::HashMap;
use rbacd::domain::{EnvironmentState, IdentityId, IdentityRef, NodeId, NodeRef, fold};

/// Each item's position in `items`, by `key`.
pub fn positions<T, K: Eq + std::hash::Hash>(
    items: &[T],
    key: impl Fn(&T) -> K,
) -> HashMap<K, usize> {
    items.iter().enumerate().map(|(i, x)| (key(x), i)).collect()
}

/// The parent of the root.
pub const NO_PARENT: u32 = u32::MAX;

/// Reference tables over one environment, built once.
pub struct Resolver {
    identity_by_id: HashMap<IdentityId, u32>,
    identity_by_email: HashMap<String, u32>,
    identity_by_external_id: HashMap<String, u32>,
    node_by_id: HashMap<NodeId, u32>,
    node_by_key: HashMap<String, u32>,
    /// Parent index of each node, [`NO_PARENT`] for the root.
    pub parent: Vec<u32>,
}

impl Resolver {
    pub fn new(state: &EnvironmentState) -> Self {
        let mut identity_by_id = HashMap::new();
        let mut identity_by_email = HashMap::new();
        let mut identity_by_external_id = HashMap::new();
        for (i, identity) in state.identities.iter().enumerate() {
            let i = i as u32;
            identity_by_id.insert(identity.id, i);
            if let Some(email) = &identity.email {
                identity_by_email.insert(email.folded(), i);
            }
            if let Some(external_id) = &identity.external_id {
                identity_by_external_id.insert(external_id.as_str().to_owned(), i);
            }
        }
        let node_by_id: HashMap<NodeId, u32> = state
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id, i as u32))
            .collect();
        let node_by_key = state
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.key.as_str().to_owned(), i as u32))
            .collect();
        let parent = state
            .nodes
            .iter()
            .map(|n| n.parent_id.map_or(NO_PARENT, |p| node_by_id[&p]))
            .collect();
        Self {
            identity_by_id,
            identity_by_email,
            identity_by_external_id,
            node_by_id,
            node_by_key,
            parent,
        }
    }

    /// The identity a reference names, if any.
    pub fn identity(&self, r: &IdentityRef) -> Option<usize> {
        let found = match r {
            IdentityRef::Id(id) => self.identity_by_id.get(id),
            IdentityRef::ExternalId(e) => self.identity_by_external_id.get(e.as_str()),
            IdentityRef::Email(e) => self.identity_by_email.get(&fold(e.as_str())),
        };
        found.map(|&i| i as usize)
    }

    /// The node a reference names, if any.
    pub fn node(&self, r: &NodeRef) -> Option<usize> {
        let found = match r {
            NodeRef::Id(id) => self.node_by_id.get(id),
            NodeRef::Key(k) => self.node_by_key.get(k.as_str()),
        };
        found.map(|&i| i as usize)
    }

    /// The node and its ancestors up to the root, nearest first.
    pub fn chain(&self, node: usize) -> impl Iterator<Item = usize> + '_ {
        std::iter::successors(Some(node as u32), |&n| {
            let p = self.parent[n as usize];
            (p != NO_PARENT).then_some(p)
        })
        .map(|n| n as usize)
    }
}
