//! The token endpoint: code exchanges and refreshes over the provider's wire habits.

use super::{ProviderTokenResponse, client};
use crate::wire::{TokenWire, WireError};
use oauth2::basic::BasicErrorResponse;
use oauth2::{
    AuthorizationCode, PkceCodeVerifier, RefreshToken, RequestTokenError, Scope, TokenResponse,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use vitasync_domain::providers::client::{CodeExchange, ProviderError, TokenGrant};
use vitasync_domain::providers::{ProviderId, ProviderSettings};

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
    let wire = TokenWire {
        http,
        provider,
        subscription_key: settings.subscription_key.as_ref(),
    };
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
    let wire = TokenWire {
        http,
        provider,
        subscription_key: settings.subscription_key.as_ref(),
    };
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
