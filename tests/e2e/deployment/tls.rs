//! TLS: served with certificates generated here, reloaded when the files
//! change without dropping open connections, mutual TLS, and the CLI over https.

use std::{path::PathBuf, time::Duration};

use crate::support::{ADMIN_KEY, database::TestDb};
use rbacd::server::{App, Bound, Settings, TlsSettings};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use tokio::{sync::oneshot, task::JoinHandle};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

/// A certificate authority that can sign server and client certificates.
struct Ca {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Ca {
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().unwrap();
        let pem = params.self_signed(&key).unwrap().pem();
        Self {
            pem,
            issuer: Issuer::new(params, key),
        }
    }

    /// (certificate PEM, key PEM) for `names`.
    fn sign(&self, names: &[&str]) -> (String, String) {
        let params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

struct Files {
    dir: PathBuf,
}

impl Files {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("rbacd-tls-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        Self { dir }
    }
    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.join(name);
        // Write then rename, as a secret mount or cert-manager does.
        let partial = self.dir.join(format!(".{name}.tmp"));
        std::fs::write(&partial, text).unwrap();
        std::fs::rename(&partial, &path).unwrap();
        path
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

struct Running {
    port: u16,
    _stop: oneshot::Sender<()>,
    _serving: JoinHandle<Result<(), tonic::transport::Error>>,
    _db: TestDb,
}

async fn serve_tls(tls: TlsSettings) -> Running {
    let db = TestDb::new().await;
    let mut settings = Settings::new(db.url.clone());
    settings.bootstrap_api_key = Some(ADMIN_KEY.into());
    settings.tls = Some(tls);
    let app = App::open(settings).await.expect("open with TLS");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, stopped) = oneshot::channel::<()>();
    let serving = tokio::spawn(app.serve(vec![Bound::Tcp(listener)], async {
        let _ = stopped.await;
    }));
    Running {
        port,
        _stop: stop,
        _serving: serving,
        _db: db,
    }
}

fn server_files(files: &Files, ca: &Ca, client_ca: Option<&Ca>) -> TlsSettings {
    let (cert, key) = ca.sign(&["localhost", "127.0.0.1"]);
    TlsSettings {
        cert: files.write("server.pem", &cert),
        key: files.write("server.key", &key),
        client_ca: client_ca.map(|c| files.write("clients.pem", &c.pem)),
        reload_interval: Duration::from_millis(100),
    }
}

async fn connect(
    port: u16,
    trusted: &Ca,
    identity: Option<(String, String)>,
) -> Result<Channel, String> {
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(&trusted.pem))
        .domain_name("localhost");
    if let Some((cert, key)) = identity {
        tls = tls.identity(Identity::from_pem(cert, key));
    }
    Endpoint::from_shared(format!("https://127.0.0.1:{port}"))
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
        .map_err(|e| format!("{e:?}"))
}

async fn health(channel: Channel) -> Result<(), tonic::Status> {
    HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .map(|_| ())
}

#[tokio::test]
async fn tls_serves_and_reloads_changed_certificates_without_dropping_connections() {
    let files = Files::new();
    let (first, second) = (Ca::new("first CA"), Ca::new("second CA"));
    let tls = server_files(&files, &first, None);
    let running = serve_tls(tls).await;

    let old = connect(running.port, &first, None)
        .await
        .expect("TLS with the first CA");
    health(old.clone()).await.expect("health over TLS");
    let plain = Channel::from_shared(format!("http://127.0.0.1:{}", running.port))
        .unwrap()
        .connect()
        .await;
    if let Ok(plain) = plain {
        assert!(health(plain).await.is_err(), "plain text is not served");
    }

    let (cert, key) = second.sign(&["localhost", "127.0.0.1"]);
    files.write("server.key", &key);
    files.write("server.pem", &cert);
    let mut reloaded = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if let Ok(channel) = connect(running.port, &second, None).await
            && health(channel).await.is_ok()
        {
            reloaded = true;
            break;
        }
    }
    assert!(reloaded, "new connections get the new certificate");
    let stale = connect(running.port, &first, None).await;
    assert!(
        match stale {
            Err(_) => true,
            Ok(channel) => health(channel).await.is_err(),
        },
        "the old certificate is no longer offered"
    );
    health(old)
        .await
        .expect("a connection opened before the reload still works");
}

#[tokio::test]
async fn mutual_tls_requires_a_client_certificate_from_the_client_ca() {
    let files = Files::new();
    let (servers, clients, strangers) = (Ca::new("servers"), Ca::new("clients"), Ca::new("other"));
    let running = serve_tls(server_files(&files, &servers, Some(&clients))).await;

    let with_cert = connect(running.port, &servers, Some(clients.sign(&["client"]))).await;
    health(with_cert.expect("connect with a client certificate"))
        .await
        .expect("a client with a certificate from the client CA is served");
    for identity in [None, Some(strangers.sign(&["client"]))] {
        let refused = match connect(running.port, &servers, identity).await {
            Err(_) => true,
            Ok(channel) => health(channel).await.is_err(),
        };
        assert!(refused, "a client without a trusted certificate is refused");
    }
}

#[tokio::test]
async fn the_cli_speaks_tls_to_https_servers() {
    let files = Files::new();
    let ca = Ca::new("cli CA");
    let running = serve_tls(server_files(&files, &ca, None)).await;
    let ca_file = files.write("ca.pem", &ca.pem);
    let server = format!("https://127.0.0.1:{}", running.port);
    let run = |args: Vec<String>| async move {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_rbacd"))
            .args(args)
            .env_remove("RBACD_CA_CERT")
            .env_remove("RBACD_SERVER")
            .output()
            .await
            .unwrap()
    };
    let trusted = run(vec![
        "health".into(),
        "--server".into(),
        server.clone(),
        "--ca-cert".into(),
        ca_file.display().to_string(),
    ])
    .await;
    assert!(trusted.status.success(), "{trusted:?}");
    let listed = run(vec![
        "role".into(),
        "list".into(),
        "--server".into(),
        server.clone(),
        "--ca-cert".into(),
        ca_file.display().to_string(),
        "--api-key".into(),
        ADMIN_KEY.into(),
    ])
    .await;
    assert!(listed.status.success(), "{listed:?}");
    let untrusted = run(vec![
        "health".into(),
        "--server".into(),
        server,
        "--timeout".into(),
        "3s".into(),
    ])
    .await;
    assert_eq!(untrusted.status.code(), Some(1), "{untrusted:?}");
}

#[tokio::test]
async fn a_key_that_does_not_match_fails_the_start() {
    let files = Files::new();
    let ca = Ca::new("mismatch");
    let (cert, _) = ca.sign(&["localhost"]);
    let (_, other_key) = ca.sign(&["localhost"]);
    let db = TestDb::new().await;
    let mut settings = Settings::new(db.url.clone());
    settings.tls = Some(TlsSettings {
        cert: files.write("a.pem", &cert),
        key: files.write("b.key", &other_key),
        client_ca: None,
        reload_interval: Duration::from_secs(10),
    });
    let error = App::open(settings).await.err().expect("refused");
    assert!(error.to_string().contains("--tls-cert"), "{error}");
}
