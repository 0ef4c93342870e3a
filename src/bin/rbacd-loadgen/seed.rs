//! Writing a generated dataset into a fresh database, fast.
//!
//! The dataset generator (`rbacd::engine::dataset`) builds an environment of its
//! own; its rows are moved into the `default` environment that `Store` creates
//! (with a known admin API key), its root node mapped onto that environment's
//! root. `Store` creates the schema and the environment; the dataset's rows are
//! then written as multi-row INSERTs through SeaORM entities mirroring the
//! store's tables, in large transactions, with SQLite's `synchronous=OFF` and a
//! big page cache on that one connection. No change-log rows are written for
//! them: `App::open` reads tables, not the log, and the dataset is there from
//! revision 0 on, as after a restore.

use std::time::{Duration, Instant};

use rbacd::domain::{
    Assignment, Email, EnvironmentId, Identity, IdentityRef, Node, NodeId, NodeRef, Role, Snapshot,
};
use rbacd::engine::dataset::{self, CheckQuery, DatasetSpec};
use rbacd::store::Store;
use sea_orm::{
    ActiveModelTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection, EntityTrait,
    Set, TransactionTrait,
};

/// The admin API key of every seeded database's `default` environment.
pub const API_KEY: &str = "rbacd_loadgen_admin_key_0123456789abcdef";

/// The largest number of bound values in one INSERT (SQLite allows 32,766).
const VALUES_PER_STATEMENT: usize = 30_000;
/// Rows per transaction.
const ROWS_PER_TRANSACTION: usize = 250_000;

/// A seeded database and what it holds.
pub struct Seeded {
    pub url: String,
    /// The generated state, moved into `default`, for answers computed in process.
    pub snapshot: Option<Snapshot>,
    pub environment: EnvironmentId,
    pub queries: Vec<CheckQuery>,
    pub generated_in: Duration,
    /// Migrations and the `default` environment, included in `written_in`.
    pub prepared_in: Duration,
    pub written_in: Duration,
    pub rows: usize,
}

/// Generates `spec` with `queries` queries and writes it into the empty database at `url`.
pub async fn seed(
    url: &str,
    spec: DatasetSpec,
    queries: usize,
    keep_snapshot: bool,
) -> Result<Seeded, String> {
    let started = Instant::now();
    let data = dataset::generate(spec, queries);
    let generated_in = started.elapsed();

    let started = Instant::now();
    let store = Store::connect(url).await.map_err(|e| e.to_string())?;
    store.migrate().await.map_err(|e| e.to_string())?;
    let made = store
        .ensure_environment(rbacd::server::DEFAULT_ENVIRONMENT, Some(API_KEY.to_owned()))
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the database is not empty: it already has environment `default`")?;
    let env = made.environment.id;
    let root = store
        .get_node(env, &NodeRef::root())
        .await
        .map_err(|e| e.to_string())?
        .id;
    store.close().await;
    let prepared_in = started.elapsed();

    let mut environment = data.environment;
    let mut state = data.state;
    let mut queries = data.queries;
    let old_root = state
        .nodes
        .iter()
        .find(|n| n.parent_id.is_none())
        .map(|n| n.id)
        .ok_or("the dataset has no root")?;
    let moved = |id: NodeId| if id == old_root { root } else { id };
    environment.id = env;
    for n in &mut state.nodes {
        n.environment_id = env;
        n.id = moved(n.id);
        n.parent_id = n.parent_id.map(moved);
    }
    for r in &mut state.roles {
        r.environment_id = env;
    }
    for i in &mut state.identities {
        i.environment_id = env;
    }
    for a in &mut state.assignments {
        a.environment_id = env;
        a.node_id = moved(a.node_id);
    }
    for q in &mut queries {
        if let NodeRef::Id(id) = &mut q.node {
            *id = moved(*id);
        }
    }

    let db = connect_for_bulk(url).await?;
    let mut rows = 0;
    rows += write_rows(&db, state.roles.iter().map(role_row), 7).await?;
    rows += write_rows(&db, state.roles.iter().flat_map(permission_rows), 3).await?;
    rows += write_rows(&db, state.identities.iter().map(identity_row), 10).await?;
    // Parents come before children in the generated order; the root exists already.
    let nodes = state.nodes.iter().filter(|n| n.parent_id.is_some());
    rows += write_rows(&db, nodes.map(node_row), 8).await?;
    rows += write_rows(&db, state.assignments.iter().map(assignment_row), 8).await?;
    if db.get_database_backend() == sea_orm::DbBackend::Sqlite {
        // Leave a compact file without a large WAL for the servers that open it.
        db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
            .await
            .map_err(|e| format!("checkpoint: {e}"))?;
    }
    let _ = db.close().await;
    let written_in = started.elapsed();

    let snapshot = keep_snapshot.then(|| Snapshot {
        revision: 1,
        environments: vec![(environment, state)],
    });
    Ok(Seeded {
        url: url.to_owned(),
        snapshot,
        environment: env,
        queries,
        generated_in,
        prepared_in,
        written_in,
        rows,
    })
}

