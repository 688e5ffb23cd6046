//! The local host's adapters: the embedded on-disk store, its queues and the master key file.
//! Only the local host (and the tests that drive it) links these; no Lambda function does.

use std::path::Path;
use std::sync::Arc;
use vitasync_domain::App;
use vitasync_domain::delivery::Deliveries;
use vitasync_domain::destinations::DestinationPolicy;
use vitasync_domain::events::Announcer;
use vitasync_domain::ports::Ports;
use vitasync_domain::queue::JobQueue;
use vitasync_domain::secrets::Vault;
use vitasync_domain::time::{Clock, SystemClock};
use vitasync_domain::webhook_endpoints::WebhookEndpoints;
use vitasync_embedded::{EmbeddedStore, LocalKeyManager};
use vitasync_host::{HostError, allow_private_destinations};
use vitasync_providers::HttpWebhookSender;

/// The use cases over the embedded adapters, with their files in `data_dir`.
pub fn embedded_app(data_dir: &Path) -> Result<App, HostError> {
    Ok(embedded_host(data_dir, &|name| std::env::var(name).ok())?.app)
}

/// How many times a job message is received before it moves to the dead-letter queue.
pub const JOB_MAX_RECEIVES: u32 = 5;

/// How many times a delivery message is received before it moves to the dead-letter queue
/// (only a store outage makes it fail: failed attempts become delayed messages).
pub const DELIVERY_MAX_RECEIVES: u32 = 5;

/// The local host's adapters and services, and the queues its background workers drain.
pub struct EmbeddedHost {
    pub app: App,
    pub webhook_endpoints: WebhookEndpoints,
    pub deliveries: Deliveries,
    pub jobs: Arc<dyn JobQueue>,
    pub delivery_queue: Arc<dyn JobQueue>,
}

/// The use cases over the embedded adapters, with sync jobs and webhook deliveries queued on
/// the embedded queue, and events signed with secrets sealed under the local master key.
pub fn embedded_host(
    data_dir: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<EmbeddedHost, HostError> {
    let store = Arc::new(EmbeddedStore::open(data_dir)?);
    let jobs: Arc<dyn JobQueue> = Arc::new(store.queue("jobs", JOB_MAX_RECEIVES));
    let deliveries = store.queue("deliveries", DELIVERY_MAX_RECEIVES);
    let dead_letters: Arc<dyn JobQueue> =
        Arc::new(store.queue(&deliveries.dead_letter_name(), DELIVERY_MAX_RECEIVES));
    let deliveries: Arc<dyn JobQueue> = Arc::new(deliveries);
    // Receivers under development often run on the same machine.
    let destinations = DestinationPolicy {
        allow_loopback: true,
        allow_private: allow_private_destinations(lookup),
    };
    let sender =
        HttpWebhookSender::new(destinations).map_err(|err| HostError::Config(err.to_string()))?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let announcer = Announcer::new(store.clone(), deliveries.clone(), clock.clone());
    let vault = embedded_vault(data_dir)?;
    let webhook_endpoints = WebhookEndpoints::new(
        store.clone(),
        vault.clone(),
        destinations,
        announcer.clone(),
        clock.clone(),
    );
    let delivery_service = Deliveries::new(
        store.clone(),
        Arc::new(sender),
        vault,
        announcer.clone(),
        dead_letters,
        clock.clone(),
    );
    let app = App::new(Ports::from_store(store, clock))
        .with_jobs_queue(jobs.clone())
        .with_announcer(announcer);
    Ok(EmbeddedHost {
        app,
        webhook_endpoints,
        deliveries: delivery_service,
        jobs,
        delivery_queue: deliveries,
    })
}

/// Envelope encryption under the master key file in `data_dir` (created 0600 on first use).
pub fn embedded_vault(data_dir: &Path) -> Result<Vault, HostError> {
    let keys = LocalKeyManager::open(data_dir)
        .map_err(|err| HostError::Config(format!("the master key file: {err}")))?;
    Ok(Vault::new(Arc::new(keys)))
}
