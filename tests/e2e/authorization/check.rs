//! Check: a write is seen by the very next check; windows exact to the
//! microsecond; an expired assignment never grants.

use super::*;

#[tokio::test]
async fn a_write_is_seen_by_the_very_next_check() {
    let server = TestServer::start().await;
    let client = server.authorization();
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
            .assignments()
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
            .assignments()
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
        .roles()
        .delete_role(pb::DeleteRoleRequest {
            request_id: Default::default(),
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
        .nodes()
        .delete_node(pb::DeleteNodeRequest {
            request_id: Default::default(),
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
        .identities()
        .delete_identity(pb::DeleteIdentityRequest {
            request_id: Default::default(),
            identity: identity_by_id(&jane.id),
        })
        .await
        .expect("delete identity");
    assert_denied(
        &check(&client, ask_key(&jane, "Wallets:Read", "payments")).await,
        pb::DecisionReason::UnknownIdentity,
    );
}

#[tokio::test]
async fn window_boundaries_are_exact_to_the_microsecond() {
    let server = TestServer::start().await;
    let client = server.authorization();
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
    let client = server.authorization();
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
