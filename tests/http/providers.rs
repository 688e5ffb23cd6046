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
            "withings",
            "whoop",
            "strava",
            "oura",
            "garmin",
            "polar",
            "fitbit",
            "dexcom",
            "ultrahuman",
            "suunto",
            "wahoo",
            "demo"
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

/// A workspace brings its own app over the API: listed as enabled for it alone, never told
/// back its secret, checked as problem+json, and gone again with `DELETE`.
#[tokio::test]
async fn a_workspace_brings_its_own_app_over_the_api() {
    let host = TestHost::start().await;
    let ours = host.workspace("own-app-team").await;
    let theirs = host.workspace("no-app-team").await;
    let path = "/v1/providers/withings/credentials";
    let secret = "withings-secret-never-returned";
    let before = host.get(path, &ours).await;
    assert_eq!(before.status, StatusCode::OK);
    assert_eq!(before.body["configured"], false);

    let put = host
        .send(
            Method::PUT,
            path,
            Some(&ours),
            Some(&serde_json::json!({ "clientId": "our-withings-app", "clientSecret": secret })),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(put.body["configured"], true);
    assert_eq!(put.body["clientId"], "our-withings-app");
    let app_id = put.body["appId"].as_str().unwrap();
    assert!(
        put.body["webhookUrl"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/webhooks/withings/{app_id}")),
        "{}",
        put.body
    );
    assert!(
        put.body["callbackUrl"]
            .as_str()
            .unwrap()
            .ends_with("/v1/oauth/withings/callback")
    );
    let got = host.get(path, &ours).await;
    assert_eq!(got.body["appId"], app_id);
    assert!(got.body["configuredAt"].is_string());
    for reply in [&put, &got] {
        assert!(!reply.body.to_string().contains(secret), "{}", reply.body);
    }
    assert!(
        !String::from_utf8_lossy(&host.stored_bytes()).contains(secret),
        "sealed at rest"
    );

    // Withings is not the deployment's: only this workspace's users can connect it.
    let withings = |key: String| {
        let host = &host;
        async move { host.get("/v1/providers/withings", &key).await.body }
    };
    let listed = withings(ours.clone()).await;
    assert_eq!(
        (listed["enabled"].clone(), listed["ownApp"].clone()),
        (true.into(), true.into())
    );
    let listed = withings(theirs.clone()).await;
    assert_eq!(
        (listed["enabled"].clone(), listed["ownApp"].clone()),
        (false.into(), false.into())
    );
    for (key, status) in [
        (&ours, StatusCode::CREATED),
        (&theirs, StatusCode::BAD_REQUEST),
    ] {
        let user = host.user(key, "wearer").await;
        let link = host
            .post(
                &format!("/v1/users/{user}/connect-links"),
                key,
                serde_json::json!({ "providerId": "withings" }),
            )
            .await;
        assert_eq!(link.status, status, "{}", link.body);
    }
    assert_eq!(host.get(path, &theirs).await.body["configured"], false);

    // Bad input and the wrong key are problems, never a 500.
    let bad = |body: serde_json::Value| {
        let (host, key) = (&host, ours.clone());
        async move { host.send(Method::PUT, path, Some(&key), Some(&body)).await }
    };
    bad(serde_json::json!({ "clientId": "x" }))
        .await
        .assert_problem(400, "validation-error");
    bad(serde_json::json!({ "clientId": "x", "clientSecret": "y", "verifyToken": "z" }))
        .await
        .assert_problem(400, "validation-error");
    bad(serde_json::json!({ "clientId": "x", "clientSecret": "y", "extra": 1 }))
        .await
        .assert_problem(400, "validation-error");
    host.get("/v1/providers/jawbone/credentials", &ours)
        .await
        .assert_problem(404, "not-found");
    let writer = host.key(&ours, &["write"]).await;
    host.get(path, &writer)
        .await
        .assert_problem(403, "forbidden");

    let deleted = host.delete(path, &ours).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(host.get(path, &ours).await.body["configured"], false);
    assert_eq!(withings(ours.clone()).await["enabled"], false);
    host.delete(path, &ours)
        .await
        .assert_problem(404, "not-found");
}
