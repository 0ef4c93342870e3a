//! Input edges, end to end: revisions and page tokens beyond their range,
//! messages that do not decode, timestamps outside years 1–9999, invisible
//! characters in names, huge bad values quoted back, and how much of a key the
//! listings show.

use crate::support::*;
use prost::Message;
use rbacd::proto::v1::{
    self as pb, audit_service_client::AuditServiceClient,
    authorization_service_client::AuthorizationServiceClient,
};
use tonic::Code;

/// One past the largest revision there can be (revisions are signed 64-bit).
const BEYOND_REVISION: u64 = 1 << 63;

fn audit(server: &TestServer) -> AuditServiceClient<Authed> {
    AuditServiceClient::new(server.authed())
}

fn authz(server: &TestServer) -> AuthorizationServiceClient<Authed> {
    AuthorizationServiceClient::new(server.authed())
}

fn check_request(permission: &str) -> pb::CheckRequest {
    pb::CheckRequest {
        correlation_id: "c".into(),
        identity: identity_by_email("jane@example.com"),
        permission: permission.into(),
        node: node_by_key("root"),
        at: None,
        min_revision: 0,
    }
}

// ---------------------------------------------------------------- revisions and page tokens

#[tokio::test]
async fn revisions_and_revision_tokens_beyond_the_signed_range_are_invalid() {
    let server = TestServer::start().await;
    create_user(&server, "jane@example.com").await;
    // Before the fix these were cast to negative and replayed the log from the start.
    for after_revision in [BEYOND_REVISION, u64::MAX] {
        let listed = audit(&server)
            .list_changes(pb::ListChangesRequest {
                after_revision,
                ..Default::default()
            })
            .await;
        expect_invalid(listed, "after_revision");
        let watched = audit(&server)
            .watch(pb::WatchRequest {
                after_revision,
                ..Default::default()
            })
            .await;
        expect_invalid(watched.map(|_| ()), "after_revision");
    }
    for token in ["r1.9223372036854775808", "r1.18446744073709551615"] {
        let listed = audit(&server)
            .list_changes(pb::ListChangesRequest {
                page_token: token.into(),
                ..Default::default()
            })
            .await;
        expect_invalid(listed, "page_token");
    }
    // The largest revision itself is fine: nothing follows it.
    let last = audit(&server)
        .list_changes(pb::ListChangesRequest {
            after_revision: BEYOND_REVISION - 1,
            ..Default::default()
        })
        .await
        .expect("the largest revision is a valid bound")
        .into_inner();
    assert!(last.changes.is_empty(), "{:?}", last.changes);
}

#[tokio::test]
async fn a_min_revision_beyond_the_signed_range_is_invalid_not_awaited() {
    let server = TestServer::start().await;
    create_user(&server, "jane@example.com").await;
    let mut ask = check_request("Docs:Read");
    ask.min_revision = u64::MAX;
    expect_invalid(authz(&server).check(ask.clone()).await, "min_revision");

    let batch = authz(&server)
        .batch_check(pb::BatchCheckRequest {
            checks: vec![ask, check_request("Docs:Read")],
        })
        .await
        .expect("a batch answers item by item")
        .into_inner();
    let error = batch.results[0]
        .error
        .as_ref()
        .expect("the item's own error");
    assert_eq!(error.code, Code::InvalidArgument as i32, "{error:?}");
    assert!(error.message.contains("min_revision"), "{error:?}");
    assert!(batch.results[1].error.is_none(), "{:?}", batch.results[1]);

    let listed = authz(&server)
        .list_permissions(pb::ListPermissionsRequest {
            identity: identity_by_email("jane@example.com"),
            min_revision: BEYOND_REVISION,
            ..Default::default()
        })
        .await;
    expect_invalid(listed, "min_revision");
}

// ---------------------------------------------------------------- messages that do not decode

/// Sends each request as the bytes it is given and decodes answers as `R`.
struct Raw<R>(std::marker::PhantomData<R>);

struct RawEncoder;

impl tonic::codec::Encoder for RawEncoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(
        &mut self,
        item: Vec<u8>,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        use prost::bytes::BufMut;
        dst.put_slice(&item);
        Ok(())
    }
}

