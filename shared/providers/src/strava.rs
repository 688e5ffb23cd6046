//! Strava (API v3): activities as workouts, with their heart-rate streams as samples. Pages
//! are numbered; a page can come back short when private activities are filtered out, so
//! paging ends on an empty page. `start_date` is the instant; `start_date_local` is local
//! wall time wrongly marked `Z`, so only its date is read. Throttling is counted in
//! 15-minute windows that reset on the quarter hour, and a 429 says no more.

use crate::rest::{Got, JsonApi, instant_ms, number, text};
use secrecy::SecretString;
use serde_json::Value;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use vitasync_domain::health::{
    DataType, HealthBatch, Metric, Origin, SampleSeries, Session, SessionKind,
};
use vitasync_domain::providers::client::{FetchError, FetchRequest};
use vitasync_domain::providers::{ProviderId, ProviderSettings};

const PER_PAGE: &str = "200";
/// Pages of activities, at most, per sync.
const MAX_PAGES: u32 = 50;

fn origin(record_id: String) -> Origin {
    Origin {
        provider: ProviderId::Strava,
        record_id,
        source: None,
    }
}

/// The wait until the next quarter hour, when Strava's 15-minute window resets.
fn until_next_window() -> Duration {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Duration::from_secs(900 - now % 900 + 1)
}

/// An activity as a workout, and its offset.
pub fn workout(activity: &Value) -> Option<(Session, i32)> {
    let id = text(activity, "/id")?;
    let start = activity
        .get("start_date")
        .and_then(Value::as_str)
        .and_then(instant_ms)?;
    let elapsed = number(activity, "/elapsed_time")?;
    let offset = number(activity, "/utc_offset").map_or(0, |o| o as i32);
    // The local date: the first ten characters of the (mislabelled) local wall time.
    let date = text(activity, "/start_date_local")
        .map(|local| local.chars().take(10).collect())
        .unwrap_or_default();
    let kind = text(activity, "/sport_type").or_else(|| text(activity, "/type"));
    let session = Session {
        start_ms: start,
        end_ms: start.saturating_add((elapsed * 1000.0) as i64),
        utc_offset_seconds: offset,
        date,
        sport: kind,
        duration_seconds: Some(elapsed),
        distance_m: number(activity, "/distance"),
        energy_kcal: number(activity, "/calories"),
        heart_rate_avg: number(activity, "/average_heartrate"),
        heart_rate_max: number(activity, "/max_heartrate"),
        ..Session::new(SessionKind::Workout, origin(id))
    };
    Some((session, offset))
}

/// A `key_by_type` stream set's heart rate, at the activity's start plus `time` seconds.
pub fn heart_rate_stream(streams: &Value, start_ms: i64, offset: i32) -> Option<SampleSeries> {
    let times = streams.pointer("/time/data")?.as_array()?;
    let rates = streams.pointer("/heartrate/data")?.as_array()?;
    let points: Vec<(i64, f64)> = times
        .iter()
        .zip(rates)
        .filter_map(|(t, hr)| {
            let at = start_ms.checked_add((t.as_f64()? * 1000.0) as i64)?;
            Some((at, hr.as_f64()?))
        })
        .collect();
    (!points.is_empty()).then_some(SampleSeries {
        metric: Metric::HeartRate,
        points,
        utc_offset_seconds: offset,
        provider: ProviderId::Strava,
        source: None,
    })
}

pub async fn fetch(
    http: &reqwest::Client,
    settings: &ProviderSettings,
    token: &SecretString,
    request: &FetchRequest,
) -> Result<HealthBatch, FetchError> {
    let mut batch = HealthBatch::default();
    let wants_workouts = request.wants_sessions(SessionKind::Workout);
    let wants_heart_rate = request.wants(Metric::HeartRate);
    if !wants_workouts && !wants_heart_rate {
        return Ok(batch);
    }
    let api = JsonApi::new(http, &settings.api_url, token, &request.budget);
    let throttled = |err: FetchError| match err {
        FetchError::RateLimited(_) => FetchError::RateLimited(until_next_window()),
        other => other,
    };
    for page in 1..=MAX_PAGES {
        let query = [
            ("after", (request.from.millis() / 1000).to_string()),
            ("before", (request.to.millis() / 1000).to_string()),
            ("page", page.to_string()),
            ("per_page", PER_PAGE.to_owned()),
        ];
        let activities = match api
            .get("/athlete/activities", &query)
            .await
            .map_err(throttled)?
        {
            Got::Data(Value::Array(activities)) => activities,
            Got::Data(_) => {
                return Err(FetchError::Protocol("activities: not a list".into()));
            }
            Got::Forbidden => {
                batch.skipped.push(DataType::Session(SessionKind::Workout));
                break;
            }
            Got::Missing => break,
        };
        if activities.is_empty() {
            break;
        }
        for activity in &activities {
            let Some((session, offset)) = workout(activity) else {
                continue;
            };
            let has_heart_rate = activity
                .get("has_heartrate")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            if wants_heart_rate && has_heart_rate {
                let path = format!("/activities/{}/streams", session.origin.record_id);
                let query = [
                    ("keys", "time,heartrate".to_owned()),
                    ("key_by_type", "true".to_owned()),
                ];
                // A private activity's streams may be refused; the workout still counts.
                if let Got::Data(streams) = api.get(&path, &query).await.map_err(throttled)? {
                    batch
                        .samples
                        .extend(heart_rate_stream(&streams, session.start_ms, offset));
                }
            }
            if wants_workouts {
                batch.sessions.push(session);
            }
        }
    }
    Ok(batch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_window_resets_within_fifteen_minutes() {
        assert!(until_next_window() <= Duration::from_secs(901));
    }
}
