//! Suunto through the sync engine and its webhooks, against a fake of its Cloud API: the APIM
//! gateway that wants the subscription key on every call (the token endpoint's too), the JWT
//! whose `user` claim is the account, workouts in kcal with the user's max heart rate beside
//! the workout's, 24/7 samples (joules, SpO2 as a fraction) at most 28 days a call, an error
//! named in an HTTP 200 reply, and signed pushes whose 24/7 samples are stored as pushed.

use crate::harness::{Harness, Host, at, harness_on, harness_with, ms, on_both_hosts, one};
use crate::webhooks_in::{fixture, post, request};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use std::collections::BTreeMap;
use std::time::Duration;
use vitasync_domain::connections::Connection;
use vitasync_domain::health::chunk;
use vitasync_domain::health::{DailySummary, DataType, Measurement, Session, StageTotals};
use vitasync_domain::inbound::push::{PushMethod, PushReply, PushRequest};
use vitasync_domain::providers::ProviderId;
use vitasync_domain::sync::SyncRequest;
use vitasync_domain::sync::jobs::{JobStatus, SyncJob};
use vitasync_tests::fake_provider::{DataFailure, account_id};

const SECRET: &str = "suunto-notification-secret-for-tests";
const BERLIN_WINTER: i32 = 3600;
const BERLIN_SUMMER: i32 = 7200;
const KATHMANDU: i32 = 20_700;
const DAY_MS: i64 = 86_400_000;

const RUN: &str = "X#workout#6a0c2e1f7b3d4a5e9c8b7a61";
const RIDE: &str = "X#workout#6a0c2e1f7b3d4a5e9c8b7a62";
const HIKE: &str = "X#workout#6a0c2e1f7b3d4a5e9c8b7a63";
const NEW_SPORT: &str = "X#workout#6a0c2e1f7b3d4a5e9c8b7a64";

fn window(from: &str, to: &str, data_types: &[&str]) -> SyncRequest {
    SyncRequest {
        from: Some(at(from)),
        to: Some(at(to)),
        data_types: data_types.iter().map(|t| (*t).to_owned()).collect(),
    }
}

fn early_march(data_types: &[&str]) -> SyncRequest {
    window("2026-03-01T00:00:00Z", "2026-03-03T00:00:00Z", data_types)
}

/// A Suunto account connected on `host`, with the deployment's notification secret set.
async fn connected(host: Host) -> (Harness, Connection) {
    let h = harness_with(
        host,
        ProviderId::Suunto,
        &[("SUUNTO_WEBHOOK_SECRET", SECRET)],
    )
    .await;
    let connection = h.connect().await;
    (h, connection)
}

/// An hour's samples: `(UTC ms, value, offset in force)`.
fn hour(stored: &BTreeMap<String, Vec<u8>>, key: &str) -> Vec<(i64, f64, i32)> {
    let bytes = stored
        .get(key)
        .unwrap_or_else(|| panic!("{key}: {:?}", stored.keys()));
    let decoded = chunk::decode(bytes).unwrap();
    chunk::values(&decoded.points)
        .map(|(at, value)| (at, value, decoded.offset_at(at)))
        .collect()
}

fn day(stored: &BTreeMap<String, Vec<u8>>, metric: &str, date: &str) -> (f64, i32) {
    let summary: DailySummary = one(stored, &format!("D#{metric}#{date}"));
    (summary.value, summary.utc_offset_seconds)
}

fn counts(job: &SyncJob, name: &str) -> (u64, u64, u64) {
    let tally = job.counts.get(name).copied().unwrap_or_default();
    (tally.fetched, tally.written, tally.unchanged)
}

fn names(types: &[DataType]) -> Vec<&'static str> {
    types.iter().map(|t| t.as_str()).collect()
}

