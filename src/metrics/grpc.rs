//! Per-RPC metrics: a duration histogram by method and status code, calls in
//! flight by method, and the same count as open streams for the streaming methods. Every series exists from the start (methods come from
//! the compiled-in descriptors), so recording a call is a lookup and atomic
//! adds, without allocation or locks.

use std::{
    fmt::Write,
    sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed},
    time::Duration,
};

use prost::Message;

/// Upper bounds of the duration buckets, in seconds (`le`), from 50 µs to 10 s.
const BOUNDS: [f64; 16] = [
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    2.5, 10.0,
];
/// The same bounds in nanoseconds, for the comparison on the hot path.
const BOUNDS_NS: [u64; 16] = [
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_500_000_000,
    10_000_000_000,
];
const CODES: [&str; 17] = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];
/// The method label of paths that name no known method (e.g. reflection).
const OTHER: &str = "other";

/// One (method, code) series: bucket counts (not cumulative), count, and sum in ns.
#[derive(Default)]
struct Series {
    buckets: [AtomicU64; BOUNDS.len() + 1],
    count: AtomicU64,
    sum_ns: AtomicU64,
}

/// The RPC metrics of every known method.
pub struct GrpcMetrics {
    /// `/package.Service/Method` paths, sorted, for a binary search.
    paths: Vec<String>,
    /// Whether the method of the same index streams (requests, answers or both).
    streaming: Vec<bool>,
    /// `paths.len() + 1` methods (the last is [`OTHER`]) × 17 codes.
    series: Vec<Series>,
    in_flight: Vec<AtomicI64>,
}

impl Default for GrpcMetrics {
    fn default() -> Self {
        let mut methods = Vec::new();
        for set in [
            crate::proto::FILE_DESCRIPTOR_SET,
            tonic_health::pb::FILE_DESCRIPTOR_SET,
        ] {
            let Ok(set) = prost_types::FileDescriptorSet::decode(set) else {
                continue;
            };
            for file in set.file {
                for service in &file.service {
                    for method in &service.method {
                        let path =
                            format!("/{}.{}/{}", file.package(), service.name(), method.name());
                        methods
                            .push((path, method.client_streaming() || method.server_streaming()));
                    }
                }
            }
        }
        methods.sort();
        methods.dedup_by(|a, b| a.0 == b.0);
        let (paths, streaming): (Vec<String>, Vec<bool>) = methods.into_iter().unzip();
        let methods = paths.len() + 1;
        Self {
            series: (0..methods * CODES.len())
                .map(|_| Series::default())
                .collect(),
            in_flight: (0..methods).map(|_| AtomicI64::new(0)).collect(),
            paths,
            streaming,
        }
    }
}

/// A known method (or [`OTHER`]), found once per call.
#[derive(Clone, Copy, Debug)]
pub struct Method(usize);

impl GrpcMetrics {
    /// The method a request path names.
    pub fn method(&self, path: &str) -> Method {
        Method(
            self.paths
                .binary_search_by(|p| p.as_str().cmp(path))
                .unwrap_or(self.paths.len()),
        )
    }

    /// A call started.
    pub fn started(&self, method: Method) {
        self.in_flight[method.0].fetch_add(1, Relaxed);
    }

    /// A call that [`GrpcMetrics::started`] ended with gRPC status `code` after `elapsed`.
    pub fn finished(&self, method: Method, code: i32, elapsed: Duration) {
        self.in_flight[method.0].fetch_sub(1, Relaxed);
        let code = usize::try_from(code)
            .ok()
            .filter(|c| *c < CODES.len())
            .unwrap_or(2);
        let series = &self.series[method.0 * CODES.len() + code];
        let ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        let bucket = BOUNDS_NS
            .iter()
            .position(|b| ns <= *b)
            .unwrap_or(BOUNDS.len());
        series.buckets[bucket].fetch_add(1, Relaxed);
        series.count.fetch_add(1, Relaxed);
        series.sum_ns.fetch_add(ns, Relaxed);
    }

    /// The method label of `method`: `package.Service/Method`, or `other`.
    pub fn name(&self, method: Method) -> &str {
        self.label(method.0)
    }

    fn label(&self, method: usize) -> &str {
        self.paths
            .get(method)
            .map_or(OTHER, |p| p.strip_prefix('/').unwrap_or(p))
    }

