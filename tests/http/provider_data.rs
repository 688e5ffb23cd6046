//! Each provider's data through the sync engine, against a local server answering its
//! documented API with the sample payloads (several pages, a rate limit, a refused scope):
//! every record lands field by field, re-syncs replace rather than add, and data the user did
//! not grant is skipped and reported, not failed.

use crate::harness::{Harness, Host, at, harness_on, ms, on_both_hosts, one};
use serde_json::{Value, json};
use std::time::Duration;
use vitasync_domain::connections::Connection;
use vitasync_domain::health::{DailySummary, Measurement, Metric, Session, SleepStage};
use vitasync_domain::providers::ProviderId;
use vitasync_domain::sync::SyncRequest;
use vitasync_domain::sync::jobs::{JobStatus, SyncJob};
use vitasync_tests::fake_provider::DataFailure;

const CET: i32 = 3600;

fn early_march() -> SyncRequest {
    SyncRequest {
        from: Some(at("2026-03-01T00:00:00Z")),
        to: Some(at("2026-03-03T00:00:00Z")),
        data_types: Vec::new(),
    }
}

async fn connected(provider: ProviderId) -> (Harness, Connection) {
    connected_on(Host::Embedded, provider).await
}

async fn connected_on(host: Host, provider: ProviderId) -> (Harness, Connection) {
    let h = harness_on(host, provider).await;
    let connection = h.connect().await;
    (h, connection)
}

async fn sync(h: &Harness, connection: &Connection) -> SyncJob {
    h.sync_over(connection, early_march()).await
}

/// The samples' morning run of 2 March 2026 (07:12–07:53 in Berlin, 9,045.3 m), as every
/// provider that reports it must land it.
fn assert_morning_run(run: &Session) {
    assert_eq!(
        (run.start_ms, run.end_ms),
        (ms("2026-03-02T06:12:00Z"), ms("2026-03-02T06:53:00Z"))
    );
    assert_eq!(
        (run.date.as_str(), run.utc_offset_seconds),
        ("2026-03-02", CET)
    );
    assert_eq!(run.sport.as_deref(), Some("running"));
    assert_eq!(run.duration_seconds, Some(2460.0));
    assert_eq!(run.distance_m, Some(9045.3));
}

fn counts(job: &SyncJob, name: &str) -> (u64, u64, u64) {
    let tally = job.counts.get(name).copied().unwrap_or_default();
    (tally.fetched, tally.written, tally.unchanged)
}

