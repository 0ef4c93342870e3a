//! AssignmentService end to end: every RPC, its success path and its error paths.

mod create;
mod delete;
mod list;
mod replace_and_revoke;
mod retries;

use std::collections::HashSet;

use crate::support::*;
use rbacd::proto::v1 as pb;
use tonic::Code;

/// A request naming everything by its human handle.
fn by_names(email: &str, role: &str, node: &str) -> pb::CreateAssignmentRequest {
    pb::CreateAssignmentRequest {
        request_id: Default::default(),
        identity: identity_by_email(email),
        role: role_by_name(role),
        node: node_by_key(node),
        effective_from: None,
        effective_to: None,
    }
}

fn ids(list: &[pb::Assignment]) -> HashSet<String> {
    list.iter().map(|a| a.id.clone()).collect()
}

fn id_set<'a>(list: impl IntoIterator<Item = &'a pb::Assignment>) -> HashSet<String> {
    list.into_iter().map(|a| a.id.clone()).collect()
}

async fn all(server: &TestServer) -> Vec<pb::Assignment> {
    list_all_assignments(server, pb::ListAssignmentsRequest::default()).await
}

fn now_micros() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970");
    now.as_micros() as i64
}

fn timestamp(micros: i64) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp {
        seconds: micros.div_euclid(1_000_000),
        nanos: (micros.rem_euclid(1_000_000) * 1000) as i32,
    })
}