async fn connect_for_bulk(url: &str) -> Result<DatabaseConnection, String> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .max_connections(1)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Off)
                .foreign_keys(false)
                // 4 GiB of page cache: the unique indexes take random keys.
                .pragma("cache_size", "-4000000")
        });
    Database::connect(options)
        .await
        .map_err(|e| format!("connect to {url}: {e}"))
}

/// Inserts `rows` (of `columns` columns each) in multi-row statements; returns how many.
async fn write_rows<A>(
    db: &DatabaseConnection,
    rows: impl Iterator<Item = A>,
    columns: usize,
) -> Result<usize, String>
where
    A: ActiveModelTrait + Send,
{
    let per_statement = VALUES_PER_STATEMENT / columns;
    let mut written = 0;
    let mut txn = db.begin().await.map_err(|e| e.to_string())?;
    let mut in_txn = 0;
    let mut chunk = Vec::with_capacity(per_statement);
    let mut rows = rows.peekable();
    while rows.peek().is_some() {
        chunk.extend(rows.by_ref().take(per_statement));
        let n = chunk.len();
        A::Entity::insert_many(std::mem::take(&mut chunk))
            .exec_without_returning(&txn)
            .await
            .map_err(|e| format!("insert rows: {e}"))?;
        written += n;
        in_txn += n;
        if in_txn >= ROWS_PER_TRANSACTION {
            txn.commit().await.map_err(|e| e.to_string())?;
            txn = db.begin().await.map_err(|e| e.to_string())?;
            in_txn = 0;
        }
    }
    txn.commit().await.map_err(|e| e.to_string())?;
    Ok(written)
}

fn role_row(r: &Role) -> rows::role::ActiveModel {
    rows::role::ActiveModel {
        id: Set(r.id.0),
        environment_id: Set(r.environment_id.0),
        name: Set(r.name.to_string()),
        name_folded: Set(r.name.folded()),
        description: Set(r.description.clone()),
        created_at: Set(r.created_at.micros()),
        updated_at: Set(r.updated_at.micros()),
    }
}

fn permission_rows(r: &Role) -> impl Iterator<Item = rows::role_permission::ActiveModel> + '_ {
    r.permissions
        .iter()
        .enumerate()
        .map(|(i, p)| rows::role_permission::ActiveModel {
            role_id: Set(r.id.0),
            position: Set(i as i32),
            permission: Set(p.as_str().to_owned()),
        })
}

