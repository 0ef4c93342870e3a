//! Read scope: what lies outside the caller's reach answers exactly as what
//! does not exist; inside it, a missing write permission is PERMISSION_DENIED.

use super::*;

/// A message with `named` replaced, to compare the shape of two answers.
fn shape(status: &Status, named: &str) -> String {
    status.message().replace(named, "<name>")
}

#[tokio::test]
async fn objects_outside_reach_answer_as_missing_ones() {
    let server = TestServer::start().await;
    let payments = create_node(&server, "payments", None).await;
    let treasury = create_node(&server, "treasury", None).await;
    let team_role = create_role(
        &server,
        "Payments_Reader",
        &["Rbacd:Assignments:Read", "Rbacd:Nodes:Read", "Wallets:Read"],
    )
    .await;
    let reader = create_role(&server, "Wallet_Reader", &["Wallets:Read"]).await;
    let (_, secret) = account_with_key(&server, "team", &team_role, &payments).await;
    let alice = create_user(&server, "alice@example.com").await;
    let hidden = assign(&server, &alice, &reader, &treasury).await;
    let visible = assign(&server, &alice, &reader, &payments).await;
    let t = server.clients(Some(&secret));
    let (mut nodes, mut assignments) = (t.nodes.clone(), t.assignments.clone());

    // A node: by key and by id, as a node that is not there.
    let get = |node| pb::GetNodeRequest { node };
    let outside = expect_code(
        nodes.get_node(get(node_by_key("treasury"))).await,
        Code::NotFound,
    );
    let missing = expect_code(
        nodes.get_node(get(node_by_key("nowhere"))).await,
        Code::NotFound,
    );
    assert_eq!(shape(&outside, "treasury"), shape(&missing, "nowhere"));
    let absent_id = "0190b8c4-0000-7000-8000-000000000000";
    let outside = expect_code(
        nodes.get_node(get(node_by_id(&treasury.id))).await,
        Code::NotFound,
    );
    let missing = expect_code(
        nodes.get_node(get(node_by_id(absent_id))).await,
        Code::NotFound,
    );
    assert_eq!(shape(&outside, &treasury.id), shape(&missing, absent_id));
    nodes
        .get_node(get(node_by_key("payments")))
        .await
        .expect("inside its reach");
    let listed = expect_code(
        nodes
            .list_nodes(pb::ListNodesRequest {
                parent: node_by_key("treasury"),
                ..Default::default()
            })
            .await,
        Code::NotFound,
    );
    assert_eq!(
        shape(&listed, "treasury"),
        shape(&missing_node(&mut nodes).await, "nowhere")
    );

    // An assignment by id: read and delete, as one that is not there.
    let outside = expect_code(
        assignments
            .get_assignment(pb::GetAssignmentRequest {
                id: hidden.id.clone(),
            })
            .await,
        Code::NotFound,
    );
    let missing = expect_code(
        assignments
            .get_assignment(pb::GetAssignmentRequest {
                id: absent_id.into(),
            })
            .await,
        Code::NotFound,
    );
    assert_eq!(shape(&outside, &hidden.id), shape(&missing, absent_id));
    let delete = |id: &str| pb::DeleteAssignmentRequest {
        id: id.into(),
        ..Default::default()
    };
    let outside = expect_code(
        assignments.delete_assignment(delete(&hidden.id)).await,
        Code::NotFound,
    );
    let missing = expect_code(
        assignments.delete_assignment(delete(absent_id)).await,
        Code::NotFound,
    );
    assert_eq!(shape(&outside, &hidden.id), shape(&missing, absent_id));

    // Inside its reach, without the write permission: PERMISSION_DENIED.
    expect_denied(
        assignments.delete_assignment(delete(&visible.id)).await,
        "Rbacd:Assignments:Write",
        &payments.id,
    );
    expect_denied(
        nodes
            .delete_node(pb::DeleteNodeRequest {
                request_id: Default::default(),
                node: node_by_key("payments"),
                cascade: false,
            })
            .await,
        "Rbacd:Nodes:Write",
        "payments",
    );
    // The root's existence is no secret.
    expect_denied(
        nodes.get_node(get(node_by_key("root"))).await,
        "Rbacd:Nodes:Read",
        "root",
    );
}

async fn missing_node(nodes: &mut Nodes) -> Status {
    expect_code(
        nodes
            .list_nodes(pb::ListNodesRequest {
                parent: node_by_key("nowhere"),
                ..Default::default()
            })
            .await,
        Code::NotFound,
    )
}

