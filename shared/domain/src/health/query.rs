//! Reading a user's health data across all their connections (connected or not: synced data
//! is kept): records newest first, local-time buckets, daily summaries, per-metric totals,
//! sessions, personal records, and erasure. Parameters arrive as the client sent them and are
//! validated here, each refusal naming its field.

use crate::health::chunk;
use crate::health::glucose::{GlucoseDay, GlucoseTally};
use crate::health::records::{chunk_key, summary_key, utc_hour};
use crate::health::rollup::{self, Grain, Slot};
use crate::health::timeseries::{Aggregate, Bucket, BucketValue, Bucketer, LocalTime, ZoneOffsets};
use crate::health::{DailySummary, Measurement, Metric, Session, SessionKind, local_day_bounds};
use crate::kernel::error::{DomainError, StoreError};
use crate::kernel::ids::ConnectionId;
use crate::kernel::page::Page;
use crate::kernel::provider::ProviderId;
use crate::kernel::scope::Scope;
use crate::kernel::time::{Clock, Timestamp, local_date};
use crate::ports::{ConnectionStore, HealthStore, RecordOwner};
use crate::tenancy::api_key::Principal;
use crate::tenancy::user::UserLookup;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{NaiveDate, NaiveDateTime};
use std::collections::BTreeMap;
use std::sync::Arc;

const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;
/// Records listed per page by default, and at most.
const DEFAULT_RECORDS: usize = 100;
const MAX_RECORDS: usize = 1000;
/// The most buckets one timeseries answers.
const MAX_BUCKETS: i64 = 50_000;
/// The longest range a timeseries or daily-summary request may span.
const MAX_RANGE_DAYS: i64 = 366;
/// Ranges left open default to this many days back from `to`.
const DEFAULT_RANGE_DAYS: i64 = 30;

/// One connection's records, and the provider they came from.
struct Source {
    owner: RecordOwner,
    provider: ProviderId,
}

/// A reading at an instant: a sample from a dense series, or a measurement.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthRecord {
    pub metric: Metric,
    pub at_ms: i64,
    pub utc_offset_seconds: i32,
    pub value: f64,
    pub secondary: Option<f64>,
    pub provider: ProviderId,
    pub connection_id: ConnectionId,
    /// The provider's record id (measurements), or none (samples of a series).
    pub record_id: Option<String>,
    pub source: Option<String>,
    /// For a day's value (a daily total or average): its local date and the instant the day
    /// ends; `at_ms` is the instant it starts.
    pub day: Option<DayRange>,
}

/// The local day a daily record covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayRange {
    pub date: String,
    pub end_ms: i64,
}

impl HealthRecord {
    /// The local calendar date of the reading.
    pub fn local_date(&self) -> String {
        match &self.day {
            Some(day) => day.date.clone(),
            None => local_date(self.at_ms, self.utc_offset_seconds),
        }
    }

    fn position(&self) -> Position {
        (
            self.at_ms,
            self.connection_id.to_string(),
            self.metric.as_str().to_owned(),
            self.record_id.clone().unwrap_or_default(),
        )
    }
}

/// One reading as stored: a sample of a chunk, a whole measurement, or a day's value.
enum Reading {
    Sample {
        at_ms: i64,
        value: f64,
        offset: i32,
    },
    Measured(Measurement),
    Daily(DailySummary),
    /// A rollup slot: many samples at once (charts only).
    Rolled(Slot),
}

/// Where a record sits in newest-first order; a page resumes strictly after one.
type Position = (i64, String, String, String);

fn encode_position(position: &Position) -> String {
    format!(
        "{:013}|{}|{}|{}",
        position.0, position.1, position.2, position.3
    )
}

fn decode_position(raw: &str) -> Option<Position> {
    let mut parts = raw.splitn(4, '|');
    Some((
        parts.next()?.parse().ok()?,
        parts.next()?.to_owned(),
        parts.next()?.to_owned(),
        parts.next()?.to_owned(),
    ))
}

/// `GET /v1/users/{userId}/health`, as sent.
#[derive(Debug, Clone, Default)]
pub struct RecordsQuery {
    pub metric_type: Option<String>,
    pub provider_id: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub limit: Option<String>,
    /// The store position from the previous page (the API unwraps its cursor).
    pub after: Option<String>,
}

/// `GET /v1/users/{userId}/health/timeseries`, as sent.
#[derive(Debug, Clone, Default)]
pub struct TimeseriesQuery {
    pub metric_type: Option<String>,
    pub provider_id: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub bucket: Option<String>,
    pub agg: Option<String>,
    pub tz: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Timeseries {
    pub metric: Metric,
    pub buckets: Vec<BucketValue>,
}

/// `GET /v1/users/{userId}/health/daily-summaries`, as sent.
#[derive(Debug, Clone, Default)]
pub struct DailyQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub metric_types: Option<String>,
}

/// What one provider said of one local day.
#[derive(Debug, Clone, PartialEq)]
pub struct DaySource {
    pub provider: ProviderId,
    pub connection_id: ConnectionId,
    pub value: f64,
}

/// One local date and metric, merged across the providers that reported it.
#[derive(Debug, Clone, PartialEq)]
pub struct DailyRow {
    pub date: String,
    pub metric: Metric,
    /// Totals take the highest provider's (two trackers counting one walk is one walk);
    /// other metrics the mean.
    pub value: f64,
    pub utc_offset_seconds: i32,
    pub sources: Vec<DaySource>,
    /// Glucose: the day's readings summed up (the value is their mean).
    pub glucose: Option<GlucoseDay>,
}

/// Per metric: what is stored.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetricSummary {
    /// Readings at an instant (samples and measurements).
    pub count: u64,
    /// Local days with a daily value.
    pub days: u64,
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
}

