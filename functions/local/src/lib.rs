//! The local host: every route of the API in one process, on the embedded adapters. It is what a
//! new user runs first and what the HTTP tests drive.

use secrecy::SecretString;
use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use vitasync_api::{Function, LocalApi, router_for};
use vitasync_domain::tenancy::Bootstrap;
use vitasync_host::HostError;

mod embedded;
pub mod worker;

pub use embedded::{
    DELIVERY_MAX_RECEIVES, EmbeddedHost, JOB_MAX_RECEIVES, embedded_host, embedded_tenancy,
    embedded_vault,
};

/// The address served when `VITASYNC_ADDR` is not set.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";

pub struct LocalConfig {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    pub admin_key: Option<SecretString>,
    /// Variables that take precedence over the process environment (tests set providers here).
    pub vars: BTreeMap<String, String>,
}

/// A running local host.
pub struct LocalHost {
    addr: SocketAddr,
    generated_root_key: Option<SecretString>,
    stop: oneshot::Sender<()>,
    server: JoinHandle<std::io::Result<()>>,
}

impl LocalHost {
    /// Opens the store, makes sure the root key exists, binds the address and starts serving.
    pub async fn start(config: LocalConfig) -> Result<Self, HostError> {
        let listener = TcpListener::bind(config.addr)
            .await
            .map_err(|err| HostError::Config(format!("cannot listen on {}: {err}", config.addr)))?;
        let addr = listener
            .local_addr()
            .map_err(|err| HostError::Config(err.to_string()))?;
        let vars = config.vars;
        let env = move |name: &str| {
            vars.get(name)
                .cloned()
                .or_else(|| std::env::var(name).ok())
                .filter(|v| !v.is_empty())
        };
        let public_url = env("VITASYNC_PUBLIC_URL").unwrap_or_else(|| format!("http://{addr}"));
        let host = embedded_host(&config.data_dir, &env, Some(public_url))?;
        // Nothing else consumes these queues: what a killed process held is due again now.
        let reclaimed = host.reclaim_held_messages().await?;
        if reclaimed > 0 {
            tracing::info!(
                reclaimed,
                "messages held when the host last stopped are queued again"
            );
        }
        let services = host.services;
        let generated_root_key = match services
            .tenancy
            .bootstrap(config.admin_key.as_ref())
            .await?
        {
            Bootstrap::Ready => None,
            Bootstrap::GeneratedRootKey(key) => Some(key),
        };
        let (stop_worker, worker_stopped) = watch::channel(false);
        let scheduler = tokio::spawn(worker::schedule(
            services.scheduler.clone(),
            worker_stopped.clone(),
        ));
        let deliverer = tokio::spawn(worker::deliver(
            services.deliveries.clone(),
            host.deliveries,
            worker_stopped.clone(),
        ));
        let relay = tokio::spawn(worker::relay(
            services.relay.clone(),
            worker_stopped.clone(),
        ));
        let worker = tokio::spawn(worker::run(
            services.worker.clone(),
            host.jobs,
            worker_stopped,
        ));
        let router = router_for(Function::Local, LocalApi::from(&services));
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
            // In-flight requests are done; let the job at hand finish too.
            let _ = stop_worker.send(true);
            let _ = worker.await;
            let _ = scheduler.await;
            let _ = deliverer.await;
            let _ = relay.await;
            served
        });
        Ok(Self {
            addr,
            generated_root_key,
            stop,
            server,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The root key made at this start, if none existed before. Shown to the operator once.
    pub fn take_generated_root_key(&mut self) -> Option<SecretString> {
        self.generated_root_key.take()
    }

    /// Serves until `signal` completes (or the server fails), then finishes in-flight requests
    /// and stops.
    pub async fn serve_until(mut self, signal: impl Future<Output = ()>) -> Result<(), HostError> {
        tokio::select! {
            () = signal => self.stop().await,
            finished = &mut self.server => server_outcome(finished),
        }
    }

    /// Finishes in-flight requests, stops, and releases the store.
    pub async fn stop(self) -> Result<(), HostError> {
        let _ = self.stop.send(());
        server_outcome(self.server.await)
    }
}

fn server_outcome(
    finished: Result<std::io::Result<()>, tokio::task::JoinError>,
) -> Result<(), HostError> {
    match finished {
        Ok(result) => result.map_err(|err| HostError::Config(format!("server failed: {err}"))),
        Err(err) => Err(HostError::Config(format!("server task failed: {err}"))),
    }
}
