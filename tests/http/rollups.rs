//! Charts read pre-aggregated rollups where a bucket allows: the answers must be the ones a
//! scan of every sample gives. Random samples over days with DST changes, at offsets of whole,
//! half and three-quarter hours, a phone switching offset mid-hour, revisions of stored
//! samples, and random windows, buckets, aggregates and zones: rollup-served and scanned
//! charts agree bucket for bucket, on both hosts. Data stored before rollups existed is read
//! by scanning until the next write rolls it up.

use crate::harness::{Harness, Host, harness_on, on_both_hosts};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use vitasync_domain::connections::Connection;
use vitasync_domain::health::query::{HealthReads, TimeseriesQuery};
use vitasync_domain::health::records::store_batch;
use vitasync_domain::health::rollup::ROLLED_UP_MARKER;
use vitasync_domain::health::{HealthBatch, Measurement, Metric, Origin, SampleSeries};
use vitasync_domain::kernel::ids::ConnectionId;
use vitasync_domain::kernel::time::Timestamp;
use vitasync_domain::ports::RecordOwner;
use vitasync_domain::providers::ProviderId;

/// 2026-03-27T00:00:00Z: Berlin's change (29 March) and the days around it.
const START_MS: i64 = 1_774_569_600_000;
const SPAN_MS: i64 = 4 * 86_400_000;
const OFFSETS: [i32; 7] = [3600, 7200, 0, 20_700, -12_600, -9000, 19_800];
const ZONES: [Option<&str>; 5] = [
    None,
    Some("Europe/Berlin"),
    Some("America/St_Johns"),
    Some("Asia/Kathmandu"),
    Some("Australia/Lord_Howe"),
];
const BUCKETS: [&str; 5] = ["minute", "hour", "day", "week", "month"];
const AGGREGATES: [&str; 5] = ["avg", "min", "max", "sum", "count"];

/// A connection of the harness's user whose records the test writes directly.
async fn connection(h: &Harness) -> RecordOwner {
    let now = Timestamp::from_millis(START_MS).unwrap();
    let user = h
        .services
        .directory
        .get_user(&h.caller, &h.user)
        .await
        .unwrap();
    let connection = Connection::new_active(
        h.caller.workspace_id.clone(),
        user.id.clone(),
        ProviderId::Withings,
        format!("rollups-{}", ConnectionId::generate()),
        now,
    );
    h.ports
        .connections
        .upsert_connection(
            &connection,
            &vitasync_tests::placeholder_tokens(),
            vitasync_contract::fixtures::quietly(),
        )
        .await
        .unwrap();
    RecordOwner {
        workspace: connection.workspace_id,
        user: connection.user_id,
        connection: connection.id,
    }
}

/// Runs of samples: `(start offset in the span, seconds apart, how many, first value,
/// offset index)`; values step by a random walk in thousandths.
fn runs() -> impl Strategy<Value = Vec<(i64, i64, usize, i64, usize)>> {
    proptest::collection::vec(
        (
            0..SPAN_MS,
            prop_oneof![Just(1i64), Just(5), Just(60), 1..900i64],
            1..400usize,
            40_000..180_000i64,
            0..OFFSETS.len(),
        ),
        1..6,
    )
}

fn batch(runs: &[(i64, i64, usize, i64, usize)], seed: u64) -> HealthBatch {
    let mut walk = seed;
    let samples = runs
        .iter()
        .map(|&(start, every, count, first, offset)| {
            let mut value = first;
            let points = (0..count as i64)
                .map(|n| {
                    walk = walk
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    value += (walk >> 33) as i64 % 2001 - 1000;
                    (START_MS + start + n * every * 1000, value as f64 / 1000.0)
                })
                .collect();
            SampleSeries {
                metric: Metric::HeartRate,
                points,
                utc_offset_seconds: OFFSETS[offset],
                provider: ProviderId::Withings,
                source: None,
            }
        })
        .collect();
    // A spot reading beside some runs (a cuff's pulse): charts count it with the samples.
    let measurements = runs
        .iter()
        .filter(|run| run.2 % 3 == 0)
        .map(|&(start, _, count, first, offset)| Measurement {
            metric: Metric::HeartRate,
            at_ms: START_MS + start + 500,
            utc_offset_seconds: OFFSETS[offset],
            date: "2026-03-27".into(),
            value: first as f64 / 1000.0,
            secondary: None,
            origin: Origin {
                provider: ProviderId::Withings,
                record_id: format!("spot-{start}-{count}"),
                source: None,
            },
        })
        .collect();
    HealthBatch {
        samples,
        measurements,
        ..HealthBatch::default()
    }
}

