//! `lookup/...`: one page (100 items) of LookupNodes and LookupIdentities on the
//! large dataset, first, middle and last of its listing. Before the cursor
//! resumed in the index, every page re-walked the whole subtree (or every
//! ancestor's assignments), so a late page cost the whole listing.

use std::hint::black_box;
use std::time::Instant;

use criterion::Criterion;
use rbacd::domain::{IdentityRef, IdentityStatus, NodeRef, Permission, Snapshot};
use rbacd::engine::Engine;
use rbacd_dataset::NOW;

const PAGE: usize = 100;

/// An ACTIVE identity holding, at the root and without a window, a role with an
/// exact permission: it holds that permission on every node.
fn everywhere(snapshot: &Snapshot) -> (IdentityRef, Permission) {
    let state = &snapshot.environments[0].1;
    let root = state.nodes[0].id;
    state
        .assignments
        .iter()
        .filter(|a| a.node_id == root && a.effective_from.is_none() && a.effective_to.is_none())
        .find_map(|a| {
            let who = state.identities.iter().find(|i| i.id == a.identity_id)?;
            let role = state.roles.iter().find(|r| r.id == a.role_id)?;
            let exact = role
                .permissions
                .iter()
                .find(|p| !p.as_str().ends_with('*'))?;
            (who.status == IdentityStatus::Active).then(|| {
                (
                    IdentityRef::Id(who.id),
                    Permission::parse(exact.as_str()).expect("a permission"),
                )
            })
        })
        .expect("the dataset has a root assignment")
}

/// The cursors of every page of a listing, the first's (`None`) included.
fn cursors<C: Clone>(mut page: impl FnMut(Option<C>) -> Option<C>) -> Vec<Option<C>> {
    let mut all = vec![None];
    while let Some(next) = page(all.last().cloned().flatten()) {
        all.push(Some(next));
    }
    all
}

/// Benchmarks the first, middle and last pages a listing's `cursors` start.
fn positions<C: Clone>(
    c: &mut Criterion,
    name: &str,
    cursors: &[Option<C>],
    mut page: impl FnMut(Option<C>) -> usize,
) {
    let middle = cursors.len() / 2;
    for (label, at) in [
        ("first", 0),
        ("middle", middle),
        ("last", cursors.len() - 1),
    ] {
        let cursor = cursors[at].clone();
        c.bench_function(&format!("lookup/{name}-{label}"), |b| {
            b.iter(|| black_box(page(cursor.clone())))
        });
    }
}

pub fn bench(c: &mut Criterion, snapshot: &Snapshot, engine: &Engine) {
    let env = snapshot.environments[0].0.id;
    let (who, permission) = everywhere(snapshot);
    let root = NodeRef::Id(snapshot.environments[0].1.nodes[0].id);
    let at = NOW;
    let nodes_page = |after| {
        engine
            .lookup_nodes(env, &who, &permission, &root, at, after, PAGE)
            .expect("a lookup")
    };
    let started = Instant::now();
    let node_cursors = cursors(|after| nodes_page(after).next_after);
    println!(
        "lookup/nodes: {} pages of {PAGE} listed in {:.2?}",
        node_cursors.len(),
        started.elapsed()
    );
    positions(c, "nodes", &node_cursors, |after| {
        nodes_page(after).items.len()
    });

    // At the deepest node, under every level's assignments.
    let leaf = NodeRef::Id(snapshot.environments[0].1.nodes.last().expect("nodes").id);
    let identities_page = |after| {
        engine
            .lookup_identities(env, &permission, &leaf, at, after, PAGE)
            .expect("a lookup")
    };
    let started = Instant::now();
    let identity_cursors = cursors(|after| identities_page(after).next_after);
    println!(
        "lookup/identities: {} pages of {PAGE} listed in {:.2?}",
        identity_cursors.len(),
        started.elapsed()
    );
    positions(c, "identities", &identity_cursors, |after| {
        identities_page(after).items.len()
    });
}
