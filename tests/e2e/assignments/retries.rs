//! Idempotent retries with `request_id`.

use super::*;

fn create(email: &str, request_id: &str) -> pb::CreateIdentityRequest {
    pb::CreateIdentityRequest {
        kind: pb::IdentityKind::User.into(),
        email: email.into(),
        request_id: request_id.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_retry_answers_the_original_response_even_after_a_restart() {
    let server = TestServer::start().await;
    let first = server
        .identities()
        .create_identity(create("jane@example.co", "req-1"))
        .await
        .expect("create")
        .into_inner();
    let again = server
        .identities()
        .create_identity(create("jane@example.co", "req-1"))
        .await
        .expect("a retry is not ALREADY_EXISTS")
        .into_inner();
    assert_eq!(again, first);

    let different = expect_invalid(
        server
            .identities()
            .create_identity(create("john@example.co", "req-1"))
            .await,
        "request_id",
    );
    assert!(
        different.message().contains("different request"),
        "{different:?}"
    );
    expect_invalid(
        server
            .identities()
            .create_identity(create("john@example.co", &"x".repeat(129)))
            .await,
        "request_id",
    );

    // The same id on another method is another request too.
    let reader = create_role(&server, "Reader", &["Docs:Read"]).await;
    let docs = create_node(&server, "docs", None).await;
    let jane = first.identity.clone().unwrap();
    let mut grant = assignment_request(&jane, &reader, &docs);
    grant.request_id = "req-1".into();
    expect_invalid(
        server.assignments().create_assignment(grant.clone()).await,
        "request_id",
    );
    grant.request_id = "grant-1".into();
    let granted = server
        .assignments()
        .create_assignment(grant.clone())
        .await
        .expect("grant")
        .into_inner();

    let server = server.restart().await;
    let replayed = server
        .assignments()
        .create_assignment(grant)
        .await
        .expect("a retry after a restart")
        .into_inner();
    assert_eq!(replayed, granted);
    assert_eq!(all(&server).await.len(), 2, "written once");
    let again = server
        .identities()
        .create_identity(create("jane@example.co", "req-1"))
        .await
        .expect("a retry after a restart")
        .into_inner();
    assert_eq!(again.revision, first.revision);
}

#[tokio::test]
async fn request_ids_are_scoped_to_the_caller_and_set_roles_replays() {
    let server = TestServer::start().await;
    create_role(&server, "Reader", &["Docs:Read"]).await;
    create_user(&server, "jane@example.co").await;
    create_node(&server, "docs", None).await;
    let request = pb::SetRolesRequest {
        identity: identity_by_email("jane@example.co"),
        node: node_by_key("docs"),
        roles: vec![role_by_name("Reader").unwrap()],
        request_id: "set-1".into(),
    };
    let first = server
        .assignments()
        .set_roles(request.clone())
        .await
        .expect("set roles")
        .into_inner();
    // Changed in between; the retry still answers what the first call did.
    server
        .assignments()
        .set_roles(pb::SetRolesRequest {
            roles: vec![],
            request_id: String::new(),
            ..request.clone()
        })
        .await
        .expect("clear");
    let retry = server
        .assignments()
        .set_roles(request)
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(retry, first);
    assert!(all(&server).await.iter().all(|a| a.role_name != "Reader"));

    // A key's secret is never kept for retries.
    let account = server
        .identities()
        .create_identity(pb::CreateIdentityRequest {
            kind: pb::IdentityKind::ServiceAccount.into(),
            external_id: "svc|robot".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .identity
        .unwrap();
    let key_request = pb::CreateApiKeyRequest {
        identity: identity_by_id(&account.id),
        name: "k".into(),
        request_id: "key-1".into(),
    };
    let key = server
        .identities()
        .create_api_key(key_request.clone())
        .await
        .unwrap()
        .into_inner();
    assert!(!key.secret.is_empty());
    let retried = server
        .identities()
        .create_api_key(key_request)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(retried.api_key, key.api_key);
    assert!(retried.secret.is_empty());
}
