//! What an identity holds, assignment by assignment: the input of the granting
//! rule when a key is made for it (whoever holds its key holds all of this).

use super::EnvIndex;
use crate::domain::{IdentityId, IdentityRef, NodeId, PermissionPattern};

/// One assignment of an identity: the node it sits on and its role's patterns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holding {
    pub node: NodeId,
    pub patterns: Vec<PermissionPattern>,
}

impl EnvIndex {
    /// Every assignment of `identity`, whatever its window or the identity's
    /// status (a pending one, or a disabled identity, may hold it later);
    /// with the identity's id; `None` for an unknown identity.
    pub fn holdings(&self, identity: &IdentityRef) -> Option<(IdentityId, Vec<Holding>)> {
        let slot = self.identities.resolve(identity)?;
        let row = self.identities.row(slot)?;
        let holdings = row
            .grants
            .iter()
            .filter_map(|grant| {
                let node = self.nodes.row(grant.node)?.id;
                let role = self.roles.row(grant.role)?;
                Some(Holding {
                    node,
                    patterns: role.patterns.clone(),
                })
            })
            .collect();
        Some((row.id, holdings))
    }
}
