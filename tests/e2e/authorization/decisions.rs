//! Check decisions: inheritance and the nearest grant, patterns, denial
//! reasons; a malformed unary check is INVALID_ARGUMENT.

use super::*;

#[tokio::test]
async fn inheritance_and_the_nearest_grant() {
    let server = TestServer::start().await;
    let client = server.authorization();
    let root = root(&server).await;
    let org = create_node(&server, "org", None).await;
    let team = create_node(&server, "team", Some("org")).await;
    let project = create_node(&server, "project", Some("team")).await;
    create_node(&server, "repo", Some("project")).await;
    let viewer = create_role(&server, "Viewer", &["Docs:Read"]).await;
    let editor = create_role(&server, "Editor", &["Docs:Read", "Docs:Write"]).await;
    let owner = create_role(&server, "Owner", &["Docs:*"]).await;
    let jane = create_user(&server, "jane@example.com").await;
    let at_org = assign(&server, &jane, &viewer, &org).await;
    let at_project = assign(&server, &jane, &editor, &project).await;
    let at_root = assign(&server, &jane, &owner, &root).await;

    #[track_caller]
    fn granted_by(
        resp: &pb::CheckResponse,
        a: &pb::Assignment,
        role: &pb::Role,
        node: &pb::Node,
        matched: &str,
    ) {
        assert_allowed(resp);
        let g = resp.granted_by.as_ref().expect("granted_by");
        assert_eq!(g.assignment_id, a.id, "{resp:?}");
        assert_eq!(g.role_id, role.id);
        assert_eq!(g.role_name, role.name);
        assert_eq!(g.node_id, node.id);
        assert_eq!(g.node_key, node.key);
        assert_eq!(g.matched_permission, matched);
        // The text names the assignment, the role and the node.
        for part in [&a.id, &role.name, &node.key] {
            assert!(resp.reason.contains(part.as_str()), "{}", resp.reason);
        }
    }

    let read_at = |node: &str| ask_key(&jane, "Docs:Read", node);
    granted_by(
        &check(&client, read_at("repo")).await,
        &at_project,
        &editor,
        &project,
        "Docs:Read",
    );
    granted_by(
        &check(&client, read_at("project")).await,
        &at_project,
        &editor,
        &project,
        "Docs:Read",
    );
    granted_by(
        &check(&client, read_at("team")).await,
        &at_org,
        &viewer,
        &org,
        "Docs:Read",
    );
    granted_by(
        &check(&client, read_at("org")).await,
        &at_org,
        &viewer,
        &org,
        "Docs:Read",
    );
    granted_by(
        &check(&client, read_at("root")).await,
        &at_root,
        &owner,
        &root,
        "Docs:*",
    );
    granted_by(
        &check(&client, ask_key(&jane, "Docs:Write", "team")).await,
        &at_root,
        &owner,
        &root,
        "Docs:*",
    );
    granted_by(
        &check(&client, ask_key(&jane, "Docs:Write", "repo")).await,
        &at_project,
        &editor,
        &project,
        "Docs:Write",
    );
    granted_by(
        &check(&client, ask_key(&jane, "Docs:Delete", "repo")).await,
        &at_root,
        &owner,
        &root,
        "Docs:*",
    );

    // Two grants on the nearest node: the smaller assignment id is named.
    let second = assign(&server, &jane, &viewer, &project).await;
    let first = if second.id < at_project.id {
        (&second, &viewer)
    } else {
        (&at_project, &editor)
    };
    granted_by(
        &check(&client, read_at("repo")).await,
        first.0,
        first.1,
        &project,
        "Docs:Read",
    );

    // No grant on the path from the node to the root: denied, and the text says so.
    let bob = create_user(&server, "bob@example.com").await;
    assign(&server, &bob, &viewer, &team).await;
    let other = create_node(&server, "other", Some("org")).await;
    let resp = check(&client, ask_key(&bob, "Docs:Read", "other")).await;
    assert_denied(&resp, pb::DecisionReason::NoMatchingAssignment);
    assert!(resp.reason.contains("Docs:Read"), "{}", resp.reason);
    assert_allowed(&check(&client, ask_key(&bob, "Docs:Read", "repo")).await);
    assert_denied(
        &check(&client, ask_key(&bob, "Docs:Read", "org")).await,
        pb::DecisionReason::NoMatchingAssignment,
    );
    let _ = other;
}

