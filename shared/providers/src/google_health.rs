//! Fitbit data through the Google Health API (v4; the legacy Fitbit Web API answers 410 since
//! 2026-11-02). Table-driven: each data type names its scope, its filter field and how its
//! points map to the schema. Points are listed (`dataPoints`, `nextPageToken`, newest first);
//! daily step and distance totals come from `dailyRollUp` (listing per-source points would
//! count a phone and a tracker twice). int64 values arrive as JSON strings; offsets as
//! duration strings (`"3600s"`).

use crate::rest::{Got, JsonApi, instant_ms, local_date, number, offset_on, text};
use secrecy::SecretString;
use serde_json::{Value, json};
use vitasync_domain::health::{
    DailySummary, DataType, HealthBatch, Measurement, Metric, Origin, SampleSeries, Session,
    SessionKind, SleepStage, StageSpan, StageTotals,
};
use vitasync_domain::providers::client::{FetchError, FetchRequest};
use vitasync_domain::providers::{ProviderId, ProviderSettings};

const SCOPE: &str = "https://www.googleapis.com/auth/googlehealth.";
/// Sleep and exercise pages hold at most 25 points; the others up to 10,000.
const SESSION_PAGE: &str = "25";
const POINT_PAGE: &str = "10000";

/// How a listed type is filtered by time.
#[derive(Clone, Copy)]
enum Filter {
    /// `<field>.sample_time.physical_time`
    Sample,
    /// `<field>.date` (`YYYY-MM-DD`)
    Date,
    /// `<field>.interval.end_time` (sleep)
    IntervalEnd,
    /// `<field>.interval.civil_start_time` (exercise: a physical start is refused)
    CivilStart,
}

struct Listed {
    /// The data type in the path (kebab-case).
    path: &'static str,
    /// The filter's field (snake_case) and the point's union key (camelCase).
    field: &'static str,
    key: &'static str,
    filter: Filter,
    scope: &'static str,
    brings: DataType,
}

const LISTED: [Listed; 8] = [
    Listed {
        path: "heart-rate",
        field: "heart_rate",
        key: "heartRate",
        filter: Filter::Sample,
        scope: "health_metrics_and_measurements.readonly",
        brings: DataType::Metric(Metric::HeartRate),
    },
    Listed {
        path: "daily-resting-heart-rate",
        field: "daily_resting_heart_rate",
        key: "dailyRestingHeartRate",
        filter: Filter::Date,
        scope: "health_metrics_and_measurements.readonly",
        brings: DataType::Metric(Metric::RestingHeartRate),
    },
    Listed {
        path: "daily-heart-rate-variability",
        field: "daily_heart_rate_variability",
        key: "dailyHeartRateVariability",
        filter: Filter::Date,
        scope: "health_metrics_and_measurements.readonly",
        brings: DataType::Metric(Metric::HeartRateVariability),
    },
    Listed {
        path: "daily-oxygen-saturation",
        field: "daily_oxygen_saturation",
        key: "dailyOxygenSaturation",
        filter: Filter::Date,
        scope: "health_metrics_and_measurements.readonly",
        brings: DataType::Metric(Metric::BloodOxygen),
    },
    Listed {
        path: "weight",
        field: "weight",
        key: "weight",
        filter: Filter::Sample,
        scope: "health_metrics_and_measurements.readonly",
        brings: DataType::Metric(Metric::Weight),
    },
    Listed {
        path: "body-fat",
        field: "body_fat",
        key: "bodyFat",
        filter: Filter::Sample,
        scope: "health_metrics_and_measurements.readonly",
        brings: DataType::Metric(Metric::BodyFat),
    },
    Listed {
        path: "sleep",
        field: "sleep",
        key: "sleep",
        filter: Filter::IntervalEnd,
        scope: "sleep.readonly",
        brings: DataType::Session(SessionKind::Sleep),
    },
    Listed {
        path: "exercise",
        field: "exercise",
        key: "exercise",
        filter: Filter::CivilStart,
        scope: "activity_and_fitness.readonly",
        brings: DataType::Session(SessionKind::Workout),
    },
];

fn origin(record_id: String, point: &Value) -> Origin {
    Origin {
        provider: ProviderId::Fitbit,
        record_id,
        source: text(point, "/dataSource/device/displayName"),
    }
}

