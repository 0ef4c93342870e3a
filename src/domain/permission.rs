//! The permission grammar: `:`-separated segments of `[A-Za-z0-9_.-]+`; a role
//! may also hold a pattern whose last segment is `*`, or `*` alone.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Most permissions a role may hold.
pub const MAX_PERMISSIONS_PER_ROLE: usize = 1000;
const MAX_PERMISSION_LEN: usize = 256;

fn valid_segment(segment: &str) -> bool {
    !segment.is_empty()
        && segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Bytes a segment may hold: `[A-Za-z0-9_.-]`.
const SEGMENT_BYTES: [bool; 256] = {
    let mut allowed = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        allowed[b] = c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-');
        b += 1;
    }
    allowed
};

/// Whether `text` is a valid permission, in one pass: of the allowed length, and
/// `:`-separated segments that are neither empty nor hold another byte.
fn is_permission(text: &str) -> bool {
    if text.len() > MAX_PERMISSION_LEN {
        return false;
    }
    // A `:` before the first byte, so an empty first segment is refused too.
    let mut previous = b':';
    for &b in text.as_bytes() {
        if b == b':' {
            if previous == b':' {
                return false;
            }
        } else if !SEGMENT_BYTES[b as usize] {
            return false;
        }
        previous = b;
    }
    previous != b':'
}

fn check_length(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err("must not be empty".into());
    }
    if text.len() > MAX_PERMISSION_LEN {
        return Err(format!("must be at most {MAX_PERMISSION_LEN} characters"));
    }
    Ok(())
}

/// A concrete permission, e.g. `Wallets:Read`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Permission(String);

impl Permission {
    /// Parses a concrete permission; patterns are refused.
    pub fn parse(text: &str) -> Result<Self, String> {
        Self::check(text).map(|()| Self(text.to_owned()))
    }

    fn check(text: &str) -> Result<(), String> {
        // Every check request's permission passes here: one pass over the bytes.
        if is_permission(text) {
            return Ok(());
        }
        check_length(text)?;
        if text.split(':').all(valid_segment) {
            Ok(())
        } else if text.split(':').any(|s| s == "*") {
            Err(format!(
                "`{}` is a pattern; a concrete permission such as `Wallets:Read` is needed here",
                super::quote(text)
            ))
        } else {
            Err(format!(
                "`{}` is not a permission: use `:`-separated segments of letters, digits, `_`, `.` or `-`, e.g. `Wallets:Read`",
                super::quote(text)
            ))
        }
    }

    /// The permission as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The permissions rbacd checks for its own API, held like any other.
pub mod builtin {
    use super::Permission;

    macro_rules! builtin {
        ($($name:ident = $text:literal;)*) => {
            $(
                #[doc = concat!("`", $text, "`")]
                pub fn $name() -> Permission {
                    Permission($text.to_owned())
                }
            )*
        };
    }

    builtin! {
        roles_read = "Rbacd:Roles:Read";
        roles_write = "Rbacd:Roles:Write";
        identities_read = "Rbacd:Identities:Read";
        identities_write = "Rbacd:Identities:Write";
        nodes_read = "Rbacd:Nodes:Read";
        nodes_write = "Rbacd:Nodes:Write";
        assignments_read = "Rbacd:Assignments:Read";
        assignments_write = "Rbacd:Assignments:Write";
        check = "Rbacd:Check";
        audit_read = "Rbacd:Audit:Read";
    }
}

/// The same check as `parse`, keeping the given text rather than copying it.
impl TryFrom<String> for Permission {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::check(&s).map(|()| Self(s))
    }
}

