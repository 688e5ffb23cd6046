//! Provider webhooks on both hosts: every handshake and signature scheme, accepted and
//! refused with the provider's status codes, and what an accepted notice does.

use crate::harness::{Harness, Host, harness_with, on_both_hosts};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::{Value, json};
use sha2::Sha256;
use vitasync_domain::connections::ConnectionStatus;
use vitasync_domain::health::DataType;
use vitasync_domain::health::query::DailyQuery;
use vitasync_domain::inbound::push::{PushMethod, PushReply, PushRequest};
use vitasync_domain::kernel::time::Timestamp;
use vitasync_domain::providers::ProviderId;
use vitasync_domain::sync::jobs::{JobMessage, SyncJob};
use vitasync_tests::fake_provider::CLIENT_SECRET;

const VERIFY_TOKEN: &str = "verify-token-for-tests";
const POLAR_SECRET: &str = "polar-signature-secret-key";
const GOOGLE_SECRET: &str = "Bearer google-endpoint-secret";

pub(crate) fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/providers")
            .join(path),
    )
    .unwrap()
}

pub(crate) fn request(
    method: PushMethod,
    query: &[(&str, &str)],
    headers: &[(&str, String)],
    body: &[u8],
) -> PushRequest {
    PushRequest {
        method,
        query: query
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        headers: headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
        body: body.to_vec(),
        path_secret: None,
    }
}

pub(crate) fn post(headers: &[(&str, String)], body: &[u8]) -> PushRequest {
    request(PushMethod::Post, &[], headers, body)
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

impl Harness {
    async fn push(&self, request: PushRequest) -> PushReply {
        self.services
            .pushes
            .receive_push(self.fake.provider.as_str(), None, &request)
            .await
            .unwrap()
    }

    /// The sync jobs queued since the test began, as stored.
    pub(crate) async fn queued_jobs(&self) -> Vec<SyncJob> {
        self.relay().await;
        let mut jobs = Vec::new();
        for message in self.queue.sent() {
            if let Ok(message) = serde_json::from_str::<JobMessage>(&message.body) {
                jobs.push(
                    self.services
                        .sync_jobs
                        .get_job(&self.caller, message.job_id.as_str())
                        .await
                        .unwrap(),
                );
            }
        }
        jobs
    }

    /// The user's steps on `date`, as the query API reports them.
    async fn steps_on(&self, date: &str) -> Option<f64> {
        let rows = self
            .services
            .health_reads
            .daily_summaries(
                &self.caller,
                &self.user,
                &DailyQuery {
                    from: Some(date.into()),
                    to: Some(date.into()),
                    metric_types: Some("steps".into()),
                },
            )
            .await
            .unwrap();
        rows.first().map(|row| row.value)
    }

    pub(crate) fn now_seconds(&self) -> i64 {
        vitasync_domain::kernel::time::Clock::now(self.clock.as_ref()).millis() / 1000
    }
}

fn names(types: &[DataType]) -> Vec<&'static str> {
    types.iter().map(|t| t.as_str()).collect()
}

