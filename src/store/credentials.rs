//! Credentials of user action signing: identities' public keys, registered,
//! listed, revoked. Private keys never reach rbacd.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::{Store, Written, entity::credential, error, write::WriteTx};
use crate::domain::{
    Caller, CredentialId, EnvironmentId, Error, IdentityId, MAX_NAME_LEN, Page, PageRequest,
    Result,
    change::Event,
    signing::{Credential, CredentialKind, PublicKey},
};

/// A credential from its row.
pub(super) fn from_row(row: credential::Model) -> Result<Credential> {
    let kind = CredentialKind::from_stored(&row.kind)
        .ok_or_else(|| Error::Internal(format!("unknown credential kind `{}`", row.kind)))?;
    Ok(Credential {
        id: row.id.into(),
        environment_id: row.environment_id.into(),
        identity_id: row.identity_id.into(),
        kind,
        name: row.name,
        public_key: row.public_key,
        created_at: crate::domain::Timestamp(row.created_at),
        revoked_at: row.revoked_at.map(crate::domain::Timestamp),
    })
}

/// A credential to register.
#[derive(Clone, Debug)]
pub struct NewCredential {
    pub identity: IdentityId,
    pub key: PublicKey,
    pub name: String,
}

async fn revoke_row(tx: &mut WriteTx<'_>, row: credential::Model) -> Result<Credential> {
    let before = from_row(row.clone())?;
    let mut after = before.clone();
    after.revoked_at = Some(tx.now);
    let mut active: credential::ActiveModel = row.into();
    active.revoked_at = Set(Some(tx.now.micros()));
    active
        .update(&tx.txn)
        .await
        .map_err(error::on_query("revoke the credential"))?;
    tx.record(
        "RevokeCredential",
        Some(&before),
        Event::CredentialSaved(after.clone()),
    )
    .await?;
    Ok(after)
}

impl Store {
    /// Registers a public key of an identity. Unless `signed` (the call
    /// carried a valid user action), only an identity's first credential —
    /// it never had one, revoked or not — is accepted.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn register_credential(
        &self,
        caller: Caller,
        new: NewCredential,
        signed: bool,
    ) -> Result<Written<Credential>> {
        if new.name.chars().count() > MAX_NAME_LEN {
            return Err(Error::invalid(
                "name",
                format!("at most {MAX_NAME_LEN} characters"),
            ));
        }
        let mut tx = self.begin_write(caller).await?;
        let existing = credential::Entity::find()
            .filter(credential::Column::IdentityId.eq(new.identity.0))
            .count(&tx.txn)
            .await
            .map_err(error::on_query("count the identity's credentials"))?;
        if existing > 0 && !signed {
            return Err(Error::Unauthenticated(format!(
                "missing user action: identity {} already has a credential; registering another needs `{}` signed with a credential of the caller",
                new.identity,
                crate::domain::signing::USER_ACTION_HEADER
            )));
        }
        let credential = Credential {
            id: CredentialId::generate(),
            environment_id: tx.caller.environment,
            identity_id: new.identity,
            kind: new.key.kind(),
            name: new.name,
            public_key: new.key.as_bytes().to_vec(),
            created_at: tx.now,
            revoked_at: None,
        };
        credential::ActiveModel {
            id: Set(credential.id.0),
            environment_id: Set(credential.environment_id.0),
            identity_id: Set(credential.identity_id.0),
            kind: Set(credential.kind.as_str().to_owned()),
            name: Set(credential.name.clone()),
            public_key: Set(credential.public_key.clone()),
            created_at: Set(credential.created_at.micros()),
            revoked_at: Set(None),
        }
        .insert(&tx.txn)
        .await
        .map_err(error::on_query("store the credential"))?;
        tx.record(
            "RegisterCredential",
            None::<&Credential>,
            Event::CredentialSaved(credential.clone()),
        )
        .await?;
        tx.commit(credential).await
    }

    /// One credential of the environment.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn get_credential(&self, env: EnvironmentId, id: CredentialId) -> Result<Credential> {
        let row = credential::Entity::find_by_id(id.0)
            .filter(credential::Column::EnvironmentId.eq(env.0))
            .one(&self.db)
            .await
            .map_err(error::on_query("look up the credential"))?
            .ok_or_else(|| Error::NotFound(format!("no credential {id} in this environment")))?;
        from_row(row)
    }

    /// An identity's credentials, revoked ones included, in creation order.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn list_credentials(
        &self,
        env: EnvironmentId,
        identity: IdentityId,
        page: PageRequest,
    ) -> Result<Page<Credential>> {
        let mut query = credential::Entity::find()
            .filter(credential::Column::EnvironmentId.eq(env.0))
            .filter(credential::Column::IdentityId.eq(identity.0))
            .order_by_asc(credential::Column::Id)
            .limit(page.size + 1);
        if let Some(after) = page.after {
            query = query.filter(credential::Column::Id.gt(after));
        }
        let credentials = query
            .all(&self.db)
            .await
            .map_err(error::on_query("list credentials"))?
            .into_iter()
            .map(from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(
            credentials,
            page.size,
            |c: &Credential| c.id.0,
        ))
    }

    /// Revokes a credential: user actions it signed are refused from the next
    /// call on, on every instance (each call reads the credential's row).
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn revoke_credential(
        &self,
        caller: Caller,
        id: CredentialId,
    ) -> Result<Written<Credential>> {
        let mut tx = self.begin_write(caller).await?;
        let row = credential::Entity::find_by_id(id.0)
            .filter(credential::Column::EnvironmentId.eq(caller.environment.0))
            .one(&tx.txn)
            .await
            .map_err(error::on_query("look up the credential"))?
            .ok_or_else(|| Error::NotFound(format!("no credential {id} in this environment")))?;
        if row.revoked_at.is_some() {
            return Err(Error::FailedPrecondition(format!(
                "credential {id} is already revoked"
            )));
        }
        let credential = revoke_row(&mut tx, row).await?;
        tx.commit(credential).await
    }
}
