//! Suunto Cloud API: workouts (`/v3/workouts`, paged by offset) and the 24/7 samples
//! (activity: heart rate, steps, SpO2, HRV; sleep; recovery), read at most 28 days a call or
//! pushed inline by Suunto's webhooks (`pushed`). Every call goes through Suunto's Azure APIM
//! gateway with the user's JWT and the app's subscription key. Units differ by source:
//! workout energy is kcal, 24/7 energy joules, 24/7 SpO2 a 0–1 fraction. Workouts give epoch
//! milliseconds and an offset in minutes; 24/7 samples ISO 8601 times with their offset.

use crate::rest::{Got, JsonApi, instant_ms, local_date, number, offset_of_rfc3339, text};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::SecretString;
use serde_json::Value;
use std::collections::BTreeMap;
use vitasync_domain::health::{
    DailySummary, DataType, HealthBatch, Measurement, Metric, Origin, SampleSeries, Session,
    SessionKind, StageTotals, local_day_bounds,
};
use vitasync_domain::providers::client::{FetchError, FetchRequest};
use vitasync_domain::providers::{ProviderId, ProviderSettings};

/// What a 24/7 push is called (`{ "<type>": [samples…] }` as `pushed` reads it).
pub(crate) const ACTIVITY_PUSH: &str = "SUUNTO_247_ACTIVITY_CREATED";
pub(crate) const SLEEP_PUSH: &str = "SUUNTO_247_SLEEP_CREATED";
pub(crate) const RECOVERY_PUSH: &str = "SUUNTO_247_RECOVERY_CREATED";

const DAY_MS: i64 = 86_400_000;
/// How far either side of a window the 24/7 samples are read so each day it touches is read
/// whole: a local day lasts up to 25 hours (when summer time ends), and a window may touch
/// only its last minute.
const WHOLE_DAY_MARGIN_MS: i64 = DAY_MS + 2 * 3_600_000;
/// The 24/7 endpoints answer at most 28 days a call.
const SAMPLES_WINDOW_MS: i64 = 28 * DAY_MS;
/// Workouts a page, Suunto's most.
const PAGE_SIZE: usize = 100;
/// Pages of workouts, at most, per sync (a guard against paging that never ends).
const MAX_PAGES: usize = 500;

const ACTIVITY_PATH: &str = "/247samples/activity";
const SLEEP_PATH: &str = "/247samples/sleep";
const RECOVERY_PATH: &str = "/247samples/recovery";

/// The 24/7 collections, the data types each brings, and whether its mapping needs whole
/// local days (a day's step sum, a day's latest balance): those are read a day beyond the
/// window on each side, so a day the window cuts is still summed whole.
const COLLECTIONS: [(&str, &[DataType], bool); 3] = [
    (
        ACTIVITY_PATH,
        &[
            DataType::Metric(Metric::HeartRate),
            DataType::Metric(Metric::Steps),
            DataType::Metric(Metric::BloodOxygen),
            DataType::Metric(Metric::HeartRateVariability),
        ],
        true,
    ),
    (
        SLEEP_PATH,
        &[
            DataType::Session(SessionKind::Sleep),
            DataType::Metric(Metric::RestingHeartRate),
            DataType::Metric(Metric::HeartRateVariability),
        ],
        false,
    ),
    (
        RECOVERY_PATH,
        &[DataType::Metric(Metric::RecoveryScore)],
        true,
    ),
];

