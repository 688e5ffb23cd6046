//! `/webhooks/{providerId}`: where providers push (a function URL on AWS). No API key: each
//! provider's own proof of origin is checked over the raw body. A workspace's own app has its
//! own URL, `/webhooks/{providerId}/{appId}`, so its secrets are picked before the body is read.

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
use vitasync_domain::kernel::ids::AppId;

/// Garmin pushes whole summaries; Lambda takes at most 6 MB.
const MAX_PUSH_BYTES: usize = 6 * 1024 * 1024;

pub fn routes<S>() -> OpenApiRouter<S>
where
    S: ApiState,
    Pushes: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(
            provider_webhook_check,
            provider_webhook_head,
            provider_webhook
        ))
        .routes(routes!(
            app_webhook_check,
            app_webhook_head,
            app_or_secret_path_webhook
        ))
        .routes(routes!(app_secret_path_webhook))
        .layer(DefaultBodyLimit::max(MAX_PUSH_BYTES))
}

/// Whom a push is addressed to: the deployment's app or a workspace's, and the secret a path
/// carries (Garmin signs nothing).
struct Addressed {
    provider: String,
    app: Option<String>,
    path_secret: Option<String>,
}

impl Addressed {
    fn deployment(provider: String) -> Self {
        Self {
            provider,
            app: None,
            path_secret: None,
        }
    }

    /// `/webhooks/{providerId}/{segment}`: an app id names a workspace's app; anything else
    /// is the deployment app's path secret.
    fn segment(provider: String, segment: String) -> Self {
        if AppId::parse(&segment).is_some() {
            Self {
                provider,
                app: Some(segment),
                path_secret: None,
            }
        } else {
            Self {
                provider,
                app: None,
                path_secret: Some(segment),
            }
        }
    }
}

async fn handle(
    pushes: Pushes,
    to: Addressed,
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
        path_secret: to.path_secret,
    };
    let reply = pushes
        .receive_push(&to.provider, to.app.as_deref(), &request)
        .await?;
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
    params(("providerId" = String, Path, description = "withings, whoop, strava, oura, garmin, polar, fitbit, suunto or wahoo")),
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
    let to = Addressed::deployment(provider);
    handle(pushes, to, method, query, headers, Bytes::new()).await
}

/// A provider's check that the URL answers
#[utoipa::path(
    head, path = "/webhooks/{providerId}", tag = "provider-webhooks",
    description = "Withings checks a notification URL with `HEAD` before subscribing to it.",
    params(("providerId" = String, Path, description = "withings, whoop, strava, oura, garmin, polar, fitbit, suunto or wahoo")),
    responses(
        (status = 200, description = "The URL answers"),
        (status = 404, description = "The provider is not enabled"),
    )
)]
async fn provider_webhook_head(
    State(pushes): State<Pushes>,
    Path(provider): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let to = Addressed::deployment(provider);
    handle(pushes, to, Method::HEAD, query, headers, Bytes::new()).await
}

/// A provider's notification
#[utoipa::path(
    post, path = "/webhooks/{providerId}", tag = "provider-webhooks",
    description = "Verified per provider over the raw body (WHOOP, Oura, Polar and Suunto \
                   HMACs, Wahoo's webhook token, Google Health's authorization secret and ECDSA \
                   signature), answered at once; the work it names is queued (Suunto's 24/7 \
                   samples are stored as sent). Strava and Withings sign nothing: their notices \
                   only trigger fetches made with the user's own token. Garmin posts to \
                   `/webhooks/garmin/{secret}` instead.",
    params(("providerId" = String, Path, description = "withings, whoop, strava, oura, garmin, polar, fitbit, suunto or wahoo")),
    responses(
        (status = 200, description = "Accepted"),
        (status = 201, description = "Google Health's verification request, accepted"),
        (status = 204, description = "Google Health's notification, accepted"),
        (status = 401, description = "Missing or wrong signature or token"),
        (status = 403, description = "Wrong secret or signature (Google Health)"),
        (status = 404, description = "The provider is not enabled"),
        (status = 415, description = "Suunto's legacy form-encoded notification (not taken)"),
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
    let to = Addressed::deployment(provider);
    handle(pushes, to, Method::POST, query, headers, body).await
}

