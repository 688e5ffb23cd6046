//! The read side's wire format: records, timeseries buckets, daily summaries, totals, events
//! and personal records.

use crate::dto::List;
use crate::extract::encode_cursor;
use crate::problem::{ApiError, ApiResult};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vitasync_domain::health::Metric;
use vitasync_domain::health::query::{
    DailyRow, HealthRecord, MetricSummary, PersonalRecord, SessionEntry, Timeseries,
};
use vitasync_domain::health::{Session, SleepStage};
use vitasync_domain::kernel::page::Page;
use vitasync_domain::kernel::time::Timestamp;

fn instant(ms: i64) -> Option<String> {
    Timestamp::from_millis(ms).map(|at| at.to_string())
}

/// How a series answer is laid out (`format`): one object per point, or one array per field,
/// which spares a long chart every key repeated at every point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesFormat {
    Rows,
    Columns,
}

impl SeriesFormat {
    pub fn parse(format: Option<&str>) -> ApiResult<Self> {
        match format {
            None | Some("rows") => Ok(Self::Rows),
            Some("columns") => Ok(Self::Columns),
            Some(_) => Err(ApiError::invalid("format", "must be rows or columns")),
        }
    }
}

/// Marks an answer in the columns form.
#[derive(Debug, Clone, Copy, Default, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ColumnsFormat {
    #[default]
    Columns,
}

/// `GET /v1/users/{userId}/health`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecordParams {
    /// A metric type (`heart_rate`, `weight`, …); all when left out.
    pub metric_type: Option<String>,
    /// Only this provider's records.
    pub provider_id: Option<String>,
    /// Start (RFC 3339, inclusive); default 30 days before `to`.
    pub from: Option<String>,
    /// End (RFC 3339, exclusive); default now.
    pub to: Option<String>,
    /// 1 to 1000; 100 if left out.
    pub limit: Option<String>,
    /// `nextCursor` from the previous page.
    pub cursor: Option<String>,
    /// `rows` (default): one object per record. `columns`: one array per field, index for
    /// index (`RecordColumnsBody`).
    pub format: Option<String>,
}

/// A reading at an instant: a sample of a dense series (heart rate) or a measurement.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordBody {
    /// `sample` (of a dense series), `measurement`, or `daily` (a day's total or average).
    pub kind: &'static str,
    pub metric_type: &'static str,
    pub value: f64,
    /// Diastolic blood pressure, for blood-pressure readings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secondary_value: Option<f64>,
    pub unit: &'static str,
    /// The UTC instant; for a daily record, the instant its local day starts.
    pub at: Option<String>,
    /// For a daily record, the instant its local day ends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_at: Option<String>,
    /// The UTC offset where it was recorded, and the local date there.
    pub utc_offset_seconds: i32,
    pub local_date: String,
    pub provider_id: &'static str,
    pub connection_id: String,
    /// The provider's id for a measurement (samples of a series have none).
    pub record_id: Option<String>,
    /// The device or app that recorded it, when the provider says.
    pub source: Option<String>,
}

/// `sample`, `measurement` or `daily`.
fn record_kind(record: &HealthRecord) -> &'static str {
    match (&record.day, &record.record_id) {
        (Some(_), _) => "daily",
        (None, Some(_)) => "measurement",
        (None, None) => "sample",
    }
}

impl From<HealthRecord> for RecordBody {
    fn from(record: HealthRecord) -> Self {
        let local_date = record.local_date();
        Self {
            kind: record_kind(&record),
            metric_type: record.metric.as_str(),
            value: record.value,
            secondary_value: record.secondary,
            unit: record.metric.unit(),
            at: instant(record.at_ms),
            end_at: record.day.as_ref().and_then(|day| instant(day.end_ms)),
            utc_offset_seconds: record.utc_offset_seconds,
            local_date,
            provider_id: record.provider.as_str(),
            connection_id: record.connection_id.to_string(),
            record_id: record.record_id,
            source: record.source,
        }
    }
}

