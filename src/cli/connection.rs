//! The flags every client subcommand shares, and the channel they open.

use std::{path::PathBuf, time::Duration};

use clap::Args;
use tonic::{
    Request, Status,
    metadata::{AsciiMetadataValue, MetadataValue},
    service::{Interceptor, interceptor::InterceptedService},
    transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity, Uri},
};

use super::{Failure, OutputFormat};

/// The default server, where `rbacd serve` listens by default.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:50051";

/// A channel to the server that sends the API key on every call, and signs
/// what can be signed when given `--signing-key`.
pub type ServerChannel = InterceptedService<super::signing::SigningChannel, ApiKeyHeader>;

/// Where the server is, how to authenticate, how to print.
#[derive(Debug, Clone, Args)]
pub struct ConnectionArgs {
    /// The rbacd server: http://HOST:PORT, https://HOST:PORT, HOST:PORT, or unix:/path.
    #[arg(long, env = "RBACD_SERVER", default_value = DEFAULT_SERVER)]
    pub server: String,
    #[command(flatten)]
    pub tls: TlsClientArgs,
    /// API key, sent as `x-api-key` metadata on every call.
    #[arg(long, env = "RBACD_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// PKCS#8 PEM Ed25519 private key of a registered credential: every
    /// mutating call is then signed (BeginAction, CompleteAction) first.
    #[arg(long, env = "RBACD_SIGNING_KEY", value_name = "FILE")]
    pub signing_key: Option<std::path::PathBuf>,
    /// How to print results: aligned tables for people, or the response as JSON.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

impl ConnectionArgs {
    /// Connects to the server; the channel adds the API key, when given, to every call.
    pub async fn connect(&self) -> Result<ServerChannel, Failure> {
        let header = ApiKeyHeader::new(self.api_key.as_deref())?;
        let channel = open_channel(&self.server, &self.tls).await?;
        let channel = super::signing::SigningChannel::new(
            channel,
            self.signing_key.as_deref(),
            header.clone(),
        )?;
        Ok(InterceptedService::new(channel, header))
    }
}

/// The idempotency key every mutating subcommand takes.
#[derive(Debug, Clone, Default, Args)]
pub struct RequestIdArgs {
    /// An idempotency key (at most 128 characters): the same subcommand run
    /// again with the same key within 24 hours answers the first run's answer
    /// without writing again.
    #[arg(long, value_name = "ID", default_value = "")]
    pub request_id: String,
}

/// How to verify the server over `https://`, and prove who we are for mutual TLS.
#[derive(Debug, Clone, Default, Args)]
pub struct TlsClientArgs {
    /// PEM certificate(s) of the CA that signed the server's certificate
    /// (for https://); the system's roots when not given.
    #[arg(long, env = "RBACD_CA_CERT")]
    pub ca_cert: Option<PathBuf>,
    /// PEM client certificate, for a server requiring mutual TLS.
    #[arg(long, env = "RBACD_CLIENT_CERT", requires = "client_key")]
    pub client_cert: Option<PathBuf>,
    /// PEM private key of --client-cert.
    #[arg(long, env = "RBACD_CLIENT_KEY", requires = "client_cert")]
    pub client_key: Option<PathBuf>,
}

impl TlsClientArgs {
    fn config(&self) -> Result<ClientTlsConfig, Failure> {
        let read = |path: &PathBuf, flag: &str| {
            std::fs::read(path)
                .map_err(|e| Failure::input(format!("{flag} {}: {e}", path.display())))
        };
        let mut config = ClientTlsConfig::new();
        config = match &self.ca_cert {
            Some(path) => config.ca_certificate(Certificate::from_pem(read(path, "--ca-cert")?)),
            None => config.with_native_roots(),
        };
        if let (Some(cert), Some(key)) = (&self.client_cert, &self.client_key) {
            config = config.identity(Identity::from_pem(
                read(cert, "--client-cert")?,
                read(key, "--client-key")?,
            ));
        }
        Ok(config)
    }
}

/// A channel to `server`: plain HTTP/2, TLS for `https://`, or a Unix socket for `unix:PATH`.
pub async fn open_channel(server: &str, tls: &TlsClientArgs) -> Result<Channel, Failure> {
    if let Some(path) = server.strip_prefix("unix:") {
        return open_unix(path).await;
    }
    let uri = server_uri(server);
    let mut endpoint = Endpoint::from_shared(uri.clone())
        .map_err(|e| Failure::input(format!("--server `{server}`: {e}")))?
        .connect_timeout(Duration::from_secs(10));
    if uri.starts_with("https://") {
        endpoint = endpoint
            .tls_config(tls.config()?)
            .map_err(|e| Failure::input(format!("TLS settings: {e}")))?;
    }
    endpoint
        .connect()
        .await
        .map_err(|e| Failure::unreachable(&uri, &e))
}

async fn open_unix(path: &str) -> Result<Channel, Failure> {
    let path = PathBuf::from(path);
    let shown = format!("unix:{}", path.display());
    // The authority must be a host name: h2 on the server refuses a socket
    // path there (hyperium/h2#487), so every call says `localhost`.
    Endpoint::from_static("http://localhost")
        .connect_timeout(Duration::from_secs(10))
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let path = path.clone();
            async move {
                let stream = tokio::net::UnixStream::connect(path).await?;
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(stream))
            }
        }))
        .await
        .map_err(|e| Failure::unreachable(&shown, &e))
}

/// The server's URI: `host:port` without a scheme means plain-text HTTP/2.
pub fn server_uri(server: &str) -> String {
    if server.contains("://") {
        server.to_owned()
    } else {
        format!("http://{server}")
    }
}

/// Puts `x-api-key` on every request, when a key was given.
#[derive(Clone)]
pub struct ApiKeyHeader(Option<AsciiMetadataValue>);

impl ApiKeyHeader {
    fn new(api_key: Option<&str>) -> Result<Self, Failure> {
        let Some(key) = api_key.map(str::trim).filter(|k| !k.is_empty()) else {
            return Ok(Self(None));
        };
        let mut value = MetadataValue::try_from(key)
            .map_err(|_| Failure::input("the API key must be printable ASCII"))?;
        value.set_sensitive(true);
        Ok(Self(Some(value)))
    }
}

impl Interceptor for ApiKeyHeader {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(key) = &self.0 {
            request.metadata_mut().insert("x-api-key", key.clone());
        }
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_host_and_port_is_plain_http() {
        assert_eq!(server_uri("localhost:50051"), "http://localhost:50051");
        assert_eq!(server_uri("http://[::1]:1"), "http://[::1]:1");
        assert_eq!(
            server_uri("https://rbacd.internal"),
            "https://rbacd.internal"
        );
    }

    #[test]
    fn a_blank_api_key_sends_nothing() {
        assert!(ApiKeyHeader::new(Some("  ")).unwrap().0.is_none());
        assert!(ApiKeyHeader::new(Some("k\u{7}ey")).is_err());
    }
}
