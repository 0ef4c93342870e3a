//! A failed write leaves no change and no object behind.

use super::*;

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
