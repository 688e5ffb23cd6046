//! The single-table key design. Every item has a string partition key `pk` and sort key `sk`.
//!
//! | item                              | pk                    | sk                  |
//! |-----------------------------------|-----------------------|---------------------|
//! | workspace (listed by creation)    | `WORKSPACES`          | `<workspaceId>`     |
//! | workspace slug guard              | `SLUG#<slug>`         | `SLUG`              |
//! | API key, found by secret hash     | `KEYHASH#<sha256>`    | `KEY`               |
//! | API key, found by id / listed     | `WS#<ws>`             | `KEY#<keyId>`       |
//! | user profile (+ `version`)        | `WS#<ws>`             | `USER#<userId>`     |
//! | externalId guard → user id        | `WS#<ws>`             | `EXT#<externalId>`  |
//! | connect link / widget / OAuth state (TTL) | `STATE#<sha256>` | `STATE`     |
//! | everything stored under a user    | `WS#<ws>#U#<userId>`  | per item kind:      |
//! | - connection                      |                       | `CONN#<connId>`     |
//! | - its sealed tokens (+ `version`) |                       | `TOKEN#<connId>`    |
//! | - provider account → connection   |                       | `ACCOUNT#<provider>#<providerUserId>` |
//! | - health record (`data`: bytes)   |                       | `REC#<connId>/<key>`|
//! | - sync job (+ `version`)          |                       | `JOB#<jobId>`       |
//! | - the connection's active job     |                       | `ACTIVEJOB#<connId>`|
//! | sync job pointer → user id        | `WS#<ws>`             | `JOB#<jobId>`       |
//! | signed-in app session (`version`, TTL) | `SESSION#<id>`   | `SESSION`           |
//! | webhook endpoint (+ `version`)    | `WS#<ws>`             | `WEBHOOK#<id>`      |
//! | its deliveries (+ `version`, TTL) | `WS#<ws>#WH#<id>`     | `DELIVERY#<id>`     |
//! | outbox entry (`entry`: JSON)      | `OUTBOX#<shard 0-7>`  | `<due ms, 13 digits>#<id>` |
//! | a workspace's own provider app    | `WS#<ws>`             | `APP#<provider>`    |
//! | the same app, found by its id     | `APP#<appId>`         | `APP`               |
//!
//!
//! One sparse global secondary index, `BySyncDue`, holds active connections only:
//! `syncDuePk` = `SYNC#<provider>`, `syncDueSk` = `<last sync, ms, 13 digits>#<connId>`, so the
//! scheduler finds each provider's least recently synced connections with one Query.
//!
//! A second index, `ByAccount`, holds every connection under `accountPk` =
//! `ACCOUNT#<provider>#<providerUserId>` (`accountSk` = `<ws>#<connId>`), so a provider's
//! webhook, which names only its own user id, reaches every connection of that account.
//!
//! Provider call counters (fixed windows, TTL): `CALLS#<provider>[#<account>]#<window>#<n>`,
//! `CALLS`.
//!
//! Guards make uniqueness a condition on a key (`attribute_not_exists(pk)`) inside the same
//! transaction as the write it protects, so no rule depends on reading first. Ids are ULIDs, so
//! sort keys list in creation order, and a page position is just the last id.

pub const PK: &str = "pk";
pub const SK: &str = "sk";
/// Optimistic-concurrency counter on items that are read, changed and written back.
pub const VERSION: &str = "version";

pub const WORKSPACES: &str = "WORKSPACES";
pub const SLUG_SK: &str = "SLUG";
pub const KEY_SK: &str = "KEY";
pub const KEY_PREFIX: &str = "KEY#";
pub const USER_PREFIX: &str = "USER#";
pub const EXT_PREFIX: &str = "EXT#";

pub fn slug(slug: &str) -> String {
    format!("SLUG#{slug}")
}

pub fn key_hash(hash: &str) -> String {
    format!("KEYHASH#{hash}")
}

pub fn workspace(workspace: &str) -> String {
    format!("WS#{workspace}")
}

