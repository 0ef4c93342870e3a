//! Reading the snapshot's tables straight from SQLite, below sqlx (rusqlite over
//! the SQLite library sqlx links): the assignments, the identities and the rest
//! each on a connection and a blocking thread of their own, all connections at
//! one committed state.
//!
//! While a gate connection holds the write lock (`BEGIN IMMEDIATE`) no write can
//! commit, so readers whose read transactions start meanwhile (in WAL mode, at
//! their first read) all see the same state. Writers wait (the busy timeout) only
//! for that moment, not for the whole read.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::{
    LATEST_REVISION, Permissions, READERS, Tables,
    decode::{
        API_KEYS, ASSIGNMENTS, ENVIRONMENTS, IDENTITIES, NODES, ROLE_PERMISSIONS, ROLES, Table,
    },
    group::ByEnvironment,
    read::failed,
    row::decode,
};
use crate::domain::{EnvironmentId, Error, Result, Snapshot};

/// As long as the store's own connections wait for a lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The snapshot of the WAL-mode database file at `path`.
pub(super) async fn load(path: PathBuf) -> Result<Snapshot> {
    let (revision, [rest, identities, assignments]) = blocking(move || begin(&path)).await?;
    let assignments = tokio::task::spawn_blocking(move || {
        grouped(&assignments, &ASSIGNMENTS, |a| a.environment_id)
    });
    let identities = tokio::task::spawn_blocking(move || {
        grouped(&identities, &IDENTITIES, |i| i.environment_id)
    });
    let mut tables = blocking(move || read_rest(&rest)).await?;
    tables.identities = joined(identities).await?;
    tables.assignments = joined(assignments).await?;
    Ok(tables.into_snapshot(revision))
}

