//! The token service: everything that calls a provider asks it for a valid access token.
//!
//! Refreshing is a critical section per connection. Many providers hand out single-use refresh
//! tokens, so two refreshes racing would leave one of them holding a dead token. The caller that
//! wins a conditional write on the tokens' version takes a short lease, calls the provider once,
//! and stores the new pair (before anyone uses it); everyone else waits for that pair.

use crate::announce::events::{Announcer, connection_data, with_fields};
use crate::announce::webhooks::EventType;
use crate::connections::{Connection, ConnectionStatus, StoredTokens};
use crate::kernel::error::{DomainError, StoreError};
use crate::kernel::secrets::{EncryptionContext, Vault};
use crate::kernel::time::{Clock, Timestamp};
use crate::ports::ConnectionStore;
use crate::providers::client::{ProviderCalls, ProviderError, TokenClient, TokenGrant, TokenPair};
use secrecy::SecretString;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;

/// Tokens this close to expiry are refreshed before use.
const REFRESH_BEFORE_EXPIRY_SECONDS: i64 = 300;
/// How long one caller may hold the refresh lease.
const REFRESH_LEASE_SECONDS: i64 = 30;
const WAIT_STEP: Duration = Duration::from_millis(50);

/// The status reason of a connection whose refresh the provider refused.
pub const REFRESH_FAILED: &str = "token_refresh_failed";

#[derive(Debug, Error)]
pub enum AccessError {
    /// The connection has no tokens (disconnected or deleted).
    #[error("the connection has no tokens")]
    NotConnected,
    /// The provider refused the refresh; the connection is now `error` and needs reconnecting.
    #[error("the provider refused to refresh the tokens")]
    Refused,
    /// The provider or a store is unavailable; try again later.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

impl From<StoreError> for AccessError {
    fn from(err: StoreError) -> Self {
        AccessError::Unavailable(err.to_string())
    }
}

fn due(tokens: &StoredTokens, now: Timestamp) -> bool {
    tokens
        .expires_at
        .is_some_and(|at| at <= now.plus_seconds(REFRESH_BEFORE_EXPIRY_SECONDS))
}

/// Valid access tokens for connections: opened from the vault, refreshed (once, under a lease)
/// when they are about to expire.
#[derive(Clone)]
pub struct ConnectionTokens {
    connections: Arc<dyn ConnectionStore>,
    vault: Vault,
    calls: ProviderCalls<dyn TokenClient>,
    announcer: Announcer,
    clock: Arc<dyn Clock>,
}

impl ConnectionTokens {
    pub fn new(
        connections: Arc<dyn ConnectionStore>,
        vault: Vault,
        calls: ProviderCalls<dyn TokenClient>,
        announcer: Announcer,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            connections,
            vault,
            calls,
            announcer,
            clock,
        }
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The tokens stored for `connection`, opened.
    #[tracing::instrument(skip_all, fields(connection_id = %connection.id))]
    pub async fn open_stored(
        &self,
        connection: &Connection,
        stored: &StoredTokens,
    ) -> Result<TokenPair, ()> {
        open_tokens(&self.vault, connection, stored).await
    }

    /// A valid access token for `connection`, refreshed first when it is about to expire.
    #[tracing::instrument(skip_all, fields(connection_id = %connection.id))]
    pub async fn access_token(&self, connection: &Connection) -> Result<SecretString, AccessError> {
        let store = &self.connections;
        let (ws, user, id) = (
            &connection.workspace_id,
            &connection.user_id,
            &connection.id,
        );
        let deadline = self.now().plus_seconds(REFRESH_LEASE_SECONDS * 2);
        loop {
            let now = self.now();
            let tokens = store
                .get_tokens(ws, user, id)
                .await?
                .ok_or(AccessError::NotConnected)?;
            let leased = tokens.refreshing_until.is_some_and(|until| until > now);
            if !due(&tokens, now) && !leased {
                return Ok(self.open(connection, &tokens).await?.access_token);
            }
            if leased {
                if now > deadline {
                    return Err(AccessError::Unavailable(
                        "a concurrent refresh did not finish".into(),
                    ));
                }
                tokio::time::sleep(WAIT_STEP).await;
                continue;
            }
            let lease = StoredTokens {
                refreshing_until: Some(now.plus_seconds(REFRESH_LEASE_SECONDS)),
                ..tokens.clone()
            };
            if !store
                .replace_tokens(ws, user, id, tokens.version, &lease)
                .await?
            {
                continue; // someone else took the lease (or refreshed): read again
            }
            return self.refresh_holding_lease(connection, tokens).await;
        }
    }

