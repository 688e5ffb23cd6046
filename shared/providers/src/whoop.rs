//! WHOOP (API v2): cycles (day strain and energy), recovery (resting heart rate, HRV, SpO2,
//! skin temperature), sleeps (stages), workouts and the body measurement. Collections page
//! with `nextToken`, newest first; instants are UTC with a separate `timezone_offset`;
//! durations are milliseconds and energy kilojoules. Scores exist only once `SCORED`.

use crate::rest::{
    Got, JsonApi, instant_ms, kcal_from_kj, local_date, number, offset_seconds, text,
};
use secrecy::SecretString;
use serde_json::Value;
use std::collections::HashMap;
use vitasync_domain::health::{
    DailySummary, DataType, HealthBatch, Measurement, Metric, Origin, Retraction, Session,
    SessionKind, StageTotals,
};
use vitasync_domain::kernel::time::Timestamp;
use vitasync_domain::providers::client::{FetchError, FetchRequest};
use vitasync_domain::providers::{ProviderId, ProviderSettings};

/// Items per page: WHOOP's most.
const PAGE: &str = "25";

fn origin(record_id: String) -> Origin {
    Origin {
        provider: ProviderId::Whoop,
        record_id,
        source: Some("WHOOP".into()),
    }
}

fn scored(record: &Value) -> bool {
    record.get("score_state").and_then(Value::as_str) == Some("SCORED")
}

fn offset_of(record: &Value) -> i32 {
    record
        .get("timezone_offset")
        .and_then(Value::as_str)
        .and_then(offset_seconds)
        .unwrap_or(0)
}

fn seconds(value: Option<f64>) -> f64 {
    value.unwrap_or(0.0) / 1000.0
}

/// The local day a cycle counts for. A cycle begins when the user falls asleep, so one that
/// begins in the evening is the next day's (WHOOP's app shows it so); one that begins after
/// midnight is that day's. (Assumption: WHOOP documents no day field.)
fn cycle_day(start_ms: i64, offset: i32) -> String {
    let local = chrono::DateTime::from_timestamp_millis(start_ms + i64::from(offset) * 1000);
    match local {
        Some(at) if chrono::Timelike::hour(&at) >= 12 => {
            (at.date_naive() + chrono::Duration::days(1)).to_string()
        }
        Some(at) => at.date_naive().to_string(),
        None => String::new(),
    }
}

/// Cycles: total energy of the physiological day. A cycle WHOOP has not scored (pending or
/// unscorable) is not data: what an earlier sync stored for it is retracted.
pub fn cycles(records: &[Value], request: &FetchRequest) -> HealthBatch {
    let mut batch = HealthBatch::default();
    for cycle in records {
        let (Some(id), Some(start)) = (
            text(cycle, "/id"),
            cycle
                .get("start")
                .and_then(Value::as_str)
                .and_then(instant_ms),
        ) else {
            continue;
        };
        let offset = offset_of(cycle);
        if !scored(cycle) {
            batch.retracted.push(Retraction::Summary {
                metric: Metric::TotalCalories,
                date: cycle_day(start, offset),
                record_id: format!("cycle-{id}"),
            });
            continue;
        }
        if let Some(kj) =
            number(cycle, "/score/kilojoule").filter(|_| request.wants(Metric::TotalCalories))
        {
            batch.summaries.push(DailySummary {
                metric: Metric::TotalCalories,
                date: cycle_day(start, offset),
                value: kcal_from_kj(kj),
                utc_offset_seconds: offset,
                origin: origin(format!("cycle-{id}")),
            });
        }
    }
    batch
}

