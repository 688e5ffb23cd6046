//! Withings data: measures (weight, body fat, blood pressure, temperature, SpO2; value × 10^unit),
//! daily activity, intraday heart rate, sleep summaries and workouts. Every call is a form POST
//! with `action=…`; every reply is HTTP 200 with a `status` that must be read (401 expired
//! token, 601 too many requests).

use crate::rest::offset_on;
use crate::wire::describe;
use chrono::{DateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;
use vitasync_domain::health::{
    DailySummary, HealthBatch, Measurement, Metric, Origin, SampleSeries, Session, SessionKind,
    SleepStage, StageSpan, StageTotals,
};
use vitasync_domain::kernel::time::millis_of_seconds;
use vitasync_domain::providers::client::{FetchError, FetchRequest};
use vitasync_domain::providers::{ProviderId, ProviderSettings};

/// Withings asks for a minute's pause when it answers 601.
const THROTTLE_PAUSE: Duration = Duration::from_secs(60);
/// `getintradayactivity` returns at most a day per call.
const INTRADAY_SPAN_SECONDS: i64 = 86_400;
/// Pages of a paginated call, at most (a guard against a `more` that never ends).
const MAX_PAGES: usize = 100;

struct Api<'a> {
    http: &'a reqwest::Client,
    base: String,
    token: &'a SecretString,
    budget: &'a vitasync_domain::providers::rate_budget::CallBudget,
}

impl Api<'_> {
    /// One call; the `body` of a reply whose `status` is 0.
    async fn call(&self, path: &str, params: &[(&str, String)]) -> Result<Value, FetchError> {
        self.budget.spend().await?;
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(self.token.expose_secret())
            .form(params)
            .send()
            .await
            .map_err(|err| FetchError::Unavailable(describe(&err)))?;
        let status = response.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            let wait = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())
                .map_or(THROTTLE_PAUSE, Duration::from_secs);
            return Err(FetchError::RateLimited(wait));
        }
        if status.is_server_error() {
            return Err(FetchError::Unavailable(format!("HTTP {status}")));
        }
        if status == StatusCode::UNAUTHORIZED {
            return Err(FetchError::Unauthorized);
        }
        let reply: Value = response
            .json()
            .await
            .map_err(|_| FetchError::Protocol(format!("{path}: the reply is not JSON")))?;
        match reply.get("status").and_then(Value::as_i64) {
            Some(0) => Ok(reply.get("body").cloned().unwrap_or(Value::Null)),
            // 100–102, 200 and 401 all mean the token was not accepted.
            Some(100..=102 | 200 | 401) => Err(FetchError::Unauthorized),
            Some(601) => Err(FetchError::RateLimited(THROTTLE_PAUSE)),
            Some(522 | 2554) | None => Err(FetchError::Unavailable(format!(
                "{path}: status {}",
                reply.get("status").unwrap_or(&Value::Null)
            ))),
            Some(code) => Err(FetchError::Protocol(format!("{path}: status {code}"))),
        }
    }

    /// Every page of a call that paginates with `more` and `offset`.
    async fn pages(
        &self,
        path: &str,
        params: &[(&str, String)],
        list: &str,
    ) -> Result<(Vec<Value>, Value), FetchError> {
        let mut all = Vec::new();
        let mut offset: Option<i64> = None;
        let mut last = Value::Null;
        for _ in 0..MAX_PAGES {
            let mut with_offset = params.to_vec();
            if let Some(offset) = offset {
                with_offset.push(("offset", offset.to_string()));
            }
            let body = self.call(path, &with_offset).await?;
            if let Some(items) = body.get(list).and_then(Value::as_array) {
                all.extend(items.iter().cloned());
            }
            let more = match body.get("more") {
                Some(Value::Bool(more)) => *more,
                Some(Value::Number(more)) => more.as_i64().unwrap_or(0) != 0,
                _ => false,
            };
            let next = body.get("offset").and_then(Value::as_i64);
            last = body;
            match (more, next) {
                (true, Some(next)) if Some(next) != offset => offset = Some(next),
                _ => break,
            }
        }
        Ok((all, last))
    }
}

