//! The providers VitaSync connects to: who they are, how their OAuth works, and whether this
//! deployment has credentials for them. Configuration comes from the environment:
//! `<PROVIDER>_CLIENT_ID`, and `<PROVIDER>_CLIENT_SECRET` or `<PROVIDER>_CLIENT_SECRET_NAME` (the
//! name of a secret in the secret store), and `<PROVIDER>_AUTHORIZE_URL`,
//! `<PROVIDER>_TOKEN_URL`, `<PROVIDER>_API_URL` to point a provider at another host (tests).

pub mod apps;
pub mod client;
pub mod credentials;
pub mod demo;
pub mod demo_data;
pub mod oauth_state;
pub mod push;
pub mod rate_budget;
pub mod redirects;
pub mod secrets;

pub use crate::kernel::provider::ProviderId;

use crate::kernel::time::SystemClock;
use secrecy::SecretString;
use secrets::{NoSecretStore, SecretCache, SecretError, SecretSource};
use std::collections::BTreeMap;
use std::sync::Arc;

/// How a provider wants the app's credentials at its token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// `Authorization: Basic base64(client_id:client_secret)`
    Basic,
    /// `client_id` and `client_secret` in the form body
    Body,
}

/// A provider's OAuth 2.0 endpoints and habits, as its documentation gives them.
#[derive(Debug, Clone, Copy)]
pub struct OAuthSpec {
    pub authorize_url: &'static str,
    pub token_url: &'static str,
    pub api_url: &'static str,
    pub scopes: &'static [&'static str],
    pub scope_separator: &'static str,
    /// PKCE (S256) is sent with every authorization.
    pub pkce: bool,
    pub client_auth: ClientAuth,
    pub extra_authorize_params: &'static [(&'static str, &'static str)],
    /// Where a token is revoked on the OAuth host, for providers that revoke that way.
    pub revoke_url: Option<&'static str>,
}

/// What `GET /v1/providers` tells about a provider.
#[derive(Debug, Clone, Copy)]
pub struct ProviderInfo {
    pub id: ProviderId,
    pub name: &'static str,
    pub data_types: &'static [&'static str],
    pub oauth: OAuthSpec,
}

const HR_ACTIVITY_SLEEP: &[&str] = &["activity", "heart_rate", "sleep", "workout"];
const MOBILE_TYPES: &[&str] = &["activity", "heart_rate", "sleep", "workout", "body"];

/// The mobile sources have no OAuth: the user's phone pushes their data.
const NO_OAUTH: OAuthSpec = OAuthSpec {
    authorize_url: "",
    token_url: "",
    api_url: "",
    scopes: &[],
    scope_separator: " ",
    pkce: false,
    client_auth: ClientAuth::Body,
    extra_authorize_params: &[],
    revoke_url: None,
};

