//! API keys of service accounts: created with a secret shown once, listed, revoked.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::{Caller, Store, Written, convert, entity::api_key, error, resolve, write::WriteTx};
use crate::domain::{
    ApiKey, ApiKeyId, EnvironmentId, Error, IdentityId, IdentityKind, IdentityRef, Page,
    PageRequest, Result,
    change::Event,
    secret::{NewSecret, Secret},
};

/// Stores a key for `identity` inside `tx`.
pub(super) async fn insert(
    tx: &mut WriteTx<'_>,
    identity: IdentityId,
    name: String,
    secret: &NewSecret,
    action: &str,
) -> Result<ApiKey> {
    let key = ApiKey {
        id: ApiKeyId::generate(),
        environment_id: tx.caller.environment,
        identity_id: identity,
        name,
        prefix: secret.prefix.clone(),
        secret_hash: secret.hash.clone(),
        created_at: tx.now,
        revoked_at: None,
    };
    api_key::ActiveModel {
        id: Set(key.id.0),
        environment_id: Set(key.environment_id.0),
        identity_id: Set(key.identity_id.0),
        name: Set(key.name.clone()),
        prefix: Set(key.prefix.clone()),
        secret_hash: Set(key.secret_hash.clone()),
        created_at: Set(key.created_at.micros()),
        revoked_at: Set(None),
    }
    .insert(&tx.txn)
    .await
    .map_err(error::on_write("store the API key", || {
        "that API key secret is already in use; choose another".to_owned()
    }))?;
    tx.record(action, None::<&ApiKey>, Event::ApiKeySaved(key.clone()))
        .await?;
    Ok(key)
}

/// Revokes every live key of `identity` inside `tx`.
pub(super) async fn revoke_all_of(
    tx: &mut WriteTx<'_>,
    identity: IdentityId,
    action: &str,
) -> Result<()> {
    let live = api_key::Entity::find()
        .filter(api_key::Column::IdentityId.eq(identity.0))
        .filter(api_key::Column::RevokedAt.is_null())
        .all(&tx.txn)
        .await
        .map_err(error::on_query("find the identity's API keys"))?;
    for row in live {
        revoke_row(tx, row, action).await?;
    }
    Ok(())
}

async fn revoke_row(tx: &mut WriteTx<'_>, row: api_key::Model, action: &str) -> Result<ApiKey> {
    let before = convert::api_key(row.clone());
    let mut after = before.clone();
    after.revoked_at = Some(tx.now);
    let mut active: api_key::ActiveModel = row.into();
    active.revoked_at = Set(Some(tx.now.micros()));
    active
        .update(&tx.txn)
        .await
        .map_err(error::on_query("revoke the API key"))?;
    tx.record(action, Some(&before), Event::ApiKeySaved(after.clone()))
        .await?;
    Ok(after)
}

impl Store {
    /// Creates an API key for a SERVICE_ACCOUNT; returns the key and its secret,
    /// which is never stored.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn create_api_key(
        &self,
        caller: Caller,
        identity_ref: &IdentityRef,
        name: String,
    ) -> Result<Written<(ApiKey, Secret)>> {
        let mut tx = self.begin_write(caller).await?;
        let row = resolve::identity_row(&tx.txn, caller.environment, identity_ref).await?;
        let identity = convert::identity(row)?;
        if identity.kind != IdentityKind::ServiceAccount {
            return Err(Error::FailedPrecondition(format!(
                "{identity_ref} is a USER; API keys are only for SERVICE_ACCOUNT identities"
            )));
        }
        let secret = NewSecret::generate();
        let key = insert(&mut tx, identity.id, name, &secret, "CreateApiKey").await?;
        tx.commit((key, secret.plaintext)).await
    }

    /// Lists API keys (of one identity, when given) in creation order.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn list_api_keys(
        &self,
        env: EnvironmentId,
        identity_ref: Option<&IdentityRef>,
        page: PageRequest,
    ) -> Result<Page<ApiKey>> {
        let mut query = api_key::Entity::find()
            .filter(api_key::Column::EnvironmentId.eq(env.0))
            .order_by_asc(api_key::Column::Id)
            .limit(page.size + 1);
        if let Some(after) = page.after {
            query = query.filter(api_key::Column::Id.gt(after));
        }
        if let Some(r) = identity_ref {
            let who = resolve::identity_row(&self.db, env, r).await?;
            query = query.filter(api_key::Column::IdentityId.eq(who.id));
        }
        let keys = query
            .all(&self.db)
            .await
            .map_err(error::on_query("list API keys"))?
            .into_iter()
            .map(convert::api_key)
            .collect();
        Ok(Page::from_overfetch(keys, page.size, |k: &ApiKey| k.id.0))
    }

    /// Revokes an API key; in effect for the next call.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn revoke_api_key(&self, caller: Caller, id: ApiKeyId) -> Result<Written<ApiKey>> {
        let mut tx = self.begin_write(caller).await?;
        let row = api_key::Entity::find_by_id(id.0)
            .filter(api_key::Column::EnvironmentId.eq(caller.environment.0))
            .one(&tx.txn)
            .await
            .map_err(error::on_query("look up the API key"))?
            .ok_or_else(|| {
                Error::NotFound(format!("no API key with id {id} in this environment"))
            })?;
        if row.revoked_at.is_some() {
            return Err(Error::FailedPrecondition(format!(
                "API key {id} is already revoked"
            )));
        }
        let key = revoke_row(&mut tx, row, "RevokeApiKey").await?;
        tx.commit(key).await
    }
}
