//! ListPermissions, LookupNodes and LookupIdentities against Check: each must
//! name exactly what Check allows, page after page, and what the reference says.

use std::collections::BTreeSet;

use rbacd::domain::{IdentityRef, NodeId, NodeRef, Permission, Timestamp};
use rbacd::engine::Reason;

use super::generate::{Rng, covers};
use super::mirror::timestamp;
use super::questions::{Asker, Question, now_micros, pb_identity, pb_node};
use super::*;

const PAGE_SIZES: &[i32] = &[1, 7, 100];

/// Whether Check (asked in batches) allows each question; a failed batch is reported and counts as denied.
async fn allowed(client: &Authz, questions: &[Question], report: &mut Report) -> Vec<bool> {
    let mut answers = Vec::new();
    for chunk in questions.chunks(500) {
        let checks = chunk.iter().map(|q| q.request(String::new())).collect();
        match client
            .clone()
            .batch_check(pb::BatchCheckRequest { checks })
            .await
        {
            Ok(batch) => answers.extend(batch.into_inner().results.iter().map(|r| r.allowed)),
            Err(status) => {
                report.disagree(format!("BatchCheck failed: {status:?}"));
                answers.extend(chunk.iter().map(|_| false));
            }
        }
    }
    answers
}

pub async fn list_permissions(
    asker: &Asker<'_>,
    client: &Authz,
    rng: &mut Rng,
    report: &mut Report,
) {
    let mirror = asker.mirror;
    for _ in 0..40 {
        let ((identity, who), node) = match asker.aim(rng) {
            Some((a, _)) if rng.chance(70) => {
                let below = *rng.pick(&asker.tree.subtree(a.node_id));
                (
                    asker.refer_to(rng, a.identity_id),
                    asker.refer_to_node(rng, below),
                )
            }
            _ => (asker.identity(rng), asker.node(rng)),
        };
        let at = asker.instant(rng);
        let asked = format!("ListPermissions({who}, {node}, at {at:?})");
        let reply = client
            .clone()
            .list_permissions(pb::ListPermissionsRequest {
                identity: Some(identity.clone()),
                node: pb_node(&node),
                at: at.map(timestamp),
                min_revision: 0,
            })
            .await;
        let t = Timestamp(at.unwrap_or_else(now_micros));
        let reference = mirror.rows.list_permissions(&who, &node, t);
        let listed = match (reply, reference) {
            (Err(s), None) if s.code() == tonic::Code::NotFound => continue,
            (Ok(reply), Some(reference)) => {
                let reply = reply.into_inner();
                let reference: Vec<String> =
                    reference.iter().map(|p| p.as_str().to_owned()).collect();
                let ascending = reply.permissions.windows(2).all(|w| w[0] < w[1]);
                let got: BTreeSet<&String> = reply.permissions.iter().collect();
                if !ascending || got != reference.iter().collect() {
                    report.disagree(format!(
                        "{asked}\n  server:    {:?}\n  reference: {reference:?}",
                        reply.permissions
                    ));
                }
                reply.permissions
            }
            (reply, reference) => {
                report.disagree(format!(
                    "{asked}\n  server:    {reply:?}\n  reference: {reference:?}"
                ));
                continue;
            }
        };
        // Every concrete permission: Check allows exactly those the listed patterns cover.
        let questions: Vec<Question> = asker
            .permissions
            .iter()
            .map(|p| Question {
                identity: identity.clone(),
                who: who.clone(),
                permission: p.clone(),
                node: node.clone(),
                at,
            })
            .collect();
        let allowed = allowed(client, &questions, report).await;
        for (q, allowed) in questions.iter().zip(allowed) {
            let listed_covers = listed.iter().any(|l| covers(l, &q.permission));
            if listed_covers != allowed {
                report.disagree(format!(
                    "{asked} lists {listed:?}, which {} `{}`, but Check {} it",
                    if listed_covers {
                        "covers"
                    } else {
                        "does not cover"
                    },
                    q.permission,
                    if allowed { "allows" } else { "denies" }
                ));
            }
        }
    }
}

