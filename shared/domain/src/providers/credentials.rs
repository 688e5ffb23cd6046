//! `PUT|GET|DELETE /v1/providers/{providerId}/credentials`: a workspace brings its own app for a
//! provider. Its secrets are sealed for the workspace and the app and never returned; what is
//! told back is whether an app is configured, since when, and what to register at the provider
//! (the redirect URI and the app's own webhook URL).

use crate::kernel::error::DomainError;
use crate::kernel::ids::AppId;
use crate::kernel::scope::Scope;
use crate::kernel::secrets::Vault;
use crate::kernel::time::{Clock, Timestamp};
use crate::providers::apps::{AppRef, AppSecrets, ProviderApp, ProviderAppStore, app_context};
use crate::providers::redirects::ConnectSettings;
use crate::providers::{ProviderId, ProviderRegistry};
use crate::tenancy::api_key::Principal;
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;

/// What a workspace gives for its app.
#[derive(Debug)]
pub struct AppCredentials {
    pub client_id: String,
    pub client_secret: SecretString,
    /// Polar's `signature_secret_key`, the secret in Garmin's push URL, Google Health's
    /// endpoint authorization secret.
    pub webhook_secret: Option<SecretString>,
    /// The verify token given to Strava or Oura when subscribing.
    pub verify_token: Option<SecretString>,
    /// Suunto's API subscription key (required for Suunto).
    pub subscription_key: Option<SecretString>,
    /// The region the app is registered in (Dexcom: `us` by default, `eu`, `jp`, `sandbox`).
    pub region: Option<String>,
}

/// A workspace's app for a provider, as told back: never a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppStatus {
    pub provider: ProviderId,
    pub app: Option<ConfiguredApp>,
    /// The redirect URI to register at the provider (the same for every app).
    pub callback_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfiguredApp {
    pub id: AppId,
    pub client_id: String,
    pub has_webhook_secret: bool,
    pub has_verify_token: bool,
    pub region: Option<String>,
    pub configured_at: Timestamp,
    /// Where the provider pushes for this app (Garmin: followed by `/<webhookSecret>`).
    pub webhook_url: Option<String>,
}

const MAX_CLIENT_ID: usize = 256;
const MAX_SECRET: usize = 2048;
/// Garmin's secret is the proof of origin in its URL: long, and safe in a path.
const MIN_PATH_SECRET: usize = 16;

/// Which webhook secrets a provider uses.
fn uses_webhook_secret(provider: ProviderId) -> bool {
    matches!(
        provider,
        ProviderId::Polar
            | ProviderId::Garmin
            | ProviderId::Fitbit
            | ProviderId::Suunto
            | ProviderId::Wahoo
    )
}

fn uses_verify_token(provider: ProviderId) -> bool {
    matches!(provider, ProviderId::Strava | ProviderId::Oura)
}

fn printable(value: &str) -> bool {
    !value.chars().any(char::is_control)
}

fn check_secret(field: &str, value: &SecretString) -> Result<(), DomainError> {
    let value = value.expose_secret();
    if value.is_empty() || value.len() > MAX_SECRET || !printable(value) {
        return Err(DomainError::validation(
            field,
            format!("must be 1 to {MAX_SECRET} printable characters"),
        ));
    }
    Ok(())
}

/// The credentials, checked for `provider`.
fn validated(provider: ProviderId, credentials: &AppCredentials) -> Result<(), DomainError> {
    let client_id = credentials.client_id.as_str();
    if client_id.trim().is_empty()
        || client_id.len() > MAX_CLIENT_ID
        || !printable(client_id)
        || client_id.trim() != client_id
    {
        return Err(DomainError::validation(
            "clientId",
            format!("must be 1 to {MAX_CLIENT_ID} printable characters, no surrounding spaces"),
        ));
    }
    check_secret("clientSecret", &credentials.client_secret)?;
    let name = provider.info().name;
    if let Some(secret) = &credentials.webhook_secret {
        if !uses_webhook_secret(provider) {
            return Err(DomainError::validation(
                "webhookSecret",
                format!("{name} signs its webhooks with the client secret or not at all"),
            ));
        }
        check_secret("webhookSecret", secret)?;
        let path_safe = secret
            .expose_secret()
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if provider == ProviderId::Garmin
            && (secret.expose_secret().len() < MIN_PATH_SECRET || !path_safe)
        {
            return Err(DomainError::validation(
                "webhookSecret",
                format!(
                    "Garmin's is part of its push URL: at least {MIN_PATH_SECRET} letters, \
                     digits, '-' or '_'"
                ),
            ));
        }
    }
    if let Some(token) = &credentials.verify_token {
        if !uses_verify_token(provider) {
            return Err(DomainError::validation(
                "verifyToken",
                format!("{name} takes no verify token"),
            ));
        }
        check_secret("verifyToken", token)?;
    }
    match (&credentials.subscription_key, provider) {
        (Some(key), ProviderId::Suunto) => check_secret("subscriptionKey", key)?,
        (None, ProviderId::Suunto) => {
            return Err(DomainError::validation(
                "subscriptionKey",
                "is required: Suunto wants its API subscription key on every call",
            ));
        }
        (Some(_), _) => {
            return Err(DomainError::validation(
                "subscriptionKey",
                format!("{name} takes no subscription key"),
            ));
        }
        (None, _) => {}
    }
    match (&credentials.region, provider) {
        (Some(region), ProviderId::Dexcom) if crate::providers::dexcom_host(region).is_none() => {
            return Err(DomainError::validation(
                "region",
                "must be us, eu, jp or sandbox",
            ));
        }
        (Some(_), ProviderId::Dexcom) | (None, _) => {}
        (Some(_), _) => {
            return Err(DomainError::validation(
                "region",
                format!("{name} has one region"),
            ));
        }
    }
    Ok(())
}

