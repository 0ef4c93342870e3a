//! tonic wiring: the services, health, reflection, the interceptor that scopes
//! each call, and graceful shutdown. Listening, limits and TLS are submodules.

mod access_log;
mod health;
mod incoming;
mod interceptor;
mod limits;
mod listen;
mod observe;
mod signed_actions;
mod tls;

use std::{future::Future, sync::Arc, time::Duration};

use tokio::sync::{Semaphore, watch};
use tonic::transport::Server;
use tower::Layer as _;

pub use self::{
    health::Serving,
    limits::Limits,
    listen::Bound,
    observe::Observe,
    signed_actions::{SignedActionsLayer, SignedBy, message_sha256},
    tls::{TlsSettings, load as load_tls},
};

use crate::{
    access::{Authenticator, KeyRing, Policy},
    api::{
        ActionSigningApi, AssignmentApi, AuditApi, AuthorizationApi, AuthorizationRoutes, BulkApi,
        IdentityApi, NodeApi, RoleApi, State,
    },
    config::HostPort,
    domain::{Error, Result, secret::MIN_SECRET_LEN},
    engine::Engine,
    feed::Feed,
    metrics::Metrics,
    proto::{
        self,
        v1::{
            action_signing_service_server::ActionSigningServiceServer,
            assignment_service_server::AssignmentServiceServer,
            audit_service_server::AuditServiceServer, bulk_service_server::BulkServiceServer,
            identity_service_server::IdentityServiceServer, node_service_server::NodeServiceServer,
            role_service_server::RoleServiceServer,
        },
    },
    store::{Provisioned, Store},
};

type Router = tonic::transport::server::Router<
    tower::layer::util::Stack<observe::Observe, tower::layer::util::Identity>,
>;

/// Environment created, with an admin key, on first start against an empty database.
const DEFAULT_ENVIRONMENT: &str = "default";

/// How the service runs, apart from where it listens.
#[derive(Clone, Debug)]
pub struct Settings {
    pub database_url: String,
    /// PostgreSQL schema of rbacd's tables (created if missing); the default search path when `None`.
    pub database_schema: Option<String>,
    /// Connections to the database at most (`None`: the driver's default).
    pub database_max_connections: Option<u32>,
    /// How long a check waits for its `min_revision` before UNAVAILABLE.
    pub min_revision_timeout: Duration,
    /// How often the change log is polled for other instances' writes.
    pub poll_interval: Duration,
    /// How old the index may grow while the store is unreachable before
    /// checks fail closed with UNAVAILABLE.
    pub max_staleness: Duration,
    /// The admin API key of environment `default` when it is created; random when `None`.
    pub bootstrap_api_key: Option<String>,
    /// Where to serve Prometheus metrics; nowhere when `None`.
    pub metrics_listen: Option<HostPort>,
    /// Where to serve the AuthZEN HTTP API; nowhere when `None`.
    pub http_listen: Option<HostPort>,
    /// Bounds on connections and streams.
    pub limits: Limits,
    /// TLS on TCP listeners; plain text when `None`.
    pub tls: Option<TlsSettings>,
    /// How long a user action's challenge stays valid; at most (and by default) five minutes.
    pub user_action_lifetime: Duration,
    /// Where each call's span goes; no spans when `None`.
    pub traces: Option<crate::telemetry::Traces>,
}

impl Settings {
    /// Defaults for `database_url`.
    pub fn new(database_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            database_schema: None,
            database_max_connections: None,
            min_revision_timeout: Duration::from_secs(5),
            poll_interval: Duration::from_millis(250),
            max_staleness: Duration::from_secs(60),
            bootstrap_api_key: None,
            metrics_listen: None,
            http_listen: None,
            limits: Limits::default(),
            tls: None,
            user_action_lifetime: crate::domain::signing::MAX_ACTION_LIFETIME,
            traces: None,
        }
    }
}

/// A migrated store, the default environment in place and the index loaded: ready to serve.
pub struct App {
    store: Arc<Store>,
    engine: Arc<Engine>,
    feed: Arc<Feed>,
    authenticator: Authenticator,
    settings: Settings,
    /// Bound at open, so that a port in use fails the start.
    metrics_listener: Option<tokio::net::TcpListener>,
    /// Bound at open, for the same reason.
    http_listener: Option<tokio::net::TcpListener>,
    /// Loaded at open, so that a bad certificate fails the start.
    tls: Option<tls::Certificates>,
    /// What was created on first start, with the admin key's secret.
    pub bootstrapped: Option<Provisioned>,
}

