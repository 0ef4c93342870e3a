//! rbacd: a role-based authorization service spoken to over gRPC.

pub mod domain;
