//! OpenTelemetry traces, exported over OTLP/gRPC, configured by the standard
//! `OTEL_*` variables and on only when an OTLP endpoint is set: without
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`)
//! nothing is installed, and a call pays one `Option` test.
//!
//! The exporter reads the endpoint, headers, timeout and compression variables
//! itself, the SDK reads `OTEL_TRACES_SAMPLER`, `OTEL_BSP_*` and
//! `OTEL_RESOURCE_ATTRIBUTES`. Only the `grpc` protocol is built in (it rides on
//! the tonic rbacd already has); asking for another fails the start instead of
//! exporting nowhere.

use std::fmt;

use opentelemetry::{
    Context,
    propagation::{Extractor, TextMapPropagator},
    trace::TracerProvider as _,
};
use opentelemetry_sdk::{
    Resource,
    propagation::TraceContextPropagator,
    trace::{SdkTracer, SdkTracerProvider},
};

/// Installed when an OTLP endpoint is configured; cheap to clone.
#[derive(Clone)]
pub struct Traces {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
    propagator: TraceContextPropagator,
}

impl fmt::Debug for Traces {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Traces(OTLP/gRPC)")
    }
}

/// The first non-empty of these variables.
fn var(names: &[&str]) -> Option<(String, String)> {
    names.iter().find_map(|name| {
        std::env::var(name)
            .ok()
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .map(|v| ((*name).to_owned(), v))
    })
}

impl Traces {
    /// The exporter the `OTEL_*` variables describe; `None` when they set no
    /// OTLP endpoint, or turn traces off (`OTEL_SDK_DISABLED=true`,
    /// `OTEL_TRACES_EXPORTER=none`). Must run inside the tokio runtime: the
    /// gRPC channel's connection task is spawned on it.
    pub fn from_env() -> Result<Option<Self>, String> {
        if var(&["OTEL_SDK_DISABLED"]).is_some_and(|(_, v)| v.eq_ignore_ascii_case("true")) {
            return Ok(None);
        }
        match var(&["OTEL_TRACES_EXPORTER"]) {
            Some((_, v)) if v.eq_ignore_ascii_case("none") => return Ok(None),
            Some((name, v)) if !v.eq_ignore_ascii_case("otlp") => {
                return Err(format!(
                    "{name}={v} is not supported: rbacd exports traces over OTLP only; set it to `otlp` or `none`"
                ));
            }
            _ => {}
        }
        let Some((_, endpoint)) = var(&[
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
        ]) else {
            return Ok(None);
        };
        if let Some((name, protocol)) = var(&[
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ]) && !protocol.eq_ignore_ascii_case("grpc")
        {
            return Err(format!(
                "{name}={protocol} is not supported: rbacd exports OTLP over gRPC only; set it to `grpc` and point the endpoint at the collector's gRPC port (usually 4317)"
            ));
        }
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .build()
            .map_err(|e| format!("the OTLP exporter for {endpoint}: {e}"))?;
        let mut resource = Resource::builder().with_attribute(opentelemetry::KeyValue::new(
            "service.version",
            env!("CARGO_PKG_VERSION"),
        ));
        let named = var(&["OTEL_SERVICE_NAME"]).is_some()
            || var(&["OTEL_RESOURCE_ATTRIBUTES"]).is_some_and(|(_, v)| v.contains("service.name="));
        if !named {
            resource = resource.with_service_name("rbacd");
        }
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource.build())
            .build();
        tracing::info!(%endpoint, "exporting traces over OTLP/gRPC");
        Ok(Some(Self {
            tracer: provider.tracer("rbacd"),
            provider,
            propagator: TraceContextPropagator::new(),
        }))
    }

    /// What spans are started with.
    pub fn tracer(&self) -> &SdkTracer {
        &self.tracer
    }

    /// The remote parent a W3C `traceparent` (and `tracestate`) header names;
    /// an empty context when there is none or it is malformed.
    pub fn parent(&self, headers: &http::HeaderMap) -> Context {
        if !headers.contains_key("traceparent") {
            return Context::new();
        }
        self.propagator
            .extract_with_context(&Context::new(), &Headers(headers))
    }

    /// Exports what is still queued and stops the exporter; blocks, so it runs
    /// on a blocking thread.
    pub async fn shutdown(self) {
        let provider = self.provider;
        let done = tokio::task::spawn_blocking(move || provider.shutdown()).await;
        if let Ok(Err(e)) = done {
            tracing::warn!(error = %e, "exporting the last traces failed");
        }
    }
}

struct Headers<'a>(&'a http::HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}
