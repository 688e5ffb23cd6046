//! The port through which the use cases talk to providers' OAuth servers and APIs. The domain
//! decides when to call; the adapter (`vitasync-providers`) knows each provider's wire quirks.

use crate::health::{DataType, HealthBatch, Metric, SessionKind};
use crate::kernel::ids::{AppId, WorkspaceId};
use crate::kernel::time::Timestamp;
use crate::providers::apps::{AppRef, ProviderApp, WorkspaceApps};
use crate::providers::{ProviderId, ProviderSettings};
use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use thiserror::Error;

/// Where to send the user, and the PKCE verifier to keep for the code exchange.
#[derive(Debug)]
pub struct AuthorizationRequest {
    pub url: String,
    pub pkce_verifier: Option<String>,
}

/// The authorization code the provider sent back, and what must accompany it.
#[derive(Debug)]
pub struct CodeExchange {
    pub code: String,
    pub redirect_uri: String,
    pub pkce_verifier: Option<String>,
}

/// What a token endpoint granted.
#[derive(Debug)]
pub struct TokenGrant {
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    /// Seconds the access token lives, as the provider said.
    pub expires_in: Option<i64>,
    /// The scopes granted, when the provider says so.
    pub scopes: Option<Vec<String>>,
    /// The account's id, when the token response carries it (Withings, Strava, Polar).
    pub provider_user_id: Option<String>,
}

/// The provider account behind a fresh grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderAccount {
    pub provider_user_id: String,
    /// Scopes or permissions read from the provider's API, when it has such a call.
    pub scopes: Option<Vec<String>>,
}

/// A connection's tokens in the clear. Only ever held in memory; stored sealed.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenPair {
    #[serde(serialize_with = "expose")]
    pub access_token: SecretString,
    #[serde(serialize_with = "expose_option", default)]
    pub refresh_token: Option<SecretString>,
}

fn expose<S: serde::Serializer>(secret: &SecretString, out: S) -> Result<S::Ok, S::Error> {
    out.serialize_str(secret.expose_secret())
}

fn expose_option<S: serde::Serializer>(
    secret: &Option<SecretString>,
    out: S,
) -> Result<S::Ok, S::Error> {
    match secret {
        Some(secret) => out.serialize_some(secret.expose_secret()),
        None => out.serialize_none(),
    }
}

impl std::fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenPair([redacted])")
    }
}

#[derive(Debug, Error)]
pub enum ProviderError {
    /// The provider answered and said no (`invalid_grant`, a bad code, missing consents…).
    /// `code` is the provider's error code; neither field holds secrets.
    #[error("the provider refused: {code}")]
    Refused { code: String, description: String },
    /// The provider could not be reached, timed out, rate-limited us or failed (5xx).
    #[error("the provider is unavailable: {0}")]
    Unavailable(String),
    /// The provider answered something we cannot read.
    #[error("unexpected provider reply: {0}")]
    Protocol(String),
}

impl ProviderError {
    pub fn refused(code: impl Into<String>, description: impl Into<String>) -> Self {
        Self::Refused {
            code: code.into(),
            description: description.into(),
        }
    }
}

/// A webhook subscription the provider holds for the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppSubscription {
    pub id: String,
    /// What it sends (`update sleep`, `all events`).
    pub covers: String,
    pub expires_at: Option<Timestamp>,
}

/// What a sync asks a provider for.
#[derive(Debug, Clone)]
pub struct FetchRequest {
    pub from: Timestamp,
    pub to: Timestamp,
    /// The data types wanted; empty means all the provider has.
    pub data_types: Vec<DataType>,
    /// The account's id at the provider.
    pub provider_user_id: String,
    /// The scopes the user granted; empty when the provider does not say (then every call is
    /// tried, and a refusal skips that data).
    pub granted_scopes: Vec<String>,
    /// The provider's call budget, shared across workers: spend one before each call.
    pub budget: crate::providers::rate_budget::CallBudget,
    /// The account's IANA zone as last learnt (`HealthBatch::time_zone`): for the records a
    /// provider stamps with no zone of their own.
    pub time_zone: Option<String>,
    /// When the account was last synced up to; `None` before its first sync.
    pub last_synced_at: Option<Timestamp>,
}