    async fn open(
        &self,
        connection: &Connection,
        tokens: &StoredTokens,
    ) -> Result<TokenPair, AccessError> {
        open_tokens(&self.vault, connection, tokens)
            .await
            .map_err(|()| AccessError::Unavailable("stored tokens did not open".into()))
    }

    /// Runs with the lease held at version `before.version + 1`.
    async fn refresh_holding_lease(
        &self,
        connection: &Connection,
        before: StoredTokens,
    ) -> Result<SecretString, AccessError> {
        let store = &self.connections;
        let (ws, user, id) = (
            &connection.workspace_id,
            &connection.user_id,
            &connection.id,
        );
        let leased_version = before.version + 1;
        let release = || async {
            let unleased = StoredTokens {
                refreshing_until: None,
                ..before.clone()
            };
            if let Err(err) = store
                .replace_tokens(ws, user, id, leased_version, &unleased)
                .await
            {
                tracing::warn!(error = %err, "releasing the refresh lease failed; it expires on its own");
            }
        };
        let pair = match self.open(connection, &before).await {
            Ok(pair) => pair,
            Err(err) => {
                release().await;
                return Err(err);
            }
        };
        let Some(refresh_token) = pair.refresh_token.clone() else {
            release().await;
            self.mark_refresh_failed(connection).await;
            return Err(AccessError::Refused);
        };
        let client = self.calls.client();
        let provider = connection.provider;
        let refresh_token = &refresh_token;
        let refreshed = self
            .calls
            .with_app(provider, &connection.app(), None, |settings| async move {
                client.refresh(provider, &settings, refresh_token).await
            })
            .await;
        let grant = match refreshed {
            Ok(Some(grant)) => grant,
            Ok(None) => {
                release().await;
                return Err(AccessError::Unavailable(
                    "the provider is not enabled".into(),
                ));
            }
            Err(ProviderError::Refused { code, .. }) => {
                tracing::warn!(provider = %connection.provider, connection_id = %connection.id, code = %code, "refresh refused");
                release().await;
                self.mark_refresh_failed(connection).await;
                return Err(AccessError::Refused);
            }
            Err(err) => {
                release().await;
                return Err(AccessError::Unavailable(err.to_string()));
            }
        };
        let now = self.now();
        let expires_at = grant.expires_in.map(|seconds| now.plus_seconds(seconds));
        let fresh = TokenPair {
            access_token: grant.access_token,
            // Providers that do not rotate refresh tokens send none back: keep the old one.
            refresh_token: grant.refresh_token.or(pair.refresh_token),
        };
        let sealed = match seal_pair(&self.vault, connection, &fresh).await {
            Ok(sealed) => sealed,
            Err(()) => {
                release().await;
                return Err(AccessError::Unavailable("sealing tokens failed".into()));
            }
        };
        let stored = StoredTokens {
            sealed,
            version: leased_version + 1,
            expires_at,
            refreshing_until: None,
        };
        // Stored before use: a single-use refresh token is spent now, so the new pair must not
        // live only in memory.
        if !store
            .replace_tokens(ws, user, id, leased_version, &stored)
            .await?
        {
            return Err(AccessError::Unavailable(
                "the refresh lease was lost before the new tokens were stored".into(),
            ));
        }
        if let Ok(Some(current)) = store.get_connection(ws, user, id).await {
            let updated = Connection {
                token_expires_at: expires_at,
                updated_at: now,
                ..current
            };
            if let Err(err) = store.update_connection(&updated, &[]).await {
                tracing::warn!(error = %err, "recording the new token expiry failed");
            }
        }
        tracing::info!(provider = %connection.provider, connection_id = %connection.id, "tokens refreshed");
        Ok(fresh.access_token)
    }