/// Suunto's activity list (`activityId` → its name, in snake case), as its API Zone
/// publishes it (`Activities.pdf`). Ids 4–9 are unnamed sports; 89 is unused.
const ACTIVITIES: [(i64, &str); 121] = [
    (0, "walking"),
    (1, "running"),
    (2, "cycling"),
    (3, "cross_country_skiing"),
    (4, "other_sports"),
    (5, "other_sports"),
    (6, "other_sports"),
    (7, "other_sports"),
    (8, "other_sports"),
    (9, "other_sports"),
    (10, "mountain_biking"),
    (11, "hiking"),
    (12, "roller_skating"),
    (13, "downhill_skiing"),
    (14, "paddling"),
    (15, "rowing"),
    (16, "golfing"),
    (17, "indoor_sports"),
    (18, "parkour"),
    (19, "ball_games"),
    (20, "outdoor_gym"),
    (21, "swimming"),
    (22, "trail_running"),
    (23, "gym"),
    (24, "nordic_walking"),
    (25, "horseback_riding"),
    (26, "motorsports"),
    (27, "skateboarding"),
    (28, "water_sports"),
    (29, "climbing"),
    (30, "snowboarding"),
    (31, "ski_touring"),
    (32, "fitness_class"),
    (33, "soccer"),
    (34, "tennis"),
    (35, "basketball"),
    (36, "badminton"),
    (37, "baseball"),
    (38, "volleyball"),
    (39, "american_football"),
    (40, "table_tennis"),
    (41, "racquetball"),
    (42, "squash"),
    (43, "floorball"),
    (44, "handball"),
    (45, "softball"),
    (46, "bowling"),
    (47, "cricket"),
    (48, "rugby"),
    (49, "ice_skating"),
    (50, "ice_hockey"),
    (51, "yoga_pilates"),
    (52, "indoor_cycling"),
    (53, "treadmill"),
    (54, "crossfit"),
    (55, "crosstrainer"),
    (56, "roller_skiing"),
    (57, "indoor_rowing"),
    (58, "stretching"),
    (59, "track_and_field"),
    (60, "orienteering"),
    (61, "standup_paddling"),
    (62, "combat_sport"),
    (63, "kettlebell"),
    (64, "dancing"),
    (65, "snowshoeing"),
    (66, "frisbee_golf"),
    (67, "futsal"),
    (68, "multisport"),
    (69, "aerobics"),
    (70, "trekking"),
    (71, "sailing"),
    (72, "kayaking"),
    (73, "circuit_training"),
    (74, "triathlon"),
    (75, "padel"),
    (76, "cheerleading"),
    (77, "boxing"),
    (78, "scuba_diving"),
    (79, "freediving"),
    (80, "adventure_racing"),
    (81, "gymnastics"),
    (82, "canoeing"),
    (83, "mountaineering"),
    (84, "telemark_skiing"),
    (85, "open_water_swimming"),
    (86, "windsurfing"),
    (87, "kitesurfing"),
    (88, "paragliding"),
    (90, "snorkeling"),
    (91, "surfing"),
    (92, "swimrun"),
    (93, "duathlon"),
    (94, "aquathlon"),
    (95, "obstacle_racing"),
    (96, "fishing"),
    (97, "hunting"),
    (98, "transition"),
    (99, "gravel_cycling"),
    (100, "mermaiding"),
    (101, "spearfishing"),
    (102, "jump_rope"),
    (103, "track_running"),
    (104, "calisthenics"),
    (105, "e_biking"),
    (106, "e_mtb"),
    (107, "backcountry_skiing"),
    (108, "wheelchair_sports"),
    (109, "hand_cycling"),
    (110, "splitboarding"),
    (111, "biathlon"),
    (112, "meditation"),
    (113, "field_hockey"),
    (114, "cyclocross"),
    (115, "vertical_running"),
    (116, "ski_mountaineering"),
    (117, "skate_skiing"),
    (118, "classic_skiing"),
    (119, "chores"),
    (120, "pilates"),
    (121, "yoga"),
];

/// Suunto's name for an `activityId`; an id its list lacks is kept as the number, which the
/// sport vocabulary files under `other`.
fn sport_name(id: i64) -> String {
    ACTIVITIES
        .iter()
        .find(|(known, _)| *known == id)
        .map_or_else(|| id.to_string(), |(_, name)| (*name).to_owned())
}

/// The account behind an access token: the `user` claim (the Suunto username webhooks name)
/// of the JWT's payload. The signature is not checked: the token came straight from Suunto's
/// token endpoint.
pub fn username(access_token: &str) -> Option<String> {
    let payload = access_token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims
        .get("user")
        .and_then(Value::as_str)
        .filter(|user| !user.is_empty())
        .map(str::to_owned)
}

