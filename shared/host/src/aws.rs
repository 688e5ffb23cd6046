//! The AWS host: a Lambda function reads its resources from the environment `template.yaml`
//! gives it, builds its SDK clients once at init (no network I/O), and fails fast, naming the
//! variable, when something it needs is missing.

use crate::HostError;
use crate::iam::{self, Grant, Resource};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
#[cfg(feature = "http-client")]
use vitasync_aws::dynamo::keys::ACCOUNT_INDEX;
use vitasync_aws::dynamo::keys::SYNC_DUE_INDEX;
use vitasync_aws::{
    AwsSettings, DynamoStore, KmsKeyManager, SecretsManagerReader, SqsQueue, sdk_config,
};
#[cfg(feature = "http-client")]
use vitasync_domain::announce::delivery::Deliveries;
use vitasync_domain::announce::destinations::DestinationPolicy;
use vitasync_domain::announce::dispatch::Dispatcher;
use vitasync_domain::announce::endpoints::WebhookEndpoints;
use vitasync_domain::announce::events::Announcer;
use vitasync_domain::announce::relay::Relay;
#[cfg(feature = "consent")]
use vitasync_domain::connect::Connect;
use vitasync_domain::connect::ConnectLinks;
#[cfg(feature = "http-client")]
use vitasync_domain::connect::{Callback, Disconnector};
#[cfg(feature = "http-client")]
use vitasync_domain::connections::tokens::ConnectionTokens;
use vitasync_domain::health::query::HealthReads;
#[cfg(feature = "http-client")]
use vitasync_domain::inbound::push::Pushes;
#[cfg(feature = "http-client")]
use vitasync_domain::inbound::subscriptions::WebhookSubscriptions;
use vitasync_domain::kernel::secrets::Vault;
use vitasync_domain::kernel::time::SystemClock;
use vitasync_domain::mobile::ingest::PhoneIngest;
use vitasync_domain::mobile::sessions::UserSessions;
use vitasync_domain::providers::ProviderRegistry;
#[cfg(feature = "consent")]
use vitasync_domain::providers::apps::WorkspaceApps;
#[cfg(feature = "consent")]
use vitasync_domain::providers::client::{Authorizer, ProviderCalls};
#[cfg(feature = "http-client")]
use vitasync_domain::providers::client::{DataClient, PushReader, SubscriptionClient, TokenClient};
use vitasync_domain::providers::credentials::ProviderCredentials;
use vitasync_domain::providers::redirects::ConnectSettings;
use vitasync_domain::providers::secrets::SecretCache;
#[cfg(feature = "http-client")]
use vitasync_domain::sync::SyncRunner;
use vitasync_domain::sync::{JobStarter, SyncJobs, SyncScheduler};
use vitasync_domain::tenancy::user::UserLookup;
use vitasync_domain::tenancy::{Authenticator, Tenancy};
use vitasync_domain::users::{UserDirectory, Users};
#[cfg(feature = "http-client")]
use vitasync_domain::worker::JobWorker;

/// The DynamoDB table holding every item.
pub const TABLE: &str = "VITASYNC_TABLE";
/// The KMS key that makes data keys for secrets.
pub const KMS_KEY_ID: &str = "VITASYNC_KMS_KEY_ID";
/// The job queue and its dead-letter queue.
pub const JOBS_QUEUE_URL: &str = "VITASYNC_JOBS_QUEUE_URL";
pub const JOBS_DEAD_LETTER_URL: &str = "VITASYNC_JOBS_DEAD_LETTER_URL";
/// The outbound-webhook delivery queue and its dead-letter queue.
pub const DELIVERIES_QUEUE_URL: &str = "VITASYNC_DELIVERIES_QUEUE_URL";
pub const DELIVERIES_DEAD_LETTER_URL: &str = "VITASYNC_DELIVERIES_DEAD_LETTER_URL";
/// The deployment's public base URL (the API's), for links VitaSync hands out.
pub const PUBLIC_URL: &str = "VITASYNC_PUBLIC_URL";
/// Sends every AWS call to another endpoint (an emulator). The SDK's own `AWS_ENDPOINT_URL`
/// works too.
pub const ENDPOINT: &str = "VITASYNC_AWS_ENDPOINT";

