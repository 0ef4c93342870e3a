//! BulkService over gRPC.

use rbacd::proto::v1 as pb;
use tonic::Code;

use super::world::{assert_same_answers, export, populate, rows, sample_answers};
use crate::support::*;

/// Everything an export carried, as one Import stream of the same messages.
fn as_import(messages: Vec<pb::ExportResponse>) -> Vec<pb::ImportRequest> {
    messages
        .into_iter()
        .map(|m| pb::ImportRequest {
            roles: m.roles,
            identities: m.identities,
            nodes: m.nodes,
            assignments: m.assignments,
        })
        .collect()
}

#[tokio::test]
async fn an_export_imported_into_a_fresh_server_holds_every_object_and_answer() {
    let source = TestServer::start().await;
    populate(&source).await;
    let admin = source.clients(Some(ADMIN_KEY));
    let messages = export(&admin).await;
    let revision = messages[0].revision;
    assert!(revision > 0);
    assert!(
        messages[0].nodes.iter().all(|n| n.key != "root"),
        "the root is left out"
    );

    let target = TestServer::start().await;
    let target_admin = target.clients(Some(ADMIN_KEY));
    let answer = target_admin
        .bulk
        .clone()
        .import(tokio_stream::iter(as_import(messages)))
        .await
        .expect("import")
        .into_inner();
    // Administrator, the admin account and its grant are matched, not created.
    assert_eq!(
        (
            answer.roles,
            answer.identities,
            answer.nodes,
            answer.assignments
        ),
        (2, 4, 4, 5)
    );
    assert!(answer.revision > 0);
    assert_eq!(rows(&admin).await, rows(&target_admin).await);
    assert_same_answers(&source, &target).await;

    // The target is no longer empty: a second import is refused, changing nothing.
    let before = rows(&target_admin).await;
    let again = target_admin
        .bulk
        .clone()
        .import(tokio_stream::iter(as_import(export(&admin).await)))
        .await;
    let status = expect_code(again, Code::FailedPrecondition);
    assert!(
        status.message().contains("import needs an environment"),
        "{status:?}"
    );
    assert_eq!(rows(&target_admin).await, before);
}

#[tokio::test]
async fn an_import_with_a_bad_object_changes_nothing() {
    let server = TestServer::start().await;
    let admin = server.clients(Some(ADMIN_KEY));
    let before = rows(&admin).await;
    let request = pb::ImportRequest {
        roles: vec![pb::BulkRole {
            name: "Reader".into(),
            permissions: vec!["Docs:Read".into()],
            ..Default::default()
        }],
        nodes: vec![pb::BulkNode {
            key: "team".into(),
            ..Default::default()
        }],
        assignments: vec![pb::BulkAssignment {
            identity: identity_by_email("nobody@example.com"),
            role: role_by_name("Reader"),
            node: node_by_key("team"),
            ..Default::default()
        }],
        ..Default::default()
    };
    let result = admin
        .bulk
        .clone()
        .import(tokio_stream::iter(vec![request]))
        .await;
    expect_invalid(result, "assignments[0].identity");
    assert_eq!(rows(&admin).await, before, "nothing was imported");
}

#[tokio::test]
async fn import_needs_every_permission_at_the_root_and_export_every_read() {
    let server = TestServer::start().await;
    let writes = create_role(
        &server,
        "Writer",
        &[
            "Rbacd:Roles:Write",
            "Rbacd:Identities:Write",
            "Rbacd:Nodes:Write",
            "Rbacd:Assignments:Write",
            "Rbacd:Roles:Read",
            "Rbacd:Identities:Read",
            "Rbacd:Nodes:Read",
        ],
    )
    .await;
    let account = server
        .identities()
        .create_identity(pb::CreateIdentityRequest {
            kind: pb::IdentityKind::ServiceAccount.into(),
            external_id: "writer".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .identity
        .unwrap();
    assign(&server, &account, &writes, &root(&server).await).await;
    let secret = server
        .identities()
        .create_api_key(pb::CreateApiKeyRequest {
            identity: identity_by_id(&account.id),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .secret;
    let writer = server.connect_clients(&secret).await;
    let import = writer
        .bulk
        .clone()
        .import(tokio_stream::iter(vec![pb::ImportRequest::default()]))
        .await;
    let status = expect_code(import, Code::PermissionDenied);
    assert!(status.message().contains('*'), "{status:?}");
    // Assignments:Read is missing.
    let export = writer
        .bulk
        .clone()
        .export(pb::ExportRequest::default())
        .await;
    expect_code(export.map(|_| ()), Code::PermissionDenied);
}

/// An instance serving the same database as the importing one applies the
/// import's changes through the change log and ends with the same answers.
#[tokio::test]
async fn a_second_instance_follows_an_import_through_the_change_log() {
    let source = TestServer::start().await;
    populate(&source).await;
    let expected = sample_answers(source.authorization()).await;
    let messages = export(&source.clients(Some(ADMIN_KEY))).await;

    let target = TestServer::start().await;
    let replica = Replica::start(&target).await;
    let follower = replica.clients(ADMIN_KEY).await;
    assert_ne!(
        sample_answers(follower.authz.clone()).await,
        expected,
        "before the import the follower answers otherwise"
    );

    target
        .clients(Some(ADMIN_KEY))
        .bulk
        .clone()
        .import(tokio_stream::iter(as_import(messages)))
        .await
        .expect("import");
    assert_eq!(sample_answers(target.authorization()).await, expected);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let answers = sample_answers(follower.authz.clone()).await;
        if answers == expected {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the follower did not reach the importing instance's answers in 30 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    drop(replica);
}
