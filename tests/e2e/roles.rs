//! RoleService end to end: every RPC, its success path and its error paths.

use std::collections::HashSet;

use crate::support::*;
use rbacd::proto::v1 as pb;
use tonic::Code;

fn create_request(name: &str, permissions: &[&str]) -> pb::CreateRoleRequest {
    pb::CreateRoleRequest {
        name: name.into(),
        description: String::new(),
        permissions: permissions.iter().map(|p| p.to_string()).collect(),
    }
}

fn update_request(role: Option<pb::RoleRef>) -> pb::UpdateRoleRequest {
    pb::UpdateRoleRequest {
        role,
        name: None,
        description: None,
        permissions: vec![],
        update_mask: None,
    }
}

#[tokio::test]
async fn create_and_get_role() {
    let server = TestServer::start().await;
    let mut roles = server.roles();

    let created = roles
        .create_role(pb::CreateRoleRequest {
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

#[tokio::test]
async fn update_role_partially() {
    let server = TestServer::start().await;
    let mut roles = server.roles();
    let created = roles
        .create_role(pb::CreateRoleRequest {
            name: "Editor".into(),
            description: "edits".into(),
            permissions: vec!["Docs:Read".into(), "Docs:Write".into()],
        })
        .await
        .unwrap()
        .into_inner();
    let role = created.role.unwrap();
    let mut last_revision = created.revision;

    // Name only: permissions and description are kept.
    let renamed = roles
        .update_role(pb::UpdateRoleRequest {
            name: Some("Writer".into()),
            ..update_request(role_by_name("editor"))
        })
        .await
        .expect("rename")
        .into_inner();
    assert!(renamed.revision > last_revision);
    last_revision = renamed.revision;
    let renamed = renamed.role.unwrap();
    assert_eq!(renamed.id, role.id);
    assert_eq!(renamed.name, "Writer");
    assert_eq!(renamed.description, "edits");
    assert_eq!(renamed.permissions, role.permissions);
    assert!(micros(&renamed.update_time) >= micros(&role.update_time));
    assert_eq!(renamed.create_time, role.create_time);
    expect_not_found(
        roles
            .get_role(pb::GetRoleRequest {
                role: role_by_name("Editor"),
            })
            .await,
        "Editor",
    );

    // Description only.
    let described = roles
        .update_role(pb::UpdateRoleRequest {
            description: Some("writes".into()),
            ..update_request(role_by_id(&role.id))
        })
        .await
        .expect("describe")
        .into_inner();
    assert!(described.revision > last_revision);
    last_revision = described.revision;
    let described = described.role.unwrap();
    assert_eq!(described.name, "Writer");
    assert_eq!(described.description, "writes");
    assert_eq!(described.permissions, role.permissions);

    // A non-empty list replaces the permissions.
    let replaced = roles
        .update_role(pb::UpdateRoleRequest {
            permissions: vec!["Docs:*".into()],
            ..update_request(role_by_id(&role.id))
        })
        .await
        .expect("replace permissions")
        .into_inner();
    assert!(replaced.revision > last_revision);
    last_revision = replaced.revision;
    assert_eq!(replaced.role.unwrap().permissions, ["Docs:*"]);

    // A masked field is changed, an unmasked one kept even when given.
    let masked = roles
        .update_role(pb::UpdateRoleRequest {
            name: Some("Ignored_Name".into()),
            description: Some("masked".into()),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["description".into()],
            }),
            ..update_request(role_by_id(&role.id))
        })
        .await
        .expect("masked update")
        .into_inner();
    assert!(masked.revision > last_revision);
    last_revision = masked.revision;
    let masked = masked.role.unwrap();
    assert_eq!(masked.name, "Writer");
    assert_eq!(masked.description, "masked");
    assert_eq!(masked.permissions, ["Docs:*"]);

    // Mask `permissions` with an empty list clears them.
    let cleared = roles
        .update_role(pb::UpdateRoleRequest {
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["permissions".into()],
            }),
            ..update_request(role_by_id(&role.id))
        })
        .await
        .expect("clear permissions")
        .into_inner();
    assert!(cleared.revision > last_revision);
    last_revision = cleared.revision;
    assert!(cleared.role.unwrap().permissions.is_empty());
    let got = roles
        .get_role(pb::GetRoleRequest {
            role: role_by_id(&role.id),
        })
        .await
        .unwrap()
        .into_inner()
        .role
        .unwrap();
    assert!(got.permissions.is_empty());
    assert_eq!(got.name, "Writer");

    // An empty description clears it.
    let undescribed = roles
        .update_role(pb::UpdateRoleRequest {
            description: Some(String::new()),
            ..update_request(role_by_id(&role.id))
        })
        .await
        .expect("clear the description")
        .into_inner();
    assert!(undescribed.revision > last_revision);
    last_revision = undescribed.revision;
    assert_eq!(undescribed.role.unwrap().description, "");

    // Changing only the case of its own name is allowed.
    let recased = roles
        .update_role(pb::UpdateRoleRequest {
            name: Some("WRITER".into()),
            ..update_request(role_by_id(&role.id))
        })
        .await
        .expect("re-case own name")
        .into_inner();
    assert!(recased.revision > last_revision);
    assert_eq!(recased.role.unwrap().name, "WRITER");
}

