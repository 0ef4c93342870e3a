//! API key secrets: random, shown once, stored only as a SHA-256.

use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Every generated secret starts with this, so leaked keys are easy to grep for.
const SECRET_PREFIX: &str = "rbacd_";
/// Most characters of a secret's random part shown in listings, after the
/// `rbacd_` marker when there is one.
pub const VISIBLE_SECRET_CHARS: usize = 8;
/// Shortest secret accepted from an operator (RBACD_BOOTSTRAP_API_KEY).
pub const MIN_SECRET_LEN: usize = 24;

/// A secret's plaintext. `Debug` never shows it, so it cannot reach a log by
/// accident; `Display` does, for the one place it is shown to its owner.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The plaintext.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Secret {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(redacted)")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new API key secret: the plaintext, shown once, and what is stored.
pub struct NewSecret {
    pub plaintext: Secret,
    pub prefix: String,
    pub hash: String,
}

impl NewSecret {
    /// 244 random bits from the operating system's generator (two v4 UUIDs).
    pub fn generate() -> Self {
        let plaintext = format!(
            "{SECRET_PREFIX}{}{}",
            Uuid::new_v4().simple(),
            Uuid::new_v4().simple()
        );
        Self::from_plaintext(plaintext)
    }

    /// A secret chosen by an operator.
    pub fn from_plaintext(plaintext: String) -> Self {
        Self {
            prefix: visible_prefix(&plaintext),
            hash: hash(&plaintext),
            plaintext: Secret(plaintext),
        }
    }
}

/// The part of a secret that may be shown: the `rbacd_` marker, if any, and at
/// most [`VISIBLE_SECRET_CHARS`] characters after it. Applied to a prefix stored
/// before this limit it gives the prefix that may be shown for that key.
pub fn visible_prefix(secret: &str) -> String {
    let (marker, rest) = match secret.strip_prefix(SECRET_PREFIX) {
        Some(rest) => (SECRET_PREFIX, rest),
        None => ("", secret),
    };
    let shown: String = rest.chars().take(VISIBLE_SECRET_CHARS).collect();
    format!("{marker}{shown}")
}

/// The stored form of a secret: lowercase hex SHA-256. Keys are found by this
/// hash, so no comparison ever touches the secret itself.
pub fn hash(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_differ_and_hash_to_what_is_stored() {
        let a = NewSecret::generate();
        let b = NewSecret::generate();
        assert_ne!(a.plaintext, b.plaintext);
        assert!(a.plaintext.len() >= 64 + SECRET_PREFIX.len());
        assert_eq!(hash(&a.plaintext), a.hash);
        assert_ne!(a.hash, b.hash);
        assert!(a.plaintext.starts_with(&a.prefix));
        assert!(!a.hash.contains(a.plaintext.expose()));
        assert!(!format!("{:?}", a.plaintext).contains(a.plaintext.expose()));
        assert_eq!(a.prefix.len(), SECRET_PREFIX.len() + VISIBLE_SECRET_CHARS);
    }

    #[test]
    fn no_prefix_shows_more_than_eight_characters_of_the_secret_part() {
        let operator = NewSecret::from_plaintext("my-bootstrap-key-0123456789abcdef".into());
        assert_eq!(operator.prefix, "my-boots");
        let generated = NewSecret::from_plaintext(format!("{SECRET_PREFIX}{}", "f".repeat(64)));
        assert_eq!(generated.prefix, "rbacd_ffffffff");
        // A prefix stored before the limit is cut the same way when shown.
        assert_eq!(visible_prefix("my-bootstrap-k"), "my-boots");
        assert_eq!(visible_prefix("rbacd_ffffffff"), "rbacd_ffffffff");
        assert_eq!(visible_prefix("short"), "short");
    }
}
