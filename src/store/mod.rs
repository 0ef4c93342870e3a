//! Storage through SeaORM (SQLite or PostgreSQL), in domain terms: callers
//! never see SeaORM types. Every mutation runs in one transaction that also
//! writes its change-log rows.

mod api_keys;
mod assignments;
mod bulk;
mod changes;
mod convert;
mod credentials;
mod entity;
mod environments;
mod error;
mod guard;
mod identities;
mod nodes;
mod resolve;
mod roles;
mod snapshot;
mod user_actions;
mod write;

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};
use tokio::sync::Mutex;

use crate::domain::{EnvironmentId, Result};

pub use assignments::{
    AssignmentFilter, AssignmentSelector, AssignmentView, InitialAssignment, NewAssignment,
};
pub use changes::ChangeFilter;
pub use credentials::NewCredential;
pub use environments::Provisioned;
pub use identities::{IdentityFilter, IdentityUpdate, NewIdentity};
pub use nodes::{DeletedNode, NewNode};
pub use roles::{NewRole, RoleUpdate};
pub use user_actions::{Challenge, UserAction};
pub use write::CHANGES_CHANNEL;

/// A write's result: the object(s) written and the change-log revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written<T> {
    pub value: T,
    pub revision: u64,
}

/// Who acts, and in which environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scope {
    pub environment_id: EnvironmentId,
    pub actor: Option<crate::domain::IdentityId>,
}

/// The database behind rbacd.
pub struct Store {
    db: DatabaseConnection,
    /// Serializes this instance's writes, so revisions commit in order.
    write_lock: Mutex<()>,
}

impl Store {
    /// Connects to `url` (`sqlite://…` or `postgres://…`).
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn connect(url: &str) -> Result<Self> {
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .sqlx_logging(false)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(10))
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Full)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
            });
        let db = Database::connect(options)
            .await
            .map_err(|e| error::internal("connect to the database", e))?;
        Ok(Self {
            db,
            write_lock: Mutex::new(()),
        })
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
