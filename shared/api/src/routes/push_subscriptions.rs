//! Asking providers to push: a connection's webhooks re-registered (Withings), and the
//! deployment's app-level subscriptions (Strava, Oura).

use crate::extract::{Admin, Caller, Write};
use crate::problem::{ApiResult, Problem};
use crate::state::ApiState;
use axum::Json;
use axum::extract::FromRef;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vitasync_domain::inbound::subscriptions::WebhookSubscriptions;
use vitasync_domain::kernel::time::Timestamp;
use vitasync_domain::tenancy::Authenticator;

pub fn routes<S>() -> OpenApiRouter<S>
where
    S: ApiState,
    Authenticator: FromRef<S>,
    WebhookSubscriptions: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(register_connection_webhooks))
        .routes(routes!(subscribe_provider_app))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationBody {
    pub provider: &'static str,
    pub callback_url: String,
    /// What the provider now notifies (Withings `appli` categories).
    pub subscribed: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppSubscriptionBody {
    pub id: String,
    pub covers: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppSubscriptionsBody {
    pub provider: &'static str,
    pub callback_url: String,
    pub subscriptions: Vec<AppSubscriptionBody>,
}

/// Register a connection's webhooks again
#[utoipa::path(
    post, path = "/v1/users/{userId}/connections/{connectionId}/webhooks/register",
    tag = "connections",
    description = "For providers that subscribe per user (Withings): subscribes the account's \
                   notifications to this deployment's webhook URL, as after connecting. Use it \
                   after changing the URL. Needs `write`.",
    params(
        ("userId" = String, Path, description = "The user's id"),
        ("connectionId" = String, Path, description = "The connection's id"),
    ),
    responses(
        (status = 200, body = RegistrationBody),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 503, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn register_connection_webhooks(
    State(subscriptions): State<WebhookSubscriptions>,
    caller: Caller<Write>,
    Path((user_id, connection_id)): Path<(String, String)>,
) -> ApiResult<Json<RegistrationBody>> {
    let registration = subscriptions
        .register_connection_webhooks(&caller.principal, &user_id, &connection_id)
        .await?;
    Ok(Json(RegistrationBody {
        provider: registration.provider.as_str(),
        callback_url: registration.callback_url,
        subscribed: registration.subscribed,
    }))
}

/// Subscribe the deployment to a provider's webhooks
#[utoipa::path(
    post, path = "/v1/providers/{providerId}/webhook-subscriptions", tag = "providers",
    description = "Strava and Oura take one set of subscriptions per app: this creates what is \
                   missing (Strava calls the webhook URL to check the verify token first), \
                   renews Oura's that expire within a week, and lists them. Safe to repeat. \
                   Needs the root key.",
    params(("providerId" = String, Path, description = "strava or oura")),
    responses(
        (status = 201, body = AppSubscriptionsBody),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 503, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn subscribe_provider_app(
    State(subscriptions): State<WebhookSubscriptions>,
    caller: Caller<Admin>,
    Path(provider): Path<String>,
) -> ApiResult<(StatusCode, Json<AppSubscriptionsBody>)> {
    let (provider, callback_url, subscriptions) = subscriptions
        .subscribe_provider_app(&caller.principal, &provider)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(AppSubscriptionsBody {
            provider: provider.as_str(),
            callback_url,
            subscriptions: subscriptions
                .into_iter()
                .map(|s| AppSubscriptionBody {
                    id: s.id,
                    covers: s.covers,
                    expires_at: s.expires_at,
                })
                .collect(),
        }),
    ))
}
