//! CreateAssignment and BatchCreateAssignments: success, errors, atomic batches, races.

use super::*;

#[tokio::test]
async fn create_and_get_assignment() {
    let server = TestServer::start().await;
    let mut assignments = server.assignments();
    let role = create_role(&server, "Wallet_Read_User", &["Wallets:Read"]).await;
    let jane = server
        .identities()
        .create_identity(pb::CreateIdentityRequest {
            assignments: Default::default(),
            request_id: Default::default(),
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
            request_id: Default::default(),
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
        .batch_create_assignments(pb::BatchCreateAssignmentsRequest {
            request_id: Default::default(),
            assignments: items,
        })
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
                request_id: Default::default(),
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
                request_id: Default::default(),
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
                request_id: Default::default(),
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
                request_id: Default::default(),
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
                request_id: Default::default(),
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
                request_id: Default::default(),
                assignments: vec![],
            })
            .await,
        "assignments",
    );
    let status = expect_invalid(
        assignments
            .batch_create_assignments(pb::BatchCreateAssignmentsRequest {
                request_id: Default::default(),
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
            request_id: Default::default(),
            assignments: vec![
                assignment_request(&jane, &writer, &docs),
                assignment_request(&jane, &writer, &wiki),
            ],
        })
        .await
        .expect("the refused items were not stored");
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
            request_id: Default::default(),
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
