//! IdentityService.

use tonic::{Request, Response, Status};

use super::{State, assignments::authorize_grant, caller, enums, parse, parse::Violations, render};
use crate::domain::{
    IdentityKind, IdentityStatus, MAX_BATCH_ITEMS, MAX_NAME_LEN, PageRequest, Result, builtin,
};
use crate::proto::v1::{self as pb, identity_service_server::IdentityService};
use crate::store::{IdentityFilter, IdentityUpdate, InitialAssignment, NewIdentity};

/// Serves IdentityService.
pub struct IdentityApi {
    state: State,
}

impl IdentityApi {
    pub fn new(state: State) -> Self {
        Self { state }
    }
}

fn new_identity(
    v: &mut Violations,
    kind: i32,
    email: &str,
    external_id: &str,
    display_name: &str,
) -> Option<NewIdentity> {
    let kind = v.check("kind", parse::identity_kind(kind))?;
    let email = v.check("email", parse::email(kind, email));
    let external_id = v.check("external_id", parse::external_id(external_id));
    let display_name = v.check("display_name", parse::text(display_name, MAX_NAME_LEN));
    Some(NewIdentity {
        kind,
        email: email?,
        external_id: external_id?,
        display_name: display_name?,
    })
}

fn initial_assignments(
    v: &mut Violations,
    given: &[pb::InitialAssignment],
) -> Option<Vec<InitialAssignment>> {
    if given.len() > MAX_BATCH_ITEMS {
        v.add(
            "assignments",
            format!(
                "has {} items; at most {MAX_BATCH_ITEMS} are allowed",
                given.len()
            ),
        );
        return None;
    }
    let mut parsed = Vec::with_capacity(given.len());
    for (i, item) in given.iter().enumerate() {
        let start = v.len();
        let node = v.check("node", parse::node_ref(item.node.as_ref()));
        let role = v.check("role", parse::role_ref(item.role.as_ref()));
        let window = parse::window(v, item.effective_from.as_ref(), item.effective_to.as_ref());
        v.prefix_from(start, &format!("assignments[{i}]"));
        if let (Some(node), Some(role), Some((effective_from, effective_to))) = (node, role, window)
        {
            parsed.push(InitialAssignment {
                role,
                node,
                effective_from,
                effective_to,
            });
        }
    }
    Some(parsed)
}

fn identity_ref(r: Option<&pb::IdentityRef>) -> Result<crate::domain::IdentityRef> {
    parse::field("identity", parse::identity_ref(r))
}

fn filter(req: &pb::ListIdentitiesRequest) -> Result<IdentityFilter> {
    let mut v = Violations::default();
    let status = v
        .check(
            "status",
            enums::filter::<pb::IdentityStatus, IdentityStatus>(req.status, "IdentityStatus"),
        )
        .flatten();
    let kind = v
        .check(
            "kind",
            enums::filter::<pb::IdentityKind, IdentityKind>(req.kind, "IdentityKind"),
        )
        .flatten();
    v.finish(Some(IdentityFilter { status, kind }))
}

#[tonic::async_trait]
impl IdentityService for IdentityApi {
    async fn create_identity(
        &self,
        request: Request<pb::CreateIdentityRequest>,
    ) -> Result<Response<pb::CreateIdentityResponse>, Status> {
        let caller = caller(&request)?;
        self.state
            .policy
            .authorize_at_root(&caller, &builtin::identities_write())?;
        let req = request.into_inner();
        let mut v = Violations::default();
        let new = new_identity(
            &mut v,
            req.kind,
            &req.email,
            &req.external_id,
            &req.display_name,
        );
        let initial = initial_assignments(&mut v, &req.assignments);
        let (new, initial) = v.finish(new.zip(initial))?;
        for item in &initial {
            authorize_grant(&self.state, &caller, &item.role, &item.node).await?;
        }
        let reply = self
            .state
            .write_once(
                &caller,
                "CreateIdentity",
                &req,
                &req.request_id,
                self.state
                    .store
                    .create_identity_with_assignments(caller, new, initial),
                |(identity, assignments), revision| pb::CreateIdentityResponse {
                    identity: Some(render::identity(identity)),
                    assignments: render::assignments(assignments),
                    revision,
                },
            )
            .await?;
        Ok(Response::new(reply))
    }

