//! Assertions on gRPC statuses: the code, a message, field violations, no SQL.

use tonic::{Code, Status};
use tonic_types::StatusExt;

/// The error of `result`, which must have failed with `code`.
#[track_caller]
pub fn expect_code<T: std::fmt::Debug>(result: Result<T, Status>, code: Code) -> Status {
    match result {
        Ok(v) => panic!("expected {code:?}, got OK: {v:?}"),
        Err(status) => {
            assert_eq!(
                status.code(),
                code,
                "expected {code:?}, got {:?}: {}",
                status.code(),
                status.message()
            );
            assert!(
                !status.message().is_empty(),
                "a {code:?} status must carry a message"
            );
            assert_no_sql(&status);
            status
        }
    }
}

/// The field names of the `google.rpc.BadRequest` violations a status carries.
pub fn violated_fields(status: &Status) -> Vec<String> {
    status
        .get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

/// The result must be INVALID_ARGUMENT with a BadRequest violation of `field`.
#[track_caller]
pub fn expect_invalid<T: std::fmt::Debug>(result: Result<T, Status>, field: &str) -> Status {
    let status = expect_code(result, Code::InvalidArgument);
    let bad = status
        .get_details_bad_request()
        .unwrap_or_else(|| panic!("INVALID_ARGUMENT without BadRequest details: {status:?}"));
    assert!(
        bad.field_violations.iter().any(|v| v.field == field),
        "expected a violation of `{field}`, got {:?} ({})",
        bad.field_violations
            .iter()
            .map(|v| (&v.field, &v.description))
            .collect::<Vec<_>>(),
        status.message()
    );
    assert!(
        bad.field_violations
            .iter()
            .all(|v| !v.description.is_empty()),
        "every violation must say what is wrong: {bad:?}"
    );
    status
}

/// The result must be NOT_FOUND with a message mentioning `named`.
#[track_caller]
pub fn expect_not_found<T: std::fmt::Debug>(result: Result<T, Status>, named: &str) -> Status {
    let status = expect_code(result, Code::NotFound);
    assert!(
        status.message().contains(named),
        "NOT_FOUND should name `{named}`: {}",
        status.message()
    );
    status
}

/// A status message must never leak the database's own words.
#[track_caller]
pub fn assert_no_sql(status: &Status) {
    let message = status.message().to_lowercase();
    for word in [
        "sql",
        "constraint",
        "unique",
        "violat",
        "duplicate key",
        "select ",
        "insert ",
    ] {
        assert!(
            !message.contains(word),
            "the message leaks database text ({word}): {}",
            status.message()
        );
    }
}
