//! Asking providers to push: Withings per connection, Strava and Oura per app.

use crate::harness::{BASE, Host, harness_on, harness_with, on_both_hosts};
use reqwest::StatusCode;
use serde_json::json;
use std::collections::BTreeMap;
use vitasync_domain::DomainError;
use vitasync_domain::providers::ProviderId;
use vitasync_tests::fake_provider::FakeProvider;
use vitasync_tests::{ROOT_KEY, TestHost};

const APPLIS: [&str; 5] = ["1", "2", "4", "16", "44"];

async fn withings_connections_subscribe_and_unsubscribe(host: Host) {
    let h = harness_on(host, ProviderId::Withings).await;
    let connection = h.connect().await;
    // Connecting queued the subscription; the worker makes it.
    assert!(
        h.fake.requests_to("/notify").is_empty(),
        "not on the OAuth callback's path"
    );
    h.work_queue().await;
    let callback = format!("{BASE}/webhooks/withings");
    let subscribed = h.fake.requests_to("/notify");
    assert_eq!(subscribed.len(), APPLIS.len());
    for (call, appli) in subscribed.iter().zip(APPLIS) {
        assert_eq!(call.params["action"], "subscribe");
        assert_eq!(call.params["appli"], appli);
        assert_eq!(call.params["callbackurl"], callback);
        assert!(
            call.authorization
                .as_deref()
                .unwrap()
                .starts_with("Bearer ")
        );
    }

    // Registering again (after fixing the URL, say) subscribes every category again.
    let registration = h
        .services
        .subscriptions
        .register_connection_webhooks(&h.caller, &h.user, connection.id.as_str())
        .await
        .unwrap();
    assert_eq!(registration.callback_url, callback);
    assert_eq!(registration.subscribed, APPLIS);
    assert_eq!(h.fake.requests_to("/notify").len(), 2 * APPLIS.len());

    // Disconnecting revokes them, then the grant.
    h.services
        .disconnector
        .disconnect(&h.caller, &h.user, connection.id.as_str())
        .await
        .unwrap();
    let requests = h.fake.requests();
    let revokes: Vec<usize> = requests
        .iter()
        .enumerate()
        .filter(|(_, r)| r.path == "/notify" && r.params["action"] == "revoke")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(revokes.len(), APPLIS.len());
    let grant_revoked = requests
        .iter()
        .position(|r| {
            r.params.get("action").map(String::as_str) == Some("revoke") && r.path != "/notify"
        })
        .expect("the grant was revoked");
    assert!(revokes.iter().all(|i| *i < grant_revoked));
    assert!(matches!(
        h.services
            .subscriptions
            .register_connection_webhooks(&h.caller, &h.user, connection.id.as_str())
            .await,
        Err(DomainError::Conflict(_))
    ));
}

async fn oura_app_subscriptions_are_made_once_and_renewed(host: Host) {
    let h = harness_with(
        host,
        ProviderId::Oura,
        &[("OURA_WEBHOOK_VERIFY_TOKEN", "oura-verify")],
    )
    .await;
    let connection = h.connect().await;
    // Oura subscribes per app, not per connection.
    assert!(matches!(
        h.services
            .subscriptions
            .register_connection_webhooks(&h.caller, &h.user, connection.id.as_str())
            .await,
        Err(DomainError::Conflict(_))
    ));
    let (_, callback, made) = h
        .services
        .subscriptions
        .subscribe_provider_app(&h.caller, "oura")
        .await
        .unwrap();
    assert_eq!(callback, format!("{BASE}/webhooks/oura"));
    assert_eq!(made.len(), 12, "create and update, for six data types");
    assert_eq!(h.fake.subscriptions().len(), 12);
    let creations = |h: &crate::harness::Harness| {
        h.fake
            .requests_to("/v2/webhook/subscription")
            .iter()
            .filter(|r| r.method == "POST")
            .count()
    };
    // Again: nothing new.
    h.services
        .subscriptions
        .subscribe_provider_app(&h.caller, "oura")
        .await
        .unwrap();
    assert_eq!(creations(&h), 12);
    assert_eq!(h.fake.subscriptions().len(), 12);
    // Close to expiry: renewed.
    h.fake.expire_subscriptions("2026-11-25T00:00:00+00:00");
    let renewed = h
        .services
        .subscriptions
        .subscribe_provider_app(&h.caller, "oura")
        .await
        .unwrap()
        .2;
    assert_eq!(
        h.fake.requests_to("/v2/webhook/subscription/renew").len(),
        12
    );
    assert!(
        renewed
            .iter()
            .all(|s| s.expires_at.unwrap().to_string().starts_with("2027-06-01"))
    );
    assert_eq!(creations(&h), 12);
}

on_both_hosts!(
    withings_connections_subscribe_and_unsubscribe,
    oura_app_subscriptions_are_made_once_and_renewed,
);

#[tokio::test]
async fn strava_checks_the_verify_token_before_it_subscribes() {
    let fake = FakeProvider::start(ProviderId::Strava).await;
    let mut vars: BTreeMap<String, String> = fake.env();
    vars.insert("STRAVA_WEBHOOK_VERIFY_TOKEN".into(), "strava-verify".into());
    let host = TestHost::start_with(vars).await;

    let created = host
        .post(
            "/v1/providers/strava/webhook-subscriptions",
            ROOT_KEY,
            json!({}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["subscriptions"][0]["id"], "120475");
    assert_eq!(
        created.body["callbackUrl"],
        host.url("/webhooks/strava").as_str()
    );
    // Strava called the handshake on the way (the fake checks the echo), once.
    let again = host
        .post(
            "/v1/providers/strava/webhook-subscriptions",
            ROOT_KEY,
            json!({}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(fake.subscriptions().len(), 1);

    let admin = host.workspace("tenant").await;
    host.post(
        "/v1/providers/strava/webhook-subscriptions",
        &admin,
        json!({}),
    )
    .await
    .assert_problem(403, "forbidden");
    host.post(
        "/v1/providers/whoop/webhook-subscriptions",
        ROOT_KEY,
        json!({}),
    )
    .await
    .assert_problem(404, "not-found");
}
