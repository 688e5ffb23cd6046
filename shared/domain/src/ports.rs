//! Ports: what the use cases need from the outside world. Each host supplies adapters (the
//! embedded on-disk store locally, DynamoDB on AWS) and both pass the same contract tests.

use crate::announce::webhooks::{Delivery, DeliveryId, WebhookEndpoint, WebhookId};
use crate::connections::{Connection, StoredTokens};
use crate::kernel::error::StoreError;
use crate::kernel::ids::{ApiKeyId, ConnectionId, UserId, WorkspaceId};
use crate::kernel::outbox::{OutboxEntry, OutboxStore};
use crate::kernel::page::{Page, PageRequest};
use crate::kernel::time::{Clock, Timestamp};
use crate::mobile::sessions::{SessionId, UserSession};
use crate::providers::ProviderId;
use crate::providers::apps::ProviderAppStore;
use crate::providers::oauth_state::OAuthState;
use crate::sync::jobs::{JobId, SyncJob};
use crate::tenancy::api_key::{ApiKeyRecord, KeyHash};
use crate::tenancy::user::{User, UserPatch};
use crate::tenancy::workspace::Workspace;
use async_trait::async_trait;
use std::sync::Arc;

#[async_trait]
pub trait WorkspaceStore: Send + Sync {
    /// Creates a workspace together with its first key, all or nothing.
    /// `StoreError::Conflict` when the slug is taken.
    async fn create_workspace(
        &self,
        workspace: &Workspace,
        first_key: &ApiKeyRecord,
    ) -> Result<(), StoreError>;
    async fn get_workspace(&self, id: &WorkspaceId) -> Result<Option<Workspace>, StoreError>;
    async fn workspace_by_slug(&self, slug: &str) -> Result<Option<Workspace>, StoreError>;
    /// Workspaces in creation order.
    async fn list_workspaces(&self, page: &PageRequest) -> Result<Page<Workspace>, StoreError>;
}

#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    /// `StoreError::Conflict` when a key with the same hash exists.
    async fn insert_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError>;
    async fn key_by_hash(&self, hash: &KeyHash) -> Result<Option<ApiKeyRecord>, StoreError>;
    async fn get_key(
        &self,
        workspace: &WorkspaceId,
        id: &ApiKeyId,
    ) -> Result<Option<ApiKeyRecord>, StoreError>;
    /// A workspace's keys in creation order.
    async fn list_keys(&self, workspace: &WorkspaceId) -> Result<Vec<ApiKeyRecord>, StoreError>;
    /// Removes the key; its secret stops working at once. `false` when there was none.
    async fn delete_key(&self, workspace: &WorkspaceId, id: &ApiKeyId) -> Result<bool, StoreError>;
    /// Swaps the key's secret in one step: the old one stops working as the new one starts.
    async fn replace_key_secret(
        &self,
        workspace: &WorkspaceId,
        id: &ApiKeyId,
        hash: &KeyHash,
        prefix: &str,
        at: Timestamp,
    ) -> Result<Option<ApiKeyRecord>, StoreError>;
}

#[async_trait]
pub trait UserStore: Send + Sync {
    /// Stores `candidate` unless its workspace already has a user with the same external id, in
    /// which case `patch` is applied to that user (see `User::apply`) instead. Atomic: concurrent
    /// calls with one external id end in one user. Returns the user and whether it was created.
    /// Creates `candidate`, writing `on_create` to the outbox in the same transaction, or
    /// patches the user with its external id (and writes nothing else). `true` when created.
    async fn upsert_user(
        &self,
        candidate: &User,
        patch: &UserPatch,
        on_create: &[OutboxEntry],
    ) -> Result<(User, bool), StoreError>;
    async fn get_user(
        &self,
        workspace: &WorkspaceId,
        id: &UserId,
    ) -> Result<Option<User>, StoreError>;
    async fn user_by_external_id(
        &self,
        workspace: &WorkspaceId,
        external_id: &str,
    ) -> Result<Option<User>, StoreError>;
    /// A workspace's users in creation order.
    async fn list_users(
        &self,
        workspace: &WorkspaceId,
        page: &PageRequest,
    ) -> Result<Page<User>, StoreError>;
    /// Applies `patch`; `StoreError::Conflict` when a new external id is taken.
    async fn update_user(
        &self,
        workspace: &WorkspaceId,
        id: &UserId,
        patch: &UserPatch,
        at: Timestamp,
    ) -> Result<Option<User>, StoreError>;
    /// Removes the user and everything stored under them. `false` when there was none.
    /// Deletes the user and everything of theirs, writing `on_delete` to the outbox in the
    /// transaction that removes the profile. `false` when there was no such user.
    async fn delete_user(
        &self,
        workspace: &WorkspaceId,
        id: &UserId,
        on_delete: &[OutboxEntry],
    ) -> Result<bool, StoreError>;
    /// Whether the store answers at all (for readiness checks).
    async fn ping(&self) -> Result<(), StoreError>;
}

