//! The sync engine over each host's real adapters (the embedded store and queue, or DynamoDB,
//! KMS and SQS in the AWS emulator) against a local server speaking Withings' data API: what
//! lands where, idempotent re-syncs, and every failure path's end state.

use crate::harness::{Harness, Host, harness_on, on_both_hosts};
use std::collections::BTreeMap;
use std::time::Duration;
use vitasync_domain::connections::{Connection, ConnectionStatus};
use vitasync_domain::health::chunk;
use vitasync_domain::health::{DailySummary, Measurement, Metric, Session, SleepStage};
use vitasync_domain::kernel::queue::{JobQueue, Outgoing, QueueError, Received};
use vitasync_domain::kernel::time::{Clock, Timestamp};
use vitasync_domain::providers::ProviderId;
use vitasync_domain::sync::jobs::{JobStatus, SyncJob};
use vitasync_domain::sync::{DueSyncs, SyncRequest};
use vitasync_tests::fake_provider::DataFailure;

const BERLIN_WINTER: i32 = 3600;

on_both_hosts!(
    withings_fields_land_in_their_metrics,
    resyncing_writes_nothing_but_what_changed,
    a_trigger_while_a_job_is_queued_returns_that_job,
    the_first_sync_backfills_and_later_ones_overlap_the_last,
    an_expired_token_is_refreshed_and_the_call_retried_once,
    a_refused_refresh_fails_the_job_and_puts_the_connection_in_error,
    revoked_access_disconnects,
    throttling_is_a_delayed_message,
    outages_back_off_and_end_in_a_failed_job,
    a_message_delivered_twice_runs_once_with_one_refresh,
    the_scheduler_queues_connections_not_synced_lately,
    asking_for_some_data_types_fetches_and_stores_only_those,
    a_job_whose_message_was_lost_does_not_block_the_connection,
    a_spent_call_budget_delays_the_job_until_the_window_ends,
    a_job_started_while_the_queue_is_down_runs_once_it_is_back,
);

fn at(raw: &str) -> Timestamp {
    Timestamp::parse(raw).unwrap()
}

/// The window the Withings samples fall in (2 March 2026, Europe/Berlin).
fn march_window() -> SyncRequest {
    SyncRequest {
        from: Some(at("2026-03-01T00:00:00Z")),
        to: Some(at("2026-03-03T00:00:00Z")),
        data_types: Vec::new(),
    }
}

async fn withings(host: Host) -> (Harness, Connection) {
    let h = harness_on(host, ProviderId::Withings).await;
    let connection = h.connect().await;
    // Connecting queued the account's webhook subscription: done, and out of the record.
    h.work_queue().await;
    h.queue.forget();
    (h, connection)
}

impl Harness {
    /// The user's jobs, newest first.
    async fn jobs(&self) -> vitasync_domain::kernel::page::Page<SyncJob> {
        self.services
            .sync_jobs
            .list_jobs(
                &self.caller,
                &self.user,
                &vitasync_domain::kernel::page::PageRequest {
                    limit: 10,
                    after: None,
                },
            )
            .await
            .unwrap()
    }

    /// A sync request, its job message relayed to the queue.
    async fn trigger(&self, connection: &Connection, request: SyncRequest) -> SyncJob {
        let job = self
            .services
            .sync_jobs
            .trigger_sync(&self.caller, &self.user, connection.id.as_str(), request)
            .await
            .unwrap();
        self.relay().await;
        job
    }

    /// Delivers the last message sent, as the queue would once its delay is over.
    async fn deliver_delayed(&self) -> Duration {
        self.relay().await;
        let last = self.queue.sent().pop().expect("a message was sent");
        self.clock.advance(last.delay.as_secs() as i64);
        self.services
            .worker
            .process_message(&last.body)
            .await
            .unwrap();
        last.delay
    }

    async fn job(&self, job: &SyncJob) -> SyncJob {
        self.services
            .sync_jobs
            .get_job(&self.caller, job.id.as_str())
            .await
            .unwrap()
    }
}

fn decode<T: serde::de::DeserializeOwned>(stored: &BTreeMap<String, Vec<u8>>, key: &str) -> T {
    let bytes = stored
        .get(key)
        .unwrap_or_else(|| panic!("{key} is not stored; have {:?}", stored.keys()));
    serde_json::from_slice(bytes).unwrap()
}

