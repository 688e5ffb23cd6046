//! What an outsider or a malicious tenant must not be able to do, on both hosts where the
//! store matters and over HTTP where the route does.

use crate::harness::{Host, harness_on, on_both_hosts};
use reqwest::StatusCode;
use serde_json::json;
use vitasync_domain::app::KeyRequest;
use vitasync_domain::error::DomainError;
use vitasync_domain::provider::ProviderId;
use vitasync_domain::scope::Scope;
use vitasync_tests::{ROOT_KEY, TestHost};

#[tokio::test]
async fn only_the_root_key_manages_the_root_key() {
    let host = TestHost::start().await;
    let admin = host.key(ROOT_KEY, &["admin"]).await;
    let listed = host.get("/v1/api-keys", ROOT_KEY).await;
    let root_id = listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["name"] == "root")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // To another admin key of the same workspace the root key does not exist.
    host.post(&format!("/v1/api-keys/{root_id}/rotate"), &admin, json!({}))
        .await
        .assert_problem(404, "not-found");
    host.delete(&format!("/v1/api-keys/{root_id}"), &admin)
        .await
        .assert_problem(404, "not-found");
    let seen = host.get("/v1/api-keys", &admin).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(
        !seen.body.to_string().contains(&root_id),
        "the root key is not listed to other keys"
    );
    assert_eq!(
        host.get("/v1/workspaces", ROOT_KEY).await.status,
        StatusCode::OK
    );

    // The root key rotates itself, and admin keys still manage each other.
    let other = host.key(&admin, &["read"]).await;
    let other_id = host.get("/v1/api-keys", &admin).await.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| other.starts_with(key["prefix"].as_str().unwrap()))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        host.delete(&format!("/v1/api-keys/{other_id}"), &admin)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let rotated = host
        .post(
            &format!("/v1/api-keys/{root_id}/rotate"),
            ROOT_KEY,
            json!({}),
        )
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    let new_root = rotated.body["secret"].as_str().unwrap();
    assert_eq!(
        host.get("/v1/workspaces", new_root).await.status,
        StatusCode::OK
    );
}

async fn root_key_is_out_of_reach_of_other_admin_keys(host: Host) {
    let h = harness_on(host, ProviderId::Withings).await;
    let issued = h
        .app
        .create_key(
            &h.caller,
            KeyRequest {
                name: "ops".into(),
                scopes: vec![Scope::Admin],
                expires_at: None,
            },
        )
        .await
        .unwrap();
    let admin = h
        .app
        .authenticate(Some(secrecy::ExposeSecret::expose_secret(&issued.secret)))
        .await
        .unwrap();
    let root_id = h.caller.key_id.clone().unwrap();
    assert!(matches!(
        h.app.rotate_key(&admin, root_id.as_str()).await,
        Err(DomainError::NotFound(_))
    ));
    assert!(matches!(
        h.app.delete_key(&admin, root_id.as_str()).await,
        Err(DomainError::NotFound(_))
    ));
    let keys = h.app.list_keys(&admin).await.unwrap();
    assert!(keys.iter().all(|key| !key.root));
    // The root key still works and still sees itself.
    assert!(h.app.authenticate(Some(ROOT_KEY)).await.unwrap().root);
    assert!(
        h.app
            .list_keys(&h.caller)
            .await
            .unwrap()
            .iter()
            .any(|key| key.root)
    );
}

on_both_hosts!(root_key_is_out_of_reach_of_other_admin_keys);
