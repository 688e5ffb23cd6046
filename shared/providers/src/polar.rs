//! Polar AccessLink v3: exercises, daily activity, sleep (with its hypnogram), nightly
//! recharge (HRV, breathing) and continuous heart rate, through the non-transactional
//! endpoints. History is short: exercises of the last 30 days, sleep and recharge lists of
//! the last 28 days, activity in ranges of at most 28 days within the last 365. Exercise
//! times are local with an offset in minutes; durations are ISO 8601 (`PT41M`). A 403 means
//! the user has not accepted Polar's consents: that data is skipped.

use crate::rest::{Got, JsonApi, instant_ms, number, offset_of_rfc3339, text};
use chrono::{Duration as Days, NaiveDate, NaiveDateTime, NaiveTime};
use secrecy::SecretString;
use serde_json::Value;
use std::collections::BTreeMap;
use vitasync_domain::health::{
    DailySummary, DataType, HealthBatch, Metric, Origin, SampleSeries, Session, SessionKind,
    SleepStage, StageSpan, StageTotals,
};
use vitasync_domain::providers::client::{FetchError, FetchRequest};
use vitasync_domain::providers::{ProviderId, ProviderSettings};

/// The longest range the activity list takes, and how far back it reaches.
const ACTIVITY_RANGE_DAYS: i64 = 28;
const ACTIVITY_HISTORY_DAYS: i64 = 365;

fn origin(record_id: String, source: Option<String>) -> Origin {
    Origin {
        provider: ProviderId::Polar,
        record_id,
        source,
    }
}

/// `PT1H2M3.5S` in seconds.
pub fn iso_duration(raw: &str) -> Option<f64> {
    let rest = raw.strip_prefix("PT")?;
    let mut seconds = 0.0;
    let mut number = String::new();
    for c in rest.chars() {
        match c {
            'H' | 'M' | 'S' => {
                let value: f64 = number.parse().ok()?;
                number.clear();
                seconds += value
                    * match c {
                        'H' => 3600.0,
                        'M' => 60.0,
                        _ => 1.0,
                    };
            }
            digit => number.push(digit),
        }
    }
    number.is_empty().then_some(seconds)
}

