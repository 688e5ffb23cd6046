//! Wahoo through the sync engine and its webhook, against a local server answering the Cloud
//! API from the documented samples: workouts field by field (decimal strings and plain
//! numbers, sensors the rider did not have, each zone's offset at the start), pages newest
//! first, PKCE, single-use refresh tokens refreshed once however many callers race,
//! revocation on disconnect, and the webhook's token, retries and updates.

use crate::harness::{Harness, Host, at, harness_on, harness_with, ms, on_both_hosts};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::time::Duration;
use vitasync_domain::connections::ConnectionStatus;
use vitasync_domain::connections::tokens::REFRESH_FAILED;
use vitasync_domain::health::{DataType, Session, SessionKind};
use vitasync_domain::inbound::push::{PushMethod, PushReply, PushRequest};
use vitasync_domain::providers::ProviderId;
use vitasync_domain::sync::SyncRequest;
use vitasync_domain::sync::jobs::{JobMessage, JobStatus, SyncJob};
use vitasync_tests::fake_provider::{CLIENT_ID, CLIENT_SECRET, DataFailure, WAHOO_TOKEN_CAP};

/// The Wahoo user of the samples.
const ACCOUNT: &str = "123456";
/// The webhook token in the sample delivery, configured here as the app's.
const WEBHOOK_TOKEN: &str = "4f0c2e9a-6b7d-4c1e-9a3f-2d8b5e7c1a06";
/// Wahoo's access tokens live two hours.
const TOKEN_SECONDS: i64 = 7200;

fn window(from: &str, to: &str) -> SyncRequest {
    SyncRequest {
        from: Some(at(from)),
        to: Some(at(to)),
        data_types: Vec::new(),
    }
}

fn early_march() -> SyncRequest {
    window("2026-03-01T00:00:00Z", "2026-03-03T00:00:00Z")
}

