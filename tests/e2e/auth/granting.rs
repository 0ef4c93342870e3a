//! The granting rule: a call hands out only what its caller holds — assigning a
//! role, writing a role's permissions, making a key for another identity.

use super::*;

/// The bootstrap admin identity of the `default` environment.
async fn bootstrap_admin(server: &TestServer) -> pb::Identity {
    let grant = admin_assignments(server).await.remove(0);
    server
        .identities()
        .get_identity(pb::GetIdentityRequest {
            identity: identity_by_id(&grant.identity_id),
        })
        .await
        .expect("the bootstrap admin")
        .into_inner()
        .identity
        .unwrap()
}

fn key_request(identity: &pb::Identity) -> pb::CreateApiKeyRequest {
    pb::CreateApiKeyRequest {
        request_id: Default::default(),
        identity: identity_by_id(&identity.id),
        name: "minted".into(),
    }
}

#[tokio::test]
async fn identities_write_alone_cannot_mint_a_key_for_the_admin() {
    let server = TestServer::start().await;
    let root = root(&server).await;
    let payments = create_node(&server, "payments", None).await;
    let managers = create_role(
        &server,
        "Identity_Manager",
        &["Rbacd:Identities:Write", "Rbacd:Identities:Read"],
    )
    .await;
    let (manager, secret) = account_with_key(&server, "manager", &managers, &root).await;
    let admin = bootstrap_admin(&server).await;
    let m = server.clients(Some(&secret));
    let mut identities = m.identities.clone();

    // The admin holds `*` at the root; the manager does not: no key for it.
    expect_denied(
        identities.create_api_key(key_request(&admin)).await,
        "`*`",
        &root.id,
    );
    // Nor for an account holding at payments something the manager lacks there.
    let docs = create_role(&server, "Docs_Reader", &["Docs:Read"]).await;
    let reader = create_service_account(&server, "reader").await;
    assign(&server, &reader, &docs, &payments).await;
    expect_denied(
        identities.create_api_key(key_request(&reader)).await,
        "`Docs:Read`",
        &payments.id,
    );
    // An account holding nothing, or the manager itself, is fine.
    let idle = create_service_account(&server, "idle").await;
    identities
        .create_api_key(key_request(&idle))
        .await
        .expect("a key for an account that holds nothing");
    identities
        .create_api_key(key_request(&manager))
        .await
        .expect("a key for itself");
    // The admin key, in turn, may mint keys for anyone.
    server
        .identities()
        .create_api_key(key_request(&reader))
        .await
        .expect("a `*` holder at the root is unaffected");
}

#[tokio::test]
async fn roles_hold_only_what_their_writer_holds() {
    let server = TestServer::start().await;
    let root = root(&server).await;
    let writers = create_role(
        &server,
        "Role_Writer",
        &["Rbacd:Roles:Write", "Rbacd:Roles:Read", "Wallets:*"],
    )
    .await;
    let (_, secret) = account_with_key(&server, "writer", &writers, &root).await;
    let mut roles = server.clients(Some(&secret)).roles.clone();
    let create = |name: &str, permissions: &[&str]| pb::CreateRoleRequest {
        request_id: Default::default(),
        name: name.into(),
        description: String::new(),
        permissions: permissions.iter().map(|p| p.to_string()).collect(),
    };

    for (name, wider) in [("Everything", "*"), ("Sneaky", "Rbacd:Audit:Read")] {
        expect_denied(
            roles
                .create_role(create(name, &["Wallets:Read", wider]))
                .await,
            &format!("`{wider}`"),
            "root",
        );
    }
    let narrow = roles
        .create_role(create(
            "Wallet_Refunds",
            &["Wallets:Read", "Wallets:Refunds:*"],
        ))
        .await
        .expect("narrower patterns are covered by `Wallets:*`")
        .into_inner()
        .role
        .unwrap();
    expect_denied(
        roles
            .update_role(pb::UpdateRoleRequest {
                role: role_by_id(&narrow.id),
                permissions: vec!["Wallets:*".into(), "Payments:Read".into()],
                ..Default::default()
            })
            .await,
        "`Payments:Read`",
        "root",
    );
    roles
        .update_role(pb::UpdateRoleRequest {
            role: role_by_id(&narrow.id),
            permissions: vec!["Wallets:*".into()],
            ..Default::default()
        })
        .await
        .expect("an equal pattern is covered");
    // Renaming hands out nothing.
    roles
        .update_role(pb::UpdateRoleRequest {
            role: role_by_id(&narrow.id),
            name: Some("Wallet_Admin".into()),
            ..Default::default()
        })
        .await
        .expect("a rename");
}

