//! The store through `rbacd::store::Store`, against a fresh database (SQLite,
//! or PostgreSQL with `RBACD_TEST_DATABASE_URL`): the change log, failed
//! writes, snapshots, environments and migrations.

mod change_log;
mod combined_creates;
mod environments;
mod failed_writes;
mod group_commit;
mod races;
mod snapshots;

#[path = "../e2e/support/database.rs"]
mod database;

use database::TestDb;
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