fn fixture(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/providers/wahoo")
        .join(name);
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn keys(stored: &BTreeMap<String, Vec<u8>>) -> Vec<&str> {
    stored.keys().map(String::as_str).collect()
}

fn workout(stored: &BTreeMap<String, Vec<u8>>, id: &str) -> Session {
    let key = format!("X#workout#{id}");
    let bytes = stored
        .get(&key)
        .unwrap_or_else(|| panic!("{key}: {:?}", stored.keys()));
    serde_json::from_slice(bytes).unwrap()
}

fn counts(job: &SyncJob, name: &str) -> (u64, u64, u64) {
    let tally = job.counts.get(name).copied().unwrap_or_default();
    (tally.fetched, tally.written, tally.unchanged)
}

/// The pages of `/v1/workouts` asked for, with their sizes.
fn workout_pages(h: &Harness) -> Vec<(String, String)> {
    h.fake
        .data_calls()
        .into_iter()
        .filter(|call| call.path == "/v1/workouts")
        .map(|call| (call.params["page"].clone(), call.params["per_page"].clone()))
        .collect()
}

/// The samples' early-March workouts land field by field; a day of Berlin's clock change
/// keeps each ride's own offset; a re-sync writes nothing.
async fn wahoo_workouts_land_field_by_field(host: Host) {
    let h = harness_on(host, ProviderId::Wahoo).await;
    let connection = h.connect().await;
    assert_eq!(connection.provider_user_id, ACCOUNT);
    let job = h.sync_over(&connection, early_march()).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    // The zone of the user's newest workout is theirs as far as Wahoo tells, whatever the
    // window.
    assert_eq!(
        h.reread(&connection).await.time_zone.as_deref(),
        Some("Europe/Berlin")
    );
    let stored = h.stored(&connection).await;
    assert_eq!(
        keys(&stored),
        [
            "X#workout#99887766",
            "X#workout#99887801",
            "X#workout#99887820",
            "X#workout#99887850",
        ],
        "the window's workouts: not the planned one, nothing from before or after"
    );
    assert_eq!(counts(&job, "workout"), (4, 4, 0));

    // Numbers as decimal strings; Berlin's winter offset at the start.
    let ride = workout(&stored, "99887766");
    assert_eq!(
        (ride.start_ms, ride.end_ms),
        (ms("2026-03-01T09:15:00Z"), ms("2026-03-01T10:50:02Z"))
    );
    assert_eq!(
        (ride.date.as_str(), ride.utc_offset_seconds),
        ("2026-03-01", 3600)
    );
    assert_eq!(
        (ride.sport.as_deref(), ride.provider_sport.as_deref()),
        (Some("cycling"), Some("BIKING"))
    );
    assert_eq!(ride.duration_seconds, Some(5702.0));
    assert_eq!(ride.distance_m, Some(48210.7));
    assert_eq!(
        ride.energy_kcal,
        Some(1021.0),
        "calories_accum, not work_accum's joules of pedalling"
    );
    assert_eq!(ride.heart_rate_avg, Some(141.0));
    assert_eq!(
        (ride.power_avg, ride.power_normalized),
        (Some(201.5), Some(219.0))
    );
    assert_eq!(ride.training_stress_score, Some(92.4));
    assert_eq!((ride.cadence_avg, ride.ascent_m), (Some(86.0), Some(412.0)));
    assert_eq!(
        (ride.origin.provider, ride.origin.record_id.as_str()),
        (ProviderId::Wahoo, "99887766")
    );

    // Plain JSON numbers too; no power meter or footpod; Kathmandu's +05:45, where a start
    // at 23:45 UTC is already the next morning.
    let run = workout(&stored, "99887801");
    assert_eq!(
        (run.start_ms, run.end_ms),
        (ms("2026-03-01T23:45:00Z"), ms("2026-03-02T00:42:01Z"))
    );
    assert_eq!(
        (run.date.as_str(), run.utc_offset_seconds),
        ("2026-03-02", 20_700)
    );
    assert_eq!(
        (run.sport.as_deref(), run.provider_sport.as_deref()),
        (Some("running"), Some("RUNNING"))
    );
    assert_eq!(run.duration_seconds, Some(3421.0));
    assert_eq!(
        (run.distance_m, run.energy_kcal, run.heart_rate_avg),
        (Some(10012.4), Some(640.0), Some(152.0))
    );
    assert_eq!(
        (
            run.power_avg,
            run.power_normalized,
            run.training_stress_score,
            run.cadence_avg
        ),
        (None, None, None, None),
        "sensors the runner did not have are not zeros"
    );
    assert_eq!(run.ascent_m, Some(38.0));

    // On the trainer: the mean under its bike-power name; Newfoundland's −03:30.
    let trainer = workout(&stored, "99887820");
    assert_eq!(
        (trainer.start_ms, trainer.end_ms),
        (ms("2026-03-02T17:00:00Z"), ms("2026-03-02T18:00:00Z"))
    );
    assert_eq!(
        (trainer.date.as_str(), trainer.utc_offset_seconds),
        ("2026-03-02", -12_600)
    );
    assert_eq!(
        (trainer.sport.as_deref(), trainer.provider_sport.as_deref()),
        (Some("cycling"), Some("BIKING_INDOOR_TRAINER"))
    );
    assert_eq!(trainer.duration_seconds, Some(3600.0));
    assert_eq!(
        (
            trainer.power_avg,
            trainer.power_normalized,
            trainer.training_stress_score
        ),
        (Some(176.0), Some(183.0), Some(61.2))
    );
    assert_eq!(
        (
            trainer.cadence_avg,
            trainer.heart_rate_avg,
            trainer.ascent_m
        ),
        (Some(91.0), Some(133.0), Some(0.0))
    );
    assert_eq!(
        (trainer.distance_m, trainer.energy_kcal),
        (Some(30120.0), Some(655.0))
    );

    // Entered by hand: no zone of its own (the user's, from their newest workout, stands in),
    // no total duration (its minutes give it), no sensors.
    let manual = workout(&stored, "99887850");
    assert_eq!(
        (manual.start_ms, manual.end_ms),
        (ms("2026-03-02T12:00:00Z"), ms("2026-03-02T12:40:00Z"))
    );
    assert_eq!(
        (manual.date.as_str(), manual.utc_offset_seconds),
        ("2026-03-02", 3600)
    );
    assert_eq!(manual.duration_seconds, Some(2400.0));
    assert_eq!(
        (manual.distance_m, manual.energy_kcal),
        (Some(6500.0), Some(420.0))
    );
    assert_eq!(
        (manual.heart_rate_avg, manual.power_avg, manual.ascent_m),
        (None, None, None)
    );

    // Newest first, 100 a page (Wahoo's most): early March is on page two, where the list
    // reaches February and paging stops.
    let page = |number: &str| (number.to_owned(), "100".to_owned());
    assert_eq!(workout_pages(&h), [page("1"), page("2")]);

    // Everything delivered again replaces itself: nothing new, nothing doubled.
    let again = h.sync_over(&connection, early_march()).await;
    assert_eq!(again.status, JobStatus::Succeeded, "{again:?}");
    assert_eq!(counts(&again, "workout"), (4, 0, 4));
    let replaced = h.stored(&connection).await;
    assert_eq!(replaced, stored);

    // Berlin springs forward at 01:00 UTC on 29 March: the night ride began before the change
    // (+01:00), the club ride after it (+02:00); both are the 29th's.
    let spring = h
        .sync_over(
            &connection,
            window("2026-03-29T00:00:00Z", "2026-03-30T00:00:00Z"),
        )
        .await;
    assert_eq!(spring.status, JobStatus::Succeeded, "{spring:?}");
    assert_eq!(counts(&spring, "workout"), (2, 2, 0));
    let stored = h.stored(&connection).await;
    let night = workout(&stored, "99889101");
    assert_eq!(
        (
            night.start_ms,
            night.date.as_str(),
            night.utc_offset_seconds
        ),
        (ms("2026-03-29T00:30:00Z"), "2026-03-29", 3600)
    );
    assert_eq!(night.end_ms, ms("2026-03-29T01:22:00Z"));
    let club = workout(&stored, "99889102");
    assert_eq!(
        (club.start_ms, club.date.as_str(), club.utc_offset_seconds),
        (ms("2026-03-29T07:30:00Z"), "2026-03-29", 7200)
    );
    assert_eq!(club.end_ms, ms("2026-03-29T09:38:12Z"));
    assert_eq!(
        (club.sport.as_deref(), club.provider_sport.as_deref()),
        (Some("cycling"), Some("BIKING_ROAD"))
    );
    assert_eq!(
        (club.power_avg, club.training_stress_score),
        (Some(188.0), Some(141.7))
    );
}

#[tokio::test]
async fn wahoo_workouts_the_user_did_not_grant_are_skipped() {
    let h = harness_on(Host::Embedded, ProviderId::Wahoo).await;
    let connection = h.connect().await;
    h.fake.forbid("/v1/workouts");
    let job = h.sync_over(&connection, early_march()).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    assert!(job.counts["workout"].skipped);
    assert!(h.stored(&connection).await.is_empty());
}

/// Over its quota (per app: 5 minutes, an hour, a day) Wahoo answers 429: the job waits as
/// long as it is told.
#[tokio::test]
async fn wahoo_throttling_waits_as_long_as_told() {
    let h = harness_on(Host::Embedded, ProviderId::Wahoo).await;
    let connection = h.connect().await;
    h.fake.fail_data_calls([DataFailure::Http(429, Some(300))]);
    let job = h.sync_over(&connection, early_march()).await;
    assert_eq!(job.status, JobStatus::Queued, "{job:?}");
    let retry = h.queue.sent().pop().unwrap();
    assert_eq!(retry.delay, Duration::from_secs(300));
}

#[tokio::test]
async fn wahoo_consent_uses_pkce_and_client_credentials_as_parameters() {
    let h = harness_on(Host::Embedded, ProviderId::Wahoo).await;
    h.connect().await;
    let consent = h.fake.requests_to("/authorize").remove(0);
    assert_eq!(consent.params["code_challenge_method"], "S256");
    assert_eq!(
        consent.params["scope"],
        "user_read workouts_read offline_data"
    );
    let exchange = h
        .fake
        .requests_to("/token")
        .into_iter()
        .find(|call| {
            call.params.get("grant_type").map(String::as_str) == Some("authorization_code")
        })
        .unwrap();
    // The verifier sent with the code is the one the challenge was made from.
    let verifier = &exchange.params["code_verifier"];
    assert_eq!(
        URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())),
        consent.params["code_challenge"]
    );
    assert_eq!(exchange.params["client_id"], CLIENT_ID);
    assert_eq!(exchange.params["client_secret"], CLIENT_SECRET);
    assert_eq!(exchange.authorization, None);
}

