//! A populated environment to move around, and the environment as plain,
//! id-free rows to compare across servers.

use std::collections::{BTreeSet, HashMap};

use rbacd::proto::v1 as pb;
use tokio_stream::StreamExt;

use crate::support::*;

/// Fills `server`'s default environment: roles, identities of every kind and
/// status, a three-level tree with a moved node, assignments with windows.
pub async fn populate(server: &TestServer) {
    let reader = create_role(server, "Docs_Reader", &["Docs:Read"]).await;
    let writer = create_role(server, "Docs_Writer", &["Docs:*", "Wallets:Read"]).await;
    let alice = create_user(server, "alice@example.com").await;
    let bob = create_user(server, "Bob@Example.com").await;
    let mut identities = server.identities();
    let robot = identities
        .create_identity(pb::CreateIdentityRequest {
            kind: pb::IdentityKind::ServiceAccount.into(),
            external_id: "svc|robot".into(),
            display_name: "Robot".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .identity
        .unwrap();
    identities
        .invite_identity(pb::InviteIdentityRequest {
            email: "carol@example.com".into(),
            display_name: "Carol".into(),
            assignments: vec![pb::InitialAssignment {
                node: node_by_key("root"),
                role: role_by_name("Docs_Reader"),
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .unwrap();
    identities
        .disable_identity(pb::DisableIdentityRequest {
            request_id: Default::default(),
            identity: identity_by_id(&bob.id),
        })
        .await
        .unwrap();
    let payments = create_node(server, "payments", None).await;
    let eu = create_node(server, "payments:eu", Some("payments")).await;
    let wallet = create_node(server, "wallet:42", None).await;
    create_node(server, "wallet:43", Some("payments:eu")).await;
    // Moved under a node created after it: the export must still put parents first.
    server
        .nodes()
        .move_node(pb::MoveNodeRequest {
            request_id: Default::default(),
            node: node_by_id(&wallet.id),
            new_parent: node_by_id(&eu.id),
        })
        .await
        .unwrap();
    assign(server, &alice, &reader, &payments).await;
    assign(server, &bob, &writer, &eu).await;
    assign(server, &robot, &writer, &wallet).await;
    let mut windowed = assignment_request(&alice, &writer, &eu);
    windowed.effective_from = at(1_900_000_000, 0);
    windowed.effective_to = at(2_000_000_000, 500);
    server
        .assignments()
        .create_assignment(windowed)
        .await
        .unwrap();
}

/// Every object of an environment without ids or times, as sorted rows.
pub async fn rows(clients: &Clients) -> BTreeSet<String> {
    let messages = export(clients).await;
    let mut out = BTreeSet::new();
    let mut identities = HashMap::new();
    let mut roles = HashMap::new();
    let mut nodes = HashMap::new();
    for m in &messages {
        for r in &m.roles {
            roles.insert(r.id.clone(), r.name.clone());
            out.insert(format!(
                "role {} {:?} {:?} {}",
                r.name, r.description, r.permissions, r.builtin
            ));
        }
        for i in &m.identities {
            let handle = format!(
                "{}|{}|{}",
                i.email,
                i.external_id,
                if i.builtin { "builtin" } else { "" }
            );
            identities.insert(i.id.clone(), handle.clone());
            out.insert(format!(
                "identity {handle} {} {} {:?}",
                i.kind, i.status, i.display_name
            ));
        }
        for n in &m.nodes {
            nodes.insert(n.id.clone(), n.key.clone());
        }
    }
    let node = |r: &Option<pb::NodeRef>| match r.as_ref().and_then(|r| r.r#ref.clone()) {
        Some(pb::node_ref::Ref::Id(id)) => nodes[&id].clone(),
        Some(pb::node_ref::Ref::Key(key)) => key,
        None => "root".into(),
    };
    for m in &messages {
        for n in &m.nodes {
            out.insert(format!(
                "node {} {:?} {:?} under {}",
                n.key,
                n.name,
                n.kind,
                node(&n.parent)
            ));
        }
        for a in &m.assignments {
            let Some(pb::identity_ref::Ref::Id(who)) = a.identity.clone().and_then(|r| r.r#ref)
            else {
                panic!("an export names identities by id: {a:?}");
            };
            let Some(pb::role_ref::Ref::Id(role)) = a.role.clone().and_then(|r| r.r#ref) else {
                panic!("an export names roles by id: {a:?}");
            };
            out.insert(format!(
                "assignment {} {} {} {:?} {:?} {}",
                identities[&who],
                roles[&role],
                node(&a.node),
                a.effective_from,
                a.effective_to,
                a.builtin
            ));
        }
    }
    out
}

/// Every message of an Export stream; all carry one revision.
pub async fn export(clients: &Clients) -> Vec<pb::ExportResponse> {
    let mut stream = clients
        .bulk
        .clone()
        .export(pb::ExportRequest::default())
        .await
        .expect("export")
        .into_inner();
    let mut messages = Vec::new();
    while let Some(m) = stream.next().await {
        messages.push(m.expect("an export message"));
    }
    assert!(!messages.is_empty());
    assert!(messages.iter().all(|m| m.revision == messages[0].revision));
    messages
}

/// The same checks on both servers give the same answers.
pub async fn assert_same_answers(a: &TestServer, b: &TestServer) {
    let (left, right) = (
        sample_answers(a.authorization()).await,
        sample_answers(b.authorization()).await,
    );
    assert!(
        left.iter().any(|x| *x) && left.iter().any(|x| !*x),
        "the sample has both answers"
    );
    assert_eq!(left, right);
}

/// The answers of one server to a sample of checks over the populated world.
pub async fn sample_answers(mut authz: Authz) -> Vec<bool> {
    let who = ["alice@example.com", "bob@example.com", "carol@example.com"];
    let nodes = ["root", "payments", "payments:eu", "wallet:42", "wallet:43"];
    let permissions = ["Docs:Read", "Docs:Write", "Wallets:Read", "Wallets:Write"];
    let mut checks = Vec::new();
    for w in who {
        for n in nodes {
            for p in permissions {
                checks.push(pb::CheckRequest {
                    identity: identity_by_email(w),
                    node: node_by_key(n),
                    permission: p.into(),
                    ..Default::default()
                });
            }
        }
    }
    for n in nodes {
        checks.push(pb::CheckRequest {
            identity: identity_by_external_id("svc|robot"),
            node: node_by_key(n),
            permission: "Docs:Write".into(),
            at: at(1_950_000_000, 0),
            ..Default::default()
        });
    }
    let results = authz
        .batch_check(pb::BatchCheckRequest { checks })
        .await
        .expect("batch check")
        .into_inner()
        .results;
    results.iter().map(|r| r.allowed).collect()
}
