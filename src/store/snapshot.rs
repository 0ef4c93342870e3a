//! Loading everything the in-memory index is built from, consistently.
//!
//! The tables are streamed (through sqlx on PostgreSQL, straight from SQLite's
//! library on a SQLite file), each row decoded straight into its domain object
//! and its environment's list, with no intermediate models. The big tables are
//! read at the same time on separate connections whose read transactions see one
//! committed state (see `direct` and `postgres`), so the snapshot is exactly one revision.

mod decode;
mod direct;
mod group;
mod postgres;
mod read;
mod row;
mod sqlite;

use std::collections::HashMap;

use sea_orm::DbBackend;

use self::{
    decode::{
        API_KEYS, ASSIGNMENTS, ENVIRONMENTS, IDENTITIES, NODES, ROLE_PERMISSIONS, ROLES, Table,
    },
    group::ByEnvironment,
    read::{ReadTx, failed, read, read_all},
};
use super::Store;
use crate::domain::{
    ApiKey, Assignment, Environment, EnvironmentId, EnvironmentState, Error, Identity, Node,
    PermissionPattern, Result, Role, RoleId, Snapshot,
};

/// The last revision in the change log, 0 when it is empty.
const LATEST_REVISION: &str = r#"SELECT COALESCE(MAX("revision"), 0) FROM "changes""#;

/// Read transactions the snapshot is read in: the assignments, the identities, the rest.
const READERS: usize = 3;

impl Store {
    /// Every environment's roles, identities, nodes and assignments, as of one
    /// revision, with that revision.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn load_snapshot(&self) -> Result<Snapshot> {
        match self.db.get_database_backend() {
            DbBackend::Sqlite => sqlite::load(self.db.get_sqlite_connection_pool()).await,
            DbBackend::Postgres => postgres::load(self.db.get_postgres_connection_pool()).await,
            other => Err(Error::Internal(format!("{other:?} is not supported"))),
        }
    }
}

/// Reads every table in `txs` (all at `revision`): the assignments and the
/// identities each in a task of their own when there are transactions for them,
/// the rest in the first.
async fn load<X: ReadTx>(revision: u64, txs: Vec<X>) -> Result<Snapshot> {
    let mut txs = txs.into_iter();
    let Some(mut rest) = txs.next() else {
        return Err(Error::Internal("no read transaction".into()));
    };
    let assignments = Part::new(txs.next(), &ASSIGNMENTS, |a| a.environment_id);
    let identities = Part::new(txs.next(), &IDENTITIES, |i| i.environment_id);

    let environments = read_all(&mut rest, &ENVIRONMENTS).await?;
    let mut permissions = Permissions::default();
    read(&mut rest, &ROLE_PERMISSIONS, |p| permissions.add(p)).await?;
    let mut roles = ByEnvironment::<Role>::default();
    read(&mut rest, &ROLES, |r| permissions.give(&mut roles, r)).await?;
    let nodes = grouped(&mut rest, &NODES, |n| n.environment_id).await?;
    let api_keys = grouped(&mut rest, &API_KEYS, |k| k.environment_id).await?;
    let identities = identities.join(&mut rest).await?;
    let assignments = assignments.join(&mut rest).await?;
    finish(rest).await?;
    Ok(Tables {
        environments,
        roles,
        nodes,
        api_keys,
        identities,
        assignments,
    }
    .into_snapshot(revision))
}

/// Every table, read and sorted into environments.
struct Tables {
    environments: Vec<Environment>,
    roles: ByEnvironment<Role>,
    nodes: ByEnvironment<Node>,
    api_keys: ByEnvironment<ApiKey>,
    identities: ByEnvironment<Identity>,
    assignments: ByEnvironment<Assignment>,
}

impl Tables {
    fn into_snapshot(self, revision: u64) -> Snapshot {
        let mut states: HashMap<EnvironmentId, EnvironmentState> = HashMap::new();
        for (env, list) in self.roles.into_lists() {
            states.entry(env).or_default().roles = list;
        }
        for (env, list) in self.nodes.into_lists() {
            states.entry(env).or_default().nodes = list;
        }
        for (env, list) in self.api_keys.into_lists() {
            states.entry(env).or_default().api_keys = list;
        }
        for (env, list) in self.identities.into_lists() {
            states.entry(env).or_default().identities = list;
        }
        for (env, list) in self.assignments.into_lists() {
            states.entry(env).or_default().assignments = list;
        }
        Snapshot {
            revision,
            environments: self
                .environments
                .into_iter()
                .map(|env| {
                    let state = states.remove(&env.id).unwrap_or_default();
                    (env, state)
                })
                .collect(),
        }
    }
}

/// Role permissions read before their roles, handed to each role as it is read.
#[derive(Default)]
struct Permissions(HashMap<RoleId, Vec<PermissionPattern>>);

impl Permissions {
    fn add(&mut self, (role, permission): (RoleId, PermissionPattern)) {
        self.0.entry(role).or_default().push(permission);
    }

    fn give(&mut self, roles: &mut ByEnvironment<Role>, mut role: Role) {
        role.permissions = self.0.remove(&role.id).unwrap_or_default();
        roles.push(role.environment_id, role);
    }
}

/// Every row of `table`, sorted into environments.
async fn grouped<X: ReadTx, T>(
    tx: &mut X,
    table: &Table<T>,
    environment: fn(&T) -> EnvironmentId,
) -> Result<ByEnvironment<T>> {
    let mut by = ByEnvironment::default();
    read(tx, table, |item| by.push(environment(&item), item)).await?;
    Ok(by)
}

async fn finish<X: ReadTx>(tx: X) -> Result<()> {
    tx.finish()
        .await
        .map_err(|e| failed("the end of the snapshot", &e))
}

/// A big table, read in a task of its own on its own transaction, or later on the first.
enum Part<T: 'static> {
    Spawned(Task<ByEnvironment<T>>),
    Later(&'static Table<T>, fn(&T) -> EnvironmentId),
}

impl<T: Send + 'static> Part<T> {
    fn new<X: ReadTx>(
        tx: Option<X>,
        table: &'static Table<T>,
        environment: fn(&T) -> EnvironmentId,
    ) -> Self {
        match tx {
            Some(mut tx) => Self::Spawned(Task(tokio::spawn(async move {
                let by = grouped(&mut tx, table, environment).await?;
                finish(tx).await.map(|()| by)
            }))),
            None => Self::Later(table, environment),
        }
    }

    async fn join<X: ReadTx>(self, rest: &mut X) -> Result<ByEnvironment<T>> {
        match self {
            Self::Spawned(task) => task.join().await,
            Self::Later(table, environment) => grouped(rest, table, environment).await,
        }
    }
}

/// A spawned task, aborted if the snapshot fails before joining it.
struct Task<T>(tokio::task::JoinHandle<Result<T>>);

impl<T> Task<T> {
    async fn join(mut self) -> Result<T> {
        (&mut self.0)
            .await
            .map_err(|e| Error::Internal(format!("reading the snapshot failed: {e}")))?
    }
}

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
