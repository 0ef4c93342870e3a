//! Assignments: an identity holding a role at a node, during a window.

use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use tracing::Instrument;

use super::{
    Caller, Store, Written, assignment_insert, convert,
    entity::{assignment, identity, node, role},
    error, guard, request_records, resolve, rows,
    write::WriteTx,
};
use crate::domain::{
    Assignment, AssignmentId, AssignmentState, EnvironmentId, Error, IdentityRef, NodeRef, Page,
    PageRequest, Result, Role, RoleRef, Timestamp, change::Event,
};

/// An assignment to create.
#[derive(Clone, Debug)]
pub struct NewAssignment {
    pub identity: IdentityRef,
    pub role: RoleRef,
    pub node: NodeRef,
    pub effective_from: Option<Timestamp>,
    pub effective_to: Option<Timestamp>,
}

/// The granting rule, as the caller's side decides it for the role being
/// handed out: the store asks it with the role as stored in the transaction
/// that writes the assignment, so a role changed meanwhile cannot slip past it.
pub type GrantCheck = std::sync::Arc<dyn Fn(&Role) -> Result<()> + Send + Sync>;

/// An assignment to create with an invited identity.
#[derive(Clone, Debug)]
pub struct InitialAssignment {
    pub role: RoleRef,
    pub node: NodeRef,
    pub effective_from: Option<Timestamp>,
    pub effective_to: Option<Timestamp>,
}

impl InitialAssignment {
    /// The assignment for the identity once it exists.
    pub(super) fn for_identity(self, identity: IdentityRef) -> NewAssignment {
        NewAssignment {
            identity,
            role: self.role,
            node: self.node,
            effective_from: self.effective_from,
            effective_to: self.effective_to,
        }
    }
}

/// An assignment with the names people read it by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssignmentView {
    pub assignment: Assignment,
    pub role_name: String,
    pub node_key: String,
    /// Listed because it sits on an ancestor of the node asked about.
    pub inherited: bool,
}

/// Which assignments to list; `None` does not filter.
#[derive(Clone, Debug, Default)]
pub struct AssignmentFilter {
    pub identity: Option<IdentityRef>,
    pub node: Option<NodeRef>,
    pub role: Option<RoleRef>,
    pub state: Option<AssignmentState>,
    /// With `node`: also those on the node's ancestors.
    pub include_inherited: bool,
}

/// How DeleteAssignment names its assignment.
#[derive(Clone, Debug)]
pub enum AssignmentSelector {
    Id(AssignmentId),
    Triple {
        identity: IdentityRef,
        role: RoleRef,
        node: NodeRef,
    },
}

/// Rows one write has resolved already, so that a batch naming the same role,
/// node or identity many times reads each once. Valid for that write only.
#[derive(Default)]
pub(super) struct Resolved {
    identities: HashMap<IdentityRef, identity::Model>,
    roles: HashMap<RoleRef, role::Model>,
    nodes: HashMap<NodeRef, node::Model>,
}

/// Creates one assignment inside `tx`; `item` prefixes messages in batches.
pub(super) async fn insert(
    tx: &mut WriteTx<'_>,
    new: &NewAssignment,
    action: &str,
    item: &str,
) -> Result<AssignmentView> {
    insert_resolving(tx, new, action, item, &mut Resolved::default()).await
}

/// The rows `new` names and the assignment it makes, reading only the rows
/// `resolved` does not hold yet; `item` prefixes messages in batches.
async fn plan(
    tx: &WriteTx<'_>,
    new: &NewAssignment,
    item: &str,
    resolved: &mut Resolved,
) -> Result<Planned> {
    let env = tx.caller.environment;
    let in_item = |e: Error| match e {
        Error::NotFound(m) if !item.is_empty() => Error::NotFound(format!("{item}: {m}")),
        other => other,
    };
    let who = cached(&mut resolved.identities, &new.identity, || {
        resolve::identity_row(&tx.txn, env, &new.identity)
    })
    .await
    .map_err(in_item)?;
    let role = cached(&mut resolved.roles, &new.role, || {
        resolve::role_row(&tx.txn, env, &new.role)
    })
    .await
    .map_err(in_item)?;
    let at = cached(&mut resolved.nodes, &new.node, || {
        resolve::node_row(&tx.txn, env, &new.node)
    })
    .await
    .map_err(in_item)?;
    let prefix = if item.is_empty() {
        String::new()
    } else {
        format!("{item}: ")
    };
    Ok(Planned {
        duplicate: format!(
            "{prefix}{} already holds role `{}` at node `{}`",
            new.identity, role.name, at.key
        ),
        view: AssignmentView {
            assignment: Assignment {
                id: AssignmentId::generate(),
                environment_id: env,
                identity_id: who.id.into(),
                role_id: role.id.into(),
                node_id: at.id.into(),
                effective_from: new.effective_from,
                effective_to: new.effective_to,
                created_at: tx.now,
            },
            role_name: role.name,
            node_key: at.key,
            inherited: false,
        },
    })
}

