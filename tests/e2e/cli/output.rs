//! One JSON dialect: `--output json` is the proto JSON of the RPC's own
//! response; `rbacd changes` names objects and actors; shell completions;
//! `--request-id` retries; `--signing-key` on the new mutating subcommands.

use super::*;

#[tokio::test]
async fn json_output_is_the_proto_json_of_the_rpcs_response() {
    let server = TestServer::start().await;
    let role = create_role(&server, "Viewer", &["Wallets:Read"]).await;
    let ada = create_user(&server, "ada@example.com").await;
    let payments = create_node(&server, "payments", None).await;
    let assignment = assign(&server, &ada, &role, &payments).await;

    let get_role = server
        .roles()
        .get_role(pb::GetRoleRequest {
            role: role_by_id(&role.id),
        })
        .await
        .unwrap()
        .into_inner();
    let printed = rbacd(&server, "role get viewer --output json").await.json();
    assert_eq!(printed, proto(&get_role));
    // Spelled out, so the comparison cannot pass with the wrong dialect.
    assert!(printed["role"]["createTime"].is_string(), "{printed}");
    assert!(printed["role"].get("create_time").is_none(), "{printed}");

    let get_identity = server
        .identities()
        .get_identity(pb::GetIdentityRequest {
            identity: identity_by_id(&ada.id),
        })
        .await
        .unwrap()
        .into_inner();
    let printed = rbacd(&server, "identity get ada@example.com --output json")
        .await
        .json();
    assert_eq!(printed, proto(&get_identity));

    let listed = server
        .assignments()
        .list_assignments(pb::ListAssignmentsRequest {
            node: node_by_id(&payments.id),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let printed = rbacd(&server, "assignment list --node payments --output json")
        .await
        .json();
    assert_eq!(printed, proto(&listed));
    assert_eq!(printed["assignments"][0]["id"], assignment.id.as_str());

    let nodes = server
        .nodes()
        .list_nodes(pb::ListNodesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        rbacd(&server, "node list --output json").await.json(),
        proto(&nodes)
    );

    let check = server
        .authorization()
        .check(pb::CheckRequest {
            identity: identity_by_id(&ada.id),
            permission: "Wallets:Read".into(),
            node: node_by_id(&payments.id),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let line =
        "check --identity ada@example.com --permission Wallets:Read --node payments --output json";
    let printed = rbacd(&server, line).await.json();
    assert_eq!(printed, proto(&check));
    assert_eq!(
        printed["revision"],
        check.revision.to_string(),
        "uint64 as a string"
    );

    // A write's response: the created object and the revision as a string.
    let created = rbacd(
        &server,
        "node create wallet:1 --parent payments --output json",
    )
    .await
    .json();
    let got = server
        .nodes()
        .get_node(pb::GetNodeRequest {
            node: node_by_key("wallet:1"),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(created["node"], proto(&got)["node"]);
    assert!(revision(&created) > 0);
}

#[tokio::test]
async fn changes_name_objects_and_actors_beside_their_ids() {
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
    rbacd(
        &server,
        "unassign --identity ada@example.com --role Viewer --node payments",
    )
    .await
    .ok();

    let run = rbacd(&server, "changes --kind assignment").await;
    let rows = run.table();
    assert_eq!(
        rows[0],
        [
            "REVISION",
            "TIME",
            "ACTION",
            "KIND",
            "OBJECT",
            "OBJECT ID",
            "ACTOR",
            "ACTOR ID"
        ]
    );
    let deleted = rows
        .iter()
        .find(|r| r[2] == "DeleteAssignment")
        .expect("the removal");
    assert_eq!(
        deleted[4], "Viewer@payments for ada@example.com",
        "{rows:?}"
    );
    let created = rows
        .iter()
        .find(|r| r[2] == "CreateIdentity")
        .expect("the creation");
    assert_eq!(
        created[4], "Viewer@payments for ada@example.com",
        "{rows:?}"
    );
    // The admin acts; it has no email, so its display name shows, its id beside it.
    let admin = server
        .identities()
        .list_identities(pb::ListIdentitiesRequest {
            kind: pb::IdentityKind::ServiceAccount.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .identities
        .remove(0);
    assert_eq!(deleted[7], admin.id);
    assert_eq!(deleted[6], admin.display_name, "{rows:?}");
    assert_eq!(admin.display_name, "default admin");

    let rows = rbacd(&server, "changes --kind role").await.table();
    let created = rows
        .iter()
        .find(|r| r[2] == "CreateRole")
        .expect("the role's creation");
    assert_eq!(created[4], "Viewer", "{rows:?}");
}

#[tokio::test]
async fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let run = run_binary(&["completions", shell]).await;
        let script = run.ok();
        for word in [
            "set-roles",
            "revoke-by-filter",
            "api-key",
            "completions",
            "output",
        ] {
            assert!(script.contains(word), "{shell} completions lack `{word}`");
        }
    }
    let unknown = run_binary(&["completions", "tcsh"]).await;
    assert_eq!(unknown.code, 2);
}

#[tokio::test]
async fn a_retried_request_id_answers_the_first_write() {
    let server = TestServer::start().await;
    let line = "role create Viewer --permission Wallets:Read --request-id retry-1 --output json";
    let first = rbacd(&server, line).await.json();
    let second = rbacd(&server, line).await.json();
    assert_eq!(first, second, "the same answer, revision and all");
    let other = rbacd(&server, "role create Editor --request-id retry-1").await;
    assert!(
        other.failed().starts_with("error: INVALID_ARGUMENT: "),
        "{}",
        other.stderr
    );
    let roles = rbacd(&server, "role list --output json").await.json();
    assert_eq!(
        roles["roles"].as_array().unwrap().len(),
        2,
        "Administrator and Viewer: {roles}"
    );
}

#[tokio::test]
async fn new_mutating_subcommands_sign_with_the_signing_key() {
    let server = TestServer::start().await;
    rbacd(&server, "role create Viewer --permission Wallets:Read")
        .await
        .ok();
    rbacd(&server, "node create payments").await.ok();
    rbacd(&server, "node create ledger").await.ok();
    rbacd(&server, "identity create ada@example.com").await.ok();
    let dir = std::env::temp_dir().join(format!("rbacd-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("key.pem");
    let key = key.to_str().unwrap();
    rbacd_args(&server, &["credential", "create-key", key])
        .await
        .ok();
    crate::signing::require_signed_actions(&server, "default", true).await;

    let set = "assignment set-roles --identity ada@example.com --node payments --role Viewer";
    let unsigned = rbacd(&server, set).await;
    assert!(
        unsigned.failed().contains("UNAUTHENTICATED"),
        "{}",
        unsigned.stderr
    );
    for line in [
        set,
        "node move ledger --to payments",
        "identity disable ada@example.com",
        "assignment revoke-by-filter --node payments",
    ] {
        let mut args: Vec<&str> = line.split_whitespace().collect();
        args.extend(["--signing-key", key]);
        rbacd_args(&server, &args).await.ok();
    }
    let moved = rbacd(&server, "node get ledger --output json").await.json();
    assert!(moved["node"]["parentId"].is_string());
    std::fs::remove_dir_all(&dir).ok();
}
