//! Starting a connection from the developer's backend: connect links and widget sessions.

use crate::dto::{ConnectLinkBody, CreateConnectLink, CreateWidgetSession, WidgetSessionBody};
use crate::extract::{Caller, JsonBody, RequestBase, Write};
use crate::problem::{ApiResult, Problem};
use crate::state::ApiState;
use axum::Json;
use axum::extract::FromRef;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vitasync_domain::connect::ConnectLinks;
use vitasync_domain::tenancy::Authenticator;

pub fn routes<S>() -> OpenApiRouter<S>
where
    S: ApiState,
    Authenticator: FromRef<S>,
    ConnectLinks: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(create_connect_link))
        .routes(routes!(create_widget_session))
}

/// Create a connect link
#[utoipa::path(
    post, path = "/v1/users/{userId}/connect-links", tag = "connections",
    description = "A single-use link that takes the user's browser to the provider's consent \
                   screen and back, linking the account to this user. It expires after 10 \
                   minutes. Needs `write`.",
    params(("userId" = String, Path, description = "The user's id")),
    request_body = CreateConnectLink,
    responses(
        (status = 201, body = ConnectLinkBody),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn create_connect_link(
    State(links): State<ConnectLinks>,
    caller: Caller<Write>,
    RequestBase(base): RequestBase,
    Path(user_id): Path<String>,
    JsonBody(body): JsonBody<CreateConnectLink>,
) -> ApiResult<(StatusCode, Json<ConnectLinkBody>)> {
    let link = links
        .create_connect_link(&caller.principal, &user_id, body.into(), &base)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(ConnectLinkBody {
            url: link.url,
            expires_at: link.expires_at,
        }),
    ))
}

/// Create a widget session
#[utoipa::path(
    post, path = "/v1/widget/sessions", tag = "connections",
    description = "A hosted page, valid for 15 minutes, where the user picks a provider to \
                   connect. Needs `write`.",
    request_body = CreateWidgetSession,
    responses(
        (status = 201, body = WidgetSessionBody),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn create_widget_session(
    State(links): State<ConnectLinks>,
    caller: Caller<Write>,
    RequestBase(base): RequestBase,
    JsonBody(body): JsonBody<CreateWidgetSession>,
) -> ApiResult<(StatusCode, Json<WidgetSessionBody>)> {
    let session = links
        .create_widget_session(&caller.principal, body.into(), &base)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(WidgetSessionBody {
            session_id: session.session_id,
            url: session.url,
            expires_in: session.expires_in,
        }),
    ))
}
