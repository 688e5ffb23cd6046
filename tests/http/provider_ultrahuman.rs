//! Ultrahuman (Ring AIR and M1 CGM) through the sync engine, against a local server answering
//! the partner API with the fixtures: one call per local day of the user (Europe/Berlin),
//! epoch-second readings given the offset in force at their instant, the night on its wake-up
//! day, glucose in mmol/L; re-syncs replace rather than add. Then the API's quirks: consent at
//! `/authorise`, rotating refresh tokens, a day-long `expires_in`, a 403 that skips, null CGM
//! metrics, the day summer time starts, and revocation with the app's credentials.

use crate::harness::{Harness, Host, at, harness, harness_on, ms, on_both_hosts, one};
use crate::oauth_flow::{APP, connect_link, query, run_browser};
use reqwest::StatusCode;
use secrecy::ExposeSecret;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;
use vitasync_domain::connections::{Connection, ConnectionStatus};
use vitasync_domain::health::{DailySummary, Session, chunk, glucose_mmol_l};
use vitasync_domain::kernel::time::Clock;
use vitasync_domain::providers::ProviderId;
use vitasync_domain::sync::SyncRequest;
use vitasync_domain::sync::jobs::{JobStatus, SyncJob};
use vitasync_tests::fake_provider::{CLIENT_ID, CLIENT_SECRET, DataFailure, FakeProvider};
use vitasync_tests::{ROOT_KEY, TestHost};

const CET: i32 = 3600;
const CEST: i32 = 7200;
const METRICS: &str = "/api/partners/v1/user_data/metrics";
const RING: &str = "Ultrahuman Ring AIR";

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

/// 2 March 2026 in Berlin, and nothing else.
fn march_2nd() -> SyncRequest {
    window("2026-03-01T23:00:00Z", "2026-03-02T23:00:00Z")
}

async fn connected(host: Host) -> (Harness, Connection) {
    let h = harness_on(host, ProviderId::Ultrahuman).await;
    let connection = h.connect().await;
    (h, connection)
}

/// An hour's readings and the offset they were recorded at (Berlin changes on the hour, so
/// no hour here holds a change).
fn hour(stored: &BTreeMap<String, Vec<u8>>, key: &str) -> (Vec<(i64, f64)>, i32) {
    let decoded = chunk::decode(&stored[key]).unwrap();
    assert!(decoded.offset_changes.is_empty(), "{key}");
    (
        chunk::values(&decoded.points).collect(),
        decoded.utc_offset_seconds,
    )
}

/// Glucose in mmol/L as a chunk keeps it (to 1/1000 of the unit).
fn mmol(mg_dl: f64) -> f64 {
    (glucose_mmol_l(mg_dl) * 1000.0).round() / 1000.0
}

fn counts(job: &SyncJob, name: &str) -> (u64, u64, u64) {
    let tally = job.counts.get(name).copied().unwrap_or_default();
    (tally.fetched, tally.written, tally.unchanged)
}

/// The local dates the metrics calls asked for, in order.
fn dates_asked(h: &Harness) -> Vec<String> {
    h.fake
        .data_calls()
        .into_iter()
        .filter(|call| call.path == METRICS)
        .map(|call| call.params["date"].clone())
        .collect()
}

