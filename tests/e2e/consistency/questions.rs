//! Questions over a world — known, deleted and never-existing identities and
//! nodes, by every kind of reference, now and at window boundaries — and what
//! the reference evaluator answers to each.

use std::fmt;

use rbacd::domain::{
    Assignment, Email, ExternalId, IdentityId, IdentityRef, IdentityStatus, NodeId, NodeKey,
    NodeRef, Permission, Timestamp,
};

use super::generate::{Rng, covers};
use super::mirror::{Mirror, Tree, timestamp};
use super::*;
use crate::support::decision_rule::Expected;

#[derive(Clone, Debug)]
pub struct Question {
    /// As the request names it (an email possibly in another case).
    pub identity: pb::IdentityRef,
    /// As the reference evaluator names it.
    pub who: IdentityRef,
    pub permission: String,
    pub node: NodeRef,
    /// Microseconds since the epoch; now when `None`.
    pub at: Option<i64>,
}

impl fmt::Display for Question {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self
            .at
            .map_or_else(|| "now".to_owned(), |t| format!("{t} µs"));
        write!(
            f,
            "may {} `{}` at {} at {at}? (asked as {:?})",
            self.who, self.permission, self.node, self.identity.r#ref
        )
    }
}

pub fn pb_node(node: &NodeRef) -> Option<pb::NodeRef> {
    match node {
        NodeRef::Id(id) => node_by_id(&id.to_string()),
        NodeRef::Key(key) => node_by_key(key.as_str()),
    }
}

pub fn pb_identity(identity: &IdentityRef) -> Option<pb::IdentityRef> {
    match identity {
        IdentityRef::Id(id) => identity_by_id(&id.to_string()),
        IdentityRef::Email(e) => identity_by_email(e.as_str()),
        IdentityRef::ExternalId(e) => identity_by_external_id(e.as_str()),
    }
}

pub fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_micros() as i64
}

impl Question {
    pub fn request(&self, correlation_id: String) -> pb::CheckRequest {
        pb::CheckRequest {
            correlation_id,
            identity: Some(self.identity.clone()),
            permission: self.permission.clone(),
            node: pb_node(&self.node),
            at: self.at.map(timestamp),
            min_revision: 0,
        }
    }

    /// What the decision rule says.
    pub fn expected(&self, mirror: &Mirror) -> Expected {
        let permission = Permission::parse(&self.permission).expect("a concrete permission");
        let at = Timestamp(self.at.unwrap_or_else(now_micros));
        mirror.rows.check(&self.who, &permission, &self.node, at)
    }
}

/// Builds questions over one state of a world.
pub struct Asker<'a> {
    pub mirror: &'a Mirror,
    pub tree: Tree,
    pub permissions: Vec<String>,
    boundaries: Vec<i64>,
}

impl<'a> Asker<'a> {
    pub fn new(mirror: &'a Mirror) -> Self {
        Self {
            tree: Tree::of(&mirror.rows),
            permissions: super::generate::permissions(),
            boundaries: mirror.boundaries(),
            mirror,
        }
    }

    /// Now, or an instant where some window opens or closes (or just before).
    pub fn instant(&self, rng: &mut Rng) -> Option<i64> {
        if self.boundaries.is_empty() || rng.chance(40) {
            None
        } else {
            Some(*rng.pick(&self.boundaries))
        }
    }

    /// An identity of the world (or gone, or never created), by any of its references.
    pub fn identity(&self, rng: &mut Rng) -> (pb::IdentityRef, IdentityRef) {
        let gone = &self.mirror.gone_identities;
        let id: IdentityId = match rng.below(40) {
            0 => uuid::Uuid::new_v4().into(),
            1 | 2 if !gone.is_empty() => *rng.pick(gone),
            _ => rng.pick(&self.mirror.rows.identities).id,
        };
        self.refer_to(rng, id)
    }

