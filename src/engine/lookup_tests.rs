//! LookupNodes and LookupIdentities page by page, against the check: in their
//! orders, from any cursor, across writes between pages.

use super::test_world::*;
use super::*;
use crate::domain::change::Event;
use crate::domain::{EnvironmentState, Identity, IdentityStatus, Node, Role};

/// Nodes `first..` under `parent`, created with ids in reverse order of their
/// keys, so that listing by id is not listing by creation.
fn children(env: EnvironmentId, parent: &Node, prefix: &str, count: usize) -> Vec<Node> {
    let mut made: Vec<Node> = (0..count)
        .map(|i| node(env, &format!("{prefix}{i}"), Some(parent.id)))
        .collect();
    let mut ids: Vec<NodeId> = made.iter().map(|n| n.id).collect();
    ids.sort();
    ids.reverse();
    for (n, id) in made.iter_mut().zip(ids) {
        n.id = id;
    }
    made
}

/// Every node of `nodes` in tree order under `top`: the node, then each child's
/// subtree, children ascending by id.
fn tree_order(nodes: &[Node], top: NodeId) -> Vec<NodeId> {
    let mut kids: Vec<NodeId> = (nodes.iter())
        .filter(|n| n.parent_id == Some(top))
        .map(|n| n.id)
        .collect();
    kids.sort();
    let mut order = vec![top];
    for kid in kids {
        order.extend(tree_order(nodes, kid));
    }
    order
}

/// root ─ a0..a3 ─ (a1: b0..b4 ─ (b2: c0..c2)); `reader` holds `Doc:Read`.
fn forest() -> (World, Vec<Node>, Role, Identity) {
    let env = EnvironmentId::generate();
    let root = node(env, "root", None);
    let a = children(env, &root, "a", 4);
    let b = children(env, &a[1], "b", 5);
    let c = children(env, &b[2], "c", 3);
    let nodes: Vec<Node> = [vec![root], a, b, c].concat();
    let reader = role(env, "Reader", &["Doc:Read"]);
    let alice = identity(env, "alice@example.com");
    let state = EnvironmentState {
        roles: vec![reader.clone()],
        identities: vec![alice.clone()],
        // Children before parents: the load links them in any order.
        nodes: nodes.iter().rev().cloned().collect(),
        ..Default::default()
    };
    (World::new(state), nodes, reader, alice)
}

fn all_nodes(
    world: &World,
    who: &Identity,
    under: &Node,
    size: usize,
) -> Result<Vec<NodeId>, LookupError> {
    let (mut seen, mut after) = (Vec::new(), None);
    loop {
        let page = world.engine.lookup_nodes(
            world.env,
            &IdentityRef::Id(who.id),
            &perm("Doc:Read"),
            &NodeRef::Id(under.id),
            T,
            after,
            size,
        )?;
        assert!(page.items.len() <= size);
        seen.extend(page.items.iter().map(|n| n.id));
        match page.next_after {
            Some(next) => {
                assert_eq!(page.items.len(), size, "only the last page is short");
                after = Some(next);
            }
            None => return Ok(seen),
        }
    }
}

#[test]
fn lookup_nodes_lists_whole_granted_subtrees_in_tree_order() {
    let (mut world, nodes, reader, alice) = forest();
    let (root, a1, b2, a3) = (&nodes[0], &nodes[2], &nodes[7], &nodes[4]);
    // Granted at a3 (a leaf) and at a1, and again at b2 inside a1.
    for at in [a3, a1, b2] {
        world.apply(Event::AssignmentCreated(assignment(
            &alice,
            &reader,
            at,
            (None, None),
        )));
    }
    // Siblings' subtrees in id order.
    let mut tops = [a1.id, a3.id];
    tops.sort();
    let expected: Vec<NodeId> = tops.iter().flat_map(|&t| tree_order(&nodes, t)).collect();
    for size in [1, 2, 3, 5, 100] {
        assert_eq!(all_nodes(&world, &alice, root, size).unwrap(), expected);
    }
    // Under b2 only b2's subtree; the root itself when an ancestor is granted.
    assert_eq!(
        all_nodes(&world, &alice, b2, 2).unwrap(),
        tree_order(&nodes, b2.id)
    );
    world.apply(Event::AssignmentCreated(assignment(
        &alice,
        &reader,
        root,
        (None, None),
    )));
    assert_eq!(
        all_nodes(&world, &alice, root, 4).unwrap(),
        tree_order(&nodes, root.id)
    );
}

