//! The snapshot's queries, and their rows decoded straight into domain objects.
//!
//! Names, keys, emails and permissions are wrapped without parsing them again:
//! the store parsed them before it wrote them (`from_stored_unchecked`). Columns
//! that do not decode, and kinds or statuses the store does not write, are
//! errors naming the table and the row.

use super::row::{Fields, StoredRow};
use crate::domain::{
    ApiKey, Assignment, Email, Environment, ExternalId, Identity, IdentityKind, IdentityStatus,
    Node, NodeKey, PermissionPattern, Result, Role, RoleId, RoleName, Timestamp,
};

/// A table the snapshot reads: its query and how a row becomes an object.
pub(super) struct Table<T> {
    pub name: &'static str,
    /// Every column of `name`, in the order `decode` reads them; no ORDER BY,
    /// so rows come in the table's own order, as before.
    pub select: &'static str,
    /// Takes the row as a trait object, so that one `Table` serves both databases.
    pub decode: fn(&Fields<'_, dyn StoredRow>) -> Result<T>,
}

/// Every environment.
pub(super) static ENVIRONMENTS: Table<Environment> = Table {
    name: "environments",
    select: r#"SELECT "id", "name", "created_at" FROM "environments""#,
    decode: |f| {
        Ok(Environment {
            id: f.id.into(),
            name: f.text(1, "name")?,
            created_at: Timestamp(f.int(2, "created_at")?),
        })
    },
};

/// Every role, its permissions still empty (see [`ROLE_PERMISSIONS`]).
pub(super) static ROLES: Table<Role> = Table {
    name: "roles",
    select: r#"SELECT "id", "environment_id", "name", "description", "created_at", "updated_at" FROM "roles""#,
    decode: |f| {
        Ok(Role {
            id: f.id.into(),
            environment_id: f.uuid(1, "environment_id")?.into(),
            name: RoleName::from_stored_unchecked(f.text(2, "name")?),
            description: f.text(3, "description")?,
            permissions: Vec::new(),
            created_at: Timestamp(f.int(4, "created_at")?),
            updated_at: Timestamp(f.int(5, "updated_at")?),
        })
    },
};

/// Every role's permissions, in each role's order.
pub(super) static ROLE_PERMISSIONS: Table<(RoleId, PermissionPattern)> = Table {
    name: "role_permissions",
    select: r#"SELECT "role_id", "permission" FROM "role_permissions" ORDER BY "role_id", "position""#,
    decode: |f| {
        Ok((
            f.id.into(),
            PermissionPattern::from_stored_unchecked(f.text(1, "permission")?),
        ))
    },
};

/// Every identity.
pub(super) static IDENTITIES: Table<Identity> = Table {
    name: "identities",
    select: r#"SELECT "id", "environment_id", "kind", "status", "email", "external_id", "display_name", "created_at", "updated_at" FROM "identities""#,
    decode: |f| {
        let kind = f.str(2, "kind")?;
        let status = f.str(3, "status")?;
        Ok(Identity {
            id: f.id.into(),
            environment_id: f.uuid(1, "environment_id")?.into(),
            kind: IdentityKind::from_stored(kind)
                .ok_or_else(|| f.invalid("kind", format!("`{kind}` is no identity kind")))?,
            status: IdentityStatus::from_stored(status)
                .ok_or_else(|| f.invalid("status", format!("`{status}` is no status")))?,
            email: f.text_opt(4, "email")?.map(Email::from_stored_unchecked),
            external_id: f
                .text_opt(5, "external_id")?
                .map(ExternalId::from_stored_unchecked),
            display_name: f.text(6, "display_name")?,
            created_at: Timestamp(f.int(7, "created_at")?),
            updated_at: Timestamp(f.int(8, "updated_at")?),
        })
    },
};

/// Every node.
pub(super) static NODES: Table<Node> = Table {
    name: "nodes",
    select: r#"SELECT "id", "environment_id", "key", "name", "kind", "parent_id", "created_at", "updated_at" FROM "nodes""#,
    decode: |f| {
        Ok(Node {
            id: f.id.into(),
            environment_id: f.uuid(1, "environment_id")?.into(),
            key: NodeKey::from_stored_unchecked(f.text(2, "key")?),
            name: f.text(3, "name")?,
            kind: f.text(4, "kind")?,
            parent_id: f.uuid_opt(5, "parent_id")?.map(Into::into),
            created_at: Timestamp(f.int(6, "created_at")?),
            updated_at: Timestamp(f.int(7, "updated_at")?),
        })
    },
};

/// Every assignment.
pub(super) static ASSIGNMENTS: Table<Assignment> = Table {
    name: "assignments",
    select: r#"SELECT "id", "environment_id", "identity_id", "role_id", "node_id", "effective_from", "effective_to", "created_at" FROM "assignments""#,
    decode: |f| {
        Ok(Assignment {
            id: f.id.into(),
            environment_id: f.uuid(1, "environment_id")?.into(),
            identity_id: f.uuid(2, "identity_id")?.into(),
            role_id: f.uuid(3, "role_id")?.into(),
            node_id: f.uuid(4, "node_id")?.into(),
            effective_from: f.int_opt(5, "effective_from")?.map(Timestamp),
            effective_to: f.int_opt(6, "effective_to")?.map(Timestamp),
            created_at: Timestamp(f.int(7, "created_at")?),
        })
    },
};

/// Every API key.
pub(super) static API_KEYS: Table<ApiKey> = Table {
    name: "api_keys",
    select: r#"SELECT "id", "environment_id", "identity_id", "name", "prefix", "secret_hash", "created_at", "revoked_at" FROM "api_keys""#,
    decode: |f| {
        Ok(ApiKey {
            id: f.id.into(),
            environment_id: f.uuid(1, "environment_id")?.into(),
            identity_id: f.uuid(2, "identity_id")?.into(),
            name: f.text(3, "name")?,
            prefix: f.text(4, "prefix")?,
            secret_hash: f.text(5, "secret_hash")?,
            created_at: Timestamp(f.int(6, "created_at")?),
            revoked_at: f.int_opt(7, "revoked_at")?.map(Timestamp),
        })
    },
};
