//! Dexcom (API v3), a continuous glucose monitor: estimated glucose values (EGVs) every five
//! minutes, and what the user logs beside them (carbs, insulin, finger-stick glucose,
//! exercise). Pull only. A call covers a window of at most 30 days (`startDate`/`endDate`,
//! UTC written without an offset, matched against `systemTime`) and answers it whole, records
//! at its edges included; `dataRange` says where the user's records begin and end. Times
//! carry a UTC offset when a phone app recorded them and none when a receiver did.

use crate::rest::{Got, JsonApi, local_date, number, text};
use chrono::{DateTime, NaiveDateTime};
use secrecy::SecretString;
use serde_json::Value;
use std::collections::BTreeMap;
use vitasync_domain::health::{
    DataType, HealthBatch, Measurement, Metric, Origin, Retraction, SampleSeries, Session,
    SessionKind, glucose_mmol_l,
};
use vitasync_domain::providers::client::{FetchError, FetchRequest};
use vitasync_domain::providers::{ProviderId, ProviderSettings};

const DATA_RANGE: &str = "/v3/users/self/dataRange";
/// How far before a sync's window a late upload is still read, and how recent the last sync
/// must be to ask for late uploads at all.
const LATE_UPLOAD_REACH_MS: i64 = 30 * 86_400_000;
const EGVS: &str = "/v3/users/self/egvs";
const EVENTS: &str = "/v3/users/self/events";

/// The longest window one call may ask for.
const WINDOW_MS: i64 = 30 * 86_400_000;
/// Offsets are read to the quarter hour: zones run in quarter hours (+05:45, −03:30).
const QUARTER_HOUR_MS: i64 = 900_000;
/// Offsets on Earth lie within ±14 hours.
const MAX_OFFSET_MS: i64 = 14 * 3_600_000;

/// What the events endpoint brings.
const EVENT_TYPES: [DataType; 4] = [
    DataType::Metric(Metric::Carbohydrates),
    DataType::Metric(Metric::Insulin),
    DataType::Metric(Metric::Glucose),
    DataType::Session(SessionKind::Workout),
];

/// A Dexcom time: the wall clock written, and the UTC offset written with it (receivers
/// write none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DexcomTime {
    pub wall: NaiveDateTime,
    pub offset_seconds: Option<i32>,
}

impl DexcomTime {
    /// The UTC instant, ms. A time written without an offset is UTC (`systemTime` nominally
    /// is).
    pub fn instant_ms(&self) -> i64 {
        self.wall.and_utc().timestamp_millis() - i64::from(self.offset_seconds.unwrap_or(0)) * 1000
    }
}

/// Reads `2026-11-20T14:05:12`, `…Z` and `…+01:00`, each with or without fractional seconds.
pub fn parse_time(raw: &str) -> Option<DexcomTime> {
    let raw = raw.trim();
    let with_offset = DateTime::parse_from_rfc3339(raw)
        .or_else(|_| DateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f%z"));
    if let Ok(at) = with_offset {
        return Some(DexcomTime {
            wall: at.naive_local(),
            offset_seconds: Some(at.offset().local_minus_utc()),
        });
    }
    NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|wall| DexcomTime {
            wall,
            offset_seconds: None,
        })
}

/// The UTC offset (seconds) in force at a record: its `displayTime`, the wall clock the user
/// saw, less its `systemTime` instant, to the nearest quarter hour (the two clocks drift
/// apart by seconds); within ±14 hours.
pub fn offset_between(system: &DexcomTime, display: &DexcomTime) -> i32 {
    let apart = display.wall.and_utc().timestamp_millis() - system.instant_ms();
    let quarters = (apart + QUARTER_HOUR_MS / 2).div_euclid(QUARTER_HOUR_MS);
    let offset_ms = (quarters * QUARTER_HOUR_MS).clamp(-MAX_OFFSET_MS, MAX_OFFSET_MS);
    i32::try_from(offset_ms / 1000).unwrap_or(0)
}

fn time_field(record: &Value, field: &str) -> Option<DexcomTime> {
    record
        .get(field)
        .and_then(Value::as_str)
        .and_then(parse_time)
}