async fn ring_and_cgm_days_land_field_by_field(host: Host) {
    let (h, connection) = connected(host).await;
    assert_eq!(connection.provider_user_id, "5385001");
    let job = h.sync_over(&connection, early_march()).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");

    // One call per local day the window touches in the user's zone (00:00 UTC on 3 March is
    // 01:00 in Berlin), with the bearer token.
    assert_eq!(dates_asked(&h), ["2026-03-01", "2026-03-02", "2026-03-03"]);
    let calls = h.fake.data_calls();
    assert!(calls.iter().all(|call| {
        call.authorization
            .as_deref()
            .unwrap()
            .starts_with("Bearer ")
    }));
    assert_eq!(
        h.reread(&connection).await.time_zone.as_deref(),
        Some("Europe/Berlin")
    );
    let stored = h.stored(&connection).await;

    // The days' values at the day's offset; each id names the type it was read from (the
    // overnight `night_rhr` and `avg_sleep_hrv`, not `sleep_rhr` or the HRV series' average).
    for (key, value, record_id) in [
        ("D#steps#2026-03-01", 10_234.0, "steps:2026-03-01"),
        (
            "D#active_minutes#2026-03-01",
            47.0,
            "active_minutes:2026-03-01",
        ),
        (
            "D#resting_heart_rate#2026-03-01",
            55.0,
            "night_rhr:2026-03-01",
        ),
        (
            "D#heart_rate_variability#2026-03-01",
            47.0,
            "avg_sleep_hrv:2026-03-01",
        ),
        ("D#blood_oxygen#2026-03-01", 96.0, "spo2:2026-03-01"),
        ("D#vo2_max#2026-03-01", 43.0, "vo2_max:2026-03-01"),
        (
            "D#recovery_score#2026-03-01",
            71.0,
            "recovery_index:2026-03-01",
        ),
        ("D#steps#2026-03-02", 8412.0, "steps:2026-03-02"),
        (
            "D#resting_heart_rate#2026-03-02",
            53.0,
            "night_rhr:2026-03-02",
        ),
        (
            "D#heart_rate_variability#2026-03-02",
            51.0,
            "avg_sleep_hrv:2026-03-02",
        ),
        ("D#blood_oxygen#2026-03-02", 97.0, "spo2:2026-03-02"),
        ("D#vo2_max#2026-03-02", 44.0, "vo2_max:2026-03-02"),
        (
            "D#recovery_score#2026-03-02",
            78.0,
            "recovery_index:2026-03-02",
        ),
    ] {
        let day: DailySummary = one(&stored, key);
        assert_eq!((day.value, day.utc_offset_seconds), (value, CET), "{key}");
        assert_eq!(Some(day.date.as_str()), key.rsplit('#').next());
        assert_eq!(day.origin.record_id, record_id);
        assert_eq!(day.origin.source.as_deref(), Some(RING));
    }
    let daily = stored.keys().filter(|key| key.starts_with("D#")).count();
    assert_eq!(daily, 13, "{:?}", stored.keys());

    // Readings every ~5 minutes, in UTC hours, at the offset of their instant. 1 March's
    // first heart rate (23:30 UTC on 28 February) is before the window.
    let hours: Vec<&str> = stored
        .keys()
        .filter(|key| key.starts_with("S#"))
        .map(String::as_str)
        .collect();
    assert_eq!(
        hours,
        [
            "S#glucose#2026-03-02T06",
            "S#glucose#2026-03-02T07",
            "S#glucose#2026-03-02T12",
            "S#heart_rate#2026-03-01T08",
            "S#heart_rate#2026-03-01T23",
            "S#heart_rate#2026-03-02T06",
            "S#heart_rate_variability#2026-03-01T02",
            "S#heart_rate_variability#2026-03-01T23",
            "S#heart_rate_variability#2026-03-02T01",
            "S#skin_temperature#2026-03-01T02",
            "S#skin_temperature#2026-03-01T23",
            "S#skin_temperature#2026-03-02T00",
        ]
    );
    assert_eq!(
        hour(&stored, "S#heart_rate#2026-03-01T08"),
        (
            vec![
                (ms("2026-03-01T08:00:00Z"), 64.0),
                (ms("2026-03-01T08:05:00Z"), 66.0)
            ],
            CET
        )
    );
    assert_eq!(
        hour(&stored, "S#heart_rate#2026-03-01T23"),
        (
            vec![
                (ms("2026-03-01T23:05:00Z"), 58.0),
                (ms("2026-03-01T23:10:00Z"), 55.0)
            ],
            CET
        )
    );
    assert_eq!(
        hour(&stored, "S#heart_rate#2026-03-02T06"),
        (vec![(ms("2026-03-02T06:00:00Z"), 61.0)], CET)
    );
    // HRV (RMSSD, ms) and skin temperature (°C) as the ring gives them.
    assert_eq!(
        hour(&stored, "S#heart_rate_variability#2026-03-01T02"),
        (
            vec![
                (ms("2026-03-01T02:00:00Z"), 44.0),
                (ms("2026-03-01T02:30:00Z"), 46.0)
            ],
            CET
        )
    );
    assert_eq!(
        hour(&stored, "S#heart_rate_variability#2026-03-01T23"),
        (vec![(ms("2026-03-01T23:30:00Z"), 48.0)], CET)
    );
    assert_eq!(
        hour(&stored, "S#heart_rate_variability#2026-03-02T01"),
        (vec![(ms("2026-03-02T01:30:00Z"), 52.0)], CET)
    );
    assert_eq!(
        hour(&stored, "S#skin_temperature#2026-03-01T02"),
        (
            vec![
                (ms("2026-03-01T02:00:00Z"), 34.52),
                (ms("2026-03-01T02:30:00Z"), 34.7)
            ],
            CET
        )
    );
    assert_eq!(
        hour(&stored, "S#skin_temperature#2026-03-01T23"),
        (vec![(ms("2026-03-01T23:06:00Z"), 34.61)], CET)
    );
    assert_eq!(
        hour(&stored, "S#skin_temperature#2026-03-02T00"),
        (vec![(ms("2026-03-02T00:06:00Z"), 34.87)], CET)
    );
    // The M1's mg/dL in mmol/L.
    for (key, at_utc, mg_dl) in [
        ("S#glucose#2026-03-02T06", "2026-03-02T06:30:00Z", 92.0),
        ("S#glucose#2026-03-02T07", "2026-03-02T07:00:00Z", 118.0),
        ("S#glucose#2026-03-02T12", "2026-03-02T12:15:00Z", 145.0),
    ] {
        assert_eq!(hour(&stored, key), (vec![(ms(at_utc), mmol(mg_dl))], CET));
    }
    assert_eq!(mmol(92.0), 5.107);

    // Each night on its wake-up day, at bedtime's offset; stage totals in seconds, awake too.
    let night: Session = one(&stored, "X#sleep#sleep:2026-03-02");
    assert_eq!(
        (night.start_ms, night.end_ms),
        (ms("2026-03-01T22:20:00Z"), ms("2026-03-02T06:05:00Z"))
    );
    assert_eq!(
        (night.date.as_str(), night.utc_offset_seconds),
        ("2026-03-02", CET)
    );
    assert_eq!(night.duration_seconds, Some(25_380.0));
    assert_eq!(night.heart_rate_avg, Some(56.0));
    let stages = night.stage_seconds.unwrap();
    assert_eq!(
        (stages.awake, stages.light, stages.deep, stages.rem),
        (2520.0, 14_520.0, 5160.0, 5700.0)
    );
    assert_eq!(night.score, None, "the night's object has no score");
    assert_eq!(night.origin.source.as_deref(), Some(RING));
    let earlier: Session = one(&stored, "X#sleep#sleep:2026-03-01");
    assert_eq!(
        (earlier.start_ms, earlier.end_ms),
        (ms("2026-02-28T22:40:00Z"), ms("2026-03-01T06:10:00Z"))
    );
    assert_eq!(
        (earlier.date.as_str(), earlier.utc_offset_seconds),
        ("2026-03-01", CET)
    );
    assert_eq!(earlier.duration_seconds, Some(25_200.0));
    // Its object has no score either: the day's `sleep_score` scalar gives it.
    assert_eq!(earlier.score, Some(81.0));

    assert_eq!(counts(&job, "heart_rate"), (5, 5, 0));
    assert_eq!(counts(&job, "glucose"), (3, 3, 0));
    assert_eq!(counts(&job, "sleep"), (2, 2, 0));
    assert_eq!(counts(&job, "steps"), (2, 2, 0));
    assert!(job.counts.values().all(|c| !c.skipped), "{job:?}");

    // Every day is asked for again (Ultrahuman revises values after the night closes), and
    // the same records replace themselves: nothing new, the store unchanged.
    let again = h.sync_over(&connection, early_march()).await;
    assert_eq!(again.status, JobStatus::Succeeded, "{again:?}");
    assert_eq!(dates_asked(&h).len(), 6);
    assert!(again.counts.values().all(|c| c.written == 0), "{again:?}");
    assert_eq!(counts(&again, "heart_rate"), (5, 0, 5));
    assert_eq!(h.stored(&connection).await, stored);
}

