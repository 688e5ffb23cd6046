//! Which routes each deployable serves. One Lambda function per route group on AWS; the local
//! host serves them all from one router.

use crate::problem::{ApiError, INTERNAL, METHOD_NOT_ALLOWED};
use crate::routes::{
    api_keys, authorize, callback, connect, connections, console, demo, health, me_health, meta,
    mobile, provider_credentials, provider_webhooks, providers, push_subscriptions, sync, users,
    webhooks, workspaces,
};
use crate::state::{ApiState, LocalApi};
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::response::{IntoResponse, Response};
use std::any::Any;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

/// Bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A deployable unit and the routes it serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// `functions/users`: `/v1/users...`
    Users,
    /// `functions/admin`: workspaces, API keys, webhook endpoints, workspaces' own provider
    /// apps, health and documentation.
    Admin,
    /// `functions/connections`: providers, connections, connect links and widget sessions,
    /// providers' push subscriptions, and the demo provider.
    Connections,
    /// `functions/authorize`: the browser's way in to connecting (the widget page, a connect
    /// link's redirect to the provider's consent screen, the "done" page).
    Authorize,
    /// `functions/callback`: the provider's redirect back (code exchange, sealing the tokens,
    /// the first backfill).
    Callback,
    /// `functions/sync-trigger`: starting a connection's sync, and reading its jobs.
    SyncTrigger,
    /// `functions/query`: the read side of health data, and its erasure.
    Query,
    /// `functions/webhook`: providers' webhooks, behind a function URL.
    Webhook,
    /// `functions/mobile`: sign-in tokens, the token endpoint, and `/v1/me`.
    Mobile,
    /// The local host: every route.
    Local,
}

impl Function {
    pub const LAMBDAS: [Function; 9] = [
        Function::Users,
        Function::Admin,
        Function::Connections,
        Function::Authorize,
        Function::Callback,
        Function::SyncTrigger,
        Function::Query,
        Function::Webhook,
        Function::Mobile,
    ];

    /// The binary `template.yaml` builds for this unit (`functions/<name>`).
    pub fn binary(self) -> &'static str {
        match self {
            Function::Users => "users",
            Function::Admin => "admin",
            Function::Connections => "connections",
            Function::Authorize => "authorize",
            Function::Callback => "callback",
            Function::SyncTrigger => "sync-trigger",
            Function::Query => "query",
            Function::Webhook => "webhook",
            Function::Mobile => "mobile",
            Function::Local => "vitasync",
        }
    }

    /// The HTTP function a binary name stands for.
    pub fn from_binary(name: &str) -> Option<Function> {
        Self::LAMBDAS
            .into_iter()
            .find(|function| function.binary() == name)
    }

    fn routes(self) -> OpenApiRouter<LocalApi> {
        match self {
            Function::Users => lambda_routes::users(),
            Function::Connections => lambda_routes::connections(),
            Function::Authorize => lambda_routes::authorize(),
            Function::Callback => lambda_routes::callback(),
            Function::SyncTrigger => lambda_routes::sync_trigger(),
            Function::Query => lambda_routes::query(),
            Function::Webhook => lambda_routes::webhook(),
            Function::Mobile => lambda_routes::mobile(),
            Function::Admin => lambda_routes::admin(),
            Function::Local => Self::LAMBDAS
                .into_iter()
                .fold(OpenApiRouter::new(), |all, function| {
                    all.merge(function.routes())
                }),
        }
    }

    /// The `METHOD /path` pairs this unit serves, as the OpenAPI document names them.
    pub fn route_list(self) -> Vec<(String, String)> {
        let spec = self.routes().into_openapi();
        let mut out = Vec::new();
        for (path, item) in &spec.paths.paths {
            for (method, _) in crate::docs::operations(item) {
                out.push((method.to_owned(), path.clone()));
            }
        }
        out.sort();
        out
    }
}

