//! Importing into an environment that holds only what its creation made, in
//! one transaction that also checks that it is so.

use std::time::Instant;

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QuerySelect, Statement,
};

use super::{insert_state, refuse_unloadable};
use crate::domain::{
    Caller, EnvironmentState, Error, IdentityId, NodeId, Result, RoleId, change::ObjectKind,
};
use crate::store::{
    Store, Written,
    changes::latest_revision,
    entity::{assignment, change, identity, node, role},
    error, guard, resolve,
};

/// The action of every change row an import writes.
const IMPORT_ACTION: &str = "Import";

/// What an environment's creation made, which an import refers to instead of creating.
#[derive(Clone, Copy, Debug)]
pub struct Builtins {
    pub root: NodeId,
    /// The built-in `Administrator` role.
    pub administrator: RoleId,
    /// The admin account the creation made, if it still exists.
    pub admin: Option<IdentityId>,
    /// Whether that account still holds `Administrator` at the root.
    pub admin_grant: bool,
}

impl Store {
    /// Builds the objects to import with `build` (given what the environment's
    /// creation made) and inserts them, with a change row each recorded as the
    /// caller's, in one transaction. FAILED_PRECONDITION when the environment holds
    /// anything its creation did not make. Returns what was inserted, and what
    /// `before_commit` (awaited once everything is inserted, right before the
    /// commit) gave.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn import_environment<G: Send>(
        &self,
        caller: Caller,
        build: impl FnOnce(&Builtins) -> Result<EnvironmentState> + Send,
        before_commit: impl Future<Output = G> + Send,
    ) -> Result<(Written<EnvironmentState>, G)> {
        let env = caller.environment;
        let started = Instant::now();
        let mut tx = self.begin_exclusive(caller).await?;
        let builtins = refuse_populated(&tx.txn, env).await?;
        let checked = Instant::now();
        let state = build(&builtins)?;
        refuse_unloadable(env, &state)?;
        let built = Instant::now();
        let unchecked = skip_reference_checks(&tx.txn, env).await?;
        let inserted =
            insert_state(&mut tx, &state, IMPORT_ACTION, true, std::future::ready(())).await?;
        let stored = Instant::now();
        let held = before_commit.await;
        let revision = match inserted.revision {
            Some(revision) => revision,
            None => latest_revision(&tx.txn).await?,
        };
        tx.commit_exclusive().await?;
        tracing::debug!(
            begin_and_check_ms = ms(checked - started),
            build_ms = ms(built - checked),
            insert_ms = ms(stored - built),
            foreign_key_checks = !unchecked,
            commit_ms = ms(stored.elapsed()),
            "import: stored"
        );
        // Without the changes (their revisions unknown), the feed reads them from the log.
        let written = Written {
            value: state,
            revision,
            changes: inserted.changes.unwrap_or_default(),
        };
        Ok((written, held))
    }

    /// The id of the admin account environment `env`'s creation made, if any.
    pub(super) async fn creation_admin(
        &self,
        env: crate::domain::EnvironmentId,
    ) -> Result<Option<IdentityId>> {
        Ok(change::Entity::find()
            .filter(change::Column::EnvironmentId.eq(env.0))
            .filter(change::Column::Action.eq(crate::store::environments::ACTION))
            .filter(change::Column::ObjectKind.eq(ObjectKind::Identity.as_str()))
            .one(&self.db)
            .await
            .map_err(error::on_query("find the environment's admin account"))?
            .map(|row| IdentityId(row.object_id)))
    }
}

