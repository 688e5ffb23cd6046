//! `/v1/users/{userId}/connections`: the provider accounts linked to a user.

use crate::dto::{ConnectionBody, List};
use crate::extract::{Caller, Read, Write};
use crate::problem::{ApiResult, Problem};
use crate::state::ApiState;
use axum::Json;
use axum::extract::FromRef;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vitasync_domain::connect::Disconnector;
use vitasync_domain::tenancy::Authenticator;
use vitasync_domain::users::UserDirectory;

pub fn routes<S>() -> OpenApiRouter<S>
where
    S: ApiState,
    Authenticator: FromRef<S>,
    UserDirectory: FromRef<S>,
    Disconnector: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list_connections))
        .routes(routes!(get_connection, delete_connection))
}

/// List a user's connections
#[utoipa::path(
    get, path = "/v1/users/{userId}/connections", tag = "connections",
    description = "Every provider account linked to the user, in the order they were linked. Needs `read`.",
    params(("userId" = String, Path, description = "The user's id")),
    responses(
        (status = 200, body = List<ConnectionBody>),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn list_connections(
    State(directory): State<UserDirectory>,
    caller: Caller<Read>,
    Path(user_id): Path<String>,
) -> ApiResult<Json<List<ConnectionBody>>> {
    let connections = directory
        .list_connections(&caller.principal, &user_id)
        .await?;
    Ok(Json(List {
        data: connections.into_iter().map(ConnectionBody::from).collect(),
        next_cursor: None,
    }))
}

/// Get a connection
#[utoipa::path(
    get, path = "/v1/users/{userId}/connections/{connectionId}", tag = "connections",
    params(
        ("userId" = String, Path, description = "The user's id"),
        ("connectionId" = String, Path, description = "The connection's id"),
    ),
    responses(
        (status = 200, body = ConnectionBody),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn get_connection(
    State(directory): State<UserDirectory>,
    caller: Caller<Read>,
    Path((user_id, connection_id)): Path<(String, String)>,
) -> ApiResult<Json<ConnectionBody>> {
    let connection = directory
        .get_connection(&caller.principal, &user_id, &connection_id)
        .await?;
    Ok(Json(connection.into()))
}

/// Disconnect a connection
#[utoipa::path(
    delete, path = "/v1/users/{userId}/connections/{connectionId}", tag = "connections",
    description = "Revokes VitaSync's access at the provider where the provider allows it, \
                   deletes the tokens and marks the connection `disconnected`. Data already \
                   synced stays. Connecting the same account again revives it. Needs `write`.",
    params(
        ("userId" = String, Path, description = "The user's id"),
        ("connectionId" = String, Path, description = "The connection's id"),
    ),
    responses(
        (status = 204, description = "Disconnected"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn delete_connection(
    State(disconnector): State<Disconnector>,
    caller: Caller<Write>,
    Path((user_id, connection_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    disconnector
        .disconnect(&caller.principal, &user_id, &connection_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
