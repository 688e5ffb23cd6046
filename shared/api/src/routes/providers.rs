//! `/v1/providers`: the wearables a user can connect, and whether the caller's users can: the
//! deployment has an app for it, or the workspace brought its own.

use crate::dto::{List, ProviderBody};
use crate::extract::{Caller, Read};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::state::ApiState;
use axum::Json;
use axum::extract::FromRef;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use std::collections::BTreeMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vitasync_domain::connect::ConnectLinks;
use vitasync_domain::providers::ProviderId;
use vitasync_domain::providers::apps::AppRef;
use vitasync_domain::tenancy::Authenticator;

pub fn routes<S>() -> OpenApiRouter<S>
where
    S: ApiState,
    Authenticator: FromRef<S>,
    ConnectLinks: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list_providers))
        .routes(routes!(get_provider))
        .routes(routes!(provider_logo))
}

fn body(available: &BTreeMap<ProviderId, AppRef>, id: ProviderId) -> ProviderBody {
    ProviderBody::new(id.info(), available.get(&id))
}

fn parse(raw: &str) -> ApiResult<ProviderId> {
    ProviderId::parse(raw).ok_or_else(|| ApiError::not_found("provider"))
}

/// List providers
#[utoipa::path(
    get, path = "/v1/providers", tag = "providers",
    description = "Every provider VitaSync knows, with `enabled` telling whether the caller's \
                   users can connect it (the deployment has an app for it, or the workspace \
                   brought its own: `ownApp`). Needs `read`.",
    responses((status = 200, body = List<ProviderBody>), (status = 401, body = Problem, content_type = "application/problem+json")),
    security(("apiKey" = []))
)]
async fn list_providers(
    State(links): State<ConnectLinks>,
    caller: Caller<Read>,
) -> ApiResult<Json<List<ProviderBody>>> {
    let available = links.available(&caller.principal).await?;
    Ok(Json(List {
        data: ProviderId::ALL
            .into_iter()
            .map(|id| body(&available, id))
            .collect(),
        next_cursor: None,
    }))
}

/// Get a provider
#[utoipa::path(
    get, path = "/v1/providers/{providerId}", tag = "providers",
    params(("providerId" = String, Path, description = "e.g. `withings`")),
    responses((status = 200, body = ProviderBody), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("apiKey" = []))
)]
async fn get_provider(
    State(links): State<ConnectLinks>,
    caller: Caller<Read>,
    Path(provider): Path<String>,
) -> ApiResult<Json<ProviderBody>> {
    let provider = parse(&provider)?;
    let available = links.available(&caller.principal).await?;
    Ok(Json(body(&available, provider)))
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
        ProviderId::Dexcom => ("#58a618", "D"),
        ProviderId::Ultrahuman => ("#111111", "U"),
        ProviderId::Suunto => ("#0072ce", "S"),
        ProviderId::Wahoo => ("#0055a5", "W"),
        ProviderId::Demo => ("#6b4de6", "V"),
        ProviderId::AppleHealth => ("#ff2d55", "A"),
        ProviderId::HealthConnect => ("#4285f4", "H"),
        ProviderId::SamsungHealth => ("#1428a0", "S"),
    }
}
