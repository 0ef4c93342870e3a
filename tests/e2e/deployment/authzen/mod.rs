//! The HTTP face for gateways (`--http-listen`), spoken to over real HTTP/1.1:
//! the AuthZEN evaluation and evaluations endpoints, their metadata, health
//! and readiness, and errors as JSON with the status the gRPC code mirrors.

mod evaluate;
mod transport;

use std::{net::SocketAddr, time::Duration};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::*;

/// A server with the HTTP face on an ephemeral port, and that port.
async fn start() -> (TestServer, SocketAddr) {
    let http = free_port().await;
    let server = TestServer::start_with(|s| s.http_listen = Some(http.into())).await;
    (server, http)
}

async fn free_port() -> SocketAddr {
    let probe = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    probe.local_addr().unwrap()
}

/// An HTTP answer: status, headers (lower-case names) and the body as JSON (Null when empty or not JSON).
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one raw HTTP/1.1 request (`Connection: close`) and reads the whole answer.
async fn send(addr: SocketAddr, head: &str, body: &str) -> Reply {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "{head}\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut raw))
        .await
        .expect("an answer within 10 s")
        .unwrap();
    parse(&String::from_utf8(raw).unwrap())
}

fn parse(raw: &str) -> Reply {
    let (head, body) = raw.split_once("\r\n\r\n").expect("a complete HTTP answer");
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: serde_json::from_str(body).unwrap_or(Value::Null),
    }
}

/// POSTs `body` as JSON to `path` with `auth` (a full header line, or "").
async fn post(addr: SocketAddr, path: &str, auth: &str, body: &Value) -> Reply {
    let auth = if auth.is_empty() {
        String::new()
    } else {
        format!("\r\n{auth}")
    };
    send(
        addr,
        &format!("POST {path} HTTP/1.1\r\nContent-Type: application/json{auth}"),
        &body.to_string(),
    )
    .await
}

fn bearer(key: &str) -> String {
    format!("Authorization: Bearer {key}")
}
