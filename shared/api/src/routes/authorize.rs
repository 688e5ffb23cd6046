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
    description = "Says \"connected\" only with the short-lived `result` the callback made; an \
                   `error` code is shown with VitaSync's own words for it, never text from the \
                   query.",
    responses((status = 200, description = "HTML page", content_type = "text/html"))
)]
async fn done_page(State(connect): State<Connect>, uri: Uri) -> Response {
    let params = query(&uri);
    let connected = match params.get("result") {
        Some(result) => connect.connected(result).await,
        None => None,
    };
    if let Some(provider) = connected {
        return page(
            StatusCode::OK,
            "Connected",
            &format!(
                "<h1>Connected</h1><p data-connected=\"{id}\">Your {provider} account is \
                 connected. You can close this window.</p>",
                id = provider.as_str(),
                provider = escape(provider.info().name),
            ),
        );
    }
    let code = params.get("error").map_or("", String::as_str);
    page(
        StatusCode::OK,
        "Not connected",
        &format!(
            "<h1>Not connected</h1><p data-error=\"{code}\">{message}</p>",
            code = escape(error_message(code).0),
            message = error_message(code).1,
        ),
    )
}

/// A failure's code, as VitaSync knows it, and what the page says of it.
fn error_message(code: &str) -> (&'static str, &'static str) {
    match code {
        "access_denied" => (
            "access_denied",
            "You did not allow the connection. Start again from the app to try again.",
        ),
        "invalid_state" | "invalid_link" => (
            "invalid_state",
            "This sign-in has expired or was already used. Start again from the app.",
        ),
        "token_exchange_failed" | "account_lookup_failed" | "provider_error" => (
            "provider_error",
            "The provider did not complete the connection. Please try again.",
        ),
        "provider_not_enabled" | "provider_misconfigured" | "unknown_provider" => (
            "provider_not_enabled",
            "This provider is not available. Contact the app's support.",
        ),
        "user_not_found" => (
            "user_not_found",
            "This account is no longer known to the app.",
        ),
        "temporarily_unavailable" => (
            "temporarily_unavailable",
            "Something went wrong on our side. Please try again.",
        ),
        "" => ("", "Nothing was connected here. Start from the app."),
        _ => ("unknown", "The connection was not made."),
    }
}