fn number(value: &Value, field: &str) -> Option<f64> {
    match value.get(field)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn text(value: &Value, field: &str) -> Option<String> {
    match value.get(field)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn zone(name: Option<&str>) -> Tz {
    name.and_then(|name| name.parse().ok()).unwrap_or(Tz::UTC)
}

/// The UTC offset and local date of an instant in a zone.
/// An epoch-seconds field, when it is an instant VitaSync can hold (so `* 1000` is safe).
fn epoch_seconds(item: &Value, field: &str) -> Option<i64> {
    item.get(field)
        .and_then(Value::as_i64)
        .filter(|seconds| millis_of_seconds(*seconds).is_some())
}

fn local(zone: Tz, epoch_seconds: i64) -> (i32, String) {
    match zone.timestamp_opt(epoch_seconds, 0).single() {
        Some(at) => (
            at.offset().fix().local_minus_utc(),
            at.date_naive().to_string(),
        ),
        None => (0, String::new()),
    }
}

fn origin(record_id: String, source: Option<String>) -> Origin {
    Origin {
        provider: ProviderId::Withings,
        record_id,
        source,
    }
}

fn ymd(at: vitasync_domain::kernel::time::Timestamp, shift_days: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(at.millis())
        .map(|at| (at.date_naive() + chrono::Duration::days(shift_days)).to_string())
        .unwrap_or_default()
}

pub async fn fetch(
    http: &reqwest::Client,
    settings: &ProviderSettings,
    token: &SecretString,
    request: &FetchRequest,
) -> Result<HealthBatch, FetchError> {
    let api = Api {
        http,
        base: settings.api_url.trim_end_matches('/').to_owned(),
        token,
        budget: &request.budget,
    };
    let (start, end) = (request.from.millis() / 1000, request.to.millis() / 1000);
    // Day-based calls take local dates: widen by a day each way so no time zone is cut off.
    let (first_day, last_day) = (ymd(request.from, -1), ymd(request.to, 1));
    let mut batch = HealthBatch::default();
    let any = |metrics: &[Metric]| metrics.iter().any(|m| request.wants(*m));
    // Calls whose data was not asked for are skipped: the app's 120 calls a minute are shared.
    let measure_metrics = [
        Metric::Weight,
        Metric::BodyFat,
        Metric::Temperature,
        Metric::SkinTemperature,
        Metric::BloodOxygen,
        Metric::HeartRate,
        Metric::BloodPressure,
    ];
    let mut tz = Tz::UTC;
    if any(&measure_metrics) {
        let (groups, body) = api
            .pages(
                "/measure",
                &[
                    ("action", "getmeas".into()),
                    ("category", "1".into()),
                    ("startdate", start.to_string()),
                    ("enddate", end.to_string()),
                ],
                "measuregrps",
            )
            .await?;
        tz = zone(body.get("timezone").and_then(Value::as_str));
        batch.extend(measures(&groups, tz, request));
    }

    let activity_metrics = [
        Metric::Steps,
        Metric::Distance,
        Metric::Floors,
        Metric::ActiveCalories,
        Metric::TotalCalories,
        Metric::ActiveMinutes,
    ];
    if any(&activity_metrics) {
        let activity_fields = "steps,distance,elevation,soft,moderate,intense,active,calories,totalcalories,hr_average,hr_min,hr_max";
        let (days, _) = api
            .pages(
                "/v2/measure",
                &[
                    ("action", "getactivity".into()),
                    ("startdateymd", first_day.clone()),
                    ("enddateymd", last_day.clone()),
                    ("data_fields", activity_fields.into()),
                ],
                "activities",
            )
            .await?;
        batch.extend(activities(&days, request));
    }

    if request.wants(Metric::HeartRate) {
        let mut window_start = start;
        while window_start < end {
            let window_end = (window_start + INTRADAY_SPAN_SECONDS).min(end);
            let body = api
                .call(
                    "/v2/measure",
                    &[
                        ("action", "getintradayactivity".into()),
                        ("startdate", window_start.to_string()),
                        ("enddate", window_end.to_string()),
                        ("data_fields", "heart_rate".into()),
                    ],
                )
                .await?;
            batch.samples.extend(intraday(&body, tz));
            window_start = window_end;
        }
    }

    if request.wants_sessions(SessionKind::Sleep)
        || any(&[Metric::RespiratoryRate, Metric::HeartRateVariability])
    {
        let sleep_fields = "total_timeinbed,total_sleep_time,lightsleepduration,deepsleepduration,remsleepduration,wakeupduration,hr_average,hr_min,hr_max,rr_average,sleep_score,rmssd_start_avg,rmssd_end_avg";
        let (nights, _) = api
            .pages(
                "/v2/sleep",
                &[
                    ("action", "getsummary".into()),
                    ("startdateymd", first_day.clone()),
                    ("enddateymd", last_day.clone()),
                    ("data_fields", sleep_fields.into()),
                ],
                "series",
            )
            .await?;
        let mut nights = sleeps(&nights, request);
        // Each night's hypnogram: `sleep get` over the night (it answers 24 hours at most).
        for session in &mut nights.sessions {
            let body = api
                .call(
                    "/v2/sleep",
                    &[
                        ("action", "get".into()),
                        ("startdate", (session.start_ms / 1000).to_string()),
                        ("enddate", (session.end_ms / 1000).to_string()),
                    ],
                )
                .await?;
            session.stages = hypnogram(&body);
        }
        batch.extend(nights);
    }

    if request.wants_sessions(SessionKind::Workout) {
        let (workouts, _) = api
            .pages(
                "/v2/measure",
                &[
                    ("action", "getworkouts".into()),
                    ("startdateymd", first_day),
                    ("enddateymd", last_day),
                    // Energy, distance and heart rate come only when asked for.
                    (
                        "data_fields",
                        "calories,distance,steps,elevation,hr_average,hr_min,hr_max".into(),
                    ),
                ],
                "series",
            )
            .await?;
        batch.sessions.extend(workout_sessions(&workouts));
    }
    Ok(batch)
}

/// `getmeas` groups: each measure is `value × 10^unit` of its type.
pub fn measures(groups: &[Value], tz: Tz, request: &FetchRequest) -> HealthBatch {
    let mut batch = HealthBatch::default();
    for group in groups {
        let (Some(at), Some(id)) = (epoch_seconds(group, "date"), text(group, "grpid")) else {
            continue;
        };
        let (offset, date) = local(tz, at);
        let source = text(group, "model").or_else(|| text(group, "deviceid"));
        let mut by_type: BTreeMap<i64, f64> = BTreeMap::new();
        for measure in group
            .get("measures")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let (Some(kind), Some(value), Some(unit)) = (
                measure.get("type").and_then(Value::as_i64),
                number(measure, "value"),
                measure.get("unit").and_then(Value::as_i64),
            ) {
                let exponent = i32::try_from(unit).unwrap_or(0);
                // Dividing by 10^-unit keeps 72350 × 10^-3 at exactly 72.35.
                let real = if exponent < 0 {
                    value / 10f64.powi(-exponent)
                } else {
                    value * 10f64.powi(exponent)
                };
                by_type.insert(kind, real);
            }
        }
        let mut add = |metric: Metric, kind: i64, value: f64, secondary: Option<f64>| {
            if request.wants(metric) {
                batch.measurements.push(Measurement {
                    metric,
                    at_ms: at * 1000,
                    utc_offset_seconds: offset,
                    date: date.clone(),
                    value,
                    secondary,
                    origin: origin(format!("{id}-{kind}"), source.clone()),
                });
            }
        };
        for (kind, value) in &by_type {
            match kind {
                1 => add(Metric::Weight, *kind, *value, None),
                6 => add(Metric::BodyFat, *kind, *value, None),
                12 | 71 => add(Metric::Temperature, *kind, *value, None),
                73 => add(Metric::SkinTemperature, *kind, *value, None),
                54 => add(Metric::BloodOxygen, *kind, *value, None),
                11 => add(Metric::HeartRate, *kind, *value, None),
                // Systolic (10) and diastolic (9) make one blood-pressure reading.
                10 => add(
                    Metric::BloodPressure,
                    *kind,
                    *value,
                    by_type.get(&9).copied(),
                ),
                _ => {}
            }
        }
    }
    batch
}

/// `getactivity` days: totals in the user's local calendar.
pub fn activities(days: &[Value], request: &FetchRequest) -> HealthBatch {
    let mut batch = HealthBatch::default();
    for day in days {
        let Some(date) = text(day, "date") else {
            continue;
        };
        let offset = offset_on(zone(day.get("timezone").and_then(Value::as_str)), &date);
        let source = text(day, "deviceid");
        let active_minutes = match (number(day, "moderate"), number(day, "intense")) {
            (None, None) => None,
            (moderate, intense) => {
                Some(((moderate.unwrap_or(0.0) + intense.unwrap_or(0.0)) / 60.0).round())
            }
        };
        let values = [
            (Metric::Steps, number(day, "steps")),
            (Metric::Distance, number(day, "distance")),
            // Withings counts climbed floors in `elevation`.
            (Metric::Floors, number(day, "elevation")),
            (Metric::ActiveCalories, number(day, "calories")),
            (Metric::TotalCalories, number(day, "totalcalories")),
            (Metric::ActiveMinutes, active_minutes),
        ];
        for (metric, value) in values {
            if let Some(value) = value.filter(|_| request.wants(metric)) {
                batch.summaries.push(DailySummary {
                    metric,
                    date: date.clone(),
                    value,
                    utc_offset_seconds: offset,
                    origin: origin(format!("activity-{date}"), source.clone()),
                });
            }
        }
    }
    batch
}

/// `getintradayactivity`: `series` keyed by epoch seconds.
pub fn intraday(body: &Value, tz: Tz) -> Vec<SampleSeries> {
    let Some(series) = body.get("series").and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut points = Vec::new();
    for (epoch, values) in series {
        let seconds = epoch.parse::<i64>().ok();
        let at = seconds.and_then(millis_of_seconds);
        if let (Some(seconds), Some(at), Some(bpm)) = (seconds, at, number(values, "heart_rate")) {
            // Each point at the offset its zone had then: a day of samples may cross a DST
            // change.
            points.push((at, bpm, local(tz, seconds).0));
        }
    }
    points.sort_by_key(|(at, _, _)| *at);
    SampleSeries::by_offset(Metric::HeartRate, ProviderId::Withings, points)
}

/// `sleep get`: the night's stages as Withings scores them (0 awake, 1 light, 2 deep,
/// 3 REM); manual (4), unspecified (5) and out-of-bed (15) spans are not sleep stages.
pub fn hypnogram(body: &Value) -> Vec<StageSpan> {
    let mut spans: Vec<StageSpan> = body
        .get("series")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|span| {
            let stage = match span.get("state").and_then(Value::as_i64)? {
                0 => SleepStage::Awake,
                1 => SleepStage::Light,
                2 => SleepStage::Deep,
                3 => SleepStage::Rem,
                _ => return None,
            };
            Some(StageSpan {
                stage,
                start_ms: millis_of_seconds(epoch_seconds(span, "startdate")?)?,
                end_ms: millis_of_seconds(epoch_seconds(span, "enddate")?)?,
            })
        })
        .filter(|span| span.end_ms > span.start_ms)
        .collect();
    spans.sort_by_key(|span| span.start_ms);
    spans
}

