//! API keys: shown once, listed without secrets, revocable.

use super::*;

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
        let c = server.clients(Some(secret));
        c.roles
            .clone()
            .list_roles(pb::ListRolesRequest::default())
            .await
            .expect("a fresh key works");
        expect_denied(
            c.roles
                .clone()
                .create_role(pb::CreateRoleRequest {
                    request_id: Default::default(),
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
            .identities()
            .create_api_key(pb::CreateApiKeyRequest {
                request_id: Default::default(),
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
            .identities()
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
        .identities()
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
        .identities()
        .revoke_api_key(pb::RevokeApiKeyRequest {
            request_id: Default::default(),
            api_key_id: first.api_key.as_ref().unwrap().id.clone(),
        })
        .await
        .expect("revoke")
        .into_inner();
    assert!(revoked.api_key.unwrap().revoke_time.is_some());
    let first_client = server.clients(Some(&secrets[0]));
    let second_client = server.clients(Some(&secrets[1]));
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
            .identities()
            .revoke_api_key(pb::RevokeApiKeyRequest {
                request_id: Default::default(),
                api_key_id: first.api_key.as_ref().unwrap().id.clone(),
            })
            .await,
        Code::FailedPrecondition,
    );
    let listed = server
        .identities()
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
        .identities()
        .disable_identity(pb::DisableIdentityRequest {
            request_id: Default::default(),
            identity: identity_by_id(&deployer.id),
        })
        .await
        .expect("disable");
    expect_code(list(&second_client).await, Code::Unauthenticated);
    server
        .identities()
        .activate_identity(pb::ActivateIdentityRequest {
            request_id: Default::default(),
            identity: identity_by_id(&deployer.id),
        })
        .await
        .expect("activate");
    list(&second_client).await.expect("works again once ACTIVE");
    expect_code(list(&first_client).await, Code::Unauthenticated);

    // Deleting the identity ends its keys too.
    server
        .identities()
        .delete_identity(pb::DeleteIdentityRequest {
            request_id: Default::default(),
            identity: identity_by_id(&deployer.id),
        })
        .await
        .expect("delete");
    expect_code(list(&second_client).await, Code::Unauthenticated);
}
