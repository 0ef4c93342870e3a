//! ActionSigningService: credentials, and challenges exchanged for user actions.

use std::time::Duration;

use tonic::{Request, Response, Status};

use super::{State, caller, parse, render::timestamp};
use crate::domain::{
    Caller, CredentialId, Error, IdentityId, IdentityRef, MAX_NAME_LEN, PageRequest, Result,
    builtin,
    signing::{ActionRequest, Credential, CredentialKind, PublicKey, Refusal, Signing},
};
use crate::proto::v1::{self as pb, action_signing_service_server::ActionSigningService};
use crate::server::SignedBy;
use crate::store::NewCredential;

/// Serves ActionSigningService.
pub struct ActionSigningApi {
    state: State,
    /// How long a challenge, and the user action made from it, stays valid.
    lifetime: Duration,
}

impl ActionSigningApi {
    /// `lifetime` is capped at five minutes.
    pub fn new(state: State, lifetime: Duration) -> Self {
        Self { state, lifetime }
    }

    /// The identity a request names, the caller's own when it names none.
    /// Naming another needs `Rbacd:Identities:Read` at the root first, so
    /// that whether it exists is not told to callers who may not read it.
    async fn target(&self, caller: &Caller, named: Option<IdentityRef>) -> Result<IdentityId> {
        let own = own_identity(caller)?;
        match named {
            None => Ok(own),
            Some(IdentityRef::Id(id)) if id == own => Ok(own),
            Some(named) => {
                self.state
                    .policy
                    .authorize_at_root(caller, &builtin::identities_read())?;
                Ok(self
                    .state
                    .store
                    .get_identity(caller.environment, &named)
                    .await?
                    .id)
            }
        }
    }

    /// Changing another identity's credentials needs `Rbacd:Identities:Write` at the root.
    fn may_change(&self, caller: &Caller, identity: IdentityId) -> Result<()> {
        if identity == own_identity(caller)? {
            return Ok(());
        }
        self.state
            .policy
            .authorize_at_root(caller, &builtin::identities_write())
    }
}

fn own_identity(caller: &Caller) -> Result<IdentityId> {
    caller
        .actor
        .identity()
        .ok_or_else(|| Error::Unauthenticated("the call carries no identity".into()))
}

pub(super) fn render(c: &Credential) -> pb::Credential {
    pb::Credential {
        id: c.id.to_string(),
        identity_id: c.identity_id.to_string(),
        kind: pb::CredentialKind::from(c.kind).into(),
        name: c.name.clone(),
        created_at: Some(timestamp(c.created_at)),
        revoked_at: c.revoked_at.map(timestamp),
        public_key: c.public_key.clone(),
    }
}

fn credential_kind(value: i32) -> std::result::Result<CredentialKind, String> {
    let wire = pb::CredentialKind::try_from(value)
        .map_err(|_| format!("{value} is not a CredentialKind"))?;
    CredentialKind::try_from(wire).map_err(|_| {
        "is required: CREDENTIAL_KIND_ED25519 or CREDENTIAL_KIND_ECDSA_P256".to_owned()
    })
}

fn request_sha256(bytes: &[u8]) -> std::result::Result<[u8; 32], String> {
    bytes.try_into().map_err(|_| {
        format!(
            "must be the 32-byte SHA-256 of the serialized request; got {} bytes",
            bytes.len()
        )
    })
}

fn signable_method(method: &str) -> std::result::Result<String, String> {
    if Signing::of(method) == Signing::Never {
        return Err(format!(
            "`{}` takes no user action: give the full path of a mutating call, e.g. `/rbacd.v1.RoleService/CreateRole`",
            crate::domain::quote(method)
        ));
    }
    Ok(method.to_owned())
}

fn signer<T>(request: &Request<T>) -> Option<CredentialId> {
    request.extensions().get::<SignedBy>().map(|s| s.0)
}