/// Reads every page; reports a page over its size or an item twice.
async fn pages<T, F, Fut>(
    asked: &str,
    page_size: i32,
    report: &mut Report,
    mut page: F,
) -> Option<Vec<T>>
where
    T: std::fmt::Debug + PartialEq,
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<T>, String), tonic::Status>>,
{
    let mut all: Vec<T> = Vec::new();
    let mut token = String::new();
    for round in 0..2000 {
        let (items, next) = match page(token).await {
            Ok(page) => page,
            Err(status) => {
                report.disagree(format!("{asked}: a page failed: {status:?}"));
                return None;
            }
        };
        if items.len() > page_size as usize {
            report.disagree(format!("{asked}: a page of {} items", items.len()));
        }
        for item in items {
            if all.contains(&item) {
                report.disagree(format!("{asked}: {item:?} on two pages"));
            } else {
                all.push(item);
            }
        }
        if next.is_empty() {
            if round > 0 && !all.is_empty() {
                report.multi_page += 1;
            }
            return Some(all);
        }
        token = next;
    }
    report.disagree(format!("{asked}: paging never ends"));
    None
}

fn differ(
    asked: &str,
    what: &str,
    got: &BTreeSet<String>,
    want: &BTreeSet<String>,
    names: impl Fn(&String) -> String,
) -> String {
    let missing: Vec<String> = want.difference(got).map(&names).collect();
    let extra: Vec<String> = got.difference(want).map(&names).collect();
    format!("{asked}\n  {what}: missing {missing:?}, extra {extra:?}")
}

pub async fn lookup_nodes(asker: &Asker<'_>, client: &Authz, rng: &mut Rng, report: &mut Report) {
    let mirror = asker.mirror;
    for round in 0..24 {
        let page_size = PAGE_SIZES[round % PAGE_SIZES.len()];
        let aimed = asker.aim(rng).filter(|_| rng.chance(80));
        let ((identity, who), permission, near) = match aimed {
            Some((a, permission)) => (asker.refer_to(rng, a.identity_id), permission, a.node_id),
            None => {
                let near = rng.pick(&mirror.rows.nodes).id;
                (
                    asker.identity(rng),
                    rng.pick(&asker.permissions).clone(),
                    near,
                )
            }
        };
        // A subtree: around the grant for single-item pages, else also the whole
        // tree, named or defaulted.
        let root: Option<NodeId> = match (page_size, rng.below(3)) {
            (1, _) | (_, 0) => Some(asker.tree.parent(near).unwrap_or(near)),
            (_, 1) => Some(mirror.root()),
            _ => None,
        };
        let at = asker.instant(rng);
        let asked = format!(
            "LookupNodes({who}, `{permission}`, under {}, at {at:?}, page_size {page_size})",
            root.map_or("(default root)".into(), |r| mirror.node_key(r))
        );
        let request = pb::LookupNodesRequest {
            identity: Some(identity.clone()),
            permission: permission.clone(),
            root: root.and_then(|r| pb_node(&NodeRef::Id(r))),
            page_size,
            page_token: String::new(),
            at: at.map(timestamp),
            min_revision: 0,
        };
        if mirror.rows.identity(&who).is_none() {
            expect_not_found(client.clone().lookup_nodes(request).await, &asked, report);
            continue;
        }
        let found = pages(&asked, page_size, report, |page_token| {
            let (mut client, request) = (
                client.clone(),
                pb::LookupNodesRequest {
                    page_token,
                    ..request.clone()
                },
            );
            async move {
                let page = client.lookup_nodes(request).await?.into_inner();
                Ok((
                    page.nodes.into_iter().map(|n| (n.id, n.key)).collect(),
                    page.next_page_token,
                ))
            }
        })
        .await;
        let Some(found) = found else { continue };
        let under = asker.tree.subtree(root.unwrap_or_else(|| mirror.root()));
        let questions: Vec<Question> = under
            .iter()
            .map(|n| Question {
                identity: identity.clone(),
                who: who.clone(),
                permission: permission.clone(),
                node: NodeRef::Id(*n),
                at,
            })
            .collect();
        let by_check: BTreeSet<String> = under
            .iter()
            .zip(allowed(client, &questions, report).await)
            .filter(|(_, allowed)| *allowed)
            .map(|(n, _)| n.to_string())
            .collect();
        let t = Timestamp(at.unwrap_or_else(now_micros));
        let p = Permission::parse(&permission).expect("a permission");
        let by_reference: BTreeSet<String> = under
            .iter()
            .filter(|n| mirror.rows.check(&who, &p, &NodeRef::Id(**n), t).reason == Reason::Granted)
            .map(|n| n.to_string())
            .collect();
        for (id, key) in &found {
            if mirror.node_key(super::mirror::id(id)) != *key {
                report.disagree(format!(
                    "{asked}: node {id} has key {key}, not {}",
                    mirror.node_key(super::mirror::id(id))
                ));
            }
        }
        let found: BTreeSet<String> = found.into_iter().map(|(id, _)| id).collect();
        let name = |id: &String| mirror.node_key(super::mirror::id(id));
        if found != by_check {
            report.disagree(differ(&asked, "against Check", &found, &by_check, name));
        }
        if by_check != by_reference {
            report.disagree(differ(
                &asked,
                "Check against the reference",
                &by_check,
                &by_reference,
                name,
            ));
        }
    }
}

