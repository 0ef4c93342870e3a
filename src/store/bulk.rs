//! Loading many objects into an environment at once, for the load generator
//! and restores: multi-row INSERTs in large write transactions.
//!
//! Each object gets its change row, as a single create would write it (action
//! `BulkLoad`, no actor): the log stays the one source followers apply, so an
//! instance following the database sees the loaded objects as any others.

use std::time::Instant;

use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect};

use super::{
    Store, Written,
    changes::latest_revision,
    entity::{change, environment},
    error, rows,
    write::WriteTx,
};
use crate::domain::{
    Assignment, Caller, Change, EnvironmentId, EnvironmentState, Error, Identity, Node, Result,
    Role, change::Event,
};

/// The action of every change row a bulk load writes.
const BULK_LOAD_ACTION: &str = "BulkLoad";
/// Objects inserted (with their change rows) per step of the one transaction.
const OBJECTS_PER_STEP: usize = 100_000;

/// A slice of objects of one kind.
#[derive(Clone, Copy)]
enum Batch<'a> {
    Roles(&'a [Role]),
    Identities(&'a [Identity]),
    Nodes(&'a [Node]),
    Assignments(&'a [Assignment]),
}

impl Store {
    /// Inserts `state`'s roles, identities, nodes and assignments into the
    /// existing environment `env`, in that order, with a change row each;
    /// returns how many objects were loaded and the last revision written.
    ///
    /// Every object must belong to `env`; nodes must come parents first, each
    /// under the environment's root or a node loaded before it (the root exists
    /// already); API keys are not loaded. Objects keep their ids and times. One
    /// transaction: a failure leaves nothing.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn bulk_load(
        &self,
        env: EnvironmentId,
        state: &EnvironmentState,
    ) -> Result<Written<usize>> {
        self.bulk_load_pausing(env, state, std::future::ready(()))
            .await
    }

    /// Test hook: [`Store::bulk_load`] that awaits `objects_inserted` once
    /// every object is inserted, before it takes the revision lock for their
    /// change rows.
    #[doc(hidden)]
    pub async fn bulk_load_pausing(
        &self,
        env: EnvironmentId,
        state: &EnvironmentState,
        objects_inserted: impl Future<Output = ()> + Send,
    ) -> Result<Written<usize>> {
        refuse_unloadable(env, state)?;
        environment::Entity::find_by_id(env.0)
            .one(&self.db)
            .await
            .map_err(error::on_query("find the environment"))?
            .ok_or_else(|| Error::NotFound(format!("environment {env} does not exist")))?;
        let mut tx = self.begin_exclusive(Caller::system(env)).await?;
        let revision = insert_state(&mut tx, state, BULK_LOAD_ACTION, false, objects_inserted)
            .await?
            .revision;
        tx.commit_exclusive().await?;
        let revision = match revision {
            Some(revision) => revision,
            None => self.latest_revision().await?,
        };
        // The change rows are only in the log: a feed applying this reads them there.
        Ok(Written {
            value: object_count(state),
            revision,
            changes: Vec::new(),
        })
    }
}

/// What [`insert_state`] wrote.
pub(super) struct Inserted {
    /// The last revision written, `None` when the state was empty.
    pub revision: Option<u64>,
    /// The changes as the log holds them, when they were asked for and their
    /// revisions are known for certain (see [`consecutive`]).
    pub changes: Option<Vec<Change>>,
}

/// Inserts `state`'s roles, identities, nodes and assignments in `tx`, in that
/// order, each with its change row recorded as `action` by `tx`'s caller; with
/// `keep_changes`, also returns those changes, so that this instance can apply
/// them without reading them back from the log.
///
/// Every object goes in first; the revision lock is taken only for their
/// change rows, so that other environments' writes wait for those alone, not
/// for the whole load.
///
/// On SQLite the connection's page cache is widened for the insert and set back
/// after it: an assignment's identity, role and node indexes take its entries
/// in no particular order, so with the default 2 MiB cache most entries land on
/// a page that was spilled to the WAL and must be read and spilled again.
pub(super) async fn insert_state(
    tx: &mut WriteTx<'_>,
    state: &EnvironmentState,
    action: &str,
    keep_changes: bool,
    objects_inserted: impl Future<Output = ()> + Send,
) -> Result<Inserted> {
    let widened = cache::widen(&tx.txn).await?;
    let inserted =
        async {
            let started = Instant::now();
            for batch in steps(state) {
                batch.insert(&tx.txn).await?;
            }
            let objects_took = started.elapsed();
            objects_inserted.await;

            let started = Instant::now();
            tx.lock_revisions().await?;
            let locked_after = started.elapsed();
            let common = rows::ChangeCommon {
                environment: tx.caller.environment,
                at: tx.now,
                actor: tx.caller.actor.identity(),
                action,
            };
            let mut last = latest_revision(&tx.txn).await?;
            let mut inserted = Inserted {
                revision: None,
                changes: keep_changes.then(Vec::new),
            };
            for batch in steps(state) {
                let events: Vec<Event> = batch.events().collect();
                rows::insert(
                    &tx.txn,
                    &rows::CHANGES,
                    &events,
                    |event, out| common.push(event, out),
                    "record the changes",
                )
                .await?;
                let previous = last;
                last = latest_revision(&tx.txn).await?;
                inserted.revision = Some(last);
                if inserted.changes.is_some()
                    && !consecutive(&tx.txn, previous, events.len(), last).await?
                {
                    inserted.changes = None;
                }
                if let Some(changes) = &mut inserted.changes {
                    let first = last + 1 - events.len() as u64;
                    changes.extend(events.into_iter().zip(first..).map(|(event, revision)| {
                        Change {
                            revision,
                            environment_id: common.environment,
                            at: common.at,
                            actor: common.actor,
                            action: action.to_owned(),
                            before: None,
                            event,
                            signed_by: None,
                        }
                    }));
                }
            }
            tracing::debug!(
                objects_ms = objects_took.as_millis() as u64,
                revision_lock_wait_ms = locked_after.as_millis() as u64,
                changes_ms = (started.elapsed() - locked_after).as_millis() as u64,
                "bulk insert: objects and their change rows inserted"
            );
            Ok(inserted)
        }
        .await;
    cache::restore(&tx.txn, widened).await?;
    inserted
}

/// The objects of `state`, kind by kind in insertion order, in steps.
fn steps(state: &EnvironmentState) -> impl Iterator<Item = Batch<'_>> {
    [
        Batch::Roles(&state.roles),
        Batch::Identities(&state.identities),
        Batch::Nodes(&state.nodes),
        Batch::Assignments(&state.assignments),
    ]
    .into_iter()
    .flat_map(|kind| kind.chunks(OBJECTS_PER_STEP))
}

/// Whether the change rows after `previous` that `txn` sees are exactly `count`
/// rows numbered up to `last` without a gap: then they are the ones just written,
/// in the order written, and each one's revision is known without reading it.
async fn consecutive(
    txn: &DatabaseTransaction,
    previous: u64,
    count: usize,
    last: u64,
) -> Result<bool> {
    let (rows, lowest, highest): (i64, Option<i64>, Option<i64>) = change::Entity::find()
        .filter(change::Column::Revision.gt(previous as i64))
        .select_only()
        .column_as(change::Column::Revision.count(), "rows")
        .column_as(change::Column::Revision.min(), "lowest")
        .column_as(change::Column::Revision.max(), "highest")
        .into_tuple()
        .one(txn)
        .await
        .map_err(error::on_query("count the changes written"))?
        .unwrap_or((0, None, None));
    Ok(rows as usize == count
        && highest == Some(last as i64)
        && lowest == Some(last as i64 + 1 - count as i64))
}

/// How many objects `state` holds (API keys aside).
pub(super) fn object_count(state: &EnvironmentState) -> usize {
    state.roles.len() + state.identities.len() + state.nodes.len() + state.assignments.len()
}

pub(super) fn refuse_unloadable(env: EnvironmentId, state: &EnvironmentState) -> Result<()> {
    let invalid = |field: &str, description: &str| Err(Error::invalid(field, description));
    let foreign = |field: &str| invalid(field, "belongs to another environment");
    if !state.api_keys.is_empty() {
        return invalid("api_keys", "a bulk load takes no API keys");
    }
    if let Some(i) = state.roles.iter().position(|r| r.environment_id != env) {
        return foreign(&format!("roles[{i}]"));
    }
    if let Some(i) = state
        .identities
        .iter()
        .position(|x| x.environment_id != env)
    {
        return foreign(&format!("identities[{i}]"));
    }
    if let Some(i) = state.nodes.iter().position(|n| n.environment_id != env) {
        return foreign(&format!("nodes[{i}]"));
    }
    if let Some(i) = state.nodes.iter().position(|n| n.parent_id.is_none()) {
        return invalid(
            &format!("nodes[{i}].parent_id"),
            "the environment has its root already: give every node a parent",
        );
    }
    if let Some(i) = state
        .assignments
        .iter()
        .position(|a| a.environment_id != env)
    {
        return foreign(&format!("assignments[{i}]"));
    }
    Ok(())
}

impl<'a> Batch<'a> {
    fn len(&self) -> usize {
        match self {
            Self::Roles(x) => x.len(),
            Self::Identities(x) => x.len(),
            Self::Nodes(x) => x.len(),
            Self::Assignments(x) => x.len(),
        }
    }

    /// The batch in slices of at most `size` objects.
    fn chunks(self, size: usize) -> impl Iterator<Item = Batch<'a>> {
        let starts = (0..self.len()).step_by(size);
        starts.map(move |start| {
            let end = (start + size).min(self.len());
            match self {
                Self::Roles(x) => Self::Roles(&x[start..end]),
                Self::Identities(x) => Self::Identities(&x[start..end]),
                Self::Nodes(x) => Self::Nodes(&x[start..end]),
                Self::Assignments(x) => Self::Assignments(&x[start..end]),
            }
        })
    }

    async fn insert(&self, txn: &DatabaseTransaction) -> Result<()> {
        match self {
            Self::Roles(roles) => {
                rows::insert(txn, &rows::ROLES, roles, rows::role, "store the roles").await?;
                let permissions: Vec<_> = roles
                    .iter()
                    .flat_map(|r| {
                        r.permissions
                            .iter()
                            .zip(0..)
                            .map(|(p, i)| (r.id.0, i, p.as_str().to_owned()))
                    })
                    .collect();
                rows::insert(
                    txn,
                    &rows::ROLE_PERMISSIONS,
                    &permissions,
                    rows::permission,
                    "store the roles' permissions",
                )
                .await
            }
            Self::Identities(x) => {
                rows::insert(
                    txn,
                    &rows::IDENTITIES,
                    x,
                    rows::identity,
                    "store the identities",
                )
                .await
            }
            Self::Nodes(x) => {
                rows::insert(txn, &rows::NODES, x, rows::node, "store the nodes").await
            }
            Self::Assignments(x) => {
                rows::insert(
                    txn,
                    &rows::ASSIGNMENTS,
                    x,
                    rows::assignment,
                    "store the assignments",
                )
                .await
            }
        }
    }

    /// The event a single create of each object records.
    fn events(self) -> Box<dyn Iterator<Item = Event> + Send + 'a> {
        match self {
            Self::Roles(x) => Box::new(x.iter().cloned().map(Event::RoleSaved)),
            Self::Identities(x) => Box::new(x.iter().cloned().map(Event::IdentitySaved)),
            Self::Nodes(x) => Box::new(x.iter().cloned().map(Event::NodeSaved)),
            Self::Assignments(x) => Box::new(x.iter().cloned().map(Event::AssignmentCreated)),
        }
    }
}

mod cache;
mod export;
mod import;
#[cfg(test)]
mod tests;

pub use export::EnvironmentExport;
pub use import::Builtins;
