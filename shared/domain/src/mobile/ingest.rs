//! `POST /v1/me/samples`: data a user's phone pushes (Apple Health, Health Connect, Samsung
//! Health). Each sample is checked on its own: a bad one is reported with its index and the
//! rest are stored. Records are keyed by the phone's own uuid, so pushing a batch again
//! changes nothing; interval counts (steps) also make the local day's total, recomputed from
//! every interval stored for that day.

use crate::announce::events::Announcer;
use crate::connections::{Connection, ConnectionStatus, StoredTokens};
use crate::health::records::Counts;
use crate::health::records::{announce_written, measurement_key, store_batch_announcing};
use crate::health::timeseries::ZoneOffsets;
use crate::health::{
    DailySummary, HealthBatch, Measurement, Metric, Origin, SampleSeries, Session, SessionKind,
    StageSpan, StageTotals,
};
use crate::kernel::error::DomainError;
use crate::kernel::ids::ConnectionId;
use crate::kernel::secrets::SealedSecret;
use crate::kernel::time::{Clock, Timestamp, local_date};
use crate::mobile::types::{Kind, SessionType, convert, sample_type, session_type, sleep_stage};
use crate::ports::RecordOwner;
use crate::ports::{ConnectionStore, HealthStore};
use crate::providers::ProviderId;
use crate::tenancy::api_key::Principal;
use crate::users::UserDirectory;
use chrono_tz::Tz;
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Samples and sessions one push may carry.
pub const MAX_ITEMS: usize = 20_000;

/// A push as the app sent it; items are kept as their raw JSON and read one by one, so each
/// can fail alone and none is parsed twice.
#[derive(Debug, Clone)]
pub struct SamplePush {
    pub source: String,
    pub samples: Vec<Box<RawValue>>,
    pub sessions: Vec<Box<RawValue>>,
}

impl SamplePush {
    /// A push of items given as JSON values.
    pub fn from_values(source: &str, samples: &[Value], sessions: &[Value]) -> Self {
        let raw = |items: &[Value]| {
            items
                .iter()
                .filter_map(|item| serde_json::value::to_raw_value(item).ok())
                .collect()
        };
        Self {
            source: source.to_owned(),
            samples: raw(samples),
            sessions: raw(sessions),
        }
    }
}

/// A sample, borrowing its text from the push (a push of 10,000 allocates no strings).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PushedSample<'a> {
    #[serde(borrow)]
    uuid: Cow<'a, str>,
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    start: Cow<'a, str>,
    #[serde(borrow)]
    end: Option<Cow<'a, str>>,
    value: f64,
    /// The diastolic value of a blood pressure reading.
    secondary_value: Option<f64>,
    #[serde(borrow)]
    unit: Cow<'a, str>,
    #[serde(borrow)]
    time_zone: Cow<'a, str>,
    /// The device or app that recorded it.
    #[serde(borrow)]
    source_name: Option<Cow<'a, str>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PushedStage {
    stage: String,
    start: String,
    end: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PushedSession {
    uuid: String,
    #[serde(rename = "type")]
    kind: String,
    start: String,
    end: String,
    time_zone: String,
    /// Workouts: the activity, as the store names it (`running`, `HKWorkoutActivityTypeRunning`).
    activity: Option<String>,
    energy_kcal: Option<f64>,
    distance_m: Option<f64>,
    #[serde(default)]
    stages: Vec<PushedStage>,
    source_name: Option<String>,
}

/// One item that was not stored, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// `samples` or `sessions`.
    pub list: &'static str,
    pub index: usize,
    pub message: String,
}

/// What a push did.
#[derive(Debug, Clone, PartialEq)]
pub struct PushReport {
    /// The user's connection to the source; none when nothing was ever accepted from it.
    pub connection_id: Option<ConnectionId>,
    pub accepted: usize,
    pub rejected: Vec<Rejected>,
    pub counts: BTreeMap<String, Counts>,
}

