//! What every end-to-end test stands on: a fresh database, the real server with
//! clients of every service, references, fixtures, status assertions, and the
//! decision rule evaluated naively, to compare the server's answers with.

pub mod clients;
pub mod database;
pub mod decision_rule;
pub mod fixtures;
pub mod refs;
pub mod replica;
pub mod server;
pub mod status;

pub use clients::*;
pub use fixtures::*;
pub use refs::*;
pub use replica::Replica;
pub use server::*;
pub use status::*;
