//! Authentication by API key and rbacd's own authorization, end to end:
//! every RPC refused without a valid key; health and reflection open;
//! environments isolated from each other; API keys created, listed without
//! secrets, revoked; a delegated admin confined to its subtree; the last
//! Administrator protected; changes attributed to the key's identity.

mod common;

use std::{collections::BTreeSet, future::Future, pin::Pin, time::Duration};

use common::*;
use prost::Message;
use rbacd::proto::v1::{
    self as pb, assignment_service_client::AssignmentServiceClient,
    audit_service_client::AuditServiceClient,
    authorization_service_client::AuthorizationServiceClient,
    identity_service_client::IdentityServiceClient, node_service_client::NodeServiceClient,
    role_service_client::RoleServiceClient,
};
use tonic::{
    Code, Request, Status,
    metadata::{Ascii, MetadataValue},
    service::{Interceptor, interceptor::InterceptedService},
    transport::Channel,
};

// ---------------------------------------------------------------- clients with any key, or none

/// Sends `x-api-key` when it has one; sends nothing otherwise.
#[derive(Clone)]
struct MaybeKey(Option<MetadataValue<Ascii>>);

impl Interceptor for MaybeKey {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(key) = &self.0 {
            request.metadata_mut().insert("x-api-key", key.clone());
        }
        Ok(request)
    }
}

type Ch = InterceptedService<Channel, MaybeKey>;

/// A client of every rbacd service, all sending the same key (or none).
#[derive(Clone)]
struct Clients {
    audit: AuditServiceClient<Ch>,
    roles: RoleServiceClient<Ch>,
    identities: IdentityServiceClient<Ch>,
    nodes: NodeServiceClient<Ch>,
    assignments: AssignmentServiceClient<Ch>,
    authz: AuthorizationServiceClient<Ch>,
}

impl Clients {
    fn new(server: &TestServer, key: Option<&str>) -> Self {
        let key = MaybeKey(key.map(|k| k.parse().expect("an ASCII key")));
        let ch = InterceptedService::new(server.channel.clone(), key);
        Self {
            audit: AuditServiceClient::new(ch.clone()),
            roles: RoleServiceClient::new(ch.clone()),
            identities: IdentityServiceClient::new(ch.clone()),
            nodes: NodeServiceClient::new(ch.clone()),
            assignments: AssignmentServiceClient::new(ch.clone()),
            authz: AuthorizationServiceClient::new(ch),
        }
    }
}

// ---------------------------------------------------------------- helpers

