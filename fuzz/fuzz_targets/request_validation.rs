//! Request validation: arbitrary bytes, decoded as the request of a hot or
//! granting RPC, run through exactly the validation that RPC runs. It never
//! panics, and a refusal is INVALID_ARGUMENT whose every violation names a
//! field and says what is wrong, quoting little of the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prost::Message;
use rbacd::{api::validate, domain::Error, proto::v1 as pb};

/// A violation's description quotes at most ~100 characters of the input.
const MAX_DESCRIPTION_CHARS: usize = 400;

fn judged(result: rbacd::domain::Result<()>) {
    let Err(error) = result else {
        return;
    };
    let Error::InvalidArgument(violations) = error else {
        panic!("a bad request is INVALID_ARGUMENT, not {error:?}");
    };
    assert!(!violations.is_empty());
    for v in violations {
        assert!(!v.description.is_empty(), "{v:?}");
        assert!(
            v.description.chars().count() <= MAX_DESCRIPTION_CHARS,
            "a description of {} characters for {}",
            v.description.chars().count(),
            v.field
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, bytes)) = data.split_first() else {
        return;
    };
    match which % 3 {
        0 => {
            if let Ok(req) = pb::CheckRequest::decode(bytes) {
                judged(validate::check(&req));
            }
        }
        1 => {
            if let Ok(req) = pb::CreateRoleRequest::decode(bytes) {
                judged(validate::create_role(&req));
            }
        }
        _ => {
            if let Ok(req) = pb::CreateAssignmentRequest::decode(bytes) {
                judged(validate::create_assignment(&req));
            }
        }
    }
});
