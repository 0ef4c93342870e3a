//! Everything the in-memory index is built from at start.

use super::{ApiKey, Assignment, Environment, Identity, Node, Role};

/// The stored state of one environment.
#[derive(Clone, Debug, Default)]
pub struct EnvironmentState {
    pub roles: Vec<Role>,
    pub identities: Vec<Identity>,
    pub nodes: Vec<Node>,
    pub assignments: Vec<Assignment>,
    pub api_keys: Vec<ApiKey>,
}

/// The stored state of every environment, as of `revision`.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// The last change-log revision the state includes.
    pub revision: u64,
    pub environments: Vec<(Environment, EnvironmentState)>,
}