#[tokio::test]
async fn whoop_cycles_recoveries_sleeps_workouts_and_body() {
    let (h, connection) = connected(ProviderId::Whoop).await;
    let job = sync(&h, &connection).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    let stored = h.stored(&connection).await;

    // The cycle began at 23:23 on 1 March in Berlin: it is 2 March's day; 8288.3 kJ.
    let energy: DailySummary = one(&stored, "D#total_calories#");
    assert_eq!((energy.date.as_str(), energy.value), ("2026-03-02", 1981.0));
    assert_eq!(energy.utc_offset_seconds, CET);
    assert_eq!(energy.origin.record_id, "cycle-93845");

    // Both pages of recoveries: the first on its sleep's wake-up day, the second on the day
    // WHOOP wrote it (its sleep is outside the window).
    let rhr: DailySummary = one(&stored, "D#resting_heart_rate#2026-03-02");
    assert_eq!(rhr.value, 55.0);
    let earlier: DailySummary = one(&stored, "D#resting_heart_rate#2026-03-01");
    assert_eq!(earlier.value, 53.0);
    let hrv: DailySummary = one(&stored, "D#heart_rate_variability#2026-03-02");
    assert_eq!(hrv.value, 41.36);
    let spo2: DailySummary = one(&stored, "D#blood_oxygen#2026-03-02");
    assert_eq!(spo2.value, 95.69);
    let skin: DailySummary = one(&stored, "D#skin_temperature#2026-03-02");
    assert_eq!(skin.value, 33.7);
    let breathing: DailySummary = one(&stored, "D#respiratory_rate#");
    assert_eq!(breathing.value, 15.2);

    // Sleep stages from milliseconds.
    let sleep: Session = one(&stored, "X#sleep#ecfc6a15-4661-442f-a9a4-f160dd7afae8");
    assert_eq!(
        (sleep.start_ms, sleep.end_ms),
        (ms("2026-03-01T22:23:30Z"), ms("2026-03-02T06:01:30Z"))
    );
    assert_eq!(sleep.date, "2026-03-02");
    let stages = sleep.stage_seconds.unwrap();
    assert_eq!(
        (stages.awake, stages.light, stages.deep, stages.rem),
        (3420.0, 13860.0, 4680.0, 5520.0)
    );
    assert_eq!(sleep.duration_seconds, Some(24060.0));
    assert_eq!(sleep.score, Some(83.0));

    // The workout: kJ to kcal, its distance and heart rate.
    let run: Session = one(&stored, "X#workout#b2a1c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d");
    assert_morning_run(&run);
    assert_eq!(run.energy_kcal, Some(412.0));
    assert_eq!(
        (run.heart_rate_avg, run.heart_rate_max),
        (Some(152.0), Some(171.0))
    );

    // The body measurement (current values only): one weigh-in for the day synced to.
    let weight: Measurement = one(&stored, "E#weight#");
    assert_eq!((weight.value, weight.date.as_str()), (72.35, "2026-03-03"));

    assert_eq!(counts(&job, "resting_heart_rate"), (2, 2, 0));
    let pages = h
        .fake
        .data_calls()
        .into_iter()
        .filter(|call| call.path == "/v2/recovery")
        .count();
    assert_eq!(pages, 2);

    // Everything delivered again replaces itself: nothing new, nothing doubled.
    let again = sync(&h, &connection).await;
    assert!(again.counts.values().all(|c| c.written == 0), "{again:?}");
    assert_eq!(stored_len(&h, &connection).await, stored.len());
}

async fn stored_len(h: &Harness, connection: &Connection) -> usize {
    h.stored(connection).await.len()
}

#[tokio::test]
async fn whoop_throttling_waits_for_the_reset_and_an_ungranted_scope_is_skipped() {
    let (h, connection) = connected(ProviderId::Whoop).await;
    // The user unticked body measurements.
    let narrowed = Connection {
        scopes: h
            .reread(&connection)
            .await
            .scopes
            .into_iter()
            .filter(|scope| scope != "read:body_measurement")
            .collect(),
        ..h.reread(&connection).await
    };
    h.rewrite(&narrowed).await;
    h.fake.fail_data_calls([DataFailure::Http(429, Some(45))]);
    let job = sync(&h, &connection).await;
    assert_eq!(job.status, JobStatus::Queued);
    let (delay, done) = h.run_delayed_retry(&job).await;
    assert_eq!(delay, Duration::from_secs(45));
    assert_eq!(done.status, JobStatus::Succeeded, "{done:?}");
    assert!(done.counts["weight"].skipped);
    assert_eq!(counts(&done, "weight"), (0, 0, 0));
    assert!(
        !h.fake
            .requests()
            .iter()
            .any(|r| r.path == "/v2/user/measurement/body"),
        "an ungranted scope is not even asked for"
    );
    assert!(
        !h.stored(&connection)
            .await
            .keys()
            .any(|k| k.starts_with("E#weight"))
    );
}

