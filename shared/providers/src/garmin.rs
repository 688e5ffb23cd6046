//! Garmin Health API: dailies, epochs, sleeps, HRV, body composition and activities. The
//! same summaries arrive pushed (the webhook maps them with `summaries`) or pulled by upload
//! time, a day at most per call. Times are epoch seconds plus a separate offset; a summary
//! re-sent with the same `summaryId` (tentative → final sleep) replaces the earlier one,
//! since records are keyed by it. History older than the window pulled is asked for with
//! backfill requests (at most 30 days each), whose data arrives later by push.

use crate::rest::{Got, JsonApi, local_date, number, text};
use secrecy::SecretString;
use serde_json::Value;
use vitasync_domain::health::{
    DailySummary, DataType, HealthBatch, Measurement, Metric, Origin, SampleSeries, Session,
    SessionKind, SleepStage, StageSpan, StageTotals,
};
use vitasync_domain::kernel::time::millis_of_seconds;
use vitasync_domain::providers::client::{FetchError, FetchRequest};
use vitasync_domain::providers::{ProviderId, ProviderSettings};

/// Pulls cover at most a day of uploads.
const PULL_WINDOW_SECONDS: i64 = 86_400;
/// A backfill request covers at most 30 days.
const BACKFILL_SECONDS: i64 = 30 * 86_400;
/// Windows reaching further back than this are asked for by backfill, not pulled.
const PULL_HISTORY_SECONDS: i64 = 7 * 86_400;
/// The summary types VitaSync reads.
pub const SUMMARY_TYPES: [&str; 6] = [
    "dailies",
    "epochs",
    "sleeps",
    "hrv",
    "bodyComps",
    "activities",
];

fn origin(summary: &Value, kind: &str) -> Option<Origin> {
    Some(Origin {
        provider: ProviderId::Garmin,
        record_id: format!("{kind}-{}", text(summary, "/summaryId")?),
        source: text(summary, "/deviceName"),
    })
}

fn start_ms(summary: &Value) -> Option<i64> {
    number(summary, "/startTimeInSeconds").and_then(|s| millis_of_seconds(s as i64))
}

fn offset(summary: &Value) -> i32 {
    number(summary, "/startTimeOffsetInSeconds").map_or(0, |s| s as i32)
}

/// `{ "<seconds from start>": value }` as points.
fn offset_samples(map: Option<&Value>, start: i64) -> Vec<(i64, f64)> {
    map.and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(seconds, value)| {
            Some((
                start.checked_add(millis_of_seconds(seconds.parse::<i64>().ok()?)?)?,
                value.as_f64()?,
            ))
        })
        .collect()
}

fn daily(
    batch: &mut HealthBatch,
    request: &FetchRequest,
    summary: &Value,
    metric: Metric,
    value: Option<f64>,
    kind: &str,
) {
    let (Some(value), Some(date), Some(origin)) = (
        value.filter(|_| request.wants(metric)),
        text(summary, "/calendarDate"),
        origin(summary, kind),
    ) else {
        return;
    };
    batch.summaries.push(DailySummary {
        metric,
        date,
        value,
        utc_offset_seconds: offset(summary),
        origin,
    });
}

