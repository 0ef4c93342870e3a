//! Roles and their permissions.

use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::{
    Caller, Store, Written, assignments, convert,
    entity::{assignment, role, role_permission},
    error, guard, resolve,
    write::WriteTx,
};
use crate::domain::{
    EnvironmentId, Error, Page, PageRequest, PermissionPattern, Result, Role, RoleId, RoleName,
    RoleRef, change::Event,
};

/// A role to create.
#[derive(Clone, Debug)]
pub struct NewRole {
    pub name: RoleName,
    pub description: String,
    pub permissions: Vec<PermissionPattern>,
}

/// Changes to a role; `None` keeps a field.
#[derive(Clone, Debug, Default)]
pub struct RoleUpdate {
    pub name: Option<RoleName>,
    pub description: Option<String>,
    pub permissions: Option<Vec<PermissionPattern>>,
}

fn duplicate_name(name: &RoleName) -> impl FnOnce() -> String {
    let name = name.to_string();
    move || {
        format!("a role named `{name}` already exists (role names are compared case-insensitively)")
    }
}

async fn insert_permissions(tx: &WriteTx<'_>, role: &Role) -> Result<()> {
    if role.permissions.is_empty() {
        return Ok(());
    }
    let rows = role
        .permissions
        .iter()
        .enumerate()
        .map(|(i, p)| role_permission::ActiveModel {
            role_id: Set(role.id.0),
            position: Set(i as i32),
            permission: Set(p.as_str().to_owned()),
        });
    role_permission::Entity::insert_many(rows)
        .exec(&tx.txn)
        .await
        .map_err(error::on_query("store the role's permissions"))?;
    Ok(())
}

async fn delete_permissions(tx: &WriteTx<'_>, role_id: RoleId) -> Result<()> {
    role_permission::Entity::delete_many()
        .filter(role_permission::Column::RoleId.eq(role_id.0))
        .exec(&tx.txn)
        .await
        .map_err(error::on_query("remove the role's permissions"))?;
    Ok(())
}

/// Creates a role inside `tx`.
pub(super) async fn insert(tx: &mut WriteTx<'_>, new: NewRole, action: &str) -> Result<Role> {
    let role = Role {
        id: RoleId::generate(),
        environment_id: tx.caller.environment,
        name: new.name,
        description: new.description,
        permissions: new.permissions,
        created_at: tx.now,
        updated_at: tx.now,
    };
    role::ActiveModel {
        id: Set(role.id.0),
        environment_id: Set(role.environment_id.0),
        name: Set(role.name.to_string()),
        name_folded: Set(role.name.folded()),
        description: Set(role.description.clone()),
        created_at: Set(role.created_at.micros()),
        updated_at: Set(role.updated_at.micros()),
    }
    .insert(&tx.txn)
    .await
    .map_err(error::on_write(
        "create the role",
        duplicate_name(&role.name),
    ))?;
    insert_permissions(tx, &role).await?;
    tx.record(action, None::<&Role>, Event::RoleSaved(role.clone()))
        .await?;
    Ok(role)
}