pub fn key_id(id: &str) -> String {
    format!("{KEY_PREFIX}{id}")
}

pub fn user(id: &str) -> String {
    format!("{USER_PREFIX}{id}")
}

pub fn external_id(external_id: &str) -> String {
    format!("{EXT_PREFIX}{external_id}")
}

/// The prefix of every outbox partition: what the table stream's filter matches.
pub const OUTBOX_PREFIX: &str = "OUTBOX#";

/// An outbox partition.
pub fn outbox(shard: u32) -> String {
    format!("{OUTBOX_PREFIX}{shard}")
}

/// The partition holding everything stored under one user.
pub fn user_partition(workspace: &str, user: &str) -> String {
    format!("WS#{workspace}#U#{user}")
}

pub const CONNECTION_PREFIX: &str = "CONN#";

/// The index of active connections by last sync (see the table above).
pub const SYNC_DUE_INDEX: &str = "BySyncDue";
/// Every connection by provider account, across workspaces: how a webhook finds its users.
pub const ACCOUNT_INDEX: &str = "ByAccount";
pub const ACCOUNT_PK: &str = "accountPk";
pub const ACCOUNT_SK: &str = "accountSk";

/// A provider account's partition in the `ByAccount` index.
pub fn account_partition(provider: &str, provider_user_id: &str) -> String {
    format!("ACCOUNT#{provider}#{provider_user_id}")
}
pub const SYNC_DUE_PK: &str = "syncDuePk";
pub const SYNC_DUE_SK: &str = "syncDueSk";

pub fn sync_due_partition(provider: &str) -> String {
    format!("SYNC#{provider}")
}

pub fn connection(id: &str) -> String {
    format!("{CONNECTION_PREFIX}{id}")
}

pub fn tokens(connection: &str) -> String {
    format!("TOKEN#{connection}")
}

pub fn account(provider: &str, provider_user_id: &str) -> String {
    format!("ACCOUNT#{provider}#{provider_user_id}")
}

pub const STATE_SK: &str = "STATE";

pub const CALL_COUNTER_SK: &str = "CALLS";

pub fn call_counter(key: &str) -> String {
    format!("CALLS#{key}")
}

pub fn state(key: &str) -> String {
    format!("STATE#{key}")
}

/// A health record of a connection, in its user's partition: `REC#<connId>/<record key>`.
pub fn record(connection: &str, key: &str) -> String {
    format!("REC#{connection}/{key}")
}

pub const JOB_PREFIX: &str = "JOB#";

/// A sync job, in its user's partition (listed newest first), and its pointer in the
/// workspace partition (found by id alone).
pub fn job(id: &str) -> String {
    format!("{JOB_PREFIX}{id}")
}

/// The guard naming a connection's one active job, in its user's partition.
pub fn active_job(connection: &str) -> String {
    format!("ACTIVEJOB#{connection}")
}

pub const WEBHOOK_PREFIX: &str = "WEBHOOK#";

/// A webhook endpoint, in its workspace's partition.
pub fn webhook(id: &str) -> String {
    format!("{WEBHOOK_PREFIX}{id}")
}

/// The partition holding one endpoint's deliveries (listed newest first).
pub fn deliveries_partition(workspace: &str, endpoint: &str) -> String {
    format!("WS#{workspace}#WH#{endpoint}")
}

pub const DELIVERY_PREFIX: &str = "DELIVERY#";

pub fn delivery(id: &str) -> String {
    format!("{DELIVERY_PREFIX}{id}")
}

pub const SESSION_SK: &str = "SESSION";

/// A signed-in app session, found by the id its tokens carry.
pub fn session(id: &str) -> String {
    format!("SESSION#{id}")
}

pub const APP_SK: &str = "APP";

/// A workspace's own app for `provider`, under the workspace.
pub fn workspace_app(provider: &str) -> String {
    format!("APP#{provider}")
}

/// A workspace's own app, found by the id its push URL names.
pub fn app(id: &str) -> String {
    format!("APP#{id}")
}
