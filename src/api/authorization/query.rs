//! A check as asked: parsed from its request, shared by Check, BatchCheck and
//! CheckStream and by the rendering of their answers.

use crate::api::{parse, parse::Violations};
use crate::domain::{IdentityRef, NodeRef, Permission, Result, Timestamp, paging};
use crate::proto::v1 as pb;

/// A parsed check.
pub(super) struct CheckQuery {
    pub identity: IdentityRef,
    pub permission: Permission,
    pub node: NodeRef,
    pub at: Option<Timestamp>,
    pub min_revision: u64,
}

pub(super) fn parse_check(req: &pb::CheckRequest) -> Result<CheckQuery> {
    let mut v = Violations::default();
    let identity = v.check("identity", parse::identity_ref(req.identity.as_ref()));
    let permission = v.check("permission", Permission::parse(&req.permission));
    let node = v.check("node", parse::node_ref(req.node.as_ref()));
    let at = v.check("at", parse::timestamp(req.at.as_ref()));
    let min_revision = v.check("min_revision", paging::revision(req.min_revision));
    let query = (|| {
        Some(CheckQuery {
            identity: identity?,
            permission: permission?,
            node: node?,
            at: at?,
            min_revision: min_revision?,
        })
    })();
    v.finish(query)
}