/// Local wall time and its offset in seconds → UTC ms.
fn local_to_utc(local: &str, offset: i32) -> Option<i64> {
    let time = NaiveDateTime::parse_from_str(local, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
    Some(time.and_utc().timestamp_millis() - i64::from(offset) * 1000)
}

/// Exercises: workouts at local time plus `start_time_utc_offset` minutes.
pub fn exercises(rows: &[Value]) -> Vec<Session> {
    let mut sessions = Vec::new();
    for row in rows {
        let (Some(id), Some(local), Some(minutes)) = (
            text(row, "/id"),
            text(row, "/start_time"),
            number(row, "/start_time_utc_offset"),
        ) else {
            continue;
        };
        let offset = (minutes * 60.0) as i32;
        let Some(start) = local_to_utc(&local, offset) else {
            continue;
        };
        let duration = text(row, "/duration").and_then(|d| iso_duration(&d));
        sessions.push(Session {
            start_ms: start,
            end_ms: start.saturating_add(duration.map_or(0, |d| (d * 1000.0) as i64)),
            utc_offset_seconds: offset,
            date: local.chars().take(10).collect(),
            sport: text(row, "/detailed_sport_info").or_else(|| text(row, "/sport")),
            duration_seconds: duration,
            distance_m: number(row, "/distance"),
            energy_kcal: number(row, "/calories"),
            heart_rate_avg: number(row, "/heart_rate/average"),
            heart_rate_max: number(row, "/heart_rate/maximum"),
            ..Session::new(SessionKind::Workout, origin(id, text(row, "/device")))
        });
    }
    sessions
}

/// The local date a daily activity covers: its `start_time` is the day's local midnight
/// (`2026-03-02T00:00`, seconds sometimes left out, no offset). The summary has no `date`.
fn activity_date(row: &Value) -> Option<String> {
    let start = text(row, "/start_time")?;
    let day = start.get(..10)?;
    NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .ok()
        .map(|date| date.to_string())
}

/// Daily activity summaries (`GET /v3/users/activities`, a bare array), dated by their local
/// `start_time`. Polar gives no offset: the day's is learnt from its sleep and exercises.
pub fn activities(rows: &[Value], request: &FetchRequest) -> HealthBatch {
    let mut batch = HealthBatch::default();
    for row in rows {
        let Some(date) = activity_date(row) else {
            continue;
        };
        let active_minutes = text(row, "/active_duration")
            .and_then(|d| iso_duration(&d))
            .map(|s| (s / 60.0).round());
        for (metric, value) in [
            (Metric::Steps, number(row, "/steps")),
            (Metric::TotalCalories, number(row, "/calories")),
            (Metric::ActiveCalories, number(row, "/active_calories")),
            (Metric::Distance, number(row, "/distance_from_steps")),
            (Metric::ActiveMinutes, active_minutes),
        ] {
            if let Some(value) = value.filter(|_| request.wants(metric)) {
                batch.summaries.push(DailySummary {
                    metric,
                    date: date.clone(),
                    value,
                    utc_offset_seconds: 0,
                    origin: origin(format!("activity-{date}"), None),
                });
            }
        }
    }
    batch
}

/// Polar's hypnogram codes: 0 wake, 1 REM, 2 and 3 light (N1, N2), 4 deep (N3), 5 unknown.
fn polar_stage(code: i64) -> Option<SleepStage> {
    match code {
        0 => Some(SleepStage::Awake),
        1 => Some(SleepStage::Rem),
        2 | 3 => Some(SleepStage::Light),
        4 => Some(SleepStage::Deep),
        _ => None,
    }
}

/// `"HH:mm"` keys of a night, in order from its start: times before the start's local time
/// are past midnight.
fn night_instants(
    keys: impl Iterator<Item = String>,
    start_ms: i64,
    offset: i32,
) -> Vec<(String, i64)> {
    let local_start = chrono::DateTime::from_timestamp_millis(start_ms + i64::from(offset) * 1000)
        .map(|at| at.naive_utc());
    let Some(local_start) = local_start else {
        return Vec::new();
    };
    let mut out: Vec<(String, i64)> = keys
        .filter_map(|key| {
            let time = NaiveTime::parse_from_str(&key, "%H:%M").ok()?;
            let mut date = local_start.date();
            if time < local_start.time() - Days::minutes(1) {
                date += Days::days(1);
            }
            let at = date.and_time(time).and_utc().timestamp_millis() - i64::from(offset) * 1000;
            Some((key, at))
        })
        .collect();
    out.sort_by_key(|(_, at)| *at);
    out
}

/// Sleeps: a session each, with stage totals and the hypnogram.
pub fn sleeps(nights: &[Value], request: &FetchRequest) -> HealthBatch {
    let mut batch = HealthBatch::default();
    if !request.wants_sessions(SessionKind::Sleep) {
        return batch;
    }
    for night in nights {
        let (Some(date), Some(start_raw), Some(end)) = (
            text(night, "/date"),
            night.get("sleep_start_time").and_then(Value::as_str),
            night
                .get("sleep_end_time")
                .and_then(Value::as_str)
                .and_then(instant_ms),
        ) else {
            continue;
        };
        let Some(start) = instant_ms(start_raw) else {
            continue;
        };
        let offset = offset_of_rfc3339(start_raw);
        let totals = StageTotals {
            awake: number(night, "/total_interruption_duration").unwrap_or(0.0),
            light: number(night, "/light_sleep").unwrap_or(0.0),
            deep: number(night, "/deep_sleep").unwrap_or(0.0),
            rem: number(night, "/rem_sleep").unwrap_or(0.0),
        };
        let hypnogram: BTreeMap<String, i64> = night
            .get("hypnogram")
            .and_then(Value::as_object)
            .map(|map| {
                map.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_i64()?)))
                    .collect()
            })
            .unwrap_or_default();
        let marks = night_instants(hypnogram.keys().cloned(), start, offset);
        let mut stages = Vec::new();
        for (index, (key, at)) in marks.iter().enumerate() {
            let until = marks.get(index + 1).map_or(end, |(_, next)| *next);
            if let Some(stage) = hypnogram.get(key).copied().and_then(polar_stage) {
                stages.push(StageSpan {
                    stage,
                    start_ms: *at,
                    end_ms: until,
                });
            }
        }
        batch.sessions.push(Session {
            start_ms: start,
            end_ms: end,
            utc_offset_seconds: offset,
            date: date.clone(),
            duration_seconds: Some(totals.light + totals.deep + totals.rem),
            stage_seconds: Some(totals),
            stages,
            score: number(night, "/sleep_score"),
            ..Session::new(
                SessionKind::Sleep,
                origin(format!("sleep-{date}"), text(night, "/device_id")),
            )
        });
    }
    batch
}

