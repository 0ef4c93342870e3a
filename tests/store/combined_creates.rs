//! CreateAssignments written together: the requests waiting for a lane are
//! written by one statement, each answered on its own (its granting rule, its
//! environment, its clash or missing reference), the valid ones committed
//! together and gap-free.

use std::sync::Arc;

use rbacd::store::GrantCheck;

use super::group_commit::{World, assert_consecutive, assert_gap_free, assignment_count, world};
use super::*;

#[tokio::test]
async fn concurrent_single_creates_each_get_their_own_answer_and_the_valid_ones_commit_together() {
    let db = TestDb::new().await;
    let store = open(&db).await;
    let w = world(&store, "singles").await;
    let taken = grant(&w.people[0], &w.roles[0], &w.nodes[0]);
    let before = store
        .create_assignment(w.scope, taken.clone())
        .await
        .unwrap()
        .revision;
    let assignments_before = assignment_count(&store, w.scope.environment).await;
    let (batches_before, requests_before) = store.write_batches();

    // Every fourth request clashes with the existing assignment, every fourth
    // (offset by one) names a role that does not exist; the rest are new.
    let results = futures::future::join_all((0..16).map(|i| {
        let (store, w, taken) = (&store, &w, taken.clone());
        async move {
            let new = match i % 4 {
                0 => taken,
                1 => NewAssignment {
                    role: RoleRef::Name(RoleName::parse("Missing").unwrap()),
                    ..grant(&w.people[1], &w.roles[0], &w.nodes[0])
                },
                _ => grant(&w.people[i % 7 + 1], &w.roles[i % 2], &w.nodes[i % 3]),
            };
            store.create_assignment(w.scope, new).await
        }
    }))
    .await;

    let mut written = Vec::new();
    for (i, r) in results.into_iter().enumerate() {
        match i % 4 {
            0 => assert!(
                matches!(&r, Err(Error::AlreadyExists(m)) if m.contains("already holds role `Reader`")),
                "request {i}: {r:?}"
            ),
            1 => assert!(
                matches!(&r, Err(Error::NotFound(m)) if m.contains("Missing")),
                "request {i}: {r:?}"
            ),
            _ => {
                let made = r.unwrap_or_else(|e| panic!("request {i}: {e:?}"));
                assert_consecutive(&made);
                let view = &made.value;
                assert_eq!(view.role_name, w.roles[i % 2].name.to_string());
                assert_eq!(view.node_key, w.nodes[i % 3].key.to_string());
                assert_eq!(view.assignment.identity_id, w.people[i % 7 + 1].id);
                written.push(made);
            }
        }
    }
    let (batches, requests) = store.write_batches();
    assert_eq!(requests - requests_before, 8, "the committed requests");
    assert!(batches - batches_before < 8, "committed together");
    assert_eq!(
        assignment_count(&store, w.scope.environment).await,
        assignments_before + 8
    );
    let changes = assert_gap_free(&store, before).await;
    let mut returned: Vec<Change> = written.into_iter().flat_map(|w| w.changes).collect();
    returned.sort_by_key(|c| c.revision);
    assert_eq!(returned, changes, "the changes returned are the log's");
}

