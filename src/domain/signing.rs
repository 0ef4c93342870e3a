//! User action signing: credentials (public keys), challenges, signature
//! verification, one-time user actions and why one is refused.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{ChallengeId, CredentialId, EnvironmentId, FieldViolation, IdentityId, Timestamp};

/// Metadata key that carries a user action on a mutating call.
pub const USER_ACTION_HEADER: &str = "x-rbacd-user-action";
/// The longest a challenge, and the user action made from it, stays valid.
pub const MAX_ACTION_LIFETIME: Duration = Duration::from_secs(5 * 60);
/// Every user action starts with this, so leaked ones are easy to grep for.
const TOKEN_PREFIX: &str = "rbua_";
/// The first line of every challenge: signatures made for rbacd cannot be
/// replayed as signatures over anything else.
const CHALLENGE_DOMAIN: &str = "rbacd user action v1";

/// The algorithm of a credential's key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CredentialKind {
    Ed25519,
    EcdsaP256,
}

impl CredentialKind {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ed25519 => "ED25519",
            Self::EcdsaP256 => "ECDSA_P256",
        }
    }

    /// Reads the stored spelling.
    pub fn from_stored(text: &str) -> Option<Self> {
        [Self::Ed25519, Self::EcdsaP256]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

/// A public key of one of the supported kinds, known to be well formed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    kind: CredentialKind,
    bytes: Vec<u8>,
}

impl PublicKey {
    /// Checks that `bytes` is a valid key of `kind`: Ed25519 as its raw 32
    /// bytes, ECDSA P-256 as the SEC1 uncompressed point (65 bytes).
    pub fn parse(kind: CredentialKind, bytes: &[u8]) -> Result<Self, FieldViolation> {
        let invalid = |why: &str| FieldViolation::new("public_key", why);
        match kind {
            CredentialKind::Ed25519 => {
                let raw: &[u8; 32] = bytes.try_into().map_err(|_| {
                    invalid(&format!(
                        "an Ed25519 public key is its raw 32 bytes; got {} bytes",
                        bytes.len()
                    ))
                })?;
                ed25519_dalek::VerifyingKey::from_bytes(raw)
                    .map_err(|_| invalid("not a valid Ed25519 public key"))?;
            }
            CredentialKind::EcdsaP256 => {
                if bytes.len() != 65 || bytes[0] != 0x04 {
                    return Err(invalid(&format!(
                        "an ECDSA P-256 public key is the SEC1 uncompressed point (65 bytes starting 0x04); got {} bytes",
                        bytes.len()
                    )));
                }
                p256::ecdsa::VerifyingKey::from_sec1_bytes(bytes)
                    .map_err(|_| invalid("not a point of the P-256 curve"))?;
            }
        }
        Ok(Self {
            kind,
            bytes: bytes.to_vec(),
        })
    }

    pub fn kind(&self) -> CredentialKind {
        self.kind
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Whether `signature` is this key's signature over `message`. Ed25519 is
    /// verified strictly (no malleable or small-order forms); ECDSA accepts
    /// DER or the 64-byte r||s form, over SHA-256 of `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self.kind {
            CredentialKind::Ed25519 => {
                let Ok(raw) = <&[u8; 32]>::try_from(self.bytes.as_slice()) else {
                    return false;
                };
                let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(raw) else {
                    return false;
                };
                let Ok(signature) = ed25519_dalek::Signature::from_slice(signature) else {
                    return false;
                };
                key.verify_strict(message, &signature).is_ok()
            }
            CredentialKind::EcdsaP256 => {
                use p256::ecdsa::signature::Verifier;
                let Ok(key) = p256::ecdsa::VerifyingKey::from_sec1_bytes(&self.bytes) else {
                    return false;
                };
                let signature = p256::ecdsa::Signature::from_der(signature)
                    .or_else(|_| p256::ecdsa::Signature::from_slice(signature));
                signature.is_ok_and(|s| key.verify(message, &s).is_ok())
            }
        }
    }
}

/// A public key an identity signs its actions with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    pub id: CredentialId,
    pub environment_id: EnvironmentId,
    pub identity_id: IdentityId,
    pub kind: CredentialKind,
    pub name: String,
    /// The public key, lowercase hex in the change log.
    #[serde(with = "hex_bytes")]
    pub public_key: Vec<u8>,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

impl Credential {
    /// The credential's key; `None` if the stored bytes are no longer valid.
    pub fn key(&self) -> Option<PublicKey> {
        PublicKey::parse(self.kind, &self.public_key).ok()
    }
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::hex(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        super::unhex(&text).ok_or_else(|| D::Error::custom("not lowercase hex"))
    }
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// `n` bytes from the operating system's generator.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes).expect("the operating system's random generator works");
    bytes
}

/// Services whose mutating RPCs an environment can require to be signed.
const GUARDED_SERVICES: &[&str] = &[
    "rbacd.v1.RoleService",
    "rbacd.v1.IdentityService",
    "rbacd.v1.NodeService",
    "rbacd.v1.AssignmentService",
    "rbacd.v1.BulkService",
];
/// ActionSigningService's credential changes: a user action is needed by
/// rule (except for an identity's first credential), whatever the environment says.
const CREDENTIAL_CHANGES: &[&str] = &[
    "/rbacd.v1.ActionSigningService/RegisterCredential",
    "/rbacd.v1.ActionSigningService/RevokeCredential",
];