/// Nightly recharges: the night's HRV and breathing rate on its date.
pub fn recharges(
    rows: &[Value],
    offsets: &BTreeMap<String, i32>,
    request: &FetchRequest,
) -> HealthBatch {
    let mut batch = HealthBatch::default();
    for row in rows {
        let Some(date) = text(row, "/date") else {
            continue;
        };
        for (metric, value) in [
            (
                Metric::HeartRateVariability,
                number(row, "/heart_rate_variability_avg"),
            ),
            (Metric::RespiratoryRate, number(row, "/breathing_rate_avg")),
        ] {
            if let Some(value) = value.filter(|_| request.wants(metric)) {
                batch.summaries.push(DailySummary {
                    metric,
                    date: date.clone(),
                    value,
                    utc_offset_seconds: offsets.get(&date).copied().unwrap_or(0),
                    origin: origin(format!("recharge-{date}"), None),
                });
            }
        }
    }
    batch
}

/// A day's continuous heart rate: `sample_time` is device (local) time on `date`.
/// (Assumption: Polar gives no offset here; the day's offset from its sleep or exercises is
/// used, else UTC.)
pub fn continuous_heart_rate(day: &Value, offset: i32) -> Option<SampleSeries> {
    let date = NaiveDate::parse_from_str(&text(day, "/date")?, "%Y-%m-%d").ok()?;
    let points: Vec<(i64, f64)> = day
        .get("heart_rate_samples")?
        .as_array()?
        .iter()
        .filter_map(|sample| {
            let time =
                NaiveTime::parse_from_str(&text(sample, "/sample_time")?, "%H:%M:%S").ok()?;
            let at = date.and_time(time).and_utc().timestamp_millis() - i64::from(offset) * 1000;
            Some((at, number(sample, "/heart_rate")?))
        })
        .collect();
    (!points.is_empty()).then_some(SampleSeries {
        metric: Metric::HeartRate,
        points,
        utc_offset_seconds: offset,
        provider: ProviderId::Polar,
        source: None,
    })
}

fn day(at_ms: i64) -> NaiveDate {
    chrono::DateTime::from_timestamp_millis(at_ms).map_or(NaiveDate::MIN, |at| at.date_naive())
}

/// Fetches `path`; a 403 (consents not accepted) marks `types` skipped and yields nothing.
async fn fetch_list(
    api: &JsonApi<'_>,
    path: &str,
    query: &[(&str, String)],
    list: Option<&str>,
    types: &[DataType],
    batch: &mut HealthBatch,
) -> Result<Vec<Value>, FetchError> {
    match api.get(path, query).await? {
        Got::Data(Value::Array(rows)) => Ok(rows),
        Got::Data(body) => Ok(list
            .and_then(|name| body.get(name))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_else(|| {
                if list.is_none() {
                    vec![body]
                } else {
                    Vec::new()
                }
            })),
        Got::Forbidden => {
            batch.skipped.extend_from_slice(types);
            Ok(Vec::new())
        }
        Got::Missing => Ok(Vec::new()),
    }
}