/// `GET /v1/users/{userId}/events`, as sent.
#[derive(Debug, Clone, Default)]
pub struct SessionsQuery {
    pub session_type: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub limit: Option<String>,
    pub after: Option<String>,
}

/// A workout or sleep, with the id the API names it by (the API calls these "events").
#[derive(Debug, Clone, PartialEq)]
pub struct SessionEntry {
    pub id: String,
    pub connection_id: ConnectionId,
    pub session: Session,
}

/// A best value and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonalRecord {
    /// `steps`, `distance`, …, or `workout_distance`, `workout_duration`, `sleep_duration`.
    pub record_type: String,
    pub value: f64,
    pub unit: &'static str,
    /// Workouts: the sport the record is for.
    pub sport: Option<String>,
    pub date: String,
    pub provider: ProviderId,
    /// The workout or sleep it came from, for session records (the API's `eventId`).
    pub session_id: Option<String>,
}

/// Daily totals whose best is the highest, and those whose best is the lowest.
const HIGHEST_DAILY: [Metric; 6] = [
    Metric::Steps,
    Metric::Distance,
    Metric::ActiveCalories,
    Metric::Floors,
    Metric::ActiveMinutes,
    Metric::HeartRateVariability,
];
const LOWEST_DAILY: [Metric; 1] = [Metric::RestingHeartRate];
const RECORD_TYPES: [&str; 10] = [
    "steps",
    "distance",
    "active_calories",
    "floors",
    "active_minutes",
    "heart_rate_variability",
    "resting_heart_rate",
    "workout_distance",
    "workout_duration",
    "sleep_duration",
];

/// Metrics whose daily value is a total (merged by the highest source, never summed).
fn is_total(metric: Metric) -> bool {
    matches!(
        metric,
        Metric::Steps
            | Metric::Distance
            | Metric::ActiveCalories
            | Metric::TotalCalories
            | Metric::Floors
            | Metric::ActiveMinutes
    )
}

fn parse_metric(field: &str, raw: &str) -> Result<Metric, DomainError> {
    Metric::parse(raw).ok_or_else(|| DomainError::validation(field, "is not a known metric type"))
}

fn parse_provider(raw: Option<&str>) -> Result<Option<ProviderId>, DomainError> {
    raw.map(|raw| {
        // Data comes from connected providers and from phones alike.
        ProviderId::parse(raw)
            .or_else(|| ProviderId::parse_mobile(raw))
            .ok_or_else(|| DomainError::validation("providerId", "is not a known provider"))
    })
    .transpose()
}

fn parse_instant(field: &str, raw: Option<&str>) -> Result<Option<Timestamp>, DomainError> {
    raw.map(|raw| {
        Timestamp::parse(raw).ok_or_else(|| {
            DomainError::validation(
                field,
                "must be an RFC 3339 date-time (2026-03-01T00:00:00Z)",
            )
        })
    })
    .transpose()
}

fn parse_limit(raw: Option<&str>) -> Result<usize, DomainError> {
    match raw {
        None => Ok(DEFAULT_RECORDS),
        Some(raw) => raw
            .parse()
            .ok()
            .filter(|n| (1..=MAX_RECORDS).contains(n))
            .ok_or_else(|| {
                DomainError::validation(
                    "limit",
                    format!("must be a whole number from 1 to {MAX_RECORDS}"),
                )
            }),
    }
}

/// `[from, to)` in UTC ms: `to` defaults to now, `from` to 30 days before `to`.
fn window(
    now: Timestamp,
    from: Option<&str>,
    to: Option<&str>,
    max_days: Option<i64>,
) -> Result<(i64, i64), DomainError> {
    let to = parse_instant("to", to)?.unwrap_or(now).millis();
    let from =
        parse_instant("from", from)?.map_or(to - DEFAULT_RANGE_DAYS * DAY_MS, |from| from.millis());
    if from >= to {
        return Err(DomainError::validation("from", "must be before 'to'"));
    }
    if let Some(days) = max_days
        && to - from > days * DAY_MS
    {
        return Err(DomainError::validation(
            "from",
            format!("the range may span at most {days} days"),
        ));
    }
    Ok((from, to))
}

/// A date (`2026-11-20`), or an RFC 3339 instant taken as the date it names where it was
/// written (`2026-11-20T08:00:00+01:00` is 20 November).
fn parse_date(field: &str, raw: &str) -> Result<NaiveDate, DomainError> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .or_else(|| {
            chrono::DateTime::parse_from_rfc3339(raw)
                .ok()
                .map(|at| at.date_naive())
        })
        .ok_or_else(|| {
            DomainError::validation(field, "must be a date (YYYY-MM-DD) or an RFC 3339 instant")
        })
}

fn corrupt(err: impl std::fmt::Display) -> DomainError {
    DomainError::Store(StoreError::Corrupt(err.to_string()))
}

fn decode_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, DomainError> {
    serde_json::from_slice(bytes).map_err(corrupt)
}

/// An event's public id: connection, kind and the provider's record id.
fn session_public_id(connection: &ConnectionId, session: &Session) -> String {
    URL_SAFE_NO_PAD.encode(format!(
        "{connection}|{}|{}",
        session.kind.as_str(),
        session.origin.record_id
    ))
}

/// Reading a user's health data, and erasing it. The query function is built from this and
/// the tenancy alone.
#[derive(Clone)]
pub struct HealthReads {
    users: UserLookup,
    connections: Arc<dyn ConnectionStore>,
    health: Arc<dyn HealthStore>,
    clock: Arc<dyn Clock>,
    /// Charts read rollups where a bucket allows.
    rollups: bool,
}