#[tokio::test]
async fn update_role_errors() {
    let server = TestServer::start().await;
    let mut roles = server.roles();
    let reader = create_role(&server, "Reader", &["Docs:Read"]).await;
    let _writer = create_role(&server, "Writer", &["Docs:Write"]).await;

    // Renaming onto an existing name, in any case.
    let status = expect_code(
        roles
            .update_role(pb::UpdateRoleRequest {
                name: Some("wRITER".into()),
                ..update_request(role_by_id(&reader.id))
            })
            .await,
        Code::AlreadyExists,
    );
    assert!(status.message().contains("wRITER"), "{}", status.message());
    let unchanged = roles
        .get_role(pb::GetRoleRequest {
            role: role_by_id(&reader.id),
        })
        .await
        .unwrap()
        .into_inner()
        .role
        .unwrap();
    assert_eq!(unchanged, reader);

    expect_not_found(
        roles
            .update_role(pb::UpdateRoleRequest {
                name: Some("Whatever".into()),
                ..update_request(role_by_name("Missing_Role"))
            })
            .await,
        "Missing_Role",
    );
    expect_invalid(
        roles
            .update_role(pb::UpdateRoleRequest {
                permissions: vec!["Docs:Read".into(), "Docs::Bad".into()],
                ..update_request(role_by_id(&reader.id))
            })
            .await,
        "permissions[1]",
    );
    expect_invalid(
        roles
            .update_role(pb::UpdateRoleRequest {
                permissions: (0..1001).map(|i| format!("P:{i}")).collect(),
                ..update_request(role_by_id(&reader.id))
            })
            .await,
        "permissions",
    );
    expect_invalid(
        roles
            .update_role(pb::UpdateRoleRequest {
                name: Some(String::new()),
                ..update_request(role_by_id(&reader.id))
            })
            .await,
        "name",
    );
    expect_invalid(
        roles
            .update_role(pb::UpdateRoleRequest {
                name: Some("n".repeat(257)),
                ..update_request(role_by_id(&reader.id))
            })
            .await,
        "name",
    );
    expect_invalid(
        roles
            .update_role(pb::UpdateRoleRequest {
                description: Some("x".into()),
                ..update_request(None)
            })
            .await,
        "role",
    );
    expect_invalid(
        roles
            .update_role(pb::UpdateRoleRequest {
                description: Some("x".into()),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["id".into()],
                }),
                ..update_request(role_by_id(&reader.id))
            })
            .await,
        "update_mask",
    );
    // Nothing to change.
    expect_code(
        roles
            .update_role(update_request(role_by_id(&reader.id)))
            .await,
        Code::InvalidArgument,
    );
    let still = roles
        .get_role(pb::GetRoleRequest {
            role: role_by_id(&reader.id),
        })
        .await
        .unwrap()
        .into_inner()
        .role
        .unwrap();
    assert_eq!(still, reader);
}