#[tokio::test]
async fn trailing_star_patterns_and_star() {
    let server = TestServer::start().await;
    let client = server.authorization();
    let root = root(&server).await;
    let wallets = create_role(&server, "WalletsAll", &["Wallets:*"]).await;
    let everything = create_role(&server, "Everything", &["*"]).await;
    let mixed = create_role(
        &server,
        "Mixed",
        &["Wallets:*", "Wallets:Keys:*", "Wallets:Read"],
    )
    .await;
    let bob = create_user(&server, "bob@example.com").await;
    let carol = create_user(&server, "carol@example.com").await;
    let dave = create_user(&server, "dave@example.com").await;
    assign(&server, &bob, &wallets, &root).await;
    assign(&server, &carol, &everything, &root).await;
    assign(&server, &dave, &mixed, &root).await;
    create_node(&server, "wallet:1", None).await;

    let cases: &[(&pb::Identity, &str, Option<&str>)] = &[
        (&bob, "Wallets:Read", Some("Wallets:*")),
        (&bob, "Wallets:Keys:Rotate", Some("Wallets:*")),
        (&bob, "Wallets", None),
        (&bob, "WalletsX:Read", None),
        (&bob, "Wallet:Read", None),
        (&bob, "Other:Wallets:Read", None),
        (&carol, "Wallets", Some("*")),
        (&carol, "Anything:At:All", Some("*")),
        (&carol, "Rbacd:Check", Some("*")),
        (&dave, "Wallets:Read", Some("Wallets:Read")),
        (&dave, "Wallets:Write", Some("Wallets:*")),
        (&dave, "Wallets:Keys:Rotate", Some("Wallets:Keys:*")),
        (&dave, "Wallets:Keys", Some("Wallets:*")),
        (&dave, "Wallets", None),
    ];
    for &(who, permission, matched) in cases {
        let resp = check(&client, ask_key(who, permission, "wallet:1")).await;
        match matched {
            Some(pattern) => {
                assert_allowed(&resp);
                assert_eq!(
                    resp.granted_by.as_ref().unwrap().matched_permission,
                    pattern,
                    "{} asking {permission}",
                    who.email
                );
            }
            None => assert_denied(&resp, pb::DecisionReason::NoMatchingAssignment),
        }
    }
    // A pattern is not a permission one may ask about.
    let status = expect_invalid(
        client
            .clone()
            .check(ask_key(&carol, "Wallets:*", "wallet:1"))
            .await,
        "permission",
    );
    assert!(status.message().contains("Wallets:*"), "{status:?}");
    expect_invalid(
        client.clone().check(ask_key(&carol, "*", "wallet:1")).await,
        "permission",
    );
}

