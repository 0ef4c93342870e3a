//! Every API key in memory, found by the SHA-256 of its secret, so
//! authenticating a call needs no database I/O and never compares secrets.

use std::collections::HashMap;

use parking_lot::RwLock;

use crate::domain::{ApiKey, ApiKeyId, EnvironmentId, IdentityId, Snapshot, change::Event, secret};

/// What a valid secret stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyHolder {
    pub key_id: ApiKeyId,
    pub environment_id: EnvironmentId,
    pub identity_id: IdentityId,
    pub revoked: bool,
}

/// The API keys of every environment, kept current from the change log.
#[derive(Default)]
pub struct KeyRing {
    by_hash: RwLock<HashMap<String, KeyHolder>>,
}

fn holder(key: &ApiKey) -> KeyHolder {
    KeyHolder {
        key_id: key.id,
        environment_id: key.environment_id,
        identity_id: key.identity_id,
        revoked: key.revoked_at.is_some(),
    }
}

impl KeyRing {
    /// The keys of a stored state.
    pub fn from_snapshot(snapshot: &Snapshot) -> Self {
        let by_hash = snapshot
            .environments
            .iter()
            .flat_map(|(_, state)| &state.api_keys)
            .map(|key| (key.secret_hash.clone(), holder(key)))
            .collect();
        Self {
            by_hash: RwLock::new(by_hash),
        }
    }

    /// Applies a change; only API key changes matter here.
    pub fn apply(&self, event: &Event) {
        if let Event::ApiKeySaved(key) = event {
            self.by_hash
                .write()
                .insert(key.secret_hash.clone(), holder(key));
        }
    }

    /// Who a secret belongs to, if it is a key at all.
    pub fn find(&self, secret: &str) -> Option<KeyHolder> {
        self.by_hash.read().get(&secret::hash(secret)).copied()
    }
}