#[tokio::test]
async fn oura_days_sleep_with_its_hypnogram_heart_rate_workouts_and_spo2() {
    let (h, connection) = connected(ProviderId::Oura).await;
    let job = sync(&h, &connection).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    let stored = h.stored(&connection).await;

    let day = |metric: Metric| -> DailySummary { one(&stored, &format!("D#{metric}#2026-03-02")) };
    assert_eq!(day(Metric::Steps).value, 12874.0);
    assert_eq!(day(Metric::Steps).utc_offset_seconds, CET);
    assert_eq!(day(Metric::ActiveCalories).value, 1104.0);
    assert_eq!(day(Metric::TotalCalories).value, 2611.0);
    assert_eq!(day(Metric::Distance).value, 14120.0);
    assert_eq!(day(Metric::ActiveMinutes).value, 59.0);
    assert_eq!(day(Metric::RespiratoryRate).value, 15.125);
    assert_eq!(day(Metric::HeartRateVariability).value, 44.0);
    assert_eq!(day(Metric::RestingHeartRate).value, 49.0);
    assert_eq!(day(Metric::BloodOxygen).value, 96.482);
    let deviation = day(Metric::TemperatureDeviation);
    assert_eq!(deviation.value, -0.12);
    assert!(
        !stored.keys().any(|k| k.starts_with("D#temperature#")),
        "not a body temperature"
    );

    let sleep: Session = one(&stored, "X#sleep#");
    assert_eq!(
        (sleep.start_ms, sleep.end_ms),
        (ms("2026-03-01T22:23:30Z"), ms("2026-03-02T06:01:30Z"))
    );
    assert_eq!(
        (sleep.date.as_str(), sleep.utc_offset_seconds),
        ("2026-03-02", CET)
    );
    assert_eq!(sleep.duration_seconds, Some(24060.0));
    // "4222211133322221114": 5-minute phases from bedtime.
    let spans: Vec<(SleepStage, i64)> = sleep
        .stages
        .iter()
        .map(|s| (s.stage, (s.end_ms - s.start_ms) / 300_000))
        .collect();
    assert_eq!(
        spans,
        [
            (SleepStage::Awake, 1),
            (SleepStage::Light, 4),
            (SleepStage::Deep, 3),
            (SleepStage::Rem, 3),
            (SleepStage::Light, 4),
            (SleepStage::Deep, 3),
            (SleepStage::Awake, 1),
        ]
    );
    assert_eq!(sleep.stages[0].start_ms, sleep.start_ms);

    let run: Session = one(&stored, "X#workout#");
    assert_morning_run(&run);
    assert_eq!(run.energy_kcal, Some(412.5));

    // Heart rate from both pages, in the hour chunk, at the user's offset.
    let hour =
        vitasync_domain::health::chunk::decode(&stored["S#heart_rate#2026-03-02T06"]).unwrap();
    let points: Vec<(i64, f64)> = vitasync_domain::health::chunk::values(&hour.points).collect();
    assert_eq!(
        points,
        [
            (ms("2026-03-02T06:00:00Z"), 58.0),
            (ms("2026-03-02T06:05:00Z"), 61.0),
            (ms("2026-03-02T06:30:00Z"), 148.0),
            (ms("2026-03-02T06:35:00Z"), 139.0),
        ]
    );
    assert_eq!(hour.utc_offset_seconds, CET, "{:?}", hour.offset_changes);
    assert_eq!(counts(&job, "heart_rate"), (4, 4, 0));
}