impl ProviderId {
    pub fn info(self) -> ProviderInfo {
        let (name, data_types, oauth) = match self {
            ProviderId::Withings => (
                "Withings",
                &[
                    "activity",
                    "heart_rate",
                    "sleep",
                    "workout",
                    "body",
                    "blood_pressure",
                    "temperature",
                    "blood_oxygen",
                ][..],
                OAuthSpec {
                    authorize_url: "https://account.withings.com/oauth2_user/authorize2",
                    token_url: "https://wbsapi.withings.net/v2/oauth2",
                    api_url: "https://wbsapi.withings.net",
                    scopes: &[
                        "user.info",
                        "user.metrics",
                        "user.activity",
                        "user.sleepevents",
                    ],
                    scope_separator: ",",
                    pkce: false,
                    client_auth: ClientAuth::Body,
                    extra_authorize_params: &[],
                    revoke_url: None,
                },
            ),
            ProviderId::Whoop => (
                "WHOOP",
                &["heart_rate", "sleep", "workout", "recovery", "body"][..],
                OAuthSpec {
                    authorize_url: "https://api.prod.whoop.com/oauth/oauth2/auth",
                    token_url: "https://api.prod.whoop.com/oauth/oauth2/token",
                    api_url: "https://api.prod.whoop.com/developer",
                    scopes: &[
                        "read:recovery",
                        "read:cycles",
                        "read:workout",
                        "read:sleep",
                        "read:profile",
                        "read:body_measurement",
                        "offline",
                    ],
                    scope_separator: " ",
                    pkce: false,
                    client_auth: ClientAuth::Body,
                    extra_authorize_params: &[],
                    revoke_url: None,
                },
            ),
            ProviderId::Strava => (
                "Strava",
                &["workout", "heart_rate"][..],
                OAuthSpec {
                    authorize_url: "https://www.strava.com/oauth/authorize",
                    token_url: "https://www.strava.com/oauth/token",
                    api_url: "https://www.strava.com/api/v3",
                    scopes: &["read", "activity:read_all", "profile:read_all"],
                    scope_separator: ",",
                    pkce: false,
                    client_auth: ClientAuth::Body,
                    extra_authorize_params: &[("approval_prompt", "auto")],
                    revoke_url: Some("https://www.strava.com/oauth/deauthorize"),
                },
            ),
            ProviderId::Oura => (
                "Oura",
                &[
                    "activity",
                    "heart_rate",
                    "sleep",
                    "workout",
                    "readiness",
                    "blood_oxygen",
                    "temperature",
                ][..],
                OAuthSpec {
                    authorize_url: "https://cloud.ouraring.com/oauth/authorize",
                    token_url: "https://api.ouraring.com/oauth/token",
                    api_url: "https://api.ouraring.com",
                    scopes: &[
                        "email",
                        "personal",
                        "daily",
                        "heartrate",
                        "workout",
                        "session",
                        "spo2Daily",
                    ],
                    scope_separator: " ",
                    pkce: false,
                    client_auth: ClientAuth::Body,
                    extra_authorize_params: &[],
                    revoke_url: Some("https://api.ouraring.com/oauth/revoke"),
                },
            ),
            ProviderId::Garmin => (
                "Garmin",
                &[
                    "activity",
                    "heart_rate",
                    "sleep",
                    "workout",
                    "body",
                    "heart_rate_variability",
                ][..],
                OAuthSpec {
                    authorize_url: "https://connect.garmin.com/oauth2Confirm",
                    token_url: "https://diauth.garmin.com/di-oauth2-service/oauth/token",
                    api_url: "https://apis.garmin.com",
                    // Garmin has no scopes: permissions are set in its portal and by the user.
                    scopes: &[],
                    scope_separator: " ",
                    pkce: true,
                    client_auth: ClientAuth::Body,
                    extra_authorize_params: &[],
                    revoke_url: None,
                },
            ),
            ProviderId::Polar => (
                "Polar",
                &["activity", "heart_rate", "sleep", "workout"][..],
                OAuthSpec {
                    authorize_url: "https://flow.polar.com/oauth2/authorization",
                    token_url: "https://polarremote.com/v2/oauth2/token",
                    api_url: "https://www.polaraccesslink.com",
                    scopes: &["accesslink.read_all"],
                    scope_separator: " ",
                    pkce: false,
                    client_auth: ClientAuth::Basic,
                    extra_authorize_params: &[],
                    revoke_url: None,
                },
            ),
            ProviderId::Fitbit => (
                // The legacy Fitbit Web API is gone; Fitbit data comes through Google Health.
                "Fitbit",
                &[
                    "activity",
                    "heart_rate",
                    "sleep",
                    "workout",
                    "body",
                    "heart_rate_variability",
                ][..],
                OAuthSpec {
                    authorize_url: "https://accounts.google.com/o/oauth2/v2/auth",
                    token_url: "https://oauth2.googleapis.com/token",
                    api_url: "https://health.googleapis.com",
                    scopes: &[
                        "https://www.googleapis.com/auth/googlehealth.activity_and_fitness.readonly",
                        "https://www.googleapis.com/auth/googlehealth.health_metrics_and_measurements.readonly",
                        "https://www.googleapis.com/auth/googlehealth.sleep.readonly",
                        "https://www.googleapis.com/auth/googlehealth.settings.readonly",
                    ],
                    scope_separator: " ",
                    pkce: true,
                    client_auth: ClientAuth::Body,
                    extra_authorize_params: &[
                        ("access_type", "offline"),
                        ("prompt", "consent"),
                        ("include_granted_scopes", "true"),
                    ],
                    revoke_url: Some("https://oauth2.googleapis.com/revoke"),
                },
            ),
            ProviderId::Dexcom => (
                "Dexcom",
                &["glucose", "nutrition", "insulin", "workout"][..],
                OAuthSpec {
                    // The US host; `DEXCOM_REGION` picks Europe's, Japan's or the sandbox.
                    authorize_url: "https://api.dexcom.com/v2/oauth2/login",
                    token_url: "https://api.dexcom.com/v2/oauth2/token",
                    api_url: "https://api.dexcom.com",
                    scopes: &["offline_access"],
                    scope_separator: " ",
                    pkce: false,
                    client_auth: ClientAuth::Body,
                    extra_authorize_params: &[],
                    revoke_url: None,
                },
            ),
            ProviderId::Ultrahuman => (
                "Ultrahuman",
                &[
                    "activity",
                    "heart_rate",
                    "sleep",
                    "heart_rate_variability",
                    "temperature",
                    "blood_oxygen",
                    "recovery",
                    "glucose",
                ][..],
                OAuthSpec {
                    // British spelling: the API answers this one (its prose also says
                    // `/authorize`, which it does not serve).
                    authorize_url: "https://auth.ultrahuman.com/authorise",
                    token_url: "https://partner.ultrahuman.com/api/partners/oauth/token",
                    api_url: "https://partner.ultrahuman.com",
                    scopes: &["profile", "ring_data", "cgm_data"],
                    scope_separator: " ",
                    pkce: false,
                    client_auth: ClientAuth::Body,
                    extra_authorize_params: &[],
                    revoke_url: Some("https://partner.ultrahuman.com/api/partners/oauth/revoke"),
                },
            ),
            ProviderId::Suunto => (
                "Suunto",
                &[
                    "activity",
                    "heart_rate",
                    "sleep",
                    "workout",
                    "heart_rate_variability",
                    "blood_oxygen",
                ][..],
                OAuthSpec {
                    authorize_url: "https://cloudapi-oauth.suunto.com/oauth/authorize",
                    token_url: "https://cloudapi-oauth.suunto.com/oauth/token",
                    api_url: "https://cloudapi.suunto.com",
                    // Suunto has no scopes: access is the partner app's.
                    scopes: &[],
                    scope_separator: " ",
                    pkce: false,
                    client_auth: ClientAuth::Basic,
                    extra_authorize_params: &[],
                    revoke_url: None,
                },
            ),
            ProviderId::Wahoo => (
                "Wahoo",
                &["workout", "heart_rate"][..],
                OAuthSpec {
                    authorize_url: "https://api.wahooligan.com/oauth/authorize",
                    token_url: "https://api.wahooligan.com/oauth/token",
                    api_url: "https://api.wahooligan.com",
                    // `offline_data` lets Wahoo send workout webhooks about the user.
                    scopes: &["user_read", "workouts_read", "offline_data"],
                    scope_separator: " ",
                    pkce: true,
                    client_auth: ClientAuth::Body,
                    extra_authorize_params: &[],
                    revoke_url: None,
                },
            ),
            ProviderId::Demo => (
                "VitaSync Demo",
                HR_ACTIVITY_SLEEP,
                OAuthSpec {
                    // The demo provider lives inside VitaSync; its URLs are relative to the
                    // deployment's public URL.
                    authorize_url: "/v1/demo/authorize",
                    token_url: "/v1/demo/token",
                    api_url: "/v1/demo",
                    scopes: &["all"],
                    scope_separator: " ",
                    pkce: true,
                    client_auth: ClientAuth::Body,
                    extra_authorize_params: &[],
                    revoke_url: None,
                },
            ),
            ProviderId::AppleHealth => ("Apple Health", MOBILE_TYPES, NO_OAUTH),
            ProviderId::HealthConnect => ("Health Connect", MOBILE_TYPES, NO_OAUTH),
            ProviderId::SamsungHealth => ("Samsung Health", MOBILE_TYPES, NO_OAUTH),
        };
        ProviderInfo {
            id: self,
            name,
            data_types,
            oauth,
        }
    }
}

