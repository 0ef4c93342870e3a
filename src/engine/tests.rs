//! Scenarios of the decision rule on a small hand-made environment.

use std::time::Duration;

use super::test_world::*;
use super::*;
use crate::domain::change::Event;
use crate::domain::{
    Assignment, AssignmentId, Email, EnvironmentState, Identity, IdentityStatus, Node, NodeKey,
    Role, RoleId,
};

/// root ─ payments ─ wallet; alice: Reader at root, Admin (`Wallets:*`) at payments.
fn small_world() -> (World, [Node; 3], [Role; 2], Identity, [Assignment; 2]) {
    let env = EnvironmentId::generate();
    let root = node(env, "root", None);
    let payments = node(env, "payments", Some(root.id));
    let wallet = node(env, "wallet:1", Some(payments.id));
    let reader = role(env, "Reader", &["Wallets:Read", "Audit:Read"]);
    let admin = role(env, "Admin", &["Wallets:*", "Wallets:Read"]);
    let alice = identity(env, "Alice@Example.com");
    let at_root = assignment(&alice, &reader, &root, (None, None));
    let at_payments = assignment(&alice, &admin, &payments, (Some(100), Some(2_000)));
    let state = EnvironmentState {
        roles: vec![reader.clone(), admin.clone()],
        identities: vec![alice.clone()],
        nodes: vec![root.clone(), payments.clone(), wallet.clone()],
        assignments: vec![at_root.clone(), at_payments.clone()],
        api_keys: Vec::new(),
    };
    (
        World::new(state),
        [root, payments, wallet],
        [reader, admin],
        alice,
        [at_root, at_payments],
    )
}

#[test]
fn grants_inherit_down_the_tree_and_name_the_nearest_assignment() {
    let (world, [root, payments, wallet], [reader, admin], alice, [at_root, at_payments]) =
        small_world();
    let by = world
        .check(&alice, "Wallets:Read", &wallet, 1_000)
        .granted_by
        .unwrap();
    assert_eq!(
        (by.assignment_id, by.role_id, by.node_id),
        (at_payments.id, admin.id, payments.id)
    );
    assert_eq!(
        (
            by.role_name.as_str(),
            by.node_key.as_str(),
            by.pattern.as_str()
        ),
        ("Admin", "payments", "Wallets:Read")
    );
    let by = world
        .check(&alice, "Wallets:Keys:Rotate", &wallet, 1_000)
        .granted_by
        .unwrap();
    assert_eq!(by.pattern.as_str(), "Wallets:*");
    let by = world
        .check(&alice, "Wallets:Read", &root, 1_000)
        .granted_by
        .unwrap();
    assert_eq!((by.assignment_id, by.role_id), (at_root.id, reader.id));
    assert_eq!(
        world.check(&alice, "Wallets:Write", &root, 1_000).reason,
        Reason::NoMatchingAssignment
    );
    assert_eq!(
        world.check(&alice, "Wallets", &wallet, 1_000).reason,
        Reason::NoMatchingAssignment
    );
}

#[test]
fn windows_are_closed_at_from_and_open_at_to() {
    let (world, [_, _, wallet], _, alice, _) = small_world();
    for (time, allowed) in [(99, false), (100, true), (1_999, true), (2_000, false)] {
        let decision = world.check(&alice, "Wallets:Write", &wallet, time);
        assert_eq!(decision.allowed, allowed, "at {time}");
    }
}

#[test]
fn references_resolve_by_email_in_any_case_and_unknowns_deny_with_a_reason() {
    let (world, _, _, alice, _) = small_world();
    let read = perm("Audit:Read");
    let email = IdentityRef::Email(Email::parse("ALICE@example.COM").unwrap());
    let key = NodeRef::Key(NodeKey::parse("wallet:1").unwrap());
    assert!(
        world
            .engine
            .check(world.env, &email, &read, &key, T)
            .allowed
    );
    let external = IdentityRef::ExternalId(alice.external_id.clone().unwrap());
    assert!(
        world
            .engine
            .check(world.env, &external, &read, &key, T)
            .allowed
    );
    let stranger = IdentityRef::Email(Email::parse("bob@example.com").unwrap());
    assert_eq!(
        world
            .engine
            .check(world.env, &stranger, &read, &key, T)
            .reason,
        Reason::UnknownIdentity
    );
    let nowhere = NodeRef::Key(NodeKey::parse("wallet:2").unwrap());
    assert_eq!(
        world
            .engine
            .check(world.env, &email, &read, &nowhere, T)
            .reason,
        Reason::UnknownNode
    );
    let other_env = EnvironmentId::generate();
    assert_eq!(
        world.engine.check(other_env, &email, &read, &key, T).reason,
        Reason::UnknownIdentity
    );
    assert_eq!(
        world.engine.list_permissions(world.env, &stranger, &key, T),
        Err(Denial::UnknownIdentity)
    );
}

