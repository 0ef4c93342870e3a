//! Group commit: writes waiting in an environment's lane share a transaction,
//! each request all-or-nothing on its own; revisions stay consecutive per
//! request and gap-free in the log; environments do not wait on each other.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering::SeqCst},
    },
    time::Duration,
};

use rbacd::domain::{EnvironmentId, RoleId};
use rbacd::store::{AssignmentFilter, RequestKey, Written};

use super::*;

/// The revisions of `written`'s changes are consecutive and end at its revision.
#[track_caller]
pub(super) fn assert_consecutive<T>(written: &Written<T>) {
    let revisions: Vec<u64> = written.changes.iter().map(|c| c.revision).collect();
    assert!(!revisions.is_empty());
    for pair in revisions.windows(2) {
        assert_eq!(pair[1], pair[0] + 1, "a request's revisions: {revisions:?}");
    }
    assert_eq!(*revisions.last().unwrap(), written.revision);
}

/// Every revision after `after` up to the latest is in the log, exactly once.
pub(super) async fn assert_gap_free(store: &Store, after: u64) -> Vec<Change> {
    let latest = store.latest_revision().await.unwrap();
    let changes = store.changes_after(after, 1_000_000).await.unwrap();
    let revisions: Vec<u64> = changes.iter().map(|c| c.revision).collect();
    let expected: Vec<u64> = (after + 1..=latest).collect();
    assert_eq!(revisions, expected, "the log has gaps");
    changes
}

pub(super) struct World {
    pub scope: Caller,
    pub roles: Vec<Role>,
    pub people: Vec<Identity>,
    pub nodes: Vec<Node>,
}

pub(super) async fn world(store: &Store, name: &str) -> World {
    let (_, scope) = provision(store, name).await;
    let mut roles = Vec::new();
    for r in ["Reader", "Writer"] {
        roles.push(
            store
                .create_role(scope, role(r, &["Docs:Read"]))
                .await
                .unwrap()
                .value,
        );
    }
    let mut people = Vec::new();
    for i in 0..8 {
        people.push(
            store
                .create_identity(scope, user(&format!("p{i}@{name}.example")))
                .await
                .unwrap()
                .value,
        );
    }
    let mut nodes = Vec::new();
    for k in ["docs", "code", "ops"] {
        nodes.push(store.create_node(scope, node(k, None)).await.unwrap().value);
    }
    World {
        scope,
        roles,
        people,
        nodes,
    }
}

pub(super) async fn assignment_count(store: &Store, env: EnvironmentId) -> usize {
    store
        .list_assignments(env, AssignmentFilter::default(), PageRequest::first(1000))
        .await
        .unwrap()
        .items
        .len()
}

