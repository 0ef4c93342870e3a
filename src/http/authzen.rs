//! The OpenID AuthZEN Authorization API 1.0 on the wire: request and response
//! shapes, and their mapping to rbacd's check (subject → identity, action name
//! → permission, resource → node, `context.at` → the time checked).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::domain::{
    Email, Error, ExternalId, FieldViolation, IdentityRef, MAX_BATCH_ITEMS, NodeKey, NodeRef,
    Permission, Result, Timestamp,
};
use crate::engine::{Decision, Reason};

/// `subject`: who is asking.
#[derive(Clone, Debug, Deserialize)]
pub struct Subject {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

/// `action`: what they want to do; its name is the permission.
#[derive(Clone, Debug, Deserialize)]
pub struct Action {
    pub name: String,
}

/// `resource`: where.
#[derive(Clone, Debug, Deserialize)]
pub struct Resource {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

/// One evaluation, or (in an evaluations request) the defaults and an item's overrides.
/// Unknown keys (such as `properties`) are ignored, as the specification asks.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Evaluation {
    pub subject: Option<Subject>,
    pub action: Option<Action>,
    pub resource: Option<Resource>,
    pub context: Option<Map<String, Value>>,
}

/// `options.evaluations_semantic`.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Semantic {
    #[default]
    ExecuteAll,
    DenyOnFirstDeny,
    PermitOnFirstPermit,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Options {
    #[serde(default)]
    pub evaluations_semantic: Semantic,
}

/// The body of `POST /access/v1/evaluations`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Evaluations {
    #[serde(flatten)]
    pub defaults: Evaluation,
    #[serde(default)]
    pub evaluations: Vec<Evaluation>,
    #[serde(default)]
    pub options: Options,
}

/// A check, parsed.
#[derive(Clone, Debug)]
pub struct Query {
    pub identity: IdentityRef,
    pub permission: Permission,
    pub node: NodeRef,
    pub at: Option<Timestamp>,
}

/// One answer: `{"decision": bool, "context": {...}}`.
#[derive(Clone, Debug, Serialize)]
pub struct Answer {
    pub decision: bool,
    pub context: Value,
}

impl Evaluation {
    /// This item with `defaults` filling what it leaves out; `context` merges key by key.
    pub fn over(self, defaults: &Evaluation) -> Evaluation {
        let context = match (defaults.context.clone(), self.context) {
            (Some(mut base), Some(own)) => {
                base.extend(own);
                Some(base)
            }
            (base, own) => own.or(base),
        };
        Evaluation {
            subject: self.subject.or_else(|| defaults.subject.clone()),
            action: self.action.or_else(|| defaults.action.clone()),
            resource: self.resource.or_else(|| defaults.resource.clone()),
            context,
        }
    }

    /// The check it asks for; a field violation for each missing or bad part.
    pub fn parse(&self) -> Result<Query> {
        let mut bad = Vec::new();
        let identity = keep(&mut bad, "subject", subject(self.subject.as_ref()));
        let permission = keep(
            &mut bad,
            "action.name",
            self.action
                .as_ref()
                .ok_or_else(|| "is required: `action` with the permission as its `name`".into())
                .and_then(|a| Permission::parse(&a.name)),
        );
        let node = keep(&mut bad, "resource", resource(self.resource.as_ref()));
        let at = keep(&mut bad, "context.at", at(self.context.as_ref()));
        match (identity, permission, node, at) {
            (Some(identity), Some(permission), Some(node), Some(at)) if bad.is_empty() => {
                Ok(Query {
                    identity,
                    permission,
                    node,
                    at,
                })
            }
            _ => Err(Error::InvalidArgument(bad)),
        }
    }
}

fn keep<T>(
    bad: &mut Vec<FieldViolation>,
    field: &str,
    parsed: std::result::Result<T, String>,
) -> Option<T> {
    parsed
        .map_err(|m| bad.push(FieldViolation::new(field, m)))
        .ok()
}