/// `format=columns`: a page of records as one array per field of `RecordBody`, index for
/// index, in the same order; `null` where a record has no such value.
#[derive(Debug, Default, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordColumnsBody {
    pub format: ColumnsFormat,
    pub kind: Vec<&'static str>,
    pub metric_type: Vec<&'static str>,
    pub value: Vec<f64>,
    pub secondary_value: Vec<Option<f64>>,
    pub unit: Vec<&'static str>,
    /// The UTC instant, epoch milliseconds.
    pub at: Vec<i64>,
    /// For a daily record, the instant its local day ends, epoch milliseconds.
    pub end_at: Vec<Option<i64>>,
    pub utc_offset_seconds: Vec<i32>,
    pub local_date: Vec<String>,
    pub provider_id: Vec<&'static str>,
    pub connection_id: Vec<String>,
    pub record_id: Vec<Option<String>>,
    pub source: Vec<Option<String>>,
    /// As in the rows form: pass it as `cursor` for the next page; `null` means last.
    pub next_cursor: Option<String>,
}

impl From<Page<HealthRecord>> for RecordColumnsBody {
    fn from(page: Page<HealthRecord>) -> Self {
        let mut columns = Self {
            next_cursor: page.next.as_deref().map(encode_cursor),
            ..Self::default()
        };
        for record in page.items {
            columns.kind.push(record_kind(&record));
            columns.local_date.push(record.local_date());
            // Every field reaches a column.
            let HealthRecord {
                metric,
                at_ms,
                utc_offset_seconds,
                value,
                secondary,
                provider,
                connection_id,
                record_id,
                source,
                day,
            } = record;
            columns.metric_type.push(metric.as_str());
            columns.value.push(value);
            columns.secondary_value.push(secondary);
            columns.unit.push(metric.unit());
            columns.at.push(at_ms);
            columns.end_at.push(day.map(|day| day.end_ms));
            columns.utc_offset_seconds.push(utc_offset_seconds);
            columns.provider_id.push(provider.as_str());
            columns.connection_id.push(connection_id.to_string());
            columns.record_id.push(record_id);
            columns.source.push(source);
        }
        columns
    }
}

/// A page of records: `List<RecordBody>`, or `RecordColumnsBody` with `format=columns`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum RecordsResponse {
    Rows(List<RecordBody>),
    Columns(Box<RecordColumnsBody>),
}

impl RecordsResponse {
    pub fn new(page: Page<HealthRecord>, format: SeriesFormat) -> Self {
        match format {
            SeriesFormat::Rows => Self::Rows(List::from_page(page, RecordBody::from)),
            SeriesFormat::Columns => Self::Columns(Box::new(page.into())),
        }
    }
}

/// `GET /v1/users/{userId}/health/timeseries`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TimeseriesParams {
    /// The metric type (required).
    pub metric_type: Option<String>,
    pub provider_id: Option<String>,
    /// Start (RFC 3339, inclusive); default 30 days before `to`. At most 366 days.
    pub from: Option<String>,
    /// End (RFC 3339, exclusive); default now.
    pub to: Option<String>,
    /// `minute`, `hour` (default), `day`, `week` (from Monday) or `month`.
    pub bucket: Option<String>,
    /// `avg` (default), `min`, `max`, `sum` or `count`.
    pub agg: Option<String>,
    /// An IANA zone to align buckets to (DST-correct); default each reading's own offset.
    pub tz: Option<String>,
    /// `rows` (default): one object per bucket. `columns`: one array per field, index for
    /// index (`TimeseriesColumnsBody`).
    pub format: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BucketBody {
    /// The bucket's local start, with the UTC offset in force then.
    pub start: String,
    pub value: f64,
    /// Readings in the bucket.
    pub count: u64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TimeseriesBody {
    pub metric_type: &'static str,
    pub unit: &'static str,
    pub data: Vec<BucketBody>,
}

impl From<Timeseries> for TimeseriesBody {
    fn from(series: Timeseries) -> Self {
        Self {
            metric_type: series.metric.as_str(),
            unit: series.metric.unit(),
            data: series
                .buckets
                .into_iter()
                .map(|bucket| BucketBody {
                    start: bucket.start.to_rfc3339(),
                    value: bucket.value,
                    count: bucket.count,
                })
                .collect(),
        }
    }
}

/// `format=columns`: the buckets as one array per field, index for index, in the same order
/// as `data` in the rows form.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TimeseriesColumnsBody {
    pub metric_type: &'static str,
    pub unit: &'static str,
    pub format: ColumnsFormat,
    /// Each bucket's start, epoch milliseconds.
    pub start: Vec<i64>,
    /// The UTC offset in force at each bucket's start (its local start is `start` plus this).
    pub utc_offset_seconds: Vec<i32>,
    pub value: Vec<f64>,
    /// Readings in each bucket.
    pub count: Vec<u64>,
}