fn at(ms: i64) -> String {
    Timestamp::from_millis(ms).unwrap().to_string()
}

/// Both readers' charts for `query`, bucket for bucket: `(start, count, value)`.
async fn both(
    h: &Harness,
    rolled: &HealthReads,
    scanned: &HealthReads,
    query: &TimeseriesQuery,
) -> (Vec<(String, u64, f64)>, Vec<(String, u64, f64)>) {
    let chart = |reads: &HealthReads| {
        let reads = reads.clone();
        let query = query.clone();
        let (caller, user) = (h.caller.clone(), h.user.clone());
        async move {
            reads
                .timeseries(&caller, &user, &query)
                .await
                .unwrap()
                .buckets
                .into_iter()
                .map(|b| (b.start.to_rfc3339(), b.count, b.value))
                .collect::<Vec<_>>()
        }
    };
    (chart(rolled).await, chart(scanned).await)
}

fn assert_same(
    query: &TimeseriesQuery,
    rolled: &[(String, u64, f64)],
    scanned: &[(String, u64, f64)],
) {
    assert_eq!(rolled.len(), scanned.len(), "{query:?}");
    for (a, b) in rolled.iter().zip(scanned) {
        assert_eq!((&a.0, a.1), (&b.0, b.1), "{query:?}");
        let tolerance = 1e-9 * b.2.abs().max(1.0);
        assert!((a.2 - b.2).abs() <= tolerance, "{query:?}: {a:?} vs {b:?}");
    }
}

type Case = (
    Vec<(i64, i64, usize, i64, usize)>,
    Vec<(i64, i64, usize, i64, usize)>,
    u64,
    Vec<(i64, i64, usize, usize, usize)>,
);

async fn rollup_answers_equal_a_scan_of_every_sample(host: Host) {
    let h = harness_on(host, ProviderId::Withings).await;
    let rolled = h.services.health_reads.clone();
    let scanned = h.services.health_reads.clone().scanning_samples();
    let queries = proptest::collection::vec(
        (
            0..SPAN_MS,
            1..SPAN_MS,
            0..BUCKETS.len(),
            0..AGGREGATES.len(),
            0..ZONES.len(),
        ),
        4..8,
    );
    let cases = if matches!(host, Host::Aws) { 6 } else { 24 };
    // Cases drawn from the strategies by a seeded runner (the same every run), each case
    // printed with its failure.
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        proptest::test_runner::TestRng::deterministic_rng(Config::default().rng_algorithm),
    );
    let strategy = (runs(), runs(), any::<u64>(), queries);
    for _ in 0..cases {
        let (first, revision, seed, queries): Case =
            strategy.new_tree(&mut runner).unwrap().current();
        let owner = connection(&h).await;
        let store = h.ports.health.as_ref();
        store_batch(store, &owner, &batch(&first, seed))
            .await
            .unwrap();
        // Revisions: samples again, some at the same instants with new values or offsets,
        // some new.
        store_batch(store, &owner, &batch(&revision, seed ^ 0x5eed))
            .await
            .unwrap();
        for (from, length, bucket, aggregate, zone) in queries {
            let to = (from + length).min(SPAN_MS + 86_400_000);
            let query = TimeseriesQuery {
                metric_type: Some("heart_rate".into()),
                from: Some(at(START_MS + from)),
                to: Some(at(START_MS + to)),
                bucket: Some(BUCKETS[bucket].into()),
                agg: Some(AGGREGATES[aggregate].into()),
                tz: ZONES[zone].map(str::to_owned),
                ..TimeseriesQuery::default()
            };
            let (by_rollup, by_scan) = both(&h, &rolled, &scanned, &query).await;
            assert_same(&query, &by_rollup, &by_scan);
        }
        // The next case is another connection of the same user: its data must not bleed into
        // this one's answers, so this one's is erased.
        store.delete_records(&owner).await.unwrap();
    }
}