fn subject(s: Option<&Subject>) -> std::result::Result<IdentityRef, String> {
    let s =
        s.ok_or("is required: {\"type\": \"identity\"|\"email\"|\"external_id\", \"id\": …}")?;
    match s.kind.as_str() {
        "identity" => uuid::Uuid::try_parse(&s.id)
            .map(|id| IdentityRef::Id(id.into()))
            .map_err(|_| format!("`{}` is not an identity id (a UUID)", s.id)),
        "email" => Email::parse(&s.id).map(IdentityRef::Email),
        "external_id" => ExternalId::parse(&s.id).map(IdentityRef::ExternalId),
        other => Err(format!(
            "type `{other}` is not known: use `identity`, `email` or `external_id`"
        )),
    }
}

fn resource(r: Option<&Resource>) -> std::result::Result<NodeRef, String> {
    let r = r.ok_or("is required: {\"type\": \"node\"|\"node_key\", \"id\": …}")?;
    match r.kind.as_str() {
        "node" => uuid::Uuid::try_parse(&r.id)
            .map(|id| NodeRef::Id(id.into()))
            .map_err(|_| format!("`{}` is not a node id (a UUID)", r.id)),
        "node_key" => NodeKey::parse(&r.id).map(NodeRef::Key),
        other => Err(format!(
            "type `{other}` is not known: use `node` or `node_key`"
        )),
    }
}

/// `context.at`: an RFC 3339 instant; now when absent.
fn at(context: Option<&Map<String, Value>>) -> std::result::Result<Option<Timestamp>, String> {
    let Some(value) = context.and_then(|c| c.get("at")) else {
        return Ok(None);
    };
    let text = value
        .as_str()
        .ok_or("must be an RFC 3339 time string, e.g. 2026-01-31T12:00:00Z")?;
    let parsed = chrono::DateTime::parse_from_rfc3339(text)
        .map_err(|_| format!("`{text}` is not an RFC 3339 time, e.g. 2026-01-31T12:00:00Z"))?;
    Timestamp::from_parts(parsed.timestamp(), parsed.timestamp_subsec_nanos() as i32)
        .map(Some)
        .ok_or_else(|| format!("`{text}` is out of range"))
}

impl Evaluations {
    /// Checks the request as a whole: at most [`MAX_BATCH_ITEMS`] evaluations.
    pub fn check_size(&self) -> Result<()> {
        if self.evaluations.len() > MAX_BATCH_ITEMS {
            return Err(Error::invalid(
                "evaluations",
                format!(
                    "has {} items; give at most {MAX_BATCH_ITEMS}",
                    self.evaluations.len()
                ),
            ));
        }
        Ok(())
    }

    /// Whether the answer after `answer` ends the list under the chosen semantic.
    pub fn stops_after(&self, answer: &Answer) -> bool {
        match self.options.evaluations_semantic {
            Semantic::ExecuteAll => false,
            Semantic::DenyOnFirstDeny => !answer.decision,
            Semantic::PermitOnFirstPermit => answer.decision,
        }
    }
}

/// A decision as AuthZEN answers it; the reason says why, as Check's does.
pub fn answer(query: &Query, decision: &Decision) -> Answer {
    let (code, why) = match (&decision.granted_by, decision.reason) {
        (Some(g), _) => (
            "GRANTED",
            format!(
                "assignment {} gives role `{}` at node `{}`, whose `{}` matches `{}`",
                g.assignment_id, g.role_name, g.node_key, g.pattern, query.permission
            ),
        ),
        (None, Reason::NoMatchingAssignment) => (
            "NO_MATCHING_ASSIGNMENT",
            format!(
                "no assignment of the {} on the {} or its ancestors grants `{}` at that time",
                query.identity, query.node, query.permission
            ),
        ),
        (None, Reason::IdentityNotActive) => (
            "IDENTITY_NOT_ACTIVE",
            format!("the {} is invited or disabled", query.identity),
        ),
        (None, Reason::UnknownIdentity) => (
            "UNKNOWN_IDENTITY",
            format!("no {} in this environment", query.identity),
        ),
        (None, Reason::UnknownNode | Reason::Granted) => (
            "UNKNOWN_NODE",
            format!("no {} in this environment", query.node),
        ),
    };
    Answer {
        decision: decision.allowed,
        context: json!({
            "reason": format!("{code}: {why}"),
            "reason_code": code,
            "revision": decision.revision,
        }),
    }
}

