//! Two processes (two `Store`s) on one database racing the same writes: the
//! unique indexes decide, exactly one wins, the rest get ALREADY_EXISTS.

use super::*;

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
    let docs = one
        .create_node(scope, node("docs", None))
        .await
        .unwrap()
        .value;

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
        async move { store.create_node(scope, node("contended", None)).await }
    }))
    .await;
    one_winner("nodes", &results);
}
