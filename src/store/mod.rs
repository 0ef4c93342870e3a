//! Storage through SeaORM (SQLite or PostgreSQL), in domain terms: callers
//! never see SeaORM types. Every mutation runs in one transaction that also
//! writes its change-log rows: its environment's lane's batch (see `lanes`),
//! inside a savepoint of its own.

mod api_keys;
mod assignment_insert;
mod assignments;
mod assignments_bulk;
mod bulk;
mod changes;
mod convert;
mod credentials;
mod entity;
mod environments;
mod error;
mod guard;
mod identities;
mod lanes;
mod nodes;
mod notify;
mod recover;
mod request_records;
mod resolve;
mod roles;
mod rows;
mod snapshot;
mod user_actions;
mod write;

use std::time::Duration;

use crate::domain::{Caller, Change, Result};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};

pub use assignments::{
    AssignmentFilter, AssignmentSelector, AssignmentView, GrantCheck, InitialAssignment,
    NewAssignment,
};
pub use assignments_bulk::{AssignmentMatch, RolesSet, WindowUpdate};
pub use bulk::{Builtins, EnvironmentExport};
pub use changes::ChangeFilter;
pub use credentials::NewCredential;
pub use environments::Provisioned;
pub use error::{UNREACHABLE, errors_total};
pub use identities::{IdentityFilter, IdentityUpdate, NewIdentity};
pub use nodes::{DeletedNode, NewNode};
pub use request_records::{RecordedResponse, RequestKey};
pub use roles::{NewRole, RoleUpdate};
pub use user_actions::{Challenge, UserAction};

/// A write's result: the object(s) written, the change-log revision, and the
/// changes it recorded, so the writing instance can apply them without reading the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written<T> {
    pub value: T,
    pub revision: u64,
    /// In revision order; the last one's revision is `revision`.
    pub changes: Vec<Change>,
}

/// The database behind rbacd.
pub struct Store {
    db: DatabaseConnection,
    /// Where writes queue and are committed together (see [`lanes`]).
    lanes: lanes::Lanes,
}

impl Store {
    /// Connects to `url` (`sqlite://…` or `postgres://…`).
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_in_schema(url, None, None).await
    }

    /// Connects to `url`; on PostgreSQL, with rbacd's tables in `schema`
    /// (created if missing) instead of the default search path. SQLite ignores it.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn connect_in_schema(
        url: &str,
        schema: Option<&str>,
        max_connections: Option<u32>,
    ) -> Result<Self> {
        let schema = schema.filter(|s| *s != "public");
        if let Some(name) = schema {
            check_schema_name(name)?;
        }
        let schema = schema.filter(|_| url.starts_with("postgres"));
        let mut options = ConnectOptions::new(url.to_owned());
        if let Some(name) = schema {
            let name = name.to_owned();
            options.map_sqlx_postgres_opts(move |o| o.options([("search_path", name.clone())]));
        }
        if let Some(max) = max_connections {
            options.max_connections(max);
        }
        options
            .sqlx_logging(false)
            // Short, so that writes fail fast while the database is out of reach.
            .connect_timeout(Duration::from_secs(3))
            .acquire_timeout(Duration::from_secs(3))
            // A ping on every checkout is a round trip per query; a connection
            // in use is known to be alive, one idle for a second is checked.
            .test_before_acquire_if_idle_for(Duration::from_secs(1))
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Full)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
            });
        let db = Database::connect(options)
            .await
            .map_err(|e| error::internal("connect to the database", e))?;
        if let Some(name) = schema {
            db.execute_unprepared(&format!("CREATE SCHEMA IF NOT EXISTS \"{name}\""))
                .await
                .map_err(|e| error::internal("create the database schema", e))?;
        }
        let lanes = lanes::Lanes::new(db.get_database_backend());
        Ok(Self { db, lanes })
    }

    /// Applies every pending migration.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn migrate(&self) -> Result<()> {
        Migrator::up(&self.db, None)
            .await
            .map_err(|e| error::internal("apply migrations", e))
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> bool {
        self.db.ping().await.is_ok()
    }

    /// Closes the connection pool.
    pub async fn close(self) {
        let _ = self.db.close().await;
    }
}

/// A PostgreSQL schema name rbacd accepts: lower-case letters, digits and `_`,
/// not starting with a digit, at most 63 bytes (so it never needs escaping).
fn check_schema_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(crate::domain::Error::invalid(
            "--database-schema",
            "use lower-case letters, digits and _, at most 63 characters, not starting with a digit",
        ))
    }
}
