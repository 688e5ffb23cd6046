//! Ultrahuman Partner API (Ring AIR and M1 CGM). One call per local day of the user
//! (`/user_data/metrics?date=YYYY-MM-DD`) answers a list of `{type, object}` metrics: ~5-minute
//! series (heart rate, HRV, skin temperature, glucose), the day's scalars and the night's
//! `Sleep`. Every timestamp is in epoch seconds with no offset: the user's zone (`user_info`)
//! gives the local dates asked for and the offset in force at each instant. A 403, often with
//! an empty body, means an account without a ring or an app not yet enabled for data.

use crate::rest::{Got, JsonApi, number, offset_at, offset_on};
use chrono::{NaiveDate, TimeZone};
use chrono_tz::Tz;
use secrecy::SecretString;
use serde_json::Value;
use vitasync_domain::health::{
    DailySummary, DataType, HealthBatch, Metric, Origin, Retraction, SampleSeries, Session,
    SessionKind, StageTotals, glucose_mmol_l,
};
use vitasync_domain::kernel::time::millis_of_seconds;
use vitasync_domain::providers::client::{FetchError, FetchRequest};
use vitasync_domain::providers::{ProviderId, ProviderSettings};

const USER_INFO: &str = "/api/partners/v1/user_data/user_info";
const METRICS: &str = "/api/partners/v1/user_data/metrics";

const RING: &str = "Ultrahuman Ring AIR";
const CGM: &str = "Ultrahuman M1";

/// What the ring gives (scope `ring_data`).
const RING_TYPES: [DataType; 11] = [
    DataType::Metric(Metric::HeartRate),
    DataType::Metric(Metric::HeartRateVariability),
    DataType::Metric(Metric::SkinTemperature),
    DataType::Metric(Metric::Steps),
    DataType::Metric(Metric::ActiveMinutes),
    DataType::Metric(Metric::RestingHeartRate),
    DataType::Metric(Metric::BloodOxygen),
    DataType::Metric(Metric::Vo2Max),
    DataType::Metric(Metric::RecoveryScore),
    DataType::Metric(Metric::TemperatureDeviation),
    DataType::Session(SessionKind::Sleep),
];

/// What the M1 CGM gives (scope `cgm_data`), on the same endpoint.
const CGM_TYPES: [DataType; 1] = [DataType::Metric(Metric::Glucose)];

/// Series objects (`values: [{value, timestamp}]`) stored as samples.
const SERIES: [(&str, Metric); 4] = [
    ("hr", Metric::HeartRate),
    ("hrv", Metric::HeartRateVariability),
    ("temp", Metric::SkinTemperature),
    ("glucose", Metric::Glucose),
];

/// Each day's value and where it is read, in order of preference: `(type, field)`. The record
/// id names the type the value came from.
const DAILY: [(Metric, &[(&str, &str)]); 8] = [
    (Metric::Steps, &[("steps", "/total")]),
    (Metric::ActiveMinutes, &[("active_minutes", "/value")]),
    // `night_rhr` ("Resting HR", averaged over the sleep) is the overnight resting rate the app
    // shows; the scalar `sleep_rhr` only stands in when it is missing.
    (
        Metric::RestingHeartRate,
        &[
            ("night_rhr", "/avg"),
            ("sleep_rhr", "/value"),
            ("sleep_rhr", "/avg"),
        ],
    ),
    // The night's HRV (`avg_sleep_hrv`); the personal-token API has only the series' average.
    (
        Metric::HeartRateVariability,
        &[("avg_sleep_hrv", "/value"), ("hrv", "/avg")],
    ),
    (Metric::BloodOxygen, &[("spo2", "/avg"), ("spo2", "/value")]),
    (Metric::Vo2Max, &[("vo2_max", "/value")]),
    (Metric::RecoveryScore, &[("recovery_index", "/value")]),
    // Signed °C against the user's baseline, nested in the personal-token API's sleep.
    (
        Metric::TemperatureDeviation,
        &[
            ("sleep", "/temperature_deviation/celsius"),
            ("sleep", "/temperature_deviation"),
        ],
    ),
];

fn origin(record_id: String, source: &str) -> Origin {
    Origin {
        provider: ProviderId::Ultrahuman,
        record_id,
        source: Some(source.to_owned()),
    }
}

/// The profile in a `user_info` reply: bare, or wrapped in `data` like the metrics replies.
fn profile(user_info: &Value) -> &Value {
    match user_info.get("data") {
        Some(inner) if inner.is_object() => inner,
        _ => user_info,
    }
}

