//! Connecting a wearable: connect links and widget sessions minted by the developer's backend,
//! then the browser leg (authorize → provider consent → callback) carrying only single-use,
//! short-lived tokens, never an API key.

use crate::announce::events::Announcer;
use crate::connections::tokens::{ConnectionTokens, seal_tokens};
use crate::connections::{Connection, ConnectionStatus, StoredTokens};
use crate::inbound::subscriptions::WebhookSubscriptions;
use crate::kernel::error::DomainError;
use crate::kernel::ids::ConnectionId;
use crate::kernel::scope::Scope;
use crate::kernel::secrets::Vault;
use crate::kernel::time::{Clock, Timestamp};
use crate::ports::{ConnectionStore, StateStore, UpsertEntries};
use crate::providers::apps::{AppRef, ProviderAppStore};
use crate::providers::client::{
    Authorizer, CodeExchange, ProviderCalls, ProviderError, TokenClient,
};
use crate::providers::oauth_state::{OAuthState, StateKind, new_token, state_key};
use crate::providers::redirects::{ConnectSettings, with_query};
use crate::providers::{ProviderId, ProviderRegistry};
use crate::sync::JobStarter;
use crate::tenancy::api_key::Principal;
use crate::tenancy::user::User;
use crate::users::UserDirectory;
use std::collections::BTreeMap;
use std::sync::Arc;

/// How long a connect link may wait before its first use.
pub const CONNECT_LINK_TTL_SECONDS: i64 = 600;
/// How long a hosted widget session lives.
pub const WIDGET_SESSION_TTL_SECONDS: i64 = 900;
/// How long a user may spend on the provider's consent screen.
const AUTHORIZATION_TTL_SECONDS: i64 = 600;
/// How long the landing page can prove a connection was made (a reload, a slow tab).
const CONNECT_RESULT_TTL_SECONDS: i64 = 600;

/// A browser-leg failure: shown on an error page, or sent to the failure URL as
/// `error` / `error_description`. `code` is stable; `description` is safe to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectFailure {
    pub code: &'static str,
    pub description: String,
}

impl ConnectFailure {
    fn new(code: &'static str, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
        }
    }

    fn invalid_link() -> Self {
        Self::new(
            "invalid_link",
            "This link is not valid: it may have expired or been used already. \
             Ask the app for a new one.",
        )
    }
}

