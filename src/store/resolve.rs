//! Finding the object a reference names, within one environment.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::{
    convert,
    entity::{identity, node, role, role_permission},
    error,
};
use crate::domain::{
    EnvironmentId, Error, IdentityRef, NodeRef, ROOT_NODE_KEY, Result, Role, RoleRef,
};

fn not_found(what: impl std::fmt::Display) -> Error {
    Error::NotFound(format!("no {what} in this environment"))
}

pub(super) async fn role_row(
    conn: &impl ConnectionTrait,
    env: EnvironmentId,
    role_ref: &RoleRef,
) -> Result<role::Model> {
    let query = role::Entity::find().filter(role::Column::EnvironmentId.eq(env.0));
    let query = match role_ref {
        RoleRef::Id(id) => query.filter(role::Column::Id.eq(id.0)),
        RoleRef::Name(name) => query.filter(role::Column::NameFolded.eq(name.folded())),
    };
    query
        .one(conn)
        .await
        .map_err(error::on_query("look up a role"))?
        .ok_or_else(|| not_found(role_ref))
}

pub(super) async fn permissions(
    conn: &impl ConnectionTrait,
    role_id: uuid::Uuid,
) -> Result<Vec<String>> {
    Ok(role_permission::Entity::find()
        .filter(role_permission::Column::RoleId.eq(role_id))
        .order_by_asc(role_permission::Column::Position)
        .all(conn)
        .await
        .map_err(error::on_query("read a role's permissions"))?
        .into_iter()
        .map(|p| p.permission)
        .collect())
}

pub(super) async fn role_from_row(conn: &impl ConnectionTrait, row: role::Model) -> Result<Role> {
    let permissions = permissions(conn, row.id).await?;
    convert::role(row, permissions)
}

pub(super) async fn role(
    conn: &impl ConnectionTrait,
    env: EnvironmentId,
    role_ref: &RoleRef,
) -> Result<Role> {
    let row = role_row(conn, env, role_ref).await?;
    role_from_row(conn, row).await
}

pub(super) async fn identity_row(
    conn: &impl ConnectionTrait,
    env: EnvironmentId,
    identity_ref: &IdentityRef,
) -> Result<identity::Model> {
    let query = identity::Entity::find().filter(identity::Column::EnvironmentId.eq(env.0));
    let query = match identity_ref {
        IdentityRef::Id(id) => query.filter(identity::Column::Id.eq(id.0)),
        IdentityRef::Email(email) => query.filter(identity::Column::EmailFolded.eq(email.folded())),
        IdentityRef::ExternalId(ext) => query.filter(identity::Column::ExternalId.eq(ext.as_str())),
    };
    query
        .one(conn)
        .await
        .map_err(error::on_query("look up an identity"))?
        .ok_or_else(|| not_found(identity_ref))
}

pub(super) async fn node_row(
    conn: &impl ConnectionTrait,
    env: EnvironmentId,
    node_ref: &NodeRef,
) -> Result<node::Model> {
    let query = node::Entity::find().filter(node::Column::EnvironmentId.eq(env.0));
    let query = match node_ref {
        NodeRef::Id(id) => query.filter(node::Column::Id.eq(id.0)),
        NodeRef::Key(key) => query.filter(node::Column::Key.eq(key.as_str())),
    };
    query
        .one(conn)
        .await
        .map_err(error::on_query("look up a node"))?
        .ok_or_else(|| not_found(node_ref))
}

/// The node a reference names, or the root when there is none.
pub(super) async fn node_row_or_root(
    conn: &impl ConnectionTrait,
    env: EnvironmentId,
    node_ref: Option<&NodeRef>,
) -> Result<node::Model> {
    match node_ref {
        Some(r) => node_row(conn, env, r).await,
        None => root_row(conn, env).await,
    }
}

pub(super) async fn root_row(
    conn: &impl ConnectionTrait,
    env: EnvironmentId,
) -> Result<node::Model> {
    node::Entity::find()
        .filter(node::Column::EnvironmentId.eq(env.0))
        .filter(node::Column::ParentId.is_null())
        .one(conn)
        .await
        .map_err(error::on_query("look up the root node"))?
        .ok_or_else(|| Error::Internal(format!("the environment has no `{ROOT_NODE_KEY}` node")))
}

/// The ancestors of `node` (nearest first), not including the node itself.
pub(super) async fn ancestors(
    conn: &impl ConnectionTrait,
    mut parent: Option<uuid::Uuid>,
) -> Result<Vec<node::Model>> {
    let mut chain = Vec::new();
    while let Some(id) = parent {
        let row = node::Entity::find_by_id(id)
            .one(conn)
            .await
            .map_err(error::on_query("walk up the node tree"))?
            .ok_or_else(|| Error::Internal("the node tree has a dangling parent".into()))?;
        parent = row.parent_id;
        chain.push(row);
        if chain.len() > 100_000 {
            return Err(Error::Internal("the node tree has a cycle".into()));
        }
    }
    Ok(chain)
}
