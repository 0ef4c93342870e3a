//! Databases for a run: fresh ones from the test kit, removed when dropped; or,
//! for the large dataset, one kept between runs: in a named SQLite file, or in
//! the PostgreSQL database [`KEPT_POSTGRES_DATABASE`].

use rbacd_testkit::{FreshDb, postgres};

/// The PostgreSQL database the large dataset is kept in with `--keep-large-postgres`.
pub const KEPT_POSTGRES_DATABASE: &str = "rbacd_loadgen_large";
/// Where it is seeded first; renamed to [`KEPT_POSTGRES_DATABASE`] once complete,
/// so an interrupted seeding is never reused.
const SEEDING_POSTGRES_DATABASE: &str = "rbacd_loadgen_large_seeding";

/// The SQLite file at `path`, kept when dropped; whether it already existed.
pub fn kept_sqlite(path: &std::path::Path) -> (FreshDb, bool) {
    let existed = path.exists();
    let db = FreshDb::kept(format!("sqlite://{}?mode=rwc", path.display()));
    (db, existed)
}

/// The database [`KEPT_POSTGRES_DATABASE`] on the server `admin_url` names, kept
/// when dropped, if it exists; otherwise an empty one to seed, to be passed to
/// [`keep_seeded_postgres`] once seeded.
pub async fn kept_postgres(admin_url: &str) -> Result<(FreshDb, bool), String> {
    if postgres::database_exists(admin_url, KEPT_POSTGRES_DATABASE).await? {
        let url = postgres::with_database(admin_url, KEPT_POSTGRES_DATABASE);
        return Ok((FreshDb::kept(url), true));
    }
    let db = FreshDb::postgres_named(admin_url, SEEDING_POSTGRES_DATABASE).await?;
    Ok((db, false))
}

/// Renames a database seeded from [`kept_postgres`] to [`KEPT_POSTGRES_DATABASE`]
/// and keeps it; any other database is returned as it is.
pub async fn keep_seeded_postgres(mut db: FreshDb, admin_url: &str) -> Result<FreshDb, String> {
    if db.url() != postgres::with_database(admin_url, SEEDING_POSTGRES_DATABASE) {
        return Ok(db);
    }
    let sql =
        format!("ALTER DATABASE {SEEDING_POSTGRES_DATABASE} RENAME TO {KEPT_POSTGRES_DATABASE}");
    postgres::execute(admin_url, &sql).await?;
    db.keep();
    Ok(FreshDb::kept(postgres::with_database(
        admin_url,
        KEPT_POSTGRES_DATABASE,
    )))
}

/// Drops [`KEPT_POSTGRES_DATABASE`] (and an interrupted seeding of it) on `admin_url`'s server.
pub async fn drop_kept_postgres(admin_url: &str) -> Result<(), String> {
    for name in [KEPT_POSTGRES_DATABASE, SEEDING_POSTGRES_DATABASE] {
        postgres::drop_database(admin_url, name).await?;
    }
    Ok(())
}

/// Bytes the database takes on disk (SQLite only).
pub fn size_bytes(db: &FreshDb) -> Option<u64> {
    std::fs::metadata(db.sqlite_path()?).ok().map(|m| m.len())
}