on_both_hosts!(
    ring_and_cgm_days_land_field_by_field,
    without_the_profile_the_zone_learnt_before_gives_the_offsets
);

/// A host whose Ultrahuman consent URL is `fake`'s `/<authorize_path>` (by default, as
/// configured from the fake, `/authorise`).
async fn host_for(fake: &FakeProvider, authorize_path: Option<&str>) -> TestHost {
    let mut vars = fake.env();
    vars.insert("VITASYNC_REDIRECT_ORIGINS".into(), APP.into());
    if let Some(path) = authorize_path {
        vars.insert(
            format!("{}_AUTHORIZE_URL", ProviderId::Ultrahuman.env_prefix()),
            format!("{}/{path}", fake.base),
        );
    }
    TestHost::start_with(vars).await
}

#[tokio::test]
async fn consent_is_asked_at_the_british_authorise() {
    assert_eq!(
        ProviderId::Ultrahuman.info().oauth.authorize_url,
        "https://auth.ultrahuman.com/authorise"
    );
    let fake = FakeProvider::start(ProviderId::Ultrahuman).await;
    let host = host_for(&fake, None).await;
    let user = host.user(ROOT_KEY, "wearer-1").await;
    let link = connect_link(&host, ROOT_KEY, &user, "ultrahuman").await;
    let (consent, _, landing) = run_browser(&host, &link).await;
    assert!(
        consent.starts_with(&format!("{}/authorise?", fake.base)),
        "{consent}"
    );
    let asked = query(&consent);
    assert_eq!(asked["scope"], "profile ring_data cgm_data");
    assert_eq!(asked["response_type"], "code");
    assert!(!asked.contains_key("code_challenge"), "no PKCE");
    assert!(
        landing.starts_with(&format!("{APP}/connected?")),
        "{landing}"
    );
    // The code is exchanged with the app's credentials in the body.
    let exchanges = fake.requests_to("/token");
    assert_eq!(exchanges.len(), 1);
    assert_eq!(exchanges[0].params["grant_type"], "authorization_code");
    assert_eq!(exchanges[0].params["client_id"], CLIENT_ID);
    assert_eq!(exchanges[0].params["client_secret"], CLIENT_SECRET);
    let listed = host
        .get(&format!("/v1/users/{user}/connections"), ROOT_KEY)
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body["data"][0]["providerUserId"], "5385001");
    assert_eq!(listed.body["data"][0]["status"], "active");
}