fn origin(record_id: String) -> Origin {
    Origin {
        provider: ProviderId::Suunto,
        record_id,
        source: None,
    }
}

/// A workout (v3 list item, single workout or webhook summary) as a session.
fn workout(item: &Value) -> Option<Session> {
    let key = text(item, "/workoutKey").or_else(|| text(item, "/key"))?;
    let start = number(item, "/startTime")? as i64;
    let total = number(item, "/totalTime");
    // `stopTime` can be missing (a summary pushed before Suunto computed it).
    let end = number(item, "/stopTime")
        .map(|ms| ms as i64)
        .or_else(|| total.map(|seconds| start.saturating_add((seconds * 1000.0).round() as i64)))
        .unwrap_or(start)
        .max(start);
    let offset = number(item, "/timeOffsetInMinutes").map_or(0, |minutes| (minutes * 60.0) as i32);
    let source = text(item, "/gear/displayName").or_else(|| text(item, "/gear/name"));
    Some(Session {
        start_ms: start,
        end_ms: end,
        utc_offset_seconds: offset,
        date: local_date(start, offset),
        sport: number(item, "/activityId").map(|id| sport_name(id as i64)),
        duration_seconds: Some(total.unwrap_or(end.saturating_sub(start) as f64 / 1000.0)),
        distance_m: number(item, "/totalDistance"),
        // Workout energy is kcal (the 24/7 samples' is joules).
        energy_kcal: number(item, "/energyConsumption"),
        heart_rate_avg: number(item, "/hrdata/workoutAvgHR")
            .or_else(|| number(item, "/hrdata/avg")),
        // `hrdata.max` is the user's configured maximum, not the workout's.
        heart_rate_max: number(item, "/hrdata/hrmax")
            .or_else(|| number(item, "/hrdata/workoutMaxHR")),
        power_avg: number(item, "/avgPower"),
        power_max: number(item, "/maxPower"),
        cadence_avg: number(item, "/avgCadence"),
        ascent_m: number(item, "/totalAscent"),
        ..Session::new(
            SessionKind::Workout,
            Origin {
                provider: ProviderId::Suunto,
                record_id: key,
                source,
            },
        )
    })
}

/// A 24/7 entry's instant and the offset its `timestamp` is written in.
fn entry_time(entry: &Value) -> Option<(i64, i32)> {
    let raw = entry.get("timestamp")?.as_str()?;
    Some((instant_ms(raw)?, offset_of_rfc3339(raw)))
}

/// Whether the local day `date`, begun at `first_offset` and ended at `last_offset` (a DST
/// change may come between), overlaps `from..=to`.
fn day_meets(date: &str, first_offset: i32, last_offset: i32, (from, to): (i64, i64)) -> bool {
    match (
        local_day_bounds(date, first_offset),
        local_day_bounds(date, last_offset),
    ) {
        (Some((start, _)), Some((_, end))) => start <= to && end > from,
        _ => false,
    }
}

/// SpO2 in percent. The 24/7 samples give a 0–1 fraction; a value above 1 is read as a
/// percent already.
fn spo2_percent(raw: f64) -> Option<f64> {
    if raw <= 0.0 {
        return None;
    }
    let percent = if raw <= 1.0 { raw * 100.0 } else { raw };
    (percent <= 100.0).then_some((percent * 100.0).round() / 100.0)
}

/// A local day's step sum, with the offsets the day began and ended at.
struct DayTotal {
    total: f64,
    first_offset: i32,
    last_offset: i32,
}