/// Each Lambda function's routes, by name. A function's `main` names its own, so its binary
/// links its handlers and not every other function's.
pub mod lambda_routes {
    use super::*;
    use crate::state::ApiState;
    use axum::extract::FromRef;
    use vitasync_domain::announce::endpoints::WebhookEndpoints;
    use vitasync_domain::connect::{Callback, Connect, ConnectLinks, Disconnector};
    use vitasync_domain::health::query::HealthReads;
    use vitasync_domain::inbound::push::Pushes;
    use vitasync_domain::inbound::subscriptions::WebhookSubscriptions;
    use vitasync_domain::mobile::ingest::PhoneIngest;
    use vitasync_domain::mobile::sessions::UserSessions;
    use vitasync_domain::providers::credentials::ProviderCredentials;
    use vitasync_domain::sync::SyncJobs;
    use vitasync_domain::tenancy::{Authenticator, Tenancy};
    use vitasync_domain::users::{UserDirectory, Users};

    pub fn users<S>() -> OpenApiRouter<S>
    where
        S: ApiState,
        Authenticator: FromRef<S>,
        Users: FromRef<S>,
        UserDirectory: FromRef<S>,
    {
        users::routes()
    }

    pub fn connections<S>() -> OpenApiRouter<S>
    where
        S: ApiState,
        Authenticator: FromRef<S>,
        UserDirectory: FromRef<S>,
        ConnectLinks: FromRef<S>,
        Connect: FromRef<S>,
        Disconnector: FromRef<S>,
        WebhookSubscriptions: FromRef<S>,
    {
        providers::routes()
            .merge(connections::routes())
            .merge(connect::routes())
            .merge(demo::routes())
            .merge(push_subscriptions::routes())
    }

    pub fn authorize<S>() -> OpenApiRouter<S>
    where
        S: ApiState,
        Connect: FromRef<S>,
    {
        authorize::routes()
    }

    pub fn callback<S>() -> OpenApiRouter<S>
    where
        S: ApiState,
        Callback: FromRef<S>,
    {
        callback::routes()
    }

    pub fn sync_trigger<S>() -> OpenApiRouter<S>
    where
        S: ApiState,
        Authenticator: FromRef<S>,
        SyncJobs: FromRef<S>,
    {
        sync::routes()
    }

    pub fn query<S>() -> OpenApiRouter<S>
    where
        S: ApiState,
        Authenticator: FromRef<S>,
        HealthReads: FromRef<S>,
    {
        health::routes()
    }

    pub fn webhook<S>() -> OpenApiRouter<S>
    where
        S: ApiState,
        Pushes: FromRef<S>,
    {
        provider_webhooks::routes()
    }

    pub fn mobile<S>() -> OpenApiRouter<S>
    where
        S: ApiState,
        Authenticator: FromRef<S>,
        UserDirectory: FromRef<S>,
        UserSessions: FromRef<S>,
        PhoneIngest: FromRef<S>,
        HealthReads: FromRef<S>,
    {
        mobile::routes().merge(me_health::routes())
    }

    pub fn admin<S>() -> OpenApiRouter<S>
    where
        S: ApiState,
        Authenticator: FromRef<S>,
        Tenancy: FromRef<S>,
        UserDirectory: FromRef<S>,
        WebhookEndpoints: FromRef<S>,
        ProviderCredentials: FromRef<S>,
    {
        workspaces::routes()
            .merge(api_keys::routes())
            .merge(webhooks::routes())
            .merge(provider_credentials::routes())
            .merge(meta::routes())
            .merge(console::routes())
    }
}

/// The router a deployable serves (see `router`).
pub fn router_for(function: Function, state: LocalApi) -> Router {
    router(function.routes(), state)
}

