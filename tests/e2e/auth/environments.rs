//! An environment sees and touches nothing of another: the every-RPC table
//! from another environment, then what each environment lists and watches.

use super::every_rpc::{Elsewhere, Home, every_rpc, fixture};
use super::*;

const STAGING_KEY: &str = "rbacd_test_staging_key_0123456789abcdef";

#[tokio::test]
async fn an_environment_sees_and_touches_nothing_of_another() {
    let server = TestServer::start().await;
    let f = fixture(&server).await;
    let s = create_environment(&server, "staging", STAGING_KEY).await;
    let nf = Code::NotFound;

    // What staging has: its own root, Administrator and admin.
    let staging_roles = s
        .roles
        .clone()
        .list_roles(pb::ListRolesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .roles;
    assert_eq!(staging_roles.len(), 1, "{staging_roles:?}");
    assert_eq!(staging_roles[0].name, "Administrator");
    let default_admin_role = administrator(&server).await;
    assert_ne!(staging_roles[0].id, default_admin_role.id);
    let staging_identities = s
        .identities
        .clone()
        .list_identities(pb::ListIdentitiesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .identities;
    assert_eq!(staging_identities.len(), 1, "{staging_identities:?}");
    let staging_admin = staging_identities[0].clone();
    let default_ids: BTreeSet<String> = server
        .identities()
        .list_identities(pb::ListIdentitiesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .identities
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert!(!default_ids.contains(&staging_admin.id));
    let staging_nodes = s
        .nodes
        .clone()
        .list_nodes(pb::ListNodesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .nodes;
    assert!(staging_nodes.is_empty(), "{staging_nodes:?}");
    let staging_assignments = s
        .assignments
        .clone()
        .list_assignments(pb::ListAssignmentsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .assignments;
    assert_eq!(staging_assignments.len(), 1);
    assert_eq!(staging_assignments[0].identity_id, staging_admin.id);
    let staging_keys = s
        .identities
        .clone()
        .list_api_keys(pb::ListApiKeysRequest::default())
        .await
        .unwrap()
        .into_inner()
        .api_keys;
    assert_eq!(staging_keys.len(), 1);
    assert_eq!(staging_keys[0].identity_id, staging_admin.id);
    let staging_node = s
        .nodes
        .clone()
        .create_node(pb::CreateNodeRequest {
            request_id: Default::default(),
            key: "payments".into(),
            name: String::new(),
            kind: String::new(),
            parent: None,
        })
        .await
        .expect("the same key in another environment is fine")
        .into_inner()
        .node
        .unwrap();
    assert_ne!(staging_node.id, f.node.id);

    // Every RPC naming an object of default answers from staging exactly as
    // for a missing object.
    let home = Home {
        admin: staging_admin.id.clone(),
        payments: staging_node.id.clone(),
    };
    let mut refused = 0;
    for row in every_rpc(&s, &f, &home) {
        if row.elsewhere == Elsewhere::NotFound {
            let result = row.call.await;
            assert!(
                matches!(&result, Err(status) if status.code() == nf),
                "{} from staging must be NOT_FOUND: {result:?}",
                row.name
            );
            expect_code(result, nf);
            refused += 1;
        }
    }
    assert_eq!(refused, 55, "the table names default's objects in 55 calls");
    let (mut roles, mut identities, mut authz) =
        (s.roles.clone(), s.identities.clone(), s.authz.clone());

    // AuthorizationService: unknown identities and nodes are denials with a reason.
    let checks = vec![
        check_request(identity_by_id(&f.user.id), node_by_key("root")),
        check_request(identity_by_email(&f.user.email), node_by_key("root")),
        check_request(identity_by_id(&staging_admin.id), node_by_id(&f.node.id)),
        check_request(
            identity_by_id(&staging_admin.id),
            node_by_key("payments:eu"),
        ),
    ];
    let reasons = [
        pb::DecisionReason::UnknownIdentity,
        pb::DecisionReason::UnknownIdentity,
        pb::DecisionReason::UnknownNode,
        pb::DecisionReason::UnknownNode,
    ];
    let mut answers = Vec::new();
    for c in &checks {
        answers.push(authz.check(c.clone()).await.expect("check").into_inner());
    }
    let batch = authz
        .batch_check(pb::BatchCheckRequest {
            checks: checks.clone(),
        })
        .await
        .expect("batch check")
        .into_inner()
        .results;
    let mut stream = authz
        .check_stream(tokio_stream::iter(checks.clone()))
        .await
        .expect("check stream")
        .into_inner();
    let mut streamed = Vec::new();
    while let Some(answer) = stream.message().await.expect("a clean stream") {
        streamed.push(answer);
    }
    for answers in [&answers, &batch, &streamed] {
        assert_eq!(answers.len(), reasons.len());
        for (answer, reason) in answers.iter().zip(reasons) {
            assert!(!answer.allowed, "{answer:?}");
            assert!(answer.error.is_none(), "{answer:?}");
            assert_eq!(answer.reason_code(), reason, "{answer:?}");
        }
    }
    let holders = authz
        .lookup_identities(pb::LookupIdentitiesRequest {
            permission: "Docs:Read".into(),
            node: node_by_key("payments"),
            ..Default::default()
        })
        .await
        .expect("lookup identities in staging")
        .into_inner()
        .identities;
    let holders: Vec<String> = holders.into_iter().map(|i| i.id).collect();
    assert_eq!(holders, std::slice::from_ref(&staging_admin.id));
    let everywhere = authz
        .lookup_nodes(pb::LookupNodesRequest {
            identity: identity_by_id(&staging_admin.id),
            permission: "Docs:Read".into(),
            ..Default::default()
        })
        .await
        .expect("lookup nodes in staging")
        .into_inner()
        .nodes;
    let keys: BTreeSet<String> = everywhere.into_iter().map(|n| n.key).collect();
    assert_eq!(
        keys,
        BTreeSet::from(["root".to_owned(), "payments".to_owned()])
    );

    // Names are unique per environment only: staging may reuse default's.
    let same_name = roles
        .create_role(pb::CreateRoleRequest {
            request_id: Default::default(),
            name: f.role.name.clone(),
            description: String::new(),
            permissions: vec!["Docs:Write".into()],
        })
        .await
        .expect("default's role name is free in staging")
        .into_inner()
        .role
        .unwrap();
    assert_ne!(same_name.id, f.role.id);
    let same_email = identities
        .create_identity(pb::CreateIdentityRequest {
            assignments: Default::default(),
            request_id: Default::default(),
            kind: pb::IdentityKind::User.into(),
            email: f.user.email.to_uppercase(),
            external_id: f.account.external_id.clone(),
            display_name: String::new(),
        })
        .await
        .expect("default's email and external id are free in staging")
        .into_inner()
        .identity
        .unwrap();
    assert_ne!(same_email.id, f.user.id);

    // Lists in staging show its own objects, nothing of default.
    let roles_now: Vec<String> = roles
        .list_roles(pb::ListRolesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .roles
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(
        roles_now,
        [staging_roles[0].id.clone(), same_name.id.clone()]
    );
    let identities_now: Vec<String> = identities
        .list_identities(pb::ListIdentitiesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .identities
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(
        identities_now,
        [staging_admin.id.clone(), same_email.id.clone()]
    );
    // Staging's namesakes are found by name there, default's stay in default.
    let found = identities
        .get_identity(pb::GetIdentityRequest {
            identity: identity_by_email(&f.user.email),
        })
        .await
        .expect("staging's own namesake")
        .into_inner()
        .identity
        .unwrap();
    assert_eq!(found.id, same_email.id);

    // Staging's audit trail shows its own changes and none of default's.
    let default_objects: BTreeSet<String> = [
        &f.role.id,
        &f.user.id,
        &f.account.id,
        &f.api_key.id,
        &f.node.id,
        &f.child.id,
        &f.assignment.id,
        &default_admin_role.id,
    ]
    .into_iter()
    .cloned()
    .chain(default_ids.iter().cloned())
    .collect();
    let mut request = pb::ListChangesRequest {
        page_size: 2,
        ..Default::default()
    };
    let mut seen = Vec::new();
    loop {
        let page = s
            .audit
            .clone()
            .list_changes(request.clone())
            .await
            .expect("ListChanges in staging")
            .into_inner();
        seen.extend(page.changes);
        if page.next_page_token.is_empty() {
            break;
        }
        request.page_token = page.next_page_token;
    }
    for change in &seen {
        assert!(
            !default_objects.contains(&change.object_id) && !default_ids.contains(&change.actor_id),
            "staging's audit trail shows a change of default: {change:?}"
        );
    }
    assert!(seen.iter().any(|c| c.object_id == staging_node.id));
    assert!(seen.iter().any(|c| c.object_id == same_name.id));

    // And default is untouched.
    let d = server.clients(Some(ADMIN_KEY));
    let role = d
        .roles
        .clone()
        .get_role(pb::GetRoleRequest {
            role: role_by_id(&f.role.id),
        })
        .await
        .expect("default's role")
        .into_inner()
        .role
        .unwrap();
    assert_eq!(role.permissions, ["Docs:Read"]);
    let user = d
        .identities
        .clone()
        .get_identity(pb::GetIdentityRequest {
            identity: identity_by_id(&f.user.id),
        })
        .await
        .expect("default's user")
        .into_inner()
        .identity
        .unwrap();
    assert_eq!(user.status(), pb::IdentityStatus::Active);
    assert_eq!(user.display_name, f.user.display_name);
    let child = d
        .nodes
        .clone()
        .get_node(pb::GetNodeRequest {
            node: node_by_id(&f.child.id),
        })
        .await
        .expect("default's node")
        .into_inner()
        .node
        .unwrap();
    assert_eq!(child.parent_id, f.node.id);
    d.assignments
        .clone()
        .get_assignment(pb::GetAssignmentRequest {
            id: f.assignment.id.clone(),
        })
        .await
        .expect("default's assignment");
    let keys = d
        .identities
        .clone()
        .list_api_keys(pb::ListApiKeysRequest {
            identity: identity_by_id(&f.account.id),
            ..Default::default()
        })
        .await
        .expect("default's keys")
        .into_inner()
        .api_keys;
    assert_eq!(keys.len(), 1);
    assert!(keys[0].revoke_time.is_none());
    let default_roles = d
        .roles
        .clone()
        .list_roles(pb::ListRolesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .roles;
    assert_eq!(default_roles.len(), 2, "{default_roles:?}");
    // Watch in staging, live: default's writes never show up there.
    let from = d
        .roles
        .clone()
        .create_role(pb::CreateRoleRequest {
            request_id: Default::default(),
            name: "Before_Watch".into(),
            description: String::new(),
            permissions: vec![],
        })
        .await
        .expect("a write in default")
        .into_inner()
        .revision;
    let mut watch = s
        .audit
        .clone()
        .watch(pb::WatchRequest {
            after_revision: from,
            ..Default::default()
        })
        .await
        .expect("Watch in staging")
        .into_inner();
    let in_default = d
        .roles
        .clone()
        .create_role(pb::CreateRoleRequest {
            request_id: Default::default(),
            name: "During_Watch".into(),
            description: String::new(),
            permissions: vec![],
        })
        .await
        .expect("a write in default")
        .into_inner()
        .role
        .unwrap();
    let in_staging = s
        .nodes
        .clone()
        .create_node(pb::CreateNodeRequest {
            request_id: Default::default(),
            key: "watched".into(),
            name: String::new(),
            kind: String::new(),
            parent: None,
        })
        .await
        .expect("a write in staging")
        .into_inner()
        .node
        .unwrap();
    let first = tokio::time::timeout(Duration::from_secs(10), watch.message())
        .await
        .expect("staging's Watch delivers staging's write")
        .expect("a clean stream")
        .expect("a change")
        .change
        .expect("the change");
    assert_ne!(
        first.object_id, in_default.id,
        "default's write leaked into staging's Watch"
    );
    assert_eq!(first.object_id, in_staging.id, "{first:?}");
    drop(watch);

    // Default's admin sees nothing of staging either.
    expect_code(
        d.identities
            .clone()
            .get_identity(pb::GetIdentityRequest {
                identity: identity_by_id(&staging_admin.id),
            })
            .await,
        nf,
    );
    expect_code(
        d.nodes
            .clone()
            .get_node(pb::GetNodeRequest {
                node: node_by_id(&staging_node.id),
            })
            .await,
        nf,
    );
    let resp = d
        .authz
        .clone()
        .check(check_request(
            identity_by_id(&staging_admin.id),
            node_by_key("root"),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resp.reason_code(), pb::DecisionReason::UnknownIdentity);
}