/// Activity samples: heart rate and HRV as samples, each at its own offset; SpO2 readings;
/// steps summed per local date (each sample's offset decides its date).
///
/// `window` is the window a fetch was asked for, its samples read a day beyond it on each
/// side: the samples kept are the window's, and the step totals those of the local days that
/// meet it, summed whole. Pushed samples (`None`) are part of a day only: they give no step
/// totals (the push asks for a fetch of their days instead).
///
/// `EnergyConsumption` (joules) is not stored: Suunto documents it as energy consumption
/// only, not whether resting energy is in it, so it is neither active nor total calories.
fn activity(entries: &[Value], request: &FetchRequest, window: Option<(i64, i64)>) -> HealthBatch {
    let mut batch = HealthBatch::default();
    // One entry per instant: fetched pieces share their edges.
    let by_instant: BTreeMap<i64, (i32, &Value)> = entries
        .iter()
        .filter_map(|entry| {
            let (at, offset) = entry_time(entry)?;
            Some((at, (offset, entry.get("entryData")?)))
        })
        .collect();
    let in_window = |at: i64| window.is_none_or(|(from, to)| (from..=to).contains(&at));
    let mut heart_rate = Vec::new();
    let mut variability = Vec::new();
    let mut steps: BTreeMap<String, DayTotal> = BTreeMap::new();
    for (&at, &(offset, data)) in &by_instant {
        if in_window(at) {
            if let Some(bpm) = number(data, "/HR").filter(|bpm| *bpm > 0.0) {
                heart_rate.push((at, bpm, offset));
            }
            // An HRV of 0 is no reading.
            if let Some(rmssd) = number(data, "/HRV").filter(|rmssd| *rmssd > 0.0) {
                variability.push((at, rmssd, offset));
            }
            if let Some(percent) = number(data, "/SpO2").and_then(spo2_percent)
                && request.wants(Metric::BloodOxygen)
            {
                batch.measurements.push(Measurement {
                    metric: Metric::BloodOxygen,
                    at_ms: at,
                    utc_offset_seconds: offset,
                    date: local_date(at, offset),
                    value: percent,
                    secondary: None,
                    origin: origin(format!("spo2-{at}")),
                });
            }
        }
        if window.is_some()
            && let Some(count) = number(data, "/StepCount")
        {
            let day = steps.entry(local_date(at, offset)).or_insert(DayTotal {
                total: 0.0,
                first_offset: offset,
                last_offset: offset,
            });
            day.total += count;
            day.last_offset = offset;
        }
    }
    if request.wants(Metric::HeartRate) {
        batch.samples.extend(SampleSeries::by_offset(
            Metric::HeartRate,
            ProviderId::Suunto,
            heart_rate,
        ));
    }
    if request.wants(Metric::HeartRateVariability) {
        batch.samples.extend(SampleSeries::by_offset(
            Metric::HeartRateVariability,
            ProviderId::Suunto,
            variability,
        ));
    }
    if let Some(window) = window
        && request.wants(Metric::Steps)
    {
        for (date, day) in steps {
            if day_meets(&date, day.first_offset, day.last_offset, window) {
                batch.summaries.push(DailySummary {
                    metric: Metric::Steps,
                    value: day.total,
                    // The offset the day began at (the other is a DST change away at most).
                    utc_offset_seconds: day.first_offset,
                    origin: origin(format!("steps-{date}")),
                    date,
                });
            }
        }
    }
    batch
}

