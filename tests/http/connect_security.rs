//! The browser leg cannot be bent: replayed, tampered, foreign or reused tokens are refused,
//! redirects go only to allow-listed origins, and nothing secret reaches the logs.

use crate::oauth_flow::{APP, connect_link, host_for, query, run_browser};
use reqwest::StatusCode;
use serde_json::json;
use vitasync_domain::providers::ProviderId;
use vitasync_tests::fake_provider::{CLIENT_SECRET, FakeProvider};
use vitasync_tests::{CapturedLogs, ROOT_KEY, TestHost};

async fn connection_count(host: &TestHost, user: &str) -> usize {
    host.get(&format!("/v1/users/{user}/connections"), ROOT_KEY)
        .await
        .body["data"]
        .as_array()
        .unwrap()
        .len()
}

fn error_code(page: &str) -> &str {
    let start = page.find("data-error=\"").expect("an error page") + 12;
    let end = start + page[start..].find('"').unwrap();
    &page[start..end]
}

#[tokio::test]
async fn a_callback_replayed_is_refused_and_changes_nothing() {
    let fake = FakeProvider::start(ProviderId::Oura).await;
    let host = host_for(&fake).await;
    let user = host.user(ROOT_KEY, "wearer").await;
    let link = connect_link(&host, ROOT_KEY, &user, "oura").await;
    let (_, callback, landing) = run_browser(&host, &link).await;
    assert!(landing.starts_with(APP));

    let (status, location, page) = host.visit(&callback).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(location, None, "no redirect on an invalid state");
    assert_eq!(error_code(&page), "invalid_state");
    assert_eq!(fake.token_calls(), 1, "the code is not exchanged again");
    assert_eq!(connection_count(&host, &user).await, 1);
}

#[tokio::test]
async fn links_survive_previews_are_spent_by_their_connection_and_are_tamper_proof() {
    let fake = FakeProvider::start(ProviderId::Oura).await;
    let host = host_for(&fake).await;
    let user = host.user(ROOT_KEY, "wearer").await;
    let other = host.user(ROOT_KEY, "someone-else").await;
    let link = connect_link(&host, ROOT_KEY, &user, "oura").await;

    // A changed token names no link.
    let token = query(&link)["token"].clone();
    let mut tampered_token = token.clone().into_bytes();
    tampered_token[0] = if tampered_token[0] == b'a' {
        b'b'
    } else {
        b'a'
    };
    let tampered = link.replace(&token, std::str::from_utf8(&tampered_token).unwrap());
    let (status, _, page) = host.visit(&tampered).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&page), "invalid_link");

    // Knowing another user's id is not enough to attach an account to them.
    let foreign = link.replace(&user, &other);
    let (status, _, page) = host.visit(&foreign).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&page), "invalid_link");

    // Opening a link spends nothing (link previews and mail scanners open links): its user
    // can still use it, as often as the consent screen is left unfinished.
    for _ in 0..2 {
        let (status, _, _) = host.visit(&link).await;
        assert_eq!(status, StatusCode::FOUND);
    }
    assert_eq!(fake.token_calls(), 0);
    assert_eq!(connection_count(&host, &user).await, 0);

    // The connection it makes spends it; each consent's state is single use.
    let (_, consent, _) = host.visit(&link).await;
    let (_, callback, _) = host.visit(&consent.unwrap()).await;
    let callback = callback.unwrap();
    let (status, landing, _) = host.visit(&callback).await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(landing.unwrap().contains("connectionId="));
    assert_eq!(connection_count(&host, &user).await, 1);
    let (status, _, page) = host.visit(&callback).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&page), "invalid_state");
    let (status, _, page) = host.visit(&link).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&page), "invalid_link");

    // Links for one provider do not start another.
    let for_oura = connect_link(&host, ROOT_KEY, &user, "oura").await;
    let as_demo = for_oura.replace("/oauth/oura/", "/oauth/demo/");
    let (status, _, page) = host.visit(&as_demo).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&page), "invalid_link");

    // None of the refused attempts reached the store.
    assert_eq!(connection_count(&host, &user).await, 1);
    assert_eq!(connection_count(&host, &other).await, 0);
}

