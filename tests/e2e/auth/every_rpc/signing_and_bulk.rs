//! The every-RPC table's rows for ActionSigningService and BulkService.

use super::{Elsewhere, Rpc};
use crate::support::Clients;
use rbacd::proto::v1 as pb;

pub(super) fn push(rows: &mut Vec<Rpc>, c: &Clients, user: impl Fn() -> Option<pb::IdentityRef>) {
    // ActionSigningService.
    rpc!(
        rows,
        NotFound,
        c.signing,
        register_credential,
        pb::RegisterCredentialRequest {
            identity: user(),
            kind: pb::CredentialKind::Ed25519.into(),
            public_key: ed25519_dalek::SigningKey::from_bytes(&[7; 32])
                .verifying_key()
                .to_bytes()
                .to_vec(),
            name: "laptop".into(),
        }
    );
    rpc!(
        rows,
        NotFound,
        c.signing,
        list_credentials,
        pb::ListCredentialsRequest {
            identity: user(),
            ..Default::default()
        }
    );
    rpc!(
        rows,
        Answers,
        c.signing,
        revoke_credential,
        pb::RevokeCredentialRequest {
            credential_id: uuid::Uuid::now_v7().to_string(),
        }
    );
    rpc!(
        rows,
        Answers,
        c.signing,
        begin_action,
        pb::BeginActionRequest {
            method: "/rbacd.v1.RoleService/CreateRole".into(),
            request_sha256: vec![0; 32],
        }
    );
    rpc!(
        rows,
        Answers,
        c.signing,
        complete_action,
        pb::CompleteActionRequest {
            challenge_id: uuid::Uuid::now_v7().to_string(),
            credential_id: uuid::Uuid::now_v7().to_string(),
            signature: vec![0; 64],
        }
    );
    // BulkService: both act on the caller's own environment.
    rpc!(rows, Answers, c.bulk, export, pb::ExportRequest::default());
    rpc!(
        rows,
        Answers,
        c.bulk,
        import,
        tokio_stream::iter(vec![pb::ImportRequest::default()])
    );
}
