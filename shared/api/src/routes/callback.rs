//! The provider's redirect back after consent: the code is exchanged, the tokens sealed, the
//! connection stored and its first backfill queued.

use crate::extract::RequestBase;
use crate::pages::{self, query};
use crate::problem::Problem;
use crate::state::ApiState;
use axum::extract::FromRef;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vitasync_domain::connect::Callback;
use vitasync_domain::connect::CallbackParams;

pub fn routes<S>() -> OpenApiRouter<S>
where
    S: ApiState,
    Callback: FromRef<S>,
{
    OpenApiRouter::new().routes(routes!(callback))
}

/// The provider's redirect back to VitaSync
#[utoipa::path(
    get, path = "/v1/oauth/{providerId}/callback", tag = "connections",
    description = "Register this URL with the provider as the redirect URI. It checks the state, \
                   exchanges the code, stores the tokens encrypted and redirects to the link's \
                   redirect URL with `connectionId`, `providerId`, `userId` and `externalId` \
                   (or `error` and `error_description`).",
    params(("providerId" = String, Path, description = "e.g. `withings`")),
    responses(
        (status = 302, description = "To the success or failure URL"),
        (status = 400, description = "Error page when the state is not valid", body = Problem),
    )
)]
async fn callback(
    State(callback): State<Callback>,
    RequestBase(base): RequestBase,
    Path(provider): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let mut params = query(&uri);
    let params = CallbackParams {
        state: params.remove("state"),
        code: params.remove("code"),
        error: params.remove("error"),
        error_description: params.remove("error_description"),
        scope: params.remove("scope"),
    };
    match callback
        .complete_authorization(&provider, params, &base)
        .await
    {
        Ok(location) => pages::redirect(&location),
        Err(failure) => pages::failure(&headers, &failure),
    }
}
