//! IdentityService end to end (the API-key RPCs excepted): every RPC, its
//! success path and its error paths.

use std::collections::HashSet;

use crate::support::*;
use rbacd::proto::v1 as pb;
use tonic::Code;

fn user(email: &str) -> pb::CreateIdentityRequest {
    pb::CreateIdentityRequest {
        kind: pb::IdentityKind::User.into(),
        email: email.into(),
        external_id: String::new(),
        display_name: String::new(),
    }
}

fn invite(email: &str, assignments: Vec<pb::InitialAssignment>) -> pb::InviteIdentityRequest {
    pb::InviteIdentityRequest {
        kind: pb::IdentityKind::User.into(),
        email: email.into(),
        external_id: String::new(),
        display_name: String::new(),
        assignments,
    }
}

fn initial(role: &str, node: &str) -> pb::InitialAssignment {
    pb::InitialAssignment {
        node: node_by_key(node),
        role: role_by_name(role),
        effective_from: None,
        effective_to: None,
    }
}

fn update(identity: Option<pb::IdentityRef>) -> pb::UpdateIdentityRequest {
    pb::UpdateIdentityRequest {
        identity,
        display_name: None,
        email: None,
        external_id: None,
    }
}

async fn get(server: &TestServer, identity: Option<pb::IdentityRef>) -> pb::Identity {
    server
        .identities()
        .get_identity(pb::GetIdentityRequest { identity })
        .await
        .expect("get identity")
        .into_inner()
        .identity
        .expect("an identity")
}

#[tokio::test]
async fn create_and_get_identity() {
    let server = TestServer::start().await;
    let mut identities = server.identities();

    let created = identities
        .create_identity(pb::CreateIdentityRequest {
            kind: pb::IdentityKind::Unspecified.into(),
            email: "JDoe@Example.co".into(),
            external_id: "auth0|123456789".into(),
            display_name: "Jane Doe".into(),
        })
        .await
        .expect("create identity")
        .into_inner();
    let jane = created.identity.expect("the identity");
    assert!(is_uuid(&jane.id));
    // UNSPECIFIED is taken as USER; CreateIdentity makes it ACTIVE.
    assert_eq!(jane.kind(), pb::IdentityKind::User);
    assert_eq!(jane.status(), pb::IdentityStatus::Active);
    assert_eq!(jane.email, "JDoe@Example.co", "stored as written");
    assert_eq!(jane.external_id, "auth0|123456789");
    assert_eq!(jane.display_name, "Jane Doe");
    assert!(jane.create_time.is_some() && jane.update_time.is_some());
    assert!(created.revision > 0);

    let bot = identities
        .create_identity(pb::CreateIdentityRequest {
            kind: pb::IdentityKind::ServiceAccount.into(),
            email: String::new(),
            external_id: String::new(),
            display_name: "build bot".into(),
        })
        .await
        .expect("a service account needs no email")
        .into_inner();
    assert!(bot.revision > created.revision);
    let bot = bot.identity.unwrap();
    assert_eq!(bot.kind(), pb::IdentityKind::ServiceAccount);
    assert_eq!(bot.status(), pb::IdentityStatus::Active);
    assert_eq!(bot.email, "");
    assert_eq!(bot.external_id, "");

    // By id, email in any case, external id.
    for r in [
        identity_by_id(&jane.id),
        identity_by_email("jdoe@example.co"),
        identity_by_email("JDOE@EXAMPLE.CO"),
        identity_by_external_id("auth0|123456789"),
    ] {
        assert_eq!(get(&server, r).await, jane);
    }
    assert_eq!(get(&server, identity_by_id(&bot.id)).await, bot);

    // Only a USER's email needs the user@domain form.
    let svc = identities
        .create_identity(pb::CreateIdentityRequest {
            kind: pb::IdentityKind::ServiceAccount.into(),
            email: "build-bot".into(),
            external_id: String::new(),
            display_name: String::new(),
        })
        .await
        .expect("a service account's email is free-form")
        .into_inner()
        .identity
        .unwrap();
    assert_eq!(svc.email, "build-bot");

    // Limits: 256 characters are fine.
    let long_local = format!("{}@example.co", "a".repeat(256 - "@example.co".len()));
    let long = identities
        .create_identity(pb::CreateIdentityRequest {
            kind: pb::IdentityKind::User.into(),
            email: long_local.clone(),
            external_id: "e".repeat(256),
            display_name: "d".repeat(256),
        })
        .await
        .expect("256-character fields")
        .into_inner()
        .identity
        .unwrap();
    assert_eq!(long.email, long_local);
}

