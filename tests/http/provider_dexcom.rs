//! Dexcom through the sync engine, against a local server answering its documented v3 API
//! with the fixtures: every CGM reading in mmol/L at the offset its own clocks show, the
//! events the user logged field by field, windows of at most 30 days within the user's data
//! range, records at a window's edges left to their own window, deleted events removed, and
//! re-syncs that write nothing.

use crate::harness::{Harness, Host, at, harness_on, ms, on_both_hosts, one};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;
use vitasync_domain::connections::Connection;
use vitasync_domain::health::chunk;
use vitasync_domain::health::{Measurement, Session};
use vitasync_domain::providers::ProviderId;
use vitasync_domain::sync::SyncRequest;
use vitasync_domain::sync::jobs::{JobStatus, SyncJob};
use vitasync_tests::fake_provider::{DataFailure, FakeProvider};

const DATA_RANGE: &str = "/v3/users/self/dataRange";
const EGVS: &str = "/v3/users/self/egvs";
const EVENTS: &str = "/v3/users/self/events";

const BERLIN: i32 = 3600;
const BERLIN_SUMMER: i32 = 7200;
const KATHMANDU: i32 = 20_700;
const ST_JOHNS: i32 = -12_600;
const ST_JOHNS_SUMMER: i32 = -9000;

const EXERCISE_ID: &str = "9b5a3f4e-2dbc-4a98-87e6-f5a4b3c2d1e0";

fn window(from: &str, to: &str, data_types: &[&str]) -> SyncRequest {
    SyncRequest {
        from: Some(at(from)),
        to: Some(at(to)),
        data_types: data_types.iter().map(|name| (*name).to_owned()).collect(),
    }
}

/// The fixtures' first eight days of March: Berlin, Kathmandu and St. John's.
fn early_march() -> SyncRequest {
    window("2026-03-01T00:00:00Z", "2026-03-09T00:00:00Z", &[])
}

async fn connected(host: Host) -> (Harness, Connection) {
    let h = harness_on(host, ProviderId::Dexcom).await;
    let connection = h.connect().await;
    (h, connection)
}

fn keys_starting(stored: &BTreeMap<String, Vec<u8>>, prefix: &str) -> usize {
    stored.keys().filter(|key| key.starts_with(prefix)).count()
}

fn counts(job: &SyncJob, name: &str) -> (u64, u64, u64) {
    let tally = job.counts.get(name).copied().unwrap_or_default();
    (tally.fetched, tally.written, tally.unchanged)
}

/// A logged event, by its metric and instant.
fn event(stored: &BTreeMap<String, Vec<u8>>, metric: &str, at: &str) -> Measurement {
    one(stored, &format!("E#{metric}#{:013}#", ms(at)))
}

/// The glucose readings stored for one UTC hour: `(UTC ms, mmol/L, offset in force)` each.
fn glucose_hour(stored: &BTreeMap<String, Vec<u8>>, hour: &str) -> Vec<(i64, f64, i32)> {
    let chunk = chunk::decode(&stored[&format!("S#glucose#{hour}")]).unwrap();
    chunk::values(&chunk.points)
        .map(|(at, value)| (at, value, chunk.offset_at(at)))
        .collect()
}

/// The `startDate` and `endDate` of each call to `path`, in order.
fn asked(h: &Harness, path: &str) -> Vec<(String, String)> {
    h.fake
        .requests_to(path)
        .into_iter()
        .map(|call| {
            (
                call.params["startDate"].clone(),
                call.params["endDate"].clone(),
            )
        })
        .collect()
}

fn dates(start: &str, end: &str) -> (String, String) {
    (start.to_owned(), end.to_owned())
}

