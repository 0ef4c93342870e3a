//! Typed clients of every rbacd service over one channel, each call carrying
//! an API key (or, to test authentication, none).

use rbacd::proto::v1::{
    action_signing_service_client::ActionSigningServiceClient,
    assignment_service_client::AssignmentServiceClient, audit_service_client::AuditServiceClient,
    authorization_service_client::AuthorizationServiceClient,
    bulk_service_client::BulkServiceClient, identity_service_client::IdentityServiceClient,
    node_service_client::NodeServiceClient, role_service_client::RoleServiceClient,
};
use tonic::{
    Request, Status,
    metadata::{Ascii, MetadataValue},
    service::{Interceptor, interceptor::InterceptedService},
    transport::Channel,
};

/// Sends `x-api-key` on every call when it holds a key; sends nothing otherwise.
#[derive(Clone)]
pub struct ApiKey(Option<MetadataValue<Ascii>>);

impl ApiKey {
    /// `None` sends no key at all.
    pub fn new(secret: Option<&str>) -> Self {
        Self(secret.map(|s| s.parse().expect("an API key is ASCII")))
    }
}

impl Interceptor for ApiKey {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(key) = &self.0 {
            request.metadata_mut().insert("x-api-key", key.clone());
        }
        Ok(request)
    }
}

/// A channel that sends an API key (or none) on every call.
pub type Authed = InterceptedService<Channel, ApiKey>;

pub type Roles = RoleServiceClient<Authed>;
pub type Identities = IdentityServiceClient<Authed>;
pub type Nodes = NodeServiceClient<Authed>;
pub type Assignments = AssignmentServiceClient<Authed>;
pub type Authz = AuthorizationServiceClient<Authed>;
pub type Audit = AuditServiceClient<Authed>;
pub type Signing = ActionSigningServiceClient<Authed>;
pub type Bulk = BulkServiceClient<Authed>;

/// A client of every rbacd service, all sending the same key (or none).
#[derive(Clone)]
pub struct Clients {
    pub roles: Roles,
    pub identities: Identities,
    pub nodes: Nodes,
    pub assignments: Assignments,
    pub authz: Authz,
    pub audit: Audit,
    pub signing: Signing,
    pub bulk: Bulk,
}

impl Clients {
    pub fn new(channel: Channel, key: Option<&str>) -> Self {
        let ch = InterceptedService::new(channel, ApiKey::new(key));
        Self {
            roles: RoleServiceClient::new(ch.clone()),
            identities: IdentityServiceClient::new(ch.clone()),
            nodes: NodeServiceClient::new(ch.clone()),
            assignments: AssignmentServiceClient::new(ch.clone()),
            authz: AuthorizationServiceClient::new(ch.clone()),
            signing: ActionSigningServiceClient::new(ch.clone()),
            audit: AuditServiceClient::new(ch.clone()),
            bulk: BulkServiceClient::new(ch),
        }
    }
}