/// On PostgreSQL, turns the foreign-key triggers off for the rest of the
/// import's transaction (`SET LOCAL session_replication_role = replica`), when
/// the connecting role may (a superuser, or one granted `SET` on that
/// parameter): they check each inserted row's references one query at a time,
/// most of the database's work in an import, while the import has resolved
/// every reference itself against the objects it inserts and the builtins,
/// which its environment's write lock keeps in place. The environment's row,
/// which no write lock covers, is locked against deletion instead. Returns
/// whether the checks are off.
async fn skip_reference_checks(
    txn: &sea_orm::DatabaseTransaction,
    env: crate::domain::EnvironmentId,
) -> Result<bool> {
    if txn.get_database_backend() != DbBackend::Postgres {
        return Ok(false);
    }
    let doing = "turn off the reference checks";
    txn.execute_unprepared("SAVEPOINT import_reference_checks")
        .await
        .map_err(error::on_query(doing))?;
    let off = txn
        .execute_unprepared("SET LOCAL session_replication_role = replica")
        .await;
    let end = if off.is_ok() {
        "RELEASE SAVEPOINT import_reference_checks"
    } else {
        "ROLLBACK TO SAVEPOINT import_reference_checks; RELEASE SAVEPOINT import_reference_checks"
    };
    txn.execute_unprepared(end)
        .await
        .map_err(error::on_query(doing))?;
    if let Err(e) = off {
        tracing::info!(
            error = %e,
            "import: the database role may not set session_replication_role; \
             the import runs with foreign-key checks (slower)"
        );
        return Ok(false);
    }
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        r#"SELECT 1 FROM "environments" WHERE "id" = $1 FOR KEY SHARE"#,
        [env.0.into()],
    ))
    .await
    .map_err(error::on_query("lock the environment"))?;
    Ok(true)
}

fn ms(d: std::time::Duration) -> u64 {
    d.as_millis() as u64
}

/// What the creation made, or FAILED_PRECONDITION when there is more.
async fn refuse_populated(
    txn: &sea_orm::DatabaseTransaction,
    env: crate::domain::EnvironmentId,
) -> Result<Builtins> {
    let populated = |what: &str| {
        Err(Error::FailedPrecondition(format!(
            "the environment already holds {what}: an import needs an environment holding \
             only what its creation made (create one with `rbacd environment create`), \
             or use `rbacd apply` to change a populated one"
        )))
    };
    let roles = role::Entity::find()
        .filter(role::Column::EnvironmentId.eq(env.0))
        .limit(2)
        .all(txn)
        .await
        .map_err(error::on_query("count the roles"))?;
    let administrator = match roles.as_slice() {
        [only] if guard::is_administrator(only) => RoleId(only.id),
        [] => {
            return Err(Error::Internal(
                "the environment has no Administrator role".into(),
            ));
        }
        _ => return populated("roles besides `Administrator`"),
    };
    let nodes = node::Entity::find()
        .filter(node::Column::EnvironmentId.eq(env.0))
        .limit(2)
        .all(txn)
        .await
        .map_err(error::on_query("count the nodes"))?;
    if nodes.len() > 1 {
        return populated("nodes besides the root");
    }
    let identities = identity::Entity::find()
        .filter(identity::Column::EnvironmentId.eq(env.0))
        .limit(2)
        .all(txn)
        .await
        .map_err(error::on_query("count the identities"))?;
    if identities.len() > 1 {
        return populated("identities besides its admin account");
    }
    let root = resolve::root_row(txn, env).await?.id;
    let assignments = assignment::Entity::find()
        .filter(assignment::Column::EnvironmentId.eq(env.0))
        .limit(2)
        .all(txn)
        .await
        .map_err(error::on_query("count the assignments"))?;
    let builtin_grant = |a: &assignment::Model| {
        a.role_id == administrator.0 && a.node_id == root && a.effective_to.is_none()
    };
    if assignments.len() > 1 || assignments.iter().any(|a| !builtin_grant(a)) {
        return populated("assignments besides its admin account's `Administrator` grant");
    }
    Ok(Builtins {
        root: NodeId(root),
        administrator,
        admin: identities.first().map(|i| IdentityId(i.id)),
        admin_grant: !assignments.is_empty(),
    })
}