impl From<Timeseries> for TimeseriesColumnsBody {
    fn from(series: Timeseries) -> Self {
        let len = series.buckets.len();
        let mut columns = Self {
            metric_type: series.metric.as_str(),
            unit: series.metric.unit(),
            format: ColumnsFormat::Columns,
            start: Vec::with_capacity(len),
            utc_offset_seconds: Vec::with_capacity(len),
            value: Vec::with_capacity(len),
            count: Vec::with_capacity(len),
        };
        for bucket in series.buckets {
            let offset = bucket.start.offset().local_minus_utc();
            columns.start.push(bucket.start.timestamp_millis());
            columns.utc_offset_seconds.push(offset);
            columns.value.push(bucket.value);
            columns.count.push(bucket.count);
        }
        columns
    }
}

/// A timeseries: `TimeseriesBody`, or `TimeseriesColumnsBody` with `format=columns`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum TimeseriesResponse {
    Rows(TimeseriesBody),
    Columns(TimeseriesColumnsBody),
}

impl TimeseriesResponse {
    pub fn new(series: Timeseries, format: SeriesFormat) -> Self {
        match format {
            SeriesFormat::Rows => Self::Rows(series.into()),
            SeriesFormat::Columns => Self::Columns(series.into()),
        }
    }
}

/// `GET /v1/users/{userId}/health/daily-summaries`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DailyParams {
    /// First local date (YYYY-MM-DD); default 29 days before `to`.
    pub from: Option<String>,
    /// Last local date, inclusive; default today (UTC).
    pub to: Option<String>,
    /// Comma-separated metric types; all when left out.
    pub metric_types: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DaySourceBody {
    pub provider_id: &'static str,
    pub connection_id: String,
    pub value: f64,
}

/// A local day of glucose readings, as a CGM report gives it. Values in mmol/L (× 18.016 for
/// mg/dL); the target range is 70–180 mg/dL (3.9–10.0 mmol/L), read on whole mg/dL.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GlucoseDayBody {
    /// Readings that day, every source's pooled.
    pub readings: u64,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    /// Share of readings under 70 mg/dL, percent.
    pub time_below_range_percent: f64,
    /// Share of readings from 70 to 180 mg/dL, percent.
    pub time_in_range_percent: f64,
    /// Share of readings over 180 mg/dL, percent.
    pub time_above_range_percent: f64,
}

/// One local date and metric. Totals (steps, distance, calories, floors, active minutes) take
/// the highest provider's value, never the sum; other metrics the mean. Glucose is computed
/// from the day's readings: `value` is their mean and `glucose` has the rest.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DailySummaryBody {
    pub date: String,
    pub metric_type: &'static str,
    pub value: f64,
    pub unit: &'static str,
    pub utc_offset_seconds: i32,
    pub providers: Vec<&'static str>,
    pub sources: Vec<DaySourceBody>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub glucose: Option<GlucoseDayBody>,
}

