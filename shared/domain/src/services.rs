//! Every service over one set of ports: what the local host serves and works from (and what
//! tests drive). A Lambda function builds only the services its routes or queue need.

use crate::announce::delivery::Deliveries;
use crate::announce::destinations::DestinationPolicy;
use crate::announce::dispatch::Dispatcher;
use crate::announce::endpoints::WebhookEndpoints;
use crate::announce::events::Announcer;
use crate::announce::relay::Relay;
use crate::announce::webhooks::WebhookSender;
use crate::connect::{Callback, Connect, ConnectLinks, Disconnector};
use crate::connections::tokens::ConnectionTokens;
use crate::health::query::HealthReads;
use crate::inbound::push::Pushes;
use crate::inbound::subscriptions::WebhookSubscriptions;
use crate::kernel::queue::JobQueue;
use crate::kernel::secrets::Vault;
use crate::mobile::ingest::PhoneIngest;
use crate::mobile::sessions::UserSessions;
use crate::ports::Ports;
use crate::providers::ProviderRegistry;
use crate::providers::apps::WorkspaceApps;
use crate::providers::client::{
    Authorizer, DataClient, ProviderCalls, ProviderClient, PushReader, SubscriptionClient,
    TokenClient,
};
use crate::providers::credentials::ProviderCredentials;
use crate::providers::redirects::ConnectSettings;
use crate::sync::{JobStarter, SyncJobs, SyncRunner, SyncScheduler, SyncSettings};
use crate::tenancy::{Authenticator, Tenancy};
use crate::users::{UserDirectory, Users};
use crate::worker::JobWorker;
use std::sync::Arc;

/// The adapters and settings every service is built from.
pub struct Wiring {
    pub ports: Ports,
    /// Sync jobs, pushed data and subscriptions for the worker.
    pub jobs: Arc<dyn JobQueue>,
    /// Webhook deliveries, and where the hopeless ones go.
    pub deliveries: Arc<dyn JobQueue>,
    pub dead_letters: Arc<dyn JobQueue>,
    pub vault: Vault,
    pub client: Arc<dyn ProviderClient>,
    pub sender: Arc<dyn WebhookSender>,
    pub providers: ProviderRegistry,
    pub connect: ConnectSettings,
    pub sync: SyncSettings,
    pub destinations: DestinationPolicy,
}

/// Every service, wired once.
#[derive(Clone)]
pub struct Services {
    pub authenticator: Authenticator,
    pub tenancy: Tenancy,
    pub directory: UserDirectory,
    pub users: Users,
    pub announcer: Announcer,
    pub relay: Relay,
    pub webhook_endpoints: WebhookEndpoints,
    pub provider_credentials: ProviderCredentials,
    pub deliveries: Deliveries,
    pub providers: Arc<ProviderRegistry>,
    pub connect_links: ConnectLinks,
    pub connect: Connect,
    pub callback: Callback,
    pub disconnector: Disconnector,
    pub tokens: ConnectionTokens,
    pub subscriptions: WebhookSubscriptions,
    pub sync_jobs: SyncJobs,
    pub scheduler: SyncScheduler,
    pub worker: JobWorker,
    pub pushes: Pushes,
    pub health_reads: HealthReads,
    pub user_sessions: UserSessions,
    pub phone_ingest: PhoneIngest,
}

