//! The API key RPCs of IdentityService.

use tonic::{Request, Response, Status};

use super::{State, caller, parse, render::timestamp};
use crate::domain::{ApiKey, MAX_NAME_LEN, PageRequest, builtin};
use crate::proto::v1 as pb;

pub(super) fn render(key: &ApiKey) -> pb::ApiKey {
    pb::ApiKey {
        id: key.id.to_string(),
        identity_id: key.identity_id.to_string(),
        name: key.name.clone(),
        prefix: crate::domain::secret::visible_prefix(&key.prefix),
        create_time: Some(timestamp(key.created_at)),
        revoke_time: key.revoked_at.map(timestamp),
    }
}

pub(super) async fn create(
    state: &State,
    request: Request<pb::CreateApiKeyRequest>,
) -> Result<Response<pb::CreateApiKeyResponse>, Status> {
    let caller = caller(&request)?;
    state
        .policy
        .authorize_at_root(&caller, &builtin::identities_write())?;
    let req = request.into_inner();
    let identity = parse::field("identity", parse::identity_ref(req.identity.as_ref()))?;
    let name = parse::field("name", parse::text(&req.name, MAX_NAME_LEN))?;
    state.policy.authorize_key_for(&caller, &identity)?;
    // A retry answers the key without its secret: secrets are never stored.
    let reply = state
        .write_once_redacted(
            &caller,
            "CreateApiKey",
            &req,
            &req.request_id,
            state.store.create_api_key(caller, &identity, name),
            |(key, secret), revision| pb::CreateApiKeyResponse {
                api_key: Some(render(key)),
                secret: secret.expose().to_owned(),
                revision,
            },
            |answer| answer.secret.clear(),
        )
        .await?;
    Ok(Response::new(reply))
}

pub(super) async fn list(
    state: &State,
    request: Request<pb::ListApiKeysRequest>,
) -> Result<Response<pb::ListApiKeysResponse>, Status> {
    let caller = caller(&request)?;
    state
        .policy
        .authorize_at_root(&caller, &builtin::identities_read())?;
    let req = request.get_ref();
    let identity = parse::field(
        "identity",
        parse::optional_identity_ref(req.identity.as_ref()),
    )?;
    let page = PageRequest::parse(req.page_size, &req.page_token)?;
    let listed = state
        .store
        .list_api_keys(caller.environment, identity.as_ref(), page)
        .await?;
    let (api_keys, next_page_token) = super::pages::bounded(
        state.page_bytes,
        &listed.items,
        listed.next_page_token,
        render,
        |k| crate::domain::paging::encode_token(k.id.0),
    );
    Ok(Response::new(pb::ListApiKeysResponse {
        api_keys,
        next_page_token,
    }))
}

pub(super) async fn revoke(
    state: &State,
    request: Request<pb::RevokeApiKeyRequest>,
) -> Result<Response<pb::RevokeApiKeyResponse>, Status> {
    let caller = caller(&request)?;
    state
        .policy
        .authorize_at_root(&caller, &builtin::identities_write())?;
    let req = request.into_inner();
    let id = parse::field("api_key_id", parse::uuid(&req.api_key_id))?;
    let reply = state
        .write_once(
            &caller,
            "RevokeApiKey",
            &req,
            &req.request_id,
            state.store.revoke_api_key(caller, id.into()),
            |key, revision| pb::RevokeApiKeyResponse {
                api_key: Some(render(key)),
                revision,
            },
        )
        .await?;
    Ok(Response::new(reply))
}