#[tokio::test]
async fn delete_role_needs_force_when_assigned() {
    let server = TestServer::start().await;
    let mut roles = server.roles();
    let mut assignments = server.assignments();

    // Unassigned: deleted at once.
    let lonely = create_role(&server, "Lonely", &["A:B"]).await;
    let deleted = roles
        .delete_role(pb::DeleteRoleRequest {
            role: role_by_name("LONELY"),
            force: false,
        })
        .await
        .expect("delete an unassigned role")
        .into_inner();
    assert_eq!(deleted.role.as_ref(), Some(&lonely));
    assert_eq!(deleted.deleted_assignments, 0);
    expect_not_found(
        roles
            .get_role(pb::GetRoleRequest {
                role: role_by_id(&lonely.id),
            })
            .await,
        &lonely.id,
    );
    expect_not_found(
        roles
            .delete_role(pb::DeleteRoleRequest {
                role: role_by_id(&lonely.id),
                force: true,
            })
            .await,
        &lonely.id,
    );

    // Assigned twice: refused without force.
    let baseline = list_all_assignments(&server, pb::ListAssignmentsRequest::default()).await;
    let role = create_role(&server, "Busy", &["A:B"]).await;
    let other = create_role(&server, "Other", &["A:C"]).await;
    let alice = create_user(&server, "alice@example.co").await;
    let bob = create_user(&server, "bob@example.co").await;
    let node = create_node(&server, "team:1", None).await;
    let a1 = assign(&server, &alice, &role, &node).await;
    let a2 = assign(&server, &bob, &role, &node).await;
    let kept = assign(&server, &alice, &other, &node).await;

    let status = expect_code(
        roles
            .delete_role(pb::DeleteRoleRequest {
                role: role_by_id(&role.id),
                force: false,
            })
            .await,
        Code::FailedPrecondition,
    );
    assert!(status.message().contains("Busy"), "{}", status.message());
    for a in [&a1, &a2] {
        assignments
            .get_assignment(pb::GetAssignmentRequest { id: a.id.clone() })
            .await
            .expect("the assignment survives a refused delete");
    }
    roles
        .get_role(pb::GetRoleRequest {
            role: role_by_id(&role.id),
        })
        .await
        .expect("the role survives a refused delete");

    // With force: the role and its assignments go, others stay.
    let forced = roles
        .delete_role(pb::DeleteRoleRequest {
            role: role_by_id(&role.id),
            force: true,
        })
        .await
        .expect("forced delete")
        .into_inner();
    assert!(forced.revision > deleted.revision);
    assert_eq!(forced.deleted_assignments, 2);
    assert_eq!(forced.role.unwrap().id, role.id);
    for a in [&a1, &a2] {
        expect_not_found(
            assignments
                .get_assignment(pb::GetAssignmentRequest { id: a.id.clone() })
                .await,
            &a.id,
        );
    }
    let left = list_all_assignments(&server, pb::ListAssignmentsRequest::default()).await;
    let mut expected: Vec<&str> = baseline.iter().map(|a| a.id.as_str()).collect();
    expected.push(&kept.id);
    assert_eq!(
        sorted_ids(left.iter().map(|a| a.id.as_str())),
        sorted_ids(expected)
    );
    expect_not_found(
        roles
            .get_role(pb::GetRoleRequest {
                role: role_by_name("busy"),
            })
            .await,
        "busy",
    );
    expect_invalid(
        roles
            .delete_role(pb::DeleteRoleRequest {
                role: role_by_id("42"),
                force: false,
            })
            .await,
        "role",
    );
    // The name is free again.
    create_role(&server, "busy", &[]).await;
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