fn measurements(stored: &BTreeMap<String, Vec<u8>>, metric: Metric) -> Vec<Measurement> {
    stored
        .iter()
        .filter(|(key, _)| key.starts_with(&format!("E#{metric}#")))
        .map(|(_, bytes)| serde_json::from_slice(bytes).unwrap())
        .collect()
}

fn counts(job: &SyncJob, name: &str) -> (u64, u64, u64) {
    let tally = job.counts.get(name).copied().unwrap_or_default();
    (tally.fetched, tally.written, tally.unchanged)
}

async fn withings_fields_land_in_their_metrics(host: Host) {
    let (h, connection) = withings(host).await;
    let job = h.sync_over(&connection, march_window()).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    assert_eq!(job.attempts, 1);
    assert_eq!(job.window_from, Some(at("2026-03-01T00:00:00Z")));
    let stored = h.stored(&connection).await;

    // getmeas: value × 10^unit, at the weigh-in's instant, on its Berlin date.
    let [weight] = measurements(&stored, Metric::Weight).try_into().unwrap();
    assert_eq!(weight.value, 72.35);
    assert_eq!(weight.at_ms, 1_772_432_700_000);
    assert_eq!(
        (weight.utc_offset_seconds, weight.date.as_str()),
        (BERLIN_WINTER, "2026-03-02")
    );
    assert_eq!(weight.origin.record_id, "5123456789-1");
    assert_eq!(weight.origin.source.as_deref(), Some("Body Cardio"));
    let [fat] = measurements(&stored, Metric::BodyFat).try_into().unwrap();
    assert_eq!(fat.value, 18.7);
    let [pressure] = measurements(&stored, Metric::BloodPressure)
        .try_into()
        .unwrap();
    assert_eq!((pressure.value, pressure.secondary), (128.0, Some(82.0)));
    assert_eq!(pressure.at_ms, 1_772_478_000_000);
    assert_eq!(pressure.date, "2026-03-02", "20:00 in Berlin");
    let [spo2] = measurements(&stored, Metric::BloodOxygen)
        .try_into()
        .unwrap();
    assert_eq!(spo2.value, 97.0);
    let [temperature] = measurements(&stored, Metric::Temperature)
        .try_into()
        .unwrap();
    assert_eq!(temperature.value, 36.65);
    let [pulse] = measurements(&stored, Metric::HeartRate).try_into().unwrap();
    assert_eq!(pulse.value, 64.0);

    // getactivity: the local day's totals, as the source has them.
    let day =
        |metric: Metric| -> DailySummary { decode(&stored, &format!("D#{metric}#2026-03-02")) };
    assert_eq!(day(Metric::Steps).value, 12874.0);
    assert_eq!(day(Metric::Steps).utc_offset_seconds, BERLIN_WINTER);
    assert_eq!(day(Metric::Distance).value, 9410.2);
    assert_eq!(day(Metric::Floors).value, 7.0);
    assert_eq!(day(Metric::ActiveCalories).value, 1104.2);
    assert_eq!(day(Metric::TotalCalories).value, 2611.8);
    assert_eq!(day(Metric::ActiveMinutes).value, 59.0, "(1080 + 2460) s");
    // sleep getsummary: the night's breathing and HRV on its wake-up day.
    assert_eq!(day(Metric::RespiratoryRate).value, 15.0);
    assert_eq!(day(Metric::HeartRateVariability).value, 42.5);

    let sleep: Session = decode(&stored, "X#sleep#2081804123");
    assert_eq!(
        (sleep.start_ms, sleep.end_ms),
        (1_772_403_810_000, 1_772_431_290_000)
    );
    assert_eq!(sleep.date, "2026-03-02");
    assert_eq!(sleep.duration_seconds, Some(24060.0));
    let stages = sleep.stage_seconds.unwrap();
    assert_eq!(
        (stages.light, stages.deep, stages.rem, stages.awake),
        (13860.0, 4680.0, 5520.0, 3420.0)
    );
    assert_eq!(sleep.score, Some(82.0));
    assert_eq!(sleep.heart_rate_avg, Some(56.0));
    // sleep get: the night's hypnogram, as Withings scores its states.
    let hypnogram: Vec<(SleepStage, i64)> = sleep
        .stages
        .iter()
        .map(|s| (s.stage, (s.start_ms - sleep.start_ms) / 60_000))
        .collect();
    assert_eq!(hypnogram.len(), 12);
    assert_eq!(hypnogram[0], (SleepStage::Awake, 0));
    assert_eq!(hypnogram[2], (SleepStage::Deep, 50));
    assert_eq!(hypnogram[4], (SleepStage::Rem, 150));
    assert_eq!(sleep.stages.last().unwrap().end_ms, sleep.end_ms);
    let asked = h.fake.requests_to("/v2/sleep");
    assert!(
        asked
            .iter()
            .any(|call| call.params.get("action").map(String::as_str) == Some("get"))
    );

    let run: Session = decode(&stored, "X#workout#3316728841");
    assert_eq!(run.sport.as_deref(), Some("running"));
    assert_eq!(run.duration_seconds, Some(2700.0));
    assert_eq!(run.distance_m, Some(8120.5));
    assert_eq!(run.energy_kcal, Some(512.4));
    assert_eq!(
        (run.heart_rate_avg, run.heart_rate_max),
        (Some(146.0), Some(171.0))
    );
    assert_eq!(
        (run.utc_offset_seconds, run.date.as_str()),
        (BERLIN_WINTER, "2026-03-02")
    );

    // getintradayactivity: heart rate samples in the day's chunk.
    let hour = chunk::decode(&stored["S#heart_rate#2026-03-02T16"]).unwrap();
    assert_eq!(hour.utc_offset_seconds, BERLIN_WINTER);
    let values: Vec<(i64, f64)> = chunk::values(&hour.points).collect();
    assert_eq!(values.len(), 6);
    assert_eq!(values[0], (1_772_469_000_000, 92.0));
    assert_eq!(values[4], (1_772_469_240_000, 152.0));

    assert_eq!(counts(&job, "steps"), (1, 1, 0));
    assert_eq!(
        counts(&job, "heart_rate"),
        (7, 7, 0),
        "6 samples and a pulse"
    );
    assert_eq!(counts(&job, "sleep"), (1, 1, 0));
    assert_eq!(counts(&job, "workout"), (1, 1, 0));
    // Two days of intraday data: one call per 24 hours, as Withings answers no more.
    let intraday = h
        .fake
        .data_calls()
        .into_iter()
        .filter(|call| call.params["action"] == "getintradayactivity")
        .count();
    assert_eq!(intraday, 2);

    // A historical window says nothing of recent data: the next default sync still backfills.
    assert_eq!(h.reread(&connection).await.last_synced_at, None);
}