/// The user's id in a `user_info` reply (a number in the documented samples).
pub fn account_id(user_info: &Value) -> Option<String> {
    let profile = profile(user_info);
    ["user_id", "id"]
        .into_iter()
        .find_map(|field| match profile.get(field)? {
            Value::String(id) if !id.trim().is_empty() => Some(id.trim().to_owned()),
            Value::Number(id) => Some(id.to_string()),
            _ => None,
        })
}

/// The user's IANA zone in a `user_info` reply, when it names one VitaSync knows.
pub fn time_zone(user_info: &Value) -> Option<String> {
    let profile = profile(user_info);
    ["time_zone", "timezone"]
        .into_iter()
        .filter_map(|field| profile.get(field).and_then(Value::as_str))
        .find(|name| name.parse::<Tz>().is_ok())
        .map(str::to_owned)
}

/// The zone a personal-token reply names (`data.latest_time_zone`).
fn reply_zone(body: &Value) -> Option<String> {
    body.pointer("/data/latest_time_zone")
        .and_then(Value::as_str)
        .filter(|name| name.parse::<Tz>().is_ok())
        .map(str::to_owned)
}

/// Every local date in `zone` that the instants `[from_ms, to_ms)` touch, in order.
pub fn local_dates(zone: Tz, from_ms: i64, to_ms: i64) -> Vec<String> {
    if to_ms <= from_ms {
        return Vec::new();
    }
    let date_of = |at_ms: i64| {
        zone.timestamp_millis_opt(at_ms)
            .single()
            .map(|at| at.date_naive())
    };
    let (Some(first), Some(last)) = (date_of(from_ms), date_of(to_ms - 1)) else {
        return Vec::new();
    };
    first
        .iter_days()
        .take_while(|day| *day <= last)
        .map(|day| day.to_string())
        .collect()
}

/// An epoch-seconds field as UTC milliseconds, when VitaSync can hold the instant.
fn epoch_ms(value: &Value, pointer: &str) -> Option<i64> {
    let raw = value.pointer(pointer)?;
    let seconds = match raw.as_i64() {
        Some(seconds) => seconds,
        None => raw.as_f64().filter(|seconds| seconds.is_finite())?.round() as i64,
    };
    millis_of_seconds(seconds)
}

/// The days of a metrics reply, each with its `{type, object}` entries. The OAuth API's
/// `data.metric_data` is the day asked for; the personal-token API keys its days by date
/// (`data.metrics`).
pub fn days_of<'a>(body: &'a Value, asked: &'a str) -> Vec<(&'a str, &'a [Value])> {
    let data = body.get("data").unwrap_or(body);
    if let Some(entries) = data.get("metric_data").and_then(Value::as_array) {
        return vec![(asked, entries.as_slice())];
    }
    data.get("metrics")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(date, _)| NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok())
        .filter_map(|(date, entries)| Some((date.as_str(), entries.as_array()?.as_slice())))
        .collect()
}

/// A day's metric object of `kind`: `Sleep` (OAuth API) and `sleep` (personal-token API) are
/// one. A `null` object (CGM metrics of a user without an M1) is no data.
fn object_of<'a>(entries: &'a [Value], kind: &str) -> Option<&'a Value> {
    entries
        .iter()
        .filter(|entry| {
            entry
                .get("type")
                .and_then(Value::as_str)
                .is_some_and(|name| name.eq_ignore_ascii_case(kind))
        })
        .filter_map(|entry| entry.get("object"))
        .find(|object| object.is_object())
}

/// Whether a day's value can be a reading: a zero heart rate, HRV, SpO2 or VO2max is none.
fn plausible(metric: Metric, value: f64) -> bool {
    match metric {
        Metric::Steps | Metric::ActiveMinutes | Metric::RecoveryScore => value >= 0.0,
        Metric::TemperatureDeviation => value.is_finite(),
        _ => value > 0.0,
    }
}

