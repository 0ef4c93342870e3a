//! Every mutation writes its change rows, with increasing revisions.

use super::*;

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
