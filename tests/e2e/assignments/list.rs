//! ListAssignments: filters, pages, inherited ones, the state computed when read.

use super::*;

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
        .batch_create_assignments(pb::BatchCreateAssignmentsRequest {
            request_id: Default::default(),
            assignments: batch,
        })
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
            request_id: Default::default(),
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