#[tokio::test]
async fn include_inherited_shows_only_what_the_caller_may_read() {
    let server = TestServer::start().await;
    let root = root(&server).await;
    let payments = create_node(&server, "payments", None).await;
    let eu = create_node(&server, "payments:eu", Some("payments")).await;
    let team_role = create_role(
        &server,
        "Payments_Team_Admin",
        &[
            "Rbacd:Assignments:Write",
            "Rbacd:Assignments:Read",
            "Rbacd:Nodes:Read",
            "Wallets:Read",
        ],
    )
    .await;
    let reader = create_role(&server, "Wallet_Reader", &["Wallets:Read"]).await;
    let (team_admin, secret) = account_with_key(&server, "team", &team_role, &payments).await;
    let alice = create_user(&server, "alice@example.com").await;
    let at_root = assign(&server, &alice, &reader, &root).await;
    let at_payments = assign(&server, &alice, &reader, &payments).await;
    let at_eu = assign(&server, &alice, &reader, &eu).await;
    let request = pb::ListAssignmentsRequest {
        node: node_by_key("payments:eu"),
        include_inherited: true,
        ..Default::default()
    };

    let everything = list_all_assignments(&server, request.clone()).await;
    let admin_sees: BTreeSet<&str> = everything.iter().map(|a| a.id.as_str()).collect();
    let root_admin = admin_assignments(&server).await.remove(0);
    assert!(
        admin_sees.contains(root_admin.id.as_str()),
        "{everything:?}"
    );
    assert!(admin_sees.contains(at_root.id.as_str()));

    let mut seen = BTreeSet::new();
    let mut page_token = String::new();
    loop {
        let page = server
            .clients(Some(&secret))
            .assignments
            .clone()
            .list_assignments(pb::ListAssignmentsRequest {
                page_token: page_token.clone(),
                page_size: 2,
                ..request.clone()
            })
            .await
            .expect("list inherited inside its reach")
            .into_inner();
        seen.extend(page.assignments.into_iter().map(|a| a.id));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    let team_grant = list_all_assignments(
        &server,
        pb::ListAssignmentsRequest {
            identity: identity_by_id(&team_admin.id),
            ..Default::default()
        },
    )
    .await
    .remove(0);
    let expected: BTreeSet<String> = [&at_payments.id, &at_eu.id, &team_grant.id]
        .into_iter()
        .cloned()
        .collect();
    assert_eq!(seen, expected, "nothing on the root, which it may not read");
}

#[tokio::test]
async fn lookup_identities_needs_identities_read() {
    let server = TestServer::start().await;
    let root = root(&server).await;
    let checker = create_role(&server, "Checker", &["Rbacd:Check"]).await;
    let (_, secret) = account_with_key(&server, "sidecar", &checker, &root).await;
    let reader = create_role(&server, "Docs_Reader", &["Docs:Read"]).await;
    let alice = create_user(&server, "alice@example.com").await;
    assign(&server, &alice, &reader, &root).await;
    let request = pb::LookupIdentitiesRequest {
        permission: "Docs:Read".into(),
        node: node_by_key("root"),
        ..Default::default()
    };
    let mut authz = server.clients(Some(&secret)).authz.clone();
    expect_denied(
        authz.lookup_identities(request.clone()).await,
        "Rbacd:Identities:Read",
        "root",
    );
    // Checks themselves need nothing more.
    authz
        .check(check_request(
            identity_by_id(&alice.id),
            node_by_key("root"),
        ))
        .await
        .expect("Rbacd:Check suffices for a check");

    let directory = create_role(&server, "Directory", &["Rbacd:Identities:Read"]).await;
    let (sidecar, _) = account_with_key(&server, "sidecar-2", &checker, &root).await;
    assign(&server, &sidecar, &directory, &root).await;
    let key = server
        .identities()
        .create_api_key(pb::CreateApiKeyRequest {
            request_id: Default::default(),
            identity: identity_by_id(&sidecar.id),
            name: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .secret;
    let found = server
        .clients(Some(&key))
        .authz
        .clone()
        .lookup_identities(request)
        .await
        .expect("with Rbacd:Identities:Read as well")
        .into_inner();
    // Alice, and the bootstrap admin, who holds `*`.
    assert_eq!(found.identities.len(), 2, "{found:?}");
    assert!(
        found
            .identities
            .iter()
            .any(|i| i.email == "alice@example.com"),
        "{found:?}"
    );
}