impl ProviderId {
    /// How late the provider's data arrives, or is revised, after it was recorded: a sync
    /// after a sync reaches back this much further than the usual overlap. Dexcom's data is
    /// retrospective (uploaded by the phone app or a receiver, about an hour behind);
    /// Ultrahuman revises a night's values for days after it closes.
    pub fn data_lag_seconds(self) -> i64 {
        match self {
            ProviderId::Dexcom => 3 * 3600,
            ProviderId::Ultrahuman => 2 * 24 * 3600,
            _ => 0,
        }
    }
}

/// A provider this deployment can connect to: its app credentials and where to reach it.
/// URLs starting with `/` are relative to the deployment's public URL (the demo provider's).
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    pub client_id: String,
    pub client_secret: SecretString,
    pub authorize_url: String,
    pub token_url: String,
    pub api_url: String,
    pub revoke_url: Option<String>,
    pub webhooks: WebhookSecrets,
    /// A key the provider wants on every call besides the user's token (Suunto's API
    /// subscription key, `Ocp-Apim-Subscription-Key`).
    pub subscription_key: Option<SecretString>,
}

/// What checks a provider's webhooks, beyond the client secret: `<PROVIDER>_WEBHOOK_*`.
#[derive(Debug, Clone, Default)]
pub struct WebhookSecrets {
    /// Echoed in subscription handshakes (Strava `hub.verify_token`, Oura
    /// `verification_token`).
    pub verify_token: Option<SecretString>,
    /// Signs or authorises deliveries (Polar's `signature_secret_key`, Google Health's
    /// endpoint authorization secret).
    pub secret: Option<SecretString>,
    /// Where the provider publishes its signing keys (Google Health's Tink keyset).
    pub keyset_url: Option<String>,
}

