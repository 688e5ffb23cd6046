//! Oura (API v2): daily activity, daily readiness (temperature deviation), sleep periods
//! (stages, HRV, breathing), 5-minute heart rate, workouts and daily SpO2. Collections page
//! with `next_token`; day collections take local `start_date`/`end_date`, heart rate takes
//! instants; timestamps carry the user's offset. A 403 is a scope the user deselected.

use crate::rest::{Got, JsonApi, instant_ms, local_date, number, offset_of_rfc3339, text};
use secrecy::SecretString;
use serde_json::Value;
use vitasync_domain::health::{
    DailySummary, DataType, HealthBatch, Metric, Origin, Retraction, SampleSeries, Session,
    SessionKind, SleepStage, StageSpan, StageTotals,
};
use vitasync_domain::providers::client::{FetchError, FetchRequest};
use vitasync_domain::providers::{ProviderId, ProviderSettings};

/// Sleep phases are given every 5 minutes.
const PHASE_MS: i64 = 300_000;

fn origin(record_id: String) -> Origin {
    Origin {
        provider: ProviderId::Oura,
        record_id,
        source: Some("Oura Ring".into()),
    }
}

/// The UTC offset written in an ISO timestamp (`…+01:00`).
fn day_offset(record: &Value) -> i32 {
    record
        .get("timestamp")
        .and_then(Value::as_str)
        .map_or(0, offset_of_rfc3339)
}

/// `daily_activity`: the day's totals.
pub fn daily_activity(days: &[Value], request: &FetchRequest) -> HealthBatch {
    let mut batch = HealthBatch::default();
    for day in days {
        let (Some(id), Some(date)) = (text(day, "/id"), text(day, "/day")) else {
            continue;
        };
        let offset = day_offset(day);
        let active_minutes = match (
            number(day, "/medium_activity_time"),
            number(day, "/high_activity_time"),
        ) {
            (None, None) => None,
            (medium, high) => Some(((medium.unwrap_or(0.0) + high.unwrap_or(0.0)) / 60.0).round()),
        };
        for (metric, value) in [
            (Metric::Steps, number(day, "/steps")),
            (Metric::ActiveCalories, number(day, "/active_calories")),
            (Metric::TotalCalories, number(day, "/total_calories")),
            (
                Metric::Distance,
                number(day, "/equivalent_walking_distance"),
            ),
            (Metric::ActiveMinutes, active_minutes),
        ] {
            if let Some(value) = value.filter(|_| request.wants(metric)) {
                batch.summaries.push(DailySummary {
                    metric,
                    date: date.clone(),
                    value,
                    utc_offset_seconds: offset,
                    origin: origin(id.clone()),
                });
            }
        }
    }
    batch
}

/// `daily_readiness`: the body temperature's deviation from the user's baseline, in °C.
pub fn daily_readiness(days: &[Value], request: &FetchRequest) -> HealthBatch {
    let mut batch = HealthBatch::default();
    if !request.wants(Metric::TemperatureDeviation) {
        return batch;
    }
    for day in days {
        if let (Some(id), Some(date), Some(deviation)) = (
            text(day, "/id"),
            text(day, "/day"),
            number(day, "/temperature_deviation"),
        ) {
            batch.summaries.push(DailySummary {
                metric: Metric::TemperatureDeviation,
                date,
                value: deviation,
                utc_offset_seconds: day_offset(day),
                origin: origin(id),
            });
        }
    }
    batch
}

/// `sleep_phase_5_min`: 1 deep, 2 light, 3 REM, 4 awake, one digit per 5 minutes from bedtime.
fn hypnogram(phases: &str, start_ms: i64) -> Vec<StageSpan> {
    let mut spans: Vec<StageSpan> = Vec::new();
    for (index, phase) in phases.chars().enumerate() {
        let stage = match phase {
            '1' => SleepStage::Deep,
            '2' => SleepStage::Light,
            '3' => SleepStage::Rem,
            '4' => SleepStage::Awake,
            _ => continue,
        };
        let from = start_ms + index as i64 * PHASE_MS;
        match spans.last_mut() {
            Some(last) if last.stage == stage && last.end_ms == from => {
                last.end_ms = from + PHASE_MS
            }
            _ => spans.push(StageSpan {
                stage,
                start_ms: from,
                end_ms: from + PHASE_MS,
            }),
        }
    }
    spans
}