#[tokio::test]
async fn denials_carry_their_reason_never_an_error_status() {
    let server = TestServer::start().await;
    let client = server.authorization();
    let root = root(&server).await;
    let role = create_role(&server, "Reader", &["Docs:Read"]).await;
    let active = server
        .identities()
        .create_identity(pb::CreateIdentityRequest {
            assignments: Default::default(),
            request_id: Default::default(),
            kind: pb::IdentityKind::User.into(),
            email: "Active@Example.com".into(),
            external_id: "auth0|active".into(),
            display_name: String::new(),
        })
        .await
        .expect("create identity")
        .into_inner()
        .identity
        .unwrap();
    assign(&server, &active, &role, &root).await;
    let disabled = create_user(&server, "disabled@example.com").await;
    assign(&server, &disabled, &role, &root).await;
    set_active(&server, &disabled, false).await;
    let invited = server
        .identities()
        .invite_identity(pb::InviteIdentityRequest {
            request_id: Default::default(),
            kind: pb::IdentityKind::User.into(),
            email: "invited@example.com".into(),
            external_id: String::new(),
            display_name: String::new(),
            assignments: vec![pb::InitialAssignment {
                node: node_by_key("root"),
                role: role_by_name("reader"),
                effective_from: None,
                effective_to: None,
            }],
        })
        .await
        .expect("invite")
        .into_inner()
        .identity
        .unwrap();
    assert_eq!(invited.status(), pb::IdentityStatus::Invited);
    create_node(&server, "docs", None).await;

    use pb::DecisionReason::*;
    let unknown_id = uuid::Uuid::new_v4().to_string();
    let cases: Vec<(pb::CheckRequest, pb::DecisionReason)> = vec![
        (ask_key(&active, "Docs:Read", "docs"), Granted),
        (
            ask(
                identity_by_email("ACTIVE@example.COM"),
                "Docs:Read",
                node_by_key("docs"),
            ),
            Granted,
        ),
        (
            ask(
                identity_by_external_id("auth0|active"),
                "Docs:Read",
                node_by_key("docs"),
            ),
            Granted,
        ),
        (ask_key(&active, "Docs:Write", "docs"), NoMatchingAssignment),
        (ask_key(&disabled, "Docs:Read", "docs"), IdentityNotActive),
        (ask_key(&invited, "Docs:Read", "docs"), IdentityNotActive),
        (
            ask(
                identity_by_id(&unknown_id),
                "Docs:Read",
                node_by_key("docs"),
            ),
            UnknownIdentity,
        ),
        (
            ask(
                identity_by_email("nobody@example.com"),
                "Docs:Read",
                node_by_key("docs"),
            ),
            UnknownIdentity,
        ),
        (
            ask(
                identity_by_external_id("auth0|nobody"),
                "Docs:Read",
                node_by_key("docs"),
            ),
            UnknownIdentity,
        ),
        (ask_key(&active, "Docs:Read", "no-such-node"), UnknownNode),
        (
            ask(
                identity_by_id(&active.id),
                "Docs:Read",
                node_by_id(&unknown_id),
            ),
            UnknownNode,
        ),
    ];
    for (request, reason) in &cases {
        let resp = check(&client, request.clone()).await;
        assert_decision(&resp, *reason == Granted, *reason);
    }
    // The same answers in a batch and on a stream.
    let batch = client
        .clone()
        .batch_check(pb::BatchCheckRequest {
            checks: cases.iter().map(|(r, _)| r.clone()).collect(),
        })
        .await
        .expect("batch check")
        .into_inner()
        .results;
    let streamed = stream_all(&client, cases.iter().map(|(r, _)| r.clone()).collect()).await;
    for ((_, reason), (b, s)) in cases.iter().zip(batch.iter().zip(&streamed)) {
        assert_decision(b, *reason == Granted, *reason);
        assert_decision(s, *reason == Granted, *reason);
    }

    // Activating the invited identity makes its initial assignment grant.
    set_active(&server, &invited, true).await;
    assert_allowed(&check(&client, ask_key(&invited, "Docs:Read", "docs")).await);
}

#[tokio::test]
async fn a_malformed_unary_check_is_invalid_argument() {
    let server = TestServer::start().await;
    let client = server.authorization();
    let jane = create_user(&server, "jane@example.com").await;
    let good = ask_key(&jane, "Docs:Read", "root");
    let cases: Vec<(pb::CheckRequest, &str)> = vec![
        (
            pb::CheckRequest {
                identity: None,
                ..good.clone()
            },
            "identity",
        ),
        (
            pb::CheckRequest {
                identity: Some(pb::IdentityRef { r#ref: None }),
                ..good.clone()
            },
            "identity",
        ),
        (
            pb::CheckRequest {
                identity: identity_by_id("not-a-uuid"),
                ..good.clone()
            },
            "identity",
        ),
        (
            pb::CheckRequest {
                permission: String::new(),
                ..good.clone()
            },
            "permission",
        ),
        (
            pb::CheckRequest {
                permission: "Docs::Read".into(),
                ..good.clone()
            },
            "permission",
        ),
        (
            pb::CheckRequest {
                permission: "Docs Read".into(),
                ..good.clone()
            },
            "permission",
        ),
        (
            pb::CheckRequest {
                permission: "Docs:*".into(),
                ..good.clone()
            },
            "permission",
        ),
        (
            pb::CheckRequest {
                node: None,
                ..good.clone()
            },
            "node",
        ),
        (
            pb::CheckRequest {
                node: node_by_id("42"),
                ..good.clone()
            },
            "node",
        ),
        (
            pb::CheckRequest {
                at: Some(prost_types::Timestamp {
                    seconds: 1,
                    nanos: -1,
                }),
                ..good.clone()
            },
            "at",
        ),
    ];
    for (request, field) in cases {
        expect_invalid(client.clone().check(request).await, field);
    }
    // Every bad field is named at once.
    let status = expect_invalid(
        client.clone().check(pb::CheckRequest::default()).await,
        "identity",
    );
    let fields = violated_fields(&status);
    for field in ["identity", "permission", "node"] {
        assert!(fields.iter().any(|f| f == field), "{fields:?}");
    }
    // And the well-formed request is fine.
    assert_denied(
        &check(&client, good).await,
        pb::DecisionReason::NoMatchingAssignment,
    );
}