#[tokio::test]
async fn strava_activities_from_every_page_with_their_heart_rate_streams() {
    let (h, connection) = connected(ProviderId::Strava).await;
    let job = sync(&h, &connection).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    let stored = h.stored(&connection).await;
    // start_date_local says 07:12 "Z": local wall time, not an instant.
    let run: Session = one(&stored, "X#workout#13579246801");
    assert_morning_run(&run);
    assert_eq!(
        (run.heart_rate_avg, run.heart_rate_max),
        (Some(152.3), Some(171.0))
    );
    let ride: Session = one(&stored, "X#workout#13579246900");
    assert_eq!(ride.sport.as_deref(), Some("cycling"));
    assert_eq!(ride.date, "2026-03-01");
    let hour =
        vitasync_domain::health::chunk::decode(&stored["S#heart_rate#2026-03-02T06"]).unwrap();
    let points: Vec<(i64, f64)> = vitasync_domain::health::chunk::values(&hour.points).collect();
    let start = ms("2026-03-02T06:12:00Z");
    assert_eq!(
        points,
        [
            (start, 98.0),
            (start + 1000, 101.0),
            (start + 2000, 104.0),
            (start + 3000, 108.0)
        ]
    );
    assert_eq!(counts(&job, "workout"), (2, 2, 0));
    let pages: Vec<String> = h
        .fake
        .data_calls()
        .into_iter()
        .filter(|call| call.path == "/athlete/activities")
        .map(|call| call.params["page"].clone())
        .collect();
    assert_eq!(pages, ["1", "2", "3"], "until an empty page");
    let streams = h
        .fake
        .data_calls()
        .into_iter()
        .filter(|call| call.path.ends_with("/streams"))
        .count();
    assert_eq!(streams, 1, "only the activity with heart rate");

    // Throttled: wait for the next 15-minute window, not a fixed minute.
    h.fake.fail_data_calls([DataFailure::Http(429, None)]);
    let again = sync(&h, &connection).await;
    assert_eq!(again.status, JobStatus::Queued);
    let delay = h.queue.sent().pop().unwrap().delay;
    assert!(
        delay > Duration::ZERO && delay <= Duration::from_secs(901),
        "{delay:?}"
    );
}

async fn polar_exercises_sleep_recharge_activity_and_heart_rate(host: Host) {
    let (h, connection) = connected_on(host, ProviderId::Polar).await;
    let job = sync(&h, &connection).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    let stored = h.stored(&connection).await;

    // Local start time plus an offset in minutes; an ISO 8601 duration.
    let run: Session = one(&stored, "X#workout#aQlC83");
    assert_morning_run(&run);
    // The vocabulary's sport, and Polar's own name beside it.
    assert_eq!(run.provider_sport.as_deref(), Some("RUNNING"));
    assert_eq!(run.energy_kcal, Some(412.0));
    assert_eq!(run.origin.source.as_deref(), Some("Polar Vantage V3"));

    let sleep: Session = one(&stored, "X#sleep#sleep-2026-03-02");
    assert_eq!(
        (sleep.start_ms, sleep.end_ms),
        (ms("2026-03-01T22:23:30Z"), ms("2026-03-02T06:01:30Z"))
    );
    assert_eq!(sleep.duration_seconds, Some(24060.0));
    assert_eq!(sleep.score, Some(81.0));
    // The hypnogram's "HH:mm" marks run past midnight: 23:23 awake, 23:29 and 00:00 light
    // (Polar's N1 and N2), 00:49 deep until the end.
    let spans: Vec<(SleepStage, i64)> =
        sleep.stages.iter().map(|s| (s.stage, s.start_ms)).collect();
    assert_eq!(
        spans,
        [
            (SleepStage::Awake, ms("2026-03-01T22:23:00Z")),
            (SleepStage::Light, ms("2026-03-01T22:29:00Z")),
            (SleepStage::Light, ms("2026-03-01T23:00:00Z")),
            (SleepStage::Deep, ms("2026-03-01T23:49:00Z")),
        ]
    );
    assert_eq!(sleep.stages.last().unwrap().end_ms, sleep.end_ms);

    let hrv: DailySummary = one(&stored, "D#heart_rate_variability#2026-03-02");
    assert_eq!((hrv.value, hrv.utc_offset_seconds), (44.0, CET));
    let breathing: DailySummary = one(&stored, "D#respiratory_rate#2026-03-02");
    assert_eq!(breathing.value, 15.1);
    // The day comes from `start_time` (Polar's summaries carry no `date`), its offset from
    // the day's sleep and exercise.
    let steps: DailySummary = one(&stored, "D#steps#2026-03-02");
    assert_eq!((steps.value, steps.utc_offset_seconds), (12874.0, CET));
    let distance: DailySummary = one(&stored, "D#distance#2026-03-02");
    assert_eq!(distance.value, 9410.2);
    let active: DailySummary = one(&stored, "D#active_minutes#2026-03-02");
    assert_eq!(active.value, 59.0);

    // Device-time samples at the day's offset (learnt from its sleep and exercise).
    let night =
        vitasync_domain::health::chunk::decode(&stored["S#heart_rate#2026-03-01T23"]).unwrap();
    assert_eq!(
        vitasync_domain::health::chunk::values(&night.points).next(),
        Some((ms("2026-03-01T23:02:00Z"), 58.0))
    );
    assert_eq!(counts(&job, "heart_rate"), (3, 3, 0));
    // One activity range and one heart-rate range (each ≤ 28 days) cover the window.
    let calls = h.fake.data_calls();
    assert_eq!(
        calls
            .iter()
            .filter(|c| c.path == "/v3/users/activities")
            .count(),
        1
    );
    assert_eq!(
        calls
            .iter()
            .filter(|c| c.path == "/v3/users/continuous-heart-rate")
            .count(),
        1
    );
}