    /// Treats the stored access token as expired, so the next `access_token` refreshes it
    /// (the provider refused it before its time).
    #[tracing::instrument(skip_all, fields(connection_id = %connection.id))]
    pub async fn expire_tokens(&self, connection: &Connection) -> Result<(), StoreError> {
        let store = &self.connections;
        let (ws, user, id) = (
            &connection.workspace_id,
            &connection.user_id,
            &connection.id,
        );
        if let Some(tokens) = store.get_tokens(ws, user, id).await? {
            let expired = StoredTokens {
                expires_at: Some(self.now()),
                ..tokens.clone()
            };
            // Losing this race means someone refreshed meanwhile: just as good.
            store
                .replace_tokens(ws, user, id, tokens.version, &expired)
                .await?;
        }
        Ok(())
    }

    async fn mark_refresh_failed(&self, connection: &Connection) {
        let store = &self.connections;
        let current = store
            .get_connection(
                &connection.workspace_id,
                &connection.user_id,
                &connection.id,
            )
            .await;
        if let Ok(Some(current)) = current {
            let failed = Connection {
                status: ConnectionStatus::Error,
                status_reason: Some(REFRESH_FAILED.into()),
                updated_at: self.now(),
                ..current
            };
            let data = with_fields(
                connection_data(&failed),
                serde_json::json!({ "reason": REFRESH_FAILED }),
            );
            let written =
                match self
                    .announcer
                    .entry(&failed.workspace_id, EventType::ConnectionError, data)
                {
                    Ok(announced) => store
                        .update_connection(&failed, &[announced])
                        .await
                        .map_err(DomainError::from),
                    Err(err) => Err(err),
                };
            match written {
                Ok(_) => {}
                Err(err) => {
                    tracing::error!(error = %err, "marking the connection failed did not save");
                }
            }
        }
    }
}

/// Whose tokens these are: bound into their encryption, so they open only for that account.
pub fn token_context(connection: &Connection) -> EncryptionContext {
    EncryptionContext::new(
        &connection.workspace_id,
        format!(
            "connection:{}/{}/{}",
            connection.user_id, connection.provider, connection.provider_user_id
        ),
    )
}

/// Seals a grant's tokens for `connection`'s account.
pub(crate) async fn seal_tokens(
    vault: &Vault,
    connection: &Connection,
    grant: TokenGrant,
) -> Result<crate::kernel::secrets::SealedSecret, ()> {
    let pair = TokenPair {
        access_token: grant.access_token,
        refresh_token: grant.refresh_token,
    };
    seal_pair(vault, connection, &pair).await
}

pub(crate) async fn seal_pair(
    vault: &Vault,
    connection: &Connection,
    pair: &TokenPair,
) -> Result<crate::kernel::secrets::SealedSecret, ()> {
    let plaintext = serde_json::to_vec(pair).map_err(|_| ())?;
    vault
        .seal(&plaintext, &token_context(connection))
        .await
        .map_err(|err| tracing::error!(error = %err, "sealing tokens failed"))
}

pub(crate) async fn open_tokens(
    vault: &Vault,
    connection: &Connection,
    stored: &StoredTokens,
) -> Result<TokenPair, ()> {
    use secrecy::ExposeSecret;
    let plaintext = vault
        .open(&stored.sealed, &token_context(connection))
        .await
        .map_err(|err| tracing::error!(error = %err, "opening tokens failed"))?;
    serde_json::from_slice(plaintext.expose_secret())
        .map_err(|_| tracing::error!("stored tokens are not a token pair"))
}
