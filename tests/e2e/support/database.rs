//! A fresh, empty database per test: a unique SQLite file by default, a new
//! PostgreSQL database when `RBACD_TEST_DATABASE_URL` names a server. Shared by
//! the end-to-end and the store suites (the store suite includes this file).

use std::{path::PathBuf, time::Duration};

use sea_orm::{ConnectOptions, ConnectionTrait, Database};

/// Environment variable naming a PostgreSQL server to test against, e.g.
/// `postgres://postgres@127.0.0.1:5432/test`.
pub const PG_ENV: &str = "RBACD_TEST_DATABASE_URL";

enum Cleanup {
    Sqlite(PathBuf),
    Postgres { admin_url: String, name: String },
}

/// A freshly created, empty database, removed (or dropped) when this is dropped.
pub struct TestDb {
    /// URL to hand to `Store::connect` / `App::open`.
    pub url: String,
    cleanup: Cleanup,
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

async fn admin_execute(admin_url: &str, sql: &str) {
    let mut options = ConnectOptions::new(admin_url.to_owned());
    options
        .sqlx_logging(false)
        .max_connections(1)
        .connect_timeout(Duration::from_secs(10));
    let db = Database::connect(options)
        .await
        .unwrap_or_else(|e| panic!("connect to {PG_ENV}={admin_url}: {e}"));
    db.execute_unprepared(sql)
        .await
        .unwrap_or_else(|e| panic!("`{sql}` failed: {e}"));
    let _ = db.close().await;
}

impl TestDb {
    /// Creates a fresh database: a unique SQLite file, or a new PostgreSQL
    /// database on the server `RBACD_TEST_DATABASE_URL` names.
    pub async fn new() -> Self {
        let unique = uuid::Uuid::new_v4().simple().to_string();
        match std::env::var(PG_ENV) {
            Ok(admin_url) if !admin_url.is_empty() => {
                let name = format!("rbacd_test_{unique}");
                admin_execute(&admin_url, &format!("CREATE DATABASE {name}")).await;
                Self {
                    url: with_database(&admin_url, &name),
                    cleanup: Cleanup::Postgres { admin_url, name },
                }
            }
            _ => {
                let path = std::env::temp_dir().join(format!("rbacd-test-{unique}.db"));
                Self {
                    url: format!("sqlite://{}?mode=rwc", path.display()),
                    cleanup: Cleanup::Sqlite(path),
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
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
                        .expect("a runtime for DROP DATABASE")
                        .block_on(admin_execute(
                            &admin_url,
                            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                        ));
                })
                .join();
                if dropped.is_err() && !std::thread::panicking() {
                    panic!("could not drop the test database");
                }
            }
        }
    }
}
