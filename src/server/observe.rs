//! A tower layer that times every gRPC call to its status: the status in the
//! response head (an error answered at once), else the one in the trailers
//! that end the body (unary answers and streams alike). A call dropped
//! before its status counts as CANCELLED. Per call: a path lookup, a clock
//! read at each end and a few atomic adds. When traces are exported, each
//! call is also an OpenTelemetry server span, child of the caller's
//! `traceparent`, ended with the call's status.

use std::{
    pin::Pin,
    sync::Arc,
    task::{Context, Poll, ready},
    time::Instant,
};

use http_body::{Body, Frame, SizeHint};
use hyper::{HeaderMap, Request, Response};
use opentelemetry::{
    KeyValue,
    trace::{Span as _, SpanKind, Status, Tracer as _},
};
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use super::access_log::{self, WriteCaller};
use crate::{
    metrics::{Method, Metrics},
    telemetry::Traces,
};

const CANCELLED: i32 = 1;
const UNKNOWN: i32 = 2;
const DEADLINE_EXCEEDED: i32 = 4;
const UNIMPLEMENTED: i32 = 12;
const INTERNAL: i32 = 13;
const UNAVAILABLE: i32 = 14;
const DATA_LOSS: i32 = 15;
const UNAUTHENTICATED: i32 = 16;

/// The layer; see the module documentation.
#[derive(Clone)]
pub struct Observe {
    pub metrics: Arc<Metrics>,
    /// Set only when traces are exported.
    pub traces: Option<Traces>,
}

