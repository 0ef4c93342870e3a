//! Fresh databases for a run: a temporary SQLite file, or a uniquely named
//! PostgreSQL database; removed (dropped) when dropped.

use std::{path::PathBuf, time::Duration};

use sea_orm::{ConnectOptions, ConnectionTrait, Database};

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

async fn admin_execute(admin_url: &str, sql: &str) -> Result<(), String> {
    let mut options = ConnectOptions::new(admin_url.to_owned());
    options
        .sqlx_logging(false)
        .max_connections(1)
        .connect_timeout(Duration::from_secs(10));
    let db = Database::connect(options)
        .await
        .map_err(|e| format!("connect to {admin_url}: {e}"))?;
    let done = db
        .execute_unprepared(sql)
        .await
        .map(|_| ())
        .map_err(|e| format!("`{sql}`: {e}"));
    let _ = db.close().await;
    done
}
