//! What an outsider or a malicious tenant must not be able to do, on both hosts where the
//! store matters and over HTTP where the route does.

use crate::harness::{Host, harness_on, on_both_hosts};
use reqwest::StatusCode;
use serde_json::json;
use vitasync_domain::health::query::RecordsQuery;
use vitasync_domain::kernel::error::DomainError;
use vitasync_domain::kernel::scope::Scope;
use vitasync_domain::mobile::ingest::SamplePush;
use vitasync_domain::providers::ProviderId;
use vitasync_domain::tenancy::KeyRequest;
use vitasync_tests::{ROOT_KEY, TestHost};

#[tokio::test]
async fn only_the_root_key_manages_the_root_key() {
    let host = TestHost::start().await;
    let admin = host.key(ROOT_KEY, &["admin"]).await;
    let listed = host.get("/v1/api-keys", ROOT_KEY).await;
    let root_id = listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["name"] == "root")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // To another admin key of the same workspace the root key does not exist.
    host.post(&format!("/v1/api-keys/{root_id}/rotate"), &admin, json!({}))
        .await
        .assert_problem(404, "not-found");
    host.delete(&format!("/v1/api-keys/{root_id}"), &admin)
        .await
        .assert_problem(404, "not-found");
    let seen = host.get("/v1/api-keys", &admin).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(
        !seen.body.to_string().contains(&root_id),
        "the root key is not listed to other keys"
    );
    assert_eq!(
        host.get("/v1/workspaces", ROOT_KEY).await.status,
        StatusCode::OK
    );

    // The root key rotates itself, and admin keys still manage each other.
    let other = host.key(&admin, &["read"]).await;
    let other_id = host.get("/v1/api-keys", &admin).await.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| other.starts_with(key["prefix"].as_str().unwrap()))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        host.delete(&format!("/v1/api-keys/{other_id}"), &admin)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let rotated = host
        .post(
            &format!("/v1/api-keys/{root_id}/rotate"),
            ROOT_KEY,
            json!({}),
        )
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    let new_root = rotated.body["secret"].as_str().unwrap();
    assert_eq!(
        host.get("/v1/workspaces", new_root).await.status,
        StatusCode::OK
    );
}

async fn root_key_is_out_of_reach_of_other_admin_keys(host: Host) {
    let h = harness_on(host, ProviderId::Withings).await;
    let issued = h
        .services
        .tenancy
        .create_key(
            &h.caller,
            KeyRequest {
                name: "ops".into(),
                scopes: vec![Scope::Admin],
                expires_at: None,
            },
        )
        .await
        .unwrap();
    let admin = h
        .services
        .authenticator
        .authenticate(Some(secrecy::ExposeSecret::expose_secret(&issued.secret)))
        .await
        .unwrap();
    let root_id = h.caller.key_id.clone().unwrap();
    assert!(matches!(
        h.services
            .tenancy
            .rotate_key(&admin, root_id.as_str())
            .await,
        Err(DomainError::NotFound(_))
    ));
    assert!(matches!(
        h.services
            .tenancy
            .delete_key(&admin, root_id.as_str())
            .await,
        Err(DomainError::NotFound(_))
    ));
    let keys = h.services.tenancy.list_keys(&admin).await.unwrap();
    assert!(keys.iter().all(|key| !key.root));
    // The root key still works and still sees itself.
    assert!(
        h.services
            .authenticator
            .authenticate(Some(ROOT_KEY))
            .await
            .unwrap()
            .root
    );
    assert!(
        h.services
            .tenancy
            .list_keys(&h.caller)
            .await
            .unwrap()
            .iter()
            .any(|key| key.root)
    );
}