#[test]
fn writes_take_effect_on_the_next_check() {
    let (mut world, [root, payments, wallet], [reader, _], alice, [at_root, _]) = small_world();
    let mut disabled = alice.clone();
    disabled.status = IdentityStatus::Disabled;
    world.apply(Event::IdentitySaved(disabled));
    assert_eq!(
        world.check(&alice, "Audit:Read", &wallet, 1_000).reason,
        Reason::IdentityNotActive
    );
    world.apply(Event::IdentitySaved(alice.clone()));
    assert!(world.check(&alice, "Audit:Read", &wallet, 1_000).allowed);

    let mut edited = reader.clone();
    edited.permissions = vec![PermissionPattern::parse("Audit:*").unwrap()];
    world.apply(Event::RoleSaved(edited));
    assert!(world.check(&alice, "Audit:Export", &wallet, 1_000).allowed);
    assert!(!world.check(&alice, "Wallets:Read", &root, 1_000).allowed);

    // wallet moves to the root: the Admin grant on payments no longer covers it.
    let mut moved = wallet.clone();
    moved.parent_id = Some(root.id);
    world.apply(Event::NodeSaved(moved));
    assert!(!world.check(&alice, "Wallets:Write", &wallet, 1_000).allowed);
    assert!(
        world
            .check(&alice, "Wallets:Write", &payments, 1_000)
            .allowed
    );

    world.apply(Event::AssignmentDeleted(at_root.id));
    assert!(!world.check(&alice, "Audit:Export", &wallet, 1_000).allowed);
    world.apply(Event::NodeDeleted(payments.id));
    assert_eq!(
        world
            .check(&alice, "Wallets:Write", &payments, 1_000)
            .reason,
        Reason::UnknownNode
    );
    assert!(world.engine.heap_bytes() > 0);
}

#[test]
fn a_move_under_its_own_subtree_is_ignored() {
    let (mut world, [root, payments, wallet], _, alice, _) = small_world();
    let mut cycle = payments.clone();
    cycle.parent_id = Some(wallet.id);
    world.apply(Event::NodeSaved(cycle));
    assert!(world.check(&alice, "Wallets:Write", &wallet, 1_000).allowed);
    assert!(world.check(&alice, "Audit:Read", &payments, 1_000).allowed);
    let _ = root;
}

#[test]
fn deleting_a_role_or_identity_drops_what_still_refers_to_it() {
    let (mut world, [_, _, wallet], [reader, admin], alice, _) = small_world();
    world.apply(Event::RoleDeleted(admin.id));
    assert!(!world.check(&alice, "Wallets:Write", &wallet, 1_000).allowed);
    assert!(world.check(&alice, "Wallets:Read", &wallet, 1_000).allowed);
    world.apply(Event::RoleSaved(admin.clone()));
    assert!(!world.check(&alice, "Wallets:Write", &wallet, 1_000).allowed);
    world.apply(Event::IdentityDeleted(alice.id));
    assert_eq!(
        world.check(&alice, "Wallets:Read", &wallet, 1_000).reason,
        Reason::UnknownIdentity
    );
    world.apply(Event::AssignmentDeleted(AssignmentId::generate()));
    world.apply(Event::RoleDeleted(reader.id));
    world.apply(Event::RoleDeleted(reader.id));
}