#[tokio::test]
async fn wahoo_refresh_tokens_are_single_use_and_a_bare_400_means_connect_again() {
    let h = harness_on(Host::Embedded, ProviderId::Wahoo).await;
    let connection = h.connect().await;
    // Issued so far: the first access token, then its refresh token.
    let first_refresh = h.fake.issued_tokens()[1].clone();

    h.clock.advance(TOKEN_SECONDS + 60);
    let job = h.sync_over(&connection, early_march()).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    assert_eq!(h.fake.refresh_calls(), 1);
    let issued = h.fake.issued_tokens();
    assert_eq!(
        issued.len(),
        4,
        "a new access token and a new refresh token"
    );
    let bearer = format!("Bearer {}", issued[2]);
    assert!(
        h.fake
            .data_calls()
            .iter()
            .all(|call| call.authorization.as_deref() == Some(bearer.as_str())),
        "the sync used the new access token"
    );

    // The spent refresh token is refused, with Wahoo's bare 400.
    let spent = vitasync_tests::plain_client()
        .post(format!("{}/token", h.fake.base))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", first_refresh.as_str()),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(spent.status().as_u16(), 400);
    assert!(spent.bytes().await.unwrap().is_empty());

    // The new pair was kept: the next refresh spends the new refresh token, and works.
    let refreshes = h.fake.refresh_calls();
    h.clock.advance(TOKEN_SECONDS + 60);
    let later = h.sync_over(&connection, early_march()).await;
    assert_eq!(later.status, JobStatus::Succeeded, "{later:?}");
    assert_eq!(h.fake.refresh_calls(), refreshes + 1);
    assert_eq!(h.reread(&connection).await.status, ConnectionStatus::Active);

    // A bare 400 to a refresh (a spent or raced token) cannot be retried: connect again.
    h.clock.advance(TOKEN_SECONDS + 60);
    h.fake.refuse_refresh();
    let refused = h.sync_over(&connection, early_march()).await;
    assert_eq!(refused.status, JobStatus::Failed);
    assert_eq!(
        refused.error.map(|error| error.code).as_deref(),
        Some("token_refresh_failed")
    );
    let failed = h.reread(&connection).await;
    assert_eq!(failed.status, ConnectionStatus::Error);
    assert_eq!(failed.status_reason.as_deref(), Some(REFRESH_FAILED));
}

