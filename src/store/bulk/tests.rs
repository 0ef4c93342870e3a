//! `Store::bulk_load` on a fresh database.

use rbacd_testkit::FreshDb;

use super::*;
use crate::domain::{
    AssignmentId, Email, IdentityId, IdentityKind, IdentityStatus, NodeId, NodeKey, NodeRef,
    PermissionPattern, RoleId, RoleName, Timestamp,
};

const T: Timestamp = Timestamp(1_750_000_000_000_000);

/// A store on a fresh database with environment `default`, and its root node.
async fn store() -> (FreshDb, Store, EnvironmentId, NodeId) {
    let db = FreshDb::new().await.unwrap();
    let store = Store::connect(db.url()).await.unwrap();
    store.migrate().await.unwrap();
    let made = store.ensure_environment("default", None).await.unwrap();
    let env = made.unwrap().environment.id;
    let root = store.get_node(env, &NodeRef::root()).await.unwrap().id;
    (db, store, env, root)
}

/// A role, an identity, two nodes (`a` under the root, `b` under `a`) and an assignment at `b`.
fn objects(env: EnvironmentId, root: NodeId) -> EnvironmentState {
    let node = |key: &str, parent: NodeId| Node {
        id: NodeId::generate(),
        environment_id: env,
        key: NodeKey::parse(key).unwrap(),
        name: key.into(),
        kind: "team".into(),
        parent_id: Some(parent),
        created_at: T,
        updated_at: T,
    };
    let a = node("a", root);
    let b = node("b", a.id);
    let role = Role {
        id: RoleId::generate(),
        environment_id: env,
        name: RoleName::parse("Reader").unwrap(),
        description: String::new(),
        permissions: vec![PermissionPattern::parse("Docs:*").unwrap()],
        created_at: T,
        updated_at: T,
    };
    let identity = Identity {
        id: IdentityId::generate(),
        environment_id: env,
        kind: IdentityKind::User,
        status: IdentityStatus::Active,
        email: Some(Email::parse("ann@example.com").unwrap()),
        external_id: None,
        display_name: "Ann".into(),
        created_at: T,
        updated_at: T,
    };
    let assignment = Assignment {
        id: AssignmentId::generate(),
        environment_id: env,
        identity_id: identity.id,
        role_id: role.id,
        node_id: b.id,
        effective_from: None,
        effective_to: Some(Timestamp(T.0 + 1)),
        created_at: T,
    };
    EnvironmentState {
        roles: vec![role],
        identities: vec![identity],
        nodes: vec![a, b],
        assignments: vec![assignment],
        api_keys: Vec::new(),
    }
}

/// What the store holds of environment `env`.
async fn stored(store: &Store, env: EnvironmentId) -> EnvironmentState {
    let snapshot = store.load_snapshot().await.unwrap();
    snapshot
        .environments
        .into_iter()
        .find(|(e, _)| e.id == env)
        .unwrap()
        .1
}

#[tokio::test]
async fn loads_every_object_with_the_change_row_a_create_writes() {
    let (_db, store, env, root) = store().await;
    let before = store.latest_revision().await.unwrap();
    let state = objects(env, root);
    let loaded = store.bulk_load(env, &state).await.unwrap();
    assert_eq!(loaded.value, 5);

    let changes = store.changes_after(before, 100).await.unwrap();
    let events: Vec<Event> = changes.iter().map(|c| c.event.clone()).collect();
    let expected: Vec<Event> = [
        Batch::Roles(&state.roles),
        Batch::Identities(&state.identities),
    ]
    .into_iter()
    .chain([
        Batch::Nodes(&state.nodes),
        Batch::Assignments(&state.assignments),
    ])
    .flat_map(Batch::events)
    .collect();
    assert_eq!(events, expected);
    assert!(
        changes
            .iter()
            .all(|c| c.action == BULK_LOAD_ACTION && c.actor.is_none())
    );
    assert_eq!(changes.last().unwrap().revision, loaded.revision);

    let stored = stored(&store, env).await;
    assert!(state.roles.iter().all(|r| stored.roles.contains(r)));
    assert!(
        state
            .identities
            .iter()
            .all(|i| stored.identities.contains(i))
    );
    assert!(state.nodes.iter().all(|n| stored.nodes.contains(n)));
    assert!(stored.assignments.contains(&state.assignments[0]));
    store.close().await;
}

