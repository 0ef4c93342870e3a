//! What rbacd's tests and tools share: a fresh database per run ([`FreshDb`]),
//! and the `x-api-key` interceptor every client sends its key with ([`ApiKey`]).

mod fresh_db;
pub mod postgres;

// The interceptor lives in the client crate; re-exported for the tests and tools that use it from here.
pub use fresh_db::{DATABASE_URL_ENV, FreshDb};
pub use rbacd_client::{ApiKey, Authed};