/// `POST /v1/users/{userId}/connect-links`
#[derive(Debug, Clone)]
pub struct ConnectLinkRequest {
    pub provider: String,
    pub redirect_url: Option<String>,
    pub failure_redirect_url: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ConnectLink {
    pub url: String,
    pub expires_at: Timestamp,
}

/// `POST /v1/widget/sessions`
#[derive(Debug, Clone)]
pub struct WidgetSessionRequest {
    pub user_id: String,
    pub providers: Option<Vec<String>>,
    pub success_redirect_url: Option<String>,
    pub failure_redirect_url: Option<String>,
}

#[derive(Debug, Clone)]
pub struct WidgetSession {
    pub session_id: String,
    pub url: String,
    pub expires_in: i64,
}

/// What the hosted widget page shows.
#[derive(Debug, Clone)]
pub struct WidgetView {
    /// `(provider, URL that starts connecting it)`
    pub choices: Vec<(ProviderId, String)>,
}

/// How the browser came to `GET /v1/oauth/{providerId}/authorize`.
#[derive(Debug, Clone, Default)]
pub struct AuthorizeParams {
    pub user_id: Option<String>,
    /// A connect link's token.
    pub token: Option<String>,
    /// A widget session's token.
    pub session: Option<String>,
}

/// What the provider sent to `GET /v1/oauth/{providerId}/callback`.
#[derive(Debug, Clone, Default)]
pub struct CallbackParams {
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    /// Strava reports the scopes actually granted here.
    pub scope: Option<String>,
}

fn base(settings: &ConnectSettings, request_base: &str) -> String {
    settings
        .public_url
        .as_deref()
        .unwrap_or(request_base)
        .trim_end_matches('/')
        .to_owned()
}

fn callback_url(base: &str, provider: ProviderId) -> String {
    format!("{base}/v1/oauth/{provider}/callback")
}

/// VitaSync's own landing page, used when nobody named one.
fn done_page(base: &str) -> String {
    format!("{base}/v1/oauth/done")
}

fn split_scopes(raw: &str) -> Vec<String> {
    raw.split([' ', ','])
        .filter(|scope| !scope.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A connect link's or widget session's state, while it is live (used up when `use_up`).
async fn live_state(
    states: &dyn StateStore,
    now: Timestamp,
    token: &str,
    kind: StateKind,
    use_up: bool,
) -> Result<OAuthState, ConnectFailure> {
    let key = state_key(token);
    let found = if use_up {
        states.take_state(&key, now).await
    } else {
        states.get_state(&key, now).await
    }
    .map_err(|err| {
        tracing::error!(error = %err, "state store failed");
        unavailable()
    })?;
    found
        .filter(|state| state.kind == kind)
        .ok_or_else(ConnectFailure::invalid_link)
}

/// Connect links and widget sessions, minted by the developer's backend for one of its users.
#[derive(Clone)]
pub struct ConnectLinks {
    directory: UserDirectory,
    states: Arc<dyn StateStore>,
    providers: Arc<ProviderRegistry>,
    apps: Arc<dyn ProviderAppStore>,
    settings: Arc<ConnectSettings>,
    clock: Arc<dyn Clock>,
}

impl ConnectLinks {
    pub fn new(
        directory: UserDirectory,
        states: Arc<dyn StateStore>,
        providers: Arc<ProviderRegistry>,
        apps: Arc<dyn ProviderAppStore>,
        settings: Arc<ConnectSettings>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            directory,
            states,
            providers,
            apps,
            settings,
            clock,
        }
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The providers `caller`'s workspace can connect, each with the app it would use: its
    /// own where it has one, else the deployment's.
    pub async fn available(
        &self,
        caller: &Principal,
    ) -> Result<BTreeMap<ProviderId, AppRef>, DomainError> {
        let mut available: BTreeMap<ProviderId, AppRef> = ProviderId::ALL
            .into_iter()
            .filter(|id| self.providers.is_enabled(*id))
            .map(|id| (id, AppRef::Deployment))
            .collect();
        for app in self.apps.list_apps(&caller.workspace_id).await? {
            available.insert(app.provider, AppRef::Workspace(app.id));
        }
        Ok(available)
    }

    fn enabled_provider(
        available: &BTreeMap<ProviderId, AppRef>,
        field: &str,
        raw: &str,
    ) -> Result<ProviderId, DomainError> {
        let id = ProviderId::parse(raw)
            .ok_or_else(|| DomainError::validation(field, format!("unknown provider '{raw}'")))?;
        if !available.contains_key(&id) {
            return Err(DomainError::validation(
                field,
                format!("'{id}' is not enabled on this deployment"),
            ));
        }
        Ok(id)
    }

    fn checked_redirect(
        &self,
        settings: &ConnectSettings,
        base: &str,
        field: &str,
        url: Option<&str>,
    ) -> Result<Option<String>, DomainError> {
        url.map(|url| settings.redirects.allowing(base).check(field, url))
            .transpose()
    }

    /// Mints a single-use link that starts connecting `provider` for the user.
    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id, user_id = %user_id))]
    pub async fn create_connect_link(
        &self,
        caller: &Principal,
        user_id: &str,
        request: ConnectLinkRequest,
        request_base: &str,
    ) -> Result<ConnectLink, DomainError> {
        caller.require(Scope::Write)?;
        let settings = &self.settings;
        let user = self.directory.get_user(caller, user_id).await?;
        let available = self.available(caller).await?;
        let provider = Self::enabled_provider(&available, "providerId", &request.provider)?;
        let base = base(settings, request_base);
        let redirect_url = self.checked_redirect(
            settings,
            &base,
            "redirectUrl",
            request.redirect_url.as_deref(),
        )?;
        let failure_redirect_url = self.checked_redirect(
            settings,
            &base,
            "failureRedirectUrl",
            request.failure_redirect_url.as_deref(),
        )?;
        let expires_at = self.now().plus_seconds(CONNECT_LINK_TTL_SECONDS);
        let token = new_token();
        let state = OAuthState {
            kind: StateKind::ConnectLink,
            workspace_id: user.workspace_id.clone(),
            user_id: user.id.clone(),
            provider: Some(provider),
            allowed: vec![provider],
            redirect_url,
            failure_redirect_url,
            pkce_verifier: None,
            callback_url: None,
            app_id: None,
            link_key: None,
            connection_id: None,
            expires_at,
        };
        self.states.put_state(&state_key(&token), &state).await?;
        let url = with_query(
            &format!("{base}/v1/oauth/{provider}/authorize"),
            &[("userId", user.id.as_str()), ("token", &token)],
        );
        Ok(ConnectLink { url, expires_at })
    }