/// The adapters a host hands to the use cases.
#[derive(Clone)]
pub struct Ports {
    pub workspaces: Arc<dyn WorkspaceStore>,
    pub api_keys: Arc<dyn ApiKeyStore>,
    pub users: Arc<dyn UserStore>,
    pub connections: Arc<dyn ConnectionStore>,
    pub states: Arc<dyn StateStore>,
    pub health: Arc<dyn HealthStore>,
    pub jobs: Arc<dyn JobStore>,
    pub calls: Arc<dyn CallCounter>,
    pub webhooks: Arc<dyn WebhookStore>,
    pub sessions: Arc<dyn SessionStore>,
    pub outbox: Arc<dyn OutboxStore>,
    pub apps: Arc<dyn ProviderAppStore>,
    pub clock: Arc<dyn Clock>,
}

/// The outbox entries a connection's upsert writes with it, given the connection as stored
/// (a refreshed one keeps its id) and whether it is new.
pub type UpsertEntries = dyn Fn(&Connection, bool) -> Vec<OutboxEntry> + Send + Sync;

#[async_trait]
pub trait ConnectionStore: Send + Sync {
    /// Links `connection`'s provider account to its user with `tokens`. If the user already has
    /// a connection to that same account, it is updated instead (`Connection::reconnected`) and
    /// keeps its id; its tokens are replaced. Atomic. Returns the connection and whether it is new.
    /// Links the account (a new connection) or refreshes the connection that has it, writing
    /// `announce(stored, created)`'s entries to the outbox in the same transaction.
    async fn upsert_connection(
        &self,
        connection: &Connection,
        tokens: &StoredTokens,
        announce: Arc<UpsertEntries>,
    ) -> Result<(Connection, bool), StoreError>;
    async fn get_connection(
        &self,
        workspace: &WorkspaceId,
        user: &UserId,
        id: &ConnectionId,
    ) -> Result<Option<Connection>, StoreError>;
    /// A user's connections in creation order.
    async fn list_connections(
        &self,
        workspace: &WorkspaceId,
        user: &UserId,
    ) -> Result<Vec<Connection>, StoreError>;
    /// Saves changed fields (status, sync times) of an existing connection.
    /// Writes `connection` (and `on_update` to the outbox) if it exists.
    async fn update_connection(
        &self,
        connection: &Connection,
        on_update: &[OutboxEntry],
    ) -> Result<bool, StoreError>;
    /// Moves the connection's `last_synced_at` forward to `at` (never back), changing nothing
    /// else, so a disconnection or error recorded meanwhile stands. Atomic.
    async fn record_sync(
        &self,
        workspace: &WorkspaceId,
        user: &UserId,
        id: &ConnectionId,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    /// Saves `connection` (now disconnected) and deletes its tokens, in one step.
    /// `false` when there was no such connection.
    /// Writes the disconnected `connection`, drops its tokens and writes `on_disconnect` to the
    /// outbox, in one transaction, if it exists.
    async fn disconnect(
        &self,
        connection: &Connection,
        on_disconnect: &[OutboxEntry],
    ) -> Result<bool, StoreError>;
    /// Removes the connection and its tokens. `false` when there was none.
    async fn delete_connection(
        &self,
        workspace: &WorkspaceId,
        user: &UserId,
        id: &ConnectionId,
    ) -> Result<bool, StoreError>;
    /// Every connection (in any workspace, in any state) linked to this provider account: how
    /// a provider's webhook finds whom it is about.
    async fn connections_for_account(
        &self,
        provider: ProviderId,
        provider_user_id: &str,
    ) -> Result<Vec<Connection>, StoreError>;
    /// Active connections to `provider` last synced before `synced_before` (or never), least
    /// recently synced first, a page at a time (for the scheduler's polling).
    async fn connections_due(
        &self,
        provider: ProviderId,
        synced_before: Timestamp,
        page: &PageRequest,
    ) -> Result<Page<Connection>, StoreError>;
    async fn get_tokens(
        &self,
        workspace: &WorkspaceId,
        user: &UserId,
        id: &ConnectionId,
    ) -> Result<Option<StoredTokens>, StoreError>;
    /// Replaces the tokens only if their version is still `expected_version` (the new tokens
    /// carry `expected_version + 1`). `false` when another writer got there first.
    async fn replace_tokens(
        &self,
        workspace: &WorkspaceId,
        user: &UserId,
        id: &ConnectionId,
        expected_version: u64,
        tokens: &StoredTokens,
    ) -> Result<bool, StoreError>;
}

#[async_trait]
pub trait StateStore: Send + Sync {
    /// Stores `state` under `key` (see `oauth_state::state_key`).
    async fn put_state(&self, key: &str, state: &OAuthState) -> Result<(), StoreError>;
    /// Removes and returns the state in one step, so it can be used once; `None` when it is
    /// missing, already used, or expired at `now`.
    async fn take_state(&self, key: &str, now: Timestamp)
    -> Result<Option<OAuthState>, StoreError>;
    /// Returns the state without using it up; `None` when missing or expired at `now`.
    async fn get_state(&self, key: &str, now: Timestamp) -> Result<Option<OAuthState>, StoreError>;
}

/// Whose health records: one connection of one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordOwner {
    pub workspace: WorkspaceId,
    pub user: UserId,
    pub connection: ConnectionId,
}

