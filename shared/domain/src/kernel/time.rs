//! Instants as the API shows them (RFC 3339, UTC, milliseconds) and the clock port.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A UTC instant with millisecond precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    pub fn from_datetime(at: DateTime<Utc>) -> Self {
        // Truncate to milliseconds so what is stored equals what is shown.
        let millis = at.timestamp_millis();
        Self(DateTime::from_timestamp_millis(millis).unwrap_or(at))
    }

    pub fn from_millis(millis: i64) -> Option<Self> {
        DateTime::from_timestamp_millis(millis).map(Self)
    }

    /// Seconds since the epoch, as providers send them; `None` when out of range.
    pub fn from_seconds(seconds: i64) -> Option<Self> {
        Self::from_millis(millis_of_seconds(seconds)?)
    }

    /// Parses RFC 3339 with any offset, normalised to UTC.
    pub fn parse(raw: &str) -> Option<Self> {
        DateTime::parse_from_rfc3339(raw)
            .ok()
            .map(|at| Self::from_datetime(at.with_timezone(&Utc)))
    }

    pub fn millis(&self) -> i64 {
        self.0.timestamp_millis()
    }

    pub fn datetime(&self) -> DateTime<Utc> {
        self.0
    }

    /// `seconds` later (earlier when negative), or `None` past the range of dates.
    pub fn checked_plus_seconds(&self, seconds: i64) -> Option<Self> {
        chrono::Duration::try_seconds(seconds)
            .and_then(|delta| self.0.checked_add_signed(delta))
            .map(Self)
    }

    /// `seconds` later (earlier when negative), held at the first or last representable
    /// instant rather than overflowing: time computed from input never panics.
    pub fn plus_seconds(&self, seconds: i64) -> Self {
        self.checked_plus_seconds(seconds)
            .unwrap_or(if seconds < 0 {
                Self::EARLIEST
            } else {
                Self::LATEST
            })
    }

    /// The first and last instants a `Timestamp` holds (chrono's range, in milliseconds).
    pub const EARLIEST: Self = Self(DateTime::<Utc>::MIN_UTC);
    pub const LATEST: Self = Self(DateTime::<Utc>::MAX_UTC);
}

/// Milliseconds in `seconds`, when that is an instant chrono can hold.
pub fn millis_of_seconds(seconds: i64) -> Option<i64> {
    seconds
        .checked_mul(1000)
        .filter(|millis| DateTime::from_timestamp_millis(*millis).is_some())
}

/// The local calendar date (`YYYY-MM-DD`) of a UTC instant at an offset east of UTC; empty
/// when the two add up to no date.
pub fn local_date(at_ms: i64, offset_seconds: i32) -> String {
    at_ms
        .checked_add(i64::from(offset_seconds) * 1000)
        .and_then(DateTime::from_timestamp_millis)
        .map(|at| at.date_naive().to_string())
        .unwrap_or_default()
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::Millis, true))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Timestamp::parse(&raw)
            .ok_or_else(|| serde::de::Error::custom("expected an RFC 3339 date-time"))
    }
}

/// Where "now" comes from, so tests can move time.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_datetime(Utc::now())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn extreme() -> impl Strategy<Value = i64> {
        prop_oneof![
            Just(i64::MAX),
            Just(i64::MIN),
            Just(i64::MAX / 1000),
            Just(i64::MIN / 1000),
            any::<i64>(),
            -10_000_000_000_000i64..10_000_000_000_000,
        ]
    }

    proptest! {
        #[test]
        fn time_from_any_input_never_panics(
            millis in extreme(),
            seconds in extreme(),
            offset in any::<i32>(),
        ) {
            let at = Timestamp::from_millis(millis).unwrap_or(Timestamp::LATEST);
            let later = at.plus_seconds(seconds);
            match at.checked_plus_seconds(seconds) {
                Some(exact) => prop_assert_eq!(later, exact),
                None => prop_assert!(later == Timestamp::EARLIEST || later == Timestamp::LATEST),
            }
            let moved_the_right_way = if seconds >= 0 { later >= at } else { later <= at };
            prop_assert!(moved_the_right_way);
            let _ = local_date(millis, offset);
            let _ = later.to_string();
            match Timestamp::from_seconds(seconds) {
                Some(at) => prop_assert_eq!(at.millis(), seconds * 1000),
                None => prop_assert!(millis_of_seconds(seconds).is_none()),
            }
        }
    }

    #[test]
    fn out_of_range_seconds_are_refused_not_wrapped() {
        assert!(Timestamp::from_seconds(i64::MAX).is_none());
        assert!(millis_of_seconds(i64::MIN).is_none());
        assert_eq!(
            Timestamp::from_seconds(1_772_452_800).unwrap().to_string(),
            "2026-03-02T12:00:00.000Z"
        );
        assert_eq!(Timestamp::EARLIEST.plus_seconds(-1), Timestamp::EARLIEST);
        assert_eq!(Timestamp::LATEST.plus_seconds(i64::MAX), Timestamp::LATEST);
        assert_eq!(local_date(i64::MAX, i32::MAX), "");
    }

    #[test]
    fn shows_utc_with_milliseconds() {
        let at = Timestamp::parse("2026-03-08T01:59:59.123456+01:00").unwrap();
        assert_eq!(at.to_string(), "2026-03-08T00:59:59.123Z");
        assert_eq!(
            serde_json::to_string(&at).unwrap(),
            "\"2026-03-08T00:59:59.123Z\""
        );
    }

    #[test]
    fn rejects_what_is_not_rfc3339() {
        assert!(Timestamp::parse("2026-03-08").is_none());
        assert!(serde_json::from_str::<Timestamp>("\"yesterday\"").is_err());
    }
}
