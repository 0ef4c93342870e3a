//! How the command line names objects and instants, parsed into proto form.
//!
//! An identity is `EMAIL` (contains `@`), an id (a UUID) or `external:ID`;
//! a node is an id (a UUID) or otherwise its key; a role is an id (a UUID)
//! or its name; times are RFC 3339 or a date (`2030-01-01`, midnight UTC).

use chrono::{DateTime, NaiveDate};
use prost_types::Timestamp;
use uuid::Uuid;

use crate::proto::v1::{self as pb, identity_ref, node_ref, role_ref};

/// Prefix of an identity's external id on the command line.
pub const EXTERNAL_PREFIX: &str = "external:";

/// Parses `EMAIL`, a UUID or `external:ID` into an identity reference.
pub fn identity(text: &str) -> Result<pb::IdentityRef, String> {
    let reference = if let Some(external_id) = text.strip_prefix(EXTERNAL_PREFIX) {
        if external_id.is_empty() {
            return Err("`external:` needs the external id after it".into());
        }
        identity_ref::Ref::ExternalId(external_id.to_owned())
    } else if Uuid::try_parse(text).is_ok() {
        identity_ref::Ref::Id(text.to_owned())
    } else if text.contains('@') {
        identity_ref::Ref::Email(text.to_owned())
    } else {
        return Err(format!(
            "`{text}` is not an identity: give an email, an id (UUID) or external:ID"
        ));
    };
    Ok(pb::IdentityRef {
        r#ref: Some(reference),
    })
}

/// Parses a node's id (a UUID) or key into a node reference.
pub fn node(text: &str) -> Result<pb::NodeRef, String> {
    if text.is_empty() {
        return Err("a node is its key or id, not empty".into());
    }
    let reference = if Uuid::try_parse(text).is_ok() {
        node_ref::Ref::Id(text.to_owned())
    } else {
        node_ref::Ref::Key(text.to_owned())
    };
    Ok(pb::NodeRef {
        r#ref: Some(reference),
    })
}

/// Names a node by its key.
pub fn node_key(key: &str) -> pb::NodeRef {
    pb::NodeRef {
        r#ref: Some(node_ref::Ref::Key(key.to_owned())),
    }
}

/// Names a role by its name (matched case-insensitively by the server).
pub fn role_by_name(name: &str) -> pb::RoleRef {
    pb::RoleRef {
        r#ref: Some(role_ref::Ref::Name(name.to_owned())),
    }
}

/// Parses a role's id (a UUID) or name into a role reference.
pub fn role(text: &str) -> Result<pb::RoleRef, String> {
    if text.is_empty() {
        return Err("a role is its name or id, not empty".into());
    }
    if Uuid::try_parse(text).is_ok() {
        return Ok(pb::RoleRef {
            r#ref: Some(role_ref::Ref::Id(text.to_owned())),
        });
    }
    Ok(role_by_name(text))
}

/// Parses an RFC 3339 instant (`2030-01-31T12:00:00Z`) or a date
/// (`2030-01-31`, meaning its first instant in UTC).
pub fn timestamp(text: &str) -> Result<Timestamp, String> {
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
        return Ok(Timestamp {
            seconds: midnight.timestamp(),
            nanos: 0,
        });
    }
    let parsed = DateTime::parse_from_rfc3339(text).map_err(|e| {
        format!("`{text}` is neither a date like 2030-01-31 nor an RFC 3339 time like 2030-01-31T12:00:00Z: {e}")
    })?;
    Ok(Timestamp {
        seconds: parsed.timestamp(),
        nanos: i32::try_from(parsed.timestamp_subsec_nanos()).unwrap_or(0),
    })
}

/// A role granted at a node, written `ROLE@NODE`.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleAtNode {
    pub role: pb::RoleRef,
    pub node: pb::NodeRef,
}

/// Parses `ROLE@NODE`, split at the first `@` (a node key may hold `@`, a role name rarely does).
pub fn role_at_node(text: &str) -> Result<RoleAtNode, String> {
    let Some((role, node)) = text
        .split_once('@')
        .filter(|(r, n)| !r.is_empty() && !n.is_empty())
    else {
        return Err(format!(
            "`{text}` is not ROLE@NODE, e.g. Viewer@payments or Administrator@root"
        ));
    };
    Ok(RoleAtNode {
        role: role_by_name(role),
        node: self::node(node)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0192f0c4-5b6e-7a00-8000-000000000001";

    fn identity_ref(text: &str) -> identity_ref::Ref {
        identity(text).unwrap().r#ref.unwrap()
    }

    #[test]
    fn identities_are_emails_ids_or_external_ids() {
        assert_eq!(
            identity_ref("ada@example.com"),
            identity_ref::Ref::Email("ada@example.com".into())
        );
        assert_eq!(identity_ref(ID), identity_ref::Ref::Id(ID.into()));
        assert_eq!(
            identity_ref("external:auth0|42@x"),
            identity_ref::Ref::ExternalId("auth0|42@x".into())
        );
        assert!(identity("ada").is_err());
        assert!(identity("external:").is_err());
    }

    #[test]
    fn nodes_are_ids_or_keys() {
        assert_eq!(node(ID).unwrap().r#ref, Some(node_ref::Ref::Id(ID.into())));
        assert_eq!(
            node("wallet:42").unwrap().r#ref,
            Some(node_ref::Ref::Key("wallet:42".into()))
        );
    }

    #[test]
    fn role_at_node_splits_at_the_first_at_sign() {
        let parsed = role_at_node("Viewer@mail:ada@example.com").unwrap();
        assert_eq!(parsed.role, role_by_name("Viewer"));
        assert_eq!(
            parsed.node.r#ref,
            Some(node_ref::Ref::Key("mail:ada@example.com".into()))
        );
        assert!(role_at_node("Viewer").is_err());
        assert!(role_at_node("@root").is_err());
    }

    #[test]
    fn times_are_rfc3339() {
        let t = timestamp("2030-01-31T12:00:00.25+01:00").unwrap();
        assert_eq!((t.seconds, t.nanos), (1_896_087_600, 250_000_000));
        assert!(timestamp("tomorrow").is_err());
    }

    #[test]
    fn a_date_is_its_midnight_in_utc() {
        let t = timestamp("2030-01-01").unwrap();
        assert_eq!((t.seconds, t.nanos), (1_893_456_000, 0));
        assert_eq!(
            timestamp("2030-01-01").unwrap(),
            timestamp("2030-01-01T00:00:00Z").unwrap()
        );
        assert!(timestamp("2030-02-30").is_err());
    }

    #[test]
    fn roles_are_ids_or_names() {
        assert_eq!(role(ID).unwrap().r#ref, Some(role_ref::Ref::Id(ID.into())));
        assert_eq!(role("Viewer").unwrap(), role_by_name("Viewer"));
        assert!(role("").is_err());
    }
}
