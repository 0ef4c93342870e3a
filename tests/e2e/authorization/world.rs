//! A world built through the API, mirrored as rows for the reference evaluator,
//! and checks generated over it with what each must answer.

use rbacd::domain::{
    Assignment, Email, EnvironmentId, Identity, IdentityKind, IdentityRef, IdentityStatus, Node,
    NodeKey, NodeRef, Permission, PermissionPattern, Role, RoleName, Timestamp,
};
use rbacd::engine::Reason;

use super::*;
use crate::support::decision_rule::{Expected, Rows};

pub const W0: i64 = 2_000_000_000 * 1_000_000;
pub const W1: i64 = W0 + 3_600 * 1_000_000;
pub const LONG_AGO: i64 = 1_600_000_000 * 1_000_000;

pub const PERMISSIONS: &[&str] = &[
    "Wallets:Read",
    "Wallets:Keys:Rotate",
    "Wallets",
    "Payments:Read",
    "Payments:Refunds:Create",
    "Payments:Refunds",
    "Other:Thing",
];

pub struct WNode {
    pub id: String,
    pub key: String,
}

pub struct WIdentity {
    pub id: String,
    pub email: String,
    pub active: bool,
}

/// What the test created: handles for generating checks, the same objects as
/// rows for the reference evaluator, and the revision after the last write.
pub struct World {
    pub nodes: Vec<WNode>,
    pub identities: Vec<WIdentity>,
    rows: Rows,
    pub revision: u64,
}

const ENVIRONMENT: EnvironmentId = EnvironmentId(uuid::Uuid::nil());

fn id<T: From<uuid::Uuid>>(text: &str) -> T {
    uuid::Uuid::parse_str(text)
        .unwrap_or_else(|e| panic!("`{text}` is not a UUID: {e}"))
        .into()
}

fn node_row(node: &pb::Node) -> Node {
    Node {
        id: id(&node.id),
        environment_id: ENVIRONMENT,
        key: NodeKey::parse(&node.key).expect("a node key"),
        name: node.name.clone(),
        kind: node.kind.clone(),
        parent_id: (!node.parent_id.is_empty()).then(|| id(&node.parent_id)),
        created_at: Timestamp(0),
        updated_at: Timestamp(0),
    }
}

fn role_row(role: &pb::Role) -> Role {
    Role {
        id: id(&role.id),
        environment_id: ENVIRONMENT,
        name: RoleName::parse(&role.name).expect("a role name"),
        description: role.description.clone(),
        permissions: role
            .permissions
            .iter()
            .map(|p| PermissionPattern::parse(p).expect("a permission pattern"))
            .collect(),
        created_at: Timestamp(0),
        updated_at: Timestamp(0),
    }
}

fn identity_row(identity: &str, email: &str, status: IdentityStatus) -> Identity {
    Identity {
        id: id(identity),
        environment_id: ENVIRONMENT,
        kind: IdentityKind::User,
        status,
        email: (!email.is_empty()).then(|| Email::parse(email).expect("an email")),
        external_id: None,
        display_name: String::new(),
        created_at: Timestamp(0),
        updated_at: Timestamp(0),
    }
}

fn assignment_row(a: &pb::Assignment, from: Option<i64>, to: Option<i64>) -> Assignment {
    Assignment {
        id: id(&a.id),
        environment_id: ENVIRONMENT,
        identity_id: id(&a.identity_id),
        role_id: id(&a.role_id),
        node_id: id(&a.node_id),
        effective_from: from.map(Timestamp),
        effective_to: to.map(Timestamp),
        created_at: Timestamp(0),
    }
}

fn pb_reason(reason: Reason) -> pb::DecisionReason {
    match reason {
        Reason::Granted => pb::DecisionReason::Granted,
        Reason::NoMatchingAssignment => pb::DecisionReason::NoMatchingAssignment,
        Reason::IdentityNotActive => pb::DecisionReason::IdentityNotActive,
        Reason::UnknownIdentity => pb::DecisionReason::UnknownIdentity,
        Reason::UnknownNode => pb::DecisionReason::UnknownNode,
    }
}

fn permission(text: &str) -> Permission {
    Permission::parse(text).expect("a permission")
}

impl World {
    pub fn node(&self, id: &str) -> Option<&WNode> {
        self.nodes.iter().find(|n| n.id == id)
    }

    pub fn node_by_key(&self, key: &str) -> &WNode {
        self.nodes.iter().find(|n| n.key == key).expect("a node")
    }

    pub fn identity(&self, id: &str) -> Option<&WIdentity> {
        self.identities.iter().find(|i| i.id == id)
    }

