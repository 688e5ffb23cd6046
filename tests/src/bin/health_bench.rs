//! Health-data budgets: a 30-day, 1 Hz heart-rate backfill (2,592,000 samples) normalised and
//! stored, and a 30-day, 1-minute timeseries read back, on the embedded host and on the
//! DynamoDB adapter (in the AWS emulator, whose calls are counted, not timed).
//!
//! Run: `scripts/bench-health` (a release build; starts the emulator for the DynamoDB figures).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use secrecy::SecretString;
use std::sync::Arc;
use std::time::{Duration, Instant};
use vitasync_aws::DynamoStore;
use vitasync_contract::{emulator, fixtures};
use vitasync_domain::connections::Connection;
use vitasync_domain::health::query::HealthReads;
use vitasync_domain::health::query::TimeseriesQuery;
use vitasync_domain::health::records::store_batch;
use vitasync_domain::health::{HealthBatch, Metric, SampleSeries};
use vitasync_domain::kernel::time::{SystemClock, Timestamp};
use vitasync_domain::ports::{Ports, RecordOwner};
use vitasync_domain::providers::ProviderId;
use vitasync_domain::tenancy::api_key::Principal;
use vitasync_domain::tenancy::user::UserDraft;
use vitasync_domain::tenancy::user::UserLookup;
use vitasync_domain::tenancy::{Authenticator, Tenancy};
use vitasync_embedded::EmbeddedStore;

const ROOT_KEY: &str = "vs_live_bench_root_key_0123456789abcdef";
const DAYS: i64 = 30;
const DAY_MS: i64 = 86_400_000;
/// 2026-10-01T00:00:00Z
const START_MS: i64 = 1_790_812_800_000;
const QUERY_RUNS: usize = 21;

/// A day of 1 Hz heart rate: a bounded random walk in whole beats, as wrist sensors report.
fn heart_rate_day(day: i64, seed: &mut u64) -> SampleSeries {
    let start = START_MS + day * DAY_MS;
    let mut bpm = 62i64;
    let points = (0..86_400)
        .map(|second| {
            *seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            bpm = (bpm + ((*seed >> 33) % 3) as i64 - 1).clamp(45, 185);
            (start + second * 1000, bpm as f64)
        })
        .collect();
    SampleSeries {
        metric: Metric::HeartRate,
        points,
        utc_offset_seconds: 3600,
        provider: ProviderId::Withings,
        source: None,
    }
}

fn backfill() -> HealthBatch {
    let mut seed = 42;
    HealthBatch {
        samples: (0..DAYS)
            .map(|day| heart_rate_day(day, &mut seed))
            .collect(),
        ..HealthBatch::default()
    }
}

/// What the query function reads health data with, over `ports`.
fn health_reads(ports: &Ports) -> HealthReads {
    HealthReads::new(
        UserLookup::new(ports.users.clone()),
        ports.connections.clone(),
        ports.health.clone(),
        ports.clock.clone(),
    )
}

fn tenancy(ports: &Ports) -> Tenancy {
    Tenancy::new(
        ports.workspaces.clone(),
        ports.api_keys.clone(),
        ports.clock.clone(),
    )
}

/// Health reads over `ports`, a user with a connection, and the owner of its records.
async fn user_with_connection(ports: Ports) -> (HealthReads, Principal, String, RecordOwner) {
    let tenancy = tenancy(&ports);
    tenancy
        .bootstrap(Some(&SecretString::from(ROOT_KEY)))
        .await
        .unwrap();
    let caller = Authenticator::new(ports.api_keys.clone(), ports.clock.clone())
        .authenticate(Some(ROOT_KEY))
        .await
        .unwrap();
    let now = Timestamp::from_millis(START_MS).unwrap();
    let draft = UserDraft {
        external_id: "bench".into(),
        ..UserDraft::default()
    };
    let patch = draft.as_patch();
    let (user, _) = ports
        .users
        .upsert_user(
            &draft.into_user(caller.workspace_id.clone(), now),
            &patch,
            &[],
        )
        .await
        .unwrap();
    let connection = Connection::new_active(
        caller.workspace_id.clone(),
        user.id.clone(),
        ProviderId::Withings,
        "bench".into(),
        now,
    );
    let tokens = vitasync_tests::placeholder_tokens();
    ports
        .connections
        .upsert_connection(&connection, &tokens, vitasync_contract::fixtures::quietly())
        .await
        .unwrap();
    let owner = RecordOwner {
        workspace: connection.workspace_id,
        user: connection.user_id,
        connection: connection.id,
    };
    (health_reads(&ports), caller, user.id.to_string(), owner)
}

