//! CreateRole, GetRole, ListRoles: success, bad input, unique names, races.

use super::*;

#[tokio::test]
async fn create_and_get_role() {
    let server = TestServer::start().await;
    let mut roles = server.roles();

    let created = roles
        .create_role(pb::CreateRoleRequest {
            request_id: Default::default(),
            name: "Wallet_Read_User".into(),
            description: "reads wallets".into(),
            permissions: vec![
                "Wallets:Read".into(),
                "Payments:Refunds:*".into(),
                "Wallets:Read".into(),
                "*".into(),
            ],
        })
        .await
        .expect("create role")
        .into_inner();
    let role = created.role.expect("the role");
    assert!(is_uuid(&role.id), "{}", role.id);
    assert_eq!(role.name, "Wallet_Read_User");
    assert_eq!(role.description, "reads wallets");
    // In the order given, without duplicates.
    assert_eq!(
        role.permissions,
        ["Wallets:Read", "Payments:Refunds:*", "*"]
    );
    assert!(role.create_time.is_some());
    assert!(created.revision > 0);

    let second = roles
        .create_role(create_request("Auditor", &[]))
        .await
        .expect("create a role without permissions")
        .into_inner();
    assert!(second.revision > created.revision);
    assert!(second.role.unwrap().permissions.is_empty());

    // By id, and by name in any case.
    for role_ref in [
        role_by_id(&role.id),
        role_by_name("Wallet_Read_User"),
        role_by_name("wallet_read_user"),
        role_by_name("WALLET_READ_USER"),
    ] {
        let got = roles
            .get_role(pb::GetRoleRequest { role: role_ref })
            .await
            .expect("get role")
            .into_inner()
            .role
            .unwrap();
        assert_eq!(got, role);
    }

    // 256 characters and 1000 permissions are allowed.
    let long = "r".repeat(256);
    let many: Vec<String> = (0..1000).map(|i| format!("Things:T{i}:Read")).collect();
    let big = roles
        .create_role(pb::CreateRoleRequest {
            request_id: Default::default(),
            name: long.clone(),
            description: "d".repeat(1024),
            permissions: many.clone(),
        })
        .await
        .expect("a role at the limits")
        .into_inner()
        .role
        .unwrap();
    assert_eq!(big.name, long);
    assert_eq!(big.permissions, many);
}

#[tokio::test]
async fn create_role_refuses_bad_input() {
    let server = TestServer::start().await;
    let mut roles = server.roles();

    for bad in [
        "Wallets::Read",
        "*:Read",
        "Wallets:*:x",
        "Wallets*",
        "**",
        "Wallets:**",
        "Wal/lets:Read",
        "",
        "Wal lets:Read",
        ":Read",
        "Wallets:",
    ] {
        let status = expect_invalid(
            roles
                .create_role(create_request("Broken", &["Ok:Fine", bad]))
                .await,
            "permissions[1]",
        );
        assert!(
            !violated_fields(&status).contains(&"permissions[0]".to_owned()),
            "only the bad entry is named: {status:?}"
        );
    }
    expect_invalid(roles.create_role(create_request("", &[])).await, "name");
    let status = expect_invalid(
        roles
            .create_role(create_request(&"r".repeat(257), &[]))
            .await,
        "name",
    );
    assert!(status.message().contains("256"), "{}", status.message());
    expect_invalid(
        roles.create_role(create_request(" padded", &[])).await,
        "name",
    );
    expect_invalid(
        roles
            .create_role(pb::CreateRoleRequest {
                request_id: Default::default(),
                name: "Described".into(),
                description: "d".repeat(1025),
                permissions: vec![],
            })
            .await,
        "description",
    );
    let too_many: Vec<String> = (0..1001).map(|i| format!("P:{i}")).collect();
    let status = expect_invalid(
        roles
            .create_role(pb::CreateRoleRequest {
                request_id: Default::default(),
                name: "Greedy".into(),
                description: String::new(),
                permissions: too_many,
            })
            .await,
        "permissions",
    );
    assert!(status.message().contains("1000"), "{}", status.message());

    // Several bad fields are all named in one reply.
    let status = expect_invalid(
        roles.create_role(create_request("", &["*:x"])).await,
        "name",
    );
    assert!(violated_fields(&status).contains(&"permissions[0]".to_owned()));

    // Nothing was created.
    let listed = roles
        .list_roles(pb::ListRolesRequest::default())
        .await
        .unwrap()
        .into_inner();
    let names: Vec<&str> = listed.roles.iter().map(|r| r.name.as_str()).collect();
    for name in ["Broken", "Described", "Greedy"] {
        assert!(!names.contains(&name), "{name} was created: {names:?}");
    }
}

#[tokio::test]
async fn role_names_are_unique_case_insensitively() {
    let server = TestServer::start().await;
    let mut roles = server.roles();
    let first = create_role(&server, "Wallet_Read_User", &["Wallets:Read"]).await;

    // Beyond ASCII too.
    create_role(&server, "Über_Prüfer", &[]).await;
    let status = expect_code(
        roles.create_role(create_request("ÜBER_PRÜFER", &[])).await,
        Code::AlreadyExists,
    );
    assert!(
        status.message().contains("ÜBER_PRÜFER"),
        "{}",
        status.message()
    );
    roles
        .get_role(pb::GetRoleRequest {
            role: role_by_name("über_prüfer"),
        })
        .await
        .expect("found by name in another case");

    for dup in ["Wallet_Read_User", "wallet_read_user", "WALLET_READ_USER"] {
        let status = expect_code(
            roles.create_role(create_request(dup, &[])).await,
            Code::AlreadyExists,
        );
        assert!(status.message().contains(dup), "{}", status.message());
    }
    // The original is untouched.
    let got = roles
        .get_role(pb::GetRoleRequest {
            role: role_by_name("wallet_read_user"),
        })
        .await
        .unwrap()
        .into_inner()
        .role
        .unwrap();
    assert_eq!(got, first);
}

