//! `rbacd apply`: print the plan, and with `--yes` run it, assignments in
//! batches of one transaction each, everything else one call per change.

// Requests end in `..Default::default()` so that fields added later (such as
// `request_id`) need no change here.
#![allow(clippy::needless_update)]

use std::io::IsTerminal;

use super::document::{AssignmentDoc, BUILTIN_ADMIN, IdentityDoc, NodeDoc, RoleDoc};
use super::plan::{Plan, Step, plan};
use super::{ApplyArgs, fetch, instant, read};
use crate::cli::connection::ServerChannel;
use crate::cli::references::{EXTERNAL_PREFIX, role_by_name};
use crate::cli::{Failure, Outcome};
use crate::domain::MAX_BATCH_ITEMS;
use crate::proto::v1::{
    self as pb, assignment_service_client::AssignmentServiceClient,
    identity_service_client::IdentityServiceClient, node_service_client::NodeServiceClient,
    role_service_client::RoleServiceClient,
};

pub async fn run(args: ApplyArgs) -> Result<Outcome, Failure> {
    let desired = read(&args.file)?;
    let channel = args.connection.connect().await?;
    let (_, current) = fetch(channel.clone()).await?;
    let plan = plan(&current, &desired, args.prune);
    print(&plan);
    if args.yes && !plan.steps.is_empty() {
        execute(channel, current.admin_id.clone(), &plan.steps).await?;
        println!("applied {} changes", plan.steps.len());
    } else if !plan.steps.is_empty() {
        println!("dry run: nothing was changed; run with --yes to apply");
    }
    Ok(Outcome::Done)
}

fn print(plan: &Plan) {
    if plan.steps.is_empty() {
        println!("no changes: the environment matches the document");
    }
    for step in &plan.steps {
        println!("{step}");
    }
    for note in &plan.notes {
        println!("! {note}");
    }
    if plan.unpruned > 0 {
        println!(
            "{} objects are not in the document and are kept; --prune deletes them",
            plan.unpruned
        );
    }
}

struct Clients {
    /// What `builtin:admin` stands for here.
    admin_id: String,
    roles: RoleServiceClient<ServerChannel>,
    identities: IdentityServiceClient<ServerChannel>,
    nodes: NodeServiceClient<ServerChannel>,
    assignments: AssignmentServiceClient<ServerChannel>,
}

async fn execute(channel: ServerChannel, admin_id: String, steps: &[Step]) -> Result<(), Failure> {
    let mut c = Clients {
        admin_id,
        roles: RoleServiceClient::new(channel.clone()),
        identities: IdentityServiceClient::new(channel.clone()),
        nodes: NodeServiceClient::new(channel.clone()),
        assignments: AssignmentServiceClient::new(channel),
    };
    let progress = std::io::stderr().is_terminal();
    let mut done = 0;
    let mut i = 0;
    while i < steps.len() {
        // Consecutive creations of assignments go in batches, one transaction each.
        let batch: Vec<&AssignmentDoc> = steps[i..]
            .iter()
            .take(MAX_BATCH_ITEMS)
            .map_while(|s| match s {
                Step::CreateAssignment(a) => Some(a),
                _ => None,
            })
            .collect();
        if batch.is_empty() {
            one(&mut c, &steps[i]).await?;
            i += 1;
        } else {
            c.assignments
                .batch_create_assignments(pb::BatchCreateAssignmentsRequest {
                    assignments: batch.iter().map(|a| grant(a, &c.admin_id)).collect(),
                    ..Default::default()
                })
                .await?;
            i += batch.len();
        }
        done = i;
        if progress {
            eprint!("\rapplying: {done}/{} changes", steps.len());
        }
    }
    if progress && done > 0 {
        eprintln!();
    }
    Ok(())
}

async fn one(c: &mut Clients, step: &Step) -> Result<(), Failure> {
    match step {
        Step::CreateRole(r) => {
            c.roles
                .create_role(pb::CreateRoleRequest {
                    name: r.name.clone(),
                    description: r.description.clone(),
                    permissions: r.permissions.clone(),
                    ..Default::default()
                })
                .await?;
        }
        Step::UpdateRole(r) => update_role(c, r).await?,
        Step::DeleteRole(name) => {
            c.roles
                .delete_role(pb::DeleteRoleRequest {
                    role: Some(role_by_name(name)),
                    force: true,
                    ..Default::default()
                })
                .await?;
        }
        Step::CreateIdentity(x) => create_identity(c, x).await?,
        Step::UpdateIdentity { current, desired } => update_identity(c, current, desired).await?,
        Step::DeleteIdentity(x) => {
            c.identities
                .delete_identity(pb::DeleteIdentityRequest {
                    identity: Some(identity_ref(&x.handle(), &c.admin_id)),
                    ..Default::default()
                })
                .await?;
        }
        Step::CreateNode(n) => {
            c.nodes
                .create_node(pb::CreateNodeRequest {
                    key: n.key.clone(),
                    name: n.name.clone(),
                    kind: n.kind.clone(),
                    parent: Some(node_ref(&n.parent)),
                    ..Default::default()
                })
                .await?;
        }
        Step::MoveNode(n) => move_node(c, n).await?,
        Step::DeleteNode(key) => {
            c.nodes
                .delete_node(pb::DeleteNodeRequest {
                    node: Some(node_ref(key)),
                    cascade: true,
                    ..Default::default()
                })
                .await?;
        }
        Step::UpdateAssignment { id, desired } => {
            c.assignments
                .update_assignment(pb::UpdateAssignmentRequest {
                    id: id.clone(),
                    effective_from: desired.from.as_deref().and_then(|t| instant(t).ok()),
                    effective_to: desired.to.as_deref().and_then(|t| instant(t).ok()),
                    // Without a mask both bounds are replaced; an absent one is cleared.
                    update_mask: None,
                    ..Default::default()
                })
                .await?;
        }
        Step::DeleteAssignment(a) => unassign(c, a).await?,
        Step::CreateAssignment(a) => {
            c.assignments
                .create_assignment(grant(a, &c.admin_id))
                .await?;
        }
    }
    Ok(())
}