fn instant(text: &str, field: &str) -> Result<i64, String> {
    Timestamp::parse(text)
        .map(|at| at.millis())
        .ok_or_else(|| format!("{field} is not an RFC 3339 time"))
}

/// The UTC offset of `zone` (an IANA name, or a fixed `+HH:MM`) at `at_ms`.
fn offset_at(zone: &str, at_ms: i64) -> Result<i32, String> {
    if let Ok(tz) = zone.parse::<Tz>() {
        use chrono::Offset;
        let at = chrono::DateTime::from_timestamp_millis(at_ms).ok_or("start is out of range")?;
        return Ok(at.with_timezone(&tz).offset().fix().local_minus_utc());
    }
    fixed_offset(zone)
}

fn fixed_offset(zone: &str) -> Result<i32, String> {
    chrono::DateTime::parse_from_rfc3339(&format!("2000-01-01T00:00:00{zone}"))
        .map(|at| at.offset().local_minus_utc())
        .map_err(|_| "timeZone is not an IANA zone or a +HH:MM offset".to_owned())
}

/// Offsets of the zones a push names: a push names one or two, thousands of times, so each
/// is read once and its offset looked up once a quarter hour.
#[derive(Default)]
struct Zones {
    last: Option<(String, ZoneOffset)>,
}

enum ZoneOffset {
    Named(ZoneOffsets),
    Fixed(i32),
}

impl Zones {
    fn offset(&mut self, zone: &str, at_ms: i64) -> Result<i32, String> {
        if self.last.as_ref().is_none_or(|(name, _)| name != zone) {
            let found = match zone.parse::<Tz>() {
                Ok(tz) => ZoneOffset::Named(ZoneOffsets::new(tz)),
                Err(_) => ZoneOffset::Fixed(fixed_offset(zone)?),
            };
            self.last = Some((zone.to_owned(), found));
        }
        match self.last.as_mut().map(|(_, found)| found) {
            Some(ZoneOffset::Named(offsets)) => Ok(offsets.at(at_ms)),
            Some(ZoneOffset::Fixed(offset)) => Ok(*offset),
            None => offset_at(zone, at_ms),
        }
    }
}

/// What one accepted sample becomes.
enum Reading {
    Total(Measurement),
    Series(Metric, i32, (i64, f64)),
    Measurement(Measurement),
}

fn read_sample(
    provider: ProviderId,
    item: &RawValue,
    zones: &mut Zones,
) -> Result<Reading, String> {
    let sample: PushedSample = serde_json::from_str(item.get()).map_err(|err| err.to_string())?;
    if sample.uuid.trim().is_empty() {
        return Err("uuid is empty".into());
    }
    let (metric, kind) = match sample_type(&sample.kind) {
        Some(Ok(found)) => found,
        Some(Err(why)) => return Err(format!("type {} {why}", sample.kind)),
        None => return Err(format!("type {} is not a type VitaSync takes", sample.kind)),
    };
    let start = instant(&sample.start, "start")?;
    if let Some(end) = &sample.end
        && instant(end, "end")? < start
    {
        return Err("end is before start".into());
    }
    let offset = zones.offset(&sample.time_zone, start)?;
    if !sample.value.is_finite() || (kind == Kind::Total && sample.value < 0.0) {
        return Err("value is not a valid amount".into());
    }
    let value = convert(metric, sample.value, &sample.unit)
        .map_err(|why| format!("unit {} {why}", sample.unit))?;
    let secondary = match (metric, sample.secondary_value) {
        (Metric::BloodPressure, None) => {
            return Err("secondaryValue (diastolic) is required for blood pressure".into());
        }
        (Metric::BloodPressure, Some(diastolic)) => Some(diastolic),
        (_, _) => None,
    };
    // A dense series' point is kept by its instant: it needs no record of its own.
    if kind == Kind::Series {
        return Ok(Reading::Series(metric, offset, (start, value)));
    }
    let measurement = Measurement {
        metric,
        at_ms: start,
        utc_offset_seconds: offset,
        date: local_date(start, offset),
        value,
        secondary,
        origin: Origin {
            provider,
            record_id: sample.uuid.into_owned(),
            source: sample.source_name.map(Cow::into_owned),
        },
    };
    Ok(match kind {
        Kind::Total => Reading::Total(measurement),
        Kind::Series | Kind::Reading => Reading::Measurement(measurement),
    })
}

