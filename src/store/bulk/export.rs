//! Reading one environment whole, at one revision, for an export.

use crate::domain::{EnvironmentId, EnvironmentState, Error, IdentityId, Result};
use crate::store::Store;

/// One environment as of one revision.
#[derive(Clone, Debug)]
pub struct EnvironmentExport {
    /// The last change-log revision the state includes.
    pub revision: u64,
    /// Roles, identities, nodes and assignments; never API keys.
    pub state: EnvironmentState,
    /// The admin account the environment's creation made, if it still exists.
    pub admin: Option<IdentityId>,
}

impl Store {
    /// Environment `env`'s roles, identities, nodes and assignments as of one revision.
    ///
    /// Read through the snapshot the index is loaded from, whose read transactions
    /// see exactly one revision; the export is then served from memory, so a slow
    /// reader of the stream holds no database transaction open (on SQLite that
    /// would hold back the write-ahead log's checkpoints for as long as it reads).
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn export_environment(&self, env: EnvironmentId) -> Result<EnvironmentExport> {
        let snapshot = self.load_snapshot().await?;
        let revision = snapshot.revision;
        let mut state = snapshot
            .environments
            .into_iter()
            .find(|(environment, _)| environment.id == env)
            .map(|(_, state)| state)
            .ok_or_else(|| Error::NotFound(format!("environment {env} does not exist")))?;
        state.api_keys.clear();
        let admin = self
            .creation_admin(env)
            .await?
            .filter(|id| state.identities.iter().any(|i| i.id == *id));
        Ok(EnvironmentExport {
            revision,
            state,
            admin,
        })
    }
}
