//! Page tokens and sizes: anything a client sends either parses into a page
//! within bounds or is INVALID_ARGUMENT naming the field; a token the service
//! makes for a page always parses back to that page.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rbacd::domain::{
    Error, PageRequest,
    paging::{self, MAX_PAGE_SIZE, MAX_REVISION, RevisionPageRequest, TreePageRequest},
};

fn refused(error: Error) {
    let Error::InvalidArgument(violations) = error else {
        panic!("a bad page is INVALID_ARGUMENT, not {error:?}");
    };
    assert!(!violations.is_empty());
    for v in violations {
        assert!(v.field == "page_size" || v.field == "page_token", "{v:?}");
        assert!(!v.description.is_empty());
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 5 {
        return;
    }
    let size = i32::from_le_bytes([data[0], data[1], data[2], data[3]]);
    let Ok(rest) = std::str::from_utf8(&data[5..]) else {
        return;
    };
    // Most inputs get a token's own prefix, so the fuzzer reaches what follows it.
    let token = match data[4] % 4 {
        0 => rest.to_owned(),
        1 => format!("p1.{rest}"),
        2 => format!("t1.{rest}"),
        _ => format!("r1.{rest}"),
    };
    let token = token.as_str();
    match PageRequest::parse(size, token) {
        Ok(page) => {
            assert!((1..=MAX_PAGE_SIZE).contains(&page.size));
            if let Some(after) = page.after {
                let again = PageRequest::parse(size, &paging::encode_token(after)).unwrap();
                assert_eq!(again, page);
            }
        }
        Err(e) => refused(e),
    }
    match TreePageRequest::parse(size, token) {
        Ok(page) => {
            assert!((1..=MAX_PAGE_SIZE).contains(&page.size));
            if let Some(after) = page.after {
                let again =
                    TreePageRequest::parse(size, &paging::encode_tree_token(after)).unwrap();
                assert_eq!(again, page);
            }
        }
        Err(e) => refused(e),
    }
    match RevisionPageRequest::parse(size, token) {
        Ok(page) => {
            assert!((1..=MAX_PAGE_SIZE).contains(&page.size));
            assert!(page.after <= MAX_REVISION);
            let again =
                RevisionPageRequest::parse(size, &paging::encode_revision_token(page.after))
                    .unwrap();
            assert_eq!(again, page);
        }
        Err(e) => refused(e),
    }
    // Any revision in the request's own range round-trips through a token.
    let revision = u64::from_le_bytes(
        data.iter()
            .chain(std::iter::repeat(&0))
            .take(8)
            .copied()
            .collect::<Vec<u8>>()
            .try_into()
            .unwrap(),
    );
    match paging::revision(revision) {
        Ok(r) => {
            let page = RevisionPageRequest::parse(1, &paging::encode_revision_token(r)).unwrap();
            assert_eq!(page.after, r);
        }
        Err(message) => assert!(revision > MAX_REVISION && !message.is_empty()),
    }
});