    pub fn refer_to(&self, rng: &mut Rng, id: IdentityId) -> (pb::IdentityRef, IdentityRef) {
        let row = self.mirror.rows.identities.iter().find(|i| i.id == id);
        let by_id = (
            pb_identity(&IdentityRef::Id(id)).expect("a reference"),
            IdentityRef::Id(id),
        );
        let Some(row) = row else { return by_id };
        match (rng.below(4), &row.email, &row.external_id) {
            (0, Some(email), _) => {
                let asked = Email::parse(&email.as_str().to_uppercase()).expect("an email");
                (
                    pb_identity(&IdentityRef::Email(asked)).expect("a reference"),
                    IdentityRef::Email(email.clone()),
                )
            }
            (1, _, Some(external)) => {
                let r = IdentityRef::ExternalId(ExternalId::parse(external.as_str()).unwrap());
                (pb_identity(&r).expect("a reference"), r)
            }
            _ => by_id,
        }
    }

    /// A node of the world (or gone, or never created), by id or by key.
    pub fn node(&self, rng: &mut Rng) -> NodeRef {
        let gone = &self.mirror.gone_nodes;
        match rng.below(40) {
            0 => NodeRef::Key(NodeKey::parse("no:such:node").unwrap()),
            1 => NodeRef::Id(uuid::Uuid::new_v4().into()),
            2 if !gone.is_empty() => {
                let (id, key) = rng.pick(gone);
                if rng.chance(50) {
                    NodeRef::Id(*id)
                } else {
                    NodeRef::Key(key.clone())
                }
            }
            _ => {
                let id = rng.pick(&self.mirror.rows.nodes).id;
                self.refer_to_node(rng, id)
            }
        }
    }

    pub fn refer_to_node(&self, rng: &mut Rng, id: NodeId) -> NodeRef {
        let key = self.mirror.rows.nodes.iter().find(|n| n.id == id);
        match key {
            Some(n) if rng.chance(30) => NodeRef::Key(n.key.clone()),
            _ => NodeRef::Id(id),
        }
    }

    /// Questions every sample holds: unknown, deleted and inactive
    /// identities, unknown and deleted nodes, and each side of the boundaries
    /// of up to twenty windows.
    pub fn edge_questions(&self, rng: &mut Rng) -> Vec<Question> {
        let rows = &self.mirror.rows;
        let mut edges = Vec::new();
        let mut ask = |who: IdentityRef, node: NodeRef, permission: &str, at: Option<i64>| {
            edges.push(Question {
                identity: pb_identity(&who).expect("a reference"),
                who,
                permission: permission.to_owned(),
                node,
                at,
            })
        };
        let someone = IdentityRef::Id(rng.pick(&rows.identities).id);
        let somewhere = NodeRef::Id(rng.pick(&rows.nodes).id);
        ask(
            IdentityRef::Id(uuid::Uuid::new_v4().into()),
            somewhere.clone(),
            "Wallets:Read",
            None,
        );
        ask(
            someone.clone(),
            NodeRef::Key(NodeKey::parse("no:such:node").unwrap()),
            "Wallets:Read",
            None,
        );
        ask(
            someone.clone(),
            NodeRef::Id(uuid::Uuid::new_v4().into()),
            "Wallets:Read",
            None,
        );
        if let Some(gone) = self.mirror.gone_identities.first() {
            ask(
                IdentityRef::Id(*gone),
                somewhere.clone(),
                "Wallets:Read",
                None,
            );
        }
        if let Some((id, key)) = self.mirror.gone_nodes.first() {
            ask(someone.clone(), NodeRef::Id(*id), "Wallets:Read", None);
            ask(someone, NodeRef::Key(key.clone()), "Wallets:Read", None);
        }
        let inactive = rows
            .identities
            .iter()
            .filter(|i| i.status != IdentityStatus::Active);
        for identity in inactive.take(3) {
            ask(
                IdentityRef::Id(identity.id),
                NodeRef::Id(self.mirror.root()),
                "Wallets:Read",
                None,
            );
        }
        let windowed = rows
            .assignments
            .iter()
            .filter(|a| a.effective_from.is_some() || a.effective_to.is_some());
        for a in windowed.take(20) {
            let role = rows
                .roles
                .iter()
                .find(|r| r.id == a.role_id)
                .expect("a role");
            let held = self
                .permissions
                .iter()
                .find(|p| role.permissions.iter().any(|h| covers(h.as_str(), p)));
            let permission = held.unwrap_or(&self.permissions[0]);
            for t in [a.effective_from, a.effective_to].into_iter().flatten() {
                for at in [t.0 - 1, t.0, t.0 + 1] {
                    ask(
                        IdentityRef::Id(a.identity_id),
                        NodeRef::Id(a.node_id),
                        permission,
                        Some(at),
                    );
                }
            }
        }
        edges
    }

