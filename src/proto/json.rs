//! Messages as proto JSON: the canonical mapping of proto3 to JSON, as grpcurl
//! prints it — lowerCamelCase field names, 64-bit integers as strings,
//! timestamps in RFC 3339, enum values by name, fields at their default left out.
//!
//! The mapping is driven by the descriptors build.rs compiled, so it follows
//! the proto files and cannot drift from them; the CLI's `--output json` and
//! the change log's object images both use it.

use std::sync::LazyLock;

use prost_reflect::{DescriptorPool, DynamicMessage};
use serde_json::Value;

use super::v1;

/// The descriptors of `proto/`, read once.
static POOL: LazyLock<Result<DescriptorPool, String>> =
    LazyLock::new(|| DescriptorPool::decode(super::FILE_DESCRIPTOR_SET).map_err(|e| e.to_string()));

/// A generated message that knows its full proto name.
pub trait Named: prost::Message {
    /// The message's full name, e.g. `rbacd.v1.Role`.
    const NAME: &'static str;
}

/// Names `rbacd.v1` messages after their Rust type, which prost names as the proto does.
macro_rules! named {
    ($($message:ident),* $(,)?) => {
        $(impl Named for v1::$message {
            const NAME: &'static str = concat!("rbacd.v1.", stringify!($message));
        })*
    };
}

named!(
    // Objects.
    Role,
    Identity,
    Node,
    Assignment,
    ApiKey,
    Credential,
    Change,
    // Responses the CLI prints.
    CreateRoleResponse,
    GetRoleResponse,
    ListRolesResponse,
    UpdateRoleResponse,
    DeleteRoleResponse,
    CreateIdentityResponse,
    InviteIdentityResponse,
    GetIdentityResponse,
    ListIdentitiesResponse,
    UpdateIdentityResponse,
    ActivateIdentityResponse,
    DisableIdentityResponse,
    DeleteIdentityResponse,
    CreateApiKeyResponse,
    ListApiKeysResponse,
    RevokeApiKeyResponse,
    CreateNodeResponse,
    GetNodeResponse,
    ListNodesResponse,
    MoveNodeResponse,
    DeleteNodeResponse,
    CreateAssignmentResponse,
    GetAssignmentResponse,
    ListAssignmentsResponse,
    DeleteAssignmentResponse,
    SetRolesResponse,
    UpdateAssignmentResponse,
    DeleteAssignmentsResponse,
    CheckResponse,
    ListPermissionsResponse,
    LookupNodesResponse,
    LookupIdentitiesResponse,
    ListChangesResponse,
    WatchResponse,
    RegisterCredentialResponse,
    ListCredentialsResponse,
    RevokeCredentialResponse,
);

/// `message` as proto JSON. Fails only when the descriptors and the generated
/// code disagree, or a timestamp lies outside years 1…9999.
pub fn to_value<M: Named>(message: &M) -> Result<Value, String> {
    let pool = POOL.as_ref().map_err(Clone::clone)?;
    let descriptor = pool
        .get_message_by_name(M::NAME)
        .ok_or_else(|| format!("no descriptor for {}", M::NAME))?;
    let dynamic = DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice())
        .map_err(|e| format!("{}: {e}", M::NAME))?;
    serde_json::to_value(&dynamic).map_err(|e| format!("{}: {e}", M::NAME))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn fields_are_camel_case_enums_named_times_rfc3339_and_defaults_omitted() {
        let identity = v1::Identity {
            id: "i1".into(),
            kind: v1::IdentityKind::ServiceAccount.into(),
            status: v1::IdentityStatus::Active.into(),
            display_name: "Robot".into(),
            create_time: Some(prost_types::Timestamp {
                seconds: 1_700_000_000,
                nanos: 500_000_000,
            }),
            ..Default::default()
        };
        assert_eq!(
            to_value(&identity).unwrap(),
            json!({
                "id": "i1",
                "kind": "IDENTITY_KIND_SERVICE_ACCOUNT",
                "status": "IDENTITY_STATUS_ACTIVE",
                "displayName": "Robot",
                "createTime": "2023-11-14T22:13:20.500Z",
            })
        );
    }

    #[test]
    fn sixty_four_bit_integers_are_strings() {
        let response = v1::CreateRoleResponse {
            role: None,
            revision: 42,
        };
        assert_eq!(to_value(&response).unwrap(), json!({ "revision": "42" }));
    }

    #[test]
    fn every_named_message_has_a_descriptor() {
        fn check<M: Named + Default>() {
            to_value(&M::default()).unwrap_or_else(|e| panic!("{e}"));
        }
        check::<v1::Role>();
        check::<v1::Change>();
        check::<v1::SetRolesResponse>();
        check::<v1::LookupIdentitiesResponse>();
        check::<v1::RegisterCredentialResponse>();
    }
}
