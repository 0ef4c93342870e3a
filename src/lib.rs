//! rbacd: a role-based authorization service spoken to over gRPC.

pub mod access;
pub mod api;
pub mod cli;
pub mod config;
pub mod domain;
pub mod engine;
pub mod feed;
pub mod memory;
pub mod metrics;
pub mod proto;
pub mod server;
pub mod store;
pub mod telemetry;
