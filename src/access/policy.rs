//! The service's own authorization: may this caller do this at this node?
//! Every answer comes from the engine, so it follows the same decision rule
//! as any client's check.

use std::sync::Arc;

use crate::domain::{
    Actor, Caller, Error, IdentityRef, NodeId, NodeRef, Permission, Result, Timestamp,
};
use crate::engine::{Engine, Reason};

/// Answers whether a caller may act, from the engine's index.
#[derive(Clone)]
pub struct Policy {
    engine: Arc<Engine>,
}

impl Policy {
    pub fn new(engine: Arc<Engine>) -> Self {
        Self { engine }
    }

    /// Refuses the call unless its caller holds `permission` at `node`:
    /// NOT_FOUND for a node that does not exist, else PERMISSION_DENIED.
    pub fn authorize(
        &self,
        caller: &Caller,
        permission: &Permission,
        node: &NodeRef,
    ) -> Result<()> {
        self.decide(caller, permission, node, node)
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
        self.decide(caller, permission, &NodeRef::Id(id), node)?;
        Ok(id)
    }

    /// Decides at `at`; messages name the node as the caller did, `named`.
    fn decide(
        &self,
        caller: &Caller,
        permission: &Permission,
        at: &NodeRef,
        named: &NodeRef,
    ) -> Result<()> {
        let actor = match caller.actor {
            Actor::Identity(id) => id,
            Actor::System => return Ok(()),
        };
        let decision = self.engine.check(
            caller.environment,
            &IdentityRef::Id(actor),
            permission,
            at,
            Timestamp::now(),
        );
        match decision.reason {
            Reason::Granted => Ok(()),
            Reason::UnknownNode => Err(unknown(named)),
            _ => Err(Error::PermissionDenied(format!(
                "identity {actor} lacks `{permission}` at the {named}"
            ))),
        }
    }
}

fn unknown(node: &NodeRef) -> Error {
    Error::NotFound(format!("no {node} in this environment"))
}