async fn dexcom_readings_and_logged_events_land_field_by_field(host: Host) {
    let (h, connection) = connected(host).await;
    // No profile endpoint: the account is the data range's `userId`.
    assert_eq!(connection.provider_user_id, h.fake.account_id());
    let ranges_before = h.fake.requests_to(DATA_RANGE).len();
    let job = h.sync_over(&connection, early_march()).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    let stored = h.stored(&connection).await;

    // A G6 receiver writes times without offsets: the system clock is UTC, the display clock
    // Berlin's (two seconds behind); fractional seconds kept.
    assert_eq!(
        glucose_hour(&stored, "2026-03-01T06"),
        [
            (ms("2026-03-01T06:00:02Z"), 5.329, BERLIN),
            (ms("2026-03-01T06:05:02.250Z"), 5.606, BERLIN),
        ]
    );
    // The G7 app writes +01:00. A reading pinned high (401 mg/dL) is kept as read.
    assert_eq!(
        glucose_hour(&stored, "2026-03-02T06"),
        [
            (ms("2026-03-02T06:05:12Z"), 7.882, BERLIN),
            (ms("2026-03-02T06:10:12Z"), 22.258, BERLIN),
        ]
    );
    // Already in mmol/L, at Kathmandu's +05:45.
    assert_eq!(
        glucose_hour(&stored, "2026-03-05T03"),
        [(ms("2026-03-05T03:30:07Z"), 7.0, KATHMANDU)]
    );
    // A G6 Pro on a touchscreen receiver in St. John's: −03:30 read from its two clocks.
    assert_eq!(
        glucose_hour(&stored, "2026-03-07T18"),
        [(ms("2026-03-07T18:00:04Z"), 4.885, ST_JOHNS)]
    );
    // St. John's springs forward at 05:30 UTC, between two readings of one hour.
    let spring = chunk::decode(&stored["S#glucose#2026-03-08T05"]).unwrap();
    assert_eq!(spring.utc_offset_seconds, ST_JOHNS);
    assert_eq!(
        spring.offset_changes,
        [(ms("2026-03-08T05:30:04Z"), ST_JOHNS_SUMMER)]
    );
    assert_eq!(
        glucose_hour(&stored, "2026-03-08T05"),
        [
            (ms("2026-03-08T05:20:04Z"), 6.106, ST_JOHNS),
            (ms("2026-03-08T05:25:04Z"), 5.995, ST_JOHNS),
            (ms("2026-03-08T05:30:04Z"), 5.828, ST_JOHNS_SUMMER),
            (ms("2026-03-08T05:35:04Z"), 5.717, ST_JOHNS_SUMMER),
        ]
    );
    assert_eq!(
        keys_starting(&stored, "S#glucose#"),
        5,
        "{:?}",
        stored.keys()
    );

    // A finger stick on the receiver, mg/dL to mmol/L.
    let finger = event(&stored, "glucose", "2026-03-01T07:15:04Z");
    assert_eq!(
        (
            finger.value,
            finger.utc_offset_seconds,
            finger.date.as_str()
        ),
        (6.217, BERLIN, "2026-03-01")
    );
    assert_eq!(finger.origin.provider, ProviderId::Dexcom);
    assert_eq!(
        finger.origin.record_id,
        "6c2e8a1f-3b4d-4e5f-9a0b-1c2d3e4f5a6b"
    );
    assert_eq!(finger.origin.source.as_deref(), Some("Dexcom G6"));
    // Values are strings in v3.
    let lunch = event(&stored, "carbohydrates", "2026-03-02T11:31:05Z");
    assert_eq!(
        (lunch.value, lunch.utc_offset_seconds, lunch.date.as_str()),
        (45.0, BERLIN, "2026-03-02")
    );
    assert_eq!(
        lunch.origin.record_id,
        "7f3e1d2c-0b9a-4876-a5c4-d3e2f1a0b9c8"
    );
    assert_eq!(lunch.origin.source.as_deref(), Some("Dexcom G7"));
    // Edited since ("updated"): still the dose.
    let bolus = event(&stored, "insulin", "2026-03-02T11:32:40Z");
    assert_eq!(
        (bolus.value, bolus.utc_offset_seconds, bolus.date.as_str()),
        (4.5, BERLIN, "2026-03-02")
    );
    assert_eq!(
        bolus.origin.record_id,
        "8a4f2e3d-1cab-4987-b6d5-e4f3a2b1c0d9"
    );
    assert_eq!(
        bolus.origin.source.as_deref(),
        Some("Dexcom G7 (fastActing)")
    );
    // No unit written (insulin is in units); 23:00 on the 6th in St. John's is the 7th in UTC.
    let basal = event(&stored, "insulin", "2026-03-07T02:30:04Z");
    assert_eq!(
        (basal.value, basal.utc_offset_seconds, basal.date.as_str()),
        (18.0, ST_JOHNS, "2026-03-06")
    );
    assert_eq!(
        basal.origin.source.as_deref(),
        Some("Dexcom G6 Pro (longActing)")
    );
    // A number where v3 documents a string.
    let snack = event(&stored, "carbohydrates", "2026-03-07T16:00:04Z");
    assert_eq!(
        (snack.value, snack.utc_offset_seconds, snack.date.as_str()),
        (20.0, ST_JOHNS, "2026-03-07")
    );
    // Carbs deleted before any sync saw them, illness and a note: none is a measurement.
    assert_eq!(keys_starting(&stored, "E#"), 5, "{:?}", stored.keys());
    assert!(
        !stored
            .keys()
            .any(|key| key.contains("9c6b4a5f-3edc-4b09-98f7-a6b5c4d3e2f1"))
    );

    // Exercise logged in Kathmandu: a workout of `value` minutes from its system time.
    let exercise: Session = one(&stored, &format!("X#workout#{EXERCISE_ID}"));
    assert_eq!(
        (exercise.start_ms, exercise.end_ms),
        (ms("2026-03-05T01:15:00Z"), ms("2026-03-05T01:55:00Z"))
    );
    assert_eq!(exercise.duration_seconds, Some(2400.0));
    assert_eq!(
        (exercise.utc_offset_seconds, exercise.date.as_str()),
        (KATHMANDU, "2026-03-05")
    );
    assert_eq!(exercise.sport.as_deref(), Some("other"));
    assert_eq!(
        exercise.provider_sport.as_deref(),
        Some("exercise (medium)")
    );
    assert_eq!(exercise.origin.source.as_deref(), Some("Dexcom G7"));
    assert_eq!(keys_starting(&stored, "X#"), 1);

    // Ten readings and a finger stick.
    assert_eq!(counts(&job, "glucose"), (11, 11, 0));
    assert_eq!(counts(&job, "carbohydrates"), (2, 2, 0));
    assert_eq!(counts(&job, "insulin"), (2, 2, 0));
    assert_eq!(counts(&job, "workout"), (1, 1, 0));

    // The data range once (a first sync asks for no late uploads), then each kind from its
    // first record (events to their last), in UTC written without an offset.
    assert_eq!(h.fake.requests_to(DATA_RANGE).len(), ranges_before + 1);
    assert_eq!(
        asked(&h, EGVS),
        [dates("2026-03-01T06:00:02", "2026-03-09T00:00:00")]
    );
    assert_eq!(
        asked(&h, EVENTS),
        [dates("2026-03-01T07:15:04", "2026-03-07T16:00:05")]
    );

    // Everything delivered again replaces itself: nothing new, nothing doubled.
    let again = h.sync_over(&connection, early_march()).await;
    assert_eq!(again.status, JobStatus::Succeeded, "{again:?}");
    assert!(again.counts.values().all(|c| c.written == 0), "{again:?}");
    assert_eq!(h.stored(&connection).await, stored);
}