/// `READERS` connections in read transactions at one revision, and that revision.
fn begin(path: &Path) -> Result<(u64, [Connection; READERS])> {
    let start = |e: rusqlite::Error| failed("the snapshot's start", &e);
    let gate = open(path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    gate.execute_batch("BEGIN IMMEDIATE").map_err(start)?;
    let mut readers = Vec::with_capacity(READERS);
    let mut revisions = Vec::with_capacity(READERS);
    for _ in 0..READERS {
        let reader = open(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        reader.execute_batch("BEGIN").map_err(start)?;
        let last: i64 = reader
            .query_row(LATEST_REVISION, [], |row| row.get(0))
            .map_err(|e| failed("changes", &e))?;
        revisions.push(last as u64);
        readers.push(reader);
    }
    gate.execute_batch("ROLLBACK").map_err(start)?;
    if revisions.iter().any(|r| *r != revisions[0]) {
        // Cannot happen while the gate holds the write lock.
        return Err(Error::Internal(
            "the snapshot's read transactions saw different revisions".into(),
        ));
    }
    let readers = readers
        .try_into()
        .map_err(|_| Error::Internal("the snapshot's readers went missing".into()))?;
    // The read transactions end when their connections close.
    Ok((revisions[0], readers))
}

fn open(path: &Path, access: OpenFlags) -> Result<Connection> {
    let connection = Connection::open_with_flags(path, access | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| failed("the snapshot's connections", &e))?;
    connection
        .busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| failed("the snapshot's connections", &e))?;
    Ok(connection)
}

/// The environments, roles (with their permissions), nodes and API keys; the
/// identities and assignments left empty.
fn read_rest(conn: &Connection) -> Result<Tables> {
    let mut environments = Vec::new();
    read(conn, &ENVIRONMENTS, |e| environments.push(e))?;
    let mut permissions = Permissions::default();
    read(conn, &ROLE_PERMISSIONS, |p| permissions.add(p))?;
    let mut roles = ByEnvironment::default();
    read(conn, &ROLES, |r| permissions.give(&mut roles, r))?;
    Ok(Tables {
        environments,
        roles,
        nodes: grouped(conn, &NODES, |n| n.environment_id)?,
        api_keys: grouped(conn, &API_KEYS, |k| k.environment_id)?,
        identities: ByEnvironment::default(),
        assignments: ByEnvironment::default(),
    })
}

/// Every row of `table`, sorted into environments.
fn grouped<T>(
    conn: &Connection,
    table: &Table<T>,
    environment: fn(&T) -> EnvironmentId,
) -> Result<ByEnvironment<T>> {
    let mut by = ByEnvironment::default();
    read(conn, table, |item| by.push(environment(&item), item))?;
    Ok(by)
}

/// Reads every row of `table` and hands each object to `each`, in the table's order.
fn read<T>(conn: &Connection, table: &Table<T>, mut each: impl FnMut(T)) -> Result<()> {
    let fail = |e: rusqlite::Error| failed(table.name, &e);
    let mut statement = conn.prepare(table.select).map_err(fail)?;
    let mut rows = statement.query([]).map_err(fail)?;
    while let Some(row) = rows.next().map_err(fail)? {
        each(decode(table, row)?);
    }
    Ok(())
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    joined(tokio::task::spawn_blocking(work)).await
}

async fn joined<T>(task: tokio::task::JoinHandle<Result<T>>) -> Result<T> {
    task.await
        .map_err(|e| Error::Internal(format!("reading the snapshot failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use rbacd_testkit::FreshDb;

    use super::*;
    use crate::domain::{
        Assignment, AssignmentId, Email, EnvironmentState, ExternalId, Identity, IdentityId,
        IdentityKind, IdentityStatus, Node, NodeId, NodeKey, NodeRef, PermissionPattern, Role,
        RoleId, RoleName, Timestamp,
    };
    use crate::store::Store;

    const T: Timestamp = Timestamp(1_750_000_000_000_000);

    /// A SQLite file holding, beside what `default`'s creation made, objects
    /// covering every column: windows, missing emails, external ids, statuses.
    async fn seeded() -> (FreshDb, Store) {
        let db = FreshDb::sqlite();
        let store = Store::connect(db.url()).await.unwrap();
        store.migrate().await.unwrap();
        let made = store.ensure_environment("default", None).await.unwrap();
        let env = made.unwrap().environment.id;
        let root = store.get_node(env, &NodeRef::root()).await.unwrap().id;
        let mut state = EnvironmentState::default();
        for r in 0..5 {
            state.roles.push(Role {
                id: RoleId::generate(),
                environment_id: env,
                name: RoleName::parse(&format!("Role{r}")).unwrap(),
                description: format!("role {r}"),
                permissions: vec![
                    PermissionPattern::parse(&format!("App{r}:Read")).unwrap(),
                    PermissionPattern::parse("Docs:*").unwrap(),
                ],
                created_at: T,
                updated_at: T,
            });
        }
        let mut parent = root;
        for n in 0..200 {
            let id = NodeId::generate();
            state.nodes.push(Node {
                id,
                environment_id: env,
                key: NodeKey::parse(&format!("n{n}")).unwrap(),
                name: format!("Node {n}"),
                kind: "team".into(),
                parent_id: Some(parent),
                created_at: T,
                updated_at: Timestamp(T.0 + n),
            });
            if n % 3 == 0 {
                parent = id;
            }
        }
        for i in 0..500_usize {
            state.identities.push(Identity {
                id: IdentityId::generate(),
                environment_id: env,
                kind: [IdentityKind::User, IdentityKind::ServiceAccount][i % 2],
                status: [IdentityStatus::Active, IdentityStatus::Disabled][i % 3 / 2],
                email: i
                    .is_multiple_of(2)
                    .then(|| Email::parse(&format!("u{i}@example.com")).unwrap()),
                external_id: (!i.is_multiple_of(2))
                    .then(|| ExternalId::parse(&format!("svc|{i}")).unwrap()),
                display_name: format!("Identity {i}"),
                created_at: T,
                updated_at: T,
            });
        }
        for k in 0..2_000_usize {
            let window = k as i64 % 4;
            state.assignments.push(Assignment {
                id: AssignmentId::generate(),
                environment_id: env,
                identity_id: state.identities[k % 500].id,
                role_id: state.roles[k / 500].id,
                node_id: state.nodes[k % 200].id,
                effective_from: (window == 1).then_some(T),
                effective_to: (window >= 2).then_some(Timestamp(T.0 + window)),
                created_at: T,
            });
        }
        store.bulk_load(env, &state).await.unwrap();
        (db, store)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_direct_read_equals_the_read_through_sqlx() {
        let (_db, store) = seeded().await;
        let direct = store.load_snapshot().await.unwrap();
        let pool = store.db.get_sqlite_connection_pool();
        let mut tx = pool.begin().await.unwrap();
        let revision: i64 = sea_orm::sqlx::query_scalar(LATEST_REVISION)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        let through_sqlx = super::super::load(revision as u64, vec![tx]).await.unwrap();

        assert_eq!(direct.revision, revision as u64);
        let (_, state) = &direct.environments[0];
        assert!(state.assignments.len() > 2_000 && state.nodes.len() >= 200);
        assert!(
            state.assignments.iter().any(|a| a.effective_to.is_some())
                && state.identities.iter().any(|i| i.email.is_none()),
            "the dataset covers optional columns"
        );
        // Every field of every object, in the same order.
        assert_eq!(format!("{direct:?}"), format!("{through_sqlx:?}"));
    }

    #[tokio::test]
    async fn a_missing_database_file_is_an_error_not_an_empty_snapshot() {
        let dir = std::env::temp_dir().join(format!("rbacd-direct-{}", uuid::Uuid::new_v4()));
        let Err(Error::Internal(message)) = load(dir.join("absent.db")).await else {
            panic!("a missing file must fail the snapshot");
        };
        assert!(message.contains("connections"), "{message}");
    }
}