/// Provider tokens are sealed for their connection (`connection:<user>/<provider>/<account>`).
#[cfg(feature = "http-client")]
const PROVIDER_TOKENS: Resource = Resource::SecretsKey {
    owner: "connection:*",
};
/// A workspace's own provider app secrets are sealed for the app (`app:<provider>/<id>`).
const WORKSPACE_APP_SECRETS: Resource = Resource::SecretsKey { owner: "app:*" };
/// Webhook signing secrets are sealed for their endpoint (`webhook:<id>`).
const WEBHOOK_SECRETS: Resource = Resource::SecretsKey { owner: "webhook:*" };

/// Where variables come from: the process environment, or a map in tests.
type Lookup = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// A function's AWS environment, read once at init.
pub struct AwsHost {
    config: aws_config::SdkConfig,
    lookup: Lookup,
    /// What the services built so far need of IAM.
    grants: Mutex<BTreeSet<Grant>>,
    /// Built once and shared by every service of the function.
    store: OnceLock<Arc<DynamoStore>>,
    registry: OnceLock<Arc<ProviderRegistry>>,
    vault: OnceLock<Vault>,
    jobs: OnceLock<Arc<SqsQueue>>,
    deliveries: OnceLock<Arc<SqsQueue>>,
    connect: OnceLock<Arc<ConnectSettings>>,
    #[cfg(feature = "http-client")]
    provider_client: OnceLock<Arc<vitasync_providers::HttpProviderClient>>,
}

/// The value in `cell`, built by `build` the first time it is asked for.
fn once<T: Clone>(
    cell: &OnceLock<T>,
    build: impl FnOnce() -> Result<T, HostError>,
) -> Result<T, HostError> {
    if let Some(value) = cell.get() {
        return Ok(value.clone());
    }
    let value = build()?;
    Ok(cell.get_or_init(|| value).clone())
}

impl AwsHost {
    /// From the process environment.
    pub async fn from_env() -> Result<Self, HostError> {
        Self::from_lookup(|name| std::env::var(name).ok()).await
    }

