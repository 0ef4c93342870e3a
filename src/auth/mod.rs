//! Authentication by API key, and the service's own authorization through the engine.

mod keyring;

use std::sync::Arc;

use tonic::{Request, Status, metadata::MetadataMap};

pub use keyring::{KeyHolder, KeyRing};

use crate::{
    domain::{Actor, Caller},
    domain::{Error, IdentityRef, NodeRef, Permission, Result, Timestamp},
    engine::{Engine, Reason},
};

/// Metadata key that carries the API key.
pub const API_KEY_HEADER: &str = "x-api-key";

/// Turns a call's API key into the environment and identity it acts as.
#[derive(Clone)]
pub struct Authenticator {
    keys: Arc<KeyRing>,
    engine: Arc<Engine>,
}

impl Authenticator {
    pub fn new(keys: Arc<KeyRing>, engine: Arc<Engine>) -> Self {
        Self { keys, engine }
    }

    /// The caller of a call, or UNAUTHENTICATED saying why not.
    pub fn authenticate(&self, metadata: &MetadataMap) -> Result<Caller> {
        let secret = metadata
            .get(API_KEY_HEADER)
            .ok_or_else(|| {
                Error::Unauthenticated(format!(
                    "no API key: send one in the `{API_KEY_HEADER}` metadata (the first is printed when rbacd starts on an empty database, or by `rbacd environment create`)"
                ))
            })?
            .to_str()
            .map_err(|_| Error::Unauthenticated(format!("the `{API_KEY_HEADER}` metadata is not text")))?;
        let holder = self
            .keys
            .find(secret.trim())
            .ok_or_else(|| Error::Unauthenticated("the API key is not valid".into()))?;
        if holder.revoked {
            return Err(Error::Unauthenticated(format!(
                "API key {} was revoked",
                holder.key_id
            )));
        }
        // Any permission will do: only whether the identity may act at all matters here.
        let decision = self.engine.check(
            holder.environment_id,
            &IdentityRef::Id(holder.identity_id),
            &crate::domain::builtin::check(),
            &NodeRef::root(),
            Timestamp::now(),
        );
        match decision.reason {
            Reason::IdentityNotActive => Err(Error::Unauthenticated(format!(
                "the API key's identity {} is not ACTIVE",
                holder.identity_id
            ))),
            Reason::UnknownIdentity => Err(Error::Unauthenticated(format!(
                "the API key's identity {} no longer exists",
                holder.identity_id
            ))),
            _ => Ok(Caller::identity(holder.environment_id, holder.identity_id)),
        }
    }

    /// A tonic interceptor putting the call's [`Caller`] in its extensions.
    pub fn interceptor(
        self,
    ) -> impl Fn(Request<()>) -> std::result::Result<Request<()>, Status> + Clone + Send + Sync + 'static
    {
        move |mut request: Request<()>| {
            let caller = self.authenticate(request.metadata())?;
            request.extensions_mut().insert(caller);
            Ok(request)
        }
    }
}

/// Refuses the call unless the acting identity holds `permission` at `node`.
pub fn authorize(
    engine: &Engine,
    caller: &Caller,
    permission: &Permission,
    node: &NodeRef,
) -> Result<()> {
    let actor = match caller.actor {
        Actor::Identity(id) => id,
        Actor::System => return Ok(()),
    };
    let decision = engine.check(
        caller.environment,
        &IdentityRef::Id(actor),
        permission,
        node,
        Timestamp::now(),
    );
    match decision.reason {
        Reason::Granted => Ok(()),
        Reason::UnknownNode => Err(Error::NotFound(format!("no {node} in this environment"))),
        _ => Err(Error::PermissionDenied(format!(
            "identity {actor} lacks `{permission}` at the {node}"
        ))),
    }
}
