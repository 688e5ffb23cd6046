//! Bearer-token JSON APIs (WHOOP, Oura, …): one GET, its failures in the sync engine's terms,
//! and cursor pagination. A 403 means the user did not grant the data (or the provider will
//! not serve it to them): the caller skips that data type instead of failing the job.

use crate::wire::describe;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use vitasync_domain::providers::client::FetchError;
use vitasync_domain::providers::rate_budget::CallBudget;

/// How long to wait after a 429 that names no reset.
const DEFAULT_THROTTLE: Duration = Duration::from_secs(60);
/// Pages of one collection, at most (a guard against a cursor that never ends).
const MAX_PAGES: usize = 500;

pub struct JsonApi<'a> {
    pub http: &'a reqwest::Client,
    pub base: String,
    pub token: &'a SecretString,
    /// Each call spends one from the provider's shared budget first.
    pub budget: CallBudget,
    /// A key sent on every call besides the token (Suunto's API gateway subscription key).
    pub subscription_key: Option<&'a SecretString>,
}

/// What a GET brought.
pub enum Got<T> {
    Data(T),
    /// 403: not granted to us.
    Forbidden,
    /// 404: nothing there (a day without data).
    Missing,
}

/// Seconds to wait from `Retry-After` or `X-RateLimit-Reset` (seconds, or an epoch instant).
fn throttle_wait(headers: &HeaderMap) -> Duration {
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    let Some(value) = number("retry-after").or_else(|| number("x-ratelimit-reset")) else {
        return DEFAULT_THROTTLE;
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // Large values are instants (Oura sends the epoch second the window resets).
    let seconds = if value > 1_000_000_000 {
        value.saturating_sub(now)
    } else {
        value
    };
    Duration::from_secs(seconds.max(1))
}

impl JsonApi<'_> {
    pub fn new<'a>(
        http: &'a reqwest::Client,
        base: &str,
        token: &'a SecretString,
        budget: &CallBudget,
    ) -> JsonApi<'a> {
        JsonApi {
            http,
            base: base.trim_end_matches('/').to_owned(),
            token,
            budget: budget.clone(),
            subscription_key: None,
        }
    }

    /// The same API, each call also carrying `key` in `Ocp-Apim-Subscription-Key`.
    pub fn with_subscription_key<'a>(self, key: &'a SecretString) -> JsonApi<'a>
    where
        Self: 'a,
    {
        JsonApi {
            subscription_key: Some(key),
            ..self
        }
    }

    pub async fn get(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Got<Value>, FetchError> {
        self.budget.spend().await?;
        let mut request = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(self.token.expose_secret())
            .query(query);
        if let Some(key) = self.subscription_key {
            request = request.header(crate::wire::SUBSCRIPTION_KEY_HEADER, key.expose_secret());
        }
        Self::read(request, path).await
    }

    /// POSTs a JSON body (Google Health's roll-ups); answers as `get` does.
    pub async fn post(&self, path: &str, body: &Value) -> Result<Got<Value>, FetchError> {
        self.budget.spend().await?;
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(self.token.expose_secret())
            .json(body);
        Self::read(request, path).await
    }

    /// Sends the request and reads the reply in the sync engine's terms.
    async fn read(request: reqwest::RequestBuilder, path: &str) -> Result<Got<Value>, FetchError> {
        let response = request
            .send()
            .await
            .map_err(|err| FetchError::Unavailable(describe(&err)))?;
        match response.status() {
            StatusCode::UNAUTHORIZED => return Err(FetchError::Unauthorized),
            StatusCode::FORBIDDEN => return Ok(Got::Forbidden),
            StatusCode::NOT_FOUND => return Ok(Got::Missing),
            StatusCode::TOO_MANY_REQUESTS => {
                return Err(FetchError::RateLimited(throttle_wait(response.headers())));
            }
            status if status.is_server_error() => {
                return Err(FetchError::Unavailable(format!("{path}: HTTP {status}")));
            }
            status if !status.is_success() => {
                return Err(FetchError::Protocol(format!("{path}: HTTP {status}")));
            }
            _ => {}
        }
        response
            .json()
            .await
            .map(Got::Data)
            .map_err(|_| FetchError::Protocol(format!("{path}: the reply is not JSON")))
    }

    /// Every item of a collection that pages with a cursor: `list` holds the items,
    /// `cursor_field` the next cursor (absent or null at the end), sent back as `cursor_param`.
    pub async fn collection(
        &self,
        path: &str,
        query: &[(&str, String)],
        list: &str,
        cursor_field: &str,
        cursor_param: &'static str,
    ) -> Result<Got<Vec<Value>>, FetchError> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut paged = query.to_vec();
            if let Some(cursor) = &cursor {
                paged.push((cursor_param, cursor.clone()));
            }
            let page = match self.get(path, &paged).await? {
                Got::Data(page) => page,
                Got::Forbidden => return Ok(Got::Forbidden),
                Got::Missing => return Ok(Got::Data(items)),
            };
            if let Some(found) = page.get(list).and_then(Value::as_array) {
                items.extend(found.iter().cloned());
            }
            match page.get(cursor_field).and_then(Value::as_str) {
                Some(next) if !next.is_empty() && cursor.as_deref() != Some(next) => {
                    cursor = Some(next.to_owned());
                }
                _ => return Ok(Got::Data(items)),
            }
        }
        Ok(Got::Data(items))
    }
}