/// What a night's main sleep gives its day.
const MAIN_SLEEP_METRICS: [Metric; 3] = [
    Metric::RespiratoryRate,
    Metric::HeartRateVariability,
    Metric::RestingHeartRate,
];

/// `sleep` periods: a session each; the main sleep's breathing, HRV and lowest heart rate are
/// the day's respiratory rate, HRV and resting heart rate.
pub fn sleeps(periods: &[Value], request: &FetchRequest) -> HealthBatch {
    let mut batch = HealthBatch::default();
    for period in periods {
        let kind = period.get("type").and_then(Value::as_str);
        // `deleted`: removed by the user; `rest`: a detection the user rejected. Not sleep.
        if matches!(kind, Some("deleted" | "rest")) {
            if let Some(id) = text(period, "/id") {
                batch.retracted.push(Retraction::Session {
                    kind: SessionKind::Sleep,
                    record_id: id.clone(),
                });
                if let Some(day) = text(period, "/day") {
                    batch
                        .retracted
                        .extend(MAIN_SLEEP_METRICS.iter().map(|metric| Retraction::Summary {
                            metric: *metric,
                            date: day.clone(),
                            record_id: id.clone(),
                        }));
                }
            }
            continue;
        }
        let (Some(id), Some(day), Some(start_raw), Some(end)) = (
            text(period, "/id"),
            text(period, "/day"),
            period.get("bedtime_start").and_then(Value::as_str),
            period
                .get("bedtime_end")
                .and_then(Value::as_str)
                .and_then(instant_ms),
        ) else {
            continue;
        };
        let Some(start) = instant_ms(start_raw) else {
            continue;
        };
        let offset = offset_of_rfc3339(start_raw);
        if request.wants_sessions(SessionKind::Sleep) {
            batch.sessions.push(Session {
                start_ms: start,
                end_ms: end,
                utc_offset_seconds: offset,
                date: day.clone(),
                duration_seconds: number(period, "/total_sleep_duration"),
                heart_rate_avg: number(period, "/average_heart_rate"),
                heart_rate_min: number(period, "/lowest_heart_rate"),
                stage_seconds: Some(StageTotals {
                    awake: number(period, "/awake_time").unwrap_or(0.0),
                    light: number(period, "/light_sleep_duration").unwrap_or(0.0),
                    deep: number(period, "/deep_sleep_duration").unwrap_or(0.0),
                    rem: number(period, "/rem_sleep_duration").unwrap_or(0.0),
                }),
                stages: period
                    .get("sleep_phase_5_min")
                    .and_then(Value::as_str)
                    .map(|phases| hypnogram(phases, start))
                    .unwrap_or_default(),
                ..Session::new(SessionKind::Sleep, origin(id.clone()))
            });
        }
        let main = period.get("type").and_then(Value::as_str) == Some("long_sleep");
        if !main {
            continue;
        }
        for (metric, value) in [
            (Metric::RespiratoryRate, number(period, "/average_breath")),
            (Metric::HeartRateVariability, number(period, "/average_hrv")),
            (
                Metric::RestingHeartRate,
                number(period, "/lowest_heart_rate"),
            ),
        ] {
            if let Some(value) = value.filter(|_| request.wants(metric)) {
                batch.summaries.push(DailySummary {
                    metric,
                    date: day.clone(),
                    value,
                    utc_offset_seconds: offset,
                    origin: origin(id.clone()),
                });
            }
        }
    }
    batch
}

/// Where the user's offset is known from: each `(UTC ms, offset)` an Oura record written in
/// local time gives (a day's 4 a.m. start, a night's bedtime). Sorted by instant.
#[derive(Debug, Default)]
pub struct OffsetTimeline(Vec<(i64, i32)>);