#[tokio::test]
async fn a_failing_request_among_concurrent_ones_leaves_nothing_and_the_others_commit() {
    let db = TestDb::new().await;
    let store = open(&db).await;
    let w = world(&store, "atomic").await;
    let existing = store
        .create_assignment(w.scope, grant(&w.people[0], &w.roles[0], &w.nodes[0]))
        .await
        .unwrap();
    let before = existing.revision;
    let assignments_before = assignment_count(&store, w.scope.environment).await;
    let (batches_before, requests_before) = store.write_batches();

    // Sixteen requests queued together; number 5 writes a new assignment and
    // then fails on a duplicate of the existing one, inside the shared transaction.
    let failing = 5;
    let results = futures::future::join_all((0..16).map(|i| {
        let (store, w) = (&store, &w);
        async move {
            let batch = if i == failing {
                vec![
                    grant(&w.people[7], &w.roles[1], &w.nodes[1]),
                    grant(&w.people[0], &w.roles[0], &w.nodes[0]),
                ]
            } else {
                vec![
                    grant(&w.people[i % 6 + 1], &w.roles[0], &w.nodes[i / 6]),
                    grant(&w.people[i % 6 + 1], &w.roles[1], &w.nodes[i / 6]),
                ]
            };
            store.batch_create_assignments(w.scope, batch).await
        }
    }))
    .await;

    let (batches, requests) = store.write_batches();
    assert_eq!(requests - requests_before, 15, "the committed requests");
    assert!(
        batches - batches_before < 15,
        "the queued requests were committed together ({} batches)",
        batches - batches_before
    );
    let mut written = Vec::new();
    for (i, r) in results.into_iter().enumerate() {
        if i == failing {
            let e = r.expect_err("the duplicate fails");
            assert!(matches!(e, Error::AlreadyExists(_)), "{e:?}");
        } else {
            let w = r.unwrap_or_else(|e| panic!("request {i}: {e:?}"));
            assert_consecutive(&w);
            assert_eq!(w.changes.len(), 2);
            written.push(w);
        }
    }
    // Nothing of the failing request: not its first assignment, not a change row.
    let env = w.scope.environment;
    assert_eq!(
        assignment_count(&store, env).await,
        assignments_before + 15 * 2
    );
    let missing = store
        .list_assignments(
            env,
            AssignmentFilter {
                identity: Some(IdentityRef::Id(w.people[7].id)),
                role: Some(RoleRef::Id(w.roles[1].id)),
                ..AssignmentFilter::default()
            },
            PageRequest::first(10),
        )
        .await
        .unwrap();
    assert!(missing.items.is_empty(), "{:?}", missing.items);
    let changes = assert_gap_free(&store, before).await;
    assert_eq!(changes.len(), 30);
    let mut returned: Vec<Change> = written.into_iter().flat_map(|w| w.changes).collect();
    returned.sort_by_key(|c| c.revision);
    assert_eq!(returned, changes, "the changes returned are the log's");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn revisions_are_consecutive_per_request_and_gap_free_under_writes_from_many_environments() {
    let db = TestDb::new().await;
    let store = Arc::new(open(&db).await);
    let mut worlds = Vec::new();
    for e in 0..4 {
        worlds.push(Arc::new(world(&store, &format!("env{e}")).await));
    }
    let before = store.latest_revision().await.unwrap();

    // A follower reads the log as it grows: every read must start right after
    // what it has seen, or a revision committed later would have been skipped.
    let stop = Arc::new(AtomicBool::new(false));
    let follower = {
        let (store, stop) = (Arc::clone(&store), Arc::clone(&stop));
        tokio::spawn(async move {
            let mut seen = before;
            loop {
                // Read before the last pass, so that the last one sees everything.
                let last_pass = stop.load(SeqCst);
                let changes = store.changes_after(seen, 10_000).await.unwrap();
                for c in &changes {
                    assert_eq!(c.revision, seen + 1, "the follower skipped a revision");
                    seen = c.revision;
                }
                if last_pass && changes.is_empty() {
                    return seen;
                }
                tokio::task::yield_now().await;
            }
        })
    };

    let mut writers = Vec::new();
    for (e, w) in worlds.iter().enumerate() {
        for k in 0..6 {
            let (store, w) = (Arc::clone(&store), Arc::clone(w));
            writers.push(tokio::spawn(async move {
                let mut written = Vec::new();
                for round in 0..4 {
                    let person = &w.people[(k + round * 2) % 8];
                    let batch = vec![
                        grant(person, &w.roles[round % 2], &w.nodes[k % 2]),
                        grant(person, &w.roles[round % 2], &w.nodes[(k + 1) % 2]),
                    ];
                    match store.batch_create_assignments(w.scope, batch).await {
                        Ok(made) => written.push((made.revision, made.changes)),
                        // Another writer of the environment granted it first.
                        Err(Error::AlreadyExists(_)) => {}
                        Err(other) => panic!("env{e} writer {k}: {other:?}"),
                    }
                    let role = store
                        .create_role(w.scope, role(&format!("R{k}x{round}"), &["A:B"]))
                        .await
                        .unwrap_or_else(|e| panic!("a role: {e:?}"));
                    written.push((role.revision, role.changes));
                }
                written
            }));
        }
    }
    let mut returned = Vec::new();
    for writer in writers {
        for (revision, changes) in writer.await.unwrap() {
            let w = Written {
                value: (),
                revision,
                changes,
            };
            assert_consecutive(&w);
            returned.extend(w.changes);
        }
    }
    let changes = assert_gap_free(&store, before).await;
    returned.sort_by_key(|c| c.revision);
    assert_eq!(returned, changes, "every change returned, and only those");
    // The follower saw every revision, in order, without skipping one.
    stop.store(true, SeqCst);
    let seen = follower.await.unwrap();
    assert_eq!(seen, store.latest_revision().await.unwrap());
    assert!(seen > before);
}

/// Two stores on one PostgreSQL database, as two instances; `None` on SQLite,
/// whose one writer holds every environment's writes by design (one lane for
/// the store).
async fn two_instances(db: &TestDb) -> Option<(Arc<Store>, Arc<Store>)> {
    if !db.is_postgres() {
        eprintln!("skipped on SQLite: one writer per database");
        return None;
    }
    let one = Arc::new(open(db).await);
    let two = Arc::new(Store::connect(&db.url).await.unwrap());
    Some((one, two))
}

/// A write in `free` commits on each instance without waiting. (The timeout
/// only turns a hang into a failure.)
async fn writes_without_waiting(one: &Store, two: &Store, free: Caller) {
    for (store, name) in [(one, "One"), (two, "Two")] {
        let made = tokio::time::timeout(
            Duration::from_secs(20),
            store.create_role(free, role(name, &["A:B"])),
        )
        .await
        .unwrap_or_else(|_| panic!("{name}: a write of another environment waited"))
        .unwrap();
        assert_consecutive(&made);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_environment_writes_while_another_environment_holds_a_write_open() {
    let db = TestDb::new().await;
    let Some((one, two)) = two_instances(&db).await else {
        return;
    };
    let (_, held_scope) = provision(&one, "held").await;
    let (_, free_scope) = provision(&one, "free").await;

    let (opened, is_open) = tokio::sync::oneshot::channel();
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let holder = {
        let one = Arc::clone(&one);
        tokio::spawn(async move {
            one.hold_write_open(held_scope.environment, opened, async {
                let _ = released.await;
            })
            .await
        })
    };
    is_open.await.expect("the held write opened");

    // The same environment waits, on this instance (its lane) and on another (its lock).
    let same_here = {
        let one = Arc::clone(&one);
        tokio::spawn(async move { one.create_role(held_scope, role("Here", &["A:B"])).await })
    };
    let same_there = {
        let two = Arc::clone(&two);
        tokio::spawn(async move { two.create_role(held_scope, role("There", &["A:B"])).await })
    };

    // Another environment does not wait, on either instance.
    writes_without_waiting(&one, &two, free_scope).await;
    assert!(
        !same_here.is_finished(),
        "the held environment's lane is held"
    );
    assert!(
        !same_there.is_finished(),
        "the held environment is locked on every instance"
    );

    release.send(()).unwrap();
    holder.await.unwrap().unwrap();
    let here = same_here.await.unwrap().unwrap();
    let there = same_there.await.unwrap().unwrap();
    assert_ne!(here.revision, there.revision);
    assert_gap_free(&one, 0).await;
}

#[tokio::test]
async fn an_abandoned_write_leaves_nothing_and_the_lane_carries_on() {
    let db = TestDb::new().await;
    let store = Arc::new(open(&db).await);
    let (_, scope) = provision(&store, "abandon").await;
    let before = store.latest_revision().await.unwrap();

    // A write that is dropped while its environment's others wait behind it.
    let (opened, is_open) = tokio::sync::oneshot::channel();
    let holder = {
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            store
                .hold_write_open(scope.environment, opened, std::future::pending())
                .await
        })
    };
    is_open.await.unwrap();
    let waiting: Vec<_> = (0..4)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .create_role(scope, role(&format!("W{i}"), &["A:B"]))
                    .await
            })
        })
        .collect();
    tokio::task::yield_now().await;
    holder.abort();
    for w in waiting {
        let made = tokio::time::timeout(Duration::from_secs(20), w)
            .await
            .expect("the lane carried on")
            .unwrap()
            .unwrap();
        assert_consecutive(&made);
    }
    let changes = assert_gap_free(&store, before).await;
    assert_eq!(changes.len(), 4);
}

