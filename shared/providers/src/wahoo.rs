//! Wahoo Cloud API: workouts (ELEMNT, KICKR, TICKR and app recordings) with their summaries.
//! `/v1/workouts` takes no window: it pages by number, newest first, at most 100 a page, so
//! paging ends at an empty page, at the reported total, or once the list reaches workouts from
//! before the window. Summary numbers arrive as decimal strings (or numbers, or null when a
//! sensor was absent); `starts` is the UTC instant and the summary's IANA `time_zone` gives the
//! local time (a workout without one, a manual entry, takes the user's zone: that of their
//! newest workout with one, else the account's last known). A workout without a summary is a
//! plan or still under way: not data yet.

use crate::rest::{Got, JsonApi, instant_ms, local_date, number, offset_seconds, text};
use chrono_tz::Tz;
use secrecy::SecretString;
use serde_json::Value;
use vitasync_domain::health::{DataType, HealthBatch, Origin, Session, SessionKind};
use vitasync_domain::providers::client::{FetchError, FetchRequest};
use vitasync_domain::providers::{ProviderId, ProviderSettings};

/// Wahoo's largest page.
const PER_PAGE: u32 = 100;
/// Pages of workouts, at most, per sync (a guard against a list that never ends).
const MAX_PAGES: u32 = 200;
const WORKOUTS_SCOPE: &str = "workouts_read";

fn origin(record_id: String) -> Origin {
    Origin {
        provider: ProviderId::Wahoo,
        record_id,
        source: None,
    }
}

/// A finite number at `pointer`, from a JSON number or a decimal string.
fn value(record: &Value, pointer: &str) -> Option<f64> {
    number(record, pointer).filter(|n| n.is_finite())
}

/// Wahoo's documented workout types (`workout_type_id`), by their names in its reference.
fn workout_type(id: i64) -> Option<&'static str> {
    Some(match id {
        0 => "BIKING",
        1 => "RUNNING",
        2 => "FE",
        3 => "RUNNING_TRACK",
        4 => "RUNNING_TRAIL",
        5 => "RUNNING_TREADMILL",
        6 => "WALKING",
        7 => "WALKING_SPEED",
        8 => "WALKING_NORDIC",
        9 => "HIKING",
        10 => "MOUNTAINEERING",
        11 => "BIKING_CYCLECROSS",
        12 => "BIKING_INDOOR",
        13 => "BIKING_MOUNTAIN",
        14 => "BIKING_RECUMBENT",
        15 => "BIKING_ROAD",
        16 => "BIKING_TRACK",
        17 => "BIKING_MOTOCYCLING",
        18 => "FE_GENERAL",
        19 => "FE_TREADMILL",
        20 => "FE_ELLIPTICAL",
        21 => "FE_BIKE",
        22 => "FE_ROWER",
        23 => "FE_CLIMBER",
        25 => "SWIMMING_LAP",
        26 => "SWIMMING_OPEN_WATER",
        27 => "SNOWBOARDING",
        28 => "SKIING",
        29 => "SKIING_DOWNHILL",
        30 => "SKIING_CROSS_COUNTRY",
        31 => "SKATING",
        32 => "SKATING_ICE",
        33 => "SKATING_INLINE",
        34 => "LONG_BOARDING",
        35 => "SAILING",
        36 => "WINDSURFING",
        37 => "CANOEING",
        38 => "KAYAKING",
        39 => "ROWING",
        40 => "KITEBOARDING",
        41 => "STAND_UP_PADDLE_BOARD",
        42 => "WORKOUT",
        43 => "CARDIO_CLASS",
        44 => "STAIR_CLIMBER",
        45 => "WHEELCHAIR",
        46 => "GOLFING",
        47 => "OTHER",
        49 => "BIKING_INDOOR_CYCLING_CLASS",
        56 => "WALKING_TREADMILL",
        61 => "BIKING_INDOOR_TRAINER",
        62 => "MULTISPORT",
        63 => "TRANSITION",
        64 => "EBIKING",
        65 => "TICKR_OFFLINE",
        66 => "YOGA",
        67 => "RUNNING_RACE",
        68 => "BIKING_INDOOR_VIRTUAL",
        69 => "MENTAL_STRENGTH",
        70 => "HANDCYCLING",
        71 => "RUNNING_INDOOR_VIRTUAL",
        255 => "UNKNOWN",
        _ => return None,
    })
}

