//! The store through `rbacd::store::Store`, against a fresh database (SQLite,
//! or PostgreSQL with `RBACD_TEST_DATABASE_URL`): the change log, failed
//! writes, snapshots, environments and migrations.

mod common;

use common::TestDb;
use rbacd::domain::{
    Assignment, Caller, Change, Email, EnvironmentState, Error, ExternalId, Identity, IdentityKind,
    IdentityRef, IdentityStatus, Node, NodeKey, NodeRef, PageRequest, PermissionPattern, Role,
    RoleName, RoleRef, Timestamp, change::Event,
};
use rbacd::store::{
    AssignmentSelector, IdentityFilter, IdentityUpdate, InitialAssignment, NewAssignment,
    NewIdentity, NewNode, NewRole, Provisioned, RoleUpdate, Store,
};

async fn open(db: &TestDb) -> Store {
    let store = Store::connect(&db.url).await.expect("connect");
    store.migrate().await.expect("migrate");
    store
}

async fn provision(store: &Store, name: &str) -> (Provisioned, Caller) {
    let made = store
        .ensure_environment(name, None)
        .await
        .expect("ensure environment")
        .expect("a new environment is provisioned");
    let scope = Caller::identity(made.environment.id, made.admin.id);
    (made, scope)
}

fn role(name: &str, permissions: &[&str]) -> NewRole {
    NewRole {
        name: RoleName::parse(name).unwrap(),
        description: String::new(),
        permissions: permissions
            .iter()
            .map(|p| PermissionPattern::parse(p).unwrap())
            .collect(),
    }
}

fn user(email: &str) -> NewIdentity {
    NewIdentity {
        kind: IdentityKind::User,
        email: Some(Email::parse(email).unwrap()),
        external_id: None,
        display_name: String::new(),
    }
}

fn node(key: &str, parent: Option<&str>) -> NewNode {
    NewNode {
        key: NodeKey::parse(key).unwrap(),
        name: key.into(),
        kind: String::new(),
        parent: parent.map(key_ref),
    }
}

fn key_ref(key: &str) -> NodeRef {
    NodeRef::Key(NodeKey::parse(key).unwrap())
}

fn grant(identity: &Identity, role: &Role, node: &Node) -> NewAssignment {
    NewAssignment {
        identity: IdentityRef::Id(identity.id),
        role: RoleRef::Id(role.id),
        node: NodeRef::Id(node.id),
        effective_from: None,
        effective_to: None,
    }
}

/// Checks the change rows a write added after `*last`: at least one, strictly
/// increasing, in `scope`, recorded as `action`, the last one at `written` —
/// which is also the latest revision. Moves `*last` on; returns the events.
async fn expect_changes(
    store: &Store,
    last: &mut u64,
    written: u64,
    scope: Caller,
    action: &str,
) -> Vec<Event> {
    assert!(
        written > *last,
        "{action}: revision {written} after {}",
        *last
    );
    let changes: Vec<Change> = store.changes_after(*last, 100_000).await.expect("changes");
    assert!(!changes.is_empty(), "{action} wrote no change row");
    let mut previous = *last;
    for change in &changes {
        assert!(
            change.revision > previous,
            "{action}: revisions not increasing"
        );
        previous = change.revision;
        assert_eq!(change.environment_id, scope.environment, "{action}");
        assert_eq!(change.actor, scope.actor.identity(), "{action}");
        assert_eq!(change.action, action);
    }
    assert_eq!(
        changes.last().unwrap().revision,
        written,
        "{action}: the returned revision is the last change's"
    );
    assert_eq!(store.latest_revision().await.unwrap(), written);
    *last = written;
    changes.into_iter().map(|c| c.event).collect()
}

/// The same events, in any order.
#[track_caller]
fn assert_same_events(got: &[Event], expected: &[Event]) {
    assert_eq!(got.len(), expected.len(), "{got:#?}\nvs\n{expected:#?}");
    for e in expected {
        assert!(got.contains(e), "missing {e:#?} in {got:#?}");
    }
}

