//! The resource tree: nodes under the environment's root.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::{Caller, Store, Written, assignments, convert, entity::node, error, resolve};
use crate::domain::{
    EnvironmentId, Error, MAX_TREE_DEPTH, Node, NodeId, NodeKey, NodeRef, Page, PageRequest,
    Result, change::Event, quote,
};

/// A node to create.
#[derive(Clone, Debug)]
pub struct NewNode {
    pub key: NodeKey,
    pub name: String,
    pub kind: String,
    /// The parent; the root when `None`.
    pub parent: Option<NodeRef>,
}

/// What DeleteNode removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeletedNode {
    pub node: Node,
    pub nodes: u32,
    pub assignments: u32,
}

/// Refuses a write that would put a node below [`MAX_TREE_DEPTH`].
fn too_deep(what: &str) -> Error {
    Error::FailedPrecondition(format!(
        "{what}; the tree is at most {MAX_TREE_DEPTH} levels deep below the root (level 0)"
    ))
}

fn active_model(node: &Node) -> node::ActiveModel {
    node::ActiveModel {
        id: Set(node.id.0),
        environment_id: Set(node.environment_id.0),
        key: Set(node.key.to_string()),
        name: Set(node.name.clone()),
        kind: Set(node.kind.clone()),
        parent_id: Set(node.parent_id.map(|p| p.0)),
        created_at: Set(node.created_at.micros()),
        updated_at: Set(node.updated_at.micros()),
    }
}

impl Store {
    /// Creates a node under its parent (the root by default).
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn create_node(&self, caller: Caller, new: NewNode) -> Result<Written<Node>> {
        let mut tx = self.begin_write(caller).await?;
        let parent =
            resolve::node_row_or_root(&tx.txn, caller.environment, new.parent.as_ref()).await?;
        let level = resolve::ancestors(&tx.txn, parent.parent_id).await?.len() as u32 + 1;
        if level > MAX_TREE_DEPTH {
            return Err(too_deep(&format!(
                "node `{}` would sit at level {level} under `{}`",
                quote(new.key.as_str()),
                quote(&parent.key)
            )));
        }
        let node = Node {
            id: NodeId::generate(),
            environment_id: caller.environment,
            key: new.key,
            name: new.name,
            kind: new.kind,
            parent_id: Some(parent.id.into()),
            created_at: tx.now,
            updated_at: tx.now,
        };
        let key = node.key.to_string();
        active_model(&node)
            .insert(&tx.txn)
            .await
            .map_err(error::on_write("create the node", || {
                format!("a node with key `{key}` already exists")
            }))?;
        tx.record("CreateNode", None::<&Node>, Event::NodeSaved(node.clone()))
            .await?;
        tx.commit(node).await
    }