fn identity_row(i: &Identity) -> rows::identity::ActiveModel {
    rows::identity::ActiveModel {
        id: Set(i.id.0),
        environment_id: Set(i.environment_id.0),
        kind: Set(i.kind.as_str().to_owned()),
        status: Set(i.status.as_str().to_owned()),
        email: Set(i.email.as_ref().map(|e| e.to_string())),
        email_folded: Set(i.email.as_ref().map(Email::folded)),
        external_id: Set(i.external_id.as_ref().map(|e| e.to_string())),
        display_name: Set(i.display_name.clone()),
        created_at: Set(i.created_at.micros()),
        updated_at: Set(i.updated_at.micros()),
    }
}

fn node_row(n: &Node) -> rows::node::ActiveModel {
    rows::node::ActiveModel {
        id: Set(n.id.0),
        environment_id: Set(n.environment_id.0),
        key: Set(n.key.to_string()),
        name: Set(n.name.clone()),
        kind: Set(n.kind.clone()),
        parent_id: Set(n.parent_id.map(|p| p.0)),
        created_at: Set(n.created_at.micros()),
        updated_at: Set(n.updated_at.micros()),
    }
}

fn assignment_row(a: &Assignment) -> rows::assignment::ActiveModel {
    rows::assignment::ActiveModel {
        id: Set(a.id.0),
        environment_id: Set(a.environment_id.0),
        identity_id: Set(a.identity_id.0),
        role_id: Set(a.role_id.0),
        node_id: Set(a.node_id.0),
        effective_from: Set(a.effective_from.map(|t| t.micros())),
        effective_to: Set(a.effective_to.map(|t| t.micros())),
        created_at: Set(a.created_at.micros()),
    }
}

/// A check query on the wire.
pub fn request(query: &CheckQuery, correlation_id: String) -> rbacd::proto::v1::CheckRequest {
    use rbacd::proto::v1 as pb;
    let identity = match &query.identity {
        IdentityRef::Id(id) => pb::identity_ref::Ref::Id(id.to_string()),
        IdentityRef::ExternalId(e) => pb::identity_ref::Ref::ExternalId(e.to_string()),
        IdentityRef::Email(e) => pb::identity_ref::Ref::Email(e.to_string()),
    };
    let node = match &query.node {
        NodeRef::Id(id) => pb::node_ref::Ref::Id(id.to_string()),
        NodeRef::Key(k) => pb::node_ref::Ref::Key(k.to_string()),
    };
    let micros = query.at.micros();
    pb::CheckRequest {
        correlation_id,
        identity: Some(pb::IdentityRef {
            r#ref: Some(identity),
        }),
        permission: query.permission.as_str().to_owned(),
        node: Some(pb::NodeRef { r#ref: Some(node) }),
        at: Some(prost_types::Timestamp {
            seconds: micros.div_euclid(1_000_000),
            nanos: (micros.rem_euclid(1_000_000) * 1000) as i32,
        }),
        min_revision: 0,
    }
}

/// The store's tables, as far as seeding needs them (the store's own entities are private).
mod rows {
    pub mod role {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "roles")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub environment_id: Uuid,
            pub name: String,
            pub name_folded: String,
            pub description: String,
            pub created_at: i64,
            pub updated_at: i64,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    pub mod role_permission {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "role_permissions")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub role_id: Uuid,
            #[sea_orm(primary_key, auto_increment = false)]
            pub position: i32,
            pub permission: String,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    pub mod identity {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "identities")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub environment_id: Uuid,
            pub kind: String,
            pub status: String,
            pub email: Option<String>,
            pub email_folded: Option<String>,
            pub external_id: Option<String>,
            pub display_name: String,
            pub created_at: i64,
            pub updated_at: i64,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    pub mod node {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "nodes")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub environment_id: Uuid,
            pub key: String,
            pub name: String,
            pub kind: String,
            pub parent_id: Option<Uuid>,
            pub created_at: i64,
            pub updated_at: i64,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    pub mod assignment {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "assignments")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub environment_id: Uuid,
            pub identity_id: Uuid,
            pub role_id: Uuid,
            pub node_id: Uuid,
            pub effective_from: Option<i64>,
            pub effective_to: Option<i64>,
            pub created_at: i64,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }
}
