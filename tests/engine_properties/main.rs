//! The engine against a naive evaluator of the decision rule: random trees, roles
//! with exact and wildcard patterns, identities of every status, assignments with
//! windows, then random writes (moves, deletes, disables, role edits, assignment
//! changes) applied as change events. After every write a sample of checks,
//! listings and paged lookups is compared; at the end, every combination.
//!
//! `PROPTEST_CASES` sets the number of cases (default 3000).

mod ask;
/// The one naive evaluator of the decision rule, shared with the end-to-end suite.
#[path = "../e2e/support/decision_rule.rs"]
mod decision_rule;
mod world;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use rbacd::domain::change::{Change, Event};
use rbacd::domain::{
    Email, Environment, EnvironmentState, IdentityId, IdentityRef, NodeKey, NodeRef, Permission,
    Snapshot, Timestamp,
};
use rbacd::engine::{Engine, IndexCell};
use rbacd_dataset::cells::DoubleBufferedIndex;

use ask::Ask;
use decision_rule::Rows;
use world::{INSTANTS, Op, World, op};

const PERMISSIONS: &[&str] = &["A:x", "A:y", "A:x:z", "B:x", "B:y", "C:q"];

/// One question to ask both sides: identity, how to name it, node, how to name it,
/// permission, instant.
type Probe = (Index, u8, Index, u8, Index, Index);

fn times() -> Vec<Timestamp> {
    INSTANTS
        .iter()
        .flat_map(|&t| [t - 1, t])
        .map(Timestamp)
        .collect()
}

fn snapshot(world: &World, revision: u64) -> Snapshot {
    let rows = world.rows.clone();
    let environment = Environment {
        id: world.env,
        name: "test".into(),
        created_at: Timestamp(0),
    };
    let state = EnvironmentState {
        roles: rows.roles,
        identities: rows.identities,
        nodes: rows.nodes,
        assignments: rows.assignments,
        ..Default::default()
    };
    Snapshot {
        revision,
        environments: vec![(environment, state)],
    }
}

fn identity_ref(rows: &Rows, which: usize, how: u8) -> IdentityRef {
    let Some(identity) = rows.identities.get(which) else {
        return IdentityRef::Id(IdentityId::generate());
    };
    match (how % 5, &identity.email, &identity.external_id) {
        (1, Some(email), _) => {
            IdentityRef::Email(Email::parse(&email.as_str().to_uppercase()).unwrap())
        }
        (2, Some(email), _) => {
            IdentityRef::Email(Email::parse(&email.as_str().to_lowercase()).unwrap())
        }
        (3, _, Some(external_id)) => IdentityRef::ExternalId(external_id.clone()),
        (4, ..) if how.is_multiple_of(2) => IdentityRef::Id(IdentityId::generate()),
        _ => IdentityRef::Id(identity.id),
    }
}

fn node_ref(rows: &Rows, which: usize, how: u8) -> NodeRef {
    let node = &rows.nodes[which];
    match how % 7 {
        0 => NodeRef::Key(NodeKey::parse("nowhere").unwrap()),
        1..=3 => NodeRef::Key(node.key.clone()),
        _ => NodeRef::Id(node.id),
    }
}

/// The question at these positions of the world's identities (past the end: an unknown
/// one), nodes, permissions and instants.
fn ask(
    world: &World,
    (identity, identity_how): (usize, u8),
    (node, node_how): (usize, u8),
    permission: usize,
    time: usize,
) -> Ask<'_> {
    Ask {
        identity: identity_ref(&world.rows, identity, identity_how),
        permission: Permission::parse(PERMISSIONS[permission]).unwrap(),
        node: node_ref(&world.rows, node, node_how),
        at: times()[time],
        rows: &world.rows,
        env: world.env,
        page: 1 + usize::from(node_how % 3),
    }
}

fn ask_probe<'a>(
    world: &'a World,
    (identity, identity_how, node, node_how, permission, time): &Probe,
) -> Ask<'a> {
    let people = world.rows.identities.len() + 1;
    let identity = identity.index(people);
    let node = node.index(world.rows.nodes.len());
    ask(
        world,
        (identity, *identity_how),
        (node, *node_how),
        permission.index(PERMISSIONS.len()),
        time.index(times().len()),
    )
}

/// Compares the answers to each probe.
fn compare_sample<C: IndexCell>(
    engine: &Engine<C>,
    world: &World,
    probes: &[Probe],
) -> Result<(), TestCaseError> {
    for (i, probe) in probes.iter().enumerate() {
        let ask = ask_probe(world, probe);
        ask.check(engine)?;
        match i % 4 {
            0 => ask.list(engine)?,
            1 => ask.lookup_nodes(engine)?,
            2 => ask.lookup_identities(engine)?,
            _ => {}
        }
    }
    Ok(())
}