/// The row `map` holds for `key`, else the one `read` finds, kept for next time.
async fn cached<K, V, F>(map: &mut HashMap<K, V>, key: &K, read: impl FnOnce() -> F) -> Result<V>
where
    K: Clone + Eq + std::hash::Hash,
    V: Clone,
    F: Future<Output = Result<V>>,
{
    if let Some(row) = map.get(key) {
        return Ok(row.clone());
    }
    let row = read().await?;
    map.insert(key.clone(), row.clone());
    Ok(row)
}

/// An assignment to insert, and what to say if its triple is taken.
struct Planned {
    view: AssignmentView,
    duplicate: String,
}

/// [`insert`], reading only the rows `resolved` does not hold yet.
pub(super) async fn insert_resolving(
    tx: &mut WriteTx<'_>,
    new: &NewAssignment,
    action: &str,
    item: &str,
    resolved: &mut Resolved,
) -> Result<AssignmentView> {
    Ok(
        insert_planned(tx, vec![plan(tx, new, item, resolved).await?], action)
            .await?
            .remove(0),
    )
}

/// Inserts the planned assignments with as few statements as fit, recording
/// each; ALREADY_EXISTS (the first clash) when any triple is taken already
/// or twice among them.
async fn insert_planned(
    tx: &mut WriteTx<'_>,
    planned: Vec<Planned>,
    action: &str,
) -> Result<Vec<AssignmentView>> {
    let assignments: Vec<&Assignment> = planned.iter().map(|p| &p.view.assignment).collect();
    let inserted = rows::insert_new(
        &tx.txn,
        &rows::ASSIGNMENTS,
        &assignments,
        |a, out| rows::assignment(a, out),
        "create the assignments",
    )
    .await?;
    if inserted.len() < planned.len() {
        let inserted: std::collections::HashSet<_> = inserted.into_iter().collect();
        let clash = planned
            .into_iter()
            .find(|p| !inserted.contains(&p.view.assignment.id.0))
            .map_or_else(String::new, |p| p.duplicate);
        return Err(Error::AlreadyExists(clash));
    }
    let mut views = Vec::with_capacity(planned.len());
    for Planned { view, .. } in planned {
        tx.record(
            action,
            None::<&Assignment>,
            Event::AssignmentCreated(view.assignment.clone()),
        )
        .await?;
        views.push(view);
    }
    Ok(views)
}

/// Deletes assignment rows inside `tx`, recording each; returns how many.
pub(super) async fn delete_rows(
    tx: &mut WriteTx<'_>,
    rows: Vec<assignment::Model>,
    action: &str,
) -> Result<u32> {
    let count = rows.len() as u32;
    for row in rows {
        let before = convert::assignment(row);
        assignment::Entity::delete_by_id(before.id.0)
            .exec(&tx.txn)
            .await
            .map_err(error::on_query("delete an assignment"))?;
        tx.record(action, Some(&before), Event::AssignmentDeleted(before.id))
            .await?;
    }
    Ok(count)
}

/// Adds role names and node keys to assignment rows.
pub(super) async fn views(
    conn: &impl ConnectionTrait,
    rows: Vec<assignment::Model>,
    inherited_unless_on: Option<uuid::Uuid>,
) -> Result<Vec<AssignmentView>> {
    let role_ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.role_id).collect();
    let node_ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.node_id).collect();
    let mut role_names = HashMap::new();
    for chunk in role_ids.chunks(500) {
        for r in role::Entity::find()
            .filter(role::Column::Id.is_in(chunk.iter().copied()))
            .all(conn)
            .await
            .map_err(error::on_query("read role names"))?
        {
            role_names.insert(r.id, r.name);
        }
    }
    let mut node_keys = HashMap::new();
    for chunk in node_ids.chunks(500) {
        for n in node::Entity::find()
            .filter(node::Column::Id.is_in(chunk.iter().copied()))
            .all(conn)
            .await
            .map_err(error::on_query("read node keys"))?
        {
            node_keys.insert(n.id, n.key);
        }
    }
    Ok(rows
        .into_iter()
        .map(|row| AssignmentView {
            role_name: role_names.get(&row.role_id).cloned().unwrap_or_default(),
            node_key: node_keys.get(&row.node_id).cloned().unwrap_or_default(),
            inherited: inherited_unless_on.is_some_and(|n| n != row.node_id),
            assignment: convert::assignment(row),
        })
        .collect())
}

