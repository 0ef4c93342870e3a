//! Domain to proto: how stored objects appear on the wire.

use crate::domain::{Identity, Node, Role, Timestamp};
use crate::proto::v1 as pb;
use crate::store::AssignmentView;

/// A timestamp on the wire.
pub fn timestamp(t: Timestamp) -> prost_types::Timestamp {
    let (seconds, nanos) = t.to_parts();
    prost_types::Timestamp { seconds, nanos }
}

pub fn role(role: &Role) -> pb::Role {
    pb::Role {
        id: role.id.to_string(),
        name: role.name.to_string(),
        description: role.description.clone(),
        permissions: role.permissions.iter().map(|p| p.to_string()).collect(),
        create_time: Some(timestamp(role.created_at)),
        update_time: Some(timestamp(role.updated_at)),
    }
}

pub fn identity(identity: &Identity) -> pb::Identity {
    pb::Identity {
        id: identity.id.to_string(),
        kind: pb::IdentityKind::from(identity.kind).into(),
        status: pb::IdentityStatus::from(identity.status).into(),
        email: identity
            .email
            .as_ref()
            .map(|e| e.to_string())
            .unwrap_or_default(),
        external_id: identity
            .external_id
            .as_ref()
            .map(|e| e.to_string())
            .unwrap_or_default(),
        display_name: identity.display_name.clone(),
        create_time: Some(timestamp(identity.created_at)),
        update_time: Some(timestamp(identity.updated_at)),
    }
}

pub fn node(node: &Node) -> pb::Node {
    pb::Node {
        id: node.id.to_string(),
        key: node.key.to_string(),
        name: node.name.clone(),
        kind: node.kind.clone(),
        parent_id: node.parent_id.map(|p| p.to_string()).unwrap_or_default(),
        create_time: Some(timestamp(node.created_at)),
        update_time: Some(timestamp(node.updated_at)),
    }
}

/// An assignment with its state computed at `now`.
pub fn assignment(view: &AssignmentView, now: Timestamp) -> pb::Assignment {
    let a = &view.assignment;
    pb::Assignment {
        id: a.id.to_string(),
        identity_id: a.identity_id.to_string(),
        role_id: a.role_id.to_string(),
        role_name: view.role_name.clone(),
        node_id: a.node_id.to_string(),
        node_key: view.node_key.clone(),
        effective_from: a.effective_from.map(timestamp),
        effective_to: a.effective_to.map(timestamp),
        state: pb::AssignmentState::from(a.state_at(now)).into(),
        inherited: view.inherited,
        create_time: Some(timestamp(a.created_at)),
    }
}

/// Several assignments, their states computed at one instant.
pub fn assignments(views: &[AssignmentView]) -> Vec<pb::Assignment> {
    let now = Timestamp::now();
    views.iter().map(|v| assignment(v, now)).collect()
}
