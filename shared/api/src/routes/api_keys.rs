//! `/v1/api-keys`: a workspace's keys (admin scope).

use crate::dto::{ApiKeyBody, CreateApiKey, IssuedApiKeyBody, List};
use crate::extract::{Admin, Caller, JsonBody, Read};
use crate::problem::{ApiResult, Problem};
use crate::state::ApiState;
use axum::Json;
use axum::extract::FromRef;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vitasync_domain::tenancy::KeyRequest;
use vitasync_domain::tenancy::{Authenticator, Tenancy};

pub fn routes<S>() -> OpenApiRouter<S>
where
    S: ApiState,
    Authenticator: FromRef<S>,
    Tenancy: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(create_key, list_keys))
        .routes(routes!(delete_key))
        .routes(routes!(rotate_key))
}

/// Create an API key
#[utoipa::path(
    post, path = "/v1/api-keys", tag = "api-keys",
    description = "The secret is in the response and never shown again. Needs `admin`.",
    request_body = CreateApiKey,
    responses(
        (status = 201, body = IssuedApiKeyBody),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn create_key(
    State(tenancy): State<Tenancy>,
    caller: Caller<Admin>,
    JsonBody(body): JsonBody<CreateApiKey>,
) -> ApiResult<(StatusCode, Json<IssuedApiKeyBody>)> {
    let request = KeyRequest {
        name: body.name,
        scopes: body.scopes,
        expires_at: body.expires_at,
    };
    let issued = tenancy.create_key(&caller.principal, request).await?;
    Ok((StatusCode::CREATED, Json(issued.into())))
}

/// List the workspace's API keys (never their secrets)
#[utoipa::path(
    get, path = "/v1/api-keys", tag = "api-keys",
    description = "Names, prefixes and scopes, never a secret: any key may list them; only admin \
                   keys create, rotate or revoke.",
    responses(
        (status = 200, body = List<ApiKeyBody>),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn list_keys(
    State(tenancy): State<Tenancy>,
    caller: Caller<Read>,
) -> ApiResult<Json<List<ApiKeyBody>>> {
    let keys = tenancy.list_keys(&caller.principal).await?;
    Ok(Json(List {
        data: keys.into_iter().map(ApiKeyBody::from).collect(),
        next_cursor: None,
    }))
}

/// Revoke an API key at once
#[utoipa::path(
    delete, path = "/v1/api-keys/{keyId}", tag = "api-keys",
    params(("keyId" = String, Path, description = "The key's id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn delete_key(
    State(tenancy): State<Tenancy>,
    caller: Caller<Admin>,
    Path(key_id): Path<String>,
) -> ApiResult<StatusCode> {
    tenancy.delete_key(&caller.principal, &key_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Give an API key a new secret
#[utoipa::path(
    post, path = "/v1/api-keys/{keyId}/rotate", tag = "api-keys",
    description = "Same id, name and scopes; the old secret stops working at once.",
    params(("keyId" = String, Path, description = "The key's id")),
    responses(
        (status = 200, body = IssuedApiKeyBody),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn rotate_key(
    State(tenancy): State<Tenancy>,
    caller: Caller<Admin>,
    Path(key_id): Path<String>,
) -> ApiResult<Json<IssuedApiKeyBody>> {
    Ok(Json(
        tenancy.rotate_key(&caller.principal, &key_id).await?.into(),
    ))
}