impl Services {
    pub fn new(wiring: Wiring) -> Self {
        let Wiring {
            ports,
            jobs,
            deliveries,
            dead_letters,
            vault,
            client,
            sender,
            providers,
            connect,
            sync,
            destinations,
        } = wiring;
        let clock = ports.clock.clone();
        let providers = Arc::new(providers);
        let connect = Arc::new(connect);
        let public_url = connect.public_url.clone();
        let apps = WorkspaceApps::new(ports.apps.clone(), vault.clone());
        let (registry, url) = (&providers, &public_url);
        let authorizing: ProviderCalls<dyn Authorizer> =
            ProviderCalls::new(client.clone(), registry.clone(), apps.clone(), url.clone());
        let token_calls: ProviderCalls<dyn TokenClient> =
            ProviderCalls::new(client.clone(), registry.clone(), apps.clone(), url.clone());
        let data_calls: ProviderCalls<dyn DataClient> =
            ProviderCalls::new(client.clone(), registry.clone(), apps.clone(), url.clone());
        let push_calls: ProviderCalls<dyn PushReader> =
            ProviderCalls::new(client.clone(), registry.clone(), apps.clone(), url.clone());
        let subscribing: ProviderCalls<dyn SubscriptionClient> =
            ProviderCalls::new(client, registry.clone(), apps, url.clone());
        let tenancy = Tenancy::new(
            ports.workspaces.clone(),
            ports.api_keys.clone(),
            clock.clone(),
        );
        let directory = UserDirectory::new(ports.users.clone(), ports.connections.clone());
        let announcer = Announcer::new(clock.clone());
        let dispatcher = Dispatcher::new(ports.webhooks.clone(), deliveries.clone(), clock.clone());
        let relay = Relay::new(
            dispatcher.clone(),
            ports.outbox.clone(),
            jobs.clone(),
            clock.clone(),
        );
        let tokens = ConnectionTokens::new(
            ports.connections.clone(),
            vault.clone(),
            token_calls.clone(),
            announcer.clone(),
            clock.clone(),
        );
        let subscriptions = WebhookSubscriptions::new(
            directory.clone(),
            ports.connections.clone(),
            tokens.clone(),
            subscribing.clone(),
            connect.clone(),
            clock.clone(),
        );
        let starter = JobStarter::new(ports.jobs.clone(), clock.clone());
        let sync_jobs = SyncJobs::new(
            directory.clone(),
            ports.jobs.clone(),
            starter.clone(),
            clock.clone(),
        );
        let scheduler = SyncScheduler::new(
            ports.connections.clone(),
            providers.clone(),
            sync.poll_interval,
            starter.clone(),
            clock.clone(),
        );
        let runner = SyncRunner::new(
            ports.jobs.clone(),
            ports.outbox.clone(),
            ports.connections.clone(),
            ports.health.clone(),
            ports.calls.clone(),
            data_calls.clone(),
            tokens.clone(),
            announcer.clone(),
            sync.clone(),
            clock.clone(),
        );
        Self {
            authenticator: Authenticator::new(ports.api_keys.clone(), clock.clone()),
            users: Users::new(
                directory.clone(),
                ports.users.clone(),
                announcer.clone(),
                clock.clone(),
            ),
            provider_credentials: ProviderCredentials::new(
                ports.apps.clone(),
                vault.clone(),
                connect.clone(),
                clock.clone(),
            ),
            webhook_endpoints: WebhookEndpoints::new(
                ports.webhooks.clone(),
                vault.clone(),
                destinations,
                dispatcher,
                clock.clone(),
            ),
            deliveries: Deliveries::new(
                ports.webhooks.clone(),
                sender,
                vault.clone(),
                deliveries,
                dead_letters,
                clock.clone(),
            ),
            connect_links: ConnectLinks::new(
                directory.clone(),
                ports.states.clone(),
                providers.clone(),
                ports.apps.clone(),
                connect.clone(),
                clock.clone(),
            ),
            connect: Connect::new(
                ports.states.clone(),
                authorizing.clone(),
                connect.clone(),
                clock.clone(),
            ),
            callback: Callback::new(
                directory.clone(),
                ports.states.clone(),
                ports.connections.clone(),
                token_calls.clone(),
                vault,
                announcer.clone(),
                subscriptions.clone(),
                starter.clone(),
                sync.sync_on_connect,
                connect,
                clock.clone(),
            ),
            disconnector: Disconnector::new(
                directory.clone(),
                ports.connections.clone(),
                tokens.clone(),
                token_calls.clone(),
                subscriptions.clone(),
                announcer.clone(),
                clock.clone(),
            ),
            worker: JobWorker::new(runner, subscriptions.clone()),
            pushes: Pushes::new(
                push_calls,
                ports.connections.clone(),
                ports.calls.clone(),
                starter,
                jobs,
                clock.clone(),
            ),
            health_reads: HealthReads::new(
                directory.lookup(),
                ports.connections.clone(),
                ports.health.clone(),
                clock.clone(),
            ),
            user_sessions: UserSessions::new(
                directory.clone(),
                ports.states.clone(),
                ports.sessions.clone(),
                clock.clone(),
            ),
            phone_ingest: PhoneIngest::new(
                directory.clone(),
                ports.connections.clone(),
                ports.health.clone(),
                announcer.clone(),
                clock,
            ),
            tenancy,
            directory,
            announcer,
            relay,
            providers,
            tokens,
            subscriptions,
            sync_jobs,
            scheduler,
        }
    }
}