#[tokio::test]
async fn an_oura_scope_the_user_deselected_is_skipped_and_reported() {
    let (h, connection) = connected(ProviderId::Oura).await;
    h.fake.forbid("/v2/usercollection/workout");
    h.fake.forbid("/v2/usercollection/daily_spo2");
    let job = sync(&h, &connection).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    assert!(job.counts["workout"].skipped);
    assert!(job.counts["blood_oxygen"].skipped);
    assert!(!job.counts["steps"].skipped);
    assert_eq!(counts(&job, "steps"), (1, 1, 0));
    let stored = h.stored(&connection).await;
    assert!(!stored.keys().any(|k| k.starts_with("X#workout")));
}

async fn fitbit_through_google_health_rollups_points_sleep_and_exercise(host: Host) {
    let h = harness_on(host, ProviderId::Fitbit).await;
    let connection = h.connect().await;
    let job = h
        .services
        .sync_jobs
        .trigger_sync(
            &h.caller,
            &h.user,
            connection.id.as_str(),
            SyncRequest {
                from: Some(at("2026-11-17T00:00:00Z")),
                to: Some(at("2026-11-21T00:00:00Z")),
                data_types: Vec::new(),
            },
        )
        .await
        .unwrap();
    h.work_queue().await;
    let job = h
        .services
        .sync_jobs
        .get_job(&h.caller, job.id.as_str())
        .await
        .unwrap();
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    let stored = h.stored(&connection).await;

    // Daily steps from the reconciled daily roll-up (int64 as strings), never summed points.
    // Civil days in the user's zone (users/me/settings: Europe/Berlin), with its offset.
    let steps: DailySummary = one(&stored, "D#steps#2026-11-18");
    assert_eq!((steps.value, steps.utc_offset_seconds), (11842.0, CET));
    assert_eq!(counts(&job, "steps"), (3, 3, 0));
    let rhr: DailySummary = one(&stored, "D#resting_heart_rate#2026-11-20");
    assert_eq!((rhr.value, rhr.utc_offset_seconds), (58.0, CET));
    // The zone is kept on the connection.
    assert_eq!(
        h.reread(&connection).await.time_zone.as_deref(),
        Some("Europe/Berlin")
    );
    let hrv: DailySummary = one(&stored, "D#heart_rate_variability#2026-11-20");
    assert_eq!(hrv.value, 41.7);
    let spo2: DailySummary = one(&stored, "D#blood_oxygen#2026-11-20");
    assert_eq!(spo2.value, 95.8);

    // Grams to kilograms, at the sample's own offset.
    let weighed: Vec<Measurement> = stored
        .iter()
        .filter(|(key, _)| key.starts_with("E#weight#"))
        .map(|(_, bytes)| serde_json::from_slice(bytes).unwrap())
        .collect();
    assert_eq!(weighed.len(), 2);
    let morning = weighed.iter().find(|m| m.date == "2026-11-20").unwrap();
    assert_eq!((morning.value, morning.utc_offset_seconds), (78.35, CET));
    assert_eq!(morning.origin.record_id, "5527193846610293847");
    assert_eq!(morning.origin.source.as_deref(), Some("Aria Air"));
    let fat: Measurement = one(&stored, "E#body_fat#");
    assert_eq!(fat.value, 21.4);

    // Heart-rate samples from both pages.
    assert_eq!(counts(&job, "heart_rate"), (4, 4, 0));

    let sleep: Session = one(&stored, "X#sleep#8172635495827364518");
    assert_eq!(sleep.date, "2026-11-20");
    assert_eq!(sleep.duration_seconds, Some(412.0 * 60.0));
    let totals = sleep.stage_seconds.unwrap();
    assert_eq!(
        (totals.awake, totals.light, totals.deep, totals.rem),
        (38.0 * 60.0, 232.0 * 60.0, 81.0 * 60.0, 99.0 * 60.0)
    );
    assert_eq!(sleep.stages.len(), 14);

    let run: Session = one(&stored, "X#workout#7391846205518273640");
    assert_eq!(run.sport.as_deref(), Some("running"));
    assert_eq!(run.duration_seconds, Some(2712.0));
    assert_eq!(run.distance_m, Some(8012.345));
    assert_eq!(
        (run.energy_kcal, run.heart_rate_avg),
        (Some(512.4), Some(152.0))
    );
    assert_eq!(
        (run.date.as_str(), run.utc_offset_seconds),
        ("2026-11-18", CET)
    );

    // Exercise is filtered on its civil start, as the API requires; heart rate on instants.
    let calls = h.fake.data_calls();
    let exercise = calls
        .iter()
        .find(|c| c.path.ends_with("/exercise/dataPoints"))
        .unwrap();
    assert!(exercise.params["filter"].starts_with("exercise.interval.civil_start_time >= \""));
    let heart = calls
        .iter()
        .find(|c| c.path.ends_with("/heart-rate/dataPoints"))
        .unwrap();
    assert_eq!(
        heart.params["filter"],
        "heart_rate.sample_time.physical_time >= \"2026-11-17T00:00:00.000Z\" AND \
         heart_rate.sample_time.physical_time < \"2026-11-21T00:00:00.000Z\""
    );
}

