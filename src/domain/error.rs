//! The one error type of the service; the transport maps it to a gRPC status.

/// A malformed request field: which field, and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldViolation {
    /// Path of the field, e.g. `assignments[3].role.name`.
    pub field: String,
    /// What is wrong, for people.
    pub description: String,
}

impl FieldViolation {
    /// A violation of `field`.
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            description: description.into(),
        }
    }

    /// The same violation, its field nested under `prefix`.
    pub fn under(mut self, prefix: &str) -> Self {
        self.field = if self.field.is_empty() {
            prefix.to_owned()
        } else {
            format!("{prefix}.{}", self.field)
        };
        self
    }
}

/// Why an operation did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is malformed; each violation names a field.
    #[error("invalid request: {}", describe(.0))]
    InvalidArgument(Vec<FieldViolation>),
    /// A referenced object does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The object would duplicate an existing one.
    #[error("{0}")]
    AlreadyExists(String),
    /// The change is refused in the current state.
    #[error("{0}")]
    FailedPrecondition(String),
    /// The acting identity lacks a permission.
    #[error("{0}")]
    PermissionDenied(String),
    /// The caller is not authenticated.
    #[error("{0}")]
    Unauthenticated(String),
    /// Temporarily unable to answer; retrying may succeed.
    #[error("{0}")]
    Unavailable(String),
    /// A fault of the service or its database; the cause is logged, not shown.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Most violations a reply reports, so that a request with a thousand bad
/// items still gets a reply of a few kilobytes.
pub const MAX_REPORTED_VIOLATIONS: usize = 10;

fn describe(violations: &[FieldViolation]) -> String {
    let mut text = violations
        .iter()
        .take(MAX_REPORTED_VIOLATIONS)
        .map(|v| format!("{}: {}", v.field, v.description))
        .collect::<Vec<_>>()
        .join("; ");
    if let Some(more) = violations.len().checked_sub(MAX_REPORTED_VIOLATIONS)
        && more > 0
    {
        text.push_str(&format!("; and {more} more"));
    }
    text
}

impl Error {
    /// A single field violation.
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self::InvalidArgument(vec![FieldViolation::new(field, description)])
    }
}

impl From<FieldViolation> for Error {
    fn from(v: FieldViolation) -> Self {
        Self::InvalidArgument(vec![v])
    }
}

/// Most characters of a caller's input an error message quotes.
pub const MAX_QUOTED_CHARS: usize = 100;

/// `text` as an error message may quote it: whole when it has at most
/// [`MAX_QUOTED_CHARS`] characters, else its first ones followed by `…`, so a
/// huge bad value never makes a huge message.
pub fn quote(text: &str) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(MAX_QUOTED_CHARS) {
        None => text.into(),
        Some((end, _)) => format!("{}…", &text[..end]).into(),
    }
}

/// Result of domain and store operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_cut_on_a_character_boundary() {
        assert_eq!(quote("short"), "short");
        let exact = "é".repeat(MAX_QUOTED_CHARS);
        assert_eq!(quote(&exact), exact);
        let long = "é".repeat(100_000);
        let quoted = quote(&long);
        assert_eq!(quoted.chars().count(), MAX_QUOTED_CHARS + 1);
        assert!(quoted.ends_with("é…"), "{quoted}");
    }

    #[test]
    fn a_message_reports_at_most_ten_violations() {
        let many: Vec<FieldViolation> = (0..1000)
            .map(|i| FieldViolation::new(format!("permissions[{i}]"), "is bad"))
            .collect();
        let message = Error::InvalidArgument(many).to_string();
        assert!(message.contains("permissions[9]"), "{message}");
        assert!(!message.contains("permissions[10]"), "{message}");
        assert!(message.ends_with("; and 990 more"), "{message}");
        let one = Error::invalid("name", "is required").to_string();
        assert_eq!(one, "invalid request: name: is required");
    }
}
