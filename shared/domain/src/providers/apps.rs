//! A workspace's own provider apps. A tenant may bring its own client id and secret for a
//! provider (its brand on the consent screen, its own rate limits): connections it makes from
//! then on use that app for the consent, the code exchange, refreshes, revocation and
//! subscriptions, and the provider pushes about them to a URL that names the app.
//!
//! The secrets are sealed for the workspace and the app (`app:<provider>/<id>`), never returned;
//! only the client id, which the consent URL shows anyway, is stored in the clear.

use crate::kernel::error::StoreError;
use crate::kernel::ids::{AppId, WorkspaceId};
use crate::kernel::secrets::{CryptoError, EncryptionContext, SealedSecret, Vault};
use crate::kernel::time::Timestamp;
use crate::providers::ProviderId;
use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// A workspace's app at a provider, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderApp {
    pub id: AppId,
    pub workspace_id: WorkspaceId,
    pub provider: ProviderId,
    pub client_id: String,
    /// The client secret and webhook secrets, sealed together.
    pub sealed: SealedSecret,
    /// Which webhook secrets were given (their values are in `sealed`).
    #[serde(default)]
    pub has_webhook_secret: bool,
    #[serde(default)]
    pub has_verify_token: bool,
    /// The provider's region the app is registered in (Dexcom: `us`, `eu`, `jp`, `sandbox`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub configured_at: Timestamp,
}

impl ProviderApp {
    /// Whose secrets these are: the workspace and the app.
    pub fn context(&self) -> EncryptionContext {
        app_context(&self.workspace_id, self.provider, &self.id)
    }
}

pub fn app_context(workspace: &WorkspaceId, provider: ProviderId, id: &AppId) -> EncryptionContext {
    EncryptionContext::new(workspace, format!("app:{provider}/{id}"))
}

/// An app's secrets in the clear. Only ever held in memory; stored sealed.
#[derive(Clone)]
pub struct AppSecrets {
    pub client_secret: SecretString,
    /// Polar's signature key, Garmin's path secret, Google Health's authorization secret.
    pub webhook_secret: Option<SecretString>,
    /// Strava's `hub.verify_token`, Oura's `verification_token`.
    pub verify_token: Option<SecretString>,
    /// Suunto's API subscription key.
    pub subscription_key: Option<SecretString>,
}

impl std::fmt::Debug for AppSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AppSecrets([redacted])")
    }
}

/// The sealed form's plaintext.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SecretsWire {
    client_secret: String,
    #[serde(default)]
    webhook_secret: Option<String>,
    #[serde(default)]
    verify_token: Option<String>,
    #[serde(default)]
    subscription_key: Option<String>,
}

impl AppSecrets {
    pub async fn seal(
        &self,
        vault: &Vault,
        context: &EncryptionContext,
    ) -> Result<SealedSecret, CryptoError> {
        let expose =
            |secret: &Option<SecretString>| secret.as_ref().map(|s| s.expose_secret().to_owned());
        let wire = SecretsWire {
            client_secret: self.client_secret.expose_secret().to_owned(),
            webhook_secret: expose(&self.webhook_secret),
            verify_token: expose(&self.verify_token),
            subscription_key: expose(&self.subscription_key),
        };
        let plaintext = serde_json::to_vec(&wire).map_err(|_| CryptoError::Denied)?;
        vault.seal(&plaintext, context).await
    }

    pub async fn open(vault: &Vault, app: &ProviderApp) -> Result<Self, CryptoError> {
        let plaintext = vault.open(&app.sealed, &app.context()).await?;
        let wire: SecretsWire =
            serde_json::from_slice(plaintext.expose_secret()).map_err(|_| CryptoError::Denied)?;
        Ok(Self {
            client_secret: SecretString::from(wire.client_secret),
            webhook_secret: wire.webhook_secret.map(SecretString::from),
            verify_token: wire.verify_token.map(SecretString::from),
            subscription_key: wire.subscription_key.map(SecretString::from),
        })
    }
}