impl FetchRequest {
    pub fn wants(&self, metric: Metric) -> bool {
        self.data_types.is_empty() || self.data_types.contains(&DataType::Metric(metric))
    }

    /// Whether the user granted `scope` (or we cannot tell).
    pub fn granted(&self, scope: &str) -> bool {
        self.granted_scopes.is_empty() || self.granted_scopes.iter().any(|s| s == scope)
    }

    /// Whether a data type (a metric or a kind of session) is asked for.
    pub fn wants_type(&self, data_type: DataType) -> bool {
        match data_type {
            DataType::Metric(metric) => self.wants(metric),
            DataType::Session(kind) => self.wants_sessions(kind),
        }
    }

    /// Of `types`, the ones asked for.
    pub fn wanted(&self, types: &[DataType]) -> Vec<DataType> {
        types
            .iter()
            .copied()
            .filter(|t| self.wants_type(*t))
            .collect()
    }

    pub fn wants_sessions(&self, kind: SessionKind) -> bool {
        self.data_types.is_empty() || self.data_types.contains(&DataType::Session(kind))
    }
}

/// Why a data fetch did not bring data.
#[derive(Debug, Error)]
pub enum FetchError {
    /// The access token was not accepted (expired early, or revoked): refresh and try again.
    #[error("the provider did not accept the access token")]
    Unauthorized,
    /// The user or the provider ended our access.
    #[error("access was revoked at the provider")]
    Revoked,
    /// Throttled: try again after this long.
    #[error("rate limited for {0:?}")]
    RateLimited(Duration),
    /// Down, failing (5xx) or timing out: try again later.
    #[error("the provider is unavailable: {0}")]
    Unavailable(String),
    /// The provider answered something we cannot read, or we cannot sync it yet.
    #[error("unexpected provider reply: {0}")]
    Protocol(String),
}

// The provider client port comes in capabilities, so a function that only builds consent URLs
// (or only reads pushes) links only that part of the adapter: a trait object's vtable keeps
// every method of its trait.

/// Builds consent URLs (no call to the provider).
#[async_trait]
pub trait Authorizer: Send + Sync {
    /// The provider's consent URL for `state`, with PKCE when the provider takes it.
    fn authorization(
        &self,
        provider: ProviderId,
        settings: &ProviderSettings,
        redirect_uri: &str,
        state: &str,
    ) -> Result<AuthorizationRequest, ProviderError>;
}

/// OAuth token calls: code exchange, refresh, the account behind a grant, revocation.
#[async_trait]
pub trait TokenClient: Send + Sync {
    async fn exchange_code(
        &self,
        provider: ProviderId,
        settings: &ProviderSettings,
        exchange: &CodeExchange,
    ) -> Result<TokenGrant, ProviderError>;

    async fn refresh(
        &self,
        provider: ProviderId,
        settings: &ProviderSettings,
        refresh_token: &SecretString,
    ) -> Result<TokenGrant, ProviderError>;

    /// Finds (and where the provider needs it, registers) the account behind `grant`.
    /// `member_id` is VitaSync's id for the user, for providers that want one (Polar).
    async fn identify(
        &self,
        provider: ProviderId,
        settings: &ProviderSettings,
        grant: &TokenGrant,
        member_id: &str,
    ) -> Result<ProviderAccount, ProviderError>;

    /// Ends the app's access at the provider, where the provider has a way to.
    async fn revoke(
        &self,
        provider: ProviderId,
        settings: &ProviderSettings,
        tokens: &TokenPair,
        provider_user_id: &str,
    ) -> Result<(), ProviderError>;
}

/// Reading a user's data: fetched for a window, or mapped from what the provider pushed.
#[async_trait]
pub trait DataClient: Send + Sync {
    /// The user's data for a window, normalised.
    async fn fetch_data(
        &self,
        provider: ProviderId,
        settings: &ProviderSettings,
        access_token: &SecretString,
        request: &FetchRequest,
    ) -> Result<HealthBatch, FetchError>;

    /// Maps data a provider pushed (`{ "<summary type>": [ … ] }`) into the schema.
    fn map_pushed(
        &self,
        provider: ProviderId,
        body: &serde_json::Value,
        request: &FetchRequest,
    ) -> Result<HealthBatch, FetchError>;
}

