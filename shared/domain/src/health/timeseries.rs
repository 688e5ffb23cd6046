//! Bucketing points by the user's local time: minute, hour, day, week (from Monday) or month,
//! either in one IANA zone (DST-correct: a 23- or 25-hour day is one bucket, the repeated hour
//! of a fall-back is two) or in the offset each point was recorded at (a user who flies from
//! Berlin to Tokyo gets Tokyo days after the flight).

use crate::health::rollup::Slot;
use chrono::{
    DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, Offset, TimeZone,
};
use chrono_tz::Tz;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Minute,
    Hour,
    Day,
    Week,
    Month,
}

impl Bucket {
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "minute" => Self::Minute,
            "hour" => Self::Hour,
            "day" => Self::Day,
            "week" => Self::Week,
            "month" => Self::Month,
            _ => return None,
        })
    }

    /// A bucket's length at most, for bounding how many a range makes.
    pub fn max_seconds(self) -> i64 {
        match self {
            Self::Minute => 60,
            Self::Hour => 3600,
            Self::Day => 86_400,
            Self::Week => 7 * 86_400,
            Self::Month => 28 * 86_400,
        }
    }

    /// Minute and hour buckets are told apart by their offset too (the repeated hour).
    fn keeps_offset(self) -> bool {
        matches!(self, Self::Minute | Self::Hour)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    Avg,
    Min,
    Max,
    Sum,
    Count,
}

impl Aggregate {
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "avg" => Self::Avg,
            "min" => Self::Min,
            "max" => Self::Max,
            "sum" => Self::Sum,
            "count" => Self::Count,
            _ => return None,
        })
    }
}

/// Which local time buckets follow.
#[derive(Debug, Clone, Copy)]
pub enum LocalTime {
    Zone(Tz),
    /// Each point's own recorded offset.
    Recorded,
}

/// One bucket's aggregate.
#[derive(Debug, Clone, PartialEq)]
pub struct BucketValue {
    /// The bucket's local start, with the UTC offset in force then.
    pub start: DateTime<FixedOffset>,
    pub value: f64,
    pub count: u64,
}

#[derive(Default)]
struct Tally {
    sum: f64,
    min: f64,
    max: f64,
    count: u64,
    offset: i32,
}

/// The start of the bucket holding local time `local_ms` (milliseconds on the local clock).
fn local_start(bucket: Bucket, local_ms: i64) -> Option<NaiveDateTime> {
    let floor = |step: i64| {
        DateTime::from_timestamp_millis(local_ms.div_euclid(step) * step).map(|at| at.naive_utc())
    };
    let midnight = |day: NaiveDate| day.and_time(chrono::NaiveTime::MIN);
    Some(match bucket {
        Bucket::Minute => floor(60_000)?,
        Bucket::Hour => floor(3_600_000)?,
        Bucket::Day => floor(86_400_000)?,
        Bucket::Week => {
            let date = floor(86_400_000)?.date();
            midnight(date - Duration::days(i64::from(date.weekday().num_days_from_monday())))
        }
        Bucket::Month => {
            let date = floor(86_400_000)?.date();
            midnight(date.with_day(1).unwrap_or(date))
        }
    })
}

/// The offset of `zone` at each instant, looked up once per quarter hour (zones change offset
/// on quarter hours at the finest), so millions of points cost a few thousand lookups.
pub struct ZoneOffsets {
    zone: Tz,
    slot: i64,
    offset: i32,
}

impl ZoneOffsets {
    const SLOT_MS: i64 = 15 * 60 * 1000;

    pub fn new(zone: Tz) -> Self {
        Self {
            zone,
            slot: i64::MIN,
            offset: 0,
        }
    }

    pub fn at(&mut self, at_ms: i64) -> i32 {
        let slot = at_ms.div_euclid(Self::SLOT_MS);
        if slot != self.slot {
            self.slot = slot;
            self.offset = self
                .zone
                .timestamp_millis_opt(slot * Self::SLOT_MS)
                .single()
                .map_or(0, |at| at.offset().fix().local_minus_utc());
        }
        self.offset
    }
}

/// Buckets points fed one at a time, in any order (fastest when mostly in time order: a run
/// of points in one bucket costs no map lookup).
pub struct Bucketer {
    bucket: Bucket,
    local_time: LocalTime,
    aggregate: Aggregate,
    zone_offsets: Option<ZoneOffsets>,
    /// (local start, offset when the bucket keeps it) and its tally, sorted by the former:
    /// readings mostly come in time order, so a new bucket is mostly pushed at the end.
    tallies: Vec<((NaiveDateTime, i32), Tally)>,
    /// The bucket being filled: its place in `tallies` and the local span it covers.
    current: Option<(usize, i64, i64)>,
}