fn state_condition(state: AssignmentState, now: Timestamp) -> Condition {
    let now = now.micros();
    let from = assignment::Column::EffectiveFrom;
    let to = assignment::Column::EffectiveTo;
    match state {
        AssignmentState::Pending => Condition::all().add(from.gt(now)),
        AssignmentState::Expired => Condition::all().add(to.lte(now)),
        AssignmentState::Active => Condition::all()
            .add(Condition::any().add(from.is_null()).add(from.lte(now)))
            .add(Condition::any().add(to.is_null()).add(to.gt(now))),
    }
}

impl Store {
    /// Grants a role to an identity at a node.
    pub async fn create_assignment(
        &self,
        caller: Caller,
        new: NewAssignment,
    ) -> Result<Written<AssignmentView>> {
        self.create_assignment_granted(caller, new, std::sync::Arc::new(|_: &Role| Ok(())))
            .await
    }

    /// Grants a role to an identity at a node if `may_grant` allows handing
    /// out that role (its refusal is the answer; NOT_FOUND when the role does
    /// not exist).
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn create_assignment_granted(
        &self,
        caller: Caller,
        new: NewAssignment,
        may_grant: GrantCheck,
    ) -> Result<Written<AssignmentView>> {
        const ACTION: &str = "CreateAssignment";
        if !request_records::has_pending() {
            // In a task of its own: a write without a savepoint must not be
            // cut short by its caller going away.
            let one_statement = assignment_insert::create(
                self.db.clone(),
                self.lanes.of(caller.environment),
                caller,
                new.clone(),
                std::sync::Arc::clone(&may_grant),
                ACTION,
            );
            let created = tokio::spawn(one_statement.in_current_span())
                .await
                .map_err(|e| Error::Internal(format!("a write's task failed: {e}")))??;
            if let Some(created) = created {
                return Ok(created);
            }
        }
        // A reference names nothing or the triple is taken (the general path
        // says which), or the request's answer is to be recorded.
        let mut tx = self.begin_write(caller).await?;
        let role = resolve::role(&tx.txn, caller.environment, &new.role).await?;
        may_grant(&role)?;
        let view = insert(&mut tx, &new, ACTION, "").await?;
        tx.commit(view).await
    }

