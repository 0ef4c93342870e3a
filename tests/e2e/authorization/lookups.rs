//! ListPermissions and the paged lookups against the reference evaluator.

use super::*;

#[tokio::test]
async fn list_permissions_is_the_exact_effective_set() {
    let server = TestServer::start().await;
    let world = build_world(&server).await;
    let client = server.authorization();
    for who in &world.identities {
        for node in &world.nodes {
            for at in [None, Some(W0), Some(W1 - 1), Some(W1)] {
                let listed = client
                    .clone()
                    .list_permissions(pb::ListPermissionsRequest {
                        identity: identity_by_id(&who.id),
                        node: node_by_id(&node.id),
                        at: at.and_then(micros_to_ts),
                        min_revision: 0,
                    })
                    .await
                    .expect("list permissions")
                    .into_inner();
                let expected = world.permissions(&who.id, &node.id, at.unwrap_or_else(now_micros));
                let mut sorted = listed.permissions.clone();
                sorted.sort();
                sorted.dedup();
                assert_eq!(sorted, listed.permissions, "sorted, without duplicates");
                assert_eq!(
                    listed.permissions.iter().cloned().collect::<BTreeSet<_>>(),
                    expected,
                    "{} at {} at {at:?}",
                    who.email,
                    node.key
                );
                assert!(listed.revision >= world.revision);
            }
        }
    }
    // The root when no node is given.
    let u7 = &world
        .identities
        .iter()
        .find(|i| i.email == "u7@example.com")
        .unwrap()
        .id;
    let listed = client
        .clone()
        .list_permissions(pb::ListPermissionsRequest {
            identity: identity_by_id(u7),
            ..Default::default()
        })
        .await
        .expect("list permissions")
        .into_inner();
    assert_eq!(listed.permissions, ["Payments:Read", "Wallets:Read"]);
    // Unknown references are NOT_FOUND here (there is no decision to carry a reason).
    expect_code(
        client
            .clone()
            .list_permissions(pb::ListPermissionsRequest {
                identity: identity_by_id(&uuid::Uuid::new_v4().to_string()),
                ..Default::default()
            })
            .await,
        Code::NotFound,
    );
    expect_code(
        client
            .clone()
            .list_permissions(pb::ListPermissionsRequest {
                identity: identity_by_id(u7),
                node: node_by_key("no-such-node"),
                ..Default::default()
            })
            .await,
        Code::NotFound,
    );
    expect_invalid(
        client
            .clone()
            .list_permissions(pb::ListPermissionsRequest::default())
            .await,
        "identity",
    );
}

async fn lookup_nodes_all(
    client: &Authz,
    mut request: pb::LookupNodesRequest,
) -> Vec<pb::NodeSummary> {
    let mut all: Vec<pb::NodeSummary> = Vec::new();
    for _ in 0..1000 {
        let page = client
            .clone()
            .lookup_nodes(request.clone())
            .await
            .expect("lookup nodes")
            .into_inner();
        assert!(page.nodes.len() <= request.page_size as usize, "{page:?}");
        for n in page.nodes {
            assert!(all.iter().all(|seen| seen.id != n.id), "{} twice", n.key);
            all.push(n);
        }
        if page.next_page_token.is_empty() {
            return all;
        }
        request.page_token = page.next_page_token;
    }
    panic!("LookupNodes never ended");
}

