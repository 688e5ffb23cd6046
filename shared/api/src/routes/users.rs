//! `/v1/users`: the developer's end users.

use crate::dto::{CreateUser, List, NotNullable, UpdateUser, UserBody, UserListParams};
use crate::extract::{Caller, JsonBody, QueryParams, Read, Write, page_request};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::state::ApiState;
use axum::Json;
use axum::extract::FromRef;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vitasync_domain::tenancy::Authenticator;
use vitasync_domain::tenancy::user::UserPatch;
use vitasync_domain::users::{UserDirectory, Users};

pub fn routes<S>() -> OpenApiRouter<S>
where
    S: ApiState,
    Authenticator: FromRef<S>,
    Users: FromRef<S>,
    UserDirectory: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(create_user, list_users))
        .routes(routes!(get_user, update_user, delete_user))
}

/// Create a user, or return the existing one with the same `externalId`
#[utoipa::path(
    post, path = "/v1/users", tag = "users",
    description = "Upserts on `externalId` within the workspace: 201 with a new user, 200 with the \
                   existing one (same `id`), updated with any fields sent. Needs `write`.",
    request_body = CreateUser,
    responses(
        (status = 201, description = "Created", body = UserBody),
        (status = 200, description = "A user with this externalId existed", body = UserBody),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn create_user(
    State(users): State<Users>,
    caller: Caller<Write>,
    JsonBody(body): JsonBody<CreateUser>,
) -> ApiResult<(StatusCode, Json<UserBody>)> {
    let (user, created) = users.upsert_user(&caller.principal, body.into()).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(user.into())))
}

/// List users
#[utoipa::path(
    get, path = "/v1/users", tag = "users",
    description = "Users in creation order, a page at a time. With `externalId`, the one user \
                   that has it (or none). Needs `read`.",
    params(UserListParams),
    responses(
        (status = 200, body = List<UserBody>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn list_users(
    State(directory): State<UserDirectory>,
    caller: Caller<Read>,
    QueryParams(params): QueryParams<UserListParams>,
) -> ApiResult<Json<List<UserBody>>> {
    let page = page_request(params.limit.as_deref(), params.cursor.as_deref())?;
    let found = directory
        .list_users(&caller.principal, params.external_id.as_deref(), &page)
        .await?;
    Ok(Json(List::from_page(found, UserBody::from)))
}

/// Get a user
#[utoipa::path(
    get, path = "/v1/users/{userId}", tag = "users",
    params(("userId" = String, Path, description = "The user's id")),
    responses(
        (status = 200, body = UserBody),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn get_user(
    State(directory): State<UserDirectory>,
    caller: Caller<Read>,
    Path(user_id): Path<String>,
) -> ApiResult<Json<UserBody>> {
    Ok(Json(
        directory
            .get_user(&caller.principal, &user_id)
            .await?
            .into(),
    ))
}

/// Update a user
#[utoipa::path(
    patch, path = "/v1/users/{userId}", tag = "users",
    description = "Fields left out stay as they are; `null` clears `email` or `displayName`. \
                   A new `externalId` must be free in the workspace (409 otherwise). Needs `write`.",
    params(("userId" = String, Path, description = "The user's id")),
    request_body = UpdateUser,
    responses(
        (status = 200, body = UserBody),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn update_user(
    State(users): State<Users>,
    caller: Caller<Write>,
    Path(user_id): Path<String>,
    JsonBody(body): JsonBody<UpdateUser>,
) -> ApiResult<Json<UserBody>> {
    let patch = UserPatch::try_from(body)
        .map_err(|NotNullable(field)| ApiError::invalid(field, "cannot be null"))?;
    Ok(Json(
        users
            .update_user(&caller.principal, &user_id, patch)
            .await?
            .into(),
    ))
}

/// Delete a user and everything stored for them
#[utoipa::path(
    delete, path = "/v1/users/{userId}", tag = "users",
    params(("userId" = String, Path, description = "The user's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn delete_user(
    State(users): State<Users>,
    caller: Caller<Write>,
    Path(user_id): Path<String>,
) -> ApiResult<StatusCode> {
    users.delete_user(&caller.principal, &user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