/// A series object's readings in `[from_ms, to_ms)`, each at the offset in force at its
/// instant (a DST change inside the day or night splits the series).
fn series(
    object: &Value,
    metric: Metric,
    zone: Tz,
    (from_ms, to_ms): (i64, i64),
) -> Vec<SampleSeries> {
    // The M1 reports mg/dL; a reply that says mmol/L is kept as it is.
    let in_mmol = object
        .get("unit")
        .and_then(Value::as_str)
        .is_some_and(|unit| unit.to_ascii_lowercase().contains("mmol"));
    let mut points: Vec<(i64, f64, i32)> = object
        .get("values")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|reading| {
            let at = epoch_ms(reading, "/timestamp")?;
            // An empty bucket comes as 0 (or null): no reading.
            let value = number(reading, "/value").filter(|value| *value > 0.0)?;
            let value = if metric == Metric::Glucose && !in_mmol {
                glucose_mmol_l(value)
            } else {
                value
            };
            Some((at, value, offset_at(zone, at)))
        })
        .filter(|(at, _, _)| (from_ms..to_ms).contains(at))
        .collect();
    points.sort_by_key(|(at, _, _)| *at);
    let source = if metric == Metric::Glucose { CGM } else { RING };
    let mut out = SampleSeries::by_offset(metric, ProviderId::Ultrahuman, points);
    for one in &mut out {
        one.source = Some(source.to_owned());
    }
    out
}

/// A `Sleep` quick metric by its type or, where the type is not known, its title.
fn quick_metric(sleep: &Value, kind: &str, title: &str) -> Option<f64> {
    sleep
        .get("quick_metrics")?
        .as_array()?
        .iter()
        .find(|metric| {
            metric.get("type").and_then(Value::as_str) == Some(kind)
                || metric
                    .get("title")
                    .and_then(Value::as_str)
                    .is_some_and(|name| name.eq_ignore_ascii_case(title))
        })
        .and_then(|metric| number(metric, "/value"))
}