impl From<Permission> for String {
    fn from(p: Permission) -> String {
        p.0
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a role holds: a permission, a `Prefix:*` pattern, or `*`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PermissionPattern(String);

impl PermissionPattern {
    /// Parses a permission or a pattern whose last segment is `*`.
    pub fn parse(text: &str) -> Result<Self, String> {
        check_length(text)?;
        let mut segments: Vec<&str> = text.split(':').collect();
        if segments.last() == Some(&"*") {
            segments.pop();
        }
        if segments.iter().all(|s| valid_segment(s)) {
            Ok(Self(text.to_owned()))
        } else {
            Err(format!(
                "`{}` is not a permission or pattern: use `:`-separated segments of letters, digits, `_`, `.` or `-` (e.g. `Wallets:Read`), optionally ending in `:*`, or `*` alone",
                super::quote(text)
            ))
        }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Wraps a pattern the store itself wrote after parsing it, without checking it
    /// again (loading the snapshot at start). Only for reading back the store's own
    /// rows; everything else goes through [`Self::parse`].
    pub fn from_stored_unchecked(text: String) -> Self {
        Self(text)
    }

    /// The text before the trailing `*` (with its `:`), or `None` for a concrete permission.
    /// `*` alone has the empty prefix.
    pub fn wildcard_prefix(&self) -> Option<&str> {
        self.0.strip_suffix('*')
    }

    /// Whether the pattern grants `permission`.
    pub fn matches(&self, permission: &Permission) -> bool {
        match self.wildcard_prefix() {
            None => self.0 == permission.0,
            Some(prefix) => permission.0.starts_with(prefix) && permission.0.len() > prefix.len(),
        }
    }
}

impl TryFrom<String> for PermissionPattern {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

impl From<PermissionPattern> for String {
    fn from(p: PermissionPattern) -> String {
        p.0
    }
}

impl fmt::Display for PermissionPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Permission {
        Permission::parse(s).unwrap()
    }
    fn pat(s: &str) -> PermissionPattern {
        PermissionPattern::parse(s).unwrap()
    }

    /// The one-pass test against the segment-by-segment definition, for every
    /// byte at each position of short texts, and around the length limit.
    #[test]
    fn one_pass_test_agrees_with_the_segments() {
        let by_segments =
            |text: &str| check_length(text).is_ok() && text.split(':').all(valid_segment);
        let mut texts = vec![String::new(), "a".repeat(256), "a".repeat(257)];
        for template in ["ab", "a:b", "ab:cd:e", ":", "a:"] {
            for position in 0..template.len() {
                for byte in 0u8..0x80 {
                    let mut text = template.as_bytes().to_vec();
                    text[position] = byte;
                    texts.push(String::from_utf8(text).unwrap());
                }
            }
        }
        texts.extend(["é:a", "a:é", "a::b", "a:*", "*"].map(String::from));
        for text in texts {
            assert_eq!(is_permission(&text), by_segments(&text), "{text:?}");
        }
    }

    #[test]
    fn concrete_permissions_parse_and_bad_ones_are_refused() {
        for ok in ["Wallets:Read", "Payments:Refunds:Create", "a", "x.y-z_1:B"] {
            assert!(Permission::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            ":",
            "Wallets:",
            ":Read",
            "Wallets::Read",
            "Wal lets",
            "Wallets:*",
            "*",
            "a/b",
        ] {
            assert!(Permission::parse(bad).is_err(), "{bad}");
        }
        assert!(Permission::parse(&"a".repeat(257)).is_err());
    }

    #[test]
    fn refusals_quote_at_most_a_hundred_characters() {
        let bad = format!("{}/", "a".repeat(200));
        for message in [
            Permission::parse(&bad).unwrap_err(),
            PermissionPattern::parse(&bad).unwrap_err(),
        ] {
            assert!(!message.contains(&"a".repeat(101)), "{message}");
            assert!(message.contains('…'), "{message}");
        }
    }

    #[test]
    fn patterns_allow_only_a_trailing_star() {
        for ok in ["*", "Wallets:*", "Payments:Refunds:*", "Wallets:Read"] {
            assert!(PermissionPattern::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "*:Read",
            "Wallets:*:Read",
            "Wallets*",
            "Wal*",
            "**",
            "Wallets:**",
            ":*",
        ] {
            assert!(PermissionPattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn star_matches_one_or_more_further_segments() {
        assert!(pat("Wallets:*").matches(&p("Wallets:Read")));
        assert!(pat("Wallets:*").matches(&p("Wallets:Keys:Rotate")));
        assert!(!pat("Wallets:*").matches(&p("Wallets")));
        assert!(!pat("Wallets:*").matches(&p("WalletsX:Read")));
        assert!(pat("*").matches(&p("Anything:At:All")));
        assert!(pat("Wallets:Read").matches(&p("Wallets:Read")));
        assert!(!pat("Wallets:Read").matches(&p("Wallets:Readers")));
        assert!(!pat("Wallets:Read").matches(&p("wallets:read")));
    }
}