/// A sync and another caller both find the token expired: one refresh (a second would spend
/// the single-use refresh token twice), and both use the new access token.
async fn wahoo_racing_callers_refresh_once(host: Host) {
    let h = harness_on(host, ProviderId::Wahoo).await;
    let connection = h.connect().await;
    h.clock.advance(TOKEN_SECONDS + 60);
    h.fake.slow_refresh(Duration::from_millis(300));
    let job = h
        .services
        .sync_jobs
        .trigger_sync(&h.caller, &h.user, connection.id.as_str(), early_march())
        .await
        .unwrap();
    h.relay().await;
    let message = h.queue.sent().pop().unwrap().body;
    let (synced, fetched) = tokio::join!(
        h.services.worker.process_message(&message),
        h.services.tokens.access_token(&connection)
    );
    synced.unwrap();
    let token = fetched.unwrap();
    assert_eq!(h.fake.refresh_calls(), 1, "one call to the token endpoint");
    let done = h
        .services
        .sync_jobs
        .get_job(&h.caller, job.id.as_str())
        .await
        .unwrap();
    assert_eq!(done.status, JobStatus::Succeeded, "{done:?}");
    assert_eq!(counts(&done, "workout"), (4, 4, 0));
    let bearer = format!("Bearer {}", token.expose_secret());
    assert!(
        h.fake
            .data_calls()
            .iter()
            .all(|call| call.authorization.as_deref() == Some(bearer.as_str()))
    );
    assert_eq!(h.reread(&connection).await.status, ConnectionStatus::Active);
}

#[tokio::test]
async fn wahoo_disconnect_revokes_with_the_users_token_so_reconnecting_never_hits_the_cap() {
    let h = harness_on(Host::Embedded, ProviderId::Wahoo).await;
    let mut connection = h.connect().await;
    // Syncs reuse the grant: no token is minted per sync.
    for _ in 0..3 {
        let job = h.sync_over(&connection, early_march()).await;
        assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    }
    assert_eq!(h.fake.token_calls(), 1);

    let token = h.services.tokens.access_token(&connection).await.unwrap();
    h.services
        .disconnector
        .disconnect(&h.caller, &h.user, connection.id.as_str())
        .await
        .unwrap();
    let revoked = h.fake.requests_to("/v1/permissions");
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].method, "DELETE");
    assert_eq!(
        revoked[0].authorization,
        Some(format!("Bearer {}", token.expose_secret()))
    );
    assert_eq!(
        h.reread(&connection).await.status,
        ConnectionStatus::Disconnected
    );

    // Wahoo lets an app hold ten unrevoked tokens per user: every disconnect gives its back,
    // so connecting again and again keeps working.
    for _ in 0..WAHOO_TOKEN_CAP {
        connection = h.connect().await;
        assert_eq!(connection.status, ConnectionStatus::Active);
        h.services
            .disconnector
            .disconnect(&h.caller, &h.user, connection.id.as_str())
            .await
            .unwrap();
    }
    assert_eq!(
        h.fake.requests_to("/v1/permissions").len(),
        WAHOO_TOKEN_CAP + 1
    );
}

