//! Builds a generated world through the API and mirrors every answer as rows.

use futures::{StreamExt, TryStreamExt};
use rbacd::domain::NodeId;

use super::generate::{Rng, role_permissions, window};
use super::mirror::*;
use super::*;

const MAX_DEPTH: usize = 10;
const CONCURRENCY: usize = 8;

/// Roles, a tree of nodes, identities in every status and their assignments.
pub async fn build_world(server: &TestServer, rng: &mut Rng, now: i64) -> Mirror {
    let mut mirror = bootstrap(server).await;
    create_roles(server, rng, &mut mirror).await;
    create_tree(server, rng, &mut mirror).await;
    let statuses = create_identities(server, rng, &mut mirror).await;
    create_assignments(server, rng, &mut mirror, now).await;
    for (identity, status) in statuses {
        if status == pb::IdentityStatus::Disabled {
            let disabled = server
                .identities()
                .disable_identity(pb::DisableIdentityRequest {
                    request_id: Default::default(),
                    identity: identity_by_id(&identity),
                })
                .await
                .expect("disable an identity")
                .into_inner();
            mirror.revision = mirror.revision.max(disabled.revision);
            replace_identity(&mut mirror, &disabled.identity.expect("an identity"));
        }
    }
    mirror
}

pub fn replace_identity(mirror: &mut Mirror, identity: &pb::Identity) {
    let row = identity_row(identity);
    let slot = mirror.rows.identities.iter_mut().find(|i| i.id == row.id);
    *slot.expect("a mirrored identity") = row;
}

/// What the server starts with: the root, `Administrator`, the admin and its grant.
async fn bootstrap(server: &TestServer) -> Mirror {
    let root = root(server).await;
    let admin_role = server
        .roles()
        .get_role(pb::GetRoleRequest {
            role: role_by_name("Administrator"),
        })
        .await
        .expect("the Administrator role")
        .into_inner()
        .role
        .expect("a role");
    let grants = list_all_assignments(server, pb::ListAssignmentsRequest::default()).await;
    assert_eq!(grants.len(), 1, "a fresh server has one assignment");
    let admin = server
        .identities()
        .get_identity(pb::GetIdentityRequest {
            identity: identity_by_id(&grants[0].identity_id),
        })
        .await
        .expect("the admin identity")
        .into_inner()
        .identity
        .expect("an identity");
    Mirror {
        rows: Rows {
            nodes: vec![node_row(&root)],
            roles: vec![role_row(&admin_role)],
            identities: vec![identity_row(&admin)],
            assignments: vec![assignment_row(&grants[0])],
        },
        gone_nodes: Vec::new(),
        gone_identities: Vec::new(),
        admin: id(&admin.id),
        revision: 0,
    }
}

async fn create_roles(server: &TestServer, rng: &mut Rng, mirror: &mut Mirror) {
    for i in 0..8 + rng.below(6) {
        let created = server
            .roles()
            .create_role(pb::CreateRoleRequest {
                request_id: Default::default(),
                name: format!("role-{i}"),
                description: String::new(),
                permissions: role_permissions(rng),
            })
            .await
            .expect("create a role")
            .into_inner();
        mirror.revision = mirror.revision.max(created.revision);
        mirror
            .rows
            .roles
            .push(role_row(&created.role.expect("a role")));
    }
}

/// A random tree: each node's parent is the deeper of two random earlier nodes
/// (so the tree grows several levels deep), created level by level.
async fn create_tree(server: &TestServer, rng: &mut Rng, mirror: &mut Mirror) {
    let count = 120 + rng.below(120);
    let mut depth = vec![0usize];
    let mut parent = vec![usize::MAX];
    for i in 1..=count {
        let (a, b) = (rng.below(i), rng.below(i));
        let mut p = if depth[a] >= depth[b] { a } else { b };
        if depth[p] >= MAX_DEPTH {
            p = 0;
        }
        parent.push(p);
        depth.push(depth[p] + 1);
    }
    let mut ids: Vec<String> = vec![mirror.root().to_string()];
    ids.resize(count + 1, String::new());
    for level in 1..=MAX_DEPTH {
        let todo: Vec<(usize, String)> = (1..=count)
            .filter(|&i| depth[i] == level)
            .map(|i| (i, ids[parent[i]].clone()))
            .collect();
        let made: Vec<(usize, pb::CreateNodeResponse)> = futures::stream::iter(todo)
            .map(|(i, parent_id)| {
                let mut nodes = server.nodes();
                async move {
                    let made = nodes
                        .create_node(pb::CreateNodeRequest {
                            request_id: Default::default(),
                            key: format!("n{i}:l{level}"),
                            name: String::new(),
                            kind: ["team", "wallet", "project"][i % 3].into(),
                            parent: node_by_id(&parent_id),
                        })
                        .await?;
                    Ok::<_, tonic::Status>((i, made.into_inner()))
                }
            })
            .buffer_unordered(CONCURRENCY)
            .try_collect()
            .await
            .expect("create a node");
        for (i, made) in made {
            mirror.revision = mirror.revision.max(made.revision);
            let node = made.node.expect("a node");
            ids[i] = node.id.clone();
            mirror.rows.nodes.push(node_row(&node));
        }
    }
}

