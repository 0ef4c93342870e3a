//! Every List and Lookup page stops at the byte bound (`--max-page-bytes`, 4 MiB
//! by default; a few KiB here, so that ordinary objects overflow it) and its
//! `next_page_token` continues: each item exactly once, however large a page
//! size was asked for.

use std::future::Future;

use prost::Message;

use super::*;

const BUDGET: usize = 8 * 1024;
/// What a response adds to its items: the token and the revision.
const SLACK: usize = 256;
const PEOPLE: usize = 30;

/// Reads every page through `page` (given the token), checking each page's
/// encoded size; returns the ids listed and how many pages it took.
async fn read_all<R, F, Fut>(
    what: &str,
    mut page: F,
    ids: impl Fn(&R) -> Vec<String>,
) -> (Vec<String>, usize)
where
    R: Message,
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<(R, String), tonic::Status>>,
{
    let (mut all, mut pages, mut token) = (Vec::new(), 0, String::new());
    loop {
        let (reply, next) = page(token)
            .await
            .unwrap_or_else(|s| panic!("{what}: {s:?}"));
        pages += 1;
        let bytes = reply.encoded_len();
        assert!(bytes <= BUDGET + SLACK, "{what}: a page of {bytes} bytes");
        let listed = ids(&reply);
        assert!(!listed.is_empty(), "{what}: an empty page");
        for id in listed {
            assert!(!all.contains(&id), "{what}: {id} on two pages");
            all.push(id);
        }
        if next.is_empty() {
            return (all, pages);
        }
        token = next;
    }
}

fn long(prefix: &str, i: usize, len: usize) -> String {
    let mut text = format!("{prefix}{i}-");
    while text.chars().count() < len {
        text.push('ß');
    }
    text
}

#[tokio::test]
async fn every_list_and_lookup_page_stops_at_the_byte_bound() {
    let server = TestServer::start_with(|s| s.limits.max_page_bytes = BUDGET).await;
    let reader = create_role(&server, "Reader", &["Docs:Read"]).await;
    let root = root(&server).await;
    let (mut people, mut nodes) = (Vec::new(), Vec::new());
    for i in 0..PEOPLE {
        let person = server
            .identities()
            .create_identity(pb::CreateIdentityRequest {
                kind: pb::IdentityKind::User.into(),
                email: format!("{}@example.com", long("user", i, 200)),
                external_id: long("ext|", i, 250),
                display_name: long("Person ", i, 250),
                ..Default::default()
            })
            .await
            .expect("create identity")
            .into_inner()
            .identity
            .expect("an identity");
        let node = server
            .nodes()
            .create_node(pb::CreateNodeRequest {
                key: long("node-", i, 250),
                name: long("Node ", i, 250),
                kind: long("kind-", i, 250),
                ..Default::default()
            })
            .await
            .expect("create node")
            .into_inner()
            .node
            .expect("a node");
        // At the root for the lookups, and on the long-keyed node for a large assignment.
        assign(&server, &person, &reader, &root).await;
        assign(&server, &person, &reader, &node).await;
        people.push(person.id);
        nodes.push(node.id);
    }

    let client = server.identities();
    let (listed, pages) = read_all(
        "ListIdentities",
        |page_token| {
            let mut client = client.clone();
            async move {
                let reply = (client.list_identities(pb::ListIdentitiesRequest {
                    page_size: 1000,
                    page_token,
                    kind: pb::IdentityKind::User.into(),
                    ..Default::default()
                }))
                .await?
                .into_inner();
                let next = reply.next_page_token.clone();
                Ok((reply, next))
            }
        },
        |r: &pb::ListIdentitiesResponse| r.identities.iter().map(|i| i.id.clone()).collect(),
    )
    .await;
    assert_eq!(
        sorted_ids(listed.iter().map(String::as_str)),
        sorted_ids(people.iter().map(String::as_str))
    );
    assert!(pages >= 3, "{pages} pages");

    let client = server.nodes();
    let (listed, pages) = read_all(
        "ListNodes",
        |page_token| {
            let mut client = client.clone();
            async move {
                let reply = (client.list_nodes(pb::ListNodesRequest {
                    parent: node_by_key("root"),
                    page_size: 1000,
                    page_token,
                }))
                .await?
                .into_inner();
                let next = reply.next_page_token.clone();
                Ok((reply, next))
            }
        },
        |r: &pb::ListNodesResponse| r.nodes.iter().map(|n| n.id.clone()).collect(),
    )
    .await;
    assert_eq!(
        sorted_ids(listed.iter().map(String::as_str)),
        sorted_ids(nodes.iter().map(String::as_str))
    );
    assert!(pages >= 3, "{pages} pages");

    let client = server.assignments();
    let (listed, pages) = read_all(
        "ListAssignments",
        |page_token| {
            let mut client = client.clone();
            async move {
                let reply = (client.list_assignments(pb::ListAssignmentsRequest {
                    role: role_by_name("Reader"),
                    page_size: 1000,
                    page_token,
                    ..Default::default()
                }))
                .await?
                .into_inner();
                let next = reply.next_page_token.clone();
                Ok((reply, next))
            }
        },
        |r: &pb::ListAssignmentsResponse| r.assignments.iter().map(|a| a.id.clone()).collect(),
    )
    .await;
    assert_eq!(listed.len(), 2 * PEOPLE);
    assert!(pages >= 2, "{pages} pages");

    let client = server.authorization();
    let leaf = nodes[PEOPLE - 1].clone();
    let (listed, pages) = read_all(
        "LookupIdentities",
        |page_token| {
            let mut client = client.clone();
            let leaf = leaf.clone();
            async move {
                let reply = (client.lookup_identities(pb::LookupIdentitiesRequest {
                    permission: "Docs:Read".into(),
                    node: node_by_id(&leaf),
                    page_size: 1000,
                    page_token,
                    ..Default::default()
                }))
                .await?
                .into_inner();
                let next = reply.next_page_token.clone();
                Ok((reply, next))
            }
        },
        |r: &pb::LookupIdentitiesResponse| r.identities.iter().map(|i| i.id.clone()).collect(),
    )
    .await;
    // The bootstrap admin holds `*` at the root, so it is found beside the people.
    let admins = (server.identities())
        .list_identities(pb::ListIdentitiesRequest {
            kind: pb::IdentityKind::ServiceAccount.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .identities;
    assert_eq!(admins.len(), 1, "one bootstrap admin");
    let expected = people.iter().chain(admins.iter().map(|a| &a.id));
    assert_eq!(
        sorted_ids(listed.iter().map(String::as_str)),
        sorted_ids(expected.map(String::as_str))
    );
    assert!(pages >= 2, "{pages} pages");

    let first = people[0].clone();
    let (listed, pages) = read_all(
        "LookupNodes",
        |page_token| {
            let mut client = client.clone();
            let first = first.clone();
            async move {
                let reply = (client.lookup_nodes(pb::LookupNodesRequest {
                    identity: identity_by_id(&first),
                    permission: "Docs:Read".into(),
                    page_size: 1000,
                    page_token,
                    ..Default::default()
                }))
                .await?
                .into_inner();
                let next = reply.next_page_token.clone();
                Ok((reply, next))
            }
        },
        |r: &pb::LookupNodesResponse| r.nodes.iter().map(|n| n.id.clone()).collect(),
    )
    .await;
    let mut everywhere = nodes.clone();
    everywhere.push(root.id.clone());
    assert_eq!(
        sorted_ids(listed.iter().map(String::as_str)),
        sorted_ids(everywhere.iter().map(String::as_str))
    );
    assert!(pages >= 2, "{pages} pages");
}
