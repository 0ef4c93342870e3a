//! UpdateRole (partial) and DeleteRole (force when assigned).

use super::*;

#[tokio::test]
async fn update_role_partially() {
    let server = TestServer::start().await;
    let mut roles = server.roles();
    let created = roles
        .create_role(pb::CreateRoleRequest {
            request_id: Default::default(),
            name: "Editor".into(),
            description: "edits".into(),
            permissions: vec!["Docs:Read".into(), "Docs:Write".into()],
        })
        .await
        .unwrap()
        .into_inner();
    let role = created.role.unwrap();
    let mut last_revision = created.revision;

    // Name only: permissions and description are kept.
    let renamed = roles
        .update_role(pb::UpdateRoleRequest {
            name: Some("Writer".into()),
            ..update_request(role_by_name("editor"))
        })
        .await
        .expect("rename")
        .into_inner();
    assert!(renamed.revision > last_revision);
    last_revision = renamed.revision;
    let renamed = renamed.role.unwrap();
    assert_eq!(renamed.id, role.id);
    assert_eq!(renamed.name, "Writer");
    assert_eq!(renamed.description, "edits");
    assert_eq!(renamed.permissions, role.permissions);
    assert!(micros(&renamed.update_time) >= micros(&role.update_time));
    assert_eq!(renamed.create_time, role.create_time);
    expect_not_found(
        roles
            .get_role(pb::GetRoleRequest {
                role: role_by_name("Editor"),
            })
            .await,
        "Editor",
    );

    // Description only.
    let described = roles
        .update_role(pb::UpdateRoleRequest {
            description: Some("writes".into()),
            ..update_request(role_by_id(&role.id))
        })
        .await
        .expect("describe")
        .into_inner();
    assert!(described.revision > last_revision);
    last_revision = described.revision;
    let described = described.role.unwrap();
    assert_eq!(described.name, "Writer");
    assert_eq!(described.description, "writes");
    assert_eq!(described.permissions, role.permissions);

    // A non-empty list replaces the permissions.
    let replaced = roles
        .update_role(pb::UpdateRoleRequest {
            permissions: vec!["Docs:*".into()],
            ..update_request(role_by_id(&role.id))
        })
        .await
        .expect("replace permissions")
        .into_inner();
    assert!(replaced.revision > last_revision);
    last_revision = replaced.revision;
    assert_eq!(replaced.role.unwrap().permissions, ["Docs:*"]);

    // A masked field is changed, an unmasked one kept even when given.
    let masked = roles
        .update_role(pb::UpdateRoleRequest {
            name: Some("Ignored_Name".into()),
            description: Some("masked".into()),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["description".into()],
            }),
            ..update_request(role_by_id(&role.id))
        })
        .await
        .expect("masked update")
        .into_inner();
    assert!(masked.revision > last_revision);
    last_revision = masked.revision;
    let masked = masked.role.unwrap();
    assert_eq!(masked.name, "Writer");
    assert_eq!(masked.description, "masked");
    assert_eq!(masked.permissions, ["Docs:*"]);

    // Mask `permissions` with an empty list clears them.
    let cleared = roles
        .update_role(pb::UpdateRoleRequest {
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["permissions".into()],
            }),
            ..update_request(role_by_id(&role.id))
        })
        .await
        .expect("clear permissions")
        .into_inner();
    assert!(cleared.revision > last_revision);
    last_revision = cleared.revision;
    assert!(cleared.role.unwrap().permissions.is_empty());
    let got = roles
        .get_role(pb::GetRoleRequest {
            role: role_by_id(&role.id),
        })
        .await
        .unwrap()
        .into_inner()
        .role
        .unwrap();
    assert!(got.permissions.is_empty());
    assert_eq!(got.name, "Writer");

    // An empty description clears it.
    let undescribed = roles
        .update_role(pb::UpdateRoleRequest {
            description: Some(String::new()),
            ..update_request(role_by_id(&role.id))
        })
        .await
        .expect("clear the description")
        .into_inner();
    assert!(undescribed.revision > last_revision);
    last_revision = undescribed.revision;
    assert_eq!(undescribed.role.unwrap().description, "");

    // Changing only the case of its own name is allowed.
    let recased = roles
        .update_role(pb::UpdateRoleRequest {
            name: Some("WRITER".into()),
            ..update_request(role_by_id(&role.id))
        })
        .await
        .expect("re-case own name")
        .into_inner();
    assert!(recased.revision > last_revision);
    assert_eq!(recased.role.unwrap().name, "WRITER");
}

