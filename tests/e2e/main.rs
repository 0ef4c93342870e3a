//! rbacd end to end: the real server over real gRPC on an ephemeral port, one
//! fresh database per test (SQLite, or PostgreSQL with `RBACD_TEST_DATABASE_URL`).
//! One module per behaviour; `support` holds the harness.

mod assignments;
mod audit;
mod auth;
mod authorization;
mod bounds;
mod bulk;
mod cli;
mod consistency;
mod deployment;
mod identities;
mod inputs;
mod nodes;
mod revocation;
mod roles;
mod signing;
mod support;