impl OffsetTimeline {
    /// Learns from the local timestamps in `rows` (`timestamp`, `bedtime_start`, `bedtime_end`).
    pub fn learn(&mut self, rows: &[Value]) {
        for row in rows {
            for field in ["timestamp", "bedtime_start", "bedtime_end"] {
                if let Some(raw) = row.get(field).and_then(Value::as_str)
                    && let Some(at) = instant_ms(raw)
                {
                    self.0.push((at, offset_of_rfc3339(raw)));
                }
            }
        }
        self.0.sort_unstable();
        self.0.dedup();
    }

    /// The offset in force at `at`: the latest one learnt at or before it (the earliest when
    /// nothing came before), 0 when nothing was learnt.
    pub fn at(&self, at: i64) -> i32 {
        let after = self.0.partition_point(|(from, _)| *from <= at);
        after
            .checked_sub(1)
            .and_then(|index| self.0.get(index))
            .or_else(|| self.0.first())
            .map_or(0, |(_, offset)| *offset)
    }
}

/// `heartrate`: 5-minute (and workout) samples. Their timestamps are UTC; each takes the
/// offset the user's other records show in force at its instant.
pub fn heart_rate(rows: &[Value], offsets: &OffsetTimeline) -> Vec<SampleSeries> {
    let mut points: Vec<(i64, f64, i32)> = rows
        .iter()
        .filter_map(|row| {
            let at = row
                .get("timestamp")
                .and_then(Value::as_str)
                .and_then(instant_ms)
                .or_else(|| row.get("timestamp_unix").and_then(Value::as_i64))?;
            Some((at, number(row, "/bpm")?, offsets.at(at)))
        })
        .collect();
    points.sort_by_key(|(at, _, _)| *at);
    let mut series = SampleSeries::by_offset(Metric::HeartRate, ProviderId::Oura, points);
    for one in &mut series {
        one.source = Some("Oura Ring".into());
    }
    series
}

/// `workout`s: activity, times, distance, energy.
pub fn workouts(rows: &[Value]) -> Vec<Session> {
    let mut sessions = Vec::new();
    for row in rows {
        let (Some(id), Some(start_raw), Some(end)) = (
            text(row, "/id"),
            row.get("start_datetime").and_then(Value::as_str),
            row.get("end_datetime")
                .and_then(Value::as_str)
                .and_then(instant_ms),
        ) else {
            continue;
        };
        let Some(start) = instant_ms(start_raw) else {
            continue;
        };
        let offset = offset_of_rfc3339(start_raw);
        sessions.push(Session {
            start_ms: start,
            end_ms: end,
            utc_offset_seconds: offset,
            date: text(row, "/day").unwrap_or_else(|| local_date(start, offset)),
            sport: text(row, "/activity"),
            duration_seconds: Some((end - start) as f64 / 1000.0),
            distance_m: number(row, "/distance"),
            energy_kcal: number(row, "/calories"),
            ..Session::new(SessionKind::Workout, origin(id))
        });
    }
    sessions
}

/// `daily_spo2`: the night's average SpO2.
pub fn daily_spo2(days: &[Value], request: &FetchRequest) -> HealthBatch {
    let mut batch = HealthBatch::default();
    for day in days.iter().filter(|_| request.wants(Metric::BloodOxygen)) {
        if let (Some(id), Some(date), Some(value)) = (
            text(day, "/id"),
            text(day, "/day"),
            number(day, "/spo2_percentage/average"),
        ) {
            batch.summaries.push(DailySummary {
                metric: Metric::BloodOxygen,
                date,
                value,
                utc_offset_seconds: 0,
                origin: origin(id),
            });
        }
    }
    batch
}

/// Each collection, the scope Oura files it under, and the data types it brings.
const COLLECTIONS: [(&str, &str, &[DataType]); 6] = [
    (
        "daily_activity",
        "daily",
        &[
            DataType::Metric(Metric::Steps),
            DataType::Metric(Metric::ActiveCalories),
            DataType::Metric(Metric::TotalCalories),
            DataType::Metric(Metric::Distance),
            DataType::Metric(Metric::ActiveMinutes),
        ],
    ),
    (
        "daily_readiness",
        "daily",
        &[DataType::Metric(Metric::TemperatureDeviation)],
    ),
    (
        "sleep",
        "daily",
        &[
            DataType::Session(SessionKind::Sleep),
            DataType::Metric(Metric::RespiratoryRate),
            DataType::Metric(Metric::HeartRateVariability),
            DataType::Metric(Metric::RestingHeartRate),
        ],
    ),
    (
        "workout",
        "workout",
        &[DataType::Session(SessionKind::Workout)],
    ),
    (
        "daily_spo2",
        "spo2Daily",
        &[DataType::Metric(Metric::BloodOxygen)],
    ),
    (
        "heartrate",
        "heartrate",
        &[DataType::Metric(Metric::HeartRate)],
    ),
];

