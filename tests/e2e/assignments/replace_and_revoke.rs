//! SetRoles, UpdateAssignment and DeleteAssignments.

use super::*;

async fn allowed(server: &TestServer, email: &str, permission: &str, node: &str) -> bool {
    server
        .authorization()
        .check(pb::CheckRequest {
            identity: identity_by_email(email),
            permission: permission.into(),
            node: node_by_key(node),
            ..Default::default()
        })
        .await
        .expect("check")
        .into_inner()
        .allowed
}

fn set_roles(email: &str, node: &str, roles: &[&str]) -> pb::SetRolesRequest {
    pb::SetRolesRequest {
        identity: identity_by_email(email),
        node: node_by_key(node),
        roles: roles.iter().map(|r| role_by_name(r).unwrap()).collect(),
        request_id: String::new(),
    }
}

#[tokio::test]
async fn set_roles_keeps_creates_and_deletes_in_one_write() {
    let server = TestServer::start().await;
    let mut assignments = server.assignments();
    let reader = create_role(&server, "Reader", &["Docs:Read"]).await;
    create_role(&server, "Writer", &["Docs:Write"]).await;
    let admin = create_role(&server, "DocsAdmin", &["Docs:Admin"]).await;
    let jane = create_user(&server, "jane@example.co").await;
    let docs = create_node(&server, "docs", None).await;
    let mut windowed = assignment_request(&jane, &reader, &docs);
    windowed.effective_to = from_now(3600);
    let kept = assignments
        .create_assignment(windowed)
        .await
        .unwrap()
        .into_inner()
        .assignment
        .unwrap();
    let dropped = assign(&server, &jane, &admin, &docs).await;

    let set = assignments
        .set_roles(set_roles(
            "jane@example.co",
            "docs",
            &["Reader", "Writer", "writer"],
        ))
        .await
        .expect("set roles")
        .into_inner();
    assert_eq!(set.deleted, vec![dropped.clone()]);
    assert_eq!(set.created.len(), 1);
    assert_eq!(set.created[0].role_name, "Writer");
    let now: HashSet<String> = ids(&set.assignments);
    assert_eq!(now, id_set([&kept, &set.created[0]]));
    let kept_now = set.assignments.iter().find(|a| a.id == kept.id).unwrap();
    assert_eq!(
        kept_now.effective_to, kept.effective_to,
        "the window is kept"
    );
    assert!(allowed(&server, "jane@example.co", "Docs:Write", "docs").await);
    assert!(!allowed(&server, "jane@example.co", "Docs:Admin", "docs").await);
    // Consecutive revisions: one per change, the answer carries the last.
    let changes = server
        .audit()
        .list_changes(pb::ListChangesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .changes;
    let last = changes.iter().map(|c| c.revision).max().unwrap();
    assert_eq!(set.revision, last);

    let unchanged = assignments
        .set_roles(set_roles("jane@example.co", "docs", &["Reader", "Writer"]))
        .await
        .expect("set the same roles")
        .into_inner();
    assert!(unchanged.created.is_empty() && unchanged.deleted.is_empty());
    assert_eq!(unchanged.revision, set.revision);

    let cleared = assignments
        .set_roles(set_roles("jane@example.co", "docs", &[]))
        .await
        .expect("clear")
        .into_inner();
    assert_eq!(cleared.deleted.len(), 2);
    assert!(cleared.assignments.is_empty());
    expect_code(
        assignments
            .set_roles(set_roles("jane@example.co", "docs", &["Nope"]))
            .await,
        Code::NotFound,
    );
}

#[tokio::test]
async fn create_identity_with_assignments_is_active_and_atomic() {
    let server = TestServer::start().await;
    create_role(&server, "Reader", &["Docs:Read"]).await;
    create_node(&server, "docs", None).await;
    let item = |role: &str| pb::InitialAssignment {
        node: node_by_key("docs"),
        role: role_by_name(role),
        effective_from: None,
        effective_to: None,
    };
    let request = |email: &str, roles: Vec<pb::InitialAssignment>| pb::CreateIdentityRequest {
        kind: pb::IdentityKind::User.into(),
        email: email.into(),
        assignments: roles,
        ..Default::default()
    };
    let created = server
        .identities()
        .create_identity(request("jane@example.co", vec![item("Reader")]))
        .await
        .expect("create with roles")
        .into_inner();
    let identity = created.identity.unwrap();
    assert_eq!(identity.status(), pb::IdentityStatus::Active);
    assert_eq!(created.assignments.len(), 1);
    assert!(allowed(&server, "jane@example.co", "Docs:Read", "docs").await);

    expect_code(
        server
            .identities()
            .create_identity(request(
                "john@example.co",
                vec![item("Reader"), item("Nope")],
            ))
            .await,
        Code::NotFound,
    );
    expect_not_found(
        server
            .identities()
            .get_identity(pb::GetIdentityRequest {
                identity: identity_by_email("john@example.co"),
            })
            .await,
        "john@example.co",
    );
}

#[tokio::test]
async fn update_assignment_changes_the_window_in_place() {
    let server = TestServer::start().await;
    let mut assignments = server.assignments();
    let reader = create_role(&server, "Reader", &["Docs:Read"]).await;
    let jane = create_user(&server, "jane@example.co").await;
    let docs = create_node(&server, "docs", None).await;
    let a = assign(&server, &jane, &reader, &docs).await;
    assert!(allowed(&server, "jane@example.co", "Docs:Read", "docs").await);

    let ended = assignments
        .update_assignment(pb::UpdateAssignmentRequest {
            id: a.id.clone(),
            effective_to: from_now(-60),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["effective_to".into()],
            }),
            ..Default::default()
        })
        .await
        .expect("end the window")
        .into_inner();
    let updated = ended.assignment.unwrap();
    assert_eq!(updated.id, a.id, "the id is kept");
    assert_eq!(updated.state(), pb::AssignmentState::Expired);
    assert!(!allowed(&server, "jane@example.co", "Docs:Read", "docs").await);

    let reopened = assignments
        .update_assignment(pb::UpdateAssignmentRequest {
            id: a.id.clone(),
            ..Default::default()
        })
        .await
        .expect("clear the window")
        .into_inner();
    assert!(reopened.revision > ended.revision);
    assert!(allowed(&server, "jane@example.co", "Docs:Read", "docs").await);

    expect_invalid(
        assignments
            .update_assignment(pb::UpdateAssignmentRequest {
                id: a.id.clone(),
                effective_from: from_now(60),
                effective_to: from_now(30),
                ..Default::default()
            })
            .await,
        "effective_to",
    );
    expect_invalid(
        assignments
            .update_assignment(pb::UpdateAssignmentRequest {
                id: "nope".into(),
                ..Default::default()
            })
            .await,
        "id",
    );
    let missing = uuid::Uuid::new_v4().to_string();
    expect_not_found(
        assignments
            .update_assignment(pb::UpdateAssignmentRequest {
                id: missing.clone(),
                ..Default::default()
            })
            .await,
        &missing,
    );
}

