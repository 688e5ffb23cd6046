//! Authorization URLs, code exchanges and refreshes through the `oauth2` crate, with each
//! provider's habits (client auth, scope separators, extra parameters) from its `OAuthSpec`.

use crate::wire::{TokenWire, WireError};
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken,
    RequestTokenError, Scope, StandardRevocableToken, StandardTokenResponse, TokenResponse,
    TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use vitasync_domain::providers::client::{
    AuthorizationRequest, CodeExchange, ProviderError, TokenGrant,
};
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

pub async fn exchange_code(
    http: &reqwest::Client,
    provider: ProviderId,
    settings: &ProviderSettings,
    exchange: &CodeExchange,
) -> Result<TokenGrant, ProviderError> {
    let client = client(provider, settings, Some(&exchange.redirect_uri))?;
    let mut request = client.exchange_code(AuthorizationCode::new(exchange.code.clone()));
    if let Some(verifier) = &exchange.pkce_verifier {
        request = request.set_pkce_verifier(PkceCodeVerifier::new(verifier.clone()));
    }
    if provider == ProviderId::Withings {
        request = request.add_extra_param("action", "requesttoken");
    }
    let wire = TokenWire { http, provider };
    let response = request.request_async(&wire).await.map_err(token_error)?;
    Ok(grant(response))
}

pub async fn refresh(
    http: &reqwest::Client,
    provider: ProviderId,
    settings: &ProviderSettings,
    refresh_token: &SecretString,
) -> Result<TokenGrant, ProviderError> {
    let client = client(provider, settings, None)?;
    let token = RefreshToken::new(refresh_token.expose_secret().to_owned());
    let mut request = client.exchange_refresh_token(&token);
    match provider {
        ProviderId::Withings => request = request.add_extra_param("action", "requesttoken"),
        // WHOOP issues the next refresh token only when `offline` is asked for again.
        ProviderId::Whoop => request = request.add_scope(Scope::new("offline".into())),
        _ => {}
    }
    let wire = TokenWire { http, provider };
    let response = request.request_async(&wire).await.map_err(token_error)?;
    Ok(grant(response))
}

fn token_error(err: RequestTokenError<WireError, BasicErrorResponse>) -> ProviderError {
    match err {
        RequestTokenError::ServerResponse(response) => ProviderError::refused(
            response.error().as_ref(),
            response.error_description().cloned().unwrap_or_default(),
        ),
        RequestTokenError::Request(wire) => ProviderError::Unavailable(wire.to_string()),
        // The body is not quoted: a token response may hold tokens.
        RequestTokenError::Parse(err, _) => ProviderError::Protocol(format!(
            "the token response did not parse at {}",
            err.path()
        )),
        RequestTokenError::Other(message) => ProviderError::Protocol(message),
    }
}

fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) if !text.is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

fn grant(response: ProviderTokenResponse) -> TokenGrant {
    let extra = response.extra_fields();
    let provider_user_id = extra
        .userid
        .as_ref()
        .or(extra.x_user_id.as_ref())
        .or(extra.user_id.as_ref())
        .or(extra.athlete.as_ref().map(|athlete| &athlete.id))
        .and_then(id_text);
    TokenGrant {
        access_token: SecretString::from(response.access_token().secret().clone()),
        refresh_token: response
            .refresh_token()
            .map(|token| SecretString::from(token.secret().clone())),
        expires_in: response
            .expires_in()
            .and_then(|lifetime| i64::try_from(lifetime.as_secs()).ok()),
        // The library splits on spaces; Withings and Strava separate with commas.
        scopes: response.scopes().map(|scopes| {
            scopes
                .iter()
                .flat_map(|scope| scope.split(','))
                .filter(|scope| !scope.is_empty())
                .map(str::to_owned)
                .collect()
        }),
        provider_user_id,
    }
}
