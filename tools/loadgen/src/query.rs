//! A generated check query as a gRPC request.

use rbacd::domain::{IdentityRef, NodeRef};
use rbacd::proto::v1 as pb;
use rbacd_dataset::CheckQuery;

/// A check query on the wire.
pub fn request(query: &CheckQuery, correlation_id: String) -> pb::CheckRequest {
    let identity = match &query.identity {
        IdentityRef::Id(id) => pb::identity_ref::Ref::Id(id.to_string()),
        IdentityRef::ExternalId(e) => pb::identity_ref::Ref::ExternalId(e.to_string()),
        IdentityRef::Email(e) => pb::identity_ref::Ref::Email(e.to_string()),
    };
    let node = match &query.node {
        NodeRef::Id(id) => pb::node_ref::Ref::Id(id.to_string()),
        NodeRef::Key(k) => pb::node_ref::Ref::Key(k.to_string()),
    };
    let micros = query.at.micros();
    pb::CheckRequest {
        correlation_id,
        identity: Some(pb::IdentityRef {
            r#ref: Some(identity),
        }),
        permission: query.permission.as_str().to_owned(),
        node: Some(pb::NodeRef { r#ref: Some(node) }),
        at: Some(prost_types::Timestamp {
            seconds: micros.div_euclid(1_000_000),
            nanos: (micros.rem_euclid(1_000_000) * 1000) as i32,
        }),
        min_revision: 0,
    }
}