/// An event the user deletes stays in Dexcom's replies, marked `deleted`: what an earlier
/// sync stored for it is removed.
async fn events_the_user_deleted_are_removed(host: Host) {
    let (h, connection) = connected(host).await;
    h.sync_over(&connection, early_march()).await;
    let before = h.stored(&connection).await;
    assert_eq!(keys_starting(&before, "E#"), 5);
    assert!(before.contains_key(&format!("X#workout#{EXERCISE_ID}")));

    h.fake
        .override_field(EVENTS, "eventStatus", json!("deleted"));
    let job = h.sync_over(&connection, early_march()).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    let after = h.stored(&connection).await;
    assert_eq!(keys_starting(&after, "E#"), 0, "{:?}", after.keys());
    assert_eq!(keys_starting(&after, "X#"), 0, "{:?}", after.keys());
    assert_eq!(job.counts["carbohydrates"].removed, 2);
    assert_eq!(job.counts["insulin"].removed, 2);
    assert_eq!(job.counts["glucose"].removed, 1, "the finger stick");
    assert_eq!(job.counts["workout"].removed, 1);
    // The CGM's readings are no events: they stay.
    assert_eq!(keys_starting(&after, "S#glucose#"), 5);

    let again = h.sync_over(&connection, early_march()).await;
    assert!(
        again
            .counts
            .values()
            .all(|c| c.removed == 0 && c.written == 0),
        "{again:?}"
    );
}