/// Workspaces' own provider apps, managed with an admin key of the workspace.
#[derive(Clone)]
pub struct ProviderCredentials {
    store: Arc<dyn ProviderAppStore>,
    vault: Vault,
    addresses: Arc<ConnectSettings>,
    clock: Arc<dyn Clock>,
}

impl ProviderCredentials {
    pub fn new(
        store: Arc<dyn ProviderAppStore>,
        vault: Vault,
        addresses: Arc<ConnectSettings>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            vault,
            addresses,
            clock,
        }
    }

    fn provider(raw: &str) -> Result<ProviderId, DomainError> {
        let provider = ProviderId::parse(raw).ok_or(DomainError::NotFound("provider"))?;
        if !ProviderRegistry::takes_workspace_apps(provider) {
            return Err(DomainError::validation(
                "providerId",
                format!("{} takes no app of a workspace's own", provider.info().name),
            ));
        }
        Ok(provider)
    }

    fn status(&self, provider: ProviderId, app: Option<&ProviderApp>) -> AppStatus {
        let callback_url = self.addresses.public_url.as_deref().map(|base| {
            format!(
                "{}/v1/oauth/{provider}/callback",
                base.trim_end_matches('/')
            )
        });
        AppStatus {
            provider,
            callback_url,
            app: app.map(|app| ConfiguredApp {
                id: app.id.clone(),
                client_id: app.client_id.clone(),
                has_webhook_secret: app.has_webhook_secret,
                has_verify_token: app.has_verify_token,
                region: app.region.clone(),
                configured_at: app.configured_at,
                webhook_url: self
                    .addresses
                    .app_webhook_callback(provider, &AppRef::Workspace(app.id.clone())),
            }),
        }
    }

    /// Sets the workspace's app for `provider` (replacing its credentials; the app keeps its
    /// id, so its webhook URL stays).
    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id, provider = %provider))]
    pub async fn configure(
        &self,
        caller: &Principal,
        provider: &str,
        credentials: AppCredentials,
    ) -> Result<AppStatus, DomainError> {
        caller.require(Scope::Admin)?;
        let provider = Self::provider(provider)?;
        validated(provider, &credentials)?;
        let workspace = &caller.workspace_id;
        let id = match self.store.get_app(workspace, provider).await? {
            Some(existing) => existing.id,
            None => AppId::generate(),
        };
        let secrets = AppSecrets {
            client_secret: credentials.client_secret,
            webhook_secret: credentials.webhook_secret,
            verify_token: credentials.verify_token,
            subscription_key: credentials.subscription_key,
        };
        let sealed = secrets
            .seal(&self.vault, &app_context(workspace, provider, &id))
            .await
            .map_err(|err| {
                tracing::error!(error = %err, "sealing the app's secrets failed");
                DomainError::Unavailable("the key service")
            })?;
        let app = ProviderApp {
            id,
            workspace_id: workspace.clone(),
            provider,
            client_id: credentials.client_id,
            sealed,
            has_webhook_secret: secrets.webhook_secret.is_some(),
            has_verify_token: secrets.verify_token.is_some(),
            region: credentials.region.map(|region| region.to_ascii_lowercase()),
            configured_at: self.clock.now(),
        };
        self.store.put_app(&app).await?;
        tracing::info!(app_id = %app.id, "the workspace's provider app was configured");
        Ok(self.status(provider, Some(&app)))
    }

    /// Whether the workspace has its own app for `provider`, and since when.
    pub async fn get(&self, caller: &Principal, provider: &str) -> Result<AppStatus, DomainError> {
        caller.require(Scope::Admin)?;
        let provider = Self::provider(provider)?;
        let app = self.store.get_app(&caller.workspace_id, provider).await?;
        Ok(self.status(provider, app.as_ref()))
    }

    /// Removes the workspace's app: new connections use the deployment's again. Connections
    /// made with the removed app can no longer refresh and must be made again.
    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id, provider = %provider))]
    pub async fn remove(&self, caller: &Principal, provider: &str) -> Result<(), DomainError> {
        caller.require(Scope::Admin)?;
        let provider = Self::provider(provider)?;
        match self
            .store
            .delete_app(&caller.workspace_id, provider)
            .await?
        {
            Some(app) => {
                tracing::info!(app_id = %app.id, "the workspace's provider app was removed");
                Ok(())
            }
            None => Err(DomainError::NotFound("app")),
        }
    }
}
