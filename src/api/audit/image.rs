//! A change's before and after images as the API shows the object: the proto
//! JSON of the message its RPCs answer with (Role, Identity, Node, Assignment,
//! ApiKey, Credential), never a secret or a hash. The store keeps writing its
//! own rows; they are converted here, on the way out. A stored image that no
//! longer parses as its object passes through as it is (secrets still removed).

use std::collections::HashMap;

use prost_types::Struct;
use serde_json::{Value, json};

use super::super::{api_keys, json::image as to_struct, render, signing};
use crate::domain::{
    Assignment, Environment, EnvironmentId, Error, NodeId, NodeRef, RoleId, RoleRef, Timestamp,
    change::{Event, ObjectKind},
};
use crate::proto::json::{Named, to_value};
use crate::store::{AssignmentView, Store};

/// Ids a cache keeps before it starts afresh, so a long Watch stays small.
const MAX_NAMES: usize = 10_000;

/// Role names and node keys by id, which assignment images show beside the
/// ids; asked of the store once per id. A name is the object's current one;
/// an object deleted since shows none.
#[derive(Default)]
pub(crate) struct Names {
    roles: HashMap<RoleId, String>,
    nodes: HashMap<NodeId, String>,
}

impl Names {
    async fn role(&mut self, store: &Store, env: EnvironmentId, id: RoleId) -> String {
        if let Some(name) = self.roles.get(&id) {
            return name.clone();
        }
        let found = store.get_role(env, &RoleRef::Id(id)).await;
        let name = match found {
            Ok(role) => role.name.to_string(),
            Err(Error::NotFound(_)) => String::new(),
            // Not kept: the next change asks again.
            Err(_) => return String::new(),
        };
        if self.roles.len() >= MAX_NAMES {
            self.roles.clear();
        }
        self.roles.insert(id, name.clone());
        name
    }

    async fn node(&mut self, store: &Store, env: EnvironmentId, id: NodeId) -> String {
        if let Some(key) = self.nodes.get(&id) {
            return key.clone();
        }
        let found = store.get_node(env, &NodeRef::Id(id)).await;
        let key = match found {
            Ok(node) => node.key.to_string(),
            Err(Error::NotFound(_)) => String::new(),
            Err(_) => return String::new(),
        };
        if self.nodes.len() >= MAX_NAMES {
            self.nodes.clear();
        }
        self.nodes.insert(id, key.clone());
        key
    }

    /// An assignment as the API shows it, its state as of `at`.
    async fn assignment(
        &mut self,
        store: &Store,
        assignment: &Assignment,
        at: Timestamp,
    ) -> crate::proto::v1::Assignment {
        let env = assignment.environment_id;
        let view = AssignmentView {
            role_name: self.role(store, env, assignment.role_id).await,
            node_key: self.node(store, env, assignment.node_id).await,
            assignment: assignment.clone(),
            inherited: false,
        };
        render::assignment(&view, at)
    }
}

/// An environment has no message of its own; its image is written in the
/// same proto JSON style.
fn environment(environment: &Environment) -> Value {
    let mut image = json!({ "id": environment.id.to_string() });
    if !environment.name.is_empty() {
        image["name"] = json!(environment.name);
    }
    let (seconds, nanos) = environment.created_at.to_parts();
    let created = u32::try_from(nanos)
        .ok()
        .and_then(|nanos| chrono::DateTime::from_timestamp(seconds, nanos));
    if let Some(created) = created {
        // Whole seconds, or 3, 6 or 9 digits of fraction, as proto JSON writes.
        let text = created.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
        image["createTime"] = json!(text);
    }
    image
}

fn proto<M: Named>(message: &M) -> Option<Struct> {
    to_value(message).ok().map(|value| to_struct(&value))
}

