//! Wahoo's Cloud API: the user (`/v1/user`), their workouts newest first a page at a time
//! (`/v1/workouts?page&per_page`, at most 100 a page, Wahoo's default 30) and one workout by
//! id. The history is the fixture's workouts after a season of daily rides from April on, so
//! early March lies on the second page of 100, as it would for a rider synced in November.

use axum::http::Method;
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub(super) const ACCOUNT_ID: &str = "123456";

const WORKOUTS: &str = "/v1/workouts";
const DEFAULT_PER_PAGE: usize = 30;
const MAX_PER_PAGE: usize = 100;
/// Daily rides from 1 April 2026 on, newer than every fixture workout.
const LATER_RIDES: i64 = 150;
const LATER_FROM: &str = "2026-04-01T06:00:00Z";

pub(super) fn is_data_path(path: &str) -> bool {
    path == WORKOUTS || workout_id(path).is_some()
}

fn workout_id(path: &str) -> Option<&str> {
    path.strip_prefix("/v1/workouts/")
        .filter(|id| !id.is_empty() && !id.contains('/'))
}

fn iso(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Every workout of the user, newest first.
fn history() -> Vec<Value> {
    let mut workouts = super::fixture("wahoo/workouts.json")["workouts"]
        .as_array()
        .unwrap()
        .clone();
    let template = workouts[0].clone();
    let first = chrono::DateTime::parse_from_rfc3339(LATER_FROM)
        .unwrap()
        .with_timezone(&chrono::Utc);
    for day in 0..LATER_RIDES {
        let starts = first + chrono::Duration::days(day);
        let uploaded = iso(starts + chrono::Duration::hours(3));
        let mut ride = template.clone();
        ride["id"] = json!(98_000_000 + day);
        ride["name"] = json!(format!("Ride {}", day + 1));
        ride["starts"] = json!(iso(starts));
        ride["created_at"] = json!(uploaded);
        ride["updated_at"] = json!(uploaded);
        ride["workout_summary"]["id"] = json!(23_000_000 + day);
        ride["workout_summary"]["created_at"] = json!(uploaded);
        ride["workout_summary"]["updated_at"] = json!(uploaded);
        workouts.push(ride);
    }
    // ISO instants in UTC sort as text.
    workouts.sort_by(|a, b| b["starts"].as_str().cmp(&a["starts"].as_str()));
    workouts
}

/// One page of the history. Wahoo refuses a page size above 100 (HTTP 400); the error body
/// here is no workout list, so a sync asking for one fails instead of finding nothing.
fn workouts_page(query: &BTreeMap<String, String>) -> Value {
    let size = |name: &str, default: usize| {
        query
            .get(name)
            .map_or(Some(default), |raw| raw.parse::<usize>().ok())
    };
    let (Some(page), Some(per_page)) = (size("page", 1), size("per_page", DEFAULT_PER_PAGE)) else {
        return json!({ "error": "page and per_page are numbers" });
    };
    if page == 0 || per_page == 0 || per_page > MAX_PER_PAGE {
        return json!({ "error": "per_page must be between 1 and 100" });
    }
    let all = history();
    let total = all.len();
    let workouts: Vec<Value> = all
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    json!({
        "workouts": workouts,
        "total": total,
        "page": page,
        "per_page": per_page,
        "order": "descending",
        "sort": "starts",
    })
}

pub(super) fn reply(
    method: &Method,
    path: &str,
    query: &BTreeMap<String, String>,
) -> Option<Value> {
    if *method != Method::GET {
        return None;
    }
    match path {
        "/v1/user" => Some(super::fixture("wahoo/user.json")),
        WORKOUTS => Some(workouts_page(query)),
        _ => {
            let id = workout_id(path)?;
            history()
                .into_iter()
                .find(|workout| workout["id"].as_i64().is_some_and(|n| n.to_string() == id))
        }
    }
}
