//! What `rbacd apply` would change: the difference between the environment as
//! it is and the document, as steps in the order they can run.

use std::collections::{HashMap, HashSet};
use std::fmt;

use super::document::{AssignmentDoc, Document, IdentityDoc, NodeDoc, RoleDoc, match_key};
use crate::domain::{ADMINISTRATOR_ROLE, ROOT_NODE_KEY, fold};

/// One change, in terms of the document.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    CreateRole(RoleDoc),
    UpdateRole(RoleDoc),
    CreateIdentity(IdentityDoc),
    UpdateIdentity {
        current: IdentityDoc,
        desired: IdentityDoc,
    },
    CreateNode(NodeDoc),
    MoveNode(NodeDoc),
    /// A window change of the assignment with this id, which it keeps.
    UpdateAssignment {
        id: String,
        desired: AssignmentDoc,
    },
    DeleteAssignment(AssignmentDoc),
    CreateAssignment(AssignmentDoc),
    DeleteNode(String),
    DeleteIdentity(IdentityDoc),
    DeleteRole(String),
}

/// The steps, and what the plan cannot do.
#[derive(Debug, Default)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// Differences no RPC changes, said to the user.
    pub notes: Vec<String>,
    /// Objects not in the document, left alone without `--prune`.
    pub unpruned: usize,
}

/// The plan that makes `current` look like `desired`; deletes only with `prune`.
pub fn plan(current: &Document, desired: &Document, prune: bool) -> Plan {
    let desired = &with_builtin_handle(current, desired);
    let mut plan = Plan::default();
    let mut deletes = Vec::new();

    let have: HashMap<String, &RoleDoc> =
        current.roles.iter().map(|r| (fold(&r.name), r)).collect();
    let want: HashSet<String> = desired.roles.iter().map(|r| fold(&r.name)).collect();
    for r in desired
        .roles
        .iter()
        .filter(|r| fold(&r.name) != fold(ADMINISTRATOR_ROLE))
    {
        match have.get(&fold(&r.name)) {
            None => plan.steps.push(Step::CreateRole(r.clone())),
            Some(c) if c.description != r.description || c.permissions != r.permissions => {
                plan.steps.push(Step::UpdateRole(r.clone()))
            }
            Some(_) => {}
        }
    }
    for r in &current.roles {
        if !r.builtin && !want.contains(&fold(&r.name)) {
            deletes.push(Step::DeleteRole(r.name.clone()));
        }
    }

    let have: HashMap<String, &IdentityDoc> = current
        .identities
        .iter()
        .map(|x| (x.match_key(), x))
        .collect();
    let want: HashSet<String> = desired.identities.iter().map(|x| x.match_key()).collect();
    for x in desired.identities.iter().filter(|x| !x.builtin) {
        match have.get(&x.match_key()) {
            None => plan.steps.push(Step::CreateIdentity(x.clone())),
            Some(c) => {
                if c.kind != x.kind {
                    plan.notes.push(format!(
                        "identity {}: kind {} stays (a kind cannot change)",
                        x.handle(),
                        c.kind
                    ));
                }
                if x.status == "INVITED" && c.status != "INVITED" {
                    plan.notes.push(format!(
                        "identity {}: status {} stays (an identity cannot become INVITED again)",
                        x.handle(),
                        c.status
                    ));
                }
                let status_changes = x.status != c.status && x.status != "INVITED";
                if c.display_name != x.display_name
                    || c.external_id != x.external_id
                    || status_changes
                {
                    plan.steps.push(Step::UpdateIdentity {
                        current: (*c).clone(),
                        desired: x.clone(),
                    });
                }
            }
        }
    }
    for x in &current.identities {
        if !x.builtin && !want.contains(&x.match_key()) {
            deletes.push(Step::DeleteIdentity(x.clone()));
        }
    }

    let have: HashMap<&str, &NodeDoc> = current.nodes.iter().map(|n| (n.key.as_str(), n)).collect();
    let want: HashSet<&str> = desired.nodes.iter().map(|n| n.key.as_str()).collect();
    for n in parents_first(&desired.nodes) {
        match have.get(n.key.as_str()) {
            None => plan.steps.push(Step::CreateNode(n.clone())),
            Some(c) => {
                if c.parent != n.parent {
                    plan.steps.push(Step::MoveNode(n.clone()));
                }
                if c.name != n.name || c.kind != n.kind {
                    plan.notes.push(format!(
                        "node {}: name and kind stay as they are (no RPC changes them)",
                        n.key
                    ));
                }
            }
        }
    }
    let mut doomed: Vec<&NodeDoc> = parents_first(&current.nodes)
        .into_iter()
        .filter(|n| !want.contains(n.key.as_str()))
        .collect();
    doomed.reverse();
    deletes.extend(doomed.into_iter().map(|n| Step::DeleteNode(n.key.clone())));

    let triple = |a: &AssignmentDoc| (match_key(&a.identity), fold(&a.role), a.node.clone());
    let have: HashMap<_, &AssignmentDoc> =
        current.assignments.iter().map(|a| (triple(a), a)).collect();
    let want: HashSet<_> = desired.assignments.iter().map(triple).collect();
    let mut removals = Vec::new();
    for a in &current.assignments {
        if !want.contains(&triple(a)) {
            removals.push(Step::DeleteAssignment(a.clone()));
        }
    }
    let mut creations = Vec::new();
    for a in &desired.assignments {
        match have.get(&triple(a)) {
            None => creations.push(Step::CreateAssignment(a.clone())),
            Some(c) if c.from != a.from || c.to != a.to => {
                plan.steps.push(Step::UpdateAssignment {
                    id: c.id.clone(),
                    desired: a.clone(),
                })
            }
            Some(_) => {}
        }
    }
    let deleted = removals.len() + deletes.len();
    if prune {
        plan.steps.extend(removals);
    }
    plan.steps.extend(creations);
    if prune {
        plan.steps.extend(deletes);
    } else {
        plan.unpruned = deleted;
    }
    plan
}

