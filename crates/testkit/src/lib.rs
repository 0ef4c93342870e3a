//! What rbacd's tests and tools share: a fresh database per run ([`FreshDb`]),
//! and the `x-api-key` interceptor every client sends its key with ([`ApiKey`]).

mod api_key;
mod fresh_db;
pub mod postgres;

pub use api_key::{ApiKey, Authed};
pub use fresh_db::{DATABASE_URL_ENV, FreshDb};
