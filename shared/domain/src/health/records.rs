//! How normalised records are laid out in the health store, and how a fetched batch is written:
//! only what is new or changed is written, so syncing a window twice writes nothing the second
//! time and leaves the store byte-for-byte the same.
//!
//! | record                | key                                   | bytes               |
//! |-----------------------|---------------------------------------|---------------------|
//! | daily summary         | `D#<metric>#<local date>`             | JSON                |
//! | measurement           | `E#<metric>#<UTC ms, 13 digits>#<id>` | JSON                |
//! | sleep / workout       | `X#<kind>#<provider record id>`       | JSON                |
//! | dense samples, an hour| `S#<metric>#<UTC hour, YYYY-MM-DDTHH>`| a chunk (`chunk`)   |

use crate::announce::events::{AboutConnection, Announcer};
use crate::health::chunk;
use crate::health::rollup::{self, Grain};
use crate::health::{
    DailySummary, HealthBatch, Measurement, Metric, Retraction, SampleSeries, Session, SessionKind,
};
use crate::kernel::error::StoreError;
use crate::kernel::outbox::OutboxEntry;
use crate::kernel::time::Timestamp;
use crate::ports::{HealthStore, RecordOwner};
use chrono::DateTime;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub fn summary_key(metric: Metric, date: &str) -> String {
    format!("D#{metric}#{date}")
}

pub fn measurement_key(measurement: &Measurement) -> String {
    measurement_key_of(
        measurement.metric,
        measurement.at_ms,
        &measurement.origin.record_id,
    )
}

pub fn measurement_key_of(metric: Metric, at_ms: i64, record_id: &str) -> String {
    format!("E#{metric}#{at_ms:013}#{record_id}")
}

pub fn session_key(session: &Session) -> String {
    session_key_of(session.kind, &session.origin.record_id)
}

pub fn session_key_of(kind: SessionKind, record_id: &str) -> String {
    format!("X#{}#{record_id}", kind.as_str())
}

pub fn chunk_key(metric: Metric, utc_hour: &str) -> String {
    format!("S#{metric}#{utc_hour}")
}

/// `YYYY-MM-DDTHH` of an instant, in UTC: the hour a sample's chunk covers.
pub fn utc_hour(at_ms: i64) -> String {
    DateTime::from_timestamp_millis(at_ms)
        .map(|at| at.format("%Y-%m-%dT%H").to_string())
        .unwrap_or_default()
}

/// A whole record: replaced when its bytes differ.
struct Whole {
    counter: String,
    bytes: Vec<u8>,
}

fn json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|err| StoreError::Corrupt(err.to_string()))
}

fn whole_records(batch: &HealthBatch) -> Result<BTreeMap<String, Whole>, StoreError> {
    let mut records = BTreeMap::new();
    let mut add = |key: String, counter: String, bytes: Vec<u8>| {
        records.insert(key, Whole { counter, bytes });
    };
    for summary in &batch.summaries {
        let DailySummary { metric, date, .. } = summary;
        add(
            summary_key(*metric, date),
            metric.to_string(),
            json(summary)?,
        );
    }
    for measurement in &batch.measurements {
        add(
            measurement_key(measurement),
            measurement.metric.to_string(),
            json(measurement)?,
        );
    }
    for session in &batch.sessions {
        add(
            session_key(session),
            session.kind.as_str().to_owned(),
            json(&in_vocabulary(session))?,
        );
    }
    Ok(records)
}

/// Where one chunk's fresh points are in the batch (runs of its series, not copies: a
/// month of 1 Hz samples is not held twice). Each run keeps its series' offset.
struct Fresh {
    metric: Metric,
    runs: Vec<(usize, std::ops::Range<usize>)>,
}

const HOUR_MS: i64 = 3_600_000;

fn sample_chunks(series: &[SampleSeries]) -> BTreeMap<String, Fresh> {
    let mut chunks: BTreeMap<String, Fresh> = BTreeMap::new();
    for (index, one) in series.iter().enumerate() {
        let mut start = 0;
        while start < one.points.len() {
            // A run of points in one UTC hour: the key is formatted once per run.
            let hour = one.points[start].0.div_euclid(HOUR_MS);
            let mut end = start + 1;
            while end < one.points.len() && one.points[end].0.div_euclid(HOUR_MS) == hour {
                end += 1;
            }
            let fresh = chunks
                .entry(chunk_key(one.metric, &utc_hour(hour * HOUR_MS)))
                .or_insert_with(|| Fresh {
                    metric: one.metric,
                    runs: Vec::new(),
                });
            fresh.runs.push((index, start..end));
            start = end;
        }
    }
    chunks
}