/// `desired` with its built-in admin account's handle replaced by `current`'s,
/// so that a document from another environment names this one's admin.
fn with_builtin_handle(current: &Document, desired: &Document) -> Document {
    let mut out = desired.clone();
    let here = current.identities.iter().find(|x| x.builtin);
    let there = desired.identities.iter().position(|x| x.builtin);
    if let (Some(here), Some(there)) = (here, there) {
        let old = out.identities[there].match_key();
        out.identities[there] = here.clone();
        for a in &mut out.assignments {
            if match_key(&a.identity) == old {
                a.identity = here.handle();
            }
        }
    }
    out
}

/// Nodes each after its parent (those whose parent is missing come last).
fn parents_first(nodes: &[NodeDoc]) -> Vec<&NodeDoc> {
    let mut children: HashMap<&str, Vec<&NodeDoc>> = HashMap::new();
    for n in nodes {
        children.entry(n.parent.as_str()).or_default().push(n);
    }
    let mut out = Vec::with_capacity(nodes.len());
    let mut stack = vec![ROOT_NODE_KEY];
    while let Some(parent) = stack.pop() {
        for n in children.remove(parent).unwrap_or_default() {
            stack.push(n.key.as_str());
            out.push(n);
        }
    }
    out
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CreateRole(r) => write!(f, "+ role {} [{}]", r.name, r.permissions.join(", ")),
            Self::UpdateRole(r) => write!(f, "~ role {} [{}]", r.name, r.permissions.join(", ")),
            Self::DeleteRole(name) => write!(f, "- role {name}"),
            Self::CreateIdentity(x) => {
                write!(f, "+ identity {} ({}, {})", x.handle(), x.kind, x.status)
            }
            Self::UpdateIdentity { desired, .. } => write!(
                f,
                "~ identity {} ({}, display name `{}`)",
                desired.handle(),
                desired.status,
                desired.display_name
            ),
            Self::DeleteIdentity(x) => write!(f, "- identity {}", x.handle()),
            Self::CreateNode(n) => write!(f, "+ node {} under {}", n.key, n.parent),
            Self::MoveNode(n) => write!(f, "~ node {} moves under {}", n.key, n.parent),
            Self::DeleteNode(key) => write!(f, "- node {key}"),
            Self::CreateAssignment(a) => write!(f, "+ assignment {}", describe(a)),
            Self::UpdateAssignment { desired, .. } => {
                write!(f, "~ assignment {} (new window)", describe(desired))
            }
            Self::DeleteAssignment(a) => write!(f, "- assignment {}", describe(a)),
        }
    }
}

fn describe(a: &AssignmentDoc) -> String {
    let mut text = format!("{} holds {} at {}", a.identity, a.role, a.node);
    if let Some(from) = &a.from {
        text.push_str(&format!(" from {from}"));
    }
    if let Some(to) = &a.to {
        text.push_str(&format!(" until {to}"));
    }
    text
}