async fn push(h: &Harness, body: &Value) -> PushReply {
    let request = PushRequest {
        method: PushMethod::Post,
        query: Vec::new(),
        headers: vec![("content-type".to_owned(), "application/json".to_owned())],
        body: serde_json::to_vec(body).unwrap(),
        path_secret: None,
    };
    h.services
        .pushes
        .receive_push("wahoo", None, &request)
        .await
        .unwrap()
}

/// The sync jobs queued since the harness started, as stored.
async fn jobs_queued(h: &Harness) -> Vec<SyncJob> {
    h.relay().await;
    let mut jobs = Vec::new();
    for sent in h.queue.sent() {
        if let Ok(message) = serde_json::from_str::<JobMessage>(&sent.body) {
            let job = h
                .services
                .sync_jobs
                .get_job(&h.caller, message.job_id.as_str())
                .await
                .unwrap();
            jobs.push(job);
        }
    }
    jobs
}

/// Only the app's webhook token is taken; a summary syncs its workout; Wahoo's retry of a
/// delivery is a repeat, an update of the summary is news.
async fn wahoo_webhook_token_retries_and_updates(host: Host) {
    let h = harness_with(
        host,
        ProviderId::Wahoo,
        &[("WAHOO_WEBHOOK_SECRET", WEBHOOK_TOKEN)],
    )
    .await;
    let connection = h.connect().await;
    let delivery = fixture("webhook-workout-summary.json");

    let mut forged = delivery.clone();
    forged["webhook_token"] = json!("7d3c0b1e-5a4f-4e2d-9c8b-0a1b2c3d4e5f");
    assert_eq!(push(&h, &forged).await, PushReply::status(401));
    let mut bare = delivery.clone();
    bare.as_object_mut().unwrap().remove("webhook_token");
    assert_eq!(push(&h, &bare).await, PushReply::status(401));
    assert!(jobs_queued(&h).await.is_empty());

    // The app's token: a sync of the workouts around the ride's start, which stores it.
    assert_eq!(push(&h, &delivery).await, PushReply::status(200));
    let jobs = jobs_queued(&h).await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].connection_id, connection.id);
    assert_eq!(
        jobs[0].data_types,
        [DataType::Session(SessionKind::Workout)]
    );
    let start = at("2026-03-01T09:15:00Z");
    assert!(jobs[0].from.unwrap() < start && start < jobs[0].to.unwrap());
    h.work_queue().await;
    let stored = h.stored(&connection).await;
    assert_eq!(keys(&stored), ["X#workout#99887766"]);
    let ride = workout(&stored, "99887766");
    assert_eq!(
        (
            ride.energy_kcal,
            ride.date.as_str(),
            ride.utc_offset_seconds
        ),
        (Some(1021.0), "2026-03-01", 3600)
    );

    // Wahoo's retry of that delivery: no second sync.
    assert_eq!(push(&h, &delivery).await, PushReply::status(200));
    assert_eq!(jobs_queued(&h).await.len(), 1);

    // The summary updated: Wahoo sends it again, and it is synced again.
    let mut updated = delivery.clone();
    updated["workout_summary"]["updated_at"] = json!("2026-03-01T12:02:44.000Z");
    updated["workout_summary"]["edited"] = json!(true);
    assert_eq!(push(&h, &updated).await, PushReply::status(200));
    assert_eq!(jobs_queued(&h).await.len(), 2);
    h.work_queue().await;

    // Another event, or an account not connected here: answered, nothing to do.
    let mut other = delivery.clone();
    other["event_type"] = json!("plan_updated");
    assert_eq!(push(&h, &other).await, PushReply::status(200));
    let mut stranger = updated.clone();
    stranger["user"]["id"] = json!(654_321);
    assert_eq!(push(&h, &stranger).await, PushReply::status(200));
    assert_eq!(jobs_queued(&h).await.len(), 2);
}

#[tokio::test]
async fn a_wahoo_webhook_is_refused_when_no_token_is_configured() {
    let h = harness_on(Host::Embedded, ProviderId::Wahoo).await;
    h.connect().await;
    let delivery = fixture("webhook-workout-summary.json");
    assert_eq!(push(&h, &delivery).await, PushReply::status(401));
    assert!(jobs_queued(&h).await.is_empty());
}

on_both_hosts!(
    wahoo_workouts_land_field_by_field,
    wahoo_racing_callers_refresh_once,
    wahoo_webhook_token_retries_and_updates,
);
