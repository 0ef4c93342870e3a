//! One question put to an engine and to the reference, answers compared.

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use rbacd::domain::{IdentityRef, NodeRef, Permission, Timestamp};
use rbacd::engine::{Denial, Engine, IndexCell, LookupError, Reason};

use super::decision_rule::Rows;

pub struct Ask<'a> {
    pub identity: IdentityRef,
    pub permission: Permission,
    pub node: NodeRef,
    pub at: Timestamp,
    pub rows: &'a Rows,
    pub env: rbacd::domain::EnvironmentId,
    pub page: usize,
}

impl Ask<'_> {
    pub fn check<C: IndexCell>(&self, engine: &Engine<C>) -> Result<(), TestCaseError> {
        let got = engine.check(
            self.env,
            &self.identity,
            &self.permission,
            &self.node,
            self.at,
        );
        let want = self
            .rows
            .check(&self.identity, &self.permission, &self.node, self.at);
        let ctx = format!(
            "check {:?} {} {:?} at {}",
            self.identity, self.permission, self.node, self.at.0
        );
        prop_assert_eq!(got.reason, want.reason, "{}", ctx);
        prop_assert_eq!(got.allowed, want.reason == Reason::Granted, "{}", ctx);
        let got_by = got
            .granted_by
            .as_ref()
            .map(|g| (g.assignment_id, g.role_id, g.node_id, g.pattern.to_string()));
        prop_assert_eq!(&got_by, &want.granted_by, "{}", ctx);
        if let Some(by) = &got.granted_by {
            let role = self.rows.roles.iter().find(|r| r.id == by.role_id).unwrap();
            let node = self.rows.nodes.iter().find(|n| n.id == by.node_id).unwrap();
            prop_assert_eq!(
                (by.role_name.as_str(), by.node_key.as_str()),
                (role.name.as_str(), node.key.as_str())
            );
        }
        Ok(())
    }

    pub fn list<C: IndexCell>(&self, engine: &Engine<C>) -> Result<(), TestCaseError> {
        let got = engine.list_permissions(self.env, &self.identity, &self.node, self.at);
        let want = self
            .rows
            .list_permissions(&self.identity, &self.node, self.at);
        prop_assert_eq!(
            got.ok(),
            want,
            "list {:?} {:?} at {}",
            self.identity,
            self.node,
            self.at.0
        );
        Ok(())
    }

    fn denial(&self, identity_needed: bool) -> Option<Denial> {
        if identity_needed && self.rows.identity(&self.identity).is_none() {
            Some(Denial::UnknownIdentity)
        } else if self.rows.node(&self.node).is_none() {
            Some(Denial::UnknownNode)
        } else {
            None
        }
    }

    pub fn lookup_nodes<C: IndexCell>(&self, engine: &Engine<C>) -> Result<(), TestCaseError> {
        let (mut seen, mut after) = (Vec::new(), None);
        let got = loop {
            match engine.lookup_nodes(
                self.env,
                &self.identity,
                &self.permission,
                &self.node,
                self.at,
                after,
                self.page,
            ) {
                Err(denial) => break Err(denial),
                Ok(page) => {
                    prop_assert!(
                        page.items.len() <= self.page
                            && (page.next_after.is_none() || page.items.len() == self.page)
                    );
                    for item in &page.items {
                        let node = self.rows.nodes.iter().find(|n| n.id == item.id).unwrap();
                        prop_assert_eq!(&node.key, &item.key);
                    }
                    seen.extend(page.items.iter().map(|n| n.id));
                    match page.next_after {
                        Some(next) => after = Some(next),
                        None => break Ok(seen),
                    }
                }
            }
        };
        let want = match self.denial(true) {
            Some(denial) => Err(LookupError::Unknown(denial)),
            None => {
                let root = self.rows.node(&self.node).unwrap();
                Ok(self
                    .rows
                    .lookup_nodes(&self.identity, &self.permission, root, self.at))
            }
        };
        prop_assert_eq!(
            got,
            want,
            "lookup nodes {:?} {} under {:?} at {}",
            self.identity,
            self.permission,
            self.node,
            self.at.0
        );
        Ok(())
    }

    pub fn lookup_identities<C: IndexCell>(&self, engine: &Engine<C>) -> Result<(), TestCaseError> {
        let (mut seen, mut after) = (Vec::new(), None);
        let got = loop {
            match engine.lookup_identities(
                self.env,
                &self.permission,
                &self.node,
                self.at,
                after,
                self.page,
            ) {
                Err(denial) => break Err(denial),
                Ok(page) => {
                    prop_assert!(page.items.len() <= self.page);
                    seen.extend(
                        page.items
                            .iter()
                            .map(|i| (i.id, i.email.clone(), i.external_id.clone())),
                    );
                    match page.next_after {
                        Some(next) => after = Some(next),
                        None => break Ok(seen),
                    }
                }
            }
        };
        let want = match self.denial(false) {
            Some(denial) => Err(denial),
            None => {
                let node = self.rows.node(&self.node).unwrap();
                let found = self.rows.lookup_identities(&self.permission, node, self.at);
                Ok(found
                    .into_iter()
                    .map(|i| (i.id, i.email.clone(), i.external_id.clone()))
                    .collect())
            }
        };
        prop_assert_eq!(
            got,
            want,
            "lookup identities {} at {:?} at {}",
            self.permission,
            self.node,
            self.at.0
        );
        Ok(())
    }
}