    /// Opens a hosted widget session listing the providers the user may connect.
    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id))]
    pub async fn create_widget_session(
        &self,
        caller: &Principal,
        request: WidgetSessionRequest,
        request_base: &str,
    ) -> Result<WidgetSession, DomainError> {
        caller.require(Scope::Write)?;
        let settings = &self.settings;
        if request.user_id.trim().is_empty() {
            return Err(DomainError::validation("userId", "is required"));
        }
        let user = self.directory.get_user(caller, &request.user_id).await?;
        let available = self.available(caller).await?;
        let allowed = match &request.providers {
            None => available.keys().copied().collect(),
            Some(names) => {
                let mut allowed = Vec::new();
                for (index, name) in names.iter().enumerate() {
                    let id =
                        Self::enabled_provider(&available, &format!("providers[{index}]"), name)?;
                    if !allowed.contains(&id) {
                        allowed.push(id);
                    }
                }
                allowed
            }
        };
        if allowed.is_empty() {
            return Err(DomainError::validation(
                "providers",
                "no provider is enabled on this deployment",
            ));
        }
        let base = base(settings, request_base);
        let redirect_url = self.checked_redirect(
            settings,
            &base,
            "successRedirectUrl",
            request.success_redirect_url.as_deref(),
        )?;
        let failure_redirect_url = self.checked_redirect(
            settings,
            &base,
            "failureRedirectUrl",
            request.failure_redirect_url.as_deref(),
        )?;
        let token = new_token();
        let state = OAuthState {
            kind: StateKind::WidgetSession,
            workspace_id: user.workspace_id.clone(),
            user_id: user.id.clone(),
            provider: None,
            allowed,
            redirect_url,
            failure_redirect_url,
            pkce_verifier: None,
            callback_url: None,
            app_id: None,
            link_key: None,
            connection_id: None,
            expires_at: self.now().plus_seconds(WIDGET_SESSION_TTL_SECONDS),
        };
        self.states.put_state(&state_key(&token), &state).await?;
        Ok(WidgetSession {
            session_id: ConnectionId::generate().to_string(),
            url: with_query(&format!("{base}/v1/widget"), &[("session", &token)]),
            expires_in: WIDGET_SESSION_TTL_SECONDS,
        })
    }
}

/// The browser's way in to connecting: the widget page and the redirect to the provider's
/// consent screen, from a live connect link or widget session.
#[derive(Clone)]
pub struct Connect {
    states: Arc<dyn StateStore>,
    calls: ProviderCalls<dyn Authorizer>,
    settings: Arc<ConnectSettings>,
    clock: Arc<dyn Clock>,
}

impl Connect {
    pub fn new(
        states: Arc<dyn StateStore>,
        calls: ProviderCalls<dyn Authorizer>,
        settings: Arc<ConnectSettings>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            states,
            calls,
            settings,
            clock,
        }
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The providers this deployment connects to.
    pub fn providers(&self) -> &ProviderRegistry {
        self.calls.registry()
    }

    /// The deployment's public base URL, or `request_base` when none is configured.
    pub fn base_url(&self, request_base: &str) -> String {
        base(&self.settings, request_base)
    }

    /// What a landing page's `result` token proves: the provider connected, if it is live.
    pub async fn connected(&self, result: &str) -> Option<ProviderId> {
        live_state(
            self.states.as_ref(),
            self.now(),
            result,
            StateKind::ConnectResult,
            false,
        )
        .await
        .ok()
        .and_then(|state| state.provider)
    }

