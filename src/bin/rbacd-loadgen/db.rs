//! Fresh databases for a run: a temporary SQLite file, or a uniquely named
//! PostgreSQL database; removed (dropped) when dropped. The large dataset can
//! instead be kept between runs: in a named SQLite file, or in the PostgreSQL
//! database [`KEPT_POSTGRES_DATABASE`].

use std::{path::PathBuf, time::Duration};

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
};

/// The PostgreSQL database the large dataset is kept in with `--keep-large-postgres`.
pub const KEPT_POSTGRES_DATABASE: &str = "rbacd_loadgen_large";
/// Where it is seeded first; renamed to [`KEPT_POSTGRES_DATABASE`] once complete,
/// so an interrupted seeding is never reused.
const SEEDING_POSTGRES_DATABASE: &str = "rbacd_loadgen_large_seeding";

enum Cleanup {
    Keep,
    Sqlite(PathBuf),
    Postgres { admin_url: String, name: String },
}

/// An empty database, removed when this is dropped.
pub struct FreshDb {
    pub url: String,
    cleanup: Cleanup,
}

impl FreshDb {
    /// A new SQLite file in the temporary directory.
    pub fn sqlite() -> Self {
        let unique = uuid::Uuid::new_v4().simple().to_string();
        let path = std::env::temp_dir().join(format!("rbacd-loadgen-{unique}.db"));
        Self {
            url: format!("sqlite://{}?mode=rwc", path.display()),
            cleanup: Cleanup::Sqlite(path),
        }
    }

    /// The SQLite file at `path`, kept when dropped; whether it already existed.
    pub fn kept_sqlite(path: &std::path::Path) -> (Self, bool) {
        let existed = path.exists();
        let db = Self {
            url: format!("sqlite://{}?mode=rwc", path.display()),
            cleanup: Cleanup::Keep,
        };
        (db, existed)
    }

    /// A new database on the PostgreSQL server `admin_url` names.
    pub async fn postgres(admin_url: &str) -> Result<Self, String> {
        let name = format!("rbacd_loadgen_{}", uuid::Uuid::new_v4().simple());
        admin_execute(admin_url, &format!("CREATE DATABASE {name}")).await?;
        Ok(Self {
            url: with_database(admin_url, &name),
            cleanup: Cleanup::Postgres {
                admin_url: admin_url.to_owned(),
                name,
            },
        })
    }

    /// The database [`KEPT_POSTGRES_DATABASE`] on the server `admin_url` names, kept
    /// when dropped, if it exists; otherwise an empty one to seed, to be passed to
    /// [`FreshDb::keep_seeded_postgres`] once seeded.
    pub async fn kept_postgres(admin_url: &str) -> Result<(Self, bool), String> {
        if database_exists(admin_url, KEPT_POSTGRES_DATABASE).await? {
            let db = Self {
                url: with_database(admin_url, KEPT_POSTGRES_DATABASE),
                cleanup: Cleanup::Keep,
            };
            return Ok((db, true));
        }
        let name = SEEDING_POSTGRES_DATABASE;
        admin_execute(
            admin_url,
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        )
        .await?;
        admin_execute(admin_url, &format!("CREATE DATABASE {name}")).await?;
        let db = Self {
            url: with_database(admin_url, name),
            cleanup: Cleanup::Postgres {
                admin_url: admin_url.to_owned(),
                name: name.to_owned(),
            },
        };
        Ok((db, false))
    }

    /// Renames a seeded database from [`FreshDb::kept_postgres`] to
    /// [`KEPT_POSTGRES_DATABASE`] and keeps it; any other database is left as it is.
    pub async fn keep_seeded_postgres(mut self) -> Result<Self, String> {
        let Cleanup::Postgres { admin_url, name } = &self.cleanup else {
            return Ok(self);
        };
        if name != SEEDING_POSTGRES_DATABASE {
            return Ok(self);
        }
        let admin_url = admin_url.clone();
        let sql = format!("ALTER DATABASE {name} RENAME TO {KEPT_POSTGRES_DATABASE}");
        admin_execute(&admin_url, &sql).await?;
        self.cleanup = Cleanup::Keep;
        self.url = with_database(&admin_url, KEPT_POSTGRES_DATABASE);
        Ok(self)
    }

    /// Drops [`KEPT_POSTGRES_DATABASE`] (and an interrupted seeding of it) on `admin_url`'s server.
    pub async fn drop_kept_postgres(admin_url: &str) -> Result<(), String> {
        for name in [KEPT_POSTGRES_DATABASE, SEEDING_POSTGRES_DATABASE] {
            admin_execute(
                admin_url,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            )
            .await?;
        }
        Ok(())
    }

    /// Bytes the database takes on disk (SQLite only).
    pub fn size_bytes(&self) -> Option<u64> {
        let path = self.url.strip_prefix("sqlite://")?.split('?').next()?;
        std::fs::metadata(path).ok().map(|m| m.len())
    }
}

impl Drop for FreshDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Keep => {}
            Cleanup::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm", "-journal"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    let _ = std::fs::remove_file(file);
                }
            }
            Cleanup::Postgres { admin_url, name } => {
                let (admin_url, sql) = (
                    admin_url.clone(),
                    format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                );
                // Drop may run inside a runtime: use a thread with its own.
                let dropped = std::thread::spawn(move || {
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(|e| e.to_string())?
                        .block_on(admin_execute(&admin_url, &sql))
                })
                .join();
                if !matches!(dropped, Ok(Ok(()))) {
                    eprintln!("warning: could not drop database {name}: {dropped:?}");
                }
            }
        }
    }
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let (head, rest) = url.split_at(scheme_end);
    let (rest, query) = match rest.find('?') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let authority = rest.split('/').next().unwrap_or(rest);
    format!("{head}{authority}/{name}{query}")
}

async fn admin_connect(admin_url: &str) -> Result<DatabaseConnection, String> {
    let mut options = ConnectOptions::new(admin_url.to_owned());
    options
        .sqlx_logging(false)
        .max_connections(1)
        .connect_timeout(Duration::from_secs(10));
    Database::connect(options)
        .await
        .map_err(|e| format!("connect to {admin_url}: {e}"))
}

async fn admin_execute(admin_url: &str, sql: &str) -> Result<(), String> {
    let db = admin_connect(admin_url).await?;
    let done = db
        .execute_unprepared(sql)
        .await
        .map(|_| ())
        .map_err(|e| format!("`{sql}`: {e}"));
    let _ = db.close().await;
    done
}

async fn database_exists(admin_url: &str, name: &str) -> Result<bool, String> {
    let db = admin_connect(admin_url).await?;
    let sql = "SELECT 1 FROM pg_database WHERE datname = $1";
    let found = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            [name.into()],
        ))
        .await
        .map(|row| row.is_some())
        .map_err(|e| format!("`{sql}`: {e}"));
    let _ = db.close().await;
    found
}
