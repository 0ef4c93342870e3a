//! What the server's observe layer costs per call: the per-RPC metrics (a path
//! lookup, two clock reads, a few atomic adds) and, with traces off, the test
//! that finds no tracer. The inner service answers at once with a one-frame
//! body, so the difference between the two runs is the layer.
//!
//! ```text
//! cargo bench --bench observe
//! ```

use std::{convert::Infallible, sync::Arc};

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use http_body_util::{BodyExt, Full};
use rbacd::{metrics::Metrics, server::Observe};
use tower::{Layer, Service};

fn request() -> http::Request<()> {
    http::Request::builder()
        .uri("/rbacd.v1.AuthorizationService/Check")
        .body(())
        .expect("a valid request")
}

async fn answer(_: http::Request<()>) -> Result<http::Response<Full<Bytes>>, Infallible> {
    Ok(http::Response::new(Full::new(Bytes::from_static(
        b"an encoded answer",
    ))))
}

/// One call through `service`, its body read to the end (which ends the call).
fn call<S, B>(service: &mut S)
where
    S: Service<http::Request<()>, Response = http::Response<B>, Error = Infallible>,
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    futures::executor::block_on(async {
        let response = service.call(request()).await.expect("answered");
        let body = response.into_body().collect().await.expect("a body");
        std::hint::black_box(body);
    });
}

fn observe(c: &mut Criterion) {
    let mut group = c.benchmark_group("observe");
    let mut bare = tower::service_fn(answer);
    group.bench_function("without the layer", |b| b.iter(|| call(&mut bare)));
    let layer = Observe {
        metrics: Arc::new(Metrics::default()),
        traces: None,
    };
    let mut observed = layer.layer(tower::service_fn(answer));
    group.bench_function("metrics, traces off", |b| b.iter(|| call(&mut observed)));
    group.finish();
}

criterion_group!(benches, observe);
criterion_main!(benches);
