use reqwest::StatusCode;
use serde_json::json;
use std::collections::HashSet;
use vitasync_tests::{ROOT_KEY, TestHost};

#[tokio::test]
async fn create_is_an_upsert_on_external_id() {
    let host = TestHost::start().await;
    let created = host
        .post(
            "/v1/users",
            ROOT_KEY,
            json!({"externalId": "ext-1", "email": "ada@example.com", "metadata": {"plan": "pro", "n": [1, 2]}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let user = &created.body;
    assert_eq!(user["id"].as_str().unwrap().len(), 26, "a ULID");
    assert_eq!(user["externalId"], "ext-1");
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["displayName"], json!(null));
    assert_eq!(user["metadata"], json!({"plan": "pro", "n": [1, 2]}));
    let created_at = user["createdAt"].as_str().unwrap();
    assert!(
        created_at.ends_with('Z') && created_at.len() == 24,
        "RFC 3339 UTC with ms: {created_at}"
    );

    let again = host
        .post(
            "/v1/users",
            ROOT_KEY,
            json!({"externalId": "ext-1", "displayName": "Ada"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["id"], user["id"]);
    assert_eq!(again.body["displayName"], "Ada");
    assert_eq!(
        again.body["email"], "ada@example.com",
        "fields left out are kept"
    );
    assert_eq!(again.body["createdAt"], user["createdAt"]);

    let fetched = host
        .get(
            &format!("/v1/users/{}", user["id"].as_str().unwrap()),
            ROOT_KEY,
        )
        .await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.body, again.body);
}

#[tokio::test]
async fn fifty_concurrent_creates_with_one_external_id_make_one_user() {
    let host = TestHost::start().await;
    let requests =
        (0..50).map(|_| host.post("/v1/users", ROOT_KEY, json!({"externalId": "same-person"})));
    let replies = futures::future::join_all(requests).await;
    let ids: HashSet<_> = replies
        .iter()
        .map(|reply| {
            assert!(reply.status.is_success(), "{}", reply.body);
            reply.body["id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1, "every answer carries the one user's id");
    let created = replies
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1, "exactly one request created the user");
    let list = host.get("/v1/users", ROOT_KEY).await;
    assert_eq!(list.body["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn list_pages_through_every_user_once_and_filters_by_external_id() {
    let host = TestHost::start().await;
    let mut expected = Vec::new();
    for n in 0..5 {
        expected.push(host.user(ROOT_KEY, &format!("user-{n}")).await);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/users?limit=2&cursor={c}"),
            None => "/v1/users?limit=2".to_owned(),
        };
        let page = host.get(&path, ROOT_KEY).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        pages += 1;
        for user in page.body["data"].as_array().unwrap() {
            seen.push(user["id"].as_str().unwrap().to_owned());
        }
        match page.body["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, expected, "creation order, each once");

    let one = host.get("/v1/users?externalId=user-3", ROOT_KEY).await;
    let data = one.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 1);
    assert_eq!(data[0]["id"], expected[3].as_str());
    let none = host.get("/v1/users?externalId=nobody", ROOT_KEY).await;
    assert_eq!(none.body["data"], json!([]));
    assert_eq!(none.body["nextCursor"], json!(null));
}

#[tokio::test]
async fn list_rejects_bad_limit_and_cursor() {
    let host = TestHost::start().await;
    for limit in ["0", "101", "ten", "-1"] {
        let reply = host
            .get(&format!("/v1/users?limit={limit}"), ROOT_KEY)
            .await;
        assert_eq!(reply.invalid_field(), "limit", "limit={limit}");
    }
    let reply = host.get("/v1/users?cursor=not-ours", ROOT_KEY).await;
    assert_eq!(reply.invalid_field(), "cursor");
}

#[tokio::test]
async fn patch_sets_clears_and_guards_external_id() {
    let host = TestHost::start().await;
    let id = host.user(ROOT_KEY, "first").await;
    host.user(ROOT_KEY, "taken").await;
    let path = format!("/v1/users/{id}");

    let set = host
        .patch(
            &path,
            ROOT_KEY,
            json!({"email": "x@example.org", "displayName": "X", "metadata": {"a": 1}}),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert_eq!(set.body["email"], "x@example.org");
    assert_eq!(set.body["metadata"], json!({"a": 1}));
    assert!(set.body["updatedAt"].as_str() >= set.body["createdAt"].as_str());

    let cleared = host.patch(&path, ROOT_KEY, json!({"email": null})).await;
    assert_eq!(cleared.body["email"], json!(null));
    assert_eq!(cleared.body["displayName"], "X", "untouched fields stay");

    let renamed = host
        .patch(&path, ROOT_KEY, json!({"externalId": "second"}))
        .await;
    assert_eq!(renamed.body["externalId"], "second");
    let by_new = host.get("/v1/users?externalId=second", ROOT_KEY).await;
    assert_eq!(by_new.body["data"][0]["id"], id.as_str());
    let by_old = host.get("/v1/users?externalId=first", ROOT_KEY).await;
    assert_eq!(by_old.body["data"], json!([]));
    // The old external id is free again.
    let reused = host
        .post("/v1/users", ROOT_KEY, json!({"externalId": "first"}))
        .await;
    assert_eq!(reused.status, StatusCode::CREATED);

    host.patch(&path, ROOT_KEY, json!({"externalId": "taken"}))
        .await
        .assert_problem(409, "conflict");
    let unchanged = host.get(&path, ROOT_KEY).await;
    assert_eq!(
        unchanged.body["externalId"], "second",
        "a refused patch writes nothing"
    );

    let null_id = host
        .patch(&path, ROOT_KEY, json!({"externalId": null}))
        .await;
    assert_eq!(null_id.invalid_field(), "externalId");
    let bad_email = host.patch(&path, ROOT_KEY, json!({"email": "nope"})).await;
    assert_eq!(bad_email.invalid_field(), "email");
    let unknown = host.patch(&path, ROOT_KEY, json!({"nickname": "x"})).await;
    assert_eq!(unknown.invalid_field(), "nickname");

    host.patch(
        "/v1/users/01J00000000000000000000000",
        ROOT_KEY,
        json!({"email": null}),
    )
    .await
    .assert_problem(404, "not-found");
}

#[tokio::test]
async fn delete_removes_the_user_and_frees_the_external_id() {
    let host = TestHost::start().await;
    let id = host.user(ROOT_KEY, "leaving").await;
    let path = format!("/v1/users/{id}");
    let deleted = host.delete(&path, ROOT_KEY).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    host.get(&path, ROOT_KEY)
        .await
        .assert_problem(404, "not-found");
    host.delete(&path, ROOT_KEY)
        .await
        .assert_problem(404, "not-found");
    let list = host.get("/v1/users", ROOT_KEY).await;
    assert_eq!(list.body["data"], json!([]));
    let back = host
        .post("/v1/users", ROOT_KEY, json!({"externalId": "leaving"}))
        .await;
    assert_eq!(back.status, StatusCode::CREATED);
    assert_ne!(
        back.body["id"],
        id.as_str(),
        "a new user, not the deleted one"
    );
}

#[tokio::test]
async fn create_validation_names_the_field_and_stores_nothing() {
    let host = TestHost::start().await;
    let cases = [
        (json!({}), "externalId"),
        (json!({"externalId": ""}), "externalId"),
        (json!({"externalId": "   "}), "externalId"),
        (json!({"externalId": "x".repeat(256)}), "externalId"),
        (json!({"externalId": 42}), "externalId"),
        (json!({"externalId": "ok", "email": "no-at-sign"}), "email"),
        (
            json!({"externalId": "ok", "displayName": ""}),
            "displayName",
        ),
        (json!({"externalId": "ok", "metadata": [1, 2]}), "metadata"),
        (json!({"externalId": "ok", "metadata": "text"}), "metadata"),
        (
            json!({"externalId": "ok", "metadata": {"big": "x".repeat(17 * 1024)}}),
            "metadata",
        ),
        (json!({"externalId": "ok", "role": "admin"}), "role"),
        (json!(["externalId"]), "body"),
    ];
    for (body, field) in cases {
        let reply = host.post("/v1/users", ROOT_KEY, body.clone()).await;
        assert_eq!(reply.invalid_field(), field, "body: {body}");
    }
    let list = host.get("/v1/users", ROOT_KEY).await;
    assert_eq!(list.body["data"], json!([]), "nothing was written");
}

#[tokio::test]
async fn ids_that_are_not_ulids_are_not_found() {
    let host = TestHost::start().await;
    for path in [
        "/v1/users/not-an-id",
        "/v1/users/%00",
        "/v1/users/..%2F..%2Fetc",
    ] {
        host.get(path, ROOT_KEY)
            .await
            .assert_problem(404, "not-found");
    }
}
