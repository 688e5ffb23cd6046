//! The read side of health data for a signed-in user (`/v1/me/...`): the same answers as the
//! `/v1/users/{userId}/...` routes, for the token's own user only.

use crate::dto::List;
use crate::extract::{Me, QueryParams};
use crate::health_dto::{
    DailyParams, DailySummaryBody, EventBody, EventParams, MetricSummaryBody, PersonalRecordBody,
    RecordParams, RecordsResponse, TimeseriesParams, TimeseriesResponse,
};
use crate::problem::{ApiResult, Problem};
use crate::routes::health::{
    daily_summaries_of, events_of, personal_records_of, records_of, summary_of, timeseries_of,
};
use crate::state::ApiState;
use axum::Json;
use axum::extract::FromRef;
use axum::extract::{Path, State};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vitasync_domain::health::query::HealthReads;
use vitasync_domain::mobile::sessions::UserSessions;

pub fn routes<S>() -> OpenApiRouter<S>
where
    S: ApiState,
    UserSessions: FromRef<S>,
    HealthReads: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(my_records))
        .routes(routes!(my_timeseries))
        .routes(routes!(my_daily_summaries))
        .routes(routes!(my_summary))
        .routes(routes!(my_events))
        .routes(routes!(my_event))
        .routes(routes!(my_personal_records))
        .routes(routes!(my_personal_records_of_type))
}

/// My health records
#[utoipa::path(
    get, path = "/v1/me/health", tag = "mobile", params(RecordParams),
    responses(
        (status = 200, description = "`List<RecordBody>`, or `RecordColumnsBody` with \
                                       `format=columns`", body = RecordsResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    ),
    security(("userToken" = []))
)]
async fn my_records(
    State(reads): State<HealthReads>,
    me: Me,
    QueryParams(params): QueryParams<RecordParams>,
) -> ApiResult<Json<RecordsResponse>> {
    records_of(&reads, &me.principal, &me.user_id, params).await
}

/// My metric over time
#[utoipa::path(
    get, path = "/v1/me/health/timeseries", tag = "mobile", params(TimeseriesParams),
    responses(
        (status = 200, description = "`TimeseriesBody`, or `TimeseriesColumnsBody` with \
                                       `format=columns`", body = TimeseriesResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    ),
    security(("userToken" = []))
)]
async fn my_timeseries(
    State(reads): State<HealthReads>,
    me: Me,
    QueryParams(params): QueryParams<TimeseriesParams>,
) -> ApiResult<Json<TimeseriesResponse>> {
    timeseries_of(&reads, &me.principal, &me.user_id, params).await
}

/// My daily summaries
#[utoipa::path(
    get, path = "/v1/me/health/daily-summaries", tag = "mobile", params(DailyParams),
    responses(
        (status = 200, body = List<DailySummaryBody>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    ),
    security(("userToken" = []))
)]
async fn my_daily_summaries(
    State(reads): State<HealthReads>,
    me: Me,
    QueryParams(params): QueryParams<DailyParams>,
) -> ApiResult<Json<List<DailySummaryBody>>> {
    daily_summaries_of(&reads, &me.principal, &me.user_id, params).await
}

/// What is stored of me, per metric
#[utoipa::path(
    get, path = "/v1/me/health/summary", tag = "mobile",
    responses((status = 200, body = List<MetricSummaryBody>)),
    security(("userToken" = []))
)]
async fn my_summary(
    State(reads): State<HealthReads>,
    me: Me,
) -> ApiResult<Json<List<MetricSummaryBody>>> {
    summary_of(&reads, &me.principal, &me.user_id).await
}

/// My workouts and sleeps
#[utoipa::path(
    get, path = "/v1/me/events", tag = "mobile", params(EventParams),
    responses(
        (status = 200, body = List<EventBody>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    ),
    security(("userToken" = []))
)]
async fn my_events(
    State(reads): State<HealthReads>,
    me: Me,
    QueryParams(params): QueryParams<EventParams>,
) -> ApiResult<Json<List<EventBody>>> {
    events_of(&reads, &me.principal, &me.user_id, params).await
}

/// One of my workouts or sleeps
#[utoipa::path(
    get, path = "/v1/me/events/{eventId}", tag = "mobile",
    params(("eventId" = String, Path, description = "The event's id")),
    responses(
        (status = 200, body = EventBody),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("userToken" = []))
)]
async fn my_event(
    State(reads): State<HealthReads>,
    me: Me,
    Path(event_id): Path<String>,
) -> ApiResult<Json<EventBody>> {
    let event = reads
        .get_session(&me.principal, &me.user_id, &event_id)
        .await?;
    Ok(Json(event.into()))
}

/// My personal records
#[utoipa::path(
    get, path = "/v1/me/personal-records", tag = "mobile",
    responses((status = 200, body = List<PersonalRecordBody>)),
    security(("userToken" = []))
)]
async fn my_personal_records(
    State(reads): State<HealthReads>,
    me: Me,
) -> ApiResult<Json<List<PersonalRecordBody>>> {
    personal_records_of(&reads, &me.principal, &me.user_id, None).await
}

/// My personal records of one type
#[utoipa::path(
    get, path = "/v1/me/personal-records/{metricType}", tag = "mobile",
    params(("metricType" = String, Path, description = "A record type, e.g. `steps`")),
    responses(
        (status = 200, body = List<PersonalRecordBody>),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("userToken" = []))
)]
async fn my_personal_records_of_type(
    State(reads): State<HealthReads>,
    me: Me,
    Path(record_type): Path<String>,
) -> ApiResult<Json<List<PersonalRecordBody>>> {
    personal_records_of(&reads, &me.principal, &me.user_id, Some(&record_type)).await
}
