//! rbacd's data as casbin policies, one enforcer per identity.
//!
//! casbin's enforcer evaluates its matcher once per policy line, every line, on
//! every call (there is no index), so the number of lines it holds is its cost.
//! Each identity's enforcer holds only that identity's lines: one per
//! (assignment, pattern of its role), `p = node, from, to, pat`. The request
//! carries the subject's attributes (ABAC style: `r.sub.status`), the asked node
//! with its ancestors (`r.chain`, walked by the harness on every call, as rbacd
//! walks its parent array), the time and the permission:
//!
//! `p.node in r.chain && keyMatch(r.act, p.pat) && p.from <= r.now && r.now < p.to
//!  && r.sub.status == "ACTIVE"`
//!
//! `keyMatch` is casbin's trailing-`*` matcher. Times are 20-digit strings that
//! order as the instants do (the matcher's integers are 32-bit); an open start
//! is `""`, an open end `"~"`.

use std::collections::{HashMap, HashSet};

use casbin::prelude::*;
use casbin::rhai::{Array, Dynamic, ImmutableString, Map};
use rbacd::domain::{EnvironmentState, IdentityStatus, Permission, Timestamp};

use crate::resolve::{Resolver, positions};

const MODEL: &str = r#"
[request_definition]
r = sub, chain, now, act

[policy_definition]
p = node, from, to, pat

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = p.node in r.chain && keyMatch(r.act, p.pat) && p.from <= r.now && r.now < p.to && r.sub.status == "ACTIVE"
"#;

/// An instant as text that sorts as the instants do.
pub fn stamp(at: Timestamp) -> String {
    format!("{:020}", (at.0 as u64) ^ (1 << 63))
}

/// The casbin side: an enforcer per identity.
pub struct Casbin {
    enforcers: Vec<Enforcer>,
    subjects: Vec<Dynamic>,
    nodes: Vec<ImmutableString>,
    lines: usize,
}

impl Casbin {
    pub async fn new(state: &EnvironmentState) -> Self {
        let model = DefaultModel::from_str(MODEL).await.expect("casbin model");
        let nodes: Vec<ImmutableString> = state
            .nodes
            .iter()
            .map(|n| n.id.0.to_string().into())
            .collect();
        let identity_index = positions(&state.identities, |x| x.id);
        let roles: HashMap<_, _> = state.roles.iter().map(|r| (r.id, r)).collect();
        let mut rules: Vec<Vec<Vec<String>>> = vec![Vec::new(); state.identities.len()];
        for a in &state.assignments {
            let from = a.effective_from.map_or(String::new(), stamp);
            let to = a.effective_to.map_or("~".to_owned(), stamp);
            for pattern in &roles[&a.role_id].permissions {
                rules[identity_index[&a.identity_id]].push(vec![
                    a.node_id.0.to_string(),
                    from.clone(),
                    to.clone(),
                    pattern.as_str().to_owned(),
                ]);
            }
        }
        let mut enforcers = Vec::with_capacity(rules.len());
        let mut lines = 0;
        for mut own in rules {
            // Two roles at one node may share a pattern: casbin refuses duplicate lines.
            let mut seen = HashSet::new();
            own.retain(|rule| seen.insert(rule.clone()));
            lines += own.len();
            let mut enforcer = Enforcer::new(model.clone(), MemoryAdapter::default())
                .await
                .expect("casbin enforcer");
            if !own.is_empty() {
                enforcer.add_policies(own).await.expect("casbin policies");
            }
            enforcers.push(enforcer);
        }
        let subjects = state
            .identities
            .iter()
            .map(|identity| {
                let status = match identity.status {
                    IdentityStatus::Active => "ACTIVE",
                    IdentityStatus::Invited => "INVITED",
                    IdentityStatus::Disabled => "DISABLED",
                };
                let mut subject = Map::new();
                subject.insert(
                    "status".into(),
                    Dynamic::from(ImmutableString::from(status)),
                );
                Dynamic::from_map(subject)
            })
            .collect();
        Self {
            enforcers,
            subjects,
            nodes,
            lines,
        }
    }

    /// Builds the request (the chain walked now) and asks the identity's enforcer.
    pub fn check(
        &self,
        resolver: &Resolver,
        identity: usize,
        node: usize,
        permission: &Permission,
        at: Timestamp,
    ) -> bool {
        let chain: Array = resolver
            .chain(node)
            .map(|n| Dynamic::from(self.nodes[n].clone()))
            .collect();
        let request = vec![
            self.subjects[identity].clone(),
            Dynamic::from_array(chain),
            Dynamic::from(ImmutableString::from(stamp(at))),
            Dynamic::from(ImmutableString::from(permission.as_str())),
        ];
        self.enforcers[identity]
            .enforce(request)
            .unwrap_or_else(|e| panic!("casbin: {e}"))
    }

    /// Policy lines over all enforcers.
    pub fn lines(&self) -> usize {
        self.lines
    }
}