/// Chunks stored before rollups existed: read by scanning (no marker), rolled up whole by the
/// next write, read from rollups after; the answers never change.
async fn data_from_before_rollups_is_rolled_up_by_the_next_write(host: Host) {
    let h = harness_on(host, ProviderId::Withings).await;
    let owner = connection(&h).await;
    let store = h.ports.health.as_ref();
    let old = batch(
        &[(0, 1, 3600, 60_000, 0), (86_400_000, 60, 300, 70_000, 1)],
        7,
    );
    store_batch(store, &owner, &old).await.unwrap();
    // As an earlier version left it: chunks, no rollups, no marker.
    let rollups: Vec<String> = store
        .records_between(&owner, "", "~")
        .await
        .unwrap()
        .into_iter()
        .map(|(key, _)| key)
        .filter(|key| !key.starts_with("S#"))
        .collect();
    assert!(rollups.iter().any(|k| k == ROLLED_UP_MARKER), "{rollups:?}");
    store.delete_keys(&owner, &rollups).await.unwrap();
    let query = TimeseriesQuery {
        metric_type: Some("heart_rate".into()),
        from: Some(at(START_MS)),
        to: Some(at(START_MS + SPAN_MS)),
        bucket: Some("hour".into()),
        tz: Some("Europe/Berlin".into()),
        ..TimeseriesQuery::default()
    };
    let rolled = h.services.health_reads.clone();
    let scanned = h.services.health_reads.clone().scanning_samples();
    let (before, truth) = both(&h, &rolled, &scanned, &query).await;
    assert_same(&query, &before, &truth);
    // A late sample two days on: the write rolls up everything, old days included.
    let late = batch(&[(3 * 86_400_000, 1, 10, 90_000, 2)], 9);
    store_batch(store, &owner, &late).await.unwrap();
    let keys: Vec<String> = store
        .records_between(&owner, "", "~")
        .await
        .unwrap()
        .into_iter()
        .map(|(key, _)| key)
        .collect();
    for day in ["2026-03-27", "2026-03-28", "2026-03-30"] {
        assert!(keys.contains(&format!("Q#heart_rate#{day}")), "{keys:?}");
        assert!(keys.contains(&format!("M#heart_rate#{day}")), "{keys:?}");
    }
    assert!(keys.iter().any(|k| k == ROLLED_UP_MARKER));
    let (after, truth) = both(&h, &rolled, &scanned, &query).await;
    assert_same(&query, &after, &truth);
    assert_eq!(truth.iter().map(|b| b.1).sum::<u64>(), 3600 + 300 + 10);
    // The chart comes from the rollups: without the samples it is the same, the scan empty.
    let chunks: Vec<String> = keys
        .iter()
        .filter(|k| k.starts_with("S#"))
        .cloned()
        .collect();
    store.delete_keys(&owner, &chunks).await.unwrap();
    let (from_rollups, nothing) = both(&h, &rolled, &scanned, &query).await;
    assert_same(&query, &from_rollups, &truth);
    assert!(nothing.is_empty());
    // Erasure takes rollups with the samples.
    h.services
        .health_reads
        .erase_health(&h.caller, &h.user)
        .await
        .unwrap();
    assert!(
        store
            .records_between(&owner, "", "~")
            .await
            .unwrap()
            .is_empty()
    );
}

on_both_hosts!(
    rollup_answers_equal_a_scan_of_every_sample,
    data_from_before_rollups_is_rolled_up_by_the_next_write,
);