#[tokio::test]
async fn create_identity_refuses_bad_input() {
    let server = TestServer::start().await;
    let mut identities = server.identities();
    for bad in ["jdoe", "@example.co", "jdoe@", "a@b@c", "j doe@example.co"] {
        let status = expect_invalid(identities.create_identity(user(bad)).await, "email");
        assert!(status.message().contains("email"), "{}", status.message());
    }
    let too_long = format!("{}@example.co", "a".repeat(257 - "@example.co".len()));
    let status = expect_invalid(identities.create_identity(user(&too_long)).await, "email");
    assert!(status.message().contains("256"), "{}", status.message());
    expect_invalid(
        identities
            .create_identity(pb::CreateIdentityRequest {
                external_id: "x".repeat(257),
                ..user("ok@example.co")
            })
            .await,
        "external_id",
    );
    expect_invalid(
        identities
            .create_identity(pb::CreateIdentityRequest {
                display_name: "x".repeat(257),
                ..user("ok@example.co")
            })
            .await,
        "display_name",
    );
    expect_invalid(
        identities
            .create_identity(pb::CreateIdentityRequest {
                kind: 42,
                ..user("ok@example.co")
            })
            .await,
        "kind",
    );
    // Nothing was created.
    expect_not_found(
        identities
            .get_identity(pb::GetIdentityRequest {
                identity: identity_by_email("ok@example.co"),
            })
            .await,
        "ok@example.co",
    );
}

#[tokio::test]
async fn emails_and_external_ids_are_unique() {
    let server = TestServer::start().await;
    let mut identities = server.identities();
    let first = identities
        .create_identity(pb::CreateIdentityRequest {
            external_id: "auth0|1".into(),
            ..user("jdoe@example.co")
        })
        .await
        .unwrap()
        .into_inner()
        .identity
        .unwrap();

    for email in ["jdoe@example.co", "JDoe@Example.CO"] {
        let status = expect_code(
            identities.create_identity(user(email)).await,
            Code::AlreadyExists,
        );
        assert!(
            status.message().to_lowercase().contains("jdoe@example.co"),
            "{}",
            status.message()
        );
    }
    let status = expect_code(
        identities
            .create_identity(pb::CreateIdentityRequest {
                external_id: "auth0|1".into(),
                ..user("other@example.co")
            })
            .await,
        Code::AlreadyExists,
    );
    assert!(status.message().contains("auth0|1"), "{}", status.message());
    // Nothing of the refused identity remains.
    expect_not_found(
        identities
            .get_identity(pb::GetIdentityRequest {
                identity: identity_by_email("other@example.co"),
            })
            .await,
        "other@example.co",
    );
    // External ids are matched exactly: another case is another id.
    let other = identities
        .create_identity(pb::CreateIdentityRequest {
            external_id: "AUTH0|1".into(),
            ..user("other@example.co")
        })
        .await
        .expect("external ids are case-sensitive")
        .into_inner()
        .identity
        .unwrap();
    assert_ne!(other.id, first.id);
    assert_eq!(
        get(&server, identity_by_external_id("auth0|1")).await,
        first
    );
    assert_eq!(
        get(&server, identity_by_external_id("AUTH0|1")).await,
        other
    );
}

#[tokio::test]
async fn get_identity_errors() {
    let server = TestServer::start().await;
    let mut identities = server.identities();
    expect_not_found(
        identities
            .get_identity(pb::GetIdentityRequest {
                identity: identity_by_email("ghost@example.co"),
            })
            .await,
        "ghost@example.co",
    );
    expect_not_found(
        identities
            .get_identity(pb::GetIdentityRequest {
                identity: identity_by_external_id("auth0|ghost"),
            })
            .await,
        "auth0|ghost",
    );
    let missing = uuid::Uuid::new_v4().to_string();
    expect_not_found(
        identities
            .get_identity(pb::GetIdentityRequest {
                identity: identity_by_id(&missing),
            })
            .await,
        &missing,
    );
    let status = expect_code(
        identities
            .get_identity(pb::GetIdentityRequest {
                identity: identity_by_id("12345"),
            })
            .await,
        Code::InvalidArgument,
    );
    assert!(
        violated_fields(&status)
            .iter()
            .any(|f| f.starts_with("identity")),
        "{status:?}"
    );
    expect_invalid(
        identities
            .get_identity(pb::GetIdentityRequest { identity: None })
            .await,
        "identity",
    );
}