#[tokio::test]
async fn without_a_valid_token_authorize_starts_nothing() {
    let host = TestHost::start().await;
    let user = host.user(ROOT_KEY, "wearer").await;
    let url = host.url(&format!("/v1/oauth/demo/authorize?userId={user}"));
    let (status, location, page) = host.visit(&url).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(location, None);
    assert!(page.contains("<h1>Could not connect</h1>"));
    assert_eq!(error_code(&page), "invalid_link");

    // Scripts asking for JSON get a problem document instead of the page.
    let reply = TestHost::reply(
        host.raw()
            .get(&url)
            .header("accept", "application/json")
            .send()
            .await
            .unwrap(),
    )
    .await;
    reply.assert_problem(400, "connect-failed");
    assert!(
        reply.body["detail"]
            .as_str()
            .unwrap()
            .starts_with("invalid_link")
    );

    // A callback without a state it issued shows an error page too.
    let (status, _, page) = host
        .visit(&host.url("/v1/oauth/demo/callback?code=x&state=forged"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&page), "invalid_state");
}

#[tokio::test]
async fn a_state_is_bound_to_its_provider() {
    let fake = FakeProvider::start(ProviderId::Oura).await;
    let host = host_for(&fake).await;
    let user = host.user(ROOT_KEY, "wearer").await;
    let link = connect_link(&host, ROOT_KEY, &user, "oura").await;
    let (_, consent, _) = host.visit(&link).await;
    let (_, callback, _) = host.visit(&consent.unwrap()).await;
    let elsewhere = callback
        .unwrap()
        .replace("/oauth/oura/", "/oauth/withings/");
    let (status, _, page) = host.visit(&elsewhere).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&page), "invalid_state");
    assert_eq!(fake.token_calls(), 0);
}

#[tokio::test]
async fn links_need_a_key_of_the_users_workspace_and_an_allowed_redirect() {
    let fake = FakeProvider::start(ProviderId::Oura).await;
    let host = host_for(&fake).await;
    let user = host.user(ROOT_KEY, "wearer").await;
    let path = format!("/v1/users/{user}/connect-links");

    let other_workspace = host.workspace("other").await;
    host.post(&path, &other_workspace, json!({"providerId": "oura"}))
        .await
        .assert_problem(404, "not-found");
    let reader = host.key(ROOT_KEY, &["read"]).await;
    host.post(&path, &reader, json!({"providerId": "oura"}))
        .await
        .assert_problem(403, "forbidden");
    host.send(
        reqwest::Method::POST,
        &path,
        None,
        Some(&json!({"providerId": "oura"})),
    )
    .await
    .assert_problem(401, "unauthorized");

    for (url, field) in [
        ("https://evil.example.com/steal", "redirectUrl"),
        ("https://app.example.com.evil.example.com/", "redirectUrl"),
        ("http://app.example.com/", "redirectUrl"),
        ("javascript:alert(1)", "redirectUrl"),
        ("/relative", "redirectUrl"),
    ] {
        let reply = host
            .post(
                &path,
                ROOT_KEY,
                json!({"providerId": "oura", "redirectUrl": url}),
            )
            .await;
        assert_eq!(reply.invalid_field(), field, "{url}");
    }
    let reply = host
        .post(
            &path,
            ROOT_KEY,
            json!({"providerId": "oura", "failureRedirectUrl": "https://evil.example.com/"}),
        )
        .await;
    assert_eq!(reply.invalid_field(), "failureRedirectUrl");
    // The deployment's own pages are always allowed.
    let own = host
        .post(
            &path,
            ROOT_KEY,
            json!({"providerId": "oura", "redirectUrl": host.url("/v1/oauth/done")}),
        )
        .await;
    assert_eq!(own.status, StatusCode::CREATED);

    let unknown = host
        .post(&path, ROOT_KEY, json!({"providerId": "fitbit-legacy"}))
        .await;
    assert_eq!(unknown.invalid_field(), "providerId");
    let disabled = host
        .post(&path, ROOT_KEY, json!({"providerId": "strava"}))
        .await;
    assert_eq!(disabled.invalid_field(), "providerId");
    let missing = host.post(&path, ROOT_KEY, json!({})).await;
    assert_eq!(missing.invalid_field(), "providerId");
}

