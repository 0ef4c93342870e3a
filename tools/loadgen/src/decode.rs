//! How much of each answer the client decodes.
//!
//! `Full` decodes the generated `CheckResponse`, every field. `Lean` decodes
//! only what a sidecar acting on the answer reads, `correlation_id`, `allowed`
//! and whether there is an `error`: prost skips the other fields' bytes, so the
//! client's cost per answer no longer grows with the reason and the grant, and
//! more of the two cores is left to the server being measured.

use rbacd::proto::v1 as pb;
use rbacd_testkit::Authed;
use tonic::{Request, Status, Streaming, codegen::http::uri::PathAndQuery};

/// Which decoding a run's client uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Decode {
    Full,
    Lean,
}

/// `CheckResponse` with only fields 1, 2 and 5.
#[derive(Clone, PartialEq, prost::Message)]
pub struct LeanAnswer {
    #[prost(string, tag = "1")]
    pub correlation_id: String,
    #[prost(bool, tag = "2")]
    pub allowed: bool,
    #[prost(message, optional, tag = "5")]
    pub error: Option<LeanError>,
}

/// `google.rpc.Status` with only its code.
#[derive(Clone, PartialEq, prost::Message)]
pub struct LeanError {
    #[prost(int32, tag = "1")]
    pub code: i32,
}

/// `BatchCheckResponse` of lean answers.
#[derive(Clone, PartialEq, prost::Message)]
pub struct LeanBatch {
    #[prost(message, repeated, tag = "1")]
    pub results: Vec<LeanAnswer>,
}

/// What the load generator reads of one answer.
pub trait Answer: prost::Message + Default + Send + 'static {
    fn correlation_id(&self) -> &str;
    fn allowed(&self) -> bool;
    fn has_error(&self) -> bool;
}

impl Answer for pb::CheckResponse {
    fn correlation_id(&self) -> &str {
        &self.correlation_id
    }
    fn allowed(&self) -> bool {
        self.allowed
    }
    fn has_error(&self) -> bool {
        self.error.is_some()
    }
}

impl Answer for LeanAnswer {
    fn correlation_id(&self) -> &str {
        &self.correlation_id
    }
    fn allowed(&self) -> bool {
        self.allowed
    }
    fn has_error(&self) -> bool {
        self.error.is_some()
    }
}

/// What the load generator reads of a batch's answer.
pub trait Batch: prost::Message + Default + Send + 'static {
    type Item: Answer;
    fn results(&self) -> &[Self::Item];
}

impl Batch for pb::BatchCheckResponse {
    type Item = pb::CheckResponse;
    fn results(&self) -> &[pb::CheckResponse] {
        &self.results
    }
}

impl Batch for LeanBatch {
    type Item = LeanAnswer;
    fn results(&self) -> &[LeanAnswer] {
        &self.results
    }
}

const CHECK: &str = "/rbacd.v1.AuthorizationService/Check";
const BATCH_CHECK: &str = "/rbacd.v1.AuthorizationService/BatchCheck";
const CHECK_STREAM: &str = "/rbacd.v1.AuthorizationService/CheckStream";

/// AuthorizationService's check calls with the answer type chosen per call:
/// the same HTTP/2 requests the generated client sends.
#[derive(Clone)]
pub struct Caller {
    grpc: tonic::client::Grpc<Authed>,
}

type Codec<Req, Resp> = tonic_prost::ProstCodec<Req, Resp>;

impl Caller {
    pub fn new(channel: Authed) -> Self {
        Self {
            grpc: tonic::client::Grpc::new(channel).max_decoding_message_size(64 << 20),
        }
    }

    async fn ready(&mut self) -> Result<(), Status> {
        self.grpc
            .ready()
            .await
            .map_err(|e| Status::unavailable(format!("not ready: {e}")))
    }

    pub async fn check<A: Answer>(&mut self, request: pb::CheckRequest) -> Result<A, Status> {
        self.ready().await?;
        let path = PathAndQuery::from_static(CHECK);
        let codec = Codec::<pb::CheckRequest, A>::default();
        let answer = self.grpc.unary(Request::new(request), path, codec).await?;
        Ok(answer.into_inner())
    }

    pub async fn batch_check<B: Batch>(
        &mut self,
        request: pb::BatchCheckRequest,
    ) -> Result<B, Status> {
        self.ready().await?;
        let path = PathAndQuery::from_static(BATCH_CHECK);
        let codec = Codec::<pb::BatchCheckRequest, B>::default();
        let answer = self.grpc.unary(Request::new(request), path, codec).await?;
        Ok(answer.into_inner())
    }

    pub async fn check_stream<A: Answer>(
        &mut self,
        requests: impl futures::Stream<Item = pb::CheckRequest> + Send + 'static,
    ) -> Result<Streaming<A>, Status> {
        self.ready().await?;
        let path = PathAndQuery::from_static(CHECK_STREAM);
        let codec = Codec::<pb::CheckRequest, A>::default();
        let answers = self
            .grpc
            .streaming(Request::new(requests), path, codec)
            .await?;
        Ok(answers.into_inner())
    }
}
