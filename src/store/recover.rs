//! `rbacd environment recover`: an operator, with direct database access,
//! mints a fresh admin key for an environment whose admin keys are lost.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{
    Caller, NewAssignment, NewIdentity, NewRole, Provisioned, Store, Written, api_keys,
    assignments, convert,
    entity::{identity, role},
    error, guard, identities, roles,
};
use crate::domain::{
    ADMINISTRATOR_ROLE, Error, Identity, IdentityKind, IdentityRef, IdentityStatus, NodeRef,
    PermissionPattern, Result, RoleId, RoleName, RoleRef, fold, secret::NewSecret,
};

const ACTION: &str = "RecoverEnvironment";

impl Store {
    /// Mints a fresh API key for a SERVICE_ACCOUNT that keeps environment
    /// `name` administrable (ACTIVE, `Administrator` at the root, unending),
    /// first re-creating such an account (and the `Administrator` role) when
    /// there is none. All or nothing; the change log names no actor.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn recover_environment(&self, name: &str) -> Result<Written<Provisioned>> {
        let environment = self
            .find_environment(name)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no environment named `{name}`")))?;
        let mut tx = self.begin_write(Caller::system(environment.id)).await?;
        let mut admin = None;
        for a in guard::administrators(&tx).await? {
            let row = identity::Entity::find_by_id(a.identity_id)
                .one(&tx.txn)
                .await
                .map_err(error::on_query("read an administrator"))?;
            if let Some(row) = row.filter(|r| r.kind == IdentityKind::ServiceAccount.as_str()) {
                admin = Some(convert::identity(row)?);
                break;
            }
        }
        let admin = match admin {
            Some(admin) => admin,
            None => new_admin(&mut tx, name).await?,
        };
        let secret = NewSecret::generate();
        let api_key = api_keys::insert(
            &mut tx,
            admin.id,
            "recovered admin key".into(),
            &secret,
            ACTION,
        )
        .await?;
        tx.commit(Provisioned {
            environment,
            admin,
            api_key,
            secret: secret.plaintext,
        })
        .await
    }
}

/// A new ACTIVE service account holding `Administrator` at the root.
async fn new_admin(tx: &mut super::write::WriteTx<'_>, name: &str) -> Result<Identity> {
    let role = administrator_role(tx).await?;
    let new = NewIdentity {
        kind: IdentityKind::ServiceAccount,
        email: None,
        external_id: None,
        display_name: format!("{name} admin (recovered)"),
    };
    let admin = identities::insert(tx, new, IdentityStatus::Active, ACTION).await?;
    let grant = NewAssignment {
        identity: IdentityRef::Id(admin.id),
        role: RoleRef::Id(role),
        node: NodeRef::root(),
        effective_from: None,
        effective_to: None,
    };
    assignments::insert(tx, &grant, ACTION, "").await?;
    Ok(admin)
}

/// The built-in `Administrator` role, re-created if it is missing.
async fn administrator_role(tx: &mut super::write::WriteTx<'_>) -> Result<RoleId> {
    let existing = role::Entity::find()
        .filter(role::Column::EnvironmentId.eq(tx.caller.environment.0))
        .filter(role::Column::NameFolded.eq(fold(ADMINISTRATOR_ROLE)))
        .one(&tx.txn)
        .await
        .map_err(error::on_query("find the Administrator role"))?;
    if let Some(row) = existing {
        return Ok(row.id.into());
    }
    let role = roles::insert(
        tx,
        NewRole {
            name: RoleName::parse(ADMINISTRATOR_ROLE).map_err(Error::Internal)?,
            description: "Built in: every permission, everywhere it is assigned.".into(),
            permissions: vec![PermissionPattern::parse("*").map_err(Error::Internal)?],
        },
        ACTION,
    )
    .await?;
    Ok(role.id)
}
