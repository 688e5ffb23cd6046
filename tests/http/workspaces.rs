use reqwest::StatusCode;
use serde_json::json;
use vitasync_tests::{ROOT_KEY, TestHost};

#[tokio::test]
async fn the_root_key_creates_workspaces_with_a_working_admin_key() {
    let host = TestHost::start().await;
    let created = host
        .post(
            "/v1/workspaces",
            ROOT_KEY,
            json!({"slug": "acme-health", "name": "Acme Health"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["slug"], "acme-health");
    assert_eq!(created.body["name"], "Acme Health");
    assert_eq!(created.body["id"].as_str().unwrap().len(), 26);
    let admin = created.body["apiKey"].as_str().unwrap();
    assert!(admin.starts_with("vs_live_"));

    let keys = host.get("/v1/api-keys", admin).await;
    assert_eq!(keys.status, StatusCode::OK);
    assert_eq!(keys.body["data"][0]["scopes"], json!(["admin"]));

    let unnamed = host
        .post("/v1/workspaces", ROOT_KEY, json!({"slug": "beta"}))
        .await;
    assert_eq!(unnamed.body["name"], "beta");

    let listed = host.get("/v1/workspaces", ROOT_KEY).await;
    let slugs: Vec<_> = listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|ws| ws["slug"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(slugs, ["default", "acme-health", "beta"]);
    assert!(
        !listed.body.to_string().contains(admin),
        "keys are not listed"
    );

    let page = host.get("/v1/workspaces?limit=2", ROOT_KEY).await;
    let cursor = page.body["nextCursor"].as_str().unwrap();
    let rest = host
        .get(&format!("/v1/workspaces?limit=2&cursor={cursor}"), ROOT_KEY)
        .await;
    assert_eq!(rest.body["data"][0]["slug"], "beta");
}

#[tokio::test]
async fn workspace_requests_are_checked() {
    let host = TestHost::start().await;
    host.workspace("taken").await;
    host.post("/v1/workspaces", ROOT_KEY, json!({"slug": "taken"}))
        .await
        .assert_problem(409, "conflict");
    host.post("/v1/workspaces", ROOT_KEY, json!({"slug": "default"}))
        .await
        .assert_problem(409, "conflict");
    for (body, field) in [
        (json!({"slug": "Not A Slug"}), "slug"),
        (json!({}), "slug"),
        (json!({"slug": "ok-slug", "name": ""}), "name"),
    ] {
        let reply = host.post("/v1/workspaces", ROOT_KEY, body.clone()).await;
        assert_eq!(reply.invalid_field(), field, "body: {body}");
    }
}

#[tokio::test]
async fn only_the_root_key_manages_workspaces() {
    let host = TestHost::start().await;
    let tenant_admin = host.workspace("tenant").await;
    host.post("/v1/workspaces", &tenant_admin, json!({"slug": "escape"}))
        .await
        .assert_problem(403, "forbidden");
    host.get("/v1/workspaces", &tenant_admin)
        .await
        .assert_problem(403, "forbidden");
    // Another admin key of the root's own workspace is not the root key either.
    let default_admin = host.key(ROOT_KEY, &["admin"]).await;
    host.get("/v1/workspaces", &default_admin)
        .await
        .assert_problem(403, "forbidden");
}

#[tokio::test]
async fn workspaces_are_blind_to_each_other() {
    let host = TestHost::start().await;
    let a = host.workspace("alpha").await;
    let b = host.workspace("bravo").await;
    let a_user = host.user(&a, "shared-external-id").await;
    let b_user = host.user(&b, "shared-external-id").await;
    assert_ne!(
        a_user, b_user,
        "external ids are unique per workspace, not globally"
    );

    let a_path = format!("/v1/users/{a_user}");
    host.get(&a_path, &b).await.assert_problem(404, "not-found");
    host.patch(&a_path, &b, json!({"displayName": "hijack"}))
        .await
        .assert_problem(404, "not-found");
    host.delete(&a_path, &b)
        .await
        .assert_problem(404, "not-found");
    let b_list = host.get("/v1/users", &b).await;
    let b_ids: Vec<_> = b_list.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].clone())
        .collect();
    assert_eq!(b_ids, [json!(b_user)]);
    let by_ext = host
        .get("/v1/users?externalId=shared-external-id", &b)
        .await;
    assert_eq!(by_ext.body["data"][0]["id"], b_user.as_str());

    // The root key's workspace sees neither.
    host.get(&a_path, ROOT_KEY)
        .await
        .assert_problem(404, "not-found");

    // Keys are scoped too: B cannot see, revoke or rotate A's keys.
    let a_keys = host.get("/v1/api-keys", &a).await;
    let a_key_id = a_keys.body["data"][0]["id"].as_str().unwrap().to_owned();
    let b_keys = host.get("/v1/api-keys", &b).await;
    assert!(!b_keys.body.to_string().contains(&a_key_id));
    host.delete(&format!("/v1/api-keys/{a_key_id}"), &b)
        .await
        .assert_problem(404, "not-found");
    host.post(&format!("/v1/api-keys/{a_key_id}/rotate"), &b, json!({}))
        .await
        .assert_problem(404, "not-found");
    assert_eq!(host.get(&a_path, &a).await.body["displayName"], json!(null));
    assert_eq!(
        host.get("/v1/users", &a).await.status,
        StatusCode::OK,
        "A's key still works"
    );
}

/// Any key learns its workspace and what it may do; a key of another workspace learns its own.
#[tokio::test]
async fn a_key_reads_its_own_workspace_and_scopes() {
    let host = TestHost::start().await;
    let admin = host.workspace("own-team").await;
    let reader = host.key(&admin, &["read"]).await;
    let seen = host.get("/v1/workspace", &reader).await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.body);
    assert_eq!(seen.body["workspace"]["slug"], "own-team");
    assert_eq!(seen.body["scopes"], serde_json::json!(["read"]));
    assert_eq!(seen.body["root"], false);
    let root = host.get("/v1/workspace", ROOT_KEY).await;
    assert_eq!(root.body["root"], true);
    assert_ne!(root.body["workspace"]["id"], seen.body["workspace"]["id"]);
    host.send(reqwest::Method::GET, "/v1/workspace", None, None)
        .await
        .assert_problem(401, "unauthorized");
}
