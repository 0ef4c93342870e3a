//! Proto to domain: every request field is parsed here, and every problem is
//! reported as a field violation naming the field.

use uuid::Uuid;

use crate::domain::{
    Email, Error, ExternalId, FieldViolation, IdentityKind, IdentityRef, MAX_PERMISSIONS_PER_ROLE,
    NodeKey, NodeRef, PermissionPattern, Result, RoleName, RoleRef, Timestamp,
};
use crate::proto::v1 as pb;

/// Collects field violations so one reply can name every bad field.
#[derive(Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    /// Keeps the value, or records why `field` is invalid.
    pub fn check<T>(&mut self, field: &str, parsed: std::result::Result<T, String>) -> Option<T> {
        parsed
            .map_err(|m| self.0.push(FieldViolation::new(field, m)))
            .ok()
    }

    /// [`Violations::check`], naming the field only when it is invalid.
    pub fn check_with<T>(
        &mut self,
        field: impl FnOnce() -> String,
        parsed: std::result::Result<T, String>,
    ) -> Option<T> {
        parsed
            .map_err(|m| self.0.push(FieldViolation::new(field(), m)))
            .ok()
    }

    /// Keeps the page request, or records what is wrong with its fields.
    pub fn nested_page(
        &mut self,
        page_size: i32,
        page_token: &str,
    ) -> Option<crate::domain::PageRequest> {
        self.nested(crate::domain::PageRequest::parse(page_size, page_token))
    }

    /// Keeps a value parsed from several fields, or records its violations.
    pub fn nested<T>(&mut self, parsed: Result<T>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(Error::InvalidArgument(found)) => {
                self.0.extend(found);
                None
            }
            Err(other) => {
                self.0.push(FieldViolation::new("", other.to_string()));
                None
            }
        }
    }

    /// Records a violation.
    pub fn add(&mut self, field: &str, description: impl Into<String>) {
        self.0.push(FieldViolation::new(field, description));
    }

    /// Ok when nothing was recorded; `value` is then always `Some`.
    pub fn finish<T>(self, value: Option<T>) -> Result<T> {
        match value {
            Some(v) if self.0.is_empty() => Ok(v),
            _ if self.0.is_empty() => Err(Error::Internal("a parse lost its value".into())),
            _ => Err(Error::InvalidArgument(self.0)),
        }
    }

    /// Prefixes the fields recorded from `start` on with `prefix`.
    pub fn prefix_from(&mut self, start: usize, prefix: &str) {
        for v in &mut self.0[start..] {
            *v = std::mem::replace(v, FieldViolation::new("", "")).under(prefix);
        }
    }

    /// How many violations are recorded.
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// A UUID in a request.
pub fn uuid(text: &str) -> std::result::Result<Uuid, String> {
    if text.is_empty() {
        return Err("is required".into());
    }
    Uuid::try_parse(text).map_err(|_| format!("`{}` is not a UUID", crate::domain::quote(text)))
}

/// An optional free-text field with a length limit.
pub fn text(value: &str, max: usize) -> std::result::Result<String, String> {
    crate::domain::check_text(value, max).map(|()| value.to_owned())
}

/// A required reference to an identity.
pub fn identity_ref(r: Option<&pb::IdentityRef>) -> std::result::Result<IdentityRef, String> {
    use pb::identity_ref::Ref;
    match r.and_then(|r| r.r#ref.as_ref()) {
        Some(Ref::Id(id)) => Ok(IdentityRef::Id(uuid(id)?.into())),
        Some(Ref::ExternalId(e)) => Ok(IdentityRef::ExternalId(ExternalId::parse(e)?)),
        Some(Ref::Email(e)) => Ok(IdentityRef::Email(Email::parse(e)?)),
        None => Err("is required: give one of `id`, `external_id` or `email`".into()),
    }
}

/// A required reference to a node.
pub fn node_ref(r: Option<&pb::NodeRef>) -> std::result::Result<NodeRef, String> {
    use pb::node_ref::Ref;
    match r.and_then(|r| r.r#ref.as_ref()) {
        Some(Ref::Id(id)) => Ok(NodeRef::Id(uuid(id)?.into())),
        Some(Ref::Key(k)) => Ok(NodeRef::Key(NodeKey::parse(k)?)),
        None => Err("is required: give one of `id` or `key`".into()),
    }
}

