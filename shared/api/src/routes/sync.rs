//! Syncing: trigger a sync of a connection, and follow its job.

use crate::dto::{List, PageParams, SyncJobBody, TriggerSync};
use crate::extract::{Caller, QueryParams, Read, Write, page_request, parse_json};
use crate::problem::{ApiResult, Problem};
use crate::state::ApiState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::FromRef;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vitasync_domain::sync::SyncJobs;
use vitasync_domain::tenancy::Authenticator;

pub fn routes<S>() -> OpenApiRouter<S>
where
    S: ApiState,
    Authenticator: FromRef<S>,
    SyncJobs: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(trigger_sync))
        .routes(routes!(get_job))
        .routes(routes!(list_jobs))
}

/// Sync a connection
#[utoipa::path(
    post, path = "/v1/users/{userId}/connections/{connectionId}/sync", tag = "sync",
    description = "Queues a sync of the connection and answers 202 with its job. While a job for \
                   the connection is queued or running, answers that job instead of starting \
                   another. The body is optional. Needs `write`.",
    params(
        ("userId" = String, Path, description = "The user's id"),
        ("connectionId" = String, Path, description = "The connection's id"),
    ),
    request_body(content = Option<TriggerSync>),
    responses(
        (status = 202, body = SyncJobBody),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The connection is disconnected", body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn trigger_sync(
    State(sync_jobs): State<SyncJobs>,
    caller: Caller<Write>,
    Path((user_id, connection_id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<SyncJobBody>)> {
    let request: TriggerSync = if body.iter().all(u8::is_ascii_whitespace) {
        TriggerSync::default()
    } else {
        parse_json(&body)?
    };
    let job = sync_jobs
        .trigger_sync(&caller.principal, &user_id, &connection_id, request.into())
        .await?;
    Ok((StatusCode::ACCEPTED, Json(job.into())))
}

/// Get a sync job
#[utoipa::path(
    get, path = "/v1/sync-jobs/{jobId}", tag = "sync",
    params(("jobId" = String, Path, description = "The job's id")),
    responses(
        (status = 200, body = SyncJobBody),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn get_job(
    State(sync_jobs): State<SyncJobs>,
    caller: Caller<Read>,
    Path(job_id): Path<String>,
) -> ApiResult<Json<SyncJobBody>> {
    Ok(Json(
        sync_jobs.get_job(&caller.principal, &job_id).await?.into(),
    ))
}

/// List a user's sync jobs
#[utoipa::path(
    get, path = "/v1/users/{userId}/sync-jobs", tag = "sync",
    description = "Newest first, a page at a time. Needs `read`.",
    params(("userId" = String, Path, description = "The user's id"), PageParams),
    responses(
        (status = 200, body = List<SyncJobBody>),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn list_jobs(
    State(sync_jobs): State<SyncJobs>,
    caller: Caller<Read>,
    Path(user_id): Path<String>,
    QueryParams(params): QueryParams<PageParams>,
) -> ApiResult<Json<List<SyncJobBody>>> {
    let page = page_request(params.limit.as_deref(), params.cursor.as_deref())?;
    let jobs = sync_jobs
        .list_jobs(&caller.principal, &user_id, &page)
        .await?;
    Ok(Json(List::from_page(jobs, SyncJobBody::from)))
}