async fn strava_handshake_and_events(host: Host) {
    let h = harness_with(
        host,
        ProviderId::Strava,
        &[("STRAVA_WEBHOOK_VERIFY_TOKEN", VERIFY_TOKEN)],
    )
    .await;
    let connection = h.connect().await;
    let challenge = |token: &str| {
        request(
            PushMethod::Get,
            &[
                ("hub.mode", "subscribe"),
                ("hub.challenge", "15f7d1a91c1f40f8a748fd134752feb3"),
                ("hub.verify_token", token),
            ],
            &[],
            b"",
        )
    };
    assert_eq!(
        h.push(challenge(VERIFY_TOKEN)).await,
        PushReply::json(
            200,
            json!({ "hub.challenge": "15f7d1a91c1f40f8a748fd134752feb3" })
        )
    );
    assert_eq!(h.push(challenge("guess")).await, PushReply::status(403));

    // An activity: a sync of the days around it, of workouts and their heart rate.
    let created = fixture("strava/webhook-event-activity-create.json");
    assert_eq!(h.push(post(&[], &created)).await, PushReply::status(200));
    let jobs = h.queued_jobs().await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].connection_id, connection.id);
    assert_eq!(names(&jobs[0].data_types), ["workout", "heart_rate"]);
    let event_time = Timestamp::from_millis(1_772_434_570_000).unwrap();
    assert!(jobs[0].from.unwrap() < event_time && jobs[0].to.unwrap() > event_time);

    // Strava's retry of the same event, after the first sync ran: no second sync.
    h.work_queue().await;
    assert_eq!(h.push(post(&[], &created)).await, PushReply::status(200));
    assert_eq!(h.queued_jobs().await.len(), 1);

    // Anyone can send Strava's unsigned deauthorisation: it is checked with the provider,
    // whose answer (still authorised) keeps the connection.
    let deauthorized = fixture("strava/webhook-event-athlete-deauthorize.json");
    assert_eq!(
        h.push(post(&[], &deauthorized)).await,
        PushReply::status(200)
    );
    assert_eq!(
        h.queued_jobs().await.len(),
        2,
        "a check with the user's token"
    );
    assert_eq!(h.reread(&connection).await.status, ConnectionStatus::Active);
    h.work_queue().await;
    let kept = h.reread(&connection).await;
    assert_eq!(
        kept.status,
        ConnectionStatus::Active,
        "a forged push ends nothing"
    );
    assert!(
        h.services.tokens.access_token(&kept).await.is_ok(),
        "tokens kept"
    );

    // A real one: the provider refuses the user's token, and the connection ends.
    h.fake.reject_all_access();
    let again = String::from_utf8(deauthorized.clone())
        .unwrap()
        .replace("1772532000", "1772532999");
    h.push(post(&[], again.as_bytes())).await;
    h.work_queue().await;
    let after = h.reread(&connection).await;
    assert_eq!(after.status, ConnectionStatus::Disconnected);
    assert_eq!(after.status_reason.as_deref(), Some("revoked_at_provider"));

    assert_eq!(h.push(post(&[], b"not json")).await, PushReply::status(400));
}

async fn withings_check_and_notifications(host: Host) {
    let h = harness_with(host, ProviderId::Withings, &[]).await;
    let connection = h.connect().await;
    assert_eq!(
        h.push(request(PushMethod::Head, &[], &[], b"")).await,
        PushReply::status(200)
    );
    let weight = fixture("withings/notification-appli1.form-urlencoded.txt");
    assert_eq!(h.push(post(&[], &weight)).await, PushReply::status(200));
    let jobs = h.queued_jobs().await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(names(&jobs[0].data_types), ["weight", "body_fat", "bmi"]);
    let start = Timestamp::from_millis(1_772_432_700_000).unwrap();
    assert!(jobs[0].from.unwrap() <= start.plus_seconds(-3600));
    assert!(jobs[0].to.unwrap() >= start);

    assert_eq!(
        h.push(post(&[], b"appli=1&startdate=1")).await,
        PushReply::status(400),
        "no userid"
    );
    // An unlink is checked with Withings before anything ends.
    h.work_queue().await;
    let unlink = fixture("withings/notification-appli46-unlink.form-urlencoded.txt");
    assert_eq!(h.push(post(&[], &unlink)).await, PushReply::status(200));
    h.work_queue().await;
    assert_eq!(h.reread(&connection).await.status, ConnectionStatus::Active);
    let revoked_subscription = h
        .fake
        .requests_to("/notify")
        .iter()
        .any(|call| call.params.get("action").map(String::as_str) == Some("revoke"));
    assert!(!revoked_subscription, "a forged unlink changes nothing");
    h.fake.reject_all_access();
    let unlink_later = String::from_utf8(unlink).unwrap().trim().to_owned() + "&date=2026-03-04";
    assert_eq!(
        h.push(post(&[], unlink_later.as_bytes())).await,
        PushReply::status(200)
    );
    h.work_queue().await;
    assert_eq!(
        h.reread(&connection).await.status,
        ConnectionStatus::Disconnected
    );
}

pub(crate) fn oura_headers(body: &[u8], at: i64, secret: &str) -> Vec<(&'static str, String)> {
    let timestamp = at.to_string();
    let signature = hex::encode_upper(hmac(secret.as_bytes(), &[timestamp.as_bytes(), body]));
    vec![
        ("x-oura-signature", signature),
        ("x-oura-timestamp", timestamp),
    ]
}

