//! AuditService: the change log of the caller's environment, listed a page at
//! a time or watched as a stream.

mod image;
mod outbox;
mod watch;

use std::pin::Pin;

use futures::Stream;
use prost::Message;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{State, caller, enums, parse, parse::Violations, render, revocation::Grant};
use crate::domain::{
    Change, Error, FieldViolation, Result, change::ObjectKind, paging, paging::RevisionPageRequest,
};
use crate::proto::v1::{self as pb, audit_service_server::AuditService};
use crate::store::{ChangeFilter, Store};

/// Encoded bytes a Watch buffers for a client that reads slowly; past it, the
/// server stops reading the log for that stream until the client catches up.
const WATCH_BUFFER_BYTES: usize = 1 << 20;

/// Serves AuditService.
pub struct AuditApi {
    state: State,
}

impl AuditApi {
    pub fn new(state: State) -> Self {
        Self { state }
    }
}

/// An optional UUID filter: empty means any.
fn optional_uuid(text: &str) -> std::result::Result<Option<Uuid>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    parse::uuid(text).map(Some)
}

/// The filters shared by ListChanges and Watch.
fn change_filter(
    v: &mut Violations,
    kind: i32,
    object_id: &str,
    actor_id: &str,
) -> Option<ChangeFilter> {
    let object_kind = v.check(
        "object_kind",
        enums::filter::<pb::ObjectKind, ObjectKind>(kind, "ObjectKind"),
    );
    let object_id = v.check("object_id", optional_uuid(object_id));
    let actor = v.check("actor_id", optional_uuid(actor_id));
    Some(ChangeFilter {
        object_kind: object_kind?,
        object_id: object_id?,
        actor: actor?.map(Into::into),
    })
}

/// `page_size` and `page_token` of a ListChanges, their problems recorded in `v`.
fn revision_page(
    v: &mut Violations,
    page_size: i32,
    page_token: &str,
) -> Option<RevisionPageRequest> {
    match RevisionPageRequest::parse(page_size, page_token) {
        Ok(page) => Some(page),
        Err(Error::InvalidArgument(found)) => {
            for FieldViolation { field, description } in found {
                v.add(&field, description);
            }
            None
        }
        Err(other) => {
            v.add("", other.to_string());
            None
        }
    }
}

/// A change on the wire, its images the objects as the API shows them
/// (`names` keeps the role names and node keys assignment images show).
pub(super) async fn render_change(
    change: &Change,
    store: &Store,
    names: &mut image::Names,
) -> pb::Change {
    let kind = change.event.object_kind();
    let before = match &change.before {
        Some(stored) => Some(image::before(kind, stored, change.at, store, names).await),
        None => None,
    };
    pb::Change {
        revision: change.revision,
        create_time: Some(render::timestamp(change.at)),
        actor_id: change.actor.map(|a| a.to_string()).unwrap_or_default(),
        action: change.action.clone(),
        object_kind: pb::ObjectKind::from(kind).into(),
        object_id: change.event.object_id().to_string(),
        before,
        after: image::after(&change.event, change.at, store, names).await,
        signed_by_credential_id: change.signed_by.map(|c| c.to_string()).unwrap_or_default(),
    }
}

type WatchStream =
    Pin<Box<dyn Stream<Item = std::result::Result<pb::WatchResponse, Status>> + Send>>;

#[tonic::async_trait]
impl AuditService for AuditApi {
    async fn list_changes(
        &self,
        request: Request<pb::ListChangesRequest>,
    ) -> std::result::Result<Response<pb::ListChangesResponse>, Status> {
        let caller = caller(&request)?;
        self.state
            .policy
            .authorize_at_root(&caller, &crate::domain::builtin::audit_read())?;
        let req = request.into_inner();
        let mut v = Violations::default();
        let filter = change_filter(&mut v, req.object_kind, &req.object_id, &req.actor_id);
        let page = revision_page(&mut v, req.page_size, &req.page_token);
        v.check("after_revision", paging::revision(req.after_revision));
        let (filter, mut page) = v.finish(filter.zip(page))?;
        page.after = page.after.max(req.after_revision);
        let listed = self
            .state
            .store
            .list_changes(caller.environment, &filter, page)
            .await?;
        let mut names = image::Names::default();
        let mut changes = Vec::with_capacity(listed.items.len());
        for change in &listed.items {
            changes.push(render_change(change, &self.state.store, &mut names).await);
        }
        let cut =
            paging::keep_within_bytes(&mut changes, self.state.page_bytes, Message::encoded_len);
        let next_page_token = match changes.last() {
            Some(last) if cut => paging::encode_revision_token(last.revision),
            _ => listed.next_page_token,
        };
        Ok(Response::new(pb::ListChangesResponse {
            changes,
            next_page_token,
        }))
    }

    type WatchStream = WatchStream;

    async fn watch(
        &self,
        request: Request<pb::WatchRequest>,
    ) -> std::result::Result<Response<Self::WatchStream>, Status> {
        let caller = caller(&request)?;
        self.state
            .policy
            .authorize_at_root(&caller, &crate::domain::builtin::audit_read())?;
        let grant = Grant::of(
            &self.state,
            &request,
            caller,
            crate::domain::builtin::audit_read(),
        )?;
        let req = request.into_inner();
        let mut v = Violations::default();
        let filter = change_filter(&mut v, req.object_kind, &req.object_id, &req.actor_id);
        v.check("after_revision", paging::revision(req.after_revision));
        let filter: Result<ChangeFilter> = v.finish(filter);
        let filter = filter?;
        // Subscribed before the backlog is read, so no change falls between them.
        let live = self.state.feed.subscribe();
        let (tx, rx) = outbox::outbox(WATCH_BUFFER_BYTES);
        let watcher = watch::Watcher {
            store: std::sync::Arc::clone(&self.state.store),
            environment_id: caller.environment,
            filter,
            last_sent: req.after_revision,
            tx,
            grant: Some(grant),
            names: image::Names::default(),
        };
        tokio::spawn(watcher.run(live, self.state.draining.clone()));
        Ok(Response::new(Box::pin(rx)))
    }
}
