//! The local host's adapters: the embedded on-disk store, its queues and the master key file.
//! Only the local host (and the tests that drive it) links these; no Lambda function does.

use std::path::Path;
use std::sync::Arc;
use vitasync_domain::announce::destinations::DestinationPolicy;
use vitasync_domain::kernel::queue::JobQueue;
use vitasync_domain::kernel::secrets::Vault;
use vitasync_domain::kernel::time::SystemClock;
use vitasync_domain::ports::Ports;
use vitasync_domain::providers::secrets::{NoSecretStore, SecretCache};
use vitasync_domain::services::{Services, Wiring};
use vitasync_domain::tenancy::Tenancy;
use vitasync_embedded::{EmbeddedQueue, EmbeddedStore, LocalKeyManager};
use vitasync_host::{
    HostError, allow_private_destinations, connect_settings, provider_client, providers_from,
    sync_settings,
};
use vitasync_providers::HttpWebhookSender;

/// How many times a job message is received before it moves to the dead-letter queue.
pub const JOB_MAX_RECEIVES: u32 = 5;

/// How many times a delivery message is received before it moves to the dead-letter queue
/// (only a store outage makes it fail: failed attempts become delayed messages).
pub const DELIVERY_MAX_RECEIVES: u32 = 5;

/// The local host's services, and the queues its background workers drain.
pub struct EmbeddedHost {
    pub services: Services,
    pub jobs: Arc<dyn JobQueue>,
    pub deliveries: Arc<dyn JobQueue>,
    /// The same queues, as the local host's own.
    queues: [EmbeddedQueue; 2],
}

impl EmbeddedHost {
    /// Makes what a stopped process held on the job and delivery queues receivable again
    /// (see `EmbeddedQueue::reclaim_held`); how many messages that was.
    pub async fn reclaim_held_messages(&self) -> Result<usize, HostError> {
        let mut reclaimed = 0;
        for queue in &self.queues {
            reclaimed += queue
                .reclaim_held()
                .await
                .map_err(|err| HostError::Config(format!("the local queue: {err}")))?;
        }
        Ok(reclaimed)
    }
}

/// Every service over the embedded adapters in `data_dir`, configured from `lookup`, reached
/// at `public_url`. Sync jobs and webhook deliveries are queued on the embedded queue, secrets
/// sealed under the local master key, and the demo provider is on unless turned off.
pub fn embedded_host(
    data_dir: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
    public_url: Option<String>,
) -> Result<EmbeddedHost, HostError> {
    let store = Arc::new(EmbeddedStore::open(data_dir)?);
    let job_queue = store.queue("jobs", JOB_MAX_RECEIVES);
    let delivery_queue = store.queue("deliveries", DELIVERY_MAX_RECEIVES);
    let dead_letters: Arc<dyn JobQueue> =
        Arc::new(store.queue(&delivery_queue.dead_letter_name(), DELIVERY_MAX_RECEIVES));
    let jobs: Arc<dyn JobQueue> = Arc::new(job_queue.clone());
    let deliveries: Arc<dyn JobQueue> = Arc::new(delivery_queue.clone());
    // Receivers under development often run on the same machine.
    let destinations = DestinationPolicy {
        allow_loopback: true,
        allow_private: allow_private_destinations(lookup),
    };
    let sender =
        HttpWebhookSender::new(destinations).map_err(|err| HostError::Config(err.to_string()))?;
    let services = Services::new(Wiring {
        ports: Ports::from_store(store, Arc::new(SystemClock)),
        jobs: jobs.clone(),
        deliveries: deliveries.clone(),
        dead_letters,
        vault: embedded_vault(data_dir)?,
        client: provider_client()?,
        sender: Arc::new(sender),
        providers: providers_from(
            lookup,
            true,
            SecretCache::new(Arc::new(NoSecretStore), Arc::new(SystemClock)),
        ),
        connect: connect_settings(lookup, public_url)?,
        sync: sync_settings(lookup)?,
        destinations,
    });
    Ok(EmbeddedHost {
        services,
        jobs,
        deliveries,
        queues: [job_queue, delivery_queue],
    })
}

/// Workspaces and keys in the embedded store in `data_dir` (for bootstrapping the root key).
pub fn embedded_tenancy(data_dir: &Path) -> Result<Tenancy, HostError> {
    let store = Arc::new(EmbeddedStore::open(data_dir)?);
    Ok(Tenancy::new(store.clone(), store, Arc::new(SystemClock)))
}

/// Envelope encryption under the master key file in `data_dir` (created 0600 on first use).
pub fn embedded_vault(data_dir: &Path) -> Result<Vault, HostError> {
    let keys = LocalKeyManager::open(data_dir)
        .map_err(|err| HostError::Config(format!("the master key file: {err}")))?;
    Ok(Vault::new(Arc::new(keys)))
}