#[test]
fn listings_and_lookups_page_to_exhaustion() {
    let (world, [root, payments, wallet], _, alice, _) = small_world();
    let who = IdentityRef::Id(alice.id);
    let at = |n: &Node| NodeRef::Id(n.id);
    let listed = world
        .engine
        .list_permissions(world.env, &who, &at(&wallet), T)
        .unwrap();
    let texts: Vec<&str> = listed.iter().map(PermissionPattern::as_str).collect();
    assert_eq!(texts, ["Audit:Read", "Wallets:*", "Wallets:Read"]);

    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = world
            .engine
            .lookup_nodes(
                world.env,
                &who,
                &perm("Wallets:Write"),
                &at(&root),
                T,
                after,
                1,
            )
            .unwrap();
        seen.extend(page.items.iter().map(|n| n.id));
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    // Tree order: a node before its subtree.
    assert_eq!(seen, [payments.id, wallet.id]);

    let page = world
        .engine
        .lookup_identities(world.env, &perm("Audit:Read"), &at(&wallet), T, None, 10)
        .unwrap();
    assert_eq!(
        page.items.iter().map(|i| i.id).collect::<Vec<_>>(),
        [alice.id]
    );
    assert_eq!(page.next_after, None);
    let none = world
        .engine
        .lookup_identities(
            world.env,
            &perm("Audit:Read"),
            &at(&wallet),
            T,
            Some(alice.id),
            10,
        )
        .unwrap();
    assert!(none.items.is_empty());
}

#[tokio::test]
async fn waiting_for_a_revision_returns_once_it_is_applied() {
    let (mut world, ..) = small_world();
    assert!(world.engine.wait_for_revision(7, Duration::ZERO).await);
    assert!(
        !world
            .engine
            .wait_for_revision(8, Duration::from_millis(10))
            .await
    );
    let engine = std::sync::Arc::new(world.engine);
    let waiter = {
        let engine = std::sync::Arc::clone(&engine);
        tokio::spawn(async move { engine.wait_for_revision(8, Duration::from_secs(5)).await })
    };
    tokio::task::yield_now().await;
    world.revision = 8;
    engine.apply(&Change {
        revision: 8,
        environment_id: world.env,
        at: T,
        actor: None,
        action: "Test".into(),
        before: None,
        event: Event::RoleDeleted(RoleId::generate()),
        signed_by: None,
    });
    assert!(waiter.await.unwrap());
    assert_eq!(engine.applied_revision(), 8);
}

#[test]
fn deep_trees_walk_past_the_inline_ancestor_chain() {
    let env = EnvironmentId::generate();
    let mut nodes = vec![node(env, "root", None)];
    for depth in 1..40 {
        let parent = nodes[depth - 1].id;
        nodes.push(node(env, &format!("level:{depth}"), Some(parent)));
    }
    let reader = role(env, "Reader", &["Audit:Read"]);
    let alice = identity(env, "alice@example.com");
    let at_root = assignment(&alice, &reader, &nodes[0], (None, None));
    let at_three = assignment(&alice, &reader, &nodes[3], (None, None));
    let state = EnvironmentState {
        roles: vec![reader],
        identities: vec![alice.clone()],
        nodes: nodes.clone(),
        assignments: vec![at_root, at_three.clone()],
        ..Default::default()
    };
    let world = World::new(state);
    let decision = world.check(&alice, "Audit:Read", &nodes[39], 0);
    assert_eq!(
        decision.granted_by.map(|g| g.assignment_id),
        Some(at_three.id)
    );
}

/// Roles whose exact permissions sit anywhere among 100,000 interned ones (a
/// window kept, or a list searched) answer exactly as their patterns say.
#[test]
fn roles_answer_by_their_patterns_whatever_the_permission_ids() {
    let env = EnvironmentId::generate();
    let root = node(env, "root", None);
    let bulk_names: Vec<Vec<String>> = (0..100)
        .map(|k| (0..1_000).map(|j| format!("Svc{k}:P{j}")).collect())
        .collect();
    let mut roles: Vec<Role> = bulk_names
        .iter()
        .enumerate()
        .map(|(k, names)| {
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            role(env, &format!("Bulk{k}"), &names)
        })
        .collect();
    let shapes: [&[&str]; 6] = [
        &["Svc99:P999"],
        &["Svc0:P0", "Svc99:P999"],
        &["Svc50:P10", "Svc50:P11", "Svc50:P12"],
        &["Svc0:P1", "Svc42:P7", "Svc98:P3", "Svc7:*"],
        &["Fresh:Only"],
        &["Svc3:*"],
    ];
    let tested: Vec<Role> = shapes
        .iter()
        .enumerate()
        .map(|(i, patterns)| role(env, &format!("Shape{i}"), patterns))
        .collect();
    roles.extend(tested.iter().cloned());
    let people: Vec<Identity> = (0..tested.len())
        .map(|i| identity(env, &format!("p{i}@example.com")))
        .collect();
    let assignments = people
        .iter()
        .zip(&tested)
        .map(|(who, what)| assignment(who, what, &root, (None, None)))
        .collect();
    let world = World::new(EnvironmentState {
        roles,
        identities: people.clone(),
        nodes: vec![root.clone()],
        assignments,
        ..Default::default()
    });
    let probes = [
        "Svc0:P0",
        "Svc0:P1",
        "Svc0:P2",
        "Svc99:P999",
        "Svc99:P998",
        "Svc50:P9",
        "Svc50:P10",
        "Svc50:P12",
        "Svc50:P13",
        "Svc42:P7",
        "Svc98:P3",
        "Svc7:P500",
        "Svc3:P1",
        "Fresh:Only",
        "Fresh:Other",
        "Never:Held",
    ];
    for ((who, what), patterns) in people.iter().zip(&tested).zip(shapes) {
        for probe in probes {
            let expected = patterns.iter().any(|p| {
                *p == probe
                    || p.strip_suffix('*')
                        .is_some_and(|pre| probe.starts_with(pre))
            });
            let decision = world.check(who, probe, &root, 0);
            assert_eq!(decision.allowed, expected, "{probe} for {patterns:?}");
            if expected {
                assert_eq!(decision.granted_by.map(|g| g.role_id), Some(what.id));
            }
        }
    }
}