/// Where workspaces' apps are kept: by workspace and provider (one app each), and by id (the
/// push URL names it).
#[async_trait]
pub trait ProviderAppStore: Send + Sync {
    /// Stores `app` as its workspace's app for its provider, replacing the one there (which
    /// has the same id: an app keeps its id until deleted).
    async fn put_app(&self, app: &ProviderApp) -> Result<(), StoreError>;
    async fn get_app(
        &self,
        workspace: &WorkspaceId,
        provider: ProviderId,
    ) -> Result<Option<ProviderApp>, StoreError>;
    async fn app_by_id(&self, id: &AppId) -> Result<Option<ProviderApp>, StoreError>;
    /// The workspace's apps, one per provider at most.
    async fn list_apps(&self, workspace: &WorkspaceId) -> Result<Vec<ProviderApp>, StoreError>;
    /// Removes the workspace's app for `provider`; the app removed, if there was one.
    async fn delete_app(
        &self,
        workspace: &WorkspaceId,
        provider: ProviderId,
    ) -> Result<Option<ProviderApp>, StoreError>;
}

/// Which app a call is made with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppRef {
    /// The deployment's (environment and secret store).
    Deployment,
    /// A workspace's own.
    Workspace(AppId),
}

impl AppRef {
    pub fn of(app: Option<&AppId>) -> Self {
        app.map_or(Self::Deployment, |id| Self::Workspace(id.clone()))
    }

    pub fn id(&self) -> Option<&AppId> {
        match self {
            Self::Deployment => None,
            Self::Workspace(id) => Some(id),
        }
    }
}

/// Why a workspace app could not be used.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the app's secrets did not open: {0}")]
    Crypto(#[from] CryptoError),
    /// This function builds consent URLs only: it opens no app secrets.
    #[error("this function opens no app secrets")]
    ConsentOnly,
}

/// Workspaces' apps as the calls to providers need them: looked up by id, their secrets opened
/// once per configuration (a new `PUT` is a new `configured_at`, so rotation takes effect on the
/// next call).
#[derive(Clone)]
pub struct WorkspaceApps {
    store: Arc<dyn ProviderAppStore>,
    vault: Option<Vault>,
    opened: Arc<Mutex<HashMap<AppId, (Timestamp, AppSecrets)>>>,
}

impl WorkspaceApps {
    pub fn new(store: Arc<dyn ProviderAppStore>, vault: Vault) -> Self {
        Self {
            store,
            vault: Some(vault),
            opened: Arc::default(),
        }
    }

    /// For functions that only build consent URLs: client ids, no secrets.
    pub fn consent_only(store: Arc<dyn ProviderAppStore>) -> Self {
        Self {
            store,
            vault: None,
            opened: Arc::default(),
        }
    }

    pub async fn current(
        &self,
        workspace: &WorkspaceId,
        provider: ProviderId,
    ) -> Result<Option<ProviderApp>, StoreError> {
        self.store.get_app(workspace, provider).await
    }

    pub async fn by_id(&self, id: &AppId) -> Result<Option<ProviderApp>, StoreError> {
        self.store.app_by_id(id).await
    }

    /// `app`'s secrets in the clear.
    pub async fn secrets(&self, app: &ProviderApp) -> Result<AppSecrets, AppError> {
        let vault = self.vault.as_ref().ok_or(AppError::ConsentOnly)?;
        if let Some((at, secrets)) = self.lock().get(&app.id)
            && *at == app.configured_at
        {
            return Ok(secrets.clone());
        }
        let secrets = AppSecrets::open(vault, app).await?;
        self.lock()
            .insert(app.id.clone(), (app.configured_at, secrets.clone()));
        Ok(secrets)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<AppId, (Timestamp, AppSecrets)>> {
        self.opened.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