/// `routes` with the API's shared behaviour: problem+json for unknown routes, wrong methods,
/// oversize bodies and panics; gzip (and br, with the `brotli` feature) for clients that accept
/// them, with the `compression` feature; request tracing without bodies or queries.
pub fn router<S: ApiState>(routes: OpenApiRouter<S>, state: S) -> Router {
    let (router, _) = routes.split_for_parts();
    let router = router
        .fallback(|| async {
            ApiError::new(crate::problem::NOT_FOUND, "no such route").into_response()
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(METHOD_NOT_ALLOWED, "this route does not take that method")
                .into_response()
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::map_response(problem_for_plain_errors))
        .layer(axum::middleware::map_response(json_ends_with_a_newline));
    // Outside the newline so that it compresses the finished body. Tiny bodies, images and
    // event streams stay as they are; on Lambda, lambda_http sends an encoded body base64.
    #[cfg(feature = "compression")]
    let router = router.layer(tower_http::compression::CompressionLayer::new());
    router
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request| {
                let route = request
                    .extensions()
                    .get::<MatchedPath>()
                    .map_or("unmatched", MatchedPath::as_str);
                tracing::info_span!("request", method = %request.method(), route = %route)
            }),
        )
        .layer(CatchPanicLayer::custom(panic_response))
        .with_state(state)
}

/// Errors that axum's extractors answer as plain text (a body over its route's limit, a path
/// that does not parse) become problem+json like every other error. HTML pages, problem
/// documents and providers' bare webhook replies pass through.
async fn problem_for_plain_errors(response: Response) -> Response {
    let status = response.status();
    let plain = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"text/plain"));
    if !plain || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    match crate::problem::PROBLEM_TYPES
        .iter()
        .find(|problem| problem.status == status)
    {
        Some(problem) => ApiError::new(*problem, problem.title).into_response(),
        None => response,
    }
}

/// JSON answers end with a newline, so answers printed one after another (a terminal, a
/// pasted README block) do not run together.
async fn json_ends_with_a_newline(response: Response) -> Response {
    let json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            let essence = value.split(';').next().unwrap_or_default().trim();
            essence == "application/json" || essence.ends_with("+json")
        });
    if !json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return ApiError::new(INTERNAL, "an internal error occurred").into_response();
    };
    if bytes.is_empty() || bytes.ends_with(b"\n") {
        return Response::from_parts(parts, axum::body::Body::from(bytes));
    }
    let mut ended = Vec::with_capacity(bytes.len() + 1);
    ended.extend_from_slice(&bytes);
    ended.push(b'\n');
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(ended))
}

fn panic_response(_panic: Box<dyn Any + Send + 'static>) -> Response {
    tracing::error!("request handler panicked");
    ApiError::new(INTERNAL, "an internal error occurred").into_response()
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "VitaSync API",
        description = "Wearable health data for your app: users, connections, synced and \
                       normalised data, signed webhooks. Authenticate with \
                       `Authorization: Bearer <API key>`; errors are `application/problem+json`."
    ),
    modifiers(&BearerKeys),
    tags(
        (name = "users", description = "Your end users"),
        (name = "providers", description = "Wearables users can connect"),
        (name = "connections", description = "Provider accounts linked to users"),
        (name = "sync", description = "Fetching a connection's data, and its jobs"),
        (name = "health", description = "A user's health data: records, timeseries, summaries, events"),
        (name = "provider-webhooks", description = "Where providers push (no API key; each provider's own signature)"),
        (name = "mobile", description = "Your app on the user's phone: sign-in tokens, the user's own data, pushes from Apple Health / Health Connect / Samsung Health"),
        (name = "api-keys", description = "Keys of a workspace (admin)"),
        (name = "webhooks", description = "Signed events sent to your backend (admin)"),
        (name = "workspaces", description = "Tenants of the deployment (root key)"),
        (name = "meta", description = "Health and documentation"),
    )
)]
struct ApiDoc;

struct BearerKeys;

impl Modify for BearerKeys {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "apiKey",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        components.add_security_scheme(
            "userToken",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The OpenAPI 3.1 document for every route of the API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut spec = OpenApiRouter::<LocalApi>::with_openapi(ApiDoc::openapi())
        .merge(Function::Local.routes())
        .into_openapi();
    crate::openapi_errors::document_errors(&mut spec);
    spec
}