/// Users and service accounts, referable by email, external id or both;
/// returns each with the status it should end in.
async fn create_identities(
    server: &TestServer,
    rng: &mut Rng,
    mirror: &mut Mirror,
) -> Vec<(String, pb::IdentityStatus)> {
    let plans: Vec<_> = (0..30 + rng.below(20))
        .map(|i| {
            let user = rng.chance(70);
            let email = if user {
                format!("Person{i}@Example.com")
            } else {
                String::new()
            };
            let external_id = if !user || rng.chance(30) {
                format!("idp|{i}")
            } else {
                String::new()
            };
            let kind = if user {
                pb::IdentityKind::User
            } else {
                pb::IdentityKind::ServiceAccount
            };
            let status = match rng.below(10) {
                0..=5 => pb::IdentityStatus::Active,
                6 | 7 => pb::IdentityStatus::Invited,
                _ => pb::IdentityStatus::Disabled,
            };
            (kind, email, external_id, status)
        })
        .collect();
    let made: Vec<(pb::Identity, u64, pb::IdentityStatus)> = futures::stream::iter(plans)
        .map(|(kind, email, external_id, status)| {
            let mut identities = server.identities();
            async move {
                let (identity, revision) = if status == pb::IdentityStatus::Invited {
                    let r = identities
                        .invite_identity(pb::InviteIdentityRequest {
                            request_id: Default::default(),
                            kind: kind.into(),
                            email,
                            external_id,
                            display_name: String::new(),
                            assignments: Vec::new(),
                        })
                        .await?
                        .into_inner();
                    (r.identity, r.revision)
                } else {
                    let r = identities
                        .create_identity(pb::CreateIdentityRequest {
                            assignments: Default::default(),
                            request_id: Default::default(),
                            kind: kind.into(),
                            email,
                            external_id,
                            display_name: String::new(),
                        })
                        .await?
                        .into_inner();
                    (r.identity, r.revision)
                };
                Ok::<_, tonic::Status>((identity.expect("an identity"), revision, status))
            }
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect()
        .await
        .expect("create an identity");
    let mut statuses = Vec::new();
    for (identity, revision, status) in made {
        mirror.revision = mirror.revision.max(revision);
        mirror.rows.identities.push(identity_row(&identity));
        statuses.push((identity.id, status));
    }
    // Deterministic order whatever order the calls completed in.
    mirror.rows.identities.sort_by_key(|i| i.id);
    statuses.sort();
    statuses
}

/// Zero to six assignments per identity, at the root, near it or anywhere,
/// with random windows; created in batches.
async fn create_assignments(server: &TestServer, rng: &mut Rng, mirror: &mut Mirror, now: i64) {
    let tree = Tree::of(&mirror.rows);
    let nodes: Vec<NodeId> = mirror.rows.nodes.iter().map(|n| n.id).collect();
    let shallow: Vec<NodeId> = nodes
        .iter()
        .copied()
        .filter(|n| tree.depth(*n) <= 2)
        .collect();
    let mut triples = std::collections::BTreeSet::new();
    let mut requests = Vec::new();
    for identity in mirror.rows.identities.clone() {
        if identity.id == mirror.admin {
            continue;
        }
        for _ in 0..rng.below(7) {
            let role = rng.pick(&mirror.rows.roles[1..]).id;
            let node = match rng.below(10) {
                0 => mirror.root(),
                1..=3 => *rng.pick(&shallow),
                _ => *rng.pick(&nodes),
            };
            let (from, to) = window(rng, now);
            if triples.insert((identity.id, role, node)) {
                requests.push(pb::CreateAssignmentRequest {
                    request_id: Default::default(),
                    identity: identity_by_id(&identity.id.to_string()),
                    role: role_by_id(&role.to_string()),
                    node: node_by_id(&node.to_string()),
                    effective_from: from.map(timestamp),
                    effective_to: to.map(timestamp),
                });
            }
        }
    }
    for batch in requests.chunks(100) {
        let made = server
            .assignments()
            .batch_create_assignments(pb::BatchCreateAssignmentsRequest {
                request_id: Default::default(),
                assignments: batch.to_vec(),
            })
            .await
            .expect("create a batch of assignments")
            .into_inner();
        assert_eq!(made.assignments.len(), batch.len());
        for (a, asked) in made.assignments.iter().zip(batch) {
            let row = assignment_row(a);
            assert_eq!(
                micros_of(&asked.effective_from),
                row.effective_from.map(|t| t.0)
            );
            assert_eq!(
                micros_of(&asked.effective_to),
                row.effective_to.map(|t| t.0)
            );
            mirror.rows.assignments.push(row);
        }
        mirror.revision = mirror.revision.max(made.revision);
    }
}