on_both_hosts!(
    dexcom_readings_and_logged_events_land_field_by_field,
    events_the_user_deleted_are_removed,
    readings_a_receiver_uploaded_late_are_read_by_the_next_sync,
);

#[tokio::test]
async fn a_long_sync_asks_for_thirty_days_at_most_within_the_data_range() {
    let (h, connection) = connected(Host::Embedded).await;
    let long = window("2025-12-01T00:00:00Z", "2026-06-01T00:00:00Z", &[]);
    let job = h.sync_over(&connection, long).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");

    // Each kind from its own first record (none before it), in windows of 30 days at most,
    // to just past its last.
    assert_eq!(
        asked(&h, EGVS),
        [
            dates("2026-03-01T06:00:02", "2026-03-31T06:00:02"),
            dates("2026-03-31T06:00:02", "2026-04-14T10:00:07"),
        ]
    );
    assert_eq!(
        asked(&h, EVENTS),
        [dates("2026-03-01T07:15:04", "2026-03-07T16:00:05")]
    );
    for (start, end) in asked(&h, EGVS).into_iter().chain(asked(&h, EVENTS)) {
        let days = (ms(&format!("{end}Z")) - ms(&format!("{start}Z"))) as f64 / 86_400_000.0;
        assert!(days <= 30.0, "{start} to {end}");
    }

    let stored = h.stored(&connection).await;
    // Berlin springs forward at 01:00 UTC on 29 March, between two readings; April is summer.
    assert_eq!(
        glucose_hour(&stored, "2026-03-29T00"),
        [(ms("2026-03-29T00:55:05Z"), 6.661, BERLIN)]
    );
    assert_eq!(
        glucose_hour(&stored, "2026-03-29T01"),
        [(ms("2026-03-29T01:00:05Z"), 6.883, BERLIN_SUMMER)]
    );
    assert_eq!(
        glucose_hour(&stored, "2026-04-14T10"),
        [(ms("2026-04-14T10:00:06Z"), 7.271, BERLIN_SUMMER)]
    );
    // Every reading once (windows meet without overlapping), and the finger stick.
    assert_eq!(counts(&job, "glucose"), (14, 14, 0));
}

#[tokio::test]
async fn nothing_is_asked_for_before_the_first_record() {
    let (h, connection) = connected(Host::Embedded).await;
    let january = window("2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z", &[]);
    let job = h.sync_over(&connection, january).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    assert!(h.fake.requests_to(EGVS).is_empty());
    assert!(h.fake.requests_to(EVENTS).is_empty());
    assert!(h.stored(&connection).await.is_empty());
}

#[tokio::test]
async fn records_at_a_windows_edges_are_left_to_their_own_window() {
    let (h, connection) = connected(Host::Embedded).await;
    // 06:07 to 06:12 on 2 March: Dexcom answers the 06:05 reading beside the 06:10 one.
    let narrow = window("2026-03-02T06:07:00Z", "2026-03-02T06:12:00Z", &["glucose"]);
    let job = h.sync_over(&connection, narrow).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    assert_eq!(
        asked(&h, EGVS),
        [dates("2026-03-02T06:07:00", "2026-03-02T06:12:00")]
    );
    let stored = h.stored(&connection).await;
    assert_eq!(
        glucose_hour(&stored, "2026-03-02T06"),
        [(ms("2026-03-02T06:10:12Z"), 22.258, BERLIN)]
    );
    let samples: Vec<&String> = stored.keys().filter(|k| k.starts_with("S#")).collect();
    assert_eq!(samples.len(), 1, "{:?}", stored.keys());
    assert_eq!(counts(&job, "glucose"), (1, 1, 0));
}

#[tokio::test]
async fn only_the_data_asked_for_is_fetched() {
    let (h, connection) = connected(Host::Embedded).await;
    let workouts = window("2026-03-01T00:00:00Z", "2026-03-09T00:00:00Z", &["workout"]);
    let job = h.sync_over(&connection, workouts).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    assert!(h.fake.requests_to(EGVS).is_empty(), "no glucose asked for");
    assert_eq!(h.fake.requests_to(EVENTS).len(), 1);
    let stored = h.stored(&connection).await;
    let keys: Vec<&String> = stored.keys().collect();
    assert_eq!(keys, [&format!("X#workout#{EXERCISE_ID}")]);
}