/// `sleep getsummary` nights: a sleep session each, and the night's respiratory rate and HRV.
pub fn sleeps(nights: &[Value], request: &FetchRequest) -> HealthBatch {
    let mut batch = HealthBatch::default();
    for night in nights {
        let (Some(id), Some(start), Some(end)) = (
            text(night, "id"),
            epoch_seconds(night, "startdate"),
            epoch_seconds(night, "enddate"),
        ) else {
            continue;
        };
        let tz = zone(night.get("timezone").and_then(Value::as_str));
        let (offset, wake_date) = local(tz, end);
        let date = text(night, "date").unwrap_or(wake_date);
        let data = night.get("data").cloned().unwrap_or(Value::Null);
        let source = text(night, "hash_deviceid");
        let stage_seconds = match (
            number(&data, "lightsleepduration"),
            number(&data, "deepsleepduration"),
            number(&data, "remsleepduration"),
            number(&data, "wakeupduration"),
        ) {
            (None, None, None, None) => None,
            (light, deep, rem, awake) => Some(StageTotals {
                awake: awake.unwrap_or(0.0),
                light: light.unwrap_or(0.0),
                deep: deep.unwrap_or(0.0),
                rem: rem.unwrap_or(0.0),
            }),
        };
        batch.sessions.push(Session {
            kind: SessionKind::Sleep,
            start_ms: start * 1000,
            end_ms: end * 1000,
            utc_offset_seconds: offset,
            date: date.clone(),
            sport: None,
            provider_sport: None,
            duration_seconds: number(&data, "total_sleep_time"),
            distance_m: None,
            energy_kcal: None,
            heart_rate_avg: number(&data, "hr_average"),
            heart_rate_max: number(&data, "hr_max"),
            heart_rate_min: number(&data, "hr_min"),
            stage_seconds,
            stages: Vec::new(),
            score: number(&data, "sleep_score"),
            ..Session::new(SessionKind::Sleep, origin(id.clone(), source.clone()))
        });
        let hrv = match (
            number(&data, "rmssd_start_avg"),
            number(&data, "rmssd_end_avg"),
        ) {
            (Some(a), Some(b)) => Some((a + b) / 2.0),
            (one, other) => one.or(other),
        };
        for (metric, value) in [
            (Metric::RespiratoryRate, number(&data, "rr_average")),
            (Metric::HeartRateVariability, hrv),
        ] {
            if let Some(value) = value.filter(|_| request.wants(metric)) {
                batch.summaries.push(DailySummary {
                    metric,
                    date: date.clone(),
                    value,
                    utc_offset_seconds: offset,
                    origin: origin(id.clone(), source.clone()),
                });
            }
        }
    }
    batch
}