#[test]
fn lookup_nodes_resumes_after_moves_and_deletions() {
    let (mut world, mut nodes, reader, alice) = forest();
    let root = nodes[0].clone();
    world.apply(Event::AssignmentCreated(assignment(
        &alice,
        &reader,
        &root,
        (None, None),
    )));
    let page = |world: &World, after, size| {
        world.engine.lookup_nodes(
            world.env,
            &IdentityRef::Id(alice.id),
            &perm("Doc:Read"),
            &NodeRef::Id(root.id),
            T,
            after,
            size,
        )
    };
    let order = tree_order(&nodes, root.id);
    // Stop after c0 (a leaf), then delete it: the listing goes on after its place.
    let upto = order.iter().position(|&n| n == nodes[10].id).unwrap() + 1;
    let first = page(&world, None, upto).unwrap();
    assert_eq!(first.items.last().map(|n| n.id), Some(order[upto - 1]));
    let gone = order[upto - 1];
    world.apply(Event::NodeDeleted(gone));
    nodes.retain(|n| n.id != gone);
    let rest = page(&world, first.next_after, 100).unwrap();
    let rest: Vec<NodeId> = rest.items.iter().map(|n| n.id).collect();
    assert_eq!(rest, order[upto..]);

    // A node created between two pages, after the cursor's place, is listed.
    let start = page(&world, None, 3).unwrap();
    let new_leaf = node(root.environment_id, "late", Some(nodes[1].id));
    world.apply(Event::NodeSaved(new_leaf.clone()));
    nodes.push(new_leaf);
    let whole: Vec<NodeId> = tree_order(&nodes, root.id);
    let rest = page(&world, start.next_after, 100).unwrap();
    let mut listed: Vec<NodeId> = start.items.iter().map(|n| n.id).collect();
    listed.extend(rest.items.iter().map(|n| n.id));
    assert_eq!(listed, whole);

    // Deleting the cursor's node and its parent loses the place: an error, not a guess.
    let b_leaf = nodes
        .iter()
        .find(|n| n.key.as_str() == "b4")
        .unwrap()
        .clone();
    let at_b_leaf = (0..whole.len()).find(|&i| whole[i] == b_leaf.id).unwrap();
    let cursor = page(&world, None, at_b_leaf + 1)
        .unwrap()
        .next_after
        .unwrap();
    assert_eq!(cursor.last, b_leaf.id);
    world.apply(Event::NodeDeleted(b_leaf.id));
    world.apply(Event::NodeDeleted(b_leaf.parent_id.unwrap()));
    assert_eq!(page(&world, Some(cursor), 5), Err(LookupError::CursorLost));
}

/// Every identity `check` allows, ascending by id: what LookupIdentities must list.
fn allowed_identities(world: &World, people: &[Identity], at: &Node) -> Vec<IdentityId> {
    let mut ids: Vec<IdentityId> = (people.iter())
        .filter(|p| world.check(p, "Doc:Read", at, T.0).allowed)
        .map(|p| p.id)
        .collect();
    ids.sort();
    ids
}

fn all_identities(world: &World, at: &Node, size: usize) -> (Vec<IdentityId>, usize) {
    let (mut seen, mut after, mut short) = (Vec::new(), None, 0);
    loop {
        let page = (world.engine)
            .lookup_identities(
                world.env,
                &perm("Doc:Read"),
                &NodeRef::Id(at.id),
                T,
                after,
                size,
            )
            .unwrap();
        assert!(page.items.len() <= size);
        seen.extend(page.items.iter().map(|i| i.id));
        match page.next_after {
            Some(next) => {
                short += usize::from(page.items.len() < size);
                after = Some(next);
            }
            None => return (seen, short),
        }
    }
}

#[test]
fn lookup_identities_merges_the_ancestors_lists_in_id_order() {
    let env = EnvironmentId::generate();
    let root = node(env, "root", None);
    let team = node(env, "team", Some(root.id));
    let doc = node(env, "doc", Some(team.id));
    let reader = role(env, "Reader", &["Doc:Read"]);
    let wild = role(env, "Wild", &["Doc:*"]);
    let other = role(env, "Other", &["Sheet:Read"]);
    let mut people: Vec<Identity> = (0..60)
        .map(|i| identity(env, &format!("p{i}@example.com")))
        .collect();
    for p in people.iter_mut().step_by(7) {
        p.status = IdentityStatus::Disabled;
    }
    let mut loaded = Vec::new();
    let mut later = Vec::new();
    for (i, p) in people.iter().enumerate() {
        let (what, at) = match i % 5 {
            0 => (&reader, &root),
            1 => (&wild, &team),
            2 => (&other, &doc),
            3 => (&reader, &doc),
            _ => (&reader, &team),
        };
        // Some expired, some twice (at two levels).
        let window = if i % 11 == 0 {
            (None, Some(T.0))
        } else {
            (None, None)
        };
        let a = assignment(p, what, at, window);
        if i % 2 == 0 {
            loaded.push(a)
        } else {
            later.push(a)
        }
        if i % 9 == 0 {
            later.push(assignment(p, &wild, &doc, (None, None)));
        }
    }
    let state = EnvironmentState {
        roles: vec![reader, wild, other],
        identities: people.clone(),
        nodes: vec![root.clone(), team.clone(), doc.clone()],
        assignments: loaded,
        ..Default::default()
    };
    let mut world = World::new(state);
    for a in later.iter().rev() {
        world.apply(Event::AssignmentCreated(a.clone()));
    }
    for a in later.iter().step_by(4) {
        world.apply(Event::AssignmentDeleted(a.id));
    }
    for at in [&root, &team, &doc] {
        let want = allowed_identities(&world, &people, at);
        assert!(want.len() > 5 || at.id == root.id, "{}", want.len());
        for size in [1, 3, 100] {
            assert_eq!(all_identities(&world, at, size).0, want, "size {size}");
        }
    }
}

#[test]
fn a_lookup_identities_page_stops_short_at_its_bound_of_work() {
    let env = EnvironmentId::generate();
    let root = node(env, "root", None);
    let reader = role(env, "Reader", &["Doc:Read"]);
    let mut people: Vec<Identity> = (0..5000)
        .map(|i| identity(env, &format!("p{i}@example.com")))
        .collect();
    people.sort_by_key(|p| p.id);
    // All but the last five are disabled: a page reads past them in steps.
    let active = people.len() - 5;
    for p in &mut people[..active] {
        p.status = IdentityStatus::Disabled;
    }
    let assignments = (people.iter())
        .map(|p| assignment(p, &reader, &root, (None, None)))
        .collect();
    let world = World::new(EnvironmentState {
        roles: vec![reader],
        identities: people.clone(),
        nodes: vec![root.clone()],
        assignments,
        ..Default::default()
    });
    let (found, short) = all_identities(&world, &root, 10);
    let want: Vec<IdentityId> = people[active..].iter().map(|p| p.id).collect();
    assert_eq!(found, want);
    assert!(short >= 2, "pages stopped short {short} times");
}
