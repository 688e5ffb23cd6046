//! Syncing over the API on the local host: a connection to the built-in demo provider synced
//! by the background worker, the job followed to its end, and every refusal.

use crate::oauth_flow::query;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use vitasync_tests::{ROOT_KEY, TestHost};

/// Connects the demo provider for `user` as a browser would; returns the connection id.
pub(crate) async fn connect_demo(host: &TestHost, user: &str) -> String {
    query(&demo_landing(host, user).await)["connectionId"].clone()
}

/// Connects the demo provider for `user` as a browser would; returns the absolute URL the
/// browser lands on.
pub(crate) async fn demo_landing(host: &TestHost, user: &str) -> String {
    let link = host
        .post(
            &format!("/v1/users/{user}/connect-links"),
            ROOT_KEY,
            json!({"providerId": "demo"}),
        )
        .await;
    assert_eq!(link.status, StatusCode::CREATED, "{}", link.body);
    let (_, consent, _) = host.visit(link.body["url"].as_str().unwrap()).await;
    let decision =
        consent
            .unwrap()
            .replacen("/v1/demo/authorize?", "/v1/demo/authorize/decision?", 1)
            + "&account=ada&decision=allow";
    let absolute = |url: String| {
        if url.starts_with("http") {
            url
        } else {
            host.url(&url)
        }
    };
    let (_, callback, _) = host.visit(&absolute(decision)).await;
    let (status, landing, page) = host.visit(&absolute(callback.unwrap())).await;
    assert_eq!(status, StatusCode::FOUND, "{page}");
    absolute(landing.unwrap())
}