/// Withings workout category codes, as documented.
/// Withings' name for a workout `category` (its documented list), mapped to the sport
/// vocabulary when stored; an unknown code is kept as `category <n>`.
fn sport(category: i64) -> String {
    let name = match category {
        1 => "Walk",
        2 => "Run",
        3 => "Hiking",
        4 => "Skating",
        5 => "BMX",
        6 => "Bicycling",
        7 => "Swimming",
        8 => "Surfing",
        9 => "Kitesurfing",
        10 => "Windsurfing",
        11 => "Bodyboard",
        12 => "Tennis",
        13 => "Table tennis",
        14 => "Squash",
        15 => "Badminton",
        16 => "Lift weights",
        17 => "Calisthenics",
        18 => "Elliptical",
        19 => "Pilates",
        20 => "Basketball",
        21 => "Soccer",
        22 => "American football",
        23 => "Rugby",
        24 => "Volleyball",
        25 => "Waterpolo",
        26 => "Horse riding",
        27 => "Golf",
        28 => "Yoga",
        29 => "Dancing",
        30 => "Boxing",
        31 => "Fencing",
        32 => "Wrestling",
        33 => "Martial arts",
        34 => "Skiing",
        35 => "Snowboarding",
        36 => "Other",
        187 => "Rowing",
        188 => "Zumba",
        191 => "Baseball",
        192 => "Handball",
        193 => "Hockey",
        194 => "Ice hockey",
        195 => "Climbing",
        196 => "Ice skating",
        272 => "Multi-sport",
        306 => "Indoor walk",
        307 => "Indoor running",
        308 => "Indoor cycling",
        other => return format!("category {other}"),
    };
    name.to_owned()
}