#[tokio::test]
async fn a_google_health_scope_the_user_unticked_is_skipped() {
    let h = harness_on(Host::Embedded, ProviderId::Fitbit).await;
    let connection = h.connect().await;
    h.fake.forbid("/v4/users/me/dataTypes/sleep/dataPoints");
    let job = h
        .services
        .sync_jobs
        .trigger_sync(
            &h.caller,
            &h.user,
            connection.id.as_str(),
            SyncRequest {
                from: Some(at("2026-11-17T00:00:00Z")),
                to: Some(at("2026-11-21T00:00:00Z")),
                data_types: vec!["sleep".into(), "steps".into()],
            },
        )
        .await
        .unwrap();
    h.work_queue().await;
    let job = h
        .services
        .sync_jobs
        .get_job(&h.caller, job.id.as_str())
        .await
        .unwrap();
    assert_eq!(job.status, JobStatus::Succeeded);
    assert!(job.counts["sleep"].skipped);
    assert_eq!(counts(&job, "steps"), (3, 3, 0));
}

#[tokio::test]
async fn garmin_summaries_pulled_by_upload_day_and_older_history_backfilled() {
    let (h, connection) = connected(ProviderId::Garmin).await;
    let job = sync(&h, &connection).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    let stored = h.stored(&connection).await;

    let day = |metric: Metric| -> DailySummary { one(&stored, &format!("D#{metric}#2026-03-02")) };
    assert_eq!(day(Metric::Steps).value, 12874.0);
    assert_eq!(day(Metric::Steps).utc_offset_seconds, CET);
    assert_eq!(day(Metric::Distance).value, 9410.0);
    assert_eq!(day(Metric::TotalCalories).value, 1104.0 + 1690.0);
    assert_eq!(day(Metric::Floors).value, 7.0);
    assert_eq!(day(Metric::ActiveMinutes).value, 59.0);
    assert_eq!(day(Metric::RestingHeartRate).value, 55.0);
    assert_eq!(day(Metric::HeartRateVariability).value, 44.0);
    assert!(
        day(Metric::Steps)
            .origin
            .record_id
            .ends_with("x4f9a21c-69a4e7d0-15180-0")
    );

    // Heart-rate samples at their offsets from the day's start (epoch seconds).
    let hour =
        vitasync_domain::health::chunk::decode(&stored["S#heart_rate#2026-03-01T23"]).unwrap();
    let first: Vec<(i64, f64)> = vitasync_domain::health::chunk::values(&hour.points)
        .take(2)
        .collect();
    assert_eq!(
        first,
        [(1_772_406_000_000, 58.0), (1_772_406_015_000, 57.0)]
    );

    let sleep: Session = one(&stored, "X#sleep#");
    assert_eq!(
        (sleep.start_ms, sleep.end_ms),
        (1_772_403_810_000, 1_772_431_290_000)
    );
    assert_eq!(
        (sleep.date.as_str(), sleep.score),
        ("2026-03-02", Some(82.0))
    );
    let kinds: Vec<SleepStage> = sleep.stages.iter().map(|s| s.stage).collect();
    assert_eq!(
        kinds,
        [
            SleepStage::Awake,
            SleepStage::Light,
            SleepStage::Deep,
            SleepStage::Rem
        ]
    );
    let run: Session = one(&stored, "X#workout#activity-21798765432");
    assert_morning_run(&run);
    assert_eq!(run.origin.source.as_deref(), Some("Forerunner 965"));
    let weight: Measurement = one(&stored, "E#weight#");
    assert_eq!((weight.value, weight.date.as_str()), (72.35, "2026-03-02"));
    let bmi: Measurement = one(&stored, "E#bmi#");
    assert_eq!(bmi.value, 22.8);

    // A day of uploads per pull; a two-day window needs no backfill.
    let calls = h.fake.data_calls();
    assert_eq!(
        calls
            .iter()
            .filter(|c| c.path == "/wellness-api/rest/dailies")
            .count(),
        2
    );
    assert!(!calls.iter().any(|c| c.path.contains("/backfill/")));

    // The same summaries delivered again (same summaryId) replace, never add.
    let again = sync(&h, &connection).await;
    assert!(again.counts.values().all(|c| c.written == 0), "{again:?}");

    // A window reaching back two months: the last week pulled, the rest asked for by
    // backfill requests of at most 30 days (the data arrives later by push).
    let long = h
        .services
        .sync_jobs
        .trigger_sync(
            &h.caller,
            &h.user,
            connection.id.as_str(),
            SyncRequest {
                from: Some(at("2026-01-01T00:00:00Z")),
                to: Some(at("2026-03-03T00:00:00Z")),
                data_types: vec!["sleep".into()],
            },
        )
        .await
        .unwrap();
    h.work_queue().await;
    let long = h
        .services
        .sync_jobs
        .get_job(&h.caller, long.id.as_str())
        .await
        .unwrap();
    assert_eq!(long.status, JobStatus::Succeeded);
    let backfills: Vec<(String, String)> = h
        .fake
        .data_calls()
        .into_iter()
        .filter(|c| c.path == "/wellness-api/rest/backfill/sleeps")
        .map(|c| {
            (
                c.params["summaryStartTimeInSeconds"].clone(),
                c.params["summaryEndTimeInSeconds"].clone(),
            )
        })
        .collect();
    let jan_1 = at("2026-01-01T00:00:00Z").millis() / 1000;
    let week_before_end = at("2026-02-24T00:00:00Z").millis() / 1000;
    assert_eq!(backfills.len(), 2);
    assert_eq!(backfills[0].0, jan_1.to_string());
    assert_eq!(backfills[1].1, week_before_end.to_string());
}