/// Verifying and reading providers' webhook requests.
#[async_trait]
pub trait PushReader: Send + Sync {
    /// Verifies a webhook request (signature over the raw body, tokens, timestamps) and reads
    /// it: the reply the provider expects, and the notices to act on (none when refused or a
    /// handshake). Never fails: a refusal is a reply.
    async fn receive_push(
        &self,
        provider: ProviderId,
        settings: &ProviderSettings,
        request: &crate::providers::push::PushRequest,
        now: Timestamp,
    ) -> crate::providers::push::PushOutcome;
}

/// Asking providers to push: per user and per app.
#[async_trait]
pub trait SubscriptionClient: Send + Sync {
    /// Asks the provider to notify `callback_url` of this user's new data, where it takes
    /// per-user subscriptions (Withings); answers what was subscribed (empty elsewhere).
    async fn subscribe_user(
        &self,
        provider: ProviderId,
        settings: &ProviderSettings,
        access_token: &SecretString,
        callback_url: &str,
    ) -> Result<Vec<String>, ProviderError>;

    /// Ends what `subscribe_user` started.
    async fn unsubscribe_user(
        &self,
        provider: ProviderId,
        settings: &ProviderSettings,
        access_token: &SecretString,
        callback_url: &str,
    ) -> Result<(), ProviderError>;

    /// Makes sure the app's own subscriptions (Strava, Oura) exist and are not about to
    /// expire; lists them.
    async fn subscribe_app(
        &self,
        provider: ProviderId,
        settings: &ProviderSettings,
        callback_url: &str,
        now: Timestamp,
    ) -> Result<Vec<AppSubscription>, ProviderError>;
}

/// Every capability: what the local host (which serves every route) hands its services.
pub trait ProviderClient:
    Authorizer + TokenClient + DataClient + PushReader + SubscriptionClient
{
}

impl<T> ProviderClient for T where
    T: Authorizer + TokenClient + DataClient + PushReader + SubscriptionClient
{
}

/// The providers this deployment connects to, the workspaces' own apps, and the client that
/// calls them. Settings come resolved: the demo provider's relative URLs made absolute against
/// the public URL.
pub struct ProviderCalls<C: ?Sized> {
    client: std::sync::Arc<C>,
    registry: std::sync::Arc<crate::providers::ProviderRegistry>,
    apps: WorkspaceApps,
    public_url: Option<String>,
}

impl<C: ?Sized> Clone for ProviderCalls<C> {
    fn clone(&self) -> Self {
        Self {
            client: self.client.clone(),
            registry: self.registry.clone(),
            apps: self.apps.clone(),
            public_url: self.public_url.clone(),
        }
    }
}

fn app_unavailable(provider: ProviderId, err: &dyn std::fmt::Display) -> ProviderError {
    tracing::error!(provider = %provider, error = %err, "the provider app could not be read");
    ProviderError::Unavailable("the provider app could not be read".into())
}

impl<C: ?Sized> ProviderCalls<C> {
    pub fn new(
        client: std::sync::Arc<C>,
        registry: std::sync::Arc<crate::providers::ProviderRegistry>,
        apps: WorkspaceApps,
        public_url: Option<String>,
    ) -> Self {
        Self {
            client,
            registry,
            apps,
            public_url,
        }
    }

    pub fn client(&self) -> &C {
        self.client.as_ref()
    }

    pub fn registry(&self) -> &crate::providers::ProviderRegistry {
        &self.registry
    }

    fn base(&self) -> &str {
        self.public_url.as_deref().unwrap_or_default()
    }

    /// The app a new connection of `workspace` to `provider` is made with: the workspace's
    /// own, else the deployment's; `None` when there is neither.
    pub async fn app_for(
        &self,
        workspace: &WorkspaceId,
        provider: ProviderId,
    ) -> Result<Option<AppRef>, ProviderError> {
        Ok(self
            .consent(workspace, provider, self.base())
            .await?
            .map(|(app, _)| app))
    }