async fn resyncing_writes_nothing_but_what_changed(host: Host) {
    let (h, connection) = withings(host).await;
    h.sync_over(&connection, march_window()).await;
    let first = h.stored(&connection).await;

    let again = h.sync_over(&connection, march_window()).await;
    assert_eq!(again.status, JobStatus::Succeeded);
    assert!(again.counts.values().all(|c| c.written == 0), "{again:?}");
    assert_eq!(counts(&again, "heart_rate"), (7, 0, 7));
    assert_eq!(h.stored(&connection).await, first, "byte for byte the same");

    // The day went on: its step total grew, and only that record changes.
    h.fake.set_daily_steps(14_210.0);
    let later = h.sync_over(&connection, march_window()).await;
    assert_eq!(counts(&later, "steps"), (1, 1, 0));
    assert_eq!(counts(&later, "distance"), (1, 0, 1));
    let now = h.stored(&connection).await;
    let steps: DailySummary = decode(&now, "D#steps#2026-03-02");
    assert_eq!(steps.value, 14_210.0);
    let changed: Vec<&String> = now.keys().filter(|key| now[*key] != first[*key]).collect();
    assert_eq!(changed, ["D#steps#2026-03-02"]);
}

async fn a_trigger_while_a_job_is_queued_returns_that_job(host: Host) {
    let (h, connection) = withings(host).await;
    let first = h.trigger(&connection, march_window()).await;
    let second = h.trigger(&connection, SyncRequest::default()).await;
    assert_eq!(second.id, first.id);
    assert_eq!(h.queue.sent().len(), 1, "one message, not a pile");
    assert_eq!(h.work_queue().await, 1);
    let third = h.trigger(&connection, march_window()).await;
    assert_ne!(third.id, first.id, "a finished job frees the connection");
}

