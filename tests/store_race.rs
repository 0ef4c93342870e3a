//! Two processes (two `Store`s) on one database racing the same writes: the
//! unique indexes decide, exactly one wins, the rest get ALREADY_EXISTS.

mod common;

use common::TestDb;
use rbacd::domain::Caller;
use rbacd::domain::{
    Email, Error, Identity, IdentityKind, IdentityRef, Node, NodeKey, NodeRef, PermissionPattern,
    Role, RoleName, RoleRef,
};
use rbacd::store::{NewAssignment, NewIdentity, NewNode, NewRole, Store};

async fn open(db: &TestDb) -> Store {
    let store = Store::connect(&db.url).await.expect("connect");
    store.migrate().await.expect("migrate");
    store
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

fn node(key: &str) -> NewNode {
    NewNode {
        key: NodeKey::parse(key).unwrap(),
        name: key.into(),
        kind: String::new(),
        parent: None,
    }
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

#[track_caller]
fn one_winner<T: std::fmt::Debug>(what: &str, results: &[Result<T, Error>]) {
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{what}: {results:?}"
    );
    for r in results {
        if let Err(e) = r {
            assert!(matches!(e, Error::AlreadyExists(_)), "{what}: {e:?}");
        }
    }
}

#[tokio::test]
async fn two_stores_racing_reading_writes_yield_one_winner() {
    let db = TestDb::new().await;
    let one = open(&db).await;
    let two = Store::connect(&db.url).await.unwrap();
    let made = one.ensure_environment("race", None).await.unwrap().unwrap();
    let scope = Caller::identity(made.environment.id, made.admin.id);
    let stores = [&one, &two];
    let reader = one
        .create_role(scope, role("Reader", &["A:B"]))
        .await
        .unwrap()
        .value;
    let jane = one
        .create_identity(scope, user("jane@example.co"))
        .await
        .unwrap()
        .value;
    let docs = one.create_node(scope, node("docs")).await.unwrap().value;

    let results = futures::future::join_all((0..16).map(|i| {
        let store = stores[i % 2];
        let new = grant(&jane, &reader, &docs);
        async move { store.create_assignment(scope, new).await }
    }))
    .await;
    one_winner("assignments", &results);

    let results = futures::future::join_all((0..16).map(|i| {
        let store = stores[i % 2];
        async move { store.create_identity(scope, user("john@example.co")).await }
    }))
    .await;
    one_winner("identities", &results);

    let results = futures::future::join_all((0..16).map(|i| {
        let store = stores[i % 2];
        async move { store.create_node(scope, node("contended")).await }
    }))
    .await;
    one_winner("nodes", &results);
}