/// `(from, to)` of each call to `path`.
fn windows_asked(h: &Harness, path: &str) -> Vec<(i64, i64)> {
    h.fake
        .data_calls()
        .into_iter()
        .filter(|call| call.path == path)
        .map(|call| {
            (
                call.params["from"].parse().unwrap(),
                call.params["to"].parse().unwrap(),
            )
        })
        .collect()
}

async fn push(h: &Harness, request: PushRequest) -> PushReply {
    h.services
        .pushes
        .receive_push(ProviderId::Suunto.as_str(), None, &request)
        .await
        .unwrap()
}

/// `body` signed as Suunto signs it: hex HMAC-SHA256 of the raw body with `secret`.
fn signed_with(secret: &str, body: &[u8]) -> PushRequest {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    let signature = hex::encode(mac.finalize().into_bytes());
    post(&[("X-HMAC-SHA256-Signature", signature)], body)
}

fn signed(body: &[u8]) -> PushRequest {
    signed_with(SECRET, body)
}

async fn workouts_and_24_7_data_land_field_by_field(host: Host) {
    let (h, connection) = connected(host).await;
    // The account is the access token's `user` claim (what webhooks name), not its `sub`.
    assert_eq!(connection.provider_user_id, "trailrunner42");
    assert_eq!(connection.provider_user_id, account_id(ProviderId::Suunto));

    let job = h.sync_over(&connection, early_march(&[])).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    let stored = h.stored(&connection).await;

    // The run: epoch ms with the offset in minutes (+60), energy in kcal as Suunto gives it.
    let run: Session = one(&stored, RUN);
    assert_eq!(
        (run.start_ms, run.end_ms),
        (ms("2026-03-02T06:12:00Z"), ms("2026-03-02T06:53:00Z"))
    );
    assert_eq!(
        (run.date.as_str(), run.utc_offset_seconds),
        ("2026-03-02", BERLIN_WINTER)
    );
    assert_eq!(run.sport.as_deref(), Some("running"));
    assert_eq!(run.provider_sport.as_deref(), Some("running"));
    assert_eq!(run.duration_seconds, Some(2460.0));
    assert_eq!(run.distance_m, Some(9045.3));
    assert_eq!(run.energy_kcal, Some(612.0));
    // `hrdata.max` (189) is the user's configured maximum; the run's own is `hrmax`.
    assert_eq!(
        (run.heart_rate_avg, run.heart_rate_max),
        (Some(148.0), Some(176.0))
    );
    assert_eq!((run.cadence_avg, run.ascent_m), (Some(86.0), Some(64.0)));
    assert_eq!((run.power_avg, run.power_max), (None, None));
    assert_eq!(run.origin.source.as_deref(), Some("Suunto Race S"));

    // The ride began at 00:45 on 2 March in Kathmandu (+05:45), 19:00 UTC on the 1st. Its
    // summary has no `stopTime`: it ends `totalTime` after its start.
    let ride: Session = one(&stored, RIDE);
    assert_eq!(ride.start_ms, ms("2026-03-01T19:00:00Z"));
    assert_eq!(ride.end_ms, ms("2026-03-01T19:00:00Z") + 5_400_500);
    assert_eq!(ride.duration_seconds, Some(5400.5));
    assert_eq!(
        (ride.date.as_str(), ride.utc_offset_seconds),
        ("2026-03-02", KATHMANDU)
    );
    assert_eq!(ride.sport.as_deref(), Some("cycling"));
    assert_eq!((ride.power_avg, ride.power_max), (Some(182.0), Some(612.0)));
    // No `hrmax` here: `workoutMaxHR`, never `max` (189).
    assert_eq!(
        (ride.heart_rate_avg, ride.heart_rate_max),
        (Some(131.0), Some(168.0))
    );
    assert_eq!(
        (
            ride.energy_kcal,
            ride.distance_m,
            ride.ascent_m,
            ride.cadence_avg
        ),
        (Some(980.0), Some(40210.0), Some(410.0), Some(88.0))
    );
    assert_eq!(ride.origin.source.as_deref(), Some("Suunto Vertical"));

    // An activity id Suunto's list does not have yet: kept as given, filed under `other`.
    let other: Session = one(&stored, NEW_SPORT);
    assert_eq!(other.sport.as_deref(), Some("other"));
    assert_eq!(other.provider_sport.as_deref(), Some("130"));
    assert_eq!(other.date, "2026-03-01");
    // The hike of 20 March changed since the window began, but starts after it.
    assert!(!stored.contains_key(HIKE));

    // Heart rate at each sample's offset; 00:30 on 1 March (23:30 UTC on 28 February) is
    // before the window, 10:00 on 3 March after it.
    assert_eq!(
        hour(&stored, "S#heart_rate#2026-03-01T08"),
        [
            (ms("2026-03-01T08:00:00Z"), 71.0, BERLIN_WINTER),
            (ms("2026-03-01T08:10:00Z"), 68.0, BERLIN_WINTER)
        ]
    );
    assert_eq!(
        hour(&stored, "S#heart_rate#2026-03-02T23"),
        [(ms("2026-03-02T23:30:00Z"), 60.0, BERLIN_WINTER)]
    );
    assert!(!stored.contains_key("S#heart_rate#2026-02-28T23"));
    assert!(!stored.contains_key("S#heart_rate#2026-03-03T09"));
    assert_eq!(counts(&job, "heart_rate"), (5, 5, 0));
    // HRV is RMSSD in ms; 0 is no reading.
    assert_eq!(
        hour(&stored, "S#heart_rate_variability#2026-03-01T08"),
        [(ms("2026-03-01T08:10:00Z"), 44.0, BERLIN_WINTER)]
    );

    // SpO2 comes as a fraction: 0.97 is 97 %.
    let spo2: Measurement = one(
        &stored,
        &format!("E#blood_oxygen#{:013}#", ms("2026-03-01T08:00:00Z")),
    );
    assert_eq!(
        (spo2.value, spo2.utc_offset_seconds, spo2.date.as_str()),
        (97.0, BERLIN_WINTER, "2026-03-01")
    );
    let later: Measurement = one(
        &stored,
        &format!("E#blood_oxygen#{:013}#", ms("2026-03-02T11:00:00Z")),
    );
    assert_eq!(later.value, 95.5);

    // Steps are summed per local day, whole: 1 March's 00:30 sample (before the window)
    // counts, 2 March's 00:30 sample (23:30 UTC on the 1st) counts to the 2nd, and 3 March,
    // which the window touches for an hour, has its whole day.
    assert_eq!(day(&stored, "steps", "2026-03-01"), (547.0, BERLIN_WINTER));
    assert_eq!(day(&stored, "steps", "2026-03-02"), (1512.0, BERLIN_WINTER));
    assert_eq!(day(&stored, "steps", "2026-03-03"), (830.0, BERLIN_WINTER));
    // The 24/7 energy (joules) says nothing of resting energy: no calories are made of it.
    assert!(!stored.keys().any(|key| key.contains("calories")));

    // The night: bedtime to wake-up, counted on the wake-up day; awake is the time in bed
    // the stages leave.
    let night: Session = one(&stored, "X#sleep#1772403180");
    assert_eq!(
        (night.start_ms, night.end_ms),
        (ms("2026-03-01T22:13:00Z"), ms("2026-03-02T06:19:00Z"))
    );
    assert_eq!(
        (night.date.as_str(), night.utc_offset_seconds),
        ("2026-03-02", BERLIN_WINTER)
    );
    assert_eq!(night.duration_seconds, Some(27690.0));
    assert_eq!(
        night.stage_seconds,
        Some(StageTotals {
            awake: 1470.0,
            light: 17970.0,
            deep: 5610.0,
            rem: 4110.0
        })
    );
    assert_eq!(
        (night.heart_rate_avg, night.heart_rate_min, night.score),
        (Some(54.0), Some(46.0), Some(82.0))
    );
    let nap: Session = one(&stored, "X#sleep#1772458260");
    assert_eq!(
        (nap.start_ms, nap.end_ms),
        (ms("2026-03-02T13:31:00Z"), ms("2026-03-02T14:02:00Z"))
    );
    assert_eq!((nap.duration_seconds, nap.score), (Some(1620.0), None));
    assert_eq!(nap.stage_seconds.map(|s| s.awake), Some(240.0));
    // The main night's lowest heart rate and HRV are the day's, not the nap's.
    let resting: DailySummary = one(&stored, "D#resting_heart_rate#2026-03-02");
    assert_eq!(
        (resting.value, resting.utc_offset_seconds),
        (46.0, BERLIN_WINTER)
    );
    assert_eq!(resting.origin.record_id, "1772403180");
    assert_eq!(
        day(&stored, "heart_rate_variability", "2026-03-02"),
        (61.0, BERLIN_WINTER)
    );

    // Recovery: the day's latest balance, 0–1 as 0–100.
    assert_eq!(
        day(&stored, "recovery_score", "2026-03-01"),
        (41.0, BERLIN_WINTER)
    );
    assert_eq!(
        day(&stored, "recovery_score", "2026-03-02"),
        (52.0, BERLIN_WINTER)
    );

    // One call each, with the user's JWT (and the subscription key, without which the
    // gateway refuses every call); day sums and latest balances read a day either side.
    let calls = h.fake.data_calls();
    assert!(
        calls.iter().all(|call| call
            .authorization
            .as_deref()
            .is_some_and(|auth| auth.starts_with("Bearer ey"))),
        "{calls:?}"
    );
    let workouts: Vec<_> = calls.iter().filter(|c| c.path == "/v3/workouts").collect();
    assert_eq!(workouts.len(), 1);
    let asked = &workouts[0].params;
    assert_eq!(asked["since"], ms("2026-03-01T00:00:00Z").to_string());
    assert_eq!(
        (asked["limit"].as_str(), asked["offset"].as_str()),
        ("100", "0")
    );
    assert_eq!(asked["filter-by-modification-time"], "true");
    let padded = (ms("2026-02-27T22:00:00Z"), ms("2026-03-04T02:00:00Z"));
    assert_eq!(windows_asked(&h, "/247samples/activity"), [padded]);
    assert_eq!(windows_asked(&h, "/247samples/recovery"), [padded]);
    assert_eq!(
        windows_asked(&h, "/247samples/sleep"),
        [(ms("2026-03-01T00:00:00Z"), ms("2026-03-03T00:00:00Z"))]
    );

    // Everything delivered again replaces itself: nothing new, nothing doubled.
    let again = h.sync_over(&connection, early_march(&[])).await;
    assert_eq!(again.status, JobStatus::Succeeded, "{again:?}");
    assert!(again.counts.values().all(|c| c.written == 0), "{again:?}");
    assert_eq!(h.stored(&connection).await, stored);
}