#[tokio::test]
async fn a_deployment_pointed_at_the_american_authorize_never_gets_consent() {
    let fake = FakeProvider::start(ProviderId::Ultrahuman).await;
    let host = host_for(&fake, Some("authorize")).await;
    let user = host.user(ROOT_KEY, "wearer-1").await;
    let link = connect_link(&host, ROOT_KEY, &user, "ultrahuman").await;
    let (status, consent, _) = host.visit(&link).await;
    assert_eq!(status, StatusCode::FOUND);
    let consent = consent.unwrap();
    assert!(
        consent.starts_with(&format!("{}/authorize?", fake.base)),
        "{consent}"
    );
    // The consent page is not there: the browser is never sent back to the callback.
    let (status, back, _) = host.visit(&consent).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(back, None);
    assert_eq!(fake.token_calls(), 0);
    let listed = host
        .get(&format!("/v1/users/{user}/connections"), ROOT_KEY)
        .await;
    assert_eq!(listed.body["data"], json!([]));
}

#[tokio::test]
async fn refresh_tokens_rotate_and_the_spent_one_is_refused() {
    let (h, connection) = connected(Host::Embedded).await;
    let granted = h.fake.issued_tokens()[1].clone();

    h.clock.advance(86_400);
    let first = h.services.tokens.access_token(&connection).await.unwrap();
    let issued = h.fake.issued_tokens();
    assert_eq!(issued.len(), 4, "a new access and a new refresh token");
    assert_eq!(first.expose_secret(), issued[2]);
    let rotated = issued[3].clone();
    assert_ne!(rotated, granted);

    // The next refresh uses the token the last one granted.
    h.clock.advance(86_400);
    let second = h.services.tokens.access_token(&connection).await.unwrap();
    assert_ne!(second.expose_secret(), first.expose_secret());
    let refreshes: Vec<_> = h
        .fake
        .requests_to("/token")
        .into_iter()
        .filter(|r| r.params.get("grant_type").map(String::as_str) == Some("refresh_token"))
        .collect();
    let used: Vec<&str> = refreshes
        .iter()
        .map(|r| r.params["refresh_token"].as_str())
        .collect();
    assert_eq!(used, [granted.as_str(), rotated.as_str()]);
    for refresh in &refreshes {
        assert_eq!(refresh.params["client_id"], CLIENT_ID);
        assert_eq!(refresh.params["client_secret"], CLIENT_SECRET);
    }

    // The spent one is refused.
    let replayed = vitasync_tests::plain_client()
        .post(format!("{}/token", h.fake.base))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", granted.as_str()),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(replayed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(h.reread(&connection).await.status, ConnectionStatus::Active);

    // And the data is read with the newest access token.
    let job = h.sync_over(&connection, march_2nd()).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    let last = h.fake.data_calls().pop().unwrap();
    assert_eq!(
        last.authorization,
        Some(format!("Bearer {}", second.expose_secret()))
    );
}