/// The image after a change, from its event; `None` for a deletion.
pub(crate) async fn after(
    event: &Event,
    at: Timestamp,
    store: &Store,
    names: &mut Names,
) -> Option<Struct> {
    let rendered = match event {
        Event::EnvironmentCreated(e) => Some(to_struct(&environment(e))),
        Event::RoleSaved(role) => proto(&render::role(role)),
        Event::IdentitySaved(identity) => proto(&render::identity(identity)),
        Event::NodeSaved(node) => proto(&render::node(node)),
        Event::AssignmentCreated(a) | Event::AssignmentUpdated(a) => {
            proto(&names.assignment(store, a, at).await)
        }
        Event::ApiKeySaved(key) => proto(&api_keys::render(key)),
        Event::CredentialSaved(credential) => proto(&signing::render(credential)),
        Event::RoleDeleted(_)
        | Event::IdentityDeleted(_)
        | Event::NodeDeleted(_)
        | Event::AssignmentDeleted(_) => return None,
    };
    // Only a timestamp out of proto JSON's range fails to render: show the row.
    rendered.or_else(|| event.after().as_ref().map(to_struct))
}

/// The image before a change, from the stored JSON of the object's kind.
pub(crate) async fn before(
    kind: ObjectKind,
    stored: &Value,
    at: Timestamp,
    store: &Store,
    names: &mut Names,
) -> Struct {
    fn parse<T: serde::de::DeserializeOwned>(stored: &Value) -> Option<T> {
        serde_json::from_value(stored.clone()).ok()
    }
    let rendered = match kind {
        ObjectKind::Environment => parse(stored).map(|e| to_struct(&environment(&e))),
        ObjectKind::Role => parse(stored).and_then(|r| proto(&render::role(&r))),
        ObjectKind::Identity => parse(stored).and_then(|i| proto(&render::identity(&i))),
        ObjectKind::Node => parse(stored).and_then(|n| proto(&render::node(&n))),
        ObjectKind::Assignment => match parse::<Assignment>(stored) {
            Some(a) => proto(&names.assignment(store, &a, at).await),
            None => None,
        },
        ObjectKind::ApiKey => parse(stored).and_then(|k| proto(&api_keys::render(&k))),
        ObjectKind::Credential => parse(stored).and_then(|c| proto(&signing::render(&c))),
    };
    rendered.unwrap_or_else(|| to_struct(stored))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> Store {
        let path = std::env::temp_dir().join(format!("rbacd-image-{}.db", uuid::Uuid::new_v4()));
        let store = Store::connect(&format!("sqlite://{}?mode=rwc", path.display()))
            .await
            .unwrap();
        store.migrate().await.unwrap();
        store
    }

    fn as_json(image: &Struct) -> Value {
        let text = serde_json::to_string(&image.fields.keys().collect::<Vec<_>>()).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    #[tokio::test]
    async fn a_stored_row_becomes_the_api_message_and_an_old_one_passes_through() {
        let store = store().await;
        let mut names = Names::default();
        let at = Timestamp(1_700_000_000_000_000);
        let role = crate::domain::Role {
            id: uuid::Uuid::now_v7().into(),
            environment_id: uuid::Uuid::now_v7().into(),
            name: crate::domain::RoleName::parse("Viewer").unwrap(),
            description: String::new(),
            permissions: Vec::new(),
            created_at: at,
            updated_at: at,
        };
        let stored = serde_json::to_value(&role).unwrap();
        let image = before(ObjectKind::Role, &stored, at, &store, &mut names).await;
        assert_eq!(
            as_json(&image),
            json!(["createTime", "id", "name", "updateTime"])
        );

        // A row of an older shape: shown as stored, less its secrets.
        let legacy = json!({ "id": "k1", "secret_hash": "abc", "created_at": 1 });
        let image = before(ObjectKind::ApiKey, &legacy, at, &store, &mut names).await;
        assert_eq!(as_json(&image), json!(["created_at", "id"]));
    }

    #[test]
    fn an_environment_image_is_in_proto_json_style() {
        let image = environment(&Environment {
            id: uuid::Uuid::nil().into(),
            name: "production".into(),
            created_at: Timestamp(1_700_000_000_500_000),
        });
        assert_eq!(
            image,
            json!({
                "id": "00000000-0000-0000-0000-000000000000",
                "name": "production",
                "createTime": "2023-11-14T22:13:20.500Z",
            })
        );
    }
}