async fn the_first_sync_backfills_and_later_ones_overlap_the_last(host: Host) {
    let (h, connection) = withings(host).await;
    let now = h.clock.now();
    let first = h.sync_over(&connection, SyncRequest::default()).await;
    assert_eq!(first.status, JobStatus::Succeeded);
    assert_eq!(first.window_from, Some(now.plus_seconds(-30 * 86_400)));
    assert_eq!(first.window_to, Some(now));
    assert_eq!(h.reread(&connection).await.last_synced_at, Some(now));

    h.clock.advance(6 * 3600);
    let second = h.sync_over(&connection, SyncRequest::default()).await;
    assert_eq!(
        second.window_from,
        Some(now.plus_seconds(-2 * 86_400)),
        "two days of overlap for late revisions"
    );
    assert_eq!(
        h.reread(&connection).await.last_synced_at,
        Some(now.plus_seconds(6 * 3600))
    );
}

async fn an_expired_token_is_refreshed_and_the_call_retried_once(host: Host) {
    let (h, connection) = withings(host).await;
    h.fake.fail_data_calls([DataFailure::WithingsStatus(401)]);
    let job = h.sync_over(&connection, march_window()).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    assert_eq!(h.fake.refresh_calls(), 1);
    assert_eq!(counts(&job, "steps"), (1, 1, 0));
}

async fn a_refused_refresh_fails_the_job_and_puts_the_connection_in_error(host: Host) {
    let (h, connection) = withings(host).await;
    h.fake.fail_data_calls([DataFailure::WithingsStatus(401)]);
    h.fake.refuse_refresh();
    let job = h.sync_over(&connection, march_window()).await;
    assert_eq!(job.status, JobStatus::Failed);
    assert_eq!(job.error.unwrap().code, "token_refresh_failed");
    assert!(job.finished_at.is_some());
    let connection = h.reread(&connection).await;
    assert_eq!(connection.status, ConnectionStatus::Error);
    assert_eq!(
        connection.status_reason.as_deref(),
        Some("token_refresh_failed")
    );
    assert!(h.stored(&connection).await.is_empty());
}

async fn revoked_access_disconnects(host: Host) {
    let (h, connection) = withings(host).await;
    h.fake.reject_all_access();
    let job = h.sync_over(&connection, march_window()).await;
    assert_eq!(job.status, JobStatus::Failed);
    assert_eq!(job.error.unwrap().code, "provider_revoked");
    assert_eq!(
        h.fake.refresh_calls(),
        1,
        "one refresh, then it is believed"
    );
    let connection = h.reread(&connection).await;
    assert_eq!(connection.status, ConnectionStatus::Disconnected);
    assert_eq!(
        connection.status_reason.as_deref(),
        Some("revoked_at_provider")
    );
    let tokens = h
        .ports
        .connections
        .get_tokens(
            &connection.workspace_id,
            &connection.user_id,
            &connection.id,
        )
        .await
        .unwrap();
    assert!(tokens.is_none(), "a revoked connection keeps no tokens");
}

async fn throttling_is_a_delayed_message(host: Host) {
    let (h, connection) = withings(host).await;
    // Withings' own dialect first (status 601 in an HTTP 200), then a plain 429.
    h.fake.fail_data_calls([
        DataFailure::WithingsStatus(601),
        DataFailure::Http(429, Some(120)),
    ]);
    let job = h.sync_over(&connection, march_window()).await;
    let waiting = h.job(&job).await;
    assert_eq!(waiting.status, JobStatus::Queued, "{waiting:?}");
    assert_eq!(waiting.attempts, 1);
    assert!(h.stored(&connection).await.is_empty());
    assert_eq!(h.deliver_delayed().await, Duration::from_secs(60));
    assert_eq!(h.deliver_delayed().await, Duration::from_secs(120));
    let done = h.job(&job).await;
    assert_eq!(done.status, JobStatus::Succeeded, "{done:?}");
    assert_eq!(done.attempts, 3);
    assert_eq!(counts(&done, "steps"), (1, 1, 0));
}

