//! Every way of misusing a user action is UNAUTHENTICATED, saying which.

use std::time::Duration;

use super::*;

/// A server requiring signed actions in `default`, and the admin's clients
/// with a registered key.
async fn signing_server(
    configure: impl FnOnce(&mut rbacd::server::Settings),
) -> (TestServer, Clients, Key) {
    let server = TestServer::start_with(configure).await;
    require_signed_actions(&server, "default", true).await;
    let admin = server.clients(Some(ADMIN_KEY));
    let key = register(&admin, None).await;
    (server, admin, key)
}

#[tokio::test]
async fn another_body_or_another_method_is_mismatched() {
    let (_server, admin, key) = signing_server(|_| {}).await;
    let token = user_action(&admin, &key, CREATE_ROLE, &role_request("Signed")).await;
    let other_body = admin
        .roles
        .clone()
        .create_role(with_action(role_request("Tampered"), &token))
        .await;
    expect_refused(other_body, "mismatched");

    let token = user_action(&admin, &key, CREATE_ROLE, &role_request("Signed")).await;
    let node = pb::CreateNodeRequest {
        key: "Signed".into(),
        ..Default::default()
    };
    let other_method = admin
        .nodes
        .clone()
        .create_node(with_action(node, &token))
        .await;
    expect_refused(other_method, "mismatched");
}

#[tokio::test]
async fn a_user_action_is_accepted_once() {
    let (_server, admin, key) = signing_server(|_| {}).await;
    let token = user_action(&admin, &key, CREATE_ROLE, &role_request("Once")).await;
    admin
        .roles
        .clone()
        .create_role(with_action(role_request("Once"), &token))
        .await
        .expect("the first use");
    let replayed = admin
        .roles
        .clone()
        .create_role(with_action(role_request("Once"), &token))
        .await;
    expect_refused(replayed, "reused");
    let unknown = admin
        .roles
        .clone()
        .create_role(with_action(role_request("Once"), "rbua_0000"))
        .await;
    expect_refused(unknown, "unknown");
}

#[tokio::test]
async fn another_identitys_credential_or_user_action_is_foreign() {
    let server = TestServer::start().await;
    // A second admin with a key of its own, made before signing is required.
    let other = server
        .identities()
        .create_identity(pb::CreateIdentityRequest {
            kind: pb::IdentityKind::ServiceAccount.into(),
            external_id: "svc|other".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .identity
        .unwrap();
    let administrator = server
        .roles()
        .get_role(pb::GetRoleRequest {
            role: role_by_name("Administrator"),
        })
        .await
        .unwrap()
        .into_inner()
        .role
        .unwrap();
    assign(&server, &other, &administrator, &root(&server).await).await;
    let secret = server
        .identities()
        .create_api_key(pb::CreateApiKeyRequest {
            request_id: Default::default(),
            identity: identity_by_id(&other.id),
            name: "other".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .secret;
    require_signed_actions(&server, "default", true).await;
    let admin = server.clients(Some(ADMIN_KEY));
    let key = register(&admin, None).await;
    let theirs = server.clients(Some(&secret));
    register(&theirs, None).await;

    // The other identity cannot sign with the admin's credential...
    let challenge = begin(&theirs, CREATE_ROLE, body_sha256(&role_request("X"))).await;
    let completed = complete(&theirs, &challenge, &key.signing, &key.credential_id).await;
    expect_refused(completed, "foreign");
    // ...nor use the admin's user action.
    let token = user_action(&admin, &key, CREATE_ROLE, &role_request("X")).await;
    let used = theirs
        .roles
        .clone()
        .create_role(with_action(role_request("X"), &token))
        .await;
    expect_refused(used, "foreign");
    // The admin can still use it: a foreign attempt does not use it up.
    admin
        .roles
        .clone()
        .create_role(with_action(role_request("X"), &token))
        .await
        .expect("the owner's use");
}

#[tokio::test]
async fn a_user_action_from_another_environment_is_foreign() {
    let (server, admin, _key) = signing_server(|_| {}).await;
    let staging =
        create_environment(&server, "staging", "rbacd_staging_admin_key_0123456789").await;
    let staging_key = register(&staging, None).await;
    let token = user_action(&staging, &staging_key, CREATE_ROLE, &role_request("Cross")).await;
    let used = admin
        .roles
        .clone()
        .create_role(with_action(role_request("Cross"), &token))
        .await;
    expect_refused(used, "foreign");
}

#[tokio::test]
async fn an_expired_challenge_or_user_action_is_refused() {
    let (_server, admin, key) = signing_server(|s| {
        s.user_action_lifetime = Duration::from_millis(300);
    })
    .await;
    let challenge = begin(&admin, CREATE_ROLE, body_sha256(&role_request("Late"))).await;
    let token = user_action(&admin, &key, CREATE_ROLE, &role_request("Late")).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let completed = complete(&admin, &challenge, &key.signing, &key.credential_id).await;
    expect_refused(completed, "expired");
    let used = admin
        .roles
        .clone()
        .create_role(with_action(role_request("Late"), &token))
        .await;
    expect_refused(used, "expired");
}

#[tokio::test]
async fn a_bad_signature_completes_nothing() {
    let (_server, admin, key) = signing_server(|_| {}).await;
    let challenge = begin(&admin, CREATE_ROLE, body_sha256(&role_request("Y"))).await;
    let completed = complete(&admin, &challenge, &new_key(), &key.credential_id).await;
    expect_refused(completed, "bad signature");
    // The challenge is still good for the right signature.
    complete(&admin, &challenge, &key.signing, &key.credential_id)
        .await
        .expect("the right signature");
}
