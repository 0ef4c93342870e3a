//! A page stops before 4 MiB encoded, whatever its page size, and
//! `next_page_token` continues: a client with gRPC's default 4 MiB receive
//! limit reads every page.

use super::*;

/// Roles of 1,000 long permissions each: about 200 kB a role, and as much
/// again in the change that created it.
async fn large_roles(server: &TestServer, count: usize) {
    let padding = "x".repeat(180);
    for r in 0..count {
        let permissions: Vec<String> = (0..1000)
            .map(|p| format!("Large{r}:{padding}:P{p}"))
            .collect();
        let permissions: Vec<&str> = permissions.iter().map(String::as_str).collect();
        create_role(server, &format!("Large_{r}"), &permissions).await;
    }
}

#[tokio::test]
async fn pages_of_large_changes_and_roles_stop_before_4_mib() {
    const ROLES: usize = 30;
    let server = TestServer::start().await;
    large_roles(&server, ROLES).await;

    let mut audit = server.audit();
    let mut request = pb::ListChangesRequest {
        object_kind: pb::ObjectKind::Role.into(),
        page_size: 1000,
        ..Default::default()
    };
    let (mut changes, mut pages) = (Vec::new(), 0);
    loop {
        let page = audit
            .list_changes(request.clone())
            .await
            .expect("every page fits a default client")
            .into_inner();
        pages += 1;
        changes.extend(page.changes.iter().map(|c| c.revision));
        if page.next_page_token.is_empty() {
            break;
        }
        request.page_token = page.next_page_token;
    }
    assert!(pages > 1, "6 MB of changes take more than one page");
    assert!(
        changes.windows(2).all(|w| w[0] < w[1]),
        "in order, no repeats"
    );
    // The Administrator role's creation, then the large ones.
    assert_eq!(changes.len(), ROLES + 1);

    let mut roles = server.roles();
    let mut request = pb::ListRolesRequest {
        page_size: 1000,
        ..Default::default()
    };
    let (mut listed, mut pages) = (Vec::new(), 0);
    loop {
        let page = roles
            .list_roles(request.clone())
            .await
            .expect("every page fits a default client")
            .into_inner();
        pages += 1;
        listed.extend(page.roles.into_iter().map(|r| r.id));
        if page.next_page_token.is_empty() {
            break;
        }
        request.page_token = page.next_page_token;
    }
    assert!(pages > 1);
    let mut unique = listed.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((listed.len(), unique.len()), (ROLES + 1, ROLES + 1));
}
