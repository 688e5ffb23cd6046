//! `HttpProviderClient`: every capability of the provider client port over HTTPS.

use crate::{
    accounts, dexcom, garmin, google_health, oura, polar, push, strava, subscriptions, suunto,
    ultrahuman, wahoo, whoop, withings,
};
use async_trait::async_trait;
use secrecy::SecretString;
use std::time::Duration;
use thiserror::Error;
use vitasync_domain::health::HealthBatch;
use vitasync_domain::inbound::push::{PushOutcome, PushRequest};
use vitasync_domain::kernel::time::Timestamp;
use vitasync_domain::providers::client::{
    AppSubscription, AuthorizationRequest, Authorizer, CodeExchange, DataClient, FetchError,
    FetchRequest, ProviderAccount, ProviderError, PushReader, SubscriptionClient, TokenClient,
    TokenGrant, TokenPair,
};
use vitasync_domain::providers::demo_data;
use vitasync_domain::providers::{ProviderId, ProviderSettings};

/// A provider that does not answer within this long is treated as unavailable.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Error)]
#[error("the HTTP client could not be built: {0}")]
pub struct ClientBuildError(pub(crate) String);

/// Talks to providers over HTTPS (rustls on aws-lc-rs, the same stack as the AWS SDK).
#[derive(Clone)]
pub struct HttpProviderClient {
    http: reqwest::Client,
    /// Google's webhook signing keys, fetched when an unknown key id turns up.
    keysets: std::sync::Arc<push::KeysetCache>,
}

impl HttpProviderClient {
    pub fn new() -> Result<Self, ClientBuildError> {
        // One TLS stack in the binary: rustls's aws-lc-rs provider. Installing it twice is fine.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let http = reqwest::Client::builder()
            .user_agent(concat!("VitaSync/", env!("CARGO_PKG_VERSION")))
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            // OAuth endpoints must answer, not bounce us elsewhere with our credentials.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|err| ClientBuildError(err.to_string()))?;
        Ok(Self {
            http,
            keysets: std::sync::Arc::default(),
        })
    }
}

#[async_trait]
impl Authorizer for HttpProviderClient {
    fn authorization(
        &self,
        provider: ProviderId,
        settings: &ProviderSettings,
        redirect_uri: &str,
        state: &str,
    ) -> Result<AuthorizationRequest, ProviderError> {
        crate::oauth::authorization(provider, settings, redirect_uri, state)
    }
}

#[async_trait]
impl TokenClient for HttpProviderClient {
    async fn exchange_code(
        &self,
        provider: ProviderId,
        settings: &ProviderSettings,
        exchange: &CodeExchange,
    ) -> Result<TokenGrant, ProviderError> {
        crate::oauth::tokens::exchange_code(&self.http, provider, settings, exchange).await
    }
    async fn refresh(
        &self,
        provider: ProviderId,
        settings: &ProviderSettings,
        refresh_token: &SecretString,
    ) -> Result<TokenGrant, ProviderError> {
        crate::oauth::tokens::refresh(&self.http, provider, settings, refresh_token).await
    }
    async fn identify(
        &self,
        provider: ProviderId,
        settings: &ProviderSettings,
        grant: &TokenGrant,
        member_id: &str,
    ) -> Result<ProviderAccount, ProviderError> {
        accounts::identify(&self.http, provider, settings, grant, member_id).await
    }
    async fn revoke(
        &self,
        provider: ProviderId,
        settings: &ProviderSettings,
        tokens: &TokenPair,
        provider_user_id: &str,
    ) -> Result<(), ProviderError> {
        accounts::revoke(&self.http, provider, settings, tokens, provider_user_id).await
    }
}

#[async_trait]
impl DataClient for HttpProviderClient {
    async fn fetch_data(
        &self,
        provider: ProviderId,
        settings: &ProviderSettings,
        access_token: &SecretString,
        request: &FetchRequest,
    ) -> Result<HealthBatch, FetchError> {
        match provider {
            // The demo provider's data is generated where it lives: in VitaSync.
            ProviderId::Demo => Ok(demo_data::generate(&request.provider_user_id, request)),
            ProviderId::Withings => {
                withings::fetch(&self.http, settings, access_token, request).await
            }
            ProviderId::Garmin => garmin::fetch(&self.http, settings, access_token, request).await,
            ProviderId::Fitbit => {
                google_health::fetch(&self.http, settings, access_token, request).await
            }
            ProviderId::Polar => polar::fetch(&self.http, settings, access_token, request).await,
            ProviderId::Strava => strava::fetch(&self.http, settings, access_token, request).await,
            ProviderId::Whoop => whoop::fetch(&self.http, settings, access_token, request).await,
            ProviderId::Oura => oura::fetch(&self.http, settings, access_token, request).await,
            ProviderId::Dexcom => dexcom::fetch(&self.http, settings, access_token, request).await,
            ProviderId::Ultrahuman => {
                ultrahuman::fetch(&self.http, settings, access_token, request).await
            }
            ProviderId::Suunto => suunto::fetch(&self.http, settings, access_token, request).await,
            ProviderId::Wahoo => wahoo::fetch(&self.http, settings, access_token, request).await,
            ProviderId::AppleHealth | ProviderId::HealthConnect | ProviderId::SamsungHealth => {
                Err(FetchError::Protocol(
                    "a phone's health store is pushed by the app, never fetched".into(),
                ))
            }
        }
    }
    fn map_pushed(
        &self,
        provider: ProviderId,
        body: &serde_json::Value,
        request: &FetchRequest,
    ) -> Result<HealthBatch, FetchError> {
        match provider {
            ProviderId::Garmin => Ok(garmin::summaries(body, request)),
            ProviderId::Suunto => Ok(suunto::pushed(body, request)),
            other => Err(FetchError::Protocol(format!(
                "{other} does not push data, only notices"
            ))),
        }
    }
}

#[async_trait]
impl PushReader for HttpProviderClient {
    async fn receive_push(
        &self,
        provider: ProviderId,
        settings: &ProviderSettings,
        request: &PushRequest,
        now: Timestamp,
    ) -> PushOutcome {
        push::receive(&self.http, &self.keysets, provider, settings, request, now).await
    }
}

#[async_trait]
impl SubscriptionClient for HttpProviderClient {
    async fn subscribe_user(
        &self,
        provider: ProviderId,
        settings: &ProviderSettings,
        access_token: &SecretString,
        callback_url: &str,
    ) -> Result<Vec<String>, ProviderError> {
        subscriptions::subscribe_user(&self.http, provider, settings, access_token, callback_url)
            .await
    }
    async fn unsubscribe_user(
        &self,
        provider: ProviderId,
        settings: &ProviderSettings,
        access_token: &SecretString,
        callback_url: &str,
    ) -> Result<(), ProviderError> {
        subscriptions::unsubscribe_user(&self.http, provider, settings, access_token, callback_url)
            .await
    }
    async fn subscribe_app(
        &self,
        provider: ProviderId,
        settings: &ProviderSettings,
        callback_url: &str,
        now: Timestamp,
    ) -> Result<Vec<AppSubscription>, ProviderError> {
        subscriptions::subscribe_app(&self.http, provider, settings, callback_url, now).await
    }
}
