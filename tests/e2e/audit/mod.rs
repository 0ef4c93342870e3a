//! AuditService over real gRPC: ListChanges in revision order, paged and
//! filtered, scoped to the caller's environment; Watch delivering the backlog
//! and then live changes, resumable without gaps or repeats.

mod images;
mod list_changes;
mod watch;

use std::time::Duration;

use crate::support::*;
use prost_types::value::Kind;
use rbacd::proto::v1 as pb;
use tonic::Streaming;

/// How long a test waits for a change to arrive on a Watch.
const ARRIVAL: Duration = Duration::from_secs(10);

/// Every change matching `request` from its `after_revision`, page by page.
async fn list_all(client: &Audit, mut request: pb::ListChangesRequest) -> Vec<pb::Change> {
    let mut all: Vec<pb::Change> = Vec::new();
    loop {
        let page = client
            .clone()
            .list_changes(request.clone())
            .await
            .expect("list changes")
            .into_inner();
        if request.page_size > 0 {
            assert!(page.changes.len() <= request.page_size as usize);
        }
        all.extend(page.changes);
        if page.next_page_token.is_empty() {
            return all;
        }
        request.page_token = page.next_page_token;
    }
}

/// The revision of the last change so far in the caller's environment.
async fn latest(client: &Audit) -> u64 {
    let all = list_all(
        client,
        pb::ListChangesRequest {
            page_size: 1000,
            ..Default::default()
        },
    )
    .await;
    all.last().map_or(0, |c| c.revision)
}

fn revisions(changes: &[pb::Change]) -> Vec<u64> {
    changes.iter().map(|c| c.revision).collect()
}

fn assert_increasing(revisions: &[u64]) {
    assert!(
        revisions.windows(2).all(|w| w[0] < w[1]),
        "revisions must strictly increase: {revisions:?}"
    );
}

/// A string field of an image.
fn field<'a>(image: &'a Option<prost_types::Struct>, name: &str) -> &'a str {
    let image = image.as_ref().expect("an image");
    match image.fields.get(name).and_then(|v| v.kind.as_ref()) {
        Some(Kind::StringValue(s)) => s,
        other => panic!("`{name}` is not a string in the image: {other:?}"),
    }
}

async fn start_watch(client: &Audit, request: pb::WatchRequest) -> Streaming<pb::WatchResponse> {
    client
        .clone()
        .watch(request)
        .await
        .expect("start a Watch")
        .into_inner()
}

/// The next change on a Watch, within [`ARRIVAL`].
async fn next_change(stream: &mut Streaming<pb::WatchResponse>) -> pb::Change {
    tokio::time::timeout(ARRIVAL, stream.message())
        .await
        .expect("a change arrives in time")
        .expect("the stream is healthy")
        .expect("the stream goes on")
        .change
        .expect("a change")
}
