//! The developer's app on a user's phone: sign-in tokens, sessions, pushes from the phone's
//! health store, and what a user's token can and cannot reach.

use crate::harness::{Host, harness_on, on_both_hosts};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vitasync_domain::DomainError;
use vitasync_domain::announce::endpoints::EndpointDraft;
use vitasync_domain::health::query::RecordsQuery;
use vitasync_domain::mobile::ingest::SamplePush;
use vitasync_domain::providers::ProviderId;
use vitasync_tests::receiver::Receiver;
use vitasync_tests::{ROOT_KEY, TestHost};

/// Exchanges at the token endpoint as an OAuth client would: a form post.
async fn token_call(host: &TestHost, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let response = host
        .raw()
        .post(host.url("/v1/auth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A user, their sign-in token exchanged: `(user id, access token, refresh token)`.
async fn signed_in(host: &TestHost, external_id: &str) -> (String, String, String) {
    let user = host.user(ROOT_KEY, external_id).await;
    let minted = host
        .post(
            &format!("/v1/users/{user}/sign-in-tokens"),
            ROOT_KEY,
            json!({}),
        )
        .await;
    assert_eq!(minted.status, StatusCode::CREATED, "{}", minted.body);
    assert_eq!(minted.body["userId"], user.as_str());
    let token = minted.body["signInToken"].as_str().unwrap().to_owned();
    let (status, tokens) = token_call(
        host,
        &[("grant_type", "sign_in_token"), ("sign_in_token", &token)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    assert_eq!(tokens["user_id"], user.as_str());
    (
        user,
        tokens["access_token"].as_str().unwrap().to_owned(),
        tokens["refresh_token"].as_str().unwrap().to_owned(),
    )
}

/// A morning in Berlin as Apple Health records it.
fn apple_batch() -> Value {
    json!({
        "source": "apple_health",
        "samples": [
            {"uuid": "A1", "type": "HKQuantityTypeIdentifierStepCount", "start": "2026-11-20T07:00:00Z",
             "end": "2026-11-20T07:10:00Z", "value": 800, "unit": "count", "timeZone": "Europe/Berlin"},
            {"uuid": "A2", "type": "HKQuantityTypeIdentifierStepCount", "start": "2026-11-20T17:00:00Z",
             "end": "2026-11-20T17:30:00Z", "value": 2400, "unit": "count", "timeZone": "Europe/Berlin"},
            {"uuid": "A3", "type": "HKQuantityTypeIdentifierHeartRate", "start": "2026-11-20T07:05:00Z",
             "value": 92, "unit": "count/min", "timeZone": "Europe/Berlin"},
            {"uuid": "A4", "type": "HKQuantityTypeIdentifierHeartRate", "start": "2026-11-20T07:06:00Z",
             "value": 97, "unit": "count/min", "timeZone": "Europe/Berlin"},
            {"uuid": "A5", "type": "HKQuantityTypeIdentifierBodyMass", "start": "2026-11-20T06:30:00Z",
             "value": 165.0, "unit": "lb", "timeZone": "Europe/Berlin"},
            {"uuid": "A6", "type": "HKQuantityTypeIdentifierOxygenSaturation", "start": "2026-11-20T06:31:00Z",
             "value": 0.97, "unit": "%", "timeZone": "Europe/Berlin"}
        ],
        "sessions": [
            {"uuid": "S1", "type": "HKCategoryTypeIdentifierSleepAnalysis", "start": "2026-11-19T22:00:00Z",
             "end": "2026-11-20T05:30:00Z", "timeZone": "Europe/Berlin",
             "stages": [
                 {"stage": "asleepCore", "start": "2026-11-19T22:00:00Z", "end": "2026-11-20T01:00:00Z"},
                 {"stage": "asleepDeep", "start": "2026-11-20T01:00:00Z", "end": "2026-11-20T02:30:00Z"},
                 {"stage": "asleepREM", "start": "2026-11-20T02:30:00Z", "end": "2026-11-20T04:00:00Z"},
                 {"stage": "awake", "start": "2026-11-20T04:00:00Z", "end": "2026-11-20T04:15:00Z"},
                 {"stage": "asleepCore", "start": "2026-11-20T04:15:00Z", "end": "2026-11-20T05:30:00Z"}
             ]},
            {"uuid": "W1", "type": "HKWorkout", "start": "2026-11-20T17:00:00Z", "end": "2026-11-20T17:45:00Z",
             "timeZone": "Europe/Berlin", "activity": "HKWorkoutActivityTypeRunning",
             "energyKcal": 420.0, "distanceM": 7300.0}
        ]
    })
}

#[tokio::test]
async fn the_app_signs_in_pushes_and_reads_back() {
    let host = TestHost::start().await;
    let (user, access, _) = signed_in(&host, "runner-on-iphone").await;

    let me = host.get("/v1/me", &access).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["id"], user.as_str());
    assert_eq!(me.body["externalId"], "runner-on-iphone");

    let pushed = host.post("/v1/me/samples", &access, apple_batch()).await;
    assert_eq!(pushed.status, StatusCode::OK, "{}", pushed.body);
    assert_eq!(pushed.body["accepted"], 8);
    assert_eq!(pushed.body["rejected"], json!([]));
    let connection = pushed.body["connectionId"].as_str().unwrap().to_owned();

    let connections = host.get("/v1/me/connections", &access).await;
    assert_eq!(connections.body["data"][0]["id"], connection.as_str());
    assert_eq!(connections.body["data"][0]["providerId"], "apple_health");
    assert!(
        connections.body["data"][0]["lastSyncedAt"].is_string(),
        "a phone's connection is as fresh as its last accepted push: {}",
        connections.body
    );

    // The day's steps are the sum of the intervals, on the Berlin calendar.
    let days = host
        .get(
            "/v1/me/health/daily-summaries?from=2026-11-20&to=2026-11-20&metricTypes=steps",
            &access,
        )
        .await;
    assert_eq!(days.status, StatusCode::OK, "{}", days.body);
    assert_eq!(days.body["data"][0]["value"], 3200.0);
    assert_eq!(days.body["data"][0]["date"], "2026-11-20");

    let weight = host.get("/v1/me/health?metricType=weight", &access).await;
    let kg = weight.body["data"][0]["value"].as_f64().unwrap();
    assert!((kg - 74.84).abs() < 0.01, "165 lb is {kg} kg");
    let spo2 = host
        .get("/v1/me/health?metricType=blood_oxygen", &access)
        .await;
    assert_eq!(spo2.body["data"][0]["value"], 97.0);
    let heart = host
        .get("/v1/me/health?metricType=heart_rate", &access)
        .await;
    assert_eq!(heart.body["data"].as_array().unwrap().len(), 2);

    let events = host.get("/v1/me/events", &access).await;
    let kinds: Vec<&str> = events.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["eventType"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["workout", "sleep"]);
    let workout = &events.body["data"][0];
    assert_eq!(workout["sport"], "running");
    assert_eq!(workout["providerSport"], "HKWorkoutActivityTypeRunning");
    let one = host
        .get(
            &format!("/v1/me/events/{}", workout["id"].as_str().unwrap()),
            &access,
        )
        .await;
    assert_eq!(one.status, StatusCode::OK);

    // The developer's backend sees the same data with its API key.
    let backend = host
        .get(&format!("/v1/users/{user}/health/daily-summaries?from=2026-11-20&to=2026-11-20&metricTypes=steps"), ROOT_KEY)
        .await;
    assert_eq!(backend.body["data"][0]["value"], 3200.0);
    let records = host.get("/v1/me/personal-records/steps", &access).await;
    assert_eq!(records.body["data"][0]["value"], 3200.0);
}

#[tokio::test]
async fn a_push_sent_twice_is_stored_once_and_bad_samples_are_named() {
    let host = TestHost::start().await;
    let (_, access, _) = signed_in(&host, "twice").await;
    let first = host.post("/v1/me/samples", &access, apple_batch()).await;
    assert!(first.body["counts"]["steps"]["written"].as_u64().unwrap() > 0);
    let second = host.post("/v1/me/samples", &access, apple_batch()).await;
    assert_eq!(second.status, StatusCode::OK);
    for (name, counts) in second.body["counts"].as_object().unwrap() {
        assert_eq!(counts["written"], 0, "{name} was written again");
    }
    let days = host
        .get(
            "/v1/me/health/daily-summaries?from=2026-11-20&to=2026-11-20&metricTypes=steps",
            &access,
        )
        .await;
    assert_eq!(days.body["data"][0]["value"], 3200.0, "not 6400");

    // One bad sample of three: named with its index, the other two stored.
    let mixed = json!({
        "source": "health_connect",
        "samples": [
            {"uuid": "H1", "type": "StepsRecord", "start": "2026-11-21T08:00:00Z", "end": "2026-11-21T09:00:00Z",
             "value": 1500, "unit": "count", "timeZone": "+01:00"},
            {"uuid": "H2", "type": "WeightRecord", "start": "2026-11-21T07:00:00Z", "value": 70, "unit": "stone",
             "timeZone": "+01:00"},
            {"uuid": "H3", "type": "HeartRateVariabilityRmssdRecord", "start": "2026-11-21T03:00:00Z",
             "value": 48, "unit": "ms", "timeZone": "+01:00"}
        ],
        "sessions": [
            {"uuid": "X1", "type": "ExerciseSessionRecord", "start": "2026-11-21T10:00:00Z",
             "end": "2026-11-21T09:00:00Z", "timeZone": "+01:00"}
        ]
    });
    let reply = host.post("/v1/me/samples", &access, mixed).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["accepted"], 2);
    let rejected = reply.body["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 2);
    assert_eq!(rejected[0]["item"], "samples[1]");
    assert_eq!(rejected[0]["index"], 1);
    assert!(rejected[0]["message"].as_str().unwrap().contains("unit"));
    assert_eq!(rejected[1]["item"], "sessions[0]");
    let hrv = host
        .get("/v1/me/health?metricType=heart_rate_variability", &access)
        .await;
    assert_eq!(hrv.body["data"][0]["value"], 48.0);

    // Bodies up to 5 MB are read (this one then fails on its unknown field, not its size);
    // over 5 MB they are refused whole.
    let large =
        json!({"source": "apple_health", "samples": [], "padding": "x".repeat(3 * 1024 * 1024)});
    assert_eq!(
        host.post("/v1/me/samples", &access, large)
            .await
            .invalid_field(),
        "padding"
    );
    let huge =
        json!({"source": "apple_health", "samples": [], "padding": "x".repeat(6 * 1024 * 1024)});
    host.post("/v1/me/samples", &access, huge)
        .await
        .assert_problem(413, "payload-too-large");

    // A push whose every item is refused makes no connection to its source.
    let refused = host
        .post(
            "/v1/me/samples",
            &access,
            json!({"source": "samsung_health", "samples": [{"uuid": "Z1", "type": "Steps"}]}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::OK, "{}", refused.body);
    assert_eq!(refused.body["accepted"], 0);
    assert_eq!(refused.body["connectionId"], Value::Null);
    let sources: Vec<Value> = host.get("/v1/me/connections", &access).await.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["providerId"].clone())
        .collect();
    assert!(!sources.contains(&json!("samsung_health")), "{sources:?}");

    // A push that is not one at all is a problem, not a partial success.
    host.post(
        "/v1/me/samples",
        &access,
        json!({"source": "fitbit", "samples": []}),
    )
    .await
    .assert_problem(400, "validation-error");
}

#[tokio::test]
async fn sign_in_tokens_are_single_use_and_reused_refresh_tokens_revoke_the_session() {
    let host = TestHost::start().await;
    let user = host.user(ROOT_KEY, "careful").await;
    let minted = host
        .post(
            &format!("/v1/users/{user}/sign-in-tokens"),
            ROOT_KEY,
            json!({}),
        )
        .await;
    let token = minted.body["signInToken"].as_str().unwrap().to_owned();
    let grant = [
        ("grant_type", "sign_in_token"),
        ("sign_in_token", token.as_str()),
    ];
    assert_eq!(token_call(&host, &grant).await.0, StatusCode::OK);
    let (status, used) = token_call(&host, &grant).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(used["type"], "https://vitasync.dev/problems/invalid-grant");
    assert_eq!(used["error"], "invalid_grant");

    let (_, access, first_refresh) = signed_in(&host, "rotating").await;
    let (status, rotated) = token_call(
        &host,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &first_refresh),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let second_refresh = rotated["refresh_token"].as_str().unwrap().to_owned();
    let new_access = rotated["access_token"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, first_refresh);
    assert_eq!(host.get("/v1/me", &new_access).await.status, StatusCode::OK);
    assert_eq!(
        host.get("/v1/me", &access).await.status,
        StatusCode::UNAUTHORIZED,
        "the old access token is replaced"
    );

    // Someone replays the first refresh token: the whole session ends.
    let (status, replay) = token_call(
        &host,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &first_refresh),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(replay["detail"].as_str().unwrap().contains("revoked"));
    let (status, _) = token_call(
        &host,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &second_refresh),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the family is revoked");
    host.get("/v1/me", &new_access)
        .await
        .assert_problem(401, "unauthorized");

    // Bad forms.
    let (status, body) = token_call(&host, &[("grant_type", "password")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["field"], "grant_type");
    let (status, body) = token_call(&host, &[("grant_type", "refresh_token")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["field"], "refresh_token");
}

#[tokio::test]
async fn a_users_token_reaches_that_user_alone() {
    let host = TestHost::start().await;
    let (alice, access, refresh) = signed_in(&host, "alice").await;
    let bob = host.user(ROOT_KEY, "bob").await;

    // API-key routes refuse a user's token, whoever they name.
    for path in [
        format!("/v1/users/{bob}/health"),
        format!("/v1/users/{alice}/health"),
        format!("/v1/users/{alice}"),
        "/v1/users".to_owned(),
        "/v1/api-keys".to_owned(),
        "/v1/webhooks".to_owned(),
        "/v1/workspaces".to_owned(),
    ] {
        host.get(&path, &access)
            .await
            .assert_problem(403, "forbidden");
    }
    host.post("/v1/users", &access, json!({"externalId": "mallory"}))
        .await
        .assert_problem(403, "forbidden");
    host.post(
        &format!("/v1/users/{bob}/sign-in-tokens"),
        &access,
        json!({}),
    )
    .await
    .assert_problem(403, "forbidden");

    // /v1/me takes a user's token only.
    host.get("/v1/me", ROOT_KEY)
        .await
        .assert_problem(403, "forbidden");
    host.send(reqwest::Method::GET, "/v1/me", None, None)
        .await
        .assert_problem(401, "unauthorized");
    host.get("/v1/me", "vs_at_01JD0000000000000000000000_forged")
        .await
        .assert_problem(401, "unauthorized");
    assert_eq!(host.get("/v1/me", &access).await.body["id"], alice.as_str());

    // Signing out ends the session: access and refresh.
    let revoked = host
        .raw()
        .post(host.url("/v1/auth/revoke"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={refresh}"))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    let refused = host.get("/v1/me", &access).await;
    refused.assert_problem(401, "unauthorized");
    // The message names the credential the route takes.
    let detail = refused.body["detail"].as_str().unwrap();
    assert!(detail.contains("access token"), "{detail}");
    assert!(!detail.contains("API key"), "{detail}");
    let missing = host.send(Method::GET, "/v1/me", None, None).await;
    assert!(
        missing.body["detail"]
            .as_str()
            .unwrap()
            .contains("access token"),
        "{}",
        missing.body
    );
}

/// Lifetimes, on both hosts: a sign-in token lasts 10 minutes, an access token an hour.
async fn tokens_expire(host: Host) {
    let h = harness_on(host, ProviderId::Withings).await;
    let late = h
        .services
        .user_sessions
        .create_sign_in_token(&h.caller, &h.user)
        .await
        .unwrap();
    h.clock.advance(11 * 60);
    assert!(matches!(
        h.services
            .user_sessions
            .exchange_sign_in_token(&late.token)
            .await,
        Err(DomainError::InvalidGrant(_))
    ));
    let minted = h
        .services
        .user_sessions
        .create_sign_in_token(&h.caller, &h.user)
        .await
        .unwrap();
    let tokens = h
        .services
        .user_sessions
        .exchange_sign_in_token(&minted.token)
        .await
        .unwrap();
    let me = h
        .services
        .user_sessions
        .authenticate_user(Some(&tokens.access_token))
        .await
        .unwrap();
    assert_eq!(
        me.user.as_ref().map(ToString::to_string),
        Some(h.user.clone())
    );
    h.clock.advance(3601);
    assert!(matches!(
        h.services
            .user_sessions
            .authenticate_user(Some(&tokens.access_token))
            .await,
        Err(DomainError::Unauthenticated(_))
    ));
    // The refresh token still works, and brings a fresh access token.
    let fresh = h
        .services
        .user_sessions
        .refresh_user_session(&tokens.refresh_token)
        .await
        .unwrap();
    h.services
        .user_sessions
        .authenticate_user(Some(&fresh.access_token))
        .await
        .unwrap();
}

/// Pushes on both hosts: stored once, read back, on DynamoDB too.
async fn pushes_are_idempotent(host: Host) {
    let h = harness_on(host, ProviderId::Withings).await;
    let (_, me) = h.signed_in().await;
    let batch = apple_batch();
    let push = || {
        SamplePush::from_values(
            "apple_health",
            batch["samples"].as_array().unwrap(),
            batch["sessions"].as_array().unwrap(),
        )
    };
    let receiver = Receiver::start(&[204]).await;
    h.services
        .webhook_endpoints
        .create_endpoint(
            &h.caller,
            EndpointDraft {
                url: receiver.url.clone(),
                events: vec!["data.updated".into(), "connection.created".into()],
                ..EndpointDraft::default()
            },
        )
        .await
        .unwrap();
    let first = h
        .services
        .phone_ingest
        .push_samples(&me, push())
        .await
        .unwrap();
    assert_eq!(first.accepted, 8);
    let again = h
        .services
        .phone_ingest
        .push_samples(&me, push())
        .await
        .unwrap();
    h.run_deliveries().await;
    let announced: Vec<Value> = receiver
        .received()
        .iter()
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    let types: Vec<&str> = announced
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["connection.created", "data.updated"],
        "nothing for the repeat"
    );
    assert_eq!(announced[1]["data"]["provider"], "apple_health");
    assert!(
        announced[1]["data"]["dataTypes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "steps")
    );
    assert_eq!(again.connection_id, first.connection_id);
    assert!(
        again.counts.values().all(|c| c.written == 0),
        "{:?}",
        again.counts
    );
    // A phone source filters reads like any provider.
    let from_phone = h
        .services
        .health_reads
        .list_records(
            &me,
            &h.user,
            &RecordsQuery {
                metric_type: Some("heart_rate".into()),
                provider_id: Some("apple_health".into()),
                ..RecordsQuery::default()
            },
        )
        .await
        .unwrap();
    assert!(!from_phone.items.is_empty());
    assert!(
        from_phone
            .items
            .iter()
            .all(|r| r.provider == ProviderId::AppleHealth)
    );
    let connections = h
        .services
        .directory
        .list_connections(&me, &h.user)
        .await
        .unwrap();
    assert_eq!(connections.len(), 1);
    assert_eq!(connections[0].provider, ProviderId::AppleHealth);
    // A phone's store has nothing to fetch.
    assert!(matches!(
        h.services
            .sync_jobs
            .trigger_sync(
                &h.caller,
                &h.user,
                connections[0].id.as_str(),
                Default::default()
            )
            .await,
        Err(DomainError::Conflict(_))
    ));
}

on_both_hosts!(tokens_expire, pushes_are_idempotent);

/// A large push is read in two halves at once: its bad items are still named by their own
/// index, and every good one is stored.
#[tokio::test]
async fn a_large_push_names_its_bad_items_by_their_own_index() {
    let h = harness_on(Host::Embedded, ProviderId::Withings).await;
    let (_, me) = h.signed_in().await;
    let start = vitasync_domain::kernel::time::Timestamp::parse("2026-11-20T06:00:00Z")
        .unwrap()
        .millis();
    let samples: Vec<Value> = (0..2500i64)
        .map(|n| {
            let at = vitasync_domain::kernel::time::Timestamp::from_millis(start + n * 1000)
                .unwrap()
                .to_string();
            let unit = if n == 10 || n == 2400 {
                "furlongs"
            } else {
                "count/min"
            };
            json!({"uuid": format!("L{n}"), "type": "HKQuantityTypeIdentifierHeartRate",
                   "start": at, "value": 60 + n % 7, "unit": unit, "timeZone": "Europe/Berlin"})
        })
        .collect();
    let report = h
        .services
        .phone_ingest
        .push_samples(&me, SamplePush::from_values("apple_health", &samples, &[]))
        .await
        .unwrap();
    assert_eq!(report.accepted, 2498);
    let named: Vec<usize> = report.rejected.iter().map(|r| r.index).collect();
    assert_eq!(named, [10, 2400]);
    assert_eq!(report.counts["heart_rate"].written, 2498);
}