async fn oura_challenge_and_signed_events(host: Host) {
    let h = harness_with(
        host,
        ProviderId::Oura,
        &[("OURA_WEBHOOK_VERIFY_TOKEN", VERIFY_TOKEN)],
    )
    .await;
    h.connect().await;
    let challenge = |token: &str| {
        request(
            PushMethod::Get,
            &[
                ("verification_token", token),
                ("challenge", "c3f1b2a9-random-challenge"),
            ],
            &[],
            b"",
        )
    };
    assert_eq!(
        h.push(challenge(VERIFY_TOKEN)).await,
        PushReply::json(200, json!({ "challenge": "c3f1b2a9-random-challenge" }))
    );
    assert_eq!(h.push(challenge("guess")).await, PushReply::status(401));

    let body = fixture("oura/webhook-event.json");
    let now = h.now_seconds();
    for refused in [
        oura_headers(&body, now, "not-the-secret"),
        oura_headers(&body, now - 3600, CLIENT_SECRET),
        vec![],
    ] {
        assert_eq!(h.push(post(&refused, &body)).await, PushReply::status(401));
    }
    // Oura's hex may come in either case: it is compared as bytes.
    let mut lower = oura_headers(&body, now, CLIENT_SECRET);
    lower[0].1 = lower[0].1.to_lowercase();
    assert_eq!(h.push(post(&lower, &body)).await, PushReply::status(200));
    let jobs = h.queued_jobs().await;
    assert_eq!(jobs.len(), 1, "only the signed, fresh event is acted on");
    assert!(names(&jobs[0].data_types).contains(&"sleep"));
}

async fn whoop_signed_events(host: Host) {
    let h = harness_with(host, ProviderId::Whoop, &[]).await;
    h.connect().await;
    let body = fixture("whoop/webhook-event-v2.json");
    let signed = |millis: i64, secret: &str| {
        let timestamp = millis.to_string();
        vec![
            (
                "x-whoop-signature",
                STANDARD.encode(hmac(secret.as_bytes(), &[timestamp.as_bytes(), &body])),
            ),
            ("x-whoop-signature-timestamp", timestamp),
        ]
    };
    let now_ms = vitasync_domain::kernel::time::Clock::now(h.clock.as_ref()).millis();
    assert_eq!(
        h.push(post(&signed(now_ms, "wrong"), &body)).await,
        PushReply::status(401)
    );
    assert_eq!(
        h.push(post(&signed(now_ms - 600_000, CLIENT_SECRET), &body))
            .await,
        PushReply::status(401),
        "ten minutes old"
    );
    let mut tampered = body.clone();
    tampered.push(b' ');
    assert_eq!(
        h.push(post(&signed(now_ms, CLIENT_SECRET), &tampered))
            .await,
        PushReply::status(401),
        "signed bytes are not the bytes sent"
    );
    assert_eq!(
        h.push(post(&signed(now_ms, CLIENT_SECRET), &body)).await,
        PushReply::status(200)
    );
    let jobs = h.queued_jobs().await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(names(&jobs[0].data_types), ["sleep", "respiratory_rate"]);
}

async fn polar_ping_and_signed_events(host: Host) {
    let h = harness_with(
        host,
        ProviderId::Polar,
        &[("POLAR_WEBHOOK_SECRET", POLAR_SECRET)],
    )
    .await;
    h.connect().await;
    assert_eq!(
        h.push(post(&[], &fixture("polar/webhook-ping.json"))).await,
        PushReply::status(200)
    );
    let body = fixture("polar/webhook-event-exercise.json");
    let sign = |secret: &str| {
        vec![(
            "polar-webhook-signature",
            hex::encode(hmac(secret.as_bytes(), &[&body])),
        )]
    };
    assert_eq!(
        h.push(post(&sign("wrong"), &body)).await,
        PushReply::status(401)
    );
    assert_eq!(h.push(post(&[], &body)).await, PushReply::status(401));
    assert_eq!(
        h.push(post(&sign(POLAR_SECRET), &body)).await,
        PushReply::status(200)
    );
    let jobs = h.queued_jobs().await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(names(&jobs[0].data_types), ["workout"]);
}

const GARMIN_SECRET: &str = "garmin-path-secret-for-tests";

