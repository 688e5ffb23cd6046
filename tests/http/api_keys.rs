use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;
use vitasync_tests::{ROOT_KEY, TestHost};

#[tokio::test]
async fn a_key_is_shown_once_and_listed_without_its_secret() {
    let host = TestHost::start().await;
    let created = host
        .post(
            "/v1/api-keys",
            ROOT_KEY,
            json!({"name": "backend", "scopes": ["write", "read", "write"], "expiresAt": "2099-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let secret = created.body["secret"].as_str().unwrap();
    assert!(secret.starts_with("vs_live_"));
    assert_eq!(created.body["name"], "backend");
    assert_eq!(created.body["scopes"], json!(["read", "write"]));
    assert_eq!(created.body["expiresAt"], "2099-01-01T00:00:00.000Z");
    assert!(secret.starts_with(created.body["prefix"].as_str().unwrap()));

    let listed = host.get("/v1/api-keys", ROOT_KEY).await;
    assert_eq!(listed.status, StatusCode::OK);
    let keys = listed.body["data"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "the root key and the new one");
    let text = listed.body.to_string();
    assert!(!text.contains(secret), "the secret is never listed");
    assert!(!text.contains(ROOT_KEY));
    assert!(
        keys.iter()
            .all(|key| key.get("secret").is_none() && key.get("hash").is_none())
    );

    assert_eq!(host.get("/v1/users", secret).await.status, StatusCode::OK);
}

#[tokio::test]
async fn revocation_takes_effect_at_once() {
    let host = TestHost::start().await;
    let created = host
        .post(
            "/v1/api-keys",
            ROOT_KEY,
            json!({"name": "temp", "scopes": ["read"]}),
        )
        .await;
    let (id, secret) = (
        created.body["id"].as_str().unwrap(),
        created.body["secret"].as_str().unwrap(),
    );
    assert_eq!(host.get("/v1/users", secret).await.status, StatusCode::OK);
    let revoked = host.delete(&format!("/v1/api-keys/{id}"), ROOT_KEY).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    host.get("/v1/users", secret)
        .await
        .assert_problem(401, "unauthorized");
    host.delete(&format!("/v1/api-keys/{id}"), ROOT_KEY)
        .await
        .assert_problem(404, "not-found");
    let listed = host.get("/v1/api-keys", ROOT_KEY).await;
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn rotation_swaps_the_secret_and_keeps_the_key() {
    let host = TestHost::start().await;
    let created = host
        .post(
            "/v1/api-keys",
            ROOT_KEY,
            json!({"name": "ci", "scopes": ["write"]}),
        )
        .await;
    let id = created.body["id"].as_str().unwrap();
    let old = created.body["secret"].as_str().unwrap();
    let rotated = host
        .post(&format!("/v1/api-keys/{id}/rotate"), ROOT_KEY, json!({}))
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    let new = rotated.body["secret"].as_str().unwrap();
    assert_ne!(new, old);
    assert_eq!(rotated.body["id"], id);
    assert_eq!(rotated.body["name"], "ci");
    assert_eq!(rotated.body["scopes"], json!(["write"]));
    assert!(rotated.body["rotatedAt"].is_string());
    host.get("/v1/users", old)
        .await
        .assert_problem(401, "unauthorized");
    assert_eq!(host.get("/v1/users", new).await.status, StatusCode::OK);
    host.post(
        "/v1/api-keys/01J00000000000000000000000/rotate",
        ROOT_KEY,
        json!({}),
    )
    .await
    .assert_problem(404, "not-found");
}

#[tokio::test]
async fn expired_keys_stop_working() {
    let host = TestHost::start().await;
    let soon = chrono_in(Duration::from_millis(1200));
    let created = host
        .post(
            "/v1/api-keys",
            ROOT_KEY,
            json!({"name": "short", "scopes": ["read"], "expiresAt": soon}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let secret = created.body["secret"].as_str().unwrap();
    assert_eq!(host.get("/v1/users", secret).await.status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let expired = host.get("/v1/users", secret).await;
    expired.assert_problem(401, "unauthorized");
    assert!(expired.body["detail"].as_str().unwrap().contains("expired"));
}

#[tokio::test]
async fn key_requests_are_validated() {
    let host = TestHost::start().await;
    let cases = [
        (json!({"scopes": ["read"]}), "name"),
        (json!({"name": "", "scopes": ["read"]}), "name"),
        (json!({"name": "n", "scopes": []}), "scopes"),
        (json!({"name": "n", "scopes": ["superuser"]}), "scopes[0]"),
        (json!({"name": "n"}), "scopes"),
        (
            json!({"name": "n", "scopes": ["read"], "expiresAt": "2001-01-01T00:00:00Z"}),
            "expiresAt",
        ),
        (
            json!({"name": "n", "scopes": ["read"], "expiresAt": "tomorrow"}),
            "expiresAt",
        ),
    ];
    for (body, field) in cases {
        let reply = host.post("/v1/api-keys", ROOT_KEY, body.clone()).await;
        assert_eq!(reply.invalid_field(), field, "body: {body}");
    }
    let listed = host.get("/v1/api-keys", ROOT_KEY).await;
    assert_eq!(
        listed.body["data"].as_array().unwrap().len(),
        1,
        "nothing was created"
    );
}

/// An RFC 3339 instant `after` from now.
fn chrono_in(after: Duration) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let at =
        vitasync_domain::kernel::time::Timestamp::from_millis((now + after).as_millis() as i64)
            .unwrap();
    at.to_string()
}
