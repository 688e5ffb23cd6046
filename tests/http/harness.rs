//! The use cases over one host's real adapters (the embedded store, or DynamoDB, KMS and SQS in
//! the AWS emulator), with a clock the test moves and a fake provider: for behaviour that
//! depends on time or on what a provider answers.

use crate::oauth_flow::query;
use async_trait::async_trait;
use secrecy::SecretString;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use vitasync_aws::{DynamoStore, KmsKeyManager, SecretsManagerReader, SqsQueue};
use vitasync_contract::{emulator, fixtures};
use vitasync_domain::announce::destinations::DestinationPolicy;
use vitasync_domain::connect::{AuthorizeParams, CallbackParams, ConnectLinkRequest};
use vitasync_domain::connections::Connection;
use vitasync_domain::kernel::queue::{JobQueue, Outgoing, QueueError, Received};
use vitasync_domain::kernel::secrets::Vault;
use vitasync_domain::kernel::time::{Clock, Timestamp};
use vitasync_domain::ports::Ports;
use vitasync_domain::providers::ProviderId;
use vitasync_domain::providers::secrets::{NoSecretStore, SecretCache, SecretReader};
use vitasync_domain::services::{Services, Wiring};
use vitasync_domain::sync::SyncSettings;
use vitasync_domain::tenancy::api_key::Principal;
use vitasync_domain::tenancy::user::UserDraft;
use vitasync_embedded::EmbeddedStore;
use vitasync_providers::HttpWebhookSender;
use vitasync_tests::fake_provider::FakeProvider;
use vitasync_tests::{ROOT_KEY, browser_client};

pub const BASE: &str = "http://vitasync.test";

/// The local host's policy: receivers on this machine are allowed.
const LOCAL_DESTINATIONS: DestinationPolicy = DestinationPolicy {
    allow_loopback: true,
    allow_private: false,
};

pub struct TestClock(Mutex<Timestamp>);

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap()
    }
}

impl TestClock {
    pub fn advance(&self, seconds: i64) {
        let mut now = self.0.lock().unwrap();
        *now = now.plus_seconds(seconds);
    }
}

/// Builds the harness's services again, with other sync settings or another job queue.
type Rewire = Box<dyn Fn(SyncSettings, Arc<dyn JobQueue>) -> Services + Send + Sync>;

pub struct Harness {
    pub services: Services,
    rewire: Rewire,
    pub clock: Arc<TestClock>,
    pub caller: Principal,
    pub user: String,
    pub fake: FakeProvider,
    /// The DynamoDB table, on the AWS host.
    pub table: Option<String>,
    /// On the AWS host, the Secrets Manager secret behind each secret variable
    /// (`WITHINGS_CLIENT_SECRET` → its secret's name).
    pub secret_names: BTreeMap<String, String>,
    /// The adapters under the use cases, to look at what they stored.
    pub ports: Ports,
    /// The host's job queue, recording what is sent to it.
    pub queue: Arc<RecordingQueue>,
    /// The host's webhook delivery queue (and, through it, its dead letters).
    pub deliveries: Arc<RecordingQueue>,
    /// Received messages already handed to the deliver worker by `deliver_queued`.
    delivered: Mutex<usize>,
    _dir: tempfile::TempDir,
}

/// Which host's adapters the use cases run on.
#[derive(Clone, Copy)]
pub enum Host {
    Embedded,
    /// DynamoDB and KMS in the AWS emulator.
    Aws,
}

pub async fn harness(provider: ProviderId) -> Harness {
    harness_on(Host::Embedded, provider).await
}

pub async fn harness_on(host: Host, provider: ProviderId) -> Harness {
    harness_with(host, provider, &[]).await
}

