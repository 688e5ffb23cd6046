//! `/webhooks/{providerId}`: where providers push (a function URL on AWS). No API key: each
//! provider's own proof of origin is checked over the raw body.

use crate::problem::ApiResult;
use crate::state::ApiState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::FromRef;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vitasync_domain::inbound::push::Pushes;
use vitasync_domain::inbound::push::{PushMethod, PushRequest};

/// Garmin pushes whole summaries; Lambda takes at most 6 MB.
const MAX_PUSH_BYTES: usize = 6 * 1024 * 1024;

pub fn routes<S>() -> OpenApiRouter<S>
where
    S: ApiState,
    Pushes: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(provider_webhook_check, provider_webhook))
        .routes(routes!(secret_path_webhook))
        .layer(DefaultBodyLimit::max(MAX_PUSH_BYTES))
}

async fn handle(
    pushes: Pushes,
    provider: String,
    path_secret: Option<String>,
    method: Method,
    query: Option<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let request = PushRequest {
        method: match method {
            Method::HEAD => PushMethod::Head,
            Method::POST => PushMethod::Post,
            _ => PushMethod::Get,
        },
        query: form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect(),
        headers: headers
            .iter()
            .filter_map(|(name, value)| {
                value
                    .to_str()
                    .ok()
                    .map(|value| (name.as_str().to_owned(), value.to_owned()))
            })
            .collect(),
        body: body.to_vec(),
        path_secret,
    };
    let reply = pushes.receive_push(&provider, &request).await?;
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
    Ok(match reply.body {
        Some(body) => (status, Json(body)).into_response(),
        None => status.into_response(),
    })
}

/// A provider's subscription handshake
#[utoipa::path(
    get, path = "/webhooks/{providerId}", tag = "provider-webhooks",
    description = "Strava's `hub.challenge` and Oura's `challenge` echo (with the configured \
                   verify token); Withings' HEAD check.",
    params(("providerId" = String, Path, description = "withings, whoop, strava, oura, garmin, polar or fitbit")),
    responses(
        (status = 200, description = "The challenge, echoed"),
        (status = 401, description = "Oura: wrong verification token"),
        (status = 403, description = "Strava: wrong verify token"),
        (status = 404, description = "The provider is not enabled"),
    )
)]
async fn provider_webhook_check(
    State(pushes): State<Pushes>,
    Path(provider): Path<String>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> ApiResult<Response> {
    handle(pushes, provider, None, method, query, headers, Bytes::new()).await
}

/// A provider's notification
#[utoipa::path(
    post, path = "/webhooks/{providerId}", tag = "provider-webhooks",
    description = "Verified per provider over the raw body (WHOOP, Oura and Polar HMACs, \
                   Google Health's authorization secret and ECDSA signature), answered at once; \
                   the work it names is queued. Strava and Withings sign nothing: their notices \
                   only trigger fetches made with the user's own token. Garmin posts to \
                   `/webhooks/garmin/{secret}` instead.",
    params(("providerId" = String, Path, description = "withings, whoop, strava, oura, garmin, polar or fitbit")),
    responses(
        (status = 200, description = "Accepted"),
        (status = 201, description = "Google Health's verification request, accepted"),
        (status = 204, description = "Google Health's notification, accepted"),
        (status = 401, description = "Missing or wrong signature"),
        (status = 403, description = "Wrong secret or signature (Google Health)"),
        (status = 404, description = "The provider is not enabled"),
        (status = 503, description = "Not recorded; the provider should retry"),
    )
)]
async fn provider_webhook(
    State(pushes): State<Pushes>,
    Path(provider): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    handle(pushes, provider, None, Method::POST, query, headers, body).await
}

/// A provider's notification, at a secret URL
#[utoipa::path(
    post, path = "/webhooks/{providerId}/{secret}", tag = "provider-webhooks",
    description = "For providers that sign nothing (Garmin): the secret path segment, compared \
                   in constant time with `GARMIN_WEBHOOK_SECRET`, is the proof of origin.",
    params(
        ("providerId" = String, Path, description = "garmin"),
        ("secret" = String, Path, description = "The provider's `<PROVIDER>_WEBHOOK_SECRET`"),
    ),
    responses(
        (status = 200, description = "Accepted"),
        (status = 401, description = "Wrong or missing secret"),
        (status = 404, description = "The provider is not enabled, or takes no secret path"),
        (status = 503, description = "Not recorded; the provider should retry"),
    )
)]
async fn secret_path_webhook(
    State(pushes): State<Pushes>,
    Path((provider, secret)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    handle(
        pushes,
        provider,
        Some(secret),
        Method::POST,
        query,
        headers,
        body,
    )
    .await
}