/// Sleep entries: a session each, counted on the wake-up day; the main sleep's (not a nap's)
/// lowest heart rate and mean HRV are that day's resting heart rate and HRV.
fn sleeps(entries: &[Value], request: &FetchRequest) -> HealthBatch {
    let mut batch = HealthBatch::default();
    for entry in entries {
        let Some(night) = entry.get("entryData") else {
            continue;
        };
        let (Some(id), Some(start_raw), Some(end_raw)) = (
            text(night, "/SleepId"),
            night.get("BedtimeStart").and_then(Value::as_str),
            night.get("BedtimeEnd").and_then(Value::as_str),
        ) else {
            continue;
        };
        let (Some(start), Some(end)) = (instant_ms(start_raw), instant_ms(end_raw)) else {
            continue;
        };
        if end <= start {
            continue;
        }
        let wake_offset = offset_of_rfc3339(end_raw);
        let date = local_date(end, wake_offset);
        let (deep, light, rem) = (
            number(night, "/DeepSleepDuration"),
            number(night, "/LightSleepDuration"),
            number(night, "/REMSleepDuration"),
        );
        let staged = deep.is_some() || light.is_some() || rem.is_some();
        let (deep, light, rem) = (
            deep.unwrap_or(0.0),
            light.unwrap_or(0.0),
            rem.unwrap_or(0.0),
        );
        let asleep = deep + light + rem;
        // `Duration` is the time in bed: what the stages leave of it was awake.
        let in_bed = number(night, "/Duration").unwrap_or((end - start) as f64 / 1000.0);
        if request.wants_sessions(SessionKind::Sleep) {
            batch.sessions.push(Session {
                start_ms: start,
                end_ms: end,
                utc_offset_seconds: offset_of_rfc3339(start_raw),
                date: date.clone(),
                duration_seconds: staged.then_some(asleep),
                heart_rate_avg: number(night, "/HRAvg"),
                heart_rate_min: number(night, "/HRMin"),
                stage_seconds: staged.then(|| StageTotals {
                    awake: (in_bed - asleep).max(0.0),
                    light,
                    deep,
                    rem,
                }),
                score: number(night, "/SleepQualityScore"),
                ..Session::new(SessionKind::Sleep, origin(id.clone()))
            });
        }
        if night.get("IsNap").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        for (metric, value) in [
            (Metric::RestingHeartRate, number(night, "/HRMin")),
            (Metric::HeartRateVariability, number(night, "/AvgHRV")),
        ] {
            if let Some(value) = value.filter(|value| *value > 0.0 && request.wants(metric)) {
                batch.summaries.push(DailySummary {
                    metric,
                    date: date.clone(),
                    value,
                    utc_offset_seconds: wake_offset,
                    origin: origin(id.clone()),
                });
            }
        }
    }
    batch
}

/// Recovery entries: the day's latest `Balance` (0–1) as its recovery score (0–100).
/// `window` as for `activity`: only the days that meet it, each read whole.
fn recovery(entries: &[Value], request: &FetchRequest, window: (i64, i64)) -> HealthBatch {
    let mut batch = HealthBatch::default();
    if !request.wants(Metric::RecoveryScore) {
        return batch;
    }
    let mut latest: BTreeMap<String, (i64, i32, f64)> = BTreeMap::new();
    for entry in entries {
        let (Some((at, offset)), Some(balance)) =
            (entry_time(entry), number(entry, "/entryData/Balance"))
        else {
            continue;
        };
        if !(0.0..=1.0).contains(&balance) {
            continue;
        }
        let date = local_date(at, offset);
        if latest.get(&date).is_none_or(|(seen, _, _)| *seen < at) {
            latest.insert(date, (at, offset, balance));
        }
    }
    for (date, (at, offset, balance)) in latest {
        if !day_meets(&date, offset, offset, window) {
            continue;
        }
        batch.summaries.push(DailySummary {
            metric: Metric::RecoveryScore,
            value: (balance * 1000.0).round() / 10.0,
            utc_offset_seconds: offset,
            origin: origin(format!("recovery-{at}")),
            date,
        });
    }
    batch
}

/// Maps 24/7 samples Suunto pushed (`{ "<SUUNTO_247_…_CREATED>": [samples…] }`) into the
/// schema. Pushed activity gives no step totals and recovery no day's score: a push holds
/// part of a day, and its days' figures come from the fetch the push notice also asks for.
pub fn pushed(body: &Value, request: &FetchRequest) -> HealthBatch {
    let mut batch = HealthBatch::default();
    for (kind, items) in body.as_object().into_iter().flatten() {
        let Some(items) = items.as_array() else {
            continue;
        };
        batch.extend(match kind.as_str() {
            ACTIVITY_PUSH => activity(items, request, None),
            SLEEP_PUSH => sleeps(items, request),
            _ => continue,
        });
    }
    batch
}