async fn lookup_identities_all(
    client: &Authz,
    mut request: pb::LookupIdentitiesRequest,
) -> Vec<pb::IdentitySummary> {
    let mut all: Vec<pb::IdentitySummary> = Vec::new();
    for _ in 0..1000 {
        let page = client
            .clone()
            .lookup_identities(request.clone())
            .await
            .expect("lookup identities")
            .into_inner();
        assert!(
            page.identities.len() <= request.page_size as usize,
            "{page:?}"
        );
        for i in page.identities {
            assert!(all.iter().all(|seen| seen.id != i.id), "{} twice", i.id);
            all.push(i);
        }
        if page.next_page_token.is_empty() {
            return all;
        }
        request.page_token = page.next_page_token;
    }
    panic!("LookupIdentities never ended");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_page_to_exhaustion() {
    let server = TestServer::start().await;
    let world = build_world(&server).await;
    let client = server.authorization();
    use futures::StreamExt;
    let ats = [None, Some(W0), Some(W1)];
    // Every identity, permission, subtree and moment; eight lookups at a time.
    let mut combos = Vec::new();
    for who in &world.identities {
        for permission in PERMISSIONS {
            for subtree in ["root", "org:b", "a1"] {
                for at in ats {
                    combos.push((who, *permission, subtree, at));
                }
            }
        }
    }
    let spanning: Vec<bool> = futures::stream::iter(combos)
        .map(|(who, permission, subtree, at)| {
            let (client, world) = (&client, &world);
            async move {
                let found = lookup_nodes_all(
                    client,
                    pb::LookupNodesRequest {
                        identity: identity_by_id(&who.id),
                        permission: permission.to_string(),
                        root: if subtree == "root" {
                            None
                        } else {
                            node_by_key(subtree)
                        },
                        page_size: 2,
                        page_token: String::new(),
                        at: at.and_then(micros_to_ts),
                        min_revision: 0,
                    },
                )
                .await;
                let root = world.node_by_key(subtree);
                let expected = world.lookup_nodes(
                    &who.id,
                    permission,
                    &root.id,
                    at.unwrap_or_else(now_micros),
                );
                let got: BTreeSet<String> = found.iter().map(|n| n.id.clone()).collect();
                assert_eq!(
                    got, expected,
                    "{} {permission} under {subtree} at {at:?}",
                    who.email
                );
                for n in &found {
                    assert_eq!(n.key, world.node(&n.id).unwrap().key);
                }
                got.len() > 2
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let nonempty = spanning.iter().filter(|s| **s).count();
    assert!(nonempty > 10, "several lookups span pages: {nonempty}");

    let mut combos = Vec::new();
    for permission in PERMISSIONS {
        for node in &world.nodes {
            for at in ats {
                combos.push((*permission, node, at));
            }
        }
    }
    let spanning: Vec<bool> = futures::stream::iter(combos)
        .map(|(permission, node, at)| {
            let (client, world) = (&client, &world);
            async move {
                let found = lookup_identities_all(
                    client,
                    pb::LookupIdentitiesRequest {
                        permission: permission.to_string(),
                        node: node_by_id(&node.id),
                        page_size: 2,
                        page_token: String::new(),
                        at: at.and_then(micros_to_ts),
                        min_revision: 0,
                    },
                )
                .await;
                let expected =
                    world.lookup_identities(permission, &node.id, at.unwrap_or_else(now_micros));
                let got: BTreeSet<String> = found.iter().map(|i| i.id.clone()).collect();
                assert_eq!(got, expected, "{permission} at {} at {at:?}", node.key);
                for i in &found {
                    assert_eq!(i.email, world.identity(&i.id).unwrap().email);
                }
                got.len() > 2
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let multi_page = spanning.iter().filter(|s| **s).count();
    assert!(multi_page > 10, "several lookups span pages: {multi_page}");

    // Page sizes and tokens are validated; unknown references are NOT_FOUND.
    let u0 = world.identities[1].id.clone();
    expect_invalid(
        client
            .clone()
            .lookup_nodes(pb::LookupNodesRequest {
                identity: identity_by_id(&u0),
                permission: "Wallets:Read".into(),
                page_size: -1,
                ..Default::default()
            })
            .await,
        "page_size",
    );
    expect_code(
        client
            .clone()
            .lookup_identities(pb::LookupIdentitiesRequest {
                permission: "Wallets:Read".into(),
                node: node_by_key("root"),
                page_token: "garbage!".into(),
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
    );
    expect_invalid(
        client
            .clone()
            .lookup_identities(pb::LookupIdentitiesRequest {
                permission: "Wallets:*".into(),
                node: node_by_key("root"),
                ..Default::default()
            })
            .await,
        "permission",
    );
    expect_code(
        client
            .clone()
            .lookup_nodes(pb::LookupNodesRequest {
                identity: identity_by_id(&uuid::Uuid::new_v4().to_string()),
                permission: "Wallets:Read".into(),
                ..Default::default()
            })
            .await,
        Code::NotFound,
    );
    expect_code(
        client
            .clone()
            .lookup_identities(pb::LookupIdentitiesRequest {
                permission: "Wallets:Read".into(),
                node: node_by_key("no-such-node"),
                ..Default::default()
            })
            .await,
        Code::NotFound,
    );
}
