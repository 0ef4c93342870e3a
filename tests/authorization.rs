//! AuthorizationService end to end over real gRPC: read-your-writes, windows,
//! inheritance and the nearest grant, patterns, denial reasons, malformed
//! items, CheckStream (order, backpressure, concurrency, ending), min_revision,
//! ListPermissions and the paged lookups — every decision compared with an
//! expectation computed here, directly from the decision rule of DESIGN.md.

mod common;

use std::{
    collections::{BTreeSet, HashMap},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use common::*;
use prost::Message;
use rbacd::proto::v1::{self as pb, authorization_service_client::AuthorizationServiceClient};
use tokio_stream::wrappers::ReceiverStream;
use tonic::Code;

type Authz = AuthorizationServiceClient<Authed>;

fn authz(server: &TestServer) -> Authz {
    AuthorizationServiceClient::new(server.authed())
}

// ---------------------------------------------------------------- requests

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
        .roles
        .clone()
        .update_role(pb::UpdateRoleRequest {
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
        .nodes
        .clone()
        .move_node(pb::MoveNodeRequest {
            node: node_by_key(node),
            new_parent: node_by_key(new_parent),
        })
        .await
        .unwrap_or_else(|e| panic!("move {node} under {new_parent}: {e:?}"))
        .into_inner()
        .revision
}

async fn set_active(server: &TestServer, identity: &pb::Identity, active: bool) -> u64 {
    let mut identities = server.identities.clone();
    if active {
        identities
            .activate_identity(pb::ActivateIdentityRequest {
                identity: identity_by_id(&identity.id),
            })
            .await
            .expect("activate")
            .into_inner()
            .revision
    } else {
        identities
            .disable_identity(pb::DisableIdentityRequest {
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
        .assignments
        .clone()
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

// ---------------------------------------------------------------- read your writes

#[tokio::test]
async fn a_write_is_seen_by_the_very_next_check() {
    let server = TestServer::start().await;
    let client = authz(&server);
    let reader = create_role(&server, "Wallet_Reader", &["Wallets:Read", "Wallets:List"]).await;
    let jane = create_user(&server, "jane@example.com").await;
    let payments = create_node(&server, "payments", None).await;
    let wallet = create_node(&server, "wallet:1", Some("payments")).await;
    create_node(&server, "treasury", None).await;
    let read = || ask_key(&jane, "Wallets:Read", "wallet:1");

    assert_denied(
        &check(&client, read()).await,
        pb::DecisionReason::NoMatchingAssignment,
    );

    // Grant and revoke, several times: each reply is in effect for the next check.
    for _ in 0..5 {
        let created = server
            .assignments
            .clone()
            .create_assignment(assignment_request(&jane, &reader, &payments))
            .await
            .expect("create assignment")
            .into_inner();
        let a = created.assignment.expect("an assignment");
        let resp = check(&client, read()).await;
        assert_allowed(&resp);
        assert!(resp.revision >= created.revision, "{resp:?}");
        let grant = resp.granted_by.expect("granted_by");
        assert_eq!(grant.assignment_id, a.id);
        assert_eq!(grant.node_key, "payments");

        let deleted = server
            .assignments
            .clone()
            .delete_assignment(pb::DeleteAssignmentRequest {
                id: a.id.clone(),
                ..Default::default()
            })
            .await
            .expect("delete assignment")
            .into_inner();
        let resp = check(&client, read()).await;
        assert_denied(&resp, pb::DecisionReason::NoMatchingAssignment);
        assert!(resp.revision >= deleted.revision);
    }

    let a = assign(&server, &jane, &reader, &payments).await;
    assert_allowed(&check(&client, read()).await);

    // Disable, then activate again.
    set_active(&server, &jane, false).await;
    assert_denied(
        &check(&client, read()).await,
        pb::DecisionReason::IdentityNotActive,
    );
    set_active(&server, &jane, true).await;
    assert_allowed(&check(&client, read()).await);

    // A role losing the permission, then getting it back.
    update_permissions(&server, &reader, &["Wallets:List"]).await;
    assert_denied(
        &check(&client, read()).await,
        pb::DecisionReason::NoMatchingAssignment,
    );
    assert_allowed(&check(&client, ask_key(&jane, "Wallets:List", "wallet:1")).await);
    update_permissions(&server, &reader, &["Wallets:Read"]).await;
    assert_allowed(&check(&client, read()).await);

    // Moving the node out of the granted subtree, and back.
    move_node(&server, "wallet:1", "treasury").await;
    assert_denied(
        &check(&client, read()).await,
        pb::DecisionReason::NoMatchingAssignment,
    );
    move_node(&server, "wallet:1", "payments").await;
    assert_allowed(&check(&client, read()).await);
    // Moving the granted node itself under another parent keeps its subtree granted.
    move_node(&server, "payments", "treasury").await;
    assert_allowed(&check(&client, read()).await);
    assert_denied(
        &check(&client, ask_key(&jane, "Wallets:Read", "treasury")).await,
        pb::DecisionReason::NoMatchingAssignment,
    );

    // Deleting the role (force) removes its assignments.
    server
        .roles
        .clone()
        .delete_role(pb::DeleteRoleRequest {
            role: role_by_id(&reader.id),
            force: true,
        })
        .await
        .expect("delete role");
    assert_denied(
        &check(&client, read()).await,
        pb::DecisionReason::NoMatchingAssignment,
    );
    let _ = a;

    // Deleting the node, then the identity: the check names what is unknown.
    server
        .nodes
        .clone()
        .delete_node(pb::DeleteNodeRequest {
            node: node_by_id(&wallet.id),
            cascade: false,
        })
        .await
        .expect("delete node");
    assert_denied(
        &check(&client, read()).await,
        pb::DecisionReason::UnknownNode,
    );
    server
        .identities
        .clone()
        .delete_identity(pb::DeleteIdentityRequest {
            identity: identity_by_id(&jane.id),
        })
        .await
        .expect("delete identity");
    assert_denied(
        &check(&client, ask_key(&jane, "Wallets:Read", "payments")).await,
        pb::DecisionReason::UnknownIdentity,
    );
}

// ---------------------------------------------------------------- windows

#[tokio::test]
async fn window_boundaries_are_exact_to_the_microsecond() {
    let server = TestServer::start().await;
    let client = authz(&server);
    let root = root(&server).await;
    let role = create_role(&server, "Reader", &["Docs:Read"]).await;
    let both = create_user(&server, "both@example.com").await;
    let from_only = create_user(&server, "from@example.com").await;
    let to_only = create_user(&server, "to@example.com").await;
    let from = 2_000_000_000 * 1_000_000 + 123_456;
    let to = 2_000_003_600 * 1_000_000 + 654_321;
    let a = assign_window(
        &server,
        &both,
        &role,
        &root,
        micros_to_ts(from),
        micros_to_ts(to),
    )
    .await;
    assert_eq!(micros(&a.effective_from), from);
    assert_eq!(micros(&a.effective_to), to);
    assign_window(&server, &from_only, &role, &root, micros_to_ts(from), None).await;
    assign_window(&server, &to_only, &role, &root, None, micros_to_ts(to)).await;

    let cases: &[(&pb::Identity, i64, bool)] = &[
        (&both, from - 1, false),
        (&both, from, true),
        (&both, from + 1, true),
        (&both, to - 1, true),
        (&both, to, false),
        (&both, to + 1, false),
        (&from_only, from - 1, false),
        (&from_only, from, true),
        (&from_only, to, true),
        (&from_only, i64::from(i32::MAX) * 1_000_000, true),
        (&to_only, 0, true),
        (&to_only, to - 1, true),
        (&to_only, to, false),
    ];
    for &(who, t, allowed) in cases {
        let resp = check(&client, ask_at(who, "Docs:Read", "root", micros_to_ts(t))).await;
        if allowed {
            assert_allowed(&resp);
        } else {
            assert_denied(&resp, pb::DecisionReason::NoMatchingAssignment);
        }
        // The same boundaries hold for ListPermissions and the lookups.
        let listed = client
            .clone()
            .list_permissions(pb::ListPermissionsRequest {
                identity: identity_by_id(&who.id),
                node: None,
                at: micros_to_ts(t),
                min_revision: 0,
            })
            .await
            .expect("list permissions")
            .into_inner()
            .permissions;
        assert_eq!(listed.is_empty(), !allowed, "at {t}: {listed:?}");
        let nodes = client
            .clone()
            .lookup_nodes(pb::LookupNodesRequest {
                identity: identity_by_id(&who.id),
                permission: "Docs:Read".into(),
                root: None,
                page_size: 0,
                page_token: String::new(),
                at: micros_to_ts(t),
                min_revision: 0,
            })
            .await
            .expect("lookup nodes")
            .into_inner()
            .nodes;
        assert_eq!(nodes.is_empty(), !allowed, "at {t}: {nodes:?}");
        let identities = client
            .clone()
            .lookup_identities(pb::LookupIdentitiesRequest {
                permission: "Docs:Read".into(),
                node: node_by_key("root"),
                page_size: 0,
                page_token: String::new(),
                at: micros_to_ts(t),
                min_revision: 0,
            })
            .await
            .expect("lookup identities")
            .into_inner()
            .identities;
        assert_eq!(
            identities.iter().any(|i| i.id == who.id),
            allowed,
            "at {t}: {identities:?}"
        );
    }
}

#[tokio::test]
async fn an_expired_assignment_never_grants() {
    let server = TestServer::start().await;
    let client = authz(&server);
    let root = root(&server).await;
    let role = create_role(&server, "Reader", &["Docs:Read"]).await;
    let expired = create_user(&server, "expired@example.com").await;
    let pending = create_user(&server, "pending@example.com").await;
    let a = assign_window(
        &server,
        &expired,
        &role,
        &root,
        from_now(-7200),
        from_now(-3600),
    )
    .await;
    assert_eq!(a.state(), pb::AssignmentState::Expired);
    let p = assign_window(&server, &pending, &role, &root, from_now(3600), None).await;
    assert_eq!(p.state(), pb::AssignmentState::Pending);
    // Another assignment, to be sure the index is current past the expired one.
    let payments = create_node(&server, "payments", None).await;

    for who in [&expired, &pending] {
        for node in ["root", "payments"] {
            let resp = check(&client, ask_key(who, "Docs:Read", node)).await;
            assert_denied(&resp, pb::DecisionReason::NoMatchingAssignment);
        }
        let batch = client
            .clone()
            .batch_check(pb::BatchCheckRequest {
                checks: vec![ask_key(who, "Docs:Read", "payments")],
            })
            .await
            .expect("batch check")
            .into_inner()
            .results;
        assert_denied(&batch[0], pb::DecisionReason::NoMatchingAssignment);
        let listed = client
            .clone()
            .list_permissions(pb::ListPermissionsRequest {
                identity: identity_by_id(&who.id),
                node: node_by_id(&payments.id),
                at: None,
                min_revision: 0,
            })
            .await
            .expect("list permissions")
            .into_inner();
        assert!(listed.permissions.is_empty(), "{listed:?}");
        let nodes = client
            .clone()
            .lookup_nodes(pb::LookupNodesRequest {
                identity: identity_by_id(&who.id),
                permission: "Docs:Read".into(),
                ..Default::default()
            })
            .await
            .expect("lookup nodes")
            .into_inner();
        assert!(nodes.nodes.is_empty(), "{nodes:?}");
    }
    let holders = client
        .clone()
        .lookup_identities(pb::LookupIdentitiesRequest {
            permission: "Docs:Read".into(),
            node: node_by_key("payments"),
            ..Default::default()
        })
        .await
        .expect("lookup identities")
        .into_inner();
    assert!(
        holders
            .identities
            .iter()
            .all(|i| i.id != expired.id && i.id != pending.id),
        "{holders:?}"
    );
    // Asked about a moment inside the window, the decision rule holds as written.
    let inside = check(
        &client,
        ask_at(&expired, "Docs:Read", "payments", from_now(-5400)),
    )
    .await;
    assert_allowed(&inside);
}

// ---------------------------------------------------------------- inheritance, patterns, reasons

#[tokio::test]
async fn inheritance_and_the_nearest_grant() {
    let server = TestServer::start().await;
    let client = authz(&server);
    let root = root(&server).await;
    let org = create_node(&server, "org", None).await;
    let team = create_node(&server, "team", Some("org")).await;
    let project = create_node(&server, "project", Some("team")).await;
    create_node(&server, "repo", Some("project")).await;
    let viewer = create_role(&server, "Viewer", &["Docs:Read"]).await;
    let editor = create_role(&server, "Editor", &["Docs:Read", "Docs:Write"]).await;
    let owner = create_role(&server, "Owner", &["Docs:*"]).await;
    let jane = create_user(&server, "jane@example.com").await;
    let at_org = assign(&server, &jane, &viewer, &org).await;
    let at_project = assign(&server, &jane, &editor, &project).await;
    let at_root = assign(&server, &jane, &owner, &root).await;

    #[track_caller]
    fn granted_by(
        resp: &pb::CheckResponse,
        a: &pb::Assignment,
        role: &pb::Role,
        node: &pb::Node,
        matched: &str,
    ) {
        assert_allowed(resp);
        let g = resp.granted_by.as_ref().expect("granted_by");
        assert_eq!(g.assignment_id, a.id, "{resp:?}");
        assert_eq!(g.role_id, role.id);
        assert_eq!(g.role_name, role.name);
        assert_eq!(g.node_id, node.id);
        assert_eq!(g.node_key, node.key);
        assert_eq!(g.matched_permission, matched);
        // The text names the assignment, the role and the node.
        for part in [&a.id, &role.name, &node.key] {
            assert!(resp.reason.contains(part.as_str()), "{}", resp.reason);
        }
    }

    let read_at = |node: &str| ask_key(&jane, "Docs:Read", node);
    granted_by(
        &check(&client, read_at("repo")).await,
        &at_project,
        &editor,
        &project,
        "Docs:Read",
    );
    granted_by(
        &check(&client, read_at("project")).await,
        &at_project,
        &editor,
        &project,
        "Docs:Read",
    );
    granted_by(
        &check(&client, read_at("team")).await,
        &at_org,
        &viewer,
        &org,
        "Docs:Read",
    );
    granted_by(
        &check(&client, read_at("org")).await,
        &at_org,
        &viewer,
        &org,
        "Docs:Read",
    );
    granted_by(
        &check(&client, read_at("root")).await,
        &at_root,
        &owner,
        &root,
        "Docs:*",
    );
    granted_by(
        &check(&client, ask_key(&jane, "Docs:Write", "team")).await,
        &at_root,
        &owner,
        &root,
        "Docs:*",
    );
    granted_by(
        &check(&client, ask_key(&jane, "Docs:Write", "repo")).await,
        &at_project,
        &editor,
        &project,
        "Docs:Write",
    );
    granted_by(
        &check(&client, ask_key(&jane, "Docs:Delete", "repo")).await,
        &at_root,
        &owner,
        &root,
        "Docs:*",
    );

    // Two grants on the nearest node: the smaller assignment id is named.
    let second = assign(&server, &jane, &viewer, &project).await;
    let first = if second.id < at_project.id {
        (&second, &viewer)
    } else {
        (&at_project, &editor)
    };
    granted_by(
        &check(&client, read_at("repo")).await,
        first.0,
        first.1,
        &project,
        "Docs:Read",
    );

    // No grant on the path from the node to the root: denied, and the text says so.
    let bob = create_user(&server, "bob@example.com").await;
    assign(&server, &bob, &viewer, &team).await;
    let other = create_node(&server, "other", Some("org")).await;
    let resp = check(&client, ask_key(&bob, "Docs:Read", "other")).await;
    assert_denied(&resp, pb::DecisionReason::NoMatchingAssignment);
    assert!(resp.reason.contains("Docs:Read"), "{}", resp.reason);
    assert_allowed(&check(&client, ask_key(&bob, "Docs:Read", "repo")).await);
    assert_denied(
        &check(&client, ask_key(&bob, "Docs:Read", "org")).await,
        pb::DecisionReason::NoMatchingAssignment,
    );
    let _ = other;
}

#[tokio::test]
async fn trailing_star_patterns_and_star() {
    let server = TestServer::start().await;
    let client = authz(&server);
    let root = root(&server).await;
    let wallets = create_role(&server, "WalletsAll", &["Wallets:*"]).await;
    let everything = create_role(&server, "Everything", &["*"]).await;
    let mixed = create_role(
        &server,
        "Mixed",
        &["Wallets:*", "Wallets:Keys:*", "Wallets:Read"],
    )
    .await;
    let bob = create_user(&server, "bob@example.com").await;
    let carol = create_user(&server, "carol@example.com").await;
    let dave = create_user(&server, "dave@example.com").await;
    assign(&server, &bob, &wallets, &root).await;
    assign(&server, &carol, &everything, &root).await;
    assign(&server, &dave, &mixed, &root).await;
    create_node(&server, "wallet:1", None).await;

    let cases: &[(&pb::Identity, &str, Option<&str>)] = &[
        (&bob, "Wallets:Read", Some("Wallets:*")),
        (&bob, "Wallets:Keys:Rotate", Some("Wallets:*")),
        (&bob, "Wallets", None),
        (&bob, "WalletsX:Read", None),
        (&bob, "Wallet:Read", None),
        (&bob, "Other:Wallets:Read", None),
        (&carol, "Wallets", Some("*")),
        (&carol, "Anything:At:All", Some("*")),
        (&carol, "Rbacd:Check", Some("*")),
        (&dave, "Wallets:Read", Some("Wallets:Read")),
        (&dave, "Wallets:Write", Some("Wallets:*")),
        (&dave, "Wallets:Keys:Rotate", Some("Wallets:Keys:*")),
        (&dave, "Wallets:Keys", Some("Wallets:*")),
        (&dave, "Wallets", None),
    ];
    for &(who, permission, matched) in cases {
        let resp = check(&client, ask_key(who, permission, "wallet:1")).await;
        match matched {
            Some(pattern) => {
                assert_allowed(&resp);
                assert_eq!(
                    resp.granted_by.as_ref().unwrap().matched_permission,
                    pattern,
                    "{} asking {permission}",
                    who.email
                );
            }
            None => assert_denied(&resp, pb::DecisionReason::NoMatchingAssignment),
        }
    }
    // A pattern is not a permission one may ask about.
    let status = expect_invalid(
        client
            .clone()
            .check(ask_key(&carol, "Wallets:*", "wallet:1"))
            .await,
        "permission",
    );
    assert!(status.message().contains("Wallets:*"), "{status:?}");
    expect_invalid(
        client.clone().check(ask_key(&carol, "*", "wallet:1")).await,
        "permission",
    );
}

#[tokio::test]
async fn denials_carry_their_reason_never_an_error_status() {
    let server = TestServer::start().await;
    let client = authz(&server);
    let root = root(&server).await;
    let role = create_role(&server, "Reader", &["Docs:Read"]).await;
    let active = server
        .identities
        .clone()
        .create_identity(pb::CreateIdentityRequest {
            kind: pb::IdentityKind::User.into(),
            email: "Active@Example.com".into(),
            external_id: "auth0|active".into(),
            display_name: String::new(),
        })
        .await
        .expect("create identity")
        .into_inner()
        .identity
        .unwrap();
    assign(&server, &active, &role, &root).await;
    let disabled = create_user(&server, "disabled@example.com").await;
    assign(&server, &disabled, &role, &root).await;
    set_active(&server, &disabled, false).await;
    let invited = server
        .identities
        .clone()
        .invite_identity(pb::InviteIdentityRequest {
            kind: pb::IdentityKind::User.into(),
            email: "invited@example.com".into(),
            external_id: String::new(),
            display_name: String::new(),
            assignments: vec![pb::InitialAssignment {
                node: node_by_key("root"),
                role: role_by_name("reader"),
                effective_from: None,
                effective_to: None,
            }],
        })
        .await
        .expect("invite")
        .into_inner()
        .identity
        .unwrap();
    assert_eq!(invited.status(), pb::IdentityStatus::Invited);
    create_node(&server, "docs", None).await;

    use pb::DecisionReason::*;
    let unknown_id = uuid::Uuid::new_v4().to_string();
    let cases: Vec<(pb::CheckRequest, pb::DecisionReason)> = vec![
        (ask_key(&active, "Docs:Read", "docs"), Granted),
        (
            ask(
                identity_by_email("ACTIVE@example.COM"),
                "Docs:Read",
                node_by_key("docs"),
            ),
            Granted,
        ),
        (
            ask(
                identity_by_external_id("auth0|active"),
                "Docs:Read",
                node_by_key("docs"),
            ),
            Granted,
        ),
        (ask_key(&active, "Docs:Write", "docs"), NoMatchingAssignment),
        (ask_key(&disabled, "Docs:Read", "docs"), IdentityNotActive),
        (ask_key(&invited, "Docs:Read", "docs"), IdentityNotActive),
        (
            ask(
                identity_by_id(&unknown_id),
                "Docs:Read",
                node_by_key("docs"),
            ),
            UnknownIdentity,
        ),
        (
            ask(
                identity_by_email("nobody@example.com"),
                "Docs:Read",
                node_by_key("docs"),
            ),
            UnknownIdentity,
        ),
        (
            ask(
                identity_by_external_id("auth0|nobody"),
                "Docs:Read",
                node_by_key("docs"),
            ),
            UnknownIdentity,
        ),
        (ask_key(&active, "Docs:Read", "no-such-node"), UnknownNode),
        (
            ask(
                identity_by_id(&active.id),
                "Docs:Read",
                node_by_id(&unknown_id),
            ),
            UnknownNode,
        ),
    ];
    for (request, reason) in &cases {
        let resp = check(&client, request.clone()).await;
        assert_decision(&resp, *reason == Granted, *reason);
    }
    // The same answers in a batch and on a stream.
    let batch = client
        .clone()
        .batch_check(pb::BatchCheckRequest {
            checks: cases.iter().map(|(r, _)| r.clone()).collect(),
        })
        .await
        .expect("batch check")
        .into_inner()
        .results;
    let streamed = stream_all(&client, cases.iter().map(|(r, _)| r.clone()).collect()).await;
    for ((_, reason), (b, s)) in cases.iter().zip(batch.iter().zip(&streamed)) {
        assert_decision(b, *reason == Granted, *reason);
        assert_decision(s, *reason == Granted, *reason);
    }

    // Activating the invited identity makes its initial assignment grant.
    set_active(&server, &invited, true).await;
    assert_allowed(&check(&client, ask_key(&invited, "Docs:Read", "docs")).await);
}

// ---------------------------------------------------------------- malformed input

#[tokio::test]
async fn a_malformed_unary_check_is_invalid_argument() {
    let server = TestServer::start().await;
    let client = authz(&server);
    let jane = create_user(&server, "jane@example.com").await;
    let good = ask_key(&jane, "Docs:Read", "root");
    let cases: Vec<(pb::CheckRequest, &str)> = vec![
        (
            pb::CheckRequest {
                identity: None,
                ..good.clone()
            },
            "identity",
        ),
        (
            pb::CheckRequest {
                identity: Some(pb::IdentityRef { r#ref: None }),
                ..good.clone()
            },
            "identity",
        ),
        (
            pb::CheckRequest {
                identity: identity_by_id("not-a-uuid"),
                ..good.clone()
            },
            "identity",
        ),
        (
            pb::CheckRequest {
                permission: String::new(),
                ..good.clone()
            },
            "permission",
        ),
        (
            pb::CheckRequest {
                permission: "Docs::Read".into(),
                ..good.clone()
            },
            "permission",
        ),
        (
            pb::CheckRequest {
                permission: "Docs Read".into(),
                ..good.clone()
            },
            "permission",
        ),
        (
            pb::CheckRequest {
                permission: "Docs:*".into(),
                ..good.clone()
            },
            "permission",
        ),
        (
            pb::CheckRequest {
                node: None,
                ..good.clone()
            },
            "node",
        ),
        (
            pb::CheckRequest {
                node: node_by_id("42"),
                ..good.clone()
            },
            "node",
        ),
        (
            pb::CheckRequest {
                at: Some(prost_types::Timestamp {
                    seconds: 1,
                    nanos: -1,
                }),
                ..good.clone()
            },
            "at",
        ),
    ];
    for (request, field) in cases {
        expect_invalid(client.clone().check(request).await, field);
    }
    // Every bad field is named at once.
    let status = expect_invalid(
        client.clone().check(pb::CheckRequest::default()).await,
        "identity",
    );
    let fields = violated_fields(&status);
    for field in ["identity", "permission", "node"] {
        assert!(fields.iter().any(|f| f == field), "{fields:?}");
    }
    // And the well-formed request is fine.
    assert_denied(
        &check(&client, good).await,
        pb::DecisionReason::NoMatchingAssignment,
    );
}

#[tokio::test]
async fn batch_check_decides_around_a_malformed_item() {
    let server = TestServer::start().await;
    let client = authz(&server);
    let root = root(&server).await;
    let role = create_role(&server, "Reader", &["Docs:Read"]).await;
    let jane = create_user(&server, "jane@example.com").await;
    assign(&server, &jane, &role, &root).await;
    let with_id = |id: &str, mut r: pb::CheckRequest| {
        r.correlation_id = id.into();
        r
    };
    let checks = vec![
        with_id("a", ask_key(&jane, "Docs:Read", "root")),
        with_id("b", ask_key(&jane, "Docs:Write", "root")),
        with_id("c", ask_key(&jane, "Docs:*", "root")),
        with_id(
            "d",
            ask(
                identity_by_id(&uuid::Uuid::new_v4().to_string()),
                "Docs:Read",
                node_by_key("root"),
            ),
        ),
        with_id(
            "e",
            pb::CheckRequest {
                node: None,
                ..ask_key(&jane, "Docs:Read", "root")
            },
        ),
        with_id("f", ask_key(&jane, "Docs:Read", "root")),
    ];
    let results = client
        .clone()
        .batch_check(pb::BatchCheckRequest { checks })
        .await
        .expect("a batch with malformed items is still answered")
        .into_inner()
        .results;
    assert_eq!(results.len(), 6);
    let ids: Vec<&str> = results.iter().map(|r| r.correlation_id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c", "d", "e", "f"]);
    assert_allowed(&results[0]);
    assert_denied(&results[1], pb::DecisionReason::NoMatchingAssignment);
    assert_item_invalid(&results[2], "permission");
    assert_denied(&results[3], pb::DecisionReason::UnknownIdentity);
    assert_item_invalid(&results[4], "node");
    assert_allowed(&results[5]);

    // 0 and 1001 items are refused whole; 1000 are answered.
    for n in [0, 1001] {
        let checks = vec![ask_key(&jane, "Docs:Read", "root"); n];
        expect_invalid(
            client
                .clone()
                .batch_check(pb::BatchCheckRequest { checks })
                .await,
            "checks",
        );
    }
    let checks = vec![ask_key(&jane, "Docs:Read", "root"); 1000];
    let results = client
        .clone()
        .batch_check(pb::BatchCheckRequest { checks })
        .await
        .expect("1000 checks")
        .into_inner()
        .results;
    assert_eq!(results.len(), 1000);
    results.iter().for_each(assert_allowed);
}

// ---------------------------------------------------------------- a world and its reference evaluator

const W0: i64 = 2_000_000_000 * 1_000_000;
const W1: i64 = W0 + 3_600 * 1_000_000;
const LONG_AGO: i64 = 1_600_000_000 * 1_000_000;

const PERMISSIONS: &[&str] = &[
    "Wallets:Read",
    "Wallets:Keys:Rotate",
    "Wallets",
    "Payments:Read",
    "Payments:Refunds:Create",
    "Payments:Refunds",
    "Other:Thing",
];

struct WNode {
    id: String,
    key: String,
    parent: Option<String>,
}

struct WIdentity {
    id: String,
    email: String,
    active: bool,
}

struct WAssignment {
    id: String,
    identity: String,
    role: String,
    node: String,
    from: Option<i64>,
    to: Option<i64>,
}

/// What the test created, and the decision rule evaluated over it naively.
struct World {
    nodes: Vec<WNode>,
    identities: Vec<WIdentity>,
    /// Role id → its permissions and patterns.
    roles: HashMap<String, Vec<String>>,
    assignments: Vec<WAssignment>,
    /// The revision after the last write.
    revision: u64,
}

#[derive(Debug, PartialEq)]
struct Expected {
    allowed: bool,
    reason: pb::DecisionReason,
    /// Granting assignment id, its node id and the matched pattern.
    grant: Option<(String, String, String)>,
}

fn pattern_matches(pattern: &str, permission: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match pattern.strip_suffix('*') {
        Some(prefix) => permission.len() > prefix.len() && permission.starts_with(prefix),
        None => pattern == permission,
    }
}

/// The role's pattern that matched: the exact permission, else the longest wildcard.
fn matched_pattern(patterns: &[String], permission: &str) -> Option<String> {
    if patterns.iter().any(|p| p == permission) {
        return Some(permission.to_owned());
    }
    patterns
        .iter()
        .filter(|p| pattern_matches(p, permission))
        .max_by_key(|p| p.len())
        .cloned()
}

impl World {
    fn node(&self, id: &str) -> Option<&WNode> {
        self.nodes.iter().find(|n| n.id == id)
    }

    fn node_by_key(&self, key: &str) -> &WNode {
        self.nodes.iter().find(|n| n.key == key).expect("a node")
    }

    fn identity(&self, id: &str) -> Option<&WIdentity> {
        self.identities.iter().find(|i| i.id == id)
    }

    /// `node` and its ancestors, nearest first.
    fn ancestry(&self, node: &str) -> Vec<String> {
        let mut chain = Vec::new();
        let mut at = self.node(node);
        while let Some(n) = at {
            chain.push(n.id.clone());
            at = n.parent.as_deref().and_then(|p| self.node(p));
        }
        chain
    }

    fn decide(&self, identity: &str, permission: &str, node: &str, at: i64) -> Expected {
        let denied = |reason| Expected {
            allowed: false,
            reason,
            grant: None,
        };
        let Some(who) = self.identity(identity) else {
            return denied(pb::DecisionReason::UnknownIdentity);
        };
        if self.node(node).is_none() {
            return denied(pb::DecisionReason::UnknownNode);
        }
        if !who.active {
            return denied(pb::DecisionReason::IdentityNotActive);
        }
        for step in self.ancestry(node) {
            let mut here: Vec<(&WAssignment, String)> = self
                .assignments
                .iter()
                .filter(|a| a.identity == identity && a.node == step)
                .filter(|a| a.from.is_none_or(|f| f <= at) && a.to.is_none_or(|t| at < t))
                .filter_map(|a| matched_pattern(&self.roles[&a.role], permission).map(|m| (a, m)))
                .collect();
            here.sort_by(|x, y| x.0.id.cmp(&y.0.id));
            if let Some((a, m)) = here.into_iter().next() {
                return Expected {
                    allowed: true,
                    reason: pb::DecisionReason::Granted,
                    grant: Some((a.id.clone(), a.node.clone(), m)),
                };
            }
        }
        denied(pb::DecisionReason::NoMatchingAssignment)
    }

    fn permissions(&self, identity: &str, node: &str, at: i64) -> BTreeSet<String> {
        let Some(who) = self.identity(identity) else {
            return BTreeSet::new();
        };
        if !who.active {
            return BTreeSet::new();
        }
        let chain = self.ancestry(node);
        self.assignments
            .iter()
            .filter(|a| a.identity == identity && chain.contains(&a.node))
            .filter(|a| a.from.is_none_or(|f| f <= at) && a.to.is_none_or(|t| at < t))
            .flat_map(|a| self.roles[&a.role].iter().cloned())
            .collect()
    }

    fn lookup_nodes(
        &self,
        identity: &str,
        permission: &str,
        root: &str,
        at: i64,
    ) -> BTreeSet<String> {
        self.nodes
            .iter()
            .filter(|n| self.ancestry(&n.id).iter().any(|a| a == root))
            .filter(|n| self.decide(identity, permission, &n.id, at).allowed)
            .map(|n| n.id.clone())
            .collect()
    }

    fn lookup_identities(&self, permission: &str, node: &str, at: i64) -> BTreeSet<String> {
        self.identities
            .iter()
            .filter(|i| self.decide(&i.id, permission, node, at).allowed)
            .map(|i| i.id.clone())
            .collect()
    }

    /// Checks a response against the expectation.
    #[track_caller]
    fn assert_answer(&self, expected: &Expected, resp: &pb::CheckResponse, what: &str) {
        assert!(resp.error.is_none(), "{what}: unexpected error {resp:?}");
        assert_eq!(resp.allowed, expected.allowed, "{what}: {resp:?}");
        assert_eq!(resp.reason_code(), expected.reason, "{what}: {resp:?}");
        let code = expected
            .reason
            .as_str_name()
            .trim_start_matches("DECISION_REASON_");
        assert!(resp.reason.starts_with(code), "{what}: {}", resp.reason);
        match (&expected.grant, &resp.granted_by) {
            (None, None) => {}
            (Some((assignment, node, pattern)), Some(g)) => {
                assert_eq!(&g.assignment_id, assignment, "{what}: {resp:?}");
                assert_eq!(&g.node_id, node, "{what}: {resp:?}");
                assert_eq!(&g.matched_permission, pattern, "{what}: {resp:?}");
            }
            _ => panic!("{what}: expected grant {:?}, got {resp:?}", expected.grant),
        }
        assert!(resp.revision >= self.revision, "{what}: {resp:?}");
    }
}

/// Builds the world through the API: a tree of 12 nodes, 5 roles, 10 users
/// (one INVITED, one DISABLED), assignments with and without windows.
async fn build_world(server: &TestServer) -> World {
    let root = root(server).await;
    let mut nodes = vec![WNode {
        id: root.id.clone(),
        key: "root".into(),
        parent: None,
    }];
    for (key, parent) in [
        ("org:a", "root"),
        ("org:b", "root"),
        ("a1", "org:a"),
        ("a2", "org:a"),
        ("a1x", "a1"),
        ("a1y", "a1"),
        ("a2x", "a2"),
        ("b1", "org:b"),
        ("b1x", "b1"),
        ("b1y", "b1"),
        ("b1x:deep", "b1x"),
    ] {
        let parent_id = nodes.iter().find(|n| n.key == parent).unwrap().id.clone();
        let node = create_node(server, key, Some(parent)).await;
        assert_eq!(node.parent_id, parent_id);
        nodes.push(WNode {
            id: node.id,
            key: key.into(),
            parent: Some(parent_id),
        });
    }
    let mut roles = HashMap::new();
    let mut role_ids = HashMap::new();
    for (name, permissions) in [
        ("Reader", &["Wallets:Read", "Payments:Read"][..]),
        ("WalletsAll", &["Wallets:*"]),
        ("Refunder", &["Payments:Refunds:Create", "Payments:Read"]),
        ("Everything", &["*"]),
        ("KeysAdmin", &["Wallets:Keys:*", "Wallets:Read"]),
    ] {
        let role = create_role(server, name, permissions).await;
        role_ids.insert(name, role.id.clone());
        roles.insert(
            role.id,
            permissions
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>(),
        );
    }
    // The bootstrap admin holds `Administrator` (`*`) at the root, and so
    // shows up in every lookup of identities.
    let admin_role = server
        .roles
        .clone()
        .get_role(pb::GetRoleRequest {
            role: role_by_name("Administrator"),
        })
        .await
        .expect("the Administrator role")
        .into_inner()
        .role
        .unwrap();
    assert_eq!(admin_role.permissions, ["*"]);
    roles.insert(admin_role.id.clone(), vec!["*".into()]);
    let admin_grants = list_all_assignments(
        server,
        pb::ListAssignmentsRequest {
            role: role_by_id(&admin_role.id),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(admin_grants.len(), 1);
    let mut identities = vec![WIdentity {
        id: admin_grants[0].identity_id.clone(),
        email: String::new(),
        active: true,
    }];
    let mut assignments: Vec<WAssignment> = admin_grants
        .iter()
        .map(|a| WAssignment {
            id: a.id.clone(),
            identity: a.identity_id.clone(),
            role: a.role_id.clone(),
            node: a.node_id.clone(),
            from: None,
            to: None,
        })
        .collect();

    let mut users = Vec::new();
    for i in 0..10 {
        let email = format!("u{i}@example.com");
        let user = if i == 8 {
            server
                .identities
                .clone()
                .invite_identity(pb::InviteIdentityRequest {
                    kind: pb::IdentityKind::User.into(),
                    email: email.clone(),
                    external_id: String::new(),
                    display_name: String::new(),
                    assignments: vec![pb::InitialAssignment {
                        node: node_by_key("root"),
                        role: role_by_name("Reader"),
                        effective_from: None,
                        effective_to: None,
                    }],
                })
                .await
                .expect("invite")
                .into_inner()
        } else {
            let identity = create_user(server, &email).await;
            pb::InviteIdentityResponse {
                identity: Some(identity),
                ..Default::default()
            }
        };
        let identity = user.identity.unwrap();
        for a in &user.assignments {
            assignments.push(WAssignment {
                id: a.id.clone(),
                identity: identity.id.clone(),
                role: a.role_id.clone(),
                node: a.node_id.clone(),
                from: None,
                to: None,
            });
        }
        identities.push(WIdentity {
            id: identity.id.clone(),
            email,
            active: i != 8 && i != 9,
        });
        users.push(identity);
    }

    type Grant = (usize, &'static str, &'static str, Option<i64>, Option<i64>);
    let grants: &[Grant] = &[
        (0, "Reader", "org:a", None, None),
        (0, "WalletsAll", "b1", Some(W0), Some(W1)),
        (1, "Refunder", "root", None, Some(W1)),
        (1, "Reader", "a1x", None, None),
        (2, "Everything", "b1x", Some(W0), None),
        (2, "Reader", "org:b", None, None),
        (3, "WalletsAll", "a1", None, None),
        (3, "Reader", "a1", None, None),
        (3, "KeysAdmin", "a1y", Some(W0), Some(W1)),
        (4, "Refunder", "a2", None, None),
        (4, "Reader", "a2x", None, None),
        (4, "KeysAdmin", "org:b", None, Some(W0)),
        (6, "Everything", "org:a", Some(W0), Some(W1)),
        (
            6,
            "Reader",
            "b1",
            Some(LONG_AGO),
            Some(LONG_AGO + 3_600_000_000),
        ),
        (7, "Reader", "root", None, None),
        (7, "WalletsAll", "b1y", None, None),
        (9, "Everything", "root", None, None),
    ];
    let batch = server
        .assignments
        .clone()
        .batch_create_assignments(pb::BatchCreateAssignmentsRequest {
            assignments: grants
                .iter()
                .map(|&(i, role, node, from, to)| pb::CreateAssignmentRequest {
                    identity: identity_by_id(&users[i].id),
                    role: role_by_name(role),
                    node: node_by_key(node),
                    effective_from: from.and_then(micros_to_ts),
                    effective_to: to.and_then(micros_to_ts),
                })
                .collect(),
        })
        .await
        .expect("batch create assignments")
        .into_inner();
    assert_eq!(batch.assignments.len(), grants.len());
    for (a, &(i, role, node, from, to)) in batch.assignments.iter().zip(grants) {
        assert_eq!(a.identity_id, users[i].id);
        assert_eq!(a.role_id, role_ids[role]);
        assert_eq!(a.node_key, node);
        assignments.push(WAssignment {
            id: a.id.clone(),
            identity: users[i].id.clone(),
            role: a.role_id.clone(),
            node: a.node_id.clone(),
            from,
            to,
        });
    }
    let revision = set_active(server, &users[9], false).await;
    World {
        nodes,
        identities,
        roles,
        assignments,
        revision,
    }
}

/// The instants checks are asked at; `None` is now.
fn instants() -> [Option<i64>; 7] {
    [
        None,
        Some(W0 - 1),
        Some(W0),
        Some(W0 + 1_800_000_000),
        Some(W1 - 1),
        Some(W1),
        Some(LONG_AGO + 1_000),
    ]
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// What a generated check expects: a decision, or an item error on a field.
enum Want {
    Decision(Expected),
    Invalid(&'static str),
}

/// `n` checks over the world, with a malformed one every 1000 from 499 on,
/// and what each must answer.
fn generate(world: &World, n: usize, seed: u64, tag: &str) -> Vec<(pb::CheckRequest, Want)> {
    let mut rng = Rng(seed | 1);
    let unknown = uuid::Uuid::new_v4().to_string();
    (0..n)
        .map(|i| {
            let correlation_id = format!("{tag}-{i}");
            let permission = PERMISSIONS[rng.below(PERMISSIONS.len())];
            let node = &world.nodes[rng.below(world.nodes.len())];
            let who = &world.identities[rng.below(world.identities.len())];
            let at = instants()[rng.below(instants().len())];
            let mut request = pb::CheckRequest {
                correlation_id,
                identity: identity_by_id(&who.id),
                permission: permission.into(),
                node: node_by_id(&node.id),
                at: at.and_then(micros_to_ts),
                min_revision: if rng.below(4) == 0 { world.revision } else { 0 },
            };
            if i % 1000 == 499 {
                let field = match (i / 1000) % 5 {
                    0 => {
                        request.permission = "Wallets:*".into();
                        "permission"
                    }
                    1 => {
                        request.identity = None;
                        "identity"
                    }
                    2 => {
                        request.node = node_by_id("not-a-uuid");
                        "node"
                    }
                    3 => {
                        request.at = Some(prost_types::Timestamp {
                            seconds: 0,
                            nanos: 1_000_000_000,
                        });
                        "at"
                    }
                    _ => {
                        request.permission = String::new();
                        "permission"
                    }
                };
                return (request, Want::Invalid(field));
            }
            let mut identity_id = who.id.clone();
            let mut node_id = node.id.clone();
            match rng.below(40) {
                // By email, in another case.
                0..=3 if !who.email.is_empty() => {
                    request.identity = identity_by_email(&who.email.to_uppercase());
                }
                // By key.
                4..=7 => request.node = node_by_key(&node.key),
                8 => {
                    request.identity = identity_by_id(&unknown);
                    identity_id = unknown.clone();
                }
                9 if who.active => {
                    request.node = node_by_key("no:such:node");
                    node_id = "none".into();
                }
                _ => {}
            }
            let t = at.unwrap_or_else(now_micros);
            let expected = world.decide(&identity_id, permission, &node_id, t);
            (request, Want::Decision(expected))
        })
        .collect()
}

#[track_caller]
fn assert_answers(
    world: &World,
    cases: &[(pb::CheckRequest, Want)],
    answers: &[pb::CheckResponse],
) {
    assert_eq!(answers.len(), cases.len(), "one answer per check");
    for ((request, want), resp) in cases.iter().zip(answers) {
        assert_eq!(
            resp.correlation_id, request.correlation_id,
            "answers come in request order"
        );
        let what = format!("{request:?}");
        match want {
            Want::Decision(expected) => world.assert_answer(expected, resp, &what),
            Want::Invalid(field) => assert_item_invalid(resp, field),
        }
    }
}

/// Sends every request on one CheckStream (half-closing after the last) and
/// reads every answer until the server ends the stream.
async fn stream_all(client: &Authz, requests: Vec<pb::CheckRequest>) -> Vec<pb::CheckResponse> {
    let mut answers = client
        .clone()
        .check_stream(tokio_stream::iter(requests))
        .await
        .expect("open CheckStream")
        .into_inner();
    let mut all = Vec::new();
    while let Some(resp) = answers.message().await.expect("a clean stream") {
        all.push(resp);
    }
    all
}

// ---------------------------------------------------------------- CheckStream

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_stream_of_ten_thousand_with_malformed_items() {
    let server = TestServer::start().await;
    let world = build_world(&server).await;
    let client = authz(&server);
    let cases = generate(&world, 10_000, 0x5eed_0001, "s");
    let malformed = cases
        .iter()
        .filter(|(_, w)| matches!(w, Want::Invalid(_)))
        .count();
    assert_eq!(malformed, 10);
    let allowed = cases
        .iter()
        .filter(|(_, w)| matches!(w, Want::Decision(e) if e.allowed))
        .count();
    assert!(
        (500..9500).contains(&allowed),
        "a useful mix of answers: {allowed} allowed"
    );
    let answers = stream_all(&client, cases.iter().map(|(r, _)| r.clone()).collect()).await;
    assert_answers(&world, &cases, &answers);

    // The same checks in batches of 1000 give the same answers.
    for (chunk, answers) in cases.chunks(1000).zip(answers.chunks(1000)) {
        let results = client
            .clone()
            .batch_check(pb::BatchCheckRequest {
                checks: chunk.iter().map(|(r, _)| r.clone()).collect(),
            })
            .await
            .expect("batch check")
            .into_inner()
            .results;
        assert_answers(&world, chunk, &results);
        for (b, s) in results.iter().zip(answers) {
            assert_eq!(b.allowed, s.allowed);
            assert_eq!(b.reason_code, s.reason_code);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_check_streams() {
    let server = TestServer::start().await;
    let world = Arc::new(build_world(&server).await);
    let mut tasks = Vec::new();
    for s in 0..8u64 {
        // Half share the harness's connection, half have their own.
        let client = if s % 2 == 0 {
            authz(&server)
        } else {
            AuthorizationServiceClient::new(server.connect_with_key(ADMIN_KEY).await)
        };
        let world = Arc::clone(&world);
        tasks.push(tokio::spawn(async move {
            let cases = generate(&world, 1_500, 0x1000 + s, &format!("stream{s}"));
            let answers = stream_all(&client, cases.iter().map(|(r, _)| r.clone()).collect()).await;
            assert_answers(&world, &cases, &answers);
            answers.len()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.expect("a stream task"), 1_500);
    }
}

#[tokio::test]
async fn check_stream_ends_cleanly_when_the_client_half_closes() {
    let server = TestServer::start().await;
    let client = authz(&server);
    let jane = create_user(&server, "jane@example.com").await;

    // No checks at all: the stream ends at once, with OK.
    let answers = stream_all(&client, Vec::new()).await;
    assert!(answers.is_empty());

    // Checks sent one at a time, each answered before the next is sent, then a half-close.
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let mut answers = client
        .clone()
        .check_stream(ReceiverStream::new(rx))
        .await
        .expect("open CheckStream")
        .into_inner();
    for i in 0..5 {
        let mut request = ask_key(&jane, "Docs:Read", "root");
        request.correlation_id = format!("one-by-one-{i}");
        tx.send(request).await.expect("send");
        let resp = tokio::time::timeout(Duration::from_secs(5), answers.message())
            .await
            .expect("an answer while the stream is open")
            .expect("no error")
            .expect("an answer");
        assert_eq!(resp.correlation_id, format!("one-by-one-{i}"));
        assert_denied(&resp, pb::DecisionReason::NoMatchingAssignment);
    }
    drop(tx);
    let end = tokio::time::timeout(Duration::from_secs(5), answers.message())
        .await
        .expect("the stream ends after the half-close");
    assert!(matches!(end, Ok(None)), "a clean end: {end:?}");
}

#[tokio::test]
async fn check_stream_ends_cleanly_when_the_server_drains() {
    let server = TestServer::start().await;
    let client = authz(&server);
    let jane = create_user(&server, "jane@example.com").await;
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let mut answers = client
        .clone()
        .check_stream(ReceiverStream::new(rx))
        .await
        .expect("open CheckStream")
        .into_inner();
    tx.send(ask_key(&jane, "Docs:Read", "root"))
        .await
        .expect("send");
    let first = answers
        .message()
        .await
        .expect("no error")
        .expect("an answer");
    assert_denied(&first, pb::DecisionReason::NoMatchingAssignment);
    // The client keeps its side open; the server is told to stop.
    let stopping = tokio::spawn(server.stop());
    let end = tokio::time::timeout(Duration::from_secs(10), answers.message())
        .await
        .expect("the stream ends when the server drains");
    assert!(matches!(end, Ok(None)), "a clean end: {end:?}");
    tokio::time::timeout(Duration::from_secs(15), stopping)
        .await
        .expect("the server stops with a stream still open on the client's side")
        .expect("stop does not panic");
    drop(tx);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_held_back_and_others_are_served() {
    const SENT: usize = 200_000;
    let server = TestServer::start().await;
    let root = root(&server).await;
    let role = create_role(&server, "Reader", &["Docs:Read"]).await;
    let jane = create_user(&server, "jane@example.com").await;
    assign(&server, &jane, &role, &root).await;
    let client = authz(&server);

    let (tx, rx) = tokio::sync::mpsc::channel::<pb::CheckRequest>(64);
    let sent = Arc::new(AtomicUsize::new(0));
    let producer = {
        let sent = Arc::clone(&sent);
        let jane = jane.clone();
        tokio::spawn(async move {
            for i in 0..SENT {
                let mut request = ask_key(&jane, "Docs:Read", "root");
                request.correlation_id = i.to_string();
                if tx.send(request).await.is_err() {
                    return;
                }
                sent.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    // Opened, but never read.
    let answers = client
        .clone()
        .check_stream(ReceiverStream::new(rx))
        .await
        .expect("open CheckStream")
        .into_inner();

    // The sender must stall: its count stops growing well short of SENT.
    let started = Instant::now();
    let mut last = usize::MAX;
    let mut still_for = Duration::ZERO;
    while still_for < Duration::from_secs(2) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the sender never stalled: {} of {SENT} sent",
            sent.load(Ordering::Relaxed)
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = sent.load(Ordering::Relaxed);
        assert!(
            now < SENT,
            "all {SENT} checks were accepted by a server whose client does not read"
        );
        if now == last {
            still_for += Duration::from_millis(250);
        } else {
            still_for = Duration::ZERO;
            last = now;
        }
    }
    assert!(!producer.is_finished());
    let stalled_at = sent.load(Ordering::Relaxed);
    eprintln!("the never-reading client stalled after {stalled_at} of {SENT} checks");

    // Meanwhile the server answers others, reads and writes, on other connections.
    let other = AuthorizationServiceClient::new(server.connect_with_key(ADMIN_KEY).await);
    let resp = tokio::time::timeout(
        Duration::from_secs(2),
        other.clone().check(ask_key(&jane, "Docs:Read", "root")),
    )
    .await
    .expect("another client is answered while one does not read")
    .expect("check");
    assert_allowed(&resp.into_inner());
    let other_roles = rbacd::proto::v1::role_service_client::RoleServiceClient::new(
        server.connect_with_key(ADMIN_KEY).await,
    );
    let writes = tokio::time::timeout(
        Duration::from_secs(5),
        other_roles.clone().create_role(pb::CreateRoleRequest {
            name: "Writer".into(),
            description: String::new(),
            permissions: vec!["Docs:Write".into()],
        }),
    )
    .await
    .expect("a write is served meanwhile");
    writes.expect("create role");
    assert_eq!(sent.load(Ordering::Relaxed), stalled_at, "still held back");

    // Once the client reads, the held-back checks flow again, in order.
    let wanted = (stalled_at + 20_000).min(SENT);
    let mut answers = answers;
    let mut read = 0usize;
    let reading = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(resp) = answers.message().await.expect("no error") {
            assert_eq!(resp.correlation_id, read.to_string());
            assert!(resp.allowed);
            read += 1;
            if read == wanted {
                break;
            }
        }
    })
    .await;
    reading.expect("the held-back checks are answered once the client reads");
    assert_eq!(read, wanted);
    assert!(
        sent.load(Ordering::Relaxed) > stalled_at,
        "the sender moves again"
    );
    drop(answers);
    producer.abort();
}

/// Sends each request as the bytes it is given, so a test can send one that
/// does not decode; answers decode as usual.
#[derive(Clone, Copy, Default)]
struct RawRequests;

struct RawEncoder;

impl tonic::codec::Encoder for RawEncoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(
        &mut self,
        item: Vec<u8>,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        use prost::bytes::BufMut;
        dst.put_slice(&item);
        Ok(())
    }
}

impl tonic::codec::Codec for RawRequests {
    type Encode = Vec<u8>;
    type Decode = pb::CheckResponse;
    type Encoder = RawEncoder;
    type Decoder = tonic_prost::ProstDecoder<pb::CheckResponse>;
    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }
    fn decoder(&mut self) -> Self::Decoder {
        tonic_prost::ProstDecoder::default()
    }
}

#[tokio::test]
async fn a_request_that_does_not_decode_ends_the_stream_with_its_status() {
    let server = TestServer::start().await;
    let jane = create_user(&server, "jane@example.com").await;
    let mut good = ask_key(&jane, "Docs:Read", "root");
    good.correlation_id = "good".into();
    // A varint cut short: not a CheckRequest.
    let requests = vec![
        good.encode_to_vec(),
        vec![0xff, 0xff, 0xff],
        good.encode_to_vec(),
    ];
    let mut grpc = tonic::client::Grpc::new(server.authed());
    grpc.ready().await.expect("a ready channel");
    let path = tonic::codegen::http::uri::PathAndQuery::from_static(
        "/rbacd.v1.AuthorizationService/CheckStream",
    );
    let mut answers = grpc
        .streaming(
            tonic::Request::new(tokio_stream::iter(requests)),
            path,
            RawRequests,
        )
        .await
        .expect("open CheckStream")
        .into_inner();
    let first = answers
        .message()
        .await
        .expect("the first request is answered")
        .expect("an answer");
    assert_eq!(first.correlation_id, "good");
    assert_denied(&first, pb::DecisionReason::NoMatchingAssignment);
    let end = tokio::time::timeout(Duration::from_secs(5), answers.message())
        .await
        .expect("the call ends");
    let status = end.expect_err("the call ends with the decoding error, not OK");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
}

// ---------------------------------------------------------------- min_revision

#[tokio::test]
async fn min_revision_waits_bounded_then_unavailable() {
    let timeout = Duration::from_millis(400);
    let server = TestServer::start_with(|s| s.min_revision_timeout = timeout).await;
    let client = authz(&server);
    let root = root(&server).await;
    let role = create_role(&server, "Reader", &["Docs:Read"]).await;
    let jane = create_user(&server, "jane@example.com").await;
    let written = server
        .assignments
        .clone()
        .create_assignment(assignment_request(&jane, &role, &root))
        .await
        .expect("create assignment")
        .into_inner();

    // The revision just returned: answered at once.
    let started = Instant::now();
    let resp = check(
        &client,
        pb::CheckRequest {
            min_revision: written.revision,
            ..ask_key(&jane, "Docs:Read", "root")
        },
    )
    .await;
    assert!(started.elapsed() < timeout, "{:?}", started.elapsed());
    assert_allowed(&resp);
    assert!(resp.revision >= written.revision);

    // A revision no one has written: UNAVAILABLE after the bounded wait.
    let far = written.revision + 1_000_000;
    let started = Instant::now();
    let status = expect_code(
        client
            .clone()
            .check(pb::CheckRequest {
                min_revision: far,
                ..ask_key(&jane, "Docs:Read", "root")
            })
            .await,
        Code::Unavailable,
    );
    let waited = started.elapsed();
    assert!(waited >= timeout, "gave up after {waited:?}");
    assert!(waited < timeout * 5, "waited {waited:?}");
    assert!(status.message().contains(&far.to_string()), "{status:?}");

    // In a batch: that item gets its own UNAVAILABLE error; the others are decided.
    let results = client
        .clone()
        .batch_check(pb::BatchCheckRequest {
            checks: vec![
                ask_key(&jane, "Docs:Read", "root"),
                pb::CheckRequest {
                    min_revision: far,
                    ..ask_key(&jane, "Docs:Read", "root")
                },
                ask_key(&jane, "Docs:Write", "root"),
            ],
        })
        .await
        .expect("batch check")
        .into_inner()
        .results;
    assert_allowed(&results[0]);
    assert_eq!(
        results[1].error.as_ref().map(|e| e.code),
        Some(Code::Unavailable as i32),
        "{:?}",
        results[1]
    );
    assert_denied(&results[2], pb::DecisionReason::NoMatchingAssignment);

    // The other reads honour it too.
    expect_code(
        client
            .clone()
            .list_permissions(pb::ListPermissionsRequest {
                identity: identity_by_id(&jane.id),
                min_revision: far,
                ..Default::default()
            })
            .await,
        Code::Unavailable,
    );
    expect_code(
        client
            .clone()
            .lookup_nodes(pb::LookupNodesRequest {
                identity: identity_by_id(&jane.id),
                permission: "Docs:Read".into(),
                min_revision: far,
                ..Default::default()
            })
            .await,
        Code::Unavailable,
    );
    expect_code(
        client
            .clone()
            .lookup_identities(pb::LookupIdentitiesRequest {
                permission: "Docs:Read".into(),
                node: node_by_key("root"),
                min_revision: far,
                ..Default::default()
            })
            .await,
        Code::Unavailable,
    );
}

#[tokio::test]
async fn min_revision_on_a_stream_waits_per_item_and_the_stream_goes_on() {
    let timeout = Duration::from_millis(600);
    let server = TestServer::start_with(|s| s.min_revision_timeout = timeout).await;
    let client = authz(&server);
    let root = root(&server).await;
    let role = create_role(&server, "Reader", &["Docs:Read"]).await;
    let jane = create_user(&server, "jane@example.com").await;
    let written = server
        .assignments
        .clone()
        .create_assignment(assignment_request(&jane, &role, &root))
        .await
        .expect("create assignment")
        .into_inner()
        .revision;
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let mut answers = client
        .clone()
        .check_stream(ReceiverStream::new(rx))
        .await
        .expect("open CheckStream")
        .into_inner();
    let item = |id: &str, permission: &str, min_revision: u64| pb::CheckRequest {
        correlation_id: id.into(),
        min_revision,
        ..ask_key(&jane, permission, "root")
    };
    let mut next = async || {
        tokio::time::timeout(Duration::from_secs(10), answers.message())
            .await
            .expect("an answer in time")
            .expect("no error on the stream")
            .expect("an answer")
    };

    // Applied already: at once. Never written: UNAVAILABLE after the bounded
    // wait, and the item behind it is answered after it, in order.
    let started = Instant::now();
    for request in [
        item("applied", "Docs:Read", written),
        item("never", "Docs:Read", written + 1_000_000),
        item("after", "Docs:Write", 0),
    ] {
        tx.send(request).await.expect("send");
    }
    let applied = next().await;
    assert_eq!(applied.correlation_id, "applied");
    assert_allowed(&applied);
    assert!(started.elapsed() < timeout, "{:?}", started.elapsed());
    let never = next().await;
    assert_eq!(never.correlation_id, "never");
    assert_eq!(
        never.error.as_ref().map(|e| e.code),
        Some(Code::Unavailable as i32),
        "{never:?}"
    );
    assert!(started.elapsed() >= timeout, "{:?}", started.elapsed());
    let after = next().await;
    assert_eq!(after.correlation_id, "after");
    assert_denied(&after, pb::DecisionReason::NoMatchingAssignment);

    // A revision written while the item waits: decided once it is applied.
    tx.send(item("soon", "Docs:Read", written + 1))
        .await
        .expect("send");
    let later = create_role(&server, "Writer", &["Docs:Write"]).await;
    assert!(!later.id.is_empty());
    let soon = next().await;
    assert_eq!(soon.correlation_id, "soon");
    assert_allowed(&soon);
    assert!(soon.revision > written, "{soon:?}");

    // The stream is still open and answering.
    tx.send(item("last", "Docs:Read", 0)).await.expect("send");
    assert_allowed(&next().await);
    drop(tx);
    let end = tokio::time::timeout(Duration::from_secs(5), answers.message())
        .await
        .expect("the stream ends after the half-close");
    assert!(matches!(end, Ok(None)), "a clean end: {end:?}");
}

// ---------------------------------------------------------------- ListPermissions and lookups

#[tokio::test]
async fn list_permissions_is_the_exact_effective_set() {
    let server = TestServer::start().await;
    let world = build_world(&server).await;
    let client = authz(&server);
    for who in &world.identities {
        for node in &world.nodes {
            for at in [None, Some(W0), Some(W1 - 1), Some(W1)] {
                let listed = client
                    .clone()
                    .list_permissions(pb::ListPermissionsRequest {
                        identity: identity_by_id(&who.id),
                        node: node_by_id(&node.id),
                        at: at.and_then(micros_to_ts),
                        min_revision: 0,
                    })
                    .await
                    .expect("list permissions")
                    .into_inner();
                let expected = world.permissions(&who.id, &node.id, at.unwrap_or_else(now_micros));
                let mut sorted = listed.permissions.clone();
                sorted.sort();
                sorted.dedup();
                assert_eq!(sorted, listed.permissions, "sorted, without duplicates");
                assert_eq!(
                    listed.permissions.iter().cloned().collect::<BTreeSet<_>>(),
                    expected,
                    "{} at {} at {at:?}",
                    who.email,
                    node.key
                );
                assert!(listed.revision >= world.revision);
            }
        }
    }
    // The root when no node is given.
    let u7 = &world
        .identities
        .iter()
        .find(|i| i.email == "u7@example.com")
        .unwrap()
        .id;
    let listed = client
        .clone()
        .list_permissions(pb::ListPermissionsRequest {
            identity: identity_by_id(u7),
            ..Default::default()
        })
        .await
        .expect("list permissions")
        .into_inner();
    assert_eq!(listed.permissions, ["Payments:Read", "Wallets:Read"]);
    // Unknown references are NOT_FOUND here (there is no decision to carry a reason).
    expect_code(
        client
            .clone()
            .list_permissions(pb::ListPermissionsRequest {
                identity: identity_by_id(&uuid::Uuid::new_v4().to_string()),
                ..Default::default()
            })
            .await,
        Code::NotFound,
    );
    expect_code(
        client
            .clone()
            .list_permissions(pb::ListPermissionsRequest {
                identity: identity_by_id(u7),
                node: node_by_key("no-such-node"),
                ..Default::default()
            })
            .await,
        Code::NotFound,
    );
    expect_invalid(
        client
            .clone()
            .list_permissions(pb::ListPermissionsRequest::default())
            .await,
        "identity",
    );
}

async fn lookup_nodes_all(
    client: &Authz,
    mut request: pb::LookupNodesRequest,
) -> Vec<pb::NodeSummary> {
    let mut all: Vec<pb::NodeSummary> = Vec::new();
    for _ in 0..1000 {
        let page = client
            .clone()
            .lookup_nodes(request.clone())
            .await
            .expect("lookup nodes")
            .into_inner();
        assert!(page.nodes.len() <= request.page_size as usize, "{page:?}");
        for n in page.nodes {
            assert!(all.iter().all(|seen| seen.id != n.id), "{} twice", n.key);
            all.push(n);
        }
        if page.next_page_token.is_empty() {
            return all;
        }
        request.page_token = page.next_page_token;
    }
    panic!("LookupNodes never ended");
}

async fn lookup_identities_all(
    client: &Authz,
    mut request: pb::LookupIdentitiesRequest,
) -> Vec<pb::IdentitySummary> {
    let mut all: Vec<pb::IdentitySummary> = Vec::new();
    for _ in 0..1000 {
        let page = client
            .clone()
            .lookup_identities(request.clone())
            .await
            .expect("lookup identities")
            .into_inner();
        assert!(
            page.identities.len() <= request.page_size as usize,
            "{page:?}"
        );
        for i in page.identities {
            assert!(all.iter().all(|seen| seen.id != i.id), "{} twice", i.id);
            all.push(i);
        }
        if page.next_page_token.is_empty() {
            return all;
        }
        request.page_token = page.next_page_token;
    }
    panic!("LookupIdentities never ended");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_page_to_exhaustion() {
    let server = TestServer::start().await;
    let world = build_world(&server).await;
    let client = authz(&server);
    use futures::StreamExt;
    let ats = [None, Some(W0), Some(W1)];
    // Every identity, permission, subtree and moment; eight lookups at a time.
    let mut combos = Vec::new();
    for who in &world.identities {
        for permission in PERMISSIONS {
            for subtree in ["root", "org:b", "a1"] {
                for at in ats {
                    combos.push((who, *permission, subtree, at));
                }
            }
        }
    }
    let spanning: Vec<bool> = futures::stream::iter(combos)
        .map(|(who, permission, subtree, at)| {
            let (client, world) = (&client, &world);
            async move {
                let found = lookup_nodes_all(
                    client,
                    pb::LookupNodesRequest {
                        identity: identity_by_id(&who.id),
                        permission: permission.to_string(),
                        root: if subtree == "root" {
                            None
                        } else {
                            node_by_key(subtree)
                        },
                        page_size: 2,
                        page_token: String::new(),
                        at: at.and_then(micros_to_ts),
                        min_revision: 0,
                    },
                )
                .await;
                let root = world.node_by_key(subtree);
                let expected = world.lookup_nodes(
                    &who.id,
                    permission,
                    &root.id,
                    at.unwrap_or_else(now_micros),
                );
                let got: BTreeSet<String> = found.iter().map(|n| n.id.clone()).collect();
                assert_eq!(
                    got, expected,
                    "{} {permission} under {subtree} at {at:?}",
                    who.email
                );
                for n in &found {
                    assert_eq!(n.key, world.node(&n.id).unwrap().key);
                }
                got.len() > 2
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let nonempty = spanning.iter().filter(|s| **s).count();
    assert!(nonempty > 10, "several lookups span pages: {nonempty}");

    let mut combos = Vec::new();
    for permission in PERMISSIONS {
        for node in &world.nodes {
            for at in ats {
                combos.push((*permission, node, at));
            }
        }
    }
    let spanning: Vec<bool> = futures::stream::iter(combos)
        .map(|(permission, node, at)| {
            let (client, world) = (&client, &world);
            async move {
                let found = lookup_identities_all(
                    client,
                    pb::LookupIdentitiesRequest {
                        permission: permission.to_string(),
                        node: node_by_id(&node.id),
                        page_size: 2,
                        page_token: String::new(),
                        at: at.and_then(micros_to_ts),
                        min_revision: 0,
                    },
                )
                .await;
                let expected =
                    world.lookup_identities(permission, &node.id, at.unwrap_or_else(now_micros));
                let got: BTreeSet<String> = found.iter().map(|i| i.id.clone()).collect();
                assert_eq!(got, expected, "{permission} at {} at {at:?}", node.key);
                for i in &found {
                    assert_eq!(i.email, world.identity(&i.id).unwrap().email);
                }
                got.len() > 2
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let multi_page = spanning.iter().filter(|s| **s).count();
    assert!(multi_page > 10, "several lookups span pages: {multi_page}");

    // Page sizes and tokens are validated; unknown references are NOT_FOUND.
    let u0 = world.identities[1].id.clone();
    expect_invalid(
        client
            .clone()
            .lookup_nodes(pb::LookupNodesRequest {
                identity: identity_by_id(&u0),
                permission: "Wallets:Read".into(),
                page_size: -1,
                ..Default::default()
            })
            .await,
        "page_size",
    );
    expect_code(
        client
            .clone()
            .lookup_identities(pb::LookupIdentitiesRequest {
                permission: "Wallets:Read".into(),
                node: node_by_key("root"),
                page_token: "garbage!".into(),
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
    );
    expect_invalid(
        client
            .clone()
            .lookup_identities(pb::LookupIdentitiesRequest {
                permission: "Wallets:*".into(),
                node: node_by_key("root"),
                ..Default::default()
            })
            .await,
        "permission",
    );
    expect_code(
        client
            .clone()
            .lookup_nodes(pb::LookupNodesRequest {
                identity: identity_by_id(&uuid::Uuid::new_v4().to_string()),
                permission: "Wallets:Read".into(),
                ..Default::default()
            })
            .await,
        Code::NotFound,
    );
    expect_code(
        client
            .clone()
            .lookup_identities(pb::LookupIdentitiesRequest {
                permission: "Wallets:Read".into(),
                node: node_by_key("no-such-node"),
                ..Default::default()
            })
            .await,
        Code::NotFound,
    );
}

#[tokio::test]
async fn a_batch_waits_for_min_revision_once_not_once_per_item() {
    let timeout = Duration::from_millis(300);
    let server = TestServer::start_with(|s| s.min_revision_timeout = timeout).await;
    let client = authz(&server);
    let jane = create_user(&server, "jane@example.com").await;
    let unreachable = 1_000_000;
    let checks = vec![
        pb::CheckRequest {
            min_revision: unreachable,
            ..ask_key(&jane, "Docs:Read", "root")
        };
        10
    ];
    let started = Instant::now();
    let results = client
        .clone()
        .batch_check(pb::BatchCheckRequest { checks })
        .await
        .expect("batch check")
        .into_inner()
        .results;
    let waited = started.elapsed();
    assert_eq!(results.len(), 10);
    assert!(results.iter().all(|r| {
        r.error
            .as_ref()
            .is_some_and(|e| e.code == Code::Unavailable as i32)
    }));
    assert!(
        waited < timeout * 3,
        "a batch waited {waited:?} for a bound of {timeout:?}"
    );
}
