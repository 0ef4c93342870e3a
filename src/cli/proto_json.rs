//! The response messages as JSON, with the proto's field names, enum values
//! by name and timestamps in RFC 3339 — the shape `--output json` prints.

use chrono::{DateTime, SecondsFormat};
use prost_types::Timestamp;
use serde_json::{Value, json};

use crate::proto::v1 as pb;

/// A timestamp in RFC 3339 (UTC); `None` when unset or out of range.
pub fn rfc3339(time: Option<&Timestamp>) -> Option<String> {
    let time = time?;
    let nanos = u32::try_from(time.nanos).ok()?;
    DateTime::from_timestamp(time.seconds, nanos)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

fn time(time: &Option<Timestamp>) -> Value {
    rfc3339(time.as_ref()).map_or(Value::Null, Value::String)
}

/// The name of an enum value (`IDENTITY_STATUS_ACTIVE`), or its number when unknown.
fn enum_name<E: TryFrom<i32>>(value: i32, name: impl Fn(&E) -> &'static str) -> Value {
    E::try_from(value).map_or_else(|_| json!(value), |e| json!(name(&e)))
}

pub fn role(role: &pb::Role) -> Value {
    json!({
        "id": role.id,
        "name": role.name,
        "description": role.description,
        "permissions": role.permissions,
        "create_time": time(&role.create_time),
        "update_time": time(&role.update_time),
    })
}

pub fn identity(identity: &pb::Identity) -> Value {
    json!({
        "id": identity.id,
        "kind": enum_name(identity.kind, pb::IdentityKind::as_str_name),
        "status": enum_name(identity.status, pb::IdentityStatus::as_str_name),
        "email": identity.email,
        "external_id": identity.external_id,
        "display_name": identity.display_name,
        "create_time": time(&identity.create_time),
        "update_time": time(&identity.update_time),
    })
}

pub fn node(node: &pb::Node) -> Value {
    json!({
        "id": node.id,
        "key": node.key,
        "name": node.name,
        "kind": node.kind,
        "parent_id": node.parent_id,
        "create_time": time(&node.create_time),
        "update_time": time(&node.update_time),
    })
}

pub fn assignment(assignment: &pb::Assignment) -> Value {
    json!({
        "id": assignment.id,
        "identity_id": assignment.identity_id,
        "role_id": assignment.role_id,
        "role_name": assignment.role_name,
        "node_id": assignment.node_id,
        "node_key": assignment.node_key,
        "effective_from": time(&assignment.effective_from),
        "effective_to": time(&assignment.effective_to),
        "state": enum_name(assignment.state, pb::AssignmentState::as_str_name),
        "inherited": assignment.inherited,
        "create_time": time(&assignment.create_time),
    })
}

fn grant(grant: &pb::Grant) -> Value {
    json!({
        "assignment_id": grant.assignment_id,
        "role_id": grant.role_id,
        "role_name": grant.role_name,
        "node_id": grant.node_id,
        "node_key": grant.node_key,
        "matched_permission": grant.matched_permission,
    })
}

fn status(status: &tonic_types::pb::Status) -> Value {
    json!({ "code": status.code, "message": status.message })
}

pub fn check_response(response: &pb::CheckResponse) -> Value {
    json!({
        "correlation_id": response.correlation_id,
        "allowed": response.allowed,
        "revision": response.revision,
        "reason": response.reason,
        "reason_code": enum_name(response.reason_code, pb::DecisionReason::as_str_name),
        "granted_by": response.granted_by.as_ref().map_or(Value::Null, grant),
        "error": response.error.as_ref().map_or(Value::Null, status),
    })
}

/// A `google.protobuf.Struct` as the JSON object it stands for.
fn structure(fields: &prost_types::Struct) -> Value {
    Value::Object(
        fields
            .fields
            .iter()
            .map(|(key, value)| (key.clone(), struct_value(value)))
            .collect(),
    )
}

fn struct_value(value: &prost_types::Value) -> Value {
    use prost_types::value::Kind;
    match &value.kind {
        None | Some(Kind::NullValue(_)) => Value::Null,
        Some(Kind::BoolValue(b)) => json!(b),
        // Whole numbers (such as microsecond times) print without a fraction.
        Some(Kind::NumberValue(n)) if n.fract() == 0.0 && n.abs() < 9.0e15 => json!(*n as i64),
        Some(Kind::NumberValue(n)) => json!(n),
        Some(Kind::StringValue(s)) => json!(s),
        Some(Kind::ListValue(list)) => Value::Array(list.values.iter().map(struct_value).collect()),
        Some(Kind::StructValue(fields)) => structure(fields),
    }
}

pub fn change(change: &pb::Change) -> Value {
    json!({
        "revision": change.revision,
        "create_time": time(&change.create_time),
        "actor_id": change.actor_id,
        "action": change.action,
        "object_kind": enum_name(change.object_kind, pb::ObjectKind::as_str_name),
        "object_id": change.object_id,
        "before": change.before.as_ref().map_or(Value::Null, structure),
        "after": change.after.as_ref().map_or(Value::Null, structure),
        "signed_by_credential_id": change.signed_by_credential_id,
    })
}

/// A list of messages, each converted with `one`.
pub fn list<T>(items: &[T], one: impl Fn(&T) -> Value) -> Value {
    Value::Array(items.iter().map(one).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_in_utc() {
        let t = Timestamp {
            seconds: 1_700_000_000,
            nanos: 500_000_000,
        };
        assert_eq!(
            rfc3339(Some(&t)).as_deref(),
            Some("2023-11-14T22:13:20.500Z")
        );
        assert_eq!(rfc3339(None), None);
    }

    #[test]
    fn enums_are_named() {
        let identity = pb::Identity {
            status: pb::IdentityStatus::Invited.into(),
            kind: 42,
            ..Default::default()
        };
        let json = super::identity(&identity);
        assert_eq!(json["status"], "IDENTITY_STATUS_INVITED");
        assert_eq!(json["kind"], 42);
    }
}
