//! Authorization URLs, code exchanges and refreshes through the `oauth2` crate, with each
//! provider's habits (client auth, scope separators, extra parameters) from its `OAuthSpec`.
//! The consent URL needs no HTTP client: the function that redirects browsers links only this.

#[cfg(feature = "http")]
pub mod tokens;

use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthType, AuthUrl, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    ExtraTokenFields, PkceCodeChallenge, RedirectUrl, Scope, StandardRevocableToken,
    StandardTokenResponse, TokenUrl,
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use vitasync_domain::providers::client::{AuthorizationRequest, Authorizer, ProviderError};
use vitasync_domain::providers::{ClientAuth, ProviderId, ProviderSettings};

/// Fields some providers add to their token responses.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ProviderFields {
    /// Withings
    #[serde(default, skip_serializing_if = "Option::is_none")]
    userid: Option<Value>,
    /// Polar
    #[serde(default, skip_serializing_if = "Option::is_none")]
    x_user_id: Option<Value>,
    /// Fitbit (legacy) and the demo provider
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user_id: Option<Value>,
    /// Strava
    #[serde(default, skip_serializing_if = "Option::is_none")]
    athlete: Option<Athlete>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
struct Athlete {
    id: Value,
}

impl ExtraTokenFields for ProviderFields {}

type ProviderTokenResponse = StandardTokenResponse<ProviderFields, BasicTokenType>;

type OAuthClient = oauth2::Client<
    BasicErrorResponse,
    ProviderTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

fn misconfigured(what: &str) -> ProviderError {
    ProviderError::Protocol(format!("{what} is not a valid URL"))
}

fn client(
    provider: ProviderId,
    settings: &ProviderSettings,
    redirect_uri: Option<&str>,
) -> Result<OAuthClient, ProviderError> {
    let spec = provider.info().oauth;
    let client = oauth2::Client::new(ClientId::new(settings.client_id.clone()))
        .set_client_secret(ClientSecret::new(
            settings.client_secret.expose_secret().to_owned(),
        ))
        .set_auth_uri(
            AuthUrl::new(settings.authorize_url.clone())
                .map_err(|_| misconfigured("the authorize URL"))?,
        )
        .set_token_uri(
            TokenUrl::new(settings.token_url.clone())
                .map_err(|_| misconfigured("the token URL"))?,
        )
        .set_auth_type(match spec.client_auth {
            ClientAuth::Basic => AuthType::BasicAuth,
            ClientAuth::Body => AuthType::RequestBody,
        });
    Ok(match redirect_uri {
        Some(uri) => client.set_redirect_uri(
            RedirectUrl::new(uri.to_owned()).map_err(|_| misconfigured("the callback URL"))?,
        ),
        None => client,
    })
}

pub fn authorization(
    provider: ProviderId,
    settings: &ProviderSettings,
    redirect_uri: &str,
    state: &str,
) -> Result<AuthorizationRequest, ProviderError> {
    let spec = provider.info().oauth;
    let client = client(provider, settings, Some(redirect_uri))?;
    let state = state.to_owned();
    let mut request = client.authorize_url(move || CsrfToken::new(state));
    if !spec.scopes.is_empty() {
        // One value joined with the provider's separator: Withings and Strava want commas.
        request = request.add_scope(Scope::new(spec.scopes.join(spec.scope_separator)));
    }
    for (name, value) in spec.extra_authorize_params {
        request = request.add_extra_param(*name, *value);
    }
    let verifier = if spec.pkce {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        request = request.set_pkce_challenge(challenge);
        Some(verifier.secret().clone())
    } else {
        None
    };
    let (url, _) = request.url();
    Ok(AuthorizationRequest {
        url: url.into(),
        pkce_verifier: verifier,
    })
}

/// Builds providers' consent URLs; calls no one.
#[derive(Debug, Clone, Copy, Default)]
pub struct OAuthAuthorizer;

impl Authorizer for OAuthAuthorizer {
    fn authorization(
        &self,
        provider: ProviderId,
        settings: &ProviderSettings,
        redirect_uri: &str,
        state: &str,
    ) -> Result<AuthorizationRequest, ProviderError> {
        authorization(provider, settings, redirect_uri, state)
    }
}
