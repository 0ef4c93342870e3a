//! A check as asked: parsed from its request, shared by Check, BatchCheck and
//! CheckStream and by the rendering of their answers.
//!
//! The request's texts move into the query once checked (a check is parsed for
//! every item of every stream): no text is copied between decoding and the engine.

use crate::api::{parse, parse::Violations};
use crate::domain::{
    Email, ExternalId, IdentityRef, NodeKey, NodeRef, Permission, Result, Timestamp, paging,
};
use crate::proto::v1 as pb;

/// A parsed check.
#[derive(Clone, Debug)]
pub(super) struct CheckQuery {
    pub identity: IdentityRef,
    pub permission: Permission,
    pub node: NodeRef,
    pub at: Option<Timestamp>,
    pub min_revision: u64,
}

/// Checks a request without consuming it.
pub(super) fn parse_check(req: &pb::CheckRequest) -> Result<CheckQuery> {
    take_check(&mut req.clone())
}

/// Parses a check, taking its texts out of `req`; `correlation_id` is left in place.
pub(super) fn take_check(req: &mut pb::CheckRequest) -> Result<CheckQuery> {
    let mut v = Violations::default();
    let identity = v.check("identity", identity_ref(req.identity.take()));
    let permission = std::mem::take(&mut req.permission);
    let permission = v.check("permission", Permission::try_from(permission));
    let node = v.check("node", node_ref(req.node.take()));
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

/// [`parse::identity_ref`] on an owned reference, keeping its text.
fn identity_ref(r: Option<pb::IdentityRef>) -> std::result::Result<IdentityRef, String> {
    use pb::identity_ref::Ref;
    match r.and_then(|r| r.r#ref) {
        Some(Ref::Id(id)) => Ok(IdentityRef::Id(parse::uuid(&id)?.into())),
        Some(Ref::ExternalId(e)) => ExternalId::try_from(e).map(IdentityRef::ExternalId),
        Some(Ref::Email(e)) => Email::try_from(e).map(IdentityRef::Email),
        None => parse::identity_ref(None),
    }
}

/// [`parse::node_ref`] on an owned reference, keeping its text.
fn node_ref(r: Option<pb::NodeRef>) -> std::result::Result<NodeRef, String> {
    use pb::node_ref::Ref;
    match r.and_then(|r| r.r#ref) {
        Some(Ref::Id(id)) => Ok(NodeRef::Id(parse::uuid(&id)?.into())),
        Some(Ref::Key(k)) => NodeKey::try_from(k).map(NodeRef::Key),
        None => parse::node_ref(None),
    }
}