fn month_by_minute() -> TimeseriesQuery {
    chart(DAYS, "minute")
}

/// The last `days` of the backfill by `bucket`, in Berlin.
fn chart(days: i64, bucket: &str) -> TimeseriesQuery {
    TimeseriesQuery {
        metric_type: Some("heart_rate".into()),
        from: Timestamp::from_millis(START_MS + (DAYS - days) * DAY_MS).map(|t| t.to_string()),
        to: Timestamp::from_millis(START_MS + DAYS * DAY_MS).map(|t| t.to_string()),
        bucket: Some(bucket.into()),
        tz: Some("Europe/Berlin".into()),
        ..TimeseriesQuery::default()
    }
}

/// p50 and p90 of `QUERY_RUNS` runs of `query` by `reads`.
async fn timed(
    reads: &HealthReads,
    caller: &Principal,
    user: &str,
    query: &TimeseriesQuery,
) -> (Duration, Duration) {
    let mut times = Vec::with_capacity(QUERY_RUNS);
    for _ in 0..QUERY_RUNS {
        let started = Instant::now();
        let series = reads.timeseries(caller, user, query).await.unwrap();
        times.push(started.elapsed());
        assert!(!series.buckets.is_empty());
    }
    times.sort();
    (times[QUERY_RUNS / 2], times[QUERY_RUNS * 9 / 10])
}

