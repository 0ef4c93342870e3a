//! Connector over a Unix socket and over TLS with a private CA.

use std::{path::PathBuf, time::Duration};

use rbacd::{
    config::Listen,
    server::{Bound, TlsSettings},
};
use rbacd_client::{ApiKey, Checker, CheckerOptions, Connector};
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};

use crate::support::{ADMIN_KEY, Server, question};

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let dir =
            std::env::temp_dir().join(format!("rbacd-client-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Asks one check through `connector`: the root exists, nobody is unknown.
async fn ask(connector: &Connector) {
    let channel = connector.connect().await.unwrap();
    let checker = Checker::new(
        ApiKey::new(ADMIN_KEY).unwrap().on(channel),
        CheckerOptions::default(),
    );
    let answer = checker
        .check(question("nobody@example.com", "Docs:Read", "root"))
        .await
        .unwrap();
    assert!(!answer.allowed);
    assert!(answer.reason.starts_with("UNKNOWN_IDENTITY"), "{answer:?}");
}

#[tokio::test]
async fn checks_over_a_unix_socket() {
    let dir = TempDir::new();
    let path = dir.0.join("rbacd.sock");
    let mut server = Server::start().await;
    server.stop().await;
    let bound = Bound::bind(&Listen::Unix(path.clone()), 0o600)
        .await
        .unwrap();
    server.serve(vec![bound]).await;
    ask(&Connector::new(&format!("unix:{}", path.display())).unwrap()).await;
}

#[tokio::test]
async fn checks_over_tls_verified_with_a_private_ca() {
    let dir = TempDir::new();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    std::fs::write(dir.0.join("server.pem"), cert.pem()).unwrap();
    std::fs::write(dir.0.join("server.key"), key.serialize_pem()).unwrap();
    let tls = TlsSettings {
        cert: dir.0.join("server.pem"),
        key: dir.0.join("server.key"),
        client_ca: None,
        reload_interval: Duration::from_secs(60),
    };
    let server = Server::start_with(|s| s.tls = Some(tls)).await;
    let url = format!("https://localhost:{}", server.addr.port());

    let verified = Connector::new(&url).unwrap().ca_certificate_pem(ca_pem);
    assert!(verified.is_tls());
    ask(&verified).await;

    // The system's roots do not know this CA.
    let unverified = Connector::new(&url).unwrap().connect().await;
    assert!(unverified.is_err(), "{unverified:?}");
}