/// The sport's name for a `workout_type_id`; a code Wahoo added since keeps its number.
fn sport_name(id: f64) -> String {
    let code = id as i64;
    match workout_type(code) {
        Some(name) => name.to_owned(),
        None => format!("WORKOUT_TYPE_{code}"),
    }
}

/// The UTC offset (seconds) in force at `at_ms` in `zone`: an IANA name (DST included), or a
/// fixed `±HH:MM`; `None` when the zone is missing or unknown.
fn offset_in(zone: Option<&str>, at_ms: i64) -> Option<i32> {
    let zone = zone.map(str::trim).filter(|zone| !zone.is_empty())?;
    match zone.parse::<Tz>() {
        Ok(tz) => Some(crate::rest::offset_at(tz, at_ms)),
        Err(_) => offset_seconds(zone),
    }
}

/// A record's workout and its summary: the list's workout holds its summary, a webhook's
/// summary holds its workout.
fn workout_and_summary(record: &Value) -> Option<(&Value, &Value)> {
    match record.get("workout") {
        Some(inner) if inner.is_object() => Some((inner, record)),
        _ => Some((record, record.get("workout_summary")?)),
    }
}

/// The IANA zone a workout's summary names, when VitaSync knows it.
fn named_zone(record: &Value) -> Option<&str> {
    let (_, summary) = workout_and_summary(record)?;
    let zone = summary.get("time_zone").and_then(Value::as_str)?.trim();
    zone.parse::<Tz>().ok().map(|_| zone)
}

fn starts(entry: &Value) -> Option<i64> {
    entry
        .get("starts")
        .and_then(Value::as_str)
        .and_then(instant_ms)
}

/// The summary fields that make it a record of a workout done.
const MEASURES: [&str; 7] = [
    "/duration_total_accum",
    "/duration_active_accum",
    "/distance_accum",
    "/calories_accum",
    "/heart_rate_avg",
    "/power_avg",
    "/power_bike_avg",
];

/// A workout as `/v1/workouts` lists it (its summary inside), or a webhook's
/// `workout_summary` (the workout inside the summary). `None` without a summary: a planned
/// workout, or one not finished. `fallback_zone` stands in for a summary without a zone.
pub fn workout(record: &Value, fallback_zone: Option<&str>) -> Option<Session> {
    let (entry, summary) = workout_and_summary(record)?;
    // A new workout's summary is empty until Wahoo fills it in: not data yet. A manual entry
    // may hold no more than its minutes.
    let measured = MEASURES
        .iter()
        .any(|measure| value(summary, measure).is_some());
    let manual = summary.get("manual").and_then(Value::as_bool) == Some(true)
        && value(entry, "/minutes").is_some();
    if !measured && !manual {
        return None;
    }
    let id = text(entry, "/id")?;
    let start = starts(entry)?;
    let offset = offset_in(summary.get("time_zone").and_then(Value::as_str), start)
        .or_else(|| offset_in(fallback_zone, start))
        .unwrap_or(0);
    let duration = value(summary, "/duration_total_accum")
        .or_else(|| value(entry, "/minutes").map(|minutes| minutes * 60.0))
        .filter(|seconds| seconds.is_finite() && *seconds >= 0.0);
    let duration_ms = duration.map_or(0, |seconds| (seconds * 1000.0).round() as i64);
    Some(Session {
        start_ms: start,
        end_ms: start.saturating_add(duration_ms),
        utc_offset_seconds: offset,
        date: local_date(start, offset),
        sport: value(entry, "/workout_type_id").map(sport_name),
        duration_seconds: duration,
        distance_m: value(summary, "/distance_accum"),
        // `work_accum` is mechanical work in joules, not the energy the body burned.
        energy_kcal: value(summary, "/calories_accum"),
        heart_rate_avg: value(summary, "/heart_rate_avg"),
        heart_rate_max: value(summary, "/heart_rate_max"),
        heart_rate_min: value(summary, "/heart_rate_min"),
        power_avg: value(summary, "/power_avg").or_else(|| value(summary, "/power_bike_avg")),
        power_max: value(summary, "/power_max"),
        power_normalized: value(summary, "/power_bike_np_last"),
        training_stress_score: value(summary, "/power_bike_tss_last"),
        cadence_avg: value(summary, "/cadence_avg"),
        ascent_m: value(summary, "/ascent_accum"),
        ..Session::new(SessionKind::Workout, origin(id))
    })
}

