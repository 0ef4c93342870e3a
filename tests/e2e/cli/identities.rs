//! `rbacd identity create|get|update|disable|activate|delete` and
//! `rbacd api-key create|list|revoke`, each checked by its effect.

use super::*;

const CHECK: &str = "check --identity ada@example.com --permission Wallets:Read --node payments";

#[tokio::test]
async fn identity_lifecycle_from_create_with_roles_to_delete() {
    let server = TestServer::start().await;
    rbacd(&server, "role create Viewer --permission Wallets:Read")
        .await
        .ok();
    rbacd(&server, "node create payments").await.ok();

    // Created ACTIVE with its role: allowed at once.
    let line =
        "identity create ada@example.com --display-name Ada --assign Viewer@payments --output json";
    let created = rbacd(&server, line).await.json();
    assert_eq!(created["identity"]["status"], "IDENTITY_STATUS_ACTIVE");
    assert_eq!(created["assignments"][0]["roleName"], "Viewer");
    let id = created["identity"]["id"].as_str().unwrap().to_owned();
    assert_eq!(rbacd(&server, CHECK).await.code, 0);

    let got = rbacd(&server, &format!("identity get {id} --output json"))
        .await
        .json();
    assert_eq!(got["identity"]["email"], "ada@example.com");
    assert_eq!(got["identity"]["displayName"], "Ada");

    let line = "identity update ada@example.com --display-name Ada_Lovelace --external-id auth0|1";
    let rows = rbacd(&server, line).await.table();
    assert_eq!(
        rows[1][..4],
        ["ada@example.com", "ACTIVE", "USER", "Ada_Lovelace"]
    );
    let got = rbacd(&server, "identity get external:auth0|1 --output json")
        .await
        .json();
    assert_eq!(got["identity"]["id"], id.as_str());

    let rows = rbacd(&server, "identity disable ada@example.com")
        .await
        .table();
    assert_eq!(rows[1][1], "DISABLED");
    assert_eq!(
        rbacd(&server, CHECK).await.code,
        1,
        "a disabled identity is denied"
    );
    let again = rbacd(&server, "identity disable ada@example.com").await;
    assert!(
        again.failed().starts_with("error: FAILED_PRECONDITION: "),
        "{}",
        again.stderr
    );

    let rows = rbacd(&server, "identity activate ada@example.com")
        .await
        .table();
    assert_eq!(rows[1][1], "ACTIVE");
    assert_eq!(
        rbacd(&server, CHECK).await.code,
        0,
        "active again, its role grants again"
    );

    let deleted = rbacd(&server, "identity delete ada@example.com").await;
    assert!(
        deleted.ok().starts_with(&format!(
            "deleted identity ada@example.com ({id}) and 1 assignment"
        )),
        "{}",
        deleted.stdout
    );
    let gone = rbacd(&server, &format!("identity get {id}")).await;
    assert!(
        gone.failed().starts_with("error: NOT_FOUND: "),
        "{}",
        gone.stderr
    );
}

#[tokio::test]
async fn api_keys_are_created_listed_and_revoked() {
    let server = TestServer::start().await;
    rbacd(&server, "identity create robot@ci --service-account")
        .await
        .ok();

    let created = rbacd(
        &server,
        "api-key create --identity robot@ci --name ci --output json",
    )
    .await
    .json();
    let secret = created["secret"]
        .as_str()
        .expect("the secret, shown once")
        .to_owned();
    let key_id = created["apiKey"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created["apiKey"]["name"], "ci");

    // The key authenticates: without a role it is refused for want of a
    // permission, not for want of a key.
    let address = format!("http://{}", server.addr);
    let with_key = ["role", "list", "--server", &address, "--api-key", &secret];
    let refused = run_binary(&with_key).await;
    assert!(
        refused.failed().starts_with("error: PERMISSION_DENIED: "),
        "{}",
        refused.stderr
    );

    let rows = rbacd(&server, "api-key list --identity robot@ci")
        .await
        .table();
    assert_eq!(
        rows[0],
        ["NAME", "PREFIX", "CREATED", "REVOKED", "IDENTITY ID", "ID"]
    );
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[1][0], "ci");
    assert_eq!(rows[1][3], "-", "not revoked yet");
    assert!(
        !rbacd(&server, "api-key list --identity robot@ci")
            .await
            .stdout
            .contains(&secret)
    );

    let revoked = rbacd(&server, &format!("api-key revoke {key_id} --output json"))
        .await
        .json();
    assert!(revoked["apiKey"]["revokeTime"].is_string(), "{revoked}");
    let after = run_binary(&with_key).await;
    assert!(
        after.failed().starts_with("error: UNAUTHENTICATED: "),
        "{}",
        after.stderr
    );
}
