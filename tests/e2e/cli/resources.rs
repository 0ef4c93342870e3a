//! `rbacd role get|update|delete` and `rbacd node get|list --tree|move|delete`,
//! each checked by its effect.

use super::*;

#[tokio::test]
async fn roles_are_read_updated_and_deleted() {
    let server = TestServer::start().await;
    rbacd(&server, "role create Viewer --permission Wallets:Read")
        .await
        .ok();
    rbacd(&server, "node create payments").await.ok();
    rbacd(
        &server,
        "identity create ada@example.com --assign Viewer@payments",
    )
    .await
    .ok();
    let check = "check --identity ada@example.com --permission Wallets:List --node payments";
    assert_eq!(rbacd(&server, check).await.code, 1);

    let line =
        "role update viewer --name Reader --permission Wallets:Read,Wallets:List --output json";
    let updated = rbacd(&server, line).await.json();
    assert_eq!(updated["role"]["name"], "Reader");
    assert_eq!(
        updated["role"]["permissions"],
        serde_json::json!(["Wallets:Read", "Wallets:List"])
    );
    assert_eq!(
        rbacd(&server, check).await.code,
        0,
        "the new permission grants"
    );

    let got = rbacd(&server, "role get READER").await.table();
    assert_eq!(got[1][..2], ["Reader", "Wallets:Read,Wallets:List"]);
    let id = updated["role"]["id"].as_str().unwrap();
    let by_id = rbacd(&server, &format!("role get {id} --output json"))
        .await
        .json();
    assert_eq!(by_id["role"]["name"], "Reader");

    let cleared = rbacd(
        &server,
        "role update Reader --clear-permissions --output json",
    )
    .await
    .json();
    assert!(cleared["role"].get("permissions").is_none(), "{cleared}");
    assert_eq!(rbacd(&server, check).await.code, 1);
    let nothing = rbacd(&server, "role update Reader").await;
    assert!(
        nothing.failed().starts_with("error: nothing to change"),
        "{}",
        nothing.stderr
    );

    let refused = rbacd(&server, "role delete Reader").await;
    assert!(
        refused.failed().starts_with("error: FAILED_PRECONDITION: "),
        "{}",
        refused.stderr
    );
    let deleted = rbacd(&server, "role delete Reader --force").await;
    assert!(
        deleted
            .ok()
            .starts_with(&format!("deleted role Reader ({id}) and 1 assignment")),
        "{}",
        deleted.stdout
    );
    assert!(
        rbacd(&server, "role get Reader")
            .await
            .failed()
            .starts_with("error: NOT_FOUND: ")
    );
}

#[tokio::test]
async fn nodes_are_shown_as_a_tree_moved_and_deleted() {
    let server = TestServer::start().await;
    for line in [
        "node create payments --name Payments --kind team",
        "node create wallet:1 --parent payments",
        "node create wallet:2 --parent payments",
        "node create ledger",
        "node create ledger:eu --parent ledger",
    ] {
        rbacd(&server, line).await.ok();
    }

    let tree = rbacd(&server, "node list --tree").await;
    let lines: Vec<&str> = tree.ok().lines().skip(1).collect();
    assert!(lines[0].starts_with("root "), "{}", tree.stdout);
    assert!(lines[1].starts_with("  payments "), "{}", tree.stdout);
    assert!(lines[2].starts_with("    wallet:1 "), "{}", tree.stdout);
    assert!(lines[3].starts_with("    wallet:2 "), "{}", tree.stdout);
    assert!(lines[4].starts_with("  ledger "), "{}", tree.stdout);
    assert!(lines[5].starts_with("    ledger:eu "), "{}", tree.stdout);
    assert_eq!(lines.len(), 6, "{}", tree.stdout);

    let subtree = rbacd(&server, "node list --tree --parent payments --output json")
        .await
        .json();
    let subtree_keys: Vec<&str> = subtree["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["key"].as_str().unwrap())
        .collect();
    assert_eq!(subtree_keys, ["wallet:1", "wallet:2"]);

    let got = rbacd(&server, "node get payments --output json")
        .await
        .json();
    assert_eq!(got["node"]["name"], "Payments");
    let payments_id = got["node"]["id"].as_str().unwrap().to_owned();

    let moved = rbacd(&server, "node move ledger --to payments --output json")
        .await
        .json();
    assert_eq!(moved["node"]["parentId"], payments_id.as_str());
    let under = rbacd(&server, "node list --parent payments --output json")
        .await
        .json();
    find(&under["nodes"], "key", "ledger");
    let cycle = rbacd(&server, "node move payments --to ledger:eu").await;
    assert!(
        cycle.failed().starts_with("error: FAILED_PRECONDITION: "),
        "{}",
        cycle.stderr
    );

    let refused = rbacd(&server, "node delete ledger").await;
    assert!(
        refused.failed().starts_with("error: FAILED_PRECONDITION: "),
        "{}",
        refused.stderr
    );
    let deleted = rbacd(&server, "node delete ledger --cascade").await;
    assert!(
        deleted.ok().starts_with("deleted node ledger ("),
        "{}",
        deleted.stdout
    );
    assert!(deleted.stdout.contains(": 2 node(s)"), "{}", deleted.stdout);
    let gone = rbacd(&server, "node get ledger:eu").await;
    assert!(
        gone.failed().starts_with("error: NOT_FOUND: "),
        "{}",
        gone.stderr
    );
}
