//! The first subcommands: roles, nodes, identities, assign/unassign, check,
//! changes, errors and connection flags.

use std::{process::Stdio, time::Duration};

use super::*;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};

#[tokio::test]
async fn role_create_and_list() {
    let server = TestServer::start().await;

    // Permissions repeated or comma-separated.
    let line = "role create Viewer --permission Wallets:Read,Wallets:List --description reads";
    let rows = rbacd(&server, line).await.table();
    assert_eq!(rows[0], ["NAME", "PERMISSIONS", "DESCRIPTION", "ID"]);
    assert_eq!(rows[1][..2], ["Viewer", "Wallets:Read,Wallets:List"]);

    let created = rbacd(&server, "role create Auditor --output json")
        .await
        .json();
    assert_eq!(created["role"]["name"], "Auditor");
    assert!(is_uuid(created["role"]["id"].as_str().unwrap()));
    assert!(revision(&created) > 0);

    let listed = rbacd(&server, "role list --output json").await.json();
    let viewer = find(&listed["roles"], "name", "Viewer");
    assert_eq!(
        viewer["permissions"],
        json!(["Wallets:Read", "Wallets:List"])
    );
    assert_eq!(viewer["description"], "reads");
    find(&listed["roles"], "name", "Auditor");
    find(&listed["roles"], "name", "Administrator");

    let rows = rbacd(&server, "role list").await.table();
    assert_eq!(rows[0][0], "NAME");
    assert_eq!(rows.len(), 4, "a header and three roles: {rows:?}");
    assert!(rows.iter().any(|row| row[0] == "Viewer"), "{rows:?}");
}