#[tokio::test]
async fn get_role_errors() {
    let server = TestServer::start().await;
    let mut roles = server.roles();
    expect_not_found(
        roles
            .get_role(pb::GetRoleRequest {
                role: role_by_name("Nobody_Has_This"),
            })
            .await,
        "Nobody_Has_This",
    );
    let missing = uuid::Uuid::new_v4().to_string();
    expect_not_found(
        roles
            .get_role(pb::GetRoleRequest {
                role: role_by_id(&missing),
            })
            .await,
        &missing,
    );
    let status = expect_code(
        roles
            .get_role(pb::GetRoleRequest {
                role: role_by_id("not-a-uuid"),
            })
            .await,
        Code::InvalidArgument,
    );
    assert!(
        violated_fields(&status)
            .iter()
            .any(|f| f.starts_with("role")),
        "{status:?}"
    );
    expect_invalid(
        roles.get_role(pb::GetRoleRequest { role: None }).await,
        "role",
    );
    expect_invalid(
        roles
            .get_role(pb::GetRoleRequest {
                role: Some(pb::RoleRef { r#ref: None }),
            })
            .await,
        "role",
    );
}

#[tokio::test]
async fn list_roles_pages_to_exhaustion() {
    let server = TestServer::start().await;
    let mut roles = server.roles();
    // Whatever the environment starts with, plus what we create.
    let before = roles
        .list_roles(pb::ListRolesRequest {
            page_size: 1000,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(before.next_page_token.is_empty());
    let mut expected: HashSet<String> = before.roles.iter().map(|r| r.id.clone()).collect();
    let mut created = Vec::new();
    for i in 0..7 {
        let id = create_role(&server, &format!("Paged_{i}"), &["A:B"])
            .await
            .id;
        expected.insert(id.clone());
        created.push(id);
    }

    let mut seen = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let page = roles
            .list_roles(pb::ListRolesRequest {
                page_size: 2,
                page_token: token.clone(),
            })
            .await
            .expect("list roles")
            .into_inner();
        pages += 1;
        assert!(page.roles.len() <= 2);
        if !page.next_page_token.is_empty() {
            assert_eq!(page.roles.len(), 2, "only the last page may be short");
        }
        seen.extend(page.roles.into_iter().map(|r| r.id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
        assert!(pages <= expected.len(), "paging does not end");
    }
    let unique: HashSet<String> = seen.iter().cloned().collect();
    assert_eq!(
        unique.len(),
        seen.len(),
        "a role was listed twice: {seen:?}"
    );
    assert_eq!(unique, expected);
    assert_eq!(pages, expected.len().div_ceil(2));
    // In creation order.
    let ours: Vec<&String> = seen.iter().filter(|id| created.contains(id)).collect();
    assert_eq!(ours, created.iter().collect::<Vec<_>>());

    // Above 1000 is served as 1000, not refused.
    let capped = roles
        .list_roles(pb::ListRolesRequest {
            page_size: 5000,
            page_token: String::new(),
        })
        .await
        .expect("a page size above the maximum is capped")
        .into_inner();
    assert_eq!(capped.roles.len(), expected.len());

    // Page size 0 is the default (100): everything fits on one page.
    let default = roles
        .list_roles(pb::ListRolesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(default.roles.len(), expected.len());
    assert!(default.next_page_token.is_empty());

    expect_invalid(
        roles
            .list_roles(pb::ListRolesRequest {
                page_size: -1,
                page_token: String::new(),
            })
            .await,
        "page_size",
    );
    for token in ["garbage", "p1.zz", "p1."] {
        expect_invalid(
            roles
                .list_roles(pb::ListRolesRequest {
                    page_size: 2,
                    page_token: token.into(),
                })
                .await,
            "page_token",
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_identical_creates_yield_one_winner() {
    let server = TestServer::start().await;
    let calls = (0..32).map(|i| {
        let mut roles = server.roles();
        // The same name, in varying case.
        let name = if i % 2 == 0 { "Racer" } else { "RACER" };
        tokio::spawn(async move { roles.create_role(create_request(name, &["A:B"])).await })
    });
    let results = futures::future::join_all(calls).await;
    let mut ok = 0;
    let mut exists = 0;
    for result in results {
        match result.expect("no panic") {
            Ok(_) => ok += 1,
            Err(status) => {
                assert_eq!(status.code(), Code::AlreadyExists, "{status:?}");
                assert_no_sql(&status);
                exists += 1;
            }
        }
    }
    assert_eq!((ok, exists), (1, 31));
    let listed = server
        .roles()
        .list_roles(pb::ListRolesRequest::default())
        .await
        .unwrap()
        .into_inner();
    let racers = listed
        .roles
        .iter()
        .filter(|r| r.name.eq_ignore_ascii_case("racer"))
        .count();
    assert_eq!(racers, 1);
}
