//! Environments: the isolation unit, each created with its root node, the
//! built-in `Administrator` role and an admin service account holding it.

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::{
    Caller, NewAssignment, NewIdentity, NewRole, Store, Written, api_keys, assignments, convert,
    entity::{environment, node},
    error, identities, roles,
};
use crate::domain::{
    ADMINISTRATOR_ROLE, ApiKey, Environment, EnvironmentId, Error, Identity, IdentityKind,
    IdentityRef, IdentityStatus, Node, NodeId, NodeKey, NodeRef, PermissionPattern, Result,
    RoleName, RoleRef,
    change::Event,
    secret::{NewSecret, Secret},
};

/// What creating an environment made, with the admin key's secret (shown once).
#[derive(Clone, Debug)]
pub struct Provisioned {
    pub environment: Environment,
    pub admin: Identity,
    pub api_key: ApiKey,
    pub secret: Secret,
}

pub(super) const ACTION: &str = "CreateEnvironment";

impl Store {
    /// The environment called `name`, if it exists.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn find_environment(&self, name: &str) -> Result<Option<Environment>> {
        Ok(environment::Entity::find()
            .filter(environment::Column::Name.eq(name))
            .one(&self.db)
            .await
            .map_err(error::on_query("look up an environment"))?
            .map(convert::environment))
    }

    /// Every environment, oldest first.
    #[tracing::instrument(skip_all, err(level = "debug"))]
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

    /// Creates environment `name` with its root node, `Administrator` role and
    /// an admin service account holding it at the root, with an API key —
    /// `admin_secret` when given, else a fresh random one. All or nothing.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn create_environment(
        &self,
        name: &str,
        admin_secret: Option<String>,
    ) -> Result<Written<Provisioned>> {
        let id = EnvironmentId::generate();
        let mut tx = self.begin_write(Caller::system(id)).await?;
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
            ACTION,
            None::<&Environment>,
            Event::EnvironmentCreated(env.clone()),
        )
        .await?;
        let root = Node {
            id: NodeId::generate(),
            environment_id: id,
            key: NodeKey::root(),
            name: "Root".into(),
            kind: "root".into(),
            parent_id: None,
            created_at: tx.now,
            updated_at: tx.now,
        };
        node::ActiveModel {
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
        tx.record(ACTION, None::<&Node>, Event::NodeSaved(root))
            .await?;
        let administrator = RoleName::parse(ADMINISTRATOR_ROLE).map_err(Error::Internal)?;
        let everything = PermissionPattern::parse("*").map_err(Error::Internal)?;
        let role = roles::insert(
            &mut tx,
            NewRole {
                name: administrator,
                description: "Built in: every permission, everywhere it is assigned.".into(),
                permissions: vec![everything],
            },
            ACTION,
        )
        .await?;
        let new_admin = NewIdentity {
            kind: IdentityKind::ServiceAccount,
            email: None,
            external_id: None,
            display_name: format!("{name} admin"),
        };
        let admin = identities::insert(&mut tx, new_admin, IdentityStatus::Active, ACTION).await?;
        let grant = NewAssignment {
            identity: IdentityRef::Id(admin.id),
            role: RoleRef::Id(role.id),
            node: NodeRef::root(),
            effective_from: None,
            effective_to: None,
        };
        assignments::insert(&mut tx, &grant, ACTION, "").await?;
        let secret = match admin_secret {
            Some(s) => NewSecret::from_plaintext(s),
            None => NewSecret::generate(),
        };
        let api_key = api_keys::insert(
            &mut tx,
            admin.id,
            "bootstrap admin key".into(),
            &secret,
            ACTION,
        )
        .await?;
        tx.commit(Provisioned {
            environment: env,
            admin,
            api_key,
            secret: secret.plaintext,
        })
        .await
    }

    /// Creates environment `name` unless it exists; returns what was made, if anything.
    pub async fn ensure_environment(
        &self,
        name: &str,
        admin_secret: Option<String>,
    ) -> Result<Option<Provisioned>> {
        if self.find_environment(name).await?.is_some() {
            return Ok(None);
        }
        match self.create_environment(name, admin_secret).await {
            Ok(written) => Ok(Some(written.value)),
            // Another instance created it first.
            Err(Error::AlreadyExists(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