impl<S> Layer<S> for Observe {
    type Service = Observed<S>;
    fn layer(&self, inner: S) -> Observed<S> {
        Observed {
            inner,
            metrics: Arc::clone(&self.metrics),
            traces: self.traces.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Observed<S> {
    inner: S,
    metrics: Arc<Metrics>,
    traces: Option<Traces>,
}

/// One call being timed; records itself once.
pub struct Call {
    metrics: Arc<Metrics>,
    method: Method,
    started: Instant,
    done: bool,
    peer: Option<std::net::SocketAddr>,
    /// Set for writes only: what the access log says of them.
    write: Option<Box<Write>>,
    /// Set only when traces are exported.
    span: Option<opentelemetry_sdk::trace::Span>,
}

struct Write {
    path: String,
    caller: WriteCaller,
}

impl Call {
    fn finish(&mut self, code: i32) {
        if !self.done {
            self.done = true;
            let elapsed = self.started.elapsed();
            self.metrics.grpc.finished(self.method, code, elapsed);
            if let Some(write) = &self.write {
                let caller = *write.caller.0.lock();
                access_log::write(&write.path, code, elapsed, caller, self.peer);
            }
            if let Some(span) = self.span.take() {
                end_span(span, code);
            }
        }
    }

    /// Finishes a call answered at once with `headers`, logging a refused authentication.
    fn answered(&mut self, code: i32, headers: &HeaderMap) {
        if code == UNAUTHENTICATED {
            let reason = headers
                .get("grpc-message")
                .map(|m| percent_decode(m.as_bytes()))
                .unwrap_or_default();
            let method = self.metrics.grpc.name(self.method);
            access_log::refused(method, &reason, self.peer);
        }
        self.finish(code);
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        self.finish(CANCELLED);
    }
}

fn status(headers: &HeaderMap) -> Option<i32> {
    headers
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

impl<S, B, RB> Service<Request<B>> for Observed<S>
where
    S: Service<Request<B>, Response = Response<RB>>,
{
    type Response = Response<Tracked<RB>>;
    type Error = S::Error;
    type Future = Answering<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let peer = request
            .extensions()
            .get::<tonic::transport::server::TcpConnectInfo>()
            .and_then(|i| i.remote_addr);
        let path = request.uri().path();
        let span = self
            .traces
            .as_ref()
            .map(|traces| start_span(traces, path, request.headers(), peer));
        let method = self.metrics.grpc.method(path);
        self.metrics.grpc.started(method);
        let write = access_log::is_write(path).then(|| path.to_owned());
        let write = write.map(|path| {
            let caller = WriteCaller::default();
            let write = Box::new(Write {
                path,
                caller: caller.clone(),
            });
            request.extensions_mut().insert(caller);
            write
        });
        let call = Call {
            metrics: Arc::clone(&self.metrics),
            method,
            started: Instant::now(),
            done: false,
            peer,
            write,
            span,
        };
        Answering {
            inner: self.inner.call(request),
            call: Some(call),
        }
    }
}

pin_project! {
    /// The response head on its way.
    pub struct Answering<F> {
        #[pin]
        inner: F,
        call: Option<Call>,
    }
}

impl<F, RB, E> Future for Answering<F>
where
    F: Future<Output = Result<Response<RB>, E>>,
{
    type Output = Result<Response<Tracked<RB>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let answered = ready!(this.inner.poll(cx));
        let mut call = this.call.take();
        Poll::Ready(match answered {
            Ok(response) => {
                if let (Some(code), Some(call)) = (status(response.headers()), call.as_mut()) {
                    call.answered(code, response.headers());
                }
                Ok(response.map(|body| Tracked { inner: body, call }))
            }
            Err(e) => {
                if let Some(call) = call.as_mut() {
                    call.finish(UNKNOWN);
                }
                Err(e)
            }
        })
    }
}

pin_project! {
    /// A response body that records its call's status from its trailers.
    pub struct Tracked<B> {
        #[pin]
        inner: B,
        call: Option<Call>,
    }
}

impl<B: Body> Body for Tracked<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = self.project();
        let polled = ready!(this.inner.poll_frame(cx));
        if let Some(call) = this.call.as_mut() {
            match &polled {
                Some(Ok(frame)) => {
                    if let Some(code) = frame.trailers_ref().and_then(status) {
                        call.finish(code);
                    }
                }
                Some(Err(_)) => call.finish(UNKNOWN),
                None => call.finish(0),
            }
        }
        Poll::Ready(polled)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A server span for the call to `path`, child of the caller's `traceparent`,
/// with the RPC attributes of the OpenTelemetry semantic conventions.
fn start_span(
    traces: &Traces,
    path: &str,
    headers: &HeaderMap,
    peer: Option<std::net::SocketAddr>,
) -> opentelemetry_sdk::trace::Span {
    let name = path.strip_prefix('/').unwrap_or(path);
    let (service, method) = name.split_once('/').unwrap_or((name, ""));
    let mut attributes = Vec::with_capacity(5);
    attributes.extend([
        KeyValue::new("rpc.system", "grpc"),
        KeyValue::new("rpc.service", service.to_owned()),
        KeyValue::new("rpc.method", method.to_owned()),
    ]);
    if let Some(peer) = peer {
        attributes.push(KeyValue::new("network.peer.address", peer.ip().to_string()));
        attributes.push(KeyValue::new("network.peer.port", i64::from(peer.port())));
    }
    let tracer = traces.tracer();
    tracer
        .span_builder(name.to_owned())
        .with_kind(SpanKind::Server)
        .with_attributes(attributes)
        .start_with_context(tracer, &traces.parent(headers))
}

/// Ends `span` with gRPC status `code`; the codes that mean the server failed
/// (not the caller) mark it as an error, as the conventions say.
fn end_span(mut span: opentelemetry_sdk::trace::Span, code: i32) {
    span.set_attribute(KeyValue::new("rpc.grpc.status_code", i64::from(code)));
    if matches!(
        code,
        UNKNOWN | DEADLINE_EXCEEDED | UNIMPLEMENTED | INTERNAL | UNAVAILABLE | DATA_LOSS
    ) {
        span.set_status(Status::error(crate::metrics::code_name(code)));
    }
    span.end();
}

/// A `grpc-message` as text: it is percent-encoded on the wire.
fn percent_decode(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            raw[i],
            raw.get(i + 1).copied().and_then(hex),
            raw.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
