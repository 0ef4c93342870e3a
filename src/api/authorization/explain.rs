//! A decision on the wire: the reason text and the granting assignment.
//!
//! This runs once per check. An [`Explained`] keeps the decision, the query's
//! texts and each id formatted once into a stack buffer; its reason and grant
//! are lists of borrowed parts, written by [`super::wire`] straight into the
//! response's buffer (no `String` per answer) or joined into a
//! [`pb::CheckResponse`] where a message is needed — no `format!`, no `Display`.

use uuid::Uuid;

use crate::domain::{IdentityRef, NodeRef};
use crate::engine::{Decision, Reason};
use crate::proto::v1 as pb;

use super::query::CheckQuery;

/// The hyphenated lowercase form of a UUID, on the stack.
#[derive(Clone, Copy)]
pub(super) struct IdText([u8; uuid::fmt::Hyphenated::LENGTH]);

impl IdText {
    const EMPTY: Self = Self([b'0'; uuid::fmt::Hyphenated::LENGTH]);

    fn new(id: Uuid) -> Self {
        let mut buf = [0; uuid::fmt::Hyphenated::LENGTH];
        id.hyphenated().encode_lower(&mut buf);
        Self(buf)
    }

    fn as_str(&self) -> &str {
        // `encode_lower` writes ASCII hex digits and hyphens only.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// Most parts a reason is made of.
const MAX_PARTS: usize = 15;

/// A reason as borrowed parts, in order; `len` of them are used.
pub(super) struct Parts<'a> {
    parts: [&'a str; MAX_PARTS],
    len: usize,
}

impl<'a> Parts<'a> {
    fn of<const N: usize>(given: [&'a str; N]) -> Self {
        let mut parts = [""; MAX_PARTS];
        parts[..N].copy_from_slice(&given);
        Self { parts, len: N }
    }

    pub(super) fn as_slice(&self) -> &[&'a str] {
        &self.parts[..self.len]
    }

    /// Bytes of the joined text.
    pub(super) fn text_len(&self) -> usize {
        self.as_slice().iter().map(|p| p.len()).sum()
    }

    fn joined(&self) -> String {
        let mut out = String::with_capacity(self.text_len());
        for part in self.as_slice() {
            out.push_str(part);
        }
        out
    }
}

/// A decided check, with everything its answer names.
pub(super) struct Explained {
    pub(super) correlation_id: String,
    pub(super) query: CheckQuery,
    pub(super) decision: Decision,
    /// Allowed: the assignment's, role's and node's ids. Denied: the asked
    /// identity's and node's ids when they were named by id.
    ids: [IdText; 3],
}

impl Explained {
    pub(super) fn new(correlation_id: String, query: CheckQuery, decision: Decision) -> Self {
        let mut ids = [IdText::EMPTY; 3];
        match &decision.granted_by {
            Some(g) => {
                ids = [
                    IdText::new(g.assignment_id.0),
                    IdText::new(g.role_id.0),
                    IdText::new(g.node_id.0),
                ];
            }
            None => {
                if let IdentityRef::Id(i) = &query.identity {
                    ids[0] = IdText::new(i.0);
                }
                if let NodeRef::Id(n) = &query.node {
                    ids[1] = IdText::new(n.0);
                }
            }
        }
        Self {
            correlation_id,
            query,
            decision,
            ids,
        }
    }

    /// The reason text, as parts.
    pub(super) fn reason(&self) -> Parts<'_> {
        let query = &self.query;
        let permission = query.permission.as_str();
        if let Some(g) = &self.decision.granted_by {
            return Parts::of([
                "GRANTED: assignment ",
                self.ids[0].as_str(),
                " gives role `",
                &g.role_name,
                "` (",
                self.ids[1].as_str(),
                ") at node `",
                &g.node_key,
                "` (",
                self.ids[2].as_str(),
                "), whose `",
                &g.pattern,
                "` matches `",
                permission,
                "`",
            ]);
        }
        let [i0, i1, i2] = described_identity(&query.identity, &self.ids[0]);
        let [n0, n1, n2] = described_node(&query.node, &self.ids[1]);
        match self.decision.reason {
            Reason::NoMatchingAssignment => Parts::of([
                "NO_MATCHING_ASSIGNMENT: no assignment of the ",
                i0,
                i1,
                i2,
                " on the ",
                n0,
                n1,
                n2,
                " or its ancestors grants `",
                permission,
                "` at that time",
            ]),
            Reason::IdentityNotActive => Parts::of([
                "IDENTITY_NOT_ACTIVE: the ",
                i0,
                i1,
                i2,
                " is invited or disabled, and only ACTIVE identities are allowed anything",
            ]),
            Reason::UnknownIdentity => {
                Parts::of(["UNKNOWN_IDENTITY: no ", i0, i1, i2, " in this environment"])
            }
            // A grant without its assignment is not a decision the engine makes.
            Reason::UnknownNode | Reason::Granted => {
                Parts::of(["UNKNOWN_NODE: no ", n0, n1, n2, " in this environment"])
            }
        }
    }

    /// The `Grant`'s six fields in tag order, when allowed.
    pub(super) fn grant(&self) -> Option<[&str; 6]> {
        let g = self.decision.granted_by.as_ref()?;
        Some([
            self.ids[0].as_str(),
            self.ids[1].as_str(),
            &g.role_name,
            self.ids[2].as_str(),
            &g.node_key,
            &g.pattern,
        ])
    }

    /// The decision code on the wire.
    pub(super) fn reason_code(&self) -> i32 {
        pb::DecisionReason::from(self.decision.reason).into()
    }

    /// The answer as a message.
    pub(super) fn into_message(self) -> pb::CheckResponse {
        let reason = self.reason().joined();
        let granted_by = self.grant().map(|[a, r, rn, n, nk, p]| pb::Grant {
            assignment_id: a.to_owned(),
            role_id: r.to_owned(),
            role_name: rn.to_owned(),
            node_id: n.to_owned(),
            node_key: nk.to_owned(),
            matched_permission: p.to_owned(),
        });
        let reason_code = self.reason_code();
        pb::CheckResponse {
            correlation_id: self.correlation_id,
            allowed: self.decision.allowed,
            revision: self.decision.revision,
            reason,
            error: None,
            reason_code,
            granted_by,
        }
    }
}

/// The answer to a decided check, as a message.
#[cfg(test)]
fn render(correlation_id: String, query: CheckQuery, decision: Decision) -> pb::CheckResponse {
    Explained::new(correlation_id, query, decision).into_message()
}

/// What `IdentityRef`'s `Display` writes, as parts; `id` is its formatted UUID.
fn described_identity<'a>(r: &'a IdentityRef, id: &'a IdText) -> [&'a str; 3] {
    match r {
        IdentityRef::Id(_) => ["identity with id ", id.as_str(), ""],
        IdentityRef::ExternalId(e) => ["identity with external id `", e.as_str(), "`"],
        IdentityRef::Email(e) => ["identity with email `", e.as_str(), "`"],
    }
}

/// What `NodeRef`'s `Display` writes, as parts; `id` is its formatted UUID.
fn described_node<'a>(r: &'a NodeRef, id: &'a IdText) -> [&'a str; 3] {
    match r {
        NodeRef::Id(_) => ["node with id ", id.as_str(), ""],
        NodeRef::Key(k) => ["node with key `", k.as_str(), "`"],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        AssignmentId, Email, ExternalId, IdentityId, NodeId, NodeKey, Permission, RoleId,
    };

    fn query(identity: IdentityRef, node: NodeRef) -> CheckQuery {
        CheckQuery {
            identity,
            permission: Permission::parse("Docs:Read").unwrap(),
            node,
            at: None,
            min_revision: 0,
        }
    }

    fn queries() -> Vec<CheckQuery> {
        let identities = [
            IdentityRef::Id(IdentityId::generate()),
            IdentityRef::ExternalId(ExternalId::parse("auth0|123").unwrap()),
            IdentityRef::Email(Email::parse("Jane@Example.com").unwrap()),
        ];
        let nodes = [
            NodeRef::Id(NodeId::generate()),
            NodeRef::Key(NodeKey::parse("wallet:42").unwrap()),
        ];
        let mut all = Vec::new();
        for i in &identities {
            for n in &nodes {
                all.push(query(i.clone(), n.clone()));
            }
        }
        all
    }

    /// The text as it was written with `format!` and the refs' `Display`.
    fn reference(query: &CheckQuery, decision: &Decision) -> String {
        match (&decision.granted_by, decision.reason) {
            (Some(g), _) => format!(
                "GRANTED: assignment {} gives role `{}` ({}) at node `{}` ({}), whose `{}` matches `{}`",
                g.assignment_id,
                g.role_name,
                g.role_id,
                g.node_key,
                g.node_id,
                g.pattern,
                query.permission
            ),
            (None, Reason::NoMatchingAssignment) => format!(
                "NO_MATCHING_ASSIGNMENT: no assignment of the {} on the {} or its ancestors grants `{}` at that time",
                query.identity, query.node, query.permission
            ),
            (None, Reason::IdentityNotActive) => format!(
                "IDENTITY_NOT_ACTIVE: the {} is invited or disabled, and only ACTIVE identities are allowed anything",
                query.identity
            ),
            (None, Reason::UnknownIdentity) => {
                format!(
                    "UNKNOWN_IDENTITY: no {} in this environment",
                    query.identity
                )
            }
            (None, Reason::UnknownNode | Reason::Granted) => {
                format!("UNKNOWN_NODE: no {} in this environment", query.node)
            }
        }
    }

    #[test]
    fn denials_read_as_their_display_forms() {
        for q in queries() {
            for reason in [
                Reason::NoMatchingAssignment,
                Reason::IdentityNotActive,
                Reason::UnknownIdentity,
                Reason::UnknownNode,
            ] {
                let decision = Decision {
                    allowed: false,
                    revision: 7,
                    reason,
                    granted_by: None,
                };
                let want = reference(&q, &decision);
                let got = render("c".into(), q.clone(), decision);
                assert_eq!(got.reason, want);
                assert_eq!(got.reason.capacity(), got.reason.len());
                assert_eq!(got.reason_code(), pb::DecisionReason::from(reason));
                assert!(got.granted_by.is_none() && !got.allowed && got.revision == 7);
                assert_eq!(got.correlation_id, "c");
            }
        }
    }

    #[test]
    fn a_grant_reads_as_before_and_carries_every_id() {
        // Names short enough to sit inline in a CompactString, and long enough not to.
        for (role, key, pattern) in [
            ("Reader", "wallet:42", "Docs:*"),
            (
                "A role with a name longer than twenty-four bytes",
                "a-node-key-longer-than-twenty-four-bytes",
                "Service3:Resource7:Action4:*",
            ),
        ] {
            let by = GrantedBy {
                assignment_id: AssignmentId::generate(),
                role_id: RoleId::generate(),
                role_name: role.into(),
                node_id: NodeId::generate(),
                node_key: key.into(),
                pattern: pattern.into(),
            };
            let decision = Decision {
                allowed: true,
                revision: 9,
                reason: Reason::Granted,
                granted_by: Some(by.clone()),
            };
            let q = &queries()[0];
            let want = reference(q, &decision);
            let got = render("c".into(), q.clone(), decision);
            assert_eq!(got.reason, want);
            assert!(got.allowed && got.revision == 9);
            assert_eq!(got.reason_code(), pb::DecisionReason::Granted);
            assert_eq!(
                got.granted_by,
                Some(pb::Grant {
                    assignment_id: by.assignment_id.to_string(),
                    role_id: by.role_id.to_string(),
                    role_name: role.into(),
                    node_id: by.node_id.to_string(),
                    node_key: key.into(),
                    matched_permission: pattern.into(),
                })
            );
        }
    }
}