#[tokio::test]
async fn the_stored_expiry_follows_expires_in_not_the_documented_week() {
    let h = harness(ProviderId::Ultrahuman).await;
    let connected_at = h.clock.now();
    let connection = h.connect().await;
    // `expires_in: 86399`, though the prose says access tokens last a week.
    assert_eq!(
        connection.token_expires_at,
        Some(connected_at.plus_seconds(86_399))
    );
    // Used as it is until five minutes before that, then refreshed.
    h.clock.advance(86_399 - 301);
    h.services.tokens.access_token(&connection).await.unwrap();
    assert_eq!(h.fake.refresh_calls(), 0);
    h.clock.advance(1);
    h.services.tokens.access_token(&connection).await.unwrap();
    assert_eq!(h.fake.refresh_calls(), 1);
    assert_eq!(
        h.reread(&connection).await.token_expires_at,
        Some(h.clock.now().plus_seconds(86_399))
    );
}

#[tokio::test]
async fn a_403_skips_the_data_instead_of_failing_and_a_withheld_scope_is_not_kept() {
    // Data access not enabled for the app (or no ring on the account): 403.
    let (h, connection) = connected(Host::Embedded).await;
    h.fake.forbid(METRICS);
    let job = h.sync_over(&connection, early_march()).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    for name in [
        "heart_rate",
        "heart_rate_variability",
        "skin_temperature",
        "steps",
        "resting_heart_rate",
        "blood_oxygen",
        "vo2_max",
        "recovery_score",
        "sleep",
        "glucose",
    ] {
        assert!(job.counts[name].skipped, "{name}: {job:?}");
    }
    assert_eq!(dates_asked(&h), ["2026-03-01"], "no day after a refusal");
    assert!(h.stored(&connection).await.is_empty());

    // The user granted the ring's data but not the CGM's: what the reply holds of the M1 is
    // not kept, and glucose is reported skipped.
    let (h, connection) = connected(Host::Embedded).await;
    let narrowed = Connection {
        scopes: vec!["profile".into(), "ring_data".into()],
        ..h.reread(&connection).await
    };
    h.rewrite(&narrowed).await;
    let job = h.sync_over(&connection, march_2nd()).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    assert!(job.counts["glucose"].skipped);
    assert!(!job.counts["heart_rate"].skipped);
    let stored = h.stored(&connection).await;
    assert!(!stored.keys().any(|key| key.starts_with("S#glucose#")));
    assert!(stored.contains_key("S#heart_rate#2026-03-02T06"));
}