async fn outages_back_off_and_end_in_a_failed_job(host: Host) {
    let (h, connection) = withings(host).await;
    h.fake
        .fail_data_calls(std::iter::repeat_n(DataFailure::Http(503, None), 20));
    let job = h.sync_over(&connection, march_window()).await;
    let mut delays = Vec::new();
    while h.job(&job).await.status == JobStatus::Queued {
        delays.push(h.deliver_delayed().await);
    }
    let failed = h.job(&job).await;
    assert_eq!(failed.status, JobStatus::Failed);
    assert_eq!(failed.error.unwrap().code, "provider_unavailable");
    assert_eq!(failed.attempts, 6);
    assert_eq!(delays.len(), 5);
    assert!(
        delays.windows(2).all(|pair| pair[0] < pair[1]),
        "{delays:?}"
    );
    assert!(
        delays
            .iter()
            .all(|delay| *delay <= Duration::from_secs(900))
    );
    assert_eq!(
        h.reread(&connection).await.status,
        ConnectionStatus::Active,
        "an outage is not the user's fault"
    );
}

async fn a_message_delivered_twice_runs_once_with_one_refresh(host: Host) {
    let (h, connection) = withings(host).await;
    let job = h.trigger(&connection, march_window()).await;
    // The access token has expired: both deliveries would need a refresh.
    h.clock.advance(4 * 3600);
    h.fake.slow_refresh(Duration::from_millis(200));
    let body = h.queue.sent()[0].body.clone();
    let (a, b) = tokio::join!(
        h.services.worker.process_message(&body),
        h.services.worker.process_message(&body)
    );
    a.unwrap();
    b.unwrap();
    let done = h.job(&job).await;
    assert_eq!(done.status, JobStatus::Succeeded);
    assert_eq!(done.attempts, 1);
    assert_eq!(h.fake.refresh_calls(), 1);
}

async fn the_scheduler_queues_connections_not_synced_lately(host: Host) {
    let (h, connection) = withings(host).await;
    let round = h.services.scheduler.queue_due_syncs().await.unwrap();
    assert_eq!(
        round,
        DueSyncs {
            due: 1,
            queued: 1,
            failed: 0
        },
        "never synced"
    );
    let again = h.services.scheduler.queue_due_syncs().await.unwrap();
    assert_eq!(
        again,
        DueSyncs {
            due: 1,
            queued: 0,
            failed: 0
        },
        "its job is still queued"
    );
    assert_eq!(h.work_queue().await, 1);
    let synced_at = h.clock.now();
    assert_eq!(h.reread(&connection).await.last_synced_at, Some(synced_at));
    assert_eq!(
        h.services.scheduler.queue_due_syncs().await.unwrap(),
        DueSyncs::default()
    );

    // Six hours on (the default poll interval), it is due again.
    h.clock.advance(6 * 3600 - 60);
    assert_eq!(
        h.services.scheduler.queue_due_syncs().await.unwrap(),
        DueSyncs::default()
    );
    h.clock.advance(120);
    let later = h.services.scheduler.queue_due_syncs().await.unwrap();
    assert_eq!(
        later,
        DueSyncs {
            due: 1,
            queued: 1,
            failed: 0
        }
    );
    assert_eq!(h.work_queue().await, 1);
    let jobs = h.jobs().await;
    assert_eq!(jobs.items.len(), 2);
    assert_eq!(
        jobs.items[0].window_from,
        Some(synced_at.plus_seconds(-2 * 86_400)),
        "the polled sync overlaps the last one"
    );
}

async fn asking_for_some_data_types_fetches_and_stores_only_those(host: Host) {
    let (h, connection) = withings(host).await;
    let job = h
        .sync_over(
            &connection,
            SyncRequest {
                data_types: vec!["steps".into(), "sleep".into()],
                ..march_window()
            },
        )
        .await;
    assert_eq!(job.status, JobStatus::Succeeded);
    let actions: Vec<String> = h
        .fake
        .data_calls()
        .into_iter()
        .map(|call| call.params["action"].clone())
        .collect();
    // Steps from the activity, the night from its summary and its hypnogram.
    assert_eq!(actions, ["getactivity", "getsummary", "get"]);
    let stored = h.stored(&connection).await;
    let keys: Vec<&str> = stored.keys().map(String::as_str).collect();
    assert_eq!(keys, ["D#steps#2026-03-02", "X#sleep#2081804123"]);
}