#[tokio::test]
async fn every_mutation_writes_change_rows_with_increasing_revisions() {
    let db = TestDb::new().await;
    let store = open(&db).await;
    let (_, scope) = provision(&store, "changes").await;
    let env = scope.environment;
    let mut last = store.latest_revision().await.unwrap();
    assert!(last > 0, "provisioning is logged");

    // Roles.
    let reader = store
        .create_role(scope, role("Reader", &["Docs:Read"]))
        .await
        .unwrap();
    let events = expect_changes(&store, &mut last, reader.revision, scope, "CreateRole").await;
    assert_same_events(&events, &[Event::RoleSaved(reader.value.clone())]);
    let reader = reader.value;

    let updated = store
        .update_role(
            scope,
            &RoleRef::Id(reader.id),
            RoleUpdate {
                permissions: Some(vec![PermissionPattern::parse("Docs:*").unwrap()]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.value.permissions[0].as_str(), "Docs:*");
    let events = expect_changes(&store, &mut last, updated.revision, scope, "UpdateRole").await;
    assert_same_events(&events, &[Event::RoleSaved(updated.value.clone())]);
    let before = store.changes_after(updated.revision - 1, 1).await.unwrap();
    assert_eq!(
        before[0].before.as_ref().and_then(|b| b.get("id")).cloned(),
        Some(serde_json::json!(reader.id.to_string())),
        "an update records the object before it"
    );
    let reader = updated.value;
    let writer = store
        .create_role(scope, role("Writer", &["Docs:Write"]))
        .await
        .unwrap();
    expect_changes(&store, &mut last, writer.revision, scope, "CreateRole").await;
    let writer = writer.value;

    // Nodes.
    let mut nodes = Vec::new();
    for (key, parent) in [
        ("a", None),
        ("a:b", Some("a")),
        ("a:b:c", Some("a:b")),
        ("z", None),
    ] {
        let made = store.create_node(scope, node(key, parent)).await.unwrap();
        let events = expect_changes(&store, &mut last, made.revision, scope, "CreateNode").await;
        assert_same_events(&events, &[Event::NodeSaved(made.value.clone())]);
        nodes.push(made.value);
    }
    let moved = store
        .move_node(scope, &key_ref("a:b"), &key_ref("z"))
        .await
        .unwrap();
    assert_eq!(moved.value.parent_id, Some(nodes[3].id));
    let events = expect_changes(&store, &mut last, moved.revision, scope, "MoveNode").await;
    assert_same_events(&events, &[Event::NodeSaved(moved.value.clone())]);

    // Identities.
    let jane = store
        .create_identity(scope, user("jane@example.co"))
        .await
        .unwrap();
    let events = expect_changes(&store, &mut last, jane.revision, scope, "CreateIdentity").await;
    assert_same_events(&events, &[Event::IdentitySaved(jane.value.clone())]);
    let jane = jane.value;
    assert_eq!(jane.status, IdentityStatus::Active);

    let invited = store
        .invite_identity(
            scope,
            user("john@example.co"),
            vec![
                InitialAssignment {
                    role: RoleRef::Name(RoleName::parse("reader").unwrap()),
                    node: key_ref("a"),
                    effective_from: None,
                    effective_to: None,
                },
                InitialAssignment {
                    role: RoleRef::Id(writer.id),
                    node: key_ref("a:b:c"),
                    effective_from: Some(Timestamp(1)),
                    effective_to: Some(Timestamp(2)),
                },
            ],
        )
        .await
        .unwrap();
    let (john, initial) = invited.value.clone();
    assert_eq!(john.status, IdentityStatus::Invited);
    assert_eq!(initial.len(), 2);
    let events = expect_changes(&store, &mut last, invited.revision, scope, "InviteIdentity").await;
    assert_same_events(
        &events,
        &[
            Event::IdentitySaved(john.clone()),
            Event::AssignmentCreated(initial[0].assignment.clone()),
            Event::AssignmentCreated(initial[1].assignment.clone()),
        ],
    );

    let renamed = store
        .update_identity(
            scope,
            &IdentityRef::Id(john.id),
            IdentityUpdate {
                display_name: Some("John".into()),
                external_id: Some(Some(ExternalId::parse("auth0|john").unwrap())),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let events = expect_changes(&store, &mut last, renamed.revision, scope, "UpdateIdentity").await;
    assert_same_events(&events, &[Event::IdentitySaved(renamed.value.clone())]);

    let activated = store
        .activate_identity(scope, &IdentityRef::Id(john.id))
        .await
        .unwrap();
    assert_eq!(activated.value.status, IdentityStatus::Active);
    let events = expect_changes(
        &store,
        &mut last,
        activated.revision,
        scope,
        "ActivateIdentity",
    )
    .await;
    assert_same_events(&events, &[Event::IdentitySaved(activated.value.clone())]);
    let disabled = store
        .disable_identity(scope, &IdentityRef::Id(john.id))
        .await
        .unwrap();
    assert_eq!(disabled.value.status, IdentityStatus::Disabled);
    let events = expect_changes(
        &store,
        &mut last,
        disabled.revision,
        scope,
        "DisableIdentity",
    )
    .await;
    assert_same_events(&events, &[Event::IdentitySaved(disabled.value.clone())]);

    // Assignments.
    let one = store
        .create_assignment(scope, grant(&jane, &reader, &nodes[0]))
        .await
        .unwrap();
    let events = expect_changes(&store, &mut last, one.revision, scope, "CreateAssignment").await;
    assert_same_events(
        &events,
        &[Event::AssignmentCreated(one.value.assignment.clone())],
    );

    let batch = store
        .batch_create_assignments(
            scope,
            vec![
                grant(&jane, &writer, &nodes[0]),
                grant(&jane, &reader, &nodes[1]),
                grant(&jane, &reader, &nodes[2]),
            ],
        )
        .await
        .unwrap();
    let events = expect_changes(
        &store,
        &mut last,
        batch.revision,
        scope,
        "BatchCreateAssignments",
    )
    .await;
    let expected: Vec<Event> = batch
        .value
        .iter()
        .map(|v| Event::AssignmentCreated(v.assignment.clone()))
        .collect();
    assert_same_events(&events, &expected);

    let removed = store
        .delete_assignment(scope, AssignmentSelector::Id(one.value.assignment.id))
        .await
        .unwrap();
    let events = expect_changes(
        &store,
        &mut last,
        removed.revision,
        scope,
        "DeleteAssignment",
    )
    .await;
    assert_same_events(
        &events,
        &[Event::AssignmentDeleted(one.value.assignment.id)],
    );
    let removed = store
        .delete_assignment(
            scope,
            AssignmentSelector::Triple {
                identity: IdentityRef::Email(Email::parse("JANE@example.co").unwrap()),
                role: RoleRef::Id(writer.id),
                node: key_ref("a"),
            },
        )
        .await
        .unwrap();
    let events = expect_changes(
        &store,
        &mut last,
        removed.revision,
        scope,
        "DeleteAssignment",
    )
    .await;
    assert_same_events(
        &events,
        &[Event::AssignmentDeleted(batch.value[0].assignment.id)],
    );

    // Deletes that take assignments with them.
    // Writer is now held only by john's initial assignment at a:b:c.
    let dropped = store
        .delete_role(scope, &RoleRef::Id(writer.id), true)
        .await
        .unwrap();
    assert_eq!(dropped.value.1, 1);
    let events = expect_changes(&store, &mut last, dropped.revision, scope, "DeleteRole").await;
    assert_same_events(
        &events,
        &[
            Event::AssignmentDeleted(initial[1].assignment.id),
            Event::RoleDeleted(writer.id),
        ],
    );

    let gone = store
        .delete_identity(scope, &IdentityRef::Id(john.id))
        .await
        .unwrap();
    assert_eq!(gone.value.1, 1);
    let events = expect_changes(&store, &mut last, gone.revision, scope, "DeleteIdentity").await;
    assert_same_events(
        &events,
        &[
            Event::AssignmentDeleted(initial[0].assignment.id),
            Event::IdentityDeleted(john.id),
        ],
    );

    // z -> a:b -> a:b:c, with jane's reader assignments on a:b and a:b:c.
    let cascade = store.delete_node(scope, &key_ref("z"), true).await.unwrap();
    assert_eq!((cascade.value.nodes, cascade.value.assignments), (3, 2));
    let events = expect_changes(&store, &mut last, cascade.revision, scope, "DeleteNode").await;
    assert_same_events(
        &events,
        &[
            Event::AssignmentDeleted(batch.value[1].assignment.id),
            Event::AssignmentDeleted(batch.value[2].assignment.id),
            Event::NodeDeleted(nodes[1].id),
            Event::NodeDeleted(nodes[2].id),
            Event::NodeDeleted(nodes[3].id),
        ],
    );

    // Every revision so far is in the log exactly once, in order.
    let all = store.changes_after(0, 100_000).await.unwrap();
    assert!(all.windows(2).all(|w| w[0].revision < w[1].revision));
    assert_eq!(all.last().unwrap().revision, last);
    // `limit` is honoured, and paging by revision sees the same rows.
    let mut paged = Vec::new();
    let mut after = 0;
    loop {
        let page = store.changes_after(after, 3).await.unwrap();
        assert!(page.len() <= 3);
        let Some(tail) = page.last() else { break };
        after = tail.revision;
        paged.extend(page);
    }
    assert_eq!(paged, all);
    assert!(all.iter().all(|c| c.environment_id == env));
}

#[tokio::test]
async fn failed_writes_leave_no_change_and_no_object() {
    let db = TestDb::new().await;
    let store = open(&db).await;
    let (_, scope) = provision(&store, "failures").await;
    let env = scope.environment;
    let reader = store
        .create_role(scope, role("Reader", &["Docs:Read"]))
        .await
        .unwrap()
        .value;
    let writer = store
        .create_role(scope, role("Writer", &[]))
        .await
        .unwrap()
        .value;
    let jane = store
        .create_identity(scope, user("jane@example.co"))
        .await
        .unwrap()
        .value;
    let docs = store
        .create_node(scope, node("docs", None))
        .await
        .unwrap()
        .value;
    store
        .create_node(scope, node("docs:page", Some("docs")))
        .await
        .unwrap();
    store
        .create_assignment(scope, grant(&jane, &reader, &docs))
        .await
        .unwrap();
    let snapshot_before = state(&store, env).await;
    let revision = store.latest_revision().await.unwrap();

    let mut failures: Vec<(&str, Error)> = Vec::new();
    let mut fail = |what: &'static str, result: Result<(), Error>| {
        failures.push((what, result.expect_err(what)));
    };
    fail(
        "duplicate role",
        store
            .create_role(scope, role("READER", &["X:Y"]))
            .await
            .map(drop),
    );
    fail(
        "rename onto another role",
        store
            .update_role(
                scope,
                &RoleRef::Id(writer.id),
                RoleUpdate {
                    name: Some(RoleName::parse("reader").unwrap()),
                    permissions: Some(vec![PermissionPattern::parse("New:Perm").unwrap()]),
                    ..Default::default()
                },
            )
            .await
            .map(drop),
    );
    fail(
        "duplicate email",
        store
            .create_identity(scope, user("Jane@Example.co"))
            .await
            .map(drop),
    );
    fail(
        "duplicate node key",
        store.create_node(scope, node("docs", None)).await.map(drop),
    );
    fail(
        "duplicate assignment",
        store
            .create_assignment(scope, grant(&jane, &reader, &docs))
            .await
            .map(drop),
    );
    fail(
        "batch with a duplicate",
        store
            .batch_create_assignments(
                scope,
                vec![grant(&jane, &writer, &docs), grant(&jane, &reader, &docs)],
            )
            .await
            .map(drop),
    );
    fail(
        "invite with a missing role",
        store
            .invite_identity(
                scope,
                user("ghost@example.co"),
                vec![
                    InitialAssignment {
                        role: RoleRef::Id(reader.id),
                        node: key_ref("docs"),
                        effective_from: None,
                        effective_to: None,
                    },
                    InitialAssignment {
                        role: RoleRef::Name(RoleName::parse("Missing").unwrap()),
                        node: key_ref("docs"),
                        effective_from: None,
                        effective_to: None,
                    },
                ],
            )
            .await
            .map(drop),
    );
    fail(
        "delete an assigned role without force",
        store
            .delete_role(scope, &RoleRef::Id(reader.id), false)
            .await
            .map(drop),
    );
    fail(
        "delete a node with children without cascade",
        store
            .delete_node(scope, &key_ref("docs"), false)
            .await
            .map(drop),
    );
    fail(
        "delete the root",
        store
            .delete_node(scope, &NodeRef::root(), true)
            .await
            .map(drop),
    );
    fail(
        "move under a descendant",
        store
            .move_node(scope, &key_ref("docs"), &key_ref("docs:page"))
            .await
            .map(drop),
    );
    fail(
        "activate an active identity",
        store
            .activate_identity(scope, &IdentityRef::Id(jane.id))
            .await
            .map(drop),
    );

    for (what, error) in &failures {
        let expected = match *what {
            w if w.starts_with("duplicate")
                || w.starts_with("rename")
                || w.starts_with("batch") =>
            {
                matches!(error, Error::AlreadyExists(_))
            }
            w if w.starts_with("invite") => matches!(error, Error::NotFound(_)),
            _ => matches!(error, Error::FailedPrecondition(_)),
        };
        assert!(expected, "{what}: unexpected {error:?}");
        let message = error.to_string().to_lowercase();
        for word in ["sql", "constraint", "unique", "violat"] {
            assert!(!message.contains(word), "{what}: {message}");
        }
    }
    assert_eq!(store.latest_revision().await.unwrap(), revision);
    assert!(store.changes_after(revision, 10).await.unwrap().is_empty());
    assert_eq!(state(&store, env).await, snapshot_before);
    assert!(matches!(
        store
            .get_identity(
                env,
                &IdentityRef::Email(Email::parse("ghost@example.co").unwrap())
            )
            .await,
        Err(Error::NotFound(_))
    ));
    // The store still writes after the failures, at a later revision.
    let after = store.create_role(scope, role("After", &[])).await.unwrap();
    assert!(after.revision > revision);
}

/// One environment's stored state, each list sorted by id, for comparisons.
#[derive(Debug, PartialEq)]
struct State {
    roles: Vec<Role>,
    identities: Vec<Identity>,
    nodes: Vec<Node>,
    assignments: Vec<Assignment>,
}

impl State {
    fn of(s: &EnvironmentState) -> Self {
        let mut state = Self {
            roles: s.roles.clone(),
            identities: s.identities.clone(),
            nodes: s.nodes.clone(),
            assignments: s.assignments.clone(),
        };
        state.roles.sort_by_key(|r| r.id);
        state.identities.sort_by_key(|i| i.id);
        state.nodes.sort_by_key(|n| n.id);
        state.assignments.sort_by_key(|a| a.id);
        state
    }
}

async fn state(store: &Store, env: rbacd::domain::EnvironmentId) -> State {
    let snapshot = store.load_snapshot().await.expect("snapshot");
    assert_eq!(snapshot.revision, store.latest_revision().await.unwrap());
    let (_, s) = snapshot
        .environments
        .iter()
        .find(|(e, _)| e.id == env)
        .expect("the environment is in the snapshot");
    State::of(s)
}

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
async fn ensure_environment_is_idempotent() {
    let db = TestDb::new().await;
    let store = open(&db).await;
    let first = store
        .ensure_environment("alpha", None)
        .await
        .unwrap()
        .expect("created the first time");
    assert_eq!(first.environment.name, "alpha");
    assert!(!first.secret.is_empty());
    let revision = store.latest_revision().await.unwrap();
    let snapshot = state(&store, first.environment.id).await;

    for _ in 0..2 {
        assert!(
            store
                .ensure_environment("alpha", None)
                .await
                .unwrap()
                .is_none(),
            "nothing is made the second time"
        );
    }
    assert_eq!(store.latest_revision().await.unwrap(), revision);
    assert_eq!(state(&store, first.environment.id).await, snapshot);
    assert_eq!(
        store.find_environment("alpha").await.unwrap(),
        Some(first.environment.clone())
    );
    let named_alpha = store
        .list_environments()
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.name == "alpha")
        .count();
    assert_eq!(named_alpha, 1);

    // Another name is another environment.
    let beta = store
        .ensure_environment("beta", None)
        .await
        .unwrap()
        .expect("beta is new");
    assert_ne!(beta.environment.id, first.environment.id);
    assert!(store.find_environment("gamma").await.unwrap().is_none());

    // Two stores racing to create the same environment: exactly one makes it.
    let other = Store::connect(&db.url).await.unwrap();
    let (x, y) = tokio::join!(
        store.ensure_environment("gamma", None),
        other.ensure_environment("gamma", None)
    );
    let made = [x.unwrap(), y.unwrap()];
    assert_eq!(made.iter().filter(|m| m.is_some()).count(), 1);
    let gammas = store
        .list_environments()
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.name == "gamma")
        .count();
    assert_eq!(gammas, 1);
}

#[tokio::test]
async fn migrations_run_twice_are_a_no_op() {
    let db = TestDb::new().await;
    let store = Store::connect(&db.url).await.unwrap();
    store.migrate().await.expect("first migration");
    store
        .migrate()
        .await
        .expect("migrating a migrated database");
    let (made, scope) = provision(&store, "migrated").await;
    store
        .create_role(scope, role("Kept", &["Kept:Read"]))
        .await
        .unwrap();
    let revision = store.latest_revision().await.unwrap();
    let before = state(&store, made.environment.id).await;

    store.migrate().await.expect("migrating again");
    // And from a second connection, as another instance starting would.
    let second = Store::connect(&db.url).await.unwrap();
    second.migrate().await.expect("another instance migrating");

    for s in [&store, &second] {
        assert_eq!(s.latest_revision().await.unwrap(), revision);
        assert_eq!(state(s, made.environment.id).await, before);
        assert!(s.changes_after(revision, 10).await.unwrap().is_empty());
    }
    // Still fully usable.
    second.create_role(scope, role("Added", &[])).await.unwrap();
    assert!(matches!(
        store.create_role(scope, role("added", &[])).await,
        Err(Error::AlreadyExists(_))
    ));
}

#[tokio::test]
async fn two_stores_racing_duplicate_roles_yield_one_winner() {
    let db = TestDb::new().await;
    let one = open(&db).await;
    let two = Store::connect(&db.url).await.unwrap();
    let (_, scope) = provision(&one, "race").await;
    let stores = [&one, &two];
    let before = one.latest_revision().await.unwrap();

    // Two instances, each serializing only its own writes: the index decides.
    let results = futures::future::join_all((0..16).map(|i| {
        let store = stores[i % 2];
        let name = if i % 3 == 0 { "racer" } else { "Racer" };
        async move { store.create_role(scope, role(name, &["A:B"])).await }
    }))
    .await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    for r in &results {
        if let Err(e) = r {
            assert!(matches!(e, Error::AlreadyExists(_)), "{e:?}");
        }
    }
    let winner = results.into_iter().find_map(Result::ok).unwrap();
    // Exactly one change row, the winner's.
    let changes = one.changes_after(before, 100).await.unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].revision, winner.revision);
    assert_eq!(changes[0].event, Event::RoleSaved(winner.value));
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