#[tokio::test]
async fn refuses_what_it_cannot_load_and_writes_nothing() {
    let (_db, store, env, root) = store().await;
    let before = store.latest_revision().await.unwrap();
    let refused = |result: Result<Written<usize>>, field: &str| match result {
        Err(Error::InvalidArgument(v)) => assert_eq!(v[0].field, field),
        other => panic!("expected {field} refused, got {other:?}"),
    };

    let mut rooted = objects(env, root);
    rooted.nodes[0].parent_id = None;
    refused(store.bulk_load(env, &rooted).await, "nodes[0].parent_id");
    let mut foreign = objects(env, root);
    foreign.assignments[0].environment_id = EnvironmentId::generate();
    refused(store.bulk_load(env, &foreign).await, "assignments[0]");
    let elsewhere = EnvironmentId::generate();
    let missing = store.bulk_load(elsewhere, &objects(elsewhere, root)).await;
    assert!(matches!(missing, Err(Error::NotFound(_))), "{missing:?}");
    assert_eq!(store.latest_revision().await.unwrap(), before);

    let state = objects(env, root);
    store.bulk_load(env, &state).await.unwrap();
    let again = store.bulk_load(env, &state).await;
    assert!(matches!(again, Err(Error::AlreadyExists(_))), "{again:?}");
    store.close().await;
}

/// More identities and assignments than one INSERT statement holds, so that
/// each kind takes full statements and a shorter last one.
#[tokio::test]
async fn loads_more_objects_than_one_statement_holds() {
    let (_db, store, env, root) = store().await;
    let before = store.latest_revision().await.unwrap();
    let mut state = objects(env, root);
    let template = state.identities[0].clone();
    let count = 2 * rows::ASSIGNMENTS.rows_per_statement() + 7;
    for i in 0..count {
        let identity = Identity {
            id: IdentityId::generate(),
            email: Some(Email::parse(&format!("user{i}@example.com")).unwrap()),
            ..template.clone()
        };
        state.assignments.push(Assignment {
            id: AssignmentId::generate(),
            identity_id: identity.id,
            ..state.assignments[0].clone()
        });
        state.identities.push(identity);
    }
    let loaded = store.bulk_load(env, &state).await.unwrap();
    assert_eq!(loaded.value, 5 + 2 * count);

    let changes = store
        .changes_after(before, 10 * count as u64)
        .await
        .unwrap();
    assert_eq!(changes.len(), 5 + 2 * count);
    assert_eq!(changes.last().unwrap().revision, loaded.revision);
    let written: Vec<&Event> = changes.iter().map(|c| &c.event).collect();
    let expected: Vec<Event> = [
        Batch::Roles(&state.roles),
        Batch::Identities(&state.identities),
        Batch::Nodes(&state.nodes),
        Batch::Assignments(&state.assignments),
    ]
    .into_iter()
    .flat_map(Batch::events)
    .collect();
    assert!(written.iter().copied().eq(expected.iter()));

    let stored = stored(&store, env).await;
    // The environment's creation made one assignment besides: its admin's grant.
    let got: std::collections::HashSet<_> = stored.assignments.iter().map(|a| a.id).collect();
    assert_eq!(got.len(), state.assignments.len() + 1);
    assert!(state.assignments.iter().all(|a| got.contains(&a.id)));
    assert!(
        state
            .identities
            .iter()
            .all(|i| stored.identities.contains(i))
    );
    store.close().await;
}
