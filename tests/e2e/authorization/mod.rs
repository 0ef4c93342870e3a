//! AuthorizationService end to end over real gRPC: read-your-writes, windows,
//! inheritance and the nearest grant, patterns, denial reasons, malformed
//! items, CheckStream (order, backpressure, concurrency, ending), min_revision,
//! ListPermissions and the paged lookups — every decision compared with an
//! expectation computed by the one naive evaluator of the decision rule
//! (`support::decision_rule`).

use std::{
    collections::{BTreeSet, HashMap},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use crate::support::*;
use prost::Message;
use rbacd::proto::v1 as pb;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Code;

mod batch;
mod check;
mod decisions;
mod lookups;
mod min_revision;
mod stream;
mod world;

use world::*;

fn ask(
    identity: Option<pb::IdentityRef>,
    permission: &str,
    node: Option<pb::NodeRef>,
) -> pb::CheckRequest {
    pb::CheckRequest {
        correlation_id: String::new(),
        identity,
        permission: permission.into(),
        node,
        at: None,
        min_revision: 0,
    }
}

/// A check of `identity` (by id) for `permission` at the node keyed `node`.
fn ask_key(identity: &pb::Identity, permission: &str, node: &str) -> pb::CheckRequest {
    ask(identity_by_id(&identity.id), permission, node_by_key(node))
}

fn ask_at(
    identity: &pb::Identity,
    permission: &str,
    node: &str,
    at: Option<prost_types::Timestamp>,
) -> pb::CheckRequest {
    pb::CheckRequest {
        at,
        ..ask_key(identity, permission, node)
    }
}

#[track_caller]
fn assert_decision(resp: &pb::CheckResponse, allowed: bool, reason: pb::DecisionReason) {
    assert!(resp.error.is_none(), "unexpected item error: {resp:?}");
    assert_eq!(
        resp.allowed, allowed,
        "allowed should be {allowed}: {resp:?}"
    );
    assert_eq!(resp.reason_code(), reason, "{resp:?}");
    let code = reason
        .as_str_name()
        .trim_start_matches("DECISION_REASON_")
        .to_owned();
    assert!(
        resp.reason.starts_with(&code),
        "reason `{}` should start with {code}",
        resp.reason
    );
    assert_eq!(
        resp.granted_by.is_some(),
        allowed,
        "granted_by is set exactly when allowed: {resp:?}"
    );
}

#[track_caller]
fn assert_allowed(resp: &pb::CheckResponse) {
    assert_decision(resp, true, pb::DecisionReason::Granted);
}

#[track_caller]
fn assert_denied(resp: &pb::CheckResponse, reason: pb::DecisionReason) {
    assert_decision(resp, false, reason);
}

async fn check(client: &Authz, request: pb::CheckRequest) -> pb::CheckResponse {
    client
        .clone()
        .check(request.clone())
        .await
        .unwrap_or_else(|e| panic!("Check {request:?} failed: {e:?}"))
        .into_inner()
}

/// The field names of the BadRequest violations in an item's `error`.
#[track_caller]
fn item_error_fields(resp: &pb::CheckResponse) -> Vec<String> {
    let error = resp
        .error
        .as_ref()
        .unwrap_or_else(|| panic!("expected an item error: {resp:?}"));
    error
        .details
        .iter()
        .filter(|d| d.type_url.ends_with("google.rpc.BadRequest"))
        .flat_map(|d| {
            tonic_types::pb::BadRequest::decode(d.value.as_slice())
                .expect("a BadRequest detail decodes")
                .field_violations
                .into_iter()
                .map(|v| v.field)
        })
        .collect()
}

/// An item's `error` must be INVALID_ARGUMENT naming `field`, with no decision.
#[track_caller]
fn assert_item_invalid(resp: &pb::CheckResponse, field: &str) {
    let error = resp
        .error
        .as_ref()
        .unwrap_or_else(|| panic!("expected an item error: {resp:?}"));
    assert_eq!(error.code, Code::InvalidArgument as i32, "{resp:?}");
    assert!(!error.message.is_empty(), "an item error needs a message");
    assert!(!resp.allowed, "a malformed item is never allowed: {resp:?}");
    assert_eq!(resp.reason_code(), pb::DecisionReason::Unspecified);
    let fields = item_error_fields(resp);
    assert!(
        fields.iter().any(|f| f == field),
        "expected a violation of `{field}`, got {fields:?}"
    );
}

// ---------------------------------------------------------------- fixtures

async fn update_permissions(server: &TestServer, role: &pb::Role, permissions: &[&str]) -> u64 {
    server
        .roles()
        .update_role(pb::UpdateRoleRequest {
            request_id: Default::default(),
            role: role_by_id(&role.id),
            name: None,
            description: None,
            permissions: permissions.iter().map(|p| p.to_string()).collect(),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["permissions".into()],
            }),
        })
        .await
        .expect("update the role's permissions")
        .into_inner()
        .revision
}

async fn move_node(server: &TestServer, node: &str, new_parent: &str) -> u64 {
    server
        .nodes()
        .move_node(pb::MoveNodeRequest {
            request_id: Default::default(),
            node: node_by_key(node),
            new_parent: node_by_key(new_parent),
        })
        .await
        .unwrap_or_else(|e| panic!("move {node} under {new_parent}: {e:?}"))
        .into_inner()
        .revision
}

async fn set_active(server: &TestServer, identity: &pb::Identity, active: bool) -> u64 {
    let mut identities = server.identities();
    if active {
        identities
            .activate_identity(pb::ActivateIdentityRequest {
                request_id: Default::default(),
                identity: identity_by_id(&identity.id),
            })
            .await
            .expect("activate")
            .into_inner()
            .revision
    } else {
        identities
            .disable_identity(pb::DisableIdentityRequest {
                request_id: Default::default(),
                identity: identity_by_id(&identity.id),
            })
            .await
            .expect("disable")
            .into_inner()
            .revision
    }
}

async fn assign_window(
    server: &TestServer,
    identity: &pb::Identity,
    role: &pb::Role,
    node: &pb::Node,
    from: Option<prost_types::Timestamp>,
    to: Option<prost_types::Timestamp>,
) -> pb::Assignment {
    server
        .assignments()
        .create_assignment(pb::CreateAssignmentRequest {
            effective_from: from,
            effective_to: to,
            ..assignment_request(identity, role, node)
        })
        .await
        .expect("create a windowed assignment")
        .into_inner()
        .assignment
        .expect("an assignment")
}

fn micros_to_ts(us: i64) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp {
        seconds: us.div_euclid(1_000_000),
        nanos: (us.rem_euclid(1_000_000) * 1000) as i32,
    })
}

fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_micros() as i64
}