/// A push as Garmin sends it to `/webhooks/garmin/<secret>`.
fn garmin_post(secret: Option<&str>, body: &[u8]) -> PushRequest {
    let client = [(
        "garmin-client-id",
        vitasync_tests::fake_provider::CLIENT_ID.to_owned(),
    )];
    PushRequest {
        path_secret: secret.map(str::to_owned),
        ..post(&client, body)
    }
}

async fn garmin_harness(host: Host) -> Harness {
    harness_with(
        host,
        ProviderId::Garmin,
        &[("GARMIN_WEBHOOK_SECRET", GARMIN_SECRET)],
    )
    .await
}

async fn garmin_push_ping_and_deregistration(host: Host) {
    let h = garmin_harness(host).await;
    let connection = h.connect().await;
    let dailies = fixture("garmin/push-dailies.json");
    // The client id is public: it proves nothing without the secret path.
    for refused in [
        post(&[], &dailies),
        garmin_post(None, &dailies),
        garmin_post(Some("guessed-secret"), &dailies),
        PushRequest {
            path_secret: Some(GARMIN_SECRET.into()),
            ..post(&[("garmin-client-id", "someone-else".into())], &dailies)
        },
    ] {
        assert_eq!(h.push(refused).await, PushReply::status(401));
    }
    assert!(h.queue.sent().is_empty(), "nothing refused is queued");

    // Pushed data is queued, then stored by the worker through Garmin's mapping.
    assert_eq!(
        h.push(garmin_post(Some(GARMIN_SECRET), &dailies)).await,
        PushReply::status(200)
    );
    assert!(
        h.queued_jobs().await.is_empty(),
        "pushed data needs no fetch"
    );
    assert_eq!(h.work_queue().await, 1);
    assert_eq!(h.steps_on("2026-03-02").await, Some(12874.0));

    // A ping: a sync of the upload window it names.
    assert_eq!(
        h.push(garmin_post(
            Some(GARMIN_SECRET),
            &fixture("garmin/ping-dailies.json")
        ))
        .await,
        PushReply::status(200)
    );
    let jobs = h.queued_jobs().await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].from, Timestamp::from_millis(1_772_492_400_000));
    assert_eq!(jobs[0].to, Timestamp::from_millis(1_772_492_460_000));
    assert!(names(&jobs[0].data_types).contains(&"steps"));

    // A deregistration is checked with Garmin, using the user's token, before anything ends.
    h.work_queue().await;
    let deregistrations = fixture("garmin/push-deregistrations.json");
    assert_eq!(
        h.push(garmin_post(Some(GARMIN_SECRET), &deregistrations))
            .await,
        PushReply::status(200)
    );
    h.work_queue().await;
    assert_eq!(h.reread(&connection).await.status, ConnectionStatus::Active);
    h.fake.reject_all_access();
    let mut later: Value = serde_json::from_slice(&deregistrations).unwrap();
    later["deregistrations"][0]["deregistrationTime"] = json!(1_772_600_000);
    let later = serde_json::to_vec(&later).unwrap();
    h.push(garmin_post(Some(GARMIN_SECRET), &later)).await;
    h.work_queue().await;
    assert_eq!(
        h.reread(&connection).await.status,
        ConnectionStatus::Disconnected
    );
}

async fn garmin_large_pushes_are_stored_whole(host: Host) {
    let h = garmin_harness(host).await;
    h.connect().await;
    let day: Value = serde_json::from_slice(&fixture("garmin/push-dailies.json")).unwrap();
    let template = day["dailies"][0].clone();
    // 400 days of 1-minute heart rate: several megabytes, several queue messages.
    let dailies: Vec<Value> = (0..400)
        .map(|n| {
            let mut item = template.clone();
            let start = 1_740_000_000 + n * 86_400;
            item["summaryId"] = json!(format!("day-{n}"));
            item["startTimeInSeconds"] = json!(start);
            item["calendarDate"] = json!(
                chrono::DateTime::from_timestamp(start, 0)
                    .unwrap()
                    .format("%Y-%m-%d")
                    .to_string()
            );
            item["timeOffsetHeartRateSamples"] = (0..1440)
                .map(|m| (format!("{}", m * 60), json!(60 + m % 40)))
                .collect::<serde_json::Map<_, _>>()
                .into();
            item
        })
        .collect();
    let body = serde_json::to_vec(&json!({ "dailies": dailies })).unwrap();
    assert!(body.len() > 2 * 1024 * 1024);
    assert_eq!(
        h.push(garmin_post(Some(GARMIN_SECRET), &body)).await,
        PushReply::status(200)
    );
    let pieces = h.queue.sent().len();
    assert!(pieces > 5, "split into queue-sized pieces, not {pieces}");
    assert!(h.queue.sent().iter().all(|m| m.body.len() < 256 * 1024));
    assert_eq!(h.work_queue().await, pieces);
    for n in [0, 199, 399] {
        let date = chrono::DateTime::from_timestamp(1_740_000_000 + n * 86_400, 0)
            .unwrap()
            .format("%Y-%m-%d")
            .to_string();
        assert_eq!(h.steps_on(&date).await, Some(12874.0), "{date} was stored");
    }
}

