//! `/v1/providers/{providerId}/credentials`: a workspace's own app at a provider (admin
//! scope). Its secrets are sealed and never returned.

use crate::dto::{ProviderAppBody, ProviderCredentialsBody};
use crate::extract::{Admin, Caller, JsonBody};
use crate::problem::{ApiResult, Problem};
use crate::state::ApiState;
use axum::Json;
use axum::extract::FromRef;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vitasync_domain::providers::credentials::{AppCredentials, ProviderCredentials};
use vitasync_domain::tenancy::Authenticator;

pub fn routes<S>() -> OpenApiRouter<S>
where
    S: ApiState,
    Authenticator: FromRef<S>,
    ProviderCredentials: FromRef<S>,
{
    OpenApiRouter::new().routes(routes!(
        put_credentials,
        get_credentials,
        delete_credentials
    ))
}

/// Use the workspace's own app at a provider
#[utoipa::path(
    put, path = "/v1/providers/{providerId}/credentials", tag = "providers",
    description = "From now on this workspace's new connections to the provider use this app: \
                   its name on the consent screen, its tokens, refreshes, revocation and \
                   webhook subscriptions. Register the returned `callbackUrl` as the app's \
                   redirect URI and, where the provider pushes, `webhookUrl` as its webhook. \
                   Sending it again replaces the credentials and keeps the app's id and URLs. \
                   The secrets are sealed and never returned. Needs `admin`.",
    params(("providerId" = String, Path, description = "withings, whoop, strava, oura, garmin, polar, fitbit, dexcom, ultrahuman, suunto or wahoo")),
    request_body = ProviderCredentialsBody,
    responses(
        (status = 200, body = ProviderAppBody),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn put_credentials(
    State(credentials): State<ProviderCredentials>,
    caller: Caller<Admin>,
    Path(provider): Path<String>,
    JsonBody(body): JsonBody<ProviderCredentialsBody>,
) -> ApiResult<Json<ProviderAppBody>> {
    let given = AppCredentials {
        client_id: body.client_id,
        client_secret: body.client_secret,
        webhook_secret: body.webhook_secret,
        verify_token: body.verify_token,
        subscription_key: body.subscription_key,
        region: body.region,
    };
    let status = credentials
        .configure(&caller.principal, &provider, given)
        .await?;
    Ok(Json(status.into()))
}

/// Whether the workspace uses its own app at a provider
#[utoipa::path(
    get, path = "/v1/providers/{providerId}/credentials", tag = "providers",
    description = "`configured` and since when, the client id and which webhook secrets were \
                   given; never a secret. Needs `admin`.",
    params(("providerId" = String, Path, description = "withings, whoop, strava, oura, garmin, polar, fitbit, dexcom, ultrahuman, suunto or wahoo")),
    responses(
        (status = 200, body = ProviderAppBody),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn get_credentials(
    State(credentials): State<ProviderCredentials>,
    caller: Caller<Admin>,
    Path(provider): Path<String>,
) -> ApiResult<Json<ProviderAppBody>> {
    Ok(Json(
        credentials.get(&caller.principal, &provider).await?.into(),
    ))
}

/// Go back to the deployment's app at a provider
#[utoipa::path(
    delete, path = "/v1/providers/{providerId}/credentials", tag = "providers",
    description = "New connections use the deployment's app again. Connections made with the \
                   removed app can no longer refresh their tokens: the users connect again. \
                   Needs `admin`.",
    params(("providerId" = String, Path, description = "withings, whoop, strava, oura, garmin, polar, fitbit, dexcom, ultrahuman, suunto or wahoo")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn delete_credentials(
    State(credentials): State<ProviderCredentials>,
    caller: Caller<Admin>,
    Path(provider): Path<String>,
) -> ApiResult<StatusCode> {
    credentials.remove(&caller.principal, &provider).await?;
    Ok(StatusCode::NO_CONTENT)
}