/// A month is more than the 24/7 endpoints answer at once: it is read in pieces of at most
/// 28 days. Across Berlin's change to summer time every sample keeps its own offset.
#[tokio::test]
async fn a_month_is_read_in_28_day_pieces_across_the_clock_change() {
    let (h, connection) = connected(Host::Embedded).await;
    let asked = &[
        "heart_rate",
        "steps",
        "sleep",
        "resting_heart_rate",
        "recovery_score",
    ];
    let month = window("2026-03-01T00:00:00Z", "2026-03-31T00:00:00Z", asked);
    let job = h.sync_over(&connection, month).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");

    let pieces = windows_asked(&h, "/247samples/activity");
    assert_eq!(
        pieces,
        [
            (ms("2026-02-27T22:00:00Z"), ms("2026-03-27T22:00:00Z")),
            (ms("2026-03-27T22:00:00Z"), ms("2026-04-01T02:00:00Z"))
        ]
    );
    assert!(pieces.iter().all(|(from, to)| to - from <= 28 * DAY_MS));
    assert!(
        !h.fake.data_calls().iter().any(|c| c.path == "/v3/workouts"),
        "workouts were not asked for"
    );

    let stored = h.stored(&connection).await;
    // Both pieces' data arrived.
    assert_eq!(day(&stored, "steps", "2026-03-01"), (547.0, BERLIN_WINTER));
    // At 01:00 UTC on 29 March Berlin's clocks went from 02:00 to 03:00.
    assert_eq!(
        hour(&stored, "S#heart_rate#2026-03-28T23"),
        [(ms("2026-03-28T23:40:00Z"), 52.0, BERLIN_WINTER)]
    );
    assert_eq!(
        hour(&stored, "S#heart_rate#2026-03-29T00"),
        [(ms("2026-03-29T00:50:00Z"), 50.0, BERLIN_WINTER)]
    );
    assert_eq!(
        hour(&stored, "S#heart_rate#2026-03-29T01"),
        [(ms("2026-03-29T01:10:00Z"), 49.0, BERLIN_SUMMER)]
    );
    assert_eq!(
        hour(&stored, "S#heart_rate#2026-03-29T07"),
        [(ms("2026-03-29T07:30:00Z"), 84.0, BERLIN_SUMMER)]
    );
    // The day of the change, summed whole, at the offset it began with.
    assert_eq!(day(&stored, "steps", "2026-03-29"), (2215.0, BERLIN_WINTER));
    // 31 March in Kathmandu began at 18:15 UTC on the 30th, inside the window: its whole
    // day counts, though its one sample (02:15 UTC) is after the window.
    assert_eq!(day(&stored, "steps", "2026-03-31"), (640.0, KATHMANDU));
    assert!(!stored.contains_key("S#heart_rate#2026-03-31T02"));

    // The night of the change: to bed in winter time, up in summer time.
    let night: Session = one(&stored, "X#sleep#1774735200");
    assert_eq!(
        (night.start_ms, night.end_ms),
        (ms("2026-03-28T22:00:00Z"), ms("2026-03-29T05:30:00Z"))
    );
    assert_eq!(
        (night.date.as_str(), night.utc_offset_seconds),
        ("2026-03-29", BERLIN_WINTER)
    );
    assert_eq!(
        night.stage_seconds,
        Some(StageTotals {
            awake: 1500.0,
            light: 14400.0,
            deep: 6000.0,
            rem: 5100.0
        })
    );
    assert_eq!(
        day(&stored, "resting_heart_rate", "2026-03-29"),
        (45.0, BERLIN_SUMMER)
    );
    assert_eq!(
        day(&stored, "recovery_score", "2026-03-29"),
        (83.0, BERLIN_SUMMER)
    );
    // Only what was asked for.
    assert!(
        !stored
            .keys()
            .any(|key| key.contains("heart_rate_variability")
                || key.starts_with("E#blood_oxygen")
                || key.starts_with("X#workout"))
    );
}