/// The night ending on `date` (its wake-up day), at the offset in force at bedtime. Stage
/// totals are seconds (`sleep_stages[].stage_time`), or minutes in the personal-token API.
/// A night the ring could not score (zero bedtimes, zero stages, no sleep) is not data.
pub fn sleep(object: &Value, date: &str, zone: Tz) -> Option<Session> {
    let start = epoch_ms(object, "/bedtime_start").filter(|start| *start > 0)?;
    let end = epoch_ms(object, "/bedtime_end")?;
    if end <= start {
        return None;
    }
    let stage = |name: &str| {
        object
            .get("sleep_stages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|entry| entry.get("type").and_then(Value::as_str) == Some(name))
            .and_then(|entry| number(entry, "/stage_time"))
            .or_else(|| number(object, &format!("/{name}/minutes")).map(|minutes| minutes * 60.0))
            .filter(|seconds| *seconds > 0.0)
    };
    let (awake, light, deep, rem) = (
        stage("awake"),
        stage("light_sleep"),
        stage("deep_sleep"),
        stage("rem_sleep"),
    );
    let any_stage = awake.is_some() || light.is_some() || deep.is_some() || rem.is_some();
    let stage_seconds = any_stage.then(|| StageTotals {
        awake: awake.unwrap_or(0.0),
        light: light.unwrap_or(0.0),
        deep: deep.unwrap_or(0.0),
        rem: rem.unwrap_or(0.0),
    });
    let asleep = quick_metric(object, "total_sleep", "TOTAL SLEEP")
        .or_else(|| number(object, "/total_sleep/minutes").map(|minutes| minutes * 60.0))
        .filter(|seconds| *seconds > 0.0)
        .or_else(|| {
            stage_seconds
                .as_ref()
                .map(|stages| stages.light + stages.deep + stages.rem)
                .filter(|seconds| *seconds > 0.0)
        });
    asleep?;
    Some(Session {
        start_ms: start,
        end_ms: end,
        utc_offset_seconds: offset_at(zone, start),
        date: date.to_owned(),
        duration_seconds: asleep,
        heart_rate_avg: quick_metric(object, "avg_hr", "AVG HEART RATE").filter(|bpm| *bpm > 0.0),
        stage_seconds,
        score: number(object, "/score").or_else(|| number(object, "/sleep_score/score")),
        ..Session::new(SessionKind::Sleep, origin(format!("sleep:{date}"), RING))
    })
}

/// One local day's metrics (`date` in `zone`) as records. Daily values are keyed by day and
/// type, so the revisions Ultrahuman makes after the night closes replace what was stored;
/// samples outside the request's window are left to the sync that asks for them.
pub fn day(date: &str, entries: &[Value], zone: Tz, request: &FetchRequest) -> HealthBatch {
    let mut batch = HealthBatch::default();
    let window = (request.from.millis(), request.to.millis());
    for (kind, metric) in SERIES {
        if let Some(object) = object_of(entries, kind).filter(|_| request.wants(metric)) {
            batch.samples.extend(series(object, metric, zone, window));
        }
    }
    let day_offset = offset_on(zone, date);
    for (metric, sources) in DAILY {
        if !request.wants(metric) {
            continue;
        }
        let found = sources.iter().find_map(|(kind, field)| {
            let value = number(object_of(entries, kind)?, field)?;
            plausible(metric, value).then_some((*kind, value))
        });
        if let Some((kind, value)) = found {
            batch.summaries.push(DailySummary {
                metric,
                date: date.to_owned(),
                value,
                utc_offset_seconds: day_offset,
                origin: origin(format!("{kind}:{date}"), RING),
            });
        }
    }
    let night_object = object_of(entries, "sleep");
    let night = night_object
        .and_then(|object| sleep(object, date, zone))
        .map(|mut night| {
            // The day's `sleep_score` scalar when the night's object carries none.
            night.score = night.score.or_else(|| {
                object_of(entries, "sleep_score")
                    .and_then(|score| number(score, "/value"))
                    .filter(|score| *score > 0.0)
            });
            night
        });
    if request.wants_sessions(SessionKind::Sleep) {
        match night {
            Some(night) => batch.sessions.push(night),
            // A night the ring could not score: whatever was stored for it before goes.
            None if night_object.is_some() => batch.retracted.push(Retraction::Session {
                kind: SessionKind::Sleep,
                record_id: format!("sleep:{date}"),
            }),
            None => {}
        }
    }
    batch
}

pub async fn fetch(
    http: &reqwest::Client,
    settings: &ProviderSettings,
    token: &SecretString,
    request: &FetchRequest,
) -> Result<HealthBatch, FetchError> {
    let mut batch = HealthBatch::default();
    let mut wanted = Vec::new();
    for (scope, types) in [("ring_data", &RING_TYPES[..]), ("cgm_data", &CGM_TYPES[..])] {
        let types = request.wanted(types);
        if request.granted(scope) {
            wanted.extend(types);
        } else {
            batch.skipped.extend(types);
        }
    }
    if wanted.is_empty() {
        return Ok(batch);
    }
    let api = JsonApi::new(http, &settings.api_url, token, &request.budget);
    // The zone decides which days to ask for and every offset: the profile's, else the one
    // last learnt for the account, else UTC.
    if request.granted("profile")
        && let Got::Data(info) = api.get(USER_INFO, &[]).await?
    {
        batch.time_zone = time_zone(&info);
    }
    let known = |name: Option<&str>| name.and_then(|name| name.parse::<Tz>().ok());
    let zone = known(batch.time_zone.as_deref())
        .or_else(|| known(request.time_zone.as_deref()))
        .unwrap_or(Tz::UTC);
    // Every day is asked for again: values are revised after the night closes.
    for date in local_dates(zone, request.from.millis(), request.to.millis()) {
        let body = match api.get(METRICS, &[("date", date.clone())]).await? {
            Got::Data(body) => body,
            Got::Missing => continue,
            Got::Forbidden => {
                batch.skipped.extend(wanted.iter().copied());
                break;
            }
        };
        if batch.time_zone.is_none() {
            batch.time_zone = reply_zone(&body);
        }
        let zone = batch
            .time_zone
            .as_deref()
            .and_then(|name| name.parse::<Tz>().ok())
            .unwrap_or(zone);
        for (reply_date, entries) in days_of(&body, &date) {
            batch.extend(day(reply_date, entries, zone, request));
        }
    }
    // What a scope the user withheld would bring is not kept.
    batch.retain_types(&wanted);
    Ok(batch)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;
    use vitasync_domain::kernel::time::Timestamp;

    const CET: i32 = 3600;
    const CEST: i32 = 7200;
    /// Kathmandu: five hours and three quarters ahead.
    const NPT: i32 = 20_700;

    fn fixture(name: &str) -> Value {
        let path = format!(
            "{}/../../tests/fixtures/providers/ultrahuman/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    fn ms(raw: &str) -> i64 {
        Timestamp::parse(raw).unwrap().millis()
    }

    fn window(from: &str, to: &str) -> FetchRequest {
        FetchRequest {
            time_zone: None,
            last_synced_at: None,
            from: Timestamp::parse(from).unwrap(),
            to: Timestamp::parse(to).unwrap(),
            data_types: Vec::new(),
            provider_user_id: "5385001".into(),
            granted_scopes: Vec::new(),
            budget: Default::default(),
        }
    }

    fn early_march() -> FetchRequest {
        window("2026-03-01T00:00:00Z", "2026-03-03T00:00:00Z")
    }

    /// The records of one OAuth-shaped day reply.
    fn mapped(file: &str, date: &str, zone: Tz, request: &FetchRequest) -> HealthBatch {
        let body = fixture(file);
        let days = days_of(&body, date);
        assert_eq!(days.len(), 1);
        day(days[0].0, days[0].1, zone, request)
    }

    fn summary(batch: &HealthBatch, metric: Metric) -> &DailySummary {
        let found: Vec<&DailySummary> = batch
            .summaries
            .iter()
            .filter(|s| s.metric == metric)
            .collect();
        assert_eq!(found.len(), 1, "{metric}: {:?}", batch.summaries);
        found[0]
    }

    fn points(batch: &HealthBatch, metric: Metric) -> Vec<(i64, f64, i32)> {
        batch
            .samples
            .iter()
            .filter(|s| s.metric == metric)
            .flat_map(|s| {
                s.points
                    .iter()
                    .map(move |(at, value)| (*at, *value, s.utc_offset_seconds))
            })
            .collect()
    }

    #[test]
    fn a_day_maps_every_series_scalar_and_the_night() {
        let batch = mapped(
            "metrics-2026-03-02.json",
            "2026-03-02",
            Tz::Europe__Berlin,
            &early_march(),
        );
        assert_eq!(
            points(&batch, Metric::HeartRate),
            [
                (ms("2026-03-01T23:05:00Z"), 58.0, CET),
                (ms("2026-03-01T23:10:00Z"), 55.0, CET),
                (ms("2026-03-02T06:00:00Z"), 61.0, CET),
            ]
        );
        assert_eq!(
            points(&batch, Metric::HeartRateVariability),
            [
                (ms("2026-03-01T23:30:00Z"), 48.0, CET),
                (ms("2026-03-02T01:30:00Z"), 52.0, CET),
            ]
        );
        assert_eq!(
            points(&batch, Metric::SkinTemperature),
            [
                (ms("2026-03-01T23:06:00Z"), 34.61, CET),
                (ms("2026-03-02T00:06:00Z"), 34.87, CET),
            ]
        );
        // mg/dL from the M1, stored in mmol/L.
        assert_eq!(
            points(&batch, Metric::Glucose),
            [
                (ms("2026-03-02T06:30:00Z"), glucose_mmol_l(92.0), CET),
                (ms("2026-03-02T07:00:00Z"), glucose_mmol_l(118.0), CET),
                (ms("2026-03-02T12:15:00Z"), glucose_mmol_l(145.0), CET),
            ]
        );
        let sources: Vec<(Metric, Option<&str>)> = batch
            .samples
            .iter()
            .map(|s| (s.metric, s.source.as_deref()))
            .collect();
        assert!(sources.contains(&(Metric::Glucose, Some(CGM))));
        assert!(sources.contains(&(Metric::HeartRate, Some(RING))));

        for (metric, value, record_id) in [
            (Metric::Steps, 8412.0, "steps:2026-03-02"),
            // `night_rhr` (53) over `sleep_rhr` (51).
            (Metric::RestingHeartRate, 53.0, "night_rhr:2026-03-02"),
            // `avg_sleep_hrv` (51) over the series' average (50).
            (
                Metric::HeartRateVariability,
                51.0,
                "avg_sleep_hrv:2026-03-02",
            ),
            (Metric::BloodOxygen, 97.0, "spo2:2026-03-02"),
            (Metric::Vo2Max, 44.0, "vo2_max:2026-03-02"),
            (Metric::RecoveryScore, 78.0, "recovery_index:2026-03-02"),
        ] {
            let day = summary(&batch, metric);
            assert_eq!(
                (day.value, day.date.as_str(), day.utc_offset_seconds),
                (value, "2026-03-02", CET),
                "{metric}"
            );
            assert_eq!(day.origin.record_id, record_id);
            assert_eq!(day.origin.provider, ProviderId::Ultrahuman);
        }
        assert_eq!(batch.summaries.len(), 6, "{:?}", batch.summaries);

        assert_eq!(batch.sessions.len(), 1);
        let night = &batch.sessions[0];
        assert_eq!(night.kind, SessionKind::Sleep);
        assert_eq!(
            (night.start_ms, night.end_ms),
            (ms("2026-03-01T22:20:00Z"), ms("2026-03-02T06:05:00Z"))
        );
        assert_eq!(
            (night.date.as_str(), night.utc_offset_seconds),
            ("2026-03-02", CET)
        );
        assert_eq!(night.duration_seconds, Some(25_380.0));
        assert_eq!(night.heart_rate_avg, Some(56.0));
        assert_eq!(
            night.stage_seconds,
            Some(StageTotals {
                awake: 2520.0,
                light: 14_520.0,
                deep: 5160.0,
                rem: 5700.0,
            })
        );
        assert_eq!(night.score, None, "no score in the night's object");
        assert_eq!(night.origin.record_id, "sleep:2026-03-02");
        assert_eq!(night.origin.source.as_deref(), Some(RING));
    }

    #[test]
    fn samples_outside_the_window_and_types_not_asked_for_are_left_out() {
        // 1 March's first heart rate is at 23:30 UTC on 28 February: before the window.
        let batch = mapped(
            "metrics-2026-03-01.json",
            "2026-03-01",
            Tz::Europe__Berlin,
            &early_march(),
        );
        assert_eq!(
            points(&batch, Metric::HeartRate),
            [
                (ms("2026-03-01T08:00:00Z"), 64.0, CET),
                (ms("2026-03-01T08:05:00Z"), 66.0, CET),
            ]
        );
        let only_sleep = FetchRequest {
            data_types: vec![DataType::Session(SessionKind::Sleep)],
            ..early_march()
        };
        let batch = mapped(
            "metrics-2026-03-01.json",
            "2026-03-01",
            Tz::Europe__Berlin,
            &only_sleep,
        );
        assert!(batch.samples.is_empty() && batch.summaries.is_empty());
        assert_eq!(batch.sessions.len(), 1);
    }

    #[test]
    fn null_cgm_metrics_are_absent_data() {
        let body = fixture("metrics-2026-03-01.json");
        let entries = body["data"]["metric_data"].as_array().unwrap();
        assert!(
            entries
                .iter()
                .any(|e| e["type"] == "average_glucose" && e["object"].is_null()),
            "the fixture has a null CGM object"
        );
        assert!(
            entries
                .iter()
                .any(|e| e["type"] == "hba1c" && e["object"]["value"].is_null()),
            "and a null CGM value"
        );
        let batch = day("2026-03-01", entries, Tz::Europe__Berlin, &early_march());
        assert!(points(&batch, Metric::Glucose).is_empty());
        assert_eq!(summary(&batch, Metric::Steps).value, 10_234.0);
        // A glucose series that is null, or has no readings, is no data either.
        let nulls = [
            json!({"type": "glucose", "object": null}),
            json!({"type": "glucose", "object": {"values": null, "unit": "mg/dL"}}),
            json!({"type": "glucose", "object": {
                "values": [{"value": null, "timestamp": 1_772_433_000}]
            }}),
        ];
        let batch = day("2026-03-02", &nulls, Tz::Europe__Berlin, &early_march());
        assert_eq!(batch, HealthBatch::default());
    }

    #[test]
    fn a_dst_day_gives_each_instant_the_offset_in_force() {
        // Berlin springs forward at 01:00 UTC on 29 March 2026.
        let batch = mapped(
            "metrics-2026-03-29.json",
            "2026-03-29",
            Tz::Europe__Berlin,
            &window("2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z"),
        );
        assert_eq!(
            points(&batch, Metric::HeartRate),
            [
                (ms("2026-03-29T00:50:00Z"), 57.0, CET),
                (ms("2026-03-29T00:55:00Z"), 56.0, CET),
                (ms("2026-03-29T01:05:00Z"), 55.0, CEST),
                (ms("2026-03-29T01:10:00Z"), 54.0, CEST),
            ]
        );
        let offsets: Vec<i32> = batch
            .samples
            .iter()
            .filter(|s| s.metric == Metric::HeartRate)
            .map(|s| s.utc_offset_seconds)
            .collect();
        assert_eq!(offsets, [CET, CEST], "one series per offset");
        assert_eq!(
            points(&batch, Metric::Glucose),
            [
                (ms("2026-03-29T00:50:00Z"), glucose_mmol_l(99.0), CET),
                (ms("2026-03-29T01:05:00Z"), glucose_mmol_l(101.0), CEST),
            ]
        );
        // The day's values carry the day's offset (after the change); the night its bedtime's.
        let steps = summary(&batch, Metric::Steps);
        assert_eq!((steps.value, steps.utc_offset_seconds), (6021.0, CEST));
        let night = &batch.sessions[0];
        assert_eq!(
            (night.date.as_str(), night.utc_offset_seconds),
            ("2026-03-29", CET)
        );
        assert_eq!(
            (night.start_ms, night.end_ms),
            (ms("2026-03-28T22:10:00Z"), ms("2026-03-29T05:40:00Z"))
        );
    }

    #[test]
    fn a_kathmandu_day_is_a_quarter_hour_off_the_hour() {
        let batch = mapped(
            "metrics-kathmandu-2026-03-02.json",
            "2026-03-02",
            Tz::Asia__Kathmandu,
            &early_march(),
        );
        // 18:20 UTC on 1 March is 00:05 on 2 March in Kathmandu.
        assert_eq!(
            points(&batch, Metric::HeartRate),
            [
                (ms("2026-03-01T18:20:00Z"), 60.0, NPT),
                (ms("2026-03-01T19:00:00Z"), 58.0, NPT),
            ]
        );
        assert_eq!(
            points(&batch, Metric::Glucose),
            [(ms("2026-03-02T00:30:00Z"), glucose_mmol_l(108.0), NPT)]
        );
        let steps = summary(&batch, Metric::Steps);
        assert_eq!(
            (steps.value, steps.date.as_str(), steps.utc_offset_seconds),
            (7310.0, "2026-03-02", NPT)
        );
        assert_eq!(summary(&batch, Metric::RestingHeartRate).value, 54.0);
        let night = &batch.sessions[0];
        // Bedtime 22:45 on 1 March local; up at 06:15 on 2 March.
        assert_eq!(
            (night.start_ms, night.end_ms, night.utc_offset_seconds),
            (ms("2026-03-01T17:00:00Z"), ms("2026-03-02T00:30:00Z"), NPT)
        );
        assert_eq!(night.date, "2026-03-02");
        // Kathmandu's local day 2 March starts at 18:15 UTC: 1 and 2 March are asked for.
        assert_eq!(
            local_dates(
                Tz::Asia__Kathmandu,
                ms("2026-03-01T00:00:00Z"),
                ms("2026-03-01T18:15:00.001Z")
            ),
            ["2026-03-01", "2026-03-02"]
        );
    }

    #[test]
    fn the_personal_token_shape_parses_too() {
        let body = fixture("metrics-personal-token.json");
        assert_eq!(reply_zone(&body).as_deref(), Some("Europe/Berlin"));
        let days = days_of(&body, "2026-03-02");
        assert_eq!(days.len(), 1);
        let (date, entries) = days[0];
        assert_eq!(date, "2026-03-02", "the reply's own day");
        let batch = day(date, entries, Tz::Europe__Berlin, &early_march());
        for (metric, value, record_id) in [
            (Metric::Steps, 8412.0, "steps:2026-03-02"),
            (Metric::RestingHeartRate, 53.0, "night_rhr:2026-03-02"),
            // No `avg_sleep_hrv` here: the series' average stands in, and the id says so.
            (Metric::HeartRateVariability, 50.0, "hrv:2026-03-02"),
            (Metric::RecoveryScore, 78.0, "recovery_index:2026-03-02"),
            (Metric::TemperatureDeviation, -0.3, "sleep:2026-03-02"),
        ] {
            let day = summary(&batch, metric);
            assert_eq!(
                (day.value, day.utc_offset_seconds),
                (value, CET),
                "{metric}"
            );
            assert_eq!(day.origin.record_id, record_id);
        }
        // Lowercase `sleep` without bedtimes: its stages cannot be placed in time.
        assert!(batch.sessions.is_empty());
        let placed = json!({
            "bedtime_start": 1_772_403_600, "bedtime_end": 1_772_431_500,
            "sleep_score": {"score": 84}, "total_sleep": {"minutes": 423},
            "rem_sleep": {"minutes": 95}, "deep_sleep": {"minutes": 86},
            "light_sleep": {"minutes": 242}
        });
        let night = sleep(&placed, "2026-03-02", Tz::Europe__Berlin).unwrap();
        assert_eq!(night.duration_seconds, Some(423.0 * 60.0));
        assert_eq!(night.score, Some(84.0));
        let stages = night.stage_seconds.unwrap();
        assert_eq!(
            (stages.awake, stages.light, stages.deep, stages.rem),
            (0.0, 242.0 * 60.0, 86.0 * 60.0, 95.0 * 60.0)
        );
    }

    #[test]
    fn the_nights_own_score_is_kept_and_a_backwards_night_is_not_one() {
        let body = fixture("metrics-2026-03-02.json");
        let mut night = body["data"]["metric_data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["type"] == "Sleep")
            .unwrap()["object"]
            .clone();
        night["score"] = json!(84);
        let scored = sleep(&night, "2026-03-02", Tz::Europe__Berlin).unwrap();
        assert_eq!(scored.score, Some(84.0));
        night["bedtime_end"] = night["bedtime_start"].clone();
        assert_eq!(sleep(&night, "2026-03-02", Tz::Europe__Berlin), None);
    }

    #[test]
    fn a_night_the_ring_could_not_score_is_not_data() {
        let unscored = json!({
            "bedtime_start": 1772403600,
            "bedtime_end": 1772431500,
            "quick_metrics": [
                {"type": "total_sleep", "title": "TOTAL SLEEP", "value": 0},
                {"type": "avg_hr", "title": "AVG HEART RATE", "value": 0},
            ],
            "sleep_stages": [
                {"type": "deep_sleep", "stage_time": 0, "percentage": 0},
                {"type": "light_sleep", "stage_time": 0, "percentage": 0},
                {"type": "rem_sleep", "stage_time": 0, "percentage": 0},
                {"type": "awake", "stage_time": 0, "percentage": 0},
            ],
        });
        assert_eq!(sleep(&unscored, "2026-03-02", Tz::Europe__Berlin), None);
        // Asleep by its stages, but no heart rate: the night is kept, the rate is not.
        let mut partial = unscored.clone();
        partial["sleep_stages"][1]["stage_time"] = json!(14_400);
        let night = sleep(&partial, "2026-03-02", Tz::Europe__Berlin).unwrap();
        assert_eq!(night.duration_seconds, Some(14_400.0));
        assert_eq!(night.heart_rate_avg, None);
        // A night with no bedtime (zero) is not one that started in 1970.
        let mut no_bedtime = partial;
        no_bedtime["bedtime_start"] = json!(0);
        assert_eq!(sleep(&no_bedtime, "2026-03-02", Tz::Europe__Berlin), None);

        // What an earlier sync stored for that night is taken back; a day without a night
        // takes nothing back.
        let entries = [json!({"type": "Sleep", "object": unscored})];
        let request = window("2026-03-01T23:00:00Z", "2026-03-02T23:00:00Z");
        let batch = day("2026-03-02", &entries, Tz::Europe__Berlin, &request);
        assert!(batch.sessions.is_empty());
        assert_eq!(
            batch.retracted,
            [Retraction::Session {
                kind: SessionKind::Sleep,
                record_id: "sleep:2026-03-02".into(),
            }]
        );
        let batch = day("2026-03-02", &[], Tz::Europe__Berlin, &request);
        assert!(batch.retracted.is_empty());
    }

    #[test]
    fn the_account_and_zone_come_from_user_info_bare_or_wrapped() {
        let bare = fixture("user-info.json");
        assert_eq!(account_id(&bare).as_deref(), Some("5385001"));
        assert_eq!(time_zone(&bare).as_deref(), Some("Europe/Berlin"));
        let wrapped = json!({"data": {"user_id": "uh-42", "timezone": "Asia/Kathmandu"}});
        assert_eq!(account_id(&wrapped).as_deref(), Some("uh-42"));
        assert_eq!(time_zone(&wrapped).as_deref(), Some("Asia/Kathmandu"));
        let unknown = json!({"user_id": "", "time_zone": "Mars/Olympus"});
        assert_eq!(account_id(&unknown), None);
        assert_eq!(time_zone(&unknown), None);
    }

    #[test]
    fn the_days_asked_for_are_the_local_days_the_window_touches() {
        let (from, to) = (ms("2026-03-01T00:00:00Z"), ms("2026-03-03T00:00:00Z"));
        assert_eq!(
            local_dates(Tz::Europe__Berlin, from, to),
            ["2026-03-01", "2026-03-02", "2026-03-03"]
        );
        assert_eq!(local_dates(Tz::UTC, from, to), ["2026-03-01", "2026-03-02"]);
        assert_eq!(
            local_dates(Tz::America__New_York, from, to),
            ["2026-02-28", "2026-03-01", "2026-03-02"]
        );
        // The 23-hour day of the change is one day.
        assert_eq!(
            local_dates(
                Tz::Europe__Berlin,
                ms("2026-03-28T23:00:00Z"),
                ms("2026-03-29T22:00:00Z")
            ),
            ["2026-03-29"]
        );
        assert!(local_dates(Tz::UTC, to, from).is_empty());
    }
}