/// `"3600s"` → 3600.
fn duration_seconds(raw: Option<&Value>) -> Option<f64> {
    match raw? {
        Value::String(s) => s.strip_suffix('s')?.parse().ok(),
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

fn offset(raw: Option<&Value>) -> i32 {
    duration_seconds(raw).map_or(0, |s| s as i32)
}

/// `{year, month, day}` → `YYYY-MM-DD`.
fn civil_date(date: Option<&Value>) -> Option<String> {
    let date = date?;
    let part = |name: &str| number(date, &format!("/{name}")).map(|n| n as u32);
    chrono::NaiveDate::from_ymd_opt(part("year")? as i32, part("month")?, part("day")?)
        .map(|d| d.to_string())
}

/// The point's id: the last segment of its resource name, or the given fallback.
fn point_id(point: &Value, fallback: String) -> String {
    text(point, "/name")
        .and_then(|name| name.rsplit('/').next().map(str::to_owned))
        .unwrap_or(fallback)
}

fn sleep_stage(raw: &str) -> Option<SleepStage> {
    match raw {
        "AWAKE" | "RESTLESS" => Some(SleepStage::Awake),
        "LIGHT" | "ASLEEP" => Some(SleepStage::Light),
        "DEEP" => Some(SleepStage::Deep),
        "REM" => Some(SleepStage::Rem),
        _ => None,
    }
}

/// Maps listed points of one type into `batch`.
fn map_points(listed: &Listed, points: &[Value], batch: &mut HealthBatch) {
    // Each heart-rate point carries its own `utcOffset`.
    let mut samples: Vec<(i64, f64, i32)> = Vec::new();
    for point in points {
        let Some(body) = point.get(listed.key) else {
            continue;
        };
        match listed.key {
            "heartRate" => {
                let at = body
                    .pointer("/sampleTime/physicalTime")
                    .and_then(Value::as_str)
                    .and_then(instant_ms);
                if let (Some(at), Some(bpm)) = (at, number(body, "/beatsPerMinute")) {
                    samples.push((at, bpm, offset(body.pointer("/sampleTime/utcOffset"))));
                }
            }
            "weight" | "bodyFat" => {
                let (metric, value) = if listed.key == "weight" {
                    (
                        Metric::Weight,
                        number(body, "/weightGrams").map(|g| g / 1000.0),
                    )
                } else {
                    (Metric::BodyFat, number(body, "/percentage"))
                };
                let at = body
                    .pointer("/sampleTime/physicalTime")
                    .and_then(Value::as_str)
                    .and_then(instant_ms);
                if let (Some(at), Some(value)) = (at, value) {
                    let utc_offset = offset(body.pointer("/sampleTime/utcOffset"));
                    batch.measurements.push(Measurement {
                        metric,
                        at_ms: at,
                        utc_offset_seconds: utc_offset,
                        date: local_date(at, utc_offset),
                        value,
                        secondary: None,
                        origin: origin(point_id(point, at.to_string()), point),
                    });
                }
            }
            "sleep" | "exercise" => {
                let interval = body.get("interval").cloned().unwrap_or(Value::Null);
                let (Some(start), Some(end)) = (
                    interval
                        .get("startTime")
                        .and_then(Value::as_str)
                        .and_then(instant_ms),
                    interval
                        .get("endTime")
                        .and_then(Value::as_str)
                        .and_then(instant_ms),
                ) else {
                    continue;
                };
                let start_offset = offset(interval.get("startUtcOffset"));
                let end_offset = offset(interval.get("endUtcOffset"));
                let id = point_id(point, start.to_string());
                if listed.key == "sleep" {
                    let stages: Vec<StageSpan> = body
                        .get("stages")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|stage| {
                            Some(StageSpan {
                                stage: sleep_stage(stage.get("type")?.as_str()?)?,
                                start_ms: instant_ms(stage.get("startTime")?.as_str()?)?,
                                end_ms: instant_ms(stage.get("endTime")?.as_str()?)?,
                            })
                        })
                        .collect();
                    let mut totals = StageTotals {
                        awake: 0.0,
                        light: 0.0,
                        deep: 0.0,
                        rem: 0.0,
                    };
                    for span in &stages {
                        let seconds = (span.end_ms - span.start_ms) as f64 / 1000.0;
                        match span.stage {
                            SleepStage::Awake => totals.awake += seconds,
                            SleepStage::Light => totals.light += seconds,
                            SleepStage::Deep => totals.deep += seconds,
                            SleepStage::Rem => totals.rem += seconds,
                        }
                    }
                    batch.sessions.push(Session {
                        start_ms: start,
                        end_ms: end,
                        utc_offset_seconds: end_offset,
                        date: local_date(end, end_offset),
                        duration_seconds: number(body, "/summary/minutesAsleep").map(|m| m * 60.0),
                        stage_seconds: (!stages.is_empty()).then_some(totals),
                        stages,
                        ..Session::new(SessionKind::Sleep, origin(id, point))
                    });
                } else {
                    batch.sessions.push(Session {
                        start_ms: start,
                        end_ms: end,
                        utc_offset_seconds: start_offset,
                        date: local_date(start, start_offset),
                        sport: text(body, "/exerciseType"),
                        duration_seconds: duration_seconds(body.get("activeDuration"))
                            .or(Some((end - start) as f64 / 1000.0)),
                        distance_m: number(body, "/metricsSummary/distanceMillimeters")
                            .map(|mm| mm / 1000.0),
                        energy_kcal: number(body, "/metricsSummary/caloriesKcal"),
                        heart_rate_avg: number(
                            body,
                            "/metricsSummary/averageHeartRateBeatsPerMinute",
                        ),
                        ..Session::new(SessionKind::Workout, origin(id, point))
                    });
                }
            }
            daily => {
                let (metric, field) = match daily {
                    "dailyRestingHeartRate" => (Metric::RestingHeartRate, "/beatsPerMinute"),
                    "dailyHeartRateVariability" => (
                        Metric::HeartRateVariability,
                        "/averageHeartRateVariabilityMilliseconds",
                    ),
                    _ => (Metric::BloodOxygen, "/averagePercentage"),
                };
                if let (Some(date), Some(value)) =
                    (civil_date(body.get("date")), number(body, field))
                {
                    batch.summaries.push(DailySummary {
                        metric,
                        date: date.clone(),
                        value,
                        // Daily values are in the user's zone; their offset is not given.
                        utc_offset_seconds: 0,
                        origin: origin(format!("{}-{date}", listed.path), point),
                    });
                }
            }
        }
    }
    batch.samples.extend(SampleSeries::by_offset(
        Metric::HeartRate,
        ProviderId::Fitbit,
        samples,
    ));
}

/// `dailyRollUp` points: one civil day each.
pub fn daily_totals(rollup: &Value, metric: Metric, batch: &mut HealthBatch) {
    let (key, field, scale) = match metric {
        Metric::Steps => ("steps", "/countSum", 1.0),
        _ => ("distance", "/millimetersSum", 0.001),
    };
    for point in rollup
        .get("rollupDataPoints")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let date = civil_date(point.pointer("/civilStartTime/date"));
        // Absent means no data that day, not zero.
        let value = point.get(key).and_then(|v| number(v, field));
        if let (Some(date), Some(value)) = (date, value) {
            batch.summaries.push(DailySummary {
                metric,
                date: date.clone(),
                value: value * scale,
                utc_offset_seconds: 0,
                origin: Origin {
                    provider: ProviderId::Fitbit,
                    record_id: format!("{key}-{date}"),
                    source: None,
                },
            });
        }
    }
}