#[tokio::test]
async fn widget_sessions_offer_the_allowed_providers_and_connect_them() {
    let fake = FakeProvider::start(ProviderId::Whoop).await;
    let host = host_for(&fake).await;
    let user = host.user(ROOT_KEY, "wearer").await;
    let reply = host
        .post(
            "/v1/widget/sessions",
            ROOT_KEY,
            json!({
                "userId": user,
                "providers": ["whoop", "demo"],
                "successRedirectUrl": format!("{APP}/ok"),
                "failureRedirectUrl": format!("{APP}/ko"),
            }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.body["expiresIn"], 900);
    assert!(reply.body["sessionId"].is_string());
    let url = reply.body["url"].as_str().unwrap();
    assert!(url.starts_with(&host.url("/v1/widget?session=")));

    let (status, _, page) = host.visit(url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("data-provider=\"whoop\""));
    assert!(page.contains("data-provider=\"demo\""));
    assert!(
        !page.contains("data-provider=\"oura\""),
        "only what the session allows"
    );
    assert!(page.contains("/v1/providers/whoop/logo.svg"));

    let start = page.find("data-provider=\"whoop\" href=\"").unwrap() + 28;
    let href = page[start..start + page[start..].find('"').unwrap()].replace("&amp;", "&");
    let (_, _, landing) = run_browser(&host, &href).await;
    assert!(landing.starts_with(&format!("{APP}/ok?")), "{landing}");
    // The session stays usable for its lifetime (another provider, a retry).
    let (status, _, _) = host.visit(url).await;
    assert_eq!(status, StatusCode::OK);

    for (body, field) in [
        (
            json!({"userId": user, "providers": ["nope"]}),
            "providers[0]",
        ),
        (
            json!({"userId": user, "providers": ["oura"]}),
            "providers[0]",
        ),
        (
            json!({"userId": user, "successRedirectUrl": "https://evil.example.com"}),
            "successRedirectUrl",
        ),
        (json!({"providers": ["whoop"]}), "userId"),
    ] {
        let reply = host.post("/v1/widget/sessions", ROOT_KEY, body).await;
        assert_eq!(reply.invalid_field(), field);
    }
    let other_workspace = host.workspace("other").await;
    host.post(
        "/v1/widget/sessions",
        &other_workspace,
        json!({"userId": user}),
    )
    .await
    .assert_problem(404, "not-found");
    let (status, _, page) = host.visit(&host.url("/v1/widget?session=forged")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&page), "invalid_link");
}

#[tokio::test]
async fn no_token_or_secret_reaches_the_logs() {
    let logs = CapturedLogs::install();
    let fake = FakeProvider::start(ProviderId::Withings).await;
    let host = host_for(&fake).await;
    let user = host.user(ROOT_KEY, "wearer").await;
    let link = connect_link(&host, ROOT_KEY, &user, "withings").await;
    let (consent, callback, landing) = run_browser(&host, &link).await;
    let id = query(&landing)["connectionId"].clone();
    host.delete(&format!("/v1/users/{user}/connections/{id}"), ROOT_KEY)
        .await;
    // A failed exchange logs the provider's refusal, still without secrets.
    fake.fail_token_exchange();
    let failed = connect_link(&host, ROOT_KEY, &user, "withings").await;
    run_browser(&host, &failed).await;

    let text = logs.text();
    assert!(text.contains("connected"), "the flow was logged: {text}");
    assert!(text.contains("provider call failed"));
    let mut secrets = fake.issued_tokens();
    secrets.push(CLIENT_SECRET.to_owned());
    secrets.push(ROOT_KEY.to_owned());
    secrets.push(query(&link)["token"].clone());
    secrets.push(query(&consent)["state"].clone());
    secrets.push(query(&callback)["code"].clone());
    for secret in secrets {
        assert!(!text.contains(&secret), "a secret was logged");
    }
}

/// VitaSync's own landing page says "connected" only with the callback's proof, and shows its
/// own words for an error code, never text from the query.
#[tokio::test]
async fn the_landing_page_trusts_nothing_in_its_query() {
    let host = TestHost::start().await;
    let user = host.user(ROOT_KEY, "wearer").await;
    let spoofed = host.url(
        "/v1/oauth/done?connectionId=01J000&providerId=demo\
         &error=access_denied&error_description=Call%20%2B1-555-0100%20to%20reconnect",
    );
    let (_, _, page) = host.visit(&spoofed).await;
    assert!(!page.contains("555-0100"), "query text shown on our origin");
    assert!(page.contains("You did not allow the connection."));
    let (_, _, page) = host
        .visit(&host.url("/v1/oauth/done?connectionId=01J000&providerId=demo"))
        .await;
    assert!(!page.contains("<h1>Connected"), "connected without proof");
    let (_, _, page) = host
        .visit(&host.url("/v1/oauth/done?result=forged&providerId=demo"))
        .await;
    assert!(!page.contains("<h1>Connected"));

    // A real connection lands with its proof.
    let landing = crate::sync::demo_landing(&host, &user).await;
    assert!(query(&landing).contains_key("result"));
    let (_, _, page) = host.visit(&landing).await;
    assert!(page.contains("<h1>Connected</h1>"), "{page}");
    assert!(page.contains("Demo"));
}
