use reqwest::{Method, StatusCode};
use vitasync_tests::{ROOT_KEY, TestHost};

#[tokio::test]
async fn every_provider_is_listed_and_only_demo_is_enabled_without_credentials() {
    let host = TestHost::start().await;
    let reader = host.key(ROOT_KEY, &["read"]).await;
    let listed = host.get("/v1/providers", &reader).await;
    assert_eq!(listed.status, StatusCode::OK);
    let providers = listed.body["data"].as_array().unwrap();
    let ids: Vec<_> = providers
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "withings", "whoop", "strava", "oura", "garmin", "polar", "fitbit", "demo"
        ]
    );
    for provider in providers {
        let enabled = provider["id"] == "demo";
        assert_eq!(provider["enabled"], enabled, "{provider}");
        assert!(!provider["dataTypes"].as_array().unwrap().is_empty());
        assert!(provider["name"].is_string());
    }
    let garmin = host.get("/v1/providers/garmin", &reader).await;
    assert_eq!(garmin.body["authType"], "oauth2_pkce");
    assert_eq!(garmin.body["name"], "Garmin");
    let fitbit = host.get("/v1/providers/fitbit", &reader).await;
    assert_eq!(
        fitbit.body["authType"], "oauth2_pkce",
        "through Google Health, with PKCE"
    );
    host.get("/v1/providers/fitbit-legacy", &reader)
        .await
        .assert_problem(404, "not-found");
    host.send(Method::GET, "/v1/providers", None, None)
        .await
        .assert_problem(401, "unauthorized");
}

#[tokio::test]
async fn logos_are_svg_and_need_no_key() {
    let host = TestHost::start().await;
    let reply = host.get("/v1/providers/demo", ROOT_KEY).await;
    let logo_url = reply.body["logoUrl"].as_str().unwrap();
    let logo = host.raw().get(host.url(logo_url)).send().await.unwrap();
    assert_eq!(logo.status(), StatusCode::OK);
    assert_eq!(logo.headers()["content-type"], "image/svg+xml");
    assert!(logo.text().await.unwrap().starts_with("<svg"));
    let missing = host
        .raw()
        .get(host.url("/v1/providers/nope/logo.svg"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}
