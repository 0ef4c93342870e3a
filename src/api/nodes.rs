//! NodeService.

use tonic::{Request, Response, Status};

use super::{State, caller, parse, parse::Violations, render};
use crate::domain::{MAX_NAME_LEN, NodeKey, NodeRef, PageRequest, Result, builtin};
use crate::proto::v1::{self as pb, node_service_server::NodeService};
use crate::store::NewNode;

/// Serves NodeService.
pub struct NodeApi {
    state: State,
}

impl NodeApi {
    pub fn new(state: State) -> Self {
        Self { state }
    }
}

fn node_ref(field: &str, r: Option<&pb::NodeRef>) -> Result<NodeRef> {
    parse::field(field, parse::node_ref(r))
}

#[tonic::async_trait]
impl NodeService for NodeApi {
    async fn create_node(
        &self,
        request: Request<pb::CreateNodeRequest>,
    ) -> Result<Response<pb::CreateNodeResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        let mut v = Violations::default();
        let key = v.check("key", NodeKey::parse(&req.key));
        let name = v.check("name", parse::text(&req.name, MAX_NAME_LEN));
        let kind = v.check("kind", parse::text(&req.kind, MAX_NAME_LEN));
        let parent = v.check("parent", parse::optional_node_ref(req.parent.as_ref()));
        let new = v.finish(key.zip(name).zip(kind).zip(parent).map(
            |(((key, name), kind), parent)| NewNode {
                name: if name.is_empty() {
                    key.to_string()
                } else {
                    name
                },
                key,
                kind,
                parent,
            },
        ))?;
        let parent = new.parent.clone().unwrap_or_else(NodeRef::root);
        self.state
            .policy
            .authorize(&caller, &builtin::nodes_write(), &parent)?;
        let reply = self
            .state
            .write_once(
                &caller,
                "CreateNode",
                &req,
                &req.request_id,
                self.state.store.create_node(caller, new),
                |node, revision| pb::CreateNodeResponse {
                    node: Some(render::node(node)),
                    revision,
                },
            )
            .await?;
        Ok(Response::new(reply))
    }

    async fn get_node(
        &self,
        request: Request<pb::GetNodeRequest>,
    ) -> Result<Response<pb::GetNodeResponse>, Status> {
        let caller = caller(&request)?;
        let node_ref = node_ref("node", request.get_ref().node.as_ref())?;
        self.state
            .policy
            .authorize(&caller, &builtin::nodes_read(), &node_ref)?;
        let node = self
            .state
            .store
            .get_node(caller.environment, &node_ref)
            .await?;
        Ok(Response::new(pb::GetNodeResponse {
            node: Some(render::node(&node)),
        }))
    }

    async fn list_nodes(
        &self,
        request: Request<pb::ListNodesRequest>,
    ) -> Result<Response<pb::ListNodesResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.get_ref();
        let parent = parse::field("parent", parse::optional_node_ref(req.parent.as_ref()))?;
        let page = PageRequest::parse(req.page_size, &req.page_token)?;
        let at = parent.clone().unwrap_or_else(NodeRef::root);
        self.state
            .policy
            .authorize(&caller, &builtin::nodes_read(), &at)?;
        let listed = self
            .state
            .store
            .list_nodes(caller.environment, parent.as_ref(), page)
            .await?;
        let (nodes, next_page_token) = super::pages::bounded(
            self.state.page_bytes,
            &listed.items,
            listed.next_page_token,
            render::node,
            |n| crate::domain::paging::encode_token(n.id.0),
        );
        Ok(Response::new(pb::ListNodesResponse {
            nodes,
            next_page_token,
        }))
    }

    async fn move_node(
        &self,
        request: Request<pb::MoveNodeRequest>,
    ) -> Result<Response<pb::MoveNodeResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        let mut v = Violations::default();
        let node = v.check("node", parse::node_ref(req.node.as_ref()));
        let new_parent = v.check("new_parent", parse::node_ref(req.new_parent.as_ref()));
        let (node, new_parent) = v.finish(node.zip(new_parent))?;
        self.state
            .policy
            .authorize(&caller, &builtin::nodes_write(), &node)?;
        self.state
            .policy
            .authorize(&caller, &builtin::nodes_write(), &new_parent)?;
        let reply = self
            .state
            .write_once(
                &caller,
                "MoveNode",
                &req,
                &req.request_id,
                self.state.store.move_node(caller, &node, &new_parent),
                |node, revision| pb::MoveNodeResponse {
                    node: Some(render::node(node)),
                    revision,
                },
            )
            .await?;
        Ok(Response::new(reply))
    }

    async fn delete_node(
        &self,
        request: Request<pb::DeleteNodeRequest>,
    ) -> Result<Response<pb::DeleteNodeResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        let node_ref = node_ref("node", req.node.as_ref())?;
        self.state
            .policy
            .authorize(&caller, &builtin::nodes_write(), &node_ref)?;
        let reply = self
            .state
            .write_once(
                &caller,
                "DeleteNode",
                &req,
                &req.request_id,
                self.state.store.delete_node(caller, &node_ref, req.cascade),
                |deleted, revision| pb::DeleteNodeResponse {
                    node: Some(render::node(&deleted.node)),
                    deleted_nodes: deleted.nodes,
                    deleted_assignments: deleted.assignments,
                    revision,
                },
            )
            .await?;
        Ok(Response::new(reply))
    }
}