pub fn number(value: &Value, pointer: &str) -> Option<f64> {
    match value.pointer(pointer)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

pub fn text(value: &Value, pointer: &str) -> Option<String> {
    match value.pointer(pointer)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `±HH:MM` (or `Z`) as seconds east of UTC.
pub fn offset_seconds(raw: &str) -> Option<i32> {
    if raw == "Z" {
        return Some(0);
    }
    let (sign, rest) = match raw.as_bytes().first()? {
        b'+' => (1, &raw[1..]),
        b'-' => (-1, &raw[1..]),
        _ => return None,
    };
    let (hours, minutes) = rest.split_once(':').unwrap_or((rest, "0"));
    let seconds = hours
        .parse::<i32>()
        .ok()?
        .checked_mul(3600)?
        .checked_add(minutes.parse::<i32>().ok()?.checked_mul(60)?)?;
    // Offsets on Earth run from −12:00 to +14:00; anything else is not one.
    (seconds.abs() <= 18 * 3600).then_some(sign * seconds)
}

/// An RFC 3339 instant in UTC milliseconds.
/// The UTC offset (seconds) an RFC 3339 time is written in; 0 when it cannot be read.
pub fn offset_of_rfc3339(raw: &str) -> i32 {
    chrono::DateTime::parse_from_rfc3339(raw).map_or(0, |at| at.offset().local_minus_utc())
}

pub fn instant_ms(raw: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(raw)
        .ok()
        .map(|at| at.timestamp_millis())
}

pub use vitasync_domain::kernel::time::local_date;

/// The UTC offset (seconds) in force in `zone` at an instant (DST included).
pub fn offset_at(zone: chrono_tz::Tz, at_ms: i64) -> i32 {
    use chrono::{Offset, TimeZone};
    zone.timestamp_millis_opt(at_ms)
        .single()
        .map_or(0, |at| at.offset().fix().local_minus_utc())
}

/// The UTC offset of a zone on a local date (at noon, clear of DST switches).
pub fn offset_on(zone: chrono_tz::Tz, date: &str) -> i32 {
    use chrono::{Offset, TimeZone};
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .ok()
        .and_then(|day| day.and_hms_opt(12, 0, 0))
        .and_then(|noon| zone.from_local_datetime(&noon).single())
        .map_or(0, |at| at.offset().fix().local_minus_utc())
}

/// Kilojoules in kilocalories.
pub fn kcal_from_kj(kj: f64) -> f64 {
    (kj / 4.184 * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zones_offset_on_a_day_is_the_one_in_force_that_day() {
        // Berlin springs forward on 29 March 2026; Kathmandu is five and three-quarter hours
        // ahead; Newfoundland three and a half behind in winter.
        assert_eq!(offset_on(chrono_tz::Europe::Berlin, "2026-03-28"), 3600);
        assert_eq!(offset_on(chrono_tz::Europe::Berlin, "2026-03-29"), 7200);
        assert_eq!(offset_on(chrono_tz::Asia::Kathmandu, "2026-03-29"), 20_700);
        assert_eq!(
            offset_on(chrono_tz::America::St_Johns, "2026-11-20"),
            -12_600
        );
        assert_eq!(offset_on(chrono_tz::Europe::Berlin, "not a date"), 0);
        assert_eq!(offset_seconds("+999999:00"), None, "no offset on Earth");
    }

    #[test]
    fn offsets_and_instants_read_as_providers_write_them() {
        assert_eq!(offset_seconds("+01:00"), Some(3600));
        assert_eq!(offset_seconds("-05:30"), Some(-19_800));
        assert_eq!(offset_seconds("Z"), Some(0));
        assert_eq!(offset_seconds("01:00"), None);
        assert_eq!(
            instant_ms("2026-03-02T07:01:30+01:00"),
            instant_ms("2026-03-02T06:01:30.000Z")
        );
        assert_eq!(
            local_date(instant_ms("2026-03-01T23:30:00Z").unwrap(), 3600),
            "2026-03-02"
        );
        assert_eq!(kcal_from_kj(1724.0), 412.0);
    }
}