#[tokio::test]
async fn retries_in_one_batch_answer_their_own_revision_and_a_failed_one_records_nothing() {
    let db = TestDb::new().await;
    let store = open(&db).await;
    let (_, scope) = provision(&store, "retries").await;
    store
        .create_role(scope, role("Taken", &["A:B"]))
        .await
        .unwrap();
    let key = |i: usize| RequestKey {
        environment: scope.environment,
        identity: scope.actor.identity(),
        request_id: format!("req-{i}"),
        request_sha256: format!("{i:064}"),
    };
    let names = ["A0", "A1", "Taken", "A3", "A4", "A5"];
    let results = futures::future::join_all(names.iter().enumerate().map(|(i, name)| {
        let store = &store;
        Store::recording(
            key(i),
            |role: &Role, revision: u64| format!("{}@{revision}", role.name).into_bytes(),
            async move { store.create_role(scope, role(name, &["A:B"])).await },
        )
    }))
    .await;
    for (i, r) in results.into_iter().enumerate() {
        let recorded = store.recorded_response(&key(i)).await.unwrap();
        if names[i] == "Taken" {
            assert!(matches!(r, Err(Error::AlreadyExists(_))), "{r:?}");
            assert_eq!(recorded, None, "a failed write records nothing");
            continue;
        }
        let made = r.unwrap();
        let recorded = recorded.expect("the answer is recorded");
        assert_eq!(recorded.revision, made.revision);
        assert_eq!(
            String::from_utf8(recorded.response).unwrap(),
            format!("{}@{}", names[i], made.revision)
        );
        assert_eq!(recorded.request_sha256, format!("{i:064}"));
    }
}

