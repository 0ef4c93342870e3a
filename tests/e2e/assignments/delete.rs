//! DeleteAssignment by id or by identity, role and node.

use super::*;

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
            request_id: Default::default(),
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
                request_id: Default::default(),
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
                request_id: Default::default(),
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
                request_id: Default::default(),
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
                request_id: Default::default(),
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
                request_id: Default::default(),
                id: String::new(),
                identity: None,
                role: role_by_id(&role.id),
                node: node_by_id(&wiki.id),
            })
            .await,
        "identity",
    );
}
