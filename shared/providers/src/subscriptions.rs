//! Asking providers to send webhooks: per user (Withings' notify subscriptions) or per app
//! (Strava's push subscription, Oura's subscriptions per event and data type).

use crate::accounts::{check, send, withings_body};
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use vitasync_domain::kernel::time::Timestamp;
use vitasync_domain::providers::client::{AppSubscription, ProviderError};
use vitasync_domain::providers::{ProviderId, ProviderSettings};

/// The Withings notification categories VitaSync syncs (`appli` codes).
const WITHINGS_APPLIS: [&str; 5] = ["1", "2", "4", "16", "44"];

/// The Oura data types VitaSync syncs, each subscribed for creations and updates.
const OURA_DATA_TYPES: [&str; 6] = [
    "sleep",
    "daily_activity",
    "daily_readiness",
    "workout",
    "daily_spo2",
    "heartrate",
];
const OURA_EVENTS: [&str; 2] = ["create", "update"];

/// Oura subscriptions expiring within this long are renewed.
const OURA_RENEW_WITHIN_SECONDS: i64 = 7 * 24 * 3600;

/// Subscribes the user's account to every category VitaSync syncs; the categories subscribed.
/// Providers without per-user subscriptions answer an empty list.
pub async fn subscribe_user(
    http: &reqwest::Client,
    provider: ProviderId,
    settings: &ProviderSettings,
    token: &SecretString,
    callback_url: &str,
) -> Result<Vec<String>, ProviderError> {
    if provider != ProviderId::Withings {
        return Ok(Vec::new());
    }
    for appli in WITHINGS_APPLIS {
        withings_notify(http, settings, token, "subscribe", callback_url, appli).await?;
    }
    Ok(WITHINGS_APPLIS.iter().map(|a| (*a).to_owned()).collect())
}

/// Ends what `subscribe_user` started.
pub async fn unsubscribe_user(
    http: &reqwest::Client,
    provider: ProviderId,
    settings: &ProviderSettings,
    token: &SecretString,
    callback_url: &str,
) -> Result<(), ProviderError> {
    if provider != ProviderId::Withings {
        return Ok(());
    }
    for appli in WITHINGS_APPLIS {
        match withings_notify(http, settings, token, "revoke", callback_url, appli).await {
            // Nothing to revoke is as revoked as it gets.
            Ok(()) | Err(ProviderError::Refused { .. }) => {}
            Err(other) => return Err(other),
        }
    }
    Ok(())
}

async fn withings_notify(
    http: &reqwest::Client,
    settings: &ProviderSettings,
    token: &SecretString,
    action: &str,
    callback_url: &str,
    appli: &str,
) -> Result<(), ProviderError> {
    let url = format!("{}/notify", settings.api_url.trim_end_matches('/'));
    let (status, body) = send(http.post(url).bearer_auth(token.expose_secret()).form(&[
        ("action", action),
        ("callbackurl", callback_url),
        ("appli", appli),
        ("comment", "VitaSync"),
    ]))
    .await?;
    check(status, "Withings notify")?;
    withings_body(&body, "Withings notify").map(|_| ())
}

/// Makes sure the app's subscriptions exist (creating what is missing, renewing what is about
/// to expire) and lists them. Providers without an API for it are refused.
pub async fn subscribe_app(
    http: &reqwest::Client,
    provider: ProviderId,
    settings: &ProviderSettings,
    callback_url: &str,
    now: Timestamp,
) -> Result<Vec<AppSubscription>, ProviderError> {
    let verify_token = settings.webhooks.verify_token.as_ref().ok_or_else(|| {
        ProviderError::refused(
            "verify_token_missing",
            format!(
                "set {}_WEBHOOK_VERIFY_TOKEN first: the provider checks it against this deployment",
                provider.env_prefix()
            ),
        )
    })?;
    match provider {
        ProviderId::Strava => strava_subscribe(http, settings, callback_url, verify_token).await,
        ProviderId::Oura => oura_subscribe(http, settings, callback_url, verify_token, now).await,
        other => Err(ProviderError::refused(
            "not_supported",
            format!("{other} has no subscription API"),
        )),
    }
}