#[tokio::test]
async fn node_create_and_list() {
    let server = TestServer::start().await;

    let line = "node create payments --name Payments --kind team --output json";
    let payments = rbacd(&server, line).await.json();
    let payments_id = payments["node"]["id"].as_str().unwrap().to_owned();
    assert_eq!(payments["node"]["kind"], "team");

    let rows = rbacd(&server, "node create wallet:1 --parent payments")
        .await
        .table();
    assert_eq!(rows[1][0], "wallet:1");

    // Children of the root by default; of any node, named by key or id.
    let top = rbacd(&server, "node list --output json").await.json();
    assert_eq!(find(&top["nodes"], "key", "payments")["name"], "Payments");
    assert!(
        top["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["key"] != "wallet:1")
    );
    for parent in ["payments", payments_id.as_str()] {
        let line = format!("node list --parent {parent} --output json");
        let children = rbacd(&server, &line).await.json();
        assert_eq!(
            children["nodes"].as_array().unwrap().len(),
            1,
            "{children:#}"
        );
        assert_eq!(children["nodes"][0]["key"], "wallet:1");
        assert_eq!(children["nodes"][0]["parentId"], payments_id.as_str());
    }

    let rows = rbacd(&server, "node list --parent payments").await.table();
    assert_eq!(rows[0], ["KEY", "NAME", "KIND", "ID", "PARENT ID"]);
    assert_eq!(rows[1][0], "wallet:1");
}

#[tokio::test]
async fn identity_invite_and_list() {
    let server = TestServer::start().await;
    rbacd(&server, "role create Viewer --permission Wallets:Read")
        .await
        .ok();
    rbacd(&server, "node create payments").await.ok();

    let line =
        "identity invite ada@example.com --display-name Ada --assign viewer@payments --output json";
    let invited = rbacd(&server, line).await.json();
    assert_eq!(invited["identity"]["status"], "IDENTITY_STATUS_INVITED");
    assert_eq!(invited["identity"]["kind"], "IDENTITY_KIND_USER");
    assert_eq!(invited["identity"]["displayName"], "Ada");
    assert_eq!(invited["assignments"].as_array().unwrap().len(), 1);
    assert_eq!(invited["assignments"][0]["roleName"], "Viewer");
    assert_eq!(invited["assignments"][0]["nodeKey"], "payments");

    let line = "identity invite robot@example.com --service-account";
    let rows = rbacd(&server, line).await.table();
    assert_eq!(rows[0][..3], ["EMAIL", "STATUS", "KIND"]);
    assert_eq!(
        rows[1][..3],
        ["robot@example.com", "INVITED", "SERVICE_ACCOUNT"]
    );

    let invited = rbacd(&server, "identity list --status invited --output json")
        .await
        .json();
    assert_eq!(invited["identities"].as_array().unwrap().len(), 2);
    find(&invited["identities"], "email", "ada@example.com");

    let active = rbacd(&server, "identity list --status active --output json")
        .await
        .json();
    let active = active["identities"].as_array().unwrap();
    assert!(
        active
            .iter()
            .all(|i| i["status"] == "IDENTITY_STATUS_ACTIVE")
    );
    assert!(active.iter().all(|i| i["email"] != "ada@example.com"));

    let rows = rbacd(&server, "identity list").await.table();
    assert!(
        rows.iter().any(|row| row[0] == "ada@example.com"),
        "{rows:?}"
    );
}

#[tokio::test]
async fn assign_check_unassign_check() {
    let server = TestServer::start().await;
    let ada = create_user(&server, "ada@example.com").await;
    rbacd(&server, "role create Viewer --permission Wallets:*")
        .await
        .ok();
    rbacd(&server, "node create payments").await.ok();
    rbacd(&server, "node create wallet:1 --parent payments")
        .await
        .ok();
    let check = "check --identity ada@example.com --permission Wallets:Read --node wallet:1";

    let denied = rbacd(&server, check).await;
    assert_eq!(denied.code, 1, "{}{}", denied.stdout, denied.stderr);
    assert!(denied.stdout.starts_with("DENIED"), "{}", denied.stdout);

    let line = format!(
        "assign --identity {} --role viewer --node payments --output json",
        ada.id
    );
    let assigned = rbacd(&server, &line).await.json();
    assert_eq!(assigned["assignment"]["state"], "ASSIGNMENT_STATE_ACTIVE");
    assert_eq!(assigned["assignment"]["identityId"], ada.id.as_str());

    // Inherited from `payments`.
    let allowed = rbacd(&server, check).await;
    assert_eq!(allowed.code, 0, "{}{}", allowed.stdout, allowed.stderr);
    assert!(
        allowed.stdout.starts_with("ALLOWED\nGRANTED"),
        "{}",
        allowed.stdout
    );
    let decision = rbacd(&server, &format!("{check} --output json"))
        .await
        .json();
    assert_eq!(decision["allowed"], true);
    assert_eq!(decision["reasonCode"], "DECISION_REASON_GRANTED");
    assert_eq!(decision["grantedBy"]["nodeKey"], "payments");
    assert_eq!(decision["grantedBy"]["matchedPermission"], "Wallets:*");
    let in_the_past = rbacd(&server, &format!("{check} --at 2001-01-01T00:00:00Z")).await;
    assert_eq!(
        in_the_past.code, 0,
        "an undated assignment grants at any time"
    );

    let line = "unassign --identity ada@example.com --role Viewer --node payments";
    rbacd(&server, line).await.ok();
    let denied = rbacd(&server, check).await;
    assert_eq!(denied.code, 1, "{}{}", denied.stdout, denied.stderr);
    assert!(
        denied.stdout.starts_with("DENIED\nNO_MATCHING_ASSIGNMENT"),
        "{}",
        denied.stdout
    );

    // Again, at the root, with an end date, and removed by the assignment's id.
    let line = "assign --identity ada@example.com --role Viewer --node root --to 2999-01-01T00:00:00Z --output json";
    let assigned = rbacd(&server, line).await.json();
    assert_eq!(
        assigned["assignment"]["effectiveTo"],
        "2999-01-01T00:00:00Z"
    );
    assert_eq!(rbacd(&server, check).await.code, 0);
    let id = assigned["assignment"]["id"].as_str().unwrap();
    let removed = rbacd(&server, &format!("unassign --id {id} --output json"))
        .await
        .json();
    assert_eq!(removed["assignment"]["id"], id);
    assert_eq!(rbacd(&server, check).await.code, 1);
}

#[tokio::test]
async fn a_bad_permission_prints_the_status_and_its_field_violation() {
    let server = TestServer::start().await;
    let line = "role create Broken --permission Wallets:Read --permission Wallets::Read";
    let run = rbacd(&server, line).await;
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(
        run.stderr.starts_with("error: INVALID_ARGUMENT: "),
        "{}",
        run.stderr
    );
    let violation = run
        .stderr
        .lines()
        .any(|l| l.starts_with("  permissions[1]: "));
    assert!(violation, "one line per field violation: {}", run.stderr);
    let said = run.stderr.matches("permissions[1]").count();
    assert_eq!(said, 1, "each violation printed once: {}", run.stderr);

    let duplicate = rbacd(&server, "role create administrator").await;
    assert_eq!(duplicate.code, 2);
    assert!(
        duplicate.stderr.starts_with("error: ALREADY_EXISTS: "),
        "{}",
        duplicate.stderr
    );
}

#[tokio::test]
async fn server_address_and_api_key() {
    let server = TestServer::start().await;
    let address = server.addr.to_string();

    // HOST:PORT without a scheme, and the key from RBACD_API_KEY.
    let mut with_env = command(&["role", "list", "--server", &address]);
    with_env.env("RBACD_API_KEY", ADMIN_KEY);
    let output = with_env.output().await.expect("run the rbacd binary");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    for extra in [&[][..], &["--api-key", "not-a-key"][..]] {
        let mut args = vec!["role", "list", "--server", &address];
        args.extend(extra);
        let refused = run_binary(&args).await;
        assert_eq!(refused.code, 2);
        assert!(
            refused.stderr.starts_with("error: UNAUTHENTICATED: "),
            "{}",
            refused.stderr
        );
    }

    // Nothing listens on port 1.
    let unreachable = run_binary(&["role", "list", "--server", "127.0.0.1:1"]).await;
    assert_eq!(unreachable.code, 2);
    assert!(
        unreachable.stderr.starts_with("error: cannot reach"),
        "{}",
        unreachable.stderr
    );
}

#[tokio::test]
async fn changes_lists_and_follows_the_change_log() {
    let server = TestServer::start().await;
    let created = rbacd(&server, "role create Viewer --output json")
        .await
        .json();
    let revision = super::revision(&created);

    let listed = rbacd(&server, "changes --output json").await.json();
    let role = find(&listed["changes"], "action", "CreateRole");
    assert_eq!(role["revision"], revision.to_string());
    assert_eq!(role["objectKind"], "OBJECT_KIND_ROLE");
    assert_eq!(role["after"]["name"], "Viewer");
    let after = format!("changes --after {revision} --output json");
    let later = rbacd(&server, &after).await.json();
    assert_eq!(later, json!({}), "proto JSON leaves an empty list out");
    let rows = rbacd(&server, "changes --kind role").await.table();
    assert_eq!(rows[0][..4], ["REVISION", "TIME", "ACTION", "KIND"]);
    assert!(rows[1..].iter().all(|row| row[3] == "ROLE"), "{rows:?}");

    // Follow from the role's revision; a node created afterwards arrives.
    let address = format!("http://{}", server.addr);
    let revision_text = revision.to_string();
    let args = [
        "changes",
        "--follow",
        "--after",
        &revision_text,
        "--output",
        "json",
    ];
    let mut follower = command(&against(&address, &args))
        .stdout(Stdio::piped())
        .spawn()
        .expect("start rbacd changes --follow");
    let mut lines = BufReader::new(follower.stdout.take().unwrap()).lines();
    rbacd(&server, "node create wallet:7").await.ok();
    let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
        .await
        .expect("a change within 10 s")
        .expect("readable stdout")
        .expect("a line");
    let message: Value = serde_json::from_str(&line).expect("one JSON WatchResponse per line");
    let change = &message["change"];
    assert_eq!(change["action"], "CreateNode");
    assert_eq!(change["after"]["key"], "wallet:7");
    assert!(super::revision(change) > revision);
    follower.kill().await.expect("stop the follower");
}
