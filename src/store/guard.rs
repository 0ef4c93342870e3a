//! Refusals that keep an environment administrable.

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use super::{
    entity::{api_key, assignment, identity, role},
    error, resolve,
    write::WriteTx,
};
use crate::domain::{
    ADMINISTRATOR_ROLE, AssignmentState, Error, IdentityStatus, Result, Timestamp, fold,
};

/// Whether a role row is the built-in `Administrator`.
pub(super) fn is_administrator(row: &role::Model) -> bool {
    row.name_folded == fold(ADMINISTRATOR_ROLE)
}

/// Refuses changing or deleting the built-in `Administrator` role.
pub(super) fn refuse_builtin(row: &role::Model) -> Result<()> {
    if is_administrator(row) {
        return Err(Error::FailedPrecondition(format!(
            "`{ADMINISTRATOR_ROLE}` is built in and cannot be changed or deleted; create another role instead"
        )));
    }
    Ok(())
}

/// The assignments that keep the environment administrable: `Administrator`
/// at the root, in effect now and without an end, held by an ACTIVE identity.
pub(super) async fn administrators(tx: &WriteTx<'_>) -> Result<Vec<assignment::Model>> {
    let env = tx.caller.environment;
    let Some(admin_role) = role::Entity::find()
        .filter(role::Column::EnvironmentId.eq(env.0))
        .filter(role::Column::NameFolded.eq(fold(ADMINISTRATOR_ROLE)))
        .one(&tx.txn)
        .await
        .map_err(error::on_query("find the Administrator role"))?
    else {
        return Ok(Vec::new());
    };
    let root = resolve::root_row(&tx.txn, env).await?;
    let at_root = assignment::Entity::find()
        .filter(assignment::Column::RoleId.eq(admin_role.id))
        .filter(assignment::Column::NodeId.eq(root.id))
        .all(&tx.txn)
        .await
        .map_err(error::on_query("find the Administrator assignments"))?;
    let now = Timestamp::now();
    let mut effective = Vec::new();
    for a in at_root {
        let window = AssignmentState::of_window(
            a.effective_from.map(Timestamp),
            a.effective_to.map(Timestamp),
            now,
        );
        let holder = identity::Entity::find_by_id(a.identity_id)
            .one(&tx.txn)
            .await
            .map_err(error::on_query("read an administrator"))?;
        let active = holder.is_some_and(|h| h.status == IdentityStatus::Active.as_str());
        // An assignment that will expire does not keep the environment administrable.
        if active && window == AssignmentState::Active && a.effective_to.is_none() {
            effective.push(a);
        }
    }
    Ok(effective)
}

/// Refuses a write that would leave no ACTIVE identity holding
/// `Administrator` at the root in effect now and without an end. `lost` says which of those
/// assignments the write removes (or disables the holder of).
pub(super) async fn keep_an_administrator(
    tx: &WriteTx<'_>,
    lost: impl Fn(&assignment::Model) -> bool,
) -> Result<()> {
    let effective = administrators(tx).await?;
    let kept = effective.iter().filter(|a| !lost(a)).count();
    if !effective.is_empty() && kept == 0 {
        return Err(Error::FailedPrecondition(format!(
            "this would remove the last `{ADMINISTRATOR_ROLE}` assignment at the root of the environment; grant `{ADMINISTRATOR_ROLE}` at the root to another ACTIVE identity first"
        )));
    }
    Ok(())
}

/// Refuses revoking `key` when it is the last live key of an identity that
/// keeps the environment administrable. Runs inside the revoking transaction,
/// whose environment's write lock (its lane, and on PostgreSQL its advisory
/// lock) orders concurrent revokes, so two cannot both pass.
pub(super) async fn keep_an_admin_key(tx: &WriteTx<'_>, key: &api_key::Model) -> Result<()> {
    let admins: Vec<uuid::Uuid> = administrators(tx)
        .await?
        .into_iter()
        .map(|a| a.identity_id)
        .collect();
    if !admins.contains(&key.identity_id) {
        return Ok(());
    }
    let others = api_key::Entity::find()
        .filter(api_key::Column::EnvironmentId.eq(tx.caller.environment.0))
        .filter(api_key::Column::IdentityId.is_in(admins))
        .filter(api_key::Column::RevokedAt.is_null())
        .filter(api_key::Column::Id.ne(key.id))
        .count(&tx.txn)
        .await
        .map_err(error::on_query("count the administrators' API keys"))?;
    if others == 0 {
        return Err(Error::FailedPrecondition(format!(
            "API key {} is the last live key of an ACTIVE `{ADMINISTRATOR_ROLE}` at the root; revoking it would leave no one able to administer the environment. Create another key for an administrator first (or, if it is lost, run `rbacd environment recover NAME`)",
            key.id
        )));
    }
    Ok(())
}