/// A harness whose environment also has `extra` (webhook secrets, say).
pub async fn harness_with(host: Host, provider: ProviderId, extra: &[(&str, &str)]) -> Harness {
    let fake = FakeProvider::start(provider).await;
    let mut vars: BTreeMap<String, String> = fake.env();
    vars.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    // The AWS host reads provider app secrets by name, from the emulator's Secrets Manager.
    let mut secret_names = BTreeMap::new();
    let secrets: Arc<dyn SecretReader> = match host {
        Host::Embedded => Arc::new(NoSecretStore),
        Host::Aws => {
            let secret_vars: Vec<(String, String)> = vars
                .iter()
                .filter(|(name, _)| {
                    name.ends_with("_SECRET")
                        || name.ends_with("_TOKEN")
                        || name.ends_with("_SUBSCRIPTION_KEY")
                })
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect();
            for (name, value) in secret_vars {
                vars.remove(&name);
                let secret = fixtures::new_secret(&value).await;
                secret_names.insert(name.clone(), secret.clone());
                vars.insert(format!("{name}_NAME"), secret);
            }
            Arc::new(SecretsManagerReader::new(fixtures::secrets_client().await))
        }
    };
    let lookup = move |name: &str| vars.get(name).cloned();
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(TestClock(Mutex::new(
        Timestamp::parse("2026-11-22T10:00:00Z").unwrap(),
    )));
    let mut table_name = None;
    type Queues = (Arc<dyn JobQueue>, Arc<dyn JobQueue>, Arc<dyn JobQueue>);
    let (ports, vault, (queue, deliveries, dead_letters)): (_, _, Queues) = match host {
        Host::Embedded => {
            let store = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
            let queue = Arc::new(store.queue("jobs", 5));
            let deliveries = store.queue("deliveries", 5);
            let dead_letters = Arc::new(store.queue(&deliveries.dead_letter_name(), 5));
            (
                Ports::from_store(store, clock.clone()),
                vitasync_local::embedded_vault(dir.path()).unwrap(),
                (queue, Arc::new(deliveries), dead_letters),
            )
        }
        Host::Aws => {
            let config = emulator::sdk_config().await;
            let table = fixtures::new_table().await;
            table_name = Some(table.clone());
            let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), table);
            let keys = KmsKeyManager::new(
                aws_sdk_kms::Client::new(&config),
                fixtures::new_kms_key().await,
            );
            let (client, url, dead_letter_url) = fixtures::new_queue().await;
            let deliveries = SqsQueue::new(client.clone(), url, Some(dead_letter_url.clone()));
            let dead_letters = SqsQueue::new(client, dead_letter_url, None);
            (
                Ports::from_store(Arc::new(store), clock.clone()),
                Vault::new(Arc::new(keys)),
                (
                    Arc::new(fixtures::sqs_queue().await),
                    Arc::new(deliveries),
                    Arc::new(dead_letters),
                ),
            )
        }
    };
    let queue = Arc::new(RecordingQueue {
        inner: queue,
        sent: Mutex::default(),
    });
    let deliveries = Arc::new(RecordingQueue {
        inner: deliveries,
        sent: Mutex::default(),
    });
    let rewire: Rewire = {
        let (ports, deliveries, clock) = (ports.clone(), deliveries.clone(), clock.clone());
        Box::new(move |sync, jobs| {
            Services::new(Wiring {
                ports: ports.clone(),
                jobs,
                deliveries: deliveries.clone(),
                dead_letters: dead_letters.clone(),
                vault: vault.clone(),
                client: vitasync_host::provider_client().unwrap(),
                sender: Arc::new(HttpWebhookSender::new(LOCAL_DESTINATIONS).unwrap()),
                providers: vitasync_host::providers_from(
                    &lookup,
                    false,
                    SecretCache::new(secrets.clone(), clock.clone()),
                ),
                connect: vitasync_host::connect_settings(&lookup, Some(BASE.into())).unwrap(),
                sync,
                destinations: LOCAL_DESTINATIONS,
            })
        })
    };
    // These tests sync explicitly, window by window.
    let services = rewire(
        SyncSettings {
            sync_on_connect: false,
            ..SyncSettings::default()
        },
        queue.clone(),
    );
    services
        .tenancy
        .bootstrap(Some(&SecretString::from(ROOT_KEY)))
        .await
        .unwrap();
    let caller = services
        .authenticator
        .authenticate(Some(ROOT_KEY))
        .await
        .unwrap();
    let draft = UserDraft {
        external_id: "wearer".into(),
        ..UserDraft::default()
    };
    let (user, _) = services.users.upsert_user(&caller, draft).await.unwrap();
    Harness {
        services,
        rewire,
        clock,
        caller,
        user: user.id.to_string(),
        fake,
        table: table_name,
        secret_names,
        queue,
        deliveries,
        delivered: Mutex::new(0),
        ports,
        _dir: dir,
    }
}

