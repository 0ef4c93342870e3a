//! An empty database for one test or one run: a temporary SQLite file, or a
//! uniquely named PostgreSQL database; removed (dropped) when dropped.

use std::path::{Path, PathBuf};

use crate::postgres;

/// Names a PostgreSQL server to create databases on, e.g.
/// `postgres://postgres@127.0.0.1:5432/test`; unset or empty means SQLite.
pub const DATABASE_URL_ENV: &str = "RBACD_TEST_DATABASE_URL";

enum Cleanup {
    Keep,
    Sqlite(PathBuf),
    Postgres { admin_url: String, name: String },
}

/// A database URL, and what to remove when this is dropped.
pub struct FreshDb {
    url: String,
    cleanup: Cleanup,
}

impl FreshDb {
    /// A new database on the PostgreSQL server [`DATABASE_URL_ENV`] names, or
    /// a new SQLite file when it is unset or empty.
    pub async fn new() -> Result<Self, String> {
        match std::env::var(DATABASE_URL_ENV) {
            Ok(admin_url) if !admin_url.is_empty() => Self::postgres(&admin_url).await,
            _ => Ok(Self::sqlite()),
        }
    }

    /// A new SQLite file in the temporary directory.
    pub fn sqlite() -> Self {
        let path = std::env::temp_dir().join(format!("rbacd-test-{}.db", unique()));
        Self {
            url: format!("sqlite://{}?mode=rwc", path.display()),
            cleanup: Cleanup::Sqlite(path),
        }
    }

    /// A new, uniquely named database on the PostgreSQL server `admin_url` names.
    pub async fn postgres(admin_url: &str) -> Result<Self, String> {
        Self::postgres_named(admin_url, &format!("rbacd_test_{}", unique())).await
    }

    /// An empty database `name` on the PostgreSQL server `admin_url` names,
    /// replacing any database of that name.
    pub async fn postgres_named(admin_url: &str, name: &str) -> Result<Self, String> {
        postgres::drop_database(admin_url, name).await?;
        postgres::execute(admin_url, &format!("CREATE DATABASE {name}")).await?;
        Ok(Self {
            url: postgres::with_database(admin_url, name),
            cleanup: Cleanup::Postgres {
                admin_url: admin_url.to_owned(),
                name: name.to_owned(),
            },
        })
    }

    /// The existing database at `url`, left as it is when dropped.
    pub fn kept(url: String) -> Self {
        Self {
            url,
            cleanup: Cleanup::Keep,
        }
    }

    /// Leaves the database in place when this is dropped.
    pub fn keep(&mut self) {
        self.cleanup = Cleanup::Keep;
    }

    /// The URL to hand to `Store::connect` or `App::open`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether this is a PostgreSQL database.
    pub fn is_postgres(&self) -> bool {
        self.url.starts_with("postgres")
    }

    /// The file of a SQLite database.
    pub fn sqlite_path(&self) -> Option<&Path> {
        let path = self.url.strip_prefix("sqlite://")?.split('?').next()?;
        Some(Path::new(path))
    }
}

fn unique() -> String {
    uuid::Uuid::new_v4().simple().to_string()
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
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop may run inside a runtime: use a thread with its own.
                let dropped = std::thread::spawn(move || {
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(|e| e.to_string())?
                        .block_on(postgres::drop_database(&admin_url, &name))
                })
                .join();
                if !matches!(dropped, Ok(Ok(()))) {
                    eprintln!("warning: could not drop a fresh database: {dropped:?}");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sqlite_file_is_unique_and_removed_when_dropped() {
        let (a, b) = (FreshDb::sqlite(), FreshDb::sqlite());
        assert_ne!(a.url(), b.url());
        assert!(!a.is_postgres());
        let path = a.sqlite_path().unwrap().to_owned();
        std::fs::write(&path, b"x").unwrap();
        drop(a);
        assert!(!path.exists());
    }

    #[test]
    fn a_kept_database_is_left_in_place() {
        let file = std::env::temp_dir().join(format!("rbacd-test-kept-{}.db", unique()));
        std::fs::write(&file, b"x").unwrap();
        drop(FreshDb::kept(format!(
            "sqlite://{}?mode=rwc",
            file.display()
        )));
        assert!(file.exists());
        std::fs::remove_file(file).unwrap();
    }
}
