//! A small hand-made environment for the engine's scenario tests.

use super::*;
use crate::domain::change::Event;
use crate::domain::{
    Assignment, AssignmentId, Email, Environment, EnvironmentState, ExternalId, Identity,
    IdentityKind, IdentityStatus, Node, NodeKey, Role, RoleId, RoleName,
};

pub(super) const T: Timestamp = Timestamp(1_000);

pub(super) struct World {
    pub env: EnvironmentId,
    pub engine: Engine,
    pub revision: u64,
}

pub(super) fn perm(text: &str) -> Permission {
    Permission::parse(text).unwrap()
}

pub(super) fn node(env: EnvironmentId, key: &str, parent: Option<NodeId>) -> Node {
    Node {
        id: NodeId::generate(),
        environment_id: env,
        key: NodeKey::parse(key).unwrap(),
        name: key.into(),
        kind: String::new(),
        parent_id: parent,
        created_at: T,
        updated_at: T,
    }
}

pub(super) fn role(env: EnvironmentId, name: &str, patterns: &[&str]) -> Role {
    Role {
        id: RoleId::generate(),
        environment_id: env,
        name: RoleName::parse(name).unwrap(),
        description: String::new(),
        permissions: patterns
            .iter()
            .map(|p| PermissionPattern::parse(p).unwrap())
            .collect(),
        created_at: T,
        updated_at: T,
    }
}

pub(super) fn identity(env: EnvironmentId, email: &str) -> Identity {
    Identity {
        id: IdentityId::generate(),
        environment_id: env,
        kind: IdentityKind::User,
        status: IdentityStatus::Active,
        email: Some(Email::parse(email).unwrap()),
        external_id: Some(ExternalId::parse(&format!("ext|{email}")).unwrap()),
        display_name: String::new(),
        created_at: T,
        updated_at: T,
    }
}

pub(super) fn assignment(
    who: &Identity,
    what: &Role,
    at: &Node,
    window: (Option<i64>, Option<i64>),
) -> Assignment {
    Assignment {
        id: AssignmentId::generate(),
        environment_id: who.environment_id,
        identity_id: who.id,
        role_id: what.id,
        node_id: at.id,
        effective_from: window.0.map(Timestamp),
        effective_to: window.1.map(Timestamp),
        created_at: T,
    }
}

impl World {
    pub fn new(state: EnvironmentState) -> Self {
        let env = state.nodes[0].environment_id;
        let environment = Environment {
            id: env,
            name: "test".into(),
            created_at: T,
        };
        let engine = Engine::from_snapshot(Snapshot {
            revision: 7,
            environments: vec![(environment, state)],
        });
        Self {
            env,
            engine,
            revision: 7,
        }
    }

    pub fn apply(&mut self, event: Event) {
        self.revision += 1;
        let change = Change {
            revision: self.revision,
            environment_id: self.env,
            at: T,
            actor: None,
            action: "Test".into(),
            before: None,
            event,
            signed_by: None,
        };
        assert!(self.engine.apply(&change));
        assert!(!self.engine.apply(&change), "a change applies once");
    }

    pub fn check(&self, who: &Identity, permission: &str, at: &Node, time: i64) -> Decision {
        let decision = self.engine.check(
            self.env,
            &IdentityRef::Id(who.id),
            &perm(permission),
            &NodeRef::Id(at.id),
            Timestamp(time),
        );
        assert_eq!(decision.allowed, decision.reason == Reason::Granted);
        assert_eq!(decision.revision, self.revision);
        // A batch's checker decides the same.
        let batched = self.engine.checking(self.env, |checker| {
            checker.check(
                &IdentityRef::Id(who.id),
                &perm(permission),
                &NodeRef::Id(at.id),
                Timestamp(time),
            )
        });
        assert_eq!(batched, decision);
        decision
    }
}