    /// What the rule says of `identity` (an id) asking `permission` at `node` at `at`.
    pub fn decide(&self, identity: &str, permission_: &str, node: &NodeRef, at: i64) -> Expected {
        self.rows.check(
            &IdentityRef::Id(id(identity)),
            &permission(permission_),
            node,
            Timestamp(at),
        )
    }

    pub fn permissions(&self, identity: &str, node: &str, at: i64) -> BTreeSet<String> {
        self.rows
            .list_permissions(
                &IdentityRef::Id(id(identity)),
                &NodeRef::Id(id(node)),
                Timestamp(at),
            )
            .unwrap_or_default()
            .iter()
            .map(|p| p.as_str().to_owned())
            .collect()
    }

    pub fn lookup_nodes(
        &self,
        identity: &str,
        permission_: &str,
        root: &str,
        at: i64,
    ) -> BTreeSet<String> {
        let root = self
            .rows
            .node(&NodeRef::Id(id(root)))
            .expect("the subtree's root");
        self.rows
            .lookup_nodes(
                &IdentityRef::Id(id(identity)),
                &permission(permission_),
                root,
                Timestamp(at),
            )
            .into_iter()
            .map(|n| n.to_string())
            .collect()
    }

    pub fn lookup_identities(&self, permission_: &str, node: &str, at: i64) -> BTreeSet<String> {
        let node = self.rows.node(&NodeRef::Id(id(node))).expect("a node");
        self.rows
            .lookup_identities(&permission(permission_), node, Timestamp(at))
            .into_iter()
            .map(|i| i.id.to_string())
            .collect()
    }

    /// Checks a response against the expectation.
    #[track_caller]
    pub fn assert_answer(&self, expected: &Expected, resp: &pb::CheckResponse, what: &str) {
        let reason = pb_reason(expected.reason);
        assert!(resp.error.is_none(), "{what}: unexpected error {resp:?}");
        assert_eq!(
            resp.allowed,
            reason == pb::DecisionReason::Granted,
            "{what}: {resp:?}"
        );
        assert_eq!(resp.reason_code(), reason, "{what}: {resp:?}");
        let code = reason.as_str_name().trim_start_matches("DECISION_REASON_");
        assert!(resp.reason.starts_with(code), "{what}: {}", resp.reason);
        match (&expected.granted_by, &resp.granted_by) {
            (None, None) => {}
            (Some((assignment, _role, node, pattern)), Some(g)) => {
                assert_eq!(g.assignment_id, assignment.to_string(), "{what}: {resp:?}");
                assert_eq!(g.node_id, node.to_string(), "{what}: {resp:?}");
                assert_eq!(&g.matched_permission, pattern, "{what}: {resp:?}");
            }
            _ => panic!(
                "{what}: expected grant {:?}, got {resp:?}",
                expected.granted_by
            ),
        }
        assert!(resp.revision >= self.revision, "{what}: {resp:?}");
    }
}

