//! ListChanges: order, images, paging, filters, secrets, bad input.

use super::*;

#[tokio::test]
async fn list_changes_returns_writes_in_revision_order_with_images() {
    let server = TestServer::start().await;
    let client = server.audit();
    let bootstrap = list_all(&client, pb::ListChangesRequest::default()).await;
    assert!(
        bootstrap
            .iter()
            .any(|c| c.object_kind() == pb::ObjectKind::Environment && c.actor_id.is_empty()),
        "the environment's creation is logged as made by rbacd itself: {bootstrap:?}"
    );
    let base = bootstrap.last().expect("bootstrap changes").revision;

    let role = create_role(&server, "Auditor", &["Audit:Read"]).await;
    server
        .roles()
        .update_role(pb::UpdateRoleRequest {
            role: role_by_id(&role.id),
            name: Some("Auditors".into()),
            ..Default::default()
        })
        .await
        .expect("rename the role");
    let node = create_node(&server, "wallet:1", None).await;
    server
        .roles()
        .delete_role(pb::DeleteRoleRequest {
            request_id: Default::default(),
            role: role_by_id(&role.id),
            force: false,
        })
        .await
        .expect("delete the role");

    let changes = list_all(
        &client,
        pb::ListChangesRequest {
            after_revision: base,
            ..Default::default()
        },
    )
    .await;
    assert_increasing(&revisions(&changes));
    assert!(changes.iter().all(|c| c.revision > base));
    let summary: Vec<(&str, pb::ObjectKind, &str)> = changes
        .iter()
        .map(|c| (c.action.as_str(), c.object_kind(), c.object_id.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            ("CreateRole", pb::ObjectKind::Role, role.id.as_str()),
            ("UpdateRole", pb::ObjectKind::Role, role.id.as_str()),
            ("CreateNode", pb::ObjectKind::Node, node.id.as_str()),
            ("DeleteRole", pb::ObjectKind::Role, role.id.as_str()),
        ]
    );
    let [created, renamed, _, deleted] = &changes[..] else {
        panic!("four changes");
    };
    assert!(created.before.is_none());
    assert_eq!(field(&created.after, "name"), "Auditor");
    assert_eq!(field(&renamed.before, "name"), "Auditor");
    assert_eq!(field(&renamed.after, "name"), "Auditors");
    assert_eq!(field(&deleted.before, "name"), "Auditors");
    assert!(deleted.after.is_none());
    for change in &changes {
        assert!(is_uuid(&change.actor_id), "the admin key's identity acted");
        assert!(micros(&change.create_time) > 0);
    }
    server.stop().await;
}

