//! Typed ids: a UUID per kind of object, so one cannot be passed for another.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }
    };
}

id_type!(
    /// Id of an environment.
    EnvironmentId
);
id_type!(
    /// Id of a resource node.
    NodeId
);
id_type!(
    /// Id of a role.
    RoleId
);
id_type!(
    /// Id of an identity.
    IdentityId
);
id_type!(
    /// Id of an assignment.
    AssignmentId
);
id_type!(
    /// Id of an API key.
    ApiKeyId
);
id_type!(
    /// Id of a credential of user action signing.
    CredentialId
);
id_type!(
    /// Id of a user action's challenge.
    ChallengeId
);