impl From<DailyRow> for DailySummaryBody {
    fn from(row: DailyRow) -> Self {
        let mut providers: Vec<&'static str> =
            row.sources.iter().map(|s| s.provider.as_str()).collect();
        providers.dedup();
        Self {
            date: row.date,
            metric_type: row.metric.as_str(),
            value: row.value,
            unit: row.metric.unit(),
            utc_offset_seconds: row.utc_offset_seconds,
            providers,
            sources: row
                .sources
                .into_iter()
                .map(|s| DaySourceBody {
                    provider_id: s.provider.as_str(),
                    connection_id: s.connection_id.to_string(),
                    value: s.value,
                })
                .collect(),
            glucose: row.glucose.map(|day| GlucoseDayBody {
                readings: day.readings,
                mean: day.mean,
                min: day.min,
                max: day.max,
                time_below_range_percent: day.below_range_percent,
                time_in_range_percent: day.in_range_percent,
                time_above_range_percent: day.above_range_percent,
            }),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MetricSummaryBody {
    pub metric_type: &'static str,
    pub unit: &'static str,
    /// Readings at an instant (samples and measurements).
    pub count: u64,
    /// Local days with a daily value.
    pub days: u64,
    pub first: Option<String>,
    pub last: Option<String>,
}

impl MetricSummaryBody {
    pub fn new(metric: Metric, summary: MetricSummary) -> Self {
        Self {
            metric_type: metric.as_str(),
            unit: metric.unit(),
            count: summary.count,
            days: summary.days,
            first: summary.first_ms.and_then(instant),
            last: summary.last_ms.and_then(instant),
        }
    }
}

/// `GET /v1/users/{userId}/events`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventParams {
    /// `workout` or `sleep`; both when left out.
    pub event_type: Option<String>,
    /// Events starting at or after (RFC 3339); default 30 days before `to`.
    pub from: Option<String>,
    /// Events starting before; default now.
    pub to: Option<String>,
    /// 1 to 1000; 100 if left out.
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HeartRateBody {
    pub avg: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StageSecondsBody {
    pub awake: f64,
    pub light: f64,
    pub deep: f64,
    pub rem: f64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StageBody {
    /// `awake`, `light`, `deep` or `rem`.
    pub stage: &'static str,
    pub start: Option<String>,
    pub end: Option<String>,
}

/// A workout or a sleep.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventBody {
    pub id: String,
    /// `workout` or `sleep`.
    pub event_type: &'static str,
    pub provider_id: &'static str,
    pub connection_id: String,
    /// The provider's id for it.
    pub record_id: String,
    pub start: Option<String>,
    pub end: Option<String>,
    pub utc_offset_seconds: i32,
    /// The local date it counts on (the wake-up day for sleep).
    pub date: String,
    /// Workouts: the sport in VitaSync's vocabulary, the same for every provider: running,
    /// cycling, swimming, walking, hiking, strength_training, yoga, pilates, rowing,
    /// elliptical, stair_climbing, hiit, cardio, dance, boxing, martial_arts, climbing,
    /// skiing, snowboarding, skating, surfing, paddling, sailing, tennis, table_tennis,
    /// badminton, squash, golf, soccer, basketball, volleyball, american_football, rugby,
    /// baseball, hockey, horse_riding, gymnastics, triathlon, wheelchair or other.
    pub sport: Option<String>,
    /// Workouts: the sport as the provider or phone named it (`MountainBikeRide`,
    /// `ROAD_BIKING`, `HKWorkoutActivityTypeCycling`, …).
    pub provider_sport: Option<String>,
    pub duration_seconds: Option<f64>,
    pub distance_meters: Option<f64>,
    pub energy_kcal: Option<f64>,
    pub heart_rate: HeartRateBody,
    /// Sleep: seconds in each stage.
    pub stage_seconds: Option<StageSecondsBody>,
    /// Sleep: the hypnogram, when the provider gives one.
    pub stages: Vec<StageBody>,
    /// The provider's own 0–100 score.
    pub score: Option<f64>,
    /// Workouts with a power meter: mean, highest and normalised power (W) and training
    /// stress score.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub power: Option<PowerBody>,
    /// Workouts: mean cadence, revolutions (or steps) per minute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cadence_avg: Option<f64>,
    /// Workouts: elevation gained, metres.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ascent_meters: Option<f64>,
    pub source: Option<String>,
}

/// A workout's power, watts (the stress score has no unit).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PowerBody {
    pub avg: Option<f64>,
    pub max: Option<f64>,
    pub normalized: Option<f64>,
    pub training_stress_score: Option<f64>,
}

fn stage_name(stage: SleepStage) -> &'static str {
    match stage {
        SleepStage::Awake => "awake",
        SleepStage::Light => "light",
        SleepStage::Deep => "deep",
        SleepStage::Rem => "rem",
    }
}

impl From<SessionEntry> for EventBody {
    fn from(event: SessionEntry) -> Self {
        let Session {
            kind,
            start_ms,
            end_ms,
            utc_offset_seconds,
            date,
            sport,
            provider_sport,
            duration_seconds,
            distance_m,
            energy_kcal,
            heart_rate_avg,
            heart_rate_max,
            heart_rate_min,
            stage_seconds,
            stages,
            score,
            power_avg,
            power_max,
            power_normalized,
            training_stress_score,
            cadence_avg,
            ascent_m,
            origin,
        } = event.session;
        let power = [
            power_avg,
            power_max,
            power_normalized,
            training_stress_score,
        ]
        .iter()
        .any(Option::is_some)
        .then_some(PowerBody {
            avg: power_avg,
            max: power_max,
            normalized: power_normalized,
            training_stress_score,
        });
        Self {
            id: event.id,
            event_type: kind.as_str(),
            provider_id: origin.provider.as_str(),
            connection_id: event.connection_id.to_string(),
            record_id: origin.record_id,
            start: instant(start_ms),
            end: instant(end_ms),
            utc_offset_seconds,
            date,
            sport,
            provider_sport,
            duration_seconds,
            distance_meters: distance_m,
            energy_kcal,
            heart_rate: HeartRateBody {
                avg: heart_rate_avg,
                min: heart_rate_min,
                max: heart_rate_max,
            },
            stage_seconds: stage_seconds.map(|t| StageSecondsBody {
                awake: t.awake,
                light: t.light,
                deep: t.deep,
                rem: t.rem,
            }),
            stages: stages
                .into_iter()
                .map(|span| StageBody {
                    stage: stage_name(span.stage),
                    start: instant(span.start_ms),
                    end: instant(span.end_ms),
                })
                .collect(),
            score,
            power,
            cadence_avg,
            ascent_meters: ascent_m,
            source: origin.source,
        }
    }
}

/// A best value and where it came from.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PersonalRecordBody {
    /// `steps`, `distance`, `active_calories`, `floors`, `active_minutes`,
    /// `heart_rate_variability` (highest in a day), `resting_heart_rate` (lowest),
    /// `workout_distance`, `workout_duration` (per sport), `sleep_duration`.
    #[serde(rename = "type")]
    pub record_type: String,
    pub value: f64,
    pub unit: &'static str,
    pub sport: Option<String>,
    /// The local date it happened.
    pub date: String,
    pub provider_id: &'static str,
    /// The workout or sleep it came from.
    pub event_id: Option<String>,
}

impl From<PersonalRecord> for PersonalRecordBody {
    fn from(record: PersonalRecord) -> Self {
        Self {
            record_type: record.record_type,
            value: record.value,
            unit: record.unit,
            sport: record.sport,
            date: record.date,
            provider_id: record.provider.as_str(),
            event_id: record.session_id,
        }
    }
}

/// `DELETE /v1/users/{userId}/health`
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErasureBody {
    /// Stored health records removed (a dense series counts one per hour it spans).
    pub deleted: u64,
}