/// Builds the world through the API: a tree of 12 nodes, 5 roles, 10 users
/// (one INVITED, one DISABLED), assignments with and without windows.
pub async fn build_world(server: &TestServer) -> World {
    let root = root(server).await;
    let mut rows = Rows::default();
    rows.nodes.push(node_row(&root));
    let mut nodes = vec![WNode {
        id: root.id.clone(),
        key: "root".into(),
    }];
    for (key, parent) in [
        ("org:a", "root"),
        ("org:b", "root"),
        ("a1", "org:a"),
        ("a2", "org:a"),
        ("a1x", "a1"),
        ("a1y", "a1"),
        ("a2x", "a2"),
        ("b1", "org:b"),
        ("b1x", "b1"),
        ("b1y", "b1"),
        ("b1x:deep", "b1x"),
    ] {
        let parent_id = nodes.iter().find(|n| n.key == parent).unwrap().id.clone();
        let node = create_node(server, key, Some(parent)).await;
        assert_eq!(node.parent_id, parent_id);
        rows.nodes.push(node_row(&node));
        nodes.push(WNode {
            id: node.id,
            key: key.into(),
        });
    }
    let mut role_ids = HashMap::new();
    for (name, permissions) in [
        ("Reader", &["Wallets:Read", "Payments:Read"][..]),
        ("WalletsAll", &["Wallets:*"]),
        ("Refunder", &["Payments:Refunds:Create", "Payments:Read"]),
        ("Everything", &["*"]),
        ("KeysAdmin", &["Wallets:Keys:*", "Wallets:Read"]),
    ] {
        let role = create_role(server, name, permissions).await;
        role_ids.insert(name, role.id.clone());
        rows.roles.push(role_row(&pb::Role {
            permissions: permissions.iter().map(|p| p.to_string()).collect(),
            ..role
        }));
    }
    // The bootstrap admin holds `Administrator` (`*`) at the root, and so
    // shows up in every lookup of identities.
    let admin_role = server
        .roles()
        .get_role(pb::GetRoleRequest {
            role: role_by_name("Administrator"),
        })
        .await
        .expect("the Administrator role")
        .into_inner()
        .role
        .unwrap();
    assert_eq!(admin_role.permissions, ["*"]);
    rows.roles.push(role_row(&admin_role));
    let admin_grants = list_all_assignments(
        server,
        pb::ListAssignmentsRequest {
            role: role_by_id(&admin_role.id),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(admin_grants.len(), 1);
    let admin = &admin_grants[0].identity_id;
    rows.identities
        .push(identity_row(admin, "", IdentityStatus::Active));
    let mut identities = vec![WIdentity {
        id: admin.clone(),
        email: String::new(),
        active: true,
    }];
    rows.assignments
        .extend(admin_grants.iter().map(|a| assignment_row(a, None, None)));

    let mut users = Vec::new();
    for i in 0..10 {
        let email = format!("u{i}@example.com");
        let user = if i == 8 {
            server
                .identities()
                .invite_identity(pb::InviteIdentityRequest {
                    request_id: Default::default(),
                    kind: pb::IdentityKind::User.into(),
                    email: email.clone(),
                    external_id: String::new(),
                    display_name: String::new(),
                    assignments: vec![pb::InitialAssignment {
                        node: node_by_key("root"),
                        role: role_by_name("Reader"),
                        effective_from: None,
                        effective_to: None,
                    }],
                })
                .await
                .expect("invite")
                .into_inner()
        } else {
            let identity = create_user(server, &email).await;
            pb::InviteIdentityResponse {
                identity: Some(identity),
                ..Default::default()
            }
        };
        let identity = user.identity.unwrap();
        assert!(
            user.assignments
                .iter()
                .all(|a| a.identity_id == identity.id)
        );
        rows.assignments.extend(
            user.assignments
                .iter()
                .map(|a| assignment_row(a, None, None)),
        );
        let status = if i == 8 {
            IdentityStatus::Invited
        } else {
            IdentityStatus::Active
        };
        rows.identities
            .push(identity_row(&identity.id, &email, status));
        identities.push(WIdentity {
            id: identity.id.clone(),
            email,
            active: i != 8 && i != 9,
        });
        users.push(identity);
    }

    type Grant = (usize, &'static str, &'static str, Option<i64>, Option<i64>);
    let grants: &[Grant] = &[
        (0, "Reader", "org:a", None, None),
        (0, "WalletsAll", "b1", Some(W0), Some(W1)),
        (1, "Refunder", "root", None, Some(W1)),
        (1, "Reader", "a1x", None, None),
        (2, "Everything", "b1x", Some(W0), None),
        (2, "Reader", "org:b", None, None),
        (3, "WalletsAll", "a1", None, None),
        (3, "Reader", "a1", None, None),
        (3, "KeysAdmin", "a1y", Some(W0), Some(W1)),
        (4, "Refunder", "a2", None, None),
        (4, "Reader", "a2x", None, None),
        (4, "KeysAdmin", "org:b", None, Some(W0)),
        (6, "Everything", "org:a", Some(W0), Some(W1)),
        (
            6,
            "Reader",
            "b1",
            Some(LONG_AGO),
            Some(LONG_AGO + 3_600_000_000),
        ),
        (7, "Reader", "root", None, None),
        (7, "WalletsAll", "b1y", None, None),
        (9, "Everything", "root", None, None),
    ];
    let batch = server
        .assignments()
        .batch_create_assignments(pb::BatchCreateAssignmentsRequest {
            request_id: Default::default(),
            assignments: grants
                .iter()
                .map(|&(i, role, node, from, to)| pb::CreateAssignmentRequest {
                    request_id: Default::default(),
                    identity: identity_by_id(&users[i].id),
                    role: role_by_name(role),
                    node: node_by_key(node),
                    effective_from: from.and_then(micros_to_ts),
                    effective_to: to.and_then(micros_to_ts),
                })
                .collect(),
        })
        .await
        .expect("batch create assignments")
        .into_inner();
    assert_eq!(batch.assignments.len(), grants.len());
    for (a, &(i, role, node, from, to)) in batch.assignments.iter().zip(grants) {
        assert_eq!(a.identity_id, users[i].id);
        assert_eq!(a.role_id, role_ids[role]);
        assert_eq!(a.node_key, node);
        rows.assignments.push(assignment_row(a, from, to));
    }
    let revision = set_active(server, &users[9], false).await;
    let disabled = rows
        .identities
        .iter_mut()
        .find(|i| i.id.to_string() == users[9].id)
        .expect("user 9");
    disabled.status = IdentityStatus::Disabled;
    World {
        nodes,
        identities,
        rows,
        revision,
    }
}

/// The instants checks are asked at; `None` is now.
pub fn instants() -> [Option<i64>; 7] {
    [
        None,
        Some(W0 - 1),
        Some(W0),
        Some(W0 + 1_800_000_000),
        Some(W1 - 1),
        Some(W1),
        Some(LONG_AGO + 1_000),
    ]
}

/// A small deterministic generator (xorshift64*).
pub struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// What a generated check expects: a decision, or an item error on a field.
pub enum Want {
    Decision(Expected),
    Invalid(&'static str),
}

/// `n` checks over the world, with a malformed one every 1000 from 499 on,
/// and what each must answer.
pub fn generate(world: &World, n: usize, seed: u64, tag: &str) -> Vec<(pb::CheckRequest, Want)> {
    let mut rng = Rng(seed | 1);
    let unknown = uuid::Uuid::new_v4().to_string();
    (0..n)
        .map(|i| {
            let correlation_id = format!("{tag}-{i}");
            let permission = PERMISSIONS[rng.below(PERMISSIONS.len())];
            let node = &world.nodes[rng.below(world.nodes.len())];
            let who = &world.identities[rng.below(world.identities.len())];
            let at = instants()[rng.below(instants().len())];
            let mut request = pb::CheckRequest {
                correlation_id,
                identity: identity_by_id(&who.id),
                permission: permission.into(),
                node: node_by_id(&node.id),
                at: at.and_then(micros_to_ts),
                min_revision: if rng.below(4) == 0 { world.revision } else { 0 },
            };
            if i % 1000 == 499 {
                let field = match (i / 1000) % 5 {
                    0 => {
                        request.permission = "Wallets:*".into();
                        "permission"
                    }
                    1 => {
                        request.identity = None;
                        "identity"
                    }
                    2 => {
                        request.node = node_by_id("not-a-uuid");
                        "node"
                    }
                    3 => {
                        request.at = Some(prost_types::Timestamp {
                            seconds: 0,
                            nanos: 1_000_000_000,
                        });
                        "at"
                    }
                    _ => {
                        request.permission = String::new();
                        "permission"
                    }
                };
                return (request, Want::Invalid(field));
            }
            let mut identity_id = who.id.clone();
            let mut node_ref = NodeRef::Id(id(&node.id));
            match rng.below(40) {
                // By email, in another case.
                0..=3 if !who.email.is_empty() => {
                    request.identity = identity_by_email(&who.email.to_uppercase());
                }
                // By key.
                4..=7 => request.node = node_by_key(&node.key),
                8 => {
                    request.identity = identity_by_id(&unknown);
                    identity_id = unknown.clone();
                }
                9 if who.active => {
                    request.node = node_by_key("no:such:node");
                    node_ref = NodeRef::Key(NodeKey::parse("no:such:node").unwrap());
                }
                _ => {}
            }
            let t = at.unwrap_or_else(now_micros);
            let expected = world.decide(&identity_id, permission, &node_ref, t);
            (request, Want::Decision(expected))
        })
        .collect()
}

#[track_caller]
pub fn assert_answers(
    world: &World,
    cases: &[(pb::CheckRequest, Want)],
    answers: &[pb::CheckResponse],
) {
    assert_eq!(answers.len(), cases.len(), "one answer per check");
    for ((request, want), resp) in cases.iter().zip(answers) {
        assert_eq!(
            resp.correlation_id, request.correlation_id,
            "answers come in request order"
        );
        let what = format!("{request:?}");
        match want {
            Want::Decision(expected) => world.assert_answer(expected, resp, &what),
            Want::Invalid(field) => assert_item_invalid(resp, field),
        }
    }
}

/// Sends every request on one CheckStream (half-closing after the last) and
/// reads every answer until the server ends the stream.
pub async fn stream_all(client: &Authz, requests: Vec<pb::CheckRequest>) -> Vec<pb::CheckResponse> {
    let mut answers = client
        .clone()
        .check_stream(tokio_stream::iter(requests))
        .await
        .expect("open CheckStream")
        .into_inner();
    let mut all = Vec::new();
    while let Some(resp) = answers.message().await.expect("a clean stream") {
        all.push(resp);
    }
    all
}