pub async fn fetch(
    http: &reqwest::Client,
    settings: &ProviderSettings,
    token: &SecretString,
    request: &FetchRequest,
) -> Result<HealthBatch, FetchError> {
    let api = JsonApi::new(http, &settings.api_url, token, &request.budget);
    let mut batch = HealthBatch::default();
    let (from, to) = (request.from.millis(), request.to.millis());
    let in_window = |at: i64| (from..to).contains(&at);
    let workout = [DataType::Session(SessionKind::Workout)];
    let sleep = [DataType::Session(SessionKind::Sleep)];

    // Offsets by local date, learnt from sleeps and exercises, for data that carries none.
    let mut offsets: BTreeMap<String, i32> = BTreeMap::new();
    if request.wants_sessions(SessionKind::Workout) {
        let rows = fetch_list(&api, "/v3/exercises", &[], None, &workout, &mut batch).await?;
        for session in exercises(&rows)
            .into_iter()
            .filter(|s| in_window(s.start_ms))
        {
            offsets.insert(session.date.clone(), session.utc_offset_seconds);
            batch.sessions.push(session);
        }
    }
    if request.wants_sessions(SessionKind::Sleep) {
        let rows = fetch_list(
            &api,
            "/v3/users/sleep",
            &[],
            Some("nights"),
            &sleep,
            &mut batch,
        )
        .await?;
        let nights = sleeps(&rows, request);
        for session in nights.sessions.into_iter().filter(|s| in_window(s.end_ms)) {
            offsets.insert(session.date.clone(), session.utc_offset_seconds);
            batch.sessions.push(session);
        }
    }
    let recharge_types = [
        DataType::Metric(Metric::HeartRateVariability),
        DataType::Metric(Metric::RespiratoryRate),
    ];
    if recharge_types
        .iter()
        .any(|t| matches!(t, DataType::Metric(m) if request.wants(*m)))
    {
        let rows = fetch_list(
            &api,
            "/v3/users/nightly-recharge",
            &[],
            Some("recharges"),
            &recharge_types,
            &mut batch,
        )
        .await?;
        let (first, last) = (day(from).to_string(), day(to).to_string());
        let recent: Vec<Value> = rows
            .into_iter()
            .filter(|r| text(r, "/date").is_some_and(|d| first <= d && d <= last))
            .collect();
        batch.extend(recharges(&recent, &offsets, request));
    }
    let activity_metrics = [
        Metric::Steps,
        Metric::TotalCalories,
        Metric::ActiveCalories,
        Metric::Distance,
        Metric::ActiveMinutes,
    ];
    if activity_metrics.iter().any(|m| request.wants(*m)) {
        let today = day(to);
        let mut start = day(from).max(today - Days::days(ACTIVITY_HISTORY_DAYS));
        let types: Vec<DataType> = activity_metrics
            .iter()
            .map(|m| DataType::Metric(*m))
            .collect();
        while start <= today {
            let end = (start + Days::days(ACTIVITY_RANGE_DAYS - 1)).min(today);
            let query = [("from", start.to_string()), ("to", end.to_string())];
            let rows = fetch_list(
                &api,
                "/v3/users/activities",
                &query,
                None,
                &types,
                &mut batch,
            )
            .await?;
            let mut days = activities(&rows, request);
            for summary in &mut days.summaries {
                summary.utc_offset_seconds = offsets.get(&summary.date).copied().unwrap_or(0);
            }
            batch.extend(days);
            start = end + Days::days(1);
        }
    }
    if request.wants(Metric::HeartRate) {
        // The date-range form: days of samples under `heart_rates`, 28 days a call.
        let hr = [DataType::Metric(Metric::HeartRate)];
        let mut start = day(from);
        while start <= day(to) {
            let end = (start + Days::days(ACTIVITY_RANGE_DAYS - 1)).min(day(to));
            let query = [("from", start.to_string()), ("to", end.to_string())];
            let rows = fetch_list(
                &api,
                "/v3/users/continuous-heart-rate",
                &query,
                Some("heart_rates"),
                &hr,
                &mut batch,
            )
            .await?;
            for row in &rows {
                let offset = text(row, "/date")
                    .and_then(|date| offsets.get(&date).copied())
                    .unwrap_or(0);
                if let Some(mut series) = continuous_heart_rate(row, offset) {
                    series.points.retain(|(at, _)| in_window(*at));
                    batch.samples.push(series);
                }
            }
            if batch.skipped.contains(&hr[0]) {
                break;
            }
            start = end + Days::days(1);
        }
    }
    Ok(batch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activity_days_come_from_their_local_start_with_or_without_seconds() {
        let row = |start: &str| serde_json::json!({ "start_time": start, "steps": 1 });
        assert_eq!(
            activity_date(&row("2026-03-02T00:00")).as_deref(),
            Some("2026-03-02")
        );
        assert_eq!(
            activity_date(&row("2026-03-02T00:00:00")).as_deref(),
            Some("2026-03-02")
        );
        assert_eq!(activity_date(&row("yesterday")), None);
        assert_eq!(
            activity_date(&serde_json::json!({ "date": "2026-03-02" })),
            None
        );
    }

    #[test]
    fn iso_durations_read_in_seconds() {
        assert_eq!(iso_duration("PT41M"), Some(2460.0));
        assert_eq!(iso_duration("PT1H2M3.5S"), Some(3723.5));
        assert_eq!(iso_duration("P1D"), None);
        assert_eq!(iso_duration("PT5X"), None);
    }
}
