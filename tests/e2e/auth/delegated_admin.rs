//! Management calls authorized by rbacd's own engine: a delegated admin acts
//! inside its subtree only, hands out only what it holds, and its writes are
//! attributed to it.

use super::*;

#[tokio::test]
async fn a_delegated_admin_acts_inside_its_subtree_only() {
    let server = TestServer::start().await;
    let root = root(&server).await;
    let payments = create_node(&server, "payments", None).await;
    let treasury = create_node(&server, "treasury", None).await;
    let eu = create_node(&server, "payments:eu", Some("payments")).await;
    create_node(&server, "payments:eu:wallet", Some("payments:eu")).await;
    create_node(&server, "treasury:vault", Some("treasury")).await;
    let team_role = create_role(
        &server,
        "Payments_Team_Admin",
        &[
            "Rbacd:Assignments:Write",
            "Rbacd:Assignments:Read",
            "Rbacd:Nodes:Write",
            "Rbacd:Nodes:Read",
            // What it hands out, it must hold (the granting rule).
            "Wallets:Read",
        ],
    )
    .await;
    let reader = create_role(&server, "Wallet_Reader", &["Wallets:Read"]).await;
    let (team_admin, secret) = account_with_key(&server, "team-admin", &team_role, &payments).await;
    let alice = create_user(&server, "alice@example.com").await;
    let bob = create_user(&server, "bob@example.com").await;
    let at_treasury = assign(&server, &alice, &reader, &treasury).await;
    let t = server.clients(Some(&secret));
    let (mut roles, mut identities, mut nodes, mut assignments, mut authz) = (
        t.roles.clone(),
        t.identities.clone(),
        t.nodes.clone(),
        t.assignments.clone(),
        t.authz.clone(),
    );
    let write = "Rbacd:Assignments:Write";

    // Inside payments: allowed, by key and by id, at the node and below it.
    let granted = assignments
        .create_assignment(by_names(&alice, "Wallet_Reader", "payments"))
        .await
        .expect("grant at payments")
        .into_inner();
    let at_eu = assignments
        .create_assignment(assignment_request(&alice, &reader, &eu))
        .await
        .expect("grant at a child of payments")
        .into_inner()
        .assignment
        .unwrap();
    assignments
        .create_assignment(by_names(&bob, "Wallet_Reader", "payments:eu:wallet"))
        .await
        .expect("grant at a grandchild of payments");

    // Beside it: out of its sight, so answered as if missing; above it, at
    // the root (whose existence is no secret): refused, naming the permission and the node.
    expect_not_found(
        assignments
            .create_assignment(by_names(&bob, "Wallet_Reader", "treasury"))
            .await,
        "treasury",
    );
    expect_not_found(
        assignments
            .create_assignment(assignment_request(&bob, &reader, &treasury))
            .await,
        &treasury.id,
    );
    expect_not_found(
        assignments
            .create_assignment(by_names(&bob, "Wallet_Reader", "treasury:vault"))
            .await,
        "treasury:vault",
    );
    expect_denied(
        assignments
            .create_assignment(by_names(&bob, "Wallet_Reader", "root"))
            .await,
        write,
        "root",
    );
    expect_denied(
        assignments
            .create_assignment(assignment_request(&team_admin, &team_role, &root))
            .await,
        write,
        &root.id,
    );
    expect_not_found(
        assignments
            .delete_assignment(pb::DeleteAssignmentRequest {
                id: at_treasury.id.clone(),
                ..Default::default()
            })
            .await,
        &at_treasury.id,
    );
    expect_not_found(
        assignments
            .get_assignment(pb::GetAssignmentRequest {
                id: at_treasury.id.clone(),
            })
            .await,
        &at_treasury.id,
    );
    assignments
        .get_assignment(pb::GetAssignmentRequest {
            id: at_eu.id.clone(),
        })
        .await
        .expect("read inside payments");
    let listed = assignments
        .list_assignments(pb::ListAssignmentsRequest {
            node: node_by_key("payments"),
            ..Default::default()
        })
        .await
        .expect("list at payments")
        .into_inner()
        .assignments;
    assert_eq!(listed.len(), 2, "{listed:?}");
    expect_denied(
        assignments
            .list_assignments(pb::ListAssignmentsRequest::default())
            .await,
        "Rbacd:Assignments:Read",
        "root",
    );

    // A batch with one item outside its reach is refused whole.
    let before = list_all_assignments(&server, pb::ListAssignmentsRequest::default()).await;
    expect_not_found(
        assignments
            .batch_create_assignments(pb::BatchCreateAssignmentsRequest {
                request_id: Default::default(),
                assignments: vec![
                    by_names(&bob, "Wallet_Reader", "payments"),
                    by_names(&bob, "Wallet_Reader", "payments:eu"),
                    by_names(&bob, "Wallet_Reader", "treasury"),
                ],
            })
            .await,
        "treasury",
    );
    let after = list_all_assignments(&server, pb::ListAssignmentsRequest::default()).await;
    assert_eq!(
        sorted_ids(after.iter().map(|a| a.id.as_str())),
        sorted_ids(before.iter().map(|a| a.id.as_str())),
        "nothing of a refused batch is written"
    );
    assignments
        .batch_create_assignments(pb::BatchCreateAssignmentsRequest {
            request_id: Default::default(),
            assignments: vec![
                by_names(&bob, "Wallet_Reader", "payments"),
                by_names(&bob, "Wallet_Reader", "payments:eu"),
            ],
        })
        .await
        .expect("a batch inside payments");

    // Roles are edited at the root only: no widening of its own reach.
    let roles_write = "Rbacd:Roles:Write";
    expect_denied(
        roles
            .create_role(pb::CreateRoleRequest {
                request_id: Default::default(),
                name: "Everything".into(),
                description: String::new(),
                permissions: vec!["*".into()],
            })
            .await,
        roles_write,
        "root",
    );
    for role in [&team_role, &reader] {
        expect_denied(
            roles
                .update_role(pb::UpdateRoleRequest {
                    role: role_by_id(&role.id),
                    permissions: vec!["*".into()],
                    ..Default::default()
                })
                .await,
            roles_write,
            "root",
        );
        expect_denied(
            roles
                .delete_role(pb::DeleteRoleRequest {
                    request_id: Default::default(),
                    role: role_by_id(&role.id),
                    force: true,
                })
                .await,
            roles_write,
            "root",
        );
    }
    // Nor identities, nor checks, which live at the root.
    expect_denied(
        identities
            .create_identity(pb::CreateIdentityRequest {
                assignments: Default::default(),
                request_id: Default::default(),
                kind: pb::IdentityKind::ServiceAccount.into(),
                email: String::new(),
                external_id: "svc|sneaky".into(),
                display_name: String::new(),
            })
            .await,
        "Rbacd:Identities:Write",
        "root",
    );
    expect_denied(
        identities
            .create_api_key(pb::CreateApiKeyRequest {
                request_id: Default::default(),
                identity: identity_by_id(&team_admin.id),
                name: String::new(),
            })
            .await,
        "Rbacd:Identities:Write",
        "root",
    );
    expect_denied(
        authz
            .check(check_request(
                identity_by_id(&alice.id),
                node_by_key("payments"),
            ))
            .await,
        "Rbacd:Check",
        "root",
    );

    // Nodes: moved within payments, never out of it, never in from outside.
    nodes
        .move_node(pb::MoveNodeRequest {
            request_id: Default::default(),
            node: node_by_key("payments:eu:wallet"),
            new_parent: node_by_key("payments"),
        })
        .await
        .expect("a move inside payments");
    let nodes_write = "Rbacd:Nodes:Write";
    expect_not_found(
        nodes
            .move_node(pb::MoveNodeRequest {
                request_id: Default::default(),
                node: node_by_key("payments:eu:wallet"),
                new_parent: node_by_key("treasury"),
            })
            .await,
        "treasury",
    );
    expect_denied(
        nodes
            .move_node(pb::MoveNodeRequest {
                request_id: Default::default(),
                node: node_by_key("payments:eu"),
                new_parent: node_by_key("root"),
            })
            .await,
        nodes_write,
        "root",
    );
    expect_not_found(
        nodes
            .move_node(pb::MoveNodeRequest {
                request_id: Default::default(),
                node: node_by_key("treasury:vault"),
                new_parent: node_by_key("payments"),
            })
            .await,
        "treasury:vault",
    );
    expect_not_found(
        nodes
            .create_node(pb::CreateNodeRequest {
                request_id: Default::default(),
                key: "treasury:new".into(),
                name: String::new(),
                kind: String::new(),
                parent: node_by_key("treasury"),
            })
            .await,
        "treasury",
    );
    expect_not_found(
        nodes
            .delete_node(pb::DeleteNodeRequest {
                request_id: Default::default(),
                node: node_by_key("treasury"),
                cascade: true,
            })
            .await,
        "treasury",
    );
    let wallet = server
        .nodes()
        .get_node(pb::GetNodeRequest {
            node: node_by_key("payments:eu:wallet"),
        })
        .await
        .unwrap()
        .into_inner()
        .node
        .unwrap();
    assert_eq!(
        wallet.parent_id, payments.id,
        "only the allowed move happened"
    );

    // It cannot grant itself Administrator even inside payments: it does not hold `*`.
    expect_denied(
        assignments
            .create_assignment(by_names(&team_admin, "Administrator", "payments"))
            .await,
        "`*`",
        "payments",
    );
    expect_denied(
        roles
            .update_role(pb::UpdateRoleRequest {
                role: role_by_id(&team_role.id),
                permissions: vec!["*".into()],
                ..Default::default()
            })
            .await,
        roles_write,
        "root",
    );
    expect_denied(
        assignments
            .create_assignment(by_names(&team_admin, "Administrator", "root"))
            .await,
        write,
        "root",
    );
    expect_not_found(
        assignments
            .create_assignment(by_names(&bob, "Wallet_Reader", "treasury"))
            .await,
        "treasury",
    );

    // Its writes are attributed to it in the change log.
    let store = rbacd::store::Store::connect(server.database_url())
        .await
        .expect("a second store on the same database");
    let changes = store
        .changes_after(0, 100_000)
        .await
        .expect("the change log");
    store.close().await;
    let assignment_id = granted.assignment.as_ref().unwrap().id.clone();
    let change = changes
        .iter()
        .find(|c| c.event.object_id().to_string() == assignment_id)
        .expect("the team admin's grant is in the change log");
    assert_eq!(
        change.actor.map(|a| a.to_string()),
        Some(team_admin.id.clone()),
        "{change:?}"
    );
    assert_eq!(change.revision, granted.revision);
    assert_eq!(change.action, "CreateAssignment");

    // And AuditService shows it so.
    let listed = server
        .clients(Some(ADMIN_KEY))
        .audit
        .list_changes(pb::ListChangesRequest {
            after_revision: granted.revision - 1,
            page_size: 1,
            ..Default::default()
        })
        .await
        .expect("ListChanges")
        .into_inner();
    let change = listed.changes.first().expect("the change of the grant");
    assert_eq!(change.revision, granted.revision, "{listed:?}");
    assert_eq!(change.object_id, assignment_id);
    assert_eq!(change.actor_id, team_admin.id, "{listed:?}");
    assert_eq!(change.action, "CreateAssignment");
    // A delegated admin cannot read the audit trail without `Rbacd:Audit:Read` at the root.
    expect_denied(
        t.audit
            .clone()
            .list_changes(pb::ListChangesRequest::default())
            .await,
        "Rbacd:Audit:Read",
        "root",
    );
}