    /// The exposition text of the histogram (series that saw a call) and the in-flight gauge.
    pub fn render(&self, out: &mut String) {
        out.push_str(
            "# HELP rbacd_grpc_request_duration_seconds Time from a call's arrival to its status, by method and gRPC status code; a stream's is its whole life.\n# TYPE rbacd_grpc_request_duration_seconds histogram\n",
        );
        for (i, series) in self.series.iter().enumerate() {
            let count = series.count.load(Relaxed);
            if count == 0 {
                continue;
            }
            let labels = format!(
                "method=\"{}\",code=\"{}\"",
                self.label(i / CODES.len()),
                CODES[i % CODES.len()]
            );
            let mut cumulative = 0;
            for (bound, bucket) in BOUNDS.iter().zip(&series.buckets) {
                cumulative += bucket.load(Relaxed);
                let _ = writeln!(
                    out,
                    "rbacd_grpc_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "rbacd_grpc_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {count}\nrbacd_grpc_request_duration_seconds_sum{{{labels}}} {}\nrbacd_grpc_request_duration_seconds_count{{{labels}}} {count}",
                series.sum_ns.load(Relaxed) as f64 / 1e9
            );
        }
        out.push_str(
            "# HELP rbacd_grpc_calls_in_flight Calls being answered now, by method; for streaming methods, the open streams.\n# TYPE rbacd_grpc_calls_in_flight gauge\n",
        );
        for (i, gauge) in self.in_flight.iter().enumerate() {
            let _ = writeln!(
                out,
                "rbacd_grpc_calls_in_flight{{method=\"{}\"}} {}",
                self.label(i),
                gauge.load(Relaxed)
            );
        }
        out.push_str(
            "# HELP rbacd_grpc_streams_open Streams open now, by streaming method (CheckStream, Watch, Export, Import, Health/Watch).\n# TYPE rbacd_grpc_streams_open gauge\n",
        );
        for (i, gauge) in self.in_flight.iter().enumerate() {
            if self.streaming.get(i).copied().unwrap_or(false) {
                let _ = writeln!(
                    out,
                    "rbacd_grpc_streams_open{{method=\"{}\"}} {}",
                    self.label(i),
                    gauge.load(Relaxed)
                );
            }
        }
    }
}

/// The name of gRPC status `code` (`OK`, `NOT_FOUND` …), `UNKNOWN` for codes outside the standard 17.
pub fn code_name(code: i32) -> &'static str {
    usize::try_from(code)
        .ok()
        .and_then(|c| CODES.get(c))
        .copied()
        .unwrap_or("UNKNOWN")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_land_in_their_method_code_and_bucket() {
        let m = GrpcMetrics::default();
        let check = m.method("/rbacd.v1.AuthorizationService/Check");
        assert!(check.0 < m.paths.len(), "Check is a known method");
        assert_eq!(m.method("/nope/Nope").0, m.paths.len());
        m.started(check);
        m.finished(check, 0, Duration::from_micros(300));
        m.started(check);
        m.finished(check, 7, Duration::from_secs(30));
        let mut out = String::new();
        m.render(&mut out);
        let ok = "method=\"rbacd.v1.AuthorizationService/Check\",code=\"OK\"";
        assert!(
            out.contains(&format!("_bucket{{{ok},le=\"0.00025\"}} 0")),
            "{out}"
        );
        assert!(
            out.contains(&format!("_bucket{{{ok},le=\"0.0005\"}} 1")),
            "{out}"
        );
        let denied = "method=\"rbacd.v1.AuthorizationService/Check\",code=\"PERMISSION_DENIED\"";
        assert!(
            out.contains(&format!("_bucket{{{denied},le=\"10\"}} 0")),
            "{out}"
        );
        assert!(
            out.contains(&format!("_bucket{{{denied},le=\"+Inf\"}} 1")),
            "{out}"
        );
        assert!(out.contains(
            "rbacd_grpc_calls_in_flight{method=\"rbacd.v1.AuthorizationService/Check\"} 0"
        ));
        assert!(out.contains(
            "rbacd_grpc_streams_open{method=\"rbacd.v1.AuthorizationService/CheckStream\"} 0"
        ));
        assert!(
            !out.contains(
                "rbacd_grpc_streams_open{method=\"rbacd.v1.AuthorizationService/Check\"}"
            ),
            "a unary method has no stream gauge: {out}"
        );
    }

    #[test]
    fn code_names_follow_the_grpc_numbering() {
        assert_eq!(code_name(0), "OK");
        assert_eq!(code_name(14), "UNAVAILABLE");
        assert_eq!(code_name(16), "UNAUTHENTICATED");
        assert_eq!(code_name(99), "UNKNOWN");
        assert_eq!(code_name(-1), "UNKNOWN");
    }
}
