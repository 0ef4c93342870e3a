//! A channel to an rbacd server: plain HTTP/2, TLS, or a Unix socket.

use std::{path::PathBuf, time::Duration};

use hyper_util::rt::TokioIo;
use tokio::net::UnixStream;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Uri};

/// Why a channel could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The server address is not usable as given.
    #[error("server `{server}`: {reason}")]
    Server { server: String, reason: String },
    /// The TLS settings were refused.
    #[error("TLS settings for `{server}`: {source}")]
    Tls {
        server: String,
        source: tonic::transport::Error,
    },
    /// Nothing answered, or the handshake failed.
    #[error("cannot reach `{server}`: {source}")]
    Unreachable {
        server: String,
        source: tonic::transport::Error,
    },
}

/// How to reach a server, from an address as a user writes it:
/// `http://HOST:PORT`, `HOST:PORT` (plain text), `https://HOST:PORT` (TLS,
/// verified against the system's roots or [`Connector::ca_certificate_pem`]),
/// or `unix:/path` (a Unix socket; calls name `localhost` as the authority).
///
/// The channel reconnects by itself after a broken connection, on the next call.
#[derive(Debug, Clone)]
pub struct Connector {
    server: String,
    target: Target,
    ca_pem: Option<Vec<u8>>,
    connect_timeout: Duration,
}

#[derive(Debug, Clone)]
enum Target {
    Uri(String),
    Unix(PathBuf),
}

impl Connector {
    /// A connector to `server`; an error when the address cannot be a URI.
    pub fn new(server: &str) -> Result<Self, ConnectError> {
        let target = match server.strip_prefix("unix:") {
            Some("") => return Err(invalid(server, "`unix:` needs a socket path")),
            Some(path) => Target::Unix(PathBuf::from(path)),
            None if server.contains("://") => Target::Uri(server.to_owned()),
            None => Target::Uri(format!("http://{server}")),
        };
        if let Target::Uri(uri) = &target {
            let parsed: Uri = uri.parse().map_err(|e| invalid(server, e))?;
            if !matches!(parsed.scheme_str(), Some("http" | "https")) {
                return Err(invalid(server, "the scheme must be http, https or unix"));
            }
        }
        Ok(Self {
            server: server.to_owned(),
            target,
            ca_pem: None,
            connect_timeout: Duration::from_secs(10),
        })
    }

    /// Verifies an `https://` server against this CA (PEM, one or more
    /// certificates) instead of the system's roots.
    pub fn ca_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca_pem = Some(pem.into());
        self
    }

    /// How long opening a connection may take (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Whether calls go over TLS.
    pub fn is_tls(&self) -> bool {
        matches!(&self.target, Target::Uri(uri) if uri.starts_with("https://"))
    }

    /// Opens a connection now.
    pub async fn connect(&self) -> Result<Channel, ConnectError> {
        let endpoint = self.endpoint()?;
        let connected = match &self.target {
            Target::Uri(_) => endpoint.connect().await,
            Target::Unix(path) => endpoint.connect_with_connector(unix(path.clone())).await,
        };
        connected.map_err(|source| ConnectError::Unreachable {
            server: self.server.clone(),
            source,
        })
    }

    /// A channel that connects on its first call (e.g. while the server starts).
    pub fn connect_lazy(&self) -> Result<Channel, ConnectError> {
        let endpoint = self.endpoint()?;
        Ok(match &self.target {
            Target::Uri(_) => endpoint.connect_lazy(),
            Target::Unix(path) => endpoint.connect_with_connector_lazy(unix(path.clone())),
        })
    }

    fn endpoint(&self) -> Result<Endpoint, ConnectError> {
        let uri = match &self.target {
            // The authority must be a host name: h2 on the server refuses a
            // socket path there (hyperium/h2#487).
            Target::Unix(_) => "http://localhost",
            Target::Uri(uri) => uri,
        };
        let endpoint = Endpoint::from_shared(uri.to_owned())
            .map_err(|e| invalid(&self.server, e))?
            .connect_timeout(self.connect_timeout);
        if !self.is_tls() {
            return match self.ca_pem {
                Some(_) => Err(invalid(
                    &self.server,
                    "a CA certificate is for an https:// server",
                )),
                None => Ok(endpoint),
            };
        }
        let config = match &self.ca_pem {
            Some(pem) => ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem)),
            None => ClientTlsConfig::new().with_native_roots(),
        };
        endpoint
            .tls_config(config)
            .map_err(|source| ConnectError::Tls {
                server: self.server.clone(),
                source,
            })
    }
}

fn invalid(server: &str, reason: impl ToString) -> ConnectError {
    ConnectError::Server {
        server: server.to_owned(),
        reason: reason.to_string(),
    }
}

/// Connects to the socket at `path` for every new connection.
fn unix(
    path: PathBuf,
) -> impl tower::Service<
    Uri,
    Response = TokioIo<UnixStream>,
    Error = std::io::Error,
    Future: Send + 'static,
> + Clone
+ Send
+ 'static {
    tower::service_fn(move |_: Uri| {
        let path = path.clone();
        async move { Ok(TokioIo::new(UnixStream::connect(path).await?)) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_host_and_port_is_plain_http() {
        let c = Connector::new("localhost:50051").unwrap();
        assert!(matches!(c.target, Target::Uri(ref u) if u == "http://localhost:50051"));
        assert!(!c.is_tls());
        assert!(Connector::new("https://rbacd.internal").unwrap().is_tls());
    }

    #[test]
    fn a_unix_address_names_a_path() {
        let c = Connector::new("unix:/run/rbacd.sock").unwrap();
        assert!(matches!(c.target, Target::Unix(ref p) if p == &PathBuf::from("/run/rbacd.sock")));
        assert!(Connector::new("unix:").is_err());
    }

    #[test]
    fn refuses_other_schemes_and_a_ca_without_tls() {
        assert!(Connector::new("ftp://host:1").is_err());
        let plain = Connector::new("http://host:1")
            .unwrap()
            .ca_certificate_pem("x");
        assert!(plain.connect_lazy().is_err());
    }
}