    async fn invite_identity(
        &self,
        request: Request<pb::InviteIdentityRequest>,
    ) -> Result<Response<pb::InviteIdentityResponse>, Status> {
        let caller = caller(&request)?;
        self.state
            .policy
            .authorize_at_root(&caller, &builtin::identities_write())?;
        let req = request.into_inner();
        let mut v = Violations::default();
        let new = new_identity(
            &mut v,
            req.kind,
            &req.email,
            &req.external_id,
            &req.display_name,
        );
        let initial = initial_assignments(&mut v, &req.assignments);
        let (new, initial) = v.finish(new.zip(initial))?;
        let items: Vec<_> = initial
            .iter()
            .map(|item| (&item.role, &item.node))
            .collect();
        super::grants::authorize_each(&self.state, &caller, &items).await?;
        let reply = self
            .state
            .write_once(
                &caller,
                "InviteIdentity",
                &req,
                &req.request_id,
                self.state.store.invite_identity(caller, new, initial),
                |(identity, assignments), revision| pb::InviteIdentityResponse {
                    identity: Some(render::identity(identity)),
                    assignments: render::assignments(assignments),
                    revision,
                },
            )
            .await?;
        Ok(Response::new(reply))
    }

    async fn get_identity(
        &self,
        request: Request<pb::GetIdentityRequest>,
    ) -> Result<Response<pb::GetIdentityResponse>, Status> {
        let caller = caller(&request)?;
        self.state
            .policy
            .authorize_at_root(&caller, &builtin::identities_read())?;
        let identity_ref = identity_ref(request.get_ref().identity.as_ref())?;
        let identity = self
            .state
            .store
            .get_identity(caller.environment, &identity_ref)
            .await?;
        Ok(Response::new(pb::GetIdentityResponse {
            identity: Some(render::identity(&identity)),
        }))
    }

    async fn list_identities(
        &self,
        request: Request<pb::ListIdentitiesRequest>,
    ) -> Result<Response<pb::ListIdentitiesResponse>, Status> {
        let caller = caller(&request)?;
        self.state
            .policy
            .authorize_at_root(&caller, &builtin::identities_read())?;
        let req = request.get_ref();
        let filter = filter(req)?;
        let page = PageRequest::parse(req.page_size, &req.page_token)?;
        let listed = self
            .state
            .store
            .list_identities(caller.environment, filter, page)
            .await?;
        let (identities, next_page_token) = super::pages::bounded(
            self.state.page_bytes,
            &listed.items,
            listed.next_page_token,
            render::identity,
            |i| crate::domain::paging::encode_token(i.id.0),
        );
        Ok(Response::new(pb::ListIdentitiesResponse {
            identities,
            next_page_token,
        }))
    }

    async fn update_identity(
        &self,
        request: Request<pb::UpdateIdentityRequest>,
    ) -> Result<Response<pb::UpdateIdentityResponse>, Status> {
        let caller = caller(&request)?;
        self.state
            .policy
            .authorize_at_root(&caller, &builtin::identities_write())?;
        let req = request.into_inner();
        let mut v = Violations::default();
        let identity_ref = v.check("identity", parse::identity_ref(req.identity.as_ref()));
        let mut update = IdentityUpdate::default();
        if let Some(name) = &req.display_name {
            update.display_name = v.check("display_name", parse::text(name, MAX_NAME_LEN));
        }
        if let Some(email) = &req.email {
            // A USER's form is checked by the store, which knows the kind.
            update.email = v.check("email", parse::email(IdentityKind::ServiceAccount, email));
        }
        if let Some(ext) = &req.external_id {
            update.external_id = v.check("external_id", parse::external_id(ext));
        }
        if req.display_name.is_none() && req.email.is_none() && req.external_id.is_none() {
            v.add(
                "",
                "nothing to change: give `display_name`, `email` or `external_id`",
            );
        }
        let identity_ref = v.finish(identity_ref)?;
        let reply = self
            .state
            .write_once(
                &caller,
                "UpdateIdentity",
                &req,
                &req.request_id,
                self.state
                    .store
                    .update_identity(caller, &identity_ref, update),
                |identity, revision| pb::UpdateIdentityResponse {
                    identity: Some(render::identity(identity)),
                    revision,
                },
            )
            .await?;
        Ok(Response::new(reply))
    }

