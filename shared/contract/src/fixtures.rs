//! Fresh adapters for one test: the embedded ones on a temporary directory, the AWS ones on new
//! resources in the emulator.

use crate::emulator;
use std::sync::Arc;
use tempfile::TempDir;
use vitasync_aws::provision::{create_kms_key, create_queue_with_dead_letter, create_table};
use vitasync_aws::{DynamoStore, KmsKeyManager, SqsQueue};
use vitasync_domain::kernel::ids::WorkspaceId;
use vitasync_domain::kernel::secrets::KeyManager;
use vitasync_domain::kernel::time::SystemClock;
use vitasync_domain::kernel::time::Timestamp;
use vitasync_domain::ports::Ports;
use vitasync_domain::tenancy::user::{User, UserDraft};
use vitasync_embedded::{EmbeddedStore, LocalKeyManager};

/// How many receives a queue allows before a message moves to its dead-letter queue.
pub const MAX_RECEIVES: u32 = 3;

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", ulid::Ulid::new().to_string().to_lowercase())
}

pub struct Embedded {
    pub dir: TempDir,
    pub store: EmbeddedStore,
}

impl Embedded {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::open(dir.path()).unwrap();
        Self { dir, store }
    }

    pub fn ports(&self) -> Ports {
        let store = Arc::new(self.store.clone());
        Ports::from_store(store, Arc::new(SystemClock))
    }

    pub fn key_manager(&self) -> Arc<dyn KeyManager> {
        Arc::new(LocalKeyManager::open(self.dir.path()).unwrap())
    }

    pub fn queue(&self) -> vitasync_embedded::EmbeddedQueue {
        self.store.queue(&unique("jobs"), MAX_RECEIVES)
    }
}

impl Default for Embedded {
    fn default() -> Self {
        Self::new()
    }
}

/// The DynamoDB stores on a new table. Query pages are capped at 2 items so every listing walks
/// `LastEvaluatedKey`.
pub async fn dynamo_ports() -> (Ports, DynamoStore) {
    let (ports, store) = dynamo_ports_on(&new_table().await).await;
    let store = store.with_query_page_limit(2);
    let shared = Arc::new(store.clone());
    let ports = Ports::from_store(shared, ports.clock);
    (ports, store)
}

/// A new, empty table in the emulator; returns its name.
pub async fn new_table() -> String {
    let config = emulator::sdk_config().await;
    let table = unique("vitasync");
    create_table(&aws_sdk_dynamodb::Client::new(&config), &table)
        .await
        .unwrap();
    table
}

/// The DynamoDB stores on an existing table.
pub async fn dynamo_ports_on(table: &str) -> (Ports, DynamoStore) {
    let config = emulator::sdk_config().await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), table);
    let shared = Arc::new(store.clone());
    let ports = Ports::from_store(shared, Arc::new(SystemClock));
    (ports, store)
}

/// A new KMS key in the emulator; returns its id.
pub async fn new_kms_key() -> String {
    let config = emulator::sdk_config().await;
    create_kms_key(&aws_sdk_kms::Client::new(&config), "vitasync test")
        .await
        .unwrap()
}

/// A new secret holding `value` in the emulator's Secrets Manager; returns its name.
pub async fn new_secret(value: &str) -> String {
    let name = format!("vitasync/{}", unique("secret"));
    secrets_client()
        .await
        .create_secret()
        .name(&name)
        .secret_string(value)
        .send()
        .await
        .unwrap();
    name
}

/// Rotates the secret `name` to `value` (a new current version).
pub async fn rotate_secret(name: &str, value: &str) {
    secrets_client()
        .await
        .put_secret_value()
        .secret_id(name)
        .secret_string(value)
        .send()
        .await
        .unwrap();
}

pub async fn secrets_client() -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(&emulator::sdk_config().await)
}

pub async fn kms_key_manager() -> Arc<dyn KeyManager> {
    let config = emulator::sdk_config().await;
    let key = new_kms_key().await;
    Arc::new(KmsKeyManager::new(aws_sdk_kms::Client::new(&config), key))
}

pub async fn sqs_queue() -> SqsQueue {
    let (client, url, dead_letter_url) = new_queue().await;
    SqsQueue::new(client, url, Some(dead_letter_url))
}

/// A new job queue with its dead-letter queue in the emulator: the client and both URLs.
pub async fn new_queue() -> (aws_sdk_sqs::Client, String, String) {
    let config = emulator::sdk_config().await;
    let client = aws_sdk_sqs::Client::new(&config);
    let pair = create_queue_with_dead_letter(&client, &unique("jobs"), MAX_RECEIVES, 30)
        .await
        .unwrap();
    (client, pair.url, pair.dead_letter_url)
}

/// A user with `external_id` in workspace `ws`, stored as at `now`.
pub async fn user_in(ports: &Ports, ws: &WorkspaceId, external_id: &str, now: Timestamp) -> User {
    let draft = UserDraft {
        external_id: external_id.into(),
        ..UserDraft::default()
    };
    let patch = draft.as_patch();
    let (user, _) = ports
        .users
        .upsert_user(&draft.into_user(ws.clone(), now), &patch, &[])
        .await
        .unwrap();
    user
}

/// What a connection upsert announces in tests that do not look at events: nothing.
pub fn quietly() -> std::sync::Arc<vitasync_domain::ports::UpsertEntries> {
    std::sync::Arc::new(|_, _| Vec::new())
}