impl Harness {
    /// The same adapters' services with `sync` settings and `jobs` as the job queue.
    pub fn rewired(&self, sync: SyncSettings, jobs: Arc<dyn JobQueue>) -> Services {
        (self.rewire)(sync, jobs)
    }

    /// The harness's user signed in on their phone: their tokens, and who they are then.
    pub async fn signed_in(&self) -> (vitasync_domain::mobile::sessions::TokenSet, Principal) {
        let minted = self
            .services
            .user_sessions
            .create_sign_in_token(&self.caller, &self.user)
            .await
            .unwrap();
        let tokens = self
            .services
            .user_sessions
            .exchange_sign_in_token(&minted.token)
            .await
            .unwrap();
        let me = self
            .services
            .user_sessions
            .authenticate_user(Some(&tokens.access_token))
            .await
            .unwrap();
        (tokens, me)
    }

    pub async fn link_token(&self) -> String {
        self.link_token_for(&self.caller, &self.user).await
    }

    /// A connect link's token for `user` of `caller`'s workspace.
    pub async fn link_token_for(&self, caller: &Principal, user: &str) -> String {
        let link = self
            .services
            .connect_links
            .create_connect_link(
                caller,
                user,
                ConnectLinkRequest {
                    provider: self.fake.provider.as_str().into(),
                    redirect_url: None,
                    failure_redirect_url: None,
                },
                BASE,
            )
            .await
            .unwrap();
        query(&link.url)["token"].clone()
    }

    pub async fn authorize(&self, token: String) -> Result<String, String> {
        self.authorize_for(&self.user, token).await
    }

    /// The consent URL a connect link's token leads `user` to.
    pub async fn authorize_for(&self, user: &str, token: String) -> Result<String, String> {
        self.services
            .connect
            .authorize(
                self.fake.provider.as_str(),
                AuthorizeParams {
                    user_id: Some(user.to_owned()),
                    token: Some(token),
                    session: None,
                },
                BASE,
            )
            .await
            .map_err(|failure| failure.code.to_owned())
    }

    /// The provider's consent, answered: the callback parameters it redirects with.
    pub async fn consent(&self, consent_url: &str) -> CallbackParams {
        let response = browser_client().get(consent_url).send().await.unwrap();
        let back = response.headers()["location"].to_str().unwrap().to_owned();
        let params = query(&back);
        CallbackParams {
            state: params.get("state").cloned(),
            code: params.get("code").cloned(),
            ..CallbackParams::default()
        }
    }

    pub async fn connect(&self) -> Connection {
        self.connect_as(&self.caller, &self.user).await.unwrap()
    }

    /// Connects `user` of `caller`'s workspace through the consent screen; the failure's code
    /// when the callback refuses.
    pub async fn connect_as(&self, caller: &Principal, user: &str) -> Result<Connection, String> {
        let token = self.link_token_for(caller, user).await;
        let consent = self.authorize_for(user, token).await?;
        let callback = self.consent(&consent).await;
        let landing = self
            .services
            .callback
            .complete_authorization(self.fake.provider.as_str(), callback, BASE)
            .await
            .map_err(|failure| failure.code.to_owned())?;
        // A failure after the consent lands on the failure page, naming its code.
        let landed = query(&landing);
        let Some(id) = landed.get("connectionId").cloned() else {
            return Err(landed
                .get("error")
                .or_else(|| landed.get("code"))
                .cloned()
                .unwrap_or(landing));
        };
        Ok(self
            .services
            .directory
            .get_connection(caller, user, &id)
            .await
            .unwrap())
    }