#[test]
fn a_checker_of_an_unknown_environment_denies_as_check_does() {
    let (world, [root, ..], _, alice, _) = small_world();
    let other = EnvironmentId::generate();
    let asked = (
        IdentityRef::Id(alice.id),
        Permission::parse("Wallets:Read").unwrap(),
        NodeRef::Id(root.id),
    );
    let alone = (world.engine).check(other, &asked.0, &asked.1, &asked.2, Timestamp(1_000));
    let batched = world.engine.checking(other, |checker| {
        assert_eq!(checker.revision(), world.engine.applied_revision());
        checker.check(&asked.0, &asked.1, &asked.2, Timestamp(1_000))
    });
    assert_eq!(batched, alone);
    assert_eq!(batched.reason, Reason::UnknownIdentity);
}

/// The nearest granting assignment (then the smallest id) is named whether the
/// identity holds many grants (the ancestor chain is built once) or few (each
/// grant's node is looked for by walking up): checked against a model of the
/// rule at every node of a deep chain while assignments are deleted one by one.
#[test]
fn the_winner_is_the_same_with_many_grants_or_few() {
    let env = EnvironmentId::generate();
    let mut chain: Vec<Node> = vec![node(env, "n0", None)];
    for depth in 1..7 {
        let parent = chain[depth - 1].id;
        chain.push(node(env, &format!("n{depth}"), Some(parent)));
    }
    let reader = role(env, "Reader", &["Docs:Read"]);
    let editor = role(env, "Editor", &["Docs:*"]);
    let other = role(env, "Other", &["Other:Do"]);
    let alice = identity(env, "alice@example.com");
    let held = [
        (&reader, 0, (None, None)),
        (&reader, 2, (None, None)),
        (&editor, 2, (None, None)),
        (&other, 4, (None, None)),
        (&reader, 5, (Some(2_000), None)),
        (&editor, 6, (None, Some(500))),
        (&reader, 3, (None, None)),
    ];
    let mut assignments: Vec<(Assignment, usize)> = held
        .iter()
        .map(|&(r, depth, window)| (assignment(&alice, r, &chain[depth], window), depth))
        .collect();
    let state = EnvironmentState {
        roles: vec![reader.clone(), editor.clone(), other.clone()],
        identities: vec![alice.clone()],
        nodes: chain.clone(),
        assignments: assignments.iter().map(|(a, _)| a.clone()).collect(),
        api_keys: Vec::new(),
    };
    let mut world = World::new(state);
    let grants = |a: &Assignment| {
        if a.role_id == other.id {
            false
        } else {
            a.effective_from.is_none_or(|f| f.0 <= T.0) && a.effective_to.is_none_or(|t| T.0 < t.0)
        }
    };
    loop {
        for (depth, target) in chain.iter().enumerate() {
            let expected = (assignments.iter())
                .filter(|(a, d)| *d <= depth && grants(a))
                .min_by_key(|(a, d)| (depth - d, a.id))
                .map(|(a, _)| a.id);
            let got = world.check(&alice, "Docs:Read", target, T.0).granted_by;
            let held = assignments.len();
            assert_eq!(
                got.map(|by| by.assignment_id),
                expected,
                "{held} held, depth {depth}"
            );
        }
        let Some((gone, _)) = assignments.pop() else {
            break;
        };
        world.apply(Event::AssignmentDeleted(gone.id));
    }
}
