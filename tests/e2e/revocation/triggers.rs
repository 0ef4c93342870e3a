//! Each way of losing access ends the open calls of that identity, and only those.

use super::*;

const CHECK: &str = "Rbacd:Check";
const AUDIT: &str = "Rbacd:Audit:Read";

#[tokio::test]
async fn revoking_a_key_ends_its_open_check_stream_and_watch_only() {
    let server = TestServer::start().await;
    let kept = account(&server, "kept", &[CHECK, AUDIT]).await;
    let revoked = account(&server, "revoked", &[CHECK, AUDIT]).await;
    let kept_clients = server.clients(Some(&kept.secret));
    let clients = server.clients(Some(&revoked.secret));
    let mut kept_stream = open_check_stream(&kept_clients, &kept.identity).await;
    let mut kept_watch = open_watch(&kept_clients).await;
    let mut stream = open_check_stream(&clients, &revoked.identity).await;
    let mut watch = open_watch(&clients).await;

    server
        .identities()
        .revoke_api_key(pb::RevokeApiKeyRequest {
            request_id: Default::default(),
            api_key_id: revoked.key_id.clone(),
        })
        .await
        .expect("revoke the key");
    let since = Instant::now();
    let stream_end = ends_with("CheckStream", &mut stream.answers, since).await;
    let watch_end = ends_with("Watch", &mut watch, since).await;
    assert_eq!(
        (stream_end, watch_end),
        (Code::Unauthenticated, Code::Unauthenticated)
    );

    // The other identity's calls are untouched: its stream still answers and
    // its Watch still delivers.
    kept_stream
        ._requests
        .send(check_of(&kept.identity))
        .await
        .expect("send");
    let answer = tokio::time::timeout(Duration::from_secs(5), kept_stream.answers.message()).await;
    assert!(matches!(answer, Ok(Ok(Some(_)))), "{answer:?}");
    let environment = tokio::time::timeout(Duration::from_secs(5), kept_watch.message()).await;
    assert!(matches!(environment, Ok(Ok(Some(_)))), "{environment:?}");
}

#[tokio::test]
async fn disabling_the_identity_ends_its_open_streams() {
    identity_change_ends_its_open_streams("disabled", |server, identity| async move {
        server
            .identities()
            .disable_identity(pb::DisableIdentityRequest {
                request_id: Default::default(),
                identity,
            })
            .await
            .expect("disable the identity");
        server
    })
    .await;
}

#[tokio::test]
async fn deleting_the_identity_ends_its_open_streams() {
    identity_change_ends_its_open_streams("deleted", |server, identity| async move {
        server
            .identities()
            .delete_identity(pb::DeleteIdentityRequest {
                request_id: Default::default(),
                identity,
            })
            .await
            .expect("delete the identity");
        server
    })
    .await;
}

/// Opens a CheckStream and a Watch on a fresh account's key, makes `change` to
/// its identity, and expects both calls to end UNAUTHENTICATED.
async fn identity_change_ends_its_open_streams<F, Fut>(name: &str, change: F)
where
    F: FnOnce(TestServer, Option<pb::IdentityRef>) -> Fut,
    Fut: std::future::Future<Output = TestServer>,
{
    let server = TestServer::start().await;
    let who = account(&server, name, &[CHECK, AUDIT]).await;
    let clients = server.clients(Some(&who.secret));
    let mut stream = open_check_stream(&clients, &who.identity).await;
    let mut watch = open_watch(&clients).await;
    let _server = change(server, identity_by_id(&who.identity.id)).await;
    let since = Instant::now();
    assert_eq!(
        ends_with("CheckStream", &mut stream.answers, since).await,
        Code::Unauthenticated
    );
    assert_eq!(
        ends_with("Watch", &mut watch, since).await,
        Code::Unauthenticated
    );
}

#[tokio::test]
async fn losing_the_permission_ends_the_streams_that_need_it() {
    let server = TestServer::start().await;
    let who = account(&server, "narrowed", &[CHECK, AUDIT]).await;
    let clients = server.clients(Some(&who.secret));
    let mut stream = open_check_stream(&clients, &who.identity).await;
    let mut watch = open_watch(&clients).await;

    // The role loses Rbacd:Check: the CheckStream ends, the Watch goes on.
    server
        .roles()
        .update_role(pb::UpdateRoleRequest {
            role: role_by_id(&who.role.id),
            permissions: vec![AUDIT.into()],
            ..Default::default()
        })
        .await
        .expect("take Rbacd:Check from the role");
    let since = Instant::now();
    assert_eq!(
        ends_with("CheckStream", &mut stream.answers, since).await,
        Code::PermissionDenied
    );
    let environment = tokio::time::timeout(Duration::from_secs(5), watch.message()).await;
    assert!(
        matches!(environment, Ok(Ok(Some(_)))),
        "the Watch still delivers: {environment:?}"
    );

    // The assignment goes: the Watch ends too.
    server
        .assignments()
        .delete_assignment(pb::DeleteAssignmentRequest {
            id: who.assignment.id.clone(),
            ..Default::default()
        })
        .await
        .expect("delete the assignment");
    let since = Instant::now();
    assert_eq!(
        ends_with("Watch", &mut watch, since).await,
        Code::PermissionDenied
    );
}

#[tokio::test]
async fn a_batch_check_waiting_for_its_revision_ends_when_its_key_is_revoked() {
    let server = TestServer::start_with(|s| s.min_revision_timeout = Duration::from_secs(3)).await;
    let who = account(&server, "batch", &[CHECK]).await;
    let mut authz = server.clients(Some(&who.secret)).authz;
    let mut check = check_of(&who.identity);
    check.min_revision = 1 << 40;
    let waiting = tokio::spawn(async move {
        authz
            .batch_check(pb::BatchCheckRequest {
                checks: vec![check],
            })
            .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    server
        .identities()
        .revoke_api_key(pb::RevokeApiKeyRequest {
            request_id: Default::default(),
            api_key_id: who.key_id.clone(),
        })
        .await
        .expect("revoke the key");
    let answered = tokio::time::timeout(WITHIN, waiting)
        .await
        .expect("the waiting BatchCheck ends within a second")
        .expect("the call does not panic");
    assert_eq!(
        answered
            .expect_err("no answers once the key is revoked")
            .code(),
        Code::Unauthenticated
    );
}
