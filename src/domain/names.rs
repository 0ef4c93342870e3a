//! Validated names: role names, node keys, emails and external ids.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Most characters in a name, key, email or external id.
pub const MAX_NAME_LEN: usize = 256;
/// Most characters in a description.
pub const MAX_TEXT_LEN: usize = 1024;

/// Checks free text (display names, node names and kinds, descriptions) and,
/// through them, every name: at most `max` characters, none of Unicode
/// categories Cc or Cf (controls and invisible format characters).
pub fn check_text(text: &str, max: usize) -> Result<(), String> {
    // A text no longer in bytes than `max` is no longer in characters either.
    if text.len() > max && text.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if let Some(c) = super::unicode::first_invisible(text) {
        return Err(format!(
            "must not contain control or invisible formatting characters (found U+{:04X})",
            u32::from(c)
        ));
    }
    Ok(())
}

/// Whether `text` is a name of printable ASCII without spaces, which passes
/// every check of a name (the common case: each check request has one or two).
fn is_plain_name(text: &str) -> bool {
    !text.is_empty() && text.len() <= MAX_NAME_LEN && text.bytes().all(|b| b.is_ascii_graphic())
}

fn check_name(text: &str) -> Result<(), String> {
    if is_plain_name(text) {
        return Ok(());
    }
    if text.is_empty() {
        return Err("is required".into());
    }
    check_text(text, MAX_NAME_LEN)?;
    if text.trim() != text {
        return Err("must not start or end with whitespace".into());
    }
    Ok(())
}

