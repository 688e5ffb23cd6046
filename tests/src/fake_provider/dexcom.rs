//! Dexcom's API v3: the data range (which the account lookup reads too), EGVs and events from
//! the fixtures. `startDate` and `endDate` are required, written `YYYY-MM-DDThh:mm:ss` (UTC,
//! no offset) at most 30 days apart, and matched against each record's `systemTime`. Dexcom
//! can answer records just outside the window too: the fake adds a reading's interval either
//! side, so a client must keep only its window's own. `dataRange?lastSyncTime=` (written with
//! an offset) gives the range of the records uploaded since: an app's as they happen, and a
//! receiver's all at once when the test says it uploaded them.

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDateTime};
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub(super) const ACCOUNT_ID: &str = "5e1a9c47-2b6d-4f3e-8a10-7c2d9e4b6f01";

const DATA_RANGE: &str = "/v3/users/self/dataRange";
const EGVS: &str = "/v3/users/self/egvs";
const EVENTS: &str = "/v3/users/self/events";
const MAX_WINDOW_SECONDS: i64 = 30 * 86_400;
/// How far outside the window asked for records still come back: one CGM reading's interval.
const EDGE_SECONDS: i64 = 300;

pub(super) fn is_data_path(path: &str) -> bool {
    matches!(path, DATA_RANGE | EGVS | EVENTS)
}

/// The window asked for, in epoch seconds; what is wrong with it otherwise.
fn window(query: &BTreeMap<String, String>) -> Result<(i64, i64), String> {
    let date = |name: &str| -> Result<i64, String> {
        let raw = query
            .get(name)
            .ok_or_else(|| format!("{name} is required"))?;
        NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S")
            .map(|at| at.and_utc().timestamp())
            .map_err(|_| format!("{name} must be written YYYY-MM-DDThh:mm:ss"))
    };
    let (start, end) = (date("startDate")?, date("endDate")?);
    if end < start {
        return Err("endDate is before startDate".into());
    }
    if end - start > MAX_WINDOW_SECONDS {
        return Err("the window is longer than 30 days".into());
    }
    Ok((start, end))
}

/// A record's `systemTime` in epoch seconds: UTC when written without an offset.
fn system_seconds(record: &Value) -> Option<i64> {
    let raw = record["systemTime"].as_str()?;
    DateTime::parse_from_rfc3339(raw)
        .map(|at| at.timestamp())
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|at| at.and_utc().timestamp())
        })
}

/// `lastSyncTime` in epoch seconds, when asked; an error when it is not written with an offset.
fn last_sync(query: &BTreeMap<String, String>) -> Result<Option<i64>, String> {
    query
        .get("lastSyncTime")
        .map(|raw| {
            DateTime::parse_from_rfc3339(raw)
                .map(|at| at.timestamp())
                .map_err(|_| "lastSyncTime must be a date-time with its offset".to_owned())
        })
        .transpose()
}

/// Dexcom's 400 for a window it will not serve: a date missing or not written
/// `YYYY-MM-DDThh:mm:ss`, or more than 30 days; or a `lastSyncTime` without its offset. Its
/// error body is not documented.
pub(super) fn refusal(
    method: &Method,
    path: &str,
    query: &BTreeMap<String, String>,
) -> Option<Response> {
    if *method != Method::GET {
        return None;
    }
    let problem = match path {
        EGVS | EVENTS => window(query).err()?,
        DATA_RANGE => last_sync(query).err()?,
        _ => return None,
    };
    Some(
        (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({ "error": "invalid_request", "message": problem })),
        )
            .into_response(),
    )
}

/// A receiver's upload: at `uploaded_at`, the records from `records_from` on (epoch seconds).
#[derive(Clone, Copy, Debug)]
pub struct ReceiverUpload {
    pub uploaded_at: i64,
    pub records_from: i64,
}

/// The first and last record of each kind; with `lastSyncTime`, of the records uploaded since
/// (a kind with none is left out).
fn data_range(query: &BTreeMap<String, String>, upload: Option<ReceiverUpload>) -> Value {
    let mut range = super::fixture("dexcom/data-range.json");
    let Ok(Some(since)) = last_sync(query) else {
        return range;
    };
    let uploaded_since = |at: i64| {
        at >= since
            || upload.is_some_and(|upload| upload.uploaded_at > since && at >= upload.records_from)
    };
    for (kind, file) in [
        ("egvs", "dexcom/egvs.json"),
        ("events", "dexcom/events.json"),
    ] {
        let records = super::fixture(file)["records"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut new: Vec<(i64, Value)> = records
            .into_iter()
            .filter_map(|record| Some((system_seconds(&record)?, record)))
            .filter(|(at, _)| uploaded_since(*at))
            .collect();
        new.sort_by_key(|(at, _)| *at);
        let moment = |record: &Value| json!({"systemTime": record["systemTime"], "displayTime": record["displayTime"]});
        match (new.first(), new.last()) {
            (Some((_, first)), Some((_, last))) => {
                range[kind] = json!({"start": moment(first), "end": moment(last)});
            }
            _ => {
                if let Some(fields) = range.as_object_mut() {
                    fields.remove(kind);
                }
            }
        }
    }
    range
}

pub(super) fn reply(
    method: &Method,
    path: &str,
    query: &BTreeMap<String, String>,
    upload: Option<ReceiverUpload>,
) -> Option<Value> {
    if *method != Method::GET {
        return None;
    }
    let file = match path {
        DATA_RANGE => return Some(data_range(query, upload)),
        EGVS => "dexcom/egvs.json",
        EVENTS => "dexcom/events.json",
        _ => return None,
    };
    let (start, end) = window(query).ok()?;
    let mut reply = super::fixture(file);
    let records = reply["records"].as_array().cloned().unwrap_or_default();
    reply["records"] = records
        .into_iter()
        .filter(|record| {
            system_seconds(record)
                .is_some_and(|at| start - EDGE_SECONDS <= at && at <= end + EDGE_SECONDS)
        })
        .collect();
    Some(reply)
}
