//! Assignment writes beyond one at a time: replacing an identity's roles at a
//! node, changing a window in place, and deleting by filter.

use std::collections::HashSet;

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::{
    Caller, Store, Written,
    assignments::{AssignmentView, NewAssignment, delete_rows, insert, views},
    convert,
    entity::{assignment, node},
    error, guard, resolve,
    write::WriteTx,
};
use crate::domain::{
    Assignment, AssignmentId, AssignmentState, Error, IdentityRef, NodeId, NodeRef, Result,
    RoleRef, Timestamp, change::Event,
};

/// What SetRoles did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RolesSet {
    pub created: Vec<AssignmentView>,
    pub deleted: Vec<AssignmentView>,
    /// Every direct assignment of the identity at the node afterwards.
    pub assignments: Vec<AssignmentView>,
}

/// New bounds of a window: `None` keeps a bound, `Some(None)` clears it.
#[derive(Clone, Copy, Debug, Default)]
pub struct WindowUpdate {
    pub effective_from: Option<Option<Timestamp>>,
    pub effective_to: Option<Option<Timestamp>>,
}

/// Which assignments DeleteAssignments removes; at least one filter is set.
#[derive(Clone, Debug, Default)]
pub struct AssignmentMatch {
    pub identity: Option<IdentityRef>,
    pub role: Option<RoleRef>,
    pub node: Option<NodeRef>,
    /// With `node`: also those on its descendants.
    pub include_descendants: bool,
}

/// Ids of `top` and every node below it.
async fn subtree(tx: &WriteTx<'_>, top: uuid::Uuid) -> Result<Vec<uuid::Uuid>> {
    let mut ids = vec![top];
    let mut next = 0;
    while next < ids.len() {
        let parent = ids[next];
        next += 1;
        let children = node::Entity::find()
            .filter(node::Column::ParentId.eq(parent))
            .all(&tx.txn)
            .await
            .map_err(error::on_query("walk the subtree"))?;
        ids.extend(children.into_iter().map(|n| n.id));
    }
    Ok(ids)
}

/// The assignment rows `filter` matches, in id order.
async fn matching(tx: &WriteTx<'_>, filter: &AssignmentMatch) -> Result<Vec<assignment::Model>> {
    let env = tx.caller.environment;
    let mut query = assignment::Entity::find()
        .filter(assignment::Column::EnvironmentId.eq(env.0))
        .order_by_asc(assignment::Column::Id);
    if let Some(who) = &filter.identity {
        let row = resolve::identity_row(&tx.txn, env, who).await?;
        query = query.filter(assignment::Column::IdentityId.eq(row.id));
    }
    if let Some(role) = &filter.role {
        let row = resolve::role_row(&tx.txn, env, role).await?;
        query = query.filter(assignment::Column::RoleId.eq(row.id));
    }
    let Some(at) = &filter.node else {
        return query
            .all(&tx.txn)
            .await
            .map_err(error::on_query("find the matching assignments"));
    };
    let top = resolve::node_row(&tx.txn, env, at).await?;
    let nodes = if filter.include_descendants {
        subtree(tx, top.id).await?
    } else {
        vec![top.id]
    };
    let mut found = Vec::new();
    for chunk in nodes.chunks(500) {
        found.extend(
            query
                .clone()
                .filter(assignment::Column::NodeId.is_in(chunk.iter().copied()))
                .all(&tx.txn)
                .await
                .map_err(error::on_query("find the matching assignments"))?,
        );
    }
    found.sort_by_key(|a| a.id);
    Ok(found)
}

