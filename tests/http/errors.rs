use reqwest::{Method, StatusCode};
use serde_json::json;
use vitasync_tests::{ROOT_KEY, TestHost};

#[tokio::test]
async fn missing_unknown_and_malformed_keys_are_401_with_a_challenge() {
    let host = TestHost::start().await;
    let missing = host.send(Method::GET, "/v1/users", None, None).await;
    missing.assert_problem(401, "unauthorized");
    assert_eq!(missing.headers["www-authenticate"], "Bearer");

    host.get(
        "/v1/users",
        "vs_live_000000000000000000000000000000000000000000000000",
    )
    .await
    .assert_problem(401, "unauthorized");
    for header in ["Basic dXNlcjpwYXNz", "Bearer", ROOT_KEY] {
        let reply = TestHost::reply(
            host.raw()
                .get(host.url("/v1/users"))
                .header("authorization", header)
                .send()
                .await
                .unwrap(),
        )
        .await;
        reply.assert_problem(401, "unauthorized");
    }
    // The scheme is case-insensitive.
    let lower = host
        .raw()
        .get(host.url("/v1/users"))
        .header("authorization", format!("bearer {ROOT_KEY}"))
        .send()
        .await
        .unwrap();
    assert_eq!(lower.status(), StatusCode::OK);
}

#[tokio::test]
async fn authentication_comes_before_body_checks() {
    let host = TestHost::start().await;
    let reply = TestHost::reply(
        host.raw()
            .post(host.url("/v1/users"))
            .header("content-type", "text/plain")
            .body("{")
            .send()
            .await
            .unwrap(),
    )
    .await;
    reply.assert_problem(401, "unauthorized");
}

#[tokio::test]
async fn body_format_errors() {
    let host = TestHost::start().await;
    let post = |content_type: &'static str, body: Vec<u8>| {
        host.raw()
            .post(host.url("/v1/users"))
            .bearer_auth(ROOT_KEY)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let malformed = TestHost::reply(
        post("application/json", b"{\"externalId\": ".to_vec())
            .await
            .unwrap(),
    )
    .await;
    malformed.assert_problem(400, "malformed-json");
    let trailing = TestHost::reply(
        post("application/json", b"{\"externalId\":\"a\"} x".to_vec())
            .await
            .unwrap(),
    )
    .await;
    trailing.assert_problem(400, "malformed-json");
    let wrong_type = TestHost::reply(
        post("text/plain", b"{\"externalId\":\"a\"}".to_vec())
            .await
            .unwrap(),
    )
    .await;
    wrong_type.assert_problem(415, "unsupported-media-type");
    let form = TestHost::reply(
        post(
            "application/x-www-form-urlencoded",
            b"externalId=a".to_vec(),
        )
        .await
        .unwrap(),
    )
    .await;
    form.assert_problem(415, "unsupported-media-type");
    let with_charset = TestHost::reply(
        post(
            "application/json; charset=utf-8",
            b"{\"externalId\":\"a\"}".to_vec(),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(with_charset.status, StatusCode::CREATED);

    let mut huge = br#"{"externalId":"big","metadata":{"blob":""#.to_vec();
    huge.extend(std::iter::repeat_n(b'x', 2 * 1024 * 1024));
    huge.extend(br#""}}"#);
    let too_large = TestHost::reply(post("application/json", huge).await.unwrap()).await;
    too_large.assert_problem(413, "payload-too-large");

    let users = host.get("/v1/users", ROOT_KEY).await;
    assert_eq!(
        users.body["data"].as_array().unwrap().len(),
        1,
        "only the valid create landed"
    );
}

#[tokio::test]
async fn unknown_routes_and_methods() {
    let host = TestHost::start().await;
    host.get("/v1/nothing-here", ROOT_KEY)
        .await
        .assert_problem(404, "not-found");
    host.send(Method::GET, "/", None, None)
        .await
        .assert_problem(404, "not-found");
    let put = host
        .send(Method::PUT, "/v1/users", Some(ROOT_KEY), Some(&json!({})))
        .await;
    put.assert_problem(405, "method-not-allowed");
    assert!(put.headers.contains_key("allow"));
    host.send(Method::POST, "/health", None, None)
        .await
        .assert_problem(405, "method-not-allowed");
}

#[tokio::test]
async fn read_keys_read_write_keys_write_only_admin_keys_administer() {
    let host = TestHost::start().await;
    let read = host.key(ROOT_KEY, &["read"]).await;
    let write = host.key(ROOT_KEY, &["write"]).await;
    let user = host.user(ROOT_KEY, "someone").await;
    let user_path = format!("/v1/users/{user}");

    assert_eq!(host.get("/v1/users", &read).await.status, StatusCode::OK);
    assert_eq!(host.get(&user_path, &read).await.status, StatusCode::OK);
    host.post("/v1/users", &read, json!({"externalId": "x"}))
        .await
        .assert_problem(403, "forbidden");
    host.patch(&user_path, &read, json!({"displayName": "x"}))
        .await
        .assert_problem(403, "forbidden");
    host.delete(&user_path, &read)
        .await
        .assert_problem(403, "forbidden");
    // A scope failure wins over a bad body: the caller learns nothing about validation.
    host.post("/v1/users", &read, json!({"bogus": true}))
        .await
        .assert_problem(403, "forbidden");

    // write implies read
    assert_eq!(host.get("/v1/users", &write).await.status, StatusCode::OK);
    assert_eq!(
        host.patch(&user_path, &write, json!({"displayName": "x"}))
            .await
            .status,
        StatusCode::OK
    );
    for key in [&read, &write] {
        // Any key lists the keys (never a secret); only admins manage them.
        let listed = host.get("/v1/api-keys", key).await;
        assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
        assert!(!listed.body.to_string().contains("\"secret\""));
        host.post(
            "/v1/api-keys",
            key,
            json!({"name": "n", "scopes": ["admin"]}),
        )
        .await
        .assert_problem(403, "forbidden");
        host.get("/v1/workspaces", key)
            .await
            .assert_problem(403, "forbidden");
    }
    assert_eq!(
        host.delete(&user_path, &write).await.status,
        StatusCode::NO_CONTENT
    );
}