/// An item that could not be evaluated: denied, with the error in its context.
pub fn item_error(status: u16, error: &Error) -> Answer {
    let mut body = json!({ "status": status, "message": error.to_string() });
    if let Error::InvalidArgument(violations) = error {
        body["field_violations"] = violations_json(violations);
    }
    Answer {
        decision: false,
        context: json!({ "error": body }),
    }
}

/// The answer that ends a short-circuited list, as the specification shows it.
pub fn short_circuit(mut last: Answer, semantic: Semantic) -> Answer {
    if !last.decision && semantic == Semantic::DenyOnFirstDeny {
        last.context["code"] = json!("200");
        last.context["semantic"] = json!("deny_on_first_deny");
    }
    last
}

pub fn violations_json(violations: &[FieldViolation]) -> Value {
    Value::Array(
        violations
            .iter()
            .map(|v| json!({ "field": v.field, "description": v.description }))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: Value) -> Evaluations {
        serde_json::from_value(body).unwrap()
    }

    #[test]
    fn items_take_defaults_and_override_them() {
        let req = parse(json!({
            "subject": {"type": "email", "id": "a@example.com"},
            "action": {"name": "Docs:Read"},
            "context": {"at": "2026-01-01T00:00:00Z", "x": 1},
            "evaluations": [
                {"resource": {"type": "node_key", "id": "doc:1"}},
                {"action": {"name": "Docs:Write"}, "resource": {"type": "node_key", "id": "doc:2"},
                 "context": {"at": "2027-01-01T00:00:00+02:00"}}
            ]
        }));
        let items: Vec<_> = req
            .evaluations
            .iter()
            .map(|e| e.clone().over(&req.defaults).parse().unwrap())
            .collect();
        assert_eq!(items[0].permission.as_str(), "Docs:Read");
        assert_eq!(items[1].permission.as_str(), "Docs:Write");
        assert_eq!(items[0].at, Some(Timestamp(1_767_225_600_000_000)));
        assert_eq!(items[1].at, Some(Timestamp(1_798_754_400_000_000)));
    }

    #[test]
    fn every_missing_or_bad_part_is_named() {
        let req = parse(json!({
            "subject": {"type": "user", "id": "a"},
            "resource": {"type": "node", "id": "nope"},
            "context": {"at": "yesterday"}
        }));
        let Err(Error::InvalidArgument(bad)) = req.defaults.parse() else {
            panic!("expected violations");
        };
        let fields: Vec<_> = bad.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["subject", "action.name", "resource", "context.at"]);
        assert!(
            bad[0]
                .description
                .contains("`identity`, `email` or `external_id`")
        );
    }

    #[test]
    fn semantics_stop_where_the_specification_says() {
        let deny = Answer {
            decision: false,
            context: json!({}),
        };
        let permit = Answer {
            decision: true,
            context: json!({}),
        };
        let mut req = parse(json!({"options": {"evaluations_semantic": "deny_on_first_deny"}}));
        assert!(req.stops_after(&deny) && !req.stops_after(&permit));
        req.options.evaluations_semantic = Semantic::PermitOnFirstPermit;
        assert!(req.stops_after(&permit) && !req.stops_after(&deny));
        req.options.evaluations_semantic = Semantic::ExecuteAll;
        assert!(!req.stops_after(&permit) && !req.stops_after(&deny));
    }
}
