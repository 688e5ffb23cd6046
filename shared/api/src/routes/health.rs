//! The read side of a user's health data: records, timeseries, daily summaries, totals,
//! events, personal records, and erasure.

use crate::dto::List;
use crate::extract::{Caller, QueryParams, Read, Write, decode_cursor};
use crate::health_dto::{
    DailyParams, DailySummaryBody, ErasureBody, EventBody, EventParams, MetricSummaryBody,
    PersonalRecordBody, RecordParams, RecordsResponse, SeriesFormat, TimeseriesParams,
    TimeseriesResponse,
};
use crate::problem::{ApiResult, Problem};
use crate::state::ApiState;
use axum::Json;
use axum::extract::FromRef;
use axum::extract::{Path, State};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vitasync_domain::health::query::HealthReads;
use vitasync_domain::health::query::{DailyQuery, RecordsQuery, SessionsQuery, TimeseriesQuery};
use vitasync_domain::tenancy::Authenticator;
use vitasync_domain::tenancy::api_key::Principal;

pub fn routes<S>() -> OpenApiRouter<S>
where
    S: ApiState,
    Authenticator: FromRef<S>,
    HealthReads: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list_records, erase_health))
        .routes(routes!(timeseries))
        .routes(routes!(daily_summaries))
        .routes(routes!(summary))
        .routes(routes!(list_events))
        .routes(routes!(get_event))
        .routes(routes!(personal_records))
        .routes(routes!(personal_records_of_type))
}

fn cursor_position(cursor: Option<&str>) -> ApiResult<Option<String>> {
    cursor.map(decode_cursor).transpose()
}

/// A list without paging.
fn all<T>(data: Vec<T>) -> List<T> {
    List {
        data,
        next_cursor: None,
    }
}