async fn a_deleted_users_refresh_token_is_refused(host: Host) {
    let h = harness_on(host, ProviderId::Withings).await;
    let (tokens, _) = h.signed_in().await;
    h.services
        .users
        .delete_user(&h.caller, &h.user)
        .await
        .unwrap();
    assert!(matches!(
        h.services
            .user_sessions
            .refresh_user_session(&tokens.refresh_token)
            .await,
        Err(DomainError::InvalidGrant(_))
    ));
    assert!(
        h.services
            .user_sessions
            .authenticate_user(Some(&tokens.access_token))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn times_out_of_range_in_unauthenticated_pushes_are_refused_not_fatal() {
    let vars = [
        ("STRAVA_CLIENT_ID", "strava-client"),
        ("STRAVA_CLIENT_SECRET", "strava-secret"),
        ("WITHINGS_CLIENT_ID", "withings-client"),
        ("WITHINGS_CLIENT_SECRET", "withings-secret"),
    ];
    let host = TestHost::start_with_pairs(&vars).await;
    let client = host.raw();
    for event_time in [
        json!(i64::MAX),
        json!(i64::MIN),
        json!(9_223_372_036_854_775_i64),
    ] {
        let reply = client
            .post(host.url("/webhooks/strava"))
            .json(&json!({
                "object_type": "activity", "aspect_type": "create", "object_id": 1,
                "owner_id": 134815, "event_time": event_time,
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), StatusCode::BAD_REQUEST, "{event_time}");
    }
    let withings = client
        .post(host.url("/webhooks/withings"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "userid=1&appli=1&startdate=1772432700&enddate={}",
            i64::MAX
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(withings.status(), StatusCode::BAD_REQUEST);
    // The host is still up.
    assert_eq!(host.get("/v1/users", ROOT_KEY).await.status, StatusCode::OK);
}

#[tokio::test]
async fn record_listings_are_capped_like_every_range() {
    let host = TestHost::start().await;
    let user = host.user(ROOT_KEY, "ranger").await;
    let reply = host
        .get(
            &format!("/v1/users/{user}/health?from=0001-01-01T00:00:00Z"),
            ROOT_KEY,
        )
        .await;
    reply.assert_problem(400, "validation-error");
    assert_eq!(reply.invalid_field(), "from");
    let year = host
        .get(
            &format!("/v1/users/{user}/health?from=2026-01-01T00:00:00Z&to=2026-12-31T00:00:00Z"),
            ROOT_KEY,
        )
        .await;
    assert_eq!(year.status, StatusCode::OK, "{}", year.body);
}

#[tokio::test]
async fn oversize_bodies_are_problems_on_every_raw_body_route() {
    let host =
        TestHost::start_with_pairs(&[("STRAVA_CLIENT_ID", "s"), ("STRAVA_CLIENT_SECRET", "s")])
            .await;
    let user = host.user(ROOT_KEY, "big").await;
    let megabytes = |n: usize| "a".repeat(n * 1024 * 1024 + 1);
    let cases = [
        ("/v1/auth/token", megabytes(1)),
        ("/v1/auth/revoke", megabytes(1)),
        ("/v1/demo/token", megabytes(1)),
        (
            &*format!("/v1/users/{user}/connections/01J00000000000000000000000/sync"),
            megabytes(1),
        ),
        ("/webhooks/strava", megabytes(6)),
    ];
    for (path, body) in cases {
        let response = host
            .raw()
            .post(host.url(path))
            .header("authorization", format!("Bearer {ROOT_KEY}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        TestHost::reply(response)
            .await
            .assert_problem(413, "payload-too-large");
    }
}

#[tokio::test]
async fn webhook_endpoints_never_point_inside() {
    let host = TestHost::start().await;
    for url in [
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.1/hook",
        "https://172.16.0.1/hook",
        "https://192.168.0.10/hook",
        "https://100.64.0.1/hook",
        "https://[fd00::1]/hook",
        "https://[fe80::1]/hook",
        "https://[::ffff:169.254.169.254]/hook",
        "https://metadata.google.internal/computeMetadata/v1/",
        "https://0.0.0.0/hook",
    ] {
        let reply = host
            .post(
                "/v1/webhooks",
                ROOT_KEY,
                json!({ "url": url, "events": ["user.created"] }),
            )
            .await;
        reply.assert_problem(400, "validation-error");
        assert_eq!(reply.invalid_field(), "url", "{url}");
    }
    // The local host's own receivers stay allowed, and public ones.
    for url in ["http://127.0.0.1:9/hook", "https://example.com/hook"] {
        let created = host
            .post(
                "/v1/webhooks",
                ROOT_KEY,
                json!({ "url": url, "events": ["user.created"] }),
            )
            .await;
        assert_eq!(
            created.status,
            StatusCode::CREATED,
            "{url}: {}",
            created.body
        );
    }
}

#[tokio::test]
async fn the_operator_may_allow_private_receivers_but_not_metadata() {
    let host = TestHost::start_with_pairs(&[("VITASYNC_WEBHOOKS_ALLOW_PRIVATE", "true")]).await;
    let post = |url: &'static str| {
        host.post(
            "/v1/webhooks",
            ROOT_KEY,
            json!({ "url": url, "events": ["user.created"] }),
        )
    };
    assert_eq!(
        post("https://10.1.2.3/hook").await.status,
        StatusCode::CREATED
    );
    post("https://169.254.169.254/latest/meta-data/")
        .await
        .assert_problem(400, "validation-error");
}

/// Heart rate from a phone at `at`, one sample.
fn heart_rate_at(uuid: &str, at: &str) -> serde_json::Value {
    json!({
        "uuid": uuid, "type": "HKQuantityTypeIdentifierHeartRate", "start": at, "end": at,
        "value": 61, "unit": "count/min", "timeZone": "Asia/Kathmandu",
    })
}

async fn listings_skip_empty_months_and_find_old_data(host: Host) {
    let h = harness_on(host, ProviderId::Withings).await;
    let (_, me) = h.signed_in().await;
    let push = SamplePush::from_values(
        "apple_health",
        &[
            heart_rate_at("old", "2026-02-01T06:00:00Z"),
            heart_rate_at("new", "2026-11-21T06:00:00Z"),
        ],
        &[],
    );
    assert_eq!(
        h.services
            .phone_ingest
            .push_samples(&me, push)
            .await
            .unwrap()
            .accepted,
        2
    );
    let query = |after: Option<String>| RecordsQuery {
        from: Some("2025-12-01T00:00:00Z".into()),
        limit: Some("1".into()),
        after,
        ..RecordsQuery::default()
    };
    let first = h
        .services
        .health_reads
        .list_records(&h.caller, &h.user, &query(None))
        .await
        .unwrap();
    assert_eq!(first.items.len(), 1);
    assert_eq!(first.items[0].at_ms, 1_795_240_800_000);
    let second = h
        .services
        .health_reads
        .list_records(&h.caller, &h.user, &query(first.next.clone()))
        .await
        .unwrap();
    assert_eq!(second.items.len(), 1, "ten empty months away");
    assert_eq!(second.items[0].at_ms, 1_769_925_600_000);
    assert_eq!(second.items[0].utc_offset_seconds, 5 * 3600 + 45 * 60);
    assert!(second.next.is_none(), "nothing older");
}

on_both_hosts!(
    listings_skip_empty_months_and_find_old_data,
    root_key_is_out_of_reach_of_other_admin_keys,
    a_deleted_users_refresh_token_is_refused,
);

/// The AWS host's deliver and admin functions (both built on `AwsHost::destinations`) get the
/// public-only policy: no loopback (that
/// is the local host's allowance), private ranges only where the operator says.
#[tokio::test]
async fn the_aws_host_allows_no_loopback_and_private_only_when_told() {
    use vitasync_domain::announce::webhooks::validate_endpoint_url;
    use vitasync_host::aws::AwsHost;
    let host = |private: Option<&'static str>| {
        AwsHost::from_lookup(move |name: &str| match name {
            "AWS_REGION" => Some("us-east-1".to_owned()),
            "VITASYNC_DELIVERIES_QUEUE_URL" => Some("https://sqs.example.invalid/q".to_owned()),
            "VITASYNC_DELIVERIES_DEAD_LETTER_URL" => {
                Some("https://sqs.example.invalid/dlq".to_owned())
            }
            "VITASYNC_KMS_KEY_ID" => Some("alias/test".to_owned()),
            "VITASYNC_WEBHOOKS_ALLOW_PRIVATE" => private.map(str::to_owned),
            _ => None,
        })
    };
    {
        let closed = host(None).await.unwrap().destinations();
        for refused in [
            "http://127.0.0.1:9000/hook",
            "https://127.0.0.1/hook",
            "https://localhost/hook",
            "https://10.0.0.1/hook",
        ] {
            assert!(
                validate_endpoint_url(refused, &closed).is_err(),
                "{refused}"
            );
        }
        assert!(validate_endpoint_url("https://example.com/hook", &closed).is_ok());
        let open = host(Some("true")).await.unwrap().destinations();
        assert!(validate_endpoint_url("https://10.0.0.1/hook", &open).is_ok());
        assert!(validate_endpoint_url("https://169.254.169.254/", &open).is_err());
        assert!(validate_endpoint_url("https://127.0.0.1/hook", &open).is_err());
    }
}