/// Dexcom's host for a region (`us`, `eu`, `jp`, or `sandbox`): its apps, and so its users'
/// tokens, belong to one region.
pub fn dexcom_host(region: &str) -> Option<&'static str> {
    Some(match region.to_ascii_lowercase().as_str() {
        "us" => "https://api.dexcom.com",
        "eu" => "https://api.dexcom.eu",
        "jp" => "https://api.dexcom.jp",
        "sandbox" => "https://sandbox-api.dexcom.com",
        _ => return None,
    })
}

/// `url` made absolute against `base_url` when it is relative (starts with `/`).
fn absolute_against(base_url: &str, url: &str) -> String {
    let base = base_url.trim_end_matches('/');
    if url.starts_with('/') {
        format!("{base}{url}")
    } else {
        url.to_owned()
    }
}

/// Where a provider is reached: its documented URLs, or the overrides the environment gives.
#[derive(Debug, Clone)]
struct Endpoints {
    authorize_url: String,
    token_url: String,
    api_url: String,
    revoke_url: Option<String>,
    keyset_url: Option<String>,
}

impl Endpoints {
    /// Dexcom's endpoints on one regional host.
    fn dexcom(host: &str) -> Self {
        Self {
            authorize_url: format!("{host}/v2/oauth2/login"),
            token_url: format!("{host}/v2/oauth2/token"),
            api_url: host.to_owned(),
            revoke_url: None,
            keyset_url: None,
        }
    }

    /// Settings for `client_id` with no secret yet, relative URLs made absolute against
    /// `base_url`.
    fn settings(&self, client_id: &str, base_url: &str) -> ProviderSettings {
        let absolute = |url: &str| absolute_against(base_url, url);
        ProviderSettings {
            client_id: client_id.to_owned(),
            client_secret: SecretString::default(),
            authorize_url: absolute(&self.authorize_url),
            token_url: absolute(&self.token_url),
            api_url: absolute(&self.api_url),
            revoke_url: self.revoke_url.as_deref().map(absolute),
            webhooks: WebhookSecrets {
                keyset_url: self.keyset_url.as_deref().map(absolute),
                ..WebhookSecrets::default()
            },
            subscription_key: None,
        }
    }
}

/// The deployment's app for one provider, as configured: secrets by value or by name.
#[derive(Debug, Clone)]
struct DeploymentApp {
    client_id: String,
    client_secret: SecretSource,
    verify_token: Option<SecretSource>,
    webhook_secret: Option<SecretSource>,
    subscription_key: Option<SecretSource>,
}

