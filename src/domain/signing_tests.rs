use ed25519_dalek::Signer;

use super::*;

fn ed25519_pair() -> (ed25519_dalek::SigningKey, PublicKey) {
    let signing = ed25519_dalek::SigningKey::from_bytes(&random_bytes::<32>());
    let public = PublicKey::parse(CredentialKind::Ed25519, signing.verifying_key().as_bytes())
        .expect("a valid Ed25519 key");
    (signing, public)
}

#[test]
fn ed25519_signatures_verify_only_over_the_signed_bytes_with_the_right_key() {
    let (signing, public) = ed25519_pair();
    let (_, other) = ed25519_pair();
    let message = b"challenge";
    let signature = signing.sign(message).to_bytes();
    assert!(public.verify(message, &signature));
    assert!(!public.verify(b"challengf", &signature));
    assert!(!other.verify(message, &signature));
    assert!(!public.verify(message, &signature[..63]));
    let mut flipped = signature;
    flipped[10] ^= 1;
    assert!(!public.verify(message, &flipped));
}

#[test]
fn ecdsa_p256_signatures_verify_in_der_and_fixed_form() {
    let secret = p256::ecdsa::SigningKey::from_slice(&random_bytes::<32>()).expect("a scalar");
    let point = secret.verifying_key().to_encoded_point(false);
    let public = PublicKey::parse(CredentialKind::EcdsaP256, point.as_bytes()).unwrap();
    let signature: p256::ecdsa::Signature = secret.sign(b"challenge");
    assert!(public.verify(b"challenge", &signature.to_bytes()));
    assert!(public.verify(b"challenge", signature.to_der().as_bytes()));
    assert!(!public.verify(b"other", &signature.to_bytes()));
}

#[test]
fn malformed_public_keys_are_field_violations() {
    for (kind, bytes) in [
        (CredentialKind::Ed25519, vec![1u8; 31]),
        (CredentialKind::Ed25519, vec![]),
        (CredentialKind::EcdsaP256, vec![4u8; 65]),
        (CredentialKind::EcdsaP256, vec![2u8; 33]),
    ] {
        let violation = PublicKey::parse(kind, &bytes).expect_err("refused");
        assert_eq!(violation.field, "public_key");
    }
}

#[test]
fn reads_and_authorization_are_never_signed_mutations_are() {
    for path in [
        "/rbacd.v1.RoleService/GetRole",
        "/rbacd.v1.IdentityService/ListApiKeys",
        "/rbacd.v1.AuthorizationService/Check",
        "/rbacd.v1.AuthorizationService/CheckStream",
        "/rbacd.v1.AuditService/Watch",
        "/rbacd.v1.ActionSigningService/BeginAction",
        "/rbacd.v1.BulkService/Export",
        "/grpc.health.v1.Health/Check",
        "nonsense",
    ] {
        assert_eq!(Signing::of(path), Signing::Never, "{path}");
    }
    for path in [
        "/rbacd.v1.RoleService/CreateRole",
        "/rbacd.v1.IdentityService/RevokeApiKey",
        "/rbacd.v1.NodeService/MoveNode",
        "/rbacd.v1.AssignmentService/SetRoles",
        "/rbacd.v1.BulkService/Import",
    ] {
        assert_eq!(Signing::of(path), Signing::WhenRequired, "{path}");
    }
    assert_eq!(
        Signing::of("/rbacd.v1.ActionSigningService/RevokeCredential"),
        Signing::CredentialChange
    );
}

#[test]
fn a_challenge_names_the_call_and_never_repeats() {
    let action = ActionRequest {
        method: "/rbacd.v1.RoleService/CreateRole".into(),
        request_sha256: [7; 32],
    };
    let id = ChallengeId::generate();
    let a = challenge_bytes(id, &action);
    let b = challenge_bytes(id, &action);
    assert_ne!(a, b);
    let text = String::from_utf8(a).unwrap();
    assert!(text.starts_with("rbacd user action v1\n"));
    assert!(text.contains("/rbacd.v1.RoleService/CreateRole"));
    assert!(text.contains(&hex(&[7; 32])));
}

