//! `/v1/providers`: the wearables a user can connect, and whether this deployment can.

use crate::dto::{List, ProviderBody};
use crate::extract::{Caller, Read};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::state::ApiState;
use axum::Json;
use axum::extract::FromRef;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vitasync_domain::providers::ProviderId;
use vitasync_domain::providers::ProviderRegistry;
use vitasync_domain::tenancy::Authenticator;

pub fn routes<S>() -> OpenApiRouter<S>
where
    S: ApiState,
    Authenticator: FromRef<S>,
    Arc<ProviderRegistry>: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list_providers))
        .routes(routes!(get_provider))
        .routes(routes!(provider_logo))
}

fn body(providers: &Arc<ProviderRegistry>, id: ProviderId) -> ProviderBody {
    ProviderBody::new(id.info(), providers.is_enabled(id))
}

fn parse(raw: &str) -> ApiResult<ProviderId> {
    ProviderId::parse(raw).ok_or_else(|| ApiError::not_found("provider"))
}

/// List providers
#[utoipa::path(
    get, path = "/v1/providers", tag = "providers",
    description = "Every provider VitaSync knows, with `enabled` telling whether this deployment \
                   has credentials for it. Needs `read`.",
    responses((status = 200, body = List<ProviderBody>), (status = 401, body = Problem, content_type = "application/problem+json")),
    security(("apiKey" = []))
)]
async fn list_providers(
    State(providers): State<Arc<ProviderRegistry>>,
    _caller: Caller<Read>,
) -> Json<List<ProviderBody>> {
    Json(List {
        data: ProviderId::ALL
            .into_iter()
            .map(|id| body(&providers, id))
            .collect(),
        next_cursor: None,
    })
}

/// Get a provider
#[utoipa::path(
    get, path = "/v1/providers/{providerId}", tag = "providers",
    params(("providerId" = String, Path, description = "e.g. `withings`")),
    responses((status = 200, body = ProviderBody), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("apiKey" = []))
)]
async fn get_provider(
    State(providers): State<Arc<ProviderRegistry>>,
    _caller: Caller<Read>,
    Path(provider): Path<String>,
) -> ApiResult<Json<ProviderBody>> {
    Ok(Json(body(&providers, parse(&provider)?)))
}

/// A provider's logo (SVG, no key needed)
#[utoipa::path(
    get, path = "/v1/providers/{providerId}/logo.svg", tag = "providers",
    params(("providerId" = String, Path, description = "e.g. `withings`")),
    responses((status = 200, description = "SVG image", content_type = "image/svg+xml"), (status = 404, body = Problem, content_type = "application/problem+json"))
)]
async fn provider_logo(Path(provider): Path<String>) -> ApiResult<impl IntoResponse> {
    let info = parse(&provider)?.info();
    let (background, initial) = logo_style(info.id);
    let svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"64\" height=\"64\" viewBox=\"0 0 64 64\" role=\"img\" aria-label=\"{name}\">\
         <rect width=\"64\" height=\"64\" rx=\"14\" fill=\"{background}\"/>\
         <text x=\"32\" y=\"42\" font-family=\"system-ui,sans-serif\" font-size=\"30\" font-weight=\"700\" fill=\"#fff\" text-anchor=\"middle\">{initial}</text></svg>",
        name = info.name,
    );
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        svg,
    ))
}

fn logo_style(id: ProviderId) -> (&'static str, &'static str) {
    match id {
        ProviderId::Withings => ("#00b3b3", "W"),
        ProviderId::Whoop => ("#1a1a1a", "W"),
        ProviderId::Strava => ("#fc4c02", "S"),
        ProviderId::Oura => ("#2f3b52", "O"),
        ProviderId::Garmin => ("#007cc3", "G"),
        ProviderId::Polar => ("#d10027", "P"),
        ProviderId::Fitbit => ("#00b0b9", "F"),
        ProviderId::Demo => ("#6b4de6", "V"),
        ProviderId::AppleHealth => ("#ff2d55", "A"),
        ProviderId::HealthConnect => ("#4285f4", "H"),
        ProviderId::SamsungHealth => ("#1428a0", "S"),
    }
}