/// Compares every check, listing and lookup the world allows to ask.
fn compare_all<C: IndexCell>(engine: &Engine<C>, world: &World) -> Result<(), TestCaseError> {
    let people = world.rows.identities.len() + 1;
    let nodes = world.rows.nodes.len();
    let instants = times().len();
    for i in 0..people {
        for n in 0..nodes {
            for p in 0..PERMISSIONS.len() {
                for t in 0..instants {
                    let how = (i + n + p + t) as u8;
                    let ask = ask(world, (i, how % 4), (n, how % 6 + 1), p, t);
                    ask.check(engine)?;
                    if p == 0 {
                        ask.list(engine)?;
                    }
                    if t % 3 == 0 && (i + n) % 2 == 0 {
                        ask.lookup_nodes(engine)?;
                        ask.lookup_identities(engine)?;
                    }
                }
            }
        }
    }
    Ok(())
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(3000);
    ProptestConfig {
        cases,
        max_shrink_iters: 2000,
        ..ProptestConfig::default()
    }
}

/// Ops building a first world: roles, identities, a tree, then assignments.
fn setup() -> impl Strategy<Value = Vec<Op>> {
    let idx = any::<Index>;
    (
        prop::collection::vec(prop::collection::vec(idx(), 0..4), 1..4),
        prop::collection::vec(any::<u8>(), 1..5),
        prop::collection::vec(idx(), 0..8),
        prop::collection::vec((idx(), idx(), idx(), any::<(u8, u8)>()), 0..12),
    )
        .prop_map(|(roles, identities, nodes, assignments)| {
            let roles = roles.into_iter().map(Op::CreateRole);
            let identities = identities.into_iter().map(Op::CreateIdentity);
            let nodes = nodes.into_iter().map(Op::CreateNode);
            let assignments = assignments
                .into_iter()
                .map(|(i, r, n, w)| Op::Assign(i, r, n, w));
            roles
                .chain(identities)
                .chain(nodes)
                .chain(assignments)
                .collect()
        })
}

fn probe() -> impl Strategy<Value = Probe> {
    (
        any::<Index>(),
        any::<u8>(),
        any::<Index>(),
        any::<u8>(),
        any::<Index>(),
        any::<Index>(),
    )
}

struct Log {
    env: rbacd::domain::EnvironmentId,
    revision: u64,
}

impl Log {
    fn change(&mut self, event: Event) -> Change {
        self.revision += 1;
        Change {
            revision: self.revision,
            environment_id: self.env,
            at: Timestamp(0),
            actor: None,
            action: "Test".into(),
            before: None,
            event,
            signed_by: None,
        }
    }
}

proptest! {
    #![proptest_config(config())]

    /// One engine is loaded from a snapshot of the first world, the other (double
    /// buffered) built from nothing by applying the first world's events; both then
    /// follow the writes, and a third is loaded from the final world.
    #[test]
    fn engine_answers_as_the_decision_rule(setup in setup(), writes in prop::collection::vec(op(), 0..10), probes in prop::collection::vec(probe(), 16)) {
        let (mut world, mut first_events) = World::new();
        for op in &setup {
            first_events.extend(world.write(op));
        }
        let loaded: Engine = Engine::from_snapshot(snapshot(&world, 1));
        let replayed: Engine<DoubleBufferedIndex> = Engine::from_snapshot(Snapshot::default());
        let mut log = Log { env: world.env, revision: 0 };
        let environment = Environment { id: world.env, name: "test".into(), created_at: Timestamp(0) };
        prop_assert!(replayed.apply(&log.change(Event::EnvironmentCreated(environment))));
        for event in first_events {
            prop_assert!(replayed.apply(&log.change(event)));
        }
        let mut log = Log { env: world.env, revision: log.revision.max(1) };
        compare_sample(&loaded, &world, &probes)?;
        compare_sample(&replayed, &world, &probes)?;
        for op in &writes {
            for event in world.write(op) {
                let change = log.change(event);
                prop_assert!(loaded.apply(&change));
                replayed.apply(&change);
            }
            compare_sample(&loaded, &world, &probes)?;
            compare_sample(&replayed, &world, &probes)?;
        }
        compare_all(&loaded, &world)?;
        compare_all(&replayed, &world)?;
        let reloaded: Engine = Engine::from_snapshot(snapshot(&world, log.revision));
        compare_sample(&reloaded, &world, &probes)?;
    }
}
