//! Administering databases on a PostgreSQL server, through a connection to the
//! server's URL (any database the user may connect to, e.g. `…/test`).

use std::time::Duration;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
};

/// `url` with its database name replaced by `name` (the query string kept).
pub fn with_database(url: &str, name: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let (head, rest) = url.split_at(scheme_end);
    let (rest, query) = match rest.find('?') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let authority = rest.split('/').next().unwrap_or(rest);
    format!("{head}{authority}/{name}{query}")
}

async fn connect(admin_url: &str) -> Result<DatabaseConnection, String> {
    let mut options = ConnectOptions::new(admin_url.to_owned());
    options
        .sqlx_logging(false)
        .max_connections(1)
        .connect_timeout(Duration::from_secs(10));
    Database::connect(options)
        .await
        .map_err(|e| format!("connect to {admin_url}: {e}"))
}

/// Runs one statement (`CREATE DATABASE …`, `DROP DATABASE …`) on the server.
pub async fn execute(admin_url: &str, sql: &str) -> Result<(), String> {
    let db = connect(admin_url).await?;
    let done = db
        .execute_unprepared(sql)
        .await
        .map(|_| ())
        .map_err(|e| format!("`{sql}`: {e}"));
    let _ = db.close().await;
    done
}

/// Drops database `name` if it exists, disconnecting its sessions.
pub async fn drop_database(admin_url: &str, name: &str) -> Result<(), String> {
    execute(
        admin_url,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )
    .await
}

/// Whether database `name` exists on the server.
pub async fn database_exists(admin_url: &str, name: &str) -> Result<bool, String> {
    let db = connect(admin_url).await?;
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

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_the_database_name_and_keeps_the_query() {
        assert_eq!(
            with_database("postgres://u@h:5432/test?sslmode=disable", "other"),
            "postgres://u@h:5432/other?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://u@h", "other"),
            "postgres://u@h/other"
        );
    }
}
