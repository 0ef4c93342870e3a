//! BulkService: a whole environment out (Export) and into an empty one (Import).

mod export;
mod import;

use std::pin::Pin;

use futures::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};

use super::{State, caller};
use crate::domain::{
    Actor, Caller, Error, IdentityRef, NodeRef, Permission, Result, Timestamp, builtin,
};
use crate::proto::v1::{self as pb, bulk_service_server::BulkService};

/// Serves BulkService.
pub struct BulkApi {
    state: State,
}

impl BulkApi {
    pub fn new(state: State) -> Self {
        Self { state }
    }

    /// Refuses the caller unless it holds every one of `permissions` at the root.
    fn authorize_all(&self, caller: &Caller, permissions: &[Permission]) -> Result<()> {
        permissions
            .iter()
            .try_for_each(|p| self.state.policy.authorize_at_root(caller, p))
    }

    /// The granting rule for a whole environment: only a caller holding `*` at
    /// the root covers every permission an imported role may hold.
    fn holds_everything(&self, caller: &Caller) -> Result<()> {
        let Actor::Identity(actor) = caller.actor else {
            return Ok(());
        };
        let held = self
            .state
            .engine
            .list_permissions(
                caller.environment,
                &IdentityRef::Id(actor),
                &NodeRef::root(),
                Timestamp::now(),
            )
            .unwrap_or_default();
        if held.iter().any(|p| p.as_str() == "*") {
            Ok(())
        } else {
            Err(Error::PermissionDenied(format!(
                "identity {actor} lacks `*` at the root: an import hands out every permission its roles hold, so it needs a caller holding them all"
            )))
        }
    }
}

type ExportStream =
    Pin<Box<dyn Stream<Item = std::result::Result<pb::ExportResponse, Status>> + Send>>;

#[tonic::async_trait]
impl BulkService for BulkApi {
    type ExportStream = ExportStream;

    async fn export(
        &self,
        request: Request<pb::ExportRequest>,
    ) -> std::result::Result<Response<ExportStream>, Status> {
        let caller = caller(&request)?;
        self.authorize_all(
            &caller,
            &[
                builtin::roles_read(),
                builtin::identities_read(),
                builtin::nodes_read(),
                builtin::assignments_read(),
            ],
        )?;
        // The snapshot reader's future is not provably Send (a higher-ranked
        // lifetime in its read transactions), so it runs on a blocking thread.
        let store = std::sync::Arc::clone(&self.state.store);
        let runtime = tokio::runtime::Handle::current();
        let export = tokio::task::spawn_blocking(move || {
            runtime.block_on(store.export_environment(caller.environment))
        })
        .await
        .map_err(|e| Error::Internal(format!("the export failed: {e}")))??;
        let chunks = export::Chunks::new(export);
        Ok(Response::new(Box::pin(
            futures::stream::iter(chunks).map(Ok),
        )))
    }

    async fn import(
        &self,
        request: Request<Streaming<pb::ImportRequest>>,
    ) -> std::result::Result<Response<pb::ImportResponse>, Status> {
        let caller = caller(&request)?;
        self.authorize_all(
            &caller,
            &[
                builtin::roles_write(),
                builtin::identities_write(),
                builtin::nodes_write(),
                builtin::assignments_write(),
            ],
        )?;
        self.holds_everything(&caller)?;
        let mut inbound = request.into_inner();
        let mut received = import::Received::default();
        let started = std::time::Instant::now();
        while let Some(message) = inbound.next().await {
            received.add(message?);
        }
        tracing::debug!(
            receive_ms = started.elapsed().as_millis() as u64,
            "import: stream received and decoded"
        );
        let now = Timestamp::now();
        // The feed is paused from just before the commit until the import's
        // changes are applied from memory: otherwise a catch-up the commit
        // announces would read a million change rows back from the log first.
        let feed = &self.state.feed;
        let (mut written, paused) = self
            .state
            .store
            .import_environment(
                caller,
                |builtins| import::build(&received, caller.environment, builtins, now),
                feed.pause(),
            )
            .await?;
        let applying = std::time::Instant::now();
        feed.apply_written_paused(&mut written, paused).await?;
        self.state
            .metrics
            .writes
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tracing::debug!(
            apply_ms = applying.elapsed().as_millis() as u64,
            "import: applied to the index"
        );
        let state = &written.value;
        Ok(Response::new(pb::ImportResponse {
            roles: state.roles.len() as u64,
            identities: state.identities.len() as u64,
            nodes: state.nodes.len() as u64,
            assignments: state.assignments.len() as u64,
            revision: written.revision,
        }))
    }
}
