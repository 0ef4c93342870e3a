//! Transparent user action signing for the client subcommands: with
//! `--signing-key`, every call that can take a user action first runs
//! BeginAction (with the SHA-256 of the exact request bytes about to be sent)
//! and CompleteAction (with the key's signature over the challenge), then
//! carries `x-rbacd-user-action`. The subcommands themselves know nothing of it.

use std::{
    path::Path,
    sync::Arc,
    task::{Context, Poll},
};

use ed25519_dalek::{
    Signer as _, SigningKey,
    pkcs8::{DecodePrivateKey, EncodePrivateKey, spki::der::pem::LineEnding},
};
use futures::future::BoxFuture;
use http_body_util::BodyExt;
use tokio::sync::OnceCell;
use tonic::{Status, body::Body, service::interceptor::InterceptedService, transport::Channel};
use tower::{Service, ServiceExt};

use super::{Failure, connection::ApiKeyHeader};
use crate::domain::signing::{Signing, USER_ACTION_HEADER};
use crate::proto::v1::{self as pb, action_signing_service_client::ActionSigningServiceClient};
use crate::server::message_sha256;

/// Reads a PKCS#8 PEM Ed25519 private key (as `openssl genpkey -algorithm
/// ed25519`, Python's `cryptography` or `rbacd credential create-key` write it).
pub fn read_key(path: &Path) -> Result<SigningKey, Failure> {
    let pem = std::fs::read_to_string(path)
        .map_err(|e| Failure::input(format!("--signing-key {}: {e}", path.display())))?;
    SigningKey::from_pkcs8_pem(&pem).map_err(|e| {
        Failure::input(format!(
            "--signing-key {}: not a PKCS#8 PEM Ed25519 private key ({e})",
            path.display()
        ))
    })
}

/// Writes a new Ed25519 key to `path` as PKCS#8 PEM, readable by its owner
/// only; refuses to overwrite a file.
pub fn create_key(path: &Path) -> Result<SigningKey, Failure> {
    let key = SigningKey::from_bytes(&crate::domain::signing::random_bytes::<32>());
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| Failure::input(format!("cannot encode the key: {e}")))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .map_err(|e| Failure::input(format!("{}: {e}", path.display())))?;
    std::io::Write::write_all(&mut file, pem.as_bytes())
        .map_err(|e| Failure::input(format!("{}: {e}", path.display())))?;
    Ok(key)
}

/// Signs with one key on behalf of the API key's identity.
struct Signer {
    key: SigningKey,
    api_key: ApiKeyHeader,
    /// The id of the registered credential whose public key is `key`'s, found once.
    credential_id: OnceCell<String>,
}

type SigningClient = ActionSigningServiceClient<InterceptedService<Channel, ApiKeyHeader>>;

impl Signer {
    fn client(&self, channel: &Channel) -> SigningClient {
        ActionSigningServiceClient::new(InterceptedService::new(
            channel.clone(),
            self.api_key.clone(),
        ))
    }

    async fn credential_id(&self, channel: &Channel) -> Result<String, Status> {
        let public = self.key.verifying_key().to_bytes();
        self.credential_id
            .get_or_try_init(|| async {
                let mut client = self.client(channel);
                let mut page_token = String::new();
                loop {
                    let page = client
                        .list_credentials(pb::ListCredentialsRequest {
                            identity: None,
                            page_size: 1000,
                            page_token,
                        })
                        .await?
                        .into_inner();
                    let found = page
                        .credentials
                        .iter()
                        .find(|c| c.public_key == public && c.revoked_at.is_none());
                    if let Some(credential) = found {
                        return Ok(credential.id.clone());
                    }
                    if page.next_page_token.is_empty() {
                        return Err(Status::failed_precondition(
                            "the --signing-key is not a live credential of the API key's identity: register it (rbacd credential create-key, or ActionSigningService.RegisterCredential)",
                        ));
                    }
                    page_token = page.next_page_token;
                }
            })
            .await
            .cloned()
    }

    /// A user action for calling `method` with `body` (the framed request).
    async fn user_action(
        &self,
        channel: &Channel,
        method: &str,
        body: &[u8],
    ) -> Result<String, Status> {
        let digest = message_sha256(body)
            .ok_or_else(|| Status::invalid_argument("only single-message calls can be signed"))?;
        let credential_id = self.credential_id(channel).await?;
        let mut client = self.client(channel);
        let challenge = client
            .begin_action(pb::BeginActionRequest {
                method: method.to_owned(),
                request_sha256: digest.to_vec(),
            })
            .await?
            .into_inner();
        let signature = self.key.sign(&challenge.challenge).to_bytes().to_vec();
        Ok(client
            .complete_action(pb::CompleteActionRequest {
                challenge_id: challenge.challenge_id,
                credential_id,
                signature,
            })
            .await?
            .into_inner()
            .user_action)
    }
}

/// The channel under the client subcommands: signs what can be signed when
/// a key was given, passes everything else on.
#[derive(Clone)]
pub struct SigningChannel {
    channel: Channel,
    signer: Option<Arc<Signer>>,
}

impl SigningChannel {
    /// Signs with the key at `key_path`, when given.
    pub fn new(
        channel: Channel,
        key_path: Option<&Path>,
        api_key: ApiKeyHeader,
    ) -> Result<Self, Failure> {
        let signer = match key_path {
            None => None,
            Some(path) => Some(Arc::new(Signer {
                key: read_key(path)?,
                api_key,
                credential_id: OnceCell::new(),
            })),
        };
        Ok(Self { channel, signer })
    }
}

impl Service<http::Request<Body>> for SigningChannel {
    type Response = http::Response<Body>;
    type Error = tonic::transport::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.channel.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let signer = match &self.signer {
            Some(signer) if Signing::of(request.uri().path()) != Signing::Never => {
                Arc::clone(signer)
            }
            _ => return Box::pin(self.channel.call(request)),
        };
        let channel = self.channel.clone();
        Box::pin(async move {
            let (mut parts, body) = request.into_parts();
            let bytes = match body.collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(status) => return Ok(status.into_http()),
            };
            let action = match signer.user_action(&channel, parts.uri.path(), &bytes).await {
                Ok(action) => action,
                Err(status) => return Ok(status.into_http()),
            };
            match action.parse() {
                Ok(value) => {
                    parts.headers.insert(USER_ACTION_HEADER, value);
                }
                Err(_) => {
                    return Ok(
                        Status::internal("the server sent a user action that is not text")
                            .into_http(),
                    );
                }
            }
            let request =
                http::Request::from_parts(parts, Body::new(http_body_util::Full::new(bytes)));
            channel.oneshot(request).await
        })
    }
}