impl Store {
    /// Creates a role.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn create_role(&self, caller: Caller, new: NewRole) -> Result<Written<Role>> {
        let mut tx = self.begin_write(caller).await?;
        let role = insert(&mut tx, new, "CreateRole").await?;
        tx.commit(role).await
    }

    /// Returns one role.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn get_role(&self, env: EnvironmentId, role_ref: &RoleRef) -> Result<Role> {
        resolve::role(&self.db, env, role_ref).await
    }

    /// Lists roles in creation order.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn list_roles(&self, env: EnvironmentId, page: PageRequest) -> Result<Page<Role>> {
        let mut query = role::Entity::find()
            .filter(role::Column::EnvironmentId.eq(env.0))
            .order_by_asc(role::Column::Id)
            .limit(page.size + 1);
        if let Some(after) = page.after {
            query = query.filter(role::Column::Id.gt(after));
        }
        let rows = query
            .all(&self.db)
            .await
            .map_err(error::on_query("list roles"))?;
        let mut permissions = permissions_of(&self.db, rows.iter().map(|r| r.id)).await?;
        let roles = rows
            .into_iter()
            .map(|row| {
                let held = permissions.remove(&row.id).unwrap_or_default();
                convert::role(row, held)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(roles, page.size, |r| r.id.0))
    }

    /// Changes a role's name, description or permissions.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn update_role(
        &self,
        caller: Caller,
        role_ref: &RoleRef,
        update: RoleUpdate,
    ) -> Result<Written<Role>> {
        let mut tx = self.begin_write(caller).await?;
        let row = resolve::role_row(&tx.txn, caller.environment, role_ref).await?;
        guard::refuse_builtin(&row)?;
        let before = resolve::role_from_row(&tx.txn, row.clone()).await?;
        let mut after = before.clone();
        let mut active: role::ActiveModel = row.into();
        if let Some(name) = update.name {
            active.name = Set(name.to_string());
            active.name_folded = Set(name.folded());
            after.name = name;
        }
        if let Some(description) = update.description {
            active.description = Set(description.clone());
            after.description = description;
        }
        after.updated_at = tx.now;
        active.updated_at = Set(tx.now.micros());
        active.update(&tx.txn).await.map_err(error::on_write(
            "update the role",
            duplicate_name(&after.name),
        ))?;
        if let Some(permissions) = update.permissions {
            after.permissions = permissions;
            delete_permissions(&tx, after.id).await?;
            insert_permissions(&tx, &after).await?;
        }
        tx.record("UpdateRole", Some(&before), Event::RoleSaved(after.clone()))
            .await?;
        tx.commit(after).await
    }

    /// Deletes a role; with `force`, its assignments too. Returns the role and
    /// how many assignments went with it.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn delete_role(
        &self,
        caller: Caller,
        role_ref: &RoleRef,
        force: bool,
    ) -> Result<Written<(Role, u32)>> {
        let mut tx = self.begin_write(caller).await?;
        let row = resolve::role_row(&tx.txn, caller.environment, role_ref).await?;
        guard::refuse_builtin(&row)?;
        let role = resolve::role_from_row(&tx.txn, row).await?;
        let held = assignment::Entity::find()
            .filter(assignment::Column::RoleId.eq(role.id.0))
            .order_by_asc(assignment::Column::Id)
            .all(&tx.txn)
            .await
            .map_err(error::on_query("find the role's assignments"))?;
        if !held.is_empty() && !force {
            return Err(Error::FailedPrecondition(format!(
                "role `{}` is assigned {} time(s); delete those assignments first, or pass `force` to delete them with the role",
                role.name,
                held.len()
            )));
        }
        let removed = assignments::delete_rows(&mut tx, held, "DeleteRole").await?;
        delete_permissions(&tx, role.id).await?;
        role::Entity::delete_by_id(role.id.0)
            .exec(&tx.txn)
            .await
            .map_err(error::on_query("delete the role"))?;
        tx.record("DeleteRole", Some(&role), Event::RoleDeleted(role.id))
            .await?;
        tx.commit((role, removed)).await
    }
}

/// The permissions of several roles, each in its stored order.
pub(super) async fn permissions_of(
    conn: &impl ConnectionTrait,
    role_ids: impl IntoIterator<Item = uuid::Uuid>,
) -> Result<HashMap<uuid::Uuid, Vec<String>>> {
    let ids: Vec<uuid::Uuid> = role_ids.into_iter().collect();
    let mut by_role: HashMap<uuid::Uuid, Vec<String>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows = role_permission::Entity::find()
            .filter(role_permission::Column::RoleId.is_in(chunk.iter().copied()))
            .order_by_asc(role_permission::Column::RoleId)
            .order_by_asc(role_permission::Column::Position)
            .all(conn)
            .await
            .map_err(error::on_query("read role permissions"))?;
        for row in rows {
            by_role.entry(row.role_id).or_default().push(row.permission);
        }
    }
    Ok(by_role)
}