/// A reply's `payload`, once its `error` (which Suunto sets even on HTTP 200) names none. An
/// error is worth retrying: an empty list would pass for "no workouts".
fn payload<'a>(body: &'a Value, path: &str) -> Result<Option<&'a Value>, FetchError> {
    let failed = match body.get("error") {
        None | Some(Value::Null) => false,
        Some(Value::String(error)) => !error.is_empty(),
        Some(Value::Object(fields)) => fields
            .values()
            .any(|value| !value.is_null() && value.as_str() != Some("")),
        Some(_) => true,
    };
    if failed {
        let code = text(body, "/error/code")
            .or_else(|| text(body, "/error"))
            .unwrap_or_else(|| "unnamed".into());
        return Err(FetchError::Unavailable(format!(
            "{path}: Suunto answered an error ({code})"
        )));
    }
    Ok(body.get("payload"))
}

/// Workouts changed since the window's start (so an edit to an older one comes again),
/// except those that start after the window.
async fn workouts(
    gateway: &JsonApi<'_>,
    request: &FetchRequest,
) -> Result<Got<Vec<Session>>, FetchError> {
    const PATH: &str = "/v3/workouts";
    let to = request.to.millis();
    let mut sessions = Vec::new();
    for page in 0..MAX_PAGES {
        let query = [
            ("since", request.from.millis().to_string()),
            ("limit", PAGE_SIZE.to_string()),
            ("offset", (page * PAGE_SIZE).to_string()),
            ("filter-by-modification-time", "true".to_owned()),
        ];
        let body = match gateway.get(PATH, &query).await? {
            Got::Data(body) => body,
            Got::Forbidden => return Ok(Got::Forbidden),
            Got::Missing => break,
        };
        let items = payload(&body, PATH)?
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        sessions.extend(
            items
                .iter()
                .filter_map(workout)
                .filter(|session| session.start_ms < to),
        );
        if items.len() < PAGE_SIZE {
            break;
        }
    }
    Ok(Got::Data(sessions))
}

/// A 24/7 collection over `from..=to`, 28 days a call. The pieces share their edges; the
/// mappings keep one entry per instant or record.
async fn samples(
    gateway: &JsonApi<'_>,
    path: &str,
    from: i64,
    to: i64,
) -> Result<Got<Vec<Value>>, FetchError> {
    let mut entries = Vec::new();
    let mut start = from;
    while start < to {
        let end = start.saturating_add(SAMPLES_WINDOW_MS).min(to);
        let query = [("from", start.to_string()), ("to", end.to_string())];
        match gateway.get(path, &query).await? {
            Got::Data(Value::Array(found)) => entries.extend(found),
            Got::Data(other) => {
                payload(&other, path)?;
                return Err(FetchError::Protocol(format!(
                    "{path}: the reply is not a list"
                )));
            }
            Got::Missing => {}
            Got::Forbidden => return Ok(Got::Forbidden),
        }
        start = end;
    }
    Ok(Got::Data(entries))
}

