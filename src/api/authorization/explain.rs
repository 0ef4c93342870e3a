//! A decision on the wire: the reason text and the granting assignment.
//!
//! This runs once per check, so the text is written straight into one string
//! of the right size, and each id is formatted once into a stack buffer that
//! serves both the reason and the `Grant` — no `format!`, no `Display`.

use uuid::Uuid;

use crate::domain::{IdentityRef, NodeRef};
use crate::engine::{Decision, GrantedBy, Reason};
use crate::proto::v1 as pb;

use super::query::CheckQuery;

/// The hyphenated lowercase form of a UUID, on the stack.
struct IdText([u8; uuid::fmt::Hyphenated::LENGTH]);

impl IdText {
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

/// Builds a string from parts, sized once.
fn concat(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for part in parts {
        out.push_str(part);
    }
    out
}

/// The answer to a decided check.
pub(super) fn render(
    correlation_id: String,
    query: &CheckQuery,
    decision: Decision,
) -> pb::CheckResponse {
    let (reason, granted_by) = match decision.granted_by {
        Some(g) => {
            let (reason, grant) = granted(g, query);
            (reason, Some(grant))
        }
        None => (denied(query, decision.reason), None),
    };
    pb::CheckResponse {
        correlation_id,
        allowed: decision.allowed,
        revision: decision.revision,
        reason,
        error: None,
        reason_code: pb::DecisionReason::from(decision.reason).into(),
        granted_by,
    }
}

/// The reason and the `Grant` of an allowed check; the grant's names move into it.
fn granted(g: GrantedBy, query: &CheckQuery) -> (String, pb::Grant) {
    let (assignment_id, role_id, node_id) = (
        IdText::new(g.assignment_id.0),
        IdText::new(g.role_id.0),
        IdText::new(g.node_id.0),
    );
    let (assignment_id, role_id, node_id) =
        (assignment_id.as_str(), role_id.as_str(), node_id.as_str());
    let reason = concat(&[
        "GRANTED: assignment ",
        assignment_id,
        " gives role `",
        &g.role_name,
        "` (",
        role_id,
        ") at node `",
        &g.node_key,
        "` (",
        node_id,
        "), whose `",
        &g.pattern,
        "` matches `",
        query.permission.as_str(),
        "`",
    ]);
    let grant = pb::Grant {
        assignment_id: assignment_id.to_owned(),
        role_id: role_id.to_owned(),
        // A heap-held CompactString hands its buffer over; an inline one is copied once.
        role_name: g.role_name.into_string(),
        node_id: node_id.to_owned(),
        node_key: g.node_key.into_string(),
        matched_permission: g.pattern.into_string(),
    };
    (reason, grant)
}

/// Why a check was denied, naming what was asked.
fn denied(query: &CheckQuery, reason: Reason) -> String {
    let mut identity_id = None;
    let [i0, i1, i2] = described_identity(&query.identity, &mut identity_id);
    let mut node_id = None;
    let [n0, n1, n2] = described_node(&query.node, &mut node_id);
    match reason {
        Reason::NoMatchingAssignment => concat(&[
            "NO_MATCHING_ASSIGNMENT: no assignment of the ",
            i0,
            i1,
            i2,
            " on the ",
            n0,
            n1,
            n2,
            " or its ancestors grants `",
            query.permission.as_str(),
            "` at that time",
        ]),
        Reason::IdentityNotActive => concat(&[
            "IDENTITY_NOT_ACTIVE: the ",
            i0,
            i1,
            i2,
            " is invited or disabled, and only ACTIVE identities are allowed anything",
        ]),
        Reason::UnknownIdentity => {
            concat(&["UNKNOWN_IDENTITY: no ", i0, i1, i2, " in this environment"])
        }
        // A grant without its assignment is not a decision the engine makes.
        Reason::UnknownNode | Reason::Granted => {
            concat(&["UNKNOWN_NODE: no ", n0, n1, n2, " in this environment"])
        }
    }
}

/// What `IdentityRef`'s `Display` writes, as parts; `id` holds a formatted UUID.
fn described_identity<'a>(r: &'a IdentityRef, id: &'a mut Option<IdText>) -> [&'a str; 3] {
    match r {
        IdentityRef::Id(i) => [
            "identity with id ",
            id.insert(IdText::new(i.0)).as_str(),
            "",
        ],
        IdentityRef::ExternalId(e) => ["identity with external id `", e.as_str(), "`"],
        IdentityRef::Email(e) => ["identity with email `", e.as_str(), "`"],
    }
}

/// What `NodeRef`'s `Display` writes, as parts; `id` holds a formatted UUID.
fn described_node<'a>(r: &'a NodeRef, id: &'a mut Option<IdText>) -> [&'a str; 3] {
    match r {
        NodeRef::Id(i) => ["node with id ", id.insert(IdText::new(i.0)).as_str(), ""],
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
                let got = render("c".into(), &q, decision);
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
            let got = render("c".into(), q, decision);
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
