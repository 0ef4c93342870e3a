//! AssignmentService end to end: every RPC, its success path and its error paths.

use std::collections::HashSet;

use crate::support::*;
use rbacd::proto::v1 as pb;
use tonic::Code;

/// A request naming everything by its human handle.
fn by_names(email: &str, role: &str, node: &str) -> pb::CreateAssignmentRequest {
    pb::CreateAssignmentRequest {
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

#[tokio::test]
async fn create_and_get_assignment() {
    let server = TestServer::start().await;
    let mut assignments = server.assignments();
    let role = create_role(&server, "Wallet_Read_User", &["Wallets:Read"]).await;
    let jane = server
        .identities()
        .create_identity(pb::CreateIdentityRequest {
            kind: pb::IdentityKind::User.into(),
            email: "jane@example.co".into(),
            external_id: "auth0|jane".into(),
            display_name: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .identity
        .unwrap();
    let payments = create_node(&server, "payments", None).await;
    let wallet = create_node(&server, "wallet:42", Some("payments")).await;

    // Role by name in another case, identity by email, node by key.
    let created = assignments
        .create_assignment(by_names("JANE@example.co", "wallet_read_user", "payments"))
        .await
        .expect("create assignment")
        .into_inner();
    let a = created.assignment.expect("the assignment");
    assert!(is_uuid(&a.id));
    assert_eq!(a.identity_id, jane.id);
    assert_eq!(a.role_id, role.id);
    assert_eq!(a.role_name, "Wallet_Read_User");
    assert_eq!(a.node_id, payments.id);
    assert_eq!(a.node_key, "payments");
    assert_eq!(a.state(), pb::AssignmentState::Active);
    assert!(!a.inherited);
    assert_eq!((a.effective_from, a.effective_to), (None, None));
    assert!(a.create_time.is_some());
    assert!(created.revision > 0);

    // Everything by id / external id, with a window (microsecond precision kept).
    let (from, to) = (at(1_700_000_000, 123_456), at(4_000_000_000, 1));
    let windowed = assignments
        .create_assignment(pb::CreateAssignmentRequest {
            identity: identity_by_external_id("auth0|jane"),
            role: role_by_id(&role.id),
            node: node_by_id(&wallet.id),
            effective_from: from,
            effective_to: to,
        })
        .await
        .expect("create with a window")
        .into_inner();
    assert!(windowed.revision > created.revision);
    let w = windowed.assignment.unwrap();
    assert_eq!((w.effective_from, w.effective_to), (from, to));
    assert_eq!(w.state(), pb::AssignmentState::Active);
    assert_eq!(w.node_key, "wallet:42");

    // At the root, by key `root`.
    let on_root = assignments
        .create_assignment(by_names("jane@example.co", "Wallet_Read_User", "root"))
        .await
        .expect("assign at the root")
        .into_inner()
        .assignment
        .unwrap();
    assert_eq!(on_root.node_id, root(&server).await.id);

    for expected in [&a, &w, &on_root] {
        let got = assignments
            .get_assignment(pb::GetAssignmentRequest {
                id: expected.id.clone(),
            })
            .await
            .expect("get assignment")
            .into_inner()
            .assignment
            .unwrap();
        assert_eq!(&got, expected);
    }

    let missing = uuid::Uuid::new_v4().to_string();
    expect_not_found(
        assignments
            .get_assignment(pb::GetAssignmentRequest {
                id: missing.clone(),
            })
            .await,
        &missing,
    );
    expect_invalid(
        assignments
            .get_assignment(pb::GetAssignmentRequest {
                id: "not-a-uuid".into(),
            })
            .await,
        "id",
    );
    expect_invalid(
        assignments
            .get_assignment(pb::GetAssignmentRequest { id: String::new() })
            .await,
        "id",
    );
}

#[tokio::test]
async fn create_assignment_errors() {
    let server = TestServer::start().await;
    let mut assignments = server.assignments();
    let role = create_role(&server, "Reader", &["Docs:Read"]).await;
    let jane = create_user(&server, "jane@example.co").await;
    let docs = create_node(&server, "docs", None).await;
    let first = assign(&server, &jane, &role, &docs).await;
    let before = all(&server).await;

    // The same triple again, however it is named and whatever its window.
    for request in [
        assignment_request(&jane, &role, &docs),
        by_names("JANE@example.co", "READER", "docs"),
        pb::CreateAssignmentRequest {
            effective_from: from_now(3600),
            ..by_names("jane@example.co", "reader", "docs")
        },
    ] {
        let status = expect_code(
            assignments.create_assignment(request).await,
            Code::AlreadyExists,
        );
        assert!(status.message().contains("Reader"), "{}", status.message());
    }

    // Missing objects: NOT_FOUND naming them.
    expect_not_found(
        assignments
            .create_assignment(by_names("ghost@example.co", "Reader", "docs"))
            .await,
        "ghost@example.co",
    );
    expect_not_found(
        assignments
            .create_assignment(by_names("jane@example.co", "No_Such_Role", "docs"))
            .await,
        "No_Such_Role",
    );
    expect_not_found(
        assignments
            .create_assignment(by_names("jane@example.co", "Reader", "no-such-node"))
            .await,
        "no-such-node",
    );
    let missing = uuid::Uuid::new_v4().to_string();
    expect_not_found(
        assignments
            .create_assignment(pb::CreateAssignmentRequest {
                role: role_by_id(&missing),
                ..by_names("jane@example.co", "Reader", "docs")
            })
            .await,
        &missing,
    );

    // Malformed input: INVALID_ARGUMENT naming the field.
    expect_invalid(
        assignments
            .create_assignment(pb::CreateAssignmentRequest {
                identity: None,
                ..by_names("jane@example.co", "Reader", "docs")
            })
            .await,
        "identity",
    );
    expect_invalid(
        assignments
            .create_assignment(pb::CreateAssignmentRequest {
                role: None,
                ..by_names("jane@example.co", "Reader", "docs")
            })
            .await,
        "role",
    );
    expect_invalid(
        assignments
            .create_assignment(pb::CreateAssignmentRequest {
                node: None,
                ..by_names("jane@example.co", "Reader", "docs")
            })
            .await,
        "node",
    );
    expect_invalid(
        assignments
            .create_assignment(pb::CreateAssignmentRequest {
                identity: identity_by_id("not-a-uuid"),
                ..by_names("jane@example.co", "Reader", "docs")
            })
            .await,
        "identity",
    );
    expect_invalid(
        assignments
            .create_assignment(pb::CreateAssignmentRequest {
                node: node_by_id("123"),
                ..by_names("jane@example.co", "Reader", "docs")
            })
            .await,
        "node",
    );
    expect_invalid(
        assignments
            .create_assignment(pb::CreateAssignmentRequest {
                role: role_by_name(&"r".repeat(257)),
                ..by_names("jane@example.co", "Reader", "docs")
            })
            .await,
        "role",
    );
    // effective_to must be after effective_from: equal and earlier are refused.
    let from = at(1_800_000_000, 0);
    for to in [at(1_800_000_000, 0), at(1_799_999_999, 999_999)] {
        let status = expect_invalid(
            assignments
                .create_assignment(pb::CreateAssignmentRequest {
                    effective_from: from,
                    effective_to: to,
                    ..by_names("jane@example.co", "Reader", "docs")
                })
                .await,
            "effective_to",
        );
        assert!(
            status.message().contains("effective_from"),
            "{}",
            status.message()
        );
    }
    expect_invalid(
        assignments
            .create_assignment(pb::CreateAssignmentRequest {
                effective_from: Some(prost_types::Timestamp {
                    seconds: 0,
                    nanos: -1,
                }),
                ..by_names("jane@example.co", "Reader", "docs")
            })
            .await,
        "effective_from",
    );

    // Nothing new was stored.
    assert_eq!(ids(&all(&server).await), ids(&before));
    assert!(ids(&before).contains(&first.id));
}

#[tokio::test]
async fn batch_create_is_all_or_nothing() {
    let server = TestServer::start().await;
    let mut assignments = server.assignments();
    let reader = create_role(&server, "Reader", &["Docs:Read"]).await;
    let writer = create_role(&server, "Writer", &["Docs:Write"]).await;
    let jane = create_user(&server, "jane@example.co").await;
    let john = create_user(&server, "john@example.co").await;
    let docs = create_node(&server, "docs", None).await;
    let wiki = create_node(&server, "wiki", None).await;

    let items = vec![
        assignment_request(&jane, &reader, &docs),
        by_names("john@example.co", "writer", "wiki"),
        pb::CreateAssignmentRequest {
            effective_from: from_now(3600),
            ..assignment_request(&john, &reader, &docs)
        },
    ];
    let created = assignments
        .batch_create_assignments(pb::BatchCreateAssignmentsRequest { assignments: items })
        .await
        .expect("batch")
        .into_inner();
    assert!(created.revision > 0);
    assert_eq!(created.assignments.len(), 3);
    let got = &created.assignments;
    assert_eq!(
        (&got[0].identity_id, &got[0].role_id, &got[0].node_id),
        (&jane.id, &reader.id, &docs.id)
    );
    assert_eq!(
        (&got[1].identity_id, &got[1].role_id, &got[1].node_id),
        (&john.id, &writer.id, &wiki.id)
    );
    assert_eq!(
        (&got[2].identity_id, &got[2].role_id, &got[2].node_id),
        (&john.id, &reader.id, &docs.id)
    );
    assert_eq!(got[2].state(), pb::AssignmentState::Pending);
    for a in got {
        let stored = assignments
            .get_assignment(pb::GetAssignmentRequest { id: a.id.clone() })
            .await
            .expect("stored")
            .into_inner()
            .assignment
            .unwrap();
        assert_eq!(&stored, a);
    }
    let before = all(&server).await;

    // One item duplicates a stored assignment: nothing is created.
    let status = expect_code(
        assignments
            .batch_create_assignments(pb::BatchCreateAssignmentsRequest {
                assignments: vec![
                    assignment_request(&jane, &writer, &docs),
                    assignment_request(&jane, &reader, &docs),
                ],
            })
            .await,
        Code::AlreadyExists,
    );
    assert!(
        status.message().contains("assignments[1]"),
        "{}",
        status.message()
    );
    // Two items duplicate each other.
    expect_code(
        assignments
            .batch_create_assignments(pb::BatchCreateAssignmentsRequest {
                assignments: vec![
                    assignment_request(&jane, &writer, &wiki),
                    by_names("jane@example.co", "WRITER", "wiki"),
                ],
            })
            .await,
        Code::AlreadyExists,
    );
    // One item names a missing role.
    let status = expect_not_found(
        assignments
            .batch_create_assignments(pb::BatchCreateAssignmentsRequest {
                assignments: vec![
                    assignment_request(&jane, &writer, &docs),
                    by_names("jane@example.co", "No_Such_Role", "docs"),
                ],
            })
            .await,
        "No_Such_Role",
    );
    assert!(
        status.message().contains("assignments[1]"),
        "{}",
        status.message()
    );
    // One item is malformed.
    expect_invalid(
        assignments
            .batch_create_assignments(pb::BatchCreateAssignmentsRequest {
                assignments: vec![
                    assignment_request(&jane, &writer, &docs),
                    pb::CreateAssignmentRequest {
                        effective_from: at(2_000_000_000, 0),
                        effective_to: at(1_000_000_000, 0),
                        ..assignment_request(&jane, &writer, &wiki)
                    },
                    pb::CreateAssignmentRequest {
                        node: None,
                        ..assignment_request(&john, &writer, &docs)
                    },
                ],
            })
            .await,
        "assignments[1].effective_to",
    );
    let status = expect_invalid(
        assignments
            .batch_create_assignments(pb::BatchCreateAssignmentsRequest {
                assignments: vec![
                    assignment_request(&jane, &writer, &docs),
                    pb::CreateAssignmentRequest {
                        node: None,
                        ..assignment_request(&john, &writer, &docs)
                    },
                ],
            })
            .await,
        "assignments[1].node",
    );
    assert!(
        !violated_fields(&status)
            .iter()
            .any(|f| f.starts_with("assignments[0]"))
    );
    // Empty, and too many.
    expect_invalid(
        assignments
            .batch_create_assignments(pb::BatchCreateAssignmentsRequest {
                assignments: vec![],
            })
            .await,
        "assignments",
    );
    let status = expect_invalid(
        assignments
            .batch_create_assignments(pb::BatchCreateAssignmentsRequest {
                assignments: (0..1001)
                    .map(|_| assignment_request(&jane, &writer, &docs))
                    .collect(),
            })
            .await,
        "assignments",
    );
    assert!(status.message().contains("1000"), "{}", status.message());

    assert_eq!(ids(&all(&server).await), ids(&before));
    // The items refused above were not created, so they can be now.
    assignments
        .batch_create_assignments(pb::BatchCreateAssignmentsRequest {
            assignments: vec![
                assignment_request(&jane, &writer, &docs),
                assignment_request(&jane, &writer, &wiki),
            ],
        })
        .await
        .expect("the refused items were not stored");
}

#[tokio::test]
async fn list_assignments_filters_by_identity_node_role_and_state() {
    let server = TestServer::start().await;
    let mut assignments = server.assignments();
    let reader = create_role(&server, "Reader", &["Docs:Read"]).await;
    let writer = create_role(&server, "Writer", &["Docs:Write"]).await;
    let jane = create_user(&server, "jane@example.co").await;
    let john = create_user(&server, "john@example.co").await;
    let docs = create_node(&server, "docs", None).await;
    let wiki = create_node(&server, "wiki", None).await;

    let baseline = all(&server).await;
    let mut made: Vec<pb::Assignment> = Vec::new();
    let mut add = async |request: pb::CreateAssignmentRequest| {
        let a = server
            .assignments()
            .create_assignment(request)
            .await
            .expect("create")
            .into_inner()
            .assignment
            .unwrap();
        made.push(a.clone());
        a
    };
    // ACTIVE (no window, and a window around now), PENDING, EXPIRED.
    let active = add(assignment_request(&jane, &reader, &docs)).await;
    let active_window = add(pb::CreateAssignmentRequest {
        effective_from: from_now(-3600),
        effective_to: from_now(3600),
        ..assignment_request(&jane, &writer, &docs)
    })
    .await;
    let pending = add(pb::CreateAssignmentRequest {
        effective_from: from_now(3600),
        effective_to: from_now(7200),
        ..assignment_request(&john, &reader, &docs)
    })
    .await;
    let pending_open = add(pb::CreateAssignmentRequest {
        effective_from: from_now(3600),
        ..assignment_request(&jane, &reader, &wiki)
    })
    .await;
    let expired = add(pb::CreateAssignmentRequest {
        effective_from: from_now(-7200),
        effective_to: from_now(-3600),
        ..assignment_request(&john, &writer, &wiki)
    })
    .await;
    let expired_open = add(pb::CreateAssignmentRequest {
        effective_to: from_now(-60),
        ..assignment_request(&john, &reader, &wiki)
    })
    .await;
    assert_eq!(active.state(), pb::AssignmentState::Active);
    assert_eq!(active_window.state(), pb::AssignmentState::Active);
    assert_eq!(pending.state(), pb::AssignmentState::Pending);
    assert_eq!(pending_open.state(), pb::AssignmentState::Pending);
    assert_eq!(expired.state(), pb::AssignmentState::Expired);
    assert_eq!(expired_open.state(), pb::AssignmentState::Expired);

    let mut everything = baseline.clone();
    everything.extend(made.iter().cloned());
    assert_eq!(ids(&all(&server).await), ids(&everything));

    let identities = [
        (None, None),
        (identity_by_email("JANE@example.co"), Some(&jane.id)),
        (identity_by_id(&john.id), Some(&john.id)),
    ];
    let nodes = [
        (None, None),
        (node_by_key("docs"), Some(&docs.id)),
        (node_by_id(&wiki.id), Some(&wiki.id)),
    ];
    let roles = [
        (None, None),
        (role_by_name("reader"), Some(&reader.id)),
        (role_by_id(&writer.id), Some(&writer.id)),
    ];
    let states = [
        pb::AssignmentState::Unspecified,
        pb::AssignmentState::Active,
        pb::AssignmentState::Pending,
        pb::AssignmentState::Expired,
    ];
    // Every filter alone, every pair, and identity+node+role together; each
    // listed two at a time to the end.
    for (identity, identity_id) in &identities {
        for (node, node_id) in &nodes {
            for (role, role_id) in &roles {
                for state in states {
                    let given = [
                        identity_id.is_some(),
                        node_id.is_some(),
                        role_id.is_some(),
                        state != pb::AssignmentState::Unspecified,
                    ];
                    let count = given.iter().filter(|g| **g).count();
                    let identity_node_role = given[..3].iter().all(|g| *g) && !given[3];
                    if count > 2 && !identity_node_role {
                        continue;
                    }
                    let expected = id_set(everything.iter().filter(|a| {
                        identity_id.is_none_or(|i| &a.identity_id == i)
                            && node_id.is_none_or(|n| &a.node_id == n)
                            && role_id.is_none_or(|r| &a.role_id == r)
                            && (state == pb::AssignmentState::Unspecified || a.state() == state)
                    }));
                    let listed = list_all_assignments(
                        &server,
                        pb::ListAssignmentsRequest {
                            identity: identity.clone(),
                            node: node.clone(),
                            role: role.clone(),
                            state: state.into(),
                            include_inherited: false,
                            page_size: 2,
                            page_token: String::new(),
                        },
                    )
                    .await;
                    assert_eq!(
                        ids(&listed),
                        expected,
                        "identity {identity_id:?} node {node_id:?} role {role_id:?} state {state:?}"
                    );
                    for a in &listed {
                        assert!(!a.inherited);
                        if state != pb::AssignmentState::Unspecified {
                            assert_eq!(a.state(), state);
                        }
                    }
                }
            }
        }
    }

    // Missing filter objects are NOT_FOUND; malformed ones INVALID_ARGUMENT.
    expect_not_found(
        assignments
            .list_assignments(pb::ListAssignmentsRequest {
                identity: identity_by_email("ghost@example.co"),
                ..Default::default()
            })
            .await,
        "ghost@example.co",
    );
    expect_not_found(
        assignments
            .list_assignments(pb::ListAssignmentsRequest {
                node: node_by_key("nowhere"),
                ..Default::default()
            })
            .await,
        "nowhere",
    );
    expect_not_found(
        assignments
            .list_assignments(pb::ListAssignmentsRequest {
                role: role_by_name("No_Such_Role"),
                ..Default::default()
            })
            .await,
        "No_Such_Role",
    );
    expect_invalid(
        assignments
            .list_assignments(pb::ListAssignmentsRequest {
                identity: identity_by_id("x"),
                ..Default::default()
            })
            .await,
        "identity",
    );
    expect_invalid(
        assignments
            .list_assignments(pb::ListAssignmentsRequest {
                state: 17,
                ..Default::default()
            })
            .await,
        "state",
    );
    expect_invalid(
        assignments
            .list_assignments(pb::ListAssignmentsRequest {
                page_size: -2,
                ..Default::default()
            })
            .await,
        "page_size",
    );
    expect_invalid(
        assignments
            .list_assignments(pb::ListAssignmentsRequest {
                page_token: "bogus".into(),
                ..Default::default()
            })
            .await,
        "page_token",
    );
    expect_invalid(
        assignments
            .list_assignments(pb::ListAssignmentsRequest {
                include_inherited: true,
                ..Default::default()
            })
            .await,
        "include_inherited",
    );
}

#[tokio::test]
async fn list_assignments_pages_to_exhaustion() {
    let server = TestServer::start().await;
    let role = create_role(&server, "Reader", &["Docs:Read"]).await;
    let node = create_node(&server, "docs", None).await;
    let baseline = all(&server).await;
    let mut expected = ids(&baseline);
    let batch: Vec<pb::CreateAssignmentRequest> = {
        let mut v = Vec::new();
        for i in 0..9 {
            let who = create_user(&server, &format!("user{i}@example.co")).await;
            v.push(assignment_request(&who, &role, &node));
        }
        v
    };
    let created = server
        .assignments()
        .batch_create_assignments(pb::BatchCreateAssignmentsRequest { assignments: batch })
        .await
        .unwrap()
        .into_inner();
    expected.extend(created.assignments.iter().map(|a| a.id.clone()));

    for page_size in [1, 2, 3, 1000] {
        let listed = list_all_assignments(
            &server,
            pb::ListAssignmentsRequest {
                page_size,
                ..Default::default()
            },
        )
        .await;
        assert_eq!(listed.len(), expected.len(), "page size {page_size}");
        assert_eq!(ids(&listed), expected, "page size {page_size}");
    }
    // Exactly full pages: the last page says there is no more.
    let first = server
        .assignments()
        .list_assignments(pb::ListAssignmentsRequest {
            page_size: expected.len() as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.assignments.len(), expected.len());
    assert!(first.next_page_token.is_empty());
}

#[tokio::test]
async fn list_assignments_includes_inherited_ones() {
    let server = TestServer::start().await;
    let role = create_role(&server, "Reader", &["Docs:Read"]).await;
    let other_role = create_role(&server, "Writer", &["Docs:Write"]).await;
    let jane = create_user(&server, "jane@example.co").await;
    let john = create_user(&server, "john@example.co").await;
    let root = root(&server).await;
    let org = create_node(&server, "org", None).await;
    let team = create_node(&server, "team", Some("org")).await;
    let wallet = create_node(&server, "wallet", Some("team")).await;
    let elsewhere = create_node(&server, "elsewhere", None).await;

    let baseline_on_root: Vec<pb::Assignment> = list_all_assignments(
        &server,
        pb::ListAssignmentsRequest {
            node: node_by_key("root"),
            ..Default::default()
        },
    )
    .await;
    let on_root = assign(&server, &jane, &role, &root).await;
    let on_org = assign(&server, &john, &role, &org).await;
    let on_team = assign(&server, &jane, &other_role, &team).await;
    let on_wallet = assign(&server, &john, &other_role, &wallet).await;
    let _on_elsewhere = assign(&server, &jane, &role, &elsewhere).await;

    let list = async |node: &str, include_inherited: bool, identity: Option<&str>| {
        list_all_assignments(
            &server,
            pb::ListAssignmentsRequest {
                node: node_by_key(node),
                include_inherited,
                identity: identity.and_then(identity_by_id),
                page_size: 2,
                ..Default::default()
            },
        )
        .await
    };

    // Without include_inherited: only those on the node itself.
    assert_eq!(ids(&list("team", false, None).await), id_set([&on_team]));
    // With it: the node's own, not inherited, plus the ancestors', inherited.
    let listed = list("team", true, None).await;
    let mut expected = id_set([&on_root, &on_org, &on_team]);
    expected.extend(ids(&baseline_on_root));
    assert_eq!(ids(&listed), expected);
    for a in &listed {
        assert_eq!(a.inherited, a.id != on_team.id, "{a:?}");
    }
    // A leaf inherits from every ancestor; the descendants' are not listed.
    let listed = list("wallet", true, None).await;
    let mut expected = id_set([&on_root, &on_org, &on_team, &on_wallet]);
    expected.extend(ids(&baseline_on_root));
    assert_eq!(ids(&listed), expected);
    for a in &listed {
        assert_eq!(a.inherited, a.id != on_wallet.id, "{a:?}");
    }
    let listed = list("org", true, None).await;
    let mut expected = id_set([&on_root, &on_org]);
    expected.extend(ids(&baseline_on_root));
    assert_eq!(ids(&listed), expected);
    // Combined with an identity filter.
    let listed = list("wallet", true, Some(&jane.id)).await;
    assert_eq!(ids(&listed), id_set([&on_root, &on_team]));
    assert!(listed.iter().all(|a| a.inherited));
    // The root has no ancestors.
    let listed = list("root", true, None).await;
    let mut expected = id_set([&on_root]);
    expected.extend(ids(&baseline_on_root));
    assert_eq!(ids(&listed), expected);
    assert!(listed.iter().all(|a| !a.inherited));

    // After a move, the new ancestors count.
    server
        .nodes()
        .move_node(pb::MoveNodeRequest {
            node: node_by_key("team"),
            new_parent: node_by_key("elsewhere"),
        })
        .await
        .unwrap();
    let listed = list("wallet", true, Some(&john.id)).await;
    assert_eq!(ids(&listed), id_set([&on_wallet]));
    let listed = list("wallet", true, Some(&jane.id)).await;
    assert_eq!(ids(&listed), id_set([&on_root, &on_team, &_on_elsewhere]));
}

#[tokio::test]
async fn delete_assignment_by_id_or_triple() {
    let server = TestServer::start().await;
    let mut assignments = server.assignments();
    let role = create_role(&server, "Reader", &["Docs:Read"]).await;
    let jane = create_user(&server, "jane@example.co").await;
    let docs = create_node(&server, "docs", None).await;
    let wiki = create_node(&server, "wiki", None).await;
    let by_id = assign(&server, &jane, &role, &docs).await;
    let by_triple = assign(&server, &jane, &role, &wiki).await;

    let deleted = assignments
        .delete_assignment(pb::DeleteAssignmentRequest {
            id: by_id.id.clone(),
            ..Default::default()
        })
        .await
        .expect("delete by id")
        .into_inner();
    assert!(deleted.revision > 0);
    assert_eq!(deleted.assignment.as_ref(), Some(&by_id));
    expect_not_found(
        assignments
            .get_assignment(pb::GetAssignmentRequest {
                id: by_id.id.clone(),
            })
            .await,
        &by_id.id,
    );
    expect_not_found(
        assignments
            .delete_assignment(pb::DeleteAssignmentRequest {
                id: by_id.id.clone(),
                ..Default::default()
            })
            .await,
        &by_id.id,
    );

    let second = assignments
        .delete_assignment(pb::DeleteAssignmentRequest {
            id: String::new(),
            identity: identity_by_email("Jane@Example.co"),
            role: role_by_name("READER"),
            node: node_by_key("wiki"),
        })
        .await
        .expect("delete by identity+role+node")
        .into_inner();
    assert!(second.revision > deleted.revision);
    assert_eq!(
        second.assignment.as_ref().map(|a| &a.id),
        Some(&by_triple.id)
    );
    expect_not_found(
        assignments
            .get_assignment(pb::GetAssignmentRequest {
                id: by_triple.id.clone(),
            })
            .await,
        &by_triple.id,
    );
    // The triple no longer exists.
    let status = expect_code(
        assignments
            .delete_assignment(pb::DeleteAssignmentRequest {
                id: String::new(),
                identity: identity_by_id(&jane.id),
                role: role_by_id(&role.id),
                node: node_by_id(&wiki.id),
            })
            .await,
        Code::NotFound,
    );
    assert!(status.message().contains("wiki"), "{}", status.message());
    // A triple naming a missing object.
    expect_not_found(
        assignments
            .delete_assignment(pb::DeleteAssignmentRequest {
                id: String::new(),
                identity: identity_by_id(&jane.id),
                role: role_by_name("No_Such_Role"),
                node: node_by_id(&wiki.id),
            })
            .await,
        "No_Such_Role",
    );
    // It can be granted again.
    assign(&server, &jane, &role, &wiki).await;

    // Malformed selectors.
    expect_invalid(
        assignments
            .delete_assignment(pb::DeleteAssignmentRequest::default())
            .await,
        "id",
    );
    expect_invalid(
        assignments
            .delete_assignment(pb::DeleteAssignmentRequest {
                id: "not-a-uuid".into(),
                ..Default::default()
            })
            .await,
        "id",
    );
    expect_code(
        assignments
            .delete_assignment(pb::DeleteAssignmentRequest {
                id: uuid::Uuid::new_v4().to_string(),
                identity: identity_by_id(&jane.id),
                role: role_by_id(&role.id),
                node: node_by_id(&wiki.id),
            })
            .await,
        Code::InvalidArgument,
    );
    expect_invalid(
        assignments
            .delete_assignment(pb::DeleteAssignmentRequest {
                id: String::new(),
                identity: identity_by_id(&jane.id),
                role: role_by_id(&role.id),
                node: None,
            })
            .await,
        "node",
    );
    expect_invalid(
        assignments
            .delete_assignment(pb::DeleteAssignmentRequest {
                id: String::new(),
                identity: None,
                role: role_by_id(&role.id),
                node: node_by_id(&wiki.id),
            })
            .await,
        "identity",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_identical_creates_yield_one_winner() {
    let server = TestServer::start().await;
    let role = create_role(&server, "Racer", &["A:B"]).await;
    let jane = create_user(&server, "jane@example.co").await;
    let node = create_node(&server, "track", None).await;
    let before = all(&server).await;
    let calls = (0..32).map(|i| {
        let mut assignments = server.assignments();
        // The same triple, named in different ways.
        let request = if i % 2 == 0 {
            assignment_request(&jane, &role, &node)
        } else {
            by_names("JANE@example.co", "racer", "track")
        };
        tokio::spawn(async move { assignments.create_assignment(request).await })
    });
    let mut ok = 0;
    let mut exists = 0;
    for result in futures::future::join_all(calls).await {
        match result.expect("no panic") {
            Ok(_) => ok += 1,
            Err(status) => {
                assert_eq!(status.code(), Code::AlreadyExists, "{status:?}");
                assert_no_sql(&status);
                exists += 1;
            }
        }
    }
    assert_eq!((ok, exists), (1, 31));
    assert_eq!(all(&server).await.len(), before.len() + 1);
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

#[tokio::test]
async fn state_is_computed_when_read() {
    let server = TestServer::start().await;
    let mut assignments = server.assignments();
    let role = create_role(&server, "Reader", &["Docs:Read"]).await;
    let jane = create_user(&server, "jane@example.co").await;
    let docs = create_node(&server, "docs", None).await;

    // Starts 1.5 s from now, ends 3 s from now.
    let from = now_micros() + 1_500_000;
    let to = from + 1_500_000;
    let state_now = async || {
        let before = now_micros();
        let got = server
            .assignments()
            .list_assignments(pb::ListAssignmentsRequest {
                identity: identity_by_id(&jane.id),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .assignments;
        let after = now_micros();
        assert_eq!(got.len(), 1);
        // Only judge when the whole call fell inside one state's window.
        let expected = if after < from {
            Some(pb::AssignmentState::Pending)
        } else if before >= from && after < to {
            Some(pb::AssignmentState::Active)
        } else if before >= to {
            Some(pb::AssignmentState::Expired)
        } else {
            None
        };
        (got[0].state(), expected)
    };
    let created = assignments
        .create_assignment(pb::CreateAssignmentRequest {
            effective_from: timestamp(from),
            effective_to: timestamp(to),
            ..assignment_request(&jane, &role, &docs)
        })
        .await
        .unwrap()
        .into_inner()
        .assignment
        .unwrap();
    if now_micros() < from {
        assert_eq!(created.state(), pb::AssignmentState::Pending);
    }
    let mut judged = 0;
    for wake in [from + 100_000, to + 100_000] {
        let (state, expected) = state_now().await;
        if let Some(expected) = expected {
            assert_eq!(state, expected);
            judged += 1;
        }
        let wait = wake - now_micros();
        if wait > 0 {
            tokio::time::sleep(std::time::Duration::from_micros(wait as u64)).await;
        }
    }
    let (state, expected) = state_now().await;
    assert_eq!(expected, Some(pb::AssignmentState::Expired));
    assert_eq!(state, pb::AssignmentState::Expired);
    assert!(
        judged >= 1,
        "the machine was too slow to observe the states"
    );
    let got = assignments
        .get_assignment(pb::GetAssignmentRequest { id: created.id })
        .await
        .unwrap()
        .into_inner()
        .assignment
        .unwrap();
    assert_eq!(got.state(), pb::AssignmentState::Expired);
}

#[tokio::test]
async fn a_batch_of_1000_is_accepted() {
    let server = TestServer::start().await;
    let mut roles = Vec::new();
    let mut people = Vec::new();
    let mut places = Vec::new();
    for i in 0..10 {
        roles.push(create_role(&server, &format!("Role_{i}"), &["A:B"]).await);
        people.push(create_user(&server, &format!("user{i}@example.co")).await);
        places.push(create_node(&server, &format!("node{i}"), None).await);
    }
    let mut batch = Vec::new();
    for who in &people {
        for role in &roles {
            for node in &places {
                batch.push(assignment_request(who, role, node));
            }
        }
    }
    assert_eq!(batch.len(), 1000);
    let created = server
        .assignments()
        .batch_create_assignments(pb::BatchCreateAssignmentsRequest {
            assignments: batch.clone(),
        })
        .await
        .expect("1000 items are allowed")
        .into_inner();
    assert_eq!(created.assignments.len(), 1000);
    for (made, asked) in created.assignments.iter().zip(&batch) {
        let id = |r: &Option<pb::IdentityRef>| match r.as_ref().and_then(|r| r.r#ref.clone()) {
            Some(pb::identity_ref::Ref::Id(id)) => id,
            other => panic!("{other:?}"),
        };
        assert_eq!(made.identity_id, id(&asked.identity));
    }
    let unique: HashSet<&str> = created.assignments.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(unique.len(), 1000);
    let of_one = list_all_assignments(
        &server,
        pb::ListAssignmentsRequest {
            identity: identity_by_id(&people[3].id),
            page_size: 1000,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(of_one.len(), 100);
}
