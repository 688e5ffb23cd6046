use reqwest::StatusCode;
use serde_json::json;
use vitasync_tests::{ROOT_KEY, TestHost};

#[tokio::test]
async fn a_new_user_has_no_connections_and_strangers_are_not_found() {
    let host = TestHost::start().await;
    let reader = host.key(ROOT_KEY, &["read"]).await;
    let user = host.user(ROOT_KEY, "wearer").await;
    let listed = host
        .get(&format!("/v1/users/{user}/connections"), &reader)
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body["data"], json!([]));

    host.get(
        &format!("/v1/users/{user}/connections/01JD0000000000000000000000"),
        &reader,
    )
    .await
    .assert_problem(404, "not-found");
    host.get(&format!("/v1/users/{user}/connections/not-an-id"), &reader)
        .await
        .assert_problem(404, "not-found");
    host.get("/v1/users/01JD0000000000000000000000/connections", &reader)
        .await
        .assert_problem(404, "not-found");

    let other = host.workspace("elsewhere").await;
    host.get(&format!("/v1/users/{user}/connections"), &other)
        .await
        .assert_problem(404, "not-found");
}