#[tokio::test]
async fn workouts_come_in_pages_of_a_hundred() {
    let (h, connection) = connected(Host::Embedded).await;
    let january = window("2026-01-10T00:00:00Z", "2026-02-01T00:00:00Z", &["workout"]);
    let job = h.sync_over(&connection, january).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    let stored = h.stored(&connection).await;
    let walks = stored
        .keys()
        .filter(|key| key.starts_with("X#workout#walk-"))
        .count();
    assert_eq!(walks, 130);
    // Workouts that changed since, but start after the window, are not this window's.
    assert_eq!(stored.len(), 130, "{:?}", stored.keys());
    let first: Session = one(&stored, "X#workout#walk-000");
    assert_eq!(first.sport.as_deref(), Some("walking"));
    assert_eq!(
        (first.date.as_str(), first.utc_offset_seconds),
        ("2026-01-10", BERLIN_WINTER)
    );
    let pages: Vec<(String, String)> = h
        .fake
        .data_calls()
        .into_iter()
        .filter(|call| call.path == "/v3/workouts")
        .map(|call| (call.params["limit"].clone(), call.params["offset"].clone()))
        .collect();
    assert_eq!(
        pages,
        [
            ("100".to_owned(), "0".to_owned()),
            ("100".to_owned(), "100".to_owned())
        ]
    );
}

