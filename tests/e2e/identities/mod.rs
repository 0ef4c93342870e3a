//! IdentityService end to end (the API-key RPCs excepted): every RPC, its
//! success path and its error paths.

mod create_and_read;
mod invite;
mod list_and_update;
mod status_and_delete;

use std::collections::HashSet;

use crate::support::*;
use rbacd::proto::v1 as pb;
use tonic::Code;

fn user(email: &str) -> pb::CreateIdentityRequest {
    pb::CreateIdentityRequest {
        assignments: Default::default(),
        request_id: Default::default(),
        kind: pb::IdentityKind::User.into(),
        email: email.into(),
        external_id: String::new(),
        display_name: String::new(),
    }
}

fn invite(email: &str, assignments: Vec<pb::InitialAssignment>) -> pb::InviteIdentityRequest {
    pb::InviteIdentityRequest {
        request_id: Default::default(),
        kind: pb::IdentityKind::User.into(),
        email: email.into(),
        external_id: String::new(),
        display_name: String::new(),
        assignments,
    }
}

fn initial(role: &str, node: &str) -> pb::InitialAssignment {
    pb::InitialAssignment {
        node: node_by_key(node),
        role: role_by_name(role),
        effective_from: None,
        effective_to: None,
    }
}

fn update(identity: Option<pb::IdentityRef>) -> pb::UpdateIdentityRequest {
    pb::UpdateIdentityRequest {
        request_id: Default::default(),
        identity,
        display_name: None,
        email: None,
        external_id: None,
    }
}

async fn get(server: &TestServer, identity: Option<pb::IdentityRef>) -> pb::Identity {
    server
        .identities()
        .get_identity(pb::GetIdentityRequest { identity })
        .await
        .expect("get identity")
        .into_inner()
        .identity
        .expect("an identity")
}