    /// The providers a widget session offers, each with the URL that starts it.
    #[tracing::instrument(skip_all)]
    pub async fn widget(
        &self,
        session: &str,
        request_base: &str,
    ) -> Result<WidgetView, ConnectFailure> {
        let settings = &self.settings;
        let state = live_state(
            self.states.as_ref(),
            self.now(),
            session,
            StateKind::WidgetSession,
            false,
        )
        .await?;
        let base = base(settings, request_base);
        let mut choices = Vec::new();
        for id in &state.allowed {
            // Offered while the deployment or the workspace still has an app for it.
            let app = self
                .calls
                .app_for(&state.workspace_id, *id)
                .await
                .map_err(|_| unavailable())?;
            if app.is_some() {
                let url = with_query(
                    &format!("{base}/v1/oauth/{id}/authorize"),
                    &[("userId", state.user_id.as_str()), ("session", session)],
                );
                choices.push((*id, url));
            }
        }
        Ok(WidgetView { choices })
    }

    /// Starts an authorization from a connect link or widget session: answers the provider's
    /// consent URL to redirect to.
    #[tracing::instrument(skip_all, fields(provider = %provider))]
    pub async fn authorize(
        &self,
        provider: &str,
        params: AuthorizeParams,
        request_base: &str,
    ) -> Result<String, ConnectFailure> {
        let settings = &self.settings;
        let provider = ProviderId::parse(provider)
            .ok_or_else(|| ConnectFailure::new("unknown_provider", "No such provider."))?;
        // Opening a link spends nothing: the link is spent when a connection made from it
        // completes, and each authorization's state is single use.
        let (link, link_key) = match (&params.token, &params.session) {
            (Some(token), None) => {
                let link = live_state(
                    self.states.as_ref(),
                    self.now(),
                    token,
                    StateKind::ConnectLink,
                    false,
                )
                .await?;
                (link, Some(state_key(token)))
            }
            (None, Some(session)) => {
                let session = live_state(
                    self.states.as_ref(),
                    self.now(),
                    session,
                    StateKind::WidgetSession,
                    false,
                )
                .await?;
                (session, None)
            }
            _ => return Err(ConnectFailure::invalid_link()),
        };
        let bound_user = params.user_id.as_deref() == Some(link.user_id.as_str());
        let bound_provider =
            link.provider.is_none_or(|bound| bound == provider) && link.allowed.contains(&provider);
        if !bound_user || !bound_provider {
            return Err(ConnectFailure::invalid_link());
        }
        let base = base(settings, request_base);
        // The workspace's own app when it has one, else the deployment's.
        let not_enabled = || {
            ConnectFailure::new(
                "provider_not_enabled",
                "This provider is not available on this deployment.",
            )
        };
        let (app, provider_settings) = self
            .calls
            .consent(&link.workspace_id, provider, &base)
            .await
            .map_err(|_| unavailable())?
            .ok_or_else(not_enabled)?;
        let callback = callback_url(&base, provider);
        let state_token = new_token();
        let request = self
            .calls
            .client()
            .authorization(provider, &provider_settings, &callback, &state_token)
            .map_err(|err| {
                tracing::error!(provider = %provider, error = %err, "could not build the consent URL");
                ConnectFailure::new("provider_misconfigured", "This provider is not set up correctly.")
            })?;
        let authorization = OAuthState {
            kind: StateKind::Authorization,
            provider: Some(provider),
            allowed: vec![provider],
            pkce_verifier: request.pkce_verifier,
            callback_url: Some(callback),
            app_id: app.id().cloned(),
            link_key,
            expires_at: self.now().plus_seconds(AUTHORIZATION_TTL_SECONDS),
            ..link
        };
        self.states
            .put_state(&state_key(&state_token), &authorization)
            .await
            .map_err(|err| {
                tracing::error!(error = %err, "state store failed");
                unavailable()
            })?;
        tracing::info!(provider = %provider, "authorization started");
        Ok(request.url)
    }
}

/// The provider's redirect back: the code exchanged, the tokens sealed, the connection stored
/// and announced, its webhooks subscribed and its first backfill queued.
#[derive(Clone)]
pub struct Callback {
    directory: UserDirectory,
    states: Arc<dyn StateStore>,
    connections: Arc<dyn ConnectionStore>,
    calls: ProviderCalls<dyn TokenClient>,
    vault: Vault,
    announcer: Announcer,
    subscriptions: WebhookSubscriptions,
    starter: JobStarter,
    /// A new or reconnected connection is synced at once (its backfill).
    sync_on_connect: bool,
    settings: Arc<ConnectSettings>,
    clock: Arc<dyn Clock>,
}