fn grant() -> (UserActionGrant, EnvironmentId, IdentityId) {
    let env = EnvironmentId::generate();
    let who = IdentityId::generate();
    let grant = UserActionGrant {
        environment_id: env,
        identity_id: who,
        credential_id: Some(CredentialId::generate()),
        method: "/rbacd.v1.RoleService/CreateRole".into(),
        request_sha256: vec![1; 32],
        expires_at: Timestamp(1_000),
        consumed: false,
        credential_revoked: false,
    };
    (grant, env, who)
}

#[test]
fn a_user_action_admits_only_its_own_call_once_before_it_expires() {
    let (g, env, who) = grant();
    let method = "/rbacd.v1.RoleService/CreateRole";
    let now = Timestamp(999);
    assert_eq!(
        g.admits(env, who, method, &[1; 32], now),
        Ok(g.credential_id.unwrap())
    );
    let refused = |g: &UserActionGrant, env, who, method: &str, body: &[u8; 32], now| {
        g.admits(env, who, method, body, now).unwrap_err()
    };
    assert_eq!(
        refused(&g, EnvironmentId::generate(), who, method, &[1; 32], now),
        Refusal::Foreign
    );
    assert_eq!(
        refused(&g, env, IdentityId::generate(), method, &[1; 32], now),
        Refusal::Foreign
    );
    assert!(matches!(
        refused(
            &g,
            env,
            who,
            "/rbacd.v1.RoleService/DeleteRole",
            &[1; 32],
            now
        ),
        Refusal::MismatchedMethod { .. }
    ));
    assert_eq!(
        refused(&g, env, who, method, &[2; 32], now),
        Refusal::MismatchedBody
    );
    assert_eq!(
        refused(&g, env, who, method, &[1; 32], Timestamp(1_000)),
        Refusal::Expired
    );
    let used = UserActionGrant {
        consumed: true,
        ..g.clone()
    };
    assert_eq!(
        refused(&used, env, who, method, &[1; 32], now),
        Refusal::Reused
    );
    let revoked = UserActionGrant {
        credential_revoked: true,
        ..g.clone()
    };
    assert!(matches!(
        refused(&revoked, env, who, method, &[1; 32], now),
        Refusal::RevokedCredential(_)
    ));
    let unsigned = UserActionGrant {
        credential_id: None,
        ..g
    };
    assert_eq!(
        refused(&unsigned, env, who, method, &[1; 32], now),
        Refusal::Unknown
    );
}

#[test]
fn every_refusal_says_which_in_its_first_word() {
    for (refusal, word) in [
        (Refusal::Missing, "missing"),
        (Refusal::Expired, "expired"),
        (Refusal::Reused, "reused"),
        (Refusal::Foreign, "foreign"),
        (Refusal::MismatchedBody, "mismatched"),
        (
            Refusal::MismatchedMethod {
                signed_for: "/x/Y".into(),
            },
            "mismatched",
        ),
    ] {
        assert!(refusal.message().starts_with(word), "{}", refusal.message());
    }
}

#[test]
fn credentials_keep_their_public_key_as_hex_in_the_change_log() {
    let (_, public) = ed25519_pair();
    let credential = Credential {
        id: CredentialId::generate(),
        environment_id: EnvironmentId::generate(),
        identity_id: IdentityId::generate(),
        kind: CredentialKind::Ed25519,
        name: "laptop".into(),
        public_key: public.as_bytes().to_vec(),
        created_at: Timestamp(5),
        revoked_at: None,
    };
    let json = serde_json::to_value(&credential).unwrap();
    assert_eq!(json["public_key"], hex(public.as_bytes()));
    let back: Credential = serde_json::from_value(json).unwrap();
    assert_eq!(back, credential);
    assert_eq!(back.key(), Some(public));
}

#[test]
fn user_action_tokens_are_random_and_stored_hashed() {
    let a = NewUserAction::generate();
    let b = NewUserAction::generate();
    assert_ne!(a.token, b.token);
    assert!(a.token.starts_with("rbua_"));
    assert_eq!(a.hash, crate::domain::secret::hash(&a.token));
}