async fn a_job_whose_message_was_lost_does_not_block_the_connection(host: Host) {
    let (h, connection) = withings(host).await;
    let lost = h.trigger(&connection, march_window()).await;
    // Its message never arrives (say it went to the dead-letter queue during an outage).
    h.clock.advance(2 * 3600);
    assert_eq!(h.trigger(&connection, march_window()).await.id, lost.id);
    h.clock.advance(2 * 3600);
    let fresh = h.trigger(&connection, march_window()).await;
    assert_ne!(fresh.id, lost.id);
    let ended = h.job(&lost).await;
    assert_eq!(ended.status, JobStatus::Failed);
    assert_eq!(ended.error.unwrap().code, "abandoned");
    // The lost message turning up late runs nothing; the fresh job runs.
    h.services
        .worker
        .process_message(&h.queue.sent()[0].body)
        .await
        .unwrap();
    assert_eq!(h.job(&lost).await.status, JobStatus::Failed);
    h.work_queue().await;
    assert_eq!(h.job(&fresh).await.status, JobStatus::Succeeded);
}

async fn a_spent_call_budget_delays_the_job_until_the_window_ends(host: Host) {
    let (mut h, connection) = withings(host).await;
    // A two-day Withings sync makes 7 calls; this app may make 8 a minute, across workers.
    let mut settings = vitasync_domain::sync::SyncSettings::default();
    settings.call_limits.insert(
        ProviderId::Withings,
        (
            vec![vitasync_domain::providers::rate_budget::Window {
                seconds: 60,
                calls: 8,
            }],
            false,
        ),
    );
    h.services = h.rewired(settings, h.queue.clone());
    let first = h.sync_over(&connection, march_window()).await;
    assert_eq!(first.status, JobStatus::Succeeded);
    let second = h.sync_over(&connection, march_window()).await;
    let waiting = h.job(&second).await;
    assert_eq!(waiting.status, JobStatus::Queued, "{waiting:?}");
    assert_eq!(h.fake.data_calls().len(), 8, "no call beyond the budget");
    assert_eq!(h.deliver_delayed().await, Duration::from_secs(60));
    let done = h.job(&second).await;
    assert_eq!(done.status, JobStatus::Succeeded);
    assert_eq!(done.attempts, 2);
    assert_eq!(h.fake.data_calls().len(), 15);
}

/// A job queue that is down.
struct DownQueue;

#[async_trait::async_trait]
impl JobQueue for DownQueue {
    async fn send(&self, _: Outgoing) -> Result<(), QueueError> {
        Err(QueueError::Unavailable("down".into()))
    }
    async fn send_batch(&self, _: Vec<Outgoing>) -> Result<(), QueueError> {
        Err(QueueError::Unavailable("down".into()))
    }
    async fn receive(&self, _: usize, _: Duration) -> Result<Vec<Received>, QueueError> {
        Err(QueueError::Unavailable("down".into()))
    }
    async fn delete(&self, _: &str) -> Result<(), QueueError> {
        Err(QueueError::Unavailable("down".into()))
    }
    async fn retry_after(&self, _: &str, _: Duration) -> Result<(), QueueError> {
        Err(QueueError::Unavailable("down".into()))
    }
    async fn dead_letters(&self, _: usize, _: Duration) -> Result<Vec<Received>, QueueError> {
        Err(QueueError::Unavailable("down".into()))
    }
}

async fn a_job_started_while_the_queue_is_down_runs_once_it_is_back(host: Host) {
    let (h, connection) = withings(host).await;
    let down = h.rewired(
        vitasync_domain::sync::SyncSettings::default(),
        std::sync::Arc::new(DownQueue),
    );
    // The job and its message commit together; the queue is not needed yet.
    let round = down.scheduler.queue_due_syncs().await.unwrap();
    assert_eq!(
        round,
        DueSyncs {
            due: 1,
            queued: 1,
            failed: 0
        }
    );
    // The relay cannot reach the queue: the message stays in the outbox.
    let relayed = down.relay.drain().await.unwrap();
    assert_eq!((relayed.relayed, relayed.failed), (0, 1));
    // Meanwhile the job holds the connection: the next round starts nothing new.
    let round = h.services.scheduler.queue_due_syncs().await.unwrap();
    assert_eq!(round.queued, 0);
    // The queue is back: the message goes out and the job runs, once.
    assert_eq!(h.work_queue().await, 1);
    assert_eq!(h.work_queue().await, 0);
    let jobs = h.jobs().await;
    assert_eq!(jobs.items.len(), 1);
    assert_eq!(jobs.items[0].status, JobStatus::Succeeded);
    assert_eq!(jobs.items[0].connection_id, connection.id);
}