/// A name without whitespace anywhere (node keys, emails).
fn check_spaceless_name(text: &str) -> Result<(), String> {
    if is_plain_name(text) {
        return Ok(());
    }
    check_name(text)?;
    if text.chars().any(char::is_whitespace) {
        return Err("must not contain whitespace".into());
    }
    Ok(())
}

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident, $check:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses the text, saying what is wrong when it is not valid.
            pub fn parse(text: &str) -> Result<Self, String> {
                let check: fn(&str) -> Result<(), String> = $check;
                check(text)?;
                Ok(Self(text.to_owned()))
            }

            /// The text as written.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Wraps text the store itself wrote after parsing it, without checking it
            /// again (loading millions of rows at start). Only for reading back the
            /// store's own rows; everything else goes through [`Self::parse`].
            pub fn from_stored_unchecked(text: String) -> Self {
                Self(text)
            }
        }

        /// The same check as `parse`, keeping the given text rather than copying it.
        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                let check: fn(&str) -> Result<(), String> = $check;
                check(&s)?;
                Ok(Self(s))
            }
        }

        impl From<$name> for String {
            fn from(n: $name) -> String {
                n.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

name_type!(
    /// A role's name: unique per environment, compared case-insensitively.
    RoleName,
    check_name
);
name_type!(
    /// A node's key, the caller's own name for the resource, e.g. `wallet:42`.
    NodeKey,
    check_spaceless_name
);
name_type!(
    /// An identity's id in another system, e.g. `auth0|123456789`; compared exactly.
    ExternalId,
    check_name
);
name_type!(
    /// An email address; compared case-insensitively. Only a USER's email must
    /// have the `user@domain` form, see [`Email::check_user_form`].
    Email,
    check_spaceless_name
);

impl NodeKey {
    /// The key of every environment's root node.
    pub fn root() -> Self {
        Self(super::ROOT_NODE_KEY.to_owned())
    }
}

impl RoleName {
    /// The case-folded form that uniqueness and lookups use.
    pub fn folded(&self) -> String {
        fold(&self.0)
    }
}

impl Email {
    /// The case-folded form that uniqueness and lookups use.
    pub fn folded(&self) -> String {
        fold(&self.0)
    }

    /// Checks the `user@domain` form a USER's email must have.
    pub fn check_user_form(&self) -> Result<(), String> {
        match self.0.split_once('@') {
            Some((local, domain))
                if !local.is_empty() && !domain.is_empty() && !domain.contains('@') =>
            {
                Ok(())
            }
            _ => Err(format!(
                "`{}` is not an email address: it needs exactly one `@` with text on both sides",
                super::quote(&self.0)
            )),
        }
    }
}

/// Case folding for names compared case-insensitively.
pub fn fold(text: &str) -> String {
    text.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_fold_and_refuse_blank_or_long_text() {
        let name = RoleName::parse("Wallet_Read_User").unwrap();
        assert_eq!(name.folded(), "wallet_read_user");
        assert_eq!(name.as_str(), "Wallet_Read_User");
        assert!(RoleName::parse("").is_err());
        assert!(RoleName::parse(" padded").is_err());
        assert!(RoleName::parse(&"r".repeat(256)).is_ok());
        assert!(RoleName::parse(&"r".repeat(257)).is_err());
    }

    #[test]
    fn every_name_refuses_control_and_format_characters() {
        for bad in [
            "payments\u{200B}",
            "pay\u{202E}stnemyap",
            "\u{FEFF}payments",
            "pay\u{AD}ments",
            "pay\u{7}ments",
            "pay\u{2066}ments",
        ] {
            assert!(RoleName::parse(bad).is_err(), "{bad:?}");
            assert!(NodeKey::parse(bad).is_err(), "{bad:?}");
            assert!(ExternalId::parse(bad).is_err(), "{bad:?}");
            assert!(
                Email::parse(&format!("{bad}@example.com")).is_err(),
                "{bad:?}"
            );
            assert!(check_text(bad, MAX_NAME_LEN).is_err(), "{bad:?}");
        }
        let message = NodeKey::parse("payments\u{200B}").unwrap_err();
        assert!(message.contains("U+200B"), "{message}");
        assert!(NodeKey::parse("Zürich:支店-42").is_ok());
    }

    #[test]
    fn a_bad_email_is_quoted_at_most_a_hundred_characters() {
        let long = "x".repeat(250);
        let message = Email::parse(&long).unwrap().check_user_form().unwrap_err();
        assert!(message.len() < 250, "{message}");
        assert!(message.contains('…'), "{message}");
    }

    /// A name the one-pass test takes is one the full checks take, and every ASCII
    /// byte at each position is judged by the full checks as before.
    #[test]
    fn plain_names_pass_the_full_checks() {
        let full = |text: &str| {
            check_text(text, MAX_NAME_LEN).is_ok() && !text.is_empty() && text.trim() == text
        };
        let spaceless = |text: &str| full(text) && !text.chars().any(char::is_whitespace);
        let mut texts = vec![String::new(), "n".repeat(256), "n".repeat(257)];
        for position in 0..3 {
            for byte in 0u8..0x80 {
                let mut text = b"abc".to_vec();
                text[position] = byte;
                texts.push(String::from_utf8(text).unwrap());
            }
        }
        texts.extend(["Zürich", "a\u{85}b", "a\u{A0}"].map(String::from));
        for text in texts {
            if is_plain_name(&text) {
                assert!(spaceless(&text), "{text:?}");
            }
            assert_eq!(check_name(&text).is_ok(), full(&text), "{text:?}");
            assert_eq!(
                check_spaceless_name(&text).is_ok(),
                spaceless(&text),
                "{text:?}"
            );
        }
    }

    #[test]
    fn node_keys_refuse_whitespace() {
        assert!(NodeKey::parse("wallet:42").is_ok());
        assert!(NodeKey::parse("wallet 42").is_err());
    }

    #[test]
    fn user_emails_need_one_at_with_text_on_both_sides() {
        for ok in ["jdoe@example.co", "a@b"] {
            assert!(Email::parse(ok).unwrap().check_user_form().is_ok(), "{ok}");
        }
        for bad in ["jdoe", "@example.co", "jdoe@", "a@b@c"] {
            assert!(
                Email::parse(bad).unwrap().check_user_form().is_err(),
                "{bad}"
            );
        }
        assert_eq!(
            Email::parse("JDoe@Example.CO").unwrap().folded(),
            "jdoe@example.co"
        );
    }
}