async fn create_service_account(server: &TestServer, name: &str) -> pb::Identity {
    server
        .identities
        .clone()
        .create_identity(pb::CreateIdentityRequest {
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
        .identities
        .clone()
        .create_api_key(pb::CreateApiKeyRequest {
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
        .roles
        .clone()
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

// ---------------------------------------------------------------- every RPC, as a table

type Call = Pin<Box<dyn Future<Output = Result<(), Status>> + Send>>;

/// Pushes one call of `$method` on `$client` with `$request` onto `$calls`.
macro_rules! rpc {
    ($calls:ident, $client:expr, $method:ident, $request:expr) => {{
        let mut client = $client.clone();
        let request = $request;
        $calls.push((
            stringify!($method),
            Box::pin(async move { client.$method(request).await.map(|_| ()) }) as Call,
        ));
    }};
}

/// Objects of `default` the table's requests name.
struct Fixture {
    role: pb::Role,
    user: pb::Identity,
    account: pb::Identity,
    api_key: pb::ApiKey,
    node: pb::Node,
    child: pb::Node,
    assignment: pb::Assignment,
}

async fn fixture(server: &TestServer) -> Fixture {
    let role = create_role(server, "Docs_Reader", &["Docs:Read"]).await;
    let user = create_user(server, "alice@example.com").await;
    let account = create_service_account(server, "robot").await;
    let api_key = create_key(server, &account).await.api_key.unwrap();
    let node = create_node(server, "payments", None).await;
    let child = create_node(server, "payments:eu", Some("payments")).await;
    let assignment = assign(server, &user, &role, &node).await;
    Fixture {
        role,
        user,
        account,
        api_key,
        node,
        child,
        assignment,
    }
}

/// One call of every RPC of the six services, each with a well-formed request.
fn every_rpc(c: &Clients, f: &Fixture) -> Vec<(&'static str, Call)> {
    let mut calls: Vec<(&'static str, Call)> = Vec::new();
    let check = check_request(identity_by_id(&f.user.id), node_by_id(&f.node.id));

    rpc!(
        calls,
        c.roles,
        create_role,
        pb::CreateRoleRequest {
            name: "Another".into(),
            description: String::new(),
            permissions: vec!["Docs:Write".into()],
        }
    );
    rpc!(
        calls,
        c.roles,
        get_role,
        pb::GetRoleRequest {
            role: role_by_id(&f.role.id),
        }
    );
    rpc!(calls, c.roles, list_roles, pb::ListRolesRequest::default());
    rpc!(
        calls,
        c.roles,
        update_role,
        pb::UpdateRoleRequest {
            role: role_by_id(&f.role.id),
            description: Some("changed".into()),
            ..Default::default()
        }
    );
    rpc!(
        calls,
        c.roles,
        delete_role,
        pb::DeleteRoleRequest {
            role: role_by_id(&f.role.id),
            force: true,
        }
    );

    rpc!(
        calls,
        c.identities,
        create_identity,
        pb::CreateIdentityRequest {
            kind: pb::IdentityKind::User.into(),
            email: "bob@example.com".into(),
            external_id: String::new(),
            display_name: String::new(),
        }
    );
    rpc!(
        calls,
        c.identities,
        invite_identity,
        pb::InviteIdentityRequest {
            kind: pb::IdentityKind::User.into(),
            email: "carol@example.com".into(),
            external_id: String::new(),
            display_name: String::new(),
            assignments: vec![pb::InitialAssignment {
                node: node_by_id(&f.node.id),
                role: role_by_id(&f.role.id),
                effective_from: None,
                effective_to: None,
            }],
        }
    );
    rpc!(
        calls,
        c.identities,
        get_identity,
        pb::GetIdentityRequest {
            identity: identity_by_id(&f.user.id),
        }
    );
    rpc!(
        calls,
        c.identities,
        list_identities,
        pb::ListIdentitiesRequest::default()
    );
    rpc!(
        calls,
        c.identities,
        update_identity,
        pb::UpdateIdentityRequest {
            identity: identity_by_id(&f.user.id),
            display_name: Some("Alice".into()),
            email: None,
            external_id: None,
        }
    );
    rpc!(
        calls,
        c.identities,
        activate_identity,
        pb::ActivateIdentityRequest {
            identity: identity_by_id(&f.user.id),
        }
    );
    rpc!(
        calls,
        c.identities,
        disable_identity,
        pb::DisableIdentityRequest {
            identity: identity_by_id(&f.user.id),
        }
    );
    rpc!(
        calls,
        c.identities,
        delete_identity,
        pb::DeleteIdentityRequest {
            identity: identity_by_id(&f.user.id),
        }
    );
    rpc!(
        calls,
        c.identities,
        create_api_key,
        pb::CreateApiKeyRequest {
            identity: identity_by_id(&f.account.id),
            name: "another".into(),
        }
    );
    rpc!(
        calls,
        c.identities,
        list_api_keys,
        pb::ListApiKeysRequest::default()
    );
    rpc!(
        calls,
        c.identities,
        revoke_api_key,
        pb::RevokeApiKeyRequest {
            api_key_id: f.api_key.id.clone(),
        }
    );

    rpc!(
        calls,
        c.nodes,
        create_node,
        pb::CreateNodeRequest {
            key: "treasury".into(),
            name: String::new(),
            kind: String::new(),
            parent: None,
        }
    );
    rpc!(
        calls,
        c.nodes,
        get_node,
        pb::GetNodeRequest {
            node: node_by_id(&f.node.id),
        }
    );
    rpc!(calls, c.nodes, list_nodes, pb::ListNodesRequest::default());
    rpc!(
        calls,
        c.nodes,
        move_node,
        pb::MoveNodeRequest {
            node: node_by_id(&f.child.id),
            new_parent: node_by_key("root"),
        }
    );
    rpc!(
        calls,
        c.nodes,
        delete_node,
        pb::DeleteNodeRequest {
            node: node_by_id(&f.child.id),
            cascade: true,
        }
    );

    rpc!(
        calls,
        c.assignments,
        create_assignment,
        pb::CreateAssignmentRequest {
            identity: identity_by_id(&f.account.id),
            role: role_by_id(&f.role.id),
            node: node_by_id(&f.node.id),
            effective_from: None,
            effective_to: None,
        }
    );
    rpc!(
        calls,
        c.assignments,
        batch_create_assignments,
        pb::BatchCreateAssignmentsRequest {
            assignments: vec![pb::CreateAssignmentRequest {
                identity: identity_by_id(&f.account.id),
                role: role_by_id(&f.role.id),
                node: node_by_key("root"),
                effective_from: None,
                effective_to: None,
            }],
        }
    );
    rpc!(
        calls,
        c.assignments,
        get_assignment,
        pb::GetAssignmentRequest {
            id: f.assignment.id.clone(),
        }
    );
    rpc!(
        calls,
        c.assignments,
        list_assignments,
        pb::ListAssignmentsRequest::default()
    );
    rpc!(
        calls,
        c.assignments,
        delete_assignment,
        pb::DeleteAssignmentRequest {
            id: f.assignment.id.clone(),
            ..Default::default()
        }
    );

    rpc!(calls, c.authz, check, check.clone());
    rpc!(
        calls,
        c.authz,
        batch_check,
        pb::BatchCheckRequest {
            checks: vec![check.clone()],
        }
    );
    rpc!(
        calls,
        c.authz,
        check_stream,
        tokio_stream::iter(vec![check.clone()])
    );
    rpc!(
        calls,
        c.authz,
        list_permissions,
        pb::ListPermissionsRequest {
            identity: identity_by_id(&f.user.id),
            ..Default::default()
        }
    );
    rpc!(
        calls,
        c.authz,
        lookup_nodes,
        pb::LookupNodesRequest {
            identity: identity_by_id(&f.user.id),
            permission: "Docs:Read".into(),
            ..Default::default()
        }
    );
    rpc!(
        calls,
        c.audit,
        list_changes,
        pb::ListChangesRequest::default()
    );
    rpc!(
        calls,
        c.audit,
        watch,
        pb::WatchRequest {
            after_revision: 0,
            ..Default::default()
        }
    );
    rpc!(
        calls,
        c.authz,
        lookup_identities,
        pb::LookupIdentitiesRequest {
            permission: "Docs:Read".into(),
            node: node_by_id(&f.node.id),
            ..Default::default()
        }
    );

    rpc!(
        calls,
        c.audit,
        list_changes,
        pb::ListChangesRequest::default()
    );
    rpc!(
        calls,
        c.audit,
        watch,
        pb::WatchRequest {
            after_revision: 0,
            ..Default::default()
        }
    );
    calls
}

/// Every RPC with `key` (or none) must be UNAUTHENTICATED, with a message.
async fn assert_every_rpc_unauthenticated(
    server: &TestServer,
    f: &Fixture,
    key: Option<&str>,
    says: &str,
) {
    let calls = every_rpc(&Clients::new(server, key), f);
    let names: BTreeSet<&str> = calls.iter().map(|(n, _)| *n).collect();
    assert_eq!(names.len(), 34, "every RPC of the six services, once");
    for (name, call) in calls {
        let status = call
            .await
            .expect_err(&format!("{name} with key {key:?} must be refused"));
        assert_eq!(
            status.code(),
            Code::Unauthenticated,
            "{name} with key {key:?}: {status:?}"
        );
        assert!(
            status.message().contains(says),
            "{name} with key {key:?} should say `{says}`: {}",
            status.message()
        );
    }
}

#[tokio::test]
async fn every_rpc_needs_a_valid_api_key() {
    let server = TestServer::start().await;
    let f = fixture(&server).await;
    let root = root(&server).await;
    let admin = administrator(&server).await;

    assert_every_rpc_unauthenticated(&server, &f, None, "x-api-key").await;
    for garbage in [
        "",
        "garbage",
        "rbacd_test_admin_key_0123456789abcdeX",
        "rbacd_test_admin_key_0123456789abcde ",
        &"x".repeat(4096),
    ] {
        assert_every_rpc_unauthenticated(&server, &f, Some(garbage), "API key").await;
    }

    // A revoked key, and the key of a disabled identity, of accounts that are
    // otherwise allowed everything.
    let (_, revoked) = account_with_key(&server, "revoked", &admin, &root).await;
    let (disabled, disabled_key) = account_with_key(&server, "disabled", &admin, &root).await;
    let revoked_id = server
        .identities
        .clone()
        .list_api_keys(pb::ListApiKeysRequest::default())
        .await
        .unwrap()
        .into_inner()
        .api_keys
        .into_iter()
        .find(|k| revoked.starts_with(&k.prefix) && k.name == "key of revoked")
        .expect("the key is listed")
        .id;
    Clients::new(&server, Some(&revoked))
        .roles
        .list_roles(pb::ListRolesRequest::default())
        .await
        .expect("the key works before it is revoked");
    server
        .identities
        .clone()
        .revoke_api_key(pb::RevokeApiKeyRequest {
            api_key_id: revoked_id,
        })
        .await
        .expect("revoke");
    server
        .identities
        .clone()
        .disable_identity(pb::DisableIdentityRequest {
            identity: identity_by_id(&disabled.id),
        })
        .await
        .expect("disable");
    assert_every_rpc_unauthenticated(&server, &f, Some(&revoked), "revoked").await;
    assert_every_rpc_unauthenticated(&server, &f, Some(&disabled_key), "not ACTIVE").await;

    // With a valid key the same table reaches the handlers (whatever they answer).
    for (name, call) in every_rpc(&Clients::new(&server, Some(ADMIN_KEY)), &f) {
        if let Err(status) = call.await {
            assert_ne!(
                status.code(),
                Code::Unauthenticated,
                "{name} with the admin key: {status:?}"
            );
            assert_ne!(status.code(), Code::PermissionDenied, "{name}: {status:?}");
        }
    }
}

#[tokio::test]
async fn health_and_reflection_need_no_key() {
    use tonic_health::pb::{
        HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
    };
    let server = TestServer::start().await;
    let mut health = HealthClient::new(server.channel.clone());
    for service in [
        "",
        "rbacd.v1.RoleService",
        "rbacd.v1.IdentityService",
        "rbacd.v1.NodeService",
        "rbacd.v1.AssignmentService",
        "rbacd.v1.AuthorizationService",
    ] {
        let status = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap_or_else(|e| panic!("health of `{service}` without a key: {e:?}"))
            .into_inner()
            .status();
        assert_eq!(status, ServingStatus::Serving, "`{service}`");
    }

    let expected = [
        "rbacd.v1.RoleService",
        "rbacd.v1.IdentityService",
        "rbacd.v1.NodeService",
        "rbacd.v1.AssignmentService",
        "rbacd.v1.AuthorizationService",
        "grpc.health.v1.Health",
    ];
    {
        use tonic_reflection::pb::v1::{
            ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
            server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
        };
        let mut client = ServerReflectionClient::new(server.channel.clone());
        let mut answers = client
            .server_reflection_info(tokio_stream::iter(vec![ServerReflectionRequest {
                host: String::new(),
                message_request: Some(MessageRequest::ListServices(String::new())),
            }]))
            .await
            .expect("reflection v1 without a key")
            .into_inner();
        let answer = answers.message().await.unwrap().expect("an answer");
        let Some(MessageResponse::ListServicesResponse(list)) = answer.message_response else {
            panic!("not a service list: {answer:?}");
        };
        let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
        for service in expected {
            assert!(names.iter().any(|n| n == service), "{service} in {names:?}");
        }
    }
    {
        use tonic_reflection::pb::v1alpha::{
            ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
            server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
        };
        let mut client = ServerReflectionClient::new(server.channel.clone());
        let mut answers = client
            .server_reflection_info(tokio_stream::iter(vec![ServerReflectionRequest {
                host: String::new(),
                message_request: Some(MessageRequest::FileContainingSymbol(
                    "rbacd.v1.CheckRequest".into(),
                )),
            }]))
            .await
            .expect("reflection v1alpha without a key")
            .into_inner();
        let answer = answers.message().await.unwrap().expect("an answer");
        let Some(MessageResponse::FileDescriptorResponse(files)) = answer.message_response else {
            panic!("not a file descriptor: {answer:?}");
        };
        assert!(!files.file_descriptor_proto.is_empty());
    }
}

// ---------------------------------------------------------------- environments

const STAGING_KEY: &str = "rbacd_test_staging_key_0123456789abcdef";

/// Creates environment `staging` directly in the server's database, as
/// `rbacd environment create` does, and waits until the server accepts its key.
async fn provision_staging(server: &TestServer) -> Clients {
    let store = rbacd::store::Store::connect(server.database_url())
        .await
        .expect("a second store on the same database");
    store
        .create_environment("staging", Some(STAGING_KEY.into()))
        .await
        .expect("create environment staging");
    store.close().await;
    let staging = Clients::new(server, Some(STAGING_KEY));
    let started = std::time::Instant::now();
    loop {
        match staging
            .roles
            .clone()
            .list_roles(pb::ListRolesRequest::default())
            .await
        {
            Ok(_) => return staging,
            Err(s) if s.code() == Code::Unauthenticated => {
                assert!(
                    started.elapsed() < Duration::from_secs(15),
                    "the server never learned the staging key: {s:?}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(s) => panic!("ListRoles in staging: {s:?}"),
        }
    }
}

#[tokio::test]
async fn an_environment_sees_and_touches_nothing_of_another() {
    let server = TestServer::start().await;
    let f = fixture(&server).await;
    let s = provision_staging(&server).await;
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
        .identities
        .clone()
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

    // RoleService.
    let (mut roles, mut identities, mut nodes, mut assignments, mut authz) = (
        s.roles.clone(),
        s.identities.clone(),
        s.nodes.clone(),
        s.assignments.clone(),
        s.authz.clone(),
    );
    expect_code(
        roles
            .get_role(pb::GetRoleRequest {
                role: role_by_id(&f.role.id),
            })
            .await,
        nf,
    );
    expect_code(
        roles
            .get_role(pb::GetRoleRequest {
                role: role_by_name(&f.role.name),
            })
            .await,
        nf,
    );
    expect_code(
        roles
            .update_role(pb::UpdateRoleRequest {
                role: role_by_id(&f.role.id),
                permissions: vec!["*".into()],
                ..Default::default()
            })
            .await,
        nf,
    );
    expect_code(
        roles
            .delete_role(pb::DeleteRoleRequest {
                role: role_by_id(&f.role.id),
                force: true,
            })
            .await,
        nf,
    );

    // IdentityService.
    for who in [
        identity_by_id(&f.user.id),
        identity_by_email(&f.user.email),
        identity_by_external_id(&f.account.external_id),
    ] {
        expect_code(
            identities
                .get_identity(pb::GetIdentityRequest {
                    identity: who.clone(),
                })
                .await,
            nf,
        );
    }
    let alice = identity_by_id(&f.user.id);
    expect_code(
        identities
            .update_identity(pb::UpdateIdentityRequest {
                identity: alice.clone(),
                display_name: Some("hijacked".into()),
                email: None,
                external_id: None,
            })
            .await,
        nf,
    );
    expect_code(
        identities
            .disable_identity(pb::DisableIdentityRequest {
                identity: alice.clone(),
            })
            .await,
        nf,
    );
    expect_code(
        identities
            .activate_identity(pb::ActivateIdentityRequest {
                identity: alice.clone(),
            })
            .await,
        nf,
    );
    expect_code(
        identities
            .delete_identity(pb::DeleteIdentityRequest {
                identity: alice.clone(),
            })
            .await,
        nf,
    );
    expect_code(
        identities
            .create_api_key(pb::CreateApiKeyRequest {
                identity: identity_by_id(&f.account.id),
                name: String::new(),
            })
            .await,
        nf,
    );
    expect_code(
        identities
            .list_api_keys(pb::ListApiKeysRequest {
                identity: identity_by_id(&f.account.id),
                ..Default::default()
            })
            .await,
        nf,
    );
    expect_code(
        identities
            .revoke_api_key(pb::RevokeApiKeyRequest {
                api_key_id: f.api_key.id.clone(),
            })
            .await,
        nf,
    );
    for (node, role) in [
        (node_by_id(&f.node.id), role_by_name("Administrator")),
        (node_by_key("root"), role_by_id(&f.role.id)),
    ] {
        expect_code(
            identities
                .invite_identity(pb::InviteIdentityRequest {
                    kind: pb::IdentityKind::User.into(),
                    email: "mallory@example.com".into(),
                    external_id: String::new(),
                    display_name: String::new(),
                    assignments: vec![pb::InitialAssignment {
                        node,
                        role,
                        effective_from: None,
                        effective_to: None,
                    }],
                })
                .await,
            nf,
        );
    }

    // NodeService.
    for node in [
        node_by_id(&f.node.id),
        node_by_id(&f.child.id),
        node_by_key("payments:eu"),
    ] {
        expect_code(
            nodes
                .get_node(pb::GetNodeRequest { node: node.clone() })
                .await,
            nf,
        );
    }
    expect_code(
        nodes
            .list_nodes(pb::ListNodesRequest {
                parent: node_by_id(&f.node.id),
                ..Default::default()
            })
            .await,
        nf,
    );
    expect_code(
        nodes
            .create_node(pb::CreateNodeRequest {
                key: "intruder".into(),
                name: String::new(),
                kind: String::new(),
                parent: node_by_id(&f.node.id),
            })
            .await,
        nf,
    );
    expect_code(
        nodes
            .move_node(pb::MoveNodeRequest {
                node: node_by_id(&f.child.id),
                new_parent: node_by_key("root"),
            })
            .await,
        nf,
    );
    expect_code(
        nodes
            .move_node(pb::MoveNodeRequest {
                node: node_by_id(&staging_node.id),
                new_parent: node_by_id(&f.node.id),
            })
            .await,
        nf,
    );
    expect_code(
        nodes
            .delete_node(pb::DeleteNodeRequest {
                node: node_by_id(&f.node.id),
                cascade: true,
            })
            .await,
        nf,
    );

    // AssignmentService.
    expect_code(
        assignments
            .get_assignment(pb::GetAssignmentRequest {
                id: f.assignment.id.clone(),
            })
            .await,
        nf,
    );
    expect_code(
        assignments
            .delete_assignment(pb::DeleteAssignmentRequest {
                id: f.assignment.id.clone(),
                ..Default::default()
            })
            .await,
        nf,
    );
    expect_code(
        assignments
            .delete_assignment(pb::DeleteAssignmentRequest {
                id: String::new(),
                identity: identity_by_id(&f.user.id),
                role: role_by_id(&f.role.id),
                node: node_by_id(&f.node.id),
            })
            .await,
        nf,
    );
    let foreign_refs = [
        // Someone of default, granted in staging.
        (
            identity_by_id(&f.user.id),
            role_by_name("Administrator"),
            node_by_key("root"),
        ),
        // A role of default.
        (
            identity_by_id(&staging_admin.id),
            role_by_id(&f.role.id),
            node_by_key("root"),
        ),
        (
            identity_by_id(&staging_admin.id),
            role_by_name(&f.role.name),
            node_by_key("root"),
        ),
        // A node of default.
        (
            identity_by_id(&staging_admin.id),
            role_by_name("Administrator"),
            node_by_id(&f.node.id),
        ),
    ];
    for (identity, role, node) in foreign_refs.clone() {
        expect_code(
            assignments
                .create_assignment(pb::CreateAssignmentRequest {
                    identity,
                    role,
                    node,
                    effective_from: None,
                    effective_to: None,
                })
                .await,
            nf,
        );
    }
    for (identity, role, node) in foreign_refs {
        expect_code(
            assignments
                .batch_create_assignments(pb::BatchCreateAssignmentsRequest {
                    assignments: vec![
                        pb::CreateAssignmentRequest {
                            identity: identity_by_id(&staging_admin.id),
                            role: role_by_name("Administrator"),
                            node: node_by_key("payments"),
                            effective_from: None,
                            effective_to: None,
                        },
                        pb::CreateAssignmentRequest {
                            identity,
                            role,
                            node,
                            effective_from: None,
                            effective_to: None,
                        },
                    ],
                })
                .await,
            nf,
        );
    }
    for filter in [
        pb::ListAssignmentsRequest {
            identity: identity_by_id(&f.user.id),
            ..Default::default()
        },
        pb::ListAssignmentsRequest {
            node: node_by_id(&f.node.id),
            ..Default::default()
        },
        pb::ListAssignmentsRequest {
            role: role_by_id(&f.role.id),
            ..Default::default()
        },
    ] {
        expect_code(assignments.list_assignments(filter).await, nf);
    }

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
    expect_code(
        authz
            .list_permissions(pb::ListPermissionsRequest {
                identity: identity_by_id(&f.user.id),
                ..Default::default()
            })
            .await,
        nf,
    );
    expect_code(
        authz
            .list_permissions(pb::ListPermissionsRequest {
                identity: identity_by_id(&staging_admin.id),
                node: node_by_id(&f.node.id),
                ..Default::default()
            })
            .await,
        nf,
    );
    expect_code(
        authz
            .lookup_nodes(pb::LookupNodesRequest {
                identity: identity_by_id(&f.user.id),
                permission: "Docs:Read".into(),
                ..Default::default()
            })
            .await,
        nf,
    );
    expect_code(
        authz
            .lookup_nodes(pb::LookupNodesRequest {
                identity: identity_by_id(&staging_admin.id),
                permission: "Docs:Read".into(),
                root: node_by_id(&f.node.id),
                ..Default::default()
            })
            .await,
        nf,
    );
    expect_code(
        authz
            .lookup_identities(pb::LookupIdentitiesRequest {
                permission: "Docs:Read".into(),
                node: node_by_id(&f.node.id),
                ..Default::default()
            })
            .await,
        nf,
    );
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
    let d = Clients::new(&server, Some(ADMIN_KEY));
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

// ---------------------------------------------------------------- API keys

#[tokio::test]
async fn api_keys_are_shown_once_listed_without_secrets_and_revocable() {
    let server = TestServer::start().await;
    let root = root(&server).await;
    let lister = create_role(&server, "Role_Lister", &["Rbacd:Roles:Read"]).await;
    let deployer = create_service_account(&server, "deployer").await;
    assign(&server, &deployer, &lister, &root).await;

    let first = create_key(&server, &deployer).await;
    let second = create_key(&server, &deployer).await;
    let mut secrets = Vec::new();
    for created in [&first, &second] {
        let key = created.api_key.as_ref().expect("the key");
        assert!(is_uuid(&key.id));
        assert_eq!(key.identity_id, deployer.id);
        assert!(
            created.secret.len() >= 22,
            "at least 128 bits: {}",
            created.secret
        );
        assert!(!key.prefix.is_empty() && key.prefix.len() < created.secret.len() / 2);
        assert!(created.secret.starts_with(&key.prefix));
        assert!(key.revoke_time.is_none());
        assert!(created.revision > 0);
        secrets.push(created.secret.clone());
    }
    assert_ne!(secrets[0], secrets[1]);

    // Each works, and only for what its identity may do.
    for secret in &secrets {
        let c = Clients::new(&server, Some(secret));
        c.roles
            .clone()
            .list_roles(pb::ListRolesRequest::default())
            .await
            .expect("a fresh key works");
        expect_denied(
            c.roles
                .clone()
                .create_role(pb::CreateRoleRequest {
                    name: "Nope".into(),
                    description: String::new(),
                    permissions: vec![],
                })
                .await,
            "Rbacd:Roles:Write",
            "root",
        );
    }

    // A USER cannot hold a key.
    let user = create_user(&server, "alice@example.com").await;
    expect_code(
        server
            .identities
            .clone()
            .create_api_key(pb::CreateApiKeyRequest {
                identity: identity_by_id(&user.id),
                name: String::new(),
            })
            .await,
        Code::FailedPrecondition,
    );

    // Listing never shows a secret, nor its hash.
    let hashes: Vec<String> = secrets
        .iter()
        .map(|s| {
            use sha2::Digest;
            let digest = sha2::Sha256::digest(s.as_bytes());
            digest.iter().map(|b| format!("{b:02x}")).collect()
        })
        .collect();
    for request in [
        pb::ListApiKeysRequest::default(),
        pb::ListApiKeysRequest {
            identity: identity_by_id(&deployer.id),
            page_size: 1,
            ..Default::default()
        },
    ] {
        let listed = server
            .identities
            .clone()
            .list_api_keys(request)
            .await
            .expect("list API keys")
            .into_inner();
        assert!(!listed.api_keys.is_empty());
        let wire = listed.encode_to_vec();
        let text = format!("{listed:?}");
        for secret in secrets.iter().chain(&hashes) {
            assert!(
                !text.contains(secret.as_str()),
                "a secret or hash is listed"
            );
            assert!(
                !wire.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "a secret or hash is on the wire"
            );
        }
    }
    let listed = server
        .identities
        .clone()
        .list_api_keys(pb::ListApiKeysRequest {
            identity: identity_by_id(&deployer.id),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .api_keys;
    let ids: Vec<&str> = listed.iter().map(|k| k.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            first.api_key.as_ref().unwrap().id.as_str(),
            second.api_key.as_ref().unwrap().id.as_str()
        ]
    );

    // Revoking: the very next call with it is refused; the other key goes on.
    let revoked = server
        .identities
        .clone()
        .revoke_api_key(pb::RevokeApiKeyRequest {
            api_key_id: first.api_key.as_ref().unwrap().id.clone(),
        })
        .await
        .expect("revoke")
        .into_inner();
    assert!(revoked.api_key.unwrap().revoke_time.is_some());
    let first_client = Clients::new(&server, Some(&secrets[0]));
    let second_client = Clients::new(&server, Some(&secrets[1]));
    let list = |c: &Clients| {
        let mut roles = c.roles.clone();
        async move { roles.list_roles(pb::ListRolesRequest::default()).await }
    };
    let status = expect_code(list(&first_client).await, Code::Unauthenticated);
    assert!(status.message().contains("revoked"), "{status:?}");
    list(&second_client)
        .await
        .expect("the other key still works");
    expect_code(
        server
            .identities
            .clone()
            .revoke_api_key(pb::RevokeApiKeyRequest {
                api_key_id: first.api_key.as_ref().unwrap().id.clone(),
            })
            .await,
        Code::FailedPrecondition,
    );
    let listed = server
        .identities
        .clone()
        .list_api_keys(pb::ListApiKeysRequest {
            identity: identity_by_id(&deployer.id),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .api_keys;
    assert!(listed[0].revoke_time.is_some());
    assert!(listed[1].revoke_time.is_none());

    // Disabling the identity refuses its keys from the next call; activating restores them.
    server
        .identities
        .clone()
        .disable_identity(pb::DisableIdentityRequest {
            identity: identity_by_id(&deployer.id),
        })
        .await
        .expect("disable");
    expect_code(list(&second_client).await, Code::Unauthenticated);
    server
        .identities
        .clone()
        .activate_identity(pb::ActivateIdentityRequest {
            identity: identity_by_id(&deployer.id),
        })
        .await
        .expect("activate");
    list(&second_client).await.expect("works again once ACTIVE");
    expect_code(list(&first_client).await, Code::Unauthenticated);

    // Deleting the identity ends its keys too.
    server
        .identities
        .clone()
        .delete_identity(pb::DeleteIdentityRequest {
            identity: identity_by_id(&deployer.id),
        })
        .await
        .expect("delete");
    expect_code(list(&second_client).await, Code::Unauthenticated);
}

// ---------------------------------------------------------------- delegated administration

#[tokio::test]
async fn a_delegated_admin_acts_inside_its_subtree_only() {
    let server = TestServer::start().await;
    let root = root(&server).await;
    let payments = create_node(&server, "payments", None).await;
    let treasury = create_node(&server, "treasury", None).await;
    let eu = create_node(&server, "payments:eu", Some("payments")).await;
    create_node(&server, "payments:eu:wallet", Some("payments:eu")).await;
    create_node(&server, "treasury:vault", Some("treasury")).await;
    let team_role = create_role(
        &server,
        "Payments_Team_Admin",
        &[
            "Rbacd:Assignments:Write",
            "Rbacd:Assignments:Read",
            "Rbacd:Nodes:Write",
            "Rbacd:Nodes:Read",
        ],
    )
    .await;
    let reader = create_role(&server, "Wallet_Reader", &["Wallets:Read"]).await;
    let (team_admin, secret) = account_with_key(&server, "team-admin", &team_role, &payments).await;
    let alice = create_user(&server, "alice@example.com").await;
    let bob = create_user(&server, "bob@example.com").await;
    let at_treasury = assign(&server, &alice, &reader, &treasury).await;
    let t = Clients::new(&server, Some(&secret));
    let (mut roles, mut identities, mut nodes, mut assignments, mut authz) = (
        t.roles.clone(),
        t.identities.clone(),
        t.nodes.clone(),
        t.assignments.clone(),
        t.authz.clone(),
    );
    let write = "Rbacd:Assignments:Write";

    // Inside payments: allowed, by key and by id, at the node and below it.
    let granted = assignments
        .create_assignment(by_names(&alice, "Wallet_Reader", "payments"))
        .await
        .expect("grant at payments")
        .into_inner();
    let at_eu = assignments
        .create_assignment(assignment_request(&alice, &reader, &eu))
        .await
        .expect("grant at a child of payments")
        .into_inner()
        .assignment
        .unwrap();
    assignments
        .create_assignment(by_names(&bob, "Wallet_Reader", "payments:eu:wallet"))
        .await
        .expect("grant at a grandchild of payments");

    // Beside it and above it: refused, naming the permission and the node.
    expect_denied(
        assignments
            .create_assignment(by_names(&bob, "Wallet_Reader", "treasury"))
            .await,
        write,
        "treasury",
    );
    expect_denied(
        assignments
            .create_assignment(assignment_request(&bob, &reader, &treasury))
            .await,
        write,
        &treasury.id,
    );
    expect_denied(
        assignments
            .create_assignment(by_names(&bob, "Wallet_Reader", "treasury:vault"))
            .await,
        write,
        "treasury:vault",
    );
    expect_denied(
        assignments
            .create_assignment(by_names(&bob, "Wallet_Reader", "root"))
            .await,
        write,
        "root",
    );
    expect_denied(
        assignments
            .create_assignment(assignment_request(&team_admin, &team_role, &root))
            .await,
        write,
        &root.id,
    );
    expect_denied(
        assignments
            .delete_assignment(pb::DeleteAssignmentRequest {
                id: at_treasury.id.clone(),
                ..Default::default()
            })
            .await,
        write,
        &treasury.id,
    );
    expect_denied(
        assignments
            .get_assignment(pb::GetAssignmentRequest {
                id: at_treasury.id.clone(),
            })
            .await,
        "Rbacd:Assignments:Read",
        &treasury.id,
    );
    assignments
        .get_assignment(pb::GetAssignmentRequest {
            id: at_eu.id.clone(),
        })
        .await
        .expect("read inside payments");
    let listed = assignments
        .list_assignments(pb::ListAssignmentsRequest {
            node: node_by_key("payments"),
            ..Default::default()
        })
        .await
        .expect("list at payments")
        .into_inner()
        .assignments;
    assert_eq!(listed.len(), 2, "{listed:?}");
    expect_denied(
        assignments
            .list_assignments(pb::ListAssignmentsRequest::default())
            .await,
        "Rbacd:Assignments:Read",
        "root",
    );

    // A batch with one item outside its reach is refused whole.
    let before = list_all_assignments(&server, pb::ListAssignmentsRequest::default()).await;
    expect_denied(
        assignments
            .batch_create_assignments(pb::BatchCreateAssignmentsRequest {
                assignments: vec![
                    by_names(&bob, "Wallet_Reader", "payments"),
                    by_names(&bob, "Wallet_Reader", "payments:eu"),
                    by_names(&bob, "Wallet_Reader", "treasury"),
                ],
            })
            .await,
        write,
        "treasury",
    );
    let after = list_all_assignments(&server, pb::ListAssignmentsRequest::default()).await;
    assert_eq!(
        sorted_ids(after.iter().map(|a| a.id.as_str())),
        sorted_ids(before.iter().map(|a| a.id.as_str())),
        "nothing of a refused batch is written"
    );
    assignments
        .batch_create_assignments(pb::BatchCreateAssignmentsRequest {
            assignments: vec![
                by_names(&bob, "Wallet_Reader", "payments"),
                by_names(&bob, "Wallet_Reader", "payments:eu"),
            ],
        })
        .await
        .expect("a batch inside payments");

    // Roles are edited at the root only: no widening of its own reach.
    let roles_write = "Rbacd:Roles:Write";
    expect_denied(
        roles
            .create_role(pb::CreateRoleRequest {
                name: "Everything".into(),
                description: String::new(),
                permissions: vec!["*".into()],
            })
            .await,
        roles_write,
        "root",
    );
    for role in [&team_role, &reader] {
        expect_denied(
            roles
                .update_role(pb::UpdateRoleRequest {
                    role: role_by_id(&role.id),
                    permissions: vec!["*".into()],
                    ..Default::default()
                })
                .await,
            roles_write,
            "root",
        );
        expect_denied(
            roles
                .delete_role(pb::DeleteRoleRequest {
                    role: role_by_id(&role.id),
                    force: true,
                })
                .await,
            roles_write,
            "root",
        );
    }
    // Nor identities, nor checks, which live at the root.
    expect_denied(
        identities
            .create_identity(pb::CreateIdentityRequest {
                kind: pb::IdentityKind::ServiceAccount.into(),
                email: String::new(),
                external_id: "svc|sneaky".into(),
                display_name: String::new(),
            })
            .await,
        "Rbacd:Identities:Write",
        "root",
    );
    expect_denied(
        identities
            .create_api_key(pb::CreateApiKeyRequest {
                identity: identity_by_id(&team_admin.id),
                name: String::new(),
            })
            .await,
        "Rbacd:Identities:Write",
        "root",
    );
    expect_denied(
        authz
            .check(check_request(
                identity_by_id(&alice.id),
                node_by_key("payments"),
            ))
            .await,
        "Rbacd:Check",
        "root",
    );

    // Nodes: moved within payments, never out of it, never in from outside.
    nodes
        .move_node(pb::MoveNodeRequest {
            node: node_by_key("payments:eu:wallet"),
            new_parent: node_by_key("payments"),
        })
        .await
        .expect("a move inside payments");
    let nodes_write = "Rbacd:Nodes:Write";
    expect_denied(
        nodes
            .move_node(pb::MoveNodeRequest {
                node: node_by_key("payments:eu:wallet"),
                new_parent: node_by_key("treasury"),
            })
            .await,
        nodes_write,
        "treasury",
    );
    expect_denied(
        nodes
            .move_node(pb::MoveNodeRequest {
                node: node_by_key("payments:eu"),
                new_parent: node_by_key("root"),
            })
            .await,
        nodes_write,
        "root",
    );
    expect_denied(
        nodes
            .move_node(pb::MoveNodeRequest {
                node: node_by_key("treasury:vault"),
                new_parent: node_by_key("payments"),
            })
            .await,
        nodes_write,
        "treasury:vault",
    );
    expect_denied(
        nodes
            .create_node(pb::CreateNodeRequest {
                key: "treasury:new".into(),
                name: String::new(),
                kind: String::new(),
                parent: node_by_key("treasury"),
            })
            .await,
        nodes_write,
        "treasury",
    );
    expect_denied(
        nodes
            .delete_node(pb::DeleteNodeRequest {
                node: node_by_key("treasury"),
                cascade: true,
            })
            .await,
        nodes_write,
        "treasury",
    );
    let wallet = server
        .nodes
        .clone()
        .get_node(pb::GetNodeRequest {
            node: node_by_key("payments:eu:wallet"),
        })
        .await
        .unwrap()
        .into_inner()
        .node
        .unwrap();
    assert_eq!(
        wallet.parent_id, payments.id,
        "only the allowed move happened"
    );

    // Granting itself Administrator inside payments widens nothing outside it.
    assignments
        .create_assignment(by_names(&team_admin, "Administrator", "payments"))
        .await
        .expect("Administrator inside its own subtree");
    expect_denied(
        roles
            .update_role(pb::UpdateRoleRequest {
                role: role_by_id(&team_role.id),
                permissions: vec!["*".into()],
                ..Default::default()
            })
            .await,
        roles_write,
        "root",
    );
    expect_denied(
        assignments
            .create_assignment(by_names(&team_admin, "Administrator", "root"))
            .await,
        write,
        "root",
    );
    expect_denied(
        assignments
            .create_assignment(by_names(&bob, "Wallet_Reader", "treasury"))
            .await,
        write,
        "treasury",
    );

    // Its writes are attributed to it in the change log.
    let store = rbacd::store::Store::connect(server.database_url())
        .await
        .expect("a second store on the same database");
    let changes = store
        .changes_after(0, 100_000)
        .await
        .expect("the change log");
    store.close().await;
    let assignment_id = granted.assignment.as_ref().unwrap().id.clone();
    let change = changes
        .iter()
        .find(|c| c.event.object_id().to_string() == assignment_id)
        .expect("the team admin's grant is in the change log");
    assert_eq!(
        change.actor.map(|a| a.to_string()),
        Some(team_admin.id.clone()),
        "{change:?}"
    );
    assert_eq!(change.revision, granted.revision);
    assert_eq!(change.action, "CreateAssignment");

    // And AuditService shows it so.
    let listed = Clients::new(&server, Some(ADMIN_KEY))
        .audit
        .list_changes(pb::ListChangesRequest {
            after_revision: granted.revision - 1,
            page_size: 1,
            ..Default::default()
        })
        .await
        .expect("ListChanges")
        .into_inner();
    let change = listed.changes.first().expect("the change of the grant");
    assert_eq!(change.revision, granted.revision, "{listed:?}");
    assert_eq!(change.object_id, assignment_id);
    assert_eq!(change.actor_id, team_admin.id, "{listed:?}");
    assert_eq!(change.action, "CreateAssignment");
    // A delegated admin cannot read the audit trail without `Rbacd:Audit:Read` at the root.
    expect_denied(
        t.audit
            .clone()
            .list_changes(pb::ListChangesRequest::default())
            .await,
        "Rbacd:Audit:Read",
        "root",
    );
}

// ---------------------------------------------------------------- the last Administrator

#[tokio::test]
async fn the_last_administrator_cannot_be_removed() {
    let server = TestServer::start().await;
    let root = root(&server).await;
    let admin_role = administrator(&server).await;
    let bootstrap = admin_assignments(&server).await;
    assert_eq!(bootstrap.len(), 1);
    let first = bootstrap[0].clone();
    let first_admin = identity_by_id(&first.identity_id);
    let fp = Code::FailedPrecondition;
    let (mut roles, mut identities, mut assignments) = (
        server.roles.clone(),
        server.identities.clone(),
        server.assignments.clone(),
    );

    // Holders that do not count: INVITED, DISABLED, expired, not yet in effect, not at the root.
    identities
        .invite_identity(pb::InviteIdentityRequest {
            kind: pb::IdentityKind::User.into(),
            email: "invited-admin@example.com".into(),
            external_id: String::new(),
            display_name: String::new(),
            assignments: vec![pb::InitialAssignment {
                node: node_by_key("root"),
                role: role_by_name("Administrator"),
                effective_from: None,
                effective_to: None,
            }],
        })
        .await
        .expect("invite an admin");
    let disabled = create_user(&server, "disabled-admin@example.com").await;
    assign(&server, &disabled, &admin_role, &root).await;
    identities
        .disable_identity(pb::DisableIdentityRequest {
            identity: identity_by_id(&disabled.id),
        })
        .await
        .expect("disabling one admin of several is fine");
    let expired = create_user(&server, "expired-admin@example.com").await;
    let pending = create_user(&server, "pending-admin@example.com").await;
    for (who, from, to) in [
        (&expired, from_now(-7200), from_now(-3600)),
        (&pending, from_now(3600), None),
    ] {
        assignments
            .create_assignment(pb::CreateAssignmentRequest {
                effective_from: from,
                effective_to: to,
                ..assignment_request(who, &admin_role, &root)
            })
            .await
            .expect("a windowed admin");
    }
    let payments = create_node(&server, "payments", None).await;
    let below = create_user(&server, "payments-admin@example.com").await;
    assign(&server, &below, &admin_role, &payments).await;

    // The last effective one stays, however it is attacked.
    let status = expect_code(
        assignments
            .delete_assignment(pb::DeleteAssignmentRequest {
                id: first.id.clone(),
                ..Default::default()
            })
            .await,
        fp,
    );
    assert!(status.message().contains("Administrator"), "{status:?}");
    expect_code(
        assignments
            .delete_assignment(pb::DeleteAssignmentRequest {
                id: String::new(),
                identity: first_admin.clone(),
                role: role_by_name("administrator"),
                node: node_by_key("root"),
            })
            .await,
        fp,
    );
    expect_code(
        identities
            .disable_identity(pb::DisableIdentityRequest {
                identity: first_admin.clone(),
            })
            .await,
        fp,
    );
    expect_code(
        identities
            .delete_identity(pb::DeleteIdentityRequest {
                identity: first_admin.clone(),
            })
            .await,
        fp,
    );
    for update in [
        pb::UpdateRoleRequest {
            role: role_by_id(&admin_role.id),
            permissions: vec!["Docs:Read".into()],
            ..Default::default()
        },
        pb::UpdateRoleRequest {
            role: role_by_name("Administrator"),
            name: Some("Admin".into()),
            ..Default::default()
        },
        pb::UpdateRoleRequest {
            role: role_by_name("Administrator"),
            description: Some("mine now".into()),
            ..Default::default()
        },
        pb::UpdateRoleRequest {
            role: role_by_name("Administrator"),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["permissions".into()],
            }),
            ..Default::default()
        },
    ] {
        expect_code(roles.update_role(update).await, fp);
    }
    for force in [false, true] {
        expect_code(
            roles
                .delete_role(pb::DeleteRoleRequest {
                    role: role_by_id(&admin_role.id),
                    force,
                })
                .await,
            fp,
        );
    }
    // No other role can become the built-in one by name.
    let other = create_role(&server, "Helpers", &["Docs:Read"]).await;
    expect_code(
        roles
            .create_role(pb::CreateRoleRequest {
                name: "ADMINISTRATOR".into(),
                description: String::new(),
                permissions: vec!["Docs:Read".into()],
            })
            .await,
        Code::AlreadyExists,
    );
    expect_code(
        roles
            .update_role(pb::UpdateRoleRequest {
                role: role_by_id(&other.id),
                name: Some("administrator".into()),
                ..Default::default()
            })
            .await,
        Code::AlreadyExists,
    );
    // Nothing changed: the admin still holds `*` at the root.
    let now = administrator(&server).await;
    assert_eq!(now.permissions, ["*"]);
    assert_eq!(now.name, "Administrator");
    assert_eq!(admin_assignments(&server).await.len(), 5);
    roles
        .list_roles(pb::ListRolesRequest::default())
        .await
        .expect("the admin key still works");

    // With a second ACTIVE Administrator at the root, the first can go.
    let (second, second_key) = account_with_key(&server, "second-admin", &admin_role, &root).await;
    assignments
        .delete_assignment(pb::DeleteAssignmentRequest {
            id: first.id.clone(),
            ..Default::default()
        })
        .await
        .expect("removing one of two Administrators");
    // The bootstrap key still authenticates, but no longer authorizes.
    expect_denied(
        roles.list_roles(pb::ListRolesRequest::default()).await,
        "Rbacd:Roles:Read",
        "root",
    );
    // The second is now the last one.
    let s = Clients::new(&server, Some(&second_key));
    let mut s_assignments = s.assignments.clone();
    let second_grant = s_assignments
        .list_assignments(pb::ListAssignmentsRequest {
            identity: identity_by_id(&second.id),
            role: role_by_name("Administrator"),
            node: node_by_key("root"),
            ..Default::default()
        })
        .await
        .expect("list the second admin's grant")
        .into_inner()
        .assignments
        .pop()
        .expect("the second admin's grant");
    let mut s_identities = s.identities.clone();
    expect_code(
        s_assignments
            .delete_assignment(pb::DeleteAssignmentRequest {
                id: second_grant.id.clone(),
                ..Default::default()
            })
            .await,
        fp,
    );
    expect_code(
        s_identities
            .disable_identity(pb::DisableIdentityRequest {
                identity: identity_by_id(&second.id),
            })
            .await,
        fp,
    );
    expect_code(
        s_identities
            .delete_identity(pb::DeleteIdentityRequest {
                identity: identity_by_id(&second.id),
            })
            .await,
        fp,
    );
    // The first admin, holding nothing now, can be disabled and deleted.
    s_identities
        .disable_identity(pb::DisableIdentityRequest {
            identity: first_admin.clone(),
        })
        .await
        .expect("disable the former admin");
    s_identities
        .delete_identity(pb::DeleteIdentityRequest {
            identity: first_admin,
        })
        .await
        .expect("delete the former admin");
    expect_code(
        server
            .roles
            .clone()
            .list_roles(pb::ListRolesRequest::default())
            .await,
        Code::Unauthenticated,
    );
}
