//! Credentials: the first is free, every later change is signed; revocation
//! is in effect for the next call.

use super::*;

const REVOKE: &str = "/rbacd.v1.ActionSigningService/RevokeCredential";

fn registration() -> pb::RegisterCredentialRequest {
    pb::RegisterCredentialRequest {
        identity: None,
        kind: pb::CredentialKind::Ed25519.into(),
        public_key: new_key().verifying_key().to_bytes().to_vec(),
        name: "second".into(),
    }
}

#[tokio::test]
async fn the_first_credential_is_free_and_every_later_change_is_signed() {
    let server = TestServer::start().await;
    let admin = server.clients(Some(ADMIN_KEY));
    let first = register(&admin, None).await;

    let unsigned = admin
        .signing
        .clone()
        .register_credential(registration())
        .await;
    expect_refused(unsigned, "missing");
    let second = register(&admin, Some(&first)).await;

    let revoke = pb::RevokeCredentialRequest {
        credential_id: second.credential_id.clone(),
    };
    expect_refused(
        admin
            .signing
            .clone()
            .revoke_credential(revoke.clone())
            .await,
        "missing",
    );
    let request = signed(&admin, &first, REVOKE, revoke).await;
    let revoked = admin
        .signing
        .clone()
        .revoke_credential(request)
        .await
        .expect("a signed revocation")
        .into_inner();
    assert!(revoked.credential.unwrap().revoked_at.is_some());

    let listed = admin
        .signing
        .clone()
        .list_credentials(pb::ListCredentialsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .credentials;
    assert_eq!(listed.len(), 2);
    assert!(listed[0].revoked_at.is_none() && listed[1].revoked_at.is_some());
    assert_eq!(
        listed[0].public_key,
        first.signing.verifying_key().to_bytes().to_vec()
    );
}

#[tokio::test]
async fn a_revoked_credential_signs_nothing_from_the_next_call_on() {
    let server = TestServer::start().await;
    let admin = server.clients(Some(ADMIN_KEY));
    let first = register(&admin, None).await;
    let second = register(&admin, Some(&first)).await;

    // A user action signed before the revocation...
    let early = user_action(&admin, &second, CREATE_ROLE, &role_request("Early")).await;
    let revoke = pb::RevokeCredentialRequest {
        credential_id: second.credential_id.clone(),
    };
    let request = signed(&admin, &first, REVOKE, revoke).await;
    admin
        .signing
        .clone()
        .revoke_credential(request)
        .await
        .expect("revoke");

    // ...is refused after it, and the credential completes no new one.
    let used = admin
        .roles
        .clone()
        .create_role(with_action(role_request("Early"), &early))
        .await;
    expect_refused(used, "revoked");
    let challenge = begin(&admin, CREATE_ROLE, body_sha256(&role_request("Late"))).await;
    let completed = complete(&admin, &challenge, &second.signing, &second.credential_id).await;
    expect_refused(completed, "revoked");
}

#[tokio::test]
async fn keys_that_are_not_keys_are_field_violations() {
    let server = TestServer::start().await;
    let mut signing = server.signing();
    for (kind, key, field) in [
        (pb::CredentialKind::Ed25519, vec![1u8; 31], "public_key"),
        (pb::CredentialKind::EcdsaP256, vec![4u8; 65], "public_key"),
        (pb::CredentialKind::Unspecified, vec![1u8; 32], "kind"),
    ] {
        let result = signing
            .register_credential(pb::RegisterCredentialRequest {
                identity: None,
                kind: kind.into(),
                public_key: key,
                name: String::new(),
            })
            .await;
        expect_invalid(result, field);
    }
}