async fn strava_subscribe(
    http: &reqwest::Client,
    settings: &ProviderSettings,
    callback_url: &str,
    verify_token: &SecretString,
) -> Result<Vec<AppSubscription>, ProviderError> {
    let url = format!(
        "{}/push_subscriptions",
        settings.api_url.trim_end_matches('/')
    );
    let credentials = [
        ("client_id", settings.client_id.as_str()),
        ("client_secret", settings.client_secret.expose_secret()),
    ];
    let (status, listed) = send(http.get(&url).query(&credentials)).await?;
    check(status, "Strava subscriptions")?;
    let existing = listed.as_array().cloned().unwrap_or_default();
    if let Some(found) = existing
        .iter()
        .find(|s| s.get("callback_url").and_then(Value::as_str) == Some(callback_url))
    {
        return Ok(vec![strava_subscription(found)]);
    }
    // Strava allows one subscription per app: one for another URL is an operator's decision.
    if !existing.is_empty() {
        return Err(ProviderError::refused(
            "subscription_exists",
            "Strava already has a subscription for another callback URL; delete it first",
        ));
    }
    // Strava calls the callback (the hub.challenge handshake) before it answers this.
    let (status, created) = send(http.post(&url).form(&[
        credentials[0],
        credentials[1],
        ("callback_url", callback_url),
        ("verify_token", verify_token.expose_secret()),
    ]))
    .await?;
    check(status, "Strava subscription")?;
    Ok(vec![strava_subscription(&created)])
}

fn strava_subscription(value: &Value) -> AppSubscription {
    AppSubscription {
        id: value
            .get("id")
            .map(|id| id.to_string().trim_matches('"').to_owned())
            .unwrap_or_default(),
        covers: "all events".into(),
        expires_at: None,
    }
}

async fn oura_subscribe(
    http: &reqwest::Client,
    settings: &ProviderSettings,
    callback_url: &str,
    verify_token: &SecretString,
    now: Timestamp,
) -> Result<Vec<AppSubscription>, ProviderError> {
    let base = format!(
        "{}/v2/webhook/subscription",
        settings.api_url.trim_end_matches('/')
    );
    let app = |request: reqwest::RequestBuilder| {
        request
            .header("x-client-id", &settings.client_id)
            .header("x-client-secret", settings.client_secret.expose_secret())
    };
    let (status, listed) = send(app(http.get(&base))).await?;
    check(status, "Oura subscriptions")?;
    let listed: Vec<Value> = listed
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|s| s.get("callback_url").and_then(Value::as_str) == Some(callback_url))
        .collect();
    let mut out = Vec::new();
    for data_type in OURA_DATA_TYPES {
        for event in OURA_EVENTS {
            let found = listed.iter().find(|s| {
                s.get("data_type").and_then(Value::as_str) == Some(data_type)
                    && s.get("event_type").and_then(Value::as_str) == Some(event)
            });
            let subscription = match found {
                Some(existing) if !expires_soon(existing, now) => existing.clone(),
                Some(existing) => {
                    let id = existing
                        .get("id")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    let (status, renewed) =
                        send(app(http.put(format!("{base}/renew/{id}")))).await?;
                    check(status, "Oura subscription renewal")?;
                    renewed
                }
                None => {
                    let (status, created) = send(app(http.post(&base)).json(&json!({
                        "callback_url": callback_url,
                        "verification_token": verify_token.expose_secret(),
                        "event_type": event,
                        "data_type": data_type,
                    })))
                    .await?;
                    if status == StatusCode::CONFLICT {
                        continue;
                    }
                    check(status, "Oura subscription")?;
                    created
                }
            };
            out.push(AppSubscription {
                id: subscription
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                covers: format!("{event} {data_type}"),
                expires_at: subscription
                    .get("expiration_time")
                    .and_then(Value::as_str)
                    .and_then(parse_time),
            });
        }
    }
    Ok(out)
}

fn parse_time(text: &str) -> Option<Timestamp> {
    crate::rest::instant_ms(text).and_then(Timestamp::from_millis)
}

fn expires_soon(subscription: &Value, now: Timestamp) -> bool {
    subscription
        .get("expiration_time")
        .and_then(Value::as_str)
        .and_then(parse_time)
        .is_none_or(|at| at <= now.plus_seconds(OURA_RENEW_WITHIN_SECONDS))
}
