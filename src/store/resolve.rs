//! Finding the object a reference names, within one environment.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    Statement,
};

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

/// The role `role_ref` names with its permissions, in one query.
pub(super) async fn role(
    conn: &impl ConnectionTrait,
    env: EnvironmentId,
    role_ref: &RoleRef,
) -> Result<Role> {
    roles(conn, &[(env, role_ref)])
        .await?
        .pop()
        .flatten()
        .ok_or_else(|| not_found(role_ref))
}

/// The roles `refs` name, each in its environment, read with one query;
/// `None` for a reference that names nothing.
pub(super) async fn roles(
    conn: &impl ConnectionTrait,
    refs: &[(EnvironmentId, &RoleRef)],
) -> Result<Vec<Option<Role>>> {
    if refs.is_empty() {
        return Ok(Vec::new());
    }
    let backend = conn.get_database_backend();
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(refs.len() * 2);
    let mut wanted = Vec::with_capacity(refs.len());
    for (env, role_ref) in refs {
        let (column, value): (&str, sea_orm::Value) = match role_ref {
            RoleRef::Id(id) => ("id", id.0.into()),
            RoleRef::Name(name) => ("name_folded", name.folded().into()),
        };
        values.extend([env.0.into(), value]);
        wanted.push(format!(
            r#"(r."environment_id" = {} AND r."{column}" = {})"#,
            placeholder(backend, values.len() - 1),
            placeholder(backend, values.len())
        ));
    }
    let sql = format!(
        r#"SELECT r.*, p."permission" AS "permission" FROM "roles" r
LEFT JOIN "role_permissions" p ON p."role_id" = r."id"
WHERE {}
ORDER BY r."id", p."position""#,
        wanted.join(" OR ")
    );
    let rows = conn
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await
        .map_err(error::on_query("look up the roles"))?;
    let mut found: Vec<(role::Model, Vec<String>)> = Vec::new();
    for r in &rows {
        let model =
            role::Model::from_query_result(r, "").map_err(error::on_query("read a role"))?;
        let permission: Option<String> = r
            .try_get("", "permission")
            .map_err(error::on_query("read a role's permissions"))?;
        match found.last_mut() {
            Some((last, permissions)) if last.id == model.id => permissions.extend(permission),
            _ => found.push((model, permission.into_iter().collect())),
        }
    }
    refs.iter()
        .map(|(env, role_ref)| {
            let named = found.iter().find(|(model, _)| {
                model.environment_id == env.0
                    && match role_ref {
                        RoleRef::Id(id) => model.id == id.0,
                        RoleRef::Name(name) => model.name_folded == name.folded(),
                    }
            });
            named
                .map(|(model, permissions)| convert::role(model.clone(), permissions.clone()))
                .transpose()
        })
        .collect()
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

/// Levels a recursive tree query follows at most: a guard against a cycle,
/// far above the deepest tree rbacd lets anyone build.
const WALK_LIMIT: u32 = 100_000;

/// The `n`th (1-based) bind placeholder of `backend`.
pub(super) fn placeholder(backend: DbBackend, n: usize) -> String {
    match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => "?".into(),
    }
}

/// The ancestors of the node whose parent is `parent` (nearest first), not
/// including the node itself: one recursive query, whatever the depth.
pub(super) async fn ancestors(
    conn: &impl ConnectionTrait,
    parent: Option<uuid::Uuid>,
) -> Result<Vec<node::Model>> {
    let Some(parent) = parent else {
        return Ok(Vec::new());
    };
    let backend = conn.get_database_backend();
    let sql = format!(
        "WITH RECURSIVE chain(id, depth) AS ( \
           SELECT id, 0 FROM nodes WHERE id = {start} \
           UNION ALL \
           SELECT n.parent_id, chain.depth + 1 FROM chain JOIN nodes n ON n.id = chain.id \
           WHERE n.parent_id IS NOT NULL AND chain.depth < {limit} \
         ) \
         SELECT nodes.* FROM chain JOIN nodes ON nodes.id = chain.id ORDER BY chain.depth",
        start = placeholder(backend, 1),
        limit = placeholder(backend, 2),
    );
    let statement =
        Statement::from_sql_and_values(backend, sql, [parent.into(), (WALK_LIMIT as i64).into()]);
    let chain = node::Entity::find()
        .from_raw_sql(statement)
        .all(conn)
        .await
        .map_err(error::on_query("walk up the node tree"))?;
    if chain.len() as u32 > WALK_LIMIT {
        return Err(Error::Internal("the node tree has a cycle".into()));
    }
    Ok(chain)
}

