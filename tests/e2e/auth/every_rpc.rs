//! One table of every RPC of the seven services, each call naming objects of a
//! fixture environment. Authentication runs it with bad keys (all refused) and
//! with the admin key (all reach their handlers); environment isolation runs it
//! from another environment, where every call naming a fixture object must
//! answer exactly as for a missing one.

use std::{future::Future, pin::Pin};

use super::*;

pub type Call = Pin<Box<dyn Future<Output = Result<(), Status>> + Send>>;

/// What a call answers when made from an environment that does not hold the fixture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Elsewhere {
    /// It names a fixture object: NOT_FOUND, as if the object did not exist.
    NotFound,
    /// It names none: the caller's own environment answers.
    Answers,
}

pub struct Rpc {
    pub name: &'static str,
    pub elsewhere: Elsewhere,
    pub call: Call,
}

/// Pushes one call of `$method` on `$client` with `$request` onto `$rows`.
macro_rules! rpc {
    ($rows:ident, $elsewhere:ident, $client:expr, $method:ident, $request:expr) => {{
        let mut client = $client.clone();
        let request = $request;
        $rows.push(Rpc {
            name: stringify!($method),
            elsewhere: Elsewhere::$elsewhere,
            call: Box::pin(async move { client.$method(request).await.map(|_| ()) }),
        });
    }};
}

/// Objects of `default` the table's requests name.
pub struct Fixture {
    pub role: pb::Role,
    pub user: pb::Identity,
    pub account: pb::Identity,
    pub api_key: pb::ApiKey,
    pub node: pb::Node,
    pub child: pb::Node,
    pub assignment: pb::Assignment,
}

pub async fn fixture(server: &TestServer) -> Fixture {
    let role = create_role(server, "Docs_Reader", &["Docs:Read"]).await;
    let user = create_user(server, "alice@example.com").await;
    let account = create_service_account(server, "robot").await;
    let api_key = create_key(server, &account).await.api_key.unwrap();
    let node = create_node(server, "payments", None).await;
    let child = create_node(server, "payments:eu", Some("payments")).await;
    let assignment = assign(server, &user, &role, &node).await;
    Fixture {
        role,
        user,
        account,
        api_key,
        node,
        child,
        assignment,
    }
}

/// The calling environment's own objects some calls combine with the fixture's:
/// its admin identity, and its node keyed `payments`.
pub struct Home {
    pub admin: String,
    pub payments: String,
}

fn grant(
    identity: Option<pb::IdentityRef>,
    role: Option<pb::RoleRef>,
    node: Option<pb::NodeRef>,
) -> pb::CreateAssignmentRequest {
    pb::CreateAssignmentRequest {
        request_id: Default::default(),
        identity,
        role,
        node,
        effective_from: None,
        effective_to: None,
    }
}

fn invite(
    email: &str,
    node: Option<pb::NodeRef>,
    role: Option<pb::RoleRef>,
) -> pb::InviteIdentityRequest {
    pb::InviteIdentityRequest {
        request_id: Default::default(),
        kind: pb::IdentityKind::User.into(),
        email: email.into(),
        external_id: String::new(),
        display_name: String::new(),
        assignments: vec![pb::InitialAssignment {
            node,
            role,
            effective_from: None,
            effective_to: None,
        }],
    }
}