fn filter(listed: &Listed, request: &FetchRequest) -> String {
    let (field, from, to) = match listed.filter {
        Filter::Sample => (
            format!("{}.sample_time.physical_time", listed.field),
            request.from.to_string(),
            request.to.to_string(),
        ),
        Filter::IntervalEnd => (
            format!("{}.interval.end_time", listed.field),
            request.from.to_string(),
            request.to.to_string(),
        ),
        Filter::Date => (
            format!("{}.date", listed.field),
            local_date(request.from.millis(), 0),
            local_date(request.to.millis() + 86_400_000, 0),
        ),
        Filter::CivilStart => {
            let civil = |ms: i64| {
                chrono::DateTime::from_timestamp_millis(ms)
                    .map(|at| at.format("%Y-%m-%dT%H:%M:%S").to_string())
                    .unwrap_or_default()
            };
            // Civil times are local: widen by a day each way so no zone is cut off.
            (
                format!("{}.interval.civil_start_time", listed.field),
                civil(request.from.millis() - 86_400_000),
                civil(request.to.millis() + 86_400_000),
            )
        }
    };
    format!("{field} >= \"{from}\" AND {field} < \"{to}\"")
}

/// The body of a `dailyRollUp` over the request's civil days.
fn daily_rollup_body(request: &FetchRequest) -> Value {
    let civil = |ms: i64| {
        let date = chrono::DateTime::from_timestamp_millis(ms).map(|at| at.date_naive());
        date.map_or(Value::Null, |d| {
            json!({"date": {"year": chrono::Datelike::year(&d), "month": chrono::Datelike::month(&d), "day": chrono::Datelike::day(&d)}})
        })
    };
    json!({
        "range": {"start": civil(request.from.millis()), "end": civil(request.to.millis() + 86_400_000)},
        "windowSizeDays": 1,
    })
}