impl HealthReads {
    pub fn new(
        users: UserLookup,
        connections: Arc<dyn ConnectionStore>,
        health: Arc<dyn HealthStore>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            users,
            connections,
            health,
            clock,
            rollups: true,
        }
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The user's connections (all of them: data outlives a disconnection), optionally of one
    /// provider.
    async fn sources(
        &self,
        caller: &Principal,
        user_id: &str,
        provider: Option<ProviderId>,
    ) -> Result<Vec<Source>, DomainError> {
        let user = self.users.get_user(caller, user_id).await?;
        let connections = self
            .connections
            .list_connections(&caller.workspace_id, &user.id)
            .await?;
        Ok(connections
            .into_iter()
            .filter(|c| provider.is_none_or(|p| p == c.provider))
            .map(|c| Source {
                owner: RecordOwner {
                    workspace: c.workspace_id,
                    user: c.user_id,
                    connection: c.id,
                },
                provider: c.provider,
            })
            .collect())
    }

    /// `[from, to)` as asked, at most `MAX_RANGE_DAYS` long.
    fn capped_window(
        &self,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<(i64, i64), DomainError> {
        window(self.now(), from, to, Some(MAX_RANGE_DAYS))
    }

    /// A source's values of `metric` for the local days that start in `[from, to)` (records),
    /// or whose local noon does (charts: a day counts where most of it is).
    async fn daily_values(
        &self,
        source: &Source,
        metric: Metric,
        (from, to): (i64, i64),
        by_noon: bool,
    ) -> Result<Vec<(i64, i64, DailySummary)>, DomainError> {
        // Local dates reach a day either side of the UTC ones.
        let first = local_date(from.saturating_sub(DAY_MS), 0);
        let last = local_date(to.saturating_add(DAY_MS), 0);
        let days = self
            .health
            .records_between(
                &source.owner,
                &summary_key(metric, &first),
                &format!("{}~", summary_key(metric, &last)),
            )
            .await?;
        let mut out = Vec::new();
        for (_, bytes) in days {
            let day: DailySummary = decode_json(&bytes)?;
            if let Some((start, end)) = local_day_bounds(&day.date, day.utc_offset_seconds)
                && (from..to).contains(&if by_noon { start + DAY_MS / 2 } else { start })
            {
                out.push((start, end, day));
            }
        }
        Ok(out)
    }

    /// Feeds a source's readings of `metric` at instants in `[from, to)` to `sink`, one
    /// decoded chunk at a time (a month of 1 Hz samples never sits in memory at once); with
    /// `days`, also the values of the local days that start in the range.
    async fn each_reading(
        &self,
        source: &Source,
        metric: Metric,
        (from, to): (i64, i64),
        days: bool,
        mut sink: impl FnMut(Reading),
    ) -> Result<(), DomainError> {
        if days {
            for (_, _, day) in self.daily_values(source, metric, (from, to), false).await? {
                sink(Reading::Daily(day));
            }
        }
        self.each_sample(source, metric, (from, to), &mut sink)
            .await?;
        self.each_measurement(source, metric, (from, to), &mut sink)
            .await
    }

    /// A source's samples (from its chunks) of `metric` at instants in `[from, to)`.
    async fn each_sample(
        &self,
        source: &Source,
        metric: Metric,
        (from, to): (i64, i64),
        sink: &mut impl FnMut(Reading),
    ) -> Result<(), DomainError> {
        if from >= to {
            return Ok(());
        }
        let chunks = self
            .health
            .records_between(
                &source.owner,
                &chunk_key(metric, &utc_hour(from)),
                &format!("{}~", chunk_key(metric, &utc_hour(to - 1))),
            )
            .await?;
        for (_, bytes) in chunks {
            let chunk = chunk::decode(&bytes).map_err(corrupt)?;
            let mut changes = chunk.offset_changes.iter().peekable();
            let mut offset = chunk.utc_offset_seconds;
            for (at_ms, value) in chunk::values(&chunk.points) {
                while let Some((_, next)) = changes.next_if(|(change, _)| *change <= at_ms) {
                    offset = *next;
                }
                if (from..to).contains(&at_ms) {
                    sink(Reading::Sample {
                        at_ms,
                        value,
                        offset,
                    });
                }
            }
        }
        Ok(())
    }

    /// A source's measurements of `metric` at instants in `[from, to)`.
    async fn each_measurement(
        &self,
        source: &Source,
        metric: Metric,
        (from, to): (i64, i64),
        sink: &mut impl FnMut(Reading),
    ) -> Result<(), DomainError> {
        let measurements = self
            .health
            .records_between(
                &source.owner,
                &format!("E#{metric}#{from:013}"),
                &format!("E#{metric}#{to:013}"),
            )
            .await?;
        for (_, bytes) in measurements {
            sink(Reading::Measured(decode_json(&bytes)?));
        }
        Ok(())
    }

    /// A source's rollup slots of `metric` that serve `bucket` over the whole slots inside
    /// `[from, to)`, and that inner span; `None` when they cannot (the source not `rolled_up`,
    /// a window narrower than a slot, or an offset that is not a whole number of slots, which
    /// would split a slot across buckets).
    async fn rolled_up(
        &self,
        source: &Source,
        metric: Metric,
        (from, to): (i64, i64),
        bucket: Bucket,
        local_time: LocalTime,
        rolled_up: bool,
    ) -> Result<Option<(Vec<Slot>, (i64, i64))>, DomainError> {
        if !rolled_up {
            return Ok(None);
        }
        let grain = if bucket == Bucket::Minute {
            Grain::Minute
        } else {
            Grain::QuarterHour
        };
        let step = grain.millis();
        let first =
            from.div_euclid(step) * step + if from.rem_euclid(step) == 0 { 0 } else { step };
        let last = to.div_euclid(step) * step;
        if first >= last {
            return Ok(None);
        }
        let records = self
            .health
            .records_between(
                &source.owner,
                &rollup::rollup_key(grain, metric, &local_date(first, 0)),
                &format!(
                    "{}~",
                    rollup::rollup_key(grain, metric, &local_date(last - 1, 0))
                ),
            )
            .await?;
        let mut slots = Vec::new();
        for (key, bytes) in records {
            let day = key
                .rsplit('#')
                .next()
                .and_then(rollup::day_start)
                .ok_or_else(|| corrupt(format!("a rollup key names no day: {key}")))?;
            slots.extend(
                rollup::decode(grain, day, &bytes)
                    .map_err(corrupt)?
                    .into_iter()
                    .filter(|slot| (first..last).contains(&slot.start_ms)),
            );
        }
        let step_seconds = step / 1000;
        let aligned = match local_time {
            LocalTime::Recorded => slots
                .iter()
                .all(|slot| i64::from(slot.offset) % step_seconds == 0),
            LocalTime::Zone(zone) => {
                let mut offsets = ZoneOffsets::new(zone);
                slots
                    .iter()
                    .all(|slot| i64::from(offsets.at(slot.start_ms)) % step_seconds == 0)
            }
        };
        Ok(aligned.then_some((slots, (first, last))))
    }

    /// Reads every sample for charts, never the rollups: what rollup-served answers are checked
    /// against.
    pub fn scanning_samples(mut self) -> Self {
        self.rollups = false;
        self
    }

    /// A source's readings of `metric` at instants in `[from, to)`, as records.
    async fn readings(
        &self,
        source: &Source,
        metric: Metric,
        from: i64,
        to: i64,
    ) -> Result<Vec<HealthRecord>, DomainError> {
        let mut out = Vec::new();
        let record = |at_ms, utc_offset_seconds, value| HealthRecord {
            metric,
            at_ms,
            utc_offset_seconds,
            value,
            secondary: None,
            provider: source.provider,
            connection_id: source.owner.connection.clone(),
            record_id: None,
            source: None,
            day: None,
        };
        self.each_reading(source, metric, (from, to), true, |reading| {
            out.push(match reading {
                // Records are each reading: never read from rollups.
                Reading::Rolled(_) => return,
                Reading::Sample {
                    at_ms,
                    value,
                    offset,
                } => record(at_ms, offset, value),
                Reading::Measured(m) => HealthRecord {
                    secondary: m.secondary,
                    record_id: Some(m.origin.record_id),
                    source: m.origin.source,
                    ..record(m.at_ms, m.utc_offset_seconds, m.value)
                },
                Reading::Daily(day) => {
                    let (start, end) =
                        local_day_bounds(&day.date, day.utc_offset_seconds).unwrap_or_default();
                    HealthRecord {
                        record_id: Some(day.origin.record_id),
                        source: day.origin.source,
                        day: Some(DayRange {
                            date: day.date,
                            end_ms: end,
                        }),
                        ..record(start, day.utc_offset_seconds, day.value)
                    }
                }
            });
        })
        .await?;
        Ok(out)
    }

    /// Where a source's newest reading of `metric` before `end` (and not before `from`) is:
    /// an instant at or after it, from the keys alone. `None` when there is none.
    async fn newest_reading_before(
        &self,
        source: &Source,
        metric: Metric,
        from: i64,
        end: i64,
    ) -> Result<Option<i64>, DomainError> {
        let store = self.health.as_ref();
        let chunk_prefix = chunk_key(metric, "");
        let chunk = store
            .newest_key_between(
                &source.owner,
                &chunk_key(metric, &utc_hour(from)),
                &format!("{}~", chunk_key(metric, &utc_hour(end - 1))),
            )
            .await?
            .and_then(|key| {
                // `YYYY-MM-DDTHH`, then whatever may follow it.
                let hour = key.strip_prefix(&chunk_prefix)?.get(..13)?;
                let start = NaiveDateTime::parse_from_str(&format!("{hour}:00"), "%Y-%m-%dT%H:%M")
                    .ok()?
                    .and_utc()
                    .timestamp_millis();
                Some((start + HOUR_MS).min(end))
            });
        let measured_prefix = format!("E#{metric}#");
        let measured = store
            .newest_key_between(
                &source.owner,
                &format!("{measured_prefix}{from:013}"),
                &format!("{measured_prefix}{end:013}"),
            )
            .await?
            .and_then(|key| {
                let at: i64 = key
                    .strip_prefix(&measured_prefix)?
                    .get(..13)?
                    .parse()
                    .ok()?;
                Some((at + 1).min(end))
            });
        // A day starts by its UTC midnight plus 12 hours (at offset −12:00): a bound past it.
        let day_prefix = summary_key(metric, "");
        let daily = store
            .newest_key_between(
                &source.owner,
                &summary_key(metric, &local_date(from.saturating_sub(DAY_MS), 0)),
                &format!(
                    "{}~",
                    summary_key(metric, &local_date(end.saturating_add(DAY_MS), 0))
                ),
            )
            .await?
            .and_then(|key| {
                let (start, _) = local_day_bounds(key.strip_prefix(&day_prefix)?, 0)?;
                Some((start + DAY_MS).min(end))
            });
        Ok(chunk.max(measured).max(daily))
    }

    /// The newest instant any of `pairs` has a reading at, before `end`; the pairs with none
    /// are dropped, so later reads skip them.
    async fn skip_to_newest(
        &self,
        pairs: &mut Vec<(&Source, Metric)>,
        from: i64,
        end: i64,
    ) -> Result<Option<i64>, DomainError> {
        let mut newest = None;
        let mut kept = Vec::with_capacity(pairs.len());
        for (source, metric) in pairs.drain(..) {
            if let Some(at) = self
                .newest_reading_before(source, metric, from, end)
                .await?
            {
                newest = newest.max(Some(at));
                kept.push((source, metric));
            }
        }
        *pairs = kept;
        Ok(newest)
    }

    /// Readings newest first, a page at a time, over at most a year. The store's keys say
    /// where data is, so empty metrics and empty stretches cost one key lookup, not a read;
    /// the rest is read backwards a day, a week, then a month at a time.
    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id, user_id = %user_id))]
    pub async fn list_records(
        &self,
        caller: &Principal,
        user_id: &str,
        query: &RecordsQuery,
    ) -> Result<Page<HealthRecord>, DomainError> {
        let metrics = match query.metric_type.as_deref() {
            Some(raw) => vec![parse_metric("metricType", raw)?],
            None => Metric::ALL.to_vec(),
        };
        let provider = parse_provider(query.provider_id.as_deref())?;
        let limit = parse_limit(query.limit.as_deref())?;
        let (from, to) = self.capped_window(query.from.as_deref(), query.to.as_deref())?;
        let after = query
            .after
            .as_deref()
            .map(|raw| {
                decode_position(raw).ok_or(DomainError::validation("cursor", "is not valid"))
            })
            .transpose()?;
        let sources = self.sources(caller, user_id, provider).await?;
        let mut pairs: Vec<(&Source, Metric)> = sources
            .iter()
            .flat_map(|source| metrics.iter().map(move |metric| (source, *metric)))
            .collect();
        // Nothing after the cursor's instant can be on this page.
        let mut end = after.as_ref().map_or(to, |p| p.0.saturating_add(1).min(to));
        let mut found: Vec<HealthRecord> = Vec::new();
        let mut span = DAY_MS;
        let mut empty_span = true;
        while end > from && found.len() <= limit {
            if empty_span {
                match self.skip_to_newest(&mut pairs, from, end).await? {
                    Some(newest) => end = end.min(newest),
                    None => break,
                }
            }
            let start = (end - span).max(from);
            let before = found.len();
            for (source, metric) in &pairs {
                let mut readings = self.readings(source, *metric, start, end).await?;
                readings.retain(|r| after.as_ref().is_none_or(|p| r.position() < *p));
                found.extend(readings);
            }
            empty_span = found.len() == before;
            end = start;
            span = if span == DAY_MS {
                6 * DAY_MS
            } else {
                30 * DAY_MS
            };
        }
        found.sort_by_key(|r| std::cmp::Reverse(r.position()));
        found.truncate(limit + 1);
        Ok(Page::from_lookahead(found, limit, |r| {
            encode_position(&r.position())
        }))
    }

    /// One metric's readings bucketed by the user's local time.
    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id, user_id = %user_id))]
    pub async fn timeseries(
        &self,
        caller: &Principal,
        user_id: &str,
        query: &TimeseriesQuery,
    ) -> Result<Timeseries, DomainError> {
        let metric = parse_metric(
            "metricType",
            query
                .metric_type
                .as_deref()
                .ok_or(DomainError::validation("metricType", "is required"))?,
        )?;
        let provider = parse_provider(query.provider_id.as_deref())?;
        let bucket = match query.bucket.as_deref() {
            None => Bucket::Hour,
            Some(raw) => Bucket::parse(raw).ok_or(DomainError::validation(
                "bucket",
                "must be minute, hour, day, week or month",
            ))?,
        };
        let aggregate = match query.agg.as_deref() {
            None => Aggregate::Avg,
            Some(raw) => Aggregate::parse(raw).ok_or(DomainError::validation(
                "agg",
                "must be avg, min, max, sum or count",
            ))?,
        };
        let local_time = match query.tz.as_deref() {
            None => LocalTime::Recorded,
            Some(raw) => LocalTime::Zone(raw.parse().map_err(|_| {
                DomainError::validation("tz", "is not an IANA time zone (Europe/Berlin)")
            })?),
        };
        let (from, to) = self.capped_window(query.from.as_deref(), query.to.as_deref())?;
        if (to - from) / 1000 / bucket.max_seconds() > MAX_BUCKETS {
            return Err(DomainError::validation(
                "bucket",
                format!("the range makes more than {MAX_BUCKETS} buckets: use a larger bucket"),
            ));
        }
        let mut bucketer = Bucketer::new(bucket, local_time, aggregate);
        let whole_days = matches!(bucket, Bucket::Day | Bucket::Week | Bucket::Month);
        // A day's value per date, merged across sources as daily summaries are: a total is
        // the highest source's, anything else their mean. Placed at the day's local noon.
        let mut days: BTreeMap<String, (i64, i32, Vec<f64>)> = BTreeMap::new();
        let mut readings = 0usize;
        let sources = self.sources(caller, user_id, provider).await?;
        for source in &sources {
            // The local days this source has a day's value for: its readings on those days are
            // already counted in it.
            let mut valued_days = std::collections::BTreeSet::new();
            if whole_days {
                for (start, _, day) in self.daily_values(source, metric, (from, to), true).await? {
                    valued_days.insert((start + i64::from(day.utc_offset_seconds) * 1000) / DAY_MS);
                    let entry = days.entry(day.date.clone()).or_insert((
                        start + DAY_MS / 2,
                        day.utc_offset_seconds,
                        Vec::new(),
                    ));
                    entry.2.push(day.value);
                }
            }
            let mut feed = |reading: Reading| {
                readings += 1;
                let (at_ms, value, offset) = match reading {
                    Reading::Sample {
                        at_ms,
                        value,
                        offset,
                    } => (at_ms, value, offset),
                    Reading::Measured(m) => (m.at_ms, m.value, m.utc_offset_seconds),
                    Reading::Rolled(slot) => {
                        readings += usize::try_from(slot.count).unwrap_or(usize::MAX);
                        let local_day =
                            (slot.start_ms + i64::from(slot.offset) * 1000).div_euclid(DAY_MS);
                        if !valued_days.contains(&local_day) {
                            bucketer.add_slot(&slot);
                        }
                        return;
                    }
                    Reading::Daily(_) => return,
                };
                let local_day = (at_ms + i64::from(offset) * 1000).div_euclid(DAY_MS);
                if !valued_days.contains(&local_day) {
                    bucketer.add(at_ms, value, offset);
                }
            };
            // Whether the source is rolled up, and whether it has readings at an instant of
            // the metric at all: one read of its markers.
            let (rolled_up, measured) = if self.rollups {
                let markers = self
                    .health
                    .get_records(
                        &source.owner,
                        &[
                            rollup::ROLLED_UP_MARKER.to_owned(),
                            rollup::measured_marker(metric),
                        ],
                    )
                    .await?;
                let has = |n: usize| markers.get(n).is_some_and(Option::is_some);
                (has(0), !has(0) || has(1))
            } else {
                (false, true)
            };
            match self
                .rolled_up(source, metric, (from, to), bucket, local_time, rolled_up)
                .await?
            {
                None => {
                    self.each_sample(source, metric, (from, to), &mut feed)
                        .await?
                }
                // Whole slots from the rollups, the partial ones at either end from the
                // chunks: in time order, as the samples would come.
                Some((slots, (first, last))) => {
                    self.each_sample(source, metric, (from, first), &mut feed)
                        .await?;
                    for slot in slots {
                        feed(Reading::Rolled(slot));
                    }
                    self.each_sample(source, metric, (last, to), &mut feed)
                        .await?;
                }
            }
            if measured {
                self.each_measurement(source, metric, (from, to), &mut feed)
                    .await?;
            }
        }
        if !whole_days {
            // Nothing at an instant: say why when the metric is kept by day (read only then,
            // so charts of dense data cost no extra read).
            let mut daily_only = false;
            if readings == 0 {
                for source in &sources {
                    daily_only |= !self
                        .daily_values(source, metric, (from, to), false)
                        .await?
                        .is_empty();
                }
            }
            if daily_only {
                return Err(DomainError::validation(
                    "bucket",
                    format!(
                        "{metric} is kept as one value a day here: use bucket=day, week or month"
                    ),
                ));
            }
        } else {
            for (_, (noon, offset, values)) in days {
                let value = if is_total(metric) {
                    values.iter().copied().fold(f64::NEG_INFINITY, f64::max)
                } else {
                    values.iter().sum::<f64>() / values.len() as f64
                };
                bucketer.add(noon, value, offset);
            }
        }
        Ok(Timeseries {
            metric,
            buckets: bucketer.finish(),
        })
    }

    /// One row per local date and metric, merged across providers (never summed).
    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id, user_id = %user_id))]
    pub async fn daily_summaries(
        &self,
        caller: &Principal,
        user_id: &str,
        query: &DailyQuery,
    ) -> Result<Vec<DailyRow>, DomainError> {
        let today = self.now().datetime().date_naive();
        let to = match query.to.as_deref() {
            Some(raw) => parse_date("to", raw)?,
            None => today,
        };
        let from = match query.from.as_deref() {
            Some(raw) => parse_date("from", raw)?,
            None => to - chrono::Duration::days(DEFAULT_RANGE_DAYS - 1),
        };
        if from > to {
            return Err(DomainError::validation("from", "must not be after 'to'"));
        }
        if (to - from).num_days() >= MAX_RANGE_DAYS {
            return Err(DomainError::validation(
                "from",
                format!("the range may span at most {MAX_RANGE_DAYS} days"),
            ));
        }
        let metrics = match query.metric_types.as_deref() {
            None => Metric::ALL.to_vec(),
            Some(raw) => raw
                .split(',')
                .enumerate()
                .map(|(n, name)| parse_metric(&format!("metricTypes[{n}]"), name.trim()))
                .collect::<Result<Vec<_>, _>>()?,
        };
        let mut rows: BTreeMap<(String, Metric), DailyRow> = BTreeMap::new();
        let sources = self.sources(caller, user_id, None).await?;
        if metrics.contains(&Metric::Glucose) {
            rows.extend(
                self.glucose_days(&sources, from, to)
                    .await?
                    .into_iter()
                    .map(|row| ((row.date.clone(), Metric::Glucose), row)),
            );
        }
        for source in sources {
            for metric in metrics.iter().filter(|m| **m != Metric::Glucose) {
                let days = self
                    .health
                    .records_between(
                        &source.owner,
                        &format!("D#{metric}#{from}"),
                        &format!("D#{metric}#{to}~"),
                    )
                    .await?;
                for (_, bytes) in days {
                    let day: DailySummary = decode_json(&bytes)?;
                    let row = rows
                        .entry((day.date.clone(), *metric))
                        .or_insert_with(|| DailyRow {
                            date: day.date.clone(),
                            metric: *metric,
                            value: 0.0,
                            utc_offset_seconds: day.utc_offset_seconds,
                            sources: Vec::new(),
                            glucose: None,
                        });
                    row.sources.push(DaySource {
                        provider: source.provider,
                        connection_id: source.owner.connection.clone(),
                        value: day.value,
                    });
                }
            }
        }
        Ok(rows
            .into_values()
            .map(|mut row| {
                if row.glucose.is_some() {
                    return row;
                }
                let values = row.sources.iter().map(|s| s.value);
                row.value = if is_total(row.metric) {
                    values.fold(f64::NEG_INFINITY, f64::max)
                } else {
                    values.sum::<f64>() / row.sources.len() as f64
                };
                row
            })
            .collect())
    }

    /// Glucose by local date (each reading's own offset decides its date): every source's
    /// readings pooled into the day's figures, each source's mean beside them.
    async fn glucose_days(
        &self,
        sources: &[Source],
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DailyRow>, DomainError> {
        let (first, last) = (from.to_string(), to.to_string());
        // Local dates reach 14 hours either side of UTC's.
        let window = (
            local_day_bounds(&first, 14 * 3600).map_or(0, |(start, _)| start),
            local_day_bounds(&last, -12 * 3600).map_or(0, |(_, end)| end),
        );
        // Per date: its earliest reading's instant and offset, and a tally per source.
        type Day = ((i64, i32), Vec<(usize, GlucoseTally)>);
        let mut days: BTreeMap<String, Day> = BTreeMap::new();
        for (index, source) in sources.iter().enumerate() {
            self.each_reading(source, Metric::Glucose, window, false, |reading| {
                let (at_ms, value, offset) = match reading {
                    Reading::Sample {
                        at_ms,
                        value,
                        offset,
                    } => (at_ms, value, offset),
                    Reading::Measured(m) => (m.at_ms, m.value, m.utc_offset_seconds),
                    // Time in range counts readings: the day's figures come from each one.
                    Reading::Daily(_) | Reading::Rolled(_) => return,
                };
                let date = local_date(at_ms, offset);
                if date < first || date > last {
                    return;
                }
                let (earliest, tallies) = days.entry(date).or_insert(((at_ms, offset), Vec::new()));
                if at_ms < earliest.0 {
                    *earliest = (at_ms, offset);
                }
                match tallies.last_mut() {
                    Some((at, tally)) if *at == index => tally.add(value),
                    _ => {
                        let mut tally = GlucoseTally::default();
                        tally.add(value);
                        tallies.push((index, tally));
                    }
                }
            })
            .await?;
        }
        Ok(days
            .into_iter()
            .filter_map(|(date, ((_, offset), tallies))| {
                let mut pooled = GlucoseTally::default();
                let mut per_source: BTreeMap<usize, GlucoseTally> = BTreeMap::new();
                for (index, tally) in &tallies {
                    pooled.merge(tally);
                    per_source.entry(*index).or_default().merge(tally);
                }
                let figures = pooled.finish()?;
                Some(DailyRow {
                    date,
                    metric: Metric::Glucose,
                    value: figures.mean,
                    utc_offset_seconds: offset,
                    sources: per_source
                        .into_iter()
                        .filter_map(|(index, tally)| {
                            let source = sources.get(index)?;
                            Some(DaySource {
                                provider: source.provider,
                                connection_id: source.owner.connection.clone(),
                                value: tally.mean()?,
                            })
                        })
                        .collect(),
                    glucose: Some(figures),
                })
            })
            .collect())
    }

    /// Per metric type: how many readings and days are stored, the first and the last.
    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id, user_id = %user_id))]
    pub async fn health_summary(
        &self,
        caller: &Principal,
        user_id: &str,
    ) -> Result<BTreeMap<Metric, MetricSummary>, DomainError> {
        let mut summary: BTreeMap<Metric, MetricSummary> = BTreeMap::new();
        let mut note = |metric: Metric, count: u64, days: u64, first: i64, last: i64| {
            let entry = summary.entry(metric).or_default();
            entry.count += count;
            entry.days += days;
            entry.first_ms = Some(entry.first_ms.map_or(first, |f| f.min(first)));
            entry.last_ms = Some(entry.last_ms.map_or(last, |l| l.max(last)));
        };
        for source in self.sources(caller, user_id, None).await? {
            let records = self
                .health
                .records_between(&source.owner, "D#", "T#")
                .await?;
            for (key, bytes) in records {
                match key.as_bytes().first() {
                    Some(b'S') => {
                        let metric = key_metric(&key)?;
                        let chunk = chunk::decode(&bytes).map_err(corrupt)?;
                        if let (Some(first), Some(last)) =
                            (chunk.points.first(), chunk.points.last())
                        {
                            note(metric, chunk.points.len() as u64, 0, first.0, last.0);
                        }
                    }
                    Some(b'E') => {
                        let m: Measurement = decode_json(&bytes)?;
                        note(m.metric, 1, 0, m.at_ms, m.at_ms);
                    }
                    Some(b'D') => {
                        let day: DailySummary = decode_json(&bytes)?;
                        let (midnight, _) = local_day_bounds(&day.date, day.utc_offset_seconds)
                            .ok_or_else(|| {
                                corrupt(format!("a stored day is not a date: {}", day.date))
                            })?;
                        note(day.metric, 0, 1, midnight, midnight);
                    }
                    _ => {}
                }
            }
        }
        Ok(summary)
    }

    async fn sessions_of(
        &self,
        source: &Source,
        kind: SessionKind,
    ) -> Result<Vec<Session>, DomainError> {
        let prefix = format!("X#{}#", kind.as_str());
        self.health
            .records_between(&source.owner, &prefix, &format!("{prefix}~"))
            .await?
            .into_iter()
            .map(|(_, bytes)| decode_json(&bytes))
            .collect()
    }

    /// Workouts and sleeps starting in the range, newest first, a page at a time.
    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id, user_id = %user_id))]
    pub async fn list_sessions(
        &self,
        caller: &Principal,
        user_id: &str,
        query: &SessionsQuery,
    ) -> Result<Page<SessionEntry>, DomainError> {
        let kinds = match query.session_type.as_deref() {
            None => vec![SessionKind::Workout, SessionKind::Sleep],
            Some(raw) => vec![SessionKind::parse(raw).ok_or(DomainError::validation(
                "eventType",
                "must be workout or sleep",
            ))?],
        };
        let limit = parse_limit(query.limit.as_deref())?;
        let (from, to) = window(self.now(), query.from.as_deref(), query.to.as_deref(), None)?;
        let after = query
            .after
            .as_deref()
            .map(|raw| {
                decode_position(raw).ok_or(DomainError::validation("cursor", "is not valid"))
            })
            .transpose()?;
        let position = |event: &SessionEntry| -> Position {
            (
                event.session.start_ms,
                event.connection_id.to_string(),
                event.session.kind.as_str().to_owned(),
                event.session.origin.record_id.clone(),
            )
        };
        let mut events = Vec::new();
        for source in self.sources(caller, user_id, None).await? {
            for kind in &kinds {
                for session in self.sessions_of(&source, *kind).await? {
                    if (from..to).contains(&session.start_ms) {
                        events.push(SessionEntry {
                            id: session_public_id(&source.owner.connection, &session),
                            connection_id: source.owner.connection.clone(),
                            session,
                        });
                    }
                }
            }
        }
        events.retain(|e| after.as_ref().is_none_or(|p| position(e) < *p));
        events.sort_by_key(|e| std::cmp::Reverse(position(e)));
        events.truncate(limit + 1);
        Ok(Page::from_lookahead(events, limit, |e| {
            encode_position(&position(e))
        }))
    }

    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id, user_id = %user_id, id = %id))]
    pub async fn get_session(
        &self,
        caller: &Principal,
        user_id: &str,
        id: &str,
    ) -> Result<SessionEntry, DomainError> {
        let not_found = DomainError::NotFound("event");
        let decoded = URL_SAFE_NO_PAD
            .decode(id)
            .ok()
            .and_then(|raw| String::from_utf8(raw).ok());
        let Some(decoded) = decoded else {
            return Err(not_found);
        };
        let mut parts = decoded.splitn(3, '|');
        let (Some(connection), Some(kind), Some(record)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(not_found);
        };
        let sources = self.sources(caller, user_id, None).await?;
        let source = sources
            .iter()
            .find(|s| s.owner.connection.as_str() == connection)
            .ok_or(DomainError::NotFound("event"))?;
        let kind = SessionKind::parse(kind).ok_or(DomainError::NotFound("event"))?;
        let key = format!("X#{}#{record}", kind.as_str());
        let found = self
            .health
            .get_records(&source.owner, &[key])
            .await?
            .into_iter()
            .next()
            .flatten()
            .ok_or(DomainError::NotFound("event"))?;
        let session: Session = decode_json(&found)?;
        Ok(SessionEntry {
            id: id.to_owned(),
            connection_id: source.owner.connection.clone(),
            session,
        })
    }

    /// Best values: the highest daily totals (the lowest resting heart rate), the longest
    /// workout per sport by distance and by time, the longest sleep. Computed from what is
    /// stored, so they follow every sync, revision and erasure.
    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id, user_id = %user_id))]
    pub async fn personal_records(
        &self,
        caller: &Principal,
        user_id: &str,
        record_type: Option<&str>,
    ) -> Result<Vec<PersonalRecord>, DomainError> {
        if let Some(wanted) = record_type
            && !RECORD_TYPES.contains(&wanted)
        {
            return Err(DomainError::NotFound("personal record type"));
        }
        let wants = |name: &str| record_type.is_none_or(|wanted| wanted == name);
        let mut best: BTreeMap<(String, Option<String>), PersonalRecord> = BTreeMap::new();
        let mut offer = |candidate: PersonalRecord, lower_is_better: bool| {
            let key = (candidate.record_type.clone(), candidate.sport.clone());
            let better = best.get(&key).is_none_or(|current| {
                if lower_is_better {
                    candidate.value < current.value
                } else {
                    candidate.value > current.value
                }
            });
            if better {
                best.insert(key, candidate);
            }
        };
        for source in self.sources(caller, user_id, None).await? {
            for (metrics, lower) in [(&HIGHEST_DAILY[..], false), (&LOWEST_DAILY[..], true)] {
                for metric in metrics {
                    if !wants(metric.as_str()) {
                        continue;
                    }
                    let prefix = format!("D#{metric}#");
                    let days = self
                        .health
                        .records_between(&source.owner, &prefix, &format!("{prefix}~"))
                        .await?;
                    for (_, bytes) in days {
                        let day: DailySummary = decode_json(&bytes)?;
                        offer(
                            PersonalRecord {
                                record_type: metric.as_str().to_owned(),
                                value: day.value,
                                unit: metric.unit(),
                                sport: None,
                                date: day.date,
                                provider: source.provider,
                                session_id: None,
                            },
                            lower,
                        );
                    }
                }
            }
            if wants("workout_distance") || wants("workout_duration") {
                for session in self.sessions_of(&source, SessionKind::Workout).await? {
                    let id = session_public_id(&source.owner.connection, &session);
                    for (name, value, unit) in [
                        ("workout_distance", session.distance_m, "m"),
                        ("workout_duration", session.duration_seconds, "s"),
                    ] {
                        if let Some(value) = value.filter(|v| *v > 0.0 && wants(name)) {
                            offer(
                                PersonalRecord {
                                    record_type: name.to_owned(),
                                    value,
                                    unit,
                                    sport: session.sport.clone(),
                                    date: session.date.clone(),
                                    provider: source.provider,
                                    session_id: Some(id.clone()),
                                },
                                false,
                            );
                        }
                    }
                }
            }
            if wants("sleep_duration") {
                for session in self.sessions_of(&source, SessionKind::Sleep).await? {
                    if let Some(value) = session.duration_seconds {
                        offer(
                            PersonalRecord {
                                record_type: "sleep_duration".into(),
                                value,
                                unit: "s",
                                sport: None,
                                date: session.date.clone(),
                                provider: source.provider,
                                session_id: Some(session_public_id(
                                    &source.owner.connection,
                                    &session,
                                )),
                            },
                            false,
                        );
                    }
                }
            }
        }
        Ok(best.into_values().collect())
    }

    /// Erases every health record of the user (every connection, every kind of record);
    /// the connections stay. Returns how many records were deleted.
    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id, user_id = %user_id))]
    pub async fn erase_health(
        &self,
        caller: &Principal,
        user_id: &str,
    ) -> Result<u64, DomainError> {
        caller.require(Scope::Write)?;
        let mut deleted = 0;
        for source in self.sources(caller, user_id, None).await? {
            deleted += self.health.delete_records(&source.owner).await?;
        }
        tracing::info!(deleted, "health data erased");
        Ok(deleted)
    }
}

/// The metric named in a record key (`S#<metric>#…`).
fn key_metric(key: &str) -> Result<Metric, DomainError> {
    key.split('#')
        .nth(1)
        .and_then(Metric::parse)
        .ok_or_else(|| corrupt(format!("record key {key} names no metric")))
}