    /// Plays the delivery queue: hands each delivery message sent since the last call to the
    /// deliver worker once its delay is up (moving the clock by that delay), including the
    /// messages that handling sends, until none is left. Returns the delays, in order.
    pub async fn run_deliveries(&self) -> Vec<Duration> {
        let mut delays = Vec::new();
        loop {
            self.relay().await;
            let next = {
                let mut done = self.delivered.lock().unwrap();
                let next = self.deliveries.sent().get(*done).cloned();
                *done += usize::from(next.is_some());
                next
            };
            let Some(message) = next else {
                return delays;
            };
            assert!(delays.len() < 500, "deliveries keep coming: {delays:?}");
            self.clock.advance(message.delay.as_secs() as i64);
            delays.push(message.delay);
            self.services
                .deliveries
                .process_delivery_message(&message.body)
                .await
                .unwrap();
        }
    }

    /// Relays everything committed changes left in the outbox, as the local host's relay and
    /// the AWS table stream do.
    pub async fn relay(&self) -> usize {
        self.services.relay.drain().await.unwrap().relayed
    }

    /// Works the queue as the worker does until no message is visible; returns how many ran.
    /// Syncs `connection` over `request`'s window through the queue, as the worker does;
    /// the job as it ended.
    pub async fn sync_over(
        &self,
        connection: &Connection,
        request: vitasync_domain::sync::SyncRequest,
    ) -> vitasync_domain::sync::jobs::SyncJob {
        let job = self
            .services
            .sync_jobs
            .trigger_sync(&self.caller, &self.user, connection.id.as_str(), request)
            .await
            .unwrap();
        self.work_queue().await;
        self.services
            .sync_jobs
            .get_job(&self.caller, job.id.as_str())
            .await
            .unwrap()
    }

    /// Every health record stored for `connection`, by key.
    pub async fn stored(&self, connection: &Connection) -> BTreeMap<String, Vec<u8>> {
        let owner = vitasync_domain::ports::RecordOwner {
            workspace: connection.workspace_id.clone(),
            user: connection.user_id.clone(),
            connection: connection.id.clone(),
        };
        self.ports
            .health
            .records_between(&owner, "", "~")
            .await
            .unwrap()
            .into_iter()
            .collect()
    }

    /// Runs the last message sent to the queue (`job` put back after a throttle or an
    /// outage), as the queue would once its delay is over: the delay, and the job after it.
    pub async fn run_delayed_retry(
        &self,
        job: &vitasync_domain::sync::jobs::SyncJob,
    ) -> (Duration, vitasync_domain::sync::jobs::SyncJob) {
        let retry = self.queue.sent().pop().unwrap();
        self.services
            .worker
            .process_message(&retry.body)
            .await
            .unwrap();
        let after = self
            .services
            .sync_jobs
            .get_job(&self.caller, job.id.as_str())
            .await
            .unwrap();
        (retry.delay, after)
    }

    pub async fn work_queue(&self) -> usize {
        let mut ran = 0;
        loop {
            self.relay().await;
            let messages = self
                .queue
                .receive(10, Duration::from_secs(30))
                .await
                .unwrap();
            if messages.is_empty() {
                return ran;
            }
            for message in messages {
                self.services
                    .worker
                    .process_message(&message.body)
                    .await
                    .unwrap();
                self.queue.delete(&message.receipt).await.unwrap();
                ran += 1;
            }
        }
    }