    /// Returns one node.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn get_node(&self, env: EnvironmentId, node_ref: &NodeRef) -> Result<Node> {
        convert::node(resolve::node_row(&self.db, env, node_ref).await?)
    }

    /// Lists the children of `parent` (the root by default) in creation order.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn list_nodes(
        &self,
        env: EnvironmentId,
        parent: Option<&NodeRef>,
        page: PageRequest,
    ) -> Result<Page<Node>> {
        let parent = resolve::node_row_or_root(&self.db, env, parent).await?;
        let mut query = node::Entity::find()
            .filter(node::Column::ParentId.eq(parent.id))
            .order_by_asc(node::Column::Id)
            .limit(page.size + 1);
        if let Some(after) = page.after {
            query = query.filter(node::Column::Id.gt(after));
        }
        let rows = query
            .all(&self.db)
            .await
            .map_err(error::on_query("list nodes"))?;
        let nodes = rows
            .into_iter()
            .map(convert::node)
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(nodes, page.size, |n| n.id.0))
    }

    /// Moves a node and its subtree under a new parent, refusing cycles.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn move_node(
        &self,
        caller: Caller,
        node_ref: &NodeRef,
        new_parent: &NodeRef,
    ) -> Result<Written<Node>> {
        let env = caller.environment;
        let mut tx = self.begin_write(caller).await?;
        let row = resolve::node_row(&tx.txn, env, node_ref).await?;
        if row.parent_id.is_none() {
            return Err(Error::FailedPrecondition(
                "the root node cannot be moved".into(),
            ));
        }
        let parent = resolve::node_row(&tx.txn, env, new_parent).await?;
        let above_parent = resolve::ancestors(&tx.txn, parent.parent_id).await?;
        if parent.id == row.id || above_parent.iter().any(|n| n.id == row.id) {
            return Err(Error::FailedPrecondition(format!(
                "cannot move node `{}` under `{}`: the new parent is the node itself or one of its descendants",
                row.key, parent.key
            )));
        }
        let level = above_parent.len() as u32 + 1;
        let deepest = level.saturating_add(resolve::subtree_height(&tx.txn, row.id).await?);
        if deepest > MAX_TREE_DEPTH {
            return Err(too_deep(&format!(
                "moving node `{}` under `{}` would put its subtree down to level {deepest}",
                quote(&row.key),
                quote(&parent.key)
            )));
        }
        let before = convert::node(row)?;
        let mut after = before.clone();
        after.parent_id = Some(parent.id.into());
        after.updated_at = tx.now;
        let mut active = active_model(&after);
        active.id = sea_orm::ActiveValue::Unchanged(after.id.0);
        active
            .update(&tx.txn)
            .await
            .map_err(error::on_query("move the node"))?;
        tx.record("MoveNode", Some(&before), Event::NodeSaved(after.clone()))
            .await?;
        tx.commit(after).await
    }

    /// Deletes a node; with `cascade`, its whole subtree. Assignments on the
    /// deleted nodes go with them.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn delete_node(
        &self,
        caller: Caller,
        node_ref: &NodeRef,
        cascade: bool,
    ) -> Result<Written<DeletedNode>> {
        let mut tx = self.begin_write(caller).await?;
        let row = resolve::node_row(&tx.txn, caller.environment, node_ref).await?;
        if row.parent_id.is_none() {
            return Err(Error::FailedPrecondition(
                "the root node cannot be deleted".into(),
            ));
        }
        let children = node::Entity::find()
            .filter(node::Column::ParentId.eq(row.id))
            .count(&tx.txn)
            .await
            .map_err(error::on_query("count the node's children"))?;
        if children > 0 && !cascade {
            return Err(Error::FailedPrecondition(format!(
                "node `{}` has {children} child node(s); delete or move them first, or pass `cascade` to delete the whole subtree",
                row.key
            )));
        }
        // Breadth-first, so reversed it lists every node after its descendants.
        let mut subtree = vec![row.clone()];
        let mut next = 0;
        while next < subtree.len() {
            let parent = subtree[next].id;
            next += 1;
            subtree.extend(
                node::Entity::find()
                    .filter(node::Column::ParentId.eq(parent))
                    .order_by_asc(node::Column::Id)
                    .all(&tx.txn)
                    .await
                    .map_err(error::on_query("walk the subtree"))?,
            );
        }
        let ids: Vec<uuid::Uuid> = subtree.iter().map(|n| n.id).collect();
        let held = assignments::on_nodes(&tx.txn, &ids).await?;
        let removed = assignments::delete_rows(&mut tx, held, "DeleteNode").await?;
        for doomed in subtree.into_iter().rev() {
            let before = convert::node(doomed)?;
            node::Entity::delete_by_id(before.id.0)
                .exec(&tx.txn)
                .await
                .map_err(error::on_query("delete a node"))?;
            tx.record("DeleteNode", Some(&before), Event::NodeDeleted(before.id))
                .await?;
        }
        tx.commit(DeletedNode {
            node: convert::node(row)?,
            nodes: ids.len() as u32,
            assignments: removed,
        })
        .await
    }
}