impl<R: Message + Default + Send + 'static> tonic::codec::Codec for Raw<R> {
    type Encode = Vec<u8>;
    type Decode = R;
    type Encoder = RawEncoder;
    type Decoder = tonic_prost::ProstDecoder<R>;
    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }
    fn decoder(&mut self) -> Self::Decoder {
        tonic_prost::ProstDecoder::default()
    }
}

async fn send_raw<R: Message + Default + Send + 'static>(
    server: &TestServer,
    path: &'static str,
    body: Vec<u8>,
) -> Result<R, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(server.authed());
    grpc.ready().await.expect("a ready channel");
    grpc.unary(
        tonic::Request::new(body),
        tonic::codegen::http::uri::PathAndQuery::from_static(path),
        Raw(std::marker::PhantomData),
    )
    .await
    .map(tonic::Response::into_inner)
}

/// A length-delimited field `number` holding `bytes`.
fn bytes_field(number: u8, bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![(number << 3) | 2, bytes.len() as u8];
    out.extend_from_slice(bytes);
    out
}

#[tokio::test]
async fn invalid_utf8_and_cut_messages_are_invalid_argument_not_internal() {
    let server = TestServer::start().await;
    // CreateNodeRequest { key = 1 }: "pay" then a byte that is never UTF-8.
    let bad_key = bytes_field(1, b"pay\xffments");
    let created =
        send_raw::<pb::CreateNodeResponse>(&server, "/rbacd.v1.NodeService/CreateNode", bad_key)
            .await;
    let status = expect_code(created, Code::InvalidArgument);
    assert!(status.message().contains("UTF-8"), "{}", status.message());

    // CheckRequest { permission = 3 } with invalid UTF-8.
    let bad_permission = bytes_field(3, b"\xc3\x28");
    let checked = send_raw::<pb::CheckResponse>(
        &server,
        "/rbacd.v1.AuthorizationService/Check",
        bad_permission,
    )
    .await;
    expect_code(checked, Code::InvalidArgument);

    // A varint cut short.
    let cut = send_raw::<pb::CreateRoleResponse>(
        &server,
        "/rbacd.v1.RoleService/CreateRole",
        vec![0xff, 0xff, 0xff],
    )
    .await;
    expect_code(cut, Code::InvalidArgument);
}

// ---------------------------------------------------------------- timestamps

#[tokio::test]
async fn timestamps_outside_years_1_to_9999_are_invalid() {
    let server = TestServer::start().await;
    let jane = create_user(&server, "jane@example.com").await;
    let role = create_role(&server, "Reader", &["Docs:Read"]).await;
    let root = root(&server).await;
    const YEAR_10000: i64 = 253_402_300_800;
    const BEFORE_YEAR_1: i64 = -62_135_596_801;
    for seconds in [YEAR_10000, BEFORE_YEAR_1, 9_223_372_036_854, i64::MIN] {
        let mut ask = check_request("Docs:Read");
        ask.at = at(seconds, 0);
        expect_invalid(authz(&server).check(ask).await, "at");

        let mut grant = assignment_request(&jane, &role, &root);
        grant.effective_to = at(seconds, 0);
        expect_invalid(
            server.assignments().create_assignment(grant).await,
            "effective_to",
        );
    }
    // The last instant of year 9999 is accepted.
    let mut grant = assignment_request(&jane, &role, &root);
    grant.effective_to = Some(prost_types::Timestamp {
        seconds: YEAR_10000 - 1,
        nanos: 999_999_999,
    });
    server
        .assignments()
        .clone()
        .create_assignment(grant)
        .await
        .expect("9999-12-31T23:59:59.999999999Z is a valid end");
}

// ---------------------------------------------------------------- invisible characters

