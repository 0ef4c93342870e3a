//! Writing a generated dataset into a fresh database through the store.
//!
//! The dataset generator builds an environment of its own; its objects are
//! moved into the `default` environment, created here with a known admin API
//! key as rbacd would create it on first start, its root node mapped onto that
//! environment's root. `Store::bulk_load` then writes them, with their change rows.

use std::time::{Duration, Instant};

use rbacd::domain::{EnvironmentId, NodeId, NodeRef, Snapshot};
use rbacd::store::Store;
use rbacd_dataset::{CheckQuery, DatasetSpec};

/// The admin API key of every seeded database's `default` environment.
pub const API_KEY: &str = "rbacd_loadgen_admin_key_0123456789abcdef";
/// The environment rbacd creates on first start: seeding it first means the
/// server finds it and creates no other.
const ENVIRONMENT: &str = "default";

/// A seeded database and what it holds.
pub struct Seeded {
    pub url: String,
    /// The generated state, moved into `default`, for answers computed in process.
    pub snapshot: Option<Snapshot>,
    pub environment: EnvironmentId,
    pub queries: Vec<CheckQuery>,
    pub generated_in: Duration,
    /// Migrations and the `default` environment, included in `written_in`.
    pub prepared_in: Duration,
    pub written_in: Duration,
    /// Roles, identities, nodes and assignments loaded.
    pub objects: usize,
}

/// Generates `spec` with `queries` queries and writes it into the empty database at `url`.
pub async fn seed(
    url: &str,
    spec: DatasetSpec,
    queries: usize,
    keep_snapshot: bool,
) -> Result<Seeded, String> {
    let started = Instant::now();
    let data = rbacd_dataset::generate(spec, queries);
    let generated_in = started.elapsed();

    let started = Instant::now();
    let store = Store::connect(url).await.map_err(|e| e.to_string())?;
    store.migrate().await.map_err(|e| e.to_string())?;
    let made = store
        .ensure_environment(ENVIRONMENT, Some(API_KEY.to_owned()))
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the database is not empty: it already has environment `default`")?;
    let env = made.environment.id;
    let root = store
        .get_node(env, &NodeRef::root())
        .await
        .map_err(|e| e.to_string())?
        .id;
    let prepared_in = started.elapsed();

    let mut environment = data.environment;
    let mut state = data.state;
    let mut queries = data.queries;
    let old_root = state
        .nodes
        .iter()
        .find(|n| n.parent_id.is_none())
        .map(|n| n.id)
        .ok_or("the dataset has no root")?;
    let moved = |id: NodeId| if id == old_root { root } else { id };
    environment.id = env;
    for n in &mut state.nodes {
        n.environment_id = env;
        n.id = moved(n.id);
        n.parent_id = n.parent_id.map(moved);
    }
    for r in &mut state.roles {
        r.environment_id = env;
    }
    for i in &mut state.identities {
        i.environment_id = env;
    }
    for a in &mut state.assignments {
        a.environment_id = env;
        a.node_id = moved(a.node_id);
    }
    for q in &mut queries {
        if let NodeRef::Id(id) = &mut q.node {
            *id = moved(*id);
        }
    }

    // The environment's root exists already; the other nodes come parents first.
    let root_at = state.nodes.iter().position(|n| n.id == root);
    let root_node = root_at.map(|i| state.nodes.remove(i));
    let loaded = store
        .bulk_load(env, &state)
        .await
        .map_err(|e| format!("bulk load: {e}"))?;
    // Closing the last connection also checkpoints SQLite's WAL into the file.
    store.close().await;
    let written_in = started.elapsed();

    let snapshot = keep_snapshot.then(|| {
        state.nodes.splice(0..0, root_node);
        Snapshot {
            revision: loaded.revision,
            environments: vec![(environment, state)],
        }
    });
    Ok(Seeded {
        url: url.to_owned(),
        snapshot,
        environment: env,
        queries,
        generated_in,
        prepared_in,
        written_in,
        objects: loaded.value,
    })
}