/// Whether, and by which rule, a call (by its gRPC path) takes a user action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signing {
    /// Reads, AuthorizationService, everything else: never looked at.
    Never,
    /// A mutation: needed when its environment requires signed actions.
    WhenRequired,
    /// A credential change: its handler decides.
    CredentialChange,
}

impl Signing {
    /// The rule for `path`. Within a guarded service every method but reads
    /// (`Get…`, `List…`, `Export`) counts as a mutation, so a new RPC is
    /// guarded unless it is a read.
    pub fn of(path: &str) -> Self {
        if CREDENTIAL_CHANGES.contains(&path) {
            return Self::CredentialChange;
        }
        let Some((service, method)) = path.strip_prefix('/').and_then(|p| p.split_once('/')) else {
            return Self::Never;
        };
        let read = method.starts_with("Get") || method.starts_with("List") || method == "Export";
        if GUARDED_SERVICES.contains(&service) && !read && !method.is_empty() {
            Self::WhenRequired
        } else {
            Self::Never
        }
    }
}

/// What a client asks to sign: one exact call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionRequest {
    /// Full gRPC path, e.g. `/rbacd.v1.RoleService/CreateRole`.
    pub method: String,
    /// SHA-256 of the serialized request message.
    pub request_sha256: [u8; 32],
}

/// The bytes to sign for a challenge: a fixed first line, the challenge id,
/// the method and body hash (so a person or a hardware key can show what is
/// signed), and 32 random bytes (hex) so no two challenges are alike.
pub fn challenge_bytes(id: ChallengeId, action: &ActionRequest) -> Vec<u8> {
    format!(
        "{CHALLENGE_DOMAIN}\nchallenge {id}\nmethod {}\nrequest-sha256 {}\nnonce {}\n",
        action.method,
        hex(&action.request_sha256),
        hex(&random_bytes::<32>()),
    )
    .into_bytes()
}

/// A new user action: the token, handed out once, and its stored hash.
pub struct NewUserAction {
    pub token: String,
    pub hash: String,
}

impl NewUserAction {
    /// 256 random bits.
    pub fn generate() -> Self {
        let token = format!("{TOKEN_PREFIX}{}", hex(&random_bytes::<32>()));
        Self {
            hash: super::secret::hash(&token),
            token,
        }
    }
}

/// What a verified user action was made for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserActionGrant {
    pub environment_id: EnvironmentId,
    pub identity_id: IdentityId,
    pub credential_id: Option<CredentialId>,
    pub method: String,
    pub request_sha256: Vec<u8>,
    pub expires_at: Timestamp,
    pub consumed: bool,
    pub credential_revoked: bool,
}

/// Why a mutating call's user action is refused; each is UNAUTHENTICATED.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    Missing,
    Unknown,
    Expired,
    Reused,
    Foreign,
    MismatchedMethod { signed_for: String },
    MismatchedBody,
    RevokedCredential(CredentialId),
}

impl Refusal {
    /// The message sent to the client.
    pub fn message(&self) -> String {
        let h = USER_ACTION_HEADER;
        match self {
            Self::Missing => format!(
                "missing user action: this environment requires signed actions; send `{h}` from ActionSigningService.BeginAction/CompleteAction"
            ),
            Self::Unknown => format!("unknown user action: `{h}` is not one rbacd issued"),
            Self::Expired => {
                "expired user action: begin a new one with ActionSigningService.BeginAction".into()
            }
            Self::Reused => "reused user action: each is accepted once; sign a new one".into(),
            Self::Foreign => {
                "foreign user action: it was issued to another identity or environment".into()
            }
            Self::MismatchedMethod { signed_for } => {
                format!("mismatched user action: it was signed for `{signed_for}`, not this method")
            }
            Self::MismatchedBody => {
                "mismatched user action: the request body is not the one signed (SHA-256 differs)"
                    .into()
            }
            Self::RevokedCredential(id) => {
                format!(
                    "revoked credential: credential {id} that signed this user action was revoked"
                )
            }
        }
    }
}

impl UserActionGrant {
    /// Whether this user action may be used, now, by `identity` in
    /// `environment`, for `method` with a body of SHA-256 `body`. The order
    /// of the checks makes the message name the first thing wrong.
    pub fn admits(
        &self,
        environment: EnvironmentId,
        identity: IdentityId,
        method: &str,
        body: &[u8; 32],
        now: Timestamp,
    ) -> Result<CredentialId, Refusal> {
        let Some(credential) = self.credential_id else {
            return Err(Refusal::Unknown);
        };
        if self.environment_id != environment || self.identity_id != identity {
            return Err(Refusal::Foreign);
        }
        if self.consumed {
            return Err(Refusal::Reused);
        }
        if now >= self.expires_at {
            return Err(Refusal::Expired);
        }
        if self.method != method {
            return Err(Refusal::MismatchedMethod {
                signed_for: self.method.clone(),
            });
        }
        if self.request_sha256.as_slice() != body.as_slice() {
            return Err(Refusal::MismatchedBody);
        }
        if self.credential_revoked {
            return Err(Refusal::RevokedCredential(credential));
        }
        Ok(credential)
    }
}

impl From<Refusal> for super::Error {
    fn from(refusal: Refusal) -> Self {
        Self::Unauthenticated(refusal.message())
    }
}

#[cfg(test)]
#[path = "signing_tests.rs"]
mod tests;
