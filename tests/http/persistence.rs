use reqwest::StatusCode;
use serde_json::json;
use vitasync_tests::{ROOT_KEY, TestHost};

#[tokio::test]
async fn data_survives_a_restart() {
    let mut host = TestHost::start().await;
    let tenant = host.workspace("persisted").await;
    let user = host
        .post(
            "/v1/users",
            &tenant,
            json!({"externalId": "kept", "metadata": {"k": "v"}}),
        )
        .await;
    let reader = host.key(&tenant, &["read"]).await;

    host.restart().await;

    let fetched = host
        .get(
            &format!("/v1/users/{}", user.body["id"].as_str().unwrap()),
            &reader,
        )
        .await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.body, user.body);
    assert_eq!(
        host.get("/v1/workspaces", ROOT_KEY).await.body["data"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let keys = host.get("/v1/api-keys", ROOT_KEY).await;
    assert_eq!(
        keys.body["data"].as_array().unwrap().len(),
        1,
        "the root key was not duplicated"
    );
    let again = host
        .post("/v1/users", &tenant, json!({"externalId": "kept"}))
        .await;
    assert_eq!(
        again.status,
        StatusCode::OK,
        "the external id guard survived too"
    );
}
