//! Activate, Disable and DeleteIdentity.

use super::*;

#[tokio::test]
async fn status_moves_between_invited_active_and_disabled() {
    let server = TestServer::start().await;
    let mut identities = server.identities();
    let invited = identities
        .invite_identity(invite("new@example.co", vec![]))
        .await
        .unwrap()
        .into_inner();
    let id = invited.identity.unwrap().id;
    let mut revision = invited.revision;

    // INVITED -> ACTIVE
    let activated = identities
        .activate_identity(pb::ActivateIdentityRequest {
            request_id: Default::default(),
            identity: identity_by_id(&id),
        })
        .await
        .expect("activate an invited identity")
        .into_inner();
    assert!(activated.revision > revision);
    revision = activated.revision;
    assert_eq!(
        activated.identity.unwrap().status(),
        pb::IdentityStatus::Active
    );
    // ACTIVE -> ACTIVE is refused.
    let status = expect_code(
        identities
            .activate_identity(pb::ActivateIdentityRequest {
                request_id: Default::default(),
                identity: identity_by_id(&id),
            })
            .await,
        Code::FailedPrecondition,
    );
    assert!(status.message().contains("ACTIVE"), "{}", status.message());
    // ACTIVE -> DISABLED
    let disabled = identities
        .disable_identity(pb::DisableIdentityRequest {
            request_id: Default::default(),
            identity: identity_by_email("NEW@example.co"),
        })
        .await
        .expect("disable")
        .into_inner();
    assert!(disabled.revision > revision);
    revision = disabled.revision;
    assert_eq!(
        disabled.identity.unwrap().status(),
        pb::IdentityStatus::Disabled
    );
    // DISABLED -> DISABLED is refused.
    let status = expect_code(
        identities
            .disable_identity(pb::DisableIdentityRequest {
                request_id: Default::default(),
                identity: identity_by_id(&id),
            })
            .await,
        Code::FailedPrecondition,
    );
    assert!(
        status.message().contains("DISABLED"),
        "{}",
        status.message()
    );
    assert_eq!(
        get(&server, identity_by_id(&id)).await.status(),
        pb::IdentityStatus::Disabled
    );
    // DISABLED -> ACTIVE
    let again = identities
        .activate_identity(pb::ActivateIdentityRequest {
            request_id: Default::default(),
            identity: identity_by_id(&id),
        })
        .await
        .expect("re-activate")
        .into_inner();
    assert!(again.revision > revision);
    assert_eq!(again.identity.unwrap().status(), pb::IdentityStatus::Active);

    // INVITED -> DISABLED
    let other = identities
        .invite_identity(invite("other@example.co", vec![]))
        .await
        .unwrap()
        .into_inner()
        .identity
        .unwrap();
    let disabled = identities
        .disable_identity(pb::DisableIdentityRequest {
            request_id: Default::default(),
            identity: identity_by_id(&other.id),
        })
        .await
        .expect("disable an invited identity")
        .into_inner()
        .identity
        .unwrap();
    assert_eq!(disabled.status(), pb::IdentityStatus::Disabled);

    let missing = uuid::Uuid::new_v4().to_string();
    expect_not_found(
        identities
            .activate_identity(pb::ActivateIdentityRequest {
                request_id: Default::default(),
                identity: identity_by_id(&missing),
            })
            .await,
        &missing,
    );
    expect_not_found(
        identities
            .disable_identity(pb::DisableIdentityRequest {
                request_id: Default::default(),
                identity: identity_by_id(&missing),
            })
            .await,
        &missing,
    );
    expect_invalid(
        identities
            .activate_identity(pb::ActivateIdentityRequest {
                request_id: Default::default(),
                identity: identity_by_id("bad"),
            })
            .await,
        "identity",
    );
    expect_invalid(
        identities
            .disable_identity(pb::DisableIdentityRequest {
                request_id: Default::default(),
                identity: None,
            })
            .await,
        "identity",
    );
}

#[tokio::test]
async fn delete_identity_removes_its_assignments() {
    let server = TestServer::start().await;
    let mut identities = server.identities();
    let mut assignments = server.assignments();
    let role = create_role(&server, "Reader", &["Docs:Read"]).await;
    let other_role = create_role(&server, "Writer", &["Docs:Write"]).await;
    let docs = create_node(&server, "docs", None).await;
    let leaving = create_user(&server, "leaving@example.co").await;
    let staying = create_user(&server, "staying@example.co").await;
    let gone1 = assign(&server, &leaving, &role, &docs).await;
    let gone2 = assign(&server, &leaving, &other_role, &docs).await;
    let kept = assign(&server, &staying, &role, &docs).await;

    let deleted = identities
        .delete_identity(pb::DeleteIdentityRequest {
            request_id: Default::default(),
            identity: identity_by_email("Leaving@example.co"),
        })
        .await
        .expect("delete identity")
        .into_inner();
    assert_eq!(deleted.identity.as_ref(), Some(&leaving));
    assert_eq!(deleted.deleted_assignments, 2);
    assert!(deleted.revision > 0);
    expect_not_found(
        identities
            .get_identity(pb::GetIdentityRequest {
                identity: identity_by_id(&leaving.id),
            })
            .await,
        &leaving.id,
    );
    for a in [&gone1, &gone2] {
        expect_not_found(
            assignments
                .get_assignment(pb::GetAssignmentRequest { id: a.id.clone() })
                .await,
            &a.id,
        );
    }
    assignments
        .get_assignment(pb::GetAssignmentRequest {
            id: kept.id.clone(),
        })
        .await
        .expect("another identity's assignment stays");

    // Without assignments.
    let lone = create_user(&server, "lone@example.co").await;
    let second = identities
        .delete_identity(pb::DeleteIdentityRequest {
            request_id: Default::default(),
            identity: identity_by_id(&lone.id),
        })
        .await
        .expect("delete")
        .into_inner();
    assert_eq!(second.deleted_assignments, 0);
    assert!(second.revision > deleted.revision);
    // The email can be used again.
    create_user(&server, "leaving@example.co").await;

    expect_not_found(
        identities
            .delete_identity(pb::DeleteIdentityRequest {
                request_id: Default::default(),
                identity: identity_by_id(&lone.id),
            })
            .await,
        &lone.id,
    );
    expect_invalid(
        identities
            .delete_identity(pb::DeleteIdentityRequest {
                request_id: Default::default(),
                identity: identity_by_id("xyz"),
            })
            .await,
        "identity",
    );
}