    /// The app a new connection of `workspace` to `provider` is made with, and the settings its
    /// consent URL needs (ids and URLs against `base`, no secret), with one read of the store.
    pub async fn consent(
        &self,
        workspace: &WorkspaceId,
        provider: ProviderId,
        base: &str,
    ) -> Result<Option<(AppRef, ProviderSettings)>, ProviderError> {
        if crate::providers::ProviderRegistry::takes_workspace_apps(provider)
            && let Some(app) = self
                .apps
                .current(workspace, provider)
                .await
                .map_err(|err| app_unavailable(provider, &err))?
        {
            return Ok(self
                .registry
                .workspace_app(provider, &app.client_id, app.region.as_deref(), None, base)
                .map(|settings| (AppRef::Workspace(app.id), settings)));
        }
        Ok(self
            .registry
            .consent_app(provider, base)
            .map(|settings| (AppRef::Deployment, settings)))
    }

    /// A workspace's app by its id (the push URL names it), when it is `provider`'s.
    pub async fn app_by_id(
        &self,
        provider: ProviderId,
        id: &AppId,
    ) -> Result<Option<ProviderApp>, ProviderError> {
        let app = self
            .apps
            .by_id(id)
            .await
            .map_err(|err| app_unavailable(provider, &err))?;
        Ok(app.filter(|app| app.provider == provider))
    }

    /// `provider`'s `app` with its secrets, resolved against the public URL; `None` when it
    /// is not enabled (or the workspace's app was removed).
    pub async fn resolved(
        &self,
        provider: ProviderId,
        app: &AppRef,
    ) -> Result<Option<ProviderSettings>, ProviderError> {
        self.resolved_at(provider, app, self.base()).await
    }

    /// `provider`'s `app` with its secrets, resolved against `base`.
    pub async fn resolved_at(
        &self,
        provider: ProviderId,
        app: &AppRef,
        base: &str,
    ) -> Result<Option<ProviderSettings>, ProviderError> {
        match app {
            AppRef::Deployment => self
                .registry
                .app(provider, base)
                .await
                .map_err(|err| app_unavailable(provider, &err)),
            AppRef::Workspace(id) => {
                let Some(app) = self.app_by_id(provider, id).await? else {
                    return Ok(None);
                };
                self.workspace_settings(&app, base).await.map(Some)
            }
        }
    }

    /// A workspace app's settings with its secrets opened.
    pub async fn workspace_settings(
        &self,
        app: &ProviderApp,
        base: &str,
    ) -> Result<ProviderSettings, ProviderError> {
        let secrets = self
            .apps
            .secrets(app)
            .await
            .map_err(|err| app_unavailable(app.provider, &err))?;
        self.registry
            .workspace_app(
                app.provider,
                &app.client_id,
                app.region.as_deref(),
                Some(&secrets),
                base,
            )
            .ok_or_else(|| ProviderError::Protocol("the provider takes no app".into()))
    }

    /// Makes `call` with `provider`'s `app` (`None` when it is not enabled). When the provider
    /// refuses the deployment's app itself, its secrets may have been rotated: they are read
    /// again and the call made once more. (A workspace's app is read afresh for every call.)
    pub async fn with_app<T, F, Fut>(
        &self,
        provider: ProviderId,
        app: &AppRef,
        base: Option<&str>,
        call: F,
    ) -> Result<Option<T>, ProviderError>
    where
        F: Fn(ProviderSettings) -> Fut,
        Fut: std::future::Future<Output = Result<T, ProviderError>>,
    {
        let base = base.unwrap_or(self.base());
        let Some(settings) = self.resolved_at(provider, app, base).await? else {
            return Ok(None);
        };
        match call(settings).await {
            Err(err)
                if *app == AppRef::Deployment
                    && refuses_the_app(&err)
                    && self.registry.reread_after_refusal(provider) =>
            {
                tracing::warn!(provider = %provider, "the provider refused the app's credentials; reading them again");
                match self.resolved_at(provider, app, base).await? {
                    Some(settings) => call(settings).await.map(Some),
                    None => Err(err),
                }
            }
            outcome => outcome.map(Some),
        }
    }
}

/// Whether a refusal is of the app's credentials rather than of the user's grant.
fn refuses_the_app(err: &ProviderError) -> bool {
    matches!(err, ProviderError::Refused { code, .. } if code == "invalid_client" || code == "unauthorized_client")
}
