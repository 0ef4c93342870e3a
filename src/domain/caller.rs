//! Who a call acts as: the environment it is confined to and its actor.

use super::{CredentialId, EnvironmentId, IdentityId};

/// Who acts on behalf of a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    /// An identity authenticated by its API key; every action is authorized.
    Identity(IdentityId),
    /// rbacd itself, provisioning an environment; not subject to authorization.
    System,
}

impl Actor {
    /// The acting identity, `None` for the system.
    pub fn identity(self) -> Option<IdentityId> {
        match self {
            Self::Identity(id) => Some(id),
            Self::System => None,
        }
    }
}

/// The environment a call is confined to, and who makes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caller {
    pub environment: EnvironmentId,
    pub actor: Actor,
    /// The credential whose user action came with the call, if one did;
    /// recorded with each change the call makes.
    pub signed_by: Option<CredentialId>,
}

impl Caller {
    /// An identity acting in its environment.
    pub fn identity(environment: EnvironmentId, identity: IdentityId) -> Self {
        Self {
            environment,
            actor: Actor::Identity(identity),
            signed_by: None,
        }
    }

    /// rbacd itself acting in `environment`.
    pub fn system(environment: EnvironmentId) -> Self {
        Self {
            environment,
            actor: Actor::System,
            signed_by: None,
        }
    }
}