impl Bucketer {
    pub fn new(bucket: Bucket, local_time: LocalTime, aggregate: Aggregate) -> Self {
        Self {
            bucket,
            local_time,
            aggregate,
            zone_offsets: match local_time {
                LocalTime::Zone(zone) => Some(ZoneOffsets::new(zone)),
                LocalTime::Recorded => None,
            },
            tallies: Vec::new(),
            current: None,
        }
    }

    /// Adds a reading: UTC ms, value, and the offset it was recorded at.
    pub fn add(&mut self, at_ms: i64, value: f64, recorded_offset: i32) {
        self.add_tally(
            at_ms,
            recorded_offset,
            Tally {
                sum: value,
                min: value,
                max: value,
                count: 1,
                offset: recorded_offset,
            },
        );
    }

    /// Adds a rollup slot's samples at once (the slot lies within one bucket: the caller
    /// checked its offset is a whole number of slots).
    pub fn add_slot(&mut self, slot: &Slot) {
        let unit = |scaled: i64| scaled as f64 / 1000.0;
        self.add_tally(
            slot.start_ms,
            slot.offset,
            Tally {
                sum: unit(slot.sum),
                min: unit(slot.min),
                max: unit(slot.max),
                count: slot.count,
                offset: slot.offset,
            },
        );
    }

    fn add_tally(&mut self, at_ms: i64, recorded_offset: i32, part: Tally) {
        let offset = self
            .zone_offsets
            .as_mut()
            .map_or(recorded_offset, |cache| cache.at(at_ms));
        let local_ms = at_ms + i64::from(offset) * 1000;
        let same = self.current.is_some_and(|(index, from, to)| {
            (!self.bucket.keeps_offset()
                || self.tallies.get(index).is_some_and(|t| t.0.1 == offset))
                && (from..to).contains(&local_ms)
        });
        if !same {
            let Some(start) = local_start(self.bucket, local_ms) else {
                return;
            };
            let key = (
                start,
                if self.bucket.keeps_offset() {
                    offset
                } else {
                    0
                },
            );
            let from = start.and_utc().timestamp_millis();
            let to = match self.bucket {
                Bucket::Minute => from + 60_000,
                Bucket::Hour => from + 3_600_000,
                Bucket::Day => from + 86_400_000,
                Bucket::Week => from + 7 * 86_400_000,
                Bucket::Month => start
                    .date()
                    .checked_add_months(chrono::Months::new(1))
                    .map_or(from + 28 * 86_400_000, |next| {
                        next.and_time(chrono::NaiveTime::MIN)
                            .and_utc()
                            .timestamp_millis()
                    }),
            };
            let fresh = || Tally {
                min: f64::INFINITY,
                max: f64::NEG_INFINITY,
                offset,
                ..Tally::default()
            };
            let index = match self.tallies.last() {
                Some((last, _)) if *last >= key => {
                    match self.tallies.binary_search_by(|(k, _)| k.cmp(&key)) {
                        Ok(found) => found,
                        Err(at) => {
                            self.tallies.insert(at, (key, fresh()));
                            at
                        }
                    }
                }
                _ => {
                    self.tallies.push((key, fresh()));
                    self.tallies.len() - 1
                }
            };
            self.current = Some((index, from, to));
        }
        if let Some((_, tally)) = self
            .current
            .and_then(|(index, _, _)| self.tallies.get_mut(index))
        {
            tally.sum += part.sum;
            tally.min = tally.min.min(part.min);
            tally.max = tally.max.max(part.max);
            tally.count += part.count;
        }
    }

