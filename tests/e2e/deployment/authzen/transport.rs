//! Authentication, the Rbacd:Check requirement, errors, metadata, probes, limits.

use serde_json::json;

use super::*;
use rbacd::proto::v1 as pb;

fn some_check() -> Value {
    json!({
        "subject": {"type": "email", "id": "jane@example.com"},
        "action": {"name": "Docs:Read"},
        "resource": {"type": "node_key", "id": "root"}
    })
}

#[tokio::test]
async fn keys_are_required_and_must_hold_rbacd_check() {
    let (server, http) = start().await;
    let none = post(http, "/access/v1/evaluation", "", &some_check()).await;
    assert_eq!(none.status, 401, "{none:?}");
    assert_eq!(none.header("www-authenticate"), Some("Bearer"));
    assert!(
        none.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no API key")
    );
    let wrong = post(
        http,
        "/access/v1/evaluation",
        &bearer("rbacd_not_a_key_at_all_0000000"),
        &some_check(),
    )
    .await;
    assert_eq!(wrong.status, 401, "{wrong:?}");
    assert!(
        !wrong.body.to_string().contains("rbacd_not_a_key"),
        "the key is not echoed: {wrong:?}"
    );
    let basic = post(
        http,
        "/access/v1/evaluation",
        "Authorization: Basic abc",
        &some_check(),
    )
    .await;
    assert_eq!(basic.status, 401, "{basic:?}");

    // A service account with no role at all may not ask.
    let account = server
        .identities()
        .create_identity(pb::CreateIdentityRequest {
            kind: pb::IdentityKind::ServiceAccount.into(),
            external_id: "svc|gateway".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .identity
        .unwrap();
    let key = server
        .identities()
        .create_api_key(pb::CreateApiKeyRequest {
            request_id: Default::default(),
            identity: identity_by_id(&account.id),
            name: "gateway".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .secret;
    let refused = post(http, "/access/v1/evaluation", &bearer(&key), &some_check()).await;
    assert_eq!(refused.status, 403, "{refused:?}");
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Rbacd:Check")
    );
    let checker = create_role(&server, "Checker", &["Rbacd:Check"]).await;
    assign(&server, &account, &checker, &root(&server).await).await;
    let allowed = post(
        http,
        "/access/v1/evaluation",
        &format!("x-api-key: {key}"),
        &some_check(),
    )
    .await;
    assert_eq!(allowed.status, 200, "{allowed:?}");
}

#[tokio::test]
async fn bad_requests_get_json_errors_with_their_status() {
    let (_server, http) = start().await;
    let auth = bearer(ADMIN_KEY);
    let not_json = send(
        http,
        &format!("POST /access/v1/evaluation HTTP/1.1\r\nContent-Type: application/json\r\n{auth}"),
        "{not json",
    )
    .await;
    assert_eq!(not_json.status, 400, "{not_json:?}");
    let missing = post(http, "/access/v1/evaluation", &auth, &json!({})).await;
    assert_eq!(missing.status, 400);
    let fields: Vec<_> = missing.body["error"]["field_violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["subject", "action.name", "resource"]);
    let text = send(
        http,
        &format!("POST /access/v1/evaluation HTTP/1.1\r\nContent-Type: text/plain\r\n{auth}"),
        "hi",
    )
    .await;
    assert_eq!(text.status, 415, "{text:?}");
    let huge = format!("{{\"pad\": \"{}\"}}", "x".repeat(rbacd::http::MAX_BODY + 1));
    let too_big = send(
        http,
        &format!("POST /access/v1/evaluation HTTP/1.1\r\nContent-Type: application/json\r\n{auth}"),
        &huge,
    )
    .await;
    assert_eq!(too_big.status, 413, "{:?}", too_big.status);
    let lost = send(http, "GET /nowhere HTTP/1.1", "").await;
    assert_eq!(lost.status, 404);
    assert!(
        lost.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/access/v1/evaluation")
    );
    let get = send(http, "GET /access/v1/evaluation HTTP/1.1", "").await;
    assert_eq!(get.status, 405);
    assert_eq!(get.header("allow"), Some("POST"));
    let id = send(
        http,
        "POST /access/v1/evaluation HTTP/1.1\r\nX-Request-ID: req-42",
        "{}",
    )
    .await;
    assert_eq!(id.header("x-request-id"), Some("req-42"), "{id:?}");
}

#[tokio::test]
async fn metadata_and_probes_answer_without_a_key() {
    let (_server, http) = start().await;
    let meta = send(http, "GET /.well-known/authzen-configuration HTTP/1.1", "").await;
    assert_eq!(meta.status, 200);
    assert_eq!(meta.header("content-type"), Some("application/json"));
    let base = format!("http://{http}");
    assert_eq!(meta.body["policy_decision_point"], json!(base));
    assert_eq!(
        meta.body["access_evaluations_endpoint"],
        json!(format!("{base}/access/v1/evaluations"))
    );
    for probe in ["/healthz", "/readyz"] {
        let reply = send(http, &format!("GET {probe} HTTP/1.1"), "").await;
        assert_eq!(reply.status, 200, "{probe}: {reply:?}");
        assert_eq!(reply.body["status"], json!("SERVING"));
    }
}

#[tokio::test]
async fn a_client_that_never_finishes_its_request_is_cut_off() {
    let http = free_port().await;
    let _server = TestServer::start_with(|s| {
        s.http_listen = Some(http.into());
        s.limits.http_timeout = Duration::from_millis(300);
    })
    .await;
    let mut stream = tokio::net::TcpStream::connect(http).await.unwrap();
    stream
        .write_all(b"POST /access/v1/evaluation HTTP/1.1\r\n")
        .await
        .unwrap();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest)).await;
    assert!(
        read.is_ok(),
        "the connection is closed after --http-timeout"
    );
}