    /// Creates every assignment or none.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn batch_create_assignments(
        &self,
        caller: Caller,
        batch: Vec<NewAssignment>,
    ) -> Result<Written<Vec<AssignmentView>>> {
        let mut tx = self.begin_write(caller).await?;
        let mut planned = Vec::with_capacity(batch.len());
        let mut resolved = Resolved::default();
        for (i, new) in batch.iter().enumerate() {
            let item = format!("assignments[{i}]");
            planned.push(plan(&tx, new, &item, &mut resolved).await?);
        }
        let created = insert_planned(&mut tx, planned, "BatchCreateAssignments").await?;
        tx.commit(created).await
    }

    /// Returns one assignment.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn get_assignment(
        &self,
        env: EnvironmentId,
        id: AssignmentId,
    ) -> Result<AssignmentView> {
        let row = assignment::Entity::find_by_id(id.0)
            .filter(assignment::Column::EnvironmentId.eq(env.0))
            .one(&self.db)
            .await
            .map_err(error::on_query("look up an assignment"))?
            .ok_or_else(|| {
                Error::NotFound(format!("no assignment with id {id} in this environment"))
            })?;
        Ok(views(&self.db, vec![row], None).await?.remove(0))
    }

    /// Lists assignments in creation order.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn list_assignments(
        &self,
        env: EnvironmentId,
        filter: AssignmentFilter,
        page: PageRequest,
    ) -> Result<Page<AssignmentView>> {
        let mut query = assignment::Entity::find()
            .filter(assignment::Column::EnvironmentId.eq(env.0))
            .order_by_asc(assignment::Column::Id)
            .limit(page.size + 1);
        if let Some(after) = page.after {
            query = query.filter(assignment::Column::Id.gt(after));
        }
        if let Some(identity_ref) = &filter.identity {
            let who = resolve::identity_row(&self.db, env, identity_ref).await?;
            query = query.filter(assignment::Column::IdentityId.eq(who.id));
        }
        if let Some(role_ref) = &filter.role {
            let role = resolve::role_row(&self.db, env, role_ref).await?;
            query = query.filter(assignment::Column::RoleId.eq(role.id));
        }
        let mut asked_node = None;
        if let Some(node_ref) = &filter.node {
            let at = resolve::node_row(&self.db, env, node_ref).await?;
            let mut nodes = vec![at.id];
            if filter.include_inherited {
                nodes.extend(
                    resolve::ancestors(&self.db, at.parent_id)
                        .await?
                        .iter()
                        .map(|n| n.id),
                );
                asked_node = Some(at.id);
            }
            query = query.filter(assignment::Column::NodeId.is_in(nodes));
        }
        if let Some(state) = filter.state {
            query = query.filter(state_condition(state, Timestamp::now()));
        }
        let rows = query
            .all(&self.db)
            .await
            .map_err(error::on_query("list assignments"))?;
        let listed = views(&self.db, rows, asked_node).await?;
        Ok(Page::from_overfetch(listed, page.size, |v| {
            v.assignment.id.0
        }))
    }

    /// Removes one assignment.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn delete_assignment(
        &self,
        caller: Caller,
        selector: AssignmentSelector,
    ) -> Result<Written<AssignmentView>> {
        let env = caller.environment;
        let mut tx = self.begin_write(caller).await?;
        let query = assignment::Entity::find().filter(assignment::Column::EnvironmentId.eq(env.0));
        let (query, missing) = match &selector {
            AssignmentSelector::Id(id) => (
                query.filter(assignment::Column::Id.eq(id.0)),
                format!("no assignment with id {id} in this environment"),
            ),
            AssignmentSelector::Triple {
                identity: i,
                role: r,
                node: n,
            } => {
                let who = resolve::identity_row(&tx.txn, env, i).await?;
                let role = resolve::role_row(&tx.txn, env, r).await?;
                let at = resolve::node_row(&tx.txn, env, n).await?;
                (
                    query
                        .filter(assignment::Column::IdentityId.eq(who.id))
                        .filter(assignment::Column::RoleId.eq(role.id))
                        .filter(assignment::Column::NodeId.eq(at.id)),
                    format!(
                        "{i} does not hold role `{}` at node `{}`",
                        role.name, at.key
                    ),
                )
            }
        };
        let row = query
            .one(&tx.txn)
            .await
            .map_err(error::on_query("look up an assignment"))?
            .ok_or(Error::NotFound(missing))?;
        guard::keep_an_administrator(&tx, |a| a.id == row.id).await?;
        let view = views(&tx.txn, vec![row.clone()], None).await?.remove(0);
        delete_rows(&mut tx, vec![row], "DeleteAssignment").await?;
        tx.commit(view).await
    }
}

/// Assignments of an identity, for deleting it.
pub(super) async fn of_identity(
    conn: &impl ConnectionTrait,
    identity_id: uuid::Uuid,
) -> Result<Vec<assignment::Model>> {
    assignment::Entity::find()
        .filter(assignment::Column::IdentityId.eq(identity_id))
        .order_by_asc(assignment::Column::Id)
        .all(conn)
        .await
        .map_err(error::on_query("find the identity's assignments"))
}

/// Assignments on any of `nodes`, for deleting them.
pub(super) async fn on_nodes(
    conn: &impl ConnectionTrait,
    nodes: &[uuid::Uuid],
) -> Result<Vec<assignment::Model>> {
    let mut found = Vec::new();
    for chunk in nodes.chunks(500) {
        found.extend(
            assignment::Entity::find()
                .filter(assignment::Column::NodeId.is_in(chunk.iter().copied()))
                .order_by_asc(assignment::Column::Id)
                .all(conn)
                .await
                .map_err(error::on_query("find the nodes' assignments"))?,
        );
    }
    Ok(found)
}
