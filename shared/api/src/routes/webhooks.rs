//! `/v1/webhooks`: where a workspace's events are sent, and how each delivery went (admin).

use crate::dto::{List, PageParams};
use crate::extract::{Admin, Caller, JsonBody, QueryParams, Read, page_request};
use crate::problem::{ApiResult, Problem};
use crate::state::ApiState;
use crate::webhook_dto::{
    CreateWebhook, CreatedWebhookBody, DeliveryBody, UpdateWebhook, WebhookBody,
};
use axum::Json;
use axum::extract::FromRef;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use secrecy::ExposeSecret;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vitasync_domain::announce::endpoints::WebhookEndpoints;
use vitasync_domain::announce::endpoints::{EndpointDraft, EndpointPatch};
use vitasync_domain::tenancy::Authenticator;

pub fn routes<S>() -> OpenApiRouter<S>
where
    S: ApiState,
    Authenticator: FromRef<S>,
    WebhookEndpoints: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(create_webhook, list_webhooks))
        .routes(routes!(get_webhook, update_webhook, delete_webhook))
        .routes(routes!(test_webhook))
        .routes(routes!(list_deliveries))
        .routes(routes!(resend_delivery))
}

/// Register a webhook endpoint
#[utoipa::path(
    post, path = "/v1/webhooks", tag = "webhooks",
    description = "Events are POSTed as `{type, timestamp, data}` and signed as Standard \
                   Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`). The \
                   `whsec_` secret is in this response only. Needs `admin`.",
    request_body = CreateWebhook,
    responses(
        (status = 201, body = CreatedWebhookBody),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn create_webhook(
    State(endpoints): State<WebhookEndpoints>,
    caller: Caller<Admin>,
    JsonBody(body): JsonBody<CreateWebhook>,
) -> ApiResult<(StatusCode, Json<CreatedWebhookBody>)> {
    let draft = EndpointDraft {
        url: body.url,
        events: body.events,
        description: body.description,
        enabled: body.enabled,
    };
    let (endpoint, secret) = endpoints.create_endpoint(&caller.principal, draft).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedWebhookBody {
            webhook: endpoint.into(),
            secret: secret.expose_secret().to_owned(),
        }),
    ))
}

/// List the workspace's webhook endpoints
#[utoipa::path(
    get, path = "/v1/webhooks", tag = "webhooks",
    responses(
        (status = 200, body = List<WebhookBody>),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn list_webhooks(
    State(endpoints): State<WebhookEndpoints>,
    caller: Caller<Read>,
) -> ApiResult<Json<List<WebhookBody>>> {
    let endpoints = endpoints.list_endpoints(&caller.principal).await?;
    Ok(Json(List {
        data: endpoints.into_iter().map(WebhookBody::from).collect(),
        next_cursor: None,
    }))
}

/// Get a webhook endpoint
#[utoipa::path(
    get, path = "/v1/webhooks/{webhookId}", tag = "webhooks",
    params(("webhookId" = String, Path, description = "The endpoint's id")),
    responses(
        (status = 200, body = WebhookBody),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn get_webhook(
    State(endpoints): State<WebhookEndpoints>,
    caller: Caller<Read>,
    Path(webhook_id): Path<String>,
) -> ApiResult<Json<WebhookBody>> {
    Ok(Json(
        endpoints
            .get_endpoint(&caller.principal, &webhook_id)
            .await?
            .into(),
    ))
}

/// Change a webhook endpoint
#[utoipa::path(
    patch, path = "/v1/webhooks/{webhookId}", tag = "webhooks",
    description = "Only the fields sent change. A new URL, or turning the endpoint back on, \
                   makes a failing endpoint active again.",
    params(("webhookId" = String, Path, description = "The endpoint's id")),
    request_body = UpdateWebhook,
    responses(
        (status = 200, body = WebhookBody),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn update_webhook(
    State(endpoints): State<WebhookEndpoints>,
    caller: Caller<Admin>,
    Path(webhook_id): Path<String>,
    JsonBody(body): JsonBody<UpdateWebhook>,
) -> ApiResult<Json<WebhookBody>> {
    let patch = EndpointPatch {
        url: body.url,
        events: body.events,
        description: body.description,
        enabled: body.enabled,
    };
    Ok(Json(
        endpoints
            .update_endpoint(&caller.principal, &webhook_id, patch)
            .await?
            .into(),
    ))
}

/// Remove a webhook endpoint and its delivery log
#[utoipa::path(
    delete, path = "/v1/webhooks/{webhookId}", tag = "webhooks",
    params(("webhookId" = String, Path, description = "The endpoint's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn delete_webhook(
    State(endpoints): State<WebhookEndpoints>,
    caller: Caller<Admin>,
    Path(webhook_id): Path<String>,
) -> ApiResult<StatusCode> {
    endpoints
        .delete_endpoint(&caller.principal, &webhook_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Send a test event to the endpoint
#[utoipa::path(
    post, path = "/v1/webhooks/{webhookId}/test", tag = "webhooks",
    description = "Queues a signed `webhook.test` event to this endpoint; follow it in the \
                   deliveries.",
    params(("webhookId" = String, Path, description = "The endpoint's id")),
    responses(
        (status = 202, body = DeliveryBody),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn test_webhook(
    State(endpoints): State<WebhookEndpoints>,
    caller: Caller<Admin>,
    Path(webhook_id): Path<String>,
) -> ApiResult<(StatusCode, Json<DeliveryBody>)> {
    let delivery = endpoints
        .test_endpoint(&caller.principal, &webhook_id)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(delivery.into())))
}

/// List an endpoint's deliveries
#[utoipa::path(
    get, path = "/v1/webhooks/{webhookId}/deliveries", tag = "webhooks",
    description = "Newest first, with every attempt's status code and latency. Any key may \
                   read endpoints and deliveries (no secret is in them); only admin keys change \
                   them.",
    params(("webhookId" = String, Path, description = "The endpoint's id"), PageParams),
    responses(
        (status = 200, body = List<DeliveryBody>),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn list_deliveries(
    State(endpoints): State<WebhookEndpoints>,
    caller: Caller<Read>,
    Path(webhook_id): Path<String>,
    QueryParams(params): QueryParams<PageParams>,
) -> ApiResult<Json<List<DeliveryBody>>> {
    let page = page_request(params.limit.as_deref(), params.cursor.as_deref())?;
    let deliveries = endpoints
        .list_deliveries(&caller.principal, &webhook_id, &page)
        .await?;
    Ok(Json(List::from_page(deliveries, DeliveryBody::from)))
}

/// Send a delivery again
#[utoipa::path(
    post, path = "/v1/webhooks/{webhookId}/deliveries/{deliveryId}/resend", tag = "webhooks",
    description = "Starts the retry schedule over with the same message id and body.",
    params(
        ("webhookId" = String, Path, description = "The endpoint's id"),
        ("deliveryId" = String, Path, description = "The delivery's id"),
    ),
    responses(
        (status = 202, body = DeliveryBody),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn resend_delivery(
    State(endpoints): State<WebhookEndpoints>,
    caller: Caller<Admin>,
    Path((webhook_id, delivery_id)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<DeliveryBody>)> {
    let delivery = endpoints
        .resend_delivery(&caller.principal, &webhook_id, &delivery_id)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(delivery.into())))
}