pub async fn fetch(
    http: &reqwest::Client,
    settings: &ProviderSettings,
    token: &SecretString,
    request: &FetchRequest,
) -> Result<HealthBatch, FetchError> {
    let api = JsonApi::new(http, &settings.api_url, token, &request.budget);
    let mut batch = HealthBatch::default();
    // Daily values are civil days in the user's zone: `users/me/settings` names it.
    let zone = if request.granted(&format!("{SCOPE}settings.readonly")) {
        match api.get("/v4/users/me/settings", &[]).await? {
            Got::Data(body) => text(&body, "/timeZone"),
            Got::Forbidden | Got::Missing => None,
        }
    } else {
        None
    };
    for (data_type, metric) in [("steps", Metric::Steps), ("distance", Metric::Distance)] {
        if !request.wants(metric) {
            continue;
        }
        let granted = request.granted(&format!("{SCOPE}activity_and_fitness.readonly"));
        let got = if granted {
            api.post(
                &format!("/v4/users/me/dataTypes/{data_type}/dataPoints:dailyRollUp"),
                &daily_rollup_body(request),
            )
            .await?
        } else {
            Got::Forbidden
        };
        match got {
            Got::Data(rollup) => daily_totals(&rollup, metric, &mut batch),
            Got::Forbidden => batch.skipped.push(DataType::Metric(metric)),
            Got::Missing => {}
        }
    }
    for listed in &LISTED {
        if !request.wants_type(listed.brings) {
            continue;
        }
        let got = if request.granted(&format!("{SCOPE}{}", listed.scope)) {
            let page = if matches!(listed.key, "sleep" | "exercise") {
                SESSION_PAGE
            } else {
                POINT_PAGE
            };
            let query = [
                ("filter", filter(listed, request)),
                ("pageSize", page.to_owned()),
            ];
            api.collection(
                &format!("/v4/users/me/dataTypes/{}/dataPoints", listed.path),
                &query,
                "dataPoints",
                "nextPageToken",
                "pageToken",
            )
            .await?
        } else {
            Got::Forbidden
        };
        match got {
            Got::Data(points) => map_points(listed, &points, &mut batch),
            Got::Forbidden => batch.skipped.push(listed.brings),
            Got::Missing => {}
        }
    }
    if let Some(tz) = zone
        .as_deref()
        .and_then(|name| name.parse::<chrono_tz::Tz>().ok())
    {
        for summary in &mut batch.summaries {
            summary.utc_offset_seconds = offset_on(tz, &summary.date);
        }
        batch.time_zone = zone;
    }
    Ok(batch)
}

/// The data type a Google Health data type name (kebab-case) brings, as webhooks name it.
pub(crate) fn data_type_named(name: &str) -> Option<DataType> {
    match name {
        "steps" => Some(DataType::Metric(Metric::Steps)),
        "distance" => Some(DataType::Metric(Metric::Distance)),
        _ => LISTED
            .iter()
            .find(|listed| listed.path == name || listed.path.strip_prefix("daily-") == Some(name))
            .map(|listed| listed.brings),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn heart_rate(at: &str, offset: &str, bpm: &str) -> Value {
        serde_json::json!({ "heartRate": {
            "sampleTime": { "physicalTime": at, "utcOffset": offset },
            "beatsPerMinute": bpm,
        }})
    }

    #[test]
    fn heart_rate_points_keep_their_own_utc_offsets() {
        // Newfoundland falls back at 04:30 UTC on 1 November 2026: −02:30, then −03:30.
        let points = [
            heart_rate("2026-11-01T04:20:00Z", "-9000s", "61"),
            heart_rate("2026-11-01T04:29:00Z", "-9000s", "62"),
            heart_rate("2026-11-01T04:31:00Z", "-12600s", "63"),
        ];
        let mut batch = HealthBatch::default();
        map_points(&LISTED[0], &points, &mut batch);
        let offsets: Vec<(i32, usize)> = batch
            .samples
            .iter()
            .map(|s| (s.utc_offset_seconds, s.points.len()))
            .collect();
        assert_eq!(offsets, vec![(-9000, 2), (-12600, 1)]);
    }
}
