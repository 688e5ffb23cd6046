//! Suunto's Cloud API as the fake serves it: the APIM gateway that turns away any call (the
//! token endpoint's too) without the app's subscription key, JWT access tokens naming the
//! user, workouts paged by offset (`since`, `limit` ≤ 100, `offset`), and 24/7 samples between
//! `from` and `to` (epoch ms, at most 28 days a call). Data comes from
//! `fixtures/providers/suunto`, plus a run of 130 generated walks in January 2026 that takes
//! two pages.

use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};
use vitasync_domain::providers::ProviderId;

/// The Suunto username: the access token's `user` claim, and what webhooks name.
pub(super) const ACCOUNT_ID: &str = "trailrunner42";
/// The token's `sub` claim, which is not the account webhooks name.
const SUBJECT: &str = "5f1c2a7e-9b3d-4e8f-a0c1-7d2e4b6a8c90";

const DAY_MS: i64 = 86_400_000;
/// The longest window a 24/7 endpoint answers.
const MAX_WINDOW_MS: i64 = 28 * DAY_MS;
/// Workouts a page, at most.
const MAX_LIMIT: usize = 100;
/// The generated walks: one every four hours from 10 January 2026, 00:00 UTC.
const WALKS: i64 = 130;
const WALKS_FROM_MS: i64 = 1_768_003_200_000;
const WALK_EVERY_MS: i64 = 4 * 3_600_000;

pub(super) fn is_data_path(path: &str) -> bool {
    path == "/v3/workouts" || path.starts_with("/v3/workouts/") || path.starts_with("/247samples/")
}

/// Suunto's replies to data calls; Suunto has no account endpoint (the token names the user).
pub(super) fn reply(
    method: &Method,
    path: &str,
    query: &BTreeMap<String, String>,
) -> Option<Value> {
    if *method != Method::GET {
        return None;
    }
    match path {
        "/v3/workouts" => Some(workouts_page(query)),
        "/247samples/activity" => samples("suunto/247-activity.json", query),
        "/247samples/sleep" => samples("suunto/247-sleep.json", query),
        "/247samples/recovery" => samples("suunto/247-recovery.json", query),
        _ => path.strip_prefix("/v3/workouts/").and_then(one_workout),
    }
}

/// An access token as Suunto issues them: a JWT (`header.payload.signature`, base64url without
/// padding) whose payload names the user, valid for a day.
pub(super) fn access_token(nonce: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = json!({ "sub": SUBJECT, "user": ACCOUNT_ID, "exp": now + 86_400, "jti": nonce });
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signature = URL_SAFE_NO_PAD.encode(format!("fake-signature-{nonce}"));
    format!("{header}.{payload}.{signature}")
}

/// Suunto's API gateway: a call without the app's subscription key is refused before the
/// OAuth server or the API sees it, with a 401 that looks like bad client credentials.
pub(super) fn gateway_refusal(provider: ProviderId, headers: &HeaderMap) -> Option<Response> {
    if provider != ProviderId::Suunto {
        return None;
    }
    let key = headers
        .get("ocp-apim-subscription-key")
        .and_then(|value| value.to_str().ok());
    if key == Some(super::SUUNTO_SUBSCRIPTION_KEY) {
        return None;
    }
    Some(
        (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"code": 401, "data": null, "message": "Unauthorized"})),
        )
            .into_response(),
    )
}

fn walk(n: i64) -> Value {
    let start = WALKS_FROM_MS + n * WALK_EVERY_MS;
    json!({
        "workoutId": 80_000_000 + n,
        "workoutKey": format!("walk-{n:03}"),
        "activityId": 0,
        "startTime": start,
        "stopTime": start + 2_400_000,
        "totalTime": 2400.0,
        "timeOffsetInMinutes": 60,
        "totalDistance": 3120.0,
        "stepCount": 4100,
        "energyConsumption": 160,
        "hrdata": {
            "workoutAvgHR": 102, "workoutMaxHR": 118, "userMaxHR": 189,
            "avg": 102, "hrmax": 118, "max": 189
        },
        "name": "Walk",
    })
}

fn start_of(workout: &Value) -> i64 {
    workout["startTime"].as_i64().unwrap_or_default()
}

/// When the workout last changed: the fake's are never edited, so when it was uploaded, at
/// its end.
fn modified_at(workout: &Value) -> i64 {
    workout["stopTime"].as_i64().unwrap_or_else(|| {
        start_of(workout) + (workout["totalTime"].as_f64().unwrap_or_default() * 1000.0) as i64
    })
}

/// Every workout of the account, oldest first.
fn all_workouts() -> Vec<Value> {
    let mut all = super::fixture("suunto/workouts-v3-list.json")["payload"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    all.extend((0..WALKS).map(walk));
    all.sort_by_key(start_of);
    all
}

fn number(query: &BTreeMap<String, String>, name: &str) -> Option<i64> {
    query.get(name).and_then(|value| value.parse().ok())
}

/// `GET /v3/workouts`: those since `since` (their start, or with
/// `filter-by-modification-time=true` their last change), `offset` skipped, `limit` kept.
fn workouts_page(query: &BTreeMap<String, String>) -> Value {
    let since = number(query, "since").unwrap_or_default();
    let by_change = query
        .get("filter-by-modification-time")
        .is_some_and(|value| value == "true");
    let offset = number(query, "offset").unwrap_or_default().max(0) as usize;
    let limit = number(query, "limit")
        .map_or(MAX_LIMIT, |limit| limit.max(0) as usize)
        .min(MAX_LIMIT);
    let page: Vec<Value> = all_workouts()
        .into_iter()
        .filter(|workout| {
            let at = if by_change {
                modified_at(workout)
            } else {
                start_of(workout)
            };
            at >= since
        })
        .skip(offset)
        .take(limit)
        .collect();
    json!({ "error": null, "payload": page })
}

/// `GET /v3/workouts/{workoutKey}`: one workout; an unknown key is not found.
fn one_workout(key: &str) -> Option<Value> {
    all_workouts()
        .into_iter()
        .find(|workout| workout["workoutKey"] == key)
        .map(|workout| json!({ "error": null, "payload": workout }))
}

/// A 24/7 endpoint: the entries whose `timestamp` lies in `from..=to`. Suunto refuses a
/// window longer than 28 days (with a 400; the fake's refusal is a 404, its only one here).
fn samples(file: &str, query: &BTreeMap<String, String>) -> Option<Value> {
    let (from, to) = (number(query, "from")?, number(query, "to")?);
    if to < from || to - from > MAX_WINDOW_MS {
        return None;
    }
    let entries: Vec<Value> = super::fixture(file)
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|entry| {
            entry["timestamp"]
                .as_str()
                .and_then(|raw| chrono::DateTime::parse_from_rfc3339(raw).ok())
                .is_some_and(|at| (from..=to).contains(&at.timestamp_millis()))
        })
        .collect();
    Some(Value::Array(entries))
}
