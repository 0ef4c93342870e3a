//! Stored rows to domain objects. A row that does not parse is corruption,
//! reported as an internal error.

use super::entity::{api_key, assignment, environment, identity, node, role};
use crate::domain::{
    ApiKey, Assignment, Email, Environment, Error, ExternalId, Identity, IdentityKind,
    IdentityStatus, Node, NodeKey, PermissionPattern, Result, Role, RoleName, Timestamp,
};

fn corrupt(what: &str, detail: impl std::fmt::Display) -> Error {
    tracing::error!(%detail, "stored {what} does not parse");
    Error::Internal(format!("a stored {what} is damaged"))
}

pub(super) fn environment(row: environment::Model) -> Environment {
    Environment {
        id: row.id.into(),
        name: row.name,
        created_at: Timestamp(row.created_at),
    }
}

pub(super) fn role(row: role::Model, permissions: Vec<String>) -> Result<Role> {
    Ok(Role {
        id: row.id.into(),
        environment_id: row.environment_id.into(),
        name: RoleName::parse(&row.name).map_err(|e| corrupt("role name", e))?,
        description: row.description,
        permissions: permissions
            .iter()
            .map(|p| PermissionPattern::parse(p).map_err(|e| corrupt("permission", e)))
            .collect::<Result<_>>()?,
        created_at: Timestamp(row.created_at),
        updated_at: Timestamp(row.updated_at),
    })
}

pub(super) fn identity(row: identity::Model) -> Result<Identity> {
    Ok(Identity {
        id: row.id.into(),
        environment_id: row.environment_id.into(),
        kind: IdentityKind::from_stored(&row.kind)
            .ok_or_else(|| corrupt("identity kind", &row.kind))?,
        status: IdentityStatus::from_stored(&row.status)
            .ok_or_else(|| corrupt("identity status", &row.status))?,
        email: row
            .email
            .map(|e| Email::parse(&e).map_err(|err| corrupt("email", err)))
            .transpose()?,
        external_id: row
            .external_id
            .map(|e| ExternalId::parse(&e).map_err(|err| corrupt("external id", err)))
            .transpose()?,
        display_name: row.display_name,
        created_at: Timestamp(row.created_at),
        updated_at: Timestamp(row.updated_at),
    })
}

pub(super) fn node(row: node::Model) -> Result<Node> {
    Ok(Node {
        id: row.id.into(),
        environment_id: row.environment_id.into(),
        key: NodeKey::parse(&row.key).map_err(|e| corrupt("node key", e))?,
        name: row.name,
        kind: row.kind,
        parent_id: row.parent_id.map(Into::into),
        created_at: Timestamp(row.created_at),
        updated_at: Timestamp(row.updated_at),
    })
}

pub(super) fn assignment(row: assignment::Model) -> Assignment {
    Assignment {
        id: row.id.into(),
        environment_id: row.environment_id.into(),
        identity_id: row.identity_id.into(),
        role_id: row.role_id.into(),
        node_id: row.node_id.into(),
        effective_from: row.effective_from.map(Timestamp),
        effective_to: row.effective_to.map(Timestamp),
        created_at: Timestamp(row.created_at),
    }
}

pub(super) fn api_key(row: api_key::Model) -> ApiKey {
    ApiKey {
        id: row.id.into(),
        environment_id: row.environment_id.into(),
        identity_id: row.identity_id.into(),
        name: row.name,
        prefix: row.prefix,
        secret_hash: row.secret_hash,
        created_at: Timestamp(row.created_at),
        revoked_at: row.revoked_at.map(Timestamp),
    }
}