#[tonic::async_trait]
impl ActionSigningService for ActionSigningApi {
    async fn register_credential(
        &self,
        request: Request<pb::RegisterCredentialRequest>,
    ) -> std::result::Result<Response<pb::RegisterCredentialResponse>, Status> {
        let caller = caller(&request)?;
        let signed = signer(&request).is_some();
        let req = request.into_inner();
        let mut v = parse::Violations::default();
        let named = v.check(
            "identity",
            parse::optional_identity_ref(req.identity.as_ref()),
        );
        let kind = v.check("kind", credential_kind(req.kind));
        let key = kind.and_then(|kind| match PublicKey::parse(kind, &req.public_key) {
            Ok(key) => Some(key),
            Err(violation) => {
                v.add(&violation.field, violation.description);
                None
            }
        });
        let name = v.check("name", parse::text(&req.name, MAX_NAME_LEN));
        let (named, key, name) = v.finish(named.zip(key).zip(name).map(|((n, k), m)| (n, k, m)))?;
        let identity = self.target(&caller, named).await?;
        self.may_change(&caller, identity)?;
        let new = NewCredential {
            identity,
            key,
            name,
        };
        let written = self
            .state
            .applied(
                self.state
                    .store
                    .register_credential(caller, new, signed)
                    .await?,
            )
            .await?;
        Ok(Response::new(pb::RegisterCredentialResponse {
            credential: Some(render(&written.value)),
            revision: written.revision,
        }))
    }

    async fn list_credentials(
        &self,
        request: Request<pb::ListCredentialsRequest>,
    ) -> std::result::Result<Response<pb::ListCredentialsResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.get_ref();
        let named = parse::field(
            "identity",
            parse::optional_identity_ref(req.identity.as_ref()),
        )?;
        let page = PageRequest::parse(req.page_size, &req.page_token)?;
        let identity = self.target(&caller, named).await?;
        let listed = self
            .state
            .store
            .list_credentials(caller.environment, identity, page)
            .await?;
        let (credentials, next_page_token) = super::pages::bounded(
            self.state.page_bytes,
            &listed.items,
            listed.next_page_token,
            render,
            |c| crate::domain::paging::encode_token(c.id.0),
        );
        Ok(Response::new(pb::ListCredentialsResponse {
            credentials,
            next_page_token,
        }))
    }

    async fn revoke_credential(
        &self,
        request: Request<pb::RevokeCredentialRequest>,
    ) -> std::result::Result<Response<pb::RevokeCredentialResponse>, Status> {
        let caller = caller(&request)?;
        let id: CredentialId = parse::field(
            "credential_id",
            parse::uuid(&request.get_ref().credential_id),
        )?
        .into();
        let credential = self
            .state
            .store
            .get_credential(caller.environment, id)
            .await?;
        if signer(&request).is_none() {
            return Err(Error::Unauthenticated(format!(
                "{} (RevokeCredential always needs one)",
                Refusal::Missing.message()
            ))
            .into());
        }
        self.may_change(&caller, credential.identity_id)?;
        let written = self
            .state
            .applied(self.state.store.revoke_credential(caller, id).await?)
            .await?;
        Ok(Response::new(pb::RevokeCredentialResponse {
            credential: Some(render(&written.value)),
            revision: written.revision,
        }))
    }

    async fn begin_action(
        &self,
        request: Request<pb::BeginActionRequest>,
    ) -> std::result::Result<Response<pb::BeginActionResponse>, Status> {
        let caller = caller(&request)?;
        let identity = own_identity(&caller)?;
        let req = request.into_inner();
        let mut v = parse::Violations::default();
        let method = v.check("method", signable_method(&req.method));
        let digest = v.check("request_sha256", request_sha256(&req.request_sha256));
        let action =
            v.finish(
                method
                    .zip(digest)
                    .map(|(method, request_sha256)| ActionRequest {
                        method,
                        request_sha256,
                    }),
            )?;
        let challenge = self
            .state
            .store
            .begin_action(caller.environment, identity, action, self.lifetime)
            .await?;
        Ok(Response::new(pb::BeginActionResponse {
            challenge_id: challenge.id.to_string(),
            challenge: challenge.bytes,
            expires_at: Some(timestamp(challenge.expires_at)),
        }))
    }

    async fn complete_action(
        &self,
        request: Request<pb::CompleteActionRequest>,
    ) -> std::result::Result<Response<pb::CompleteActionResponse>, Status> {
        let caller = caller(&request)?;
        let identity = own_identity(&caller)?;
        let req = request.into_inner();
        let mut v = parse::Violations::default();
        let challenge = v.check("challenge_id", parse::uuid(&req.challenge_id));
        let credential = v.check("credential_id", parse::uuid(&req.credential_id));
        if req.signature.is_empty() {
            v.add(
                "signature",
                "is required: the credential's signature over `challenge`",
            );
        }
        let (challenge, credential) = v.finish(challenge.zip(credential))?;
        let action = self
            .state
            .store
            .complete_action(
                caller.environment,
                identity,
                challenge.into(),
                credential.into(),
                &req.signature,
            )
            .await?;
        Ok(Response::new(pb::CompleteActionResponse {
            user_action: action.token,
            expires_at: Some(timestamp(action.expires_at)),
        }))
    }
}