#[tokio::test]
async fn update_role_errors() {
    let server = TestServer::start().await;
    let mut roles = server.roles();
    let reader = create_role(&server, "Reader", &["Docs:Read"]).await;
    let _writer = create_role(&server, "Writer", &["Docs:Write"]).await;

    // Renaming onto an existing name, in any case.
    let status = expect_code(
        roles
            .update_role(pb::UpdateRoleRequest {
                name: Some("wRITER".into()),
                ..update_request(role_by_id(&reader.id))
            })
            .await,
        Code::AlreadyExists,
    );
    assert!(status.message().contains("wRITER"), "{}", status.message());
    let unchanged = roles
        .get_role(pb::GetRoleRequest {
            role: role_by_id(&reader.id),
        })
        .await
        .unwrap()
        .into_inner()
        .role
        .unwrap();
    assert_eq!(unchanged, reader);

    expect_not_found(
        roles
            .update_role(pb::UpdateRoleRequest {
                name: Some("Whatever".into()),
                ..update_request(role_by_name("Missing_Role"))
            })
            .await,
        "Missing_Role",
    );
    expect_invalid(
        roles
            .update_role(pb::UpdateRoleRequest {
                permissions: vec!["Docs:Read".into(), "Docs::Bad".into()],
                ..update_request(role_by_id(&reader.id))
            })
            .await,
        "permissions[1]",
    );
    expect_invalid(
        roles
            .update_role(pb::UpdateRoleRequest {
                permissions: (0..1001).map(|i| format!("P:{i}")).collect(),
                ..update_request(role_by_id(&reader.id))
            })
            .await,
        "permissions",
    );
    expect_invalid(
        roles
            .update_role(pb::UpdateRoleRequest {
                name: Some(String::new()),
                ..update_request(role_by_id(&reader.id))
            })
            .await,
        "name",
    );
    expect_invalid(
        roles
            .update_role(pb::UpdateRoleRequest {
                name: Some("n".repeat(257)),
                ..update_request(role_by_id(&reader.id))
            })
            .await,
        "name",
    );
    expect_invalid(
        roles
            .update_role(pb::UpdateRoleRequest {
                description: Some("x".into()),
                ..update_request(None)
            })
            .await,
        "role",
    );
    expect_invalid(
        roles
            .update_role(pb::UpdateRoleRequest {
                description: Some("x".into()),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["id".into()],
                }),
                ..update_request(role_by_id(&reader.id))
            })
            .await,
        "update_mask",
    );
    // Nothing to change.
    expect_code(
        roles
            .update_role(update_request(role_by_id(&reader.id)))
            .await,
        Code::InvalidArgument,
    );
    let still = roles
        .get_role(pb::GetRoleRequest {
            role: role_by_id(&reader.id),
        })
        .await
        .unwrap()
        .into_inner()
        .role
        .unwrap();
    assert_eq!(still, reader);
}

#[tokio::test]
async fn delete_role_needs_force_when_assigned() {
    let server = TestServer::start().await;
    let mut roles = server.roles();
    let mut assignments = server.assignments();

    // Unassigned: deleted at once.
    let lonely = create_role(&server, "Lonely", &["A:B"]).await;
    let deleted = roles
        .delete_role(pb::DeleteRoleRequest {
            request_id: Default::default(),
            role: role_by_name("LONELY"),
            force: false,
        })
        .await
        .expect("delete an unassigned role")
        .into_inner();
    assert_eq!(deleted.role.as_ref(), Some(&lonely));
    assert_eq!(deleted.deleted_assignments, 0);
    expect_not_found(
        roles
            .get_role(pb::GetRoleRequest {
                role: role_by_id(&lonely.id),
            })
            .await,
        &lonely.id,
    );
    expect_not_found(
        roles
            .delete_role(pb::DeleteRoleRequest {
                request_id: Default::default(),
                role: role_by_id(&lonely.id),
                force: true,
            })
            .await,
        &lonely.id,
    );

    // Assigned twice: refused without force.
    let baseline = list_all_assignments(&server, pb::ListAssignmentsRequest::default()).await;
    let role = create_role(&server, "Busy", &["A:B"]).await;
    let other = create_role(&server, "Other", &["A:C"]).await;
    let alice = create_user(&server, "alice@example.co").await;
    let bob = create_user(&server, "bob@example.co").await;
    let node = create_node(&server, "team:1", None).await;
    let a1 = assign(&server, &alice, &role, &node).await;
    let a2 = assign(&server, &bob, &role, &node).await;
    let kept = assign(&server, &alice, &other, &node).await;

    let status = expect_code(
        roles
            .delete_role(pb::DeleteRoleRequest {
                request_id: Default::default(),
                role: role_by_id(&role.id),
                force: false,
            })
            .await,
        Code::FailedPrecondition,
    );
    assert!(status.message().contains("Busy"), "{}", status.message());
    for a in [&a1, &a2] {
        assignments
            .get_assignment(pb::GetAssignmentRequest { id: a.id.clone() })
            .await
            .expect("the assignment survives a refused delete");
    }
    roles
        .get_role(pb::GetRoleRequest {
            role: role_by_id(&role.id),
        })
        .await
        .expect("the role survives a refused delete");

    // With force: the role and its assignments go, others stay.
    let forced = roles
        .delete_role(pb::DeleteRoleRequest {
            request_id: Default::default(),
            role: role_by_id(&role.id),
            force: true,
        })
        .await
        .expect("forced delete")
        .into_inner();
    assert!(forced.revision > deleted.revision);
    assert_eq!(forced.deleted_assignments, 2);
    assert_eq!(forced.role.unwrap().id, role.id);
    for a in [&a1, &a2] {
        expect_not_found(
            assignments
                .get_assignment(pb::GetAssignmentRequest { id: a.id.clone() })
                .await,
            &a.id,
        );
    }
    let left = list_all_assignments(&server, pb::ListAssignmentsRequest::default()).await;
    let mut expected: Vec<&str> = baseline.iter().map(|a| a.id.as_str()).collect();
    expected.push(&kept.id);
    assert_eq!(
        sorted_ids(left.iter().map(|a| a.id.as_str())),
        sorted_ids(expected)
    );
    expect_not_found(
        roles
            .get_role(pb::GetRoleRequest {
                role: role_by_name("busy"),
            })
            .await,
        "busy",
    );
    expect_invalid(
        roles
            .delete_role(pb::DeleteRoleRequest {
                request_id: Default::default(),
                role: role_by_id("42"),
                force: false,
            })
            .await,
        "role",
    );
    // The name is free again.
    create_role(&server, "busy", &[]).await;
}
