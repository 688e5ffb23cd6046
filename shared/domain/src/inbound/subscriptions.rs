//! Asking providers to push: Withings per user (subscribed after connecting, unsubscribed on
//! disconnecting, re-registered on request), Strava and Oura per app (by the operator, once).
//! WHOOP, Garmin, Polar and Google Health are set up in their developer portals.

use crate::connections::tokens::{AccessError, ConnectionTokens};
use crate::connections::{Connection, ConnectionStatus};
use crate::kernel::error::DomainError;
use crate::kernel::ids::{ConnectionId, UserId, WorkspaceId};
use crate::kernel::outbox::{OutboxAction, OutboxEntry};
use crate::kernel::scope::Scope;
use crate::kernel::time::Clock;
use crate::ports::ConnectionStore;
use crate::providers::ProviderId;
use crate::providers::apps::AppRef;
use crate::providers::client::{AppSubscription, ProviderCalls, ProviderError, SubscriptionClient};
use crate::providers::redirects::ConnectSettings;
use crate::tenancy::api_key::Principal;
use crate::users::UserDirectory;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The job-queue message asking the worker to subscribe a new connection's webhooks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscribeMessage {
    pub subscribe_connection_id: ConnectionId,
    pub workspace_id: WorkspaceId,
    pub user_id: UserId,
}

/// What registering a connection's webhooks did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub provider: ProviderId,
    pub callback_url: String,
    /// The provider's names for what is now subscribed (Withings `appli` codes).
    pub subscribed: Vec<String>,
}

/// Whether the provider takes a webhook subscription per user (else per app or portal).
pub fn subscribes_per_user(provider: ProviderId) -> bool {
    provider == ProviderId::Withings
}

/// Whether the provider's app-level subscriptions can be made through its API.
pub fn subscribes_per_app(provider: ProviderId) -> bool {
    matches!(provider, ProviderId::Strava | ProviderId::Oura)
}

fn provider_refusal(provider: ProviderId, err: ProviderError) -> DomainError {
    match err {
        ProviderError::Refused { code, description } => {
            tracing::warn!(provider = %provider, code = %code, "the provider refused a subscription");
            DomainError::Conflict(format!(
                "{} refused the subscription ({code}): {description}",
                provider.info().name
            ))
        }
        ProviderError::Unavailable(reason) | ProviderError::Protocol(reason) => {
            tracing::warn!(provider = %provider, reason = %reason, "a subscription call failed");
            DomainError::Unavailable("the provider")
        }
    }
}

/// Providers' webhook subscriptions: per connection (queued after connecting, ended before
/// disconnecting, registered again on request) and per app (by the operator).
#[derive(Clone)]
pub struct WebhookSubscriptions {
    directory: UserDirectory,
    connections: Arc<dyn ConnectionStore>,
    tokens: ConnectionTokens,
    calls: ProviderCalls<dyn SubscriptionClient>,
    addresses: Arc<ConnectSettings>,
    clock: Arc<dyn Clock>,
}

