//! The last Administrator (and the last key keeping an environment
//! administrable) cannot be removed.

use super::*;

#[tokio::test]
async fn the_last_administrator_cannot_be_removed() {
    let server = TestServer::start().await;
    let root = root(&server).await;
    let admin_role = administrator(&server).await;
    let bootstrap = admin_assignments(&server).await;
    assert_eq!(bootstrap.len(), 1);
    let first = bootstrap[0].clone();
    let first_admin = identity_by_id(&first.identity_id);
    let fp = Code::FailedPrecondition;
    let (mut roles, mut identities, mut assignments) =
        (server.roles(), server.identities(), server.assignments());

    // Holders that do not count: INVITED, DISABLED, expired, not yet in effect, not at the root.
    identities
        .invite_identity(pb::InviteIdentityRequest {
            request_id: Default::default(),
            kind: pb::IdentityKind::User.into(),
            email: "invited-admin@example.com".into(),
            external_id: String::new(),
            display_name: String::new(),
            assignments: vec![pb::InitialAssignment {
                node: node_by_key("root"),
                role: role_by_name("Administrator"),
                effective_from: None,
                effective_to: None,
            }],
        })
        .await
        .expect("invite an admin");
    let disabled = create_user(&server, "disabled-admin@example.com").await;
    assign(&server, &disabled, &admin_role, &root).await;
    identities
        .disable_identity(pb::DisableIdentityRequest {
            request_id: Default::default(),
            identity: identity_by_id(&disabled.id),
        })
        .await
        .expect("disabling one admin of several is fine");
    let expired = create_user(&server, "expired-admin@example.com").await;
    let pending = create_user(&server, "pending-admin@example.com").await;
    for (who, from, to) in [
        (&expired, from_now(-7200), from_now(-3600)),
        (&pending, from_now(3600), None),
    ] {
        assignments
            .create_assignment(pb::CreateAssignmentRequest {
                effective_from: from,
                effective_to: to,
                ..assignment_request(who, &admin_role, &root)
            })
            .await
            .expect("a windowed admin");
    }
    let payments = create_node(&server, "payments", None).await;
    let below = create_user(&server, "payments-admin@example.com").await;
    assign(&server, &below, &admin_role, &payments).await;

    // The last effective one stays, however it is attacked.
    let status = expect_code(
        assignments
            .delete_assignment(pb::DeleteAssignmentRequest {
                id: first.id.clone(),
                ..Default::default()
            })
            .await,
        fp,
    );
    assert!(status.message().contains("Administrator"), "{status:?}");
    expect_code(
        assignments
            .delete_assignment(pb::DeleteAssignmentRequest {
                request_id: Default::default(),
                id: String::new(),
                identity: first_admin.clone(),
                role: role_by_name("administrator"),
                node: node_by_key("root"),
            })
            .await,
        fp,
    );
    expect_code(
        identities
            .disable_identity(pb::DisableIdentityRequest {
                request_id: Default::default(),
                identity: first_admin.clone(),
            })
            .await,
        fp,
    );
    expect_code(
        identities
            .delete_identity(pb::DeleteIdentityRequest {
                request_id: Default::default(),
                identity: first_admin.clone(),
            })
            .await,
        fp,
    );
    for update in [
        pb::UpdateRoleRequest {
            role: role_by_id(&admin_role.id),
            permissions: vec!["Docs:Read".into()],
            ..Default::default()
        },
        pb::UpdateRoleRequest {
            role: role_by_name("Administrator"),
            name: Some("Admin".into()),
            ..Default::default()
        },
        pb::UpdateRoleRequest {
            role: role_by_name("Administrator"),
            description: Some("mine now".into()),
            ..Default::default()
        },
        pb::UpdateRoleRequest {
            role: role_by_name("Administrator"),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["permissions".into()],
            }),
            ..Default::default()
        },
    ] {
        expect_code(roles.update_role(update).await, fp);
    }
    for force in [false, true] {
        expect_code(
            roles
                .delete_role(pb::DeleteRoleRequest {
                    request_id: Default::default(),
                    role: role_by_id(&admin_role.id),
                    force,
                })
                .await,
            fp,
        );
    }
    // No other role can become the built-in one by name.
    let other = create_role(&server, "Helpers", &["Docs:Read"]).await;
    expect_code(
        roles
            .create_role(pb::CreateRoleRequest {
                request_id: Default::default(),
                name: "ADMINISTRATOR".into(),
                description: String::new(),
                permissions: vec!["Docs:Read".into()],
            })
            .await,
        Code::AlreadyExists,
    );
    expect_code(
        roles
            .update_role(pb::UpdateRoleRequest {
                role: role_by_id(&other.id),
                name: Some("administrator".into()),
                ..Default::default()
            })
            .await,
        Code::AlreadyExists,
    );
    // Nothing changed: the admin still holds `*` at the root.
    let now = administrator(&server).await;
    assert_eq!(now.permissions, ["*"]);
    assert_eq!(now.name, "Administrator");
    assert_eq!(admin_assignments(&server).await.len(), 5);
    roles
        .list_roles(pb::ListRolesRequest::default())
        .await
        .expect("the admin key still works");

    // With a second ACTIVE Administrator at the root, the first can go.
    let (second, second_key) = account_with_key(&server, "second-admin", &admin_role, &root).await;
    assignments
        .delete_assignment(pb::DeleteAssignmentRequest {
            id: first.id.clone(),
            ..Default::default()
        })
        .await
        .expect("removing one of two Administrators");
    // The bootstrap key still authenticates, but no longer authorizes.
    expect_denied(
        roles.list_roles(pb::ListRolesRequest::default()).await,
        "Rbacd:Roles:Read",
        "root",
    );
    // The second is now the last one.
    let s = server.clients(Some(&second_key));
    let mut s_assignments = s.assignments.clone();
    let second_grant = s_assignments
        .list_assignments(pb::ListAssignmentsRequest {
            identity: identity_by_id(&second.id),
            role: role_by_name("Administrator"),
            node: node_by_key("root"),
            ..Default::default()
        })
        .await
        .expect("list the second admin's grant")
        .into_inner()
        .assignments
        .pop()
        .expect("the second admin's grant");
    let mut s_identities = s.identities.clone();
    expect_code(
        s_assignments
            .delete_assignment(pb::DeleteAssignmentRequest {
                id: second_grant.id.clone(),
                ..Default::default()
            })
            .await,
        fp,
    );
    expect_code(
        s_identities
            .disable_identity(pb::DisableIdentityRequest {
                request_id: Default::default(),
                identity: identity_by_id(&second.id),
            })
            .await,
        fp,
    );
    expect_code(
        s_identities
            .delete_identity(pb::DeleteIdentityRequest {
                request_id: Default::default(),
                identity: identity_by_id(&second.id),
            })
            .await,
        fp,
    );
    // The first admin, holding nothing now, can be disabled and deleted.
    s_identities
        .disable_identity(pb::DisableIdentityRequest {
            request_id: Default::default(),
            identity: first_admin.clone(),
        })
        .await
        .expect("disable the former admin");
    s_identities
        .delete_identity(pb::DeleteIdentityRequest {
            request_id: Default::default(),
            identity: first_admin,
        })
        .await
        .expect("delete the former admin");
    expect_code(
        server
            .roles()
            .list_roles(pb::ListRolesRequest::default())
            .await,
        Code::Unauthenticated,
    );
}