/// Writes what in `batch` is new or changed; returns counts per metric (or session kind).
pub async fn store_batch(
    store: &dyn HealthStore,
    owner: &RecordOwner,
    batch: &HealthBatch,
) -> Result<BTreeMap<String, Counts>, StoreError> {
    store_batch_announcing(store, owner, batch, |_| Vec::new()).await
}

/// `store_batch`, with the outbox entries `announce` makes of the counts (`data.updated`)
/// committed with the records they describe.
pub async fn store_batch_announcing(
    store: &dyn HealthStore,
    owner: &RecordOwner,
    batch: &HealthBatch,
    announce: impl FnOnce(&BTreeMap<String, Counts>) -> Vec<OutboxEntry>,
) -> Result<BTreeMap<String, Counts>, StoreError> {
    let wholes = whole_records(batch)?;
    let chunks = sample_chunks(&batch.samples);
    // A retraction never removes what this batch writes under the same key.
    // Several records may retract one key (two deleted naps on one day): any of them may be
    // the one the stored value came from.
    let mut retractions: BTreeMap<String, Vec<&Retraction>> = BTreeMap::new();
    for retraction in &batch.retracted {
        let key = retraction_key(retraction);
        if !wholes.contains_key(&key) {
            retractions.entry(key).or_default().push(retraction);
        }
    }
    // The rollups of every day a chunk is written in, whether the connection's chunks are
    // all rolled up, and whether it is known to have measurements of the metrics measured.
    let measured: std::collections::BTreeSet<Metric> =
        batch.measurements.iter().map(|m| m.metric).collect();
    let keeps_markers = !chunks.is_empty() || !measured.is_empty();
    let rollup_keys: Vec<String> =
        rollup::days_of(chunks.iter().map(|(key, fresh)| (key, fresh.metric)))
            .into_iter()
            .flat_map(|(metric, day)| {
                Grain::ALL
                    .into_iter()
                    .map(move |grain| rollup::rollup_key(grain, metric, &day))
            })
            .chain(keeps_markers.then(|| rollup::ROLLED_UP_MARKER.to_owned()))
            .chain(
                measured
                    .iter()
                    .map(|metric| rollup::measured_marker(*metric)),
            )
            .collect();
    let keys: Vec<String> = wholes
        .keys()
        .chain(chunks.keys())
        .chain(retractions.keys())
        .chain(rollup_keys.iter())
        .cloned()
        .collect();
    let existing = store.get_records(owner, &keys).await?;
    let mut stored: BTreeMap<&String, Option<Vec<u8>>> = keys.iter().zip(existing).collect();
    let mut rollups = rollup::Pending::default();
    let marked = stored
        .remove(&rollup::ROLLED_UP_MARKER.to_owned())
        .flatten()
        .is_some();
    if keeps_markers && !marked {
        // What was stored before rollups existed: its chunks are rolled up and its measured
        // metrics noted, once, before this batch's.
        if store
            .newest_key_between(owner, "S#", "S#~")
            .await?
            .is_some()
        {
            for (key, bytes) in store.records_between(owner, "S#", "S#~").await? {
                if let Ok(chunk) = chunk::decode(&bytes) {
                    rollups.hour(&key, &chunk.points_with_offsets());
                }
            }
            rollups.rebuilding();
        }
        if store
            .newest_key_between(owner, "E#", "E#~")
            .await?
            .is_some()
        {
            for (key, _) in store.records_between(owner, "E#", "E#~").await? {
                if let Some(metric) = key.split('#').nth(1).and_then(Metric::parse) {
                    rollups.measured(metric);
                }
            }
        }
        rollups.mark();
    }
    for metric in &measured {
        if stored
            .remove(&rollup::measured_marker(*metric))
            .flatten()
            .is_none()
        {
            rollups.measured(*metric);
        }
    }

    let mut counts: BTreeMap<String, Counts> = BTreeMap::new();
    let mut writes = Vec::new();
    for (key, record) in &wholes {
        let tally = counts.entry(record.counter.clone()).or_default();
        tally.fetched += 1;
        if stored.remove(key).flatten().as_deref() == Some(record.bytes.as_slice()) {
            tally.unchanged += 1;
        } else {
            tally.written += 1;
            writes.push((key.clone(), record.bytes.clone()));
        }
    }
    for (key, incoming) in &chunks {
        let points: Vec<(i64, f64, i32)> = incoming
            .runs
            .iter()
            .flat_map(|(index, run)| {
                let series = &batch.samples[*index];
                series.points[run.clone()]
                    .iter()
                    .map(|(at, value)| (*at, *value, series.utc_offset_seconds))
            })
            .collect();
        let fresh = chunk::normalise_with_offsets(&points);
        let stored_bytes = stored.remove(key).flatten();
        let before = match &stored_bytes {
            Some(bytes) => chunk::decode(bytes).unwrap_or_else(|_| {
                tracing::warn!(key = %key, "a damaged sample chunk is rewritten");
                chunk::Chunk::default()
            }),
            None => chunk::Chunk::default(),
        };
        let before = before.points_with_offsets();
        let tally = counts.entry(incoming.metric.to_string()).or_default();
        tally.fetched += fresh.len() as u64;
        let same = fresh
            .iter()
            .filter(|point| before.binary_search(point).is_ok())
            .count() as u64;
        tally.unchanged += same;
        tally.written += fresh.len() as u64 - same;
        let points = chunk::merge_with_offsets(&before, &fresh);
        rollups.hour(key, &points);
        let merged = chunk::encode(&chunk::Chunk::with_offsets(&points));
        if stored_bytes.as_deref() != Some(merged.as_slice()) {
            writes.push((key.clone(), merged));
        }
    }
    for (key, bytes) in rollups.finish(|key| stored.remove(key).flatten()) {
        writes.push((key, bytes));
    }
    let mut removals = Vec::new();
    for (key, candidates) in &retractions {
        let Some(bytes) = stored.remove(key).flatten() else {
            continue;
        };
        let stored_from = serde_json::from_slice::<DailySummary>(&bytes)
            .ok()
            .map(|summary| summary.origin.record_id);
        let theirs = candidates.iter().find(|retraction| match retraction {
            Retraction::Session { .. } | Retraction::Measurement { .. } => true,
            Retraction::Summary { record_id, .. } => stored_from.as_ref() == Some(record_id),
        });
        if let Some(retraction) = theirs {
            let counter = match retraction {
                Retraction::Session { kind, .. } => kind.as_str().to_owned(),
                Retraction::Summary { metric, .. } | Retraction::Measurement { metric, .. } => {
                    metric.to_string()
                }
            };
            counts.entry(counter).or_default().removed += 1;
            removals.push(key.clone());
        }
    }
    let announced = announce(&counts);
    if !writes.is_empty() || !announced.is_empty() {
        store.put_records(owner, &writes, &announced).await?;
    }
    if !removals.is_empty() {
        store.delete_keys(owner, &removals).await?;
    }
    Ok(counts)
}

