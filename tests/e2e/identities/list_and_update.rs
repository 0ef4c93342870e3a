//! ListIdentities (filters, pages) and UpdateIdentity.

use super::*;

#[tokio::test]
async fn list_identities_filters_and_pages() {
    let server = TestServer::start().await;
    let mut identities = server.identities();
    let everyone_before = identities
        .list_identities(pb::ListIdentitiesRequest {
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .identities;

    let mut made: Vec<pb::Identity> = Vec::new();
    for i in 0..3 {
        made.push(create_user(&server, &format!("active{i}@example.co")).await);
    }
    for i in 0..2 {
        made.push(
            identities
                .invite_identity(invite(&format!("invited{i}@example.co"), vec![]))
                .await
                .unwrap()
                .into_inner()
                .identity
                .unwrap(),
        );
    }
    made.push(
        identities
            .create_identity(pb::CreateIdentityRequest {
                assignments: Default::default(),
                request_id: Default::default(),
                kind: pb::IdentityKind::ServiceAccount.into(),
                email: String::new(),
                external_id: "svc|1".into(),
                display_name: "svc".into(),
            })
            .await
            .unwrap()
            .into_inner()
            .identity
            .unwrap(),
    );
    let disabled = identities
        .disable_identity(pb::DisableIdentityRequest {
            request_id: Default::default(),
            identity: identity_by_email("active0@example.co"),
        })
        .await
        .unwrap()
        .into_inner()
        .identity
        .unwrap();
    made[0] = disabled;

    let mut everyone = everyone_before.clone();
    everyone.extend(made.iter().cloned());

    async fn all_pages(
        server: &TestServer,
        status: pb::IdentityStatus,
        kind: pb::IdentityKind,
    ) -> Vec<pb::Identity> {
        let mut client = server.identities();
        let mut out: Vec<pb::Identity> = Vec::new();
        let mut token = String::new();
        loop {
            let page = client
                .list_identities(pb::ListIdentitiesRequest {
                    page_size: 2,
                    page_token: token,
                    status: status.into(),
                    kind: kind.into(),
                })
                .await
                .expect("list identities")
                .into_inner();
            assert!(page.identities.len() <= 2);
            for i in page.identities {
                assert!(out.iter().all(|o| o.id != i.id), "{} listed twice", i.id);
                out.push(i);
            }
            if page.next_page_token.is_empty() {
                return out;
            }
            token = page.next_page_token;
        }
    }
    let ids =
        |list: &[pb::Identity]| -> HashSet<String> { list.iter().map(|i| i.id.clone()).collect() };

    let cases = [
        (
            pb::IdentityStatus::Unspecified,
            pb::IdentityKind::Unspecified,
        ),
        (pb::IdentityStatus::Active, pb::IdentityKind::Unspecified),
        (pb::IdentityStatus::Invited, pb::IdentityKind::Unspecified),
        (pb::IdentityStatus::Disabled, pb::IdentityKind::Unspecified),
        (pb::IdentityStatus::Unspecified, pb::IdentityKind::User),
        (
            pb::IdentityStatus::Unspecified,
            pb::IdentityKind::ServiceAccount,
        ),
        (pb::IdentityStatus::Active, pb::IdentityKind::ServiceAccount),
    ];
    for (status, kind) in cases {
        let expected: Vec<pb::Identity> = everyone
            .iter()
            .filter(|i| status == pb::IdentityStatus::Unspecified || i.status() == status)
            .filter(|i| kind == pb::IdentityKind::Unspecified || i.kind() == kind)
            .cloned()
            .collect();
        let listed = all_pages(&server, status, kind).await;
        assert_eq!(
            ids(&listed),
            ids(&expected),
            "status {status:?}, kind {kind:?}"
        );
        for i in &listed {
            let want = expected.iter().find(|e| e.id == i.id).unwrap();
            assert_eq!(i, want);
        }
    }

    expect_invalid(
        identities
            .list_identities(pb::ListIdentitiesRequest {
                page_size: -5,
                ..Default::default()
            })
            .await,
        "page_size",
    );
    expect_invalid(
        identities
            .list_identities(pb::ListIdentitiesRequest {
                page_token: "not-a-token".into(),
                ..Default::default()
            })
            .await,
        "page_token",
    );
    expect_invalid(
        identities
            .list_identities(pb::ListIdentitiesRequest {
                kind: 99,
                ..Default::default()
            })
            .await,
        "kind",
    );
    expect_invalid(
        identities
            .list_identities(pb::ListIdentitiesRequest {
                status: 99,
                ..Default::default()
            })
            .await,
        "status",
    );
}

#[tokio::test]
async fn update_identity_changes_and_clears_fields() {
    let server = TestServer::start().await;
    let mut identities = server.identities();
    let created = identities
        .create_identity(pb::CreateIdentityRequest {
            external_id: "auth0|7".into(),
            display_name: "Old Name".into(),
            ..user("old@example.co")
        })
        .await
        .unwrap()
        .into_inner();
    let original = created.identity.unwrap();
    let mut revision = created.revision;

    let renamed = identities
        .update_identity(pb::UpdateIdentityRequest {
            display_name: Some("New Name".into()),
            ..update(identity_by_email("OLD@example.co"))
        })
        .await
        .expect("rename")
        .into_inner();
    assert!(renamed.revision > revision);
    revision = renamed.revision;
    let renamed = renamed.identity.unwrap();
    assert_eq!(renamed.display_name, "New Name");
    assert_eq!(renamed.email, original.email);
    assert_eq!(renamed.external_id, original.external_id);
    assert_eq!(renamed.status, original.status);
    assert_eq!(renamed.create_time, original.create_time);
    assert!(micros(&renamed.update_time) >= micros(&original.update_time));

    // Change the email: found by the new one, not the old one.
    let moved = identities
        .update_identity(pb::UpdateIdentityRequest {
            email: Some("New@Example.co".into()),
            ..update(identity_by_id(&original.id))
        })
        .await
        .expect("change email")
        .into_inner();
    assert!(moved.revision > revision);
    revision = moved.revision;
    assert_eq!(moved.identity.unwrap().email, "New@Example.co");
    assert_eq!(
        get(&server, identity_by_email("new@example.co")).await.id,
        original.id
    );
    expect_not_found(
        identities
            .get_identity(pb::GetIdentityRequest {
                identity: identity_by_email("old@example.co"),
            })
            .await,
        "old@example.co",
    );
    // The old email is free again.
    create_user(&server, "old@example.co").await;

    // Clear email and external id.
    let cleared = identities
        .update_identity(pb::UpdateIdentityRequest {
            email: Some(String::new()),
            external_id: Some(String::new()),
            ..update(identity_by_id(&original.id))
        })
        .await
        .expect("clear email and external id")
        .into_inner();
    assert!(cleared.revision > revision);
    let cleared = cleared.identity.unwrap();
    assert_eq!(cleared.email, "");
    assert_eq!(cleared.external_id, "");
    assert_eq!(cleared.display_name, "New Name");
    assert_eq!(get(&server, identity_by_id(&original.id)).await, cleared);
    for gone in [
        identity_by_email("new@example.co"),
        identity_by_external_id("auth0|7"),
    ] {
        expect_code(
            identities
                .get_identity(pb::GetIdentityRequest { identity: gone })
                .await,
            Code::NotFound,
        );
    }

    // Its own email in another case is not a duplicate.
    let recased = identities
        .update_identity(pb::UpdateIdentityRequest {
            email: Some("jane.doe@example.co".into()),
            ..update(identity_by_id(&original.id))
        })
        .await
        .expect("set an email")
        .into_inner()
        .identity
        .unwrap();
    let recased2 = identities
        .update_identity(pb::UpdateIdentityRequest {
            email: Some("JANE.DOE@example.co".into()),
            ..update(identity_by_id(&original.id))
        })
        .await
        .expect("re-case its own email")
        .into_inner()
        .identity
        .unwrap();
    assert_eq!(recased.id, recased2.id);
    assert_eq!(recased2.email, "JANE.DOE@example.co");

    // Set a new external id.
    let ext = identities
        .update_identity(pb::UpdateIdentityRequest {
            external_id: Some("okta|9".into()),
            ..update(identity_by_id(&original.id))
        })
        .await
        .expect("set external id")
        .into_inner()
        .identity
        .unwrap();
    assert_eq!(ext.external_id, "okta|9");
    assert_eq!(
        get(&server, identity_by_external_id("okta|9")).await.id,
        original.id
    );
}

#[tokio::test]
async fn update_identity_errors() {
    let server = TestServer::start().await;
    let mut identities = server.identities();
    let jane = identities
        .create_identity(pb::CreateIdentityRequest {
            external_id: "auth0|jane".into(),
            ..user("jane@example.co")
        })
        .await
        .unwrap()
        .into_inner()
        .identity
        .unwrap();
    create_user(&server, "john@example.co").await;

    expect_code(
        identities
            .update_identity(pb::UpdateIdentityRequest {
                email: Some("JOHN@example.co".into()),
                ..update(identity_by_id(&jane.id))
            })
            .await,
        Code::AlreadyExists,
    );
    expect_code(
        identities
            .update_identity(pb::UpdateIdentityRequest {
                external_id: Some("auth0|jane".into()),
                ..update(identity_by_email("john@example.co"))
            })
            .await,
        Code::AlreadyExists,
    );
    expect_invalid(
        identities
            .update_identity(pb::UpdateIdentityRequest {
                email: Some("no-at-sign".into()),
                ..update(identity_by_id(&jane.id))
            })
            .await,
        "email",
    );
    expect_invalid(
        identities
            .update_identity(pb::UpdateIdentityRequest {
                display_name: Some("x".repeat(257)),
                ..update(identity_by_id(&jane.id))
            })
            .await,
        "display_name",
    );
    expect_invalid(
        identities
            .update_identity(pb::UpdateIdentityRequest {
                external_id: Some("x".repeat(257)),
                ..update(identity_by_id(&jane.id))
            })
            .await,
        "external_id",
    );
    expect_not_found(
        identities
            .update_identity(pb::UpdateIdentityRequest {
                display_name: Some("x".into()),
                ..update(identity_by_email("nobody@example.co"))
            })
            .await,
        "nobody@example.co",
    );
    expect_invalid(
        identities
            .update_identity(pb::UpdateIdentityRequest {
                display_name: Some("x".into()),
                ..update(None)
            })
            .await,
        "identity",
    );
    // Nothing to change.
    expect_code(
        identities
            .update_identity(update(identity_by_id(&jane.id)))
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(get(&server, identity_by_id(&jane.id)).await, jane);
}
