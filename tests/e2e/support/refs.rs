//! References to objects (`RoleRef`, `NodeRef`, `IdentityRef`) and instants, as requests carry them.

use rbacd::proto::v1 as pb;

pub fn role_by_name(name: &str) -> Option<pb::RoleRef> {
    Some(pb::RoleRef {
        r#ref: Some(pb::role_ref::Ref::Name(name.into())),
    })
}

pub fn role_by_id(id: &str) -> Option<pb::RoleRef> {
    Some(pb::RoleRef {
        r#ref: Some(pb::role_ref::Ref::Id(id.into())),
    })
}

pub fn node_by_key(key: &str) -> Option<pb::NodeRef> {
    Some(pb::NodeRef {
        r#ref: Some(pb::node_ref::Ref::Key(key.into())),
    })
}

pub fn node_by_id(id: &str) -> Option<pb::NodeRef> {
    Some(pb::NodeRef {
        r#ref: Some(pb::node_ref::Ref::Id(id.into())),
    })
}

pub fn identity_by_id(id: &str) -> Option<pb::IdentityRef> {
    Some(pb::IdentityRef {
        r#ref: Some(pb::identity_ref::Ref::Id(id.into())),
    })
}

pub fn identity_by_email(email: &str) -> Option<pb::IdentityRef> {
    Some(pb::IdentityRef {
        r#ref: Some(pb::identity_ref::Ref::Email(email.into())),
    })
}

pub fn identity_by_external_id(external_id: &str) -> Option<pb::IdentityRef> {
    Some(pb::IdentityRef {
        r#ref: Some(pb::identity_ref::Ref::ExternalId(external_id.into())),
    })
}

/// Now plus `seconds` (negative for the past), as a proto timestamp.
pub fn from_now(seconds: i64) -> Option<prost_types::Timestamp> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970");
    Some(prost_types::Timestamp {
        seconds: now.as_secs() as i64 + seconds,
        nanos: 0,
    })
}

/// A fixed instant, `seconds` after the epoch, with `micros` microseconds.
pub fn at(seconds: i64, micros: i32) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp {
        seconds,
        nanos: micros * 1000,
    })
}

/// Microseconds since the epoch of a proto timestamp (which must be set).
#[track_caller]
pub fn micros(t: &Option<prost_types::Timestamp>) -> i64 {
    let t = t.as_ref().expect("a timestamp");
    t.seconds * 1_000_000 + i64::from(t.nanos / 1000)
}

/// Whether `text` is a UUID.
pub fn is_uuid(text: &str) -> bool {
    uuid::Uuid::try_parse(text).is_ok()
}