/// Sleeps: a session each (stages from milliseconds), and the night's respiratory rate.
/// Returns the sessions' wake-up days by sleep id, for recoveries.
pub fn sleeps(
    records: &[Value],
    request: &FetchRequest,
) -> (HealthBatch, HashMap<String, (String, i32)>) {
    let mut batch = HealthBatch::default();
    let mut days = HashMap::new();
    for sleep in records {
        let (Some(id), Some(start), Some(end)) = (
            text(sleep, "/id"),
            sleep
                .get("start")
                .and_then(Value::as_str)
                .and_then(instant_ms),
            sleep
                .get("end")
                .and_then(Value::as_str)
                .and_then(instant_ms),
        ) else {
            continue;
        };
        let offset = offset_of(sleep);
        let date = local_date(end, offset);
        days.insert(id.clone(), (date.clone(), offset));
        if !scored(sleep) {
            batch.retracted.extend([
                Retraction::Session {
                    kind: SessionKind::Sleep,
                    record_id: id.clone(),
                },
                Retraction::Summary {
                    metric: Metric::RespiratoryRate,
                    date,
                    record_id: id,
                },
            ]);
            continue;
        }
        let stage = |name: &str| number(sleep, &format!("/score/stage_summary/{name}"));
        let totals = StageTotals {
            awake: seconds(stage("total_awake_time_milli")),
            light: seconds(stage("total_light_sleep_time_milli")),
            deep: seconds(stage("total_slow_wave_sleep_time_milli")),
            rem: seconds(stage("total_rem_sleep_time_milli")),
        };
        if request.wants_sessions(SessionKind::Sleep) {
            batch.sessions.push(Session {
                start_ms: start,
                end_ms: end,
                utc_offset_seconds: offset,
                date: date.clone(),
                duration_seconds: Some(totals.light + totals.deep + totals.rem),
                stage_seconds: Some(totals),
                score: number(sleep, "/score/sleep_performance_percentage"),
                ..Session::new(SessionKind::Sleep, origin(id.clone()))
            });
        }
        let naps = sleep.get("nap").and_then(Value::as_bool).unwrap_or(false);
        if let Some(rate) = number(sleep, "/score/respiratory_rate")
            .filter(|_| !naps && request.wants(Metric::RespiratoryRate))
        {
            batch.summaries.push(DailySummary {
                metric: Metric::RespiratoryRate,
                date,
                value: rate,
                utc_offset_seconds: offset,
                origin: origin(id),
            });
        }
    }
    (batch, days)
}

/// Recoveries: the morning's resting heart rate, HRV (RMSSD), SpO2 and skin temperature, on
/// the day of the sleep they score (or, without it, the day WHOOP wrote them).
pub fn recoveries(
    records: &[Value],
    sleep_days: &HashMap<String, (String, i32)>,
    request: &FetchRequest,
) -> HealthBatch {
    let mut batch = HealthBatch::default();
    for recovery in records {
        let Some(cycle) = text(recovery, "/cycle_id") else {
            continue;
        };
        let day = text(recovery, "/sleep_id")
            .and_then(|sleep| sleep_days.get(&sleep).cloned())
            .or_else(|| {
                let written = recovery
                    .get("created_at")
                    .and_then(Value::as_str)
                    .and_then(instant_ms)?;
                Some((local_date(written, 0), 0))
            });
        let Some((date, offset)) = day else {
            continue;
        };
        let fields = [
            (Metric::RestingHeartRate, "resting_heart_rate"),
            (Metric::HeartRateVariability, "hrv_rmssd_milli"),
            (Metric::BloodOxygen, "spo2_percentage"),
            (Metric::SkinTemperature, "skin_temp_celsius"),
        ];
        if !scored(recovery) {
            batch
                .retracted
                .extend(fields.iter().map(|(metric, _)| Retraction::Summary {
                    metric: *metric,
                    date: date.clone(),
                    record_id: format!("recovery-{cycle}"),
                }));
            continue;
        }
        for (metric, field) in fields {
            if let Some(value) =
                number(recovery, &format!("/score/{field}")).filter(|_| request.wants(metric))
            {
                batch.summaries.push(DailySummary {
                    metric,
                    date: date.clone(),
                    value: (value * 100.0).round() / 100.0,
                    utc_offset_seconds: offset,
                    origin: origin(format!("recovery-{cycle}")),
                });
            }
        }
    }
    batch
}