    /// From any source of variables (tests pass a map).
    pub async fn from_lookup(
        lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Result<Self, HostError> {
        let lookup = move |name: &str| lookup(name).filter(|value| !value.is_empty());
        let settings = AwsSettings {
            endpoint_url: lookup(ENDPOINT),
            region: lookup("AWS_REGION"),
        };
        let config = sdk_config(&settings).await;
        if config.region().is_none() {
            return Err(HostError::Config(
                "AWS_REGION is not set (Lambda sets it; elsewhere export it)".into(),
            ));
        }
        Ok(Self {
            config,
            lookup: Box::new(lookup),
            grants: Mutex::default(),
            store: OnceLock::new(),
            registry: OnceLock::new(),
            vault: OnceLock::new(),
            jobs: OnceLock::new(),
            deliveries: OnceLock::new(),
            connect: OnceLock::new(),
            #[cfg(feature = "http-client")]
            provider_client: OnceLock::new(),
        })
    }

    fn required(&self, name: &str, what: &str) -> Result<String, HostError> {
        (self.lookup)(name)
            .ok_or_else(|| HostError::Config(format!("{name} is not set: it names {what}")))
    }

    /// Records what a service being built needs of IAM.
    fn needs(&self, grants: impl IntoIterator<Item = Grant>) {
        self.grants
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(grants);
    }

    /// The IAM permissions of every service built on this host so far: a function's policy.
    pub fn grants(&self) -> BTreeSet<Grant> {
        self.grants
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn store(&self) -> Result<Arc<DynamoStore>, HostError> {
        once(&self.store, || {
            let table = self.required(TABLE, "the DynamoDB table (template.yaml sets it)")?;
            Ok(Arc::new(DynamoStore::new(
                aws_sdk_dynamodb::Client::new(&self.config),
                table,
            )))
        })
    }

    /// Who a caller is: an API key looked up by its hash.
    pub fn authenticator(&self) -> Result<Authenticator, HostError> {
        self.needs(iam::table(&[iam::GET]));
        Ok(Authenticator::new(self.store()?, Arc::new(SystemClock)))
    }

    /// Workspaces and API keys: created, listed, rotated, deleted.
    pub fn tenancy(&self) -> Result<Tenancy, HostError> {
        self.needs(iam::table(&[iam::GET, iam::QUERY, iam::PUT, iam::DELETE]));
        let store = self.store()?;
        Ok(Tenancy::new(store.clone(), store, Arc::new(SystemClock)))
    }

    /// Users and their connections, read only.
    pub fn user_directory(&self) -> Result<UserDirectory, HostError> {
        self.needs(iam::table(&[iam::GET, iam::QUERY]));
        let store = self.store()?;
        Ok(UserDirectory::new(store.clone(), store))
    }

    /// Users changed, each change announced; deleting one purges its partition and sessions.
    pub fn users(&self) -> Result<Users, HostError> {
        self.needs(iam::table(&[
            iam::GET,
            iam::QUERY,
            iam::PUT,
            iam::DELETE,
            iam::BATCH_WRITE,
        ]));
        Ok(Users::new(
            self.user_directory()?,
            self.store()?,
            self.announcer()?,
            Arc::new(SystemClock),
        ))
    }

    /// Users' health data, read (and erased).
    pub fn health_reads(&self) -> Result<HealthReads, HostError> {
        self.needs(iam::table(&[iam::QUERY, iam::BATCH_GET, iam::BATCH_WRITE]));
        let store = self.store()?;
        Ok(HealthReads::new(
            UserLookup::new(store.clone()),
            store.clone(),
            store,
            Arc::new(SystemClock),
        ))
    }

    /// Users of the developer's app signed in on their phones: sign-in tokens (states) and
    /// sessions.
    pub fn user_sessions(&self) -> Result<UserSessions, HostError> {
        self.needs(iam::table(&[iam::GET, iam::PUT, iam::DELETE]));
        let store = self.store()?;
        Ok(UserSessions::new(
            self.user_directory()?,
            store.clone(),
            store,
            Arc::new(SystemClock),
        ))
    }

    /// What phones push: the phone's connection made on first use, the data stored and
    /// announced.
    pub fn phone_ingest(&self) -> Result<PhoneIngest, HostError> {
        // UpdateItem: a push moves its connection's last sync forward.
        self.needs(iam::table(&[
            iam::GET,
            iam::QUERY,
            iam::PUT,
            iam::UPDATE,
            iam::BATCH_GET,
            iam::BATCH_WRITE,
        ]));
        let store = self.store()?;
        Ok(PhoneIngest::new(
            self.user_directory()?,
            store.clone(),
            store,
            self.announcer()?,
            Arc::new(SystemClock),
        ))
    }

    /// Events announced: the workspace's endpoints read, one delivery stored and queued on SQS
    /// for each.
    pub fn announcer(&self) -> Result<Announcer, HostError> {
        Ok(Announcer::new(Arc::new(SystemClock)))
    }

    /// Deliveries stored and queued for the deliver function.
    fn dispatcher(&self) -> Result<Dispatcher, HostError> {
        self.needs(iam::table(&[iam::GET, iam::QUERY, iam::PUT]));
        self.needs([iam::on(iam::SEND, Resource::DeliveriesQueue)]);
        Ok(Dispatcher::new(
            self.store()?,
            self.deliveries_queue()?,
            Arc::new(SystemClock),
        ))
    }

    /// The relay function's work: outbox entries from the table's stream (and the sweeper's
    /// overdue ones) fanned out to deliveries or queued as jobs, then removed.
    pub fn relay(&self) -> Result<Relay, HostError> {
        self.needs(iam::table(&[iam::QUERY, iam::DELETE]));
        self.needs([
            iam::on(iam::SEND, Resource::JobsQueue),
            iam::on(iam::READ_STREAM, Resource::TableStream),
        ]);
        Ok(Relay::new(
            self.dispatcher()?,
            self.store()?,
            self.jobs_queue()?,
            Arc::new(SystemClock),
        ))
    }

    /// Webhook endpoints (admin): secrets sealed with KMS, URLs held to the public-only policy.
    pub fn webhook_endpoints(&self) -> Result<WebhookEndpoints, HostError> {
        self.needs(iam::table(&[
            iam::GET,
            iam::QUERY,
            iam::PUT,
            iam::DELETE,
            iam::BATCH_WRITE,
        ]));
        self.needs([iam::on(iam::SEAL, WEBHOOK_SECRETS)]);
        Ok(WebhookEndpoints::new(
            self.store()?,
            self.vault()?,
            self.destinations(),
            self.dispatcher()?,
            Arc::new(SystemClock),
        ))
    }

    /// Workspaces' own provider apps: their secrets sealed for the app, never opened here.
    pub fn provider_credentials(&self) -> Result<ProviderCredentials, HostError> {
        self.needs(iam::table(&[iam::GET, iam::PUT, iam::DELETE]));
        self.needs([iam::on(iam::SEAL, WORKSPACE_APP_SECRETS)]);
        Ok(ProviderCredentials::new(
            self.store()?,
            self.vault()?,
            self.connect_settings()?,
            Arc::new(SystemClock),
        ))
    }

    /// The deliver function's work: signing secrets opened, receivers called, retries queued,
    /// the hopeless put on the dead-letter queue. It polls the delivery queue.
    #[cfg(feature = "http-client")]
    pub fn deliveries(&self) -> Result<Deliveries, HostError> {
        self.needs(iam::table(&[iam::GET, iam::PUT]));
        self.needs([
            iam::on(iam::OPEN, WEBHOOK_SECRETS),
            iam::on(iam::SEND, Resource::DeliveriesQueue),
            iam::on(iam::SEND, Resource::DeliveriesDeadLetterQueue),
            iam::on(iam::POLL, Resource::DeliveriesQueue),
        ]);
        let sender = vitasync_providers::HttpWebhookSender::new(self.destinations())
            .map_err(|err| HostError::Config(err.to_string()))?;
        let dead_letters = self.required(
            DELIVERIES_DEAD_LETTER_URL,
            "the webhook dead-letter queue (template.yaml sets it)",
        )?;
        Ok(Deliveries::new(
            self.store()?,
            Arc::new(sender),
            self.vault()?,
            self.deliveries_queue()?,
            Arc::new(SqsQueue::new(
                aws_sdk_sqs::Client::new(&self.config),
                dead_letters,
                None,
            )),
            Arc::new(SystemClock),
        ))
    }

    /// Where webhook endpoints may be: public addresses only, private ranges where the
    /// operator allows them (`VITASYNC_WEBHOOKS_ALLOW_PRIVATE`); never loopback.
    pub fn destinations(&self) -> DestinationPolicy {
        DestinationPolicy {
            allow_loopback: false,
            allow_private: crate::allow_private_destinations(&|name| (self.lookup)(name)),
        }
    }

    /// Where browsers and providers reach this deployment (`VITASYNC_PUBLIC_URL`,
    /// `VITASYNC_WEBHOOK_URL`) and where browsers may be sent back to.
    pub fn connect_settings(&self) -> Result<Arc<ConnectSettings>, HostError> {
        once(&self.connect, || {
            crate::connect_settings(&self.lookup, (self.lookup)(PUBLIC_URL)).map(Arc::new)
        })
    }

    /// The enabled providers and the part of the HTTP client a service calls (a function links
    /// only the capabilities its services take).
    #[cfg(feature = "http-client")]
    pub fn provider_calls<C: ?Sized>(
        &self,
        capability: impl FnOnce(Arc<vitasync_providers::HttpProviderClient>) -> Arc<C>,
    ) -> Result<ProviderCalls<C>, HostError> {
        // Calls made with the app's credentials read its secrets: the deployment's from
        // Secrets Manager, a workspace's own sealed in the table.
        self.needs([
            iam::on(iam::READ_SECRET, iam::Resource::ProviderAppSecrets),
            iam::on(iam::OPEN, WORKSPACE_APP_SECRETS),
        ]);
        self.needs(iam::table(&[iam::GET]));
        let client = once(&self.provider_client, || {
            vitasync_providers::HttpProviderClient::new()
                .map(Arc::new)
                .map_err(|err| HostError::Config(err.to_string()))
        })?;
        Ok(ProviderCalls::new(
            capability(client),
            self.provider_registry()?,
            WorkspaceApps::new(self.store()?, self.vault()?),
            (self.lookup)(PUBLIC_URL),
        ))
    }

    /// Connect links and widget sessions for a workspace's users (states).
    pub fn connect_links(&self) -> Result<ConnectLinks, HostError> {
        // Reads the workspace's own apps (a Query of its partition).
        self.needs(iam::table(&[iam::PUT, iam::QUERY]));
        Ok(ConnectLinks::new(
            self.user_directory()?,
            self.store()?,
            self.provider_registry()?,
            self.store()?,
            self.connect_settings()?,
            Arc::new(SystemClock),
        ))
    }

    /// The widget and the redirect to a provider's consent screen: a link's state read or
    /// used up, the authorization's stored.
    #[cfg(feature = "consent")]
    pub fn connect(&self) -> Result<Connect, HostError> {
        self.needs(iam::table(&[iam::GET, iam::PUT, iam::DELETE]));
        let authorizer: Arc<dyn Authorizer> = Arc::new(vitasync_providers::OAuthAuthorizer);
        Ok(Connect::new(
            self.store()?,
            ProviderCalls::new(
                authorizer,
                self.provider_registry()?,
                WorkspaceApps::consent_only(self.store()?),
                (self.lookup)(PUBLIC_URL),
            ),
            self.connect_settings()?,
            Arc::new(SystemClock),
        ))
    }

    /// Connections' provider tokens, sealed under KMS data keys and refreshed when due (a
    /// refused refresh is announced).
    #[cfg(feature = "http-client")]
    pub fn connection_tokens(&self) -> Result<ConnectionTokens, HostError> {
        self.needs(iam::table(&[iam::GET, iam::PUT]));
        self.needs([
            iam::on(iam::SEAL, PROVIDER_TOKENS),
            iam::on(iam::OPEN, PROVIDER_TOKENS),
        ]);
        Ok(ConnectionTokens::new(
            self.store()?,
            self.vault()?,
            self.provider_calls(|client| client as Arc<dyn TokenClient>)?,
            self.announcer()?,
            Arc::new(SystemClock),
        ))
    }

    /// Providers' webhook subscriptions; a new connection's is queued through the outbox.
    #[cfg(feature = "http-client")]
    pub fn webhook_subscriptions(&self) -> Result<WebhookSubscriptions, HostError> {
        self.needs(iam::table(&[iam::GET]));
        Ok(WebhookSubscriptions::new(
            self.user_directory()?,
            self.store()?,
            self.connection_tokens()?,
            self.provider_calls(|client| client as Arc<dyn SubscriptionClient>)?,
            self.connect_settings()?,
            Arc::new(SystemClock),
        ))
    }

    /// The provider's redirect back: the authorization's state used up, the code exchanged,
    /// the tokens sealed, the connection stored, its first backfill queued.
    #[cfg(feature = "http-client")]
    pub fn callback(&self) -> Result<Callback, HostError> {
        self.needs(iam::table(&[iam::GET, iam::PUT, iam::DELETE]));
        self.needs([iam::on(iam::SEAL, PROVIDER_TOKENS)]);
        let settings = crate::sync_settings(&self.lookup)?;
        Ok(Callback::new(
            self.user_directory()?,
            self.store()?,
            self.store()?,
            self.provider_calls(|client| client as Arc<dyn TokenClient>)?,
            self.vault()?,
            self.announcer()?,
            self.webhook_subscriptions()?,
            self.job_starter()?,
            settings.sync_on_connect,
            self.connect_settings()?,
            Arc::new(SystemClock),
        ))
    }

    /// Ending connections: revoked and unsubscribed at the provider, tokens deleted.
    #[cfg(feature = "http-client")]
    pub fn disconnector(&self) -> Result<Disconnector, HostError> {
        self.needs(iam::table(&[iam::GET, iam::PUT, iam::DELETE]));
        Ok(Disconnector::new(
            self.user_directory()?,
            self.store()?,
            self.connection_tokens()?,
            self.provider_calls(|client| client as Arc<dyn TokenClient>)?,
            self.webhook_subscriptions()?,
            self.announcer()?,
            Arc::new(SystemClock),
        ))
    }

    /// Providers' pushes: connections found by account, repeats counted away, work queued.
    #[cfg(feature = "http-client")]
    pub fn pushes(&self) -> Result<Pushes, HostError> {
        self.needs(iam::table(&[iam::UPDATE]));
        self.needs([
            iam::on(iam::QUERY, Resource::Index(ACCOUNT_INDEX)),
            iam::on(iam::SEND, Resource::JobsQueue),
        ]);
        let store = self.store()?;
        Ok(Pushes::new(
            self.provider_calls(|client| client as Arc<dyn PushReader>)?,
            store.clone(),
            store,
            self.job_starter()?,
            self.jobs_queue()?,
            Arc::new(SystemClock),
        ))
    }

    /// The sync worker: jobs run against providers (data stored, connections updated or
    /// disconnected, calls counted against rate limits), pushed data stored, subscriptions
    /// made. It polls the job queue.
    #[cfg(feature = "http-client")]
    pub fn job_worker(&self) -> Result<JobWorker, HostError> {
        self.needs(iam::table(&[
            iam::GET,
            iam::QUERY,
            iam::PUT,
            iam::DELETE,
            iam::UPDATE,
            iam::BATCH_GET,
            iam::BATCH_WRITE,
        ]));
        self.needs([
            iam::on(iam::QUERY, Resource::Index(ACCOUNT_INDEX)),
            iam::on(iam::SEND, Resource::JobsQueue),
            iam::on(iam::POLL, Resource::JobsQueue),
        ]);
        let store = self.store()?;
        let runner = SyncRunner::new(
            store.clone(),
            store.clone(),
            store.clone(),
            store.clone(),
            store,
            self.provider_calls(|client| client as Arc<dyn DataClient>)?,
            self.connection_tokens()?,
            self.announcer()?,
            crate::sync_settings(&self.lookup)?,
            Arc::new(SystemClock),
        );
        Ok(JobWorker::new(runner, self.webhook_subscriptions()?))
    }

    /// Starting sync jobs: one at a time per connection (a guard item in a transaction),
    /// their messages on SQS.
    pub fn job_starter(&self) -> Result<JobStarter, HostError> {
        self.needs(iam::table(&[iam::GET, iam::PUT, iam::DELETE]));
        Ok(JobStarter::new(self.store()?, Arc::new(SystemClock)))
    }

    /// Sync requests, and reading their jobs.
    pub fn sync_jobs(&self) -> Result<SyncJobs, HostError> {
        self.needs(iam::table(&[iam::GET, iam::QUERY]));
        Ok(SyncJobs::new(
            self.user_directory()?,
            self.store()?,
            self.job_starter()?,
            Arc::new(SystemClock),
        ))
    }

    /// The scheduler's round: connections due found on their index, a job started for each.
    pub fn sync_scheduler(&self) -> Result<SyncScheduler, HostError> {
        self.needs([iam::on(iam::QUERY, Resource::Index(SYNC_DUE_INDEX))]);
        Ok(SyncScheduler::new(
            self.store()?,
            self.provider_registry()?,
            crate::sync_settings(&self.lookup)?.poll_interval,
            self.job_starter()?,
            Arc::new(SystemClock),
        ))
    }

    /// The providers this deployment connects to. The demo provider is off on AWS unless the
    /// deployment turns it on.
    pub fn providers(&self) -> ProviderRegistry {
        let secrets = SecretsManagerReader::new(aws_sdk_secretsmanager::Client::new(&self.config));
        let secrets = SecretCache::new(Arc::new(secrets), Arc::new(SystemClock));
        crate::providers_from(&self.lookup, false, secrets)
    }

    /// The providers this deployment connects to, shared.
    pub fn provider_registry(&self) -> Result<Arc<ProviderRegistry>, HostError> {
        once(&self.registry, || Ok(Arc::new(self.providers())))
    }

    /// Envelope encryption with data keys from KMS (what a service may seal or open is
    /// declared by the service).
    fn vault(&self) -> Result<Vault, HostError> {
        once(&self.vault, || {
            let key = self.required(
                KMS_KEY_ID,
                "the KMS key for secrets (template.yaml sets it)",
            )?;
            Ok(Vault::new(Arc::new(KmsKeyManager::new(
                aws_sdk_kms::Client::new(&self.config),
                key,
            ))))
        })
    }

    /// The job queue on SQS.
    fn jobs_queue(&self) -> Result<Arc<SqsQueue>, HostError> {
        once(&self.jobs, || {
            let url = self.required(JOBS_QUEUE_URL, "the SQS job queue (template.yaml sets it)")?;
            Ok(Arc::new(SqsQueue::new(
                aws_sdk_sqs::Client::new(&self.config),
                url,
                (self.lookup)(JOBS_DEAD_LETTER_URL),
            )))
        })
    }

    /// The webhook delivery queue on SQS.
    fn deliveries_queue(&self) -> Result<Arc<SqsQueue>, HostError> {
        once(&self.deliveries, || {
            let url = self.required(
                DELIVERIES_QUEUE_URL,
                "the SQS webhook delivery queue (template.yaml sets it)",
            )?;
            Ok(Arc::new(SqsQueue::new(
                aws_sdk_sqs::Client::new(&self.config),
                url,
                (self.lookup)(DELIVERIES_DEAD_LETTER_URL),
            )))
        })
    }
}