/// One page of the list: the workouts that start, or were uploaded or edited, in
/// `[from, to)` (a ride uploaded days late is still the window's news), and whether the page
/// reached workouts from before `from`. The order is documented only as newest first: a
/// workout counts as before the window once it both started and was created before it (an
/// old ride uploaded late can sit among new ones when the list is by creation).
fn page_in_window(workouts: &[Value], from: i64, to: i64) -> (Vec<&Value>, bool) {
    let mut listed = Vec::new();
    let mut reached_older = false;
    let window = from..to;
    for record in workouts {
        let Some(start) = starts(record) else {
            continue;
        };
        let instant = |field: &str| {
            record
                .get(field)
                .and_then(Value::as_str)
                .and_then(instant_ms)
        };
        let created = instant("created_at").unwrap_or(start);
        if start < from && created < from {
            reached_older = true;
        }
        let news = [Some(start), Some(created), instant("updated_at")]
            .into_iter()
            .flatten()
            .any(|at| window.contains(&at));
        if news {
            listed.push(record);
        }
    }
    (listed, reached_older)
}

pub async fn fetch(
    http: &reqwest::Client,
    settings: &ProviderSettings,
    token: &SecretString,
    request: &FetchRequest,
) -> Result<HealthBatch, FetchError> {
    let mut batch = HealthBatch::default();
    if !request.wants_sessions(SessionKind::Workout) {
        return Ok(batch);
    }
    if !request.granted(WORKOUTS_SCOPE) {
        batch.skipped.push(DataType::Session(SessionKind::Workout));
        return Ok(batch);
    }
    let api = JsonApi::new(http, &settings.api_url, token, &request.budget);
    let (from, to) = (request.from.millis(), request.to.millis());
    // The user's zone: that of their newest workout with one (the list is newest first and
    // always read from its first page), whatever the window; else the account's.
    let mut newest_zone: Option<String> = None;
    for page in 1..=MAX_PAGES {
        let query = [
            ("page", page.to_string()),
            ("per_page", PER_PAGE.to_string()),
        ];
        let body = match api.get("/v1/workouts", &query).await? {
            Got::Data(body) => body,
            Got::Forbidden => {
                batch.skipped.push(DataType::Session(SessionKind::Workout));
                break;
            }
            Got::Missing => break,
        };
        let Some(workouts) = body.get("workouts").and_then(Value::as_array) else {
            return Err(FetchError::Protocol("workouts: not a list".into()));
        };
        if workouts.is_empty() {
            break;
        }
        if newest_zone.is_none() {
            newest_zone = workouts.iter().find_map(named_zone).map(str::to_owned);
        }
        let users_zone = newest_zone.as_deref().or(request.time_zone.as_deref());
        let (records, reached_older) = page_in_window(workouts, from, to);
        batch.sessions.extend(
            records
                .into_iter()
                .filter_map(|record| workout(record, users_zone)),
        );
        let listed_all =
            value(&body, "/total").is_some_and(|total| f64::from(page * PER_PAGE) >= total);
        if reached_older || listed_all {
            break;
        }
    }
    batch.time_zone = newest_zone;
    Ok(batch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use vitasync_domain::health::sports::sport_of;

    fn sample(name: &str) -> Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/providers/wahoo")
            .join(name);
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    fn ms(raw: &str) -> i64 {
        instant_ms(raw).unwrap()
    }

    fn workout_of(record: &Value) -> Option<Session> {
        workout(record, None)
    }

    fn ride(summary: Value) -> Value {
        json!({
            "id": 4242,
            "starts": "2026-03-01T09:15:00.000Z",
            "minutes": 95,
            "workout_type_id": 0,
            "plan_id": null,
            "workout_summary": summary,
            "created_at": "2026-03-01T11:00:00.000Z",
        })
    }

    #[test]
    fn a_summary_of_decimal_strings_lands_in_si_units_at_its_zones_offset() {
        let session = workout_of(&ride(json!({
            "id": 1,
            "ascent_accum": "412.0",
            "calories_accum": "1021.0",
            "distance_accum": "48210.7",
            "duration_total_accum": "5702.0",
            "cadence_avg": "86.0",
            "heart_rate_avg": "141.0",
            "power_avg": "201.5",
            "power_bike_np_last": "219.0",
            "power_bike_tss_last": "92.4",
            "work_accum": "1149453.0",
            "time_zone": "Europe/Berlin",
        })))
        .unwrap();
        assert_eq!(session.kind, SessionKind::Workout);
        assert_eq!(session.origin.record_id, "4242");
        assert_eq!(session.origin.provider, ProviderId::Wahoo);
        assert_eq!(session.start_ms, ms("2026-03-01T09:15:00Z"));
        assert_eq!(session.end_ms, ms("2026-03-01T09:15:00Z") + 5_702_000);
        assert_eq!(
            (session.date.as_str(), session.utc_offset_seconds),
            ("2026-03-01", 3600)
        );
        assert_eq!(session.sport.as_deref(), Some("BIKING"));
        assert_eq!(session.duration_seconds, Some(5702.0));
        assert_eq!(session.distance_m, Some(48210.7));
        assert_eq!(session.energy_kcal, Some(1021.0), "kcal, never work_accum");
        assert_eq!(session.heart_rate_avg, Some(141.0));
        assert_eq!(session.power_avg, Some(201.5));
        assert_eq!(session.power_normalized, Some(219.0));
        assert_eq!(session.training_stress_score, Some(92.4));
        assert_eq!(session.cadence_avg, Some(86.0));
        assert_eq!(session.ascent_m, Some(412.0));
        assert_eq!(session.heart_rate_max, None);
    }

    #[test]
    fn the_summarys_documented_extremes_land_when_present() {
        let session = workout_of(&ride(json!({
            "id": 8,
            "duration_total_accum": "3600.0",
            "heart_rate_max": "178.0",
            "heart_rate_min": "92.0",
            "power_max": "612.0",
        })))
        .unwrap();
        assert_eq!(
            (
                session.heart_rate_max,
                session.heart_rate_min,
                session.power_max
            ),
            (Some(178.0), Some(92.0), Some(612.0))
        );
    }

    #[test]
    fn a_workout_without_a_zone_takes_the_one_it_is_given() {
        let manual = ride(json!({"id": 10, "duration_total_accum": "600"}));
        let session = workout(&manual, Some("Asia/Kathmandu")).unwrap();
        assert_eq!(
            (session.date.as_str(), session.utc_offset_seconds),
            ("2026-03-01", 20_700)
        );
        // Its own zone wins.
        let mut zoned = manual.clone();
        zoned["workout_summary"]["time_zone"] = json!("Europe/Berlin");
        let session = workout(&zoned, Some("Asia/Kathmandu")).unwrap();
        assert_eq!(session.utc_offset_seconds, 3600);
    }

    #[test]
    fn only_a_zone_vitasync_knows_is_the_users() {
        let named =
            ride(json!({"id": 11, "duration_total_accum": "60", "time_zone": "Asia/Kathmandu"}));
        assert_eq!(named_zone(&named), Some("Asia/Kathmandu"));
        let unknown =
            ride(json!({"id": 12, "duration_total_accum": "60", "time_zone": "Nowhere/Else"}));
        assert_eq!(named_zone(&unknown), None);
        let fixed = ride(json!({"id": 13, "duration_total_accum": "60", "time_zone": "+05:30"}));
        assert_eq!(named_zone(&fixed), None, "an offset is not a zone");
    }

    #[test]
    fn a_manual_entry_of_minutes_alone_is_data() {
        let mut manual = ride(json!({"id": 14, "manual": true, "duration_total_accum": null}));
        assert_eq!(
            workout_of(&manual).unwrap().duration_seconds,
            Some(95.0 * 60.0)
        );
        manual["workout_summary"]["manual"] = json!(false);
        assert_eq!(
            workout_of(&manual),
            None,
            "a recording's empty summary is not"
        );
    }

    #[test]
    fn a_summary_not_filled_in_yet_is_not_data() {
        // Wahoo creates the summary with the workout and fills it in later.
        let empty = ride(json!({
            "id": 9,
            "ascent_accum": null,
            "calories_accum": null,
            "distance_accum": null,
            "duration_active_accum": null,
            "duration_total_accum": null,
            "heart_rate_avg": null,
            "power_avg": null,
            "time_zone": "Europe/Berlin",
        }));
        assert_eq!(workout_of(&empty), None);
    }

    #[test]
    fn numbers_are_read_from_json_numbers_too_and_absent_sensors_stay_unset() {
        let session = workout_of(&ride(json!({
            "id": 2,
            "distance_accum": 5200.5,
            "calories_accum": 310,
            "duration_total_accum": 1800,
            "heart_rate_avg": null,
            "power_avg": null,
            "power_bike_np_last": null,
            "power_bike_tss_last": null,
            "cadence_avg": null,
            "ascent_accum": "",
        })))
        .unwrap();
        assert_eq!(session.distance_m, Some(5200.5));
        assert_eq!(session.energy_kcal, Some(310.0));
        assert_eq!(session.duration_seconds, Some(1800.0));
        assert_eq!(
            (
                session.heart_rate_avg,
                session.power_avg,
                session.power_normalized,
                session.training_stress_score,
                session.cadence_avg,
                session.ascent_m
            ),
            (None, None, None, None, None, None)
        );
        // No zone: UTC.
        assert_eq!(session.utc_offset_seconds, 0);
        assert_eq!(session.date, "2026-03-01");
    }

    #[test]
    fn the_bike_power_name_is_read_when_power_avg_is_absent() {
        let session = workout_of(&ride(json!({"id": 3, "power_bike_avg": "187.0"}))).unwrap();
        assert_eq!(session.power_avg, Some(187.0));
    }

    #[test]
    fn without_a_total_duration_the_minutes_give_it() {
        let session = workout_of(&ride(
            json!({"id": 4, "duration_total_accum": null, "distance_accum": "1000.0"}),
        ))
        .unwrap();
        assert_eq!(session.duration_seconds, Some(95.0 * 60.0));
        assert_eq!(session.end_ms - session.start_ms, 95 * 60_000);
    }

    #[test]
    fn the_offset_is_the_one_in_force_at_the_start_dst_and_odd_offsets_included() {
        let at = |raw: &str, zone: &str| offset_in(Some(zone), ms(raw)).unwrap_or(i32::MIN);
        // Berlin springs forward at 01:00 UTC on 29 March 2026.
        assert_eq!(at("2026-03-29T00:30:00Z", "Europe/Berlin"), 3600);
        assert_eq!(at("2026-03-29T08:00:00Z", "Europe/Berlin"), 7200);
        assert_eq!(at("2026-03-02T20:00:00Z", "Asia/Kathmandu"), 20_700);
        assert_eq!(at("2026-03-02T20:00:00Z", "America/St_Johns"), -12_600);
        assert_eq!(at("2026-03-02T20:00:00Z", "+05:30"), 19_800);
        assert_eq!(
            offset_in(Some("Mars/Olympus_Mons"), ms("2026-03-02T20:00:00Z")),
            None
        );
        assert_eq!(offset_in(None, ms("2026-03-02T20:00:00Z")), None);

        // The local date follows the zone: 01:45 on the 3rd in Kathmandu.
        let mut record =
            ride(json!({"id": 5, "duration_total_accum": "60", "time_zone": "Asia/Kathmandu"}));
        record["starts"] = json!("2026-03-02T20:00:00.000Z");
        let session = workout_of(&record).unwrap();
        assert_eq!(
            (session.date.as_str(), session.utc_offset_seconds),
            ("2026-03-03", 20_700)
        );
    }

    #[test]
    fn a_workout_without_a_summary_is_not_data() {
        let mut planned = ride(Value::Null);
        planned["plan_id"] = json!(775);
        assert_eq!(workout_of(&planned), None);
        let mut bare = ride(Value::Null);
        if let Some(fields) = bare.as_object_mut() {
            fields.remove("workout_summary");
        }
        assert_eq!(workout_of(&bare), None);
        let mut no_start = ride(json!({"id": 6}));
        no_start["starts"] = json!("yesterday");
        assert_eq!(workout_of(&no_start), None);
    }

    #[test]
    fn a_webhooks_summary_carries_its_workout_inside() {
        let body = sample("webhook-workout-summary.json");
        let session = workout_of(&body["workout_summary"]).unwrap();
        let listed = sample("workouts.json");
        let same = listed["workouts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["id"] == body["workout_summary"]["workout"]["id"])
            .unwrap();
        assert_eq!(
            Some(session),
            workout_of(same),
            "one record, however it came"
        );
    }

    #[test]
    fn workout_types_are_named_as_wahoo_documents_them_and_map_to_sports() {
        for (id, name, sport) in [
            (0.0, "BIKING", "cycling"),
            (1.0, "RUNNING", "running"),
            (5.0, "RUNNING_TREADMILL", "running"),
            (13.0, "BIKING_MOUNTAIN", "cycling"),
            (11.0, "BIKING_CYCLECROSS", "cycling"),
            (61.0, "BIKING_INDOOR_TRAINER", "cycling"),
            (25.0, "SWIMMING_LAP", "swimming"),
            (9.0, "HIKING", "hiking"),
            (22.0, "FE_ROWER", "rowing"),
            (66.0, "YOGA", "yoga"),
            (47.0, "OTHER", "other"),
        ] {
            assert_eq!(sport_name(id), name);
            assert_eq!(sport_of(name), sport, "{name}");
        }
        assert_eq!(sport_name(99.0), "WORKOUT_TYPE_99");
    }

    #[test]
    fn a_page_keeps_the_window_and_says_when_the_list_went_past_it() {
        let from = ms("2026-03-01T00:00:00Z");
        let to = ms("2026-03-03T00:00:00Z");
        let at = |starts: &str, created: &str| {
            let mut record = ride(json!({"id": 7, "duration_total_accum": "3600"}));
            record["starts"] = json!(starts);
            record["created_at"] = json!(created);
            record
        };
        let newer = at("2026-03-05T08:00:00Z", "2026-03-05T10:00:00Z");
        let inside = at("2026-03-02T08:00:00Z", "2026-03-02T10:00:00Z");
        let page = [newer, inside.clone()];
        let (kept, older) = page_in_window(&page, from, to);
        assert_eq!((kept.len(), older), (1, false));
        // Started before the window but uploaded in it: the window's news, and the list may
        // go on with the window.
        let late = at("2026-02-27T08:00:00Z", "2026-03-02T10:00:00Z");
        let page = [late];
        let (kept, older) = page_in_window(&page, from, to);
        assert_eq!((kept.len(), older), (1, false));
        let before = at("2026-02-28T08:00:00Z", "2026-02-28T10:00:00Z");
        let page = [inside, before];
        let (kept, older) = page_in_window(&page, from, to);
        assert_eq!((kept.len(), older), (1, true));
        let midnight = at("2026-03-03T00:00:00Z", "2026-03-03T01:00:00Z");
        let page = [midnight];
        let (kept, _) = page_in_window(&page, from, to);
        assert!(kept.is_empty(), "the window's end is exclusive");
    }
}
