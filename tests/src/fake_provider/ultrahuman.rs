//! Ultrahuman's partner API: the user's profile (`user_info`, a user in Europe/Berlin) and one
//! local day of ring and CGM metrics per call (`metrics?date=YYYY-MM-DD`), from the fixtures.
//! A day without a fixture has no metrics; a date that is not one is not answered.

use axum::http::Method;
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub(super) const ACCOUNT_ID: &str = "5385001";

const USER_INFO: &str = "/api/partners/v1/user_data/user_info";
const METRICS: &str = "/api/partners/v1/user_data/metrics";

/// The local days the fixtures hold (`metrics-<date>.json`).
const DAYS: [&str; 3] = ["2026-03-01", "2026-03-02", "2026-03-29"];

pub(super) fn is_data_path(path: &str) -> bool {
    path == METRICS
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
        USER_INFO => Some(super::fixture("ultrahuman/user-info.json")),
        METRICS => {
            // One day per call, as the OAuth API takes it; the real API answers 400 to a
            // malformed date.
            let date = query.get("date")?;
            chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
            Some(if DAYS.contains(&date.as_str()) {
                super::fixture(&format!("ultrahuman/metrics-{date}.json"))
            } else {
                json!({ "data": { "metric_data": [] } })
            })
        }
        _ => None,
    }
}
