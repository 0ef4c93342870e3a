//! Objects created through the API for a test to work on.

use rbacd::proto::v1 as pb;

use super::clients::Clients;
use super::refs::{identity_by_id, node_by_id, node_by_key, role_by_id};
use super::server::TestServer;

/// Creates a role with `permissions`; returns it.
pub async fn create_role(server: &TestServer, name: &str, permissions: &[&str]) -> pb::Role {
    server
        .roles()
        .create_role(pb::CreateRoleRequest {
            request_id: Default::default(),
            name: name.into(),
            description: String::new(),
            permissions: permissions.iter().map(|p| p.to_string()).collect(),
        })
        .await
        .unwrap_or_else(|e| panic!("create role {name}: {e:?}"))
        .into_inner()
        .role
        .expect("a role")
}

/// Creates an ACTIVE USER with `email`; returns it.
pub async fn create_user(server: &TestServer, email: &str) -> pb::Identity {
    server
        .identities()
        .create_identity(pb::CreateIdentityRequest {
            assignments: Default::default(),
            request_id: Default::default(),
            kind: pb::IdentityKind::User.into(),
            email: email.into(),
            external_id: String::new(),
            display_name: String::new(),
        })
        .await
        .unwrap_or_else(|e| panic!("create identity {email}: {e:?}"))
        .into_inner()
        .identity
        .expect("an identity")
}

/// Creates a node `key` under `parent` (the root when `None`); returns it.
pub async fn create_node(server: &TestServer, key: &str, parent: Option<&str>) -> pb::Node {
    server
        .nodes()
        .create_node(pb::CreateNodeRequest {
            request_id: Default::default(),
            key: key.into(),
            name: String::new(),
            kind: String::new(),
            parent: parent.and_then(node_by_key),
        })
        .await
        .unwrap_or_else(|e| panic!("create node {key}: {e:?}"))
        .into_inner()
        .node
        .expect("a node")
}

/// A CreateAssignmentRequest naming identity by id, role by id, node by id.
pub fn assignment_request(
    identity: &pb::Identity,
    role: &pb::Role,
    node: &pb::Node,
) -> pb::CreateAssignmentRequest {
    pb::CreateAssignmentRequest {
        request_id: Default::default(),
        identity: identity_by_id(&identity.id),
        role: role_by_id(&role.id),
        node: node_by_id(&node.id),
        effective_from: None,
        effective_to: None,
    }
}

/// Creates an assignment; returns it.
pub async fn assign(
    server: &TestServer,
    identity: &pb::Identity,
    role: &pb::Role,
    node: &pb::Node,
) -> pb::Assignment {
    server
        .assignments()
        .create_assignment(assignment_request(identity, role, node))
        .await
        .unwrap_or_else(|e| panic!("create assignment: {e:?}"))
        .into_inner()
        .assignment
        .expect("an assignment")
}

/// The root node.
pub async fn root(server: &TestServer) -> pb::Node {
    server
        .nodes()
        .get_node(pb::GetNodeRequest {
            node: node_by_key("root"),
        })
        .await
        .expect("the root node exists")
        .into_inner()
        .node
        .expect("a node")
}

/// Every assignment matching `request`, read page by page (of `page_size`)
/// to the end; panics on a repeated id.
pub async fn list_all_assignments(
    server: &TestServer,
    mut request: pb::ListAssignmentsRequest,
) -> Vec<pb::Assignment> {
    let mut client = server.assignments();
    let mut all: Vec<pb::Assignment> = Vec::new();
    request.page_token.clear();
    loop {
        let page = client
            .list_assignments(request.clone())
            .await
            .expect("list assignments")
            .into_inner();
        if request.page_size > 0 {
            assert!(page.assignments.len() <= request.page_size as usize);
        }
        for a in page.assignments {
            assert!(
                all.iter().all(|seen| seen.id != a.id),
                "assignment {} listed twice",
                a.id
            );
            all.push(a);
        }
        if page.next_page_token.is_empty() {
            return all;
        }
        request.page_token = page.next_page_token;
    }
}

/// Ids of assignments, sorted.
pub fn sorted_ids<'a>(ids: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut ids: Vec<String> = ids.into_iter().map(str::to_owned).collect();
    ids.sort();
    ids
}

/// Creates environment `name` directly in the server's database, as `rbacd
/// environment create` does, with admin key `key`; waits until the server
/// accepts that key and returns clients sending it.
pub async fn create_environment(server: &TestServer, name: &str, key: &str) -> Clients {
    let store = rbacd::store::Store::connect(server.database_url())
        .await
        .expect("a second store on the same database");
    store
        .create_environment(name, Some(key.into()))
        .await
        .unwrap_or_else(|e| panic!("create environment {name}: {e}"));
    store.close().await;
    let clients = server.clients(Some(key));
    let started = std::time::Instant::now();
    loop {
        match clients
            .roles
            .clone()
            .list_roles(pb::ListRolesRequest::default())
            .await
        {
            Ok(_) => return clients,
            Err(s) if s.code() == tonic::Code::Unauthenticated => {
                assert!(
                    started.elapsed() < std::time::Duration::from_secs(15),
                    "the server never learned the key of {name}: {s:?}"
                );
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(s) => panic!("ListRoles in {name}: {s:?}"),
        }
    }
}