impl Store {
    /// Makes `identity`'s direct assignments at `node` exactly `roles`: keeps
    /// those it holds, creates the missing ones (without a window), deletes the rest.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn set_roles(
        &self,
        caller: Caller,
        identity: &IdentityRef,
        node_ref: &NodeRef,
        roles: &[RoleRef],
    ) -> Result<Written<RolesSet>> {
        const ACTION: &str = "SetRoles";
        let env = caller.environment;
        let mut tx = self.begin_write(caller).await?;
        let who = resolve::identity_row(&tx.txn, env, identity).await?;
        let at = resolve::node_row(&tx.txn, env, node_ref).await?;
        let mut wanted = Vec::with_capacity(roles.len());
        for (i, role) in roles.iter().enumerate() {
            let row = resolve::role_row(&tx.txn, env, role)
                .await
                .map_err(|e| match e {
                    Error::NotFound(m) => Error::NotFound(format!("roles[{i}]: {m}")),
                    other => other,
                })?;
            if !wanted.contains(&row.id) {
                wanted.push(row.id);
            }
        }
        let held = assignment::Entity::find()
            .filter(assignment::Column::IdentityId.eq(who.id))
            .filter(assignment::Column::NodeId.eq(at.id))
            .order_by_asc(assignment::Column::Id)
            .all(&tx.txn)
            .await
            .map_err(error::on_query(
                "find the identity's assignments at the node",
            ))?;
        let (kept, doomed): (Vec<_>, Vec<_>) =
            held.into_iter().partition(|a| wanted.contains(&a.role_id));
        let doomed_ids: HashSet<uuid::Uuid> = doomed.iter().map(|a| a.id).collect();
        guard::keep_an_administrator(&tx, |a| doomed_ids.contains(&a.id)).await?;
        let deleted = views(&tx.txn, doomed.clone(), None).await?;
        delete_rows(&mut tx, doomed, ACTION).await?;
        let mut created = Vec::new();
        for role_id in wanted {
            if kept.iter().any(|a| a.role_id == role_id) {
                continue;
            }
            let new = NewAssignment {
                identity: IdentityRef::Id(who.id.into()),
                role: RoleRef::Id(role_id.into()),
                node: NodeRef::Id(at.id.into()),
                effective_from: None,
                effective_to: None,
            };
            created.push(insert(&mut tx, &new, ACTION, "").await?);
        }
        let mut assignments = views(&tx.txn, kept, None).await?;
        assignments.extend(created.iter().cloned());
        assignments.sort_by_key(|v| v.assignment.id.0);
        tx.commit_even_if_unchanged(RolesSet {
            created,
            deleted,
            assignments,
        })
        .await
    }

    /// Changes an assignment's window, keeping its id.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn update_assignment(
        &self,
        caller: Caller,
        id: AssignmentId,
        update: WindowUpdate,
    ) -> Result<Written<AssignmentView>> {
        let env = caller.environment;
        let mut tx = self.begin_write(caller).await?;
        let row = assignment::Entity::find_by_id(id.0)
            .filter(assignment::Column::EnvironmentId.eq(env.0))
            .one(&tx.txn)
            .await
            .map_err(error::on_query("look up an assignment"))?
            .ok_or_else(|| {
                Error::NotFound(format!("no assignment with id {id} in this environment"))
            })?;
        let before = convert::assignment(row.clone());
        let after = Assignment {
            effective_from: update.effective_from.unwrap_or(before.effective_from),
            effective_to: update.effective_to.unwrap_or(before.effective_to),
            ..before.clone()
        };
        if let (Some(from), Some(to)) = (after.effective_from, after.effective_to)
            && to <= from
        {
            return Err(Error::invalid(
                "effective_to",
                "must be after `effective_from` (the stored one, when the mask keeps it)",
            ));
        }
        let lasts = after.effective_to.is_none()
            && AssignmentState::of_window(after.effective_from, None, Timestamp::now())
                == AssignmentState::Active;
        if !lasts {
            guard::keep_an_administrator(&tx, |a| a.id == row.id).await?;
        }
        let mut active: assignment::ActiveModel = row.into();
        active.effective_from = Set(after.effective_from.map(Timestamp::micros));
        active.effective_to = Set(after.effective_to.map(Timestamp::micros));
        let saved = active
            .update(&tx.txn)
            .await
            .map_err(error::on_query("update the assignment"))?;
        tx.record(
            "UpdateAssignment",
            Some(&before),
            Event::AssignmentUpdated(after),
        )
        .await?;
        let view = views(&tx.txn, vec![saved], None).await?.remove(0);
        tx.commit(view).await
    }

    /// Deletes every assignment `filter` matches, all or nothing: more than
    /// `limit` matches, or `authorize` refusing any match's node, deletes
    /// nothing. With `validate_only`, counts them (every check done) instead.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn delete_assignments(
        &self,
        caller: Caller,
        filter: &AssignmentMatch,
        limit: u32,
        validate_only: bool,
        authorize: impl Fn(NodeId) -> Result<()>,
    ) -> Result<Written<u32>> {
        let mut tx = self.begin_write(caller).await?;
        let found = matching(&tx, filter).await?;
        if found.len() > limit as usize {
            return Err(Error::FailedPrecondition(format!(
                "{} assignments match, more than the limit of {limit}; narrow the filter or raise `limit` (at most 1000)",
                found.len()
            )));
        }
        let nodes: HashSet<uuid::Uuid> = found.iter().map(|a| a.node_id).collect();
        for node_id in nodes {
            authorize(node_id.into())?;
        }
        let ids: HashSet<uuid::Uuid> = found.iter().map(|a| a.id).collect();
        guard::keep_an_administrator(&tx, |a| ids.contains(&a.id)).await?;
        let count = found.len() as u32;
        if validate_only {
            let revision = super::changes::latest_revision(&tx.txn).await?;
            return Ok(Written {
                value: count,
                revision,
                changes: Vec::new(),
            });
        }
        delete_rows(&mut tx, found, "DeleteAssignments").await?;
        tx.commit_even_if_unchanged(count).await
    }
}
