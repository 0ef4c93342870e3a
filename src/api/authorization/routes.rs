//! AuthorizationService's routes: Check, BatchCheck and CheckStream read their
//! requests in one pass (see `request`) and answer with [`WireAnswer`]s,
//! written from the decision into the response buffer (see `wire`); the other
//! methods go to the generated server. Same service name, same paths, same
//! bytes on the wire.

use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use tonic::{
    Request, Response, Status, Streaming,
    body::Body,
    server::{Grpc, NamedService, StreamingService, UnaryService},
};

use super::{
    AuthorizationApi, request::ReadingCodec, stream::Answers, wire::WireAnswer, wire::WireBatch,
};
use crate::proto::v1::{self as pb, authorization_service_server::AuthorizationServiceServer};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

const CHECK: &str = "/rbacd.v1.AuthorizationService/Check";
const BATCH_CHECK: &str = "/rbacd.v1.AuthorizationService/BatchCheck";
const CHECK_STREAM: &str = "/rbacd.v1.AuthorizationService/CheckStream";

/// The AuthorizationService as served.
#[derive(Clone)]
pub struct AuthorizationRoutes {
    api: Arc<AuthorizationApi>,
    rest: AuthorizationServiceServer<AuthorizationApi>,
}

impl AuthorizationRoutes {
    pub fn new(api: AuthorizationApi) -> Self {
        let api = Arc::new(api);
        Self {
            rest: AuthorizationServiceServer::from_arc(Arc::clone(&api)),
            api,
        }
    }
}

impl NamedService for AuthorizationRoutes {
    const NAME: &'static str = <AuthorizationServiceServer<AuthorizationApi> as NamedService>::NAME;
}

struct CheckSvc(Arc<AuthorizationApi>);

impl UnaryService<pb::CheckRequest> for CheckSvc {
    type Response = WireAnswer;
    type Future = BoxFuture<Result<Response<WireAnswer>, Status>>;

    fn call(&mut self, request: Request<pb::CheckRequest>) -> Self::Future {
        let api = Arc::clone(&self.0);
        Box::pin(async move { api.check_wire(request).await })
    }
}

struct BatchCheckSvc(Arc<AuthorizationApi>);

impl UnaryService<pb::BatchCheckRequest> for BatchCheckSvc {
    type Response = WireBatch;
    type Future = BoxFuture<Result<Response<WireBatch>, Status>>;

    fn call(&mut self, request: Request<pb::BatchCheckRequest>) -> Self::Future {
        let api = Arc::clone(&self.0);
        Box::pin(async move { api.batch_check_wire(request).await })
    }
}

struct CheckStreamSvc(Arc<AuthorizationApi>);

impl StreamingService<pb::CheckRequest> for CheckStreamSvc {
    type Response = WireAnswer;
    type ResponseStream = Answers;
    type Future = std::future::Ready<Result<Response<Answers>, Status>>;

    fn call(&mut self, request: Request<Streaming<pb::CheckRequest>>) -> Self::Future {
        std::future::ready(self.0.check_stream_wire(request))
    }
}

impl<B> tower::Service<http::Request<B>> for AuthorizationRoutes
where
    B: http_body::Body + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>> + Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<http::Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let api = Arc::clone(&self.api);
        match request.uri().path() {
            CHECK => Box::pin(async move {
                let mut grpc = Grpc::new(ReadingCodec::<WireAnswer, pb::CheckRequest>::default());
                Ok(grpc.unary(CheckSvc(api), request).await)
            }),
            BATCH_CHECK => Box::pin(async move {
                let mut grpc =
                    Grpc::new(ReadingCodec::<WireBatch, pb::BatchCheckRequest>::default());
                Ok(grpc.unary(BatchCheckSvc(api), request).await)
            }),
            CHECK_STREAM => Box::pin(async move {
                let mut grpc = Grpc::new(ReadingCodec::<WireAnswer, pb::CheckRequest>::default());
                Ok(grpc.streaming(CheckStreamSvc(api), request).await)
            }),
            _ => tower::Service::call(&mut self.rest, request),
        }
    }
}