/// The process's peak resident memory so far (Linux `VmHWM`), in MB.
fn peak_memory_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|rest| {
                    rest.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<f64>()
                        .ok()
                })
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Child mode: open the stored data and run the 30-day query once, as a query function would.
async fn query_only(data_dir: &str, user: &str) {
    let store = Arc::new(EmbeddedStore::open(std::path::Path::new(data_dir)).unwrap());
    let ports = Ports::from_store(store, Arc::new(SystemClock));
    let caller = Authenticator::new(ports.api_keys.clone(), ports.clock.clone())
        .authenticate(Some(ROOT_KEY))
        .await
        .unwrap();
    let series = health_reads(&ports)
        .timeseries(&caller, user, &month_by_minute())
        .await
        .unwrap();
    assert_eq!(series.buckets.len() as i64, DAYS * 1440);
    println!("{:.1}", peak_memory_mb());
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("query-only") {
        query_only(&args[2], &args[3]).await;
        return;
    }
    let samples = (DAYS * 86_400) as f64;

    // Embedded host: ingest, then the month by the minute.
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
    let (reads, caller, user, owner) =
        user_with_connection(Ports::from_store(store.clone(), Arc::new(SystemClock))).await;
    let batch = backfill();
    let started = Instant::now();
    let counts = store_batch(store.as_ref(), &owner, &batch).await.unwrap();
    let ingest = started.elapsed();
    assert_eq!(counts["heart_rate"].written as f64, samples);
    drop(batch);
    let again = backfill();
    let started = Instant::now();
    let unchanged = store_batch(store.as_ref(), &owner, &again).await.unwrap();
    let resync = started.elapsed();
    assert_eq!(unchanged["heart_rate"].written, 0);
    drop(again);

    // Each chart from the rollups and by scanning every sample, in the same run.
    let scanning = reads.clone().scanning_samples();
    let charts = [
        ("7-day hourly", chart(7, "hour"), "≤ 2 ms p50"),
        ("7-day daily", chart(7, "day"), "≤ 2 ms p50"),
        ("30-day 1-minute", month_by_minute(), "≤ 10 ms p50"),
    ];
    let mut chart_rows = Vec::new();
    for (name, query, target) in &charts {
        let (p50, p90) = timed(&reads, &caller, &user, query).await;
        let (scan50, _) = timed(&scanning, &caller, &user, query).await;
        chart_rows.push(format!(
            "| {name} heart-rate timeseries (Berlin), embedded, p50 / p90 of {QUERY_RUNS} | {:.2} ms / {:.2} ms (scanning every sample: {:.2} ms p50) | {target} |",
            ms(p50),
            ms(p90),
            ms(scan50)
        ));
    }
    let bench_peak = peak_memory_mb();
    drop(scanning);
    drop(reads);
    drop(store);
    let child = std::process::Command::new(&args[0])
        .args(["query-only", dir.path().to_str().unwrap(), &user])
        .output()
        .unwrap();
    assert!(
        child.status.success(),
        "{}",
        String::from_utf8_lossy(&child.stderr)
    );
    let query_peak = String::from_utf8_lossy(&child.stdout).trim().to_owned();

    println!("| measure | figure | target |");
    println!("|---|---|---|");
    println!(
        "| 30-day 1 Hz heart-rate backfill, embedded: {} samples normalised and stored | {:.0} ms, {:.2} M samples/s | ≥ 1 M/s |",
        samples,
        ms(ingest),
        samples / ingest.as_secs_f64() / 1e6
    );
    println!(
        "| the same backfill again (nothing to write) | {:.0} ms | |",
        ms(resync)
    );
    for row in &chart_rows {
        println!("{row}");
    }
    println!("| peak memory, this benchmark process | {bench_peak:.1} MB | |");
    println!("| peak memory, a process answering the 30-day query | {query_peak} MB | < 128 MB |");

    // DynamoDB in the emulator: write units and Query calls, counted by the adapter.
    if std::env::var_os("VITASYNC_TEST_AWS_ENDPOINT").is_none() {
        println!(
            "| DynamoDB figures | skipped: set VITASYNC_TEST_AWS_ENDPOINT (scripts/bench-health does) | |"
        );
        return;
    }
    let config = emulator::sdk_config().await;
    let table = fixtures::new_table().await;
    let dynamo = DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), table);
    let (reads, caller, user, owner) = user_with_connection(Ports::from_store(
        Arc::new(dynamo.clone()),
        Arc::new(SystemClock),
    ))
    .await;
    let before = dynamo.usage();
    store_batch(&dynamo, &owner, &backfill()).await.unwrap();
    let written = dynamo.usage();
    let units = written.write_units - before.write_units;
    let items = written.items_written - before.items_written;
    println!(
        "| DynamoDB write units per user-day of 1 Hz heart rate | {:.1} ({} items, {} units for 30 days) | ≤ 150 (one item a sample: 86,400) |",
        units as f64 / DAYS as f64,
        items,
        units
    );
    let scanning = reads.clone().scanning_samples();
    for (name, query, target) in [
        ("30-day hourly", chart(30, "hour"), "≤ 10 RCU, 1 Query"),
        (
            "30-day 1-minute",
            month_by_minute(),
            "≤ 1/5 of scanning's RCU",
        ),
    ] {
        let mut cost = Vec::new();
        for reader in [&reads, &scanning] {
            let before = dynamo.usage();
            let series = reader.timeseries(&caller, &user, &query).await.unwrap();
            assert!(!series.buckets.is_empty());
            let after = dynamo.usage();
            cost.push((
                after.read_units - before.read_units,
                after.query_calls - before.query_calls,
            ));
        }
        println!(
            "| DynamoDB cost of the {name} timeseries: read units, Query calls (1 lists the connections) | {} RCU, {} Queries (scanning every sample: {} RCU, {} Queries) | {target} |",
            cost[0].0, cost[0].1, cost[1].0, cost[1].1
        );
    }
}
