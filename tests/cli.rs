//! The client subcommands end to end: the built `rbacd` binary talking to the
//! real server, started in-process on an ephemeral port.

mod common;

use std::process::Stdio;

use common::*;
use serde_json::Value;

/// What one run of the binary printed, and how it exited.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Stdout parsed as JSON; the run must have succeeded.
    #[track_caller]
    fn json(&self) -> Value {
        assert_eq!(self.code, 0, "expected success: {}", self.stderr);
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }

    /// Stdout of a successful run.
    #[track_caller]
    fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "expected success: {}", self.stderr);
        &self.stdout
    }
}

/// Runs `rbacd ARGS --server ADDR --api-key KEY`, with nothing from the environment.
async fn rbacd(server: &TestServer, args: &[&str]) -> Run {
    let address = format!("http://{}", server.addr);
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--server", &address, "--api-key", &server.api_key]);
    run_binary(&all).await
}

async fn run_binary(args: &[&str]) -> Run {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_rbacd"))
        .args(args)
        .env_remove("RBACD_SERVER")
        .env_remove("RBACD_API_KEY")
        .env("RBACD_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run the rbacd binary");
    Run {
        code: output.status.code().expect("an exit code, not a signal"),
        stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
    }
}

/// The table's header row and the cells of each row, split on runs of spaces.
fn table_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|line| line.split("  ").map(str::trim).filter(|c| !c.is_empty()))
        .map(|cells| cells.map(str::to_owned).collect())
        .collect()
}

/// The object in `items` whose `field` is `value`.
#[track_caller]
fn find<'a>(items: &'a Value, field: &str, value: &str) -> &'a Value {
    items
        .as_array()
        .expect("a JSON array")
        .iter()
        .find(|item| item[field] == value)
        .unwrap_or_else(|| panic!("no item with {field} = {value} in {items:#}"))
}

#[tokio::test]
async fn role_create_and_list() {
    let server = TestServer::start().await;

    let created = rbacd(
        &server,
        &[
            "role",
            "create",
            "Viewer",
            "--permission",
            "Wallets:Read",
            "--permission",
            "Wallets:List",
            "--description",
            "reads wallets",
        ],
    )
    .await;
    let rows = table_rows(created.ok());
    assert_eq!(rows[0], ["NAME", "PERMISSIONS", "DESCRIPTION", "ID"]);
    assert_eq!(rows[1][0], "Viewer");
    assert_eq!(rows[1][1], "Wallets:Read,Wallets:List");

    let created = rbacd(&server, &["role", "create", "Auditor", "--output", "json"])
        .await
        .json();
    assert_eq!(created["role"]["name"], "Auditor");
    assert!(is_uuid(created["role"]["id"].as_str().unwrap()));
    assert!(created["revision"].as_u64().unwrap() > 0);

    let listed = rbacd(&server, &["role", "list", "--output", "json"])
        .await
        .json();
    let viewer = find(&listed["roles"], "name", "Viewer");
    assert_eq!(
        viewer["permissions"],
        serde_json::json!(["Wallets:Read", "Wallets:List"])
    );
    assert_eq!(viewer["description"], "reads wallets");
    find(&listed["roles"], "name", "Auditor");
    find(&listed["roles"], "name", "Administrator");

    let table = rbacd(&server, &["role", "list"]).await;
    let rows = table_rows(table.ok());
    assert_eq!(rows[0][0], "NAME");
    assert!(
        rows.iter().any(|row| row[0] == "Viewer"),
        "{}",
        table.stdout
    );
    assert_eq!(rows.len(), 4, "a header and three roles: {}", table.stdout);
}