impl DeploymentApp {
    fn secrets(&self) -> impl Iterator<Item = &SecretSource> {
        std::iter::once(&self.client_secret)
            .chain(&self.verify_token)
            .chain(&self.webhook_secret)
            .chain(&self.subscription_key)
    }
}

/// Which providers are enabled here, how to reach them, and the deployment's app secrets.
pub struct ProviderRegistry {
    endpoints: BTreeMap<ProviderId, Endpoints>,
    enabled: BTreeMap<ProviderId, DeploymentApp>,
    secrets: SecretCache,
}

impl Default for ProviderRegistry {
    fn default() -> Self {
        Self {
            endpoints: BTreeMap::new(),
            enabled: BTreeMap::new(),
            secrets: SecretCache::new(Arc::new(NoSecretStore), Arc::new(SystemClock)),
        }
    }
}

impl std::fmt::Debug for ProviderRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderRegistry")
            .field("enabled", &self.enabled.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// The demo provider's app credentials. It is a sandbox inside VitaSync: nothing they guard is
/// real.
pub const DEMO_CLIENT_ID: &str = "vitasync-demo";

impl ProviderRegistry {
    /// Reads every provider's variables through `lookup`. A provider is enabled when its
    /// client id and its secret (by value or by name) are set; `demo` when `demo_enabled`.
    /// Named secrets are read through `secrets` when first needed.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        demo_enabled: bool,
        secrets: SecretCache,
    ) -> Self {
        let lookup = |name: &str| lookup(name).filter(|value| !value.is_empty());
        let secret = |name: &str| {
            lookup(name)
                .map(|value| SecretSource::Value(SecretString::from(value)))
                .or_else(|| lookup(&format!("{name}_NAME")).map(SecretSource::Named))
        };
        let mut endpoints = BTreeMap::new();
        let mut enabled = BTreeMap::new();
        for id in ProviderId::ALL {
            let spec = id.info().oauth;
            let prefix = id.env_prefix();
            let url = |suffix: &str, default: &str| {
                lookup(&format!("{prefix}_{suffix}")).unwrap_or_else(|| default.to_owned())
            };
            let region = lookup(&format!("{prefix}_REGION"));
            let regional = match (id, region.as_deref()) {
                (ProviderId::Dexcom, Some(region)) => match dexcom_host(region) {
                    Some(host) => Some(host),
                    None => {
                        tracing::warn!(provider = %id, region, "unknown region: the provider stays disabled");
                        continue;
                    }
                },
                _ => None,
            };
            let (authorize_default, token_default, api_default) = match regional {
                Some(host) => {
                    let on_host = Endpoints::dexcom(host);
                    (on_host.authorize_url, on_host.token_url, on_host.api_url)
                }
                None => (
                    spec.authorize_url.to_owned(),
                    spec.token_url.to_owned(),
                    spec.api_url.to_owned(),
                ),
            };
            endpoints.insert(
                id,
                Endpoints {
                    authorize_url: url("AUTHORIZE_URL", &authorize_default),
                    token_url: url("TOKEN_URL", &token_default),
                    api_url: url("API_URL", &api_default),
                    revoke_url: lookup(&format!("{prefix}_REVOKE_URL"))
                        .or_else(|| spec.revoke_url.map(str::to_owned)),
                    keyset_url: lookup(&format!("{prefix}_WEBHOOK_KEYSET_URL")),
                },
            );
            let credentials = if id == ProviderId::Demo {
                demo_enabled.then(|| {
                    (
                        DEMO_CLIENT_ID.to_owned(),
                        SecretSource::Value(SecretString::from(DEMO_CLIENT_ID)),
                    )
                })
            } else {
                lookup(&format!("{prefix}_CLIENT_ID"))
                    .zip(secret(&format!("{prefix}_CLIENT_SECRET")))
            };
            if let Some((client_id, client_secret)) = credentials {
                enabled.insert(
                    id,
                    DeploymentApp {
                        client_id,
                        client_secret,
                        verify_token: secret(&format!("{prefix}_WEBHOOK_VERIFY_TOKEN")),
                        webhook_secret: secret(&format!("{prefix}_WEBHOOK_SECRET")),
                        subscription_key: secret(&format!("{prefix}_SUBSCRIPTION_KEY")),
                    },
                );
            }
        }
        Self {
            endpoints,
            enabled,
            secrets,
        }
    }

    /// Whether the deployment has an app for `id`.
    pub fn is_enabled(&self, id: ProviderId) -> bool {
        self.enabled.contains_key(&id)
    }

    /// Whether a workspace may bring its own app for `id`: the OAuth providers, not the demo.
    pub fn takes_workspace_apps(id: ProviderId) -> bool {
        ProviderId::ALL.contains(&id) && id != ProviderId::Demo
    }

    /// The deployment's app for `id` as a consent URL needs it: its id and URLs, relative ones
    /// made absolute against `base_url`, and no secret (none is read).
    pub fn consent_app(&self, id: ProviderId, base_url: &str) -> Option<ProviderSettings> {
        let app = self.enabled.get(&id)?;
        Some(self.endpoints.get(&id)?.settings(&app.client_id, base_url))
    }

    /// The deployment's app for `id` with its secrets read, relative URLs made absolute
    /// against `base_url`; `None` when the provider is not enabled.
    pub async fn app(
        &self,
        id: ProviderId,
        base_url: &str,
    ) -> Result<Option<ProviderSettings>, SecretError> {
        let (Some(app), Some(public)) = (self.enabled.get(&id), self.consent_app(id, base_url))
        else {
            return Ok(None);
        };
        let optional = |source: &Option<SecretSource>| {
            let source = source.clone();
            async move {
                match source {
                    Some(source) => self.secrets.get(&source).await.map(Some),
                    None => Ok(None),
                }
            }
        };
        Ok(Some(ProviderSettings {
            client_secret: self.secrets.get(&app.client_secret).await?,
            webhooks: WebhookSecrets {
                verify_token: optional(&app.verify_token).await?,
                secret: optional(&app.webhook_secret).await?,
                ..public.webhooks
            },
            subscription_key: optional(&app.subscription_key).await?,
            ..public
        }))
    }

    /// A workspace's app for `id`: the provider's URLs with the app's credentials (`secrets`
    /// `None` for a consent URL, which carries none).
    pub fn workspace_app(
        &self,
        id: ProviderId,
        client_id: &str,
        region: Option<&str>,
        secrets: Option<&apps::AppSecrets>,
        base_url: &str,
    ) -> Option<ProviderSettings> {
        // An app of another region than the deployment's is reached at that region's host.
        let endpoints = match region.and_then(dexcom_host) {
            Some(host) if id == ProviderId::Dexcom => Endpoints::dexcom(host),
            _ => self.endpoints.get(&id)?.clone(),
        };
        let public = endpoints.settings(client_id, base_url);
        Some(match secrets {
            None => public,
            Some(secrets) => ProviderSettings {
                client_secret: secrets.client_secret.clone(),
                webhooks: WebhookSecrets {
                    verify_token: secrets.verify_token.clone(),
                    secret: secrets.webhook_secret.clone(),
                    ..public.webhooks
                },
                subscription_key: secrets.subscription_key.clone(),
                ..public
            },
        })
    }

    /// After the provider refused the app's credentials: forgets its named secrets read long
    /// enough ago. Whether any was, so that one more try may use a rotated value.
    pub fn reread_after_refusal(&self, id: ProviderId) -> bool {
        self.enabled
            .get(&id)
            .is_some_and(|app| self.secrets.forget_stale(app.secrets()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::collections::HashMap;

    fn registry(env: &HashMap<&str, &str>, demo: bool) -> ProviderRegistry {
        ProviderRegistry::from_lookup(
            |name| env.get(name).map(|v| (*v).to_owned()),
            demo,
            SecretCache::new(Arc::new(NoSecretStore), Arc::new(SystemClock)),
        )
    }

    #[tokio::test]
    async fn providers_are_enabled_by_credentials_and_urls_can_be_overridden() {
        let env = HashMap::from([
            ("WITHINGS_CLIENT_ID", "id"),
            ("WITHINGS_CLIENT_SECRET", "secret"),
            ("WITHINGS_TOKEN_URL", "http://127.0.0.1:9/token"),
            ("STRAVA_CLIENT_ID", "only-an-id"),
            ("OURA_CLIENT_ID", "oura"),
            ("OURA_CLIENT_SECRET_NAME", "vitasync/oura"),
        ]);
        let enabled = registry(&env, true);
        let withings = enabled
            .app(ProviderId::Withings, "http://x")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(withings.token_url, "http://127.0.0.1:9/token");
        assert_eq!(withings.client_secret.expose_secret(), "secret");
        assert_eq!(
            withings.authorize_url,
            "https://account.withings.com/oauth2_user/authorize2"
        );
        assert!(
            !enabled.is_enabled(ProviderId::Strava),
            "a secret is needed too"
        );
        assert!(
            enabled.is_enabled(ProviderId::Oura),
            "a secret's name is enough"
        );
        assert!(
            matches!(
                enabled.app(ProviderId::Oura, "http://x").await,
                Err(SecretError::Unavailable { .. })
            ),
            "a name this host cannot read is an error, not an empty secret"
        );
        let demo = enabled
            .app(ProviderId::Demo, "http://127.0.0.1:8080/")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            demo.authorize_url,
            "http://127.0.0.1:8080/v1/demo/authorize"
        );
        let no_demo = registry(&HashMap::new(), false);
        assert!(!no_demo.is_enabled(ProviderId::Demo));
    }

    #[test]
    fn ids_round_trip() {
        for id in ProviderId::ALL {
            assert_eq!(ProviderId::parse(id.as_str()), Some(id));
        }
        assert_eq!(ProviderId::parse("fitbit-legacy"), None);
    }

    #[tokio::test]
    async fn dexcom_is_reached_at_its_apps_region() {
        let env = HashMap::from([
            ("DEXCOM_CLIENT_ID", "dexcom-jp"),
            ("DEXCOM_CLIENT_SECRET", "secret"),
            ("DEXCOM_REGION", "jp"),
        ]);
        let japan = registry(&env, false);
        let app = japan
            .app(ProviderId::Dexcom, "http://x")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(app.authorize_url, "https://api.dexcom.jp/v2/oauth2/login");
        assert_eq!(app.token_url, "https://api.dexcom.jp/v2/oauth2/token");
        assert_eq!(app.api_url, "https://api.dexcom.jp");
        // A workspace's app registered in Europe is reached in Europe, whatever the
        // deployment's region.
        let europe = japan
            .workspace_app(
                ProviderId::Dexcom,
                "dexcom-eu",
                Some("eu"),
                None,
                "http://x",
            )
            .unwrap();
        assert_eq!(
            europe.authorize_url,
            "https://api.dexcom.eu/v2/oauth2/login"
        );
        assert_eq!(europe.api_url, "https://api.dexcom.eu");
        let default = registry(&HashMap::new(), false)
            .workspace_app(ProviderId::Dexcom, "dexcom-us", None, None, "http://x")
            .unwrap();
        assert_eq!(default.api_url, "https://api.dexcom.com");
        // A region Dexcom does not have leaves it off rather than calling the wrong host.
        let unknown = HashMap::from([
            ("DEXCOM_CLIENT_ID", "dexcom"),
            ("DEXCOM_CLIENT_SECRET", "secret"),
            ("DEXCOM_REGION", "mars"),
        ]);
        assert!(!registry(&unknown, false).is_enabled(ProviderId::Dexcom));
        assert_eq!(ProviderId::Dexcom.data_lag_seconds(), 3 * 3600);
        assert_eq!(ProviderId::Ultrahuman.data_lag_seconds(), 2 * 24 * 3600);
        assert_eq!(ProviderId::Oura.data_lag_seconds(), 0);
    }

    #[tokio::test]
    async fn suuntos_subscription_key_comes_with_its_app() {
        let env = HashMap::from([
            ("SUUNTO_CLIENT_ID", "suunto"),
            ("SUUNTO_CLIENT_SECRET", "secret"),
            ("SUUNTO_SUBSCRIPTION_KEY", "apim-key"),
        ]);
        let app = registry(&env, false)
            .app(ProviderId::Suunto, "http://x")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            app.subscription_key.as_ref().map(|k| k.expose_secret()),
            Some("apim-key")
        );
    }
}