/// Workouts: sport, time, distance, energy (kJ → kcal) and heart rate. Only scored ones: a
/// pending or unscorable workout is retracted.
pub fn workouts(records: &[Value]) -> HealthBatch {
    let mut batch = HealthBatch::default();
    for workout in records {
        let (Some(id), Some(start), Some(end)) = (
            text(workout, "/id"),
            workout
                .get("start")
                .and_then(Value::as_str)
                .and_then(instant_ms),
            workout
                .get("end")
                .and_then(Value::as_str)
                .and_then(instant_ms),
        ) else {
            continue;
        };
        if !scored(workout) {
            batch.retracted.push(Retraction::Session {
                kind: SessionKind::Workout,
                record_id: id,
            });
            continue;
        }
        let offset = offset_of(workout);
        let score = |field: &str| number(workout, &format!("/score/{field}"));
        batch.sessions.push(Session {
            start_ms: start,
            end_ms: end,
            utc_offset_seconds: offset,
            date: local_date(start, offset),
            sport: text(workout, "/sport_name"),
            duration_seconds: Some((end - start) as f64 / 1000.0),
            distance_m: score("distance_meter"),
            energy_kcal: score("kilojoule").map(kcal_from_kj),
            heart_rate_avg: score("average_heart_rate"),
            heart_rate_max: score("max_heart_rate"),
            ..Session::new(SessionKind::Workout, origin(id))
        });
    }
    batch
}

/// The body measurement holds current values only: kept as one weigh-in per UTC day synced.
pub fn body(measurement: &Value, synced_to: Timestamp) -> Option<Measurement> {
    let weight = number(measurement, "/weight_kilogram")?;
    let day_start = synced_to.millis() - synced_to.millis().rem_euclid(86_400_000);
    let date = local_date(day_start, 0);
    Some(Measurement {
        metric: Metric::Weight,
        at_ms: day_start,
        utc_offset_seconds: 0,
        date: date.clone(),
        value: weight,
        secondary: None,
        origin: origin(format!("body-{date}")),
    })
}

/// What each collection needs granted, and the data types it brings.
const COLLECTIONS: [(&str, &str, &[DataType]); 4] = [
    (
        "/v2/cycle",
        "read:cycles",
        &[DataType::Metric(Metric::TotalCalories)],
    ),
    (
        "/v2/activity/sleep",
        "read:sleep",
        &[
            DataType::Session(SessionKind::Sleep),
            DataType::Metric(Metric::RespiratoryRate),
        ],
    ),
    (
        "/v2/recovery",
        "read:recovery",
        &[
            DataType::Metric(Metric::RestingHeartRate),
            DataType::Metric(Metric::HeartRateVariability),
            DataType::Metric(Metric::BloodOxygen),
            DataType::Metric(Metric::SkinTemperature),
        ],
    ),
    (
        "/v2/activity/workout",
        "read:workout",
        &[DataType::Session(SessionKind::Workout)],
    ),
];

pub async fn fetch(
    http: &reqwest::Client,
    settings: &ProviderSettings,
    token: &SecretString,
    request: &FetchRequest,
) -> Result<HealthBatch, FetchError> {
    let api = JsonApi::new(http, &settings.api_url, token, &request.budget);
    let window = [
        ("start", request.from.to_string()),
        ("end", request.to.to_string()),
        ("limit", PAGE.to_owned()),
    ];
    let mut batch = HealthBatch::default();
    let mut records: HashMap<&str, Vec<Value>> = HashMap::new();
    for (path, scope, types) in COLLECTIONS {
        let types = request.wanted(types);
        if types.is_empty() {
            continue;
        }
        let got = if request.granted(scope) {
            api.collection(path, &window, "records", "next_token", "nextToken")
                .await?
        } else {
            Got::Forbidden
        };
        match got {
            Got::Data(items) => {
                records.insert(path, items);
            }
            Got::Forbidden => batch.skipped.extend(types),
            Got::Missing => {}
        }
    }
    let empty = Vec::new();
    let list = |path: &str| records.get(path).unwrap_or(&empty);
    batch.extend(cycles(list("/v2/cycle"), request));
    let (sleep_batch, sleep_days) = sleeps(list("/v2/activity/sleep"), request);
    batch.extend(sleep_batch);
    batch.extend(recoveries(list("/v2/recovery"), &sleep_days, request));
    batch.extend(workouts(list("/v2/activity/workout")));
    if request.wants(Metric::Weight) {
        if !request.granted("read:body_measurement") {
            batch.skipped.push(DataType::Metric(Metric::Weight));
        } else {
            match api.get("/v2/user/measurement/body", &[]).await? {
                Got::Data(measurement) => batch.measurements.extend(body(&measurement, request.to)),
                Got::Forbidden => batch.skipped.push(DataType::Metric(Metric::Weight)),
                Got::Missing => {}
            }
        }
    }
    Ok(batch)
}
