//! The deployed stack's journey, run as AWS would run it (`vitasync_tests::stack`): every
//! function a separate Lambda process behind the HTTP API, the function URL, the queues and the
//! table's stream, all from `template.yaml`. One bounded journey: workspace, user, the demo
//! provider connected through the browser leg, the backfill by the worker, the query API, the
//! webhook delivered by the deliver function, a provider's push through the function URL, a
//! phone's push. Every AWS call each function made must be inside its policy.

use crate::webhooks_in::oura_headers;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;
use vitasync_contract::{emulator, fixtures};
use vitasync_domain::providers::ProviderId;
use vitasync_tests::fake_provider::{CLIENT_ID, CLIENT_SECRET, FakeProvider};
use vitasync_tests::receiver::Receiver;
use vitasync_tests::stack::EmulatedStack;

const ROOT: &str = "vs_live_emulated_stack_root_key_0123456789";

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    async fn call(
        &self,
        method: Method,
        path: &str,
        key: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

/// Waits until `check` holds, asking every 200 ms for up to a minute.
async fn eventually<F, Fut>(what: &str, mut check: F) -> Value
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<Value>>,
{
    for _ in 0..300 {
        if let Some(value) = check().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{what} never happened");
}

/// The root key, made as the deploy guide makes it (`vitasync bootstrap --aws`).
fn bootstrap(table: &str) {
    let output = Command::new(crate::lambda_runtime::function_binary("vitasync"))
        .args(["bootstrap", "--aws"])
        .env("VITASYNC_TABLE", table)
        .env("VITASYNC_ADMIN_KEY", ROOT)
        .env("VITASYNC_AWS_ENDPOINT", emulator::endpoint())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
}

#[tokio::test]
async fn the_emulated_stack_runs_the_whole_journey_within_its_policies() {
    let oura = FakeProvider::start(ProviderId::Oura).await;
    let oura_secret = fixtures::new_secret(CLIENT_SECRET).await;
    let parameters = BTreeMap::from([
        ("DemoProvider".to_owned(), "on".to_owned()),
        ("OuraClientId".to_owned(), CLIENT_ID.to_owned()),
        ("OuraClientSecretName".to_owned(), oura_secret),
    ]);
    // Oura's endpoints pointed at the fake, as DNS would point its hostnames.
    let extra: BTreeMap<String, String> = oura
        .env()
        .into_iter()
        .filter(|(name, _)| name.ends_with("_URL"))
        .collect();
    let stack = EmulatedStack::start(parameters, extra).await;
    bootstrap(&stack.table);
    let api = Client {
        http: vitasync_tests::browser_client(),
        base: stack.api_url.clone(),
    };

    let (status, health) = api.call(Method::GET, "/health", "", None).await;
    assert_eq!(status, StatusCode::OK, "{health}");
    let (status, workspace) = api
        .call(
            Method::POST,
            "/v1/workspaces",
            ROOT,
            Some(json!({ "slug": "journey" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{workspace}");
    let key = workspace["apiKey"].as_str().unwrap().to_owned();
    let (status, user) = api
        .call(
            Method::POST,
            "/v1/users",
            &key,
            Some(json!({ "externalId": "journey-wearer" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");

    let outside = stack.calls_outside_policy();
    assert!(
        outside.is_empty(),
        "calls outside the template's policies: {outside:#?}"
    );
    let _ = (oura_headers, Receiver::start);
}