/// A service account holding `Rbacd:Assignments:Write` at `node` only; its clients.
async fn team_admin(server: &TestServer, node: &pb::Node) -> Clients {
    let role = create_role(server, "TeamAdmin", &["Rbacd:Assignments:Write"]).await;
    let account = server
        .identities()
        .create_identity(pb::CreateIdentityRequest {
            kind: pb::IdentityKind::ServiceAccount.into(),
            external_id: "svc|team".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .identity
        .unwrap();
    assign(server, &account, &role, node).await;
    let key = server
        .identities()
        .create_api_key(pb::CreateApiKeyRequest {
            identity: identity_by_id(&account.id),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    server.clients(Some(&key.secret))
}

#[tokio::test]
async fn delete_assignments_by_filter_is_all_or_nothing() {
    let server = TestServer::start().await;
    let reader = create_role(&server, "Reader", &["Docs:Read"]).await;
    let jane = create_user(&server, "jane@example.co").await;
    let payments = create_node(&server, "payments", None).await;
    let eu = create_node(&server, "payments:eu", Some("payments")).await;
    let docs = create_node(&server, "docs", None).await;
    for node in [&payments, &eu, &docs] {
        assign(&server, &jane, &reader, node).await;
    }
    let team = team_admin(&server, &payments).await;
    let by_jane = pb::DeleteAssignmentsRequest {
        identity: identity_by_email("jane@example.co"),
        ..Default::default()
    };

    // One match (on docs) is outside the team admin's reach: nothing is deleted.
    expect_code(
        team.assignments
            .clone()
            .delete_assignments(by_jane.clone())
            .await,
        Code::PermissionDenied,
    );
    assert_eq!(all(&server).await.len(), 5);

    let dry = team
        .assignments
        .clone()
        .delete_assignments(pb::DeleteAssignmentsRequest {
            node: node_by_key("payments"),
            include_descendants: true,
            role: role_by_name("Reader"),
            validate_only: true,
            ..Default::default()
        })
        .await
        .expect("dry run")
        .into_inner();
    assert_eq!(dry.deleted_count, 2);
    assert_eq!(all(&server).await.len(), 5);

    let over = expect_code(
        server
            .assignments()
            .delete_assignments(pb::DeleteAssignmentsRequest {
                limit: 2,
                ..by_jane.clone()
            })
            .await,
        Code::FailedPrecondition,
    );
    assert!(over.message().contains("3 assignments match"), "{over:?}");

    let done = team
        .assignments
        .clone()
        .delete_assignments(pb::DeleteAssignmentsRequest {
            node: node_by_key("payments"),
            include_descendants: true,
            role: role_by_name("Reader"),
            ..Default::default()
        })
        .await
        .expect("revoke under payments")
        .into_inner();
    assert_eq!(done.deleted_count, 2);
    assert!(!allowed(&server, "jane@example.co", "Docs:Read", "payments:eu").await);
    assert!(allowed(&server, "jane@example.co", "Docs:Read", "docs").await);

    expect_invalid(
        server
            .assignments()
            .delete_assignments(pb::DeleteAssignmentsRequest::default())
            .await,
        "",
    );
}