/// Every RPC of the eight services, each with well-formed requests; those naming
/// fixture objects name them in every way a request can (id, name, email,
/// external id, key; as target, parent, filter, batch item).
pub fn every_rpc(c: &Clients, f: &Fixture, home: &Home) -> Vec<Rpc> {
    let mut rows = Vec::new();
    let role = || role_by_id(&f.role.id);
    let user = || identity_by_id(&f.user.id);
    let account = || identity_by_id(&f.account.id);
    let node = || node_by_id(&f.node.id);
    let me = || identity_by_id(&home.admin);
    let check = check_request(user(), node());

    // RoleService.
    rpc!(
        rows,
        Answers,
        c.roles,
        create_role,
        pb::CreateRoleRequest {
            request_id: Default::default(),
            name: "Another".into(),
            description: String::new(),
            permissions: vec!["Docs:Write".into()],
        }
    );
    rpc!(
        rows,
        NotFound,
        c.roles,
        get_role,
        pb::GetRoleRequest { role: role() }
    );
    rpc!(
        rows,
        NotFound,
        c.roles,
        get_role,
        pb::GetRoleRequest {
            role: role_by_name(&f.role.name),
        }
    );
    rpc!(
        rows,
        Answers,
        c.roles,
        list_roles,
        pb::ListRolesRequest::default()
    );
    rpc!(
        rows,
        NotFound,
        c.roles,
        update_role,
        pb::UpdateRoleRequest {
            role: role(),
            description: Some("changed".into()),
            ..Default::default()
        }
    );
    rpc!(
        rows,
        NotFound,
        c.roles,
        update_role,
        pb::UpdateRoleRequest {
            role: role(),
            permissions: vec!["*".into()],
            ..Default::default()
        }
    );
    rpc!(
        rows,
        NotFound,
        c.roles,
        delete_role,
        pb::DeleteRoleRequest {
            request_id: Default::default(),
            role: role(),
            force: true,
        }
    );

    // IdentityService.
    rpc!(
        rows,
        Answers,
        c.identities,
        create_identity,
        pb::CreateIdentityRequest {
            assignments: Default::default(),
            request_id: Default::default(),
            kind: pb::IdentityKind::User.into(),
            email: "bob@example.com".into(),
            external_id: String::new(),
            display_name: String::new(),
        }
    );
    rpc!(
        rows,
        NotFound,
        c.identities,
        invite_identity,
        invite("carol@example.com", node(), role())
    );
    rpc!(
        rows,
        NotFound,
        c.identities,
        invite_identity,
        invite("mallory@example.com", node(), role_by_name("Administrator"))
    );
    rpc!(
        rows,
        NotFound,
        c.identities,
        invite_identity,
        invite("mallory@example.com", node_by_key("root"), role())
    );
    for who in [
        user(),
        identity_by_email(&f.user.email),
        identity_by_external_id(&f.account.external_id),
    ] {
        rpc!(
            rows,
            NotFound,
            c.identities,
            get_identity,
            pb::GetIdentityRequest { identity: who }
        );
    }
    rpc!(
        rows,
        Answers,
        c.identities,
        list_identities,
        pb::ListIdentitiesRequest::default()
    );
    for display_name in ["Alice", "hijacked"] {
        rpc!(
            rows,
            NotFound,
            c.identities,
            update_identity,
            pb::UpdateIdentityRequest {
                request_id: Default::default(),
                identity: user(),
                display_name: Some(display_name.into()),
                email: None,
                external_id: None,
            }
        );
    }
    rpc!(
        rows,
        NotFound,
        c.identities,
        activate_identity,
        pb::ActivateIdentityRequest {
            request_id: Default::default(),
            identity: user()
        }
    );
    rpc!(
        rows,
        NotFound,
        c.identities,
        disable_identity,
        pb::DisableIdentityRequest {
            request_id: Default::default(),
            identity: user()
        }
    );
    rpc!(
        rows,
        NotFound,
        c.identities,
        delete_identity,
        pb::DeleteIdentityRequest {
            request_id: Default::default(),
            identity: user()
        }
    );
    for name in ["another", ""] {
        rpc!(
            rows,
            NotFound,
            c.identities,
            create_api_key,
            pb::CreateApiKeyRequest {
                request_id: Default::default(),
                identity: account(),
                name: name.into(),
            }
        );
    }
    rpc!(
        rows,
        Answers,
        c.identities,
        list_api_keys,
        pb::ListApiKeysRequest::default()
    );
    rpc!(
        rows,
        NotFound,
        c.identities,
        list_api_keys,
        pb::ListApiKeysRequest {
            identity: account(),
            ..Default::default()
        }
    );
    rpc!(
        rows,
        NotFound,
        c.identities,
        revoke_api_key,
        pb::RevokeApiKeyRequest {
            request_id: Default::default(),
            api_key_id: f.api_key.id.clone(),
        }
    );

    // NodeService.
    rpc!(
        rows,
        Answers,
        c.nodes,
        create_node,
        pb::CreateNodeRequest {
            request_id: Default::default(),
            key: "treasury".into(),
            name: String::new(),
            kind: String::new(),
            parent: None,
        }
    );
    rpc!(
        rows,
        NotFound,
        c.nodes,
        create_node,
        pb::CreateNodeRequest {
            request_id: Default::default(),
            key: "intruder".into(),
            name: String::new(),
            kind: String::new(),
            parent: node(),
        }
    );
    for target in [node(), node_by_id(&f.child.id), node_by_key("payments:eu")] {
        rpc!(
            rows,
            NotFound,
            c.nodes,
            get_node,
            pb::GetNodeRequest { node: target }
        );
    }
    rpc!(
        rows,
        Answers,
        c.nodes,
        list_nodes,
        pb::ListNodesRequest::default()
    );
    rpc!(
        rows,
        NotFound,
        c.nodes,
        list_nodes,
        pb::ListNodesRequest {
            parent: node(),
            ..Default::default()
        }
    );
    rpc!(
        rows,
        NotFound,
        c.nodes,
        move_node,
        pb::MoveNodeRequest {
            request_id: Default::default(),
            node: node_by_id(&f.child.id),
            new_parent: node_by_key("root"),
        }
    );
    rpc!(
        rows,
        NotFound,
        c.nodes,
        move_node,
        pb::MoveNodeRequest {
            request_id: Default::default(),
            node: node_by_id(&home.payments),
            new_parent: node(),
        }
    );
    for target in [node_by_id(&f.child.id), node()] {
        rpc!(
            rows,
            NotFound,
            c.nodes,
            delete_node,
            pb::DeleteNodeRequest {
                request_id: Default::default(),
                node: target,
                cascade: true,
            }
        );
    }

    // AssignmentService: the fixture's identity, role or node, each beside the caller's own.
    let foreign = [
        (account(), role(), node()),
        (user(), role_by_name("Administrator"), node_by_key("root")),
        (me(), role(), node_by_key("root")),
        (me(), role_by_name(&f.role.name), node_by_key("root")),
        (me(), role_by_name("Administrator"), node()),
    ];
    for (identity, role, node) in foreign.clone() {
        rpc!(
            rows,
            NotFound,
            c.assignments,
            create_assignment,
            grant(identity, role, node)
        );
    }
    rpc!(
        rows,
        NotFound,
        c.assignments,
        batch_create_assignments,
        pb::BatchCreateAssignmentsRequest {
            request_id: Default::default(),
            assignments: vec![grant(account(), role(), node_by_key("root"))],
        }
    );
    for (identity, role, node) in foreign.into_iter().skip(1) {
        rpc!(
            rows,
            NotFound,
            c.assignments,
            batch_create_assignments,
            pb::BatchCreateAssignmentsRequest {
                request_id: Default::default(),
                assignments: vec![
                    grant(me(), role_by_name("Administrator"), node_by_key("payments")),
                    grant(identity, role, node),
                ],
            }
        );
    }
    rpc!(
        rows,
        NotFound,
        c.assignments,
        get_assignment,
        pb::GetAssignmentRequest {
            id: f.assignment.id.clone(),
        }
    );
    rpc!(
        rows,
        Answers,
        c.assignments,
        list_assignments,
        pb::ListAssignmentsRequest::default()
    );
    for filter in [
        pb::ListAssignmentsRequest {
            identity: user(),
            ..Default::default()
        },
        pb::ListAssignmentsRequest {
            node: node(),
            ..Default::default()
        },
        pb::ListAssignmentsRequest {
            role: role(),
            ..Default::default()
        },
    ] {
        rpc!(rows, NotFound, c.assignments, list_assignments, filter);
    }
    rpc!(
        rows,
        NotFound,
        c.assignments,
        delete_assignment,
        pb::DeleteAssignmentRequest {
            id: f.assignment.id.clone(),
            ..Default::default()
        }
    );
    rpc!(
        rows,
        NotFound,
        c.assignments,
        delete_assignment,
        pb::DeleteAssignmentRequest {
            request_id: Default::default(),
            id: String::new(),
            identity: user(),
            role: role(),
            node: node(),
        }
    );
    rpc!(
        rows,
        NotFound,
        c.assignments,
        set_roles,
        pb::SetRolesRequest {
            identity: user(),
            node: node(),
            roles: vec![role().unwrap()],
            request_id: String::new(),
        }
    );
    rpc!(
        rows,
        NotFound,
        c.assignments,
        update_assignment,
        pb::UpdateAssignmentRequest {
            id: f.assignment.id.clone(),
            ..Default::default()
        }
    );
    rpc!(
        rows,
        NotFound,
        c.assignments,
        delete_assignments,
        pb::DeleteAssignmentsRequest {
            identity: user(),
            validate_only: true,
            ..Default::default()
        }
    );

    // AuthorizationService: a check of an unknown identity or node is a denial,
    // which the isolation test asserts itself.
    rpc!(rows, Answers, c.authz, check, check.clone());
    rpc!(
        rows,
        Answers,
        c.authz,
        batch_check,
        pb::BatchCheckRequest {
            checks: vec![check.clone()],
        }
    );
    rpc!(
        rows,
        Answers,
        c.authz,
        check_stream,
        tokio_stream::iter(vec![check])
    );
    rpc!(
        rows,
        NotFound,
        c.authz,
        list_permissions,
        pb::ListPermissionsRequest {
            identity: user(),
            ..Default::default()
        }
    );
    rpc!(
        rows,
        NotFound,
        c.authz,
        list_permissions,
        pb::ListPermissionsRequest {
            identity: me(),
            node: node(),
            ..Default::default()
        }
    );
    rpc!(
        rows,
        NotFound,
        c.authz,
        lookup_nodes,
        pb::LookupNodesRequest {
            identity: user(),
            permission: "Docs:Read".into(),
            ..Default::default()
        }
    );
    rpc!(
        rows,
        NotFound,
        c.authz,
        lookup_nodes,
        pb::LookupNodesRequest {
            identity: me(),
            permission: "Docs:Read".into(),
            root: node(),
            ..Default::default()
        }
    );
    rpc!(
        rows,
        NotFound,
        c.authz,
        lookup_identities,
        pb::LookupIdentitiesRequest {
            permission: "Docs:Read".into(),
            node: node(),
            ..Default::default()
        }
    );

    // AuditService.
    rpc!(
        rows,
        Answers,
        c.audit,
        list_changes,
        pb::ListChangesRequest::default()
    );
    rpc!(
        rows,
        Answers,
        c.audit,
        watch,
        pb::WatchRequest {
            after_revision: 0,
            ..Default::default()
        }
    );

    signing_and_bulk::push(&mut rows, c, user);
    rows
}

mod signing_and_bulk;
