//! `rbacd assignment list|get|set-roles|update-window|revoke-by-filter`,
//! `rbacd unassign`'s account of what it removed, `rbacd permissions` and
//! `rbacd lookup`, each checked by its effect.

use super::*;

/// Roles Viewer (Wallets:Read) and Editor (Wallets:Write), nodes payments >
/// wallet:1, and ada@example.com with no roles.
async fn world(server: &TestServer) -> String {
    for line in [
        "role create Viewer --permission Wallets:Read",
        "role create Editor --permission Wallets:Write",
        "node create payments",
        "node create wallet:1 --parent payments",
    ] {
        rbacd(server, line).await.ok();
    }
    let ada = rbacd(server, "identity create ada@example.com --output json")
        .await
        .json();
    ada["identity"]["id"].as_str().unwrap().to_owned()
}

fn check(permission: &str) -> String {
    format!("check --identity ada@example.com --permission {permission} --node wallet:1")
}

#[tokio::test]
async fn set_roles_makes_the_direct_roles_exactly_those_given() {
    let server = TestServer::start().await;
    world(&server).await;
    let set = "assignment set-roles --identity ada@example.com --node payments --role Viewer,Editor --output json";
    let first = rbacd(&server, set).await.json();
    assert_eq!(first["created"].as_array().unwrap().len(), 2, "{first}");
    assert!(first.get("deleted").is_none(), "nothing to delete: {first}");
    assert_eq!(rbacd(&server, &check("Wallets:Write")).await.code, 0);

    let line = "assignment set-roles --identity ada@example.com --node payments --role Viewer";
    let text = rbacd(&server, line).await;
    assert!(text.ok().contains("created: 0\n"), "{}", text.stdout);
    assert!(text.stdout.contains("deleted: 1\n"), "{}", text.stdout);
    assert_eq!(
        rbacd(&server, &check("Wallets:Write")).await.code,
        1,
        "Editor is gone"
    );
    assert_eq!(
        rbacd(&server, &check("Wallets:Read")).await.code,
        0,
        "Viewer is kept"
    );

    let listed = rbacd(
        &server,
        "assignment list --identity ada@example.com --output json",
    )
    .await
    .json();
    let held = listed["assignments"].as_array().unwrap();
    assert_eq!(held.len(), 1, "{listed}");
    assert_eq!(held[0]["roleName"], "Viewer");

    let inherited = "assignment list --node wallet:1 --include-inherited";
    let rows = rbacd(&server, inherited).await.table();
    assert!(
        rows.iter()
            .any(|r| r[0] == "Viewer" && r[1] == "payments (inherited)"),
        "{rows:?}"
    );

    let none = "assignment set-roles --identity ada@example.com --node payments --none";
    rbacd(&server, none).await.ok();
    assert_eq!(rbacd(&server, &check("Wallets:Read")).await.code, 1);
}

#[tokio::test]
async fn update_window_keeps_the_id_and_dates_are_midnight_utc() {
    let server = TestServer::start().await;
    world(&server).await;
    let line = "assign --identity ada@example.com --role Viewer --node payments --from 2999-01-01 --output json";
    let assigned = rbacd(&server, line).await.json();
    assert_eq!(
        assigned["assignment"]["effectiveFrom"],
        "2999-01-01T00:00:00Z"
    );
    assert_eq!(assigned["assignment"]["state"], "ASSIGNMENT_STATE_PENDING");
    let id = assigned["assignment"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        rbacd(&server, &check("Wallets:Read")).await.code,
        1,
        "not yet"
    );

    let line = format!("assignment update-window {id} --no-from --to 2999-06-30 --output json");
    let updated = rbacd(&server, &line).await.json();
    assert_eq!(
        updated["assignment"]["id"],
        id.as_str(),
        "the same assignment"
    );
    assert!(
        updated["assignment"].get("effectiveFrom").is_none(),
        "{updated}"
    );
    assert_eq!(updated["assignment"]["effectiveTo"], "2999-06-30T00:00:00Z");
    assert_eq!(
        rbacd(&server, &check("Wallets:Read")).await.code,
        0,
        "in effect now"
    );

    let got = rbacd(&server, &format!("assignment get {id} --output json"))
        .await
        .json();
    assert_eq!(got["assignment"], updated["assignment"]);

    let line =
        format!("assignment update-window {id} --to 2001-01-01T12:30:00+02:00 --output json");
    let ended = rbacd(&server, &line).await.json();
    assert_eq!(ended["assignment"]["effectiveTo"], "2001-01-01T10:30:00Z");
    assert_eq!(
        rbacd(&server, &check("Wallets:Read")).await.code,
        1,
        "expired"
    );

    let bad = rbacd(
        &server,
        &format!("assignment update-window {id} --to 2030-13-01"),
    )
    .await;
    assert!(bad.failed().contains("2030-13-01"), "{}", bad.stderr);
    assert!(
        bad.stderr.contains("2030-01-31"),
        "the error shows the forms it takes: {}",
        bad.stderr
    );
}

