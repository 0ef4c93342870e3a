//! OpenTelemetry traces as an operator turns them on: `rbacd serve` with the
//! standard `OTEL_*` variables, a collector (here a tiny OTLP/gRPC receiver
//! that records what it is sent), and calls carrying a W3C `traceparent`.

use std::{
    net::SocketAddr,
    process::Stdio,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use crate::support::{database::TestDb, *};
use opentelemetry_proto::tonic::{
    collector::trace::v1::{
        ExportTraceServiceRequest, ExportTraceServiceResponse,
        trace_service_server::{TraceService, TraceServiceServer},
    },
    common::v1::{KeyValue, any_value::Value},
    trace::v1::{Span, span::SpanKind},
};
use rbacd::proto::v1 as pb;

/// A span as received, with its resource's attributes.
type ReceivedSpan = (Vec<KeyValue>, Span);

/// What the collector received.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<ReceivedSpan>>>);

#[tonic::async_trait]
impl TraceService for Received {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut received = self.0.lock().unwrap();
        for resource_spans in request.into_inner().resource_spans {
            let resource = resource_spans.resource.unwrap_or_default().attributes;
            for scope in resource_spans.scope_spans {
                for span in scope.spans {
                    received.push((resource.clone(), span));
                }
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

impl Received {
    fn spans(&self) -> Vec<(Vec<KeyValue>, Span)> {
        self.0.lock().unwrap().clone()
    }
}

/// A collector serving OTLP/gRPC on `listener`.
fn collector(listener: tokio::net::TcpListener) -> Received {
    let received = Received::default();
    let service = TraceServiceServer::new(received.clone());
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    received
}

async fn free_port() -> u16 {
    let probe = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    probe.local_addr().unwrap().port()
}

/// `rbacd serve` on a fresh database with `env`, and its address.
async fn serve(db: &TestDb, env: &[(&str, String)]) -> (tokio::process::Child, SocketAddr) {
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port().await).parse().unwrap();
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_rbacd"));
    command
        .args([
            "serve",
            "--listen",
            &addr.to_string(),
            "--database-url",
            &db.url,
        ])
        .env("RBACD_BOOTSTRAP_API_KEY", ADMIN_KEY)
        .env("RBACD_LOG", "warn")
        // Spans leave within 50 ms instead of the default 5 s.
        .env("OTEL_BSP_SCHEDULE_DELAY", "50")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for var in [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_SDK_DISABLED",
        "OTEL_TRACES_EXPORTER",
    ] {
        command.env_remove(var);
    }
    command.envs(env.iter().map(|(k, v)| (k, v)));
    (command.spawn().expect("start rbacd serve"), addr)
}

async fn clients(addr: SocketAddr, key: Option<&str>) -> Clients {
    let started = Instant::now();
    loop {
        let channel = tonic::transport::Channel::from_shared(format!("http://{addr}")).unwrap();
        match channel.connect().await {
            Ok(channel) => return Clients::new(channel, key),
            Err(e) if started.elapsed() > Duration::from_secs(30) => {
                panic!("rbacd never listened on {addr}: {e}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

fn check_request() -> pb::CheckRequest {
    pb::CheckRequest {
        identity: identity_by_email("nobody@example.com"),
        permission: "Docs:Read".into(),
        node: node_by_key("root"),
        ..Default::default()
    }
}

/// A Check carrying `traceparent`.
fn traced(traceparent: &str) -> tonic::Request<pb::CheckRequest> {
    let mut request = tonic::Request::new(check_request());
    request
        .metadata_mut()
        .insert("traceparent", traceparent.parse().unwrap());
    request
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attributes
        .iter()
        .find(|a| a.key == key)?
        .value
        .as_ref()?
        .value
        .as_ref()
}

fn text(value: &str) -> Option<Value> {
    Some(Value::StringValue(value.to_owned()))
}

/// Waits until the collector holds a span of `trace_id` (hex).
async fn span_of(received: &Received, trace_id: &str) -> (Vec<KeyValue>, Span) {
    let started = Instant::now();
    loop {
        if let Some(found) = received
            .spans()
            .into_iter()
            .find(|(_, s)| hex(&s.trace_id) == trace_id)
        {
            return found;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no span of trace {trace_id} reached the collector; it received {:?}",
            received
                .spans()
                .iter()
                .map(|(_, s)| &s.name)
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn each_call_is_a_server_span_child_of_its_traceparent_sent_over_otlp() {
    let db = TestDb::new().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let received = collector(listener);
    let (mut child, addr) = serve(
        &db,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".into()),
            ("OTEL_SERVICE_NAME", "rbacd-e2e".into()),
        ],
    )
    .await;
    let admin = clients(addr, Some(ADMIN_KEY)).await;
    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    let parent = uuid::Uuid::new_v4().simple().to_string();
    let parent_id = &parent[..16];
    let answer = admin
        .authz
        .clone()
        .check(traced(&format!("00-{trace_id}-{parent_id}-01")))
        .await
        .unwrap()
        .into_inner();
    assert!(!answer.allowed);

    let (resource, span) = span_of(&received, &trace_id).await;
    assert_eq!(span.name, "rbacd.v1.AuthorizationService/Check");
    assert_eq!(span.kind, SpanKind::Server as i32);
    assert_eq!(
        hex(&span.parent_span_id),
        parent_id,
        "the caller's span is the parent"
    );
    assert!(span.end_time_unix_nano >= span.start_time_unix_nano);
    assert_eq!(
        attribute(&span.attributes, "rpc.system").cloned(),
        text("grpc")
    );
    assert_eq!(
        attribute(&span.attributes, "rpc.service").cloned(),
        text("rbacd.v1.AuthorizationService")
    );
    assert_eq!(
        attribute(&span.attributes, "rpc.method").cloned(),
        text("Check")
    );
    assert_eq!(
        attribute(&span.attributes, "rpc.grpc.status_code").cloned(),
        Some(Value::IntValue(0))
    );
    assert_eq!(
        attribute(&resource, "service.name").cloned(),
        text("rbacd-e2e")
    );

    // A refused call is a span too, with its status code.
    let refused_trace = uuid::Uuid::new_v4().simple().to_string();
    let stranger = clients(addr, Some("rbacd_not_a_key_of_anyone_at_all_0000")).await;
    let refused = stranger
        .authz
        .clone()
        .check(traced(&format!("00-{refused_trace}-{parent_id}-01")))
        .await;
    assert_eq!(refused.unwrap_err().code(), tonic::Code::Unauthenticated);
    let (_, span) = span_of(&received, &refused_trace).await;
    assert_eq!(
        attribute(&span.attributes, "rpc.grpc.status_code").cloned(),
        Some(Value::IntValue(tonic::Code::Unauthenticated as i64))
    );

    // Without a traceparent, the call starts a trace of its own.
    let before = received.spans().len();
    admin.authz.clone().check(check_request()).await.unwrap();
    let started = Instant::now();
    let root = loop {
        let spans = received.spans();
        if let Some((_, span)) = spans.into_iter().nth(before) {
            break span;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the untraced call's span never arrived"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    assert!(root.parent_span_id.is_empty(), "a root span: {root:?}");
    assert_ne!(hex(&root.trace_id), trace_id);
    let _ = child.kill().await;
}

#[tokio::test]
async fn without_an_endpoint_nothing_is_exported() {
    let db = TestDb::new().await;
    // The default OTLP/gRPC port, where an exporter set up with defaults would
    // send; when something else holds it, any free port stands in.
    let listener = match tokio::net::TcpListener::bind("127.0.0.1:4317").await {
        Ok(listener) => listener,
        Err(_) => tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
    };
    let received = collector(listener);
    let (mut child, addr) = serve(
        &db,
        &[
            ("OTEL_SERVICE_NAME", "rbacd-e2e".into()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".into()),
        ],
    )
    .await;
    let admin = clients(addr, Some(ADMIN_KEY)).await;
    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    for _ in 0..3 {
        admin
            .authz
            .clone()
            .check(traced(&format!("00-{trace_id}-00f067aa0ba902b7-01")))
            .await
            .unwrap();
    }
    // Twenty times the export delay the server was given.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        received.spans().is_empty(),
        "spans were exported without an endpoint: {:?}",
        received.spans()
    );
    let _ = child.kill().await;
}

#[tokio::test]
async fn an_otlp_protocol_rbacd_cannot_speak_fails_the_start() {
    let db = TestDb::new().await;
    let (child, _) = serve(
        &db,
        &[
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "http://127.0.0.1:4318".into(),
            ),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf".into()),
        ],
    )
    .await;
    let output = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("rbacd should exit at once")
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf") && stderr.contains("grpc"),
        "the error names the variable and what to set instead: {stderr}"
    );
}
