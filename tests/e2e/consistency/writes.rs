//! A round of random writes — assignment deletes, window changes (delete, then
//! create), moves, cascading node deletes, disables, activations, identity
//! deletes, role updates, new assignments — each mirrored, and each followed at
//! once by a Check about what it touched: a write is in effect for the next check.

use rbacd::domain::{Assignment, IdentityId, IdentityStatus, NodeId, RoleId};

use super::build::replace_identity;
use super::generate::{Rng, permissions, role_permissions, window};
use super::mirror::*;
use super::questions::{Question, about, question};
use super::*;

const MAX_DEPTH: usize = 128;

pub async fn random_writes(
    server: &TestServer,
    mirror: &mut Mirror,
    rng: &mut Rng,
    now: i64,
    report: &mut Report,
) {
    for _ in 0..30 {
        let Some((what, probe)) = write(server, mirror, rng, now).await else {
            continue;
        };
        let request = probe.request(String::new());
        match server.authorization().check(request).await {
            Ok(answer) => {
                let answer = answer.into_inner();
                if let Err(why) =
                    super::decisions::judge(&probe.expected(mirror), &answer, mirror.revision)
                {
                    report.disagree(format!(
                        "right after {what}: {probe}\n  {why}\n  server:    {}\n  reference: {:?}",
                        super::decisions::show(&answer),
                        probe.expected(mirror)
                    ));
                }
            }
            Err(status) => {
                report.disagree(format!("right after {what}: {probe}\n  failed: {status:?}"))
            }
        }
    }
}

fn own_assignments(mirror: &Mirror) -> Vec<Assignment> {
    mirror
        .rows
        .assignments
        .iter()
        .filter(|a| a.identity_id != mirror.admin)
        .cloned()
        .collect()
}

fn forget_assignment(mirror: &mut Mirror, id: &str) {
    let id = super::mirror::id::<rbacd::domain::AssignmentId>(id);
    mirror.rows.assignments.retain(|a| a.id != id);
}