impl WebhookSubscriptions {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        directory: UserDirectory,
        connections: Arc<dyn ConnectionStore>,
        tokens: ConnectionTokens,
        calls: ProviderCalls<dyn SubscriptionClient>,
        addresses: Arc<ConnectSettings>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            directory,
            connections,
            tokens,
            calls,
            addresses,
            clock,
        }
    }

    /// The callback URL for `provider`'s webhooks.
    fn webhook_callback(&self, provider: ProviderId, app: &AppRef) -> Result<String, DomainError> {
        self.addresses
            .app_webhook_callback(provider, app)
            .ok_or(DomainError::Unavailable(
                "a public webhook URL (set VITASYNC_WEBHOOK_URL or VITASYNC_PUBLIC_URL)",
            ))
    }

    /// Subscribes the connection's account to webhooks again (after a fix to the callback
    /// URL, say). Only for providers that subscribe per user.
    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id, user_id = %user_id, connection_id = %connection_id))]
    pub async fn register_connection_webhooks(
        &self,
        caller: &Principal,
        user_id: &str,
        connection_id: &str,
    ) -> Result<Registration, DomainError> {
        caller.require(Scope::Write)?;
        let connection = self
            .directory
            .get_connection(caller, user_id, connection_id)
            .await?;
        let provider = connection.provider;
        if !subscribes_per_user(provider) {
            return Err(DomainError::Conflict(format!(
                "{} webhooks are set up once for the whole app{}, not per connection",
                provider.info().name,
                if subscribes_per_app(provider) {
                    " (POST /v1/providers/{providerId}/webhook-subscriptions)"
                } else {
                    " in its developer portal"
                }
            )));
        }
        if connection.status != ConnectionStatus::Active {
            return Err(DomainError::Conflict(
                "the connection is not active; connect the account again first".into(),
            ));
        }
        let callback_url = self.webhook_callback(provider, &connection.app())?;
        let token = self
            .tokens
            .access_token(&connection)
            .await
            .map_err(|err| match err {
                AccessError::NotConnected | AccessError::Refused => DomainError::Conflict(
                    "the connection's access was refused; connect the account again".into(),
                ),
                AccessError::Unavailable(_) => DomainError::Unavailable("the provider"),
            })?;
        let subscribed = self
            .subscribe_with(&connection, &token, &callback_url)
            .await
            .map_err(|err| provider_refusal(provider, err))?;
        Ok(Registration {
            provider,
            callback_url,
            subscribed,
        })
    }

    async fn subscribe_with(
        &self,
        connection: &Connection,
        token: &SecretString,
        callback_url: &str,
    ) -> Result<Vec<String>, ProviderError> {
        let client = self.calls.client();
        let provider = connection.provider;
        self.calls
            .with_app(provider, &connection.app(), None, |settings| async move {
                client
                    .subscribe_user(provider, &settings, token, callback_url)
                    .await
            })
            .await?
            .ok_or_else(|| ProviderError::Protocol("the provider is not enabled".into()))
    }

    /// The outbox entry that queues the subscription of a new connection's webhooks, where
    /// the provider takes them per user: written with the connection.
    pub fn subscription_entry(&self, connection: &Connection) -> Option<OutboxEntry> {
        if !subscribes_per_user(connection.provider) {
            return None;
        }
        let message = SubscribeMessage {
            subscribe_connection_id: connection.id.clone(),
            workspace_id: connection.workspace_id.clone(),
            user_id: connection.user_id.clone(),
        };
        let body = serde_json::to_string(&message).ok()?;
        Some(OutboxEntry::new(
            connection.workspace_id.clone(),
            self.clock.now(),
            OutboxAction::Job { body },
        ))
    }

    /// The worker's side of `subscription_entry`.
    #[tracing::instrument(skip_all)]
    pub async fn process_subscribe(&self, message: SubscribeMessage) -> Result<(), DomainError> {
        if let Some(connection) = self
            .connections
            .get_connection(
                &message.workspace_id,
                &message.user_id,
                &message.subscribe_connection_id,
            )
            .await?
            .filter(|c| c.status == ConnectionStatus::Active)
        {
            self.subscribe_after_connect(&connection).await;
        }
        Ok(())
    }

    /// After connecting: the account's webhooks, where the provider subscribes per user.
    /// Connecting has succeeded either way; polling covers a failed subscription.
    pub(crate) async fn subscribe_after_connect(&self, connection: &Connection) {
        if !subscribes_per_user(connection.provider) {
            return;
        }
        let Ok(callback_url) = self.webhook_callback(connection.provider, &connection.app()) else {
            return;
        };
        let outcome = match self.tokens.access_token(connection).await {
            Ok(token) => self
                .subscribe_with(connection, &token, &callback_url)
                .await
                .map_err(|err| err.to_string()),
            Err(err) => Err(err.to_string()),
        };
        match outcome {
            Ok(subscribed) => {
                tracing::info!(connection_id = %connection.id, categories = subscribed.len(), "webhooks subscribed");
            }
            Err(reason) => {
                tracing::warn!(connection_id = %connection.id, reason = %reason, "webhooks could not be subscribed; polling covers the account");
            }
        }
    }

    /// Before disconnecting: ends the account's per-user subscriptions.
    #[tracing::instrument(skip_all, fields(connection_id = %connection.id))]
    pub async fn unsubscribe_before_disconnect(
        &self,
        connection: &Connection,
        token: &SecretString,
    ) {
        if !subscribes_per_user(connection.provider) {
            return;
        }
        let Ok(callback_url) = self.webhook_callback(connection.provider, &connection.app()) else {
            return;
        };
        let Ok(Some(provider_settings)) = self
            .calls
            .resolved(connection.provider, &connection.app())
            .await
        else {
            return;
        };
        if let Err(err) = self
            .calls
            .client()
            .unsubscribe_user(
                connection.provider,
                &provider_settings,
                token,
                &callback_url,
            )
            .await
        {
            tracing::warn!(connection_id = %connection.id, error = %err, "webhooks could not be unsubscribed");
        }
    }

    /// Makes sure the app-level subscriptions at `provider` exist and are not about to expire:
    /// the caller's workspace's own app's (an admin key of it), else the deployment's (the root
    /// key: that app serves every workspace). Safe to repeat.
    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id, provider = %provider))]
    pub async fn subscribe_provider_app(
        &self,
        caller: &Principal,
        provider: &str,
    ) -> Result<(ProviderId, String, Vec<AppSubscription>), DomainError> {
        let provider = ProviderId::parse(provider).ok_or(DomainError::NotFound("provider"))?;
        let app = self
            .calls
            .app_for(&caller.workspace_id, provider)
            .await
            .map_err(|err| provider_refusal(provider, err))?;
        match &app {
            Some(AppRef::Workspace(_)) => caller.require(Scope::Admin)?,
            Some(AppRef::Deployment) => caller.require_root()?,
            None => {
                caller.require_root()?;
                return Err(DomainError::NotFound("provider"));
            }
        }
        let app = app.unwrap_or(AppRef::Deployment);
        if !subscribes_per_app(provider) {
            return Err(DomainError::Conflict(format!(
                "{} webhooks are {}",
                provider.info().name,
                if subscribes_per_user(provider) {
                    "subscribed per connection, when it is made"
                } else {
                    "set up in its developer portal"
                }
            )));
        }
        let callback_url = self.webhook_callback(provider, &app)?;
        let (client, callback, now) = (self.calls.client(), &callback_url, self.clock.now());
        let subscriptions = self
            .calls
            .with_app(provider, &app, None, |settings| async move {
                client
                    .subscribe_app(provider, &settings, callback, now)
                    .await
            })
            .await
            .map_err(|err| provider_refusal(provider, err))?
            .ok_or(DomainError::NotFound("provider"))?;
        Ok((provider, callback_url, subscriptions))
    }
}