#[tokio::test]
async fn creates_written_together_keep_their_environments_and_a_repeated_triple_is_taken_once() {
    let db = TestDb::new().await;
    let store = open(&db).await;
    let one = world(&store, "combined-one").await;
    let two = world(&store, "combined-two").await;
    let before = store.latest_revision().await.unwrap();
    let counts_before = (
        assignment_count(&store, one.scope.environment).await,
        assignment_count(&store, two.scope.environment).await,
    );
    let repeated = grant(&one.people[0], &one.roles[0], &one.nodes[0]);

    // By key and email, so that each reference resolves only within the
    // environment it is asked in: `two`'s people are not `one`'s.
    let by_names = |w: &World, person: usize, node: usize| NewAssignment {
        identity: IdentityRef::Email(w.people[person].email.clone().unwrap()),
        role: RoleRef::Name(w.roles[1].name.clone()),
        node: key_ref(w.nodes[node].key.as_str()),
        effective_from: None,
        effective_to: None,
    };
    let asks: Vec<(Caller, NewAssignment)> = vec![
        (one.scope, repeated.clone()),
        (one.scope, repeated.clone()),
        (one.scope, by_names(&one, 1, 1)),
        (two.scope, by_names(&two, 1, 1)),
        // `one`'s person asked for in `two`: names no one there.
        (two.scope, by_names(&one, 2, 2)),
        (
            two.scope,
            grant(&two.people[3], &two.roles[0], &two.nodes[2]),
        ),
    ];
    let results = futures::future::join_all(
        asks.iter()
            .map(|(scope, new)| store.create_assignment(*scope, new.clone())),
    )
    .await;

    let created_repeated = results[..2].iter().filter(|r| r.is_ok()).count();
    assert_eq!(
        created_repeated,
        1,
        "the repeated triple: {:?}",
        &results[..2]
    );
    assert!(
        results[..2]
            .iter()
            .any(|r| matches!(r, Err(Error::AlreadyExists(_)))),
        "{:?}",
        &results[..2]
    );
    assert!(
        matches!(&results[4], Err(Error::NotFound(m)) if m.contains("p2@combined-one.example")),
        "another environment's identity: {:?}",
        results[4]
    );
    for i in [2, 3, 5] {
        let made = results[i]
            .as_ref()
            .unwrap_or_else(|e| panic!("request {i}: {e:?}"));
        assert_consecutive(made);
        let (scope, _) = &asks[i];
        let view = &made.value;
        assert_eq!(
            view.assignment.environment_id, scope.environment,
            "request {i}"
        );
        assert!(
            made.changes
                .iter()
                .all(|c| c.environment_id == scope.environment)
        );
    }
    assert_eq!(
        assignment_count(&store, one.scope.environment).await,
        counts_before.0 + 2
    );
    assert_eq!(
        assignment_count(&store, two.scope.environment).await,
        counts_before.1 + 2
    );
    assert_gap_free(&store, before).await;
}

#[tokio::test]
async fn creates_written_together_ask_each_its_granting_rule_with_the_role_as_stored() {
    let db = TestDb::new().await;
    let store = open(&db).await;
    let w = world(&store, "granted").await;
    let wide = store
        .create_role(w.scope, role("Editor", &["Docs:Read", "Docs:Write"]))
        .await
        .unwrap()
        .value;
    let count_before = assignment_count(&store, w.scope.environment).await;
    // Refuses any role that holds `Docs:Write`, as a caller without it would be.
    let may_grant: GrantCheck = Arc::new(|role: &Role| {
        let write = PermissionPattern::parse("Docs:Write").unwrap();
        if role.permissions.contains(&write) {
            return Err(Error::PermissionDenied(format!("not `{}`", role.name)));
        }
        Ok(())
    });

    let results = futures::future::join_all((0..8).map(|i| {
        let role = if i % 2 == 0 { &wide } else { &w.roles[0] };
        let new = grant(&w.people[i], role, &w.nodes[0]);
        store.create_assignment_granted(w.scope, new, Arc::clone(&may_grant))
    }))
    .await;

    for (i, r) in results.iter().enumerate() {
        if i % 2 == 0 {
            assert!(
                matches!(r, Err(Error::PermissionDenied(m)) if m.contains("Editor")),
                "request {i}: {r:?}"
            );
        } else {
            let made = r.as_ref().unwrap_or_else(|e| panic!("request {i}: {e:?}"));
            assert_eq!(made.value.role_name, "Reader");
        }
    }
    assert_eq!(
        assignment_count(&store, w.scope.environment).await,
        count_before + 4
    );

    // A role widened after the rule was made is judged as it now is.
    store
        .update_role(
            w.scope,
            &RoleRef::Id(w.roles[1].id),
            RoleUpdate {
                permissions: Some(vec![
                    PermissionPattern::parse("Docs:Read").unwrap(),
                    PermissionPattern::parse("Docs:Write").unwrap(),
                ]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let widened = store
        .create_assignment_granted(
            w.scope,
            grant(&w.people[0], &w.roles[1], &w.nodes[1]),
            Arc::clone(&may_grant),
        )
        .await;
    assert!(
        matches!(&widened, Err(Error::PermissionDenied(m)) if m.contains("Writer")),
        "{widened:?}"
    );
}