/// One random write, mirrored; what it was and a question about its effect.
async fn write(
    server: &TestServer,
    mirror: &mut Mirror,
    rng: &mut Rng,
    now: i64,
) -> Option<(String, Question)> {
    let assignments = own_assignments(mirror);
    let others: Vec<IdentityId> = mirror
        .rows
        .identities
        .iter()
        .map(|i| i.id)
        .filter(|i| *i != mirror.admin)
        .collect();
    let tree = Tree::of(&mirror.rows);
    let root = mirror.root();
    let nodes: Vec<NodeId> = mirror
        .rows
        .nodes
        .iter()
        .map(|n| n.id)
        .filter(|n| *n != root)
        .collect();
    match rng.below(9) {
        0 | 1 if !assignments.is_empty() => {
            let a = rng.pick(&assignments).clone();
            let node = *rng.pick(&tree.subtree(a.node_id));
            let probe = about(mirror, rng, &a, node);
            if rng.chance(50) {
                let deleted = server
                    .assignments()
                    .delete_assignment(pb::DeleteAssignmentRequest {
                        id: a.id.to_string(),
                        ..Default::default()
                    })
                    .await;
                mirror.revision = deleted.expect("delete an assignment").into_inner().revision;
                forget_assignment(mirror, &a.id.to_string());
                return Some((format!("deleting assignment {}", a.id), probe));
            }
            // A new window: delete by (identity, role, node), then create again.
            let refs = (
                identity_by_id(&a.identity_id.to_string()),
                role_by_id(&a.role_id.to_string()),
                node_by_id(&a.node_id.to_string()),
            );
            server
                .assignments()
                .delete_assignment(pb::DeleteAssignmentRequest {
                    request_id: Default::default(),
                    id: String::new(),
                    identity: refs.0.clone(),
                    role: refs.1.clone(),
                    node: refs.2.clone(),
                })
                .await
                .expect("delete an assignment by identity, role and node");
            forget_assignment(mirror, &a.id.to_string());
            let (from, to) = window(rng, now);
            let made = server
                .assignments()
                .create_assignment(pb::CreateAssignmentRequest {
                    request_id: Default::default(),
                    identity: refs.0,
                    role: refs.1,
                    node: refs.2,
                    effective_from: from.map(timestamp),
                    effective_to: to.map(timestamp),
                })
                .await
                .expect("create the assignment again")
                .into_inner();
            mirror.revision = made.revision;
            let row = assignment_row(&made.assignment.expect("an assignment"));
            mirror.rows.assignments.push(row.clone());
            let probe = about(mirror, rng, &row, node);
            Some((
                format!("moving assignment {} to window {from:?}..{to:?}", a.id),
                probe,
            ))
        }
        2 if !nodes.is_empty() => {
            let node = *rng.pick(&nodes);
            let below = tree.subtree(node);
            let height = tree.height(node);
            let parents: Vec<NodeId> = mirror
                .rows
                .nodes
                .iter()
                .map(|n| n.id)
                .filter(|p| !below.contains(p) && tree.depth(*p) + 1 + height <= MAX_DEPTH)
                .collect();
            let parent = *rng.pick(&parents);
            let moved = server
                .nodes()
                .move_node(pb::MoveNodeRequest {
                    request_id: Default::default(),
                    node: node_by_id(&node.to_string()),
                    new_parent: node_by_id(&parent.to_string()),
                })
                .await
                .expect("move a node")
                .into_inner();
            mirror.revision = moved.revision;
            let row = mirror
                .rows
                .nodes
                .iter_mut()
                .find(|n| n.id == node)
                .expect("the moved node");
            row.parent_id = Some(parent);
            // Someone holding something above the new parent, asked below the moved node.
            let above = Tree::of(&mirror.rows);
            let holders: Vec<&Assignment> = assignments
                .iter()
                .filter(|a| above.subtree(a.node_id).contains(&node))
                .collect();
            let a = if holders.is_empty() {
                rng.pick(&assignments)
            } else {
                *rng.pick(&holders)
            };
            let at = *rng.pick(&below);
            let probe = about(mirror, rng, a, at);
            Some((
                format!(
                    "moving node {} under {}",
                    mirror.node_key(node),
                    mirror.node_key(parent)
                ),
                probe,
            ))
        }
        3 if !nodes.is_empty() => {
            let small: Vec<NodeId> = nodes
                .iter()
                .copied()
                .filter(|n| tree.subtree(*n).len() <= 8)
                .collect();
            let node = *rng.pick(&small);
            let below = tree.subtree(node);
            let key = mirror
                .rows
                .nodes
                .iter()
                .find(|n| n.id == node)
                .expect("a node")
                .key
                .clone();
            let deleted = server
                .nodes()
                .delete_node(pb::DeleteNodeRequest {
                    request_id: Default::default(),
                    node: node_by_id(&node.to_string()),
                    cascade: true,
                })
                .await
                .expect("delete a subtree")
                .into_inner();
            mirror.revision = deleted.revision;
            for gone in &below {
                let key = mirror
                    .rows
                    .nodes
                    .iter()
                    .find(|n| n.id == *gone)
                    .expect("a node")
                    .key
                    .clone();
                mirror.gone_nodes.push((*gone, key));
            }
            mirror.rows.nodes.retain(|n| !below.contains(&n.id));
            mirror
                .rows
                .assignments
                .retain(|a| !below.contains(&a.node_id));
            let who = *rng.pick(&others);
            let probe = question(
                who,
                rng.pick(&permissions()).clone(),
                *rng.pick(&below),
                None,
            );
            Some((
                format!("deleting the subtree of {key} ({} nodes)", below.len()),
                probe,
            ))
        }
        4..=6 if !others.is_empty() => {
            let who = *rng.pick(&others);
            let row = mirror
                .rows
                .identities
                .iter()
                .find(|i| i.id == who)
                .expect("an identity");
            let mut identities = server.identities();
            let reference = identity_by_id(&who.to_string());
            let what = if rng.chance(25) {
                let deleted = identities
                    .delete_identity(pb::DeleteIdentityRequest {
                        request_id: Default::default(),
                        identity: reference,
                    })
                    .await;
                mirror.revision = deleted.expect("delete an identity").into_inner().revision;
                mirror.rows.identities.retain(|i| i.id != who);
                mirror.rows.assignments.retain(|a| a.identity_id != who);
                mirror.gone_identities.push(who);
                "deleting"
            } else if row.status == IdentityStatus::Active {
                let r = identities
                    .disable_identity(pb::DisableIdentityRequest {
                        request_id: Default::default(),
                        identity: reference,
                    })
                    .await;
                let r = r.expect("disable an identity").into_inner();
                mirror.revision = r.revision;
                replace_identity(mirror, &r.identity.expect("an identity"));
                "disabling"
            } else {
                let r = identities
                    .activate_identity(pb::ActivateIdentityRequest {
                        request_id: Default::default(),
                        identity: reference,
                    })
                    .await;
                let r = r.expect("activate an identity").into_inner();
                mirror.revision = r.revision;
                replace_identity(mirror, &r.identity.expect("an identity"));
                "activating"
            };
            let theirs: Vec<&Assignment> = assignments
                .iter()
                .filter(|a| a.identity_id == who)
                .collect();
            let probe = match theirs.first() {
                Some(a) => {
                    let at = *rng.pick(&tree.subtree(a.node_id));
                    about(mirror, rng, a, at)
                }
                None => question(who, rng.pick(&permissions()).clone(), root, None),
            };
            Some((format!("{what} identity {who}"), probe))
        }
        7 => {
            let role = rng.pick(&mirror.rows.roles[1..]).id;
            let updated = server
                .roles()
                .update_role(pb::UpdateRoleRequest {
                    request_id: Default::default(),
                    role: role_by_id(&role.to_string()),
                    name: None,
                    description: None,
                    permissions: role_permissions(rng),
                    update_mask: Some(prost_types::FieldMask {
                        paths: vec!["permissions".into()],
                    }),
                })
                .await
                .expect("update a role's permissions")
                .into_inner();
            mirror.revision = updated.revision;
            let row = role_row(&updated.role.expect("a role"));
            *mirror
                .rows
                .roles
                .iter_mut()
                .find(|r| r.id == role)
                .expect("the role") = row.clone();
            let holders: Vec<&Assignment> =
                assignments.iter().filter(|a| a.role_id == role).collect();
            let probe = match holders.first() {
                Some(a) => about(mirror, rng, a, a.node_id),
                None => question(
                    *rng.pick(&others),
                    rng.pick(&permissions()).clone(),
                    root,
                    None,
                ),
            };
            Some((
                format!(
                    "setting role {} to {:?}",
                    row.name,
                    updated_permissions(&row)
                ),
                probe,
            ))
        }
        _ if !others.is_empty() => {
            let (who, role, node): (IdentityId, RoleId, NodeId) = (
                *rng.pick(&others),
                rng.pick(&mirror.rows.roles[1..]).id,
                rng.pick(&mirror.rows.nodes).id,
            );
            if assignments
                .iter()
                .any(|a| (a.identity_id, a.role_id, a.node_id) == (who, role, node))
            {
                return None;
            }
            let (from, to) = window(rng, now);
            let made = server
                .assignments()
                .create_assignment(pb::CreateAssignmentRequest {
                    request_id: Default::default(),
                    identity: identity_by_id(&who.to_string()),
                    role: role_by_id(&role.to_string()),
                    node: node_by_id(&node.to_string()),
                    effective_from: from.map(timestamp),
                    effective_to: to.map(timestamp),
                })
                .await
                .expect("create an assignment")
                .into_inner();
            mirror.revision = made.revision;
            let row = assignment_row(&made.assignment.expect("an assignment"));
            mirror.rows.assignments.push(row.clone());
            let at = *rng.pick(&Tree::of(&mirror.rows).subtree(node));
            let probe = about(mirror, rng, &row, at);
            Some((
                format!("assigning {role} to {who} at {}", mirror.node_key(node)),
                probe,
            ))
        }
        _ => None,
    }
}

fn updated_permissions(role: &rbacd::domain::Role) -> Vec<&str> {
    role.permissions.iter().map(|p| p.as_str()).collect()
}