/// `count` roles of `env` to bulk-load, as a restore would give them.
fn loadable_roles(env: EnvironmentId, count: usize) -> EnvironmentState {
    let at = Timestamp::now();
    let roles = (0..count)
        .map(|i| Role {
            id: RoleId::generate(),
            environment_id: env,
            name: RoleName::parse(&format!("Loaded{i}")).unwrap(),
            description: String::new(),
            permissions: vec![PermissionPattern::parse("Docs:Read").unwrap()],
            created_at: at,
            updated_at: at,
        })
        .collect();
    EnvironmentState {
        roles,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_load_holds_no_other_environment_while_it_inserts_its_objects() {
    let db = TestDb::new().await;
    let Some((one, two)) = two_instances(&db).await else {
        return;
    };
    let (_, loading) = provision(&one, "loading").await;
    let (_, free) = provision(&one, "free").await;
    let before = one.latest_revision().await.unwrap();

    let (inserted, objects_in) = tokio::sync::oneshot::channel::<()>();
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let state = loadable_roles(loading.environment, 3);
    let loader = {
        let one = Arc::clone(&one);
        tokio::spawn(async move {
            one.bulk_load_pausing(loading.environment, &state, async {
                let _ = inserted.send(());
                let _ = released.await;
            })
            .await
        })
    };
    objects_in.await.expect("the load inserted its objects");

    // Other environments write and commit on both instances meanwhile.
    writes_without_waiting(&one, &two, free).await;

    release.send(()).unwrap();
    let loaded = loader.await.unwrap().unwrap();
    assert_eq!(loaded.value, 3);
    let changes = assert_gap_free(&one, before).await;
    // The two other writes committed first; the load's change rows come after them.
    let loaded_revisions: Vec<u64> = changes
        .iter()
        .filter(|c| c.environment_id == loading.environment)
        .map(|c| c.revision)
        .collect();
    assert_eq!(loaded_revisions.len(), 3);
    assert_eq!(*loaded_revisions.last().unwrap(), loaded.revision);
    assert!(
        changes
            .iter()
            .filter(|c| c.environment_id == free.environment)
            .all(|c| c.revision < loaded_revisions[0])
    );
}
