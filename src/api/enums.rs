//! Every proto ↔ domain enum map: `From` towards the wire, `TryFrom` from it
//! (failing only for the `_UNSPECIFIED` value), and [`filter`] for list filters.

use crate::domain::{
    AssignmentState, IdentityKind, IdentityStatus, change::ObjectKind, signing::CredentialKind,
};
use crate::engine::Reason;
use crate::proto::v1 as pb;

/// The `_UNSPECIFIED` value of a wire enum: no domain value.
#[derive(Debug)]
pub struct Unspecified;

/// A wire enum number as a filter: `_UNSPECIFIED` means none, an unknown
/// number is refused with a message naming the enum (`name`).
pub fn filter<P, D>(value: i32, name: &str) -> Result<Option<D>, String>
where
    P: TryFrom<i32>,
    D: TryFrom<P, Error = Unspecified>,
{
    let wire = P::try_from(value).map_err(|_| format!("{value} is not an {name}"))?;
    Ok(D::try_from(wire).ok())
}

/// Both directions of a one-to-one map between a domain and a wire enum.
macro_rules! enum_map {
    ($domain:ty, $wire:ty, $($variant:ident),+) => {
        impl From<$domain> for $wire {
            fn from(value: $domain) -> Self {
                match value {
                    $(<$domain>::$variant => Self::$variant,)+
                }
            }
        }

        impl TryFrom<$wire> for $domain {
            type Error = Unspecified;
            fn try_from(value: $wire) -> Result<Self, Unspecified> {
                match value {
                    $(<$wire>::$variant => Ok(Self::$variant),)+
                    <$wire>::Unspecified => Err(Unspecified),
                }
            }
        }
    };
}

enum_map!(IdentityKind, pb::IdentityKind, User, ServiceAccount);
enum_map!(
    IdentityStatus,
    pb::IdentityStatus,
    Invited,
    Active,
    Disabled
);
enum_map!(
    AssignmentState,
    pb::AssignmentState,
    Pending,
    Active,
    Expired
);
enum_map!(
    ObjectKind,
    pb::ObjectKind,
    Environment,
    Role,
    Identity,
    Node,
    Assignment,
    ApiKey,
    Credential
);
enum_map!(CredentialKind, pb::CredentialKind, Ed25519, EcdsaP256);
enum_map!(
    Reason,
    pb::DecisionReason,
    Granted,
    NoMatchingAssignment,
    IdentityNotActive,
    UnknownIdentity,
    UnknownNode
);
