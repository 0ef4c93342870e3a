//! The permission grammar: any text either parses or is refused with a short
//! message; what parses displays as it was written and parses again to itself;
//! a pattern matches exactly the permissions it claims, by an independent,
//! segment-wise reading of the grammar.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rbacd::domain::{Permission, PermissionPattern};

/// A refusal quotes at most ~100 characters of the input, plus its explanation.
const MAX_MESSAGE_CHARS: usize = 400;

/// Whether `pattern` grants `permission`, read segment by segment: a concrete
/// pattern grants itself only; `P1:…:Pk:*` grants every permission that has
/// more than k segments and starts with P1…Pk; `*` alone grants everything.
fn grants(pattern: &str, permission: &str) -> bool {
    let wanted: Vec<&str> = permission.split(':').collect();
    let mut given: Vec<&str> = pattern.split(':').collect();
    if given.last() != Some(&"*") {
        return given == wanted;
    }
    given.pop();
    wanted.len() > given.len() && wanted[..given.len()] == given[..]
}

fn refused(message: &str) {
    assert!(!message.is_empty());
    assert!(
        message.chars().count() <= MAX_MESSAGE_CHARS,
        "a refusal of {} characters",
        message.chars().count()
    );
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The first line is read as a pattern, the rest as a permission.
    let (first, second) = text.split_once('\n').unwrap_or((text, text));
    let pattern = match PermissionPattern::parse(first) {
        Ok(p) => {
            assert_eq!(p.to_string(), first);
            assert_eq!(PermissionPattern::parse(&p.to_string()).as_ref(), Ok(&p));
            Some(p)
        }
        Err(message) => {
            refused(&message);
            None
        }
    };
    let permission = match Permission::parse(second) {
        Ok(p) => {
            assert_eq!(p.to_string(), second);
            assert_eq!(Permission::parse(&p.to_string()).as_ref(), Ok(&p));
            // Every permission is also a pattern, which grants it and nothing else.
            let own = PermissionPattern::parse(second).expect("a permission is a pattern");
            assert!(own.matches(&p));
            assert!(own.wildcard_prefix().is_none());
            Some(p)
        }
        Err(message) => {
            refused(&message);
            None
        }
    };
    if let (Some(pattern), Some(permission)) = (pattern, permission) {
        assert_eq!(
            pattern.matches(&permission),
            grants(pattern.as_str(), permission.as_str()),
            "{pattern} / {permission}"
        );
    }
});