#[tokio::test]
async fn names_keys_emails_and_external_ids_refuse_invisible_characters() {
    let server = TestServer::start().await;
    for invisible in [
        "\u{200B}", "\u{202E}", "\u{FEFF}", "\u{AD}", "\u{2066}", "\u{7}",
    ] {
        let node = server
            .nodes()
            .clone()
            .create_node(pb::CreateNodeRequest {
                key: format!("payments{invisible}"),
                ..Default::default()
            })
            .await;
        expect_invalid(node, "key");

        let role = server
            .roles()
            .clone()
            .create_role(pb::CreateRoleRequest {
                request_id: Default::default(),
                name: format!("Admin{invisible}istrator"),
                description: String::new(),
                permissions: vec!["Docs:Read".into()],
            })
            .await;
        expect_invalid(role, "name");

        for (field, request) in [
            (
                "email",
                pb::CreateIdentityRequest {
                    kind: pb::IdentityKind::User.into(),
                    email: format!("jane{invisible}@example.com"),
                    ..Default::default()
                },
            ),
            (
                "external_id",
                pb::CreateIdentityRequest {
                    kind: pb::IdentityKind::ServiceAccount.into(),
                    external_id: format!("auth0|{invisible}42"),
                    ..Default::default()
                },
            ),
            (
                "display_name",
                pb::CreateIdentityRequest {
                    kind: pb::IdentityKind::User.into(),
                    email: "ok@example.com".into(),
                    display_name: format!("Jane{invisible} Doe"),
                    ..Default::default()
                },
            ),
        ] {
            let created = server.identities().create_identity(request).await;
            expect_invalid(created, field);
        }
    }
    // Letters of any script are fine.
    create_node(&server, "Zürich:支店-42", None).await;
}

// ---------------------------------------------------------------- quoting

#[tokio::test]
async fn a_huge_bad_value_is_quoted_at_most_a_hundred_characters() {
    let server = TestServer::start().await;
    let huge = "x".repeat(100_000);
    let got = server
        .nodes()
        .clone()
        .get_node(pb::GetNodeRequest {
            node: node_by_id(&huge),
        })
        .await;
    let status = expect_invalid(got, "node");
    assert!(
        status.message().len() < 400,
        "{} bytes",
        status.message().len()
    );
    assert!(status.message().contains('…'), "{}", status.message());

    let mut ask = check_request(&format!("{}/", "y".repeat(250)));
    ask.identity = identity_by_email("jane@example.com");
    let status = expect_invalid(authz(&server).check(ask).await, "permission");
    assert!(
        !status.message().contains(&"y".repeat(101)),
        "{}",
        status.message()
    );
}

// ---------------------------------------------------------------- key prefixes

#[tokio::test]
async fn a_listed_key_shows_at_most_eight_characters_of_its_secret() {
    const OPERATOR_KEY: &str = "operator-chosen-bootstrap-key-0123456789";
    let server = TestServer::start_with(|s| s.bootstrap_api_key = Some(OPERATOR_KEY.into())).await;
    let mut identities = server.clients(Some(OPERATOR_KEY)).identities;
    let listed = identities
        .list_api_keys(pb::ListApiKeysRequest::default())
        .await
        .expect("list API keys")
        .into_inner();
    let bootstrap = listed.api_keys.first().expect("the bootstrap key");
    assert!(OPERATOR_KEY.starts_with(&bootstrap.prefix), "{bootstrap:?}");
    assert!(bootstrap.prefix.chars().count() <= 8, "{bootstrap:?}");
    assert!(!bootstrap.prefix.is_empty(), "{bootstrap:?}");
}

// ---------------------------------------------------------------- many bad items

#[tokio::test]
async fn a_thousand_bad_items_get_a_reply_of_a_few_kilobytes() {
    let server = TestServer::start().await;
    let bad = format!("{}/", "p".repeat(250));
    let created = server
        .roles()
        .clone()
        .create_role(pb::CreateRoleRequest {
            request_id: Default::default(),
            name: "Many".into(),
            description: String::new(),
            permissions: (0..1000).map(|i| format!("{bad}{i}")).collect(),
        })
        .await;
    let status = expect_invalid(created, "permissions[0]");
    assert!(
        status.message().len() < 8_192,
        "{} bytes",
        status.message().len()
    );
    assert!(
        status.message().ends_with("and 990 more"),
        "{}",
        status.message()
    );
    assert!(
        violated_fields(&status).len() <= 10,
        "{:?}",
        violated_fields(&status)
    );
}
