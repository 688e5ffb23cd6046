//! `/console`: the developer console, a page over the public API (it calls nothing else),
//! served from the binary with a strict Content-Security-Policy: no inline script, nothing
//! loaded from elsewhere.

use axum::http::header;
use axum::response::{Html, IntoResponse};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const PAGE: &str = include_str!("../../assets/console/index.html");
const SCRIPT: &str = include_str!("../../assets/console/console.js");
const STYLE: &str = include_str!("../../assets/console/console.css");
/// uPlot, from `web/package-lock.json` (`scripts/web-assets`): the console's charts.
const CHARTS: &str = include_str!("../../assets/console/uPlot.iife.min.js");
const CHARTS_STYLE: &str = include_str!("../../assets/console/uPlot.min.css");

const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

pub fn routes<S: Clone + Send + Sync + 'static>() -> OpenApiRouter<S> {
    OpenApiRouter::new()
        .routes(routes!(console_page))
        .routes(routes!(console_script))
        .routes(routes!(console_style))
        .routes(routes!(chart_script))
        .routes(routes!(chart_style))
}

/// The console's chart library (uPlot)
#[utoipa::path(
    get, path = "/console/uPlot.iife.min.js", tag = "meta",
    responses((status = 200, description = "JavaScript", content_type = "text/javascript"))
)]
async fn chart_script() -> impl IntoResponse {
    asset("text/javascript; charset=utf-8", CHARTS)
}

/// The chart library's style sheet
#[utoipa::path(
    get, path = "/console/uPlot.min.css", tag = "meta",
    responses((status = 200, description = "CSS", content_type = "text/css"))
)]
async fn chart_style() -> impl IntoResponse {
    asset("text/css; charset=utf-8", CHARTS_STYLE)
}

/// A static asset served from the binary.
pub(crate) fn asset<B: IntoResponse>(content_type: &'static str, body: B) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
}

/// The developer console
#[utoipa::path(
    get, path = "/console", tag = "meta",
    description = "Sign in with an API key (kept in the tab's sessionStorage): users, their \
                   connections and sync jobs, webhooks and their deliveries, API keys; only \
                   keys that may write get the buttons that write.",
    responses((status = 200, description = "HTML page", content_type = "text/html"))
)]
async fn console_page() -> impl IntoResponse {
    (
        [
            (header::CONTENT_SECURITY_POLICY, POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        Html(PAGE),
    )
}

/// The console's script
#[utoipa::path(
    get, path = "/console/console.js", tag = "meta",
    responses((status = 200, description = "JavaScript", content_type = "text/javascript"))
)]
async fn console_script() -> impl IntoResponse {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

/// The console's style sheet
#[utoipa::path(
    get, path = "/console/console.css", tag = "meta",
    responses((status = 200, description = "CSS", content_type = "text/css"))
)]
async fn console_style() -> impl IntoResponse {
    asset("text/css; charset=utf-8", STYLE)
}