async fn without_the_profile_the_zone_learnt_before_gives_the_offsets(host: Host) {
    let (h, connection) = connected(host).await;
    // The user's zone was learnt by an earlier sync; now the profile is not granted.
    let narrowed = Connection {
        scopes: vec!["ring_data".into(), "cgm_data".into()],
        time_zone: Some("Europe/Berlin".into()),
        ..h.reread(&connection).await
    };
    h.rewrite(&narrowed).await;
    let job = h.sync_over(&connection, march_2nd()).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    assert!(
        !h.fake
            .data_calls()
            .iter()
            .any(|call| call.path.ends_with("/user_info")),
        "the profile is not asked for"
    );
    let stored = h.stored(&connection).await;
    let steps: DailySummary = one(&stored, "D#steps#2026-03-02");
    assert_eq!((steps.value, steps.utc_offset_seconds), (8412.0, CET));
    let night: Session = one(&stored, "X#sleep#sleep:2026-03-02");
    assert_eq!(night.utc_offset_seconds, CET);
}

#[tokio::test]
async fn null_cgm_metrics_are_absent_data_not_errors() {
    let (h, connection) = connected(Host::Embedded).await;
    // 01:00 to 23:00 on 1 March in Berlin: that day only, a ring user without an M1.
    let job = h
        .sync_over(
            &connection,
            window("2026-03-01T00:00:00Z", "2026-03-01T22:00:00Z"),
        )
        .await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    assert_eq!(dates_asked(&h), ["2026-03-01"]);
    let stored = h.stored(&connection).await;
    assert!(!stored.keys().any(|key| key.contains("glucose")));
    assert_eq!(counts(&job, "glucose"), (0, 0, 0));
    assert!(!job.counts.get("glucose").is_some_and(|c| c.skipped));
    let steps: DailySummary = one(&stored, "D#steps#2026-03-01");
    assert_eq!(steps.value, 10_234.0);
}

#[tokio::test]
async fn the_day_summer_time_starts_gives_each_reading_its_own_offset() {
    let (h, connection) = connected(Host::Embedded).await;
    // 29 March 2026 in Berlin: 23 hours, 02:00 CET becoming 03:00 CEST at 01:00 UTC.
    let job = h
        .sync_over(
            &connection,
            window("2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z"),
        )
        .await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    assert_eq!(dates_asked(&h), ["2026-03-29"]);
    let stored = h.stored(&connection).await;

    // 01:50 and 01:55 CET, then 03:05 and 03:10 CEST.
    assert_eq!(
        hour(&stored, "S#heart_rate#2026-03-29T00"),
        (
            vec![
                (ms("2026-03-29T00:50:00Z"), 57.0),
                (ms("2026-03-29T00:55:00Z"), 56.0)
            ],
            CET
        )
    );
    assert_eq!(
        hour(&stored, "S#heart_rate#2026-03-29T01"),
        (
            vec![
                (ms("2026-03-29T01:05:00Z"), 55.0),
                (ms("2026-03-29T01:10:00Z"), 54.0)
            ],
            CEST
        )
    );
    assert_eq!(
        hour(&stored, "S#heart_rate_variability#2026-03-29T00"),
        (vec![(ms("2026-03-29T00:30:00Z"), 47.0)], CET)
    );
    assert_eq!(
        hour(&stored, "S#heart_rate_variability#2026-03-29T02"),
        (vec![(ms("2026-03-29T02:30:00Z"), 53.0)], CEST)
    );
    assert_eq!(
        hour(&stored, "S#skin_temperature#2026-03-29T00"),
        (vec![(ms("2026-03-29T00:50:00Z"), 34.4)], CET)
    );
    assert_eq!(
        hour(&stored, "S#skin_temperature#2026-03-29T01"),
        (vec![(ms("2026-03-29T01:05:00Z"), 34.6)], CEST)
    );
    assert_eq!(
        hour(&stored, "S#glucose#2026-03-29T00"),
        (vec![(ms("2026-03-29T00:50:00Z"), mmol(99.0))], CET)
    );
    assert_eq!(
        hour(&stored, "S#glucose#2026-03-29T01"),
        (vec![(ms("2026-03-29T01:05:00Z"), mmol(101.0))], CEST)
    );

    // The day's values at the offset of most of the day (summer time).
    for (key, value) in [
        ("D#steps#2026-03-29", 6021.0),
        ("D#resting_heart_rate#2026-03-29", 52.0),
        ("D#heart_rate_variability#2026-03-29", 50.0),
        ("D#blood_oxygen#2026-03-29", 95.0),
        ("D#recovery_score#2026-03-29", 80.0),
    ] {
        let day: DailySummary = one(&stored, key);
        assert_eq!(
            (day.value, day.date.as_str(), day.utc_offset_seconds),
            (value, "2026-03-29", CEST),
            "{key}"
        );
    }
    assert!(!stored.keys().any(|key| key.starts_with("D#vo2_max#")));

    // The night: to bed at 23:10 CET, up at 07:40 CEST; at bedtime's offset.
    let night: Session = one(&stored, "X#sleep#sleep:2026-03-29");
    assert_eq!(
        (night.start_ms, night.end_ms),
        (ms("2026-03-28T22:10:00Z"), ms("2026-03-29T05:40:00Z"))
    );
    assert_eq!(
        (night.date.as_str(), night.utc_offset_seconds),
        ("2026-03-29", CET)
    );
    assert_eq!(night.duration_seconds, Some(25_200.0));
    let stages = night.stage_seconds.unwrap();
    assert_eq!(
        (stages.awake, stages.light, stages.deep, stages.rem),
        (1800.0, 15_300.0, 4500.0, 5400.0)
    );
}