/// An optional reference to a node; `None` when not given.
pub fn optional_node_ref(r: Option<&pb::NodeRef>) -> std::result::Result<Option<NodeRef>, String> {
    match r.and_then(|r| r.r#ref.as_ref()) {
        None => Ok(None),
        Some(_) => node_ref(r).map(Some),
    }
}

/// An optional reference to an identity; `None` when not given.
pub fn optional_identity_ref(
    r: Option<&pb::IdentityRef>,
) -> std::result::Result<Option<IdentityRef>, String> {
    match r.and_then(|r| r.r#ref.as_ref()) {
        None => Ok(None),
        Some(_) => identity_ref(r).map(Some),
    }
}

/// A required reference to a role.
pub fn role_ref(r: Option<&pb::RoleRef>) -> std::result::Result<RoleRef, String> {
    use pb::role_ref::Ref;
    match r.and_then(|r| r.r#ref.as_ref()) {
        Some(Ref::Id(id)) => Ok(RoleRef::Id(uuid(id)?.into())),
        Some(Ref::Name(n)) => Ok(RoleRef::Name(RoleName::parse(n)?)),
        None => Err("is required: give one of `id` or `name`".into()),
    }
}

/// An optional reference to a role; `None` when not given.
pub fn optional_role_ref(r: Option<&pb::RoleRef>) -> std::result::Result<Option<RoleRef>, String> {
    match r.and_then(|r| r.r#ref.as_ref()) {
        None => Ok(None),
        Some(_) => role_ref(r).map(Some),
    }
}

/// An optional timestamp.
pub fn timestamp(
    t: Option<&prost_types::Timestamp>,
) -> std::result::Result<Option<Timestamp>, String> {
    t.map(|t| Timestamp::parse_parts(t.seconds, t.nanos))
        .transpose()
}

/// A role's permission list: each parsed, duplicates dropped, at most 1000.
pub fn permissions(
    v: &mut Violations,
    field: &str,
    given: &[String],
) -> Option<Vec<PermissionPattern>> {
    if given.len() > MAX_PERMISSIONS_PER_ROLE {
        v.add(
            field,
            format!(
                "has {} entries; a role holds at most {MAX_PERMISSIONS_PER_ROLE}",
                given.len()
            ),
        );
        return None;
    }
    let mut parsed: Vec<PermissionPattern> = Vec::with_capacity(given.len());
    for (i, text) in given.iter().enumerate() {
        if let Some(p) = v.check(&format!("{field}[{i}]"), PermissionPattern::parse(text))
            && !parsed.contains(&p)
        {
            parsed.push(p);
        }
    }
    Some(parsed)
}

/// An identity kind; UNSPECIFIED means USER.
pub fn identity_kind(value: i32) -> std::result::Result<IdentityKind, String> {
    super::enums::filter::<pb::IdentityKind, IdentityKind>(value, "IdentityKind")
        .map(|kind| kind.unwrap_or(IdentityKind::User))
}

/// An email for an identity of `kind`: empty means none.
pub fn email(kind: IdentityKind, text: &str) -> std::result::Result<Option<Email>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    let email = Email::parse(text)?;
    if kind == IdentityKind::User {
        email.check_user_form()?;
    }
    Ok(Some(email))
}

/// An external id: empty means none.
pub fn external_id(text: &str) -> std::result::Result<Option<ExternalId>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    ExternalId::parse(text).map(Some)
}

/// A `[from, to)` window: `to` must be after `from`.
pub fn window(
    v: &mut Violations,
    from: Option<&prost_types::Timestamp>,
    to: Option<&prost_types::Timestamp>,
) -> Option<(Option<Timestamp>, Option<Timestamp>)> {
    let from = v.check("effective_from", timestamp(from))?;
    let to = v.check("effective_to", timestamp(to))?;
    if let (Some(f), Some(t)) = (from, to)
        && t <= f
    {
        v.add("effective_to", "must be after `effective_from`");
        return None;
    }
    Some((from, to))
}

/// A single field's parse, its failure as INVALID_ARGUMENT naming the field.
pub fn field<T>(name: &str, parsed: std::result::Result<T, String>) -> Result<T> {
    parsed.map_err(|m| Error::invalid(name, m))
}