impl App {
    /// Connects to the database, migrates it, makes sure the default
    /// environment exists, loads the index and starts following the change log.
    pub async fn open(settings: Settings) -> Result<Self> {
        if let Some(key) = &settings.bootstrap_api_key
            && key.len() < MIN_SECRET_LEN
        {
            return Err(Error::invalid(
                "RBACD_BOOTSTRAP_API_KEY",
                format!("must be at least {MIN_SECRET_LEN} characters"),
            ));
        }
        let metrics_listener = bind("--metrics-listen", settings.metrics_listen.as_ref()).await?;
        let http_listener = bind("--http-listen", settings.http_listen.as_ref()).await?;
        let tls = match &settings.tls {
            Some(files) => Some(
                tls::Certificates::load_and_watch(files)
                    .map_err(|e| Error::invalid("--tls-cert", e))?,
            ),
            None => None,
        };
        let store = Arc::new(
            Store::connect_in_schema(
                &settings.database_url,
                settings.database_schema.as_deref(),
                settings.database_max_connections,
            )
            .await?,
        );
        store.migrate().await?;
        let bootstrapped = store
            .ensure_environment(DEFAULT_ENVIRONMENT, settings.bootstrap_api_key.clone())
            .await?;
        let started = std::time::Instant::now();
        let snapshot = store.load_snapshot().await?;
        let keys = Arc::new(KeyRing::from_snapshot(&snapshot));
        let engine = Arc::new(Engine::from_snapshot(snapshot));
        // The snapshot is gone; without this its pages stay in the process's RSS.
        crate::memory::release_freed_memory();
        tracing::info!(
            revision = engine.applied_revision(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "index loaded"
        );
        let feed = Feed::new(Arc::clone(&store), Arc::clone(&engine), Arc::clone(&keys));
        feed.spawn(settings.poll_interval);
        Ok(Self {
            store,
            authenticator: Authenticator::new(keys, Arc::clone(&engine)),
            engine,
            feed,
            settings,
            metrics_listener,
            http_listener,
            tls,
            bootstrapped,
        })
    }

    /// Where the HTTP face listens, when it does.
    pub fn http_addr(&self) -> Option<std::net::SocketAddr> {
        self.http_listener.as_ref()?.local_addr().ok()
    }

    /// Serves on `listener` until `shutdown` resolves, then drains in-flight calls.
    pub async fn serve_tcp(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send,
    ) -> std::result::Result<(), tonic::transport::Error> {
        self.serve(vec![Bound::Tcp(listener)], shutdown).await
    }

    /// Serves on every listener until `shutdown` resolves, then drains
    /// in-flight calls, closes the listeners and removes their socket files.
    pub async fn serve(
        self,
        listeners: Vec<Bound>,
        shutdown: impl Future<Output = ()> + Send,
    ) -> std::result::Result<(), tonic::transport::Error> {
        let admission = incoming::Admission {
            slots: Arc::new(Semaphore::new(self.settings.limits.max_connections)),
            preface_timeout: self.settings.limits.preface_timeout,
            tls: self.tls.clone(),
        };
        let (connections, mut accepting) = incoming::accept_all(listeners, admission);
        let traces = self.settings.traces.clone();
        let (router, drain) = self.router().await;
        let served = router
            .serve_with_incoming_shutdown(connections, draining(shutdown, drain))
            .await;
        while accepting.join_next().await.is_some() {}
        if let Some(traces) = traces {
            traces.shutdown().await;
        }
        served
    }

    async fn router(self) -> (Router, watch::Sender<bool>) {
        let (health, health_service) = tonic_health::server::health_reporter();
        health::report(&health, Serving::ALL).await;
        let (serving, serving_now) = watch::channel(Serving::ALL);
        tokio::spawn(health::watch(
            Arc::clone(&self.feed),
            health,
            serving,
            self.settings.max_staleness,
        ));
        let reflection = || {
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        };
        let reflection_v1 = reflection()
            .build_v1()
            .expect("the compiled-in descriptor sets are valid");
        let reflection_v1alpha = reflection()
            .build_v1alpha()
            .expect("the compiled-in descriptor sets are valid");
        let signed = signed_actions_layer(Arc::clone(&self.store), self.authenticator.clone());
        let scoped = interceptor::authenticating(self.authenticator.clone());
        let (drain, draining) = watch::channel(false);
        let metrics = Arc::new(Metrics::default());
        let observed = Arc::clone(&metrics);
        if let Some(listener) = self.metrics_listener {
            let sources = crate::metrics::Sources {
                engine: Arc::clone(&self.engine),
                feed: Arc::clone(&self.feed),
            };
            let timeout = self.settings.limits.metrics_timeout;
            crate::metrics::spawn(listener, Arc::clone(&metrics), sources, timeout);
        }
        if let Some(listener) = self.http_listener {
            let face = crate::http::Face {
                authenticator: self.authenticator,
                policy: Policy::new(Arc::clone(&self.engine)),
                engine: Arc::clone(&self.engine),
                serving: serving_now,
                metrics: Arc::clone(&metrics),
            };
            let limits = crate::http::HttpLimits {
                max_connections: self.settings.limits.max_connections,
                timeout: self.settings.limits.http_timeout,
            };
            crate::http::spawn(listener, face, limits, draining.clone());
        }
        let state = State {
            store: self.store,
            policy: Policy::new(Arc::clone(&self.engine)),
            engine: self.engine,
            feed: self.feed,
            min_revision_timeout: self.settings.min_revision_timeout,
            page_bytes: self.settings.limits.max_page_bytes,
            draining,
            metrics,
        };
        // A connection window well above the per-stream one, so a CheckStream
        // whose client stopped reading cannot stall the other calls on its connection.
        let router = self
            .settings
            .limits
            .apply(Server::builder())
            .initial_connection_window_size(16 * 1024 * 1024)
            .initial_stream_window_size(1024 * 1024)
            .layer(observe::Observe {
                metrics: observed,
                traces: self.settings.traces.clone(),
            })
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .add_service(signed.layer(RoleServiceServer::with_interceptor(
                RoleApi::new(state.clone()),
                scoped.clone(),
            )))
            .add_service(signed.layer(IdentityServiceServer::with_interceptor(
                IdentityApi::new(state.clone()),
                scoped.clone(),
            )))
            .add_service(signed.layer(NodeServiceServer::with_interceptor(
                NodeApi::new(state.clone()),
                scoped.clone(),
            )))
            .add_service(signed.layer(AssignmentServiceServer::with_interceptor(
                AssignmentApi::new(state.clone()),
                scoped.clone(),
            )))
            .add_service(signed.layer(ActionSigningServiceServer::with_interceptor(
                ActionSigningApi::new(state.clone(), self.settings.user_action_lifetime),
                scoped.clone(),
            )))
            .add_service(AuditServiceServer::with_interceptor(
                AuditApi::new(state.clone()),
                scoped.clone(),
            ))
            .add_service(signed.layer(BulkServiceServer::with_interceptor(
                BulkApi::new(state.clone()),
                scoped.clone(),
            )))
            .add_service(tonic::service::interceptor::InterceptedService::new(
                AuthorizationRoutes::new(AuthorizationApi::new(state)),
                scoped.clone(),
            ));
        (router, drain)
    }
}

/// The user-action check for the services whose mutations can be signed; it
/// authenticates with the same key ring as the interceptor.
fn signed_actions_layer(store: Arc<Store>, authenticator: Authenticator) -> SignedActionsLayer {
    SignedActionsLayer::new(
        store,
        Arc::new(move |headers: &http::HeaderMap| {
            let secret = headers
                .get(crate::access::API_KEY_HEADER)
                .and_then(|v| v.to_str().ok());
            let caller = authenticator.authenticate(secret).ok()?;
            Some((caller.environment, caller.actor.identity()?))
        }),
    )
}

/// Resolves with `shutdown`, first telling long-lived streams to end so the drain completes.
async fn draining(shutdown: impl Future<Output = ()>, drain: watch::Sender<bool>) {
    shutdown.await;
    let _ = drain.send(true);
}

/// Binds an optional side listener at open, so a port in use fails the start.
async fn bind(flag: &str, address: Option<&HostPort>) -> Result<Option<tokio::net::TcpListener>> {
    let Some(address) = address else {
        return Ok(None);
    };
    tokio::net::TcpListener::bind(address.as_str())
        .await
        .map(Some)
        .map_err(|e| Error::invalid(flag, format!("cannot listen on {address}: {e}")))
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: draining in-flight calls");
}