    /// Stores `connection` as it is given (scopes narrowed, a zone learnt, …).
    pub async fn rewrite(&self, connection: &Connection) {
        assert!(
            self.ports
                .connections
                .update_connection(connection, &[])
                .await
                .unwrap(),
            "{connection:?}"
        );
    }

    /// The connection as stored now, in whichever workspace it is.
    pub async fn reread(&self, connection: &Connection) -> Connection {
        self.ports
            .connections
            .get_connection(
                &connection.workspace_id,
                &connection.user_id,
                &connection.id,
            )
            .await
            .unwrap()
            .unwrap()
    }
}

/// Every item's `pk` and `sk` in a DynamoDB table of the emulator (a full scan).
pub async fn table_keys(table: &str) -> Vec<(String, String)> {
    let client = aws_sdk_dynamodb::Client::new(&emulator::sdk_config().await);
    let mut keys = Vec::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .unwrap();
        for item in page.items() {
            let text = |name: &str| item[name].as_s().unwrap().clone();
            keys.push((text("pk"), text("sk")));
        }
        match page.last_evaluated_key {
            Some(last) => start = Some(last),
            None => return keys,
        }
    }
}

/// A job queue that remembers every message sent (with its delay) and passes it on.
pub struct RecordingQueue {
    inner: Arc<dyn JobQueue>,
    sent: Mutex<Vec<Outgoing>>,
}

impl RecordingQueue {
    pub fn sent(&self) -> Vec<Outgoing> {
        self.sent.lock().unwrap().clone()
    }

    /// Starts the record afresh.
    pub fn forget(&self) {
        self.sent.lock().unwrap().clear();
    }
}

#[async_trait]
impl JobQueue for RecordingQueue {
    async fn send(&self, message: Outgoing) -> Result<(), QueueError> {
        self.sent.lock().unwrap().push(message.clone());
        self.inner.send(message).await
    }
    async fn send_batch(&self, messages: Vec<Outgoing>) -> Result<(), QueueError> {
        self.sent.lock().unwrap().extend(messages.iter().cloned());
        self.inner.send_batch(messages).await
    }
    async fn receive(&self, max: usize, visibility: Duration) -> Result<Vec<Received>, QueueError> {
        self.inner.receive(max, visibility).await
    }
    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        self.inner.delete(receipt).await
    }
    async fn retry_after(&self, receipt: &str, delay: Duration) -> Result<(), QueueError> {
        self.inner.retry_after(receipt, delay).await
    }
    async fn dead_letters(
        &self,
        max: usize,
        visibility: Duration,
    ) -> Result<Vec<Received>, QueueError> {
        self.inner.dead_letters(max, visibility).await
    }
}

/// Runs each scenario (an async fn taking a `Host`) on the embedded host and on DynamoDB, KMS
/// and SQS in the emulator.
macro_rules! on_both_hosts {
    ($($scenario:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test]
                async fn $scenario() {
                    super::$scenario(super::Host::Embedded).await;
                }
            )*
        }
        mod aws {
            $(
                #[tokio::test]
                async fn $scenario() {
                    super::$scenario(super::Host::Aws).await;
                }
            )*
        }
    };
}
pub(crate) use on_both_hosts;

/// The one stored record whose key starts with `prefix`.
pub fn one<T: serde::de::DeserializeOwned>(stored: &BTreeMap<String, Vec<u8>>, prefix: &str) -> T {
    let found: Vec<&Vec<u8>> = stored
        .iter()
        .filter(|(key, _)| key.starts_with(prefix))
        .map(|(_, bytes)| bytes)
        .collect();
    assert_eq!(found.len(), 1, "{prefix}: {:?}", stored.keys());
    serde_json::from_slice(found[0]).unwrap()
}

pub fn at(raw: &str) -> vitasync_domain::kernel::time::Timestamp {
    vitasync_domain::kernel::time::Timestamp::parse(raw).unwrap()
}

pub fn ms(raw: &str) -> i64 {
    at(raw).millis()
}