/// Records a provider marks deleted or unscorable are not data: never stored, and removed
/// when they turn so after an earlier sync stored them.
async fn records_the_provider_retracts_are_removed(host: Host) {
    // Oura: the user deleted the night.
    let (h, connection) = connected_on(host, ProviderId::Oura).await;
    sync(&h, &connection).await;
    let before = h.stored(&connection).await;
    assert!(before.contains_key("X#sleep#1d4c3b2a-9f8e-4d7c-8b6a-5f4e3d2c1b0a"));
    assert!(before.contains_key("D#heart_rate_variability#2026-03-02"));
    h.fake
        .override_field("/v2/usercollection/sleep", "type", json!("deleted"));
    let job = sync(&h, &connection).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    let after = h.stored(&connection).await;
    assert!(
        !after.keys().any(|k| k.starts_with("X#sleep#")),
        "the night is gone"
    );
    for metric in [
        "respiratory_rate",
        "heart_rate_variability",
        "resting_heart_rate",
    ] {
        assert!(
            !after.contains_key(&format!("D#{metric}#2026-03-02")),
            "the deleted night's {metric}"
        );
    }
    assert_eq!(job.counts["sleep"].removed, 1);
    // What did not come from that night stays.
    assert!(after.contains_key("D#steps#2026-03-02"));
    // And a repeat removes nothing more.
    let again = sync(&h, &connection).await;
    assert!(
        again
            .counts
            .values()
            .all(|c| c.removed == 0 && c.written == 0),
        "{again:?}"
    );

    // WHOOP: sleeps, workouts, recoveries and cycles WHOOP could not score.
    let (h, connection) = connected_on(host, ProviderId::Whoop).await;
    for path in [
        "/v2/activity/workout",
        "/v2/activity/sleep",
        "/v2/recovery",
        "/v2/cycle",
    ] {
        h.fake
            .override_field(path, "score_state", json!("PENDING_SCORE"));
        h.fake.override_field(path, "score", Value::Null);
    }
    sync(&h, &connection).await;
    let pending = h.stored(&connection).await;
    // Only the weigh-in (and the store's own markers of what the connection holds).
    assert!(
        pending
            .keys()
            .all(|k| k.starts_with("E#weight#") || k.starts_with("V#")),
        "nothing unscored is stored: {:?}",
        pending.keys().collect::<Vec<_>>()
    );
    let (h, connection) = connected_on(host, ProviderId::Whoop).await;
    sync(&h, &connection).await;
    assert!(
        h.stored(&connection)
            .await
            .contains_key("X#workout#b2a1c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d")
    );
    h.fake
        .override_field("/v2/activity/workout", "score_state", json!("UNSCORABLE"));
    h.fake
        .override_field("/v2/activity/workout", "score", Value::Null);
    h.fake
        .override_field("/v2/recovery", "score_state", json!("UNSCORABLE"));
    let job = sync(&h, &connection).await;
    let after = h.stored(&connection).await;
    assert!(!after.keys().any(|k| k.starts_with("X#workout#")));
    assert!(!after.keys().any(|k| k.starts_with("D#resting_heart_rate#")));
    assert!(after.contains_key("X#sleep#ecfc6a15-4661-442f-a9a4-f160dd7afae8"));
    assert_eq!(job.counts["workout"].removed, 1);
    assert_eq!(job.counts["resting_heart_rate"].removed, 2);
}

on_both_hosts!(
    fitbit_through_google_health_rollups_points_sleep_and_exercise,
    polar_exercises_sleep_recharge_activity_and_heart_rate,
    records_the_provider_retracts_are_removed,
);