#[tokio::test]
async fn dexcom_throttling_waits_and_an_outage_is_retried() {
    // Past 60,000 calls in the app's hour Dexcom answers 429.
    let (h, connection) = connected(Host::Embedded).await;
    h.fake.fail_data_calls([DataFailure::Http(429, Some(45))]);
    let job = h.sync_over(&connection, early_march()).await;
    assert_eq!(job.status, JobStatus::Queued, "{job:?}");
    let (delay, done) = h.run_delayed_retry(&job).await;
    assert_eq!(delay, Duration::from_secs(45));
    assert_eq!(done.status, JobStatus::Succeeded, "{done:?}");
    assert_eq!(counts(&done, "glucose"), (11, 11, 0));

    // A 5xx is an outage: tried again later, not failed.
    let (h, connection) = connected(Host::Embedded).await;
    h.fake.fail_data_calls([DataFailure::Http(503, None)]);
    let job = h.sync_over(&connection, early_march()).await;
    assert_eq!(job.status, JobStatus::Queued, "{job:?}");
    assert!(job.error.is_none(), "{job:?}");
    let (delay, done) = h.run_delayed_retry(&job).await;
    assert!(delay > Duration::ZERO);
    assert_eq!(done.status, JobStatus::Succeeded, "{done:?}");
    assert_eq!(counts(&done, "glucose"), (11, 11, 0));
}

/// A sync of glucose over `[from, to)` that succeeded.
async fn glucose_synced(h: &Harness, connection: &Connection, from: &str, to: &str) -> SyncJob {
    let job = h
        .sync_over(connection, window(from, to, &["glucose"]))
        .await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    job
}

/// A receiver's readings reach Dexcom when the user uploads them, days late at times: a later
/// sync asks where the records uploaded since the last sync begin, and reads back to them (by
/// at most 30 days), not only over its own window.
async fn readings_a_receiver_uploaded_late_are_read_by_the_next_sync(host: Host) {
    let (h, connection) = connected(host).await;
    // The app's readings of 7 and 8 March as they happened, the connection synced up to the
    // 9th.
    let first = glucose_synced(
        &h,
        &connection,
        "2026-03-07T00:00:00Z",
        "2026-03-09T00:00:00Z",
    )
    .await;
    assert_eq!(counts(&first, "glucose"), (5, 5, 0));
    h.rewrite(&Connection {
        last_synced_at: Some(at("2026-03-09T00:00:00Z")),
        ..h.reread(&connection).await
    })
    .await;
    // Then the receiver's week, 1 to 7 March, uploaded at noon on the 9th.
    h.fake
        .dexcom_receiver_upload("2026-03-09T12:00:00Z", "2026-03-01T00:00:00Z");
    let later = glucose_synced(
        &h,
        &connection,
        "2026-03-08T12:00:00Z",
        "2026-03-10T00:00:00Z",
    )
    .await;
    let lookup = h.fake.requests_to(DATA_RANGE).pop().unwrap();
    assert_eq!(
        lookup.params.get("lastSyncTime").map(String::as_str),
        Some("2026-03-09T00:00:00Z"),
        "the last sync, written with its offset"
    );
    // Each kind back to its own first upload.
    assert_eq!(
        asked(&h, EGVS).last().cloned(),
        Some(dates("2026-03-01T06:00:02", "2026-03-10T00:00:00"))
    );
    assert_eq!(
        asked(&h, EVENTS).last().cloned(),
        Some(dates("2026-03-01T07:15:04", "2026-03-07T16:00:05"))
    );
    let stored = h.stored(&connection).await;
    assert!(
        stored.contains_key("S#glucose#2026-03-01T06"),
        "{:?}",
        stored.keys()
    );
    assert!(stored.contains_key("S#glucose#2026-03-05T03"));
    // Readings already stored are rewritten by no one.
    assert_eq!(counts(&later, "glucose"), (11, 6, 5));

    // Nothing uploaded since the last sync: the window alone.
    h.rewrite(&Connection {
        last_synced_at: Some(at("2026-03-10T00:00:00Z")),
        ..h.reread(&connection).await
    })
    .await;
    let quiet = glucose_synced(
        &h,
        &connection,
        "2026-03-09T12:00:00Z",
        "2026-03-11T00:00:00Z",
    )
    .await;
    assert_eq!(counts(&quiet, "glucose"), (0, 0, 0));

    // The lookup refused: the sync goes on over its own window.
    let range: serde_json::Value =
        serde_json::from_slice(&crate::webhooks_in::fixture("dexcom/data-range.json")).unwrap();
    h.fake
        .fail_data_calls([DataFailure::Reply(range), DataFailure::Http(400, None)]);
    let refused = glucose_synced(
        &h,
        &connection,
        "2026-03-07T00:00:00Z",
        "2026-03-09T00:00:00Z",
    )
    .await;
    assert_eq!(counts(&refused, "glucose"), (5, 0, 5));
}