async fn update_role(c: &mut Clients, r: &RoleDoc) -> Result<(), Failure> {
    c.roles
        .update_role(pb::UpdateRoleRequest {
            role: Some(role_by_name(&r.name)),
            description: Some(r.description.clone()),
            permissions: r.permissions.clone(),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["description".into(), "permissions".into()],
            }),
            ..Default::default()
        })
        .await?;
    Ok(())
}

async fn create_identity(c: &mut Clients, x: &IdentityDoc) -> Result<(), Failure> {
    if x.status == "INVITED" {
        c.identities
            .invite_identity(pb::InviteIdentityRequest {
                kind: kind(&x.kind).into(),
                email: x.email.clone(),
                external_id: x.external_id.clone(),
                display_name: x.display_name.clone(),
                ..Default::default()
            })
            .await?;
        return Ok(());
    }
    c.identities
        .create_identity(pb::CreateIdentityRequest {
            kind: kind(&x.kind).into(),
            email: x.email.clone(),
            external_id: x.external_id.clone(),
            display_name: x.display_name.clone(),
            ..Default::default()
        })
        .await?;
    if x.status == "DISABLED" {
        disable(c, x).await?;
    }
    Ok(())
}

async fn update_identity(
    c: &mut Clients,
    current: &IdentityDoc,
    desired: &IdentityDoc,
) -> Result<(), Failure> {
    let named = identity_ref(&current.handle(), &c.admin_id);
    let reference = || Some(named.clone());
    if current.display_name != desired.display_name || current.external_id != desired.external_id {
        c.identities
            .update_identity(pb::UpdateIdentityRequest {
                identity: reference(),
                display_name: Some(desired.display_name.clone()),
                external_id: Some(desired.external_id.clone()),
                ..Default::default()
            })
            .await?;
    }
    if current.status != desired.status {
        match desired.status.as_str() {
            "ACTIVE" => {
                c.identities
                    .activate_identity(pb::ActivateIdentityRequest {
                        identity: reference(),
                        ..Default::default()
                    })
                    .await?;
            }
            "DISABLED" => disable(c, current).await?,
            _ => {}
        }
    }
    Ok(())
}

async fn disable(c: &mut Clients, x: &IdentityDoc) -> Result<(), Failure> {
    c.identities
        .disable_identity(pb::DisableIdentityRequest {
            identity: Some(identity_ref(&x.handle(), &c.admin_id)),
            ..Default::default()
        })
        .await?;
    Ok(())
}

async fn move_node(c: &mut Clients, n: &NodeDoc) -> Result<(), Failure> {
    c.nodes
        .move_node(pb::MoveNodeRequest {
            node: Some(node_ref(&n.key)),
            new_parent: Some(node_ref(&n.parent)),
            ..Default::default()
        })
        .await?;
    Ok(())
}

async fn unassign(c: &mut Clients, a: &AssignmentDoc) -> Result<(), Failure> {
    c.assignments
        .delete_assignment(pb::DeleteAssignmentRequest {
            identity: Some(identity_ref(&a.identity, &c.admin_id)),
            role: Some(role_by_name(&a.role)),
            node: Some(node_ref(&a.node)),
            ..Default::default()
        })
        .await?;
    Ok(())
}

fn grant(a: &AssignmentDoc, admin_id: &str) -> pb::CreateAssignmentRequest {
    pb::CreateAssignmentRequest {
        identity: Some(identity_ref(&a.identity, admin_id)),
        role: Some(role_by_name(&a.role)),
        node: Some(node_ref(&a.node)),
        effective_from: a.from.as_deref().and_then(|t| instant(t).ok()),
        effective_to: a.to.as_deref().and_then(|t| instant(t).ok()),
        ..Default::default()
    }
}

/// An identity handle of a document as a reference; `admin_id` is what
/// `builtin:admin` stands for.
pub fn identity_ref(handle: &str, admin_id: &str) -> pb::IdentityRef {
    use pb::identity_ref::Ref;
    let r = if handle == BUILTIN_ADMIN {
        Ref::Id(admin_id.to_owned())
    } else if let Some(external) = handle.strip_prefix(EXTERNAL_PREFIX) {
        Ref::ExternalId(external.to_owned())
    } else if uuid::Uuid::try_parse(handle).is_ok() {
        Ref::Id(handle.to_owned())
    } else {
        Ref::Email(handle.to_owned())
    };
    pb::IdentityRef { r#ref: Some(r) }
}

/// A node key of a document as a reference.
pub fn node_ref(key: &str) -> pb::NodeRef {
    pb::NodeRef {
        r#ref: Some(pb::node_ref::Ref::Key(key.to_owned())),
    }
}

pub fn kind(text: &str) -> pb::IdentityKind {
    match text {
        "SERVICE_ACCOUNT" => pb::IdentityKind::ServiceAccount,
        _ => pb::IdentityKind::User,
    }
}

pub fn status(text: &str) -> pb::IdentityStatus {
    match text {
        "INVITED" => pb::IdentityStatus::Invited,
        "DISABLED" => pb::IdentityStatus::Disabled,
        _ => pb::IdentityStatus::Active,
    }
}