pub async fn lookup_identities(
    asker: &Asker<'_>,
    client: &Authz,
    rng: &mut Rng,
    report: &mut Report,
) {
    let mirror = asker.mirror;
    for round in 0..24 {
        let page_size = PAGE_SIZES[round % PAGE_SIZES.len()];
        let (permission, node) = match asker.aim(rng) {
            Some((a, permission)) if rng.chance(80) => {
                let below = *rng.pick(&asker.tree.subtree(a.node_id));
                (permission, asker.refer_to_node(rng, below))
            }
            _ => (rng.pick(&asker.permissions).clone(), asker.node(rng)),
        };
        let at = asker.instant(rng);
        let asked =
            format!("LookupIdentities(`{permission}`, {node}, at {at:?}, page_size {page_size})");
        let request = pb::LookupIdentitiesRequest {
            permission: permission.clone(),
            node: pb_node(&node),
            page_size,
            page_token: String::new(),
            at: at.map(timestamp),
            min_revision: 0,
        };
        if mirror.rows.node(&node).is_none() {
            expect_not_found(
                client.clone().lookup_identities(request).await,
                &asked,
                report,
            );
            continue;
        }
        let found = pages(&asked, page_size, report, |page_token| {
            let (mut client, request) = (
                client.clone(),
                pb::LookupIdentitiesRequest {
                    page_token,
                    ..request.clone()
                },
            );
            async move {
                let page = client.lookup_identities(request).await?.into_inner();
                Ok((
                    page.identities.into_iter().map(|i| i.id).collect(),
                    page.next_page_token,
                ))
            }
        })
        .await;
        let Some(found) = found else { continue };
        let everyone: Vec<IdentityRef> = mirror
            .rows
            .identities
            .iter()
            .map(|i| IdentityRef::Id(i.id))
            .collect();
        let questions: Vec<Question> = everyone
            .iter()
            .map(|who| Question {
                identity: pb_identity(who).expect("a reference"),
                who: who.clone(),
                permission: permission.clone(),
                node: node.clone(),
                at,
            })
            .collect();
        let by_check: BTreeSet<String> = mirror
            .rows
            .identities
            .iter()
            .zip(allowed(client, &questions, report).await)
            .filter(|(_, allowed)| *allowed)
            .map(|(i, _)| i.id.to_string())
            .collect();
        let t = Timestamp(at.unwrap_or_else(now_micros));
        let node_row = mirror.rows.node(&node).expect("a known node");
        let p = Permission::parse(&permission).expect("a permission");
        let by_reference: BTreeSet<String> = mirror
            .rows
            .lookup_identities(&p, node_row, t)
            .iter()
            .map(|i| i.id.to_string())
            .collect();
        let found: BTreeSet<String> = found.into_iter().collect();
        let name = |id: &String| id.clone();
        if found != by_check {
            report.disagree(differ(&asked, "against Check", &found, &by_check, name));
        }
        if by_check != by_reference {
            report.disagree(differ(
                &asked,
                "Check against the reference",
                &by_check,
                &by_reference,
                name,
            ));
        }
    }
}

fn expect_not_found<T: std::fmt::Debug>(
    reply: Result<T, tonic::Status>,
    asked: &str,
    report: &mut Report,
) {
    match reply {
        Err(s) if s.code() == tonic::Code::NotFound => {}
        other => report.disagree(format!(
            "{asked}: expected NOT_FOUND for an unknown reference, got {other:?}"
        )),
    }
}