pub async fn fetch(
    http: &reqwest::Client,
    settings: &ProviderSettings,
    token: &SecretString,
    request: &FetchRequest,
) -> Result<HealthBatch, FetchError> {
    let Some(subscription_key) = settings.subscription_key.as_ref() else {
        return Err(FetchError::Protocol(
            "Suunto's API takes no call without the app's subscription key".into(),
        ));
    };
    let gateway = JsonApi::new(http, &settings.api_url, token, &request.budget)
        .with_subscription_key(subscription_key);
    let window = (request.from.millis(), request.to.millis());
    let mut batch = HealthBatch::default();
    if request.wants_sessions(SessionKind::Workout) {
        match workouts(&gateway, request).await? {
            Got::Data(sessions) => batch.sessions.extend(sessions),
            Got::Forbidden | Got::Missing => {
                batch.skipped.push(DataType::Session(SessionKind::Workout));
            }
        }
    }
    for (path, types, whole_days) in COLLECTIONS {
        let wanted = request.wanted(types);
        if wanted.is_empty() {
            continue;
        }
        let margin = if whole_days { WHOLE_DAY_MARGIN_MS } else { 0 };
        let entries = match samples(
            &gateway,
            path,
            window.0.saturating_sub(margin),
            window.1.saturating_add(margin),
        )
        .await?
        {
            Got::Data(entries) => entries,
            Got::Forbidden | Got::Missing => {
                batch.skipped.extend(wanted);
                continue;
            }
        };
        batch.extend(match path {
            ACTIVITY_PATH => activity(&entries, request, Some(window)),
            SLEEP_PATH => sleeps(&entries, request),
            _ => recovery(&entries, request, window),
        });
    }
    Ok(batch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use vitasync_domain::kernel::time::Timestamp;

    fn request() -> FetchRequest {
        FetchRequest {
            time_zone: None,
            last_synced_at: None,
            from: Timestamp::parse("2026-03-01T00:00:00Z").unwrap(),
            to: Timestamp::parse("2026-03-03T00:00:00Z").unwrap(),
            data_types: Vec::new(),
            provider_user_id: "trailrunner42".into(),
            granted_scopes: Vec::new(),
            budget: Default::default(),
        }
    }

    #[test]
    fn the_account_is_the_tokens_user_claim_not_its_subject() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"a1b2c3","user":"trailrunner42"}"#);
        assert_eq!(
            username(&format!("eyJhbGciOiJIUzI1NiJ9.{payload}.c2ln")).as_deref(),
            Some("trailrunner42")
        );
        // Padded base64url reads too.
        assert_eq!(
            username(&format!("h.{payload}==.s")).as_deref(),
            Some("trailrunner42")
        );
        let no_user = URL_SAFE_NO_PAD.encode(br#"{"sub":"a1b2c3"}"#);
        assert_eq!(username(&format!("h.{no_user}.s")), None);
        assert_eq!(username("opaque-token"), None);
    }

    #[test]
    fn a_workout_without_stop_time_ends_after_its_total_time_and_keeps_the_workout_max() {
        let session = workout(&json!({
            "workoutKey": "k1", "activityId": 2, "startTime": 1_772_391_600_000_i64,
            "totalTime": 5400.5, "timeOffsetInMinutes": 345, "energyConsumption": 980,
            "hrdata": { "workoutMaxHR": 168, "userMaxHR": 189, "max": 189 },
        }))
        .unwrap();
        assert_eq!(session.end_ms, 1_772_391_600_000 + 5_400_500);
        assert_eq!(
            (session.date.as_str(), session.utc_offset_seconds),
            ("2026-03-02", 20_700)
        );
        assert_eq!(session.heart_rate_max, Some(168.0));
        assert_eq!(session.energy_kcal, Some(980.0));
        assert_eq!(session.sport.as_deref(), Some("cycling"));
        assert_eq!(sport_name(9_999), "9999");
    }

    #[test]
    fn pushed_activity_keeps_each_samples_offset_and_gives_no_partial_day_totals() {
        let body = json!({ ACTIVITY_PUSH: [
            { "timestamp": "2026-03-29T01:50:00.000+01:00",
              "entryData": { "HR": 50, "StepCount": 5, "SpO2": 0.97, "HRV": 0 } },
            { "timestamp": "2026-03-29T03:10:00.000+02:00",
              "entryData": { "HR": 49, "StepCount": 0, "HRV": 58 } },
        ]});
        let batch = pushed(&body, &request());
        assert!(batch.summaries.is_empty());
        let offsets: Vec<i32> = batch
            .samples
            .iter()
            .filter(|s| s.metric == Metric::HeartRate)
            .map(|s| s.utc_offset_seconds)
            .collect();
        assert_eq!(offsets, [3600, 7200]);
        assert_eq!(batch.measurements[0].value, 97.0);
        assert_eq!(spo2_percent(0.955), Some(95.5));
        assert_eq!(spo2_percent(0.0), None);
    }
}
