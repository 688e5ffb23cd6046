//! Connecting each provider end to end: connect link → VitaSync's authorize → the provider's
//! consent (a local server speaking its documented endpoints) → VitaSync's callback → the
//! app's redirect URL, then the connection as the API lists it, and disconnecting it.

use reqwest::StatusCode;
use reqwest::Url;
use serde_json::{Value, json};
use std::collections::HashMap;
use vitasync_domain::providers::{ClientAuth, ProviderId};
use vitasync_tests::fake_provider::{CLIENT_SECRET, FakeProvider};
use vitasync_tests::{ROOT_KEY, TestHost};

pub const APP: &str = "https://app.example.com";

pub async fn host_for(fake: &FakeProvider) -> TestHost {
    let mut vars = fake.env();
    vars.insert("VITASYNC_REDIRECT_ORIGINS".into(), APP.into());
    TestHost::start_with(vars).await
}

pub fn query(url: &str) -> HashMap<String, String> {
    Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// A connect link for `user`.
pub async fn connect_link(host: &TestHost, key: &str, user: &str, provider: &str) -> String {
    let reply = host
        .post(
            &format!("/v1/users/{user}/connect-links"),
            key,
            json!({
                "providerId": provider,
                "redirectUrl": format!("{APP}/connected"),
                "failureRedirectUrl": format!("{APP}/failed"),
            }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["url"].as_str().unwrap().to_owned()
}

/// The browser's hops: VitaSync authorize → provider → VitaSync callback. Returns the consent
/// URL VitaSync sent the browser to, the callback URL, and where the callback sent it.
pub async fn run_browser(host: &TestHost, link: &str) -> (String, String, String) {
    let (status, consent, _) = host.visit(link).await;
    assert_eq!(status, StatusCode::FOUND);
    let consent = consent.unwrap();
    let (status, callback, _) = host.visit(&consent).await;
    assert!(status.is_redirection(), "the provider redirects back");
    let callback = callback.unwrap();
    let (status, landing, page) = host.visit(&callback).await;
    assert_eq!(status, StatusCode::FOUND, "{page}");
    (consent, callback, landing.unwrap())
}

async fn connections(host: &TestHost, user: &str) -> Vec<Value> {
    let reply = host
        .get(&format!("/v1/users/{user}/connections"), ROOT_KEY)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    reply.body["data"].as_array().unwrap().clone()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

async fn full_flow(provider: ProviderId) {
    let fake = FakeProvider::start(provider).await;
    if provider == ProviderId::Strava {
        // The user unticks one of the scopes asked for.
        fake.strava_grants("read,activity:read_all");
    }
    let host = host_for(&fake).await;
    let user = host.user(ROOT_KEY, "wearer-1").await;
    let spec = provider.info().oauth;

    let link = connect_link(&host, ROOT_KEY, &user, provider.as_str()).await;
    assert!(link.starts_with(&host.url(&format!("/v1/oauth/{provider}/authorize?"))));
    let (consent, _, landing) = run_browser(&host, &link).await;

    // What the provider's consent screen was asked for.
    let asked = query(&consent);
    assert!(consent.starts_with(&format!("{}/authorize?", fake.base)));
    assert_eq!(asked["client_id"], "test-client-id");
    assert_eq!(asked["response_type"], "code");
    assert_eq!(
        asked["redirect_uri"],
        host.url(&format!("/v1/oauth/{provider}/callback"))
    );
    assert!(asked["state"].len() >= 32, "an unguessable state");
    if spec.scopes.is_empty() {
        assert!(!asked.contains_key("scope"));
    } else {
        assert_eq!(asked["scope"], spec.scopes.join(spec.scope_separator));
    }
    assert_eq!(asked.contains_key("code_challenge"), spec.pkce);
    if spec.pkce {
        assert_eq!(asked["code_challenge_method"], "S256");
    }
    for (name, value) in spec.extra_authorize_params {
        assert_eq!(asked[*name], *value);
    }

    // Where the browser lands: the link's redirect URL with the new connection.
    assert!(
        landing.starts_with(&format!("{APP}/connected?")),
        "{landing}"
    );
    let landed = query(&landing);
    assert_eq!(landed["providerId"], provider.as_str());
    assert_eq!(landed["userId"], user);
    assert_eq!(landed["externalId"], "wearer-1");

    // The token request, in the provider's own style.
    let token_requests = fake.requests_to("/token");
    assert_eq!(token_requests.len(), 1);
    let exchange = &token_requests[0];
    assert_eq!(exchange.params["grant_type"], "authorization_code");
    match spec.client_auth {
        ClientAuth::Basic => {
            assert!(
                exchange
                    .authorization
                    .as_deref()
                    .unwrap()
                    .starts_with("Basic ")
            );
            assert!(!exchange.params.contains_key("client_secret"));
        }
        ClientAuth::Body => {
            assert_eq!(exchange.params["client_secret"], CLIENT_SECRET);
            assert_eq!(exchange.authorization, None);
        }
    }
    assert_eq!(exchange.params.contains_key("code_verifier"), spec.pkce);
    if provider == ProviderId::Withings {
        assert_eq!(exchange.params["action"], "requesttoken");
    }
    if provider == ProviderId::Polar {
        let registration = fake.requests_to("/v3/users");
        assert_eq!(registration.len(), 1, "Polar users are registered once");
        assert_eq!(registration[0].params["member-id"], user);
    }

    // The connection, as the developer's backend sees it.
    let listed = connections(&host, &user).await;
    assert_eq!(listed.len(), 1);
    let connection = &listed[0];
    assert_eq!(connection["id"], landed["connectionId"].as_str());
    assert_eq!(connection["providerId"], provider.as_str());
    assert_eq!(connection["providerUserId"], fake.account_id());
    assert_eq!(connection["status"], "active");
    assert!(connection["tokenExpiresAt"].is_string());
    let scopes: Vec<&str> = connection["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    let expected_scopes: Vec<&str> = match provider {
        ProviderId::Strava => vec!["read", "activity:read_all"],
        ProviderId::Withings => vec!["user.info", "user.metrics", "user.activity"],
        ProviderId::Garmin => vec!["ACTIVITY_EXPORT", "HEALTH_EXPORT", "HISTORICAL_DATA_EXPORT"],
        ProviderId::Whoop => vec![
            "offline",
            "read:recovery",
            "read:cycles",
            "read:sleep",
            "read:workout",
            "read:body_measurement",
            "read:profile",
        ],
        _ => spec.scopes.to_vec(),
    };
    assert_eq!(scopes, expected_scopes);

    // Nothing secret reached the disk in the clear.
    let stored = host.stored_bytes();
    for token in fake.issued_tokens() {
        assert!(
            !contains(&stored, &token),
            "a provider token is stored in plaintext"
        );
    }
    assert!(!contains(&stored, CLIENT_SECRET));

    // The same account again: the same connection, with new tokens.
    let again = connect_link(&host, ROOT_KEY, &user, provider.as_str()).await;
    let (_, _, relanded) = run_browser(&host, &again).await;
    assert_eq!(query(&relanded)["connectionId"], landed["connectionId"]);
    assert_eq!(connections(&host, &user).await.len(), 1);

    // Disconnecting revokes at the provider and keeps the connection, disconnected.
    let id = landed["connectionId"].as_str();
    let reply = host
        .delete(&format!("/v1/users/{user}/connections/{id}"), ROOT_KEY)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let revocations: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| {
            r.path != "/notify"
                && (matches!(
                    (r.method.as_str(), r.path.as_str()),
                    (_, "/revoke") | ("DELETE", _) | ("POST", "/v2/signature")
                ) || r.params.get("action").map(String::as_str) == Some("revoke"))
        })
        .collect();
    // Withings' notification subscriptions end before the grant does.
    let unsubscribed = fake
        .requests_to("/notify")
        .iter()
        .filter(|r| r.params["action"] == "revoke")
        .count();
    assert_eq!(
        unsubscribed,
        if provider == ProviderId::Withings {
            5
        } else {
            0
        }
    );
    let expected_revocations = match provider {
        ProviderId::Withings => 2, // a nonce, then the signed revoke
        _ => 1,
    };
    assert_eq!(revocations.len(), expected_revocations, "{revocations:?}");
    let after = host
        .get(&format!("/v1/users/{user}/connections/{id}"), ROOT_KEY)
        .await;
    assert_eq!(after.body["status"], "disconnected");
    assert_eq!(after.body["statusReason"], "disconnected_by_api");
}

async fn failed_flow(provider: ProviderId) {
    let fake = FakeProvider::start(provider).await;
    let host = host_for(&fake).await;
    let user = host.user(ROOT_KEY, "wearer-1").await;

    // The provider refuses the code (in its own error format).
    fake.fail_token_exchange();
    let link = connect_link(&host, ROOT_KEY, &user, provider.as_str()).await;
    let (_, _, landing) = run_browser(&host, &link).await;
    assert!(landing.starts_with(&format!("{APP}/failed?")), "{landing}");
    let failed = query(&landing);
    assert_eq!(failed["error"], "token_exchange_failed");
    assert!(!failed["error_description"].is_empty());
    assert!(connections(&host, &user).await.is_empty(), "nothing stored");

    // The user says no on the consent screen.
    fake.deny_consent();
    let link = connect_link(&host, ROOT_KEY, &user, provider.as_str()).await;
    let (_, _, landing) = run_browser(&host, &link).await;
    assert_eq!(query(&landing)["error"], "access_denied");
    assert!(connections(&host, &user).await.is_empty());
}

macro_rules! provider_flows {
    ($($provider:ident => $connects:ident, $fails:ident;)+) => {
        $(
            #[tokio::test]
            async fn $connects() {
                full_flow(ProviderId::$provider).await;
            }

            #[tokio::test]
            async fn $fails() {
                failed_flow(ProviderId::$provider).await;
            }
        )+
    };
}

provider_flows! {
    Withings => withings_connects, withings_refusals_store_nothing;
    Whoop => whoop_connects, whoop_refusals_store_nothing;
    Strava => strava_connects, strava_refusals_store_nothing;
    Oura => oura_connects, oura_refusals_store_nothing;
    Garmin => garmin_connects, garmin_refusals_store_nothing;
    Polar => polar_connects, polar_refusals_store_nothing;
    Fitbit => fitbit_via_google_health_connects, fitbit_refusals_store_nothing;
}
