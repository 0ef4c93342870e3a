//! One fresh database per test: the shared testkit's helper (a unique SQLite
//! file, or a new PostgreSQL database when `RBACD_TEST_DATABASE_URL` is set),
//! dropped with the test.

use rbacd_testkit::FreshDb;

pub struct TestDb {
    pub url: String,
    fresh: FreshDb,
}

impl TestDb {
    pub async fn new() -> Self {
        let fresh = FreshDb::new()
            .await
            .unwrap_or_else(|e| panic!("create a fresh test database: {e}"));
        Self {
            url: fresh.url().to_owned(),
            fresh,
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.fresh.is_postgres()
    }
}