#[tokio::test]
async fn invite_creates_identity_and_assignments_atomically() {
    let server = TestServer::start().await;
    let mut identities = server.identities();
    let reader = create_role(&server, "Wallet_Read_User", &["Wallets:Read"]).await;
    let writer = create_role(&server, "Wallet_Write_User", &["Wallets:Write"]).await;
    let payments = create_node(&server, "payments", None).await;
    let wallet = create_node(&server, "wallet:42", Some("payments")).await;

    let (from, to) = (from_now(3600), from_now(7200));
    let invited = identities
        .invite_identity(pb::InviteIdentityRequest {
            display_name: "J. Doe".into(),
            ..invite(
                "jdoe@example.co",
                vec![
                    initial("wallet_read_user", "payments"),
                    pb::InitialAssignment {
                        effective_from: from,
                        effective_to: to,
                        ..initial("Wallet_Write_User", "wallet:42")
                    },
                ],
            )
        })
        .await
        .expect("invite")
        .into_inner();
    let jdoe = invited.identity.expect("the identity");
    assert_eq!(jdoe.status(), pb::IdentityStatus::Invited);
    assert_eq!(jdoe.kind(), pb::IdentityKind::User);
    assert_eq!(jdoe.email, "jdoe@example.co");
    assert_eq!(jdoe.display_name, "J. Doe");
    assert!(invited.revision > 0);
    assert_eq!(invited.assignments.len(), 2);
    let (a0, a1) = (&invited.assignments[0], &invited.assignments[1]);
    assert_eq!(a0.identity_id, jdoe.id);
    assert_eq!((&a0.role_id, &a0.role_name), (&reader.id, &reader.name));
    assert_eq!((&a0.node_id, &a0.node_key), (&payments.id, &payments.key));
    assert_eq!(a0.state(), pb::AssignmentState::Active);
    assert_eq!((&a1.role_id, &a1.node_id), (&writer.id, &wallet.id));
    assert_eq!(a1.state(), pb::AssignmentState::Pending);
    assert_eq!((a1.effective_from, a1.effective_to), (from, to));
    assert_eq!((a0.effective_from, a0.effective_to), (None, None));

    // They are stored.
    assert_eq!(get(&server, identity_by_id(&jdoe.id)).await, jdoe);
    let held = list_all_assignments(
        &server,
        pb::ListAssignmentsRequest {
            identity: identity_by_id(&jdoe.id),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        sorted_ids(held.iter().map(|a| a.id.as_str())),
        sorted_ids([a0.id.as_str(), a1.id.as_str()])
    );

    // An invite without assignments is fine, and is a later revision.
    let plain = identities
        .invite_identity(invite("plain@example.co", vec![]))
        .await
        .expect("invite without assignments")
        .into_inner();
    assert!(plain.revision > invited.revision);
    assert!(plain.assignments.is_empty());
    assert_eq!(
        plain.identity.unwrap().status(),
        pb::IdentityStatus::Invited
    );
}

#[tokio::test]
async fn a_failed_invite_leaves_nothing_behind() {
    let server = TestServer::start().await;
    let mut identities = server.identities();
    create_role(&server, "Reader", &["Docs:Read"]).await;
    create_node(&server, "docs", None).await;
    let before = list_all_assignments(&server, pb::ListAssignmentsRequest::default()).await;

    // The second assignment names a role that does not exist.
    let status = expect_not_found(
        identities
            .invite_identity(invite(
                "ghost@example.co",
                vec![initial("Reader", "docs"), initial("No_Such_Role", "docs")],
            ))
            .await,
        "No_Such_Role",
    );
    assert!(
        status.message().contains("assignments[1]"),
        "the message names the item: {}",
        status.message()
    );
    // ... or a node that does not exist.
    expect_not_found(
        identities
            .invite_identity(invite(
                "ghost@example.co",
                vec![initial("Reader", "docs"), initial("Reader", "no-such-node")],
            ))
            .await,
        "no-such-node",
    );
    // ... or the same role twice at the same node.
    expect_code(
        identities
            .invite_identity(invite(
                "ghost@example.co",
                vec![initial("Reader", "docs"), initial("READER", "docs")],
            ))
            .await,
        Code::AlreadyExists,
    );
    expect_not_found(
        identities
            .get_identity(pb::GetIdentityRequest {
                identity: identity_by_email("ghost@example.co"),
            })
            .await,
        "ghost@example.co",
    );
    let after = list_all_assignments(&server, pb::ListAssignmentsRequest::default()).await;
    assert_eq!(
        sorted_ids(after.iter().map(|a| a.id.as_str())),
        sorted_ids(before.iter().map(|a| a.id.as_str()))
    );

    // Malformed items are INVALID_ARGUMENT naming the item's field.
    expect_invalid(
        identities
            .invite_identity(invite(
                "ghost@example.co",
                vec![
                    initial("Reader", "docs"),
                    pb::InitialAssignment {
                        effective_from: from_now(100),
                        effective_to: from_now(100),
                        ..initial("Reader", "docs")
                    },
                ],
            ))
            .await,
        "assignments[1].effective_to",
    );
    expect_invalid(
        identities
            .invite_identity(invite(
                "ghost@example.co",
                vec![pb::InitialAssignment {
                    node: None,
                    ..initial("Reader", "docs")
                }],
            ))
            .await,
        "assignments[0].node",
    );
    expect_invalid(
        identities
            .invite_identity(invite(
                "ghost@example.co",
                vec![pb::InitialAssignment {
                    role: role_by_id("nope"),
                    ..initial("Reader", "docs")
                }],
            ))
            .await,
        "assignments[0].role",
    );
    let status = expect_invalid(
        identities
            .invite_identity(invite(
                "ghost@example.co",
                (0..1001).map(|_| initial("Reader", "docs")).collect(),
            ))
            .await,
        "assignments",
    );
    assert!(status.message().contains("1000"), "{}", status.message());
    expect_invalid(
        identities.invite_identity(invite("ghost", vec![])).await,
        "email",
    );
    // A taken email.
    create_user(&server, "taken@example.co").await;
    expect_code(
        identities
            .invite_identity(invite("TAKEN@example.co", vec![initial("Reader", "docs")]))
            .await,
        Code::AlreadyExists,
    );
    expect_not_found(
        identities
            .get_identity(pb::GetIdentityRequest {
                identity: identity_by_email("ghost@example.co"),
            })
            .await,
        "ghost@example.co",
    );
    let after = list_all_assignments(&server, pb::ListAssignmentsRequest::default()).await;
    assert_eq!(after.len(), before.len());
}

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
                identity: identity_by_id(&id),
            })
            .await,
        Code::FailedPrecondition,
    );
    assert!(status.message().contains("ACTIVE"), "{}", status.message());
    // ACTIVE -> DISABLED
    let disabled = identities
        .disable_identity(pb::DisableIdentityRequest {
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
                identity: identity_by_id(&missing),
            })
            .await,
        &missing,
    );
    expect_not_found(
        identities
            .disable_identity(pb::DisableIdentityRequest {
                identity: identity_by_id(&missing),
            })
            .await,
        &missing,
    );
    expect_invalid(
        identities
            .activate_identity(pb::ActivateIdentityRequest {
                identity: identity_by_id("bad"),
            })
            .await,
        "identity",
    );
    expect_invalid(
        identities
            .disable_identity(pb::DisableIdentityRequest { identity: None })
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
                identity: identity_by_id(&lone.id),
            })
            .await,
        &lone.id,
    );
    expect_invalid(
        identities
            .delete_identity(pb::DeleteIdentityRequest {
                identity: identity_by_id("xyz"),
            })
            .await,
        "identity",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_identical_creates_yield_one_winner() {
    let server = TestServer::start().await;
    let calls = (0..32).map(|i| {
        let mut identities = server.identities();
        let email = if i % 2 == 0 {
            "racer@example.co"
        } else {
            "RACER@example.co"
        };
        tokio::spawn(async move { identities.create_identity(user(email)).await })
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
}
