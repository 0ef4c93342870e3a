//! TLS on the TCP listeners, with certificates reloaded on SIGHUP or when their
//! files change. A reload swaps the configuration new handshakes use; open
//! connections keep theirs and are not dropped.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Weak},
    time::{Duration, SystemTime},
};

use arc_swap::ArcSwap;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use tokio_rustls::{
    TlsAcceptor,
    rustls::{RootCertStore, ServerConfig, crypto::ring, server::WebPkiClientVerifier},
};

/// Where the certificate, its key and (for mutual TLS) the client CAs are.
#[derive(Clone, Debug)]
pub struct TlsSettings {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// When set, clients must present a certificate chaining to one of these.
    pub client_ca: Option<PathBuf>,
    /// How often the files are checked for changes.
    pub reload_interval: Duration,
}

/// The configuration new handshakes use, swapped on reload.
#[derive(Clone)]
pub struct Certificates(Arc<ArcSwap<ServerConfig>>);

impl Certificates {
    /// Loads the files (an error says which one is wrong) and starts watching them.
    pub fn load_and_watch(settings: &TlsSettings) -> Result<Self, String> {
        let current = Self(Arc::new(ArcSwap::from_pointee(load(settings)?)));
        tokio::spawn(watch(settings.clone(), Arc::downgrade(&current.0)));
        Ok(current)
    }

    /// An acceptor for one handshake, with the configuration current now.
    pub fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.0.load_full())
    }
}

/// Reads and checks the files into a server configuration offering HTTP/2.
pub fn load(settings: &TlsSettings) -> Result<ServerConfig, String> {
    let provider = Arc::new(ring::default_provider());
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    let builder = match &settings.client_ca {
        None => builder.with_no_client_auth(),
        Some(path) => {
            let mut roots = RootCertStore::empty();
            for cert in certificates(path, "--tls-client-ca")? {
                roots
                    .add(cert)
                    .map_err(|e| format!("--tls-client-ca {}: {e}", path.display()))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| format!("--tls-client-ca {}: {e}", path.display()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let chain = certificates(&settings.cert, "--tls-cert")?;
    let key = PrivateKeyDer::from_pem_file(&settings.key).map_err(|e| {
        format!(
            "--tls-key {}: no PEM private key ({e})",
            settings.key.display()
        )
    })?;
    let mut config = builder.with_single_cert(chain, key).map_err(|e| {
        format!(
            "--tls-cert {} with --tls-key {}: {e}",
            settings.cert.display(),
            settings.key.display()
        )
    })?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

fn certificates(path: &Path, flag: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let shown = path.display();
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("{flag} {shown}: {e}"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{flag} {shown}: {e}"))?;
    if certs.is_empty() {
        return Err(format!("{flag} {shown}: no PEM certificate in the file"));
    }
    Ok(certs)
}

/// Modification time and length of each file: what a change is noticed by.
fn stamp(settings: &TlsSettings) -> Vec<Option<(SystemTime, u64)>> {
    [
        Some(&settings.cert),
        Some(&settings.key),
        settings.client_ca.as_ref(),
    ]
    .into_iter()
    .flatten()
    .map(|path| {
        std::fs::metadata(path)
            .ok()
            .and_then(|m| Some((m.modified().ok()?, m.len())))
    })
    .collect()
}

/// Reloads on SIGHUP and on a change of the files, until the server is gone.
async fn watch(settings: TlsSettings, current: Weak<ArcSwap<ServerConfig>>) {
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let mut seen = stamp(&settings);
    loop {
        let signalled = tokio::select! {
            _ = tokio::time::sleep(settings.reload_interval) => false,
            Some(()) = async { hangup.as_mut()?.recv().await } => true,
        };
        let Some(current) = current.upgrade() else {
            return;
        };
        let now = stamp(&settings);
        if !signalled && now == seen {
            continue;
        }
        seen = now;
        match load(&settings) {
            Ok(config) => {
                current.store(Arc::new(config));
                tracing::info!(cert = %settings.cert.display(), "TLS certificates reloaded");
            }
            Err(error) => {
                tracing::warn!(%error, "TLS certificates not reloaded; the previous ones stay in use");
            }
        }
    }
}
