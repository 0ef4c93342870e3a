//! The service's own authorization: may this caller do this at this node?
//! Every answer comes from the engine, so it follows the same decision rule
//! as any client's check.
//!
//! Read scope: a node the caller cannot see answers as a missing one. The
//! caller sees a node when it is the root (whose existence is no secret), or
//! when it holds there `Rbacd:Nodes:Read` or the read permission of the family
//! it asks for (`Rbacd:Assignments:Read` for `Rbacd:Assignments:Write`).

use std::sync::Arc;

use crate::domain::{
    Actor, Caller, Error, IdentityId, IdentityRef, NodeId, NodeRef, Permission, Result, Timestamp,
    builtin,
};
use crate::engine::{Engine, Reason};

/// Answers whether a caller may act, from the engine's index.
#[derive(Clone)]
pub struct Policy {
    pub(super) engine: Arc<Engine>,
}

impl Policy {
    pub fn new(engine: Arc<Engine>) -> Self {
        Self { engine }
    }

    /// Refuses the call unless its caller holds `permission` at `node`:
    /// NOT_FOUND for a node that does not exist or that the caller cannot see,
    /// else PERMISSION_DENIED.
    pub fn authorize(
        &self,
        caller: &Caller,
        permission: &Permission,
        node: &NodeRef,
    ) -> Result<()> {
        self.authorize_at(caller, permission, node).map(drop)
    }

    /// [`Policy::authorize`] at the environment's root.
    pub fn authorize_at_root(&self, caller: &Caller, permission: &Permission) -> Result<()> {
        self.authorize(caller, permission, &NodeRef::root())
    }

    /// [`Policy::authorize`], returning the id of the node, so that a write
    /// need not look it up again.
    pub fn authorize_at(
        &self,
        caller: &Caller,
        permission: &Permission,
        node: &NodeRef,
    ) -> Result<NodeId> {
        let id = self
            .engine
            .node_id(caller.environment, node)
            .ok_or_else(|| unknown(node))?;
        let Some(actor) = acting(caller) else {
            return Ok(id);
        };
        if self.holds(caller.environment, actor, permission, id) {
            return Ok(id);
        }
        if self.sees(caller.environment, actor, permission, id) {
            Err(denied(actor, permission, node))
        } else {
            Err(unknown(node))
        }
    }

    /// Refuses acting on an object found by id that sits at node `at`: when the
    /// caller holds neither `permission` nor `read` there, the object stays
    /// hidden and the call answers `hidden()` (the object's own NOT_FOUND);
    /// when it holds only `read`, PERMISSION_DENIED.
    pub fn authorize_on(
        &self,
        caller: &Caller,
        permission: &Permission,
        read: &Permission,
        at: NodeId,
        hidden: impl FnOnce() -> Error,
    ) -> Result<()> {
        let Some(actor) = acting(caller) else {
            return Ok(());
        };
        let env = caller.environment;
        if self.holds(env, actor, permission, at) {
            Ok(())
        } else if permission != read && self.holds(env, actor, read, at) {
            Err(denied(actor, permission, &NodeRef::Id(at)))
        } else {
            Err(hidden())
        }
    }

    /// Whether the caller holds `permission` at node `at` now.
    pub fn may(&self, caller: &Caller, permission: &Permission, at: NodeId) -> bool {
        acting(caller).is_none_or(|actor| self.holds(caller.environment, actor, permission, at))
    }

    fn holds(
        &self,
        env: crate::domain::EnvironmentId,
        actor: IdentityId,
        permission: &Permission,
        at: NodeId,
    ) -> bool {
        let decision = self.engine.check(
            env,
            &IdentityRef::Id(actor),
            permission,
            &NodeRef::Id(at),
            Timestamp::now(),
        );
        decision.reason == Reason::Granted
    }

    fn sees(
        &self,
        env: crate::domain::EnvironmentId,
        actor: IdentityId,
        permission: &Permission,
        at: NodeId,
    ) -> bool {
        self.engine.node_id(env, &NodeRef::root()) == Some(at)
            || self.holds(env, actor, &builtin::nodes_read(), at)
            || read_of(permission).is_some_and(|read| self.holds(env, actor, &read, at))
    }
}

/// The acting identity; `None` for rbacd itself, which is never refused.
pub(super) fn acting(caller: &Caller) -> Option<IdentityId> {
    match caller.actor {
        Actor::Identity(id) => Some(id),
        Actor::System => None,
    }
}

/// `Family:Read` for `Family:Write`.
fn read_of(permission: &Permission) -> Option<Permission> {
    let family = permission.as_str().strip_suffix(":Write")?;
    Permission::parse(&format!("{family}:Read")).ok()
}

fn denied(actor: IdentityId, permission: &Permission, node: &NodeRef) -> Error {
    Error::PermissionDenied(format!(
        "identity {actor} lacks `{permission}` at the {node}"
    ))
}

/// The same words the store uses for a node that does not exist.
pub(super) fn unknown(node: &NodeRef) -> Error {
    Error::NotFound(format!("no {node} in this environment"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_read_of_a_write_permission_is_its_family_read() {
        let read = read_of(&builtin::assignments_write()).unwrap();
        assert_eq!(read, builtin::assignments_read());
        assert_eq!(read_of(&builtin::nodes_read()), None);
        assert_eq!(read_of(&builtin::check()), None);
    }
}
