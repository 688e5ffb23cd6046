//! Per-provider calls around a grant: who the account is (and Polar's registration), and how
//! access is revoked. Paths and shapes follow each provider's documentation.

use crate::wire::describe;
use hmac::{Hmac, Mac};
use reqwest::{Method, RequestBuilder, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use sha2::Sha256;
use vitasync_domain::providers::client::{ProviderAccount, ProviderError, TokenGrant, TokenPair};
use vitasync_domain::providers::{ProviderId, ProviderSettings};

pub(crate) async fn send(request: RequestBuilder) -> Result<(StatusCode, Value), ProviderError> {
    let response = request
        .send()
        .await
        .map_err(|err| ProviderError::Unavailable(describe(&err)))?;
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|err| ProviderError::Unavailable(describe(&err)))?;
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Ok((status, body))
}

/// Maps a reply's status: throttling and faults are worth retrying, 401/403 are refusals.
pub(crate) fn check(status: StatusCode, what: &str) -> Result<(), ProviderError> {
    if status.is_success() {
        Ok(())
    } else if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        Err(ProviderError::Unavailable(format!("{what}: HTTP {status}")))
    } else if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
        Err(ProviderError::refused(
            format!("http_{}", status.as_u16()),
            format!("{what} was refused"),
        ))
    } else {
        Err(ProviderError::Protocol(format!("{what}: HTTP {status}")))
    }
}

fn field_text(body: &Value, field: &str, what: &str) -> Result<String, ProviderError> {
    match body.get(field) {
        Some(Value::String(text)) if !text.is_empty() => Ok(text.clone()),
        Some(Value::Number(number)) => Ok(number.to_string()),
        _ => Err(ProviderError::Protocol(format!("{what} has no '{field}'"))),
    }
}

async fn get_json(
    http: &reqwest::Client,
    url: String,
    token: &SecretString,
    what: &str,
) -> Result<Value, ProviderError> {
    let (status, body) = send(http.get(url).bearer_auth(token.expose_secret())).await?;
    check(status, what)?;
    Ok(body)
}

