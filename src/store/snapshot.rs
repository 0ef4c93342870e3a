//! Loading everything the in-memory index is built from, consistently.

use std::collections::HashMap;

use sea_orm::{DbBackend, EntityTrait, IsolationLevel, TransactionTrait};

use super::{Store, changes, convert, entity, error, roles};
use crate::domain::{EnvironmentId, EnvironmentState, Result, Snapshot};

impl Store {
    /// Every environment's roles, identities, nodes and assignments, read in
    /// one transaction, with the revision they include.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn load_snapshot(&self) -> Result<Snapshot> {
        // PostgreSQL's default isolation would give each query its own snapshot.
        let isolation = (self.db.get_database_backend() == DbBackend::Postgres)
            .then_some(IsolationLevel::RepeatableRead);
        let txn = self
            .db
            .begin_with_config(isolation, None)
            .await
            .map_err(error::on_query("begin a transaction"))?;
        let revision = changes::latest_revision(&txn).await?;
        let read = error::on_query;
        let environments = entity::environment::Entity::find()
            .all(&txn)
            .await
            .map_err(read("read environments"))?;
        let mut states: HashMap<EnvironmentId, EnvironmentState> = HashMap::new();
        let role_rows = entity::role::Entity::find()
            .all(&txn)
            .await
            .map_err(read("read roles"))?;
        let mut permissions = roles::permissions_of(&txn, role_rows.iter().map(|r| r.id)).await?;
        for row in role_rows {
            let held = permissions.remove(&row.id).unwrap_or_default();
            let role = convert::role(row, held)?;
            states
                .entry(role.environment_id)
                .or_default()
                .roles
                .push(role);
        }
        for row in entity::identity::Entity::find()
            .all(&txn)
            .await
            .map_err(read("read identities"))?
        {
            let identity = convert::identity(row)?;
            states
                .entry(identity.environment_id)
                .or_default()
                .identities
                .push(identity);
        }
        for row in entity::node::Entity::find()
            .all(&txn)
            .await
            .map_err(read("read nodes"))?
        {
            let node = convert::node(row)?;
            states
                .entry(node.environment_id)
                .or_default()
                .nodes
                .push(node);
        }
        for row in entity::assignment::Entity::find()
            .all(&txn)
            .await
            .map_err(read("read assignments"))?
        {
            let assignment = convert::assignment(row);
            states
                .entry(assignment.environment_id)
                .or_default()
                .assignments
                .push(assignment);
        }
        for row in entity::api_key::Entity::find()
            .all(&txn)
            .await
            .map_err(read("read API keys"))?
        {
            let key = convert::api_key(row);
            states
                .entry(key.environment_id)
                .or_default()
                .api_keys
                .push(key);
        }
        txn.commit().await.map_err(read("end the snapshot"))?;
        Ok(Snapshot {
            revision,
            environments: environments
                .into_iter()
                .map(|row| {
                    let env = convert::environment(row);
                    let state = states.remove(&env.id).unwrap_or_default();
                    (env, state)
                })
                .collect(),
        })
    }
}
