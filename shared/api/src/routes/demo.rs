//! The demo provider's OAuth 2.0 endpoints: a consent page and a token endpoint, served by
//! VitaSync itself so a new deployment can connect something before it has provider accounts.

use crate::extract::RequestBase;
use crate::pages::{self, escape, page};
use crate::state::ApiState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::FromRef;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::collections::HashMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vitasync_domain::connect::Connect;
use vitasync_domain::providers::ProviderId;
use vitasync_domain::providers::demo::{self, DemoError};
use vitasync_domain::providers::redirects::with_query;

pub fn routes<S>() -> OpenApiRouter<S>
where
    S: ApiState,
    Connect: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(consent_page))
        .routes(routes!(decide))
        .routes(routes!(token))
}

fn pairs(raw: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(raw)
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect()
}

/// The demo only ever sends codes back to this deployment's own demo callback.
fn valid_redirect<'a>(
    connect: &Connect,
    base: &str,
    params: &'a HashMap<String, String>,
) -> Option<&'a str> {
    let own = format!("{}/v1/oauth/demo/callback", connect.base_url(base));
    params
        .get("redirect_uri")
        .map(String::as_str)
        .filter(|uri| *uri == own)
}

fn request_error(detail: &str) -> Response {
    page(
        StatusCode::BAD_REQUEST,
        "Demo provider",
        &format!(
            "<h1>Invalid request</h1><p data-error=\"invalid_request\">{}</p>",
            escape(detail)
        ),
    )
}

fn enabled(connect: &Connect) -> bool {
    connect.providers().is_enabled(ProviderId::Demo)
}

/// The demo provider's consent screen
#[utoipa::path(
    get, path = "/v1/demo/authorize", tag = "providers",
    description = "OAuth 2.0 authorization endpoint of the built-in demo provider (PKCE S256 \
                   required). Only served when the demo provider is enabled.",
    responses(
        (status = 200, description = "HTML page", content_type = "text/html"),
        (status = 400, description = "Error page: the demo provider is off, or the request is not a valid authorization request", content_type = "text/html"),
    )
)]
async fn consent_page(
    State(connect): State<Connect>,
    RequestBase(base): RequestBase,
    uri: Uri,
) -> Response {
    if !enabled(&connect) {
        return request_error("The demo provider is not enabled on this deployment.");
    }
    let params = pairs(uri.query().unwrap_or_default().as_bytes());
    if demo::check_client(params.get("client_id").map(String::as_str)).is_err() {
        return request_error("Unknown client_id.");
    }
    let Some(redirect_uri) = valid_redirect(&connect, &base, &params) else {
        return request_error("redirect_uri is not this deployment's demo callback.");
    };
    if params.get("response_type").map(String::as_str) != Some("code")
        || params.get("code_challenge_method").map(String::as_str) != Some("S256")
        || !params.contains_key("code_challenge")
    {
        return request_error("Send response_type=code with a PKCE S256 code_challenge.");
    }
    let hidden: String = [
        ("client_id", params.get("client_id")),
        ("redirect_uri", Some(&redirect_uri.to_owned())),
        ("state", params.get("state")),
        ("code_challenge", params.get("code_challenge")),
    ]
    .iter()
    .filter_map(|(name, value)| {
        value.map(|value| {
            format!(
                "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
                escape(value)
            )
        })
    })
    .collect();
    let body = format!(
        "<h1>VitaSync Demo</h1><p>A sandbox provider with generated data. Allow the app to read \
         this demo account's activity, heart rate and sleep?</p>\
         <form method=\"get\" action=\"/v1/demo/authorize/decision\">{hidden}\
         <label for=\"account\">Demo account</label>\
         <input id=\"account\" name=\"account\" value=\"wearer\" autocomplete=\"off\">\
         <ul><li><button class=\"primary\" name=\"decision\" value=\"allow\">Allow</button></li>\
         <li><button name=\"decision\" value=\"deny\">Deny</button></li></ul></form>"
    );
    page(StatusCode::OK, "VitaSync Demo", &body)
}

/// The demo provider's consent decision
#[utoipa::path(
    get, path = "/v1/demo/authorize/decision", tag = "providers",
    responses(
        (status = 302, description = "Back to the client's redirect URI with a code or an error"),
        (status = 400, description = "Error page: the redirect URI or the request is not valid", content_type = "text/html"),
    )
)]
async fn decide(
    State(connect): State<Connect>,
    RequestBase(base): RequestBase,
    uri: Uri,
) -> Response {
    if !enabled(&connect) {
        return request_error("The demo provider is not enabled on this deployment.");
    }
    let params = pairs(uri.query().unwrap_or_default().as_bytes());
    let Some(redirect_uri) = valid_redirect(&connect, &base, &params) else {
        return request_error("redirect_uri is not this deployment's demo callback.");
    };
    let state = params.get("state").map_or("", String::as_str);
    let location = match (
        params.get("decision").map(String::as_str),
        params.get("code_challenge"),
    ) {
        (Some("allow"), Some(challenge)) => {
            let account = demo::account_id(params.get("account").map_or("", String::as_str));
            let code = demo::issue_code(&account, challenge, redirect_uri, connect.now());
            with_query(redirect_uri, &[("code", &code), ("state", state)])
        }
        _ => with_query(
            redirect_uri,
            &[
                ("error", "access_denied"),
                ("error_description", "The user denied access."),
                ("state", state),
            ],
        ),
    };
    pages::redirect(&location)
}

fn token_error(status: StatusCode, err: &DemoError) -> Response {
    (
        status,
        Json(json!({ "error": err.code(), "error_description": err.description() })),
    )
        .into_response()
}

/// The demo provider's token endpoint
#[utoipa::path(
    post, path = "/v1/demo/token", tag = "providers", operation_id = "demo_token",
    description = "OAuth 2.0 token endpoint of the demo provider (form-encoded; \
                   `authorization_code` with PKCE, and `refresh_token`).",
    responses(
        (status = 200, description = "Tokens"),
        (status = 400, description = "An RFC 6749 error"),
        (status = 401, description = "`invalid_client`: an unknown client id (RFC 6749)"),
    )
)]
async fn token(State(connect): State<Connect>, body: Bytes) -> Response {
    if !enabled(&connect) {
        return token_error(StatusCode::BAD_REQUEST, &DemoError::InvalidClient);
    }
    let params = pairs(&body);
    if let Err(err) = demo::check_client(params.get("client_id").map(String::as_str)) {
        return token_error(StatusCode::UNAUTHORIZED, &err);
    }
    let get = |name: &str| params.get(name).map(String::as_str);
    let issued = match get("grant_type") {
        Some("authorization_code") => demo::redeem(
            get("code").unwrap_or_default(),
            get("code_verifier"),
            get("redirect_uri"),
            connect.now(),
        ),
        Some("refresh_token") => demo::refresh(get("refresh_token").unwrap_or_default()),
        _ => Err(DemoError::InvalidRequest("unsupported grant_type")),
    };
    match issued {
        Ok(tokens) => {
            let mut response = Json(tokens).into_response();
            response.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            );
            response
        }
        Err(err) => token_error(StatusCode::BAD_REQUEST, &err),
    }
}