impl Callback {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        directory: UserDirectory,
        states: Arc<dyn StateStore>,
        connections: Arc<dyn ConnectionStore>,
        calls: ProviderCalls<dyn TokenClient>,
        vault: Vault,
        announcer: Announcer,
        subscriptions: WebhookSubscriptions,
        starter: JobStarter,
        sync_on_connect: bool,
        settings: Arc<ConnectSettings>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            directory,
            states,
            connections,
            calls,
            vault,
            announcer,
            subscriptions,
            starter,
            sync_on_connect,
            settings,
            clock,
        }
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Finishes an authorization: answers where to send the browser, the success URL with the
    /// new connection, or the failure URL with `error`. Fails (an error page) only when the
    /// state itself is not valid, since then there is nobody to send the browser back to.
    #[tracing::instrument(skip_all, fields(provider = %provider))]
    pub async fn complete_authorization(
        &self,
        provider: &str,
        params: CallbackParams,
        request_base: &str,
    ) -> Result<String, ConnectFailure> {
        let settings = &self.settings;
        let provider = ProviderId::parse(provider)
            .ok_or_else(|| ConnectFailure::new("unknown_provider", "No such provider."))?;
        let token = params.state.as_deref().ok_or_else(|| {
            ConnectFailure::new("invalid_state", "The provider sent no state back.")
        })?;
        let state = live_state(
            self.states.as_ref(),
            self.now(),
            token,
            StateKind::Authorization,
            true,
        )
        .await
        .map_err(|_| {
            ConnectFailure::new(
                "invalid_state",
                "This sign-in has expired or was already completed. Start again from the app.",
            )
        })?;
        if state.provider != Some(provider) {
            return Err(ConnectFailure::new(
                "invalid_state",
                "This sign-in belongs to another provider.",
            ));
        }
        let base = base(settings, request_base);
        let failure_target = state
            .failure_redirect_url
            .clone()
            .or_else(|| state.redirect_url.clone())
            .or_else(|| settings.default_redirect_url.clone())
            .unwrap_or_else(|| done_page(&base));
        let fail = |failure: ConnectFailure| {
            tracing::info!(provider = %provider, error = failure.code, "connection failed");
            with_query(
                &failure_target,
                &[
                    ("error", failure.code),
                    ("error_description", &failure.description),
                    ("providerId", provider.as_str()),
                ],
            )
        };
        match self
            .finish_connection(provider, &state, &params, &base)
            .await
        {
            Ok((connection, user)) => {
                self.spend_link(&state).await;
                let mut answer = vec![
                    ("connectionId", connection.id.to_string()),
                    ("providerId", provider.as_str().to_owned()),
                    ("userId", user.id.to_string()),
                    ("externalId", user.external_id.clone()),
                ];
                let own_page = done_page(&base);
                let target = state
                    .redirect_url
                    .clone()
                    .or_else(|| settings.default_redirect_url.clone())
                    .unwrap_or_else(|| own_page.clone());
                // VitaSync's own page says "connected" only with proof of it.
                // Without it the page only says nothing was proven: the connection stands.
                if target.split('?').next() == Some(own_page.as_str())
                    && let Some(result) = self.connect_result(&state, &connection).await
                {
                    answer.push(("result", result));
                }
                let pairs: Vec<(&str, &str)> =
                    answer.iter().map(|(k, v)| (*k, v.as_str())).collect();
                Ok(with_query(&target, &pairs))
            }
            Err(failure) => Ok(fail(failure)),
        }
    }

    /// Spends the connect link the authorization was started from.
    async fn spend_link(&self, state: &OAuthState) {
        if let Some(key) = &state.link_key
            && let Err(err) = self.states.take_state(key, self.now()).await
        {
            // It expires on its own within minutes.
            tracing::warn!(error = %err, "spending the connect link failed");
        }
    }

    /// A short-lived token that proves to the landing page that `connection` was made.
    async fn connect_result(&self, state: &OAuthState, connection: &Connection) -> Option<String> {
        let token = new_token();
        let result = OAuthState {
            kind: StateKind::ConnectResult,
            connection_id: Some(connection.id.clone()),
            link_key: None,
            pkce_verifier: None,
            expires_at: self.now().plus_seconds(CONNECT_RESULT_TTL_SECONDS),
            ..state.clone()
        };
        match self.states.put_state(&state_key(&token), &result).await {
            Ok(()) => Some(token),
            Err(err) => {
                tracing::warn!(error = %err, "storing the landing page's proof failed");
                None
            }
        }
    }

    async fn finish_connection(
        &self,
        provider: ProviderId,
        state: &OAuthState,
        params: &CallbackParams,
        base: &str,
    ) -> Result<(Connection, User), ConnectFailure> {
        if let Some(error) = &params.error {
            let code = if error == "access_denied" {
                "access_denied"
            } else {
                "provider_error"
            };
            return Err(ConnectFailure::new(
                code,
                "The provider did not grant access.",
            ));
        }
        let code = params
            .code
            .clone()
            .ok_or_else(|| ConnectFailure::new("provider_error", "The provider sent no code."))?;
        let user = self
            .directory
            .find_user(&state.workspace_id, &state.user_id)
            .await
            .map_err(|_| unavailable())?
            .ok_or_else(|| ConnectFailure::new("user_not_found", "The user no longer exists."))?;
        let client = self.calls.client();
        // The app the authorization was started with: its code is that app's.
        let app = AppRef::of(state.app_id.as_ref());
        let exchange = &CodeExchange {
            code,
            redirect_uri: state
                .callback_url
                .clone()
                .unwrap_or_else(|| callback_url(base, provider)),
            pkce_verifier: state.pkce_verifier.clone(),
        };
        let (grant, provider_settings) = self
            .calls
            .with_app(provider, &app, Some(base), |settings| async move {
                let grant = client.exchange_code(provider, &settings, exchange).await?;
                Ok((grant, settings))
            })
            .await
            .map_err(|err| provider_failure(provider, "token_exchange_failed", &err))?
            .ok_or_else(|| {
                ConnectFailure::new("provider_not_enabled", "This provider is not available.")
            })?;
        let account = client
            .identify(provider, &provider_settings, &grant, user.id.as_str())
            .await
            .map_err(|err| provider_failure(provider, "account_lookup_failed", &err))?;
        let now = self.now();
        let requested = || {
            provider
                .info()
                .oauth
                .scopes
                .iter()
                .map(|s| (*s).to_owned())
                .collect()
        };
        let scopes = match provider {
            ProviderId::Strava => params.scope.as_deref().map(split_scopes),
            _ => None,
        }
        .or_else(|| account.scopes.clone())
        .or_else(|| grant.scopes.clone())
        .unwrap_or_else(requested);
        let expires_at = grant.expires_in.map(|seconds| now.plus_seconds(seconds));
        let candidate = Connection {
            scopes,
            token_expires_at: expires_at,
            app_id: app.id().cloned(),
            ..Connection::new_active(
                user.workspace_id.clone(),
                user.id.clone(),
                provider,
                account.provider_user_id,
                now,
            )
        };
        let sealed = seal_tokens(&self.vault, &candidate, grant)
            .await
            .map_err(|()| unavailable())?;
        let tokens = StoredTokens {
            sealed,
            version: 1,
            expires_at,
            refreshing_until: None,
        };
        // The connection's event and its webhook subscription commit with it.
        let announce = self.announcer.connected_entries();
        let subscriptions = self.subscriptions.clone();
        let follow_ups: Arc<UpsertEntries> = Arc::new(move |stored, created| {
            let mut entries = announce(stored, created);
            entries.extend(subscriptions.subscription_entry(stored));
            entries
        });
        let (connection, created) = self
            .connections
            .upsert_connection(&candidate, &tokens, follow_ups)
            .await
            .map_err(|err| {
                tracing::error!(error = %err, "storing the connection failed");
                unavailable()
            })?;
        tracing::info!(provider = %provider, connection_id = %connection.id, created, "connected");
        if self.sync_on_connect {
            // The backfill starts now rather than at the scheduler's next round; connecting
            // has succeeded either way.
            if let Err(err) = self
                .starter
                .start_job(&connection, None, None, Vec::new())
                .await
            {
                tracing::warn!(error = %err, connection_id = %connection.id, "the first sync could not be queued");
            }
        }
        Ok((connection, user))
    }
}

