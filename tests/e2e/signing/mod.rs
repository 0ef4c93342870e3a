//! User action signing end to end: credentials, challenges and user actions
//! over real gRPC; the per-environment requirement; every tampering refused;
//! the change log naming the signer; replay refused by a second instance.

mod credentials;
mod required;
mod tampering;

use ed25519_dalek::{Signer as _, SigningKey};
use prost::Message;
use rbacd::proto::v1 as pb;
use tonic::{Code, Request, Status};

use crate::support::*;

/// An Ed25519 key pair, registered as a credential of the admin key's identity.
pub struct Key {
    pub signing: SigningKey,
    pub credential_id: String,
}

/// A fresh Ed25519 key.
pub fn new_key() -> SigningKey {
    SigningKey::from_bytes(&rand_bytes())
}

fn rand_bytes() -> [u8; 32] {
    let a = uuid::Uuid::new_v4();
    let b = uuid::Uuid::new_v4();
    let mut out = [0; 32];
    out[..16].copy_from_slice(a.as_bytes());
    out[16..].copy_from_slice(b.as_bytes());
    out
}

/// Registers a new key for the caller of `clients` (signed with `signer`
/// when given) and returns it.
pub async fn register(clients: &Clients, signer: Option<&Key>) -> Key {
    let signing = new_key();
    let request = pb::RegisterCredentialRequest {
        identity: None,
        kind: pb::CredentialKind::Ed25519.into(),
        public_key: signing.verifying_key().to_bytes().to_vec(),
        name: "test key".into(),
    };
    let path = "/rbacd.v1.ActionSigningService/RegisterCredential";
    let request = match signer {
        Some(key) => signed(clients, key, path, request).await,
        None => Request::new(request),
    };
    let credential = clients
        .signing
        .clone()
        .register_credential(request)
        .await
        .unwrap_or_else(|e| panic!("register a credential: {e:?}"))
        .into_inner()
        .credential
        .expect("a credential");
    Key {
        signing,
        credential_id: credential.id,
    }
}

/// SHA-256 of `message` as sent on the wire.
pub fn body_sha256<M: Message>(message: &M) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(message.encode_to_vec()).to_vec()
}

/// BeginAction for `method` and `body`.
pub async fn begin(clients: &Clients, method: &str, body: Vec<u8>) -> pb::BeginActionResponse {
    clients
        .signing
        .clone()
        .begin_action(pb::BeginActionRequest {
            method: method.into(),
            request_sha256: body,
        })
        .await
        .unwrap_or_else(|e| panic!("BeginAction: {e:?}"))
        .into_inner()
}

/// CompleteAction signing the challenge with `key`, as credential `credential_id`.
pub async fn complete(
    clients: &Clients,
    challenge: &pb::BeginActionResponse,
    key: &SigningKey,
    credential_id: &str,
) -> Result<String, Status> {
    clients
        .signing
        .clone()
        .complete_action(pb::CompleteActionRequest {
            challenge_id: challenge.challenge_id.clone(),
            credential_id: credential_id.into(),
            signature: key.sign(&challenge.challenge).to_bytes().to_vec(),
        })
        .await
        .map(|r| r.into_inner().user_action)
}

/// A user action for calling `method` with `message`, signed by `key`.
pub async fn user_action<M: Message>(
    clients: &Clients,
    key: &Key,
    method: &str,
    message: &M,
) -> String {
    let challenge = begin(clients, method, body_sha256(message)).await;
    complete(clients, &challenge, &key.signing, &key.credential_id)
        .await
        .unwrap_or_else(|e| panic!("CompleteAction: {e:?}"))
}

/// `message` in a request carrying `token` as its user action.
pub fn with_action<M>(message: M, token: &str) -> Request<M> {
    let mut request = Request::new(message);
    request.metadata_mut().insert(
        "x-rbacd-user-action",
        token.parse().expect("a user action is ASCII"),
    );
    request
}

/// `message` signed by `key` for `method`.
pub async fn signed<M: Message>(
    clients: &Clients,
    key: &Key,
    method: &str,
    message: M,
) -> Request<M> {
    let token = user_action(clients, key, method, &message).await;
    with_action(message, &token)
}

pub const CREATE_ROLE: &str = "/rbacd.v1.RoleService/CreateRole";

pub fn role_request(name: &str) -> pb::CreateRoleRequest {
    pb::CreateRoleRequest {
        request_id: Default::default(),
        name: name.into(),
        description: String::new(),
        permissions: vec!["Docs:Read".into()],
    }
}

/// Makes environment `name` require signed actions, or not, as the operator
/// command does: straight in the database.
pub async fn require_signed_actions(server: &TestServer, name: &str, on: bool) {
    let store = rbacd::store::Store::connect(server.database_url())
        .await
        .expect("a second store on the same database");
    let env = store
        .find_environment(name)
        .await
        .expect("look up the environment")
        .expect("the environment exists");
    store
        .set_require_signed_actions(env.id, on)
        .await
        .expect("set the requirement");
    store.close().await;
}

/// UNAUTHENTICATED whose message starts with `word`.
#[track_caller]
pub fn expect_refused<T: std::fmt::Debug>(result: Result<T, Status>, word: &str) {
    let status = expect_code(result, Code::Unauthenticated);
    assert!(
        status.message().starts_with(word),
        "expected a `{word}` refusal: {}",
        status.message()
    );
}
