//! Snapshots: what was written, consistent while writes go on, and a damaged
//! row named by table and id.

use super::*;

#[tokio::test]
async fn load_snapshot_returns_what_was_written() {
    let db = TestDb::new().await;
    let store = open(&db).await;
    let (made, scope) = provision(&store, "snap").await;
    let (other, other_scope) = provision(&store, "other").await;
    let env = scope.environment;

    // Right after provisioning: the root, the Administrator role, the admin
    // and its assignment.
    let initial = state(&store, env).await;
    assert_eq!(initial.identities, vec![made.admin.clone()]);
    assert_eq!(initial.nodes.len(), 1);
    assert_eq!(initial.nodes[0].parent_id, None);
    assert_eq!(initial.roles.len(), 1);
    assert_eq!(initial.assignments.len(), 1);
    assert_eq!(initial.assignments[0].identity_id, made.admin.id);
    let root = initial.nodes[0].clone();
    let mut expected = initial;

    let mut reader = store
        .create_role(scope, role("Reader", &["Docs:Read", "Wiki:*"]))
        .await
        .unwrap()
        .value;
    let temp = store
        .create_role(scope, role("Temp", &[]))
        .await
        .unwrap()
        .value;
    reader = store
        .update_role(
            scope,
            &RoleRef::Id(reader.id),
            RoleUpdate {
                name: Some(RoleName::parse("Docs_Reader").unwrap()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .value;
    store
        .delete_role(scope, &RoleRef::Id(temp.id), false)
        .await
        .unwrap();
    expected.roles.push(reader.clone());

    let jane = store
        .create_identity(
            scope,
            NewIdentity {
                external_id: Some(ExternalId::parse("auth0|jane").unwrap()),
                display_name: "Jane".into(),
                ..user("Jane@example.co")
            },
        )
        .await
        .unwrap()
        .value;
    let (john, john_grants) = store
        .invite_identity(
            scope,
            user("john@example.co"),
            vec![InitialAssignment {
                role: RoleRef::Id(reader.id),
                node: NodeRef::root(),
                effective_from: Some(Timestamp(1_700_000_000_000_001)),
                effective_to: None,
            }],
        )
        .await
        .unwrap()
        .value;
    let john = store
        .disable_identity(scope, &IdentityRef::Id(john.id))
        .await
        .unwrap()
        .value;
    let bot = store
        .create_identity(
            scope,
            NewIdentity {
                kind: IdentityKind::ServiceAccount,
                email: None,
                external_id: None,
                display_name: "bot".into(),
            },
        )
        .await
        .unwrap()
        .value;
    store
        .delete_identity(scope, &IdentityRef::Id(bot.id))
        .await
        .unwrap();
    expected.identities.extend([jane.clone(), john.clone()]);
    expected.assignments.push(john_grants[0].assignment.clone());

    let a = store
        .create_node(scope, node("a", None))
        .await
        .unwrap()
        .value;
    let b = store
        .create_node(scope, node("b", Some("a")))
        .await
        .unwrap()
        .value;
    let c = store
        .create_node(scope, node("c", None))
        .await
        .unwrap()
        .value;
    let b = store
        .move_node(scope, &NodeRef::Id(b.id), &NodeRef::Id(c.id))
        .await
        .unwrap()
        .value;
    let leaf = store
        .create_node(scope, node("leaf", Some("b")))
        .await
        .unwrap()
        .value;
    store
        .delete_node(scope, &NodeRef::Id(leaf.id), false)
        .await
        .unwrap();
    expected.nodes.extend([a.clone(), b.clone(), c.clone()]);
    assert_eq!(b.parent_id, Some(c.id));

    let on_a = store
        .create_assignment(
            scope,
            NewAssignment {
                effective_from: Some(Timestamp(10)),
                effective_to: Some(Timestamp(20)),
                ..grant(&jane, &reader, &a)
            },
        )
        .await
        .unwrap()
        .value;
    let on_b = store
        .create_assignment(scope, grant(&jane, &reader, &b))
        .await
        .unwrap()
        .value;
    store
        .delete_assignment(scope, AssignmentSelector::Id(on_b.assignment.id))
        .await
        .unwrap();
    expected.assignments.push(on_a.assignment.clone());

    // Something in the other environment, which must not leak into this one.
    let elsewhere = store
        .create_role(other_scope, role("Reader", &["Other:Read"]))
        .await
        .unwrap()
        .value;

    let expected = {
        let mut e = expected;
        e.roles.sort_by_key(|r| r.id);
        e.identities.sort_by_key(|i| i.id);
        e.nodes.sort_by_key(|n| n.id);
        e.assignments.sort_by_key(|a| a.id);
        e
    };
    let got = state(&store, env).await;
    assert_eq!(got, expected);
    assert!(got.nodes.contains(&root));

    let snapshot = store.load_snapshot().await.unwrap();
    let (_, theirs) = snapshot
        .environments
        .iter()
        .find(|(e, _)| e.id == other.environment.id)
        .unwrap();
    assert!(theirs.roles.contains(&elsewhere));
    assert!(
        theirs
            .roles
            .iter()
            .all(|r| r.environment_id == other.environment.id)
    );
    assert_eq!(theirs.identities, vec![other.admin.clone()]);
    let ours = snapshot
        .environments
        .iter()
        .find(|(e, _)| e.id == env)
        .unwrap();
    assert_eq!(ours.0, made.environment);
    assert!(!ours.1.roles.contains(&elsewhere));

    // The store's own reads agree with the snapshot.
    let listed = store
        .list_identities(env, IdentityFilter::default(), PageRequest::first(1000))
        .await
        .unwrap();
    let mut listed = listed.items;
    listed.sort_by_key(|i| i.id);
    assert_eq!(listed, got.identities);
    let mut roles = store
        .list_roles(env, PageRequest::first(1000))
        .await
        .unwrap()
        .items;
    roles.sort_by_key(|r| r.id);
    assert_eq!(roles, got.roles);
}

#[tokio::test]
async fn a_damaged_row_fails_the_snapshot_naming_its_table_and_id() {
    let db = TestDb::new().await;
    let store = open(&db).await;
    let (made, _) = provision(&store, "damaged").await;
    use sea_orm::ConnectionTrait;
    let raw = sea_orm::Database::connect(&db.url).await.unwrap();
    raw.execute_unprepared("UPDATE identities SET status = 'ROBOT'")
        .await
        .unwrap();
    let Err(Error::Internal(message)) = store.load_snapshot().await else {
        panic!("a damaged status must fail the snapshot");
    };
    assert!(message.contains("identities"), "{message}");
    assert!(message.contains(&made.admin.id.to_string()), "{message}");
    assert!(message.contains("status"), "{message}");
    if !db.is_postgres() {
        // SQLite keeps text in an integer column: a value that does not decode.
        raw.execute_unprepared(
            "UPDATE identities SET status = 'ACTIVE'; UPDATE nodes SET created_at = 'yesterday'",
        )
        .await
        .unwrap();
        let Err(Error::Internal(message)) = store.load_snapshot().await else {
            panic!("an undecodable column must fail the snapshot");
        };
        assert!(message.contains("nodes"), "{message}");
        assert!(message.contains("created_at"), "{message}");
    }
    let _ = raw.close().await;
}

/// Snapshots taken while identities are invited with an assignment each: the
/// identities and the assignments are read on different connections, yet every
/// snapshot holds each identity exactly with its assignment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_taken_during_writes_are_consistent() {
    use std::sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    };
    let db = TestDb::new().await;
    let store = Arc::new(open(&db).await);
    let (made, scope) = provision(&store, "busy").await;
    let env = scope.environment;
    let reader = store
        .create_role(scope, role("Reader", &["Docs:Read"]))
        .await
        .unwrap()
        .value;
    let done = Arc::new(AtomicBool::new(false));
    // Writes until the snapshots are done.
    let writer = {
        let (store, done) = (Arc::clone(&store), Arc::clone(&done));
        tokio::spawn(async move {
            let mut i = 0;
            while !done.load(Ordering::Relaxed) && i < 5000 {
                let grant = InitialAssignment {
                    role: RoleRef::Id(reader.id),
                    node: NodeRef::root(),
                    effective_from: None,
                    effective_to: None,
                };
                store
                    .invite_identity(scope, user(&format!("u{i}@example.co")), vec![grant])
                    .await
                    .unwrap();
                i += 1;
            }
        })
    };
    let mut revisions = std::collections::BTreeSet::new();
    for _ in 0..300 {
        let snapshot = store.load_snapshot().await.unwrap();
        let (_, s) = snapshot
            .environments
            .iter()
            .find(|(e, _)| e.id == env)
            .unwrap();
        let mut holders: Vec<_> = s.assignments.iter().map(|a| a.identity_id).collect();
        let mut identities: Vec<_> = s.identities.iter().map(|i| i.id).collect();
        holders.sort();
        identities.sort();
        assert_eq!(holders, identities, "at revision {}", snapshot.revision);
        assert!(identities.contains(&made.admin.id));
        revisions.insert(snapshot.revision);
        if revisions.len() >= 5 {
            break;
        }
    }
    done.store(true, Ordering::Relaxed);
    writer.await.unwrap();
    assert!(
        revisions.len() >= 2,
        "the snapshots saw no write: {revisions:?}"
    );
}
