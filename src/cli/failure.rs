//! Why a client subcommand failed, printed to stderr (exit status 2).

use std::fmt;

use tonic::{Code, Status};
use tonic_types::StatusExt;

/// A client subcommand's error.
#[derive(Debug)]
pub enum Failure {
    /// The server answered with an error status.
    Status(Status),
    /// The server could not be reached.
    Unreachable { server: String, cause: String },
    /// What was given on the command line cannot be sent.
    Input(String),
    /// A followed stream failed after the change with this revision.
    Resumable(Status, u64),
    /// The server ended a followed stream after the change with this revision.
    Ended(u64),
}

impl Failure {
    /// Bad input, said in `message`.
    pub fn input(message: impl Into<String>) -> Self {
        Self::Input(message.into())
    }

    /// The server at `server` could not be reached; `error` and its causes say why.
    pub fn unreachable(server: &str, error: &dyn std::error::Error) -> Self {
        let mut cause = error.to_string();
        let mut source = error.source();
        while let Some(inner) = source {
            // Layers often repeat their inner error's words; say them once.
            let said = inner.to_string();
            if !cause.ends_with(&said) {
                cause.push_str(": ");
                cause.push_str(&said);
            }
            source = inner.source();
        }
        Self::Unreachable {
            server: server.to_owned(),
            cause,
        }
    }
}

impl From<Status> for Failure {
    fn from(status: Status) -> Self {
        Self::Status(status)
    }
}

/// `error: CODE: message`, then each field violation on its own line.
impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status(status) => write_status(f, status),
            Self::Resumable(status, revision) => {
                write_status(f, status)?;
                write!(f, "\nresume with --after {revision}")
            }
            Self::Ended(revision) => write!(
                f,
                "error: the server ended the stream; resume with --after {revision}"
            ),
            Self::Unreachable { server, cause } => {
                write!(f, "error: cannot reach the server at {server}: {cause}")
            }
            Self::Input(message) => write!(f, "error: {message}"),
        }
    }
}

fn write_status(f: &mut fmt::Formatter<'_>, status: &Status) -> fmt::Result {
    let said: Vec<String> = status
        .get_details_bad_request()
        .map(|bad_request| bad_request.field_violations)
        .unwrap_or_default()
        .into_iter()
        .map(|v| format!("{}: {}", v.field, v.description))
        .collect();
    let message = headline(status.message(), &said);
    write!(f, "error: {}: {message}", code_name(status.code()))?;
    for violation in &said {
        write!(f, "\n  {violation}")?;
    }
    Ok(())
}

/// The status message less the violations printed under it, so each is said
/// once: rbacd's message repeats them (`invalid request: a: x; b: y`) for
/// clients that read no details.
fn headline(message: &str, violations: &[String]) -> String {
    let Some(first) = violations.first() else {
        return message.to_owned();
    };
    let (Some(start), true) = (
        message.find(first.as_str()),
        violations.iter().all(|v| message.contains(v.as_str())),
    ) else {
        return message.to_owned();
    };
    let mut rest = message[start..].to_owned();
    for violation in violations {
        rest = rest.replacen(violation.as_str(), "", 1);
    }
    // What is left is separators, and perhaps `and N more`.
    let rest = rest.trim_matches([';', ' ']);
    let head = message[..start].trim_end_matches([':', ' ']);
    match (head.is_empty(), rest.is_empty()) {
        (_, true) => head.to_owned(),
        (true, false) => rest.to_owned(),
        (false, false) => format!("{head} ({rest})"),
    }
}

/// The status code as gRPC spells it, e.g. `INVALID_ARGUMENT`.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use tonic_types::{ErrorDetails, StatusExt};

    use super::*;

    #[test]
    fn a_status_prints_its_code_message_and_violations() {
        let mut details = ErrorDetails::new();
        details.add_bad_request_violation("permissions[0]", "is not a permission");
        let status = Status::with_error_details(Code::InvalidArgument, "bad role", details);
        assert_eq!(
            Failure::from(status).to_string(),
            "error: INVALID_ARGUMENT: bad role\n  permissions[0]: is not a permission"
        );
    }

    #[test]
    fn violations_repeated_in_the_message_are_printed_once() {
        let mut details = ErrorDetails::new();
        details.add_bad_request_violation("name", "is empty");
        details.add_bad_request_violation("permissions[1]", "is not a permission");
        let message =
            "invalid request: name: is empty; permissions[1]: is not a permission; and 2 more";
        let status = Status::with_error_details(Code::InvalidArgument, message, details);
        assert_eq!(
            Failure::from(status).to_string(),
            "error: INVALID_ARGUMENT: invalid request (and 2 more)\n  name: is empty\n  permissions[1]: is not a permission"
        );
    }
}