/// Suunto names failures in the body of an HTTP 200 reply (`error` beside `payload`): such a
/// reply is no empty list. The job waits and tries again; nothing is stored meanwhile.
#[tokio::test]
async fn an_error_named_in_a_200_reply_is_retried_not_taken_for_no_workouts() {
    let (h, connection) = connected(Host::Embedded).await;
    // The fake's in-band failure: HTTP 200 whose body sets `error`.
    h.fake.fail_data_calls([DataFailure::WithingsStatus(500)]);
    let job = h.sync_over(&connection, early_march(&["workout"])).await;
    assert_eq!(job.status, JobStatus::Queued, "{job:?}");
    assert!(h.stored(&connection).await.is_empty());

    let (delay, done) = h.run_delayed_retry(&job).await;
    assert!(delay > Duration::ZERO);
    assert_eq!(done.status, JobStatus::Succeeded, "{done:?}");
    let stored = h.stored(&connection).await;
    assert!(stored.contains_key(RUN) && stored.contains_key(RIDE));
}

/// Suunto's token endpoint sits behind the same gateway as its API: a deployment without the
/// subscription key is turned away at the code exchange with a 401 that looks like bad
/// client credentials; with the key the same consent connects.
#[tokio::test]
async fn the_token_endpoint_wants_the_subscription_key() {
    let h = harness_with(
        Host::Embedded,
        ProviderId::Suunto,
        &[("SUUNTO_SUBSCRIPTION_KEY", "")],
    )
    .await;
    let refused = h.connect_as(&h.caller, &h.user).await;
    assert!(refused.is_err(), "{refused:?}");
    assert!(!h.fake.requests_to("/token").is_empty());
    assert_eq!(
        h.fake.token_calls(),
        0,
        "the gateway answered, not the OAuth server"
    );

    let h = harness_on(Host::Embedded, ProviderId::Suunto).await;
    let connection = h.connect().await;
    assert_eq!(h.fake.token_calls(), 1);
    assert_eq!(connection.provider_user_id, account_id(ProviderId::Suunto));
}