/// Google's keyset, served locally: Tink JSON with one ECDSA P-256 key, or failing.
struct Keyset {
    url: String,
    fetches: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    down: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

const KEY_ID: u32 = 1_234_567_890;

fn signing_key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32].into()).unwrap()
}

/// A serialised Tink `EcdsaPublicKey`: version, params (SHA-256, P-256, DER), x and y.
fn tink_public_key(key: &SigningKey) -> Vec<u8> {
    let point = key.verifying_key().to_encoded_point(false);
    let mut message = vec![0x08, 0x00, 0x12, 0x06, 0x08, 0x03, 0x10, 0x03, 0x18, 0x01];
    for (tag, coordinate) in [(0x1a, point.x().unwrap()), (0x22, point.y().unwrap())] {
        message.extend([tag, 33, 0x00]);
        message.extend(coordinate.iter());
    }
    message
}

impl Keyset {
    async fn start() -> Self {
        use std::sync::atomic::Ordering;
        let fetches = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let down = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let body = json!({
            "primaryKeyId": KEY_ID,
            "key": [{
                "keyData": {
                    "typeUrl": "type.googleapis.com/google.crypto.tink.EcdsaPublicKey",
                    "value": STANDARD.encode(tink_public_key(&signing_key())),
                    "keyMaterialType": "ASYMMETRIC_PUBLIC",
                },
                "status": "ENABLED",
                "keyId": KEY_ID,
                "outputPrefixType": "TINK",
            }],
        });
        let (count, failing) = (fetches.clone(), down.clone());
        let app = axum::Router::new().route(
            "/keyset.json",
            axum::routing::get(move || {
                let (count, failing, body) = (count.clone(), failing.clone(), body.clone());
                async move {
                    count.fetch_add(1, Ordering::SeqCst);
                    if failing.load(Ordering::SeqCst) {
                        Err(axum::http::StatusCode::INTERNAL_SERVER_ERROR)
                    } else {
                        Ok(axum::Json(body))
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/keyset.json", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, fetches, down }
    }
}

/// The Tink signature header: `0x01 ‖ key id ‖ DER ECDSA signature`, base64.
fn google_signature(key_id: u32, body: &[u8]) -> String {
    let signature: Signature = signing_key().sign(body);
    let mut bytes = vec![1];
    bytes.extend(key_id.to_be_bytes());
    bytes.extend(signature.to_der().as_bytes());
    STANDARD.encode(bytes)
}

async fn google_health_verification_and_signed_notifications(host: Host) {
    let keyset = Keyset::start().await;
    let h = harness_with(
        host,
        ProviderId::Fitbit,
        &[
            ("FITBIT_WEBHOOK_SECRET", GOOGLE_SECRET),
            ("FITBIT_WEBHOOK_KEYSET_URL", &keyset.url),
        ],
    )
    .await;
    h.connect().await;
    let authorised = |extra: Option<(&'static str, String)>| {
        let mut headers = vec![("authorization", GOOGLE_SECRET.to_owned())];
        headers.extend(extra);
        headers
    };

    // The handshake: 201 with the secret, 401 without, 403 with another.
    let verification = fixture("google-health/webhook-verification.json");
    assert_eq!(
        h.push(post(&authorised(None), &verification)).await,
        PushReply::status(201)
    );
    assert_eq!(
        h.push(post(&[], &verification)).await,
        PushReply::status(401)
    );
    assert_eq!(
        h.push(post(
            &[("authorization", "Bearer guess".into())],
            &verification
        ))
        .await,
        PushReply::status(403)
    );

    let batch = fixture("google-health/webhook-notification-batch.json");
    let signed = |key_id: u32, body: &[u8]| {
        authorised(Some((
            "google-health-api-signature",
            google_signature(key_id, body),
        )))
    };
    // Unsigned, or signed over other bytes: refused. Signed by a key the keyset does not
    // have yet (a rotation): Google is asked to retry.
    assert_eq!(
        h.push(post(&authorised(None), &batch)).await,
        PushReply::status(403)
    );
    assert_eq!(
        h.push(post(&signed(KEY_ID, b"other bytes"), &batch)).await,
        PushReply::status(403)
    );
    assert_eq!(
        h.push(post(&signed(KEY_ID + 1, &batch), &batch)).await,
        PushReply::status(503)
    );
    assert!(h.queued_jobs().await.is_empty());

    // Signed: acknowledged with 204, one sync per notification in the batch.
    assert_eq!(
        h.push(post(&signed(KEY_ID, &batch), &batch)).await,
        PushReply::status(204)
    );
    let jobs = h.queued_jobs().await;
    assert_eq!(jobs.len(), 1, "the second notice joins the job under way");
    assert_eq!(names(&jobs[0].data_types), ["steps"]);
    let changed = Timestamp::parse("2026-11-20T14:06:00Z").unwrap();
    assert!(jobs[0].from.unwrap() < changed && jobs[0].to.unwrap() > changed);
    assert_eq!(
        keyset.fetches.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the keyset is fetched once and kept"
    );

    // Google's older header name is read too; a delete of a night's sleep re-reads it.
    h.work_queue().await;
    let deleted = fixture("google-health/webhook-notification-delete-sleep.json");
    let mut headers = authorised(Some((
        "x-healthapi-signature",
        google_signature(KEY_ID, &deleted),
    )));
    headers.rotate_left(1);
    assert_eq!(
        h.push(post(&headers, &deleted)).await,
        PushReply::status(204)
    );
    let jobs = h.queued_jobs().await;
    assert_eq!(jobs.len(), 2);
    assert_eq!(names(&jobs[1].data_types), ["sleep"]);
}

async fn google_health_keyset_outage_asks_for_a_retry(host: Host) {
    let keyset = Keyset::start().await;
    keyset.down.store(true, std::sync::atomic::Ordering::SeqCst);
    let h = harness_with(
        host,
        ProviderId::Fitbit,
        &[
            ("FITBIT_WEBHOOK_SECRET", GOOGLE_SECRET),
            ("FITBIT_WEBHOOK_KEYSET_URL", &keyset.url),
        ],
    )
    .await;
    h.connect().await;
    let batch = fixture("google-health/webhook-notification-batch.json");
    let headers = vec![
        ("authorization", GOOGLE_SECRET.to_owned()),
        (
            "google-health-api-signature",
            google_signature(KEY_ID, &batch),
        ),
    ];
    assert_eq!(h.push(post(&headers, &batch)).await, PushReply::status(503));
    assert!(h.queued_jobs().await.is_empty());
}

on_both_hosts!(
    google_health_verification_and_signed_notifications,
    google_health_keyset_outage_asks_for_a_retry,
    strava_handshake_and_events,
    withings_check_and_notifications,
    oura_challenge_and_signed_events,
    whoop_signed_events,
    polar_ping_and_signed_events,
    garmin_push_ping_and_deregistration,
    garmin_large_pushes_are_stored_whole,
    garmin_backfills_arrive_by_push_and_are_stored_once,
);

/// What Garmin's cloud does with an accepted backfill request: later, it pushes the
/// summaries of that window, a push per summary type. Built from the documented payloads,
/// one set per local day, with each day's own offset: Berlin in winter, Berlin after the
/// spring change (29 March), and Kathmandu (UTC+05:45) for a journey at the end.
fn garmin_backfill_pushes(h: &Harness) -> Vec<Vec<u8>> {
    let template = |kind: &str| -> Value {
        let body: Value = if kind == "bodyComps" {
            json!({ "bodyComps": serde_json::from_slice::<Value>(&fixture("garmin/pull-body-comps.json")).unwrap() })
        } else {
            serde_json::from_slice(&fixture(&format!("garmin/push-{kind}.json"))).unwrap()
        };
        body[kind][0].clone()
    };
    let offset_on = |date: chrono::NaiveDate| -> i64 {
        if date >= chrono::NaiveDate::from_ymd_opt(2026, 3, 31).unwrap() {
            5 * 3600 + 45 * 60
        } else if date >= chrono::NaiveDate::from_ymd_opt(2026, 3, 29).unwrap() {
            7200
        } else {
            3600
        }
    };
    let mut pushes = Vec::new();
    for request in h
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/wellness-api/rest/backfill/"))
    {
        let kind = request
            .path
            .trim_start_matches("/wellness-api/rest/backfill/");
        let start: i64 = request.params["summaryStartTimeInSeconds"].parse().unwrap();
        let end: i64 = request.params["summaryEndTimeInSeconds"].parse().unwrap();
        let mut items = Vec::new();
        let mut date = chrono::DateTime::from_timestamp(start, 0)
            .unwrap()
            .date_naive();
        let last = chrono::DateTime::from_timestamp(end - 1, 0)
            .unwrap()
            .date_naive();
        while date <= last {
            let offset = offset_on(date);
            let midnight = date.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp() - offset;
            // Epochs have no sample of their own: a walk's 15 minutes, as documented.
            let mut item = if kind == "epochs" {
                json!({})
            } else {
                template(kind)
            };
            item["summaryId"] = json!(format!("{kind}-{date}"));
            item["calendarDate"] = json!(date.to_string());
            item["startTimeOffsetInSeconds"] = json!(offset);
            let at = match kind {
                // The night before the day it is counted on, from 23:23 local time.
                "sleeps" | "hrv" => midnight - 37 * 60,
                // A run at 07:12 local time; a weigh-in at 07:25.
                "activities" => midnight + 7 * 3600 + 12 * 60,
                "bodyComps" => midnight + 7 * 3600 + 25 * 60,
                "epochs" => midnight + 10 * 3600,
                _ => midnight,
            };
            item["startTimeInSeconds"] = json!(at);
            match kind {
                "activities" => {
                    item["activityId"] =
                        json!(date.to_string().replace('-', "").parse::<i64>().unwrap());
                }
                "bodyComps" => {
                    item["measurementTimeInSeconds"] = json!(at);
                    item["measurementTimeOffsetInSeconds"] = json!(offset);
                }
                "epochs" => {
                    item = json!({
                        "userId": template("dailies")["userId"], "summaryId": format!("epochs-{date}"),
                        "activityType": "WALKING", "startTimeInSeconds": at,
                        "startTimeOffsetInSeconds": offset, "durationInSeconds": 900,
                        "steps": 412, "distanceInMeters": 301.5, "intensity": "ACTIVE",
                    });
                }
                "sleeps" => {
                    // The stages move with the night.
                    let shift = at - template("sleeps")["startTimeInSeconds"].as_i64().unwrap();
                    if let Some(levels) = item["sleepLevelsMap"].as_object_mut() {
                        for spans in levels.values_mut() {
                            for span in spans.as_array_mut().into_iter().flatten() {
                                for field in ["startTimeInSeconds", "endTimeInSeconds"] {
                                    span[field] = json!(span[field].as_i64().unwrap() + shift);
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
            items.push(item);
            date = date.succ_opt().unwrap();
        }
        pushes.push(serde_json::to_vec(&json!({ kind: items })).unwrap());
    }
    pushes
}

/// Garmin, black-box: a sync of history asks Garmin for backfills; Garmin's pushes arrive
/// later and are stored with each day's offset, stored once however often they come, and
/// announced.
async fn garmin_backfills_arrive_by_push_and_are_stored_once(host: Host) {
    let h = garmin_harness(host).await;
    let connection = h.connect().await;
    let receiver = vitasync_tests::receiver::Receiver::start(&[204]).await;
    h.services
        .webhook_endpoints
        .create_endpoint(
            &h.caller,
            vitasync_domain::announce::endpoints::EndpointDraft {
                url: receiver.url.clone(),
                events: vec!["data.updated".into()],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // Two weeks back: the older week by backfill (accepted, answered later), the newer one
    // pulled by upload time (nothing was uploaded then).
    let job = h
        .services
        .sync_jobs
        .trigger_sync(
            &h.caller,
            &h.user,
            connection.id.as_str(),
            vitasync_domain::sync::SyncRequest {
                from: Timestamp::parse("2026-03-26T00:00:00Z"),
                to: Timestamp::parse("2026-04-09T00:00:00Z"),
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
    assert_eq!(
        job.status,
        vitasync_domain::sync::jobs::JobStatus::Succeeded,
        "{job:?}"
    );
    let pushes = garmin_backfill_pushes(&h);
    let kinds: std::collections::BTreeSet<String> = h
        .fake
        .requests()
        .iter()
        .filter_map(|r| {
            r.path
                .strip_prefix("/wellness-api/rest/backfill/")
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        [
            "activities",
            "bodyComps",
            "dailies",
            "epochs",
            "hrv",
            "sleeps"
        ]
    );

    // Later, Garmin pushes the backfilled summaries.
    for body in &pushes {
        assert_eq!(
            h.push(garmin_post(Some(GARMIN_SECRET), body)).await,
            PushReply::status(200)
        );
    }
    h.work_queue().await;
    let owner = vitasync_domain::ports::RecordOwner {
        workspace: connection.workspace_id.clone(),
        user: connection.user_id.clone(),
        connection: connection.id.clone(),
    };
    let stored = || async {
        h.ports
            .health
            .records_between(&owner, "", "~")
            .await
            .unwrap()
    };
    let first = stored().await;
    let day = |metric: &str, date: &str| -> vitasync_domain::health::DailySummary {
        let key = format!("D#{metric}#{date}");
        let (_, bytes) = first
            .iter()
            .find(|(k, _)| *k == key)
            .unwrap_or_else(|| panic!("{key}"));
        serde_json::from_slice(bytes).unwrap()
    };
    // Each day at its own offset: before and after the change, and in Kathmandu.
    for (date, offset) in [
        ("2026-03-28", 3600),
        ("2026-03-29", 7200),
        ("2026-03-30", 7200),
        ("2026-03-31", 20700),
    ] {
        let steps = day("steps", date);
        assert_eq!(
            (steps.value, steps.utc_offset_seconds),
            (12874.0, offset),
            "{date}"
        );
    }
    let session = |kind: &str, date: &str| -> vitasync_domain::health::Session {
        first
            .iter()
            .filter(|(k, _)| k.starts_with(&format!("X#{kind}#")))
            .map(|(_, bytes)| {
                serde_json::from_slice::<vitasync_domain::health::Session>(bytes).unwrap()
            })
            .find(|s| s.date == date)
            .unwrap_or_else(|| panic!("{kind} on {date}"))
    };
    // The run at 07:12 local time in Kathmandu is 01:27 UTC.
    let run = session("workout", "2026-03-31");
    assert_eq!(
        (run.start_ms, run.utc_offset_seconds, run.sport.as_deref()),
        (
            Timestamp::parse("2026-03-31T01:27:00Z").unwrap().millis(),
            20700,
            Some("running")
        )
    );
    let night = session("sleep", "2026-03-30");
    assert_eq!(night.utc_offset_seconds, 7200);
    assert!(!night.stages.is_empty());
    assert_eq!(
        day("heart_rate_variability", "2026-03-29").utc_offset_seconds,
        7200
    );
    let weigh_ins = first
        .iter()
        .filter(|(k, _)| k.starts_with("E#weight#"))
        .count();
    assert!(weigh_ins >= 6, "{weigh_ins} weigh-ins");
    assert!(
        first.iter().any(|(k, _)| k.starts_with("S#steps#")),
        "epochs"
    );

    // Garmin retries (or pushes the same summaries again): nothing changes.
    let announced = {
        h.run_deliveries().await;
        receiver.received().len()
    };
    assert!(announced >= 1, "data.updated was sent");
    let event: Value = serde_json::from_str(&receiver.received()[0].body).unwrap();
    assert_eq!(event["type"], "data.updated");
    assert_eq!(event["data"]["provider"], "garmin");
    for body in &pushes {
        h.push(garmin_post(Some(GARMIN_SECRET), body)).await;
    }
    h.work_queue().await;
    assert_eq!(stored().await, first, "stored once");
    h.run_deliveries().await;
    assert_eq!(
        receiver.received().len(),
        announced,
        "nothing new to announce"
    );
}