/// List health records
#[utoipa::path(
    get, path = "/v1/users/{userId}/health", tag = "health",
    description = "Readings at an instant (samples of dense series such as heart rate, and \
                   measurements such as weight), newest first, from every connection of the \
                   user. The cursor is stable while new data arrives. With `format=columns` \
                   the page comes as one array per field (`RecordColumnsBody`). Needs `read`.",
    params(("userId" = String, Path, description = "The user's id"), RecordParams),
    responses(
        (status = 200, description = "`List<RecordBody>`, or `RecordColumnsBody` with \
                                       `format=columns`", body = RecordsResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn list_records(
    State(reads): State<HealthReads>,
    caller: Caller<Read>,
    Path(user_id): Path<String>,
    QueryParams(params): QueryParams<RecordParams>,
) -> ApiResult<Json<RecordsResponse>> {
    records_of(&reads, &caller.principal, &user_id, params).await
}

/// Erase a user's health data
#[utoipa::path(
    delete, path = "/v1/users/{userId}/health", tag = "health",
    description = "Deletes every health record of the user, from every connection and of \
                   every kind (readings, daily summaries, workouts, sleeps). The user and \
                   their connections stay. Needs `write`.",
    params(("userId" = String, Path, description = "The user's id")),
    responses(
        (status = 200, body = ErasureBody),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn erase_health(
    State(reads): State<HealthReads>,
    caller: Caller<Write>,
    Path(user_id): Path<String>,
) -> ApiResult<Json<ErasureBody>> {
    let deleted = reads.erase_health(&caller.principal, &user_id).await?;
    Ok(Json(ErasureBody { deleted }))
}

/// A metric over time
#[utoipa::path(
    get, path = "/v1/users/{userId}/health/timeseries", tag = "health",
    description = "One metric's readings aggregated into buckets of local time: in `tz` \
                   (DST-correct) or in the offset each reading was recorded at. With \
                   `format=columns` the buckets come as one array per field \
                   (`TimeseriesColumnsBody`). Needs `read`.",
    params(("userId" = String, Path, description = "The user's id"), TimeseriesParams),
    responses(
        (status = 200, description = "`TimeseriesBody`, or `TimeseriesColumnsBody` with \
                                       `format=columns`", body = TimeseriesResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn timeseries(
    State(reads): State<HealthReads>,
    caller: Caller<Read>,
    Path(user_id): Path<String>,
    QueryParams(params): QueryParams<TimeseriesParams>,
) -> ApiResult<Json<TimeseriesResponse>> {
    timeseries_of(&reads, &caller.principal, &user_id, params).await
}

/// Daily summaries
#[utoipa::path(
    get, path = "/v1/users/{userId}/health/daily-summaries", tag = "health",
    description = "One row per local date and metric, with the providers it came from. A day \
                   synced twice, or reported by two providers, is never counted twice. Needs \
                   `read`.",
    params(("userId" = String, Path, description = "The user's id"), DailyParams),
    responses(
        (status = 200, body = List<DailySummaryBody>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn daily_summaries(
    State(reads): State<HealthReads>,
    caller: Caller<Read>,
    Path(user_id): Path<String>,
    QueryParams(params): QueryParams<DailyParams>,
) -> ApiResult<Json<List<DailySummaryBody>>> {
    daily_summaries_of(&reads, &caller.principal, &user_id, params).await
}

/// What is stored, per metric
#[utoipa::path(
    get, path = "/v1/users/{userId}/health/summary", tag = "health",
    description = "Per metric type: how many readings and daily values are stored, the first \
                   and the last. Needs `read`.",
    params(("userId" = String, Path, description = "The user's id")),
    responses(
        (status = 200, body = List<MetricSummaryBody>),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn summary(
    State(reads): State<HealthReads>,
    caller: Caller<Read>,
    Path(user_id): Path<String>,
) -> ApiResult<Json<List<MetricSummaryBody>>> {
    summary_of(&reads, &caller.principal, &user_id).await
}

/// List workouts and sleeps
#[utoipa::path(
    get, path = "/v1/users/{userId}/events", tag = "health",
    description = "Workouts and sleep sessions starting in the range, newest first. Needs `read`.",
    params(("userId" = String, Path, description = "The user's id"), EventParams),
    responses(
        (status = 200, body = List<EventBody>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn list_events(
    State(reads): State<HealthReads>,
    caller: Caller<Read>,
    Path(user_id): Path<String>,
    QueryParams(params): QueryParams<EventParams>,
) -> ApiResult<Json<List<EventBody>>> {
    events_of(&reads, &caller.principal, &user_id, params).await
}

/// Get a workout or sleep
#[utoipa::path(
    get, path = "/v1/users/{userId}/events/{eventId}", tag = "health",
    params(
        ("userId" = String, Path, description = "The user's id"),
        ("eventId" = String, Path, description = "The event's id"),
    ),
    responses(
        (status = 200, body = EventBody),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn get_event(
    State(reads): State<HealthReads>,
    caller: Caller<Read>,
    Path((user_id, event_id)): Path<(String, String)>,
) -> ApiResult<Json<EventBody>> {
    let event = reads
        .get_session(&caller.principal, &user_id, &event_id)
        .await?;
    Ok(Json(event.into()))
}

/// Personal records
#[utoipa::path(
    get, path = "/v1/users/{userId}/personal-records", tag = "health",
    description = "Best values with the date and the record they came from: most steps, \
                   distance, active calories, floors and active minutes in a day, highest \
                   daily HRV, lowest resting heart rate, longest workout per sport by \
                   distance and by time, longest sleep. Always current: computed from what \
                   is stored. Needs `read`.",
    params(("userId" = String, Path, description = "The user's id")),
    responses(
        (status = 200, body = List<PersonalRecordBody>),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn personal_records(
    State(reads): State<HealthReads>,
    caller: Caller<Read>,
    Path(user_id): Path<String>,
) -> ApiResult<Json<List<PersonalRecordBody>>> {
    personal_records_of(&reads, &caller.principal, &user_id, None).await
}

/// Personal records of one type
#[utoipa::path(
    get, path = "/v1/users/{userId}/personal-records/{metricType}", tag = "health",
    params(
        ("userId" = String, Path, description = "The user's id"),
        ("metricType" = String, Path, description = "A record type, e.g. `steps` or `workout_distance`"),
    ),
    responses(
        (status = 200, body = List<PersonalRecordBody>),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("apiKey" = []))
)]
async fn personal_records_of_type(
    State(reads): State<HealthReads>,
    caller: Caller<Read>,
    Path((user_id, record_type)): Path<(String, String)>,
) -> ApiResult<Json<List<PersonalRecordBody>>> {
    personal_records_of(&reads, &caller.principal, &user_id, Some(&record_type)).await
}

// The read side, for an API key naming a user and for a signed-in user alike (`/v1/me`).

pub(crate) async fn records_of(
    reads: &HealthReads,
    caller: &Principal,
    user_id: &str,
    params: RecordParams,
) -> ApiResult<Json<RecordsResponse>> {
    let format = SeriesFormat::parse(params.format.as_deref())?;
    let query = RecordsQuery {
        metric_type: params.metric_type,
        provider_id: params.provider_id,
        from: params.from,
        to: params.to,
        limit: params.limit,
        after: cursor_position(params.cursor.as_deref())?,
    };
    let page = reads.list_records(caller, user_id, &query).await?;
    Ok(Json(RecordsResponse::new(page, format)))
}

pub(crate) async fn timeseries_of(
    reads: &HealthReads,
    caller: &Principal,
    user_id: &str,
    params: TimeseriesParams,
) -> ApiResult<Json<TimeseriesResponse>> {
    let format = SeriesFormat::parse(params.format.as_deref())?;
    let query = TimeseriesQuery {
        metric_type: params.metric_type,
        provider_id: params.provider_id,
        from: params.from,
        to: params.to,
        bucket: params.bucket,
        agg: params.agg,
        tz: params.tz,
    };
    let series = reads.timeseries(caller, user_id, &query).await?;
    Ok(Json(TimeseriesResponse::new(series, format)))
}

pub(crate) async fn daily_summaries_of(
    reads: &HealthReads,
    caller: &Principal,
    user_id: &str,
    params: DailyParams,
) -> ApiResult<Json<List<DailySummaryBody>>> {
    let query = DailyQuery {
        from: params.from,
        to: params.to,
        metric_types: params.metric_types,
    };
    let rows = reads.daily_summaries(caller, user_id, &query).await?;
    Ok(Json(all(rows
        .into_iter()
        .map(DailySummaryBody::from)
        .collect())))
}

pub(crate) async fn summary_of(
    reads: &HealthReads,
    caller: &Principal,
    user_id: &str,
) -> ApiResult<Json<List<MetricSummaryBody>>> {
    let summary = reads.health_summary(caller, user_id).await?;
    Ok(Json(all(summary
        .into_iter()
        .map(|(metric, totals)| MetricSummaryBody::new(metric, totals))
        .collect())))
}

pub(crate) async fn events_of(
    reads: &HealthReads,
    caller: &Principal,
    user_id: &str,
    params: EventParams,
) -> ApiResult<Json<List<EventBody>>> {
    let query = SessionsQuery {
        session_type: params.event_type,
        from: params.from,
        to: params.to,
        limit: params.limit,
        after: cursor_position(params.cursor.as_deref())?,
    };
    let page = reads.list_sessions(caller, user_id, &query).await?;
    Ok(Json(List::from_page(page, EventBody::from)))
}

pub(crate) async fn personal_records_of(
    reads: &HealthReads,
    caller: &Principal,
    user_id: &str,
    record_type: Option<&str>,
) -> ApiResult<Json<List<PersonalRecordBody>>> {
    let records = reads.personal_records(caller, user_id, record_type).await?;
    Ok(Json(all(records
        .into_iter()
        .map(PersonalRecordBody::from)
        .collect())))
}
