//! A second instance on the same database learns of a revocation through the
//! change log, and ends the streams opened on it within a second too.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_revoked_on_one_instance_ends_its_streams_on_another() {
    let server = TestServer::start().await;
    let who = account(&server, "replicated", &["Rbacd:Check", "Rbacd:Audit:Read"]).await;
    let replica = Replica::start(&server).await;
    let clients = replica.clients(&who.secret).await;
    let mut stream = open_check_stream(&clients, &who.identity).await;
    let mut watch = open_watch(&clients).await;

    server
        .identities()
        .revoke_api_key(pb::RevokeApiKeyRequest {
            request_id: Default::default(),
            api_key_id: who.key_id.clone(),
        })
        .await
        .expect("revoke the key on the first instance");
    let since = Instant::now();
    assert_eq!(
        ends_with(
            "CheckStream on the second instance",
            &mut stream.answers,
            since
        )
        .await,
        Code::Unauthenticated
    );
    assert_eq!(
        ends_with("Watch on the second instance", &mut watch, since).await,
        Code::Unauthenticated
    );
    let refused = clients
        .authz
        .clone()
        .check(check_of(&who.identity))
        .await
        .expect_err("the revoked key opens nothing new there either");
    assert_eq!(refused.code(), Code::Unauthenticated);
}