fn system_ms(record: &Value) -> Option<i64> {
    time_field(record, "systemTime").map(|at| at.instant_ms())
}

/// When a record happened: its instant (UTC ms), the offset in force then and its local
/// date at that offset (the display clock drifts by seconds or minutes: a reading at 00:01
/// whose receiver showed 23:58 is on the new day, as its offset says).
struct When {
    at_ms: i64,
    offset: i32,
    date: String,
}

fn timing_of(record: &Value) -> Option<When> {
    let system = time_field(record, "systemTime")?;
    let at_ms = system.instant_ms();
    let offset = match time_field(record, "displayTime") {
        Some(display) => offset_between(&system, &display),
        None => system.offset_seconds.unwrap_or(0),
    };
    Some(When {
        at_ms,
        offset,
        date: local_date(at_ms, offset),
    })
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The device, named by its transmitter generation (an open list: `g7`, `g6+`, `g6 pro`,
/// `dexcomPro`, …): `Dexcom G7`, `Dexcom G6 Pro`.
fn device(record: &Value) -> String {
    let name = match text(record, "/transmitterGeneration").as_deref() {
        None | Some("unknown") => String::new(),
        Some("dexcomPro") => "Pro".to_owned(),
        Some(generation) => generation
            .split_whitespace()
            .map(capitalised)
            .collect::<Vec<_>>()
            .join(" "),
    };
    if name.is_empty() {
        "Dexcom".to_owned()
    } else {
        format!("Dexcom {name}")
    }
}

fn origin(record_id: String, source: String) -> Origin {
    Origin {
        provider: ProviderId::Dexcom,
        record_id,
        source: Some(source),
    }
}

/// A glucose value in `unit` as stored: mmol/L to the thousandth (as sample chunks keep it).
/// mg/dL is converted; no unit is mg/dL, Dexcom's default; any other unit cannot be read.
fn glucose_value(value: f64, unit: Option<&str>) -> Option<f64> {
    let mmol_l = match unit {
        None | Some("mg/dL") => glucose_mmol_l(value),
        Some("mmol/L") => value,
        Some(_) => return None,
    };
    Some((mmol_l * 1000.0).round() / 1000.0)
}

/// EGVs: readings in mmol/L, each at the offset in force when it was taken, one series per
/// device and offset. Readings without a value, or in an `unknown` unit (either could be
/// meant), are skipped.
pub fn egvs(records: &[Value]) -> Vec<SampleSeries> {
    let mut by_device: BTreeMap<String, Vec<(i64, f64, i32)>> = BTreeMap::new();
    for record in records {
        let (Some(when), Some(value)) = (timing_of(record), number(record, "/value")) else {
            continue;
        };
        let Some(mmol_l) = glucose_value(value, text(record, "/unit").as_deref())
            .filter(|mmol_l| mmol_l.is_finite() && *mmol_l > 0.0)
        else {
            continue;
        };
        by_device
            .entry(device(record))
            .or_default()
            .push((when.at_ms, mmol_l, when.offset));
    }
    let mut series = Vec::new();
    for (source, mut points) in by_device {
        points.sort_by_key(|(at, _, _)| *at);
        for one in SampleSeries::by_offset(Metric::Glucose, ProviderId::Dexcom, points) {
            series.push(SampleSeries {
                source: Some(source.clone()),
                ..one
            });
        }
    }
    series
}

/// Events the user logged: carbs (g), insulin (U; fast- or long-acting beside the device),
/// finger-stick glucose (mmol/L) and exercise (a workout of `value` minutes from
/// `systemTime`). `value` is a string in v3. An event without a unit (or `unknown`) is in the
/// one unit its type is logged in. Health and note events are not measurements. An event
/// the user deleted is retracted; an updated one replaces what it was.
pub fn events(records: &[Value], request: &FetchRequest) -> HealthBatch {
    let mut batch = HealthBatch::default();
    for record in records {
        let (Some(id), Some(kind), Some(when)) = (
            text(record, "/recordId"),
            record.get("eventType").and_then(Value::as_str),
            timing_of(record),
        ) else {
            continue;
        };
        let deleted = record.get("eventStatus").and_then(Value::as_str) == Some("deleted");
        let unit = text(record, "/unit").filter(|unit| unit != "unknown");
        let value = number(record, "/value").filter(|value| value.is_finite() && *value >= 0.0);
        let sub_type = text(record, "/eventSubType").filter(|sub| sub != "unknown");
        if kind == "exercise" {
            if deleted {
                batch.retracted.push(Retraction::Session {
                    kind: SessionKind::Workout,
                    record_id: id,
                });
                continue;
            }
            let minutes = value.filter(|_| matches!(unit.as_deref(), None | Some("minutes")));
            if let Some(minutes) = minutes.filter(|_| request.wants_sessions(SessionKind::Workout))
            {
                // Dexcom logs no sport, only how hard it was.
                let sport = match &sub_type {
                    Some(intensity) => format!("exercise ({intensity})"),
                    None => "exercise".to_owned(),
                };
                batch.sessions.push(Session {
                    start_ms: when.at_ms,
                    end_ms: when.at_ms + (minutes * 60_000.0).round() as i64,
                    utc_offset_seconds: when.offset,
                    date: when.date,
                    sport: Some(sport),
                    duration_seconds: Some(minutes * 60.0),
                    ..Session::new(SessionKind::Workout, origin(id, device(record)))
                });
            }
            continue;
        }
        let metric = match kind {
            "carbs" => Metric::Carbohydrates,
            "insulin" => Metric::Insulin,
            "bloodGlucose" => Metric::Glucose,
            _ => continue,
        };
        if deleted {
            batch.retracted.push(Retraction::Measurement {
                metric,
                at_ms: when.at_ms,
                record_id: id,
            });
            continue;
        }
        if !request.wants(metric) {
            continue;
        }
        let stored = value.and_then(|value| match (metric, unit.as_deref()) {
            (Metric::Carbohydrates, None | Some("grams"))
            | (Metric::Insulin, None | Some("units")) => Some(value),
            (Metric::Glucose, unit) => glucose_value(value, unit),
            _ => None,
        });
        let Some(stored) = stored else {
            continue;
        };
        let source = match (metric, &sub_type) {
            (Metric::Insulin, Some(insulin)) => format!("{} ({insulin})", device(record)),
            _ => device(record),
        };
        batch.measurements.push(Measurement {
            metric,
            at_ms: when.at_ms,
            utc_offset_seconds: when.offset,
            date: when.date,
            value: stored,
            secondary: None,
            origin: origin(id, source),
        });
    }
    batch
}

/// The first and last `systemTime` (UTC ms) of a kind of record (`egvs`, `events`) in a
/// `dataRange` reply; `None` when the user has none.
pub fn data_span(range: &Value, kind: &str) -> Option<(i64, i64)> {
    let moment = |end: &str| {
        range
            .pointer(&format!("/{kind}/{end}/systemTime"))
            .and_then(Value::as_str)
            .and_then(parse_time)
            .map(|at| at.instant_ms())
    };
    Some((moment("start")?, moment("end")?))
}

fn floor_second(ms: i64) -> i64 {
    ms - ms.rem_euclid(1000)
}

fn ceil_second(ms: i64) -> i64 {
    floor_second(ms.saturating_add(999))
}

/// The windows `[keep_from, keep_to)` that cover the request's `[from, to)` where the user
/// has records (`span`, its last record included), at most 30 days each counted from a whole
/// second (Dexcom's dates are written to the second, so each is asked for whole).
pub fn windows(from_ms: i64, to_ms: i64, span: Option<(i64, i64)>) -> Vec<(i64, i64)> {
    let Some((first, last)) = span else {
        return Vec::new();
    };
    let start = from_ms.max(first);
    let end = to_ms.min(last.saturating_add(1000));
    let mut out = Vec::new();
    let mut keep_from = start;
    let mut bound = floor_second(start);
    while keep_from < end {
        bound = bound.saturating_add(WINDOW_MS);
        let keep_to = bound.min(end);
        out.push((keep_from, keep_to));
        keep_from = keep_to;
    }
    out
}

/// `YYYY-MM-DDThh:mm:ss` in UTC without an offset: how Dexcom takes `startDate`/`endDate`.
fn wire_date(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|at| at.format("%Y-%m-%dT%H:%M:%S").to_string())
        .unwrap_or_default()
}

/// The records of `path` whose `systemTime` lies in `[from_ms, to_ms)`, asked for window by
/// window. Dexcom answers records at a window's edges too: each window keeps only its own.
async fn records_between(
    api: &JsonApi<'_>,
    path: &str,
    span: Option<(i64, i64)>,
    (from_ms, to_ms): (i64, i64),
) -> Result<Got<Vec<Value>>, FetchError> {
    let mut kept = Vec::new();
    for (keep_from, keep_to) in windows(from_ms, to_ms, span) {
        let query = [
            ("startDate", wire_date(floor_second(keep_from))),
            ("endDate", wire_date(ceil_second(keep_to))),
        ];
        let page = match api.get(path, &query).await? {
            Got::Data(page) => page,
            Got::Forbidden => return Ok(Got::Forbidden),
            Got::Missing => continue,
        };
        // Every v3 reply is an envelope with its `records`: a reply without them is not an
        // empty window.
        let Some(records) = page.get("records").and_then(Value::as_array) else {
            return Err(FetchError::Protocol(format!(
                "{path}: no records in the reply"
            )));
        };
        kept.extend(
            records
                .iter()
                .filter(|record| {
                    system_ms(record).is_some_and(|at| (keep_from..keep_to).contains(&at))
                })
                .cloned(),
        );
    }
    Ok(Got::Data(kept))
}

/// Where each kind's window starts once late uploads are counted (`(egvs, events)`). A
/// receiver's readings reach Dexcom when the user uploads them, days late at times:
/// `dataRange?lastSyncTime=<the last sync>` says where the records uploaded since begin, and
/// each kind's window reaches back to its own, by at most 30 days. Only for a connection synced
/// within 30 days (Dexcom's ranges are unreliable for a `lastSyncTime` long past; a first sync
/// is its backfill); a reply that cannot be read leaves the window as it is.
async fn late_uploads_from(api: &JsonApi<'_>, request: &FetchRequest) -> (i64, i64) {
    let from = request.from.millis();
    let Some(last_sync) = request
        .last_synced_at
        .map(|at| at.millis())
        .filter(|at| request.to.millis().saturating_sub(*at) <= LATE_UPLOAD_REACH_MS)
    else {
        return (from, from);
    };
    let since = DateTime::from_timestamp_millis(last_sync)
        .map(|at| at.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default();
    let uploaded = match api.get(DATA_RANGE, &[("lastSyncTime", since)]).await {
        Ok(Got::Data(range)) => range,
        Ok(Got::Forbidden | Got::Missing) => return (from, from),
        Err(err) => {
            tracing::warn!(error = %err, "Dexcom's range of late uploads could not be read");
            return (from, from);
        }
    };
    let reach_back = |kind: &str| {
        data_span(&uploaded, kind).map_or(from, |(first, _)| {
            first
                .max(from.saturating_sub(LATE_UPLOAD_REACH_MS))
                .min(from)
        })
    };
    (reach_back("egvs"), reach_back("events"))
}

/// The account behind a token: the `userId` every v3 reply names (one per Dexcom account and
/// app). Dexcom has no profile endpoint.
pub fn user_id(data_range: &Value) -> Option<String> {
    text(data_range, "/userId")
}

pub async fn fetch(
    http: &reqwest::Client,
    settings: &ProviderSettings,
    token: &SecretString,
    request: &FetchRequest,
) -> Result<HealthBatch, FetchError> {
    let mut batch = HealthBatch::default();
    // Glucose among them: finger sticks are events.
    let event_types = request.wanted(&EVENT_TYPES);
    if event_types.is_empty() {
        return Ok(batch);
    }
    let api = JsonApi::new(http, &settings.api_url, token, &request.budget);
    // Where the user's records begin and end: no window is asked for outside them.
    let range = match api.get(DATA_RANGE, &[]).await? {
        Got::Data(range) => range,
        Got::Forbidden => {
            batch.skipped = event_types;
            return Ok(batch);
        }
        Got::Missing => return Ok(batch),
    };
    let to = request.to.millis();
    let (egvs_from, events_from) = late_uploads_from(&api, request).await;
    if request.wants(Metric::Glucose) {
        match records_between(&api, EGVS, data_span(&range, "egvs"), (egvs_from, to)).await? {
            Got::Data(records) => batch.samples.extend(egvs(&records)),
            Got::Forbidden => batch.skipped.push(DataType::Metric(Metric::Glucose)),
            Got::Missing => {}
        }
    }
    match records_between(&api, EVENTS, data_span(&range, "events"), (events_from, to)).await? {
        Got::Data(records) => batch.extend(events(&records, request)),
        Got::Forbidden => batch.skipped.extend(event_types),
        Got::Missing => {}
    }
    Ok(batch)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;
    use vitasync_domain::kernel::time::Timestamp;

    fn fixture(name: &str) -> Value {
        let path = format!(
            "{}/../../tests/fixtures/providers/dexcom/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    fn records(name: &str) -> Vec<Value> {
        fixture(name)["records"].as_array().unwrap().clone()
    }

    fn ms(raw: &str) -> i64 {
        Timestamp::parse(raw).unwrap().millis()
    }

    fn everything() -> FetchRequest {
        FetchRequest {
            time_zone: None,
            last_synced_at: None,
            from: Timestamp::parse("2026-03-01T00:00:00Z").unwrap(),
            to: Timestamp::parse("2026-03-09T00:00:00Z").unwrap(),
            data_types: Vec::new(),
            granted_scopes: Vec::new(),
            budget: Default::default(),
            provider_user_id: "5e1a9c47-2b6d-4f3e-8a10-7c2d9e4b6f01".into(),
        }
    }

    fn offset(system: &str, display: &str) -> i32 {
        offset_between(&parse_time(system).unwrap(), &parse_time(display).unwrap())
    }

    #[test]
    fn times_read_with_and_without_offsets_and_fractions() {
        let receiver = parse_time("2026-11-20T14:05:12").unwrap();
        assert_eq!(receiver.offset_seconds, None);
        assert_eq!(receiver.instant_ms(), ms("2026-11-20T14:05:12Z"));
        let fraction = parse_time("2026-11-20T14:05:12.250").unwrap();
        assert_eq!(fraction.instant_ms(), ms("2026-11-20T14:05:12.250Z"));
        let utc = parse_time("2026-11-20T14:05:12Z").unwrap();
        assert_eq!(
            (utc.offset_seconds, utc.instant_ms()),
            (Some(0), ms("2026-11-20T14:05:12Z"))
        );
        let app = parse_time("2026-11-20T15:05:12.5+01:00").unwrap();
        assert_eq!(app.offset_seconds, Some(3600));
        assert_eq!(app.instant_ms(), ms("2026-11-20T14:05:12.500Z"));
        assert_eq!(
            app.wall,
            parse_time("2026-11-20T15:05:12.500").unwrap().wall
        );
        let newfoundland = parse_time("2026-11-20T10:35:12.000-03:30").unwrap();
        assert_eq!(newfoundland.instant_ms(), ms("2026-11-20T14:05:12Z"));
        let no_colon = parse_time("2026-11-20T15:05:12+0100").unwrap();
        assert_eq!(no_colon.instant_ms(), ms("2026-11-20T14:05:12Z"));
        for wrong in [
            "",
            "2026-11-20",
            "14:05:12",
            "2026-11-20T25:05:12",
            "yesterday",
        ] {
            assert_eq!(parse_time(wrong), None, "{wrong}");
        }
    }

    #[test]
    fn offsets_are_display_less_system_to_the_quarter_hour() {
        // An app writes both with offsets; clocks a couple of seconds apart.
        assert_eq!(
            offset("2026-11-20T14:05:12+00:00", "2026-11-20T15:05:10+01:00"),
            3600
        );
        // A receiver writes neither: system time is UTC, display time the wall clock.
        assert_eq!(offset("2026-11-18T22:40:03", "2026-11-18T23:40:00"), 3600);
        // Both written at the local offset: still the wall clock against the instant.
        assert_eq!(
            offset("2026-11-20T15:05:12+01:00", "2026-11-20T15:05:10+01:00"),
            3600
        );
        assert_eq!(
            offset("2026-03-05T03:30:07Z", "2026-03-05T09:15:05"),
            20_700
        );
        assert_eq!(
            offset("2026-03-07T18:00:04", "2026-03-07T14:30:00"),
            -12_600
        );
        assert_eq!(
            offset("2026-03-08T05:30:04+00:00", "2026-03-08T03:00:02-02:30"),
            -9000
        );
        assert_eq!(offset("2026-03-01T06:00:00", "2026-03-01T06:00:05"), 0);
        // A display clock set absurdly far off is held to offsets that exist.
        assert_eq!(offset("2026-03-01T00:00:00", "2026-03-02T06:00:00"), 50_400);
        assert_eq!(
            offset("2026-03-02T06:00:00", "2026-03-01T00:00:00"),
            -50_400
        );
    }

    #[test]
    fn the_local_date_follows_the_offset_when_the_display_clock_lags() {
        // 00:01 in Berlin (23:01 UTC) on a receiver whose clock shows 23:58 the day before.
        let record = json!({
            "systemTime": "2026-11-20T23:01:00",
            "displayTime": "2026-11-20T23:58:00",
        });
        let when = timing_of(&record).unwrap();
        assert_eq!((when.offset, when.date.as_str()), (3600, "2026-11-21"));
    }

    #[test]
    fn glucose_is_stored_in_mmol_per_litre() {
        assert_eq!(glucose_value(142.0, Some("mg/dL")), Some(7.882));
        assert_eq!(glucose_value(96.0, None), Some(5.329), "mg/dL by default");
        assert_eq!(glucose_value(6.4, Some("mmol/L")), Some(6.4));
        assert_eq!(glucose_value(142.0, Some("unknown")), None);
        assert_eq!(glucose_value(142.0, Some("mg/dL/min")), None);
    }

    #[test]
    fn devices_are_named_by_their_open_list_of_generations() {
        let named = |generation: Value| device(&json!({ "transmitterGeneration": generation }));
        assert_eq!(named(json!("g7")), "Dexcom G7");
        assert_eq!(named(json!("g6+")), "Dexcom G6+");
        assert_eq!(named(json!("g6 pro")), "Dexcom G6 Pro");
        assert_eq!(named(json!("dexcomPro")), "Dexcom Pro");
        assert_eq!(named(json!("unknown")), "Dexcom");
        assert_eq!(named(Value::Null), "Dexcom");
    }

    #[test]
    fn egvs_keep_each_readings_offset_and_skip_what_cannot_be_read() {
        let mut rows = records("egvs.json");
        rows.push(
            json!({"recordId": "no-value", "systemTime": "2026-03-02T06:15:12+00:00",
            "displayTime": "2026-03-02T07:15:10+01:00", "value": null, "unit": "mg/dL",
            "transmitterGeneration": "g7"}),
        );
        rows.push(
            json!({"recordId": "no-unit-known", "systemTime": "2026-03-02T06:20:12+00:00",
            "displayTime": "2026-03-02T07:20:10+01:00", "value": 150, "unit": "unknown",
            "transmitterGeneration": "g7"}),
        );
        let series = egvs(&rows);
        let points: usize = series.iter().map(|s| s.points.len()).sum();
        assert_eq!(points, 13, "every fixture reading, neither extra one");
        let at = |raw: &str| {
            series
                .iter()
                .find(|s| s.points.iter().any(|(at, _)| *at == ms(raw)))
                .unwrap()
        };
        let receiver = at("2026-03-01T06:05:02.250Z");
        assert_eq!(receiver.utc_offset_seconds, 3600);
        assert_eq!(receiver.source.as_deref(), Some("Dexcom G6"));
        assert_eq!(
            receiver.points,
            [
                (ms("2026-03-01T06:00:02Z"), 5.329),
                (ms("2026-03-01T06:05:02.250Z"), 5.606)
            ]
        );
        let kathmandu = at("2026-03-05T03:30:07Z");
        assert_eq!(kathmandu.utc_offset_seconds, 20_700);
        assert_eq!(
            kathmandu.points,
            [(ms("2026-03-05T03:30:07Z"), 7.0)],
            "mmol/L as is"
        );
        let touchscreen = at("2026-03-07T18:00:04Z");
        assert_eq!(touchscreen.utc_offset_seconds, -12_600);
        assert_eq!(touchscreen.source.as_deref(), Some("Dexcom G6 Pro"));
        // St. John's springs forward at 05:30 UTC: the series splits there.
        assert_eq!(at("2026-03-08T05:25:04Z").utc_offset_seconds, -12_600);
        assert_eq!(at("2026-03-08T05:30:04Z").utc_offset_seconds, -9000);
        assert_eq!(at("2026-03-29T00:55:05Z").utc_offset_seconds, 3600);
        assert_eq!(at("2026-03-29T01:00:05Z").utc_offset_seconds, 7200);
        let pinned = at("2026-03-02T06:10:12Z");
        assert!(
            pinned
                .points
                .contains(&(ms("2026-03-02T06:10:12Z"), 22.258))
        );
        assert!(
            series
                .iter()
                .all(|s| s.metric == Metric::Glucose && s.provider == ProviderId::Dexcom)
        );
    }

    #[test]
    fn events_become_measurements_a_workout_and_retractions() {
        let batch = events(&records("events.json"), &everything());
        let find = |metric: Metric, at: &str| {
            batch
                .measurements
                .iter()
                .find(|m| m.metric == metric && m.at_ms == ms(at))
                .unwrap()
        };
        let finger = find(Metric::Glucose, "2026-03-01T07:15:04Z");
        assert_eq!((finger.value, finger.utc_offset_seconds), (6.217, 3600));
        assert_eq!(finger.date, "2026-03-01");
        assert_eq!(finger.origin.source.as_deref(), Some("Dexcom G6"));
        let carbs = find(Metric::Carbohydrates, "2026-03-02T11:31:05Z");
        assert_eq!((carbs.value, carbs.utc_offset_seconds), (45.0, 3600));
        assert_eq!(
            carbs.origin.record_id,
            "7f3e1d2c-0b9a-4876-a5c4-d3e2f1a0b9c8"
        );
        let bolus = find(Metric::Insulin, "2026-03-02T11:32:40Z");
        assert_eq!(bolus.value, 4.5, "a string in v3");
        assert_eq!(
            bolus.origin.source.as_deref(),
            Some("Dexcom G7 (fastActing)")
        );
        // No unit written: insulin is in units. Local date from the instant at its offset.
        let basal = find(Metric::Insulin, "2026-03-07T02:30:04Z");
        assert_eq!((basal.value, basal.utc_offset_seconds), (18.0, -12_600));
        assert_eq!(basal.date, "2026-03-06");
        assert_eq!(
            basal.origin.source.as_deref(),
            Some("Dexcom G6 Pro (longActing)")
        );
        let numeric = find(Metric::Carbohydrates, "2026-03-07T16:00:04Z");
        assert_eq!(numeric.value, 20.0);
        assert_eq!(batch.measurements.len(), 5, "no health or note event");

        let [workout] = batch.sessions.as_slice() else {
            panic!("{:?}", batch.sessions);
        };
        assert_eq!(workout.kind, SessionKind::Workout);
        assert_eq!(
            (workout.start_ms, workout.end_ms),
            (ms("2026-03-05T01:15:00Z"), ms("2026-03-05T01:55:00Z"))
        );
        assert_eq!(workout.duration_seconds, Some(2400.0));
        assert_eq!(
            (workout.utc_offset_seconds, workout.date.as_str()),
            (20_700, "2026-03-05")
        );
        assert_eq!(workout.sport.as_deref(), Some("exercise (medium)"));

        assert_eq!(
            batch.retracted,
            [Retraction::Measurement {
                metric: Metric::Carbohydrates,
                at_ms: ms("2026-03-02T16:00:00Z"),
                record_id: "9c6b4a5f-3edc-4b09-98f7-a6b5c4d3e2f1".into(),
            }]
        );
        let deleted: Vec<Value> = records("events.json")
            .into_iter()
            .map(|mut record| {
                record["eventStatus"] = json!("deleted");
                record
            })
            .collect();
        let gone = events(&deleted, &everything());
        assert!(gone.measurements.is_empty() && gone.sessions.is_empty());
        assert!(gone.retracted.contains(&Retraction::Session {
            kind: SessionKind::Workout,
            record_id: "9b5a3f4e-2dbc-4a98-87e6-f5a4b3c2d1e0".into(),
        }));
        assert_eq!(gone.retracted.len(), 7, "neither health nor notes");
    }

    #[test]
    fn events_in_a_unit_not_theirs_are_not_read() {
        let event = |id: &str, kind: &str, unit: &str, value: &str| {
            json!({"recordId": id, "systemTime": "2026-03-02T11:31:05Z", "eventType": kind,
                "unit": unit, "value": value, "eventStatus": "created"})
        };
        let odd = [
            event("a", "carbs", "units", "45"),
            event("b", "insulin", "units", "not a number"),
            event("c", "bloodGlucose", "unknown", "90"),
        ];
        let batch = events(&odd, &everything());
        // Events' glucose is logged in mg/dL only: `unknown` is that.
        let [finger] = batch.measurements.as_slice() else {
            panic!("{:?}", batch.measurements);
        };
        assert_eq!((finger.metric, finger.value), (Metric::Glucose, 4.996));
        assert_eq!(
            (finger.utc_offset_seconds, finger.date.as_str()),
            (0, "2026-03-02")
        );
    }

    #[test]
    fn only_the_types_asked_for_are_kept() {
        let request = FetchRequest {
            data_types: vec![DataType::Session(SessionKind::Workout)],
            ..everything()
        };
        let batch = events(&records("events.json"), &request);
        assert!(batch.measurements.is_empty());
        assert_eq!(batch.sessions.len(), 1);
    }

    #[test]
    fn windows_stay_within_the_records_and_thirty_days() {
        let first = ms("2026-03-01T06:00:02Z");
        let last = ms("2026-04-14T10:00:06Z");
        let span = Some((first, last));
        let found = windows(ms("2026-01-01T00:00:00Z"), ms("2026-06-01T00:00:00Z"), span);
        assert_eq!(
            found,
            [
                (first, ms("2026-03-31T06:00:02Z")),
                (ms("2026-03-31T06:00:02Z"), last + 1000),
            ]
        );
        // A window inside the records is asked for as it is.
        let inside = windows(ms("2026-03-02T00:00:00Z"), ms("2026-03-03T00:00:00Z"), span);
        assert_eq!(
            inside,
            [(ms("2026-03-02T00:00:00Z"), ms("2026-03-03T00:00:00Z"))]
        );
        // Before the first record, or with none: nothing to ask for.
        assert!(windows(ms("2026-01-01T00:00:00Z"), ms("2026-02-01T00:00:00Z"), span).is_empty());
        assert!(windows(ms("2026-01-01T00:00:00Z"), ms("2026-06-01T00:00:00Z"), None).is_empty());
        // Asked for to the second: a window starting mid-second still spans at most 30 days.
        let ragged = windows(
            ms("2026-03-02T00:00:00.750Z"),
            ms("2026-05-01T00:00:00Z"),
            span,
        );
        for (from, to) in &ragged {
            assert!(ceil_second(*to) - floor_second(*from) <= WINDOW_MS);
        }
        assert_eq!(ragged[0].0, ms("2026-03-02T00:00:00.750Z"));
        assert_eq!(wire_date(ceil_second(ragged[0].1)), "2026-04-01T00:00:00");
        assert_eq!(wire_date(floor_second(ragged[0].0)), "2026-03-02T00:00:00");
    }

    #[test]
    fn the_data_range_bounds_each_kind_and_names_the_user() {
        let range = fixture("data-range.json");
        assert_eq!(
            data_span(&range, "egvs"),
            Some((ms("2026-03-01T06:00:02Z"), ms("2026-04-14T10:00:06Z")))
        );
        assert_eq!(
            data_span(&range, "events"),
            Some((ms("2026-03-01T07:15:04Z"), ms("2026-03-07T16:00:04Z")))
        );
        assert_eq!(data_span(&json!({"egvs": null}), "egvs"), None);
        assert_eq!(
            user_id(&range).as_deref(),
            Some("5e1a9c47-2b6d-4f3e-8a10-7c2d9e4b6f01")
        );
        assert_eq!(user_id(&json!({})), None);
    }
}
