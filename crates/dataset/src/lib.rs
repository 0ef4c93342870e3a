//! Deterministic synthetic environments and check queries, for the benches and
//! load generator: a tree of given size and depth, roles of exact and wildcard
//! permissions, identities with mixed statuses and handles, and assignments
//! (some with windows) at every level. Also the index designs the service did
//! not choose ([`cells`]).

pub mod cells;

use hashbrown::HashSet;
use uuid::Uuid;

use rbacd::domain::{
    Assignment, AssignmentId, Email, Environment, EnvironmentId, EnvironmentState, ExternalId,
    Identity, IdentityId, IdentityKind, IdentityRef, IdentityStatus, Node, NodeId, NodeKey,
    NodeRef, Permission, PermissionPattern, ROOT_NODE_KEY, Role, RoleId, RoleName, Snapshot,
    Timestamp,
};

/// The instant the queries ask about; windows are placed around it.
pub const NOW: Timestamp = Timestamp(1_750_000_000_000_000);
const DAY: i64 = 86_400_000_000;

/// The shape of a dataset.
#[derive(Clone, Copy, Debug)]
pub struct DatasetSpec {
    pub nodes: usize,
    /// Levels below the root.
    pub depth: usize,
    pub identities: usize,
    pub roles: usize,
    pub permissions_per_role: usize,
    pub assignments: usize,
    pub seed: u64,
}

impl DatasetSpec {
    /// 1,000 nodes of depth 5, 10,000 identities, 50 roles × 10 permissions, 20,000 assignments.
    pub const STANDARD: Self = Self {
        nodes: 1_000,
        depth: 5,
        identities: 10_000,
        roles: 50,
        permissions_per_role: 10,
        assignments: 20_000,
        seed: 42,
    };

    /// 100,000 nodes, 1,000,000 identities, 5,000,000 assignments.
    pub const LARGE: Self = Self {
        nodes: 100_000,
        depth: 6,
        identities: 1_000_000,
        roles: 50,
        permissions_per_role: 10,
        assignments: 5_000_000,
        seed: 43,
    };
}

/// One check to ask.
#[derive(Clone, Debug)]
pub struct CheckQuery {
    pub identity: IdentityRef,
    pub permission: Permission,
    pub node: NodeRef,
    pub at: Timestamp,
}

/// A generated environment and queries against it.
pub struct Dataset {
    pub environment: Environment,
    pub state: EnvironmentState,
    pub queries: Vec<CheckQuery>,
}

impl Dataset {
    /// A snapshot holding just this environment.
    pub fn into_snapshot(self) -> (Snapshot, Vec<CheckQuery>) {
        let snapshot = Snapshot {
            revision: 1,
            environments: vec![(self.environment, self.state)],
        };
        (snapshot, self.queries)
    }
}

/// splitmix64: small, fast, and the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn uuid(&mut self) -> Uuid {
        Uuid::from_u64_pair(self.next(), self.next())
    }
}

fn parsed<T>(result: Result<T, String>) -> T {
    result.unwrap_or_else(|e| panic!("generated an invalid name: {e}"))
}

/// Sizes of the levels below the root, growing geometrically to `nodes - 1` in all.
fn level_sizes(nodes: usize, depth: usize) -> Vec<usize> {
    let below = nodes.saturating_sub(1);
    let depth = depth.max(1);
    let (mut lo, mut hi) = (1.0f64, below.max(2) as f64);
    for _ in 0..60 {
        let ratio = (lo + hi) / 2.0;
        let total: f64 = (1..=depth).map(|l| ratio.powi(l as i32)).sum();
        if total > below as f64 {
            hi = ratio
        } else {
            lo = ratio
        }
    }
    let mut sizes: Vec<usize> = (1..=depth)
        .map(|l| lo.powi(l as i32).round().max(1.0) as usize)
        .collect();
    let assigned: usize = sizes[..depth - 1].iter().sum();
    sizes[depth - 1] = below.saturating_sub(assigned).max(1);
    sizes
}

/// Generates a dataset with `queries` check queries, half of them built to be allowed.
pub fn generate(spec: DatasetSpec, queries: usize) -> Dataset {
    let mut rng = Rng(spec.seed);
    let environment = Environment {
        id: EnvironmentId(rng.uuid()),
        name: "bench".into(),
        created_at: NOW,
    };
    let env = environment.id;
    let (nodes, levels, children) = generate_nodes(&mut rng, env, spec);
    let roles = generate_roles(&mut rng, env, spec);
    let identities = generate_identities(&mut rng, env, spec);
    let assignments =
        generate_assignments(&mut rng, env, spec, &levels, &roles, &identities, &nodes);
    let state = EnvironmentState {
        roles,
        identities,
        nodes,
        assignments,
        api_keys: Vec::new(),
    };
    let queries = generate_queries(&mut rng, &state, &children, queries);
    Dataset {
        environment,
        state,
        queries,
    }
}