#[tokio::test]
async fn node_create_and_list() {
    let server = TestServer::start().await;

    let payments = rbacd(
        &server,
        &[
            "node", "create", "payments", "--name", "Payments", "--kind", "team", "--output",
            "json",
        ],
    )
    .await
    .json();
    let payments_id = payments["node"]["id"].as_str().unwrap().to_owned();
    assert_eq!(payments["node"]["kind"], "team");

    let wallet = rbacd(
        &server,
        &["node", "create", "wallet:1", "--parent", "payments"],
    )
    .await;
    assert_eq!(table_rows(wallet.ok())[1][0], "wallet:1");

    // Children of the root by default; of any node, named by key or id.
    let top = rbacd(&server, &["node", "list", "--output", "json"])
        .await
        .json();
    assert_eq!(find(&top["nodes"], "key", "payments")["name"], "Payments");
    assert!(
        top["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["key"] != "wallet:1")
    );
    for parent in ["payments", payments_id.as_str()] {
        let children = rbacd(
            &server,
            &["node", "list", "--parent", parent, "--output", "json"],
        )
        .await
        .json();
        let nodes = children["nodes"].as_array().unwrap();
        assert_eq!(nodes.len(), 1, "{children:#}");
        assert_eq!(nodes[0]["key"], "wallet:1");
        assert_eq!(nodes[0]["parent_id"], payments_id.as_str());
    }

    let table = rbacd(&server, &["node", "list", "--parent", "payments"]).await;
    let rows = table_rows(table.ok());
    assert_eq!(rows[0], ["KEY", "NAME", "KIND", "ID", "PARENT ID"]);
    assert_eq!(rows[1][0], "wallet:1");
}

#[tokio::test]
async fn identity_invite_and_list() {
    let server = TestServer::start().await;
    rbacd(
        &server,
        &["role", "create", "Viewer", "--permission", "Wallets:Read"],
    )
    .await
    .ok();
    rbacd(&server, &["node", "create", "payments"]).await.ok();

    let invited = rbacd(
        &server,
        &[
            "identity",
            "invite",
            "ada@example.com",
            "--display-name",
            "Ada",
            "--assign",
            "viewer@payments",
            "--output",
            "json",
        ],
    )
    .await
    .json();
    assert_eq!(invited["identity"]["status"], "IDENTITY_STATUS_INVITED");
    assert_eq!(invited["identity"]["kind"], "IDENTITY_KIND_USER");
    assert_eq!(invited["identity"]["display_name"], "Ada");
    let assignments = invited["assignments"].as_array().unwrap();
    assert_eq!(assignments.len(), 1);
    assert_eq!(assignments[0]["role_name"], "Viewer");
    assert_eq!(assignments[0]["node_key"], "payments");

    let robot = rbacd(
        &server,
        &[
            "identity",
            "invite",
            "robot@example.com",
            "--service-account",
        ],
    )
    .await;
    let rows = table_rows(robot.ok());
    assert_eq!(rows[0][..3], ["EMAIL", "STATUS", "KIND"]);
    assert_eq!(
        rows[1][..3],
        ["robot@example.com", "INVITED", "SERVICE_ACCOUNT"]
    );

    let invited = rbacd(
        &server,
        &[
            "identity", "list", "--status", "invited", "--output", "json",
        ],
    )
    .await
    .json();
    assert_eq!(invited["identities"].as_array().unwrap().len(), 2);
    find(&invited["identities"], "email", "ada@example.com");

    let active = rbacd(
        &server,
        &["identity", "list", "--status", "active", "--output", "json"],
    )
    .await
    .json();
    let active = active["identities"].as_array().unwrap();
    assert!(
        active
            .iter()
            .all(|i| i["status"] == "IDENTITY_STATUS_ACTIVE")
    );
    assert!(active.iter().all(|i| i["email"] != "ada@example.com"));

    let everyone = rbacd(&server, &["identity", "list"]).await;
    let rows = table_rows(everyone.ok());
    assert!(
        rows.iter().any(|row| row[0] == "ada@example.com"),
        "{}",
        everyone.stdout
    );
}

#[tokio::test]
async fn assign_check_unassign_check() {
    let server = TestServer::start().await;
    let ada = create_user(&server, "ada@example.com").await;
    rbacd(
        &server,
        &["role", "create", "Viewer", "--permission", "Wallets:*"],
    )
    .await
    .ok();
    rbacd(&server, &["node", "create", "payments"]).await.ok();
    rbacd(
        &server,
        &["node", "create", "wallet:1", "--parent", "payments"],
    )
    .await
    .ok();
    let check = [
        "check",
        "--identity",
        "ada@example.com",
        "--permission",
        "Wallets:Read",
    ];
    let check_wallet: Vec<&str> = check
        .iter()
        .copied()
        .chain(["--node", "wallet:1"])
        .collect();

    let denied = rbacd(&server, &check_wallet).await;
    assert_eq!(denied.code, 1, "{}{}", denied.stdout, denied.stderr);
    assert!(denied.stdout.starts_with("DENIED"), "{}", denied.stdout);

    let assigned = rbacd(
        &server,
        &[
            "assign",
            "--identity",
            &ada.id,
            "--role",
            "viewer",
            "--node",
            "payments",
            "--output",
            "json",
        ],
    )
    .await
    .json();
    assert_eq!(assigned["assignment"]["state"], "ASSIGNMENT_STATE_ACTIVE");
    assert_eq!(assigned["assignment"]["identity_id"], ada.id.as_str());

    // Inherited from `payments`.
    let allowed = rbacd(&server, &check_wallet).await;
    assert_eq!(allowed.code, 0, "{}{}", allowed.stdout, allowed.stderr);
    assert!(allowed.stdout.starts_with("ALLOWED"), "{}", allowed.stdout);
    assert!(allowed.stdout.contains("GRANTED"), "{}", allowed.stdout);

    let mut as_json = check_wallet.clone();
    as_json.extend(["--output", "json"]);
    let decision = rbacd(&server, &as_json).await.json();
    assert_eq!(decision["allowed"], true);
    assert_eq!(decision["reason_code"], "DECISION_REASON_GRANTED");
    assert_eq!(decision["granted_by"]["node_key"], "payments");
    assert_eq!(decision["granted_by"]["matched_permission"], "Wallets:*");

    // Before the assignment existed.
    let mut in_the_past = check_wallet.clone();
    in_the_past.extend(["--at", "2001-01-01T00:00:00Z"]);
    let then = rbacd(&server, &in_the_past).await;
    assert_eq!(then.code, 0, "assignments without dates grant at any time");

    rbacd(
        &server,
        &[
            "unassign",
            "--identity",
            "ada@example.com",
            "--role",
            "Viewer",
            "--node",
            "payments",
        ],
    )
    .await
    .ok();
    let denied = rbacd(&server, &check_wallet).await;
    assert_eq!(denied.code, 1, "{}{}", denied.stdout, denied.stderr);
    assert!(denied.stdout.starts_with("DENIED"), "{}", denied.stdout);
    assert!(
        denied.stdout.contains("NO_MATCHING_ASSIGNMENT"),
        "{}",
        denied.stdout
    );

    // Again, this time removed by the assignment's id.
    let assigned = rbacd(
        &server,
        &[
            "assign",
            "--identity",
            "ada@example.com",
            "--role",
            "Viewer",
            "--node",
            "root",
            "--output",
            "json",
        ],
    )
    .await
    .json();
    assert_eq!(rbacd(&server, &check_wallet).await.code, 0);
    let id = assigned["assignment"]["id"].as_str().unwrap();
    let removed = rbacd(&server, &["unassign", "--id", id, "--output", "json"])
        .await
        .json();
    assert_eq!(removed["assignment"]["id"], id);
    assert_eq!(rbacd(&server, &check_wallet).await.code, 1);
}

#[tokio::test]
async fn a_bad_permission_prints_the_status_and_its_field_violation() {
    let server = TestServer::start().await;
    let run = rbacd(
        &server,
        &[
            "role",
            "create",
            "Broken",
            "--permission",
            "Wallets:Read",
            "--permission",
            "Wallets::Read",
        ],
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(
        run.stderr.starts_with("error: INVALID_ARGUMENT: "),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .lines()
            .any(|line| line.starts_with("  permissions[1]: ")),
        "one line per field violation: {}",
        run.stderr
    );

    let duplicate = rbacd(&server, &["role", "create", "administrator"]).await;
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

    // HOST:PORT without a scheme, and the key from RBACD_API_KEY.
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_rbacd"))
        .args([
            "role",
            "list",
            "--output",
            "json",
            "--server",
            &server.addr.to_string(),
        ])
        .env_remove("RBACD_SERVER")
        .env("RBACD_API_KEY", &server.api_key)
        .output()
        .await
        .expect("run the rbacd binary");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let address = server.addr.to_string();
    let no_key = run_binary(&["role", "list", "--server", &address]).await;
    assert_eq!(no_key.code, 2);
    assert!(
        no_key.stderr.starts_with("error: UNAUTHENTICATED: "),
        "{}",
        no_key.stderr
    );

    let wrong_key = run_binary(&["role", "list", "--server", &address, "--api-key", "nope"]).await;
    assert_eq!(wrong_key.code, 2);
    assert!(
        wrong_key.stderr.starts_with("error: UNAUTHENTICATED: "),
        "{}",
        wrong_key.stderr
    );

    // Nothing listens on port 1.
    let unreachable = run_binary(&["role", "list", "--server", "127.0.0.1:1"]).await;
    assert_eq!(unreachable.code, 2);
    assert!(
        unreachable.stderr.starts_with("error: cannot reach"),
        "{}",
        unreachable.stderr
    );
}