    async fn activate_identity(
        &self,
        request: Request<pb::ActivateIdentityRequest>,
    ) -> Result<Response<pb::ActivateIdentityResponse>, Status> {
        let caller = caller(&request)?;
        self.state
            .policy
            .authorize_at_root(&caller, &builtin::identities_write())?;
        let req = request.into_inner();
        let identity_ref = identity_ref(req.identity.as_ref())?;
        let reply = self
            .state
            .write_once(
                &caller,
                "ActivateIdentity",
                &req,
                &req.request_id,
                self.state.store.activate_identity(caller, &identity_ref),
                |identity, revision| pb::ActivateIdentityResponse {
                    identity: Some(render::identity(identity)),
                    revision,
                },
            )
            .await?;
        Ok(Response::new(reply))
    }

    async fn disable_identity(
        &self,
        request: Request<pb::DisableIdentityRequest>,
    ) -> Result<Response<pb::DisableIdentityResponse>, Status> {
        let caller = caller(&request)?;
        self.state
            .policy
            .authorize_at_root(&caller, &builtin::identities_write())?;
        let req = request.into_inner();
        let identity_ref = identity_ref(req.identity.as_ref())?;
        let reply = self
            .state
            .write_once(
                &caller,
                "DisableIdentity",
                &req,
                &req.request_id,
                self.state.store.disable_identity(caller, &identity_ref),
                |identity, revision| pb::DisableIdentityResponse {
                    identity: Some(render::identity(identity)),
                    revision,
                },
            )
            .await?;
        Ok(Response::new(reply))
    }

    async fn delete_identity(
        &self,
        request: Request<pb::DeleteIdentityRequest>,
    ) -> Result<Response<pb::DeleteIdentityResponse>, Status> {
        let caller = caller(&request)?;
        self.state
            .policy
            .authorize_at_root(&caller, &builtin::identities_write())?;
        let req = request.into_inner();
        let identity_ref = identity_ref(req.identity.as_ref())?;
        let reply = self
            .state
            .write_once(
                &caller,
                "DeleteIdentity",
                &req,
                &req.request_id,
                self.state.store.delete_identity(caller, &identity_ref),
                |(identity, deleted_assignments), revision| pb::DeleteIdentityResponse {
                    identity: Some(render::identity(identity)),
                    deleted_assignments: *deleted_assignments,
                    revision,
                },
            )
            .await?;
        Ok(Response::new(reply))
    }

    async fn create_api_key(
        &self,
        request: Request<pb::CreateApiKeyRequest>,
    ) -> Result<Response<pb::CreateApiKeyResponse>, Status> {
        super::api_keys::create(&self.state, request).await
    }

    async fn list_api_keys(
        &self,
        request: Request<pb::ListApiKeysRequest>,
    ) -> Result<Response<pb::ListApiKeysResponse>, Status> {
        super::api_keys::list(&self.state, request).await
    }

    async fn revoke_api_key(
        &self,
        request: Request<pb::RevokeApiKeyRequest>,
    ) -> Result<Response<pb::RevokeApiKeyResponse>, Status> {
        super::api_keys::revoke(&self.state, request).await
    }
}
