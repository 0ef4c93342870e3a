//! Environments provisioned idempotently; migrations run twice are a no-op.

use super::*;

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