impl RecordOwner {
    /// The records synced from `connection`.
    pub fn of(connection: &Connection) -> Self {
        Self {
            workspace: connection.workspace_id.clone(),
            user: connection.user_id.clone(),
            connection: connection.id.clone(),
        }
    }
}

/// Health records as opaque bytes under sort-ordered keys (the domain decides both; see
/// `health_records`). Deleting the user removes them; disconnecting does not.
#[async_trait]
pub trait HealthStore: Send + Sync {
    /// The stored bytes of each key, in the order asked (`None` where absent).
    async fn get_records(
        &self,
        owner: &RecordOwner,
        keys: &[String],
    ) -> Result<Vec<Option<Vec<u8>>>, StoreError>;
    /// Writes every record, replacing any with the same key. All are written when it returns.
    /// Writes `records`, and `on_write` to the outbox with them (one transaction, or the last
    /// batch of writes where the adapter writes in batches).
    async fn put_records(
        &self,
        owner: &RecordOwner,
        records: &[(String, Vec<u8>)],
        on_write: &[OutboxEntry],
    ) -> Result<(), StoreError>;
    /// Records with `from <= key < to`, in key order.
    async fn records_between(
        &self,
        owner: &RecordOwner,
        from: &str,
        to: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError>;
    /// The greatest key with `from <= key < to`: where the newest data in a range is, found
    /// without reading it.
    async fn newest_key_between(
        &self,
        owner: &RecordOwner,
        from: &str,
        to: &str,
    ) -> Result<Option<String>, StoreError>;
    /// Removes the records with these keys (absent ones are no error).
    async fn delete_keys(&self, owner: &RecordOwner, keys: &[String]) -> Result<(), StoreError>;
    /// Removes every record of the owner (a GDPR erasure); returns how many there were.
    async fn delete_records(&self, owner: &RecordOwner) -> Result<u64, StoreError>;
}

/// Counters of provider calls per time window, shared by every worker (`rate_budget`).
#[async_trait]
pub trait CallCounter: Send + Sync {
    /// Adds one to the counter `key` unless it has reached `limit`; the counter may be
    /// forgotten after `expires_at`. Atomic. Returns whether the call was counted.
    async fn try_count(
        &self,
        key: &str,
        limit: u64,
        expires_at: Timestamp,
    ) -> Result<bool, StoreError>;
}

#[async_trait]
pub trait JobStore: Send + Sync {
    /// Stores `job` unless its connection has an active (queued or running) job, in which case
    /// that job is returned instead. Atomic. Returns the job and whether it is the new one.
    /// Creates `job` unless its connection has an active one (answered instead), writing
    /// `on_create` (its queue message) to the outbox in the same transaction.
    async fn create_job(
        &self,
        job: &SyncJob,
        on_create: &[OutboxEntry],
    ) -> Result<(SyncJob, bool), StoreError>;
    async fn get_job(
        &self,
        workspace: &WorkspaceId,
        id: &JobId,
    ) -> Result<Option<SyncJob>, StoreError>;
    /// A user's jobs, newest first.
    async fn list_jobs(
        &self,
        workspace: &WorkspaceId,
        user: &UserId,
        page: &PageRequest,
    ) -> Result<Page<SyncJob>, StoreError>;
    /// Saves `job` if the stored one still has version `job.version - 1`. A job that is no
    /// longer active frees its connection for the next one. `false` when another writer won.
    /// Writes `job` if the stored one is its previous version, with `on_update` written to the
    /// outbox in the same transaction. `false` (and nothing written) otherwise.
    async fn update_job(
        &self,
        job: &SyncJob,
        on_update: &[OutboxEntry],
    ) -> Result<bool, StoreError>;
}

/// Webhook endpoints and their deliveries, per workspace.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    async fn insert_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<(), StoreError>;
    async fn get_endpoint(
        &self,
        workspace: &WorkspaceId,
        id: &WebhookId,
    ) -> Result<Option<WebhookEndpoint>, StoreError>;
    /// A workspace's endpoints in creation order.
    async fn list_endpoints(
        &self,
        workspace: &WorkspaceId,
    ) -> Result<Vec<WebhookEndpoint>, StoreError>;
    /// Saves `endpoint` if the stored one still has version `endpoint.version - 1`. `false`
    /// when another writer won or the endpoint is gone.
    async fn update_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<bool, StoreError>;
    /// Removes the endpoint and its deliveries. `false` when there was none.
    async fn delete_endpoint(
        &self,
        workspace: &WorkspaceId,
        id: &WebhookId,
    ) -> Result<bool, StoreError>;
    /// Stores a new delivery, with `on_insert` (its queue message) written to the outbox in
    /// the same transaction; `Conflict` when the id is taken.
    async fn insert_delivery(
        &self,
        delivery: &Delivery,
        on_insert: &[OutboxEntry],
    ) -> Result<(), StoreError>;
    async fn get_delivery(
        &self,
        workspace: &WorkspaceId,
        endpoint: &WebhookId,
        id: &DeliveryId,
    ) -> Result<Option<Delivery>, StoreError>;
    /// Saves `delivery` if the stored one still has version `delivery.version - 1`.
    /// Writes `delivery` (and `on_update`) if the stored one is its previous version.
    async fn update_delivery(
        &self,
        delivery: &Delivery,
        on_update: &[OutboxEntry],
    ) -> Result<bool, StoreError>;
    /// An endpoint's deliveries, newest first.
    async fn list_deliveries(
        &self,
        workspace: &WorkspaceId,
        endpoint: &WebhookId,
        page: &PageRequest,
    ) -> Result<Page<Delivery>, StoreError>;
}

