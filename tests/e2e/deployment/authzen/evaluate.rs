//! Decisions: the same answers as gRPC's Check, one at a time and in boxcars.

use serde_json::json;

use super::*;

/// jane holds `Docs:Read` on `docs` (and so on `docs:1` under it).
async fn world(server: &TestServer) -> String {
    let jane = create_user(server, "jane@example.com").await;
    let reader = create_role(server, "Reader", &["Docs:Read"]).await;
    let docs = create_node(server, "docs", None).await;
    create_node(server, "docs:1", Some("docs")).await;
    assign(server, &jane, &reader, &docs).await;
    jane.id
}

#[tokio::test]
async fn an_evaluation_answers_as_check_does_for_every_subject_type() {
    let (server, http) = start().await;
    let jane = world(&server).await;
    for subject in [
        json!({"type": "identity", "id": jane}),
        json!({"type": "email", "id": "jane@example.com"}),
    ] {
        for (action, resource, allowed) in [
            (
                "Docs:Read",
                json!({"type": "node_key", "id": "docs:1"}),
                true,
            ),
            (
                "Docs:Write",
                json!({"type": "node_key", "id": "docs:1"}),
                false,
            ),
            (
                "Docs:Read",
                json!({"type": "node_key", "id": "root"}),
                false,
            ),
        ] {
            let body =
                json!({"subject": subject, "action": {"name": action}, "resource": resource});
            let reply = post(http, "/access/v1/evaluation", &bearer(ADMIN_KEY), &body).await;
            assert_eq!(reply.status, 200, "{reply:?}");
            assert_eq!(reply.body["decision"], json!(allowed), "{body} → {reply:?}");
            let reason = reply.body["context"]["reason"].as_str().unwrap();
            let code = if allowed {
                "GRANTED"
            } else {
                "NO_MATCHING_ASSIGNMENT"
            };
            assert!(reason.starts_with(code), "{reason}");
        }
    }
    let unknown = json!({
        "subject": {"type": "external_id", "id": "auth0|nobody"},
        "action": {"name": "Docs:Read"},
        "resource": {"type": "node_key", "id": "docs"}
    });
    let reply = post(
        http,
        "/access/v1/evaluation",
        "x-api-key: ".to_owned().as_str(),
        &unknown,
    )
    .await;
    assert_eq!(reply.status, 401, "an empty key is no key: {reply:?}");
    let reply = post(
        http,
        "/access/v1/evaluation",
        &format!("x-api-key: {ADMIN_KEY}"),
        &unknown,
    )
    .await;
    assert_eq!(reply.body["decision"], json!(false));
    assert_eq!(
        reply.body["context"]["reason_code"],
        json!("UNKNOWN_IDENTITY")
    );
}

#[tokio::test]
async fn context_at_decides_at_that_time() {
    let (server, http) = start().await;
    let jane = create_user(&server, "jane@example.com").await;
    let reader = create_role(&server, "Reader", &["Docs:Read"]).await;
    let docs = create_node(&server, "docs", None).await;
    let mut request = assignment_request(&jane, &reader, &docs);
    request.effective_from = from_now(3600);
    server
        .assignments()
        .create_assignment(request)
        .await
        .unwrap();
    let ask = |at: Option<&str>| {
        let mut body = json!({
            "subject": {"type": "email", "id": "jane@example.com"},
            "action": {"name": "Docs:Read"},
            "resource": {"type": "node_key", "id": "docs"}
        });
        if let Some(at) = at {
            body["context"] = json!({"at": at});
        }
        body
    };
    let later = (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
    let now = post(
        http,
        "/access/v1/evaluation",
        &bearer(ADMIN_KEY),
        &ask(None),
    )
    .await;
    let then = post(
        http,
        "/access/v1/evaluation",
        &bearer(ADMIN_KEY),
        &ask(Some(&later)),
    )
    .await;
    assert_eq!(now.body["decision"], json!(false), "{now:?}");
    assert_eq!(then.body["decision"], json!(true), "{then:?}");
    let bad = post(
        http,
        "/access/v1/evaluation",
        &bearer(ADMIN_KEY),
        &ask(Some("tomorrow")),
    )
    .await;
    assert_eq!(bad.status, 400, "{bad:?}");
    assert_eq!(
        bad.body["error"]["field_violations"][0]["field"],
        json!("context.at")
    );
}

#[tokio::test]
async fn evaluations_take_defaults_overrides_and_semantics() {
    let (server, http) = start().await;
    world(&server).await;
    let request = |semantic: &str| {
        json!({
            "subject": {"type": "email", "id": "jane@example.com"},
            "action": {"name": "Docs:Read"},
            "options": {"evaluations_semantic": semantic},
            "evaluations": [
                {"resource": {"type": "node_key", "id": "docs"}},
                {"resource": {"type": "node_key", "id": "root"}},
                {"resource": {"type": "node", "id": "not-a-uuid"}},
                {"action": {"name": "Docs:Write"}, "resource": {"type": "node_key", "id": "docs"}}
            ]
        })
    };
    let all = post(
        http,
        "/access/v1/evaluations",
        &bearer(ADMIN_KEY),
        &request("execute_all"),
    )
    .await;
    assert_eq!(all.status, 200, "{all:?}");
    let decisions: Vec<_> = all.body["evaluations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["decision"].as_bool().unwrap())
        .collect();
    assert_eq!(decisions, [true, false, false, false]);
    let item_error = &all.body["evaluations"][2]["context"]["error"];
    assert_eq!(item_error["status"], json!(400), "{item_error}");
    assert_eq!(
        item_error["field_violations"][0]["field"],
        json!("resource")
    );
    let deny = post(
        http,
        "/access/v1/evaluations",
        &bearer(ADMIN_KEY),
        &request("deny_on_first_deny"),
    )
    .await;
    assert_eq!(
        deny.body["evaluations"].as_array().unwrap().len(),
        2,
        "{deny:?}"
    );
    let permit = post(
        http,
        "/access/v1/evaluations",
        &bearer(ADMIN_KEY),
        &request("permit_on_first_permit"),
    )
    .await;
    assert_eq!(
        permit.body["evaluations"].as_array().unwrap().len(),
        1,
        "{permit:?}"
    );
    // Without `evaluations` the request is a single evaluation.
    let single = json!({
        "subject": {"type": "email", "id": "jane@example.com"},
        "action": {"name": "Docs:Read"},
        "resource": {"type": "node_key", "id": "docs"}
    });
    let one = post(http, "/access/v1/evaluations", &bearer(ADMIN_KEY), &single).await;
    assert_eq!(one.body["decision"], json!(true), "{one:?}");
}
