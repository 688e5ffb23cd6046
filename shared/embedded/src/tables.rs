//! The tables and their keys. Keys start with the workspace id so a workspace's items sit
//! together and range scans never cross into another workspace.

use redb::TableDefinition;

/// workspace id → workspace JSON
pub const WORKSPACES: TableDefinition<&str, &[u8]> = TableDefinition::new("workspaces");
/// slug → workspace id (uniqueness guard)
pub const WORKSPACE_SLUGS: TableDefinition<&str, &str> = TableDefinition::new("workspace_slugs");
/// key hash → key JSON (how a bearer key is found)
pub const API_KEYS: TableDefinition<&str, &[u8]> = TableDefinition::new("api_keys");
/// (workspace id, key id) → key hash
pub const API_KEY_IDS: TableDefinition<(&str, &str), &str> = TableDefinition::new("api_key_ids");
/// (workspace id, user id) → user JSON
pub const USERS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("users");
/// (workspace id, external id) → user id (uniqueness guard)
pub const USER_EXTERNAL_IDS: TableDefinition<(&str, &str), &str> =
    TableDefinition::new("user_external_ids");

/// Sorts after every id character (ULIDs are ASCII alphanumerics), so `(ws, "")..(ws, END)`
/// spans one workspace.
pub const END: &str = "~";

/// (queue, message id) → message JSON
pub const QUEUE_MESSAGES: TableDefinition<(&str, &str), &[u8]> =
    TableDefinition::new("queue_messages");
/// (queue, visible-from millis, message id) → (): the order messages become receivable in
pub const QUEUE_VISIBILITY: TableDefinition<(&str, u64, &str), ()> =
    TableDefinition::new("queue_visibility");

/// (workspace id, user id, connection id) → connection JSON
pub const CONNECTIONS: TableDefinition<(&str, &str, &str), &[u8]> =
    TableDefinition::new("connections");
/// (workspace id, user id, "provider:provider user id") → connection id (one link per account)
pub const CONNECTION_ACCOUNTS: TableDefinition<(&str, &str, &str), &str> =
    TableDefinition::new("connection_accounts");
/// ("provider:provider user id", workspace id, connection id) → user id: the connections of a
/// provider account across workspaces (to route its webhooks)
pub const ACCOUNT_CONNECTIONS: TableDefinition<(&str, &str, &str), &str> =
    TableDefinition::new("account_connections");
/// (workspace id, user id, connection id) → sealed tokens JSON
pub const CONNECTION_TOKENS: TableDefinition<(&str, &str, &str), &[u8]> =
    TableDefinition::new("connection_tokens");

/// SHA-256 of a browser token → connect link / widget session / OAuth state JSON
pub const STATES: TableDefinition<&str, &[u8]> = TableDefinition::new("oauth_states");

/// (workspace id, user id, "connection id/record key") → record bytes (health data)
pub const HEALTH_RECORDS: TableDefinition<(&str, &str, &str), &[u8]> =
    TableDefinition::new("health_records");
/// (workspace id, job id) → sync job JSON
pub const JOBS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("sync_jobs");
/// (workspace id, user id, job id) → (): a user's jobs
pub const USER_JOBS: TableDefinition<(&str, &str, &str), ()> = TableDefinition::new("user_jobs");
/// (workspace id, connection id) → the id of its active job (one at a time)
pub const ACTIVE_JOBS: TableDefinition<(&str, &str), &str> = TableDefinition::new("active_jobs");
/// counter key → (calls counted, expiry in epoch ms): provider call budgets
pub const CALL_COUNTERS: TableDefinition<&str, (u64, i64)> = TableDefinition::new("call_counters");

/// (workspace id, webhook id) → webhook endpoint JSON
pub const WEBHOOKS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("webhooks");
/// (workspace id, webhook id, delivery id) → delivery JSON
pub const DELIVERIES: TableDefinition<(&str, &str, &str), &[u8]> =
    TableDefinition::new("webhook_deliveries");

/// session id → signed-in app session JSON
pub const SESSIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("user_sessions");
/// (workspace id, user id, session id): a user's sessions, erased with the user
pub const USER_SESSIONS: TableDefinition<(&str, &str, &str), ()> =
    TableDefinition::new("user_session_index");

/// (due millis, entry id) → outbox entry JSON: what committed changes still owe the relay
pub const OUTBOX: TableDefinition<(u64, &str), &[u8]> = TableDefinition::new("outbox");

/// (workspace id, provider) → the workspace's own app JSON (its secrets sealed)
pub const PROVIDER_APPS: TableDefinition<(&str, &str), &[u8]> =
    TableDefinition::new("provider_apps");
/// app id → (workspace id, provider): how a push to the app's URL finds it
pub const PROVIDER_APP_IDS: TableDefinition<&str, (&str, &str)> =
    TableDefinition::new("provider_app_ids");
