//! Connections: a provider account linked to a user, with its tokens sealed in the store.

pub mod tokens;

use crate::announce::events::AboutConnection;
use crate::kernel::ids::{AppId, ConnectionId, UserId, WorkspaceId};
use crate::kernel::secrets::SealedSecret;
use crate::kernel::time::Timestamp;
use crate::providers::ProviderId;
use crate::providers::apps::AppRef;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectionStatus {
    Active,
    /// The provider refused us (e.g. a refresh was refused); `status_reason` says why.
    Error,
    /// The user or the provider ended the link.
    Disconnected,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    pub id: ConnectionId,
    pub workspace_id: WorkspaceId,
    pub user_id: UserId,
    pub provider: ProviderId,
    /// The account's id at the provider.
    pub provider_user_id: String,
    pub status: ConnectionStatus,
    pub status_reason: Option<String>,
    /// The scopes the user actually granted.
    pub scopes: Vec<String>,
    pub connected_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_synced_at: Option<Timestamp>,
    pub token_expires_at: Option<Timestamp>,
    /// The user's IANA zone where the provider says (Google Health's settings, Ultrahuman's
    /// profile, Wahoo's newest workout), refreshed by each sync that learns it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// The workspace's own app the connection was made with (its tokens are that app's);
    /// `None` for the deployment's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<AppId>,
}

impl Connection {
    /// A new active connection of `user_id` to the account `provider_user_id`, made at `now`:
    /// no scopes, token expiry, zone or workspace app yet.
    pub fn new_active(
        workspace_id: WorkspaceId,
        user_id: UserId,
        provider: ProviderId,
        provider_user_id: String,
        now: Timestamp,
    ) -> Self {
        Self {
            id: ConnectionId::generate(),
            workspace_id,
            user_id,
            provider,
            provider_user_id,
            status: ConnectionStatus::Active,
            status_reason: None,
            scopes: Vec::new(),
            connected_at: now,
            updated_at: now,
            last_synced_at: None,
            token_expires_at: None,
            time_zone: None,
            app_id: None,
        }
    }

    /// The app calls for this connection are made with.
    pub fn app(&self) -> AppRef {
        AppRef::of(self.app_id.as_ref())
    }
}

/// A connection's tokens as stored: sealed, with the version that guards refreshes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredTokens {
    pub sealed: SealedSecret,
    /// Bumped by every replacement; a refresh writes only if the version is still the one it read.
    pub version: u64,
    pub expires_at: Option<Timestamp>,
    /// Set while one caller refreshes the tokens; others wait for the new pair until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refreshing_until: Option<Timestamp>,
}

/// Where a connection stands in the polling order: `<last sync, UTC ms, 13 digits>#<id>`
/// (zeros when never synced), so least recently synced sort first. `None` unless active: only
/// active connections are polled.
pub fn sync_due_key(connection: &Connection) -> Option<String> {
    (connection.status == ConnectionStatus::Active).then(|| {
        format!(
            "{:013}#{}",
            connection.last_synced_at.map_or(0, |at| at.millis().max(0)),
            connection.id
        )
    })
}

/// The bound below which `sync_due_key`s were last synced before `at`.
pub fn sync_due_bound(at: Timestamp) -> String {
    format!("{:013}", at.millis().max(0))
}

impl Connection {
    /// Takes the newer facts of a reconnection of the same account: tokens, scopes, status.
    pub fn reconnected(mut self, fresh: &Connection) -> Connection {
        self.status = ConnectionStatus::Active;
        self.status_reason = None;
        self.scopes.clone_from(&fresh.scopes);
        self.updated_at = fresh.updated_at;
        self.token_expires_at = fresh.token_expires_at;
        self
    }
}

impl From<&Connection> for AboutConnection {
    fn from(connection: &Connection) -> Self {
        Self {
            workspace_id: connection.workspace_id.clone(),
            user_id: connection.user_id.clone(),
            connection_id: connection.id.clone(),
            provider: connection.provider,
            status_reason: connection.status_reason.clone(),
        }
    }
}
