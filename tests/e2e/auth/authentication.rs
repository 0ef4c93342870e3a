//! Every RPC needs a valid API key (the every-RPC table with bad keys); health
//! and reflection need none.

use super::every_rpc::{Fixture, Home, every_rpc, fixture};
use super::*;

/// The caller's own objects in `default`, for the table's mixed requests.
async fn home(server: &TestServer, f: &Fixture) -> Home {
    Home {
        admin: admin_assignments(server).await[0].identity_id.clone(),
        payments: f.node.id.clone(),
    }
}

/// Every RPC with `key` (or none) must be UNAUTHENTICATED, with a message.
async fn assert_every_rpc_unauthenticated(
    server: &TestServer,
    f: &Fixture,
    home: &Home,
    key: Option<&str>,
    says: &str,
) {
    let rows = every_rpc(&server.clients(key), f, home);
    let names: BTreeSet<&str> = rows.iter().map(|row| row.name).collect();
    assert_eq!(names.len(), 44, "every RPC of the eight services");
    for row in rows {
        let name = row.name;
        let status = row
            .call
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
    let home = home(&server, &f).await;
    let root = root(&server).await;
    let admin = administrator(&server).await;

    assert_every_rpc_unauthenticated(&server, &f, &home, None, "x-api-key").await;
    for garbage in [
        "",
        "garbage",
        "rbacd_test_admin_key_0123456789abcdeX",
        "rbacd_test_admin_key_0123456789abcde ",
        &"x".repeat(4096),
    ] {
        assert_every_rpc_unauthenticated(&server, &f, &home, Some(garbage), "API key").await;
    }

    // A revoked key, and the key of a disabled identity, of accounts that are
    // otherwise allowed everything.
    let (_, revoked) = account_with_key(&server, "revoked", &admin, &root).await;
    let (disabled, disabled_key) = account_with_key(&server, "disabled", &admin, &root).await;
    let revoked_id = server
        .identities()
        .list_api_keys(pb::ListApiKeysRequest::default())
        .await
        .unwrap()
        .into_inner()
        .api_keys
        .into_iter()
        .find(|k| revoked.starts_with(&k.prefix) && k.name == "key of revoked")
        .expect("the key is listed")
        .id;
    server
        .clients(Some(&revoked))
        .roles
        .list_roles(pb::ListRolesRequest::default())
        .await
        .expect("the key works before it is revoked");
    server
        .identities()
        .revoke_api_key(pb::RevokeApiKeyRequest {
            request_id: Default::default(),
            api_key_id: revoked_id,
        })
        .await
        .expect("revoke");
    server
        .identities()
        .disable_identity(pb::DisableIdentityRequest {
            request_id: Default::default(),
            identity: identity_by_id(&disabled.id),
        })
        .await
        .expect("disable");
    assert_every_rpc_unauthenticated(&server, &f, &home, Some(&revoked), "revoked").await;
    assert_every_rpc_unauthenticated(&server, &f, &home, Some(&disabled_key), "not ACTIVE").await;

    // With a valid key the same table reaches the handlers (whatever they answer).
    for row in every_rpc(&server.clients(Some(ADMIN_KEY)), &f, &home) {
        let name = row.name;
        if let Err(status) = row.call.await {
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
    use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};
    let server = TestServer::start().await;
    let mut health = server.health();
    for service in [
        "",
        "rbacd.v1.RoleService",
        "rbacd.v1.IdentityService",
        "rbacd.v1.NodeService",
        "rbacd.v1.AssignmentService",
        "rbacd.v1.AuthorizationService",
        "rbacd.v1.BulkService",
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