    /// Mostly an ACTIVE identity's assignment (the others are denied whatever
    /// they hold) and a permission its role covers (sometimes any permission).
    pub fn aim(&self, rng: &mut Rng) -> Option<(Assignment, String)> {
        let rows = &self.mirror.rows;
        let active: Vec<&Assignment> = rows
            .assignments
            .iter()
            .filter(|a| {
                rows.identity(&IdentityRef::Id(a.identity_id))
                    .is_some_and(|i| i.status == IdentityStatus::Active)
            })
            .collect();
        if rows.assignments.is_empty() {
            return None;
        }
        let a = if active.is_empty() || rng.chance(20) {
            rng.pick(&rows.assignments)
        } else {
            *rng.pick(&active)
        };
        let role = rows.roles.iter().find(|r| r.id == a.role_id);
        let held: Vec<&String> = self
            .permissions
            .iter()
            .filter(|p| role.is_some_and(|r| r.permissions.iter().any(|h| covers(h.as_str(), p))))
            .collect();
        let permission = if held.is_empty() || rng.chance(30) {
            rng.pick(&self.permissions).clone()
        } else {
            rng.pick(&held).to_string()
        };
        Some((a.clone(), permission))
    }

    /// A question aimed at a grant half of the time (see [`Asker::aim`]): a
    /// node below the assignment, at one of its boundaries or now; otherwise
    /// anything at all.
    pub fn question(&self, rng: &mut Rng) -> Question {
        if rng.chance(50)
            && let Some((a, permission)) = self.aim(rng)
        {
            let below = self.tree.subtree(a.node_id);
            let id = *rng.pick(&below);
            let node = self.refer_to_node(rng, id);
            let (identity, who) = self.refer_to(rng, a.identity_id);
            let boundaries: Vec<i64> = [a.effective_from, a.effective_to]
                .into_iter()
                .flatten()
                .flat_map(|t| [t.0, t.0 - 1])
                .collect();
            let at = if boundaries.is_empty() || rng.chance(30) {
                None
            } else {
                Some(*rng.pick(&boundaries))
            };
            return Question {
                identity,
                who,
                permission,
                node,
                at,
            };
        }
        let (identity, who) = self.identity(rng);
        Question {
            identity,
            who,
            permission: rng.pick(&self.permissions).clone(),
            node: self.node(rng),
            at: self.instant(rng),
        }
    }
}

/// A question naming `identity` and `node` by id.
pub fn question(
    identity: IdentityId,
    permission: String,
    node: NodeId,
    at: Option<i64>,
) -> Question {
    let who = IdentityRef::Id(identity);
    Question {
        identity: pb_identity(&who).expect("a reference"),
        who,
        permission,
        node: NodeRef::Id(node),
        at,
    }
}

/// A question about `a`'s identity at `node`, for a permission its role may hold, at its start.
pub fn about(mirror: &Mirror, rng: &mut Rng, a: &Assignment, node: NodeId) -> Question {
    let role = mirror.rows.roles.iter().find(|r| r.id == a.role_id);
    let exact: Vec<String> = role
        .into_iter()
        .flat_map(|r| r.permissions.iter())
        .map(|p| p.as_str().to_owned())
        .filter(|p| !p.contains('*'))
        .collect();
    let permission = if exact.is_empty() {
        rng.pick(&super::generate::permissions()).clone()
    } else {
        rng.pick(&exact).clone()
    };
    question(
        a.identity_id,
        permission,
        node,
        a.effective_from.map(|t| t.0),
    )
}