pub async fn identify(
    http: &reqwest::Client,
    provider: ProviderId,
    settings: &ProviderSettings,
    grant: &TokenGrant,
    member_id: &str,
) -> Result<ProviderAccount, ProviderError> {
    let api = settings.api_url.trim_end_matches('/');
    let token = &grant.access_token;
    let from_token = || {
        grant
            .provider_user_id
            .clone()
            .ok_or_else(|| ProviderError::Protocol("the token response names no account".into()))
    };
    let account = |id: String| ProviderAccount {
        provider_user_id: id,
        scopes: None,
    };
    match provider {
        ProviderId::Withings | ProviderId::Strava | ProviderId::Demo => from_token().map(account),
        ProviderId::AppleHealth | ProviderId::HealthConnect | ProviderId::SamsungHealth => Err(
            ProviderError::Protocol("a phone's health store has no account to look up".into()),
        ),
        ProviderId::Polar => {
            let id = from_token()?;
            // AccessLink serves no data until the user is registered with the client.
            let (status, _) = send(
                http.post(format!("{api}/v3/users"))
                    .bearer_auth(token.expose_secret())
                    .json(&json!({ "member-id": member_id })),
            )
            .await?;
            if status != StatusCode::CONFLICT {
                check(status, "Polar user registration")?;
            }
            Ok(account(id))
        }
        ProviderId::Garmin => {
            let body = get_json(
                http,
                format!("{api}/wellness-api/rest/user/id"),
                token,
                "Garmin user id",
            )
            .await?;
            let id = field_text(&body, "userId", "Garmin's user id reply")?;
            // Garmin has no scopes; the permissions the user left on stand in for them.
            let permissions = get_json(
                http,
                format!("{api}/wellness-api/rest/user/permissions"),
                token,
                "Garmin permissions",
            )
            .await
            .ok()
            .and_then(|body| {
                body.get("permissions")?.as_array().map(|list| {
                    list.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
            });
            Ok(ProviderAccount {
                provider_user_id: id,
                scopes: permissions,
            })
        }
        ProviderId::Fitbit => {
            let body = get_json(
                http,
                format!("{api}/v4/users/me/identity"),
                token,
                "Google Health identity",
            )
            .await?;
            field_text(&body, "healthUserId", "the identity reply").map(account)
        }
        ProviderId::Oura => {
            let body = get_json(
                http,
                format!("{api}/v2/usercollection/personal_info"),
                token,
                "Oura personal info",
            )
            .await?;
            field_text(&body, "id", "Oura's personal info").map(account)
        }
        ProviderId::Whoop => {
            let body = get_json(
                http,
                format!("{api}/v2/user/profile/basic"),
                token,
                "WHOOP profile",
            )
            .await?;
            field_text(&body, "user_id", "WHOOP's profile").map(account)
        }
        // Dexcom has no profile: every reply names the user, the data range the cheapest.
        ProviderId::Dexcom => {
            let body = get_json(
                http,
                format!("{api}/v3/users/self/dataRange"),
                token,
                "Dexcom data range",
            )
            .await?;
            crate::dexcom::user_id(&body)
                .map(account)
                .ok_or_else(|| ProviderError::Protocol("Dexcom's data range names no user".into()))
        }
        ProviderId::Ultrahuman => {
            let body = get_json(
                http,
                format!("{api}/api/partners/v1/user_data/user_info"),
                token,
                "Ultrahuman user info",
            )
            .await?;
            crate::ultrahuman::account_id(&body)
                .map(account)
                .ok_or_else(|| {
                    ProviderError::Protocol("Ultrahuman's user info names no user".into())
                })
        }
        // The access token is a JWT whose `user` claim is the username webhooks name.
        ProviderId::Suunto => crate::suunto::username(token.expose_secret())
            .map(account)
            .ok_or_else(|| ProviderError::Protocol("Suunto's token names no user".into())),
        ProviderId::Wahoo => {
            let body = get_json(http, format!("{api}/v1/user"), token, "Wahoo user").await?;
            field_text(&body, "id", "Wahoo's user").map(account)
        }
    }
}

pub async fn revoke(
    http: &reqwest::Client,
    provider: ProviderId,
    settings: &ProviderSettings,
    tokens: &TokenPair,
    provider_user_id: &str,
) -> Result<(), ProviderError> {
    let api = settings.api_url.trim_end_matches('/');
    let access = tokens.access_token.expose_secret();
    let bearer = |method: Method, url: String| http.request(method, url).bearer_auth(access);
    let revoke_url = || {
        settings
            .revoke_url
            .clone()
            .ok_or_else(|| ProviderError::Protocol("no revocation URL is configured".into()))
    };
    let request = match provider {
        ProviderId::Demo
        | ProviderId::AppleHealth
        | ProviderId::HealthConnect
        | ProviderId::SamsungHealth => return Ok(()),
        ProviderId::Withings => return withings_revoke(http, settings, provider_user_id).await,
        ProviderId::Strava => http.post(revoke_url()?).form(&[("access_token", access)]),
        // Revoking the refresh token ends the whole grant at Google.
        ProviderId::Fitbit => {
            let token = tokens
                .refresh_token
                .as_ref()
                .map_or(access, |refresh| refresh.expose_secret());
            http.post(revoke_url()?).form(&[("token", token)])
        }
        ProviderId::Oura => http.get(revoke_url()?).query(&[("access_token", access)]),
        ProviderId::Whoop => bearer(Method::DELETE, format!("{api}/v2/user/access")),
        ProviderId::Garmin => bearer(
            Method::DELETE,
            format!("{api}/wellness-api/rest/user/registration"),
        ),
        ProviderId::Polar => bearer(Method::DELETE, format!("{api}/v3/users/{provider_user_id}")),
        // Neither documents a way to revoke: the user does it in their account.
        ProviderId::Dexcom | ProviderId::Suunto => return Ok(()),
        ProviderId::Ultrahuman => http.post(revoke_url()?).form(&[
            ("token", access),
            ("client_id", settings.client_id.as_str()),
            ("client_secret", settings.client_secret.expose_secret()),
        ]),
        // Revoking frees one of the ten tokens Wahoo lets an app hold per user.
        ProviderId::Wahoo => bearer(Method::DELETE, format!("{api}/v1/permissions")),
    };
    let (status, _) = send(request).await?;
    // A token the provider no longer knows is as revoked as it gets.
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::NOT_FOUND {
        return Ok(());
    }
    check(status, "revocation")
}

type HmacSha256 = Hmac<Sha256>;

fn withings_signature(secret: &SecretString, values: &[&str]) -> Result<String, ProviderError> {
    let mut mac = HmacSha256::new_from_slice(secret.expose_secret().as_bytes())
        .map_err(|_| ProviderError::Protocol("the client secret cannot key a signature".into()))?;
    mac.update(values.join(",").as_bytes());
    Ok(hex::encode(mac.finalize().into_bytes()))
}

/// Withings revokes through signed calls: a nonce from `/v2/signature`, then
/// `action=revoke` on the OAuth endpoint.
async fn withings_revoke(
    http: &reqwest::Client,
    settings: &ProviderSettings,
    provider_user_id: &str,
) -> Result<(), ProviderError> {
    let api = settings.api_url.trim_end_matches('/');
    let client_id = settings.client_id.as_str();
    let timestamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
        .to_string();
    let signature = withings_signature(
        &settings.client_secret,
        &["getnonce", client_id, &timestamp],
    )?;
    let (status, body) = send(http.post(format!("{api}/v2/signature")).form(&[
        ("action", "getnonce"),
        ("client_id", client_id),
        ("timestamp", &timestamp),
        ("signature", &signature),
    ]))
    .await?;
    check(status, "Withings nonce")?;
    let nonce = withings_body(&body, "Withings nonce")?
        .get("nonce")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| ProviderError::Protocol("Withings sent no nonce".into()))?;
    let signature = withings_signature(&settings.client_secret, &["revoke", client_id, &nonce])?;
    let (status, body) = send(http.post(&settings.token_url).form(&[
        ("action", "revoke"),
        ("client_id", client_id),
        ("nonce", &nonce),
        ("signature", &signature),
        ("userid", provider_user_id),
    ]))
    .await?;
    check(status, "Withings revocation")?;
    withings_body(&body, "Withings revocation").map(|_| ())
}

/// The `body` of a Withings reply whose `status` is 0.
pub(crate) fn withings_body<'a>(reply: &'a Value, what: &str) -> Result<&'a Value, ProviderError> {
    match reply.get("status").and_then(Value::as_i64) {
        Some(0) => Ok(reply.get("body").unwrap_or(&Value::Null)),
        Some(601) => Err(ProviderError::Unavailable(format!("{what}: rate limited"))),
        Some(code) => Err(ProviderError::refused(
            format!("withings_{code}"),
            format!("{what} was refused"),
        )),
        None => Err(ProviderError::Protocol(format!("{what}: no status"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn withings_signatures_are_hex_hmac_of_the_comma_joined_values() {
        let secret = SecretString::from("secret");
        let signature = withings_signature(&secret, &["getnonce", "id", "1700000000"]).unwrap();
        assert_eq!(
            signature,
            "20426368c932e95935afda4bb077b20cd644e8c5c6b87eca86e4d3ce6a3c0411"
        );
    }
}
