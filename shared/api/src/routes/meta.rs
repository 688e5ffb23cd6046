//! `/health`, `/openapi.json` and `/docs`.

use crate::dto::HealthBody;
use crate::problem::{ApiResult, Problem};
use crate::state::ApiState;
use axum::Json;
use axum::extract::FromRef;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use std::sync::OnceLock;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vitasync_domain::users::UserDirectory;

pub fn routes<S>() -> OpenApiRouter<S>
where
    S: ApiState,
    UserDirectory: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(openapi_json))
        .routes(routes!(docs_page))
}

/// Readiness: 200 when the data store answers
#[utoipa::path(
    get, path = "/health", tag = "meta",
    responses(
        (status = 200, body = HealthBody),
        (status = 503, body = Problem, content_type = "application/problem+json"),
    )
)]
async fn health(State(directory): State<UserDirectory>) -> ApiResult<Json<HealthBody>> {
    directory.ready().await?;
    Ok(Json(HealthBody { status: "ok" }))
}

/// The OpenAPI document of every route, generated from the code (`openapi()`) and kept in the
/// repository, so the admin function serves it without linking every other route's handler.
/// A test fails when it is out of date; `VITASYNC_WRITE_OPENAPI=1` rewrites it.
pub const OPENAPI_JSON: &str = include_str!("../../openapi.json");

/// This API's OpenAPI 3.1 description
#[utoipa::path(get, path = "/openapi.json", tag = "meta", responses((status = 200, description = "OpenAPI 3.1 document")))]
async fn openapi_json() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON)
}

/// The API reference, for people
#[utoipa::path(get, path = "/docs", tag = "meta", responses((status = 200, description = "HTML page", content_type = "text/html")))]
async fn docs_page() -> Html<&'static str> {
    static PAGE: OnceLock<String> = OnceLock::new();
    Html(
        PAGE.get_or_init(|| {
            serde_json::from_str(OPENAPI_JSON)
                .map(|spec| crate::docs::render(&spec))
                .unwrap_or_default()
        })
        .as_str(),
    )
}