async fn signed_notifications_are_taken_and_others_refused(host: Host) {
    let (h, connection) = connected(host).await;
    let body = fixture("suunto/webhook-workout-created.json");
    assert_eq!(
        push(&h, signed_with("not-the-secret", &body)).await,
        PushReply::status(401)
    );
    assert_eq!(push(&h, post(&[], &body)).await, PushReply::status(401));
    // Signed, then changed on the way.
    let mut forged = signed(&body);
    forged.body = String::from_utf8(body.clone())
        .unwrap()
        .replace("trailrunner42", "someone-else")
        .into_bytes();
    assert_eq!(push(&h, forged).await, PushReply::status(401));
    assert_eq!(
        push(&h, request(PushMethod::Get, &[], &[], b"")).await,
        PushReply::status(405)
    );
    // The older form-encoded notification is refused outright.
    let form = b"username=trailrunner42&workoutid=6a0c2e1f7b3d4a5e9c8b7a63";
    let legacy = PushRequest {
        headers: vec![
            (
                "content-type".to_owned(),
                "application/x-www-form-urlencoded".to_owned(),
            ),
            (
                "x-hmac-sha256-signature".to_owned(),
                signed(form).headers[0].1.clone(),
            ),
        ],
        ..signed(form)
    };
    assert_eq!(push(&h, legacy).await, PushReply::status(415));
    // A route is acknowledged and is not data.
    let route = serde_json::to_vec(&json!({
        "type": "ROUTE_CREATED", "username": "trailrunner42", "route": { "key": "5e0f1a2b" }
    }))
    .unwrap();
    assert_eq!(push(&h, signed(&route)).await, PushReply::status(200));
    assert!(
        h.queue.sent().is_empty(),
        "nothing refused or ignored is queued"
    );

    // A new workout: a sync of workouts from an hour before its start to an hour after
    // `startTime + totalTime` (the summary has no `stopTime`).
    assert_eq!(push(&h, signed(&body)).await, PushReply::status(200));
    let jobs = h.queued_jobs().await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].connection_id, connection.id);
    assert_eq!(names(&jobs[0].data_types), ["workout"]);
    assert_eq!(
        (jobs[0].from, jobs[0].to),
        (
            Some(at("2026-03-20T07:00:00Z")),
            Some(at("2026-03-20T12:00:00Z"))
        )
    );
    h.work_queue().await;
    // Suunto's full record, read again, has the true end: a 5-minute pause made the hike
    // 3 h 5 min long for 3 h of moving.
    let hike: Session = one(&h.stored(&connection).await, HIKE);
    assert_eq!(
        (hike.start_ms, hike.end_ms),
        (ms("2026-03-20T08:00:00Z"), ms("2026-03-20T11:05:00Z"))
    );
    assert_eq!(hike.duration_seconds, Some(10800.0));
    assert_eq!(hike.sport.as_deref(), Some("hiking"));
    assert_eq!(hike.heart_rate_max, Some(158.0));

    // Suunto's retry of the same notification: no second sync.
    assert_eq!(push(&h, signed(&body)).await, PushReply::status(200));
    assert_eq!(h.queued_jobs().await.len(), 1);
}