/// `getworkouts` series.
pub fn workout_sessions(series: &[Value]) -> Vec<Session> {
    let mut sessions = Vec::new();
    for workout in series {
        let (Some(id), Some(start), Some(end)) = (
            text(workout, "id"),
            epoch_seconds(workout, "startdate"),
            epoch_seconds(workout, "enddate"),
        ) else {
            continue;
        };
        let tz = zone(workout.get("timezone").and_then(Value::as_str));
        let (offset, start_date) = local(tz, start);
        let data = workout.get("data").cloned().unwrap_or(Value::Null);
        sessions.push(Session {
            kind: SessionKind::Workout,
            start_ms: start * 1000,
            end_ms: end * 1000,
            utc_offset_seconds: offset,
            date: text(workout, "date").unwrap_or(start_date),
            sport: workout.get("category").and_then(Value::as_i64).map(sport),
            provider_sport: None,
            duration_seconds: Some((end - start) as f64),
            distance_m: number(&data, "distance"),
            energy_kcal: number(&data, "calories"),
            heart_rate_avg: number(&data, "hr_average"),
            heart_rate_max: number(&data, "hr_max"),
            heart_rate_min: number(&data, "hr_min"),
            stage_seconds: None,
            stages: Vec::new(),
            score: None,
            ascent_m: number(&data, "elevation"),
            ..Session::new(SessionKind::Workout, origin(id, text(workout, "deviceid")))
        });
    }
    sessions
}

