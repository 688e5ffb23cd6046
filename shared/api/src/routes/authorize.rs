//! The browser's way in to connecting: the hosted widget, `authorize` (to the provider's consent
//! screen) and the "done" page. No API key here: each step carries a single-use or short-lived
//! token minted by an authenticated call.

use crate::extract::RequestBase;
use crate::pages::{self, escape, page, query};
use crate::problem::Problem;
use crate::state::ApiState;
use axum::extract::FromRef;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vitasync_domain::connect::AuthorizeParams;
use vitasync_domain::connect::Connect;
use vitasync_domain::providers::ProviderId;

pub fn routes<S>() -> OpenApiRouter<S>
where
    S: ApiState,
    Connect: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(widget_page))
        .routes(routes!(authorize))
        .routes(routes!(done_page))
}

/// The hosted widget
#[utoipa::path(
    get, path = "/v1/widget", tag = "connections",
    description = "The page a widget session's `url` opens: the providers the user may connect.",
    params(("session" = String, Query, description = "The session token from the session's url")),
    responses(
        (status = 200, description = "HTML page", content_type = "text/html"),
        (status = 400, description = "Error page (or problem+json when JSON is asked for)", body = Problem),
    )
)]
async fn widget_page(
    State(connect): State<Connect>,
    RequestBase(base): RequestBase,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let session = query(&uri).remove("session").unwrap_or_default();
    match connect.widget(&session, &base).await {
        Ok(view) => {
            let items: String = view
                .choices
                .iter()
                .map(|(id, url)| {
                    let info = id.info();
                    format!(
                        "<li><a class=\"provider\" data-provider=\"{id}\" href=\"{url}\">\
                         <img src=\"/v1/providers/{id}/logo.svg\" alt=\"\">{name}</a></li>",
                        url = escape(url),
                        name = escape(info.name),
                    )
                })
                .collect();
            let body = format!(
                "<h1>Connect a device</h1><p>Choose the service that holds your health data. \
                 You will sign in there and choose what to share.</p><ul>{items}</ul>"
            );
            page(StatusCode::OK, "Connect a device", &body)
        }
        Err(failure) => pages::failure(&headers, &failure),
    }
}

/// Start connecting a provider
#[utoipa::path(
    get, path = "/v1/oauth/{providerId}/authorize", tag = "connections",
    description = "Where a connect link points: redirects to the provider's consent screen \
                   (OAuth 2.0 with state, and PKCE where the provider has it). Without a valid \
                   link token or widget session it shows an error page and starts nothing.",
    params(
        ("providerId" = String, Path, description = "e.g. `withings`"),
        ("userId" = String, Query, description = "The user the link was made for"),
        ("token" = Option<String>, Query, description = "A connect link's token"),
        ("session" = Option<String>, Query, description = "A widget session's token"),
    ),
    responses(
        (status = 302, description = "To the provider's consent screen"),
        (status = 400, description = "Error page (or problem+json when JSON is asked for)", body = Problem),
    )
)]
async fn authorize(
    State(connect): State<Connect>,
    RequestBase(base): RequestBase,
    Path(provider): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let mut params = query(&uri);
    let params = AuthorizeParams {
        user_id: params.remove("userId"),
        token: params.remove("token"),
        session: params.remove("session"),
    };
    match connect.authorize(&provider, params, &base).await {
        Ok(location) => pages::redirect(&location),
        Err(failure) => pages::failure(&headers, &failure),
    }
}

/// The page a connection ends on when no redirect URL was given
#[utoipa::path(
    get, path = "/v1/oauth/done", tag = "connections",
    responses((status = 200, description = "HTML page", content_type = "text/html"))
)]
async fn done_page(uri: Uri) -> Response {
    let params = query(&uri);
    let provider = params
        .get("providerId")
        .and_then(|id| ProviderId::parse(id))
        .map_or("the provider", |id| id.info().name);
    match params.get("error") {
        None => page(
            StatusCode::OK,
            "Connected",
            &format!(
                "<h1>Connected</h1><p data-connection=\"{id}\">Your {provider} account is \
                 connected. You can close this window.</p>",
                id = escape(params.get("connectionId").map_or("", String::as_str)),
                provider = escape(provider),
            ),
        ),
        Some(error) => page(
            StatusCode::OK,
            "Not connected",
            &format!(
                "<h1>Not connected</h1><p data-error=\"{code}\">{description}</p>",
                code = escape(error),
                description = escape(
                    params
                        .get("error_description")
                        .map_or("The connection was not made.", String::as_str)
                ),
            ),
        ),
    }
}
