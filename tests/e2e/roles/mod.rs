//! RoleService end to end: every RPC, its success path and its error paths.

mod create_and_read;
mod update_and_delete;

use std::collections::HashSet;

use crate::support::*;
use rbacd::proto::v1 as pb;
use tonic::Code;

fn create_request(name: &str, permissions: &[&str]) -> pb::CreateRoleRequest {
    pb::CreateRoleRequest {
        request_id: Default::default(),
        name: name.into(),
        description: String::new(),
        permissions: permissions.iter().map(|p| p.to_string()).collect(),
    }
}

fn update_request(role: Option<pb::RoleRef>) -> pb::UpdateRoleRequest {
    pb::UpdateRoleRequest {
        request_id: Default::default(),
        role,
        name: None,
        description: None,
        permissions: vec![],
        update_mask: None,
    }
}