    /// The buckets, in time order.
    pub fn finish(self) -> Vec<BucketValue> {
        let (bucket, local_time, aggregate) = (self.bucket, self.local_time, self.aggregate);
        let mut buckets: Vec<BucketValue> = self
            .tallies
            .into_iter()
            .filter_map(|((start, _), tally)| {
                // Day and longer buckets start at the zone's offset at their local start (a
                // day that starts in winter time starts at +01:00 however it ends), or the
                // first reading's; minute and hour buckets carry their own.
                let offset = match (bucket.keeps_offset(), local_time) {
                    (false, LocalTime::Zone(zone)) => zone
                        .from_local_datetime(&start)
                        .earliest()
                        .map_or(tally.offset, |at| at.offset().fix().local_minus_utc()),
                    _ => tally.offset,
                };
                let start = FixedOffset::east_opt(offset)?
                    .from_local_datetime(&start)
                    .single()?;
                let value = match aggregate {
                    Aggregate::Avg => tally.sum / tally.count as f64,
                    Aggregate::Min => tally.min,
                    Aggregate::Max => tally.max,
                    Aggregate::Sum => tally.sum,
                    Aggregate::Count => tally.count as f64,
                };
                Some(BucketValue {
                    start,
                    value,
                    count: tally.count,
                })
            })
            .collect();
        // In time order (the repeated hour's two buckets share a local start).
        buckets.sort_by_key(|bucket| bucket.start);
        buckets
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Buckets `(UTC ms, value, recorded offset seconds)` points, in any order.
    fn bucket_points(
        points: impl IntoIterator<Item = (i64, f64, i32)>,
        bucket: Bucket,
        local_time: LocalTime,
        aggregate: Aggregate,
    ) -> Vec<BucketValue> {
        let mut bucketer = Bucketer::new(bucket, local_time, aggregate);
        for (at_ms, value, offset) in points {
            bucketer.add(at_ms, value, offset);
        }
        bucketer.finish()
    }

    fn ms(raw: &str) -> i64 {
        DateTime::parse_from_rfc3339(raw)
            .unwrap()
            .timestamp_millis()
    }

    fn starts(buckets: &[BucketValue]) -> Vec<String> {
        buckets.iter().map(|b| b.start.to_rfc3339()).collect()
    }

    #[test]
    fn new_york_days_across_the_march_change_have_23_hours() {
        let zone: Tz = "America/New_York".parse().unwrap();
        // One reading an hour from Saturday 7 March 2026 00:00 EST to Monday 00:00 EDT.
        let first = ms("2026-03-07T05:00:00Z");
        let points = (0..47).map(|h| (first + h * 3_600_000, 1.0, 0));
        let days = bucket_points(points, Bucket::Day, LocalTime::Zone(zone), Aggregate::Count);
        assert_eq!(
            starts(&days),
            ["2026-03-07T00:00:00-05:00", "2026-03-08T00:00:00-05:00"]
        );
        assert_eq!(days[0].value, 24.0);
        assert_eq!(days[1].value, 23.0, "the clocks skipped 02:00");
    }

    #[test]
    fn the_repeated_hour_of_a_fall_back_is_two_buckets() {
        let zone: Tz = "America/New_York".parse().unwrap();
        // 1 November 2026: 01:00 EDT, 01:00 EST.
        let points = [
            (ms("2026-11-01T05:30:00Z"), 10.0, 0),
            (ms("2026-11-01T06:30:00Z"), 20.0, 0),
        ];
        let hours = bucket_points(points, Bucket::Hour, LocalTime::Zone(zone), Aggregate::Avg);
        assert_eq!(
            starts(&hours),
            ["2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00"]
        );
        assert_eq!(hours[1].value, 20.0);
    }

    #[test]
    fn recorded_offsets_follow_a_traveller() {
        // 23:30 in Berlin, then (after a flight) 08:00 and 09:00 in Tokyo the next day.
        let points = [
            (ms("2026-06-01T21:30:00Z"), 100.0, 7200),
            (ms("2026-06-01T23:00:00Z"), 50.0, 32_400),
            (ms("2026-06-02T00:00:00Z"), 70.0, 32_400),
        ];
        let days = bucket_points(points, Bucket::Day, LocalTime::Recorded, Aggregate::Sum);
        assert_eq!(
            starts(&days),
            ["2026-06-01T00:00:00+02:00", "2026-06-02T00:00:00+09:00"]
        );
        assert_eq!((days[0].value, days[1].value), (100.0, 120.0));
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        let zone: Tz = "Europe/London".parse().unwrap();
        let points = [
            (ms("2026-03-29T12:00:00Z"), 3.0, 0), // Sunday
            (ms("2026-03-30T12:00:00Z"), 5.0, 0), // Monday, summer time
        ];
        let weeks = bucket_points(points, Bucket::Week, LocalTime::Zone(zone), Aggregate::Max);
        assert_eq!(
            starts(&weeks),
            ["2026-03-23T00:00:00+00:00", "2026-03-30T00:00:00+01:00"]
        );
        let months = bucket_points(points, Bucket::Month, LocalTime::Zone(zone), Aggregate::Min);
        assert_eq!(starts(&months), ["2026-03-01T00:00:00+00:00"]);
        assert_eq!(months[0].value, 3.0);
    }

    #[test]
    fn minutes_aggregate_every_way() {
        let base = ms("2026-01-01T00:00:00Z");
        let points = [
            (base + 1000, 60.0, 0),
            (base + 2000, 80.0, 0),
            (base + 61_000, 70.0, 0),
        ];
        let agg = |aggregate| {
            bucket_points(points, Bucket::Minute, LocalTime::Recorded, aggregate)
                .iter()
                .map(|b| b.value)
                .collect::<Vec<_>>()
        };
        assert_eq!(agg(Aggregate::Avg), [70.0, 70.0]);
        assert_eq!(agg(Aggregate::Min), [60.0, 70.0]);
        assert_eq!(agg(Aggregate::Max), [80.0, 70.0]);
        assert_eq!(agg(Aggregate::Sum), [140.0, 70.0]);
        assert_eq!(agg(Aggregate::Count), [2.0, 1.0]);
    }
}