/// Maps a body of summaries (`{ "<type>": [ … ] }`, as pushed or pulled) into the schema.
pub fn summaries(body: &Value, request: &FetchRequest) -> HealthBatch {
    let mut batch = HealthBatch::default();
    let list = |kind: &str| {
        body.get(kind)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    for day in list("dailies") {
        let minutes = match (
            number(&day, "/moderateIntensityDurationInSeconds"),
            number(&day, "/vigorousIntensityDurationInSeconds"),
        ) {
            (None, None) => None,
            (moderate, vigorous) => {
                Some(((moderate.unwrap_or(0.0) + vigorous.unwrap_or(0.0)) / 60.0).round())
            }
        };
        let total = match (
            number(&day, "/activeKilocalories"),
            number(&day, "/bmrKilocalories"),
        ) {
            (Some(active), Some(bmr)) => Some(active + bmr),
            _ => None,
        };
        for (metric, value) in [
            (Metric::Steps, number(&day, "/steps")),
            (Metric::Distance, number(&day, "/distanceInMeters")),
            (Metric::ActiveCalories, number(&day, "/activeKilocalories")),
            (Metric::TotalCalories, total),
            (Metric::Floors, number(&day, "/floorsClimbed")),
            (Metric::ActiveMinutes, minutes),
            (
                Metric::RestingHeartRate,
                number(&day, "/restingHeartRateInBeatsPerMinute"),
            ),
        ] {
            daily(&mut batch, request, &day, metric, value, "daily");
        }
        if let Some(start) = start_ms(&day).filter(|_| request.wants(Metric::HeartRate)) {
            let points = offset_samples(day.get("timeOffsetHeartRateSamples"), start);
            if !points.is_empty() {
                batch.samples.push(SampleSeries {
                    metric: Metric::HeartRate,
                    points,
                    utc_offset_seconds: offset(&day),
                    provider: ProviderId::Garmin,
                    source: None,
                });
            }
        }
    }
    for epoch in list("epochs") {
        // 15-minute epochs: steps as samples at the epoch's start (dailies hold the totals).
        if let (Some(start), Some(steps)) = (start_ms(&epoch), number(&epoch, "/steps"))
            && request.wants(Metric::Steps)
        {
            batch.samples.push(SampleSeries {
                metric: Metric::Steps,
                points: vec![(start, steps)],
                utc_offset_seconds: offset(&epoch),
                provider: ProviderId::Garmin,
                source: None,
            });
        }
    }
    for sleep in list("sleeps") {
        let (Some(start), Some(duration), Some(origin)) = (
            start_ms(&sleep),
            number(&sleep, "/durationInSeconds"),
            origin(&sleep, "sleep"),
        ) else {
            continue;
        };
        if !request.wants_sessions(SessionKind::Sleep) {
            continue;
        }
        let offset = offset(&sleep);
        let end = start.saturating_add((duration * 1000.0) as i64);
        let mut stages: Vec<StageSpan> = Vec::new();
        for (name, stage) in [
            ("deep", SleepStage::Deep),
            ("light", SleepStage::Light),
            ("rem", SleepStage::Rem),
            ("awake", SleepStage::Awake),
        ] {
            for span in sleep
                .pointer(&format!("/sleepLevelsMap/{name}"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let millis = |name: &str| {
                    number(span, name).and_then(|seconds| millis_of_seconds(seconds as i64))
                };
                if let (Some(start_ms), Some(end_ms)) =
                    (millis("/startTimeInSeconds"), millis("/endTimeInSeconds"))
                {
                    stages.push(StageSpan {
                        stage,
                        start_ms,
                        end_ms,
                    });
                }
            }
        }
        stages.sort_by_key(|span| span.start_ms);
        let totals = StageTotals {
            awake: number(&sleep, "/awakeDurationInSeconds").unwrap_or(0.0),
            light: number(&sleep, "/lightSleepDurationInSeconds").unwrap_or(0.0),
            deep: number(&sleep, "/deepSleepDurationInSeconds").unwrap_or(0.0),
            rem: number(&sleep, "/remSleepInSeconds").unwrap_or(0.0),
        };
        batch.sessions.push(Session {
            start_ms: start,
            end_ms: end,
            utc_offset_seconds: offset,
            date: text(&sleep, "/calendarDate").unwrap_or_else(|| local_date(end, offset)),
            duration_seconds: Some(totals.light + totals.deep + totals.rem),
            stage_seconds: Some(totals),
            stages,
            score: number(&sleep, "/overallSleepScore/value"),

            ..Session::new(SessionKind::Sleep, origin)
        });
    }
    for night in list("hrv") {
        daily(
            &mut batch,
            request,
            &night,
            Metric::HeartRateVariability,
            number(&night, "/lastNightAvg"),
            "hrv",
        );
    }
    for body_comp in list("bodyComps") {
        let (Some(at), Some(origin)) = (start_ms(&body_comp), origin(&body_comp, "body")) else {
            continue;
        };
        let offset = offset(&body_comp);
        for (metric, value) in [
            (
                Metric::Weight,
                number(&body_comp, "/weightInGrams").map(|g| g / 1000.0),
            ),
            (Metric::BodyFat, number(&body_comp, "/bodyFatInPercent")),
            (Metric::Bmi, number(&body_comp, "/bodyMassIndex")),
        ] {
            if let Some(value) = value.filter(|_| request.wants(metric)) {
                batch.measurements.push(Measurement {
                    metric,
                    at_ms: at,
                    utc_offset_seconds: offset,
                    date: local_date(at, offset),
                    value,
                    secondary: None,
                    origin: origin.clone(),
                });
            }
        }
    }
    for activity in list("activities") {
        let (Some(start), Some(duration), Some(origin)) = (
            start_ms(&activity),
            number(&activity, "/durationInSeconds"),
            origin(&activity, "activity"),
        ) else {
            continue;
        };
        if !request.wants_sessions(SessionKind::Workout) {
            continue;
        }
        let offset = offset(&activity);
        batch.sessions.push(Session {
            start_ms: start,
            end_ms: start.saturating_add((duration * 1000.0) as i64),
            utc_offset_seconds: offset,
            date: local_date(start, offset),
            sport: text(&activity, "/activityType"),
            duration_seconds: Some(duration),
            distance_m: number(&activity, "/distanceInMeters"),
            energy_kcal: number(&activity, "/activeKilocalories"),
            heart_rate_avg: number(&activity, "/averageHeartRateInBeatsPerMinute"),
            heart_rate_max: number(&activity, "/maxHeartRateInBeatsPerMinute"),

            ..Session::new(SessionKind::Workout, origin)
        });
    }
    batch
}

/// Pulls the recent part of the window by upload time (a day per call) and asks Garmin to
/// backfill the older part (delivered later by push). A 403 is a permission the user did
/// not give (historical data export is off by default): that part is skipped.
pub async fn fetch(
    http: &reqwest::Client,
    settings: &ProviderSettings,
    token: &SecretString,
    request: &FetchRequest,
) -> Result<HealthBatch, FetchError> {
    let api = JsonApi::new(http, &settings.api_url, token, &request.budget);
    let mut batch = HealthBatch::default();
    let (from, to) = (request.from.millis() / 1000, request.to.millis() / 1000);
    let pull_from = from.max(to - PULL_HISTORY_SECONDS);
    let mut backfill_denied = false;
    for kind in SUMMARY_TYPES {
        let types = request.wanted(&kind_types(kind));
        if types.is_empty() {
            continue;
        }
        // Older history: backfill requests, 30 days at a time.
        let mut start = from;
        while start < pull_from && !backfill_denied {
            let end = (start + BACKFILL_SECONDS).min(pull_from);
            let query = [
                ("summaryStartTimeInSeconds", start.to_string()),
                ("summaryEndTimeInSeconds", end.to_string()),
            ];
            match api
                .get(&format!("/wellness-api/rest/backfill/{kind}"), &query)
                .await
            {
                // The user did not allow historical data export: only recent data comes.
                Ok(Got::Forbidden) => backfill_denied = true,
                // 202 accepted (no body), or 409 asked before: either way it is on its way.
                Ok(_) | Err(FetchError::Protocol(_)) => {}
                Err(other) => return Err(other),
            }
            start = end;
        }
        let mut window = pull_from;
        while window < to {
            let end = (window + PULL_WINDOW_SECONDS).min(to);
            let query = [
                ("uploadStartTimeInSeconds", window.to_string()),
                ("uploadEndTimeInSeconds", end.to_string()),
            ];
            match api
                .get(&format!("/wellness-api/rest/{kind}"), &query)
                .await?
            {
                Got::Data(Value::Array(items)) => {
                    batch.extend(summaries(&serde_json::json!({ kind: items }), request));
                }
                Got::Data(body) => batch.extend(summaries(&body, request)),
                Got::Forbidden => {
                    batch.skipped.extend(types);
                    break;
                }
                Got::Missing => {}
            }
            window = end;
        }
    }
    Ok(batch)
}

/// The data types a summary type brings: what decides whether it is fetched, and what is
/// reported skipped when it is refused.
pub(crate) fn kind_types(kind: &str) -> Vec<DataType> {
    let metrics = |metrics: &[Metric]| metrics.iter().map(|m| DataType::Metric(*m)).collect();
    match kind {
        "dailies" => metrics(&[
            Metric::Steps,
            Metric::Distance,
            Metric::ActiveCalories,
            Metric::TotalCalories,
            Metric::Floors,
            Metric::ActiveMinutes,
            Metric::RestingHeartRate,
            Metric::HeartRate,
        ]),
        "epochs" => metrics(&[Metric::Steps]),
        "sleeps" => vec![DataType::Session(SessionKind::Sleep)],
        "hrv" => metrics(&[Metric::HeartRateVariability]),
        "bodyComps" => metrics(&[Metric::Weight, Metric::BodyFat, Metric::Bmi]),
        "activities" => vec![DataType::Session(SessionKind::Workout)],
        _ => Vec::new(),
    }
}
