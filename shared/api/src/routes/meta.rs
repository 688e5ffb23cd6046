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
        .routes(routes!(docs_viewer))
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

/// Redoc's standalone bundle (from `web/package-lock.json`, by `scripts/web-assets`), served
/// from the binary: no CDN at runtime.
const REDOC: &[u8] = include_bytes!("../../assets/redoc.standalone.js");

/// The reference page loads nothing from elsewhere and runs no inline script. Redoc styles
/// itself inline and searches in a worker it starts from a blob.
const DOCS_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src blob:; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The API reference, for people
#[utoipa::path(
    get, path = "/docs", tag = "meta",
    description = "Every route with its parameters, request body fields, response schemas and \
                   examples (Redoc, served from this deployment); without JavaScript, a plain \
                   list of the routes.",
    responses((status = 200, description = "HTML page", content_type = "text/html"))
)]
async fn docs_page() -> impl IntoResponse {
    static PAGE: OnceLock<String> = OnceLock::new();
    let page = PAGE.get_or_init(|| {
        serde_json::from_str(OPENAPI_JSON)
            .map(|spec| crate::docs::render(&spec))
            .unwrap_or_default()
    });
    (
        [
            (header::CONTENT_SECURITY_POLICY, DOCS_POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        Html(page.as_str()),
    )
}

/// The reference viewer's script
#[utoipa::path(
    get, path = "/docs/redoc.standalone.js", tag = "meta",
    responses((status = 200, description = "JavaScript", content_type = "text/javascript"))
)]
async fn docs_viewer() -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "public, max-age=86400")],
        crate::routes::console::asset("text/javascript; charset=utf-8", REDOC),
    )
}