/// With no notification secret configured, no notification is taken.
#[tokio::test]
async fn without_a_notification_secret_nothing_is_taken() {
    let h = harness_on(Host::Embedded, ProviderId::Suunto).await;
    h.connect().await;
    let body = fixture("suunto/webhook-workout-created.json");
    assert_eq!(push(&h, signed(&body)).await, PushReply::status(401));
    assert_eq!(
        push(&h, signed_with("", &body)).await,
        PushReply::status(401)
    );
    assert!(h.queue.sent().is_empty());
}

async fn pushed_24_7_samples_are_stored_at_their_own_offsets(host: Host) {
    let (h, connection) = connected(host).await;
    let pushes = [
        fixture("suunto/webhook-247-sleep-created.json"),
        fixture("suunto/webhook-247-activity-created.json"),
        fixture("suunto/webhook-247-recovery-created.json"),
    ];
    for body in &pushes[..2] {
        assert_eq!(push(&h, signed(body)).await, PushReply::status(200));
    }
    // The samples are stored as pushed; new activity also re-reads its days' step totals,
    // and new recovery its days' latest balance (a push holds part of a day).
    let jobs = h.queued_jobs().await;
    assert_eq!(jobs.len(), 1);
    let window = |job: &SyncJob| (names(&job.data_types), job.from, job.to);
    assert_eq!(
        window(&jobs[0]),
        (
            vec!["steps"],
            Some(at("2026-03-28T23:40:00Z")),
            Some(at("2026-03-31T02:15:00Z"))
        )
    );
    h.work_queue().await;
    assert_eq!(push(&h, signed(&pushes[2])).await, PushReply::status(200));
    let jobs = h.queued_jobs().await;
    assert_eq!(jobs.len(), 2);
    assert_eq!(
        window(&jobs[1]),
        (
            vec!["recovery_score"],
            Some(at("2026-03-29T06:00:00Z")),
            Some(at("2026-03-29T06:00:00Z"))
        )
    );
    h.work_queue().await;
    let stored = h.stored(&connection).await;

    // The night the clocks went forward.
    let night: Session = one(&stored, "X#sleep#1774735200");
    assert_eq!(
        (night.start_ms, night.end_ms),
        (ms("2026-03-28T22:00:00Z"), ms("2026-03-29T05:30:00Z"))
    );
    assert_eq!(
        (night.date.as_str(), night.utc_offset_seconds),
        ("2026-03-29", BERLIN_WINTER)
    );
    assert_eq!(night.duration_seconds, Some(25500.0));
    assert_eq!(
        night.stage_seconds,
        Some(StageTotals {
            awake: 1500.0,
            light: 14400.0,
            deep: 6000.0,
            rem: 5100.0
        })
    );
    assert_eq!(
        (night.heart_rate_avg, night.heart_rate_min, night.score),
        (Some(52.0), Some(45.0), Some(79.0))
    );
    assert_eq!(
        day(&stored, "resting_heart_rate", "2026-03-29"),
        (45.0, BERLIN_SUMMER)
    );
    assert_eq!(
        day(&stored, "heart_rate_variability", "2026-03-29"),
        (63.0, BERLIN_SUMMER)
    );

    // Heart rate across the change, each sample at its own offset, then in Kathmandu.
    assert_eq!(
        hour(&stored, "S#heart_rate#2026-03-29T00"),
        [(ms("2026-03-29T00:50:00Z"), 50.0, BERLIN_WINTER)]
    );
    assert_eq!(
        hour(&stored, "S#heart_rate#2026-03-29T01"),
        [(ms("2026-03-29T01:10:00Z"), 49.0, BERLIN_SUMMER)]
    );
    assert_eq!(
        hour(&stored, "S#heart_rate#2026-03-31T02"),
        [(ms("2026-03-31T02:15:00Z"), 77.0, KATHMANDU)]
    );
    assert_eq!(
        hour(&stored, "S#heart_rate_variability#2026-03-29T01"),
        [(ms("2026-03-29T01:10:00Z"), 58.0, BERLIN_SUMMER)]
    );
    let spo2: Measurement = one(
        &stored,
        &format!("E#blood_oxygen#{:013}#", ms("2026-03-31T02:15:00Z")),
    );
    assert_eq!(
        (spo2.value, spo2.utc_offset_seconds, spo2.date.as_str()),
        (98.0, KATHMANDU, "2026-03-31")
    );
    // The days' step totals, read whole from the API.
    assert_eq!(day(&stored, "steps", "2026-03-29"), (2215.0, BERLIN_WINTER));
    assert_eq!(day(&stored, "steps", "2026-03-31"), (640.0, KATHMANDU));
    assert_eq!(
        day(&stored, "recovery_score", "2026-03-29"),
        (83.0, BERLIN_SUMMER)
    );
    assert!(!stored.keys().any(|key| key.contains("calories")));

    // Delivered again: nothing changes, and no second fetch.
    for body in &pushes {
        assert_eq!(push(&h, signed(body)).await, PushReply::status(200));
    }
    h.work_queue().await;
    assert_eq!(h.stored(&connection).await, stored);
    assert_eq!(h.queued_jobs().await.len(), 2);
}

/// 25 October 2026 in Berlin lasts 25 hours (CEST becoming CET): a sync that only touches
/// its last minutes still reads the day whole, its first hour included.
async fn the_day_summer_time_ends_is_read_whole(host: Host) {
    let (h, connection) = connected(host).await;
    let job = h
        .sync_over(
            &connection,
            window("2026-10-25T22:40:00Z", "2026-10-25T23:00:00Z", &["steps"]),
        )
        .await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    let stored = h.stored(&connection).await;
    // 00:10 CEST (22:10 UTC the day before) and 23:50 CET, at the offset the day began with.
    assert_eq!(day(&stored, "steps", "2026-10-25"), (50.0, BERLIN_SUMMER));
}

on_both_hosts!(
    workouts_and_24_7_data_land_field_by_field,
    signed_notifications_are_taken_and_others_refused,
    pushed_24_7_samples_are_stored_at_their_own_offsets,
    the_day_summer_time_ends_is_read_whole,
);