/// The session with its sport in VitaSync's vocabulary and the provider's name kept beside
/// it (already so for a session read back from the store).
fn in_vocabulary(session: &Session) -> std::borrow::Cow<'_, Session> {
    match (&session.sport, &session.provider_sport) {
        (Some(raw), None) => std::borrow::Cow::Owned(Session {
            sport: Some(crate::health::sports::sport_of(raw).to_owned()),
            provider_sport: Some(raw.clone()),
            ..session.clone()
        }),
        _ => std::borrow::Cow::Borrowed(session),
    }
}

fn retraction_key(retraction: &Retraction) -> String {
    match retraction {
        Retraction::Session { kind, record_id } => session_key_of(*kind, record_id),
        Retraction::Summary { metric, date, .. } => summary_key(*metric, date),
        Retraction::Measurement {
            metric,
            at_ms,
            record_id,
        } => measurement_key_of(*metric, *at_ms, record_id),
    }
}

fn is_zero(count: &u64) -> bool {
    *count == 0
}

/// What `store_batch_announcing` announces of a connection's data: `data.updated` naming the
/// types written, over `window`.
pub fn announce_written(
    announcer: &Announcer,
    connection: AboutConnection,
    (from, to): (Option<Timestamp>, Option<Timestamp>),
) -> impl FnOnce(&BTreeMap<String, Counts>) -> Vec<OutboxEntry> + '_ {
    move |counts| match announcer.data_updated_entry(connection, &written_types(counts), from, to) {
        Ok(entry) => entry.into_iter().collect(),
        Err(err) => {
            tracing::error!(error = %err, "data.updated could not be written");
            Vec::new()
        }
    }
}

/// The data types `counts` says were written: what `data.updated` names.
pub fn written_types(counts: &BTreeMap<String, Counts>) -> Vec<&String> {
    counts
        .iter()
        .filter(|(_, tally)| tally.written > 0)
        .map(|(name, _)| name)
        .collect()
}

/// What a job did with one metric's records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    /// Records the provider sent.
    pub fetched: u64,
    /// Records stored new or changed.
    pub written: u64,
    /// Records already stored exactly so.
    pub unchanged: u64,
    /// Stored records removed because the provider now marks them deleted or unscorable.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub removed: u64,
    /// The provider would not give this data type (the user did not grant it); not a failure.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skipped: bool,
}

impl Counts {
    pub fn add(&mut self, other: Counts) {
        self.fetched += other.fetched;
        self.written += other.written;
        self.unchanged += other.unchanged;
        self.removed += other.removed;
        self.skipped |= other.skipped;
    }
}