#[cfg(test)]
mod tests {
    use super::*;
    use vitasync_domain::kernel::time::Timestamp;

    fn fixture(name: &str) -> Value {
        let path = format!(
            "{}/../../tests/fixtures/providers/withings/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    fn everything() -> FetchRequest {
        FetchRequest {
            time_zone: None,
            last_synced_at: None,
            from: Timestamp::parse("2026-03-01T00:00:00Z").unwrap(),
            to: Timestamp::parse("2026-03-03T00:00:00Z").unwrap(),
            data_types: Vec::new(),
            granted_scopes: Vec::new(),
            budget: Default::default(),
            provider_user_id: "36312345".into(),
        }
    }

    #[test]
    fn measures_are_scaled_and_placed_in_the_users_local_day() {
        let body = fixture("measure-getmeas.json")["body"].clone();
        let groups = body["measuregrps"].as_array().unwrap();
        let batch = measures(groups, zone(body["timezone"].as_str()), &everything());
        let weight = batch
            .measurements
            .iter()
            .find(|m| m.metric == Metric::Weight)
            .unwrap();
        assert_eq!(weight.value, 72.35);
        assert_eq!(weight.at_ms, 1_772_432_700_000);
        // 07:45 UTC is 08:45 in Berlin (CET, +01:00) on 2 March.
        assert_eq!(weight.utc_offset_seconds, 3600);
        assert_eq!(weight.date, "2026-03-02");
        assert_eq!(weight.origin.record_id, "5123456789-1");
        assert_eq!(weight.origin.source.as_deref(), Some("Body Cardio"));
        let fat = batch
            .measurements
            .iter()
            .find(|m| m.metric == Metric::BodyFat)
            .unwrap();
        assert!((fat.value - 18.7).abs() < 1e-9);
        assert_eq!(batch.measurements.len(), 2, "only the types VitaSync maps");
    }

    #[test]
    fn activity_days_become_daily_totals() {
        let body = fixture("measure-v2-getactivity.json")["body"].clone();
        let batch = activities(body["activities"].as_array().unwrap(), &everything());
        let value = |metric| {
            batch
                .summaries
                .iter()
                .find(|s| s.metric == metric)
                .map(|s| (s.value, s.date.clone(), s.utc_offset_seconds))
                .unwrap()
        };
        assert_eq!(value(Metric::Steps), (12874.0, "2026-03-02".into(), 3600));
        assert_eq!(value(Metric::Distance).0, 9410.2);
        assert_eq!(value(Metric::Floors).0, 7.0);
        assert_eq!(value(Metric::ActiveCalories).0, 1104.2);
        assert_eq!(value(Metric::TotalCalories).0, 2611.8);
        assert_eq!(value(Metric::ActiveMinutes).0, 59.0, "(1080 + 2460) s");
    }

    #[test]
    fn sleep_summaries_become_sessions_with_stages() {
        let body = fixture("sleep-v2-getsummary.json")["body"].clone();
        let batch = sleeps(body["series"].as_array().unwrap(), &everything());
        let night = &batch.sessions[0];
        assert_eq!(night.kind, SessionKind::Sleep);
        assert_eq!(night.start_ms, 1_772_403_810_000);
        assert_eq!(night.end_ms, 1_772_431_290_000);
        assert_eq!(night.date, "2026-03-02");
        assert_eq!(night.utc_offset_seconds, 3600);
        assert_eq!(night.duration_seconds, Some(24_060.0));
        let stages = night.stage_seconds.as_ref().unwrap();
        assert_eq!(
            (stages.light, stages.deep, stages.rem, stages.awake),
            (13_860.0, 4_680.0, 5_520.0, 3_420.0)
        );
        assert_eq!(
            (night.heart_rate_avg, night.score),
            (Some(56.0), Some(82.0))
        );
        assert_eq!(night.origin.record_id, "2081804123");
        let rr = batch
            .summaries
            .iter()
            .find(|s| s.metric == Metric::RespiratoryRate)
            .unwrap();
        assert_eq!(rr.value, 15.0);
        let hrv = batch
            .summaries
            .iter()
            .find(|s| s.metric == Metric::HeartRateVariability)
            .unwrap();
        assert_eq!(hrv.value, 42.5);
    }

    #[test]
    fn intraday_series_become_heart_rate_samples() {
        let body = serde_json::json!({"series": {
            "1772432700": {"heart_rate": 61, "model": "ScanWatch"},
            "1772432760": {"heart_rate": 64},
            "1772432820": {"steps": 12}
        }});
        let series = intraday(&body, Tz::Europe__Berlin);
        assert_eq!(series.len(), 1);
        assert_eq!(
            series[0].points,
            vec![(1_772_432_700_000, 61.0), (1_772_432_760_000, 64.0)]
        );
        assert_eq!(series[0].utc_offset_seconds, 3600);
    }

    #[test]
    fn the_hypnogram_keeps_sleep_states_only() {
        let body = serde_json::json!({"series": [
            {"startdate": 1_000, "enddate": 1_600, "state": 1},
            {"startdate": 0, "enddate": 1_000, "state": 0},
            {"startdate": 1_600, "enddate": 2_000, "state": 15},
            {"startdate": 2_000, "enddate": 2_600, "state": 2},
            {"startdate": 2_600, "enddate": 3_000, "state": 5},
            {"startdate": 3_000, "enddate": 3_600, "state": 3},
        ]});
        let stages: Vec<(SleepStage, i64)> = hypnogram(&body)
            .iter()
            .map(|s| (s.stage, s.start_ms / 1000))
            .collect();
        assert_eq!(
            stages,
            vec![
                (SleepStage::Awake, 0),
                (SleepStage::Light, 1_000),
                (SleepStage::Deep, 2_000),
                (SleepStage::Rem, 3_000),
            ]
        );
    }

    #[test]
    fn intraday_points_across_a_dst_change_keep_their_own_offsets() {
        // Berlin springs forward at 01:00 UTC on 29 March 2026.
        let body = serde_json::json!({"series": {
            "1774745940": {"heart_rate": 58},
            "1774746060": {"heart_rate": 59}
        }});
        let series = intraday(&body, Tz::Europe__Berlin);
        let offsets: Vec<(i32, usize)> = series
            .iter()
            .map(|s| (s.utc_offset_seconds, s.points.len()))
            .collect();
        assert_eq!(offsets, vec![(3600, 1), (7200, 1)]);
    }
}