#[tokio::test]
async fn a_delegated_admin_cannot_grant_itself_administrator() {
    let server = TestServer::start().await;
    let root = root(&server).await;
    let payments = create_node(&server, "payments", None).await;
    create_node(&server, "payments:eu", Some("payments")).await;
    let team_role = create_role(
        &server,
        "Payments_Team_Admin",
        &[
            "Rbacd:Assignments:Write",
            "Rbacd:Assignments:Read",
            "Rbacd:Nodes:Read",
            "Wallets:*",
        ],
    )
    .await;
    create_role(&server, "Wallet_Refunds", &["Wallets:Refunds:*"]).await;
    create_role(&server, "Node_Writer", &["Rbacd:Nodes:Write"]).await;
    let (team_admin, secret) = account_with_key(&server, "team-admin", &team_role, &payments).await;
    let t = server.clients(Some(&secret));
    let (mut assignments, mut nodes) = (t.assignments.clone(), t.nodes.clone());

    for node in ["payments", "payments:eu"] {
        expect_denied(
            assignments
                .create_assignment(by_names(&team_admin, "Administrator", node))
                .await,
            "`*`",
            node,
        );
    }
    expect_denied(
        assignments
            .create_assignment(by_names(&team_admin, "Node_Writer", "payments"))
            .await,
        "`Rbacd:Nodes:Write`",
        "payments",
    );
    expect_denied(
        assignments
            .batch_create_assignments(pb::BatchCreateAssignmentsRequest {
                request_id: Default::default(),
                assignments: vec![
                    by_names(&team_admin, "Wallet_Refunds", "payments"),
                    by_names(&team_admin, "Administrator", "payments:eu"),
                ],
            })
            .await,
        "`*`",
        "payments:eu",
    );
    // So it still cannot create nodes there.
    expect_denied(
        nodes
            .create_node(pb::CreateNodeRequest {
                request_id: Default::default(),
                key: "payments:mine".into(),
                name: String::new(),
                kind: String::new(),
                parent: node_by_key("payments"),
            })
            .await,
        "Rbacd:Nodes:Write",
        "payments",
    );
    // What it holds, it may hand out.
    assignments
        .create_assignment(by_names(&team_admin, "Wallet_Refunds", "payments:eu"))
        .await
        .expect("`Wallets:*` covers `Wallets:Refunds:*`");

    // InviteIdentity's assignments follow the same rule.
    let inviters = create_role(
        &server,
        "Inviter",
        &[
            "Rbacd:Identities:Write",
            "Rbacd:Assignments:Write",
            "Wallets:*",
        ],
    )
    .await;
    let (_, inviter_key) = account_with_key(&server, "inviter", &inviters, &root).await;
    let mut identities = server.clients(Some(&inviter_key)).identities.clone();
    let invite = |email: &str, role: &str| pb::InviteIdentityRequest {
        request_id: Default::default(),
        kind: pb::IdentityKind::User.into(),
        email: email.into(),
        external_id: String::new(),
        display_name: String::new(),
        assignments: vec![pb::InitialAssignment {
            node: node_by_key("root"),
            role: role_by_name(role),
            effective_from: None,
            effective_to: None,
        }],
    };
    expect_denied(
        identities
            .invite_identity(invite("accomplice@example.com", "Administrator"))
            .await,
        "`*`",
        "root",
    );
    identities
        .invite_identity(invite("refunder@example.com", "Wallet_Refunds"))
        .await
        .expect("an invitation handing out what the inviter holds");
}