/// Every v3 reply is an envelope with its `records`: one without them fails the sync rather
/// than passing for a window with no readings.
#[tokio::test]
async fn a_reply_without_its_records_is_not_an_empty_window() {
    let (h, connection) = connected(Host::Embedded).await;
    let range: serde_json::Value =
        serde_json::from_slice(&crate::webhooks_in::fixture("dexcom/data-range.json")).unwrap();
    h.fake.fail_data_calls([
        DataFailure::Reply(range),
        DataFailure::Reply(json!({"recordType": "egv", "recordVersion": "3.0"})),
    ]);
    let job = h.sync_over(&connection, early_march()).await;
    assert_eq!(job.status, JobStatus::Failed, "{job:?}");
    assert_eq!(
        job.error.as_ref().map(|e| e.code.as_str()),
        Some("provider_error")
    );
    assert!(h.stored(&connection).await.is_empty());
}

/// The fake refuses what Dexcom refuses (HTTP 400), so a client that asked for more than 30
/// days or wrote a date otherwise would fail these tests rather than pass them.
#[tokio::test]
async fn the_fake_refuses_a_window_dexcom_would() {
    let fake = FakeProvider::start(ProviderId::Dexcom).await;
    fake.accept_any_bearer();
    let client = vitasync_tests::plain_client();
    let url = format!("{}{EGVS}", fake.base);
    let status = |start: &'static str, end: &'static str| {
        client
            .get(url.as_str())
            .bearer_auth("any-token")
            .query(&[("startDate", start), ("endDate", end)])
            .send()
    };
    let thirty_days = status("2026-03-01T06:00:02", "2026-03-31T06:00:02");
    assert_eq!(thirty_days.await.unwrap().status(), reqwest::StatusCode::OK);
    for (start, end) in [
        ("2026-03-01T06:00:02", "2026-03-31T06:00:03"),
        ("2026-03-01T06:00:02Z", "2026-03-02T06:00:02"),
        ("2026-03-01T06:00:02+00:00", "2026-03-02T06:00:02"),
        ("2026-03-01", "2026-03-02"),
    ] {
        let refused = status(start, end).await.unwrap();
        assert_eq!(
            refused.status(),
            reqwest::StatusCode::BAD_REQUEST,
            "{start} to {end}"
        );
    }
}

/// Dexcom's data arrives about an hour after it is recorded: a sync after a sync reaches three
/// hours further back than other providers', so late uploads fall inside it.
#[tokio::test]
async fn a_later_sync_reaches_back_past_the_upload_delay() {
    let (h, connection) = connected(Host::Embedded).await;
    let first = h.sync_over(&connection, SyncRequest::default()).await;
    assert_eq!(first.status, JobStatus::Succeeded, "{first:?}");
    let synced = h
        .services
        .directory
        .get_connection(&h.caller, &h.user, connection.id.as_str())
        .await
        .unwrap();
    let last = synced.last_synced_at.expect("the backfill ran");
    let job = h.sync_over(&connection, SyncRequest::default()).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    assert_eq!(
        job.window_from,
        Some(last.plus_seconds(-2 * 24 * 3600 - 3 * 3600)),
        "two days' overlap and Dexcom's three hours"
    );
}
