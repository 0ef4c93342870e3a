//! Reading the change log, in revision order.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::{Store, entity::change, error};
use crate::domain::{
    Change, EnvironmentId, Error, IdentityId, Page, Result, Timestamp,
    change::{Event, ObjectKind},
    paging::RevisionPageRequest,
};

/// Which changes of an environment to read; `None` matches anything.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChangeFilter {
    pub object_kind: Option<ObjectKind>,
    pub object_id: Option<Uuid>,
    pub actor: Option<IdentityId>,
}

impl ChangeFilter {
    /// Whether `change`, already known to be of the right environment, matches.
    pub fn matches(&self, change: &Change) -> bool {
        self.object_kind
            .is_none_or(|kind| kind == change.event.object_kind())
            && self
                .object_id
                .is_none_or(|id| id == change.event.object_id())
            && self.actor.is_none_or(|actor| Some(actor) == change.actor)
    }
}

fn parse(row: change::Model) -> Result<Change> {
    let damaged = |what: &str| {
        tracing::error!(revision = row.revision, "change row has a damaged {what}");
        Error::Internal(format!("change {} is damaged", row.revision))
    };
    let kind = ObjectKind::from_stored(&row.object_kind).ok_or_else(|| damaged("object kind"))?;
    let json = |text: &Option<String>| -> Result<Option<serde_json::Value>> {
        text.as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|_| damaged("image"))
    };
    let before = json(&row.before)?;
    let after = json(&row.after)?;
    let event = Event::from_stored(kind, row.object_id, before.is_some(), after)
        .map_err(|_| damaged("after-image"))?;
    Ok(Change {
        revision: row.revision as u64,
        environment_id: row.environment_id.into(),
        at: Timestamp(row.at),
        actor: row.actor_id.map(Into::into),
        action: row.action,
        before,
        event,
        signed_by: row.signed_by.map(Into::into),
    })
}

/// The last revision written, 0 when the log is empty.
pub(super) async fn latest_revision(conn: &impl ConnectionTrait) -> Result<u64> {
    let last = change::Entity::find()
        .order_by_desc(change::Column::Revision)
        .one(conn)
        .await
        .map_err(error::on_query("read the latest revision"))?;
    Ok(last.map_or(0, |c| c.revision as u64))
}

impl Store {
    /// Up to `limit` changes with a revision above `after`, in revision order.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn changes_after(&self, after: u64, limit: u64) -> Result<Vec<Change>> {
        change::Entity::find()
            .filter(change::Column::Revision.gt(after as i64))
            .order_by_asc(change::Column::Revision)
            .limit(limit)
            .all(&self.db)
            .await
            .map_err(error::on_query("read the change log"))?
            .into_iter()
            .map(parse)
            .collect()
    }

    /// Up to `limit` changes of environment `env` matching `filter`, with a
    /// revision above `after`, in revision order.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn environment_changes_after(
        &self,
        env: EnvironmentId,
        filter: &ChangeFilter,
        after: u64,
        limit: u64,
    ) -> Result<Vec<Change>> {
        let mut query = change::Entity::find()
            .filter(change::Column::EnvironmentId.eq(env.0))
            .filter(change::Column::Revision.gt(after as i64));
        if let Some(kind) = filter.object_kind {
            query = query.filter(change::Column::ObjectKind.eq(kind.as_str()));
        }
        if let Some(id) = filter.object_id {
            query = query.filter(change::Column::ObjectId.eq(id));
        }
        if let Some(actor) = filter.actor {
            query = query.filter(change::Column::ActorId.eq(actor.0));
        }
        query
            .order_by_asc(change::Column::Revision)
            .limit(limit)
            .all(&self.db)
            .await
            .map_err(error::on_query("read the change log"))?
            .into_iter()
            .map(parse)
            .collect()
    }

    /// One page of environment `env`'s changes matching `filter`, in revision order.
    pub async fn list_changes(
        &self,
        env: EnvironmentId,
        filter: &ChangeFilter,
        page: RevisionPageRequest,
    ) -> Result<Page<Change>> {
        let changes = self
            .environment_changes_after(env, filter, page.after, page.size + 1)
            .await?;
        Ok(Page::from_overfetch_by_revision(changes, page.size, |c| {
            c.revision
        }))
    }

    /// The last revision written, 0 when the log is empty.
    pub async fn latest_revision(&self) -> Result<u64> {
        latest_revision(&self.db).await
    }
}