/// Signed-in app sessions (`user_sessions`): found by id, changed by versioned writes.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// `StoreError::Conflict` when the id is taken.
    async fn insert_session(&self, session: &UserSession) -> Result<(), StoreError>;
    async fn get_session(&self, id: &SessionId) -> Result<Option<UserSession>, StoreError>;
    /// Saves `session` if the stored one still has version `session.version - 1`.
    async fn update_session(&self, session: &UserSession) -> Result<bool, StoreError>;
}

impl Ports {
    /// Every store port served by one adapter: each host keeps everything in one store.
    pub fn from_store<S>(store: Arc<S>, clock: Arc<dyn Clock>) -> Self
    where
        S: WorkspaceStore
            + ApiKeyStore
            + UserStore
            + ConnectionStore
            + StateStore
            + HealthStore
            + JobStore
            + CallCounter
            + WebhookStore
            + SessionStore
            + OutboxStore
            + ProviderAppStore
            + 'static,
    {
        Self {
            workspaces: store.clone(),
            api_keys: store.clone(),
            users: store.clone(),
            connections: store.clone(),
            states: store.clone(),
            health: store.clone(),
            jobs: store.clone(),
            calls: store.clone(),
            webhooks: store.clone(),
            sessions: store.clone(),
            outbox: store.clone(),
            apps: store,
            clock,
        }
    }
}
