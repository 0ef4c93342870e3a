//! Environments: the isolation unit, each created with its root node.

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::{Scope, Store, Written, convert, entity::environment, error};
use crate::domain::{
    Environment, EnvironmentId, Error, Node, NodeId, NodeKey, ROOT_NODE_KEY, Result, change::Event,
};

impl Store {
    /// The environment called `name`, if it exists.
    #[tracing::instrument(skip_all, err)]
    pub async fn find_environment(&self, name: &str) -> Result<Option<Environment>> {
        Ok(environment::Entity::find()
            .filter(environment::Column::Name.eq(name))
            .one(&self.db)
            .await
            .map_err(error::on_query("look up an environment"))?
            .map(convert::environment))
    }

    /// Every environment, oldest first.
    #[tracing::instrument(skip_all, err)]
    pub async fn list_environments(&self) -> Result<Vec<Environment>> {
        Ok(environment::Entity::find()
            .order_by_asc(environment::Column::Id)
            .all(&self.db)
            .await
            .map_err(error::on_query("list environments"))?
            .into_iter()
            .map(convert::environment)
            .collect())
    }

    /// Creates environment `name` with its root node.
    #[tracing::instrument(skip_all, err)]
    pub async fn create_environment(&self, name: &str) -> Result<Written<Environment>> {
        let id = EnvironmentId::generate();
        let mut tx = self
            .begin_write(Scope {
                environment_id: id,
                actor: None,
            })
            .await?;
        let env = Environment {
            id,
            name: name.to_owned(),
            created_at: tx.now,
        };
        environment::ActiveModel {
            id: Set(env.id.0),
            name: Set(env.name.clone()),
            created_at: Set(env.created_at.micros()),
        }
        .insert(&tx.txn)
        .await
        .map_err(error::on_write("create the environment", || {
            format!("an environment named `{name}` already exists")
        }))?;
        tx.record(
            "CreateEnvironment",
            None::<&Environment>,
            Event::EnvironmentCreated(env.clone()),
        )
        .await?;
        let root = Node {
            id: NodeId::generate(),
            environment_id: id,
            key: NodeKey::parse(ROOT_NODE_KEY).map_err(Error::Internal)?,
            name: "Root".into(),
            kind: "root".into(),
            parent_id: None,
            created_at: tx.now,
            updated_at: tx.now,
        };
        super::entity::node::ActiveModel {
            id: Set(root.id.0),
            environment_id: Set(id.0),
            key: Set(root.key.to_string()),
            name: Set(root.name.clone()),
            kind: Set(root.kind.clone()),
            parent_id: Set(None),
            created_at: Set(root.created_at.micros()),
            updated_at: Set(root.updated_at.micros()),
        }
        .insert(&tx.txn)
        .await
        .map_err(error::on_query("create the root node"))?;
        tx.record("CreateEnvironment", None::<&Node>, Event::NodeSaved(root))
            .await?;
        let revision = tx.commit().await?;
        Ok(Written {
            value: env,
            revision,
        })
    }

    /// The environment called `name`, created with its root node if missing.
    pub async fn ensure_environment(&self, name: &str) -> Result<Environment> {
        if let Some(env) = self.find_environment(name).await? {
            return Ok(env);
        }
        match self.create_environment(name).await {
            Ok(written) => Ok(written.value),
            // Another instance created it first.
            Err(Error::AlreadyExists(_)) => self
                .find_environment(name)
                .await?
                .ok_or_else(|| Error::Internal(format!("environment `{name}` vanished"))),
            Err(e) => Err(e),
        }
    }
}