#[tokio::test]
async fn list_changes_pages_to_exhaustion_without_repeats() {
    let server = TestServer::start().await;
    let client = server.audit();
    let base = latest(&client).await;
    for i in 0..7 {
        create_role(&server, &format!("role-{i}"), &["A:B"]).await;
    }
    let from_base = pb::ListChangesRequest {
        after_revision: base,
        ..Default::default()
    };
    let paged = list_all(
        &client,
        pb::ListChangesRequest {
            page_size: 2,
            ..from_base.clone()
        },
    )
    .await;
    let whole = list_all(&client, from_base).await;
    assert_eq!(paged.len(), 7);
    assert_eq!(revisions(&paged), revisions(&whole));
    assert_increasing(&revisions(&paged));

    let last_page = client
        .clone()
        .list_changes(pb::ListChangesRequest {
            after_revision: paged[4].revision,
            page_size: 2,
            ..Default::default()
        })
        .await
        .expect("the last page")
        .into_inner();
    assert_eq!(revisions(&last_page.changes), revisions(&paged[5..]));
    assert!(last_page.next_page_token.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn list_changes_filters_by_object_kind_object_id_and_actor() {
    let server = TestServer::start().await;
    let client = server.audit();
    let base = latest(&client).await;
    create_role(&server, "Viewer", &["Wallets:Read"]).await;
    let wallets = create_node(&server, "wallets", None).await;
    let payments = create_node(&server, "payments", None).await;
    server
        .nodes()
        .move_node(pb::MoveNodeRequest {
            request_id: Default::default(),
            node: node_by_id(&wallets.id),
            new_parent: node_by_id(&payments.id),
        })
        .await
        .expect("move wallets under payments");

    let query = |kind: pb::ObjectKind, object_id: &str, actor_id: &str| pb::ListChangesRequest {
        after_revision: base,
        object_kind: kind.into(),
        object_id: object_id.into(),
        actor_id: actor_id.into(),
        ..Default::default()
    };
    let nodes = list_all(&client, query(pb::ObjectKind::Node, "", "")).await;
    assert_eq!(nodes.len(), 3);
    assert!(
        nodes
            .iter()
            .all(|c| c.object_kind() == pb::ObjectKind::Node)
    );

    let of_wallets = list_all(&client, query(pb::ObjectKind::Unspecified, &wallets.id, "")).await;
    let actions: Vec<&str> = of_wallets.iter().map(|c| c.action.as_str()).collect();
    assert_eq!(actions, ["CreateNode", "MoveNode"]);
    assert_eq!(field(&of_wallets[1].after, "parentId"), payments.id);

    let roles = list_all(&client, query(pb::ObjectKind::Role, &wallets.id, "")).await;
    assert!(roles.is_empty(), "kind and id filters combine: {roles:?}");

    let admin = nodes[0].actor_id.clone();
    let by_admin = list_all(&client, query(pb::ObjectKind::Unspecified, "", &admin)).await;
    assert_eq!(by_admin.len(), 4);
    let stranger = uuid::Uuid::new_v4().to_string();
    let by_stranger = list_all(&client, query(pb::ObjectKind::Unspecified, "", &stranger)).await;
    assert!(by_stranger.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn api_key_changes_never_carry_the_secret_hash() {
    let server = TestServer::start().await;
    let client = server.audit();
    let robot = server
        .identities()
        .create_identity(pb::CreateIdentityRequest {
            kind: pb::IdentityKind::ServiceAccount.into(),
            external_id: "robot".into(),
            ..Default::default()
        })
        .await
        .expect("create a service account")
        .into_inner()
        .identity
        .expect("an identity");
    server
        .identities()
        .create_api_key(pb::CreateApiKeyRequest {
            request_id: Default::default(),
            identity: identity_by_id(&robot.id),
            name: "ci".into(),
        })
        .await
        .expect("create an API key");
    let keys = list_all(
        &client,
        pb::ListChangesRequest {
            object_kind: pb::ObjectKind::ApiKey.into(),
            ..Default::default()
        },
    )
    .await;
    let created = keys
        .iter()
        .find(|c| c.action == "CreateApiKey")
        .expect("the key's creation is logged");
    assert_eq!(field(&created.after, "name"), "ci");
    for change in &keys {
        for image in [&change.before, &change.after].into_iter().flatten() {
            assert!(!image.fields.contains_key("secret_hash"), "{image:?}");
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn bad_audit_requests_are_invalid_argument() {
    let server = TestServer::start().await;
    let client = server.audit();
    let list = |request: pb::ListChangesRequest| {
        let mut client = client.clone();
        async move { client.list_changes(request).await }
    };
    let cases = [
        (
            "page_size",
            pb::ListChangesRequest {
                page_size: -1,
                ..Default::default()
            },
        ),
        (
            "page_token",
            pb::ListChangesRequest {
                page_token: "p1.garbage".into(),
                ..Default::default()
            },
        ),
        (
            "object_id",
            pb::ListChangesRequest {
                object_id: "wallet:1".into(),
                ..Default::default()
            },
        ),
        (
            "actor_id",
            pb::ListChangesRequest {
                actor_id: "admin".into(),
                ..Default::default()
            },
        ),
        (
            "object_kind",
            pb::ListChangesRequest {
                object_kind: 99,
                ..Default::default()
            },
        ),
    ];
    for (field, request) in cases {
        expect_invalid(list(request).await, field);
    }
    let huge = list(pb::ListChangesRequest {
        page_size: 5000,
        ..Default::default()
    })
    .await;
    assert!(huge.is_ok(), "a page size above 1000 is capped: {huge:?}");

    let watch = |request: pb::WatchRequest| {
        let mut client = client.clone();
        async move { client.watch(request).await.map(|_| ()) }
    };
    expect_invalid(
        watch(pb::WatchRequest {
            object_id: "x".into(),
            ..Default::default()
        })
        .await,
        "object_id",
    );
    expect_invalid(
        watch(pb::WatchRequest {
            actor_id: "x".into(),
            ..Default::default()
        })
        .await,
        "actor_id",
    );
    expect_invalid(
        watch(pb::WatchRequest {
            object_kind: -3,
            ..Default::default()
        })
        .await,
        "object_kind",
    );
    server.stop().await;
}