#[tokio::test]
async fn revoke_by_filter_counts_with_dry_run_then_removes() {
    let server = TestServer::start().await;
    world(&server).await;
    rbacd(&server, "identity create bob@example.com").await.ok();
    for line in [
        "assign --identity ada@example.com --role Viewer --node payments",
        "assign --identity ada@example.com --role Editor --node wallet:1",
        "assign --identity bob@example.com --role Viewer --node payments",
    ] {
        rbacd(&server, line).await.ok();
    }
    let filter = "assignment revoke-by-filter --identity ada@example.com --node payments --include-descendants";
    let counted = rbacd(&server, &format!("{filter} --dry-run")).await;
    assert_eq!(
        counted.ok(),
        "would remove 2 assignment(s); nothing changed\n"
    );
    let counted = rbacd(&server, &format!("{filter} --validate-only --output json"))
        .await
        .json();
    assert_eq!(counted["deletedCount"], 2);
    assert_eq!(
        rbacd(&server, &check("Wallets:Write")).await.code,
        0,
        "nothing removed yet"
    );

    let removed = rbacd(&server, filter).await;
    assert!(
        removed
            .ok()
            .starts_with("removed 2 assignment(s); revision "),
        "{}",
        removed.stdout
    );
    assert_eq!(rbacd(&server, &check("Wallets:Read")).await.code, 1);
    let left = rbacd(&server, "assignment list --output json --node payments")
        .await
        .json();
    let left = left["assignments"].as_array().unwrap();
    assert_eq!(left.len(), 1, "bob's is kept: {left:?}");

    let no_filter = rbacd(&server, "assignment revoke-by-filter").await;
    assert_eq!(no_filter.code, 2, "clap refuses a call without a filter");
}

#[tokio::test]
async fn unassign_says_what_it_removed_with_names_beside_ids() {
    let server = TestServer::start().await;
    let ada_id = world(&server).await;
    let line = "assign --identity ada@example.com --role Viewer --node payments --output json";
    let assigned = rbacd(&server, line).await.json();
    let role_id = assigned["assignment"]["roleId"]
        .as_str()
        .unwrap()
        .to_owned();
    let node_id = assigned["assignment"]["nodeId"]
        .as_str()
        .unwrap()
        .to_owned();
    let id = assigned["assignment"]["id"].as_str().unwrap().to_owned();

    let removed = rbacd(&server, &format!("unassign --id {id}")).await;
    let expected = format!(
        "removed: role Viewer ({role_id}) of identity ada@example.com ({ada_id}) at node payments ({node_id}); revision "
    );
    assert!(
        removed.ok().starts_with(&expected),
        "{}\nexpected {expected}",
        removed.stdout
    );
    let again = rbacd(&server, &format!("unassign --id {id}")).await;
    assert!(
        again.failed().starts_with("error: NOT_FOUND: "),
        "{}",
        again.stderr
    );
}

#[tokio::test]
async fn permissions_and_lookups() {
    let server = TestServer::start().await;
    world(&server).await;
    rbacd(&server, "identity create bob@example.com").await.ok();
    rbacd(
        &server,
        "assign --identity ada@example.com --role Viewer --node payments",
    )
    .await
    .ok();
    rbacd(
        &server,
        "assign --identity ada@example.com --role Editor --node wallet:1",
    )
    .await
    .ok();

    let at_wallet = "permissions --identity ada@example.com --node wallet:1";
    let rows = rbacd(&server, at_wallet).await.table();
    assert_eq!(rows[0], ["PERMISSION"]);
    let mut held: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    held.sort_unstable();
    assert_eq!(held, ["Wallets:Read", "Wallets:Write"]);
    let at_payments = rbacd(
        &server,
        "permissions --identity ada@example.com --node payments --output json",
    )
    .await
    .json();
    assert_eq!(
        at_payments["permissions"],
        serde_json::json!(["Wallets:Read"])
    );

    let line = "lookup nodes --identity ada@example.com --permission Wallets:Write --output json";
    let nodes = rbacd(&server, line).await.json();
    let keys: Vec<&str> = nodes["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["wallet:1"]);
    let rows = rbacd(
        &server,
        "lookup nodes --identity ada@example.com --permission Wallets:Read",
    )
    .await
    .table();
    let mut keys: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["payments", "wallet:1"]);

    let line = "lookup identities --permission Wallets:Read --node wallet:1";
    let rows = rbacd(&server, line).await.table();
    assert_eq!(rows[0], ["EMAIL", "EXTERNAL ID", "ID"]);
    let emails: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    assert!(emails.contains(&"ada@example.com"), "{rows:?}");
    assert!(!emails.contains(&"bob@example.com"), "{rows:?}");
}