pub async fn fetch(
    http: &reqwest::Client,
    settings: &ProviderSettings,
    token: &SecretString,
    request: &FetchRequest,
) -> Result<HealthBatch, FetchError> {
    let api = JsonApi::new(http, &settings.api_url, token, &request.budget);
    // Day collections take local dates: a day either side keeps every zone in.
    let day = |at: vitasync_domain::kernel::time::Timestamp, shift: i64| {
        local_date(at.millis() + shift * 86_400_000, 0)
    };
    let days = [
        ("start_date", day(request.from, -1)),
        ("end_date", day(request.to, 1)),
    ];
    let instants = [
        ("start_datetime", request.from.to_string()),
        ("end_datetime", request.to.to_string()),
    ];
    let mut batch = HealthBatch::default();
    let mut offsets = OffsetTimeline::default();
    for (collection, scope, types) in COLLECTIONS {
        let types = request.wanted(types);
        // Heart rate carries no offset: the days' and nights' records tell it, even when only
        // heart rate is asked for (so every sync gives a sample the same offset).
        let for_offsets_only = types.is_empty()
            && matches!(collection, "daily_activity" | "sleep")
            && request.wants(Metric::HeartRate);
        if types.is_empty() && !for_offsets_only {
            continue;
        }
        let query: &[(&str, String)] = if collection == "heartrate" {
            &instants
        } else {
            &days
        };
        let got = if request.granted(scope) {
            api.collection(
                &format!("/v2/usercollection/{collection}"),
                query,
                "data",
                "next_token",
                "next_token",
            )
            .await?
        } else {
            Got::Forbidden
        };
        let rows = match got {
            Got::Data(rows) => rows,
            Got::Forbidden => {
                batch.skipped.extend(types);
                continue;
            }
            Got::Missing => Vec::new(),
        };
        // The days' and nights' offsets serve the heart-rate series, whose own timestamps
        // are UTC.
        if collection != "heartrate" {
            offsets.learn(&rows);
        }
        if for_offsets_only {
            continue;
        }
        match collection {
            "daily_activity" => batch.extend(daily_activity(&rows, request)),
            "daily_readiness" => batch.extend(daily_readiness(&rows, request)),
            "sleep" => batch.extend(sleeps(&rows, request)),
            "workout" => batch.sessions.extend(workouts(&rows)),
            "daily_spo2" => batch.extend(daily_spo2(&rows, request)),
            _ => batch.samples.extend(heart_rate(&rows, &offsets)),
        }
    }
    Ok(batch)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn heart_rate_takes_the_offset_in_force_at_each_sample() {
        // Berlin days either side of the change on 29 March 2026 (Oura days start at 4 a.m.).
        let days = [
            serde_json::json!({"timestamp": "2026-03-28T04:00:00.000+01:00"}),
            serde_json::json!({"timestamp": "2026-03-29T04:00:00.000+02:00"}),
        ];
        let mut offsets = OffsetTimeline::default();
        offsets.learn(&days);
        let rows = [
            serde_json::json!({"bpm": 52, "source": "rest", "timestamp": "2026-03-28T22:00:00+00:00"}),
            serde_json::json!({"bpm": 55, "source": "awake", "timestamp": "2026-03-29T09:00:00+00:00"}),
        ];
        let series = heart_rate(&rows, &offsets);
        let found: Vec<i32> = series.iter().map(|s| s.utc_offset_seconds).collect();
        assert_eq!(found, vec![3600, 7200]);
        let unknown = heart_rate(&rows, &OffsetTimeline::default());
        assert_eq!(unknown[0].utc_offset_seconds, 0);
    }
}
