//! Authentication by API key and rbacd's own authorization, end to end:
//! every RPC refused without a valid key; health and reflection open;
//! environments isolated from each other; API keys created, listed without
//! secrets, revoked; a delegated admin confined to its subtree; the last
//! Administrator protected; changes attributed to the key's identity.

mod admin_keys;
mod api_keys;
mod authentication;
mod delegated_admin;
mod environments;
mod every_rpc;
mod granting;
mod last_administrator;
mod read_scope;

use std::{collections::BTreeSet, time::Duration};

use crate::support::*;
use prost::Message;
use rbacd::proto::v1 as pb;
use tonic::{Code, Status};

async fn create_service_account(server: &TestServer, name: &str) -> pb::Identity {
    server
        .identities()
        .create_identity(pb::CreateIdentityRequest {
            assignments: Default::default(),
            request_id: Default::default(),
            kind: pb::IdentityKind::ServiceAccount.into(),
            email: String::new(),
            external_id: format!("svc|{name}"),
            display_name: name.into(),
        })
        .await
        .unwrap_or_else(|e| panic!("create service account {name}: {e:?}"))
        .into_inner()
        .identity
        .expect("an identity")
}

async fn create_key(server: &TestServer, identity: &pb::Identity) -> pb::CreateApiKeyResponse {
    server
        .identities()
        .create_api_key(pb::CreateApiKeyRequest {
            request_id: Default::default(),
            identity: identity_by_id(&identity.id),
            name: format!("key of {}", identity.display_name),
        })
        .await
        .unwrap_or_else(|e| panic!("create API key: {e:?}"))
        .into_inner()
}

/// A service account holding `role` at `node`, and a key for it.
async fn account_with_key(
    server: &TestServer,
    name: &str,
    role: &pb::Role,
    node: &pb::Node,
) -> (pb::Identity, String) {
    let account = create_service_account(server, name).await;
    assign(server, &account, role, node).await;
    let key = create_key(server, &account).await;
    (account, key.secret)
}

async fn administrator(server: &TestServer) -> pb::Role {
    server
        .roles()
        .get_role(pb::GetRoleRequest {
            role: role_by_name("Administrator"),
        })
        .await
        .expect("the built-in Administrator role")
        .into_inner()
        .role
        .unwrap()
}

/// The assignments of `Administrator` at the root.
async fn admin_assignments(server: &TestServer) -> Vec<pb::Assignment> {
    list_all_assignments(
        server,
        pb::ListAssignmentsRequest {
            role: role_by_name("Administrator"),
            node: node_by_key("root"),
            ..Default::default()
        },
    )
    .await
}

fn by_names(identity: &pb::Identity, role: &str, node: &str) -> pb::CreateAssignmentRequest {
    pb::CreateAssignmentRequest {
        request_id: Default::default(),
        identity: identity_by_id(&identity.id),
        role: role_by_name(role),
        node: node_by_key(node),
        effective_from: None,
        effective_to: None,
    }
}

fn check_request(identity: Option<pb::IdentityRef>, node: Option<pb::NodeRef>) -> pb::CheckRequest {
    pb::CheckRequest {
        correlation_id: "x".into(),
        identity,
        permission: "Docs:Read".into(),
        node,
        at: None,
        min_revision: 0,
    }
}

/// PERMISSION_DENIED naming the missing permission and the node.
#[track_caller]
fn expect_denied<T: std::fmt::Debug>(result: Result<T, Status>, permission: &str, node: &str) {
    let status = expect_code(result, Code::PermissionDenied);
    assert!(
        status.message().contains(permission) && status.message().contains(node),
        "PERMISSION_DENIED should name `{permission}` and `{node}`: {}",
        status.message()
    );
}
