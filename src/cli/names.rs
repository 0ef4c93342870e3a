//! What people call objects the server names by id: an identity's email (or
//! external id), a role's name, a node's key — asked once per id and kept.

use std::collections::HashMap;

use super::connection::ServerChannel;
use crate::proto::v1::{
    self as pb, identity_service_client::IdentityServiceClient,
    node_service_client::NodeServiceClient, role_service_client::RoleServiceClient,
};

/// A cache of names by id; an id the server cannot name (deleted, out of
/// the caller's reach) is remembered as unnamed.
pub struct Names {
    channel: ServerChannel,
    identities: HashMap<String, Option<String>>,
    roles: HashMap<String, Option<String>>,
    nodes: HashMap<String, Option<String>>,
}

impl Names {
    pub fn new(channel: ServerChannel) -> Self {
        Self {
            channel,
            identities: HashMap::new(),
            roles: HashMap::new(),
            nodes: HashMap::new(),
        }
    }

    /// Remembers names already at hand (e.g. from a change's image).
    pub fn learn_identity(&mut self, id: &str, name: &str) {
        if !id.is_empty() && !name.is_empty() {
            self.identities.insert(id.to_owned(), Some(name.to_owned()));
        }
    }

    pub fn learn_role(&mut self, id: &str, name: &str) {
        if !id.is_empty() && !name.is_empty() {
            self.roles.insert(id.to_owned(), Some(name.to_owned()));
        }
    }

    pub fn learn_node(&mut self, id: &str, key: &str) {
        if !id.is_empty() && !key.is_empty() {
            self.nodes.insert(id.to_owned(), Some(key.to_owned()));
        }
    }

    /// The identity's email, else its external id; `-` when unknown.
    pub async fn identity(&mut self, id: &str) -> String {
        if id.is_empty() {
            return shown(&None);
        }
        if let Some(known) = self.identities.get(id) {
            return shown(known);
        }
        let mut client = IdentityServiceClient::new(self.channel.clone());
        let found = client
            .get_identity(pb::GetIdentityRequest {
                identity: Some(pb::IdentityRef {
                    r#ref: Some(pb::identity_ref::Ref::Id(id.to_owned())),
                }),
            })
            .await
            .ok()
            .and_then(|r| r.into_inner().identity)
            .map(|i| super::identities::shown_name(&i).to_owned())
            .filter(|name| !name.is_empty());
        let shown_name = shown(&found);
        self.identities.insert(id.to_owned(), found);
        shown_name
    }

    /// The role's name; `-` when unknown.
    pub async fn role(&mut self, id: &str) -> String {
        if id.is_empty() {
            return shown(&None);
        }
        if let Some(known) = self.roles.get(id) {
            return shown(known);
        }
        let mut client = RoleServiceClient::new(self.channel.clone());
        let found = client
            .get_role(pb::GetRoleRequest {
                role: Some(pb::RoleRef {
                    r#ref: Some(pb::role_ref::Ref::Id(id.to_owned())),
                }),
            })
            .await
            .ok()
            .and_then(|r| r.into_inner().role)
            .map(|r| r.name);
        let shown_name = shown(&found);
        self.roles.insert(id.to_owned(), found);
        shown_name
    }

    /// The node's key; `-` when unknown.
    pub async fn node(&mut self, id: &str) -> String {
        if id.is_empty() {
            return shown(&None);
        }
        if let Some(known) = self.nodes.get(id) {
            return shown(known);
        }
        let mut client = NodeServiceClient::new(self.channel.clone());
        let found = client
            .get_node(pb::GetNodeRequest {
                node: Some(pb::NodeRef {
                    r#ref: Some(pb::node_ref::Ref::Id(id.to_owned())),
                }),
            })
            .await
            .ok()
            .and_then(|r| r.into_inner().node)
            .map(|n| n.key);
        let shown_name = shown(&found);
        self.nodes.insert(id.to_owned(), found);
        shown_name
    }
}

fn shown(name: &Option<String>) -> String {
    name.clone().unwrap_or_else(|| "-".to_owned())
}