type Levels = Vec<Vec<usize>>;

fn generate_nodes(
    rng: &mut Rng,
    env: EnvironmentId,
    spec: DatasetSpec,
) -> (Vec<Node>, Levels, Vec<Vec<usize>>) {
    let node = |id, key: String, parent_id| Node {
        id,
        environment_id: env,
        key: parsed(NodeKey::parse(&key)),
        name: key,
        kind: "resource".into(),
        parent_id,
        created_at: NOW,
        updated_at: NOW,
    };
    let mut nodes = vec![node(NodeId(rng.uuid()), ROOT_NODE_KEY.into(), None)];
    let mut levels: Levels = vec![vec![0]];
    let mut children = vec![Vec::new()];
    for size in level_sizes(spec.nodes, spec.depth) {
        let above = levels.last().cloned().unwrap_or_default();
        let mut level = Vec::with_capacity(size);
        for _ in 0..size {
            let parent = above[rng.below(above.len())];
            let index = nodes.len();
            nodes.push(node(
                NodeId(rng.uuid()),
                format!("node:{index}"),
                Some(nodes[parent].id),
            ));
            children.push(Vec::new());
            children[parent].push(index);
            level.push(index);
        }
        levels.push(level);
    }
    (nodes, levels, children)
}

fn permission_text(service: usize, action: usize) -> String {
    format!("Service{service}:Action{action}")
}

fn generate_roles(rng: &mut Rng, env: EnvironmentId, spec: DatasetSpec) -> Vec<Role> {
    let services = (spec.roles / 2).max(1);
    (0..spec.roles)
        .map(|r| {
            let mut texts: Vec<String> = Vec::new();
            if r % 10 == 9 {
                texts.push(format!("Service{}:*", rng.below(services)));
            }
            while texts.len() < spec.permissions_per_role {
                let text = permission_text(rng.below(services), rng.below(10));
                if !texts.contains(&text) {
                    texts.push(text);
                }
            }
            Role {
                id: RoleId(rng.uuid()),
                environment_id: env,
                name: parsed(RoleName::parse(&format!("Role{r}"))),
                description: String::new(),
                permissions: texts
                    .iter()
                    .map(|t| parsed(PermissionPattern::parse(t)))
                    .collect(),
                created_at: NOW,
                updated_at: NOW,
            }
        })
        .collect()
}

fn generate_identities(rng: &mut Rng, env: EnvironmentId, spec: DatasetSpec) -> Vec<Identity> {
    (0..spec.identities)
        .map(|i| {
            let user = i % 10 != 0;
            let status = match rng.below(100) {
                0..=2 => IdentityStatus::Disabled,
                3..=4 => IdentityStatus::Invited,
                _ => IdentityStatus::Active,
            };
            let email = user.then(|| parsed(Email::parse(&format!("User{i}@Example.com"))));
            let external_id =
                (!user || i % 2 == 0).then(|| parsed(ExternalId::parse(&format!("auth0|{i}"))));
            Identity {
                id: IdentityId(rng.uuid()),
                environment_id: env,
                kind: if user {
                    IdentityKind::User
                } else {
                    IdentityKind::ServiceAccount
                },
                status,
                email,
                external_id,
                display_name: String::new(),
                created_at: NOW,
                updated_at: NOW,
            }
        })
        .collect()
}

fn generate_assignments(
    rng: &mut Rng,
    env: EnvironmentId,
    spec: DatasetSpec,
    levels: &Levels,
    roles: &[Role],
    identities: &[Identity],
    nodes: &[Node],
) -> Vec<Assignment> {
    let mut seen = HashSet::with_capacity(spec.assignments);
    let mut assignments = Vec::with_capacity(spec.assignments);
    while assignments.len() < spec.assignments {
        let identity = rng.below(identities.len());
        let role = rng.below(roles.len());
        // Root rarely; otherwise every level equally often.
        let level = if rng.chance(1) {
            0
        } else {
            1 + rng.below(levels.len() - 1)
        };
        let node = levels[level][rng.below(levels[level].len())];
        if !seen.insert((identity as u32, role as u32, node as u32)) {
            continue;
        }
        let (effective_from, effective_to) = match rng.below(20) {
            0 => (Some(Timestamp(NOW.0 - DAY)), Some(Timestamp(NOW.0 + DAY))),
            1 => (
                Some(Timestamp(NOW.0 - 2 * DAY)),
                Some(Timestamp(NOW.0 - DAY)),
            ),
            2 => (Some(Timestamp(NOW.0 + DAY)), None),
            _ => (None, None),
        };
        assignments.push(Assignment {
            id: AssignmentId(rng.uuid()),
            environment_id: env,
            identity_id: identities[identity].id,
            role_id: roles[role].id,
            node_id: nodes[node].id,
            effective_from,
            effective_to,
            created_at: NOW,
        });
    }
    assignments
}

mod queries;
use queries::generate_queries;
