//! RoleService.

use tonic::{Request, Response, Status};

use super::{State, caller, parse, parse::Violations, render};
use crate::domain::{MAX_TEXT_LEN, PageRequest, RoleName, builtin, paging};
use crate::proto::v1::{self as pb, role_service_server::RoleService};
use crate::store::{NewRole, RoleUpdate};

/// Serves RoleService.
pub struct RoleApi {
    state: State,
}

impl RoleApi {
    pub fn new(state: State) -> Self {
        Self { state }
    }
}

fn parse_update(req: &pb::UpdateRoleRequest) -> crate::domain::Result<RoleUpdate> {
    let mut v = Violations::default();
    let masked = |field: &str| {
        req.update_mask
            .as_ref()
            .is_some_and(|m| m.paths.iter().any(|p| p == field))
    };
    if let Some(mask) = &req.update_mask {
        for path in &mask.paths {
            if !["name", "description", "permissions"].contains(&path.as_str()) {
                v.add(
                    "update_mask",
                    format!(
                        "`{path}` cannot be updated; use `name`, `description` or `permissions`"
                    ),
                );
            }
        }
    }
    let unmasked = req.update_mask.as_ref().is_none_or(|m| m.paths.is_empty());
    let mut update = RoleUpdate::default();
    if let Some(name) = &req.name
        && (unmasked || masked("name"))
    {
        update.name = v.check("name", RoleName::parse(name));
    }
    if let Some(description) = &req.description
        && (unmasked || masked("description"))
    {
        update.description = v.check("description", parse::text(description, MAX_TEXT_LEN));
    }
    if (unmasked && !req.permissions.is_empty()) || masked("permissions") {
        update.permissions = parse::permissions(&mut v, "permissions", &req.permissions);
    }
    v.check("role", parse::role_ref(req.role.as_ref()));
    if update.name.is_none()
        && update.description.is_none()
        && update.permissions.is_none()
        && v.len() == 0
    {
        v.add(
            "",
            "nothing to change: give `name`, `description` or `permissions`",
        );
    }
    v.finish(Some(update))
}

/// A CreateRoleRequest as the role it asks for.
pub(super) fn parse_create(req: &pb::CreateRoleRequest) -> crate::domain::Result<NewRole> {
    let mut v = Violations::default();
    let name = v.check("name", RoleName::parse(&req.name));
    let description = v.check("description", parse::text(&req.description, MAX_TEXT_LEN));
    let permissions = parse::permissions(&mut v, "permissions", &req.permissions);
    v.finish(
        name.zip(description)
            .zip(permissions)
            .map(|((name, description), permissions)| NewRole {
                name,
                description,
                permissions,
            }),
    )
}

#[tonic::async_trait]
impl RoleService for RoleApi {
    async fn create_role(
        &self,
        request: Request<pb::CreateRoleRequest>,
    ) -> Result<Response<pb::CreateRoleResponse>, Status> {
        let caller = caller(&request)?;
        self.state
            .policy
            .authorize_at_root(&caller, &builtin::roles_write())?;
        let req = request.into_inner();
        let new = parse_create(&req)?;
        self.state
            .policy
            .authorize_role_write(&caller, &new.permissions)?;
        let reply = self
            .state
            .write_once(
                &caller,
                "CreateRole",
                &req,
                &req.request_id,
                self.state.store.create_role(caller, new),
                |role, revision| pb::CreateRoleResponse {
                    role: Some(render::role(role)),
                    revision,
                },
            )
            .await?;
        Ok(Response::new(reply))
    }

    async fn get_role(
        &self,
        request: Request<pb::GetRoleRequest>,
    ) -> Result<Response<pb::GetRoleResponse>, Status> {
        let caller = caller(&request)?;
        self.state
            .policy
            .authorize_at_root(&caller, &builtin::roles_read())?;
        let role_ref = parse::field("role", parse::role_ref(request.get_ref().role.as_ref()))?;
        let role = self
            .state
            .store
            .get_role(caller.environment, &role_ref)
            .await?;
        Ok(Response::new(pb::GetRoleResponse {
            role: Some(render::role(&role)),
        }))
    }

    async fn list_roles(
        &self,
        request: Request<pb::ListRolesRequest>,
    ) -> Result<Response<pb::ListRolesResponse>, Status> {
        let caller = caller(&request)?;
        self.state
            .policy
            .authorize_at_root(&caller, &builtin::roles_read())?;
        let req = request.get_ref();
        let page = PageRequest::parse(req.page_size, &req.page_token)?;
        let listed = self
            .state
            .store
            .list_roles(caller.environment, page)
            .await?;
        let (roles, next_page_token) = super::pages::bounded(
            self.state.page_bytes,
            &listed.items,
            listed.next_page_token,
            render::role,
            |r| paging::encode_token(r.id.0),
        );
        Ok(Response::new(pb::ListRolesResponse {
            roles,
            next_page_token,
        }))
    }

    async fn update_role(
        &self,
        request: Request<pb::UpdateRoleRequest>,
    ) -> Result<Response<pb::UpdateRoleResponse>, Status> {
        let caller = caller(&request)?;
        self.state
            .policy
            .authorize_at_root(&caller, &builtin::roles_write())?;
        let req = request.into_inner();
        let update = parse_update(&req)?;
        let role_ref = parse::field("role", parse::role_ref(req.role.as_ref()))?;
        if let Some(permissions) = &update.permissions {
            self.state
                .policy
                .authorize_role_write(&caller, permissions)?;
        }
        let reply = self
            .state
            .write_once(
                &caller,
                "UpdateRole",
                &req,
                &req.request_id,
                self.state.store.update_role(caller, &role_ref, update),
                |role, revision| pb::UpdateRoleResponse {
                    role: Some(render::role(role)),
                    revision,
                },
            )
            .await?;
        Ok(Response::new(reply))
    }

    async fn delete_role(
        &self,
        request: Request<pb::DeleteRoleRequest>,
    ) -> Result<Response<pb::DeleteRoleResponse>, Status> {
        let caller = caller(&request)?;
        self.state
            .policy
            .authorize_at_root(&caller, &builtin::roles_write())?;
        let req = request.into_inner();
        let role_ref = parse::field("role", parse::role_ref(req.role.as_ref()))?;
        let reply = self
            .state
            .write_once(
                &caller,
                "DeleteRole",
                &req,
                &req.request_id,
                self.state.store.delete_role(caller, &role_ref, req.force),
                |(role, deleted_assignments), revision| pb::DeleteRoleResponse {
                    role: Some(render::role(role)),
                    deleted_assignments: *deleted_assignments,
                    revision,
                },
            )
            .await?;
        Ok(Response::new(reply))
    }
}
