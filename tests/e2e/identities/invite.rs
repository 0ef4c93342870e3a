//! InviteIdentity: the identity and its assignments atomically, or nothing.

use super::*;

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
