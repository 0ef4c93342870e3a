//! Revocation reaches open calls: revoking a key, disabling or deleting its
//! identity, or taking away `Rbacd:Check` / `Rbacd:Audit:Read` ends that
//! identity's open CheckStream, Watch and waiting BatchCheck within a second,
//! on this instance and on another one following the same database.

mod replica;
mod triggers;

use std::time::{Duration, Instant};

use crate::support::*;
use rbacd::proto::v1 as pb;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Streaming};

/// How soon an open call must end once access is lost.
const WITHIN: Duration = Duration::from_secs(1);

/// A service account holding a role with `permissions` at the root, and its key.
async fn account(server: &TestServer, name: &str, permissions: &[&str]) -> Account {
    let role = create_role(server, &format!("{name}-role"), permissions).await;
    let identity = server
        .identities()
        .create_identity(pb::CreateIdentityRequest {
            kind: pb::IdentityKind::ServiceAccount.into(),
            external_id: format!("svc|{name}"),
            display_name: name.into(),
            ..Default::default()
        })
        .await
        .expect("create a service account")
        .into_inner()
        .identity
        .expect("an identity");
    let root = root(server).await;
    let assignment = assign(server, &identity, &role, &root).await;
    let key = server
        .identities()
        .create_api_key(pb::CreateApiKeyRequest {
            request_id: Default::default(),
            identity: identity_by_id(&identity.id),
            name: format!("key of {name}"),
        })
        .await
        .expect("create an API key")
        .into_inner();
    Account {
        identity,
        role,
        assignment,
        key_id: key.api_key.expect("an API key").id,
        secret: key.secret,
    }
}

struct Account {
    identity: pb::Identity,
    role: pb::Role,
    assignment: pb::Assignment,
    key_id: String,
    secret: String,
}

/// An open CheckStream that has answered one check, so it is surely open.
struct OpenCheckStream {
    // Kept open: the client does not half-close.
    _requests: mpsc::Sender<pb::CheckRequest>,
    answers: Streaming<pb::CheckResponse>,
}

async fn open_check_stream(clients: &Clients, identity: &pb::Identity) -> OpenCheckStream {
    let (tx, rx) = mpsc::channel(4);
    tx.send(check_of(identity)).await.expect("send a check");
    let mut answers = clients
        .authz
        .clone()
        .check_stream(ReceiverStream::new(rx))
        .await
        .expect("open CheckStream")
        .into_inner();
    answers
        .message()
        .await
        .expect("the first answer")
        .expect("an answer");
    OpenCheckStream {
        _requests: tx,
        answers,
    }
}

fn check_of(identity: &pb::Identity) -> pb::CheckRequest {
    pb::CheckRequest {
        identity: identity_by_id(&identity.id),
        permission: "Docs:Read".into(),
        node: node_by_key("root"),
        ..Default::default()
    }
}

/// An open Watch of environment changes (there is one, then none: it idles).
async fn open_watch(clients: &Clients) -> Streaming<pb::WatchResponse> {
    clients
        .audit
        .clone()
        .watch(pb::WatchRequest {
            object_kind: pb::ObjectKind::Environment.into(),
            ..Default::default()
        })
        .await
        .expect("open Watch")
        .into_inner()
}

/// Reads `stream` until it ends with an error, within [`WITHIN`] of `since`;
/// returns that error's code. Messages before it are allowed (changes made
/// before the revocation), none after it.
async fn ends_with<T: std::fmt::Debug>(
    what: &str,
    stream: &mut Streaming<T>,
    since: Instant,
) -> Code {
    loop {
        let left = WITHIN.saturating_sub(since.elapsed());
        match tokio::time::timeout(left, stream.message()).await {
            Err(_) => panic!("{what} still open {WITHIN:?} after access was lost"),
            Ok(Ok(Some(_))) => continue,
            Ok(Ok(None)) => panic!("{what} ended without saying why"),
            Ok(Err(status)) => {
                let after = tokio::time::timeout(Duration::from_secs(5), stream.message()).await;
                assert!(
                    matches!(after, Ok(Ok(None)) | Ok(Err(_))),
                    "{what} sent something after its ending status: {after:?}"
                );
                return status.code();
            }
        }
    }
}
