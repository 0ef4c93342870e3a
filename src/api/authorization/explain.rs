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

    fn bytes(&self) -> &[u8] {
        &self.0
    }
}

/// Most parts a reason is made of.
const MAX_PARTS: usize = 15;

/// A reason as borrowed parts of UTF-8 text, in order; `len` of them are used.
/// Bytes rather than `str`, so that ids formatted on the stack are used as they
/// are, without checking them again as UTF-8 on every use.
pub(super) struct Parts<'a> {
    parts: [&'a [u8]; MAX_PARTS],
    len: usize,
}

impl<'a> Parts<'a> {
    fn of<const N: usize>(given: [&'a [u8]; N]) -> Self {
        let empty: &[u8] = b"";
        let mut parts = [empty; MAX_PARTS];
        parts[..N].copy_from_slice(&given);
        Self { parts, len: N }
    }

    pub(super) fn as_slice(&self) -> &[&'a [u8]] {
        &self.parts[..self.len]
    }

    /// Bytes of the joined text.
    pub(super) fn text_len(&self) -> usize {
        self.as_slice().iter().map(|p| p.len()).sum()
    }

    fn joined(&self) -> String {
        let mut out = Vec::with_capacity(self.text_len());
        for part in self.as_slice() {
            out.extend_from_slice(part);
        }
        text(out)
    }
}

/// Parts are `str`s and ASCII ids, so their concatenation is UTF-8.
fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// A decided check, with everything its answer names.
pub(super) struct Explained {
    pub(super) correlation_id: String,
    pub(super) query: CheckQuery,
    pub(super) decision: Decision,
    /// Allowed: the assignment's, role's and node's ids. Denied: the asked
    /// identity's and node's ids when they were named by id.
    ids: [IdText; 3],
    /// Bytes of the reason text and of the `Grant`'s encoding, counted once.
    pub(super) reason_len: usize,
    pub(super) grant_len: usize,
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
        let mut explained = Self {
            correlation_id,
            query,
            decision,
            ids,
            reason_len: 0,
            grant_len: 0,
        };
        explained.reason_len = explained.reason().text_len();
        explained.grant_len = explained
            .grant()
            .map_or(0, |g| super::wire::grant_body_len(&g));
        explained
    }

    /// The reason text, as parts.
    pub(super) fn reason(&self) -> Parts<'_> {
        let query = &self.query;
        let permission = query.permission.as_str().as_bytes();
        if let Some(g) = &self.decision.granted_by {
            return Parts::of([
                b"GRANTED: assignment ",
                self.ids[0].bytes(),
                b" gives role `",
                g.role_name.as_bytes(),
                b"` (",
                self.ids[1].bytes(),
                b") at node `",
                g.node_key.as_bytes(),
                b"` (",
                self.ids[2].bytes(),
                b"), whose `",
                g.pattern.as_bytes(),
                b"` matches `",
                permission,
                b"`",
            ]);
        }
        let [i0, i1, i2] = described_identity(&query.identity, &self.ids[0]);
        let [n0, n1, n2] = described_node(&query.node, &self.ids[1]);
        match self.decision.reason {
            Reason::NoMatchingAssignment => Parts::of([
                b"NO_MATCHING_ASSIGNMENT: no assignment of the ",
                i0,
                i1,
                i2,
                b" on the ",
                n0,
                n1,
                n2,
                b" or its ancestors grants `",
                permission,
                b"` at that time",
            ]),
            Reason::IdentityNotActive => Parts::of([
                b"IDENTITY_NOT_ACTIVE: the ",
                i0,
                i1,
                i2,
                b" is invited or disabled, and only ACTIVE identities are allowed anything",
            ]),
            Reason::UnknownIdentity => Parts::of([
                b"UNKNOWN_IDENTITY: no ",
                i0,
                i1,
                i2,
                b" in this environment",
            ]),
            // A grant without its assignment is not a decision the engine makes.
            Reason::UnknownNode | Reason::Granted => {
                Parts::of([b"UNKNOWN_NODE: no ", n0, n1, n2, b" in this environment"])
            }
        }
    }

    /// The `Grant`'s six fields in tag order, when allowed.
    pub(super) fn grant(&self) -> Option<[&[u8]; 6]> {
        let g = self.decision.granted_by.as_ref()?;
        Some([
            self.ids[0].bytes(),
            self.ids[1].bytes(),
            g.role_name.as_bytes(),
            self.ids[2].bytes(),
            g.node_key.as_bytes(),
            g.pattern.as_bytes(),
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
            assignment_id: text(a.to_vec()),
            role_id: text(r.to_vec()),
            role_name: text(rn.to_vec()),
            node_id: text(n.to_vec()),
            node_key: text(nk.to_vec()),
            matched_permission: text(p.to_vec()),
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
fn described_identity<'a>(r: &'a IdentityRef, id: &'a IdText) -> [&'a [u8]; 3] {
    match r {
        IdentityRef::Id(_) => [b"identity with id ", id.bytes(), b""],
        IdentityRef::ExternalId(e) => [b"identity with external id `", e.as_str().as_bytes(), b"`"],
        IdentityRef::Email(e) => [b"identity with email `", e.as_str().as_bytes(), b"`"],
    }
}

/// What `NodeRef`'s `Display` writes, as parts; `id` is its formatted UUID.
fn described_node<'a>(r: &'a NodeRef, id: &'a IdText) -> [&'a [u8]; 3] {
    match r {
        NodeRef::Id(_) => [b"node with id ", id.bytes(), b""],
        NodeRef::Key(k) => [b"node with key `", k.as_str().as_bytes(), b"`"],
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::domain::{
        AssignmentId, Email, ExternalId, IdentityId, NodeId, NodeKey, Permission, RoleId,
    };
    use crate::engine::GrantedBy;

    fn query(identity: IdentityRef, node: NodeRef) -> CheckQuery {
        CheckQuery {
            identity,
            permission: Permission::parse("Docs:Read").unwrap(),
            node,
            at: None,
            min_revision: 0,
        }
    }

    /// Every kind of identity and node reference, crossed.
    pub(in crate::api::authorization) fn queries() -> Vec<CheckQuery> {
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