pub(crate) async fn until_ended(host: &TestHost, job: &str) -> Value {
    for _ in 0..200 {
        let reply = host.get(&format!("/v1/sync-jobs/{job}"), ROOT_KEY).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        if matches!(reply.body["status"].as_str(), Some("succeeded" | "failed")) {
            return reply.body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("job {job} did not end");
}

#[tokio::test]
async fn a_demo_connection_syncs_in_the_background() {
    let host = TestHost::start().await;
    let user = host.user(ROOT_KEY, "ada").await;
    let connection = connect_demo(&host, &user).await;
    let sync = format!("/v1/users/{user}/connections/{connection}/sync");

    // Connecting starts the backfill at once: the job is there without asking.
    let jobs = host
        .get(&format!("/v1/users/{user}/sync-jobs"), ROOT_KEY)
        .await;
    assert_eq!(
        jobs.body["data"].as_array().unwrap().len(),
        1,
        "{}",
        jobs.body
    );
    let job = jobs.body["data"][0]["jobId"].as_str().unwrap().to_owned();
    let ended = until_ended(&host, &job).await;
    assert_eq!(ended["status"], "succeeded", "{ended}");
    assert_eq!(ended["connectionId"], connection.as_str());
    assert!(ended["error"].is_null());
    assert!(ended["startedAt"].is_string() && ended["finishedAt"].is_string());
    // The first sync backfills 30 days.
    let from =
        chrono::DateTime::parse_from_rfc3339(ended["window"]["from"].as_str().unwrap()).unwrap();
    let to = chrono::DateTime::parse_from_rfc3339(ended["window"]["to"].as_str().unwrap()).unwrap();
    assert_eq!((to - from).num_days(), 30);
    for metric in ["steps", "heart_rate", "sleep", "workout", "weight"] {
        let counts = &ended["counts"][metric];
        assert!(counts["fetched"].as_u64().unwrap() > 0, "{metric}: {ended}");
        assert_eq!(counts["fetched"], counts["written"], "{metric}: all new");
    }

    let listed = host
        .get(&format!("/v1/users/{user}/sync-jobs"), ROOT_KEY)
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body["data"][0]["jobId"], job.as_str());
    let linked = host
        .get(
            &format!("/v1/users/{user}/connections/{connection}"),
            ROOT_KEY,
        )
        .await;
    assert_eq!(linked.body["lastSyncedAt"], ended["window"]["to"]);

    // Only some data types, over a chosen window: nothing else is fetched.
    let chosen = host
        .post(
            &sync,
            ROOT_KEY,
            json!({"from": "2026-10-01T00:00:00Z", "to": "2026-10-03T00:00:00Z",
                   "dataTypes": ["steps"]}),
        )
        .await;
    assert_eq!(chosen.status, StatusCode::ACCEPTED, "{}", chosen.body);
    assert_eq!(chosen.body["dataTypes"], json!(["steps"]));
    let ended = until_ended(&host, chosen.body["jobId"].as_str().unwrap()).await;
    assert_eq!(ended["status"], "succeeded");
    let counted: Vec<&String> = ended["counts"].as_object().unwrap().keys().collect();
    assert_eq!(counted, ["steps"]);
}

#[tokio::test]
async fn a_job_queued_before_a_restart_runs_after_it() {
    let mut host = TestHost::start().await;
    let user = host.user(ROOT_KEY, "ada").await;
    let connection = connect_demo(&host, &user).await;
    let queued = host
        .post(
            &format!("/v1/users/{user}/connections/{connection}/sync"),
            ROOT_KEY,
            json!({}),
        )
        .await;
    host.restart().await;
    let ended = until_ended(&host, queued.body["jobId"].as_str().unwrap()).await;
    assert_eq!(ended["status"], "succeeded", "{ended}");
}

#[tokio::test]
async fn bad_sync_requests_are_refused_with_the_field_named() {
    let host = TestHost::start().await;
    let user = host.user(ROOT_KEY, "ada").await;
    let connection = connect_demo(&host, &user).await;
    let sync = format!("/v1/users/{user}/connections/{connection}/sync");

    let unknown_type = host
        .post(&sync, ROOT_KEY, json!({"dataTypes": ["steps", "mood"]}))
        .await;
    assert_eq!(unknown_type.invalid_field(), "dataTypes[1]");
    let inverted = host
        .post(
            &sync,
            ROOT_KEY,
            json!({"from": "2026-10-03T00:00:00Z", "to": "2026-10-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(inverted.invalid_field(), "from");
    let future = host
        .post(&sync, ROOT_KEY, json!({"from": "2999-01-01T00:00:00Z"}))
        .await;
    assert_eq!(future.invalid_field(), "from");
    let unparseable = host
        .post(&sync, ROOT_KEY, json!({"from": "last tuesday"}))
        .await;
    unparseable.assert_problem(400, "validation-error");
    let unknown_field = host.post(&sync, ROOT_KEY, json!({"since": "x"})).await;
    unknown_field.assert_problem(400, "validation-error");
    let malformed = host
        .raw()
        .post(host.url(&sync))
        .bearer_auth(ROOT_KEY)
        .header("content-type", "application/json")
        .body("{\"from\":")
        .send()
        .await
        .unwrap();
    TestHost::reply(malformed)
        .await
        .assert_problem(400, "malformed-json");

    let reader = host.key(ROOT_KEY, &["read"]).await;
    host.post(&sync, &reader, json!({}))
        .await
        .assert_problem(403, "forbidden");
    host.post(
        &format!("/v1/users/{user}/connections/01JD0000000000000000000000/sync"),
        ROOT_KEY,
        json!({}),
    )
    .await
    .assert_problem(404, "not-found");
    host.get("/v1/sync-jobs/not-a-job", ROOT_KEY)
        .await
        .assert_problem(404, "not-found");

    // Another workspace sees neither the connection nor its jobs.
    let job = host.post(&sync, ROOT_KEY, json!({})).await;
    let other = host.workspace("elsewhere").await;
    host.post(&sync, &other, json!({}))
        .await
        .assert_problem(404, "not-found");
    host.get(
        &format!("/v1/sync-jobs/{}", job.body["jobId"].as_str().unwrap()),
        &other,
    )
    .await
    .assert_problem(404, "not-found");

    // A disconnected connection cannot sync until the user connects again.
    until_ended(&host, job.body["jobId"].as_str().unwrap()).await;
    let removed = host
        .delete(
            &format!("/v1/users/{user}/connections/{connection}"),
            ROOT_KEY,
        )
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    host.post(&sync, ROOT_KEY, json!({}))
        .await
        .assert_problem(409, "conflict");
}