/// How many levels the subtree of `node` reaches below it (0 for a leaf):
/// one recursive query.
pub(super) async fn subtree_height(conn: &impl ConnectionTrait, node: uuid::Uuid) -> Result<u32> {
    let backend = conn.get_database_backend();
    let sql = format!(
        "WITH RECURSIVE below(id, depth) AS ( \
           SELECT id, 0 FROM nodes WHERE id = {start} \
           UNION ALL \
           SELECT n.id, below.depth + 1 FROM below JOIN nodes n ON n.parent_id = below.id \
           WHERE below.depth < {limit} \
         ) \
         SELECT CAST(MAX(depth) AS BIGINT) AS height FROM below",
        start = placeholder(backend, 1),
        limit = placeholder(backend, 2),
    );
    let statement =
        Statement::from_sql_and_values(backend, sql, [node.into(), (WALK_LIMIT as i64).into()]);
    let row = conn
        .query_one_raw(statement)
        .await
        .map_err(error::on_query("measure the subtree"))?;
    let height: Option<i64> = match row {
        Some(row) => row
            .try_get("", "height")
            .map_err(error::on_query("measure the subtree"))?,
        None => None,
    };
    Ok(height.unwrap_or(0).clamp(0, i64::from(u32::MAX)) as u32)
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    };

    use sea_orm::{ActiveModelTrait, Database, Set};

    use super::*;
    use crate::store::Store;

    /// A chain far deeper than the API allows, written row by row, is read
    /// up and measured down in one statement each.
    #[tokio::test]
    async fn ancestors_and_subtree_height_are_one_query_each_at_any_depth() {
        const DEPTH: usize = 600;
        let path = std::env::temp_dir().join(format!("rbacd-resolve-{}.db", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let env = store.create_environment("e", None).await.unwrap();
        let env = env.value.environment.id;
        let root = root_row(&store.db, env).await.unwrap();
        let mut chain = vec![root.id];
        for level in 1..=DEPTH {
            let id = uuid::Uuid::now_v7();
            node::ActiveModel {
                id: Set(id),
                environment_id: Set(env.0),
                key: Set(format!("n{level}")),
                name: Set(String::new()),
                kind: Set(String::new()),
                parent_id: Set(chain.last().copied()),
                created_at: Set(0),
                updated_at: Set(0),
            }
            .insert(&store.db)
            .await
            .unwrap();
            chain.push(id);
        }

        let mut counted = Database::connect(&url).await.unwrap();
        let statements = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&statements);
        counted.set_metric_callback(move |_| {
            seen.fetch_add(1, Ordering::Relaxed);
        });
        let deepest = *chain.last().unwrap();
        let above = ancestors(&counted, Some(chain[DEPTH - 1])).await.unwrap();
        let ids: Vec<uuid::Uuid> = above.iter().map(|n| n.id).collect();
        let mut expected: Vec<uuid::Uuid> = chain[..DEPTH].to_vec();
        expected.reverse();
        assert_eq!(ids, expected, "every ancestor, nearest first");
        assert_eq!(statements.load(Ordering::Relaxed), 1);
        assert!(ancestors(&counted, None).await.unwrap().is_empty());

        statements.store(0, Ordering::Relaxed);
        assert_eq!(
            subtree_height(&counted, root.id).await.unwrap(),
            DEPTH as u32
        );
        assert_eq!(subtree_height(&counted, deepest).await.unwrap(), 0);
        assert_eq!(statements.load(Ordering::Relaxed), 2);
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.clone().into_os_string();
            file.push(suffix);
            let _ = std::fs::remove_file(file);
        }
    }
}