/// A provider's subscription handshake, for a workspace's own app
#[utoipa::path(
    get, path = "/webhooks/{providerId}/{appId}", tag = "provider-webhooks",
    description = "As `GET /webhooks/{providerId}`, checked with the workspace app's verify \
                   token (`PUT /v1/providers/{providerId}/credentials`).",
    params(
        ("providerId" = String, Path, description = "withings, whoop, strava, oura, garmin, polar, fitbit, suunto or wahoo"),
        ("appId" = String, Path, description = "The workspace app's id"),
    ),
    responses(
        (status = 200, description = "The challenge, echoed"),
        (status = 401, description = "Oura: wrong verification token"),
        (status = 403, description = "Strava: wrong verify token"),
        (status = 404, description = "No such app for this provider"),
    )
)]
async fn app_webhook_check(
    State(pushes): State<Pushes>,
    Path((provider, segment)): Path<(String, String)>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let to = Addressed::segment(provider, segment);
    handle(pushes, to, method, query, headers, Bytes::new()).await
}

/// A provider's check that a workspace app's URL answers
#[utoipa::path(
    head, path = "/webhooks/{providerId}/{appId}", tag = "provider-webhooks",
    description = "Withings checks a notification URL with `HEAD` before subscribing to it.",
    params(
        ("providerId" = String, Path, description = "withings, whoop, strava, oura, garmin, polar, fitbit, suunto or wahoo"),
        ("appId" = String, Path, description = "The workspace app's id"),
    ),
    responses(
        (status = 200, description = "The URL answers"),
        (status = 404, description = "No such app for this provider"),
    )
)]
async fn app_webhook_head(
    State(pushes): State<Pushes>,
    Path((provider, segment)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let to = Addressed::segment(provider, segment);
    handle(pushes, to, Method::HEAD, query, headers, Bytes::new()).await
}

/// A provider's notification, to a workspace's own app or at a secret URL
#[utoipa::path(
    post, path = "/webhooks/{providerId}/{appId}", tag = "provider-webhooks",
    description = "To a workspace's own app (the segment is its `appId`): verified with that \
                   app's secrets, and acted on only for connections made with it. For the \
                   deployment's Garmin app the segment is instead the secret path \
                   (`GARMIN_WEBHOOK_SECRET`, compared in constant time): Garmin signs nothing.",
    params(
        ("providerId" = String, Path, description = "withings, whoop, strava, oura, garmin, polar, fitbit, suunto or wahoo"),
        ("appId" = String, Path, description = "The workspace app's id, or Garmin's path secret"),
    ),
    responses(
        (status = 200, description = "Accepted"),
        (status = 201, description = "Google Health's verification request, accepted"),
        (status = 204, description = "Google Health's notification, accepted"),
        (status = 401, description = "Missing or wrong signature or secret"),
        (status = 403, description = "Wrong secret or signature (Google Health)"),
        (status = 404, description = "No such app, or the provider takes no secret path"),
        (status = 503, description = "Not recorded; the provider should retry"),
    )
)]
async fn app_or_secret_path_webhook(
    State(pushes): State<Pushes>,
    Path((provider, segment)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let to = Addressed::segment(provider, segment);
    handle(pushes, to, Method::POST, query, headers, body).await
}

/// Garmin's notification to a workspace's own app, at its secret URL
#[utoipa::path(
    post, path = "/webhooks/{providerId}/{appId}/{secret}", tag = "provider-webhooks",
    description = "Garmin signs nothing: a workspace's Garmin app registers \
                   `/webhooks/garmin/{appId}/{secret}`, the secret being the app's \
                   `webhookSecret`.",
    params(
        ("providerId" = String, Path, description = "garmin"),
        ("appId" = String, Path, description = "The workspace app's id"),
        ("secret" = String, Path, description = "The app's `webhookSecret`"),
    ),
    responses(
        (status = 200, description = "Accepted"),
        (status = 401, description = "Wrong or missing secret"),
        (status = 404, description = "No such app, or the provider takes no secret path"),
        (status = 503, description = "Not recorded; the provider should retry"),
    )
)]
async fn app_secret_path_webhook(
    State(pushes): State<Pushes>,
    Path((provider, app, secret)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let to = Addressed {
        provider,
        app: Some(app),
        path_secret: Some(secret),
    };
    handle(pushes, to, Method::POST, query, headers, body).await
}