/// Ends connections at the API's request: access revoked at the provider where it can be,
/// per-user webhooks unsubscribed, tokens deleted, the connection marked and announced.
#[derive(Clone)]
pub struct Disconnector {
    directory: UserDirectory,
    connections: Arc<dyn ConnectionStore>,
    tokens: ConnectionTokens,
    calls: ProviderCalls<dyn TokenClient>,
    subscriptions: WebhookSubscriptions,
    announcer: Announcer,
    clock: Arc<dyn Clock>,
}

impl Disconnector {
    pub fn new(
        directory: UserDirectory,
        connections: Arc<dyn ConnectionStore>,
        tokens: ConnectionTokens,
        calls: ProviderCalls<dyn TokenClient>,
        subscriptions: WebhookSubscriptions,
        announcer: Announcer,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            directory,
            connections,
            tokens,
            calls,
            subscriptions,
            announcer,
            clock,
        }
    }

    /// Ends a connection: revokes access at the provider where it can, deletes the tokens and
    /// marks the connection `disconnected`. Data synced from it stays.
    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id, user_id = %user_id, connection_id = %connection_id))]
    pub async fn disconnect(
        &self,
        caller: &Principal,
        user_id: &str,
        connection_id: &str,
    ) -> Result<(), DomainError> {
        caller.require(Scope::Write)?;
        let connection = self
            .directory
            .get_connection(caller, user_id, connection_id)
            .await?;
        let stored = self
            .connections
            .get_tokens(
                &connection.workspace_id,
                &connection.user_id,
                &connection.id,
            )
            .await?;
        let app = connection.app();
        let provider_settings = match self.calls.resolved(connection.provider, &app).await {
            Ok(settings) => settings,
            Err(err) => {
                // Disconnecting does not wait for the provider: the tokens go either way.
                tracing::warn!(provider = %connection.provider, error = %err, "the provider app is unavailable; not revoking");
                None
            }
        };
        if let (Some(stored), Some(provider_settings)) = (stored, provider_settings) {
            match self.tokens.open_stored(&connection, &stored).await {
                Ok(pair) => {
                    self.subscriptions
                        .unsubscribe_before_disconnect(&connection, &pair.access_token)
                        .await;
                    if let Err(err) = self
                        .calls
                        .client()
                        .revoke(
                            connection.provider,
                            &provider_settings,
                            &pair,
                            &connection.provider_user_id,
                        )
                        .await
                    {
                        // The user asked to disconnect; a provider that cannot be told now
                        // does not keep the tokens alive here.
                        tracing::warn!(provider = %connection.provider, error = %err, "revocation at the provider failed");
                    }
                }
                Err(()) => tracing::warn!("stored tokens did not open; deleting them"),
            }
        }
        let disconnected = Connection {
            status: ConnectionStatus::Disconnected,
            status_reason: Some("disconnected_by_api".into()),
            token_expires_at: None,
            updated_at: self.clock.now(),
            ..connection
        };
        let announced = self.announcer.disconnected_entry(&disconnected)?;
        if self
            .connections
            .disconnect(&disconnected, &[announced])
            .await?
        {
            Ok(())
        } else {
            Err(DomainError::NotFound("connection"))
        }
    }
}

fn unavailable() -> ConnectFailure {
    ConnectFailure::new(
        "temporarily_unavailable",
        "Something went wrong on our side. Please try again.",
    )
}

fn provider_failure(
    provider: ProviderId,
    code: &'static str,
    err: &ProviderError,
) -> ConnectFailure {
    tracing::warn!(provider = %provider, error = %err, stage = code, "provider call failed");
    match err {
        ProviderError::Refused { .. } => ConnectFailure::new(
            code,
            format!("{} refused the connection.", provider.info().name),
        ),
        ProviderError::Unavailable(_) | ProviderError::Protocol(_) => ConnectFailure::new(
            code,
            format!(
                "{} could not be reached. Please try again.",
                provider.info().name
            ),
        ),
    }
}