fn read_session(provider: ProviderId, item: &RawValue) -> Result<Session, String> {
    let pushed: PushedSession = serde_json::from_str(item.get()).map_err(|err| err.to_string())?;
    if pushed.uuid.trim().is_empty() {
        return Err("uuid is empty".into());
    }
    let kind = session_type(&pushed.kind)
        .ok_or_else(|| format!("type {} is not a session type", pushed.kind))?;
    let (start, end) = (
        instant(&pushed.start, "start")?,
        instant(&pushed.end, "end")?,
    );
    if end <= start {
        return Err("end is not after start".into());
    }
    let offset = offset_at(&pushed.time_zone, start)?;
    let origin = Origin {
        provider,
        record_id: pushed.uuid,
        source: pushed.source_name,
    };
    let mut session = Session::new(
        match kind {
            SessionType::Workout => SessionKind::Workout,
            SessionType::Sleep => SessionKind::Sleep,
        },
        origin,
    );
    session.start_ms = start;
    session.end_ms = end;
    session.utc_offset_seconds = offset;
    session.duration_seconds = Some((end - start) as f64 / 1000.0);
    match kind {
        SessionType::Workout => {
            session.date = local_date(start, offset);
            session.sport = pushed.activity;
            session.energy_kcal = pushed.energy_kcal.filter(|v| v.is_finite() && *v >= 0.0);
            session.distance_m = pushed.distance_m.filter(|v| v.is_finite() && *v >= 0.0);
        }
        SessionType::Sleep => {
            // A night counts for the day the user wakes up on.
            session.date = local_date(end, offset);
            let mut totals = StageTotals {
                awake: 0.0,
                light: 0.0,
                deep: 0.0,
                rem: 0.0,
            };
            for (n, stage) in pushed.stages.iter().enumerate() {
                let at = |text: &str, field: &str| instant(text, &format!("stages[{n}].{field}"));
                let (from, to) = (at(&stage.start, "start")?, at(&stage.end, "end")?);
                let Some(kind) =
                    sleep_stage(&stage.stage).map_err(|why| format!("stages[{n}].stage {why}"))?
                else {
                    continue;
                };
                let seconds = ((to - from).max(0)) as f64 / 1000.0;
                match kind {
                    crate::health::SleepStage::Awake => totals.awake += seconds,
                    crate::health::SleepStage::Light => totals.light += seconds,
                    crate::health::SleepStage::Deep => totals.deep += seconds,
                    crate::health::SleepStage::Rem => totals.rem += seconds,
                }
                session.stages.push(StageSpan {
                    stage: kind,
                    start_ms: from,
                    end_ms: to,
                });
            }
            if !session.stages.is_empty() {
                session.stage_seconds = Some(totals);
            }
        }
    }
    Ok(session)
}

/// A push this large is read on two threads: reading it is most of the push's time.
const READ_IN_TWO_FROM: usize = 2_000;

/// Every sample of a push read, in order; a large push's halves on two threads.
fn read_samples(
    provider: ProviderId,
    samples: &[Box<RawValue>],
) -> Result<Vec<Result<Reading, String>>, DomainError> {
    let read_all = |items: &[Box<RawValue>]| {
        let mut zones = Zones::default();
        items
            .iter()
            .map(|item| read_sample(provider, item, &mut zones))
            .collect::<Vec<_>>()
    };
    if samples.len() < READ_IN_TWO_FROM {
        return Ok(read_all(samples));
    }
    let (first, second) = samples.split_at(samples.len() / 2);
    std::thread::scope(|scope| {
        let other = scope.spawn(|| read_all(second));
        let mut read = read_all(first);
        let rest = other
            .join()
            .map_err(|_| DomainError::Unavailable("reading the samples"))?;
        read.extend(rest);
        Ok(read)
    })
}

