//! An API key to the caller it stands for.

use std::sync::Arc;

use super::KeyRing;
use crate::domain::{Caller, Error, IdentityStatus, Result};
use crate::engine::Engine;

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

    /// The caller a secret stands for, or UNAUTHENTICATED saying why not:
    /// no key, an unknown or revoked one, or an identity that is not ACTIVE.
    pub fn authenticate(&self, secret: Option<&str>) -> Result<Caller> {
        let secret = secret.ok_or_else(|| {
            Error::Unauthenticated(format!(
                "no API key: send one in the `{API_KEY_HEADER}` metadata (the first is printed when rbacd starts on an empty database, or by `rbacd environment create`)"
            ))
        })?;
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
        match self
            .engine
            .identity_status(holder.environment_id, holder.identity_id)
        {
            Some(IdentityStatus::Active) => {
                Ok(Caller::identity(holder.environment_id, holder.identity_id))
            }
            Some(_) => Err(Error::Unauthenticated(format!(
                "the API key's identity {} is not ACTIVE",
                holder.identity_id
            ))),
            None => Err(Error::Unauthenticated(format!(
                "the API key's identity {} no longer exists",
                holder.identity_id
            ))),
        }
    }
}