#[tokio::test]
async fn disconnecting_revokes_the_token_with_the_apps_credentials() {
    let (h, connection) = connected(Host::Embedded).await;
    let access = h.services.tokens.access_token(&connection).await.unwrap();
    h.services
        .disconnector
        .disconnect(&h.caller, &h.user, connection.id.as_str())
        .await
        .unwrap();
    let revoked = h.fake.requests_to("/revoke");
    assert_eq!(revoked.len(), 1, "{revoked:?}");
    assert_eq!(revoked[0].method, "POST");
    assert_eq!(revoked[0].params["token"], access.expose_secret());
    assert_eq!(revoked[0].params["client_id"], CLIENT_ID);
    assert_eq!(revoked[0].params["client_secret"], CLIENT_SECRET);
    assert_eq!(
        h.reread(&connection).await.status,
        ConnectionStatus::Disconnected
    );
}

#[tokio::test]
async fn a_429_waits_as_told() {
    let (h, connection) = connected(Host::Embedded).await;
    h.fake.fail_data_calls([DataFailure::Http(429, Some(30))]);
    let job = h.sync_over(&connection, early_march()).await;
    assert_eq!(job.status, JobStatus::Queued);
    let (delay, done) = h.run_delayed_retry(&job).await;
    assert_eq!(delay, Duration::from_secs(30));
    assert_eq!(done.status, JobStatus::Succeeded, "{done:?}");
    assert_eq!(counts(&done, "sleep"), (2, 2, 0));
}

#[tokio::test]
async fn a_token_refused_mid_sync_is_refreshed_once() {
    let (h, connection) = connected(Host::Embedded).await;
    h.fake.fail_data_calls([DataFailure::Http(401, None)]);
    let job = h.sync_over(&connection, march_2nd()).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    assert_eq!(h.fake.refresh_calls(), 1);
    assert_eq!(dates_asked(&h), ["2026-03-02", "2026-03-02"]);
    let fresh = h.fake.issued_tokens()[2].clone();
    let last = h.fake.data_calls().pop().unwrap();
    assert_eq!(last.authorization, Some(format!("Bearer {fresh}")));
    assert_eq!(counts(&job, "sleep"), (1, 1, 0));
}