/// What users' phones push (Apple Health, Health Connect, Samsung Health), stored under the
/// user's connection to that store and announced.
#[derive(Clone)]
pub struct PhoneIngest {
    directory: UserDirectory,
    connections: Arc<dyn ConnectionStore>,
    health: Arc<dyn HealthStore>,
    announcer: Announcer,
    clock: Arc<dyn Clock>,
}

impl PhoneIngest {
    pub fn new(
        directory: UserDirectory,
        connections: Arc<dyn ConnectionStore>,
        health: Arc<dyn HealthStore>,
        announcer: Announcer,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            directory,
            connections,
            health,
            announcer,
            clock,
        }
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Stores what the signed-in user's phone pushed, under their connection to `source`
    /// (made on first use).
    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id))]
    pub async fn push_samples(
        &self,
        caller: &Principal,
        push: SamplePush,
    ) -> Result<PushReport, DomainError> {
        let user_id = caller
            .user
            .clone()
            .ok_or_else(|| DomainError::Forbidden("only a signed-in user pushes samples".into()))?;
        let user = self.directory.get_user(caller, user_id.as_str()).await?;
        let provider = ProviderId::parse_mobile(&push.source).ok_or_else(|| {
            DomainError::validation(
                "source",
                "must be apple_health, health_connect or samsung_health",
            )
        })?;
        if push.samples.len() + push.sessions.len() > MAX_ITEMS {
            return Err(DomainError::validation(
                "samples",
                format!("a push carries at most {MAX_ITEMS} samples and sessions"),
            ));
        }
        let mut batch = HealthBatch::default();
        let mut series: BTreeMap<(Metric, i32), Vec<(i64, f64)>> = BTreeMap::new();
        let mut days: BTreeSet<(Metric, String, i32)> = BTreeSet::new();
        let mut rejected = Vec::new();
        for (index, read) in read_samples(provider, &push.samples)?
            .into_iter()
            .enumerate()
        {
            match read {
                Ok(Reading::Total(measurement)) => {
                    days.insert((
                        measurement.metric,
                        measurement.date.clone(),
                        measurement.utc_offset_seconds,
                    ));
                    batch.measurements.push(measurement);
                }
                Ok(Reading::Series(metric, offset, point)) => {
                    series.entry((metric, offset)).or_default().push(point);
                }
                Ok(Reading::Measurement(measurement)) => batch.measurements.push(measurement),
                Err(message) => rejected.push(Rejected {
                    list: "samples",
                    index,
                    message,
                }),
            }
        }
        for (index, item) in push.sessions.iter().enumerate() {
            match read_session(provider, item) {
                Ok(session) => batch.sessions.push(session),
                Err(message) => rejected.push(Rejected {
                    list: "sessions",
                    index,
                    message,
                }),
            }
        }
        for ((metric, offset), points) in series {
            batch.samples.push(SampleSeries {
                metric,
                points,
                utc_offset_seconds: offset,
                provider,
                source: None,
            });
        }
        let accepted = push.samples.len() + push.sessions.len() - rejected.len();
        if accepted == 0 {
            // Nothing to store: no connection is made and nothing is announced.
            let existing = self
                .connections
                .list_connections(&user.workspace_id, &user.id)
                .await?
                .into_iter()
                .find(|c| c.provider == provider);
            return Ok(PushReport {
                connection_id: existing.map(|c| c.id),
                accepted,
                rejected,
                counts: BTreeMap::new(),
            });
        }
        let connection = self
            .pushed_connection(&user.workspace_id, &user.id, provider)
            .await?;
        let owner = RecordOwner::of(&connection);
        // The days' totals with this push's intervals in them, then everything (and the
        // data.updated it announces) in one store transaction.
        let totals = self
            .day_totals(&owner, provider, &days, &batch.measurements)
            .await?;
        batch.summaries.extend(totals.summaries);
        let announce = announce_written(&self.announcer, (&connection).into(), batch.time_window());
        let counts = store_batch_announcing(self.health.as_ref(), &owner, &batch, announce).await?;
        // A phone's connection is as fresh as its last accepted push.
        self.connections
            .record_sync(
                &connection.workspace_id,
                &connection.user_id,
                &connection.id,
                self.clock.now(),
            )
            .await?;
        Ok(PushReport {
            connection_id: Some(connection.id),
            accepted,
            rejected,
            counts,
        })
    }

    /// The user's connection to a phone's health store, made active on first use.
    async fn pushed_connection(
        &self,
        workspace: &crate::kernel::ids::WorkspaceId,
        user: &crate::kernel::ids::UserId,
        provider: ProviderId,
    ) -> Result<Connection, DomainError> {
        let existing = self
            .connections
            .list_connections(workspace, user)
            .await?
            .into_iter()
            .find(|c| c.provider == provider);
        if let Some(connection) = existing
            && connection.status == ConnectionStatus::Active
        {
            return Ok(connection);
        }
        let now = self.now();
        // The phone's store has no account of its own: it is the user's.
        let candidate = Connection::new_active(
            workspace.clone(),
            user.clone(),
            provider,
            user.to_string(),
            now,
        );
        // Nothing is sealed: the phone pushes, VitaSync never calls anyone for this data.
        let no_tokens = StoredTokens {
            sealed: SealedSecret {
                wrapped_key: Vec::new(),
                nonce: Vec::new(),
                ciphertext: Vec::new(),
            },
            version: 1,
            expires_at: None,
            refreshing_until: None,
        };
        let (connection, _) = self
            .connections
            .upsert_connection(&candidate, &no_tokens, self.announcer.connected_entries())
            .await?;
        Ok(connection)
    }

    /// Each touched local day's total, from every interval stored for it.
    async fn day_totals(
        &self,
        owner: &crate::ports::RecordOwner,
        provider: ProviderId,
        days: &BTreeSet<(Metric, String, i32)>,
        pushed: &[Measurement],
    ) -> Result<HealthBatch, DomainError> {
        let mut batch = HealthBatch::default();
        for (metric, date, offset) in days {
            let Some(midnight) = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
                .ok()
                .and_then(|day| day.and_hms_opt(0, 0, 0))
                .map(|at| at.and_utc().timestamp_millis())
            else {
                continue;
            };
            // Intervals of the day, wherever their offsets put them.
            const MARGIN_MS: i64 = 26 * 3600 * 1000;
            let (from, to) = (
                midnight - MARGIN_MS,
                midnight + 24 * 3600 * 1000 + MARGIN_MS,
            );
            let stored = self
                .health
                .records_between(
                    owner,
                    &format!("E#{metric}#{from:013}"),
                    &format!("E#{metric}#{to:013}"),
                )
                .await?;
            // Every interval of the day by its key: those stored, and this push's over them (a
            // re-pushed interval replaces itself).
            let mut intervals: BTreeMap<String, (String, f64)> = BTreeMap::new();
            for (key, bytes) in stored {
                let interval: Measurement = serde_json::from_slice(&bytes)
                    .map_err(|err| crate::kernel::error::StoreError::Corrupt(err.to_string()))?;
                intervals.insert(key, (interval.date, interval.value));
            }
            for interval in pushed.iter().filter(|m| m.metric == *metric) {
                intervals.insert(
                    measurement_key(interval),
                    (interval.date.clone(), interval.value),
                );
            }
            let total: f64 = intervals
                .values()
                .filter(|(day, _)| day == date)
                .map(|(_, value)| value)
                .sum();
            batch.summaries.push(DailySummary {
                metric: *metric,
                date: date.clone(),
                value: (total * 1000.0).round() / 1000.0,
                utc_offset_seconds: *offset,
                origin: Origin {
                    provider,
                    record_id: format!("day-{date}"),
                    source: None,
                },
            });
        }
        Ok(batch)
    }
}
