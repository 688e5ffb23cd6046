//! `/v1/workspaces`: tenants of the deployment (root key only); `/v1/workspace`: the caller's.

use crate::dto::{
    CreateWorkspace, CreatedWorkspaceBody, CurrentWorkspaceBody, List, PageParams, WorkspaceBody,
};
use crate::extract::{Admin, Caller, JsonBody, QueryParams, Read, page_request};
use crate::problem::{ApiResult, Problem};
use crate::state::ApiState;
use axum::Json;
use axum::extract::FromRef;
use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vitasync_domain::tenancy::{Authenticator, Tenancy};

pub fn routes<S>() -> OpenApiRouter<S>
where
    S: ApiState,
    Authenticator: FromRef<S>,
    Tenancy: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(create_workspace, list_workspaces))
        .routes(routes!(current_workspace))
}

/// The workspace of the calling key, and what the key may do
#[utoipa::path(
    get, path = "/v1/workspace", tag = "workspaces",
    description = "Any key: its workspace's id, slug and name, and the key's own scopes (a \
                   dashboard shows write buttons only to keys that may write).",
    responses(
        (status = 200, body = CurrentWorkspaceBody),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn current_workspace(
    State(tenancy): State<Tenancy>,
    caller: Caller<Read>,
) -> ApiResult<Json<CurrentWorkspaceBody>> {
    let workspace = tenancy.current_workspace(&caller.principal).await?;
    Ok(Json(CurrentWorkspaceBody {
        workspace: workspace.into(),
        scopes: caller.principal.scopes.clone(),
        root: caller.principal.root,
    }))
}

/// Create a workspace and its first admin key
#[utoipa::path(
    post, path = "/v1/workspaces", tag = "workspaces",
    description = "Root key only. `apiKey` is an `admin` key of the new workspace, shown once.",
    request_body = CreateWorkspace,
    responses(
        (status = 201, body = CreatedWorkspaceBody),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn create_workspace(
    State(tenancy): State<Tenancy>,
    caller: Caller<Admin>,
    JsonBody(body): JsonBody<CreateWorkspace>,
) -> ApiResult<(StatusCode, Json<CreatedWorkspaceBody>)> {
    let (workspace, key) = tenancy
        .create_workspace(&caller.principal, &body.slug, body.name.as_deref())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedWorkspaceBody::new(workspace, &key)),
    ))
}

/// List workspaces
#[utoipa::path(
    get, path = "/v1/workspaces", tag = "workspaces",
    description = "Root key only.",
    params(PageParams),
    responses(
        (status = 200, body = List<WorkspaceBody>),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn list_workspaces(
    State(tenancy): State<Tenancy>,
    caller: Caller<Admin>,
    QueryParams(params): QueryParams<PageParams>,
) -> ApiResult<Json<List<WorkspaceBody>>> {
    let page = page_request(params.limit.as_deref(), params.cursor.as_deref())?;
    let found = tenancy.list_workspaces(&caller.principal, &page).await?;
    Ok(Json(List::from_page(found, WorkspaceBody::from)))
}
